"""`array` shape ops: broadcast, reshape, transpose, mirror, strided slice
and concatenate. None changes an element; each verifies that its result type is
the one its properties give.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, TensorType, i64
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, _ints, static_shape, tensor_of
from gradc.dialects.array.elementwise import SameTypeOp
from gradc.dialects.deferred_format import op_definition


def slice_length(start: int, limit: int, stride: int) -> int:
    """Elements of start, start+stride, ... before limit (either direction)."""
    if stride < 0:
        return max(0, (start - limit - stride - 1) // -stride)
    return max(0, (limit - start + stride - 1) // stride)


@op_definition
class BroadcastOp(IRDLOperation):
    """Broadcast into a larger shape. Input dimension k becomes result
    dimension `dims[k]` (strictly increasing); it either has the result's size
    there or size 1, which is repeated. All other result dimensions are new.

    `array.broadcast %b dims [1] : tensor<10xf32> -> tensor<64x10xf32>`
    """

    name = "array.broadcast"
    input = operand_def(TensorType)
    dims = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)
    assembly_format = "$input `dims` $dims attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, dims: Sequence[int], shape: Sequence[int]):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        super().__init__(
            operands=[input],
            properties={"dims": DenseArrayBase.from_list(i64, list(dims))},
            result_types=[tensor_of(shape, input.type.get_element_type())],
        )

    @property
    def dim_map(self) -> tuple[int, ...]:
        return _ints(self.dims)

    def verify_(self) -> None:
        in_shape = static_shape(self, self.input)
        out_shape = static_shape(self, self.result)
        dims = self.dim_map
        if len(dims) != len(in_shape):
            raise VerifyException(
                f"{self.name}: dims has {len(dims)} entries but the input has rank "
                f"{len(in_shape)}"
            )
        if any(b <= a for a, b in zip(dims, dims[1:])) or any(
            d < 0 or d >= len(out_shape) for d in dims
        ):
            raise VerifyException(
                f"{self.name}: dims must be strictly increasing and in "
                f"[0, {len(out_shape)}), got {list(dims)}"
            )
        for k, d in enumerate(dims):
            if in_shape[k] not in (1, out_shape[d]):
                raise VerifyException(
                    f"{self.name}: input dimension {k} has size {in_shape[k]}, "
                    f"which cannot broadcast to size {out_shape[d]} of result "
                    f"dimension {d}"
                )
        if self.input.type.get_element_type() != self.result.type.get_element_type():
            raise VerifyException(f"{self.name}: element types must match")


@op_definition
class ReshapeOp(IRDLOperation):
    """Row-major reshape: `array.reshape %a : tensor<2x3xf32> -> tensor<6xf32>`."""

    name = "array.reshape"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, shape: Sequence[int]):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        super().__init__(
            operands=[input],
            result_types=[tensor_of(shape, input.type.get_element_type())],
        )

    def verify_(self) -> None:
        in_shape = static_shape(self, self.input)
        out_shape = static_shape(self, self.result)
        if prod(in_shape) != prod(out_shape):
            raise VerifyException(
                f"{self.name}: cannot reshape {self.input.type} ({prod(in_shape)} "
                f"elements) into {self.result.type} ({prod(out_shape)} elements)"
            )
        if self.input.type.get_element_type() != self.result.type.get_element_type():
            raise VerifyException(f"{self.name}: element types must match")


@op_definition
class TransposeOp(IRDLOperation):
    """Permute dimensions: result dimension i is input dimension `perm[i]`."""

    name = "array.transpose"
    input = operand_def(TensorType)
    permutation = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)
    assembly_format = (
        "$input `perm` $permutation attr-dict `:` type($input) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, perm: Sequence[int]):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        shape = input.type.get_shape()
        super().__init__(
            operands=[input],
            properties={"permutation": DenseArrayBase.from_list(i64, list(perm))},
            result_types=[
                tensor_of([shape[p] for p in perm], input.type.get_element_type())
            ],
        )

    @property
    def perm(self) -> tuple[int, ...]:
        return _ints(self.permutation)

    def verify_(self) -> None:
        in_shape = static_shape(self, self.input)
        perm = self.perm
        if sorted(perm) != list(range(len(in_shape))):
            raise VerifyException(
                f"{self.name}: {list(perm)} is not a permutation of "
                f"{list(range(len(in_shape)))}"
            )
        want = tensor_of(
            [in_shape[p] for p in perm], self.input.type.get_element_type()
        )
        _expect_type(self, self.result.type, want)


@op_definition
class MirrorOp(SameTypeOp):
    """Keep the upper triangle of each square matrix of the last two
    dimensions and copy it across the diagonal:
    `result[..., i, j] = input[..., min(i, j), max(i, j)]`, so the result is
    exactly symmetric. What a dense Hessian ends in (docs/differentiation.md,
    "Symmetric Hessians"); lower-array-to-loops computes only the kept
    triangle of a product it mirrors.

    `array.mirror %h : tensor<50x50xf64>`
    """

    name = "array.mirror"

    def verify_(self) -> None:
        shape = static_shape(self, self.input)
        if len(shape) < 2 or shape[-1] != shape[-2]:
            raise VerifyException(f"{self.name}: expected [..., n, n] matrices, got {self.input.type}")


@op_definition
class SliceOp(IRDLOperation):
    """Strided slice: result dimension i takes start[i], start[i]+stride[i], ...
    up to and excluding limit[i]. A positive stride needs
    0 <= start <= limit <= size; a negative one walks backwards and needs
    -1 <= limit <= start < size (limit -1: down to index 0 included).

    `array.slice %a [1:4:1, 5:-1:-2] : tensor<5x6xf32> -> tensor<3x3xf32>`
    """

    name = "array.slice"
    input = operand_def(TensorType)
    start = prop_def(DenseArrayBase.constr(i64))
    limit = prop_def(DenseArrayBase.constr(i64))
    stride = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(
        self,
        input: SSAValue | Operation,
        start: Sequence[int],
        limit: Sequence[int],
        stride: Sequence[int],
    ):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        shape = [slice_length(s, l, st) for s, l, st in zip(start, limit, stride)]
        super().__init__(
            operands=[input],
            properties={
                "start": DenseArrayBase.from_list(i64, list(start)),
                "limit": DenseArrayBase.from_list(i64, list(limit)),
                "stride": DenseArrayBase.from_list(i64, list(stride)),
            },
            result_types=[tensor_of(shape, input.type.get_element_type())],
        )

    @property
    def bounds(self) -> list[tuple[int, int, int]]:
        return list(zip(_ints(self.start), _ints(self.limit), _ints(self.stride)))

    def verify_(self) -> None:
        in_shape = static_shape(self, self.input)
        bounds = self.bounds
        if not (len(_ints(self.start)) == len(_ints(self.limit)) == len(_ints(self.stride)) == len(in_shape)):
            raise VerifyException(
                f"{self.name}: start, limit and stride need one entry per input "
                f"dimension ({len(in_shape)})"
            )
        for d, ((s, l, st), n) in enumerate(zip(bounds, in_shape)):
            ok = 0 <= s <= l <= n if st > 0 else st < 0 and -1 <= l <= s < n
            if not ok:
                raise VerifyException(
                    f"{self.name}: dimension {d}: slice {s}:{l}:{st} is out of "
                    f"bounds for size {n} (need 0 <= start <= limit <= size for a stride "
                    "> 0, -1 <= limit <= start < size for a stride < 0)"
                )
        want = tensor_of(
            [slice_length(*b) for b in bounds], self.input.type.get_element_type()
        )
        _expect_type(self, self.result.type, want)

    @classmethod
    def parse(cls, parser: Parser) -> SliceOp:
        operand = parser.parse_unresolved_operand()

        def parse_range() -> tuple[int, int, int]:
            s = parser.parse_integer(allow_boolean=False)
            parser.parse_punctuation(":")
            l = parser.parse_integer(allow_boolean=False)
            parser.parse_punctuation(":")
            st = parser.parse_integer(allow_boolean=False)
            return s, l, st

        ranges = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parse_range)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        in_type = parser.parse_type()
        parser.parse_punctuation("->")
        out_type = parser.parse_type()
        (value,) = parser.resolve_operands([operand], [in_type], parser.pos)
        op = cls.create(
            operands=[value],
            result_types=[out_type],
            properties={
                name: DenseArrayBase.from_list(i64, [r[k] for r in ranges])
                for k, name in enumerate(("start", "limit", "stride"))
            },
            attributes=attrs,
        )
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.input)
        printer.print_string(
            " [" + ", ".join(f"{s}:{l}:{st}" for s, l, st in self.bounds) + "]"
        )
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.input.type)
        printer.print_string(" -> ")
        printer.print_attribute(self.result.type)


@op_definition
class ConcatenateOp(IRDLOperation):
    """Join tensors along one axis:
    `array.concatenate axis 0 %a, %b : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<6x3xf32>`."""

    name = "array.concatenate"
    inputs = var_operand_def(TensorType)
    axis = prop_def(IntegerAttr.constr(type=i64))
    result = result_def(TensorType)
    assembly_format = (
        "`axis` $axis $inputs attr-dict `:` type($inputs) `->` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, inputs: Sequence[SSAValue | Operation], axis: int):
        values = [SSAValue.get(v) for v in inputs]
        first = values[0].type
        assert isinstance(first, TensorType)
        shape = list(first.get_shape())
        shape[axis] = sum(v.type.get_shape()[axis] for v in values)  # type: ignore[union-attr]
        super().__init__(
            operands=[values],
            properties={"axis": IntegerAttr(axis, i64)},
            result_types=[tensor_of(shape, first.get_element_type())],
        )

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException(f"{self.name}: needs at least one input")
        out_shape = static_shape(self, self.result)
        axis = self.axis.value.data
        if not 0 <= axis < len(out_shape):
            raise VerifyException(
                f"{self.name}: axis {axis} is out of range for rank {len(out_shape)}"
            )
        total = 0
        for v in self.inputs:
            shape = static_shape(self, v)
            if v.type.get_element_type() != self.result.type.get_element_type():
                raise VerifyException(f"{self.name}: element types must match")
            if len(shape) != len(out_shape) or any(
                a != b for d, (a, b) in enumerate(zip(shape, out_shape)) if d != axis
            ):
                raise VerifyException(
                    f"{self.name}: input {v.type} does not match {self.result.type} "
                    f"outside axis {axis}"
                )
            total += shape[axis]
        if total != out_shape[axis]:
            raise VerifyException(
                f"{self.name}: inputs add up to {total} along axis {axis}, "
                f"but the result has {out_shape[axis]}"
            )
