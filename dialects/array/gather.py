"""`array.gather`: read elements at positions listed in a static table;
`array.dynamic_gather` and `array.scatter`: the same with the positions an
integer tensor operand (indices computed at run time).

`array.gather` is the op behind NumPy's advanced indexing with constant
indices (integer arrays, boolean masks), `take` and `take_along_axis`, and,
through its transpose (itself a gather, see the VJP rule), scatter-add and
`x.at[...]` with constant keys. `array.dynamic_gather` and `array.scatter`
(each other's transposes) serve traced index arrays; an index out of range
is clamped (mode "clip") or reads 0 / drops the update (mode "fill" /
"drop"), never an out-of-bounds access.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects.builtin import (
    BytesAttr,
    StringAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    IntegerType,
    TensorType,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, _ints, _require_int, _require_numeric, static_shape, tensor_of
from gradc.dialects.deferred_format import op_definition


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


@op_definition
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


GATHER_MODES = ("clip", "fill")
SCATTER_MODES = ("clip", "drop")
SCATTER_KINDS = ("add", "set")


def _check_indexed(op: Operation, input: SSAValue, indices: SSAValue, axes: Sequence[int]) -> tuple[int, ...]:
    """Verify `axes` against the input and `indices` (i32/i64, shape B + [len(axes)]); return B."""
    in_shape = static_shape(op, input)
    if not axes or len(set(axes)) != len(axes) or any(a < 0 or a >= len(in_shape) for a in axes):
        raise VerifyException(
            f"{op.name}: axes must be distinct, in [0, {len(in_shape)}) and at least one, got {list(axes)}"
        )
    _require_int(op, indices.type, "indices")
    shape = static_shape(op, indices)
    if not shape or shape[-1] != len(axes):
        raise VerifyException(
            f"{op.name}: indices {indices.type} must end in a dimension of size {len(axes)} (one per axis)"
        )
    return shape[:-1]


class _IndexOperand:
    """What the ops with an index operand share: their axes and the
    shape B of the index rows."""

    @property
    def axis_list(self) -> tuple[int, ...]:
        return _ints(self.axes)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.indices.type.get_shape())[:-1]


@op_definition
class DynamicGatherOp(_IndexOperand, IRDLOperation):
    """Gather along `axes` at positions held by an integer tensor: with
    `indices` of shape B + [len(axes)], result[b..., r...] is input at
    axes[k] = indices[b..., k] and at the other dimensions, in order, r....
    Mode "clip" clamps each index into [0, n - 1] (JAX's default for
    reads); mode "fill" gives 0 for a row with any index out of range.

    `array.dynamic_gather %x, %i axes [0] mode "clip" : tensor<3x4xf32>, tensor<2x1xi32> -> tensor<2x4xf32>`
    """

    name = "array.dynamic_gather"
    input = operand_def(TensorType)
    indices = operand_def(TensorType)
    axes = prop_def(DenseArrayBase.constr(i64))
    mode = prop_def(StringAttr)
    result = result_def(TensorType)
    assembly_format = (
        "$input `,` $indices `axes` $axes `mode` $mode attr-dict `:` type($input) `,` type($indices) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, indices: SSAValue | Operation, axes: Sequence[int], mode: str = "clip"):
        input, indices = SSAValue.get(input), SSAValue.get(indices)
        assert isinstance(input.type, TensorType) and isinstance(indices.type, TensorType)
        shape = input.type.get_shape()
        rest = [n for d, n in enumerate(shape) if d not in axes]
        super().__init__(
            operands=[input, indices],
            properties={"axes": DenseArrayBase.from_list(i64, list(axes)), "mode": StringAttr(mode)},
            result_types=[tensor_of([*indices.type.get_shape()[:-1], *rest], input.type.get_element_type())],
        )

    def verify_(self) -> None:
        batch = _check_indexed(self, self.input, self.indices, self.axis_list)
        if self.mode.data not in GATHER_MODES:
            raise VerifyException(f"{self.name}: mode must be one of {GATHER_MODES}, got {self.mode.data!r}")
        in_shape = static_shape(self, self.input)
        rest = [n for d, n in enumerate(in_shape) if d not in self.axis_list]
        if any(in_shape[a] == 0 for a in self.axis_list) and prod(batch) and prod(rest):
            raise VerifyException(f"{self.name}: cannot read from an empty indexed axis")
        _expect_type(self, self.result.type, tensor_of([*batch, *rest], self.input.type.get_element_type()))


@op_definition
class ScatterOp(_IndexOperand, IRDLOperation):
    """The input with `updates` combined in at positions held by an integer
    tensor: with `indices` of shape B + [len(axes)] and `updates` of shape
    B + (the input's other dimensions), row b of the updates goes to
    axes[k] = indices[b..., k], rows in row-major order of B; kind "add"
    sums duplicates, kind "set" keeps the last. Mode "clip" clamps each
    index into [0, n - 1]; mode "drop" skips a row with any index out of
    range (JAX's default for updates).

    `array.scatter %x, %i, %v axes [0] kind "add" mode "drop" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32> -> tensor<3x4xf32>`
    """

    name = "array.scatter"
    input = operand_def(TensorType)
    indices = operand_def(TensorType)
    updates = operand_def(TensorType)
    axes = prop_def(DenseArrayBase.constr(i64))
    kind = prop_def(StringAttr)
    mode = prop_def(StringAttr)
    result = result_def(TensorType)
    assembly_format = (
        "$input `,` $indices `,` $updates `axes` $axes `kind` $kind `mode` $mode attr-dict `:` type($input) `,` "
        "type($indices) `,` type($updates) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(
        self,
        input: SSAValue | Operation,
        indices: SSAValue | Operation,
        updates: SSAValue | Operation,
        axes: Sequence[int],
        kind: str = "add",
        mode: str = "drop",
    ):
        input = SSAValue.get(input)
        super().__init__(
            operands=[input, SSAValue.get(indices), SSAValue.get(updates)],
            properties={
                "axes": DenseArrayBase.from_list(i64, list(axes)),
                "kind": StringAttr(kind),
                "mode": StringAttr(mode),
            },
            result_types=[input.type],
        )

    def verify_(self) -> None:
        batch = _check_indexed(self, self.input, self.indices, self.axis_list)
        _require_numeric(self, self.input.type, "input")
        if self.kind.data not in SCATTER_KINDS:
            raise VerifyException(f"{self.name}: kind must be one of {SCATTER_KINDS}, got {self.kind.data!r}")
        if self.mode.data not in SCATTER_MODES:
            raise VerifyException(f"{self.name}: mode must be one of {SCATTER_MODES}, got {self.mode.data!r}")
        in_shape = static_shape(self, self.input)
        rest = [n for d, n in enumerate(in_shape) if d not in self.axis_list]
        want = tensor_of([*batch, *rest], self.input.type.get_element_type())
        if self.updates.type != want:
            raise VerifyException(f"{self.name}: updates must be {want}, got {self.updates.type}")
        if any(in_shape[a] == 0 for a in self.axis_list) and prod(batch) and prod(rest) and self.mode.data == "clip":
            raise VerifyException(f"{self.name}: cannot clip into an empty indexed axis")
        _expect_type(self, self.result.type, self.input.type)


def indexed_positions(
    shape: Sequence[int], axes: Sequence[int], indices: np.ndarray, mode: str
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """For an integer array `indices` (B + [len(axes)]) into `shape`: (the
    positions per axis, clamped into range, each of shape B; the rows all
    of whose indices are in range, shape B). Clamping an empty axis gives 0."""
    idx = np.asarray(indices, dtype=np.int64)
    ok = np.ones(idx.shape[:-1], bool)
    positions = []
    for k, a in enumerate(axes):
        column, n = idx[..., k], shape[a]
        ok &= (column >= 0) & (column < n)
        positions.append(np.clip(column, 0, max(n - 1, 0)))
    return tuple(positions), ok


__all__ = [
    "GATHER_MODES",
    "SCATTER_KINDS",
    "SCATTER_MODES",
    "DynamicGatherOp",
    "GatherOp",
    "ScatterOp",
    "index_table",
    "indexed_positions",
    "inverse_rows",
    "table_values",
]
