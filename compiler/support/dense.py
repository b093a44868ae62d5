"""NumPy arrays <-> builtin `dense<...>` attributes, through raw bytes (a
784x256 weight matrix converts in microseconds, not via Python floats)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IntegerType,
    TensorType,
)
from xdsl.ir import Attribute


def numpy_dtype(element_type: Attribute) -> np.dtype:
    """The NumPy dtype of a builtin element type (f32, f64, i32, i64, i1)."""
    if isinstance(element_type, Float32Type):
        return np.dtype(np.float32)
    if isinstance(element_type, Float64Type):
        return np.dtype(np.float64)
    if isinstance(element_type, IntegerType) and element_type.width.data == 1:
        return np.dtype(np.bool_)
    if isinstance(element_type, IntegerType) and element_type.width.data in (32, 64):
        return np.dtype(np.int32 if element_type.width.data == 32 else np.int64)
    raise ValueError(f"no NumPy dtype for element type {element_type}")


def element_type(dtype: np.dtype | type) -> Attribute:
    """The builtin element type of a NumPy dtype (float32, float64, int32,
    int64, bool)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return Float32Type()
    if dtype == np.float64:
        return Float64Type()
    if dtype == np.bool_:
        return IntegerType(1)
    if dtype == np.int32:
        return IntegerType(32)
    if dtype == np.int64:
        return IntegerType(64)
    raise ValueError(
        f"unsupported dtype {dtype}: gradc arrays are float32, float64, int32, int64 or bool"
    )


def dense_to_numpy(value: DenseIntOrFPElementsAttr) -> np.ndarray:
    typ = value.type
    dtype = numpy_dtype(typ.get_element_type())
    shape = tuple(typ.get_shape())
    raw = value.data.data
    if dtype == np.bool_:
        data = np.frombuffer(raw, dtype=np.uint8) != 0
    else:
        data = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
    if data.size == 1:
        return np.full(shape, data[0], dtype=dtype)
    return data.reshape(shape)


def splat_element(value: DenseIntOrFPElementsAttr) -> np.generic | None:
    """The one element a splat attribute stores (however large its type),
    else None; unlike `dense_to_numpy`, never expands the splat."""
    dtype = numpy_dtype(value.type.get_element_type())
    raw = value.data.data
    if len(raw) != (1 if dtype == np.bool_ else dtype.itemsize):
        return None
    if dtype == np.bool_:
        return np.bool_(raw[0] != 0)
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)[0]


def numpy_to_dense(value: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense attribute holding `value` (float32, float64, int32, int64 or bool)."""
    value = np.asarray(value)
    typ = TensorType(element_type(value.dtype), list(value.shape))
    if value.dtype == np.bool_:
        raw = np.where(value, 0xFF, 0x00).astype(np.uint8).tobytes()
    else:
        raw = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
    return DenseIntOrFPElementsAttr(typ, BytesAttr(raw))


def splat_dense(value: object, dtype: np.dtype, shape: Sequence[int]) -> DenseIntOrFPElementsAttr:
    """A splat: one stored element standing for every element of `shape`."""
    typ = TensorType(element_type(dtype), list(shape))
    if np.dtype(dtype) == np.bool_:
        raw = b"\xff" if value else b"\x00"
    else:
        raw = np.asarray(value, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    return DenseIntOrFPElementsAttr(typ, BytesAttr(raw))
