"""The fusion plan of lower-array-to-loops: which values get a buffer.

plan_buffers picks the values of a block that are materialized; every other
value is computed inline, in its consumer's loop nest, by its element rule.
plan_epilogues and plan_reductions fuse across buffers: a matmul with the
elementwise chain after it (its epilogue), a reduction with the producer of
its input. Each plan reads the block only; nothing is rewritten here.

Guarantees: fused code computes each element as the unfused code would, in
the same order (a fused sum still adds in row-major order per output
element). The rules and why: docs/lowering.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects import func
from xdsl.ir import Block, Operation, SSAValue

from gradc.dialects import array
from gradc.passes.array_to_loops.elementwise import element_type_of, is_pointwise, shape_of


# ---------------------------------------------------------------------------
# Which values get a buffer
# ---------------------------------------------------------------------------

REMAP_OPS = (array.BroadcastOp, array.TransposeOp, array.SliceOp, array.GatherOp)
INLINE_CONSUMERS = (*array.REDUCE_OPS, array.ConcatenateOp)
MAX_INLINE_DEPTH = 64
"""Longer inline chains are cut by a buffer: this bounds the recursion of the
element rules and the size of one loop body."""


def users_of(value: SSAValue) -> list[Operation]:
    """Distinct array-level users (not the return), in use-list order."""
    users: list[Operation] = []
    for use in value.uses:
        if not isinstance(use.operation, func.ReturnOp | array.YieldOp | array.ConditionOp) and use.operation not in users:
            users.append(use.operation)
    return users


def _use_count(value: SSAValue) -> int:
    """Uses that would each recompute an inline value: one per pointwise user
    (it evaluates all its operands at the same indices, memoized), one per
    operand slot of other users (a concatenate copies each input separately)."""
    return sum(
        1 if is_pointwise(user) else sum(o is value for o in user.operands)
        for user in users_of(value)
    )


def _repeats(op: array.GatherOp) -> bool:
    """Whether the gather reads some element of its input more than once
    (an inline input would be computed that many times, a remapped one
    read with strides: either gets a buffer)."""
    return prod(op.batch_shape) > prod(shape_of(op.input)[a] for a in op.axis_list)


def _scattered_into_constant(user: Operation, value: SSAValue) -> bool:
    """Whether `value` is only the updates of a scatter into a constant:
    the scatter can compute it inline, element by element, as nothing it
    reads can share the scatter's output buffer."""
    return (
        isinstance(user, array.ScatterOp) and user.updates is value and user.input is not value
        and user.indices is not value and isinstance(user.input.owner, array.ConstantOp)
    )


def _expands(op: array.BroadcastOp) -> bool:
    return prod(shape_of(op.result)) > prod(shape_of(op.input))


def plan_buffers(block: Block, results: Sequence[SSAValue]) -> set[SSAValue]:
    """The values of `block` that are materialized into buffers."""
    buffered: set[SSAValue] = set(block.args)

    def is_free(op: Operation) -> bool:
        if isinstance(op, array.ConstantOp):
            return True
        if not isinstance(op, REMAP_OPS):
            return False
        source = op.input
        return source in buffered or (
            isinstance(source.owner, Operation) and is_pointwise(source.owner)
            and is_free(source.owner)
        )

    def needs_buffer(value: SSAValue, op: Operation) -> bool:
        users = users_of(value)
        if not is_pointwise(op) or value in results:
            return True
        if any(isinstance(u, array.ReshapeOp) for u in users):
            return True
        if any(isinstance(u, array.GatherOp) and _repeats(u) for u in users) and not isinstance(op, array.ConstantOp):
            return True  # computed (or read through a remap) once, then gathered contiguously
        if is_free(op) or not users:
            return False
        if any(isinstance(use.operation, array.YieldOp) for use in value.uses):
            return True  # a scan's per-step output that is also used: compute it once
        if _use_count(value) > 1:
            return True
        (user,) = users
        if isinstance(user, INLINE_CONSUMERS) or _scattered_into_constant(user, value):
            return False
        if not is_pointwise(user):
            return True
        return isinstance(user, array.BroadcastOp) and _expands(user)

    depth: dict[SSAValue, int] = {}  # length of the inline chain ending here
    for op in block.ops:
        for value in op.results:
            d = 1 + max((depth.get(o, 0) for o in op.operands), default=0)
            if needs_buffer(value, op) or d > MAX_INLINE_DEPTH:
                buffered.add(value)
                d = 0
            depth[value] = d
    return buffered


