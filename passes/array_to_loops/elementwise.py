"""The loop-nest builder of lower-array-to-loops and its element rules.

FunctionLowering builds the loops-level body of one function: loop nests
(`for_each`), pooled constants, memoized index expressions and element
values. A pointwise op (unary, binary, compare, select, convert, broadcast,
transpose, slice, gather, dynamic gather, dynamic slice, threefry2x32,
splat constant) has an element rule (ELEMENT_RULES): its
scalar at given indices, built from its operands' scalars at (remapped)
indices, so a value without a buffer is computed inline in its consumer's
loop nest.

Guarantees: within one loop body each element of a value is computed once;
comparisons are ordered but `ne`, which is true for NaN as in NumPy.
Why values are fused: docs/lowering.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

import numpy as np
from xdsl.dialects import arith, func, math
from xdsl.dialects.builtin import (
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    TensorType,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array, loops
from gradc.passes.array_to_loops.affine import ZERO, Affine, Index

BlockLowering = Callable[["FunctionLowering", Block, Sequence[SSAValue], Sequence[SSAValue]], None]
"""Lowers the ops of a block at the insertion point, computing its results
into the given buffers (the pass's lower_block)."""


def splat_value(op: array.ConstantOp) -> float | int | None:
    """The single value of a splat constant (compared bitwise, so NaN
    splats count), else None."""
    raw, count = op.value.data.data, len(op.value)
    if count == 0:
        return None
    size = len(raw) // count
    if raw != raw[:size] * count:
        return None
    return op.value.get_element_type().unpack(raw[:size], 1)[0]


def is_pointwise(op: Operation) -> bool:
    if isinstance(op, array.ConstantOp):
        return splat_value(op) is not None
    return type(op) in ELEMENT_RULES


def shape_of(value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    assert isinstance(typ, TensorType | MemRefType)
    return tuple(typ.get_shape())


def element_type_of(value: SSAValue) -> Attribute:
    typ = value.type
    assert isinstance(typ, TensorType | MemRefType)
    return typ.get_element_type()


def memref_of(typ: Attribute) -> MemRefType:
    assert isinstance(typ, TensorType)
    return MemRefType(typ.get_element_type(), typ.get_shape())


def element_bytes(element_type: Attribute) -> int:
    if isinstance(element_type, Float64Type):
        return 8
    if isinstance(element_type, Float32Type):
        return 4
    if isinstance(element_type, IntegerType):
        return max(1, element_type.width.data // 8)
    return 1


class FunctionLowering:
    """Builds the loops-level body of one function.

    Constants are pooled and placed at the top of the function; index
    expressions and element values are memoized per block, so a value used
    twice in one loop body is computed once."""

    def __init__(self, block: Block, stack_threshold: int, lower_block: BlockLowering):
        self.block = block
        self._lower_block = lower_block
        self.stack_threshold = stack_threshold
        self.fuse_epilogues = True
        self.fuse_reductions = True
        self.insertion_point = InsertPoint.at_end(block)
        self.buffers: dict[SSAValue, SSAValue] = {}
        self.ivs: list[SSAValue] = []
        self._constants: dict[tuple[Attribute, str], SSAValue] = {}
        self._constant_ops: list[Operation] = []
        self._tables: dict[Operation, SSAValue] = {}
        self._starts: dict[tuple[Block, SSAValue, int, int], Affine] = {}
        self._indices: dict[tuple[Block, Affine], SSAValue] = {}
        self._elements: dict[tuple[Block, SSAValue, Index], SSAValue] = {}
        self.checkpoint_figures = {"tape_bytes": 0, "snapshot_bytes": 0, "recomputed_steps": 0}
        """Summed over the scans lowered with a tape (see lower_forward_half)."""
        self.taped_loops = 0
        self.views: dict[SSAValue, Callable[[Index], SSAValue]] = {}
        """Values read through an element function rather than a buffer of
        their own: a scan body's index and its slices of xs (see lower_scan)."""

    def lower_block(self, old: Block, results: Sequence[SSAValue], outputs: Sequence[SSAValue]) -> None:
        """Lower the ops of `old` at the insertion point, computing `results`
        into the buffers `outputs`: the pass's block lowering, which a scan
        calls back for its body (scans nest)."""
        self._lower_block(self, old, results, outputs)

    # -- building blocks ----------------------------------------------------

    def insert(self, op: Operation) -> None:
        Rewriter.insert_op(op, self.insertion_point)

    def emit(self, op: Operation) -> SSAValue:
        """Insert a single-result `op` at the current point; return its result."""
        self.insert(op)
        return op.results[0]

    def constant(self, value: float | int, typ: Attribute) -> SSAValue:
        """A pooled `arith.constant` (-0.0 and 0.0 are told apart by repr)."""
        key = (typ, repr(value))
        if key not in self._constants:
            if isinstance(typ, Float32Type | Float64Type):
                attr: Attribute = FloatAttr(float(value), typ)
            else:
                attr = IntegerAttr(int(value), typ)
            op = arith.ConstantOp(attr, typ)
            self._constant_ops.append(op)
            self._constants[key] = op.result
        return self._constants[key]

    def table_of(self, op: array.GatherOp) -> SSAValue:
        """The flat `loops.constant` of a gather's index table (placed with
        the pooled constants, one per op)."""
        if op not in self._tables:
            values = op.table.reshape(-1)
            constant = loops.ConstantOp(array.index_table(values if values.size else np.zeros(1, np.int64)))
            self._constant_ops.append(constant)
            self._tables[op] = constant.result
        return self._tables[op]

    def dynamic_start(self, start: SSAValue, size: int, window: int) -> Affine:
        """The start a dynamic slice of `window` elements of a dimension of
        `size` uses: the 0-d `start` truncated and clamped into
        [0, size - window] (NaN as 0), as an index term."""
        if size == window:
            return ZERO
        key = (self.insertion_point.block, start, size, window)
        if key not in self._starts:
            s = self.element(start, ())
            typ = element_type_of(start)
            if isinstance(typ, Float32Type | Float64Type):
                low = self.emit(arith.MaxnumfOp(s, self.constant(0.0, typ)))
                clamped = self.emit(arith.MinnumfOp(low, self.constant(float(size - window), typ)))
                whole = self.emit(arith.FPToSIOp(clamped, IntegerType(64)))
            else:  # i1, i32, i64: clamped as integers, exact at any size
                if typ.width.data == 1:
                    s, typ = self.emit(arith.ExtUIOp(s, IntegerType(64))), IntegerType(64)
                low = self.emit(arith.MaxSIOp(s, self.constant(0, typ)))
                clamped = self.emit(arith.MinSIOp(low, self.constant(size - window, typ)))
                whole = clamped if typ.width.data == 64 else self.emit(arith.ExtSIOp(clamped, IntegerType(64)))
            self.ivs.append(self.emit(arith.IndexCastOp(whole, IndexType())))
            self._starts[key] = Affine(0, ((len(self.ivs) - 1, 1),))
        return self._starts[key]

    def indexed_position(
        self, op: array.DynamicGatherOp | array.ScatterOp, row: Index
    ) -> tuple[list[Affine | None], SSAValue | None]:
        """For row `row` of op's indices: per dimension of op's input, the
        index term of the position it names along an indexed axis (clamped
        into [0, n - 1], so every access is in bounds) or None for the other
        dimensions; and the i1 that all its indices were in range (None
        when mode is "clip", which needs no such test)."""
        shape = shape_of(op.input)
        axes = op.axis_list
        typ = element_type_of(op.indices)
        terms: list[Affine | None] = [None] * len(shape)
        inside: SSAValue | None = None
        for k, d in enumerate(axes):
            entry = self.element(op.indices, (*row, Affine(k)))
            if op.mode.data != "clip":
                ok = self.emit(arith.AndIOp(
                    self.emit(arith.CmpiOp(entry, self.constant(0, typ), "sge")),
                    self.emit(arith.CmpiOp(entry, self.constant(shape[d], typ), "slt")),
                ))
                inside = ok if inside is None else self.emit(arith.AndIOp(inside, ok))
            low = self.emit(arith.MaxSIOp(entry, self.constant(0, typ)))
            clamped = self.emit(arith.MinSIOp(low, self.constant(max(shape[d] - 1, 0), typ)))
            if typ.width.data != 64:
                clamped = self.emit(arith.ExtSIOp(clamped, IntegerType(64)))
            self.ivs.append(self.emit(arith.IndexCastOp(clamped, IndexType())))
            terms[d] = Affine(0, ((len(self.ivs) - 1, 1),))
        return terms, inside

    def index(self, expr: Affine) -> SSAValue:
        key = (self.insertion_point.block, expr)
        if key not in self._indices:
            parts: list[SSAValue] = []
            for n, coeff in expr.terms:
                iv = self.ivs[n]
                parts.append(
                    iv if coeff == 1
                    else self.emit(arith.MuliOp(iv, self.constant(coeff, IndexType())))
                )
            if expr.const or not parts:
                parts.append(self.constant(expr.const, IndexType()))
            total = parts[0]
            for part in parts[1:]:
                total = self.emit(arith.AddiOp(total, part))
            self._indices[key] = total
        return self._indices[key]

    def load(self, buffer: SSAValue, idx: Index) -> SSAValue:
        return self.emit(loops.LoadOp(buffer, [self.index(a) for a in idx]))

    def store(self, value: SSAValue, buffer: SSAValue, idx: Index) -> None:
        self.insert(loops.StoreOp(value, buffer, [self.index(a) for a in idx]))

    def alloc(self, typ: MemRefType) -> SSAValue:
        nbytes = prod(typ.get_shape()) * element_bytes(typ.get_element_type())
        placement = "stack" if nbytes < self.stack_threshold else "workspace"
        return self.emit(loops.AllocOp(typ, placement))

    def for_each(
        self,
        shape: Sequence[int],
        body: Callable[[Index], None],
        order: Sequence[int] | None = None,
    ) -> None:
        """The shared loop-nest helper: loop over `shape` (dimensions nested
        outermost-first in `order`, default row-major) and call `body` with
        the index of one element, at the innermost point. Size-1 dimensions
        get no loop, just index 0."""
        saved = self.insertion_point
        idx = [ZERO] * len(shape)
        for d in order if order is not None else range(len(shape)):
            if shape[d] == 1:
                continue
            loop = loops.ForOp(0, shape[d])
            self.insert(loop)
            loop.induction_var.name_hint = "i"
            self.ivs.append(loop.induction_var)
            idx[d] = Affine(0, ((len(self.ivs) - 1, 1),))
            (yield_op,) = loop.body.block.ops
            self.insertion_point = InsertPoint.before(yield_op)
        body(tuple(idx))
        self.insertion_point = saved

    # -- values -------------------------------------------------------------

    def element(self, value: SSAValue, idx: Index) -> SSAValue:
        """The scalar of tensor `value` at `idx`: a load if it has a buffer,
        else its op's element rule, inline."""
        key = (self.insertion_point.block, value, idx)
        if key not in self._elements:
            if value in self.buffers:
                scalar = self.load(self.buffers[value], idx)
            elif value in self.views:
                scalar = self.views[value](idx)
            else:
                op = value.owner
                assert isinstance(op, Operation)
                scalar = ELEMENT_RULES[type(op)](self, op, idx)
            self._elements[key] = scalar
        return self._elements[key]

    def compute_into(self, op: Operation, dest: SSAValue) -> None:
        """Fill `dest` with the result of pointwise `op`."""
        rule = ELEMENT_RULES[type(op)]
        self.for_each(
            shape_of(op.results[0]), lambda idx: self.store(rule(self, op, idx), dest, idx)
        )

    def copy(self, value: SSAValue, dest: SSAValue) -> None:
        self.for_each(
            shape_of(value), lambda idx: self.store(self.element(value, idx), dest, idx)
        )

    def finish(self) -> None:
        self.insert(func.ReturnOp())
        first = self.block.first_op
        for op in self._constant_ops:
            if first is None:
                self.block.add_op(op)
            else:
                self.block.insert_op_before(op, first)


# ---------------------------------------------------------------------------
# Element rules: one scalar of a pointwise op at given indices
# ---------------------------------------------------------------------------

_UNARY_SCALAR: dict[type[Operation], Callable[[SSAValue], Operation]] = {
    array.NegOp: arith.NegfOp,
    array.ExpOp: math.ExpOp,
    array.LogOp: math.LogOp,
    array.TanhOp: math.TanhOp,
    array.SinOp: math.SinOp,
    array.CosOp: math.CosOp,
    array.SqrtOp: math.SqrtOp,
    array.AbsOp: math.AbsFOp,
    array.SinhOp: math.SinhOp,
    array.CoshOp: math.CoshOp,
    array.TanOp: math.TanOp,
    array.AsinOp: math.AsinOp,
    array.AcosOp: math.AcosOp,
    array.AtanOp: math.AtanOp,
    array.AsinhOp: math.AsinhOp,
    array.AcoshOp: math.AcoshOp,
    array.AtanhOp: math.AtanhOp,
    array.Log1pOp: math.Log1pOp,
    array.Expm1Op: math.ExpM1Op,
    array.Log2Op: math.Log2Op,
    array.Log10Op: math.Log10Op,
    array.Exp2Op: math.Exp2Op,
    array.ErfOp: math.ErfOp,
    array.FloorOp: math.FloorOp,
    array.CeilOp: math.CeilOp,
    array.RoundEvenOp: math.RoundEvenOp,
    array.TruncOp: math.TruncOp,
    array.ErfcOp: lambda x: loops.SpecialOp("erfc", x),
}

_BINARY_SCALAR: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
    array.AddOp: arith.AddfOp,
    array.SubOp: arith.SubfOp,
    array.MulOp: arith.MulfOp,
    array.DivOp: arith.DivfOp,
    array.MaxOp: arith.MaximumfOp,
    array.MinOp: arith.MinimumfOp,
    array.PowOp: math.PowFOp,
    array.Atan2Op: math.Atan2Op,
    array.CopySignOp: math.CopySignOp,
    array.FmodOp: loops.FmodOp,
}

# Ordered predicates, except `ne`, which is true for NaN as in NumPy.
_CMPF_PREDICATE = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}


_INT_BINARY_SCALAR: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
    array.AddOp: arith.AddiOp,
    array.SubOp: arith.SubiOp,
    array.MulOp: arith.MuliOp,
    array.MaxOp: arith.MaxSIOp,
    array.MinOp: arith.MinSIOp,
    array.DivOp: arith.DivSIOp,
    array.FmodOp: arith.RemSIOp,
}
"""Integer forms of the ops that take ints (signed, wrapping)."""

