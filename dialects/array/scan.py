"""`array.scan` and its terminator `array.yield`: a loop with a static trip
count and carried values (JAX's `lax.scan`).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import Float64Type, IntegerAttr, TensorType, UnitAttr, i64
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    AttrSizedResultSegments,
    IRDLOperation,
    lazy_traits_def,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _require_array_element, static_shape, tensor_of
from gradc.dialects.deferred_format import op_definition

INDEX_TYPE = TensorType(Float64Type(), [])
"""The type of a scan body's iteration index: a 0-d f64 tensor holding 0, 1,
..., length-1, exact up to 2**53 steps. Why a float: docs/dialects.md."""


@op_definition
class ScanOp(IRDLOperation):
    """A loop with a static trip count and carried values (JAX's `lax.scan`).

    Operands: the initial carried values, stacked inputs `xs` (leading
    dimension = `length`; step i sees slice i) and the loop-invariant values
    the body uses. The body is isolated from above: its block takes
    (index, carries..., one slice of each xs..., invariants...) and yields
    (new carries..., per-step outputs...). Results: the final carries, then
    the per-step outputs stacked along a new leading dimension of `length`.

        %c, %ys = array.scan length 7 (%i) carries(%a = %init : tensor<3xf64>)
                    xs(%x = %xs : tensor<7x3xf64>) invariants() -> (tensor<7x3xf64>) {
          %b = array.add %a, %x : tensor<3xf64>
          array.yield %b, %b : tensor<3xf64>, tensor<3xf64>
        }

    The index is a 0-d f64 tensor (see INDEX_TYPE). With the `reverse` unit
    property (printed `length 7 reverse (%i)`), iteration k visits step
    length-1-k: it reads slice length-1-k of each xs, writes slice
    length-1-k of each stacked output, and its index argument is
    length-1-k (JAX's `scan(..., reverse=True)`); the reverse sweep of a
    scan's VJP is one."""

    name = "array.scan"
    length = prop_def(IntegerAttr.constr(type=i64))
    reverse = opt_prop_def(UnitAttr)
    initials = var_operand_def(TensorType)
    xs = var_operand_def(TensorType)
    invariants = var_operand_def(TensorType)
    finals = var_result_def(TensorType)
    ys = var_result_def(TensorType)
    body = region_def("single_block")
    irdl_options = (AttrSizedOperandSegments(as_property=True), AttrSizedResultSegments(as_property=True))
    traits = traits_def(IsolatedFromAbove(), RecursiveMemoryEffect())

    def __init__(
        self,
        length: int,
        initials: Sequence[SSAValue],
        xs: Sequence[SSAValue],
        invariants: Sequence[SSAValue],
        ys_types: Sequence[Attribute],
        body: Region,
        reverse: bool = False,
    ):
        properties: dict[str, Attribute] = {"length": IntegerAttr(length, i64)}
        if reverse:
            properties["reverse"] = UnitAttr()
        super().__init__(
            operands=[list(initials), list(xs), list(invariants)],
            result_types=[[v.type for v in initials], list(ys_types)],
            properties=properties,
            regions=[body],
        )

    @property
    def trip_count(self) -> int:
        return self.length.value.data

    @property
    def is_reverse(self) -> bool:
        return self.reverse is not None

    def steps(self) -> range:
        """The steps in the order the iterations visit them."""
        n = self.trip_count
        return range(n - 1, -1, -1) if self.is_reverse else range(n)

    @property
    def block(self) -> Block:
        return self.body.block

    def body_args(self) -> tuple[SSAValue, Sequence[SSAValue], Sequence[SSAValue], Sequence[SSAValue]]:
        """(index, carries, x slices, invariants) of the body block."""
        args = self.block.args
        c, x = len(self.initials), len(self.xs)
        return args[0], args[1 : 1 + c], args[1 + c : 1 + c + x], args[1 + c + x :]

    def yielded(self) -> tuple[Sequence[SSAValue], Sequence[SSAValue]]:
        """(new carries, per-step outputs) of the body's `array.yield`."""
        values = self.block.last_op.operands  # type: ignore[union-attr]
        return values[: len(self.initials)], values[len(self.initials) :]

    def verify_(self) -> None:
        n = self.trip_count
        if n < 1:
            raise VerifyException(f"{self.name}: length must be >= 1, got {n}")
        for v in (*self.operands, *self.results):
            static_shape(self, v)
            _require_array_element(self, v.type, "every operand and result")
        args = self.block.args
        want_args = 1 + len(self.initials) + len(self.xs) + len(self.invariants)
        if len(args) != want_args:
            raise VerifyException(
                f"{self.name}: the body takes {len(args)} arguments, expected {want_args} "
                f"(index, {len(self.initials)} carries, {len(self.xs)} xs slices, "
                f"{len(self.invariants)} invariants)"
            )
        index, carries, slices, invariants = self.body_args()
        if index.type != INDEX_TYPE:
            raise VerifyException(f"{self.name}: the body's index argument must be {INDEX_TYPE}, got {index.type}")
        for k, (init, arg) in enumerate(zip(self.initials, carries)):
            if arg.type != init.type:
                raise VerifyException(
                    f"{self.name}: carry {k}: the body argument has type {arg.type} "
                    f"but the initial value has type {init.type}"
                )
        for k, (x, arg) in enumerate(zip(self.xs, slices)):
            shape = static_shape(self, x)
            if not shape or shape[0] != n:
                raise VerifyException(
                    f"{self.name}: xs {k} of type {x.type} must have leading dimension "
                    f"{n} (the length)"
                )
            if arg.type != tensor_of(shape[1:], x.type.get_element_type()):
                raise VerifyException(
                    f"{self.name}: xs {k}: the body argument has type {arg.type}, "
                    f"expected one slice {tensor_of(shape[1:], x.type.get_element_type())}"
                )
        for k, (v, arg) in enumerate(zip(self.invariants, invariants)):
            if arg.type != v.type:
                raise VerifyException(
                    f"{self.name}: invariant {k}: the body argument has type {arg.type} "
                    f"but the operand has type {v.type}"
                )
        yield_op = self.block.last_op
        if not isinstance(yield_op, YieldOp):
            raise VerifyException(f"{self.name}: the body must end in array.yield")
        new, outs = self.yielded()
        if len(yield_op.values) != len(self.initials) + len(self.ys):
            raise VerifyException(
                f"{self.name}: the body yields {len(yield_op.values)} values, expected "
                f"{len(self.initials)} carries and {len(self.ys)} per-step outputs"
            )
        for k, (v, init) in enumerate(zip(new, self.initials)):
            if v.type != init.type:
                raise VerifyException(
                    f"{self.name}: carry {k}: the body yields {v.type} but the carry "
                    f"has type {init.type}"
                )
        for k, (v, final) in enumerate(zip(self.finals, self.initials)):
            if v.type != final.type:
                raise VerifyException(f"{self.name}: final carry {k} must have type {final.type}, got {v.type}")
        for k, (v, y) in enumerate(zip(outs, self.ys)):
            want = tensor_of([n, *static_shape(self, v)], v.type.get_element_type())
            if y.type != want:
                raise VerifyException(
                    f"{self.name}: per-step output {k} is {v.type}, so its stacked "
                    f"result must be {want}, got {y.type}"
                )

    def print(self, printer: Printer) -> None:
        index, carries, slices, invariants = self.body_args()
        printer.print_string(f" length {self.trip_count}{' reverse' if self.is_reverse else ''} (")
        printer.print_operand(index)
        printer.print_string(")")
        for word, args, values in (
            ("carries", carries, self.initials),
            ("xs", slices, self.xs),
            ("invariants", invariants, self.invariants),
        ):
            print_bound_group(printer, word, args, values)
        printer.print_string(" -> (")
        printer.print_list(self.ys.types, printer.print_attribute)
        printer.print_string(") ")
        printer.print_region(self.body, print_entry_block_args=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ScanOp:
        parser.parse_keyword("length")
        length = parser.parse_integer(allow_boolean=False)
        reverse = parser.parse_optional_keyword("reverse") is not None
        parser.parse_punctuation("(")
        index = parser.parse_argument(expect_type=False).resolve(INDEX_TYPE)
        parser.parse_punctuation(")")

        initials, carry_args = parse_bound_group(parser, "carries", cls.name)
        xs, slice_args = parse_bound_group(parser, "xs", cls.name)
        invariants, invariant_args = parse_bound_group(parser, "invariants", cls.name)
        parser.parse_punctuation("->")
        ys_types = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
        block_args = [index]
        block_args += [a.resolve(v.type) for a, v in zip(carry_args, initials)]
        for a, v in zip(slice_args, xs):
            shape = tuple(v.type.get_shape())  # type: ignore[union-attr]
            block_args.append(a.resolve(tensor_of(shape[1:], v.type.get_element_type())))  # type: ignore[union-attr]
        block_args += [a.resolve(v.type) for a, v in zip(invariant_args, invariants)]
        body = parser.parse_region(block_args)
        attrs = parser.parse_optional_attr_dict()
        op = cls(length, initials, xs, invariants, ys_types, body, reverse)
        op.attributes.update(attrs)
        return op


def print_bound_group(printer: Printer, word: str, args: Sequence[SSAValue], values: Sequence[SSAValue]) -> None:
    """` word(%arg = %value : type, ...)`: region arguments and the operands
    they are bound to."""
    printer.print_string(f" {word}(")
    for k, (arg, value) in enumerate(zip(args, values)):
        if k:
            printer.print_string(", ")
        printer.print_operand(arg)
        printer.print_string(" = ")
        printer.print_operand(value)
        printer.print_string(" : ")
        printer.print_attribute(value.type)
    printer.print_string(")")


def parse_bound_group(parser: Parser, word: str, op_name: str) -> tuple[list[SSAValue], list]:
    """Parse what print_bound_group prints: (operands, unresolved arguments)."""
    parser.parse_keyword(word)

    def parse_one() -> tuple:
        arg = parser.parse_argument(expect_type=False)
        parser.parse_punctuation("=")
        operand = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        pos = parser.pos
        typ = parser.parse_type()
        if not isinstance(typ, TensorType):
            parser.raise_error(f"{op_name} expects tensor types, got {typ}", pos, parser.pos)
        return arg, parser.resolve_operand(operand, typ)

    pairs = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parse_one)
    return [v for _, v in pairs], [a for a, _ in pairs]


@op_definition
class YieldOp(IRDLOperation):
    """Ends a scan body (the new carried values, then one per-step output
    each), a region of an `array.switch` (its results) or a while body (the
    new carried values)."""

    name = "array.yield"
    values = var_operand_def(TensorType)
    assembly_format = "($values^ `:` type($values))? attr-dict"
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(ScanOp, _switch_op(), _while_op())))

    def __init__(self, values: Sequence[SSAValue | Operation]):
        super().__init__(operands=[[SSAValue.get(v) for v in values]])


def _switch_op() -> type[IRDLOperation]:
    from gradc.dialects.array.control import SwitchOp

    return SwitchOp


def _while_op() -> type[IRDLOperation]:
    from gradc.dialects.array.loop import WhileOp

    return WhileOp
