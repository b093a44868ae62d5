"""Operands of traced ops: how traced arrays, NumPy arrays, Python numbers
and lists of them meet. NumPy 2's dtype rules (weak Python scalars, type
promotion, `ufunc.resolve_dtypes`), broadcasting, constants, axes.

Expects: the values a gnp function was given, as given.

Guarantees: each op family turns its operands into traced arrays of one
trace here, with the dtype NumPy would compute in and the broadcast shape
(`array.convert`, `array.broadcast`, `array.constant` as needed, a splat
constant when all elements are equal); a dtype gradc lacks (int8, uint8,
float16, ...), shapes that do not broadcast or an axis out of range is a
`GradcError` naming the operation and the operands. A Python int too
large for the integer dtype it meets is one too (NumPy 2 raises).

Public: the dtypes `float32`, `float64`, `int32`, `int64`, `bool_`, the constants `newaxis`,
`pi`, `e`, `inf`, `nan`, and `broadcast_shapes`.
The dtype and broadcasting rules, and why Python scalars are weak:
docs/frontend.md.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.compositions import COMPLEX
from gradc.frontend.tracer import UINT32, Trace, TracedArray, _within_lists
from gradc.support.dense import element_type, numpy_to_dense, splat_dense

float32 = np.float32
float64 = np.float64
int32 = np.int32
int64 = np.int64
bool_ = np.bool_
newaxis = None
pi = np.pi
e = np.e
inf = np.inf
nan = np.nan

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
_I32 = np.dtype(np.int32)
_I64 = np.dtype(np.int64)
_FLOATS = (_F32, _F64)
_INTS = (_I32, _I64)
_NUMERIC = (*_FLOATS, *_INTS)
_ARRAY_DTYPES = (_F32, _F64, _BOOL, _I32, _I64)


def _array_like(x: Any) -> Any:
    """`x`, or, for a (nested) list or tuple holding traced arrays, the
    array NumPy would make of it (stacked, as `stack` does)."""
    if isinstance(x, list | tuple) and _holds_traced(x):
        from gradc.frontend.shapes import stack  # shapes builds on this module

        return stack([_array_like(v) for v in x])
    return x


def _holds_traced(items: Sequence[Any]) -> bool:
    return builtins.any(isinstance(v, TracedArray) for v in _within_lists(items))


Operand = Any  # TracedArray | np.ndarray | bool | int | float


def _operand(name: str, x: Any) -> Operand:
    """`x` as NumPy would see it: traced arrays and Python numbers as they
    are (numbers are weakly typed), lists holding traced arrays stacked,
    everything else as an ndarray (NumPy scalars too: np.float64 is a
    subclass of float, but strongly typed)."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        if x.dtype == UINT32:
            raise TraceTypeError(
                f"{name}: a uint32 traced array {x.shape} (a gradc.random key): only gradc.random's "
                "functions take keys (split, fold_in, uniform, ...); gradc computes in int32, int64, "
                "float32, float64 and bool"
            )
        return x
    if isinstance(x, np.ndarray | np.generic | list | tuple):
        arr = np.asarray(x)
        if arr.dtype.kind == "c":
            raise TraceTypeError(f"{name}: a {arr.dtype.name} array operand: {COMPLEX}")
        if arr.dtype.kind not in "biuf":
            raise TraceTypeError(f"{name}: cannot use an array of dtype {arr.dtype} as an operand")
        return arr
    if isinstance(x, bool | int | float):
        return x
    if isinstance(x, complex):
        raise TraceTypeError(f"{name}: a Python complex operand ({x!r}): {COMPLEX}")
    raise TraceTypeError(
        f"{name}: expected an array or a number, got {type(x).__name__} {x!r:.60}"
    )


def _shape_of(x: Operand) -> tuple[int, ...]:
    return x.shape if isinstance(x, TracedArray | np.ndarray) else ()


