"""Reductions: sum, max, min (amax, amin), mean, argmax, argmin, and the composites
var, std, average, prod, any, all, cumsum, cumprod, softmax and logsumexp.

Expects: an array and NumPy's `axis` (None, an int or a tuple; negative
counts from the end) and `keepdims`.

Guarantees: one `array.reduce_sum`/`array.reduce_max` per reduction over
the sorted axes (min is -max(-x), mean is sum / count); max and min of a
zero-size axis, a repeated axis or a bool array (NumPy's any, all) is a
`GradcError`. Integer sums and products wrap, in NumPy's dtypes (int64
for bool and int32); min of integers is -1 - max(-1 - x), which cannot
overflow. softmax and logsumexp subtract a max that no
derivative flows through, so large inputs do not overflow. prod multiplies
halves pairwise (log2(n) rounds of slices; exact with zeros and signs),
cumsum/cumprod are Hillis-Steele scans (log2(n) shifted adds or
products): docs/reductions.md.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import (
    add,
    astype,
    divide,
    exp,
    greater,
    log,
    multiply,
    negative,
    not_equal,
    sqrt,
    stop_gradient,
    subtract,
    where,
)
from gradc.frontend.operands import (
    _BOOL,
    _F64,
    _FLOATS,
    _I32,
    _I64,
    _INTS,
    _NUMERIC,
    _array_like,
    _constant,
    _convert,
    _dtype_arg,
    _lift,
    _normalize_axes,
    _normalize_axis,
    _reshape,
    _strong,
)
from gradc.frontend.shapes import _strong_operand, broadcast_to, concatenate, moveaxis, squeeze, transpose
from gradc.frontend.tracer import TracedArray, _trace_of

def _keep(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> tuple[int, ...]:
    """The shape of a reduction of `shape` over `axes`."""
    return _keep(shape, axes) if keepdims else tuple(n for d, n in enumerate(shape) if d not in axes)


def _reduce(name: str, op: type[array.ReduceOp], x: TracedArray, axes: tuple[int, ...], keepdims: bool) -> TracedArray:
    if x.dtype not in _NUMERIC:
        raise _bool_reduction_error(name)
    if not axes:
        result = _strong(x)
    else:
        result = x.trace.emit(op(x.value, axes))
    return _reshape(result, _keep(x.shape, axes)) if keepdims else result


def _bool_reduction_error(name: str) -> TraceTypeError:
    """`max` and `min` of a bool array are NumPy's any and all."""
    same = "any" if name == "max" else "all"
    return TraceTypeError(f"{name} of a bool array is NumPy's {same}: call gnp.{same}")


