"""`loops` ops for loop nests over memref buffers: `loops.for` and its
`loops.yield`, `loops.while` and its `loops.condition`, `loops.thread_id`, buffers (`loops.alloc`,
`loops.constant`, `loops.reshape`), element access (`loops.load`,
`loops.store`) and whole (possibly batched) matrix products
(`loops.matmul`, with an optional epilogue).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from math import prod
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    VarConstraint,
    base,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    opt_region_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import (
    HasParent,
    IsTerminator,
    MemoryReadEffect,
    MemoryWriteEffect,
    NoMemoryEffect,
    Pure,
    SingleBlockImplicitTerminator,
)
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.deferred_format import op_definition


PLACEMENTS = ("stack", "workspace")
TRIANGLES = ("upper", "lower")
"""The halves a `loops.matmul` may compute alone (its `triangle`)."""
NUM_INPUTS_ATTR = "loops.num_inputs"
WORKSPACE_ALIGN = 64
"""Bytes every workspace buffer's offset is a multiple of (a cache line, and
an AVX-512 vector)."""


def memref_shape(op: Operation, value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    if not isinstance(typ, MemRefType):
        raise VerifyException(f"{op.name}: expected a memref, got {typ}")
    shape = tuple(typ.get_shape())
    if any(d < 0 for d in shape):
        raise VerifyException(f"{op.name}: shapes must be static, got {typ}")
    return shape


@op_definition
class YieldOp(IRDLOperation):
    """Terminates a `loops.for` or `loops.while` body or a `loops.switch`
    region (with no values, printed implicitly) or a `loops.matmul` epilogue
    (with the element's final value)."""

    name = "loops.yield"
    values = var_operand_def()
    assembly_format = "($values^ `:` type($values))? attr-dict"
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(ForOp, MatmulOp, WhileOp, _switch_op()), Pure()))

    def __init__(self, *values: SSAValue | Operation):
        super().__init__(operands=[list(values)])

    def verify_(self) -> None:
        parent = self.parent_op()
        if isinstance(parent, ForOp | WhileOp) and self.values:
            raise VerifyException(f"{self.name}: a {parent.name} body yields no values")


@op_definition
class ForOp(IRDLOperation):
    """`loops.for %i = 0 to 64 step 1 { ... }`: a loop with static bounds whose
    body sees the induction variable as an `index` block argument.

    `loops.for %i = 0 to 512 step 128 threads 2 { ... }` runs its iterations
    on that many threads (OpenMP, static schedule). Only `parallelize` sets
    it, after proving that no two iterations touch the same memory where one
    writes (`loops.thread_id` then tells the thread's private scratch apart);
    the loop means the same as without it."""

    name = "loops.for"
    lower = prop_def(IntAttr)
    upper = prop_def(IntAttr)
    step = prop_def(IntAttr)
    threads = opt_prop_def(IntAttr)
    body = region_def("single_block")
    traits = traits_def(SingleBlockImplicitTerminator(YieldOp))

    def __init__(self, lower: int, upper: int, step: int = 1, body: Region | None = None,
                 threads: int | None = None):
        if body is None:
            body = Region(Block(arg_types=[IndexType()]))
        properties = {"lower": IntAttr(lower), "upper": IntAttr(upper), "step": IntAttr(step)}
        if threads is not None:
            properties["threads"] = IntAttr(threads)
        super().__init__(properties=properties, regions=[body])
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
        if self.threads is not None and self.threads.data < 2:
            raise VerifyException(f"{self.name}: threads must be >= 2, got {self.threads.data}")
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
        threads = None
        if parser.parse_optional_keyword("threads") is not None:
            threads = parser.parse_integer(allow_boolean=False)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region((arg.resolve(IndexType()),))
        op = cls(lower, upper, step, body, threads)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.induction_var)
        printer.print_string(
            f" = {self.lower.data} to {self.upper.data} step {self.step.data}"
        )
        if self.threads is not None:
            printer.print_string(f" threads {self.threads.data}")
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(
            self.body, print_entry_block_args=False, print_empty_block=False,
            print_block_terminators=False,
        )


