"""The `array` dialect: value-semantics array math on builtin tensors.

Every value is a statically shaped `tensor<...>` of f32 or f64, or of i1
(the results of comparisons; bool arguments, and a scan's bool carries,
slices and per-step outputs). The primitive set is small on purpose: composite
operations (mean, softmax, logsumexp, relu, ...) are built by the frontend
from these, so each lowering and each derivative rule is written once.

Elementwise ops never broadcast implicitly: operands have identical types,
and NumPy broadcasting is spelled out with `array.broadcast`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from math import prod
from typing import ClassVar

from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    VarConstraint,
    base,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    AttrSizedOperandSegments,
    AttrSizedResultSegments,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

FLOAT_TYPES = (Float32Type, Float64Type)
COMPARE_PREDICATES = ("lt", "le", "gt", "ge", "eq", "ne")


def is_float(element_type: Attribute) -> bool:
    return isinstance(element_type, FLOAT_TYPES)


def is_bool(element_type: Attribute) -> bool:
    return isinstance(element_type, IntegerType) and element_type.width.data == 1


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


def _require_array_element(op: Operation, typ: Attribute, what: str) -> None:
    """`typ` is a tensor of one of the dialect's element types (f32, f64, i1)."""
    assert isinstance(typ, TensorType)
    elem = typ.get_element_type()
    if not (is_float(elem) or is_bool(elem)):
        raise VerifyException(f"{op.name}: {what} must be f32, f64 or i1, got {typ}")


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


# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A constant tensor: `array.constant dense<1.0> : tensor<2x2xf32>`."""

    name = "array.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    def verify_(self) -> None:
        static_shape(self, self.result)
        if self.value.type != self.result.type:
            raise VerifyException(
                f"{self.name}: value type {self.value.type} does not match "
                f"result type {self.result.type}"
            )
        _require_array_element(self, self.result.type, "element type")

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        attrs = parser.parse_optional_attr_dict()
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error("array.constant expects a dense<...> : tensor<...>")
        op = cls(value)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_op_attributes(self.attributes)
        printer.print_string(" ")
        printer.print_attribute(self.value)


# --------------------------------------------------------------------------
# Elementwise
# --------------------------------------------------------------------------


class SameTypeOp(IRDLOperation, abc.ABC):
    """One tensor in, one of the same type out."""

    T: ClassVar = VarConstraint("T", base(TensorType))
    input = operand_def(T)
    result = result_def(T)
    assembly_format = "$input attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation):
        input = SSAValue.get(input)
        super().__init__(operands=[input], result_types=[input.type])

    def verify_(self) -> None:
        static_shape(self, self.input)


class UnaryOp(SameTypeOp, abc.ABC):
    """Elementwise float -> float on one tensor."""

    def verify_(self) -> None:
        super().verify_()
        _require_float(self, self.input.type)


@irdl_op_definition
class StopGradientOp(SameTypeOp):
    """The identity, through which no derivative flows (JAX's
    `stop_gradient`): its JVP is zero and it passes no cotangent back. The
    differentiate pass erases it once no derivative request is left."""

    name = "array.stop_gradient"


@irdl_op_definition
class NegOp(UnaryOp):
    name = "array.neg"


@irdl_op_definition
class ExpOp(UnaryOp):
    name = "array.exp"


@irdl_op_definition
class LogOp(UnaryOp):
    name = "array.log"


@irdl_op_definition
class TanhOp(UnaryOp):
    name = "array.tanh"


@irdl_op_definition
class SinOp(UnaryOp):
    name = "array.sin"


@irdl_op_definition
class CosOp(UnaryOp):
    name = "array.cos"


@irdl_op_definition
class SqrtOp(UnaryOp):
    name = "array.sqrt"


@irdl_op_definition
class AbsOp(UnaryOp):
    name = "array.abs"


class BinaryOp(IRDLOperation, abc.ABC):
    """Elementwise float x float -> float on two tensors of one type."""

    T: ClassVar = VarConstraint("T", base(TensorType))
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(T)
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        lhs, rhs = SSAValue.get(lhs), SSAValue.get(rhs)
        super().__init__(operands=[lhs, rhs], result_types=[lhs.type])

    def verify_(self) -> None:
        static_shape(self, self.lhs)
        _require_float(self, self.lhs.type)


