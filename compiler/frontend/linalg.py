"""Matrix products: matmul (operator @), dot, and the composites outer,
inner, vdot, kron, trace and `gnp.linalg.norm` (`norm` here).

Expects: operands of at least one dimension for matmul; dot also takes
scalars, as NumPy's does.

Guarantees: one `array.matmul` on 2-D or batched operands: 1-D operands
become row or column vectors and lose that dimension again, batch
dimensions broadcast; N-D dot is a matmul over reshaped operands.
Misaligned shapes are a `GradcError` naming both shapes. norm's
derivative at 0 is NaN, as in JAX; norms that need a singular value
decomposition (matrix ord 2, -2, 'nuc') are a `GradcError`.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import abs, astype, multiply, not_equal, power, sqrt, where
from gradc.frontend.operands import (
    _array_like,
    _broadcast,
    _FLOATS,
    _lift,
    _normalize_axis,
    _operand,
    _require_float,
    _reshape,
    _resolve,
    _shape_of,
    _strong,
    broadcast_shapes,
)
from gradc.frontend.reductions import max, min, sum
from gradc.frontend.shapes import _strong_operand, diagonal, moveaxis, ravel, reshape, transpose
from gradc.frontend.tracer import TracedArray, _trace_of

def _matmul(name: str, x: Any, y: Any) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return np.matmul(x, y)
    x, y = _operand(name, x), _operand(name, y)
    x_dtype, y_dtype, out_dtype = _resolve(name, np.matmul, (x, y))
    _require_float(name, out_dtype, (x, y))
    a, b = _lift(trace, x, x_dtype), _lift(trace, y, y_dtype)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise TraceError(
            f"{name}: operands must have at least one dimension, got shapes {sa} and {sb} "
            "(use * to multiply by a scalar)"
        )
    a2 = a if a.ndim >= 2 else _reshape(a, (1, sa[0]))
    b2 = b if b.ndim >= 2 else _reshape(b, (sb[0], 1))
    if a2.shape[-1] != b2.shape[-2]:
        raise TraceError(
            f"{name}: shapes {sa} and {sb} are not aligned: {sa[-1]} (last dimension of "
            f"the first) != {b2.shape[-2]} ({'only' if b.ndim == 1 else 'second-to-last'} "
            "dimension of the second)"
        )
    batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2], name=f"{name} (batch dimensions of {sa} and {sb})")
    a2 = _broadcast(a2, batch + a2.shape[-2:])
    b2 = _broadcast(b2, batch + b2.shape[-2:])
    result = trace.emit(array.MatmulOp(a2.value, b2.value))
    out_shape = batch + ((sa[-2],) if a.ndim >= 2 else ()) + ((sb[-1],) if b.ndim >= 2 else ())
    return _reshape(result, out_shape)


def matmul(x: Any, y: Any) -> Any:
    """NumPy's matmul: 1-D operands act as row/column vectors, leading
    (batch) dimensions broadcast."""
    return _matmul("matmul", x, y)


def dot(x: Any, y: Any) -> Any:
    """NumPy's dot: products with scalars, matmul up to 2-D, and for N-D a sum
    over the last axis of x and the second-to-last of y."""
    x, y = _array_like(x), _array_like(y)
    trace = _trace_of("dot", (x, y))
    if trace is None:
        return np.dot(x, y)
    sx, sy = _shape_of(_operand("dot", x)), _shape_of(_operand("dot", y))
    if not sx or not sy:
        # np.dot takes a Python number as a (strong) array, unlike a ufunc.
        return multiply(_strong_operand("dot", x), _strong_operand("dot", y))
    if (len(sx) <= 2 and len(sy) <= 2) or len(sy) == 1:
        return _matmul("dot", x, y)
    x, y = _operand("dot", x), _operand("dot", y)
    x_dtype, y_dtype, out_dtype = _resolve("dot", np.matmul, (x, y))
    _require_float("dot", out_dtype, (x, y))
    a, b = _lift(trace, x, x_dtype), _lift(trace, y, y_dtype)
    k = sx[-1]
    if sy[-2] != k:
        raise TraceError(
            f"dot: shapes {sx} and {sy} are not aligned: {k} (last dimension of the first) "
            f"!= {sy[-2]} (second-to-last dimension of the second)"
        )
    perm = (b.ndim - 2, *(d for d in range(b.ndim) if d != b.ndim - 2))
    b2 = _reshape(transpose(b, perm), (k, b.size // k if k else 0))
    a2 = _reshape(a, (a.size // k if k else 0, k))
    return _reshape(matmul(a2, b2), sx[:-1] + sy[:-2] + sy[-1:])


def outer(a: Any, b: Any) -> Any:
    """a.ravel()[:, None] * b.ravel()[None, :]."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("outer", (a, b)) is None:
        return np.outer(a, b)
    a, b = ravel(_strong_operand("outer", a)), ravel(_strong_operand("outer", b))
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def inner(a: Any, b: Any) -> Any:
    """Sum of products over the last axes of a and b (scalars multiply)."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("inner", (a, b)) is None:
        return np.inner(a, b)
    a, b = _strong_operand("inner", a), _strong_operand("inner", b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise TraceError(f"inner: shapes {a.shape} and {b.shape} differ in their last dimension")
    if b.ndim == 1:
        return _matmul("inner", a, b)
    return dot(a, moveaxis(b, -1, -2))


def vdot(a: Any, b: Any) -> Any:
    """Sum of products of the flattened a and b (real arrays: no conjugate)."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("vdot", (a, b)) is None:
        return np.vdot(a, b)
    a, b = ravel(_strong_operand("vdot", a)), ravel(_strong_operand("vdot", b))
    if a.shape != b.shape:
        raise TraceError(f"vdot: sizes {a.shape[0]} and {b.shape[0]} of the flattened arrays differ")
    return _matmul("vdot", a, b)


