"""Shape and joining gnp functions: reshape, ravel, squeeze, expand_dims,
transpose, broadcast_to, concatenate, stack, shape, ndim.

Expects: an array (or a sequence of them to join) and NumPy's shape and
axis arguments.

Guarantees: at most one `array.reshape`, `array.transpose`,
`array.broadcast` or `array.concatenate` per call (none when the shape
does not change); the result is strongly typed, as NumPy's is; a bad
shape, axis or permutation is a `GradcError` naming the shapes. Joined
arrays take their common NumPy dtype (Python numbers count as arrays
there, not weakly).
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.operands import (
    _ARRAY_DTYPES,
    Operand,
    _array_like,
    _broadcast,
    _lift,
    _normalize_axes,
    _normalize_axis,
    _operand,
    _promotion_key,
    _reshape,
    _strong,
)
from gradc.frontend.tracer import Trace, TracedArray, _trace_of

def _shape_arg(name: str, shape: Any) -> tuple[int, ...]:
    items = shape if isinstance(shape, Sequence) else (shape,)
    try:
        return tuple(operator.index(n) for n in items)
    except TypeError:
        raise TraceTypeError(f"{name}: a shape is a tuple of integers, got {shape!r}") from None


def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """Row-major reshape; one dimension may be -1 (inferred)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.reshape(a, shape, order=order)
    if order != "C":
        raise TraceError(f"reshape: only order='C' (row-major) is supported, got {order!r}")
    new = list(_shape_arg("reshape", shape))
    unknown = [i for i, n in enumerate(new) if n == -1]
    if len(unknown) > 1 or builtins.any(n < -1 for n in new):
        raise TraceError(
            f"reshape: bad target shape {tuple(new)} (one -1 at most, other sizes >= 0)"
        )
    known = math.prod(n for n in new if n != -1)
    if unknown:
        if known == 0 or a.size % known:
            raise TraceError(
                f"reshape: cannot reshape array of shape {a.shape} (size {a.size}) "
                f"into shape {tuple(new)}"
            )
        new[unknown[0]] = a.size // known
    if math.prod(new) != a.size:
        raise TraceError(
            f"reshape: cannot reshape array of shape {a.shape} (size {a.size}) into "
            f"shape {tuple(new)} (size {math.prod(new)})"
        )
    return _strong(_reshape(a, tuple(new)))


def ravel(a: Any) -> Any:
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.ravel(a)
    return reshape(a, (-1,))


def squeeze(a: Any, axis: Any = None) -> Any:
    """Drop size-1 dimensions (all of them, or those in `axis`)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.squeeze(a, axis=axis)
    if axis is None:
        axes = tuple(d for d, n in enumerate(a.shape) if n == 1)
    else:
        axes = _normalize_axes("squeeze", axis, a.shape)
        bad = [d for d in axes if a.shape[d] != 1]
        if bad:
            raise TraceError(
                f"squeeze: axis {bad[0]} of shape {a.shape} has size {a.shape[bad[0]]}, not 1"
            )
    return _strong(_reshape(a, tuple(n for d, n in enumerate(a.shape) if d not in axes)))


def expand_dims(a: Any, axis: Any) -> Any:
    """Insert size-1 dimensions at `axis` (positions in the result)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.expand_dims(a, axis)
    count = len(axis) if isinstance(axis, tuple | list) else 1
    out_ndim = a.ndim + count
    axes = _normalize_axes("expand_dims", axis, (1,) * out_ndim)
    rest = iter(a.shape)
    return _strong(_reshape(a, tuple(1 if d in axes else next(rest) for d in range(out_ndim))))


