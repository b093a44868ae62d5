"""Interpreter functions for `arith` and `math` on scalars (and
`loops.special`), computed in the element type.

xDSL's own implementations use Python floats, which would hide float32
rounding: here every float result is a NumPy scalar of the result type and
every index a Python int. The two dialects share one class because they
share the table-driven registration and the element-type rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.dialects import arith, math
from xdsl.dialects.builtin import IndexType
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.ir import Attribute

from gradc.support.dense import numpy_dtype
from gradc.dialects import loops
from gradc.support.special import SCALAR, erf


def _scalar(typ: Attribute, value: Any) -> Any:
    if isinstance(typ, IndexType):
        return int(value)
    dtype = numpy_dtype(typ)
    if dtype.kind == "i":  # wraps, as the C does
        bits = 8 * dtype.itemsize
        value = (int(value) + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)
    return dtype.type(value)


def _int_divide(a: int, b: int) -> tuple[int, int]:
    """Truncated quotient and remainder, 0 and 0 for b == 0 (C would trap;
    NumPy's values); a quotient overflowing (MIN / -1) wraps in `_scalar`."""
    if b == 0:
        return 0, 0
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return q, a - q * b


def _fptosi(x: Any, typ: Attribute) -> Any:
    """Truncated toward zero; NaN or out of range gives the minimum (see
    `array.ConvertOp`)."""
    bits = 8 * numpy_dtype(typ).itemsize
    if not -(2.0 ** (bits - 1)) <= x < 2.0 ** (bits - 1):
        return _scalar(typ, -(2 ** (bits - 1)))
    return _scalar(typ, int(x))


_SCALAR_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    arith.AddfOp: np.add,
    arith.SubfOp: np.subtract,
    arith.MulfOp: np.multiply,
    arith.DivfOp: np.divide,
    arith.MaximumfOp: np.maximum,
    arith.MinimumfOp: np.minimum,
    arith.MaxnumfOp: np.fmax,
    arith.MinnumfOp: np.fmin,
    math.PowFOp: np.power,
    math.Atan2Op: np.arctan2,
    math.CopySignOp: np.copysign,
    arith.AddiOp: lambda a, b: int(a) + int(b),
    arith.SubiOp: lambda a, b: int(a) - int(b),
    arith.MuliOp: lambda a, b: int(a) * int(b),
    arith.MaxSIOp: lambda a, b: max(int(a), int(b)),
    arith.AndIOp: lambda a, b: a & b,
    arith.XOrIOp: lambda a, b: a ^ b,
    arith.ShLIOp: lambda a, b: int(a) << int(b),
    arith.ShRSIOp: lambda a, b: int(a) >> int(b),
    arith.ShRUIOp: lambda a, b: (int(a) % (1 << (8 * a.dtype.itemsize))) >> int(b),
    arith.DivSIOp: lambda a, b: _int_divide(int(a), int(b))[0],
    arith.RemSIOp: lambda a, b: _int_divide(int(a), int(b))[1],
    arith.OrIOp: lambda a, b: a | b,
    arith.MinSIOp: lambda a, b: min(int(a), int(b)),
}

_SCALAR_UNARY: dict[type, Callable[[Any], Any]] = {
    arith.NegfOp: np.negative,
    math.ExpOp: np.exp,
    math.LogOp: np.log,
    math.TanhOp: np.tanh,
    math.SinOp: np.sin,
    math.CosOp: np.cos,
    math.SqrtOp: np.sqrt,
    math.AbsFOp: np.abs,
    math.SinhOp: np.sinh,
    math.CoshOp: np.cosh,
    math.TanOp: np.tan,
    math.AsinOp: np.arcsin,
    math.AcosOp: np.arccos,
    math.AtanOp: np.arctan,
    math.AsinhOp: np.arcsinh,
    math.AcoshOp: np.arccosh,
    math.AtanhOp: np.arctanh,
    math.Log1pOp: np.log1p,
    math.ExpM1Op: np.expm1,
    math.Log2Op: np.log2,
    math.Log10Op: np.log10,
    math.Exp2Op: np.exp2,
    math.ErfOp: erf,
    math.FloorOp: np.floor,
    math.CeilOp: np.ceil,
    math.RoundEvenOp: np.rint,
    math.TruncOp: np.trunc,
    arith.ExtFOp: lambda x: x,
    arith.TruncFOp: lambda x: x,
    arith.UIToFPOp: lambda x: x,
    arith.ExtUIOp: int,
    arith.ExtSIOp: int,
    arith.TruncIOp: int,
}