@op_definition
class WhileOp(IRDLOperation):
    """`loops.while max_steps 50 cond { ...; loops.condition %c } body { ... }`:
    run `cond`, stop when its i1 is false, else run `body` and repeat.

    With `max_steps`, a run that would start iteration max_steps + 1 stops
    the function with a nonzero status instead (lower-loops-to-c numbers the
    loops of a function; `label` names this one in the error message)."""

    name = "loops.while"
    max_steps = opt_prop_def(IntAttr)
    label = opt_prop_def(StringAttr)
    cond = region_def("single_block")
    body = region_def("single_block")

    def __init__(self, max_steps: int | None = None, label: str | None = None,
                 cond: Region | None = None, body: Region | None = None):
        properties: dict[str, Attribute] = {}
        if max_steps is not None:
            properties["max_steps"] = IntAttr(max_steps)
        if label is not None:
            properties["label"] = StringAttr(label)
        cond = cond if cond is not None else Region(Block())
        body = body if body is not None else Region(Block())
        super().__init__(properties=properties, regions=[cond, body])
        if not body.block.ops or not isinstance(body.block.last_op, YieldOp):
            body.block.add_op(YieldOp())

    @property
    def bound(self) -> int | None:
        return None if self.max_steps is None else self.max_steps.data

    def condition(self) -> SSAValue:
        return self.cond.block.last_op.operands[0]  # type: ignore[union-attr]

    def verify_(self) -> None:
        if self.bound is not None and self.bound < 0:
            raise VerifyException(f"{self.name}: max_steps must be >= 0, got {self.bound}")
        for word, region in (("cond", self.cond), ("body", self.body)):
            if region.block.args:
                raise VerifyException(f"{self.name}: the {word} region takes no arguments")
        if not isinstance(self.cond.block.last_op, ConditionOp):
            raise VerifyException(f"{self.name}: the cond region must end in loops.condition")
        if not isinstance(self.body.block.last_op, YieldOp):
            raise VerifyException(f"{self.name}: the body region must end in loops.yield")

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        max_steps = None
        if parser.parse_optional_keyword("max_steps") is not None:
            max_steps = parser.parse_integer(allow_boolean=False)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        parser.parse_keyword("cond")
        cond = parser.parse_region()
        parser.parse_keyword("body")
        body = parser.parse_region()
        op = cls(max_steps, None, cond, body)
        if attrs is not None:
            label = attrs.data.get("label")
            if isinstance(label, StringAttr):
                op.label = label
            op.attributes.update({k: v for k, v in attrs.data.items() if k != "label"})
        return op

    def print(self, printer: Printer) -> None:
        if self.bound is not None:
            printer.print_string(f" max_steps {self.bound}")
        attrs = dict(self.attributes)
        if self.label is not None:
            attrs["label"] = self.label
        printer.print_op_attributes(attrs, print_keyword=True)
        printer.print_string(" cond ")
        printer.print_region(self.cond, print_entry_block_args=False)
        printer.print_string(" body ")
        printer.print_region(self.body, print_entry_block_args=False, print_block_terminators=False)


@op_definition
class ConditionOp(IRDLOperation):
    """Ends a `loops.while` cond region: `loops.condition %c` (an i1)."""

    name = "loops.condition"
    value = operand_def(base(IntegerType))
    assembly_format = "$value `:` type($value) attr-dict"
    traits = traits_def(IsTerminator(), HasParent(WhileOp))

    def __init__(self, value: SSAValue | Operation):
        super().__init__(operands=[SSAValue.get(value)])

    def verify_(self) -> None:
        typ = self.value.type
        if not isinstance(typ, IntegerType) or typ.width.data != 1:
            raise VerifyException(f"{self.name}: the condition must be i1, got {typ}")


@op_definition
class FmodOp(IRDLOperation):
    """`%r = loops.fmod %a, %b : f32`: C's fmod of two scalars of one float
    type (the remainder of truncated division, exact; what MLIR's
    arith.remf is, which this xDSL lacks)."""

    name = "loops.fmod"
    T: ClassVar = VarConstraint("T", base(Float32Type) | base(Float64Type))
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(T)
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        super().__init__(operands=[lhs, rhs], result_types=[SSAValue.get(lhs).type])


@op_definition
class ThreadIdOp(IRDLOperation):
    """`%t = loops.thread_id : index`: which thread of the innermost
    enclosing `loops.for ... threads N` runs this iteration (0 <= t < N; 0
    outside one), so that each thread can use its own slice of a scratch
    buffer."""

    name = "loops.thread_id"
    result = result_def(IndexType)
    assembly_format = "attr-dict `:` type($result)"
    traits = traits_def(NoMemoryEffect())

    def __init__(self):
        super().__init__(result_types=[IndexType()])