_CMPI_PREDICATE = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}


_BITWISE_SCALAR: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
    array.AndOp: arith.AndIOp,
    array.OrOp: arith.OrIOp,
    array.XorOp: arith.XOrIOp,
}


def _bitwise(lw: FunctionLowering, op: array.BitwiseOp, idx: Index) -> SSAValue:
    return lw.emit(_BITWISE_SCALAR[type(op)](lw.element(op.lhs, idx), lw.element(op.rhs, idx)))


def _invert(lw: FunctionLowering, op: array.InvertOp, idx: Index) -> SSAValue:
    typ = element_type_of(op.input)
    ones = lw.constant(1 if array.is_bool(typ) else -1, typ)  # all bits set
    return lw.emit(arith.XOrIOp(lw.element(op.input, idx), ones))


def _shift(lw: FunctionLowering, op: array.ShiftOp, idx: Index) -> SSAValue:
    """The shift by counts in [0, width); other counts give NumPy's
    value (every bit shifted out) without shifting (C leaves it undefined)."""
    x, count = lw.element(op.lhs, idx), lw.element(op.rhs, idx)
    typ = element_type_of(op.lhs)
    zero = lw.constant(0, typ)
    in_range = lw.emit(arith.AndIOp(
        lw.emit(arith.CmpiOp(count, zero, "sge")),
        lw.emit(arith.CmpiOp(count, lw.constant(typ.width.data, typ), "slt")),
    ))
    safe = lw.emit(arith.SelectOp(in_range, count, zero))
    if isinstance(op, array.ShiftLeftOp):
        return lw.emit(arith.SelectOp(in_range, lw.emit(arith.ShLIOp(x, safe)), zero))
    negative = lw.emit(arith.CmpiOp(x, zero, "slt"))
    filled = lw.emit(arith.SelectOp(negative, lw.constant(-1, typ), zero))
    return lw.emit(arith.SelectOp(in_range, lw.emit(arith.ShRSIOp(x, safe)), filled))


