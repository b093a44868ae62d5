"""Derivative rules of `array.while`: `MULTI_JVP_RULES`, `MULTI_VJP_RULES`
(the interfaces of scan_rules.py).

Expects: called by the sweeps of transform.py on a while copied into the
derivative function, with at least one non-zero tangent or active operand.

Guarantees: the JVP is one new while carrying the tangents beside the
primal values, with the same condition (on the primal carries) and
max_steps. The VJP needs max_steps = N (else the pass fails at the loop,
saying so): a forward while that also counts its steps n and stores each
step's input carries at slot i of a tape of static capacity N (carried,
updated in place), then a while over k = n-1, ..., 0 that reads step k's
carries from the tape, recomputes that step and runs its reverse sweep.
Both emit only ops that have rules themselves (so derivatives of any order
work; the reverse while gets max_steps N too). Checkpoint modes every=K,
binomial(snapshots=S) and recompute keep snapshots instead of the whole
tape (budget= fails at the loop). The condition's inputs get no
derivative. Why and how: docs/differentiation.md, docs/checkpointing.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import IntegerType, StringAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array
from gradc.dialects.autodiff import CHECKPOINT_ATTR
from gradc.dialects.autodiff.checkpointing import Checkpoint
from gradc.passes.autodiff.emitter import Emitter, Value, element_of, is_differentiable, shape_of
from gradc.passes.autodiff.scan_rules import DEFAULT_CHECKPOINT, _carried_tangents

COUNT_TYPE = array.tensor_of([], IntegerType(64))
"""The step counter of a taped while: a 0-d i64."""


def _clone_into(block: Block, ops: Sequence[Operation] | Block, mapping: dict[SSAValue, SSAValue]) -> None:
    for o in ops.ops if isinstance(ops, Block) else ops:
        block.add_op(o.clone(value_mapper=mapping))


def _cond_region(op: array.WhileOp, types: Sequence, carries: Sequence[int], invariants: Sequence[int]) -> Region:
    """op's condition over a block of arguments `types`, whose positions
    `carries` and `invariants` hold op's carries and invariants."""
    block = Block(arg_types=types)
    old_carries, old_invariants = op.cond_args()
    mapping = dict(zip(old_carries, [block.args[k] for k in carries], strict=True))
    mapping.update(zip(old_invariants, [block.args[k] for k in invariants], strict=True))
    _clone_into(block, op.cond_block, mapping)
    return Region(block)


def _new_while(e: Emitter, op: array.WhileOp, initials, invariants, cond: Region, body: Block, bound) -> array.WhileOp:
    new = array.WhileOp(initials, invariants, cond, Region(body), bound)
    new.location = e.location
    Rewriter.insert_op(new, e.point)
    return new


# --------------------------------------------------------------------------
# Forward mode: the tangents become extra carries
# --------------------------------------------------------------------------


def _while_jvp(e: Emitter, op: array.WhileOp, *tangents: Value) -> tuple[list[SSAValue], list[Value]]:
    """Tangents become extra carries and invariants of one new while whose
    body is the JVP of the old one and whose condition is the old one's on
    the primal carries. Returns (its values of op's results, their tangents)."""
    from gradc.passes.autodiff.transform import jvp_block

    c = len(op.initials)
    active = _carried_tangents(op, tangents)
    dinit = [e.materialize(t, v) for t, v, on in zip(tangents[:c], op.initials, active) if on]
    dinv = [(k, t) for k, t in enumerate(tangents[c:]) if t is not None]
    _, carries, _, invariants = op.body_args()
    groups = [list(carries), [a for a, on in zip(carries, active) if on], list(invariants), [invariants[k] for k, _ in dinv]]
    types = [a.type for group in groups for a in group]
    block = Block(arg_types=types)
    new_args = iter(block.args)
    new_groups = [[next(new_args) for _ in group] for group in groups]
    mapping = dict(zip(groups[0], new_groups[0])) | dict(zip(groups[2], new_groups[2]))
    tangent: dict[SSAValue, Value] = {}
    for k in (1, 3):
        tangent.update((mapping[old], new) for old, new in zip(groups[k], new_groups[k]))
    values, dvalues, inner = jvp_block(op.block, block, mapping, tangent)
    d_carries = [inner.materialize(t, v) for t, v, on in zip(dvalues, values, active) if on]
    Rewriter.insert_op(array.YieldOp([*values, *d_carries]), inner.point)
    n_carries = c + len(dinit)
    cond = _cond_region(op, types, range(c), range(n_carries, n_carries + len(invariants)))
    new = _new_while(e, op, [*op.initials, *dinit], [*op.invariants, *(t for _, t in dinv)], cond, block, op.bound)
    if CHECKPOINT_ATTR in op.attributes:
        new.attributes[CHECKPOINT_ATTR] = op.attributes[CHECKPOINT_ATTR]
    finals = iter(new.finals[c:])
    return list(new.finals[:c]), [next(finals) if on else None for on in active]


