"""Buffer rules of lower-array-to-loops: ops that are not pointwise.

BUFFER_RULES maps each such op to the code that computes its result into a
destination buffer: a matmul becomes one structured `loops.matmul` (which
tile-matmul blocks, and which reads a transposed buffer in place through its
transpose flags, and computes only one triangle when a mirror follows), a
mirror copies the upper triangle of its input across, a concatenate copies each input into its region, an
argmax keeps the best value so far in a temporary, a reduction is
lowered by reduction.py, and each linear-algebra op becomes one
`loops.linalg` over row-major copies of its operands. A reshape needs no rule (it is a
`loops.reshape` view) and neither does a non-splat constant (a
`loops.constant`).

Guarantees: a matmul's operands are buffers in row-major order, or their
transposes; any other remap of an operand is first copied into a temporary.
docs/lowering.md says when a matmul takes an epilogue or accumulates.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, MemRefType, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from gradc.dialects import array, loops
from gradc.passes.array_to_loops.affine import ZERO, Affine, Index
from gradc.passes.array_to_loops.elementwise import (
    ELEMENT_RULES,
    FunctionLowering,
    element_type_of,
    memref_of,
    shape_of,
)
from gradc.passes.array_to_loops.reduction import lower_reduction


def _through_transposes(lw: FunctionLowering, value: SSAValue) -> tuple[SSAValue, list[int]]:
    """(source, perm): `value` is `source` (a buffered value if the chain of
    transposes reaches one) with dimension d being dimension perm[d] of it."""
    perm = list(range(len(shape_of(value))))
    source = value
    while source not in lw.buffers and isinstance(source.owner, array.TransposeOp):
        perm = [source.owner.perm[d] for d in perm]
        source = source.owner.input
    return source, perm


def _matmul_operand(lw: FunctionLowering, value: SSAValue) -> tuple[SSAValue, bool]:
    """A buffer for one operand of a `loops.matmul`, and whether it holds the
    operand's transpose (last two dimensions swapped). A transpose of a
    buffer is read in place through that flag; any other remap (broadcast,
    slice, another permutation, a splat) is first copied into a temporary."""
    source, perm = _through_transposes(lw, value)
    rank = len(perm)
    if source in lw.buffers:
        if perm == list(range(rank)):
            return lw.buffers[source], False
        if perm == [*range(rank - 2), rank - 1, rank - 2]:
            return lw.buffers[source], True
    temporary = lw.alloc(memref_of(value.type))
    lw.copy(value, temporary)
    return temporary, False


def lower_matmul(
    lw: FunctionLowering, op: array.MatmulOp, dest: SSAValue, buffered: set[SSAValue],
    consumer: Operation | None = None,
) -> None:
    """One structured `loops.matmul` (tile-matmul blocks it; lower-loops-to-c
    has a plain loop nest for it when it is not tiled). With a `consumer`
    (see plan_epilogues), `dest` is the consumer's buffer, and the consumer's
    element rule, with the product's element as a block argument, becomes
    the matmul's epilogue."""
    lhs, transpose_a = _matmul_operand(lw, op.lhs)
    rhs, transpose_b = _matmul_operand(lw, op.rhs)
    triangle = mirrored_triangle(op)
    if _accumulates_into(lw, op, dest, consumer):
        # dest already holds the other addend (a scan's carry updated in
        # place, see lower_scan): C += A B, no epilogue, no temporary.
        lw.insert(loops.MatmulOp(lhs, rhs, dest, transpose_a, transpose_b, accumulate=True))
        return
    epilogue = None
    if consumer is not None:
        shape = shape_of(op.result)
        block = Block(arg_types=[element_type_of(op.result), *[IndexType()] * len(shape)])
        block.args[0].name_hint = "product"
        for arg in block.args[1:]:
            arg.name_hint = "i"
        saved, lw.insertion_point = lw.insertion_point, InsertPoint.at_end(block)
        first = len(lw.ivs)
        lw.ivs.extend(block.args[1:])
        idx = tuple(Affine(0, ((first + d, 1),)) for d in range(len(shape)))
        lw._elements[(block, op.result, idx)] = block.args[0]
        lw.insert(loops.YieldOp(ELEMENT_RULES[type(consumer)](lw, consumer, idx)))
        lw.insertion_point = saved
        epilogue = Region(block)
    lw.insert(loops.MatmulOp(lhs, rhs, dest, transpose_a, transpose_b, epilogue=epilogue, triangle=triangle))