def sum(a: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Any:  # noqa: A001
    """Sum over `axis` (None: all; int or tuple; negative from the end), in
    `dtype` or NumPy's: int64 for bool and int32 arrays (wrapping)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.sum(a, axis=axis, keepdims=keepdims, dtype=dtype)
    axes = _normalize_axes("sum", axis, a.shape)
    a = _strong(_convert(a, _accumulation_dtype("sum", a, dtype)))
    return _reduce("sum", array.ReduceSumOp, a, axes, keepdims)


def _accumulation_dtype(name: str, a: TracedArray, dtype: Any) -> np.dtype:
    """`dtype`, or what NumPy sums and multiplies `a` in: int64 for bool and
    int32 (the platform integer), else a's own dtype."""
    if dtype is not None:
        return _dtype_arg(name, dtype)
    return _I64 if a.dtype in (_BOOL, _I32) else a.dtype


def max(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Maximum over `axis`; NaN propagates, as in NumPy."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.max(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("max", axis, a.shape)
    if builtins.any(a.shape[d] == 0 for d in axes):
        raise TraceError(f"max: zero-size reduction over axes {axes} of shape {a.shape} has no identity")
    return _reduce("max", array.ReduceMaxOp, a, axes, keepdims)


def min(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Minimum over `axis`, as -max(-a)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.min(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("min", axis, a.shape)
    if a.dtype not in _NUMERIC:
        raise _bool_reduction_error("min")
    if builtins.any(a.shape[d] == 0 for d in axes):
        raise TraceError(f"min: zero-size reduction over axes {axes} of shape {a.shape} has no identity")
    if a.dtype in _INTS:  # -1 - x reverses the order without overflow (-x would wrap)
        return subtract(-1, max(subtract(-1, a), axis=axes, keepdims=keepdims))
    return negative(max(negative(a), axis=axes, keepdims=keepdims))


amax = max
amin = min


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """sum / count over `axis` (bool and integer arrays average as float64,
    as in NumPy)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.mean(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("mean", axis, a.shape)
    if a.dtype not in _FLOATS:
        a = _convert(a, _F64)
    count = math.prod(a.shape[d] for d in axes)
    return divide(sum(a, axis=axes, keepdims=keepdims), float(count))


def softmax(x: Any, axis: Any = -1) -> Any:
    """exp(x) / sum(exp(x)) along `axis`, computed as exp(x - max) so that
    large inputs do not overflow."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        _normalize_axes("softmax", axis, x.shape)
    e_x = exp(subtract(x, stop_gradient(max(x, axis=axis, keepdims=True))))
    return divide(e_x, sum(e_x, axis=axis, keepdims=True))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) along `axis`, as max + log(sum(exp(x - max))) so that
    large inputs do not overflow."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        _normalize_axes("logsumexp", axis, x.shape)
    # The shift cancels in the value and in every derivative, so none flows
    # through it (as in JAX): the derivative code skips reduce_max's ties.
    m = stop_gradient(max(x, axis=axis, keepdims=True))
    out = add(log(sum(exp(subtract(x, m)), axis=axis, keepdims=True)), m)
    return out if keepdims else squeeze(out, axis=axis)


def _with_dtype(name: str, a: TracedArray, dtype: Any) -> TracedArray:
    if dtype is None:
        return a
    return astype(a, _dtype_arg(name, dtype))


def _float_input(name: str, a: TracedArray) -> TracedArray:
    """`a`, or for a bool or integer array the float64 NumPy computes var,
    std and average of it in."""
    return a if a.dtype in _FLOATS else _convert(a, _F64)


def var(a: Any, axis: Any = None, dtype: Any = None, ddof: Any = 0, keepdims: bool = False) -> Any:
    """Variance: sum(|a - mean|^2) / (count - ddof) over `axis`."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return _var("var", a, axis, dtype, ddof, keepdims)


def _var(name: str, a: TracedArray, axis: Any, dtype: Any, ddof: Any, keepdims: bool) -> TracedArray:
    axes = _normalize_axes(name, axis, a.shape)
    a = _with_dtype(name, _float_input(name, a), dtype)
    if isinstance(ddof, TracedArray):
        raise TraceError(f"{name}: ddof must be a Python number, not a traced array")
    count = math.prod(a.shape[d] for d in axes)
    centered = subtract(a, mean(a, axis=axes, keepdims=True))
    # NumPy divides by max(count - ddof, 0): 0/0 is NaN, as there.
    return divide(sum(multiply(centered, centered), axis=axes, keepdims=keepdims), float(builtins.max(count - ddof, 0)))


def std(a: Any, axis: Any = None, dtype: Any = None, ddof: Any = 0, keepdims: bool = False) -> Any:
    """Standard deviation, sqrt(var); its derivative where the variance is
    0 is NaN, as in JAX (docs/derivative-conventions.md)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(_var("std", a, axis, dtype, ddof, keepdims))


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, keepdims: bool = False) -> Any:
    """Weighted mean sum(a * w) / sum(w) over `axis` (`weights` of a's shape,
    or 1-D along one int `axis`); with `returned`, also sum(w) broadcast to
    the result's shape. Constant weights summing to 0 are a `GradcError`."""
    a, weights = _array_like(a), _array_like(weights)
    trace = _trace_of("average", (a, weights))
    if trace is None:
        return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    a = _strong_operand("average", a)
    a_dtype = a.dtype if a.dtype in _FLOATS else _F64
    a = _lift(trace, a, a_dtype)
    shape = a.shape
    axes = _normalize_axes("average", axis, shape)
    if weights is None:
        avg = mean(a, axis=axes, keepdims=keepdims)
        scale: Any = _constant(trace, math.prod(shape[d] for d in axes), avg.dtype, ())
    else:
        w = _strong_operand("average", weights)
        if w.shape != shape:
            if axis is None or len(w.shape) != 1 or len(axes) != 1:
                raise TraceError(
                    f"average: weights of shape {w.shape} differ from a's shape {shape}; "
                    "they must then be 1-D along one axis given as axis="
                )
            if w.shape[0] != shape[axes[0]]:
                raise TraceError(
                    f"average: weights of length {w.shape[0]} differ from a's axis {axes[0]} of size {shape[axes[0]]}"
                )
        dtype = np.result_type(a_dtype, w.dtype)
        if dtype not in _FLOATS:
            raise TraceTypeError(f"average: NumPy computes it in {dtype.name}; gradc in float32 or float64 only")
        if not isinstance(w, TracedArray):
            w_full = np.broadcast_to(w.reshape(_axis_shape(w.shape, shape, axes)), shape)
            if (np.sum(w_full, axis=axes) == 0).any():
                raise TraceError("average: the weights sum to zero along the averaged axes")
        w = broadcast_to(_reshape(_lift(trace, w, dtype), _axis_shape(w.shape, shape, axes)), shape)
        a = _convert(a, dtype)
        scale = sum(w, axis=axes, keepdims=keepdims)
        avg = divide(sum(multiply(a, w), axis=axes, keepdims=keepdims), scale)
    if not returned:
        return avg
    return avg, broadcast_to(scale, avg.shape)


def _axis_shape(w_shape: tuple[int, ...], shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """1-D weights' shape along `axes[0]` of an array of `shape`."""
    if w_shape == shape:
        return shape
    return tuple(w_shape[0] if d == axes[0] else 1 for d in range(len(shape)))


def _last_axis(name: str, a: TracedArray, axes: tuple[int, ...]) -> TracedArray:
    """`a` with `axes` moved to the end and merged into one."""
    rest = [d for d in range(a.ndim) if d not in axes]
    moved = transpose(a, (*rest, *axes))
    return _reshape(moved, tuple(a.shape[d] for d in rest) + (math.prod(a.shape[d] for d in axes),))


def _last(x: TracedArray, start: int, stop: int) -> TracedArray:
    return x[..., start:stop]


def prod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    """Product over `axis`: halves multiplied pairwise, log2(n) rounds (exact
    with zeros and negative numbers; derivatives from multiply's rule)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.prod(a, axis=axis, dtype=dtype, keepdims=keepdims)
    axes = _normalize_axes("prod", axis, a.shape)
    a = _strong(_convert(a, _accumulation_dtype("prod", a, dtype)))
    out_shape = _reduced_shape(a.shape, axes, keepdims)
    if not axes:
        return _strong(a)
    x = _last_axis("prod", a, axes)
    n = x.shape[-1]
    if n == 0:
        return _constant(a.trace, 1.0, a.dtype, out_shape)
    while n > 1:
        h = n // 2
        paired = multiply(_last(x, 0, h), _last(x, h, 2 * h))
        x = concatenate([paired, _last(x, 2 * h, n)], axis=-1) if n % 2 else paired
        n = x.shape[-1]
    return _strong(_reshape(x, out_shape))


def _truth(name: str, a: Any, axis: Any, keepdims: bool, want_all: bool) -> Any:
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        fn = np.all if want_all else np.any
        return fn(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes(name, axis, a.shape)
    truth = a if a.dtype == _BOOL else not_equal(a, 0.0)
    if want_all:
        truth = ~truth
    out_shape = _reduced_shape(a.shape, axes, keepdims)
    if builtins.any(a.shape[d] == 0 for d in axes):
        return _constant(a.trace, want_all, _BOOL, out_shape)
    count = max(where(truth, np.float32(1), np.float32(0)), axis=axes, keepdims=keepdims)
    found = greater(count, np.float32(0.5))
    return ~found if want_all else found


def any(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Whether any element along `axis` is true (nonzero); a bool array."""
    return _truth("any", a, axis, keepdims, False)


def all(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Whether every element along `axis` is true (nonzero); a bool array."""
    return _truth("all", a, axis, keepdims, True)


def _scan(name: str, combine: Any, a: Any, axis: Any, dtype: Any) -> Any:
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return getattr(np, name)(a, axis=axis, dtype=dtype)
    a = _strong(_convert(a, _accumulation_dtype(name, a, dtype)))
    if axis is None:
        a, axis = _reshape(a, (a.size,)), 0
    ax = _normalize_axis(name, axis, a.shape)
    x = moveaxis(a, ax, -1)
    n, shift = x.shape[-1], 1
    # Hillis-Steele: after the round with shift d, x[i] combines the (up to)
    # 2d elements ending at i; the first d elements are already complete.
    while shift < n:
        x = concatenate([_last(x, 0, shift), combine(_last(x, shift, n), _last(x, 0, n - shift))], axis=-1)
        shift *= 2
    return moveaxis(x, -1, ax)


def cumsum(a: Any, axis: Any = None, dtype: Any = None) -> Any:
    """Running sums along `axis` (None: of the flattened array)."""
    return _scan("cumsum", add, a, axis, dtype)


def cumprod(a: Any, axis: Any = None, dtype: Any = None) -> Any:
    """Running products along `axis` (None: of the flattened array)."""
    return _scan("cumprod", multiply, a, axis, dtype)


def argmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """Index (int64) of the first maximum along `axis` (None: of the
    flattened array); NaN counts as the maximum, as in NumPy. No derivative
    (an integer result)."""
    return _arg_extremum("argmax", a, axis, out, keepdims)


def argmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """Index (int64) of the first minimum along `axis`; NaN counts as the
    minimum, as in NumPy. No derivative."""
    return _arg_extremum("argmin", a, axis, out, keepdims)


def _arg_extremum(name: str, a: Any, axis: Any, out: Any, keepdims: bool) -> Any:
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return getattr(np, name)(a, axis=axis, out=out, keepdims=keepdims)
    if out is not None:
        raise TraceTypeError(f"{name}: out= is not supported on traced arrays (they are values, never written in place)")
    shape = a.shape
    x = _reshape(a, (a.size,)) if axis is None else a
    ax = 0 if axis is None else _normalize_axis(name, axis, shape)
    if x.shape[ax] == 0:
        raise TraceError(f"{name}: attempt to get {name} of an empty sequence (axis {ax} of shape {shape})")
    if x.dtype == _BOOL:
        x = _convert(x, _I32)
    if name == "argmin":  # reverses the order, keeps NaN and ties; -1 - x cannot overflow
        x = subtract(-1, x) if x.dtype in _INTS else negative(x)
    result = x.trace.emit(array.ArgMaxOp(x.value, ax))
    if keepdims:
        kept = (1,) * len(shape) if axis is None else tuple(1 if d == ax else n for d, n in enumerate(shape))
        result = _reshape(result, kept)
    return result


__all__ = [
    "sum", "max", "min", "amax", "amin", "mean", "softmax", "logsumexp",
    "var", "std", "average", "prod", "any", "all", "cumsum", "cumprod",
    "argmax", "argmin",
]
