"""Derivative rules of the `array` ops but scan: `JVP_RULES` and `VJP_RULES`.

    JVP_RULES[op_class](e, op, *tangents) -> tangent of op's result
    VJP_RULES[op_class](e, op, cotangent) -> (cotangent of each operand, ...)

Expects: `e`, an `Emitter` (emitter.py) at the derivative code; `op`, the
primal op copied into the derivative function (its operands and result are
the primal values there: the compile-time tape); tangents or cotangents of
which at least one is non-zero (`None` is the symbolic zero); an op with
an f32/f64 result.

Guarantees: every rule emits only ops that have rules themselves, so every
derivative is differentiable again; elementwise ops share one linear map
per operand (`PARTIALS`) between JVP and VJP; non-smooth points follow JAX
(docs/derivative-conventions.md). The scan's rules are in scan_rules.py.

The rule table and the conventions at kinks and ties:
docs/differentiation.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from xdsl.ir import SSAValue

from gradc.dialects import array
from gradc.passes.array_simplify import splat_value
from gradc.passes.autodiff.emitter import Emitter, Value, element_of, is_differentiable, shape_of
from gradc.passes.autodiff.linalg_rules import LINALG_JVP_RULES, LINALG_VJP_RULES

LinearMap = Callable[[Emitter, array.UnaryOp | array.BinaryOp, Value], Value]


# --------------------------------------------------------------------------
# Elementwise: one linear map per operand
# --------------------------------------------------------------------------


def _tanh(e: Emitter, op: array.TanhOp, t: Value) -> Value:
    y = op.result
    return e.mul(t, e.sub(e.ones_like(y), e.mul(y, y)))


def _one_minus_square(e: Emitter, x: SSAValue) -> SSAValue:
    # (1 - x)(1 + x): exact near |x| = 1, where 1 - x^2 cancels.
    ones = e.ones_like(x)
    return e.mul(e.sub(ones, x), e.add(ones, x))


def _asin(e: Emitter, op: array.AsinOp, t: Value) -> Value:
    return e.div(t, e.emit(array.SqrtOp(_one_minus_square(e, op.input))))


def _acos(e: Emitter, op: array.AcosOp, t: Value) -> Value:
    return e.neg(_asin(e, op, t))


def _atan(e: Emitter, op: array.AtanOp, t: Value) -> Value:
    x = op.input
    return e.div(t, e.add(e.ones_like(x), e.mul(x, x)))


def _scaled(e: Emitter, x: SSAValue) -> tuple[SSAValue, SSAValue]:
    """(x / s, 1 / s) for s = max(|x|, 1) held constant (stop_gradient): a
    derivative of degree -1 in (x, 1) computed from these is the same
    function, with nothing squared that overflows for large |x|."""
    s = e.emit(array.MaxOp(e.emit(array.AbsOp(x)), e.ones_like(x)))
    s = e.emit(array.StopGradientOp(s))
    return e.div(x, s), e.div(e.ones_like(x), s)


def _asinh(e: Emitter, op: array.AsinhOp, t: Value) -> Value:
    # 1 / sqrt(x^2 + 1) = r / sqrt(u^2 + r^2) with u = x / s, r = 1 / s.
    u, r = _scaled(e, op.input)
    return e.mul(t, e.div(r, e.emit(array.SqrtOp(e.add(e.mul(u, u), e.mul(r, r))))))


def _acosh(e: Emitter, op: array.AcoshOp, t: Value) -> Value:
    # 1 / sqrt((x - 1)(x + 1)) = r / sqrt((u - r)(u + r)), as in _asinh.
    u, r = _scaled(e, op.input)
    return e.mul(t, e.div(r, e.emit(array.SqrtOp(e.mul(e.sub(u, r), e.add(u, r))))))


def _atanh(e: Emitter, op: array.AtanhOp, t: Value) -> Value:
    return e.div(t, _one_minus_square(e, op.input))


def _tan(e: Emitter, op: array.TanOp, t: Value) -> Value:
    y = op.result
    return e.mul(t, e.add(e.ones_like(y), e.mul(y, y)))


def _erf(e: Emitter, op: array.ErfOp, t: Value) -> Value:
    x = op.input
    gauss = e.emit(array.ExpOp(e.neg(e.mul(x, x))))
    return e.mul(t, e.mul(e.full_like(x, 2.0 / math.sqrt(math.pi)), gauss))


def _erfc(e: Emitter, op: array.ErfcOp, t: Value) -> Value:
    x = op.input
    gauss = e.emit(array.ExpOp(e.neg(e.mul(x, x))))
    return e.mul(t, e.mul(e.full_like(x, -2.0 / math.sqrt(math.pi)), gauss))


def _atan2_scaled(e: Emitter, op: array.Atan2Op) -> tuple[SSAValue, SSAValue, SSAValue]:
    """(u, v, d) for atan2(y, x): u = y / s, v = x / s, d = s (u^2 + v^2)
    with s = stop_gradient(max(|x|, |y|)), so that y / (x^2 + y^2) = u / d
    with nothing squared that overflows or underflows. At (0, 0) all are
    NaN, as JAX's 0 / 0."""
    y, x = op.lhs, op.rhs
    s = e.emit(array.StopGradientOp(e.emit(array.MaxOp(e.emit(array.AbsOp(x)), e.emit(array.AbsOp(y))))))
    u, v = e.div(y, s), e.div(x, s)
    return u, v, e.mul(s, e.add(e.mul(u, u), e.mul(v, v)))


