"""The `loops` dialect: static loop nests over memref buffers.

After `lower-array-to-loops` a function takes its inputs and then its outputs
as builtin `memref` arguments and returns nothing; the attribute
`loops.num_inputs` on the `func.func` says where the inputs end. Temporary
buffers come from `loops.alloc` with a placement (`stack` or `workspace`),
constant tensors from `loops.constant`. Scalar math inside loop bodies is
upstream `arith` and `math`; indices are `index` values built with `arith`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    IndexType,
    IntAttr,
    MemRefType,
    StringAttr,
)
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    NoMemoryEffect,
    Pure,
    SingleBlockImplicitTerminator,
)
from xdsl.utils.exceptions import VerifyException

PLACEMENTS = ("stack", "workspace")
NUM_INPUTS_ATTR = "loops.num_inputs"


def memref_shape(op: Operation, value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    if not isinstance(typ, MemRefType):
        raise VerifyException(f"{op.name}: expected a memref, got {typ}")
    shape = tuple(typ.get_shape())
    if any(d < 0 for d in shape):
        raise VerifyException(f"{op.name}: shapes must be static, got {typ}")
    return shape


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Terminates a `loops.for` body (printed implicitly)."""

    name = "loops.yield"
    assembly_format = "attr-dict"
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(ForOp), Pure()))


@irdl_op_definition
class ForOp(IRDLOperation):
    """`loops.for %i = 0 to 64 step 1 { ... }`: a loop with static bounds whose
    body sees the induction variable as an `index` block argument."""

    name = "loops.for"
    lower = prop_def(IntAttr)
    upper = prop_def(IntAttr)
    step = prop_def(IntAttr)
    body = region_def("single_block")
    traits = traits_def(SingleBlockImplicitTerminator(YieldOp))

    def __init__(self, lower: int, upper: int, step: int = 1, body: Region | None = None):
        if body is None:
            body = Region(Block(arg_types=[IndexType()]))
        super().__init__(
            properties={
                "lower": IntAttr(lower),
                "upper": IntAttr(upper),
                "step": IntAttr(step),
            },
            regions=[body],
        )
        if not body.block.ops or not isinstance(body.block.last_op, YieldOp):
            body.block.add_op(YieldOp())

    @property
    def induction_var(self) -> SSAValue:
        return self.body.block.args[0]

    @property
    def trip_count(self) -> int:
        lo, hi, st = self.lower.data, self.upper.data, self.step.data
        return max(0, (hi - lo + st - 1) // st)

    def verify_(self) -> None:
        if self.step.data < 1:
            raise VerifyException(f"{self.name}: step must be >= 1, got {self.step.data}")
        block = self.body.block
        if len(block.args) != 1 or not isinstance(block.args[0].type, IndexType):
            raise VerifyException(
                f"{self.name}: the body must have exactly one `index` argument"
            )

    @classmethod
    def parse(cls, parser: Parser) -> ForOp:
        arg = parser.parse_argument(expect_type=False)
        parser.parse_punctuation("=")
        lower = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("to")
        upper = parser.parse_integer(allow_boolean=False)
        step = 1
        if parser.parse_optional_keyword("step") is not None:
            step = parser.parse_integer(allow_boolean=False)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region((arg.resolve(IndexType()),))
        op = cls(lower, upper, step, body)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.induction_var)
        printer.print_string(
            f" = {self.lower.data} to {self.upper.data} step {self.step.data}"
        )
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(
            self.body, print_entry_block_args=False, print_empty_block=False,
            print_block_terminators=False,
        )


