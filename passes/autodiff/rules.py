"""Derivative rules of the `array` ops: `JVP_RULES` and `VJP_RULES`.

    JVP_RULES[op_class](e, op, *tangents) -> tangent of op's result
    VJP_RULES[op_class](e, op, cotangent) -> (cotangent of each operand, ...)

`e` is an `Emitter` (emitter.py) inserting at the derivative code; `op` is
the primal op in the derivative function (its operands and result are the
primal values there, so a rule may use them: that is the compile-time tape).
A tangent or cotangent may be `None`, the symbolic zero; the transforms call
a rule only when at least one input to it is non-zero, and only for ops with
an f32/f64 result (i1 values, e.g. compare's, carry no tangent, so
`array.compare` needs no rule and `array.constant` has none: no operands).
Every rule emits only ops that have rules themselves, so every derivative
is differentiable again.

Elementwise ops have diagonal Jacobians: `PARTIALS[op_class]` gives, per
operand, the linear map t -> (d result / d operand) * t, and the same map is
the JVP (applied to a tangent) and the VJP (applied to a cotangent). Ops
whose derivative is a function of their result use it: exp' = y,
tanh' = 1 - y^2, sqrt' = 0.5 / y. Linear ops apply themselves to the
tangent; their VJP is their transpose.

Non-smooth points follow JAX (docs/derivative-conventions.md has them all,
with the frontend's, in one table):
- abs'(x) = 1 where x >= 0 (so abs'(0) = abs'(-0.0) = 1), else -1 (NaN
  included);
- max/min: where the operands tie, each gets half the derivative (against
  a constant, gradc.numpy's maximum/minimum let the constant win instead);
- reduce_max: the derivative is divided evenly among tied maxima;
- pow(x, y): d/dx = y * x^(y-1), taken as 0 where y == 0 (for a constant
  exponent c: c * x^(c-1), with x^0, x^1, x^2 spelled 1, x, x*x);
  d/dy = log(x) * x^y, taken as 0 where x == 0 (log of x with zeros
  replaced by 1, so that derivatives of this rule stay finite too);
- select: the derivative flows to the chosen operand only; compare and the
  condition of select have none.
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
from gradc.passes.array_simplify import splat_value
from gradc.passes.autodiff.emitter import Emitter, Value, element_of, is_differentiable, shape_of

LinearMap = Callable[[Emitter, array.UnaryOp | array.BinaryOp, Value], Value]


# --------------------------------------------------------------------------
# Elementwise: one linear map per operand
# --------------------------------------------------------------------------


def _tanh(e: Emitter, op: array.TanhOp, t: Value) -> Value:
    y = op.result
    return e.mul(t, e.sub(e.ones_like(y), e.mul(y, y)))


def _sqrt(e: Emitter, op: array.SqrtOp, t: Value) -> Value:
    return e.div(t, e.mul(e.full_like(op.result, 2.0), op.result))


def _abs(e: Emitter, op: array.AbsOp, t: Value) -> Value:
    x = op.input
    nonnegative = e.emit(array.CompareOp("ge", x, e.zeros_like(x)))
    return e.select(nonnegative, t, e.neg(t))


def _pow_base(e: Emitter, op: array.PowOp, t: Value) -> Value:
    x, y = op.lhs, op.rhs
    c = splat_value(y)
    if c == 0:
        return None
    if c is not None:  # a constant exponent c: c x^(c-1), nothing to select
        slope = e.power(x, c - 1)
        return e.mul(t, slope if c == 1 else e.mul(e.full_like(x, c), slope))
    y_is_zero = e.emit(array.CompareOp("eq", y, e.zeros_like(y)))
    power = e.emit(array.PowOp(x, e.sub(y, e.ones_like(y))))
    slope = e.select(y_is_zero, None, e.mul(y, power))
    return e.mul(t, slope)


def _pow_exponent(e: Emitter, op: array.PowOp, t: Value) -> Value:
    x = op.lhs
    x_is_zero = e.emit(array.CompareOp("eq", x, e.zeros_like(x)))
    safe_x = e.emit(array.SelectOp(x_is_zero, e.ones_like(x), x))
    return e.mul(t, e.mul(e.emit(array.LogOp(safe_x)), op.result))


PARTIALS: dict[type, tuple[LinearMap, ...]] = {
    array.NegOp: (lambda e, op, t: e.neg(t),),
    array.ExpOp: (lambda e, op, t: e.mul(t, op.result),),
    array.LogOp: (lambda e, op, t: e.div(t, op.input),),
    array.TanhOp: (_tanh,),
    array.SinOp: (lambda e, op, t: e.mul(t, e.emit(array.CosOp(op.input))),),
    array.CosOp: (lambda e, op, t: e.neg(e.mul(t, e.emit(array.SinOp(op.input)))),),
    array.SqrtOp: (_sqrt,),
    array.AbsOp: (_abs,),
    array.AddOp: (lambda e, op, t: t, lambda e, op, t: t),
    array.SubOp: (lambda e, op, t: t, lambda e, op, t: e.neg(t)),
    array.MulOp: (lambda e, op, t: e.mul(t, op.rhs), lambda e, op, t: e.mul(t, op.lhs)),
    array.DivOp: (
        lambda e, op, t: e.div(t, op.rhs),
        lambda e, op, t: e.neg(e.div(e.mul(t, op.result), op.rhs)),
    ),
    array.MaxOp: (
        lambda e, op, t: e.mul(t, e.tie_weight(op.lhs, op.result, op.rhs)),
        lambda e, op, t: e.mul(t, e.tie_weight(op.rhs, op.result, op.lhs)),
    ),
    array.PowOp: (_pow_base, _pow_exponent),
}
PARTIALS[array.MinOp] = PARTIALS[array.MaxOp]


def _elementwise_jvp(e: Emitter, op: array.UnaryOp | array.BinaryOp, *tangents: Value) -> Value:
    total: Value = None
    for partial, t in zip(PARTIALS[type(op)], tangents):
        if t is not None:
            total = e.add(total, partial(e, op, t))
    return total


def _elementwise_vjp(e: Emitter, op: array.UnaryOp | array.BinaryOp, g: Value) -> tuple[Value, ...]:
    return tuple(partial(e, op, g) for partial in PARTIALS[type(op)])


# --------------------------------------------------------------------------
# JVP rules of the other ops
# --------------------------------------------------------------------------


def _add_jvp(e: Emitter, op: array.AddOp, da: Value, db: Value) -> Value:
    return e.add(da, db)


def _sub_jvp(e: Emitter, op: array.SubOp, da: Value, db: Value) -> Value:
    return e.sub(da, db)


def _select_jvp(e: Emitter, op: array.SelectOp, _dc: Value, da: Value, db: Value) -> Value:
    return e.select(op.cond, da, db)


def _convert_jvp(e: Emitter, op: array.ConvertOp, dx: Value) -> Value:
    return e.convert(dx, element_of(op.result))


def _broadcast_jvp(e: Emitter, op: array.BroadcastOp, dx: Value) -> Value:
    return e.broadcast(dx, op.dim_map, shape_of(op.result))


def _reshape_jvp(e: Emitter, op: array.ReshapeOp, dx: Value) -> Value:
    return e.reshape(dx, shape_of(op.result))


def _transpose_jvp(e: Emitter, op: array.TransposeOp, dx: Value) -> Value:
    return e.transpose(dx, op.perm)


def _slice_jvp(e: Emitter, op: array.SliceOp, dx: Value) -> Value:
    start, limit, stride = ([b[k] for b in op.bounds] for k in range(3))
    return e.slice(dx, start, limit, stride)


def _concatenate_jvp(e: Emitter, op: array.ConcatenateOp, *dxs: Value) -> Value:
    parts = [e.materialize(d, x) for d, x in zip(dxs, op.inputs)]
    return e.concatenate(parts, op.axis.value.data)


def _matmul_jvp(e: Emitter, op: array.MatmulOp, da: Value, db: Value) -> Value:
    return e.add(e.matmul(da, op.rhs), e.matmul(op.lhs, db))


def _reduce_sum_jvp(e: Emitter, op: array.ReduceSumOp, dx: Value) -> Value:
    return e.reduce_sum(dx, op.axis_list)


def _argmax_weights(e: Emitter, op: array.ReduceMaxOp) -> tuple[SSAValue, SSAValue]:
    """(indicator of the maxima, their count per reduced slice)."""
    x, axes = op.input, op.axis_list
    kept = [d for d in range(len(shape_of(x))) if d not in axes]
    y = e.broadcast(op.result, kept, shape_of(x))
    mask = e.indicator(e.emit(array.CompareOp("eq", x, y)), x)
    count = e.reduce_sum(mask, axes)
    assert y is not None and count is not None
    return mask, count


def _reduce_max_jvp(e: Emitter, op: array.ReduceMaxOp, dx: Value) -> Value:
    mask, count = _argmax_weights(e, op)
    return e.div(e.reduce_sum(e.mul(dx, mask), op.axis_list), count)


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


JVP_RULES: dict[type, Callable[..., Value]] = {
    **{cls: _elementwise_jvp for cls in PARTIALS},
    array.AddOp: _add_jvp,
    array.SubOp: _sub_jvp,
    array.SelectOp: _select_jvp,
    array.ConvertOp: _convert_jvp,
    array.StopGradientOp: lambda e, op, dx: None,
    array.BroadcastOp: _broadcast_jvp,
    array.ReshapeOp: _reshape_jvp,
    array.TransposeOp: _transpose_jvp,
    array.SliceOp: _slice_jvp,
    array.ConcatenateOp: _concatenate_jvp,
    array.MatmulOp: _matmul_jvp,
    array.ReduceSumOp: _reduce_sum_jvp,
    array.ReduceMaxOp: _reduce_max_jvp,
}

MULTI_JVP_RULES: dict[type, Callable[..., tuple[list[SSAValue], list[Value]]]] = {
    array.ScanOp: _scan_jvp,
}
"""Rules of ops with several results: they emit ops that compute the primal
results too, and return (those values, which replace the op's results; the
tangents of the op's results)."""


# --------------------------------------------------------------------------
# Reverse mode through a scan: a forward scan that stacks residuals, then a
# reverse scan over the body's VJP
# --------------------------------------------------------------------------


DEFAULT_CHECKPOINT: ContextVar[str | None] = ContextVar("default_checkpoint", default=None)
"""The checkpoint mode of the derivative request being expanded: the one a
scan without its own gets (see requests.expand_request)."""


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
    needed: list[SSAValue] = []
    for v in [*(u for o in reverse_ops for u in o.operands), *(g for g in yielded if g is not None)]:
        if v not in needed and not (isinstance(v.owner, Operation) and v.owner in reverse_ops):
            needed.append(v)
    constants = [v.owner for v in needed if isinstance(v.owner, array.ConstantOp)]
    residuals = [v for v in needed if v in carries_b or (isinstance(v.owner, Operation) and v.owner not in constants)]
    used_slices = [k for k, a in enumerate(slices_b) if a in needed]
    used_cts = [k for k, a in enumerate(ct_outs) if a in needed]
    used_invariants = [k for k, a in enumerate(invariants_b) if a in needed]

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


# --------------------------------------------------------------------------
# VJP rules of the other ops (the transposes of the linear ones)
# --------------------------------------------------------------------------


def _select_vjp(e: Emitter, op: array.SelectOp, g: Value) -> tuple[Value, ...]:
    return None, e.select(op.cond, g, None), e.select(op.cond, None, g)


def _convert_vjp(e: Emitter, op: array.ConvertOp, g: Value) -> tuple[Value, ...]:
    if not is_differentiable(op.input):
        return (None,)
    return (e.convert(g, element_of(op.input)),)


def _broadcast_vjp(e: Emitter, op: array.BroadcastOp, g: Value) -> tuple[Value, ...]:
    return (e.sum_to_shape(g, op.dim_map, shape_of(op.input)),)


def _reshape_vjp(e: Emitter, op: array.ReshapeOp, g: Value) -> tuple[Value, ...]:
    return (e.reshape(g, shape_of(op.input)),)


def _transpose_vjp(e: Emitter, op: array.TransposeOp, g: Value) -> tuple[Value, ...]:
    inverse = sorted(range(len(op.perm)), key=lambda i: op.perm[i])
    return (e.transpose(g, inverse),)


def _slice_vjp(e: Emitter, op: array.SliceOp, g: Value) -> tuple[Value, ...]:
    return (e.pad_slice(g, shape_of(op.input), op.bounds),)


def _concatenate_vjp(e: Emitter, op: array.ConcatenateOp, g: Value) -> tuple[Value, ...]:
    axis, offset, parts = op.axis.value.data, 0, []
    for x in op.inputs:
        size = shape_of(x)[axis]
        parts.append(e.slice_axis(g, axis, offset, offset + size))
        offset += size
    return tuple(parts)


def _matmul_vjp(e: Emitter, op: array.MatmulOp, g: Value) -> tuple[Value, ...]:
    return e.matmul(g, e.mT(op.rhs)), e.matmul(e.mT(op.lhs), g)


def _reduce_sum_vjp(e: Emitter, op: array.ReduceSumOp, g: Value) -> tuple[Value, ...]:
    shape = shape_of(op.input)
    kept = [d for d in range(len(shape)) if d not in op.axis_list]
    return (e.broadcast(g, kept, shape),)


def _reduce_max_vjp(e: Emitter, op: array.ReduceMaxOp, g: Value) -> tuple[Value, ...]:
    mask, count = _argmax_weights(e, op)
    shape = shape_of(op.input)
    kept = [d for d in range(len(shape)) if d not in op.axis_list]
    return (e.mul(e.broadcast(e.div(g, count), kept, shape), mask),)


VJP_RULES: dict[type, Callable[..., tuple[Value, ...]]] = {
    **{cls: _elementwise_vjp for cls in PARTIALS},
    array.SelectOp: _select_vjp,
    array.ConvertOp: _convert_vjp,
    array.StopGradientOp: lambda e, op, g: (None,),
    array.BroadcastOp: _broadcast_vjp,
    array.ReshapeOp: _reshape_vjp,
    array.TransposeOp: _transpose_vjp,
    array.SliceOp: _slice_vjp,
    array.ConcatenateOp: _concatenate_vjp,
    array.MatmulOp: _matmul_vjp,
    array.ReduceSumOp: _reduce_sum_vjp,
    array.ReduceMaxOp: _reduce_max_vjp,
}

__all__ = ["JVP_RULES", "MULTI_JVP_RULES", "MULTI_VJP_RULES", "PARTIALS", "VJP_RULES"]