_CMPI = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "slt": lambda a, b: a < b, "sle": lambda a, b: a <= b,
    "sgt": lambda a, b: a > b, "sge": lambda a, b: a >= b,
}

_CMPF = {
    "oeq": np.equal, "ogt": np.greater, "oge": np.greater_equal,
    "olt": np.less, "ole": np.less_equal, "one": lambda a, b: a < b or a > b,
    "ueq": lambda a, b: not (a < b or a > b), "ugt": lambda a, b: not a <= b,
    "uge": lambda a, b: not a < b, "ult": lambda a, b: not a >= b,
    "ule": lambda a, b: not a > b, "une": np.not_equal,
    "ord": lambda a, b: not (np.isnan(a) or np.isnan(b)),
    "uno": lambda a, b: bool(np.isnan(a) or np.isnan(b)),
    "false": lambda a, b: False, "true": lambda a, b: True,
}


class ScalarFunctions(InterpreterFunctions):
    """`arith` and `math` on scalars, computed in the element type (xDSL's own
    implementations use Python floats, which would hide float32 rounding)."""

    @impl(arith.ConstantOp)
    def run_constant(self, interp: Interpreter, op: arith.ConstantOp, args: PythonValues):
        return (_scalar(op.result.type, op.value.value.data),)

    @impl(arith.CmpfOp)
    def run_cmpf(self, interp: Interpreter, op: arith.CmpfOp, args: PythonValues):
        name = arith.CMPF_COMPARISON_OPERATIONS[op.predicate.value.data]
        return (np.bool_(_CMPF[name](*args)),)

    @impl(arith.CmpiOp)
    def run_cmpi(self, interp: Interpreter, op: arith.CmpiOp, args: PythonValues):
        name = arith.CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]
        return (np.bool_(_CMPI[name](*(int(a) for a in args))),)

    @impl(arith.FPToSIOp)
    def run_fptosi(self, interp: Interpreter, op: arith.FPToSIOp, args: PythonValues):
        return (_fptosi(args[0], op.result.type),)

    @impl(arith.IndexCastOp)
    def run_index_cast(self, interp: Interpreter, op: arith.IndexCastOp, args: PythonValues):
        return (int(args[0]),)

    @impl(arith.SIToFPOp)
    def run_sitofp(self, interp: Interpreter, op: arith.SIToFPOp, args: PythonValues):
        return (_scalar(op.result.type, args[0]),)

    @impl(loops.SpecialOp)
    def run_special(self, interp: Interpreter, op: loops.SpecialOp, args: PythonValues):
        return (_scalar(op.result.type, SCALAR[op.function.data](args[0])),)

    @impl(arith.SelectOp)
    def run_select(self, interp: Interpreter, op: arith.SelectOp, args: PythonValues):
        cond, a, b = args
        return (a if cond else b,)


def _register_scalar_table(table: dict[type, Callable[..., Any]]) -> None:
    for op_type, fn in table.items():

        def run(self: Any, interp: Interpreter, op: Any, args: PythonValues, fn=fn):
            return (_scalar(op.result.type, fn(*args)),)

        setattr(ScalarFunctions, f"run_{op_type.name.replace('.', '_')}", impl(op_type)(run))


_register_scalar_table({**_SCALAR_BINARY, **_SCALAR_UNARY})
register_impls(ScalarFunctions)