def _unary(lw: FunctionLowering, op: array.UnaryOp, idx: Index) -> SSAValue:
    x = lw.element(op.input, idx)
    typ = element_type_of(op.input)
    if array.is_int(typ):
        negated = lw.emit(arith.SubiOp(lw.constant(0, typ), x))
        if isinstance(op, array.NegOp):
            return negated
        assert isinstance(op, array.AbsOp), op.name
        negative = lw.emit(arith.CmpiOp(x, lw.constant(0, typ), "slt"))
        return lw.emit(arith.SelectOp(negative, negated, x))
    return lw.emit(_UNARY_SCALAR[type(op)](x))


def _binary(lw: FunctionLowering, op: array.BinaryOp, idx: Index) -> SSAValue:
    lhs, rhs = lw.element(op.lhs, idx), lw.element(op.rhs, idx)
    if array.is_int(element_type_of(op.lhs)):
        return lw.emit(_INT_BINARY_SCALAR[type(op)](lhs, rhs))
    return lw.emit(_BINARY_SCALAR[type(op)](lhs, rhs))


def _compare(lw: FunctionLowering, op: array.CompareOp, idx: Index) -> SSAValue:
    lhs, rhs = lw.element(op.lhs, idx), lw.element(op.rhs, idx)
    if array.is_int(element_type_of(op.lhs)):
        return lw.emit(arith.CmpiOp(lhs, rhs, _CMPI_PREDICATE[op.predicate.data]))
    return lw.emit(arith.CmpfOp(lhs, rhs, _CMPF_PREDICATE[op.predicate.data]))


