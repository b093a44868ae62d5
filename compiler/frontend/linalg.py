"""Matrix products: matmul (operator @) and dot.

Expects: operands of at least one dimension for matmul; dot also takes
scalars, as NumPy's does.

Guarantees: one `array.matmul` on 2-D or batched operands: 1-D operands
become row or column vectors and lose that dimension again, batch
dimensions broadcast; N-D dot is a matmul over reshaped operands.
Misaligned shapes are a `GradcError` naming both shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError
from gradc.frontend.elementwise import multiply
from gradc.frontend.operands import (
    _array_like,
    _broadcast,
    _lift,
    _operand,
    _require_float,
    _reshape,
    _resolve,
    _shape_of,
    broadcast_shapes,
)
from gradc.frontend.shapes import _strong_operand, transpose
from gradc.frontend.tracer import _trace_of

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


__all__ = [
    "matmul", "dot",
]
