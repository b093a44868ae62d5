"""How C spells the `c` dialect's scalar types, pointer declarations and literals.

Shared by the function printer (gradc.backend.target_c) and the helper
functions it defines (gradc.backend.microkernels).

Guarantees: a float literal reads back as exactly the value in its type;
i32 is `int` (the ABI's return type), index is `int64_t`, i1 is `bool`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from xdsl.dialects.builtin import (
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute
from xdsl.utils.exceptions import DiagnosticException

from gradc.dialects import c

INDENT = "    "


def c_type_name(typ: Attribute) -> str:
    """The C spelling of a scalar type (i32 is `int`, the ABI's return type)."""
    if isinstance(typ, Float32Type):
        return "float"
    if isinstance(typ, Float64Type):
        return "double"
    if isinstance(typ, IndexType):
        return "int64_t"
    if isinstance(typ, c.SizeType):
        return "size_t"
    if isinstance(typ, IntegerType):
        width = typ.width.data
        if width == 1:
            return "bool"
        if typ.signedness.data == Signedness.UNSIGNED:
            return f"uint{width}_t"
        if width == 32:
            return "int"
        return f"int{width}_t"
    raise DiagnosticException(f"target c: type {typ} has no C spelling")


def c_declaration(typ: Attribute, name: str) -> str:
    """`const float *restrict x` for pointers, `float x` for scalars."""
    if isinstance(typ, c.PtrType):
        const = "const " if typ.const else ""
        pointee = "void" if typ.is_void else c_type_name(typ.pointee)
        restrict = "restrict " if typ.restrict else ""
        return f"{const}{pointee} *{restrict}{name}"
    return f"{c_type_name(typ)} {name}"


def c_float_literal(value: float, typ: Attribute) -> str:
    """Shortest text that reads back as exactly `value` in `typ` (numpy's
    Dragon4 for float, Python's repr for double); INFINITY/NAN from math.h."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "-INFINITY"
    if isinstance(typ, Float32Type):
        text = str(np.float32(value))
        suffix = "f"
    else:
        text = repr(float(value))
        suffix = ""
    if not any(ch in text for ch in ".e"):
        text += ".0"
    return text + suffix


def c_float_table(values: Iterable[float], typ: Attribute) -> list[str]:
    """Exact literals for a large constant table: hexadecimal floats
    (`0x1.99999ap-4f`), which Python writes and C compilers read several
    times faster than the shortest decimals; INFINITY/NAN as
    `c_float_literal` spells them."""
    suffix = "f" if isinstance(typ, Float32Type) else ""
    out = []
    for value in values:
        if math.isfinite(value):
            mantissa, exponent = value.hex().split("p")
            out.append(f"{mantissa.rstrip('0')}p{exponent}{suffix}")
        else:
            out.append(c_float_literal(value, typ))
    return out


def c_literal(attr: IntegerAttr | FloatAttr) -> str:
    if isinstance(attr, FloatAttr):
        return c_float_literal(attr.value.data, attr.type)
    value = attr.value.data
    if isinstance(attr.type, IntegerType) and attr.type.width.data == 1:
        return "true" if value else "false"
    if isinstance(attr.type, IntegerType) and value == -(2 ** (attr.type.width.data - 1)):
        return f"({value + 1} - 1)"  # the positive literal would not fit the type
    return str(value)