def _select(lw: FunctionLowering, op: array.SelectOp, idx: Index) -> SSAValue:
    cond = lw.element(op.cond, idx)
    a, b = lw.element(op.true_value, idx), lw.element(op.false_value, idx)
    return lw.emit(arith.SelectOp(cond, a, b))


def _convert(lw: FunctionLowering, op: array.ConvertOp, idx: Index) -> SSAValue:
    x = lw.element(op.input, idx)
    source, target = element_type_of(op.input), element_type_of(op.result)
    if source == target:
        return x
    if array.is_bool(source):
        return lw.emit((arith.ExtUIOp if array.is_int(target) else arith.UIToFPOp)(x, target))
    if array.is_bool(target):
        if array.is_int(source):
            return lw.emit(arith.CmpiOp(x, lw.constant(0, source), "ne"))
        return lw.emit(arith.CmpfOp(x, lw.constant(0.0, source), "une"))
    if array.is_int(source) and array.is_int(target):
        wider = target.width.data > source.width.data
        return lw.emit((arith.ExtSIOp if wider else arith.TruncIOp)(x, target))
    if array.is_int(source):
        return lw.emit(arith.SIToFPOp(x, target))
    if array.is_int(target):
        return lw.emit(arith.FPToSIOp(x, target))
    if isinstance(target, Float64Type):
        return lw.emit(arith.ExtFOp(x, target))
    return lw.emit(arith.TruncFOp(x, target))


