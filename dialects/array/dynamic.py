"""`array` ops indexed by values: `array.dynamic_slice` and
`array.dynamic_update_slice` (JAX's lax ops of those names).

A start index is a 0-d tensor of any numeric element type (f32, f64, or an
integer type), one per dimension; a float start is truncated toward zero.
Starts are clamped so that the window fits, start' = min(max(start, 0),
size - window) (a NaN start counts as 0), as JAX's are.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import DenseArrayBase, IntegerType, TensorType, i64
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, _ints, is_bool, is_float, static_shape, tensor_of
from gradc.dialects.deferred_format import op_definition


def _check_starts(op: Operation, starts: Sequence[SSAValue], rank: int) -> None:
    if len(starts) != rank:
        raise VerifyException(f"{op.name}: needs one start index per dimension ({rank}), got {len(starts)}")
    for k, s in enumerate(starts):
        typ = s.type
        element = typ.get_element_type() if isinstance(typ, TensorType) else None
        numeric = element is not None and (
            is_float(element) or (isinstance(element, IntegerType) and not is_bool(element))
        )
        if not numeric or tuple(typ.get_shape()):
            raise VerifyException(f"{op.name}: start index {k} must be a 0-d float or integer tensor, got {typ}")


@op_definition
class DynamicSliceOp(IRDLOperation):
    """The window of shape `sizes` at clamped `starts`:
    `array.dynamic_slice %x [%i, %j] sizes [1, 4] : tensor<5x4xf32>, tensor<f64>, tensor<f64> -> tensor<1x4xf32>`
    """

    name = "array.dynamic_slice"
    input = operand_def(TensorType)
    starts = var_operand_def(TensorType)
    sizes = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)
    assembly_format = (
        "$input `[` $starts `]` `sizes` $sizes attr-dict `:` type($input) `,` type($starts) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, starts: Sequence[SSAValue | Operation], sizes: Sequence[int]):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        super().__init__(
            operands=[input, [SSAValue.get(s) for s in starts]],
            properties={"sizes": DenseArrayBase.from_list(i64, list(sizes))},
            result_types=[tensor_of(sizes, input.type.get_element_type())],
        )

    @property
    def size_list(self) -> tuple[int, ...]:
        return _ints(self.sizes)

    def verify_(self) -> None:
        shape = static_shape(self, self.input)
        _check_starts(self, self.starts, len(shape))
        sizes = self.size_list
        if len(sizes) != len(shape) or any(not 0 <= k <= n for k, n in zip(sizes, shape)):
            raise VerifyException(
                f"{self.name}: sizes {list(sizes)} must give one size per dimension, each at most "
                f"the dimension's size {list(shape)}"
            )
        _expect_type(self, self.result.type, tensor_of(sizes, self.input.type.get_element_type()))


@op_definition
class DynamicUpdateSliceOp(IRDLOperation):
    """`input` with `update` written over the window at clamped `starts`:
    `array.dynamic_update_slice %x, %u [%i, %j] : tensor<5x4xf32>, tensor<1x4xf32>, tensor<f64>, tensor<f64> -> tensor<5x4xf32>`
    """

    name = "array.dynamic_update_slice"
    input = operand_def(TensorType)
    update = operand_def(TensorType)
    starts = var_operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = (
        "$input `,` $update `[` $starts `]` attr-dict `:` type($input) `,` type($update) `,` type($starts)"
        " `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, update: SSAValue | Operation, starts: Sequence[SSAValue | Operation]):
        input = SSAValue.get(input)
        super().__init__(
            operands=[input, SSAValue.get(update), [SSAValue.get(s) for s in starts]],
            result_types=[input.type],
        )

    def verify_(self) -> None:
        shape = static_shape(self, self.input)
        window = static_shape(self, self.update)
        _check_starts(self, self.starts, len(shape))
        if len(window) != len(shape) or any(k > n for k, n in zip(window, shape)):
            raise VerifyException(f"{self.name}: update {self.update.type} does not fit in {self.input.type}")
        if self.update.type.get_element_type() != self.input.type.get_element_type():
            raise VerifyException(f"{self.name}: element types must match")
        _expect_type(self, self.result.type, self.input.type)


def clamped_start(start: float, size: int, window: int) -> int:
    """The start a dynamic op uses: truncated, clamped into [0, size - window], NaN as 0."""
    if start != start:
        return 0
    return int(min(max(float(start), 0.0), float(size - window)))


__all__ = ["DynamicSliceOp", "DynamicUpdateSliceOp", "clamped_start"]
