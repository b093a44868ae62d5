"""Creating arrays: zeros, ones, full, zeros_like, ones_like, full_like,
asarray, array, eye, identity, arange, linspace, tri.

Expects: shapes and dtypes as NumPy takes them.

Guarantees: while a function is traced, zeros, ones, full, empty and
their `_like` forms return traced constants (a splat `array.constant`), as
jax.numpy's do under jit, so `gnp.zeros(k).at[i].add(v)` works; outside a
trace, and for eye, identity, arange, linspace and tri always, NumPy
arrays (which become `array.constant`s where they meet traced arrays and
stay usable as static indices). `full` of a traced fill value broadcasts
it, `asarray` of a traced array (or a list holding some: stacked) returns
a traced array, as does `array` of one.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gradc.errors import TraceError
from gradc.frontend.elementwise import add, astype, divide, multiply, subtract
from gradc.frontend.operands import _array_like, _constant, _strong
from gradc.frontend.shapes import broadcast_to, concatenate, moveaxis, reshape, shape
from gradc.frontend.tracer import TracedArray, current_trace

_TRACEABLE = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.bool_))


def _filled(value: np.ndarray) -> Any:
    """`value` (all elements equal) as a traced splat constant while a
    function is traced, else itself; empty arrays and dtypes gradc does
    not compute in stay NumPy arrays (met by a traced array, they give the
    usual located error)."""
    trace = current_trace()
    if trace is None or value.size == 0 or value.dtype not in _TRACEABLE:
        return value
    return _constant(trace, value.reshape(-1)[0], value.dtype, value.shape)


def zeros(shape: Any, dtype: Any = float) -> Any:
    return _filled(np.zeros(shape, dtype=dtype))


def ones(shape: Any, dtype: Any = float) -> Any:
    return _filled(np.ones(shape, dtype=dtype))


def empty(shape: Any, dtype: Any = float) -> Any:
    """zeros: a traced program has no uninitialized memory to hand out."""
    return zeros(shape, dtype)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """An array of `shape` filled with `fill_value` (which may be traced)."""
    fill_value = _array_like(fill_value)
    if isinstance(fill_value, TracedArray):
        value = fill_value if dtype is None else astype(fill_value, dtype)
        return broadcast_to(value, shape)
    return _filled(np.full(shape, fill_value, dtype=dtype))


def zeros_like(a: Any, dtype: Any = None) -> Any:
    return zeros(shape(a), dtype=dtype or _like_dtype(a))


def ones_like(a: Any, dtype: Any = None) -> Any:
    return ones(shape(a), dtype=dtype or _like_dtype(a))


def empty_like(a: Any, dtype: Any = None) -> Any:
    return zeros_like(a, dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None) -> Any:
    return full(shape(a), fill_value, dtype=dtype or _like_dtype(a))


def _like_dtype(a: Any) -> np.dtype:
    a = _array_like(a)
    return a.dtype if isinstance(a, TracedArray) else np.asarray(a).dtype


def asarray(x: Any, dtype: Any = None) -> Any:
    """`x` as an array (a list of traced arrays: stacked)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.asarray(x, dtype=dtype)
    return x if dtype is None else astype(x, dtype)


def array(object: Any, dtype: Any = None, *, copy: bool = True, ndmin: int = 0) -> Any:  # noqa: A002
    """NumPy's array of `object`: nested lists and tuples of traced arrays
    and numbers are stacked (numbers as NumPy arrays, not weakly typed);
    `ndmin` prepends size-1 dimensions."""
    x = _array_like(object)
    if not isinstance(x, TracedArray):
        return np.array(x, dtype=dtype, copy=copy, ndmin=ndmin)
    x = _strong(x) if dtype is None else astype(x, dtype)
    if x.ndim < ndmin:
        x = reshape(x, (1,) * (ndmin - x.ndim) + x.shape)
    return x


def eye(N: int, M: Any = None, k: int = 0, dtype: Any = float) -> np.ndarray:
    return np.eye(N, M, k, dtype=dtype)


def identity(n: int, dtype: Any = float) -> np.ndarray:
    return np.identity(n, dtype=dtype)


def arange(*args: Any, **kwargs: Any) -> np.ndarray:
    """NumPy's arange (integer arguments give an int64 array, a constant)."""
    return np.arange(*args, **kwargs)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """NumPy's linspace: a NumPy array for constant bounds; for traced
    bounds (scalars or arrays, broadcast) NumPy's formula start + k * step
    with the last sample exactly `stop` when `endpoint`, in the bounds'
    float dtype (differentiable in them)."""
    lo, hi = _array_like(start), _array_like(stop)
    if not isinstance(lo, TracedArray) and not isinstance(hi, TracedArray):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    num = operator.index(num)
    if num < 0:
        raise TraceError(f"linspace: num must be >= 0, got {num}")
    delta = subtract(hi, lo)  # NumPy's promotion of the bounds
    kind = np.dtype(np.float64) if delta.dtype.kind != "f" else delta.dtype
    lo, delta = astype(lo, kind) if _dtype_of(lo) != kind else lo, astype(delta, kind)
    div = num - 1 if endpoint else num
    step = divide(delta, div) if div > 0 else multiply(delta, np.nan)
    steps = np.arange(num, dtype=kind).reshape((num,) + (1,) * delta.ndim)
    samples = add(multiply(steps, step), lo) if div > 0 else add(multiply(steps, delta), lo)
    if endpoint and num > 1:
        last = reshape(broadcast_to(astype(hi, kind) if _dtype_of(hi) != kind else hi, delta.shape), (1, *delta.shape))
        samples = concatenate([samples[:-1], last], axis=0)
    samples = moveaxis(samples, 0, axis)
    if dtype is not None:
        samples = astype(samples, dtype)
    return (samples, step) if retstep else samples


def _dtype_of(x: Any) -> np.dtype:
    return x.dtype if isinstance(x, TracedArray) else np.asarray(x).dtype


def tri(N: int, M: Any = None, k: int = 0, dtype: Any = float) -> np.ndarray:
    return np.tri(N, M, k, dtype=dtype)


__all__ = [
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "asarray",
    "array", "eye", "identity", "arange", "linspace", "tri",
]