def _splat(lw: FunctionLowering, op: array.ConstantOp, idx: Index) -> SSAValue:
    value = splat_value(op)
    assert value is not None
    return lw.constant(value, element_type_of(op.result))


def _broadcast(lw: FunctionLowering, op: array.BroadcastOp, idx: Index) -> SSAValue:
    in_shape = shape_of(op.input)
    source = tuple(
        ZERO if in_shape[k] == 1 else idx[d] for k, d in enumerate(op.dim_map)
    )
    return lw.element(op.input, source)


def _transpose(lw: FunctionLowering, op: array.TransposeOp, idx: Index) -> SSAValue:
    source = [ZERO] * len(idx)
    for i, p in enumerate(op.perm):
        source[p] = idx[i]
    return lw.element(op.input, tuple(source))


def _slice(lw: FunctionLowering, op: array.SliceOp, idx: Index) -> SSAValue:
    source = tuple(
        a.scaled(stride).shifted(start)
        for a, (start, _, stride) in zip(idx, op.bounds, strict=True)
    )
    return lw.element(op.input, source)


def _gather(lw: FunctionLowering, op: array.GatherOp, idx: Index) -> SSAValue:
    """Row flat(b) of the table (a `loops.constant`, one per op) gives the
    positions along `axes`; the other dimensions take the rest of `idx`."""
    batch = op.batch_shape
    axes = op.axis_list
    table = lw.table_of(op)
    row = ZERO
    for d, n in enumerate(batch):
        row = row + idx[d].scaled(prod(batch[d + 1 :]) * len(axes))
    source: list[Affine] = []
    rest = iter(idx[len(batch) :])
    for d in range(len(shape_of(op.input))):
        if d not in axes:
            source.append(next(rest))
            continue
        entry = lw.emit(loops.LoadOp(table, [lw.index(row.shifted(axes.index(d)))]))
        position = lw.emit(arith.IndexCastOp(entry, IndexType()))
        lw.ivs.append(position)
        source.append(Affine(0, ((len(lw.ivs) - 1, 1),)))
    return lw.element(op.input, tuple(source))


