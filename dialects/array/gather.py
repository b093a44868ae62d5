"""`array.gather`: read elements at positions listed in a static table.

The one op behind NumPy's advanced indexing with constant indices (integer
arrays, boolean masks), `take` and `take_along_axis`, and, through its
transpose (itself a gather, see the VJP rule), scatter-add and `x.at[...]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    IntegerType,
    TensorType,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, _ints, static_shape, tensor_of


def index_table(indices: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense i32 (or i64, for values past 2^31) attribute holding `indices`."""
    data = np.asarray(indices, dtype=np.int64)
    wide = data.size and (data.max() >= 2**31 or data.min() < -(2**31))
    dtype = np.dtype("<i8" if wide else "<i4")
    typ = TensorType(IntegerType(dtype.itemsize * 8), list(data.shape))
    return DenseIntOrFPElementsAttr(typ, BytesAttr(np.ascontiguousarray(data, dtype=dtype).tobytes()))


def table_values(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The int64 array an `index_table` attribute holds (splats expanded)."""
    typ = attr.type
    width = typ.get_element_type().width.data
    shape = tuple(typ.get_shape())
    data = np.frombuffer(attr.data.data, dtype=np.dtype(f"<i{width // 8}")).astype(np.int64)
    if data.size == 1 and prod(shape) != 1:
        return np.full(shape, data[0], dtype=np.int64)
    return data.reshape(shape)


def inverse_rows(target: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For flat positions `target` (one per row b of a gather), the rows
    that read each position p < count: (rows, hit), both of shape
    [count, m] with m the largest number of rows per position; rows[p]
    lists them in increasing order, padded with 0 where hit is False."""
    counts = np.bincount(target, minlength=count)
    m = int(counts.max()) if counts.size else 0
    order = np.argsort(target, kind="stable")
    ranks = np.arange(target.size) - (np.cumsum(counts) - counts)[target[order]]
    rows = np.zeros((count, m), np.int64)
    hit = np.zeros((count, m), bool)
    rows[target[order], ranks] = order
    hit[target[order], ranks] = True
    return rows, hit


@irdl_op_definition
class GatherOp(IRDLOperation):
    """Gather along `axes` at the positions of a static table: with `indices`
    of shape B + [len(axes)], result[b..., r...] is input at axes[k] =
    indices[b..., k] and at the other dimensions, in order, r.... The
    result's shape is B followed by the input's other dimensions.

    `array.gather %x axes [0] indices dense<[[2], [0]]> : tensor<2x1xi32> : tensor<3x4xf32> -> tensor<2x4xf32>`
    """

    name = "array.gather"
    input = operand_def(TensorType)
    axes = prop_def(DenseArrayBase.constr(i64))
    indices = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(TensorType)
    assembly_format = (
        "$input `axes` $axes `indices` $indices attr-dict `:` type($input) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, axes: Sequence[int], indices: np.ndarray):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        shape = input.type.get_shape()
        table = np.asarray(indices)
        rest = [n for d, n in enumerate(shape) if d not in axes]
        super().__init__(
            operands=[input],
            properties={"axes": DenseArrayBase.from_list(i64, list(axes)), "indices": index_table(table)},
            result_types=[tensor_of([*table.shape[:-1], *rest], input.type.get_element_type())],
        )

    @property
    def axis_list(self) -> tuple[int, ...]:
        return _ints(self.axes)

    @property
    def table(self) -> np.ndarray:
        """The indices, int64, shape B + [len(axes)]."""
        return table_values(self.indices)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.indices.type.get_shape())[:-1]

    def verify_(self) -> None:
        in_shape = static_shape(self, self.input)
        axes = self.axis_list
        if not axes or len(set(axes)) != len(axes) or any(a < 0 or a >= len(in_shape) for a in axes):
            raise VerifyException(
                f"{self.name}: axes must be distinct, in [0, {len(in_shape)}) and at least one, got {list(axes)}"
            )
        element = self.indices.type.get_element_type()
        table_shape = tuple(self.indices.type.get_shape())
        if not (isinstance(element, IntegerType) and element.width.data in (32, 64)):
            raise VerifyException(f"{self.name}: indices must be i32 or i64, got {self.indices.type}")
        if not table_shape or table_shape[-1] != len(axes):
            raise VerifyException(
                f"{self.name}: indices {self.indices.type} must end in a dimension of size {len(axes)} (one per axis)"
            )
        table = self.table
        for k, a in enumerate(axes):
            column = table[..., k]
            if column.size and (column.min() < 0 or column.max() >= in_shape[a]):
                raise VerifyException(
                    f"{self.name}: indices for axis {a} must be in [0, {in_shape[a]}), got values in "
                    f"[{column.min()}, {column.max()}]"
                )
        rest = [n for d, n in enumerate(in_shape) if d not in axes]
        _expect_type(self, self.result.type, tensor_of([*table_shape[:-1], *rest], self.input.type.get_element_type()))


__all__ = ["GatherOp", "index_table", "inverse_rows", "table_values"]
