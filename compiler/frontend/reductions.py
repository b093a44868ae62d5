"""Reductions: sum, max, min (amax, amin), mean, and the composites
softmax and logsumexp.

Expects: an array and NumPy's `axis` (None, an int or a tuple; negative
counts from the end) and `keepdims`.

Guarantees: one `array.reduce_sum`/`array.reduce_max` per reduction over
the sorted axes (min is -max(-x), mean is sum / count); max and min of a
zero-size axis, a repeated axis or a bool array (NumPy's integer sum, any,
all) is a `GradcError`. softmax and logsumexp subtract a max that no
derivative flows through, so large inputs do not overflow.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.compositions import missing_message
from gradc.frontend.elementwise import add, divide, exp, log, negative, stop_gradient, subtract
from gradc.frontend.operands import _BOOL, _F64, _FLOATS, _array_like, _convert, _normalize_axes, _reshape, _strong
from gradc.frontend.shapes import squeeze
from gradc.frontend.tracer import TracedArray

def _keep(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def _reduce(name: str, op: type[array.ReduceOp], x: TracedArray, axes: tuple[int, ...], keepdims: bool) -> TracedArray:
    if x.dtype not in _FLOATS:
        raise _bool_reduction_error(name)
    if not axes:
        result = _strong(x)
    else:
        result = x.trace.emit(op(x.value, axes))
    return _reshape(result, _keep(x.shape, axes)) if keepdims else result


def _bool_reduction_error(name: str) -> TraceTypeError:
    """`sum` of a bool array counts (integers gradc lacks); `max` and `min`
    of one are NumPy's any and all, which gradc.numpy lacks too."""
    if name == "sum":
        return TraceTypeError(
            "sum: of a bool array NumPy gives integers, which gradc does not have; "
            "convert first, e.g. x.astype(np.float32)"
        )
    same = "any" if name == "max" else "all"
    return TraceTypeError(f"{name} of a bool array is NumPy's {same}, and {missing_message(same)}")


def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Sum over `axis` (None: all; int or tuple; negative from the end)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.sum(a, axis=axis, keepdims=keepdims)
    return _reduce("sum", array.ReduceSumOp, a, _normalize_axes("sum", axis, a.shape), keepdims)


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
    if a.dtype not in _FLOATS:
        raise _bool_reduction_error("min")
    if builtins.any(a.shape[d] == 0 for d in axes):
        raise TraceError(f"min: zero-size reduction over axes {axes} of shape {a.shape} has no identity")
    return negative(max(negative(a), axis=axes, keepdims=keepdims))


amax = max
amin = min


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """sum / count over `axis` (bool arrays average as float64, as in NumPy)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.mean(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("mean", axis, a.shape)
    if a.dtype == _BOOL:
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


__all__ = [
    "sum", "max", "min", "amax", "amin", "mean", "softmax", "logsumexp",
]