@op_definition
class AllocOp(IRDLOperation):
    """A temporary buffer: `loops.alloc "workspace" : memref<64x256xf32>`.

    `stack` buffers become fixed-size local arrays in C; `workspace` buffers
    live at an offset in the caller-provided workspace. `plan-memory` fixes
    that offset (`loops.alloc "workspace" at 128 : ...`, in bytes, a multiple
    of 64); without one, lower-loops-to-c lays the buffers out one after the
    other.

    An alloc inside a `loops.for` body is storage of one iteration: what it
    holds is undefined when the next iteration starts (in C, a local array of
    the loop body), so no value may flow through it between iterations."""

    name = "loops.alloc"
    placement = prop_def(StringAttr)
    offset = opt_prop_def(IntegerAttr[I64])
    result = result_def(MemRefType)
    assembly_format = "$placement (`at` $offset^)? attr-dict `:` type($result)"
    traits = traits_def(NoMemoryEffect())

    def __init__(self, typ: MemRefType, placement: str = "workspace", offset: int | None = None):
        properties: dict[str, Attribute] = {"placement": StringAttr(placement)}
        if offset is not None:
            properties["offset"] = _i64(offset)
        super().__init__(properties=properties, result_types=[typ])

    @property
    def byte_offset(self) -> int | None:
        """The planned workspace offset in bytes, if any."""
        return None if self.offset is None else self.offset.value.data

    def verify_(self) -> None:
        memref_shape(self, self.result)
        if self.placement.data not in PLACEMENTS:
            raise VerifyException(
                f"{self.name}: placement must be one of {', '.join(PLACEMENTS)}, "
                f"got '{self.placement.data}'"
            )
        offset = self.byte_offset
        if offset is None:
            return
        if self.placement.data != "workspace":
            raise VerifyException(f"{self.name}: only workspace buffers have an offset")
        if offset < 0 or offset % WORKSPACE_ALIGN:
            raise VerifyException(
                f"{self.name}: offset must be a non-negative multiple of {WORKSPACE_ALIGN}, got {offset}"
            )


@op_definition
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


@op_definition
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


@op_definition
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


@op_definition
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


def _float_element(op: Operation, *values: SSAValue) -> Attribute:
    """The common f32/f64 element type of memref `values`."""
    elements = {v.type.get_element_type() for v in values if isinstance(v.type, MemRefType)}
    if len(elements) != 1:
        raise VerifyException(
            f"{op.name}: operands must share one element type, got "
            f"{', '.join(str(v.type) for v in values)}"
        )
    (element,) = elements
    if not isinstance(element, Float32Type | Float64Type):
        raise VerifyException(f"{op.name}: element type must be f32 or f64, got {element}")
    return element