# ---------------------------------------------------------------------------
# Fusion across buffers: matmul epilogues, reductions with their producers
# ---------------------------------------------------------------------------

SAME_INDEX_OPS = (array.UnaryOp, array.BinaryOp, array.CompareOp, array.SelectOp, array.ConvertOp)
"""Pointwise ops that read every operand at their own element's indices."""


def _leaves(value: SSAValue, buffered: set[SSAValue]) -> tuple[set[SSAValue], set[SSAValue]]:
    """Buffers read by the inline computation of `value`: (those read only
    along same-index ops, i.e. at the element's own indices; the others)."""
    if value in buffered:
        return {value}, set()
    op = value.owner
    same: set[SSAValue] = set()
    other: set[SSAValue] = set()
    for operand in op.operands if isinstance(op, Operation) else ():
        s, o = _leaves(operand, buffered)
        if isinstance(op, SAME_INDEX_OPS):
            same |= s
            other |= o
        else:
            other |= s | o
    return same - other, other


def plan_epilogues(block: Block, buffered: set[SSAValue]) -> dict[SSAValue, SSAValue]:
    """Matmul results computed by their consumer's loop nest as the matmul's
    epilogue: consumer buffer -> matmul result. A product fuses when it is
    not a function result (it would then have to be stored as is) and its
    only user starts an inline chain of same-index ops, each the only user
    of the last, that ends in a buffered value of the same shape and element
    type. The product is then computed where that value is, so everything
    else the chain reads is ready."""
    epilogues: dict[SSAValue, SSAValue] = {}
    results = set(block.last_op.operands) if block.last_op is not None else set()
    for op in block.ops:
        if not isinstance(op, array.MatmulOp) or op.result in results:
            continue
        value = op.result
        while True:
            users = users_of(value)
            if len(users) != 1 or not isinstance(users[0], SAME_INDEX_OPS):
                break
            value = users[0].results[0]
            if value in results and value not in buffered:
                break  # a scan's per-step output, read again when it is stored
            if value in buffered:
                if shape_of(value) == shape_of(op.result) and element_type_of(value) == element_type_of(op.result):
                    epilogues[value] = op.result
                break
    return epilogues


def plan_reductions(
    block: Block, buffered: set[SSAValue], epilogues: dict[SSAValue, SSAValue]
) -> dict[SSAValue, array.ReduceOp]:
    """Reductions computed in the loop nest of a buffered pointwise value
    they read at their input's indices: producer -> reduction. The nest then
    stores each element and accumulates it, and the reduction moves up to
    the producer, so everything else it reads must be ready there (defined
    before the producer). The order of the sum does not change."""
    position = {value: n for n, op in enumerate(block.ops) for value in op.results}
    fused: dict[SSAValue, array.ReduceOp] = {}
    for op in block.ops:
        if not isinstance(op, array.REDUCE_OPS):
            continue
        order = memory_order(op.input, buffered)
        if order != tuple(sorted(order)):
            continue
        same, other = _leaves(op.input, buffered)
        candidates = [
            v for v in same
            if v in position and is_pointwise(v.owner) and v not in epilogues and v not in fused
            and shape_of(v) == shape_of(op.input)
        ]
        if not candidates:
            continue
        producer = max(candidates, key=position.__getitem__)
        if all(position.get(v, -1) <= position[producer] for v in same | other):
            fused[producer] = op
    return fused


def memory_order(value: SSAValue, buffered: set[SSAValue]) -> tuple[int, ...]:
    """Dimensions of `value`, outermost first, in the order of the memory an
    inline read of it walks (a transpose permutes it)."""
    op = value.owner
    if value not in buffered and isinstance(op, array.TransposeOp):
        perm = op.perm
        return tuple(perm.index(d) for d in memory_order(op.input, buffered))
    if value not in buffered and isinstance(op, array.UnaryOp | array.ConvertOp):
        return memory_order(op.input, buffered)
    return tuple(range(len(shape_of(value))))


@dataclass
class Fusion:
    """What is computed together across buffers (plan_epilogues,
    plan_reductions)."""

    epilogues: dict[SSAValue, SSAValue]
    reductions: dict[SSAValue, array.ReduceOp]

    def done_elsewhere(self, value: SSAValue) -> bool:
        """Whether `value` is computed in another value's nest."""
        return value in self.epilogues.values() or any(
            r.result is value for r in self.reductions.values()
        )