@irdl_op_definition
class AddOp(BinaryOp):
    name = "array.add"


@irdl_op_definition
class SubOp(BinaryOp):
    name = "array.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    name = "array.mul"


@irdl_op_definition
class DivOp(BinaryOp):
    name = "array.div"


@irdl_op_definition
class MaxOp(BinaryOp):
    """Elementwise maximum; NaN propagates, as in `numpy.maximum`."""

    name = "array.max"


@irdl_op_definition
class MinOp(BinaryOp):
    """Elementwise minimum; NaN propagates, as in `numpy.minimum`."""

    name = "array.min"


@irdl_op_definition
class PowOp(BinaryOp):
    name = "array.pow"


@irdl_op_definition
class CompareOp(IRDLOperation):
    """`array.compare lt %a, %b : tensor<4xf32>` gives a `tensor<4xi1>`."""

    name = "array.compare"
    T: ClassVar = VarConstraint("T", base(TensorType))
    predicate = prop_def(StringAttr)
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, predicate: str, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        lhs, rhs = SSAValue.get(lhs), SSAValue.get(rhs)
        assert isinstance(lhs.type, TensorType)
        super().__init__(
            operands=[lhs, rhs],
            properties={"predicate": StringAttr(predicate)},
            result_types=[tensor_of(lhs.type.get_shape(), IntegerType(1))],
        )

    def verify_(self) -> None:
        shape = static_shape(self, self.lhs)
        _require_float(self, self.lhs.type)
        if self.predicate.data not in COMPARE_PREDICATES:
            raise VerifyException(
                f"{self.name}: unknown predicate '{self.predicate.data}', "
                f"expected one of {', '.join(COMPARE_PREDICATES)}"
            )
        _expect_type(self, self.result.type, tensor_of(shape, IntegerType(1)))

    @classmethod
    def parse(cls, parser: Parser) -> CompareOp:
        pos = parser.pos
        predicate = parser.parse_identifier("comparison predicate")
        if predicate not in COMPARE_PREDICATES:
            parser.raise_error(
                f"unknown predicate '{predicate}', expected one of "
                f"{', '.join(COMPARE_PREDICATES)}",
                pos,
                parser.pos,
            )
        lhs = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        rhs = parser.parse_unresolved_operand()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        type_pos = parser.pos
        typ = parser.parse_type()
        if not isinstance(typ, TensorType):
            parser.raise_error(f"array.compare expects a tensor type, got {typ}", type_pos, parser.pos)
        lhs_v, rhs_v = parser.resolve_operands([lhs, rhs], [typ, typ], parser.pos)
        op = cls(predicate, lhs_v, rhs_v)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.predicate.data} ")
        printer.print_operand(self.lhs)
        printer.print_string(", ")
        printer.print_operand(self.rhs)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.lhs.type)


@irdl_op_definition
class SelectOp(IRDLOperation):
    """`array.select %cond, %a, %b : tensor<4xi1>, tensor<4xf32>`: a where cond, else b."""

    name = "array.select"
    T: ClassVar = VarConstraint("T", base(TensorType))
    cond = operand_def(TensorType)
    true_value = operand_def(T)
    false_value = operand_def(T)
    result = result_def(T)
    assembly_format = (
        "$cond `,` $true_value `,` $false_value attr-dict `:` type($cond) `,` type($result)"
    )
    traits = traits_def(Pure())

    def __init__(self, cond: SSAValue | Operation, a: SSAValue | Operation, b: SSAValue | Operation):
        a = SSAValue.get(a)
        super().__init__(operands=[cond, a, b], result_types=[a.type])

    def verify_(self) -> None:
        shape = static_shape(self, self.result)
        cond_type = self.cond.type
        assert isinstance(cond_type, TensorType)
        if not is_bool(cond_type.get_element_type()) or tuple(cond_type.get_shape()) != shape:
            raise VerifyException(
                f"{self.name}: condition must be {tensor_of(shape, IntegerType(1))}, "
                f"got {cond_type}"
            )