def _is_weak(x: Operand) -> bool:
    if isinstance(x, TracedArray):
        return x.weak
    return isinstance(x, int | float) and not isinstance(x, bool)


_WEAK_KEYS = {"i": int, "f": float}
"""A weakly typed traced scalar as `ufunc.resolve_dtypes` takes it: a
Python int (int64) or float (float64) argument; a weak bool (a comparison
of weak scalars) is just bool, as a Python bool is in NumPy."""


def _ufunc_key(x: Operand) -> Any:
    """What `ufunc.resolve_dtypes` takes for `x`: a dtype, or the Python type
    `int`/`float` for a weakly typed scalar."""
    if isinstance(x, TracedArray):
        return _WEAK_KEYS.get(x.dtype.kind, x.dtype) if x.weak else x.dtype
    if isinstance(x, bool):
        return _BOOL
    if isinstance(x, int):
        return int
    if isinstance(x, float):
        return float
    return x.dtype


def _promotion_key(x: Operand) -> Any:
    """What `numpy.result_type` takes for `x` (Python numbers are weak there)."""
    if isinstance(x, TracedArray):
        return {"i": 0, "f": 0.0}.get(x.dtype.kind, x.dtype) if x.weak else x.dtype
    if isinstance(x, bool | int | float):
        return x
    return x.dtype


def _describe(x: Operand) -> str:
    if isinstance(x, TracedArray):
        if x.weak:
            return "a Python int" if x.dtype.kind == "i" else "a Python float"
        return f"{x.dtype.name}{list(x.shape)}"
    if isinstance(x, bool | int | float):
        return f"a Python {type(x).__name__}"
    return f"a NumPy {x.dtype.name}{list(x.shape)} array"


def _resolve(name: str, ufunc: np.ufunc, operands: Sequence[Operand]) -> tuple[np.dtype, ...]:
    """NumPy's dtypes for `ufunc` on `operands`: inputs..., output."""
    try:
        return ufunc.resolve_dtypes((*map(_ufunc_key, operands), None))
    except TypeError as err:
        raise TraceTypeError(
            f"{name}: NumPy does not compute {ufunc.__name__} of "
            f"{' and '.join(map(_describe, operands))} ({err})"
        ) from None


def _require_float(name: str, dtype: np.dtype, operands: Sequence[Operand], ints: bool = False) -> None:
    """NumPy computes in a float dtype (or, with `ints`, in int32/int64)."""
    if dtype in _FLOATS or (ints and dtype in _INTS):
        return
    kinds = "float32, float64, int32 or int64" if ints else "float32 or float64"
    raise TraceTypeError(
        f"{name}: NumPy computes this in {dtype.name} for "
        f"{' and '.join(map(_describe, operands))}; gradc computes it in {kinds} "
        "only, so convert first, e.g. x.astype(np.float32)"
    )