def mirrored_triangle(op: array.MatmulOp) -> str | None:
    """The triangle of the product that is ever read, when its one use is an
    `array.mirror` ("upper"), or a transpose of the last two dimensions
    whose one use is ("lower"); else None (all of it is)."""
    def only_user(value: SSAValue) -> Operation | None:
        return next(iter(value.uses)).operation if value.has_one_use() else None

    user = only_user(op.result)
    if isinstance(user, array.MirrorOp):
        return "upper"
    rank = len(shape_of(op.result))
    if isinstance(user, array.TransposeOp) and list(user.perm) == [*range(rank - 2), rank - 1, rank - 2]:
        return "lower" if isinstance(only_user(user.result), array.MirrorOp) else None
    return None


def _mirror(lw: FunctionLowering, op: array.MirrorOp, dest: SSAValue, buffered: set[SSAValue]) -> None:
    """dest[..., i, j] = input[..., min(i, j), max(i, j)]: one pass over
    dest that reads the input's upper triangle only (a product computed
    for this mirror holds nothing else, see mirrored_triangle)."""

    def place(idx: Index) -> None:
        i, j = lw.index(idx[-2]), lw.index(idx[-1])
        keep = lw.emit(arith.CmpiOp(i, j, "sle"))
        first = len(lw.ivs)
        lw.ivs.extend([lw.emit(arith.SelectOp(keep, i, j)), lw.emit(arith.SelectOp(keep, j, i))])
        source = (*idx[:-2], Affine(0, ((first, 1),)), Affine(0, ((first + 1, 1),)))
        lw.store(lw.element(op.input, source), dest, idx)

    lw.for_each(shape_of(op.result), place)


def _accumulates_into(
    lw: FunctionLowering, op: array.MatmulOp, dest: SSAValue, consumer: Operation | None
) -> bool:
    """Whether the product's consumer is `other + product` (either order)
    with `other`'s buffer being `dest` itself."""
    if not isinstance(consumer, array.AddOp) or op.result not in consumer.operands:
        return False
    (other,) = [v for v in consumer.operands if v is not op.result] or [None]
    return other is not None and lw.buffers.get(other) is dest


def _concatenate(
    lw: FunctionLowering, op: array.ConcatenateOp, dest: SSAValue, buffered: set[SSAValue]
) -> None:
    """Copy each input (with its producer inline) into its region of `dest`."""
    axis = op.axis.value.data
    offset = 0
    for value in op.inputs:

        def place(idx: Index, value: SSAValue = value, offset: int = offset) -> None:
            out = tuple(a.shifted(offset) if d == axis else a for d, a in enumerate(idx))
            lw.store(lw.element(value, idx), dest, out)

        lw.for_each(shape_of(value), place)
        offset += shape_of(value)[axis]


def _row_major(lw: FunctionLowering, value: SSAValue) -> SSAValue:
    """A buffer holding `value` in row-major order: its own, or a copy."""
    if value in lw.buffers:
        return lw.buffers[value]
    temporary = lw.alloc(memref_of(value.type))
    lw.copy(value, temporary)
    return temporary


def _linalg(lw: FunctionLowering, op: Operation, dest: SSAValue, buffered: set[SSAValue]) -> None:
    """One `loops.linalg` of the op's kind over row-major operand buffers,
    with a scratch buffer where the kind needs one. A solve's matrix
    that is the transpose of a buffer is read in place: the transpose flag
    flips (and for a triangular solve, the triangle read)."""
    kind = op.name.split(".", 1)[1]
    flags = op.flags() if hasattr(op, "flags") else {}
    matrix = op.operands[0]
    if "transpose_a" in flags and matrix not in lw.buffers:
        source, perm = _through_transposes(lw, matrix)
        rank = len(perm)
        if source in lw.buffers and perm == [*range(rank - 2), rank - 1, rank - 2]:
            matrix = source
            flags["transpose_a"] = not flags["transpose_a"]
            if "lower" in flags:
                flags["lower"] = not flags["lower"]
    buffers = [_row_major(lw, v) for v in (matrix, *op.operands[1:])]
    scratch = []
    if loops.LINALG_KINDS[kind][1]:
        n = shape_of(op.operands[0])[-1]
        scratch.append(lw.alloc(MemRefType(element_type_of(op.operands[0]), loops.scratch_shape(kind, n))))
    lw.insert(loops.LinalgOp(kind, [*buffers, dest, *scratch], **flags))


