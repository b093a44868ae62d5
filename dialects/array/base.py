"""Element types, shapes and the checks every `array` op's verifier shares.

Values of the dialect are statically shaped builtin tensors of f32, f64,
i32, i64 (signed integers, wrapping) or i1; `static_shape` and the `_require_*` helpers raise the VerifyException
(prefixed by the op's name) that says which of these an operand breaks.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float32Type,
    Float64Type,
    IntegerType,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.utils.exceptions import VerifyException

FLOAT_TYPES = (Float32Type, Float64Type)
INT_WIDTHS = (32, 64)
"""Widths of the integer element types (signless, read as signed two's
complement; arithmetic wraps, as NumPy's does)."""
COMPARE_PREDICATES = ("lt", "le", "gt", "ge", "eq", "ne")


def is_float(element_type: Attribute) -> bool:
    return isinstance(element_type, FLOAT_TYPES)


def is_bool(element_type: Attribute) -> bool:
    return isinstance(element_type, IntegerType) and element_type.width.data == 1


def is_int(element_type: Attribute) -> bool:
    """i32 or i64 (not i1, the bool type)."""
    return isinstance(element_type, IntegerType) and element_type.width.data in INT_WIDTHS


def is_numeric(element_type: Attribute) -> bool:
    """A float or an integer: what arithmetic, comparisons and sums take."""
    return is_float(element_type) or is_int(element_type)


def tensor_of(shape: Sequence[int], element_type: Attribute) -> TensorType:
    return TensorType(element_type, list(shape))


def static_shape(op: Operation, value: SSAValue | Attribute) -> tuple[int, ...]:
    """The shape of a tensor value, insisting that it is static."""
    typ = value.type if isinstance(value, SSAValue) else value
    if not isinstance(typ, TensorType):
        raise VerifyException(f"{op.name}: expected a tensor, got {typ}")
    shape = tuple(typ.get_shape())
    if any(d < 0 for d in shape):
        raise VerifyException(f"{op.name}: shapes must be static, got {typ}")
    return shape


def _require_float(op: Operation, typ: Attribute, what: str = "operand") -> None:
    assert isinstance(typ, TensorType)
    if not is_float(typ.get_element_type()):
        raise VerifyException(
            f"{op.name}: {what} must have element type f32 or f64, got {typ}"
        )


def _require_numeric(op: Operation, typ: Attribute, what: str = "operand") -> None:
    assert isinstance(typ, TensorType)
    if not is_numeric(typ.get_element_type()):
        raise VerifyException(
            f"{op.name}: {what} must have element type f32, f64, i32 or i64, got {typ}"
        )


def _require_int(op: Operation, typ: Attribute, what: str = "operand") -> None:
    assert isinstance(typ, TensorType)
    if not is_int(typ.get_element_type()):
        raise VerifyException(f"{op.name}: {what} must have element type i32 or i64, got {typ}")


def _require_array_element(op: Operation, typ: Attribute, what: str) -> None:
    """`typ` is a tensor of one of the dialect's element types (f32, f64,
    i32, i64, i1)."""
    assert isinstance(typ, TensorType)
    elem = typ.get_element_type()
    if not (is_numeric(elem) or is_bool(elem)):
        raise VerifyException(f"{op.name}: {what} must be f32, f64, i32, i64 or i1, got {typ}")


def _require_axes(op: Operation, name: str, axes: Sequence[int], rank: int) -> None:
    if list(axes) != sorted(set(axes)) or any(a < 0 or a >= rank for a in axes):
        raise VerifyException(
            f"{op.name}: {name} must be sorted, unique and in [0, {rank}), "
            f"got {list(axes)}"
        )


def _expect_type(op: Operation, got: Attribute, want: Attribute) -> None:
    if got != want:
        raise VerifyException(f"{op.name}: result type must be {want}, got {got}")


def _ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())