MULTI_JVP_RULES: dict[type, Callable[..., tuple[list[SSAValue], list[Value]]]] = {
    array.WhileOp: _while_jvp,
}


# --------------------------------------------------------------------------
# Reverse mode: a forward while taping its carries (every step, or every
# K-th as snapshots), then a while over the steps (or segments) backwards
# --------------------------------------------------------------------------


@dataclass
class _WhileTranspose:
    """What the forward part of a while's VJP leaves for its reverse part."""

    op: array.WhileOp
    carried: list[bool]
    """Carries that can have a cotangent."""
    active_invariants: list[int]
    """Invariants whose cotangents the reverse while sums."""
    count: SSAValue
    """The number of steps the forward while ran."""
    tapes: list[SSAValue]
    """Per carry: its value at the start of each step (with every=K, of
    every K-th step), by step."""
    every: int
    """1: the tapes hold every step; K > 1: every K-th (snapshots)."""
    untaped: bool = False
    """Reverse each segment without a tape: every step recomputed from the
    segment's snapshot (binomial, recompute)."""


def _fail(op: Operation, message: str) -> None:
    error = PassFailedException(message)
    error.op = op  # for gradc.pipeline.compile_for_user's location
    op.emit_error(message, error)


def _index(e: Emitter, value: int) -> SSAValue:
    return e.constant(np.asarray(value, np.int64))