@irdl_op_definition
class AllocOp(IRDLOperation):
    """A temporary buffer: `loops.alloc "workspace" : memref<64x256xf32>`.

    `stack` buffers become fixed-size local arrays in C; `workspace` buffers
    live at an offset in the caller-provided workspace."""

    name = "loops.alloc"
    placement = prop_def(StringAttr)
    result = result_def(MemRefType)
    assembly_format = "$placement attr-dict `:` type($result)"
    traits = traits_def(NoMemoryEffect())

    def __init__(self, typ: MemRefType, placement: str = "workspace"):
        super().__init__(
            properties={"placement": StringAttr(placement)}, result_types=[typ]
        )

    def verify_(self) -> None:
        memref_shape(self, self.result)
        if self.placement.data not in PLACEMENTS:
            raise VerifyException(
                f"{self.name}: placement must be one of {', '.join(PLACEMENTS)}, "
                f"got '{self.placement.data}'"
            )


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A read-only buffer holding constant data (a `static const` array in C):
    `loops.constant dense<[1.0, 2.0]> : tensor<2xf32> -> memref<2xf32>`."""

    name = "loops.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(MemRefType)
    assembly_format = "$value attr-dict `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        typ = value.type
        super().__init__(
            properties={"value": value},
            result_types=[MemRefType(typ.get_element_type(), typ.get_shape())],
        )

    def verify_(self) -> None:
        shape = memref_shape(self, self.result)
        vtype = self.value.type
        if tuple(vtype.get_shape()) != shape or vtype.get_element_type() != self.result.type.get_element_type():
            raise VerifyException(
                f"{self.name}: value {vtype} does not match {self.result.type}"
            )


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    """A view of the same storage with another row-major shape (no copy):
    `loops.reshape %b : memref<2x3xf32> -> memref<6xf32>`."""

    name = "loops.reshape"
    source = operand_def(MemRefType)
    result = result_def(MemRefType)
    assembly_format = "$source attr-dict `:` type($source) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, source: SSAValue | Operation, shape: Sequence[int]):
        source = SSAValue.get(source)
        assert isinstance(source.type, MemRefType)
        super().__init__(
            operands=[source],
            result_types=[MemRefType(source.type.get_element_type(), list(shape))],
        )

    def verify_(self) -> None:
        a = memref_shape(self, self.source)
        b = memref_shape(self, self.result)
        if prod(a) != prod(b) or self.source.type.get_element_type() != self.result.type.get_element_type():
            raise VerifyException(
                f"{self.name}: cannot view {self.source.type} as {self.result.type}"
            )


def _check_indices(op: Operation, memref: SSAValue, indices: Sequence[SSAValue]) -> None:
    shape = memref_shape(op, memref)
    if len(indices) != len(shape):
        raise VerifyException(
            f"{op.name}: {memref.type} needs {len(shape)} indices, got {len(indices)}"
        )
    for i in indices:
        if not isinstance(i.type, IndexType):
            raise VerifyException(f"{op.name}: indices must be `index`, got {i.type}")


def _parse_access(parser: Parser) -> tuple[object, list[object], dict[str, Attribute], MemRefType]:
    buffer = parser.parse_unresolved_operand()
    indices = parser.parse_comma_separated_list(
        parser.Delimiter.SQUARE, parser.parse_unresolved_operand
    )
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    typ = parser.parse_type()
    if not isinstance(typ, MemRefType):
        parser.raise_error(f"expected a memref type, got {typ}")
    return buffer, indices, attrs, typ


def _print_access(printer: Printer, op: Operation, memref: SSAValue, indices: Sequence[SSAValue]) -> None:
    printer.print_operand(memref)
    printer.print_string("[")
    printer.print_list(indices, printer.print_operand)
    printer.print_string("]")
    printer.print_op_attributes(op.attributes)
    printer.print_string(" : ")
    printer.print_attribute(memref.type)


@irdl_op_definition
class LoadOp(IRDLOperation):
    """`%v = loops.load %buf[%i, %j] : memref<4x8xf32>`."""

    name = "loops.load"
    memref = operand_def(MemRefType)
    indices = var_operand_def(IndexType)
    result = result_def()

    def __init__(self, memref: SSAValue | Operation, indices: Sequence[SSAValue | Operation]):
        memref = SSAValue.get(memref)
        assert isinstance(memref.type, MemRefType)
        super().__init__(
            operands=[memref, list(indices)],
            result_types=[memref.type.get_element_type()],
        )

    def verify_(self) -> None:
        _check_indices(self, self.memref, self.indices)
        if self.result.type != self.memref.type.get_element_type():
            raise VerifyException(
                f"{self.name}: result type {self.result.type} does not match "
                f"{self.memref.type}"
            )

    @classmethod
    def parse(cls, parser: Parser) -> LoadOp:
        buffer, indices, attrs, typ = _parse_access(parser)
        mem = parser.resolve_operand(buffer, typ)
        idx = [parser.resolve_operand(i, IndexType()) for i in indices]
        op = cls(mem, idx)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_access(printer, self, self.memref, self.indices)


@irdl_op_definition
class StoreOp(IRDLOperation):
    """`loops.store %v, %buf[%i, %j] : memref<4x8xf32>`."""

    name = "loops.store"
    value = operand_def()
    memref = operand_def(MemRefType)
    indices = var_operand_def(IndexType)

    def __init__(
        self,
        value: SSAValue | Operation,
        memref: SSAValue | Operation,
        indices: Sequence[SSAValue | Operation],
    ):
        super().__init__(operands=[value, memref, list(indices)])

    def verify_(self) -> None:
        _check_indices(self, self.memref, self.indices)
        if self.value.type != self.memref.type.get_element_type():
            raise VerifyException(
                f"{self.name}: value type {self.value.type} does not match "
                f"{self.memref.type}"
            )

    @classmethod
    def parse(cls, parser: Parser) -> StoreOp:
        value = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        buffer, indices, attrs, typ = _parse_access(parser)
        v = parser.resolve_operand(value, typ.get_element_type())
        mem = parser.resolve_operand(buffer, typ)
        idx = [parser.resolve_operand(i, IndexType()) for i in indices]
        op = cls(v, mem, idx)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.value)
        printer.print_string(", ")
        _print_access(printer, self, self.memref, self.indices)




Loops = Dialect(
    "loops",
    [ForOp, YieldOp, AllocOp, ConstantOp, ReshapeOp, LoadOp, StoreOp],
)
