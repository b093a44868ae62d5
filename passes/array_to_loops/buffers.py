"""Buffer rules of lower-array-to-loops: ops that are not pointwise.

BUFFER_RULES maps each such op to the code that computes its result into a
destination buffer: a matmul becomes one structured `loops.matmul` (which
tile-matmul blocks, and which reads a transposed buffer in place through its
transpose flags), a concatenate copies each input into its region, an
argmax keeps the best value so far in a temporary, and a reduction is
lowered by reduction.py. A reshape needs no rule (it is a
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


def _matmul_operand(lw: FunctionLowering, value: SSAValue) -> tuple[SSAValue, bool]:
    """A buffer for one operand of a `loops.matmul`, and whether it holds the
    operand's transpose (last two dimensions swapped). A transpose of a
    buffer is read in place through that flag; any other remap (broadcast,
    slice, another permutation, a splat) is first copied into a temporary."""
    rank = len(shape_of(value))
    perm = list(range(rank))  # dimension d of `value` is dimension perm[d] of `source`
    source = value
    while source not in lw.buffers and isinstance(source.owner, array.TransposeOp):
        perm = [source.owner.perm[d] for d in perm]
        source = source.owner.input
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
    lw.insert(loops.MatmulOp(lhs, rhs, dest, transpose_a, transpose_b, epilogue=epilogue))


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
    array.ArgMaxOp: _argmax,
}
