"""`array.while` and its condition terminator `array.condition`: a loop with
a data-dependent trip count and carried values (JAX's `lax.while_loop`).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import IntegerAttr, IntegerType, TensorType, i64
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    opt_prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
    operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _require_array_element, static_shape
from gradc.dialects.array.scan import YieldOp, parse_bound_group, print_bound_group
from gradc.dialects.deferred_format import op_definition

CONDITION_TYPE = TensorType(IntegerType(1), [])
"""What the condition region computes: a 0-d i1 tensor."""


@op_definition
class WhileOp(IRDLOperation):
    """A loop with carried values that runs while its condition holds (JAX's
    `lax.while_loop`).

    Operands: the initial carried values, then the loop-invariant values the
    regions use. Both regions are isolated from above and take (carries...,
    invariants...): `cond` ends in `array.condition` with a 0-d i1, `body`
    in `array.yield` with the new carries (their types unchanged). Results:
    the carries when the condition first fails (the initial values when it
    fails at once).

        %r = array.while max_steps 50 carries(%x = %x0 : tensor<f64>)
               invariants(%t = %tol : tensor<f64>) cond {
          %c = array.cmp gt, %x, %t : tensor<f64> -> tensor<i1>
          array.condition %c : tensor<i1>
        } body {
          %h = array.mul %x, %half : tensor<f64>
          array.yield %h : tensor<f64>
        }

    `max_steps` (optional): the loop must stop within that many iterations;
    the compiled loop checks it and the function fails (a nonzero status)
    rather than run more. It also bounds the tape of reverse mode."""

    name = "array.while"
    max_steps = opt_prop_def(IntegerAttr.constr(type=i64))
    initials = var_operand_def(TensorType)
    invariants = var_operand_def(TensorType)
    finals = var_result_def(TensorType)
    cond = region_def("single_block")
    body = region_def("single_block")
    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(IsolatedFromAbove(), RecursiveMemoryEffect())

    def __init__(
        self,
        initials: Sequence[SSAValue],
        invariants: Sequence[SSAValue],
        cond: Region,
        body: Region,
        max_steps: int | None = None,
    ):
        properties: dict[str, Attribute] = {}
        if max_steps is not None:
            properties["max_steps"] = IntegerAttr(max_steps, i64)
        super().__init__(
            operands=[list(initials), list(invariants)],
            result_types=[[v.type for v in initials]],
            properties=properties,
            regions=[cond, body],
        )

    @property
    def bound(self) -> int | None:
        """max_steps, or None."""
        return None if self.max_steps is None else self.max_steps.value.data

    @property
    def block(self) -> Block:
        return self.body.block

    @property
    def cond_block(self) -> Block:
        return self.cond.block

    def cond_args(self) -> tuple[Sequence[SSAValue], Sequence[SSAValue]]:
        """(carries, invariants) of the condition block."""
        args = self.cond_block.args
        return args[: len(self.initials)], args[len(self.initials) :]

    def body_args(self) -> tuple[None, Sequence[SSAValue], Sequence[SSAValue], Sequence[SSAValue]]:
        """(None, carries, (), invariants) of the body block: the shape of
        `ScanOp.body_args` (no index, no xs), so scan's helpers apply."""
        args = self.block.args
        return None, args[: len(self.initials)], (), args[len(self.initials) :]

    def yielded(self) -> tuple[Sequence[SSAValue], Sequence[SSAValue]]:
        """(new carries, no per-step outputs) of the body's `array.yield`."""
        return self.block.last_op.operands, ()  # type: ignore[union-attr]

    def condition(self) -> SSAValue:
        """The condition block's value (its `array.condition` operand)."""
        return self.cond_block.last_op.operands[0]  # type: ignore[union-attr]

    def verify_(self) -> None:
        if self.bound is not None and self.bound < 0:
            raise VerifyException(f"{self.name}: max_steps must be >= 0, got {self.bound}")
        for v in (*self.operands, *self.results):
            static_shape(self, v)
            _require_array_element(self, v.type, "every operand and result")
        want = [v.type for v in (*self.initials, *self.invariants)]
        for word, block in (("cond", self.cond_block), ("body", self.block)):
            got = [a.type for a in block.args]
            if got != want:
                raise VerifyException(
                    f"{self.name}: the {word} region takes ({', '.join(map(str, got))}), expected the "
                    f"carries then the invariants ({', '.join(map(str, want))})"
                )
        last = self.cond_block.last_op
        if not isinstance(last, ConditionOp):
            raise VerifyException(f"{self.name}: the cond region must end in array.condition")
        last = self.block.last_op
        if not isinstance(last, YieldOp):
            raise VerifyException(f"{self.name}: the body region must end in array.yield")
        if len(last.values) != len(self.initials):
            raise VerifyException(
                f"{self.name}: the body yields {len(last.values)} values, expected {len(self.initials)} carries"
            )
        for k, (v, init) in enumerate(zip(last.values, self.initials)):
            if v.type != init.type:
                raise VerifyException(
                    f"{self.name}: carry {k}: the body yields {v.type} but the carry has type {init.type}"
                )
        for k, (v, init) in enumerate(zip(self.finals, self.initials)):
            if v.type != init.type:
                raise VerifyException(f"{self.name}: final carry {k} must have type {init.type}, got {v.type}")

    def print(self, printer: Printer) -> None:
        if self.bound is not None:
            printer.print_string(f" max_steps {self.bound}")
        carries, invariants = self.cond_args()
        for word, args, values in (("carries", carries, self.initials), ("invariants", invariants, self.invariants)):
            print_bound_group(printer, word, args, values)
        printer.print_string(" cond ")
        printer.print_region(self.cond, print_entry_block_args=False)
        printer.print_string(" body ")
        # The body's arguments are printed (they are not the cond's).
        printer.print_region(self.body, print_entry_block_args=True)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        max_steps = None
        if parser.parse_optional_keyword("max_steps") is not None:
            max_steps = parser.parse_integer(allow_boolean=False)

        initials, carry_args = parse_bound_group(parser, "carries", cls.name)
        invariants, invariant_args = parse_bound_group(parser, "invariants", cls.name)
        args = [a.resolve(v.type) for a, v in zip([*carry_args, *invariant_args], [*initials, *invariants])]
        parser.parse_keyword("cond")
        cond = parser.parse_region(args)
        parser.parse_keyword("body")
        body = parser.parse_region()
        attrs = parser.parse_optional_attr_dict()
        op = cls(initials, invariants, cond, body, max_steps)
        op.attributes.update(attrs)
        return op


@op_definition
class ConditionOp(IRDLOperation):
    """Ends an `array.while`'s cond region: whether to run the body again."""

    name = "array.condition"
    value = operand_def(TensorType)
    assembly_format = "$value `:` type($value) attr-dict"
    traits = traits_def(IsTerminator(), HasParent(WhileOp))

    def __init__(self, value: SSAValue | Operation):
        super().__init__(operands=[SSAValue.get(value)])

    def verify_(self) -> None:
        if self.value.type != CONDITION_TYPE:
            raise VerifyException(f"{self.name}: the condition must be {CONDITION_TYPE}, got {self.value.type}")