def _atan2_y(e: Emitter, op: array.Atan2Op, t: Value) -> Value:
    _, v, d = _atan2_scaled(e, op)
    return e.mul(t, e.div(v, d))


def _atan2_x(e: Emitter, op: array.Atan2Op, t: Value) -> Value:
    u, _, d = _atan2_scaled(e, op)
    return e.neg(e.mul(t, e.div(u, d)))


def _copysign_magnitude(e: Emitter, op: array.CopySignOp, t: Value) -> Value:
    # JAX's copysign is where(signbit(y), -abs(x), abs(x)): abs' (1 at x = 0,
    # as _abs) times the sign y gives.
    x, y = op.lhs, op.rhs
    nonnegative = e.emit(array.CompareOp("ge", x, e.zeros_like(x)))
    sign = e.emit(array.CopySignOp(e.ones_like(y), y))
    return e.mul(e.select(nonnegative, t, e.neg(t)), sign)


def _log_base(base: float) -> LinearMap:
    return lambda e, op, t: e.div(t, e.mul(op.input, e.full_like(op.input, math.log(base))))


def _zero(e: Emitter, op: array.UnaryOp, t: Value) -> Value:
    return None


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
    array.SinhOp: (lambda e, op, t: e.mul(t, e.emit(array.CoshOp(op.input))),),
    array.CoshOp: (lambda e, op, t: e.mul(t, e.emit(array.SinhOp(op.input))),),
    array.TanOp: (_tan,),
    array.AsinOp: (_asin,),
    array.AcosOp: (_acos,),
    array.AtanOp: (_atan,),
    array.AsinhOp: (_asinh,),
    array.AcoshOp: (_acosh,),
    array.AtanhOp: (_atanh,),
    array.Log1pOp: (lambda e, op, t: e.div(t, e.add(e.ones_like(op.input), op.input)),),
    # exp(x), not expm1(x) + 1, which is 0 where exp(x) < 2^-53.
    array.Expm1Op: (lambda e, op, t: e.mul(t, e.emit(array.ExpOp(op.input))),),
    array.Log2Op: (_log_base(2.0),),
    array.Log10Op: (_log_base(10.0),),
    array.Exp2Op: (lambda e, op, t: e.mul(t, e.mul(op.result, e.full_like(op.result, math.log(2.0)))),),
    array.ErfOp: (_erf,),
    **{cls: (_zero,) for cls in (array.FloorOp, array.CeilOp, array.RoundEvenOp, array.TruncOp)},
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
    array.ErfcOp: (_erfc,),
    array.Atan2Op: (_atan2_y, _atan2_x),
    array.CopySignOp: (_copysign_magnitude, _zero),
    # JAX's rem: 1, and -trunc(x / y).
    array.FmodOp: (
        lambda e, op, t: t,
        lambda e, op, t: e.neg(e.mul(t, e.emit(array.TruncOp(e.emit(array.DivOp(op.lhs, op.rhs)))))),
    ),
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


