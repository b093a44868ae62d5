"""`array` constants and elementwise ops: unary and binary float math,
comparison, select, conversion and `stop_gradient`.

Operands of one op have identical types (no implicit broadcasting; see
`array.broadcast`); comparisons give i1 tensors of the operands' shape.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, StringAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    VarConstraint,
    base,
    operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import (
    COMPARE_PREDICATES,
    _expect_type,
    _require_array_element,
    _require_float,
    _require_numeric,
    is_bool,
    is_int,
    static_shape,
    tensor_of,
)
from gradc.dialects.deferred_format import op_definition


@op_definition
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
    """Elementwise float -> float on one tensor (also int -> int where
    `TAKES_INTS`: wrapping, as NumPy's)."""

    TAKES_INTS: ClassVar[bool] = False

    def verify_(self) -> None:
        super().verify_()
        if self.TAKES_INTS:
            _require_numeric(self, self.input.type)
        else:
            _require_float(self, self.input.type)


@op_definition
class StopGradientOp(SameTypeOp):
    """The identity, through which no derivative flows (JAX's
    `stop_gradient`): its JVP is zero and it passes no cotangent back. The
    differentiate pass erases it once no derivative request is left."""

    name = "array.stop_gradient"


@op_definition
class NegOp(UnaryOp):
    name = "array.neg"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class ExpOp(UnaryOp):
    name = "array.exp"


@op_definition
class LogOp(UnaryOp):
    name = "array.log"


@op_definition
class TanhOp(UnaryOp):
    name = "array.tanh"


@op_definition
class SinhOp(UnaryOp):
    name = "array.sinh"


@op_definition
class CoshOp(UnaryOp):
    name = "array.cosh"


@op_definition
class TanOp(UnaryOp):
    name = "array.tan"


@op_definition
class AsinOp(UnaryOp):
    name = "array.asin"


@op_definition
class AcosOp(UnaryOp):
    name = "array.acos"


@op_definition
class AtanOp(UnaryOp):
    name = "array.atan"


@op_definition
class AsinhOp(UnaryOp):
    name = "array.asinh"


@op_definition
class AcoshOp(UnaryOp):
    name = "array.acosh"


@op_definition
class AtanhOp(UnaryOp):
    name = "array.atanh"


@op_definition
class Log1pOp(UnaryOp):
    name = "array.log1p"


@op_definition
class Expm1Op(UnaryOp):
    name = "array.expm1"


@op_definition
class Log2Op(UnaryOp):
    name = "array.log2"


@op_definition
class Log10Op(UnaryOp):
    name = "array.log10"


@op_definition
class Exp2Op(UnaryOp):
    name = "array.exp2"


@op_definition
class ErfOp(UnaryOp):
    name = "array.erf"


@op_definition
class ErfcOp(UnaryOp):
    """1 - erf(x), accurate where erf(x) is near 1 (libm's erfc)."""

    name = "array.erfc"


class RoundingOp(UnaryOp, abc.ABC):
    """A float rounded to an integral float (`roundeven`: half to even, as
    NumPy's rint and round); piecewise constant, so its derivative is 0."""


@op_definition
class FloorOp(RoundingOp):
    name = "array.floor"


@op_definition
class CeilOp(RoundingOp):
    name = "array.ceil"


@op_definition
class RoundEvenOp(RoundingOp):
    name = "array.roundeven"


@op_definition
class TruncOp(RoundingOp):
    name = "array.trunc"


@op_definition
class SinOp(UnaryOp):
    name = "array.sin"


@op_definition
class CosOp(UnaryOp):
    name = "array.cos"


@op_definition
class SqrtOp(UnaryOp):
    name = "array.sqrt"


@op_definition
class AbsOp(UnaryOp):
    """|x|; of the most negative integer, itself (wraps, as NumPy)."""

    name = "array.abs"
    TAKES_INTS: ClassVar[bool] = True


class BinaryOp(IRDLOperation, abc.ABC):
    """Elementwise float x float -> float on two tensors of one type (also
    int x int -> int where `TAKES_INTS`: wrapping, as NumPy's)."""

    TAKES_INTS: ClassVar[bool] = False

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
        if self.TAKES_INTS:
            _require_numeric(self, self.lhs.type)
        else:
            _require_float(self, self.lhs.type)


@op_definition
class AddOp(BinaryOp):
    name = "array.add"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class SubOp(BinaryOp):
    name = "array.sub"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class MulOp(BinaryOp):
    name = "array.mul"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class DivOp(BinaryOp):
    """x / y. On integers (what floor_divide is built from; true division
    of integers is float64 in the frontend): truncated toward zero, with
    x / 0 = 0 (NumPy's value) and MIN / -1 = MIN (wraps); C would trap."""

    name = "array.div"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class MaxOp(BinaryOp):
    """Elementwise maximum; NaN propagates, as in `numpy.maximum`."""

    name = "array.max"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class MinOp(BinaryOp):
    """Elementwise minimum; NaN propagates, as in `numpy.minimum`."""

    name = "array.min"
    TAKES_INTS: ClassVar[bool] = True


@op_definition
class PowOp(BinaryOp):
    name = "array.pow"


@op_definition
class Atan2Op(BinaryOp):
    """atan2(lhs, rhs): the angle of the point (rhs, lhs), in [-pi, pi], with
    C's (and `numpy.arctan2`'s) signed zeros and infinities."""

    name = "array.atan2"


@op_definition
class CopySignOp(BinaryOp):
    """|lhs| with the sign bit of rhs (also of -0.0 and NaN), as C's copysign."""

    name = "array.copysign"


@op_definition
class FmodOp(BinaryOp):
    """C's fmod: x - trunc(x / y) * y, exact, with the sign of x (NaN where
    y is 0 for floats). On integers the truncated remainder, with x fmod
    0 = 0 (NumPy's value) and MIN fmod -1 = 0; C would trap."""

    name = "array.fmod"
    TAKES_INTS: ClassVar[bool] = True


def _require_bits(op: Operation, typ: Attribute, bools: bool) -> None:
    assert isinstance(typ, TensorType)
    elem = typ.get_element_type()
    if not (is_int(elem) or (bools and is_bool(elem))):
        kinds = "i32, i64 or i1" if bools else "i32 or i64"
        raise VerifyException(f"{op.name}: operand must have element type {kinds}, got {typ}")


class BitwiseOp(BinaryOp, abc.ABC):
    """Bitwise and/or/xor of two integer or bool tensors of one type (on
    i1, the logical operation)."""

    def verify_(self) -> None:
        static_shape(self, self.lhs)
        _require_bits(self, self.lhs.type, bools=True)


@op_definition
class AndOp(BitwiseOp):
    name = "array.and"


@op_definition
class OrOp(BitwiseOp):
    name = "array.or"


@op_definition
class XorOp(BitwiseOp):
    name = "array.xor"


class ShiftOp(BinaryOp, abc.ABC):
    """A shift of integers by integers, as NumPy's: a count outside
    [0, width) shifts every bit out (left: 0; right: 0, or -1 for a
    negative value), where C leaves it undefined; left shifts wrap."""

    def verify_(self) -> None:
        static_shape(self, self.lhs)
        _require_bits(self, self.lhs.type, bools=False)


@op_definition
class ShiftLeftOp(ShiftOp):
    name = "array.shl"


@op_definition
class ShiftRightOp(ShiftOp):
    """Arithmetic (sign-filling) right shift."""

    name = "array.shr"


@op_definition
class InvertOp(SameTypeOp):
    """Bitwise not of integers (-x - 1), logical not of bools."""

    name = "array.invert"

    def verify_(self) -> None:
        super().verify_()
        _require_bits(self, self.input.type, bools=True)


@op_definition
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
        _require_numeric(self, self.lhs.type)
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


@op_definition
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


@op_definition
class ConvertOp(IRDLOperation):
    """Element type conversion between any two of f32, f64, i32, i64 and i1,
    as NumPy's astype: i1 -> number gives 0/1; number -> i1 is `x != 0`;
    float -> int truncates toward zero, and NaN or a value out of the
    integer's range gives its minimum (what NumPy gives on x86-64; C leaves
    it undefined); i64 -> i32 keeps the low 32 bits."""

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



UNARY_OPS = (
    NegOp, ExpOp, LogOp, TanhOp, SinOp, CosOp, SqrtOp, AbsOp, SinhOp,
    CoshOp, TanOp, AsinOp, AcosOp, AtanOp, AsinhOp, AcoshOp,
    AtanhOp, Log1pOp, Expm1Op, Log2Op, Log10Op, Exp2Op, ErfOp,
    FloorOp, CeilOp, RoundEvenOp, TruncOp, ErfcOp,
)
BINARY_OPS = (AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, PowOp, Atan2Op, CopySignOp, FmodOp)
BITWISE_OPS = (AndOp, OrOp, XorOp, ShiftLeftOp, ShiftRightOp, InvertOp)
"""On integers (and/or/xor/invert also on bools); never differentiated."""
