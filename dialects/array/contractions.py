"""`array` contractions and reductions: (batched) matmul, sum and max over
sorted, unique axes, and argmax along one axis.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, TensorType, i64
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import (
    _expect_type,
    _ints,
    _require_axes,
    _require_float,
    _require_numeric,
    static_shape,
    tensor_of,
)
from gradc.dialects.deferred_format import op_definition


@op_definition
class MatmulOp(IRDLOperation):
    """Matrix product over the last two dimensions, with equal leading (batch)
    dimensions: [..., m, k] x [..., k, n] -> [..., m, n]."""

    name = "array.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = (
        "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        lhs, rhs = SSAValue.get(lhs), SSAValue.get(rhs)
        assert isinstance(lhs.type, TensorType) and isinstance(rhs.type, TensorType)
        a, b = lhs.type.get_shape(), rhs.type.get_shape()
        super().__init__(
            operands=[lhs, rhs],
            result_types=[tensor_of([*a[:-1], b[-1]], lhs.type.get_element_type())],
        )

    def verify_(self) -> None:
        a = static_shape(self, self.lhs)
        b = static_shape(self, self.rhs)
        _require_float(self, self.lhs.type, "lhs")
        if self.lhs.type.get_element_type() != self.rhs.type.get_element_type():
            raise VerifyException(
                f"{self.name}: element types differ: {self.lhs.type} and {self.rhs.type}"
            )
        if len(a) < 2 or len(a) != len(b):
            raise VerifyException(
                f"{self.name}: operands must both have rank >= 2 and equal rank, "
                f"got {self.lhs.type} and {self.rhs.type}"
            )
        if a[:-2] != b[:-2] or a[-1] != b[-2]:
            raise VerifyException(
                f"{self.name}: shapes {list(a)} and {list(b)} do not compose "
                f"([..., m, k] x [..., k, n] with equal batch dimensions)"
            )
        want = tensor_of([*a[:-1], b[-1]], self.lhs.type.get_element_type())
        _expect_type(self, self.result.type, want)


class ReduceOp(IRDLOperation, abc.ABC):
    """Reduce over `axes` (sorted, unique); those dimensions disappear.
    Floats or integers (an integer sum wraps, as NumPy's)."""

    input = operand_def(TensorType)
    axes = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)
    assembly_format = "$input `axes` $axes attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, axes: Sequence[int]):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        shape = [n for d, n in enumerate(input.type.get_shape()) if d not in axes]
        super().__init__(
            operands=[input],
            properties={"axes": DenseArrayBase.from_list(i64, sorted(axes))},
            result_types=[tensor_of(shape, input.type.get_element_type())],
        )

    @property
    def axis_list(self) -> tuple[int, ...]:
        return _ints(self.axes)

    def verify_(self) -> None:
        shape = static_shape(self, self.input)
        _require_numeric(self, self.input.type)
        axes = self.axis_list
        _require_axes(self, "axes", axes, len(shape))
        want = tensor_of(
            [n for d, n in enumerate(shape) if d not in axes],
            self.input.type.get_element_type(),
        )
        _expect_type(self, self.result.type, want)


@op_definition
class ReduceSumOp(ReduceOp):
    name = "array.reduce_sum"


@op_definition
class ReduceMaxOp(ReduceOp):
    """Maximum over axes; NaN propagates, as in `numpy.max`."""

    name = "array.reduce_max"


REDUCE_OPS = (ReduceSumOp, ReduceMaxOp)


@op_definition
class ArgMaxOp(IRDLOperation):
    """The index (i64) of the first maximum along `axis`, which disappears;
    a NaN counts as the maximum (the first NaN wins), as in `numpy.argmax`.
    Floats or integers; the axis must not be empty.

    `array.argmax %x axis 1 : tensor<3x4xf32> -> tensor<3xi64>`"""

    name = "array.argmax"
    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr.constr(type=i64))
    result = result_def(TensorType)
    assembly_format = "$input `axis` $axis attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, axis: int):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        shape = [n for d, n in enumerate(input.type.get_shape()) if d != axis]
        super().__init__(
            operands=[input],
            properties={"axis": IntegerAttr(axis, i64)},
            result_types=[tensor_of(shape, i64)],
        )

    @property
    def axis_index(self) -> int:
        return self.axis.value.data

    def verify_(self) -> None:
        shape = static_shape(self, self.input)
        _require_numeric(self, self.input.type)
        axis = self.axis_index
        if not 0 <= axis < len(shape):
            raise VerifyException(f"{self.name}: axis must be in [0, {len(shape)}), got {axis}")
        if shape[axis] == 0:
            raise VerifyException(f"{self.name}: axis {axis} of {self.input.type} is empty")
        _expect_type(self, self.result.type, tensor_of([n for d, n in enumerate(shape) if d != axis], i64))
