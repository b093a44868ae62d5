"""`array` contractions and reductions: (batched) matmul, and sum and max
over sorted, unique axes.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from xdsl.dialects.builtin import DenseArrayBase, TensorType, i64
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
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
    static_shape,
    tensor_of,
)


@irdl_op_definition
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
    """Reduce over `axes` (sorted, unique); those dimensions disappear."""

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
        _require_float(self, self.input.type)
        axes = self.axis_list
        _require_axes(self, "axes", axes, len(shape))
        want = tensor_of(
            [n for d, n in enumerate(shape) if d not in axes],
            self.input.type.get_element_type(),
        )
        _expect_type(self, self.result.type, want)


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    name = "array.reduce_sum"


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    """Maximum over axes; NaN propagates, as in `numpy.max`."""

    name = "array.reduce_max"


REDUCE_OPS = (ReduceSumOp, ReduceMaxOp)