def _mirror_jvp(e: Emitter, op: array.MirrorOp, dx: Value) -> Value:
    return None if dx is None else e.emit(array.MirrorOp(dx))


def _slice_jvp(e: Emitter, op: array.SliceOp, dx: Value) -> Value:
    start, limit, stride = ([b[k] for b in op.bounds] for k in range(3))
    return e.slice(dx, start, limit, stride)


def _gather_jvp(e: Emitter, op: array.GatherOp, dx: Value) -> Value:
    return e.gather(dx, op.axis_list, op.table)


def _dynamic_gather_jvp(e: Emitter, op: array.DynamicGatherOp, dx: Value, _dindices: Value) -> Value:
    return e.dynamic_gather(dx, op.indices, op.axis_list, op.mode.data)


def _scatter_jvp(e: Emitter, op: array.ScatterOp, dx: Value, _dindices: Value, dv: Value) -> Value:
    """Linear in (input, updates) together: the same scatter of the tangents."""
    if dx is None and dv is None:
        return None
    return e.scatter(e.materialize(dx, op.input), op.indices, e.materialize(dv, op.updates),
                     op.axis_list, op.kind.data, op.mode.data)


def _dynamic_slice_jvp(e: Emitter, op: array.DynamicSliceOp, dx: Value, *_dstarts: Value) -> Value:
    return e.dynamic_slice(dx, op.starts, op.size_list)


def _dynamic_update_slice_jvp(
    e: Emitter, op: array.DynamicUpdateSliceOp, dx: Value, du: Value, *_dstarts: Value
) -> Value:
    if dx is None and du is None:
        return None
    return e.dynamic_update_slice(e.materialize(dx, op.input), e.materialize(du, op.update), op.starts)


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
    array.MirrorOp: _mirror_jvp,
    array.SliceOp: _slice_jvp,
    array.GatherOp: _gather_jvp,
    array.DynamicGatherOp: _dynamic_gather_jvp,
    array.ScatterOp: _scatter_jvp,
    array.DynamicSliceOp: _dynamic_slice_jvp,
    array.DynamicUpdateSliceOp: _dynamic_update_slice_jvp,
    array.ConcatenateOp: _concatenate_jvp,
    array.MatmulOp: _matmul_jvp,
    array.ReduceSumOp: _reduce_sum_jvp,
    array.ReduceMaxOp: _reduce_max_jvp,
    **LINALG_JVP_RULES,
}


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


def _mirror_vjp(e: Emitter, op: array.MirrorOp, g: Value) -> tuple[Value, ...]:
    """Element (i, j), i <= j, was read by (i, j) and, off the diagonal,
    by (j, i): g[i, j] + g[j, i] above the diagonal, g[i, i] on it, 0
    below (selects, so an infinity elsewhere in g stays out)."""
    if g is None:
        return (None,)
    shape = shape_of(g)
    n, rank = shape[-1], len(shape)
    iota = e.constant(np.arange(n, dtype=np.int32))
    rows = e.broadcast(iota, [rank - 2], shape)
    cols = e.broadcast(iota, [rank - 1], shape)
    upper = e.emit(array.CompareOp("le", rows, cols))
    strict = e.emit(array.CompareOp("lt", rows, cols))
    zeros = e.zeros_like(g)
    return (e.add(e.select(upper, g, zeros), e.select(strict, e.mT(g), zeros)),)


