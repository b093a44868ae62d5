"""`c` expressions: SSA values the printer inlines into their single user or
binds to a `const` local: loads, literals, arithmetic, logic and
comparisons, select, casts, calls of libm or of the module's functions, and
`c.math` (gradc's own vectorizable exp, log and tanh).

Guarantees (the verifiers): operands and results are C scalars; no
arithmetic on i1 (use `c.and`, `c.or`, `c.not`); a `c.call` names a
<math.h> function or a `c.func` of the module.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    StringAttr,
    SymbolRefAttr,
    i1,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    AnyAttr,
    IRDLOperation,
    VarConstraint,
    operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import MemoryReadEffect, Pure, SymbolTable
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.c.identifiers import is_math_function
from gradc.dialects.c.statements import FuncOp
from gradc.dialects.c.types import PtrType, _check_access, _check_scalar, _parse_element, _print_element
from gradc.dialects.deferred_format import op_definition


@op_definition
class LoadOp(IRDLOperation):
    """`%v = c.load %p[%i] : !c.ptr<f32>` is `p[i]`."""

    name = "c.load"
    ptr = operand_def(PtrType)
    index = operand_def(IndexType)
    result = result_def()
    traits = traits_def(MemoryReadEffect())

    def __init__(self, ptr: SSAValue | Operation, index: SSAValue | Operation):
        ptr = SSAValue.get(ptr)
        assert isinstance(ptr.type, PtrType)
        super().__init__(operands=[ptr, index], result_types=[ptr.type.pointee])

    def verify_(self) -> None:
        _check_access(self, self.ptr, self.index, self.result.type)

    @classmethod
    def parse(cls, parser: Parser) -> LoadOp:
        ptr, index, attrs, typ = _parse_element(parser)
        op = cls(parser.resolve_operand(ptr, typ), parser.resolve_operand(index, IndexType()))
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        _print_element(printer, self, self.ptr, self.index)


@op_definition
class LiteralOp(IRDLOperation):
    """A constant: `c.literal 1.500000e+00 : f32`, `c.literal 64 : index`,
    `c.literal true`."""

    name = "c.literal"
    value = prop_def(IntegerAttr | FloatAttr)
    result = result_def()
    traits = traits_def(Pure())

    def __init__(self, value: IntegerAttr | FloatAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    def verify_(self) -> None:
        _check_scalar(self, self.result.type)
        if self.value.type != self.result.type:
            raise VerifyException(
                f"c.literal: value type {self.value.type} does not match {self.result.type}"
            )

    @classmethod
    def parse(cls, parser: Parser) -> LiteralOp:
        value = parser.parse_attribute()
        if not isinstance(value, IntegerAttr | FloatAttr):
            parser.raise_error(f"expected an integer or float literal, got {value}")
        op = cls(value)
        op.attributes.update(parser.parse_optional_attr_dict())
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.value)
        printer.print_op_attributes(self.attributes)


class BinaryExprOp(IRDLOperation, ABC):
    """`lhs OP rhs` on two values of one scalar type."""

    OPERATOR: ClassVar[str]
    T: ClassVar = VarConstraint("T", AnyAttr())
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(T)
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        super().__init__(operands=[lhs, rhs], result_types=[SSAValue.get(lhs).type])

    def verify_(self) -> None:
        typ = self.result.type
        _check_scalar(self, typ)
        if typ == i1:
            raise VerifyException(f"{self.name}: arithmetic on i1 is not allowed; use c.and/c.or")


class LogicalOp(BinaryExprOp, ABC):
    """`lhs && rhs` / `lhs || rhs` on i1."""

    def verify_(self) -> None:
        if self.result.type != i1:
            raise VerifyException(f"{self.name}: operands must be i1, got {self.result.type}")


@op_definition
class AddOp(BinaryExprOp):
    name = "c.add"
    OPERATOR: ClassVar[str] = "+"


@op_definition
class SubOp(BinaryExprOp):
    name = "c.sub"
    OPERATOR: ClassVar[str] = "-"


@op_definition
class MulOp(BinaryExprOp):
    name = "c.mul"
    OPERATOR: ClassVar[str] = "*"


@op_definition
class DivOp(BinaryExprOp):
    name = "c.div"
    OPERATOR: ClassVar[str] = "/"


@op_definition
class RemOp(BinaryExprOp):
    """`a % b` on integers (the caller guards b == 0 and b == -1)."""

    name = "c.rem"
    OPERATOR: ClassVar[str] = "%"

    def verify_(self) -> None:
        super().verify_()
        if not isinstance(self.result.type, IntegerType | IndexType):
            raise VerifyException(f"c.rem: operands must be integers, got {self.result.type}")


class BitwiseOp(BinaryExprOp, ABC):
    """`a & b`, `a | b`, `a ^ b`, `a << b`, `a >> b` on integers (the
    caller keeps shifts in range and left shifts unsigned)."""

    def verify_(self) -> None:
        if not isinstance(self.result.type, IntegerType) or self.result.type == i1:
            raise VerifyException(f"{self.name}: operands must be integers (not i1), got {self.result.type}")


@op_definition
class BitAndOp(BitwiseOp):
    name = "c.bitand"
    OPERATOR: ClassVar[str] = "&"


@op_definition
class BitOrOp(BitwiseOp):
    name = "c.bitor"
    OPERATOR: ClassVar[str] = "|"


@op_definition
class BitXorOp(BitwiseOp):
    name = "c.bitxor"
    OPERATOR: ClassVar[str] = "^"


@op_definition
class ShlOp(BitwiseOp):
    name = "c.shl"
    OPERATOR: ClassVar[str] = "<<"


@op_definition
class ShrOp(BitwiseOp):
    name = "c.shr"
    OPERATOR: ClassVar[str] = ">>"


@op_definition
class AndOp(LogicalOp):
    name = "c.and"
    OPERATOR: ClassVar[str] = "&&"


@op_definition
class OrOp(LogicalOp):
    name = "c.or"
    OPERATOR: ClassVar[str] = "||"


class CompareOp(IRDLOperation, ABC):
    """`lhs OP rhs` giving a bool. C's `<`, `<=`, `>`, `>=`, `==` are false when
    an operand is NaN; `!=` is true."""

    OPERATOR: ClassVar[str]
    T: ClassVar = VarConstraint("T", AnyAttr())
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(i1)
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs)"
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        super().__init__(operands=[lhs, rhs], result_types=[i1])

    def verify_(self) -> None:
        _check_scalar(self, self.lhs.type)


@op_definition
class EqOp(CompareOp):
    name = "c.eq"
    OPERATOR: ClassVar[str] = "=="


@op_definition
class NeOp(CompareOp):
    name = "c.ne"
    OPERATOR: ClassVar[str] = "!="


@op_definition
class LtOp(CompareOp):
    name = "c.lt"
    OPERATOR: ClassVar[str] = "<"


@op_definition
class LeOp(CompareOp):
    name = "c.le"
    OPERATOR: ClassVar[str] = "<="


@op_definition
class GtOp(CompareOp):
    name = "c.gt"
    OPERATOR: ClassVar[str] = ">"


@op_definition
class GeOp(CompareOp):
    name = "c.ge"
    OPERATOR: ClassVar[str] = ">="


class UnaryExprOp(IRDLOperation, ABC):
    """`OP operand`, same type in and out."""

    OPERATOR: ClassVar[str]
    T: ClassVar = VarConstraint("T", AnyAttr())
    operand = operand_def(T)
    result = result_def(T)
    assembly_format = "$operand attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue | Operation):
        super().__init__(operands=[operand], result_types=[SSAValue.get(operand).type])


@op_definition
class NegOp(UnaryExprOp):
    name = "c.neg"
    OPERATOR: ClassVar[str] = "-"

    def verify_(self) -> None:
        _check_scalar(self, self.result.type)
        if self.result.type == i1:
            raise VerifyException("c.neg: cannot negate an i1; use c.not")


@op_definition
class BitNotOp(UnaryExprOp):
    name = "c.bitnot"
    OPERATOR: ClassVar[str] = "~"

    def verify_(self) -> None:
        if not isinstance(self.result.type, IntegerType) or self.result.type == i1:
            raise VerifyException(f"c.bitnot: operand must be an integer (not i1), got {self.result.type}")


@op_definition
class NotOp(UnaryExprOp):
    name = "c.not"
    OPERATOR: ClassVar[str] = "!"

    def verify_(self) -> None:
        if self.result.type != i1:
            raise VerifyException(f"c.not: operand must be i1, got {self.result.type}")


@op_definition
class SelectOp(IRDLOperation):
    """`c.select %c, %a, %b : f32` is `c ? a : b`."""

    name = "c.select"
    T: ClassVar = VarConstraint("T", AnyAttr())
    cond = operand_def(i1)
    if_true = operand_def(T)
    if_false = operand_def(T)
    result = result_def(T)
    assembly_format = "$cond `,` $if_true `,` $if_false attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, cond: SSAValue | Operation, if_true: SSAValue | Operation, if_false: SSAValue | Operation):
        super().__init__(
            operands=[cond, if_true, if_false], result_types=[SSAValue.get(if_true).type]
        )

    def verify_(self) -> None:
        _check_scalar(self, self.result.type)


@op_definition
class CastOp(IRDLOperation):
    """`c.cast %v : f32 to f64` is `(double)v`."""

    name = "c.cast"
    value = operand_def()
    result = result_def()
    assembly_format = "$value attr-dict `:` type($value) `to` type($result)"
    traits = traits_def(Pure())

    def __init__(self, value: SSAValue | Operation, to: Attribute):
        super().__init__(operands=[value], result_types=[to])

    def verify_(self) -> None:
        _check_scalar(self, self.value.type)
        _check_scalar(self, self.result.type)


@op_definition
class CallOp(IRDLOperation):
    """A call of a C function (libm or a helper in the module):
    `%y = c.call @expf(%x) : (f32) -> f32`."""

    name = "c.call"
    callee = prop_def(SymbolRefAttr)
    args = var_operand_def()
    result = result_def()
    assembly_format = "$callee `(` $args `)` attr-dict `:` functional-type($args, $result)"
    traits = traits_def(Pure())

    def __init__(self, callee: str, args: Sequence[SSAValue | Operation], result: Attribute):
        super().__init__(
            operands=[list(args)],
            properties={"callee": SymbolRefAttr(callee)},
            result_types=[result],
        )

    def verify_(self) -> None:
        name = self.callee.string_value()
        if not is_math_function(name) and not isinstance(SymbolTable.lookup_symbol(self, name), FuncOp):
            raise VerifyException(
                f"c.call: @{name} is neither a <math.h> function nor a c.func of this module"
            )
        for arg in self.args:
            _check_scalar(self, arg.type)
        _check_scalar(self, self.result.type)


GRADC_MATH_FUNCTIONS = ("exp", "log", "tanh")
"""The functions `c.math` computes (gradc's own C, see gradc.backend.vector_math)."""


@op_definition
class MathOp(IRDLOperation):
    """`%y = c.math "tanh"(%x) : f32` calls gradc's branch-free implementation
    of a math function (`gradc_tanhf`), which the printer defines in the file;
    unlike a `c.call` of libm, a loop over it vectorizes."""

    name = "c.math"
    T: ClassVar = VarConstraint("T", AnyAttr())
    function = prop_def(StringAttr)
    x = operand_def(T)
    result = result_def(T)
    assembly_format = "$function `(` $x `)` attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, function: str, x: SSAValue | Operation):
        super().__init__(
            operands=[x], properties={"function": StringAttr(function)},
            result_types=[SSAValue.get(x).type],
        )

    def verify_(self) -> None:
        if self.function.data not in GRADC_MATH_FUNCTIONS:
            raise VerifyException(
                f"c.math: unknown function \"{self.function.data}\"; expected one of "
                + ", ".join(GRADC_MATH_FUNCTIONS)
            )
        if not isinstance(self.result.type, Float32Type | Float64Type):
            raise VerifyException(f"c.math: expected f32 or f64, got {self.result.type}")