def _dtype_arg(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TraceTypeError(f"{name}: {dtype!r} is not a dtype") from None
    if dt.kind == "c":
        raise TraceTypeError(f"{name}: dtype {dt.name}: {COMPLEX}")
    if dt not in _ARRAY_DTYPES:
        raise TraceTypeError(
            f"{name}: dtype {dt.name} is not supported; gradc arrays are "
            "float32, float64, int32, int64 or bool"
        )
    return dt


def broadcast_shapes(*shapes: Sequence[int], name: str = "broadcast_shapes") -> tuple[int, ...]:
    """NumPy's broadcast of `shapes` (right-aligned, size 1 repeats)."""
    ndim = builtins.max((len(s) for s in shapes), default=0)
    result = []
    for dims in zip(*((1,) * (ndim - len(s)) + tuple(s) for s in shapes)):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise TraceError(
                f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot "
                "be broadcast together (aligned on the right, each dimension must "
                "be equal or 1)"
            )
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


# ---------------------------------------------------------------------------
# Emitting ops
# ---------------------------------------------------------------------------


def _convert(x: TracedArray, dtype: np.dtype) -> TracedArray:
    if x.dtype == dtype:
        return x
    return x.trace.emit(array.ConvertOp(x.value, element_type(dtype)))


def _broadcast(x: TracedArray, shape: tuple[int, ...]) -> TracedArray:
    """`x` broadcast to `shape` (already checked to be compatible)."""
    if x.shape == shape:
        return x
    offset = len(shape) - x.ndim
    return x.trace.emit(array.BroadcastOp(x.value, range(offset, len(shape)), shape))


def _reshape(x: TracedArray, shape: tuple[int, ...]) -> TracedArray:
    if x.shape == shape:
        return x
    return x.trace.emit(array.ReshapeOp(x.value, shape))


def _strong(x: TracedArray) -> TracedArray:
    """`x`, no longer weakly typed (what a NumPy function returns)."""
    return TracedArray(x.value, x.trace) if x.weak else x


def _constant(trace: Trace, value: Any, dtype: np.dtype, shape: tuple[int, ...]) -> TracedArray:
    """A constant operand as an `array.constant` of `dtype`, broadcast to
    `shape`; a splat straight at `shape` when all its elements are equal."""
    if isinstance(value, int) and not isinstance(value, bool) and dtype.kind == "i":
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise TraceTypeError(
                f"the Python int {value} is out of bounds for {dtype.name} (NumPy 2 "
                "raises too); make it an array of a wider dtype first"
            )
    if dtype == UINT32:  # a key: its bits as i32 (see UINT32)
        bits = np.asarray(value, dtype=UINT32).view(np.int32)
        word = _constant(trace, bits, np.dtype(np.int32), shape)
        return TracedArray(word.value, trace, dtype=UINT32)
    arr = np.asarray(value, dtype=dtype)
    flat = arr.reshape(-1)
    if flat.size == 1 or (flat.size > 1 and bool((flat == flat[0]).all())):
        return trace.emit(array.ConstantOp(splat_dense(flat[0], dtype, shape)))
    return _broadcast(trace.emit(array.ConstantOp(numpy_to_dense(arr))), shape)


def _coerce(trace: Trace, x: Operand, dtype: np.dtype, shape: tuple[int, ...]) -> TracedArray:
    """Operand `x` as a traced array of `trace` with `dtype` and `shape`."""
    if isinstance(x, TracedArray):
        return _broadcast(_convert(trace.adopt(x), dtype), shape)
    return _constant(trace, x, dtype, shape)


def _lift(trace: Trace, x: Operand, dtype: np.dtype) -> TracedArray:
    """Operand `x` as a traced array of its own shape, in `dtype`."""
    return _coerce(trace, x, dtype, _shape_of(x))


# ---------------------------------------------------------------------------
# Axes
# ---------------------------------------------------------------------------


def _normalize_axis(name: str, axis: Any, shape: tuple[int, ...]) -> int:
    try:
        a = operator.index(axis)
    except TypeError:
        raise TraceTypeError(f"{name}: axis must be an integer, got {axis!r}") from None
    ndim = len(shape)
    if not -ndim <= a < ndim:
        raise TraceError(
            f"{name}: axis {a} is out of range for an array of shape {shape} "
            f"(ndim {ndim}, so axis must be in [{-ndim}, {ndim}))"
        )
    return a % ndim


def _normalize_axes(name: str, axis: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's `axis` (None, an int, a tuple; negative counts from the end)
    as sorted non-negative axes."""
    if axis is None:
        return tuple(range(len(shape)))
    items = axis if isinstance(axis, tuple | list) else (axis,)
    axes = [_normalize_axis(name, a, shape) for a in items]
    if len(set(axes)) != len(axes):
        raise TraceError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(axes))


__all__ = [
    "float32", "float64", "int32", "int64", "bool_", "newaxis", "pi", "e", "inf", "nan", "broadcast_shapes",
]