def transpose(a: Any, axes: Any = None) -> Any:
    """Permute dimensions (default: reverse them)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.transpose(a, axes)
    if axes is None:
        perm = tuple(reversed(range(a.ndim)))
    else:
        if len(axes) != a.ndim:
            raise TraceError(f"transpose: axes {tuple(axes)} don't match an array of shape {a.shape}")
        perm = tuple(_normalize_axis("transpose", d, a.shape) for d in axes)
        if sorted(perm) != list(range(a.ndim)):
            raise TraceError(f"transpose: axes {tuple(axes)} are not a permutation of the dimensions of shape {a.shape}")
    if perm == tuple(range(a.ndim)):
        return _strong(a)
    return a.trace.emit(array.TransposeOp(a.value, perm))


def broadcast_to(a: Any, shape: Any) -> Any:
    """`a` repeated to `shape` by NumPy's broadcasting rules."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.broadcast_to(a, shape)
    target = _shape_arg("broadcast_to", shape)
    if len(target) < a.ndim or builtins.any(
        n not in (1, m) for n, m in zip(a.shape, target[len(target) - a.ndim :])
    ):
        raise TraceError(f"broadcast_to: cannot broadcast shape {a.shape} to shape {target}")
    return _strong(_broadcast(a, target))


def _strong_operand(name: str, x: Any) -> Operand:
    x = _operand(name, x)
    if isinstance(x, TracedArray):
        return _strong(x)
    return np.asarray(x)


def _common_parts(name: str, trace: Trace, arrays: Sequence[Any]) -> list[TracedArray]:
    """`arrays` as traced arrays of their common dtype (NumPy converts Python
    numbers to arrays here, so they count as float64/int64, not weakly)."""
    operands = [_strong_operand(name, a) for a in arrays]
    dtype = np.result_type(*map(_promotion_key, operands))
    if dtype not in _ARRAY_DTYPES:
        raise TraceTypeError(
            f"{name}: NumPy gives {dtype.name}; gradc arrays are float32, float64 or bool"
        )
    return [_lift(trace, x, dtype) for x in operands]


def concatenate(arrays: Sequence[Any], axis: Any = 0) -> Any:
    """Join arrays along an existing axis (None: flatten them first)."""
    arrays = [_array_like(a) for a in arrays]
    trace = _trace_of("concatenate", arrays)
    if trace is None:
        return np.concatenate(arrays, axis=axis)
    parts = _common_parts("concatenate", trace, arrays)
    if axis is None:
        parts, axis = [_reshape(p, (p.size,)) for p in parts], 0
    shapes = [p.shape for p in parts]
    if builtins.any(len(s) == 0 for s in shapes):
        raise TraceError("concatenate: zero-dimensional arrays cannot be concatenated")
    ax = _normalize_axis("concatenate", axis, shapes[0])
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or builtins.any(
            m != n for d, (m, n) in enumerate(zip(s, shapes[0])) if d != ax
        ):
            raise TraceError(
                f"concatenate: shapes {', '.join(map(str, shapes))} differ outside axis {ax}"
            )
    if len(parts) == 1:
        return _strong(parts[0])
    return trace.emit(array.ConcatenateOp([p.value for p in parts], ax))


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join equally shaped arrays along a new axis."""
    arrays = [_array_like(a) for a in arrays]
    trace = _trace_of("stack", arrays)
    if trace is None:
        return np.stack(arrays, axis=axis)
    parts = _common_parts("stack", trace, arrays)
    shapes = {p.shape for p in parts}
    if len(shapes) != 1:
        raise TraceError(f"stack: all input arrays must have the same shape, got {sorted(shapes)}")
    (common,) = shapes
    ax = _normalize_axis("stack", axis, (1,) * (len(common) + 1))
    return concatenate([_reshape(p, common[:ax] + (1,) + common[ax:]) for p in parts], axis=ax)


def shape(a: Any) -> tuple[int, ...]:
    a = _array_like(a)
    return a.shape if isinstance(a, TracedArray) else np.shape(a)


def ndim(a: Any) -> int:
    a = _array_like(a)
    return a.ndim if isinstance(a, TracedArray) else np.ndim(a)


__all__ = [
    "reshape", "ravel", "squeeze", "expand_dims", "transpose", "broadcast_to", "concatenate",
    "stack", "shape", "ndim",
]
