"""The `c` dialect's types: `!c.ptr<...>` (flat pointers, spelled like their C
declaration), `!c.size_t`, and the builtin scalars with a C spelling; and
the element access `%p[%i] : !c.ptr<...>` that `c.load` and `c.store` share.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import Float32Type, Float64Type, IndexType, IntAttr, IntegerType, NoneType
from xdsl.ir import Attribute, Operation, ParametrizedAttribute, SSAValue, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser, Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException


@irdl_attr_definition
class SizeType(ParametrizedAttribute, TypeAttribute):
    """`!c.size_t`: what `NAME_work_size` returns."""

    name = "c.size_t"


@irdl_attr_definition
class PtrType(ParametrizedAttribute, TypeAttribute):
    """A flat C pointer, spelled like its C declaration:
    `!c.ptr<const f32 restrict>` is `const float *restrict`, and
    `!c.ptr<void restrict>` is `void *restrict`."""

    name = "c.ptr"
    pointee: Attribute
    is_const: IntAttr
    is_restrict: IntAttr

    def __init__(self, pointee: Attribute, const: bool = False, restrict: bool = False):
        super().__init__(pointee, IntAttr(int(const)), IntAttr(int(restrict)))

    @property
    def const(self) -> bool:
        return bool(self.is_const.data)

    @property
    def restrict(self) -> bool:
        return bool(self.is_restrict.data)

    @property
    def is_void(self) -> bool:
        return isinstance(self.pointee, NoneType)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            if self.const:
                printer.print_string("const ")
            if self.is_void:
                printer.print_string("void")
            else:
                printer.print_attribute(self.pointee)
            if self.restrict:
                printer.print_string(" restrict")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            const = parser.parse_optional_keyword("const") is not None
            if parser.parse_optional_keyword("void") is not None:
                pointee: Attribute = NoneType()
            else:
                pointee = parser.parse_type()
            restrict = parser.parse_optional_keyword("restrict") is not None
        return (pointee, IntAttr(int(const)), IntAttr(int(restrict)))

    def verify(self) -> None:
        if not self.is_void and not is_scalar_type(self.pointee):
            raise VerifyException(
                f"c.ptr: cannot point to {self.pointee}; expected a C scalar type or void"
            )


def is_scalar_type(typ: Attribute) -> bool:
    """The builtin types with a C spelling (see `c_type_name` in the printer)."""
    if isinstance(typ, IntegerType):
        return typ.width.data in (1, 8, 16, 32, 64)
    return isinstance(typ, Float32Type | Float64Type | IndexType | SizeType)


def _check_scalar(op: Operation, typ: Attribute) -> None:
    if not is_scalar_type(typ):
        raise VerifyException(
            f"{op.name}: expected a C scalar type (f32, f64, i1, i8..i64, index, "
            f"!c.size_t), got {typ}"
        )


def _check_access(op: Operation, ptr: SSAValue, index: SSAValue, value_type: Attribute) -> None:
    typ = ptr.type
    assert isinstance(typ, PtrType)
    if typ.is_void:
        raise VerifyException(f"{op.name}: cannot index a void pointer")
    if not isinstance(index.type, IndexType):
        raise VerifyException(f"{op.name}: the index must be `index`, got {index.type}")
    if value_type != typ.pointee:
        raise VerifyException(f"{op.name}: value type {value_type} does not match {typ}")


def _parse_element(parser: Parser) -> tuple[UnresolvedOperand, UnresolvedOperand, dict[str, Attribute], PtrType]:
    """`%p[%i] {attrs} : !c.ptr<...>`, the element access of c.load and c.store."""
    ptr = parser.parse_unresolved_operand()
    parser.parse_punctuation("[")
    index = parser.parse_unresolved_operand()
    parser.parse_punctuation("]")
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    typ = parser.parse_type()
    if not isinstance(typ, PtrType):
        parser.raise_error(f"expected a !c.ptr type, got {typ}")
    return ptr, index, attrs, typ


def _print_element(printer: Printer, op: Operation, ptr: SSAValue, index: SSAValue) -> None:
    printer.print_string(" ")
    printer.print_operand(ptr)
    printer.print_string("[")
    printer.print_operand(index)
    printer.print_string("]")
    printer.print_op_attributes(op.attributes)
    printer.print_string(" : ")
    printer.print_attribute(ptr.type)