def _dynamic_update_slice(
    lw: FunctionLowering, op: array.DynamicUpdateSliceOp, dest: SSAValue, buffered: set[SSAValue]
) -> None:
    """Copy the input into `dest` (unless `dest` already holds it: a scan's
    carry updated in place), then the update over its window (the clamped
    starts are computed in the window's loop body)."""
    if lw.buffers.get(op.input) is not dest:
        lw.copy(op.input, dest)
    shape = shape_of(op.input)

    def place(idx: Index) -> None:
        out = tuple(
            a + lw.dynamic_start(s, n, k)
            for a, s, n, k in zip(idx, op.starts, shape, shape_of(op.update), strict=True)
        )
        lw.store(lw.element(op.update, idx), dest, out)

    lw.for_each(shape_of(op.update), place)


def _scatter(lw: FunctionLowering, op: array.ScatterOp, dest: SSAValue, buffered: set[SSAValue]) -> None:
    """Copy the input into `dest` (unless it holds it already), then one
    loop over the updates in row-major order, each combined into its
    (clamped) position; a dropped row stores back the element it found.
    Nothing to scatter into an empty indexed axis."""
    if lw.buffers.get(op.input) is not dest:
        lw.copy(op.input, dest)
    in_shape = shape_of(op.input)
    if any(in_shape[a] == 0 for a in op.axis_list):
        return
    nb = len(op.batch_shape)
    is_int = array.is_int(element_type_of(op.input))

    def place(idx: Index) -> None:
        terms, inside = lw.indexed_position(op, idx[:nb])
        rest = iter(idx[nb:])
        out = tuple(next(rest) if t is None else t for t in terms)
        value = lw.element(op.updates, idx)
        old = lw.load(dest, out) if op.kind.data == "add" or inside is not None else None
        if op.kind.data == "add":
            value = lw.emit((arith.AddiOp if is_int else arith.AddfOp)(old, value))
        if inside is not None:
            value = lw.emit(arith.SelectOp(inside, value, old))
        lw.store(value, dest, out)

    lw.for_each(shape_of(op.updates), place)


def _argmax(lw: FunctionLowering, op: array.ArgMaxOp, dest: SSAValue, buffered: set[SSAValue]) -> None:
    """One pass in row-major order (so each kept position sees its axis in
    increasing order) keeping the best value so far in a temporary: an
    element replaces it if it is greater, or if it is NaN and the best is
    not (so the first NaN wins, as in numpy.argmax); ties keep the first."""
    axis = op.axis_index
    element = element_type_of(op.input)
    best = lw.alloc(MemRefType(element, shape_of(op.result)))

    def kept(idx: Index) -> Index:
        return tuple(a for d, a in enumerate(idx) if d != axis)

    def first(idx: Index) -> None:
        at = tuple(ZERO if d == axis else idx[d - (d > axis)] for d in range(len(idx) + 1))
        lw.store(lw.element(op.input, at), best, idx)
        lw.store(lw.constant(0, i64), dest, idx)

    def step(idx: Index) -> None:
        value, so_far = lw.element(op.input, idx), lw.load(best, kept(idx))
        if array.is_int(element):
            take = lw.emit(arith.CmpiOp(value, so_far, "sgt"))
        else:
            greater = lw.emit(arith.CmpfOp(value, so_far, "ogt"))
            value_nan = lw.emit(arith.CmpfOp(value, value, "uno"))
            best_number = lw.emit(arith.CmpfOp(so_far, so_far, "ord"))
            take = lw.emit(arith.OrIOp(greater, lw.emit(arith.AndIOp(value_nan, best_number))))
        position = lw.emit(arith.IndexCastOp(lw.index(idx[axis]), i64))
        lw.store(lw.emit(arith.SelectOp(take, value, so_far)), best, kept(idx))
        lw.store(lw.emit(arith.SelectOp(take, position, lw.load(dest, kept(idx)))), dest, kept(idx))

    lw.for_each(shape_of(op.result), first)
    lw.for_each(shape_of(op.input), step)


BUFFER_RULES: dict[type[Operation], Callable[..., None]] = {
    array.ReduceSumOp: lower_reduction,
    array.ReduceMaxOp: lower_reduction,
    array.MatmulOp: lower_matmul,
    array.ConcatenateOp: _concatenate,
    array.MirrorOp: _mirror,
    **{cls: _linalg for cls in array.LINALG_OPS},
    array.DynamicUpdateSliceOp: _dynamic_update_slice,
    array.ArgMaxOp: _argmax,
    array.ScatterOp: _scatter,
}