def kron(a: Any, b: Any) -> Any:
    """Kronecker product: blocks a[i, j] * b."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("kron", (a, b)) is None:
        return np.kron(a, b)
    a, b = _strong_operand("kron", a), _strong_operand("kron", b)
    d = builtins.max(a.ndim, b.ndim)
    sa, sb = (1,) * (d - a.ndim) + a.shape, (1,) * (d - b.ndim) + b.shape
    a2 = reshape(a, tuple(n for m in sa for n in (m, 1)))
    b2 = reshape(b, tuple(n for m in sb for n in (1, m)))
    return reshape(multiply(a2, b2), tuple(m * n for m, n in zip(sa, sb)))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None) -> Any:
    """Sum of the diagonal `offset` of the (axis1, axis2) planes."""
    a = _array_like(a)
    if _trace_of("trace", (a,)) is None:
        return np.trace(a, offset, axis1, axis2, dtype=dtype)
    d = diagonal(a, offset, axis1, axis2)
    if dtype is not None:
        d = astype(d, dtype)
    return sum(d, axis=-1)


def _norm_ord(ord: Any) -> Any:
    return ord.lower() if isinstance(ord, str) else ord


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """numpy.linalg.norm: vector norms (None/2, 1, inf, -inf, 0, any p) and
    matrix norms (None/'fro', 1, -1, inf, -inf) as sums and maxima of |x|.
    Its derivative at x = 0 is NaN where it takes a square root or a power
    (None, 2, 'fro', p), as in JAX."""
    x = _array_like(x)
    if _trace_of("linalg.norm", (x,)) is None:
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    x = _strong(x)
    if x.dtype not in _FLOATS:
        x = astype(x, np.float64)
    if isinstance(ord, TracedArray):
        raise TraceTypeError("linalg.norm: ord is a number or a string, not a traced array")
    if axis is None:
        if ord is None:
            return _keep_all(sqrt(sum(multiply(x, x))), x.ndim, keepdims)
        if x.ndim == 1:
            axes: tuple[int, ...] = (0,)
        elif x.ndim == 2:
            axes = (0, 1)
        else:
            raise TraceError(f"linalg.norm: an array of shape {x.shape} needs axis= for ord={ord!r}")
    else:
        items = axis if isinstance(axis, tuple | list) else (axis,)
        axes = tuple(_normalize_axis("linalg.norm", d, x.shape) for d in items)
        if len(axes) not in (1, 2) or len(set(axes)) != len(axes):
            raise TraceError(f"linalg.norm: axis must be one axis or two different ones, got {axis!r}")
    ord = _norm_ord(ord)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    return _matrix_norm(x, ord, axes, keepdims)


def _keep_all(r: Any, ndim: int, keepdims: bool) -> Any:
    return reshape(r, (1,) * ndim) if keepdims else r


def _vector_norm(x: Any, ord: Any, ax: int, keepdims: bool) -> Any:
    if isinstance(ord, str):
        raise TraceError(f"linalg.norm: ord={ord!r} is a matrix norm; a vector norm takes a number")
    if ord is None or ord == 2:
        return sqrt(sum(multiply(x, x), axis=ax, keepdims=keepdims))
    if ord == np.inf:
        return max(abs(x), axis=ax, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=ax, keepdims=keepdims)
    if ord == 0:
        return sum(where(not_equal(x, 0.0), np.ones((), x.dtype), np.zeros((), x.dtype)), axis=ax, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=ax, keepdims=keepdims)
    p = float(ord)
    return power(sum(power(abs(x), p), axis=ax, keepdims=keepdims), 1.0 / p)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    row, col = axes
    if ord is None or ord == "fro":
        r = sqrt(sum(multiply(x, x), axis=axes, keepdims=keepdims))
    elif ord in (1, -1, np.inf, -np.inf):
        # 1: largest column sum (sum over rows), inf: largest row sum.
        over, then = (row, col) if ord in (1, -1) else (col, row)
        sums = sum(abs(x), axis=over, keepdims=True)
        r = (max if ord > 0 else min)(sums, axis=then, keepdims=True)
        if not keepdims:
            r = reshape(r, tuple(n for d, n in enumerate(r.shape) if d not in axes))
    elif ord in (2, -2, "nuc"):
        raise TraceError(
            f"linalg.norm: the matrix norm ord={ord!r} needs a singular value decomposition, "
            "which gradc.numpy has no composition for; the Frobenius norm (ord=None) or "
            "ord=1/inf are sums and maxima"
        )
    else:
        raise TraceError(f"linalg.norm: invalid norm order {ord!r} for matrices")
    return r


__all__ = [
    "matmul", "dot", "outer", "inner", "vdot", "kron", "trace",
]