def _mode(op: array.WhileOp) -> tuple[int, bool]:
    """(K, whether segments are reversed without a tape) for the loop's
    checkpoint mode, else the request's: none -> (1, False), every=K ->
    (K, False), binomial(snapshots=S) -> (ceil(N/S), True), recompute ->
    (N, True). budget= on the loop fails the pass at it; as a request's
    mode it leaves the loop on the whole tape."""
    attr = op.attributes.get(CHECKPOINT_ATTR)
    spec = attr.data if isinstance(attr, StringAttr) else DEFAULT_CHECKPOINT.get()
    if spec is None:
        return 1, False
    mode = Checkpoint.parse(spec)
    bound = max(op.bound or 1, 1)
    if mode.kind == "every":
        return min(mode.value, bound), False
    if mode.kind == "binomial":
        return -(-bound // mode.value), True
    if mode.kind == "recompute":
        return bound, True
    if mode.kind == "budget" and isinstance(attr, StringAttr):
        _fail(op, f"while_loop: checkpoint={attr.data!r} is not supported for while_loop yet; use "
                  "checkpoint='every=K' or 'binomial(snapshots=S)', or keep every state (checkpoint=None)")
    return 1, False


def _state_slot(e: Emitter, tape: SSAValue, slot: SSAValue, like: SSAValue) -> SSAValue:
    """Row `slot` of `tape`, shaped as `like`."""
    shape = shape_of(like)
    return e.reshape(e.dynamic_slice(tape, [slot, *[_index(e, 0)] * len(shape)], [1, *shape]), shape)


def _taped_while(
    e: Emitter, op: array.WhileOp, initials: Sequence[SSAValue], invariants: Sequence[SSAValue],
    capacity: int, every: int = 1, limit: SSAValue | None = None, limit_bound: int | None = None,
) -> tuple[list[SSAValue], SSAValue, list[SSAValue]]:
    """A while running op's body from `initials` (op's invariants being
    `invariants`) that counts its steps j and stores the carries at the
    start of step j into slot j // every of tapes of `capacity` (when every
    divides j). It runs while op's condition holds (max_steps op's), or,
    with `limit` (a 0-d i64), for `limit` steps (max_steps `limit_bound`,
    default capacity).
    Returns (final carries, the count, the tapes)."""
    c = len(op.initials)
    _, carries, _, old_invariants = op.body_args()
    tape_types = [array.tensor_of([capacity, *shape_of(v)], element_of(v)) for v in op.initials]
    extra = [limit] if limit is not None else []
    types = [*(a.type for a in carries), COUNT_TYPE, *tape_types, *(a.type for a in old_invariants), *(v.type for v in extra)]
    block = Block(arg_types=types)
    args = block.args
    count, tapes = args[c], args[c + 1 : 2 * c + 1]
    mapping = dict(zip(carries, args[:c])) | dict(zip(old_invariants, args[2 * c + 1 :]))
    _clone_into(block, [o for o in op.block.ops if o is not op.block.last_op], mapping)
    inner = Emitter(InsertPoint.at_end(block), e.location)
    zero = _index(inner, 0)
    if every == 1:
        slot = count
    else:
        k = _index(inner, every)
        slot = inner.emit(array.DivOp(count, k))
        due = inner.emit(array.CompareOp("eq", inner.emit(array.FmodOp(count, k)), zero))
    new_tapes = []
    for carry, tape in zip(args[:c], tapes):
        shape = shape_of(carry)
        row = inner.reshape(carry, [1, *shape])
        starts = [slot, *[zero] * len(shape)]
        if every != 1:  # keep the slot's snapshot unless this step starts a segment
            kept = inner.dynamic_slice(tape, starts, [1, *shape])
            row = inner.emit(array.SelectOp(inner.emit(array.BroadcastOp(due, [], [1, *shape])), row, kept))
        new_tapes.append(inner.dynamic_update_slice(tape, row, starts))
    next_count = inner.add(count, _index(inner, 1))
    new_carries = [mapping.get(v, v) for v in op.yielded()[0]]
    block.add_op(array.YieldOp([*new_carries, next_count, *new_tapes]))
    if limit is None:
        cond = _cond_region(op, types, range(c), range(2 * c + 1, len(types)))
        bound = op.bound
    else:
        cond_block = Block(arg_types=types)
        ce = Emitter(InsertPoint.at_end(cond_block), e.location)
        cond_block.add_op(array.ConditionOp(ce.emit(array.CompareOp("lt", cond_block.args[c], cond_block.args[-1]))))
        cond, bound = Region(cond_block), capacity if limit_bound is None else limit_bound
    start = [*initials, _index(e, 0), *(e.full(t, 0.0) for t in tape_types)]
    fwd = _new_while(e, op, start, [*invariants, *extra], cond, block, bound)
    return list(fwd.finals[:c]), fwd.finals[c], list(fwd.finals[c + 1 :])


def _while_vjp_forward(
    e: Emitter, op: array.WhileOp, active: list[bool]
) -> tuple[list[SSAValue], list[bool], _WhileTranspose]:
    """The forward while: op's, also counting its steps n and taping the
    carries at the start of each step (with every=K, of every K-th: ceil(N/K)
    snapshots)."""
    bound = op.bound
    if bound is None:
        _fail(op, (
            "while_loop: reverse-mode differentiation (grad, vjp, jacrev, hessian) of a while_loop "
            "needs a bound on its trip count: pass max_steps=N (a Python int at least the number of "
            "iterations the loop runs; the tape holds N states); forward mode (jvp, jacfwd) needs none"
        ))
    every, untaped = _mode(op)
    c = len(op.initials)
    carried = _carried_tangents(op, [True if on else None for on in active])
    capacity = max(-(-bound // every), 1)
    finals, count, tapes = _taped_while(e, op, op.initials, op.invariants, capacity, every)
    acc = [k for k, (v, on) in enumerate(zip(op.invariants, active[c:])) if on and is_differentiable(v)]
    return finals, list(carried), _WhileTranspose(op, carried, acc, count, tapes, every, untaped)


def _reverse_steps(
    e: Emitter, t: _WhileTranspose, last: SSAValue, tapes: Sequence[SSAValue], invariants: Sequence[SSAValue],
    cts: Sequence[SSAValue], accs: Sequence[SSAValue], bound: int | None,
) -> tuple[list[SSAValue], list[SSAValue]]:
    """A while over k = last, ..., 0: reads the carries of step k from slot
    k of `tapes`, recomputes the step (op's invariants being `invariants`)
    and runs its reverse sweep, carrying the carries' cotangents `cts` and
    the invariants' sums `accs`. Returns their final values."""
    from gradc.passes.autodiff.transform import vjp_block

    op = t.op
    _, carries, _, old_invariants = op.body_args()
    ct_index = [k for k, on in enumerate(t.carried) if on]
    initials = [last, *cts, *accs]
    types = [v.type for v in (*initials, *tapes, *invariants)]
    block = Block(arg_types=types)
    args = block.args
    k_arg = args[0]
    ct_args = args[1 : 1 + len(cts)]
    acc_args = args[1 + len(cts) : len(initials)]
    tape_args = args[len(initials) : len(initials) + len(tapes)]
    inv_args = args[len(initials) + len(tapes) :]
    inner = Emitter(InsertPoint.at_end(block), e.location)
    states = [_state_slot(inner, tape, k_arg, v) for tape, v in zip(tape_args, op.initials)]
    mapping = dict(zip(carries, states)) | dict(zip(old_invariants, inv_args))
    live = {states[k] for k in ct_index} | {inv_args[k] for k in t.active_invariants}
    live = {v for v in live if is_differentiable(v)}
    given: list[Value] = [None] * len(op.initials)
    for k, a in zip(ct_index, ct_args):
        given[k] = a
    _, _, adjoint, _ = vjp_block(op.block, block, mapping, live, given)
    inner = Emitter(InsertPoint.at_end(block), e.location)
    new_cts = [inner.materialize(adjoint.get(states[k]), states[k]) for k in ct_index]
    new_accs = [inner.add(a, adjoint.get(inv_args[k])) for a, k in zip(acc_args, t.active_invariants)]
    block.add_op(array.YieldOp([inner.sub(k_arg, _index(inner, 1)), *new_cts, *new_accs]))
    rev = _new_while(e, op, initials, [*tapes, *invariants], _down_to_zero(e, types), block, bound)
    return list(rev.finals[1 : 1 + len(cts)]), list(rev.finals[1 + len(cts) :])


def _down_to_zero(e: Emitter, types: Sequence) -> Region:
    """The condition `k >= 0` on a while's first carry k."""
    block = Block(arg_types=types)
    ce = Emitter(InsertPoint.at_end(block), e.location)
    block.add_op(array.ConditionOp(ce.emit(array.CompareOp("ge", block.args[0], _index(ce, 0)))))
    return Region(block)


def _while_vjp_reverse(e: Emitter, t: _WhileTranspose, gs: Sequence[Value]) -> list[Value]:
    """The reverse sweep: with the whole tape, one while over the steps
    backwards; with every=K, a while over the segments backwards, each
    restoring its snapshot, recomputing its (at most K) steps into a tape
    of K and running them backwards. Returns the cotangents of op's
    operands (none for the condition's own reads)."""
    op, c = t.op, len(t.op.initials)
    ct_index = [k for k, on in enumerate(t.carried) if on]
    cts = [e.materialize(gs[k], op.finals[k]) for k in ct_index]
    accs = [e.zeros_like(op.invariants[k]) for k in t.active_invariants]
    last = e.sub(t.count, _index(e, 1))
    if t.every == 1 and not t.untaped:
        cts, accs = _reverse_steps(e, t, last, t.tapes, op.invariants, cts, accs, op.bound)
    else:
        cts, accs = _reverse_segments(e, t, last, cts, accs)
    result: list[Value] = [None] * len(op.operands)
    for k, v in zip(ct_index, cts):
        result[k] = v
    for k, v in zip(t.active_invariants, accs):
        result[c + k] = v
    return result


def _reverse_segments(
    e: Emitter, t: _WhileTranspose, last: SSAValue, cts: Sequence[SSAValue], accs: Sequence[SSAValue]
) -> tuple[list[SSAValue], list[SSAValue]]:
    """every=K: a while over segments s = (n-1) // K, ..., 0 carrying (s,
    cotangents, sums); segment s restores snapshot s, reruns its
    min(K, n - sK) steps taping every one (`_taped_while` with a limit) and
    reverses them (`_reverse_steps`)."""
    op, every = t.op, t.every
    k_const = _index(e, every)
    first = e.emit(array.DivOp(e.emit(array.MaxOp(last, _index(e, 0))), k_const))
    # n = 0: no segment to run (first would be 0, but s must start at -1).
    first = e.emit(array.SelectOp(e.emit(array.CompareOp("ge", last, _index(e, 0))), first, _index(e, -1)))
    initials = [first, *cts, *accs]
    invariants = [*t.tapes, *op.invariants, t.count]
    types = [v.type for v in (*initials, *invariants)]
    block = Block(arg_types=types)
    args = block.args
    s_arg = args[0]
    ct_args = list(args[1 : 1 + len(cts)])
    acc_args = list(args[1 + len(cts) : len(initials)])
    snap_args = args[len(initials) : len(initials) + len(t.tapes)]
    inv_args = list(args[len(initials) + len(t.tapes) : -1])
    n_arg = args[-1]
    inner = Emitter(InsertPoint.at_end(block), e.location)
    start = inner.emit(array.MulOp(s_arg, _index(inner, every)))
    length = inner.emit(array.MinOp(inner.sub(n_arg, start), _index(inner, every)))
    states = [_state_slot(inner, snap, s_arg, v) for snap, v in zip(snap_args, op.initials)]
    if t.untaped:
        new_cts, new_accs = _reverse_recomputing(inner, t, states, inv_args, length, ct_args, acc_args)
    else:
        _, _, tapes = _taped_while(inner, op, states, inv_args, every, 1, length)
        new_cts, new_accs = _reverse_steps(
            inner, t, inner.sub(length, _index(inner, 1)), tapes, inv_args, ct_args, acc_args, every
        )
    block.add_op(array.YieldOp([inner.sub(s_arg, _index(inner, 1)), *new_cts, *new_accs]))
    segments = max(-(-(op.bound or 1) // every), 1)
    outer = _new_while(e, op, initials, invariants, _down_to_zero(e, types), block, segments)
    return list(outer.finals[1 : 1 + len(cts)]), list(outer.finals[1 + len(cts) :])


def _reverse_recomputing(
    e: Emitter, t: _WhileTranspose, states: Sequence[SSAValue], invariants: Sequence[SSAValue], length: SSAValue,
    cts: Sequence[SSAValue], accs: Sequence[SSAValue],
) -> tuple[list[SSAValue], list[SSAValue]]:
    """The steps j = length-1, ..., 0 of a segment starting at `states`,
    each recomputed from them (a while advancing j steps) and reversed as a
    one-step `_reverse_steps`: one working state, no tape."""
    op, every = t.op, t.every
    initials = [e.sub(length, _index(e, 1)), *cts, *accs]
    outer = [*states, *invariants]
    types = [v.type for v in (*initials, *outer)]
    block = Block(arg_types=types)
    args = block.args
    j_arg = args[0]
    ct_args = list(args[1 : 1 + len(cts)])
    acc_args = list(args[1 + len(cts) : len(initials)])
    start = list(args[len(initials) : len(initials) + len(states)])
    inv_args = list(args[len(initials) + len(states) :])
    inner = Emitter(InsertPoint.at_end(block), e.location)
    state, _, _ = _taped_while(inner, op, start, inv_args, 1, every, j_arg, every)
    tapes = [inner.reshape(v, [1, *shape_of(v)]) for v in state]
    new_cts, new_accs = _reverse_steps(inner, t, _index(inner, 0), tapes, inv_args, ct_args, acc_args, 1)
    block.add_op(array.YieldOp([inner.sub(j_arg, _index(inner, 1)), *new_cts, *new_accs]))
    loop = _new_while(e, op, initials, outer, _down_to_zero(e, types), block, every)
    return list(loop.finals[1 : 1 + len(cts)]), list(loop.finals[1 + len(cts) :])


MULTI_VJP_RULES: dict[type, tuple[Callable[..., tuple[list[SSAValue], list[bool], object]], Callable[..., list[Value]]]] = {
    array.WhileOp: (_while_vjp_forward, _while_vjp_reverse),
}

__all__ = ["MULTI_JVP_RULES", "MULTI_VJP_RULES"]
