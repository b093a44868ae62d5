"""Derivative rules of `array.scan`: `MULTI_JVP_RULES`, `MULTI_VJP_RULES`.

    MULTI_JVP_RULES[op_class](e, op, *tangents) -> (primal results, their tangents)
    MULTI_VJP_RULES[op_class] = (forward, reverse):
        forward(e, op, active operands) -> (primal results, which are active, state)
        reverse(e, state, cotangents of the results) -> cotangents of the operands

Expects: called by the sweeps of transform.py on a scan copied into the
derivative function, with at least one non-zero tangent or active operand.

Guarantees: the JVP is one new scan carrying the tangents beside the
primal values; the VJP is a forward scan that also stacks, per step, what
the body's reverse sweep reads (its last ys, marked with TAPE_ATTR and the
request's or the scan's checkpoint mode), then a scan over the steps in
the opposite order running that reverse sweep. Both replace the original
scan and emit only ops that have rules themselves.

How the body's derivative is built and split, and what is stacked:
docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from xdsl.dialects.builtin import IntegerAttr, StringAttr, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.dialects.autodiff import CHECKPOINT_ATTR, TAPE_ATTR
from gradc.passes.autodiff.emitter import Emitter, Value, element_of, is_differentiable, shape_of

DEFAULT_CHECKPOINT: ContextVar[str | None] = ContextVar("default_checkpoint", default=None)
"""The checkpoint mode of the derivative request being expanded: the one a
scan without its own gets (see requests.expand_request)."""


# --------------------------------------------------------------------------
# Forward mode: the tangents become extra carries of one scan
# --------------------------------------------------------------------------


def _carried_tangents(op: array.ScanOp, tangents: Sequence[Value]) -> list[bool]:
    """Which carries get a tangent: those with an initial tangent, then, to
    a fixed point, the float ones whose new value depends on an argument
    that has one (a nested op's results depend on all its operands). A bool
    carry never has one (JAX's float0): what it selects is differentiated,
    not the choice."""
    c = len(op.initials)
    _, carries, slices, invariants = op.body_args()
    has = [t is not None for t in tangents]
    active_carries = has[:c]
    while True:
        active = {a for a, on in zip((*carries, *slices, *invariants), [*active_carries, *has[c:]]) if on}
        for inner in op.block.ops:
            if any(v in active for v in inner.operands):
                active.update(inner.results)
        new_carries, _ = op.yielded()
        updated = [on or (v in active and is_differentiable(v)) for on, v in zip(active_carries, new_carries)]
        if updated == active_carries:
            return active_carries
        active_carries = updated


def _scan_jvp(e: Emitter, op: array.ScanOp, *tangents: Value) -> tuple[list[SSAValue], list[Value]]:
    """Tangents become extra carries (and xs, invariants, per-step outputs)
    of one new scan, whose body is the JVP of the old one (built by the
    same sweep as a function's JVP); it computes the primal results too, so
    it replaces `op`. Returns (its values of op's results, their tangents)."""
    from gradc.passes.autodiff.transform import jvp_block

    c, x = len(op.initials), len(op.xs)
    active = _carried_tangents(op, tangents)
    dinit = [e.materialize(t, v) for t, v, on in zip(tangents[:c], op.initials, active) if on]
    dxs = [(k, t) for k, t in enumerate(tangents[c : c + x]) if t is not None]
    dinv = [(k, t) for k, t in enumerate(tangents[c + x :]) if t is not None]
    index, carries, slices, invariants = op.body_args()
    groups = [
        [index],
        list(carries), [a for a, on in zip(carries, active) if on],
        list(slices), [slices[k] for k, _ in dxs],
        list(invariants), [invariants[k] for k, _ in dinv],
    ]
    block = Block(arg_types=[a.type for group in groups for a in group])
    new_args = iter(block.args)
    new_groups = [[next(new_args) for _ in group] for group in groups]
    mapping: dict[SSAValue, SSAValue] = {}
    for k in (0, 1, 3, 5):  # primal arguments
        mapping.update(zip(groups[k], new_groups[k]))
    tangent: dict[SSAValue, Value] = {}
    for k in (2, 4, 6):  # the tangents of some of them
        tangent.update((mapping[old], new) for old, new in zip(groups[k], new_groups[k]))
    values, dvalues, inner = jvp_block(op.block, block, mapping, tangent)
    new_carries, outs = values[:c], values[c:]
    d_carries = [inner.materialize(t, v) for t, v, on in zip(dvalues[:c], new_carries, active) if on]
    y_active = [t is not None for t in dvalues[c:]]
    d_outs = [t for t in dvalues[c:] if t is not None]
    Rewriter.insert_op(array.YieldOp([*new_carries, *d_carries, *outs, *d_outs]), inner.point)
    ys_types = [y.type for y in op.ys]
    new = array.ScanOp(
        op.trip_count,
        [*op.initials, *dinit],
        [*op.xs, *(t for _, t in dxs)],
        [*op.invariants, *(t for _, t in dinv)],
        [*ys_types, *(t for t, on in zip(ys_types, y_active) if on)],
        Region(block),
        op.is_reverse,
    )
    new.location = e.location
    Rewriter.insert_op(new, e.point)
    finals, ys = iter(new.finals[len(op.initials) :]), iter(new.ys[len(op.ys) :])
    out: list[Value] = [next(finals) if on else None for on in active]
    out += [next(ys) if on else None for on in y_active]
    return [*new.finals[: len(op.initials)], *new.ys[: len(op.ys)]], out


MULTI_JVP_RULES: dict[type, Callable[..., tuple[list[SSAValue], list[Value]]]] = {
    array.ScanOp: _scan_jvp,
}
"""Rules of ops with several results: they emit ops that compute the primal
results too, and return (those values, which replace the op's results; the
tangents of the op's results)."""


# --------------------------------------------------------------------------
# Reverse mode: a forward scan that stacks residuals, then a reverse scan
# over the body's VJP
# --------------------------------------------------------------------------


@dataclass
class _ScanTranspose:
    """What the forward part of a scan's VJP leaves for its reverse part:
    the forward scan, the reverse scan's body, and where each of that
    body's operands comes from."""

    op: array.ScanOp
    forward: array.ScanOp
    body: Block
    carries: list[int]
    """Carries with a cotangent (the reverse scan's first carries)."""
    accumulated: list[int]
    """Invariants whose cotangents the reverse scan sums (its last carries)."""
    residuals: int
    """Leading xs of the reverse scan: the forward scan's last that many ys."""
    slices: list[int]
    """Then the op's xs whose slices the body's VJP reads..."""
    output_cotangents: list[int]
    """...then the cotangents of these per-step outputs."""
    invariants: list[int]
    """The op's invariants the body's VJP reads."""
    xs_cotangents: list[int]
    """The op's xs that get a cotangent (the reverse scan's ys)."""


def _scan_vjp_forward(
    e: Emitter, op: array.ScanOp, active: list[bool]
) -> tuple[list[SSAValue], list[bool], _ScanTranspose]:
    """Build the body's VJP as one block (forward sweep, then reverse sweep,
    taking the cotangents of the new carries and per-step outputs) and split
    it: the forward sweep's values the reverse sweep reads become extra
    per-step outputs (the residuals, stacked: a tape of static size) of a
    forward scan that replaces `op`; the reverse sweep becomes the body of a
    scan over the steps in the opposite order, built by `_scan_vjp_reverse`.
    Block arguments the reverse sweep reads are not stacked when they need
    not be: the index is the reverse scan's own, xs slices are sliced again,
    invariants stay invariants; constants are recomputed."""
    from gradc.passes.autodiff.transform import vjp_block

    c, x = len(op.initials), len(op.xs)
    carried = _carried_tangents(op, [True if on else None for on in active])
    index, carries, slices, invariants = op.body_args()
    new_carries, outs = op.yielded()
    primal_args = [index, *carries, *slices, *invariants]
    ct_types = [v.type for v, on in zip(carries, carried) if on] + [v.type for v in outs]
    whole = Block(arg_types=[*(a.type for a in primal_args), *ct_types])
    args = whole.args[: len(primal_args)]
    index_b, carries_b = args[0], args[1 : 1 + c]
    slices_b, invariants_b = args[1 + c : 1 + c + x], args[1 + c + x :]
    ct_args = iter(whole.args[len(primal_args) :])
    ct_carries = [next(ct_args) if on else None for on in carried]
    ct_outs = list(ct_args)
    live = {*(a for a, on in zip(carries_b, carried) if on)}
    live.update(a for a, on in zip((*slices_b, *invariants_b), active[c:]) if on)
    live = {a for a in live if is_differentiable(a)}
    mapping = dict(zip(primal_args, args))
    values, flags, adjoint, forward = vjp_block(op.block, whole, mapping, live, [*ct_carries, *ct_outs])
    reverse_ops = [o for o in whole.ops if o not in forward]

    # What the reverse sweep reads, and what it yields.
    acc = [k for k, a in enumerate(invariants_b) if adjoint.get(a) is not None]
    xs_ct = [k for k, a in enumerate(slices_b) if adjoint.get(a) is not None]
    yielded = [adjoint.get(a) for a, on in zip(carries_b, carried) if on]
    yielded += [adjoint[invariants_b[k]] for k in acc] + [adjoint[slices_b[k]] for k in xs_ct]
    in_reverse = set(reverse_ops)
    needed = list(dict.fromkeys(
        v for v in [*(u for o in reverse_ops for u in o.operands), *(g for g in yielded if g is not None)]
        if not (isinstance(v.owner, Operation) and v.owner in in_reverse)
    ))
    constants = [v.owner for v in needed if isinstance(v.owner, array.ConstantOp)]
    carries_set, constants_set = set(carries_b), set(constants)
    residuals = [v for v in needed
                 if v in carries_set or (isinstance(v.owner, Operation) and v.owner not in constants_set)]
    needed_set = set(needed)
    used_slices = [k for k, a in enumerate(slices_b) if a in needed_set]
    used_cts = [k for k, a in enumerate(ct_outs) if a in needed_set]
    used_invariants = [k for k, a in enumerate(invariants_b) if a in needed_set]

    # The forward scan: op's body, yielding the residuals too.
    fwd_block = Block(arg_types=[a.type for a in primal_args])
    fmap = dict(zip(args, fwd_block.args))
    for o in whole.ops:
        if o in forward:
            fwd_block.add_op(o.clone(value_mapper=fmap))
    fwd_block.add_op(array.YieldOp([fmap[v] for v in (*values, *residuals)]))
    n = op.trip_count
    stacked = [array.tensor_of([n, *shape_of(v)], element_of(v)) for v in residuals]
    fwd = array.ScanOp(n, op.initials, op.xs, op.invariants, [*(y.type for y in op.ys), *stacked], Region(fwd_block), op.is_reverse)
    fwd.location = e.location
    # Its last len(residuals) per-step outputs are the tape, read only by
    # the reverse scan (as its leading xs): lower-array-to-loops lowers the
    # two together and chooses, by the checkpoint mode, what to keep.
    fwd.attributes[TAPE_ATTR] = IntegerAttr(len(residuals), i64)
    if CHECKPOINT_ATTR in op.attributes:
        fwd.attributes[CHECKPOINT_ATTR] = op.attributes[CHECKPOINT_ATTR]
    elif (mode := DEFAULT_CHECKPOINT.get()) is not None:
        fwd.attributes[CHECKPOINT_ATTR] = StringAttr(mode)
    Rewriter.insert_op(fwd, e.point)

    # The reverse scan's body: (index, carry cotangents..., accumulators...,
    # residuals..., slices..., output cotangents..., invariants...).
    groups = [
        [index_b],
        [a for a, on in zip(carries_b, carried) if on],
        [invariants_b[k] for k in acc],
        residuals,
        [slices_b[k] for k in used_slices],
        [ct_outs[k] for k in used_cts],
        [invariants_b[k] for k in used_invariants],
    ]
    body = Block(arg_types=[v.type for group in groups for v in group])
    it = iter(body.args)
    new_args = [[next(it) for _ in group] for group in groups]
    rmap: dict[SSAValue, SSAValue] = {}
    for k in (0, 3, 4, 5, 6):
        rmap.update(zip(groups[k], new_args[k]))
    rmap.update(zip([v for v, on in zip(ct_carries, carried) if on], new_args[1]))
    for o in constants:
        body.add_op(o.clone(value_mapper=rmap))
    for o in reverse_ops:
        body.add_op(o.clone(value_mapper=rmap))
    inner = Emitter(InsertPoint.at_end(body), e.location)
    out = [inner.materialize(rmap[g] if g is not None else None, a) for g, a in zip(yielded, groups[1])]
    sums = [inner.add(total, rmap[adjoint[invariants_b[k]]]) for total, k in zip(new_args[2], acc)]
    per_step = [rmap[adjoint[slices_b[k]]] for k in xs_ct]
    body.add_op(array.YieldOp([*out, *sums, *per_step]))

    active_results = [*carried, *flags[c:]]
    state = _ScanTranspose(
        op, fwd, body, [k for k, on in enumerate(carried) if on], acc,
        len(residuals), used_slices, used_cts, used_invariants, xs_ct,
    )
    return [*fwd.finals, *fwd.ys[: len(op.ys)]], active_results, state


def _scan_vjp_reverse(e: Emitter, t: _ScanTranspose, gs: Sequence[Value]) -> list[Value]:
    """The reverse scan: the carries' cotangents (then the invariants'
    sums, from zero) are carried from the last step to the first; its
    per-step outputs are the cotangents of the xs slices. Returns the
    cotangents of op's operands."""
    op, c = t.op, len(t.op.initials)
    initials = [e.materialize(gs[k], op.finals[k]) for k in t.carries]
    initials += [e.zeros_like(op.invariants[k]) for k in t.accumulated]
    xs = list(t.forward.ys[len(op.ys) :])
    xs += [op.xs[k] for k in t.slices]
    xs += [e.materialize(gs[c + k], op.ys[k]) for k in t.output_cotangents]
    invariants = [op.invariants[k] for k in t.invariants]
    ys_types = [op.xs[k].type for k in t.xs_cotangents]
    scan = array.ScanOp(op.trip_count, initials, xs, invariants, ys_types, Region(t.body), not op.is_reverse)
    scan.location = e.location
    Rewriter.insert_op(scan, e.point)
    finals = iter(scan.finals)
    result: list[Value] = [None] * len(op.operands)
    for k in t.carries:
        result[k] = next(finals)
    for k in t.accumulated:
        result[c + len(op.xs) + k] = next(finals)
    for k, y in zip(t.xs_cotangents, scan.ys):
        result[c + k] = y
    return result


MULTI_VJP_RULES: dict[type, tuple[Callable[..., tuple[list[SSAValue], list[bool], object]], Callable[..., list[Value]]]] = {
    array.ScanOp: (_scan_vjp_forward, _scan_vjp_reverse),
}
"""Rules of ops with several results, in two parts. The forward part runs
in the forward sweep (given which operands are active) and emits ops that
replace the op, computing its results and what the reverse part reads;
it returns (those results, which of them are active, a state). The reverse
part runs in the reverse sweep: (e, state, cotangents of the op's results)
-> cotangents of its operands."""

__all__ = ["DEFAULT_CHECKPOINT", "MULTI_JVP_RULES", "MULTI_VJP_RULES"]