@irdl_op_definition
class ConvertOp(IRDLOperation):
    """Element type conversion between f32, f64 and i1 (i1 -> float gives 0/1;
    float -> i1 is `x != 0`)."""

    name = "array.convert"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue | Operation, element_type: Attribute):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        super().__init__(
            operands=[input],
            result_types=[tensor_of(input.type.get_shape(), element_type)],
        )

    def verify_(self) -> None:
        shape = static_shape(self, self.input)
        for typ in (self.input.type, self.result.type):
            _require_array_element(self, typ, "element types")
        if tuple(self.result.type.get_shape()) != shape:
            raise VerifyException(
                f"{self.name}: shapes must match, got {self.input.type} -> "
                f"{self.result.type}"
            )


# --------------------------------------------------------------------------
# Shape manipulation
# --------------------------------------------------------------------------


@irdl_op_definition
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


@irdl_op_definition
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


@irdl_op_definition
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


@irdl_op_definition
class SliceOp(IRDLOperation):
    """Strided slice: result dimension i takes start[i], start[i]+stride[i], ...
    below limit[i] (all non-negative; stride >= 1).

    `array.slice %a [1:4:1, 0:6:2] : tensor<5x6xf32> -> tensor<3x3xf32>`
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
            if st < 1 or not (0 <= s <= l <= n):
                raise VerifyException(
                    f"{self.name}: dimension {d}: slice {s}:{l}:{st} is out of "
                    f"bounds for size {n} (need 0 <= start <= limit <= size, stride >= 1)"
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


@irdl_op_definition
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


# --------------------------------------------------------------------------
# Contractions and reductions
# --------------------------------------------------------------------------


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


def slice_length(start: int, limit: int, stride: int) -> int:
    return max(0, (limit - start + stride - 1) // stride)




# --------------------------------------------------------------------------
# Loops with carried values
# --------------------------------------------------------------------------

INDEX_TYPE = TensorType(Float64Type(), [])
"""The type of a scan body's iteration index: a 0-d f64 tensor holding 0, 1,
..., length-1. The dialect computes in floats only (i1 values come from
comparisons and select, never from arithmetic), so an integer index would
need integer arithmetic that nothing else has; a float index is exact up to 2**53 steps and is used in
arithmetic directly (the frontend makes it weakly typed, like a Python int,
so it does not promote f32 code)."""


@irdl_op_definition
class ScanOp(IRDLOperation):
    """A loop with a static trip count and carried values (JAX's `lax.scan`).

    Operands: the initial carried values, stacked inputs `xs` (leading
    dimension = `length`; step i sees slice i) and the loop-invariant values
    the body uses. The body is isolated from above: its block takes
    (index, carries..., one slice of each xs..., invariants...) and yields
    (new carries..., per-step outputs...). Results: the final carries, then
    the per-step outputs stacked along a new leading dimension of `length`.

        %c, %ys = array.scan length 7 (%i) carries(%a = %init : tensor<3xf64>)
                    xs(%x = %xs : tensor<7x3xf64>) invariants() -> (tensor<7x3xf64>) {
          %b = array.add %a, %x : tensor<3xf64>
          array.yield %b, %b : tensor<3xf64>, tensor<3xf64>
        }

    The index is a 0-d f64 tensor (see INDEX_TYPE). With the `reverse` unit
    property (printed `length 7 reverse (%i)`), iteration k visits step
    length-1-k: it reads slice length-1-k of each xs, writes slice
    length-1-k of each stacked output, and its index argument is
    length-1-k (JAX's `scan(..., reverse=True)`); the reverse sweep of a
    scan's VJP is one."""

    name = "array.scan"
    length = prop_def(IntegerAttr.constr(type=i64))
    reverse = opt_prop_def(UnitAttr)
    initials = var_operand_def(TensorType)
    xs = var_operand_def(TensorType)
    invariants = var_operand_def(TensorType)
    finals = var_result_def(TensorType)
    ys = var_result_def(TensorType)
    body = region_def("single_block")
    irdl_options = (AttrSizedOperandSegments(as_property=True), AttrSizedResultSegments(as_property=True))
    traits = traits_def(IsolatedFromAbove(), RecursiveMemoryEffect())

    def __init__(
        self,
        length: int,
        initials: Sequence[SSAValue],
        xs: Sequence[SSAValue],
        invariants: Sequence[SSAValue],
        ys_types: Sequence[Attribute],
        body: Region,
        reverse: bool = False,
    ):
        properties: dict[str, Attribute] = {"length": IntegerAttr(length, i64)}
        if reverse:
            properties["reverse"] = UnitAttr()
        super().__init__(
            operands=[list(initials), list(xs), list(invariants)],
            result_types=[[v.type for v in initials], list(ys_types)],
            properties=properties,
            regions=[body],
        )

    @property
    def trip_count(self) -> int:
        return self.length.value.data

    @property
    def is_reverse(self) -> bool:
        return self.reverse is not None

    def steps(self) -> range:
        """The steps in the order the iterations visit them."""
        n = self.trip_count
        return range(n - 1, -1, -1) if self.is_reverse else range(n)

    @property
    def block(self) -> Block:
        return self.body.block

    def body_args(self) -> tuple[SSAValue, Sequence[SSAValue], Sequence[SSAValue], Sequence[SSAValue]]:
        """(index, carries, x slices, invariants) of the body block."""
        args = self.block.args
        c, x = len(self.initials), len(self.xs)
        return args[0], args[1 : 1 + c], args[1 + c : 1 + c + x], args[1 + c + x :]

    def yielded(self) -> tuple[Sequence[SSAValue], Sequence[SSAValue]]:
        """(new carries, per-step outputs) of the body's `array.yield`."""
        values = self.block.last_op.operands  # type: ignore[union-attr]
        return values[: len(self.initials)], values[len(self.initials) :]

    def verify_(self) -> None:
        n = self.trip_count
        if n < 1:
            raise VerifyException(f"{self.name}: length must be >= 1, got {n}")
        for v in (*self.operands, *self.results):
            static_shape(self, v)
            _require_array_element(self, v.type, "every operand and result")
        args = self.block.args
        want_args = 1 + len(self.initials) + len(self.xs) + len(self.invariants)
        if len(args) != want_args:
            raise VerifyException(
                f"{self.name}: the body takes {len(args)} arguments, expected {want_args} "
                f"(index, {len(self.initials)} carries, {len(self.xs)} xs slices, "
                f"{len(self.invariants)} invariants)"
            )
        index, carries, slices, invariants = self.body_args()
        if index.type != INDEX_TYPE:
            raise VerifyException(f"{self.name}: the body's index argument must be {INDEX_TYPE}, got {index.type}")
        for k, (init, arg) in enumerate(zip(self.initials, carries)):
            if arg.type != init.type:
                raise VerifyException(
                    f"{self.name}: carry {k}: the body argument has type {arg.type} "
                    f"but the initial value has type {init.type}"
                )
        for k, (x, arg) in enumerate(zip(self.xs, slices)):
            shape = static_shape(self, x)
            if not shape or shape[0] != n:
                raise VerifyException(
                    f"{self.name}: xs {k} of type {x.type} must have leading dimension "
                    f"{n} (the length)"
                )
            if arg.type != tensor_of(shape[1:], x.type.get_element_type()):
                raise VerifyException(
                    f"{self.name}: xs {k}: the body argument has type {arg.type}, "
                    f"expected one slice {tensor_of(shape[1:], x.type.get_element_type())}"
                )
        for k, (v, arg) in enumerate(zip(self.invariants, invariants)):
            if arg.type != v.type:
                raise VerifyException(
                    f"{self.name}: invariant {k}: the body argument has type {arg.type} "
                    f"but the operand has type {v.type}"
                )
        yield_op = self.block.last_op
        if not isinstance(yield_op, YieldOp):
            raise VerifyException(f"{self.name}: the body must end in array.yield")
        new, outs = self.yielded()
        if len(yield_op.values) != len(self.initials) + len(self.ys):
            raise VerifyException(
                f"{self.name}: the body yields {len(yield_op.values)} values, expected "
                f"{len(self.initials)} carries and {len(self.ys)} per-step outputs"
            )
        for k, (v, init) in enumerate(zip(new, self.initials)):
            if v.type != init.type:
                raise VerifyException(
                    f"{self.name}: carry {k}: the body yields {v.type} but the carry "
                    f"has type {init.type}"
                )
        for k, (v, final) in enumerate(zip(self.finals, self.initials)):
            if v.type != final.type:
                raise VerifyException(f"{self.name}: final carry {k} must have type {final.type}, got {v.type}")
        for k, (v, y) in enumerate(zip(outs, self.ys)):
            want = tensor_of([n, *static_shape(self, v)], v.type.get_element_type())
            if y.type != want:
                raise VerifyException(
                    f"{self.name}: per-step output {k} is {v.type}, so its stacked "
                    f"result must be {want}, got {y.type}"
                )

    def print(self, printer: Printer) -> None:
        index, carries, slices, invariants = self.body_args()
        printer.print_string(f" length {self.trip_count}{' reverse' if self.is_reverse else ''} (")
        printer.print_operand(index)
        printer.print_string(")")
        for word, args, values in (
            ("carries", carries, self.initials),
            ("xs", slices, self.xs),
            ("invariants", invariants, self.invariants),
        ):
            printer.print_string(f" {word}(")
            for k, (arg, value) in enumerate(zip(args, values)):
                if k:
                    printer.print_string(", ")
                printer.print_operand(arg)
                printer.print_string(" = ")
                printer.print_operand(value)
                printer.print_string(" : ")
                printer.print_attribute(value.type)
            printer.print_string(")")
        printer.print_string(" -> (")
        printer.print_list(self.ys.types, printer.print_attribute)
        printer.print_string(") ")
        printer.print_region(self.body, print_entry_block_args=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ScanOp:
        parser.parse_keyword("length")
        length = parser.parse_integer(allow_boolean=False)
        reverse = parser.parse_optional_keyword("reverse") is not None
        parser.parse_punctuation("(")
        index = parser.parse_argument(expect_type=False).resolve(INDEX_TYPE)
        parser.parse_punctuation(")")

        def parse_group(word: str) -> tuple[list[SSAValue], list]:
            parser.parse_keyword(word)

            def parse_one() -> tuple:
                arg = parser.parse_argument(expect_type=False)
                parser.parse_punctuation("=")
                operand = parser.parse_unresolved_operand()
                parser.parse_punctuation(":")
                pos = parser.pos
                typ = parser.parse_type()
                if not isinstance(typ, TensorType):
                    parser.raise_error(f"array.scan expects tensor types, got {typ}", pos, parser.pos)
                return arg, parser.resolve_operand(operand, typ)

            pairs = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parse_one)
            return [v for _, v in pairs], [a for a, _ in pairs]

        initials, carry_args = parse_group("carries")
        xs, slice_args = parse_group("xs")
        invariants, invariant_args = parse_group("invariants")
        parser.parse_punctuation("->")
        ys_types = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
        block_args = [index]
        block_args += [a.resolve(v.type) for a, v in zip(carry_args, initials)]
        for a, v in zip(slice_args, xs):
            shape = tuple(v.type.get_shape())  # type: ignore[union-attr]
            block_args.append(a.resolve(tensor_of(shape[1:], v.type.get_element_type())))  # type: ignore[union-attr]
        block_args += [a.resolve(v.type) for a, v in zip(invariant_args, invariants)]
        body = parser.parse_region(block_args)
        attrs = parser.parse_optional_attr_dict()
        op = cls(length, initials, xs, invariants, ys_types, body, reverse)
        op.attributes.update(attrs)
        return op


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a scan body: the new carried values, then one per-step output each."""

    name = "array.yield"
    values = var_operand_def(TensorType)
    assembly_format = "($values^ `:` type($values))? attr-dict"
    traits = traits_def(IsTerminator(), HasParent(ScanOp))

    def __init__(self, values: Sequence[SSAValue | Operation]):
        super().__init__(operands=[[SSAValue.get(v) for v in values]])


UNARY_OPS = (NegOp, ExpOp, LogOp, TanhOp, SinOp, CosOp, SqrtOp, AbsOp)
BINARY_OPS = (AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, PowOp)
REDUCE_OPS = (ReduceSumOp, ReduceMaxOp)

Array = Dialect(
    "array",
    [
        ConstantOp,
        *UNARY_OPS,
        *BINARY_OPS,
        CompareOp,
        SelectOp,
        ConvertOp,
        StopGradientOp,
        BroadcastOp,
        ReshapeOp,
        TransposeOp,
        SliceOp,
        ConcatenateOp,
        MatmulOp,
        *REDUCE_OPS,
        ScanOp,
        YieldOp,
    ],
)