def _slice_vjp(e: Emitter, op: array.SliceOp, g: Value) -> tuple[Value, ...]:
    return (e.pad_slice(g, shape_of(op.input), op.bounds),)


def _gather_vjp(e: Emitter, op: array.GatherOp, g: Value) -> tuple[Value, ...]:
    return (e.scatter_add(g, shape_of(op.input), op.axis_list, op.table),)


_READ_MODE = {"clip": "clip", "drop": "fill"}
"""The gather that reads what a scatter of that mode wrote (and back)."""


def _dynamic_gather_vjp(e: Emitter, op: array.DynamicGatherOp, g: Value) -> tuple[Value, ...]:
    """Each element of g added where it was read (the clamped position;
    nothing for a filled row): a scatter-add."""
    if g is None:
        return None, None
    mode = "clip" if op.mode.data == "clip" else "drop"
    return e.scatter(e.zeros_like(op.input), op.indices, g, op.axis_list, "add", mode), None


def _scatter_vjp(e: Emitter, op: array.ScatterOp, g: Value) -> tuple[Value, ...]:
    """add: g passes to the input, and each update reads g where it went.
    set: the written positions get nothing from the input, and only the
    update that won (the last of duplicates, found by scattering row
    numbers and reading them back) reads g."""
    if g is None:
        return None, None, None
    axes, mode = op.axis_list, op.mode.data
    read = e.dynamic_gather(g, op.indices, axes, _READ_MODE[mode])
    if op.kind.data == "add":
        return g, None, read
    dx = e.scatter(g, op.indices, e.zeros_like(op.updates), axes, "set", mode)
    batch, shape = op.batch_shape, shape_of(op.updates)
    rows = np.arange(1, int(np.prod(batch)) + 1, dtype=np.int64).reshape(batch)
    ids = e.constant(np.ascontiguousarray(np.broadcast_to(rows.reshape(*batch, *[1] * (len(shape) - len(batch))), shape)))
    zeros = e.constant(np.zeros(shape_of(op.input), np.int64))
    won = e.dynamic_gather(e.scatter(zeros, op.indices, ids, axes, "set", mode), op.indices, axes, _READ_MODE[mode])
    assert won is not None
    return dx, None, e.select(e.emit(array.CompareOp("eq", won, ids)), read, None)


def _dynamic_slice_vjp(e: Emitter, op: array.DynamicSliceOp, g: Value) -> tuple[Value, ...]:
    """g written over zeros at the same clamped starts; the starts get none."""
    dx = e.dynamic_update_slice(e.zeros_like(op.input), e.materialize(g, op.result), op.starts)
    return (dx, *(None for _ in op.starts))


def _dynamic_update_slice_vjp(e: Emitter, op: array.DynamicUpdateSliceOp, g: Value) -> tuple[Value, ...]:
    """The window of g goes to the update, the rest (window zeroed) to the input."""
    if g is None:
        return (None, None, *(None for _ in op.starts))
    dx = e.dynamic_update_slice(g, e.zeros_like(op.update), op.starts)
    du = e.dynamic_slice(g, op.starts, shape_of(op.update))
    return (dx, du, *(None for _ in op.starts))


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
    array.MirrorOp: _mirror_vjp,
    array.SliceOp: _slice_vjp,
    array.GatherOp: _gather_vjp,
    array.DynamicGatherOp: _dynamic_gather_vjp,
    array.ScatterOp: _scatter_vjp,
    array.DynamicSliceOp: _dynamic_slice_vjp,
    array.DynamicUpdateSliceOp: _dynamic_update_slice_vjp,
    array.ConcatenateOp: _concatenate_vjp,
    array.MatmulOp: _matmul_vjp,
    array.ReduceSumOp: _reduce_sum_vjp,
    array.ReduceMaxOp: _reduce_max_vjp,
    **LINALG_VJP_RULES,
}

__all__ = ["JVP_RULES", "PARTIALS", "VJP_RULES"]