def _dynamic_gather(lw: FunctionLowering, op: array.DynamicGatherOp, idx: Index) -> SSAValue:
    """The row of the indices at the batch part of `idx` gives the
    (clamped) positions along `axes`; the other dimensions take the rest of
    `idx`. Mode "fill": 0 where an index was out of range."""
    nb = len(op.batch_shape)
    terms, inside = lw.indexed_position(op, idx[:nb])
    rest = iter(idx[nb:])
    value = lw.element(op.input, tuple(next(rest) if t is None else t for t in terms))
    if inside is None:
        return value
    typ = element_type_of(op.input)
    zero = lw.constant(0.0 if isinstance(typ, Float32Type | Float64Type) else 0, typ)
    return lw.emit(arith.SelectOp(inside, value, zero))


def _dynamic_slice(lw: FunctionLowering, op: array.DynamicSliceOp, idx: Index) -> SSAValue:
    shape = shape_of(op.input)
    source = tuple(
        a + lw.dynamic_start(s, n, k) for a, s, n, k in zip(idx, op.starts, shape, op.size_list, strict=True)
    )
    return lw.element(op.input, source)


def _threefry(lw: FunctionLowering, op: array.Threefry2x32Op, idx: Index) -> SSAValue:
    """Threefry-2x32-20 of one element in i32 arithmetic (adds wrap as
    uint32's; rotations are a left shift plus a logical right shift)."""
    typ = element_type_of(op.result)
    k0, k1, x0, x1 = (lw.element(v, idx) for v in (op.k0, op.k1, op.x0, op.x1))

    def add(a: SSAValue, b: SSAValue) -> SSAValue:
        return lw.emit(arith.AddiOp(a, b))

    ks = (k0, k1, lw.emit(arith.XOrIOp(lw.emit(arith.XOrIOp(k0, k1)), lw.constant(array.THREEFRY_PARITY, typ))))
    y0, y1 = add(x0, ks[0]), add(x1, ks[1])
    for group in range(5):
        for r in array.THREEFRY_ROTATIONS[group % 2]:
            y0 = add(y0, y1)
            # the two halves' bits are disjoint, so + is |; the C's adds are on
            # uint32_t, where gcc sees an unsigned rotate (and vectorizes it)
            rotated = add(
                lw.emit(arith.ShLIOp(y1, lw.constant(r, typ))),
                lw.emit(arith.ShRUIOp(y1, lw.constant(32 - r, typ))),
            )
            y1 = lw.emit(arith.XOrIOp(rotated, y0))
        i = group + 1
        y0 = add(y0, ks[i % 3])
        y1 = add(add(y1, ks[(i + 1) % 3]), lw.constant(i, typ))
    output = op.output.data
    return y0 if output == "x0" else y1 if output == "x1" else lw.emit(arith.XOrIOp(y0, y1))


ELEMENT_RULES: dict[type[Operation], Callable[..., SSAValue]] = {
    **{cls: _unary for cls in array.UNARY_OPS},
    **{cls: _binary for cls in array.BINARY_OPS},
    **{cls: _bitwise for cls in (array.AndOp, array.OrOp, array.XorOp)},
    array.ShiftLeftOp: _shift,
    array.ShiftRightOp: _shift,
    array.InvertOp: _invert,
    array.CompareOp: _compare,
    array.SelectOp: _select,
    array.ConvertOp: _convert,
    array.StopGradientOp: lambda lw, op, idx: lw.element(op.input, idx),
    array.ConstantOp: _splat,
    array.BroadcastOp: _broadcast,
    array.TransposeOp: _transpose,
    array.SliceOp: _slice,
    array.GatherOp: _gather,
    array.DynamicGatherOp: _dynamic_gather,
    array.DynamicSliceOp: _dynamic_slice,
    array.Threefry2x32Op: _threefry,
}