@op_definition
class MatmulOp(IRDLOperation):
    """A matrix product over buffers with static shapes:
    `C[b..., m, n] (+)= op(A)[b..., m, k] * op(B)[b..., k, n]`.

    `op(A)` is A itself (stored [b..., m, k]) or, with `transpose_a`, the
    transpose of A stored as [b..., k, m]; likewise `transpose_b` reads B
    stored as [b..., n, k]. So A^T B and A B^T read their operands in place.
    Without `accumulate` C is overwritten, with it the product is added to
    C. C must not alias A or B.

    An optional `epilogue` region maps each finished element of the product
    to what is stored in C: its block takes the element and its indices in
    C and yields the value (`loops.yield %v : f32`); it may load other
    buffers, never C. It lets a bias add or an activation run on a tile of C
    while the tile is still in cache (tile-matmul), with no buffer between.

    With `triangle "upper"` (or `"lower"`) C is square and only its elements
    with i <= j (i >= j) need be right afterwards; the others may hold
    anything (tile-matmul skips the register tiles wholly outside the
    triangle). What an `array.mirror` of a product asks for.

        loops.matmul %a, %b into %c transpose_b : memref<4x3xf32>, memref<5x3xf32> into memref<4x5xf32>
    """

    name = "loops.matmul"
    lhs = operand_def(MemRefType)
    rhs = operand_def(MemRefType)
    out = operand_def(MemRefType)
    transpose_a = opt_prop_def(UnitAttr)
    transpose_b = opt_prop_def(UnitAttr)
    accumulate = opt_prop_def(UnitAttr)
    triangle = opt_prop_def(StringAttr)
    epilogue = opt_region_def("single_block")
    assembly_format = (
        "$lhs `,` $rhs `into` $out (`transpose_a` $transpose_a^)? "
        "(`transpose_b` $transpose_b^)? (`accumulate` $accumulate^)? "
        "(`triangle` $triangle^)? (`epilogue` $epilogue^)? attr-dict "
        "`:` type($lhs) `,` type($rhs) `into` type($out)"
    )
    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    def __init__(
        self,
        lhs: SSAValue | Operation,
        rhs: SSAValue | Operation,
        out: SSAValue | Operation,
        transpose_a: bool = False,
        transpose_b: bool = False,
        accumulate: bool = False,
        epilogue: Region | None = None,
        triangle: str | None = None,
    ):
        flags = {"transpose_a": transpose_a, "transpose_b": transpose_b, "accumulate": accumulate}
        properties: dict[str, Attribute] = {name: UnitAttr() for name, on in flags.items() if on}
        if triangle is not None:
            properties["triangle"] = StringAttr(triangle)
        super().__init__(operands=[lhs, rhs, out], properties=properties, regions=[epilogue])

    @property
    def triangle_name(self) -> str | None:
        """"upper", "lower", or None: all of C is computed."""
        return None if self.triangle is None else self.triangle.data

    @property
    def epilogue_block(self) -> Block | None:
        """The epilogue's block, if the product has one."""
        return self.epilogue.block if self.epilogue is not None and self.epilogue.blocks else None

    def apply_epilogue(
        self, value: SSAValue, indices: Sequence[SSAValue], at: InsertPoint
    ) -> SSAValue:
        """Clone the epilogue at `at` for the element of C at `indices`, whose
        product is `value`; return the element's final value."""
        block = self.epilogue_block
        assert block is not None
        mapping: dict[SSAValue, SSAValue] = dict(zip(block.args, (value, *indices), strict=True))
        result = value
        for old in block.ops:
            if isinstance(old, YieldOp):
                result = mapping.get(old.values[0], old.values[0])
                continue
            new = old.clone(value_mapper=mapping)
            Rewriter.insert_op(new, at)
        return result

    @property
    def dims(self) -> tuple[tuple[int, ...], int, int, int]:
        """(batch shape, m, n, k) of the product."""
        *batch, m, n = memref_shape(self, self.out)
        a = memref_shape(self, self.lhs)
        k = a[-2] if self.transpose_a is not None else a[-1]
        return tuple(batch), m, n, k

    def verify_(self) -> None:
        _float_element(self, self.lhs, self.rhs, self.out)
        a, b, c = (memref_shape(self, v) for v in (self.lhs, self.rhs, self.out))
        if not len(a) == len(b) == len(c) >= 2:
            raise VerifyException(
                f"{self.name}: operands must have one rank >= 2, got "
                f"{self.lhs.type}, {self.rhs.type}, {self.out.type}"
            )
        self.verify_epilogue(c)
        batch, m, n, k = self.dims
        if self.triangle is not None and (self.triangle.data not in TRIANGLES or m != n):
            raise VerifyException(
                f"{self.name}: triangle must be one of {', '.join(TRIANGLES)} and C square, "
                f"got {self.triangle.data!r} and {self.out.type}"
            )
        want_a = (*batch, k, m) if self.transpose_a is not None else (*batch, m, k)
        want_b = (*batch, n, k) if self.transpose_b is not None else (*batch, k, n)
        if a != want_a or b != want_b:
            raise VerifyException(
                f"{self.name}: shapes {list(a)} and {list(b)} do not give {list(c)} "
                f"(expected A {list(want_a)} and B {list(want_b)} with these transpose flags)"
            )


    def verify_epilogue(self, out_shape: Sequence[int]) -> None:
        block = self.epilogue_block
        if block is None:
            return
        element = self.out.type.get_element_type()
        want = [element, *[IndexType()] * len(out_shape)]
        if [a.type for a in block.args] != want:
            raise VerifyException(
                f"{self.name}: the epilogue takes the product's element and its "
                f"{len(out_shape)} indices ({', '.join(map(str, want))})"
            )
        last = block.last_op
        if not isinstance(last, YieldOp) or [v.type for v in last.values] != [element]:
            raise VerifyException(f"{self.name}: the epilogue must yield one {element}")
        if self.accumulate is not None:
            raise VerifyException(f"{self.name}: an accumulating product cannot have an epilogue")


@cache
def _i64(value: int) -> IntegerAttr:
    """An i64 attribute (immutable, so one per value: building one costs
    more than the op that carries it)."""
    return IntegerAttr(value, 64)


def _switch_op() -> type[IRDLOperation]:
    from gradc.dialects.loops.branches import SwitchOp

    return SwitchOp
