"""Elementwise gnp functions (NumPy's ufuncs): arithmetic, exp, log, tanh,
sin, cos, sqrt, abs, arctan2, copysign, maximum/minimum, comparisons,
where, logical ops, astype; the composites square, relu, sigmoid,
reciprocal, logaddexp, logaddexp2, softplus, sinc, hypot, clip, heaviside,
isnan, isinf, isfinite, signbit; stop_gradient.

Expects: operands as `gradc.frontend.operands` takes them; with no traced
operand each function is NumPy's own.

Guarantees: one `array` op per primitive (`array.add`, `array.compare`,
`array.select`, ...) on operands converted and broadcast as NumPy would;
float ufuncs reject results NumPy would compute in another dtype;
composites are written with primitives only, so they lower and
differentiate for free. maximum/minimum with one constant operand let
the constant win ties (derivative 0 there; docs/derivative-conventions.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceTypeError
from gradc.frontend.operands import (
    _ARRAY_DTYPES,
    _BOOL,
    _F64,
    _FLOATS,
    _INTS,
    _NUMERIC,
    Operand,
    _array_like,
    _coerce,
    _convert,
    _describe,
    _dtype_arg,
    _is_weak,
    _operand,
    _promotion_key,
    _require_float,
    _resolve,
    _shape_of,
    _strong,
    broadcast_shapes,
)
from gradc.frontend.tracer import Trace, TracedArray, _is_traced, _trace_of
from gradc.support import special
from gradc.support.dense import element_type

def _unary(
    name: str, ufunc: np.ufunc, op: type[array.UnaryOp], x: Any, operator_form: bool = False,
    untraced: Any = None,
) -> Any:
    """`op` of `x` in the dtypes NumPy resolves for `ufunc`; without a
    traced `x`, `ufunc(x)` (or `untraced(x)`). Integers where `op` takes
    them; a rounding op of integers is the identity (NumPy 2's)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return (untraced or ufunc)(x)
    in_dtype, out_dtype = _resolve(name, ufunc, (x,))
    rounding = issubclass(op, array.RoundingOp)
    _require_float(name, out_dtype, (x,), ints=op.TAKES_INTS or rounding)
    if rounding and out_dtype in _INTS:
        return _strong(_convert(x, out_dtype))
    return x.trace.emit(op(_convert(x, in_dtype).value), operator_form and x.weak)


def _binary(
    name: str, ufunc: np.ufunc, op: type[array.BinaryOp], x: Any, y: Any, operator_form: bool = False
) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    a, b = _float_operands(name, ufunc, trace, x, y, ints=op.TAKES_INTS)
    weak = operator_form and _is_weak(x) and _is_weak(y)
    return trace.emit(op(a.value, b.value), weak)


def _float_operands(
    name: str, ufunc: np.ufunc, trace: Trace, x: Operand, y: Operand, ints: bool = False
) -> tuple[TracedArray, TracedArray]:
    """Operands `x`, `y` of a float `ufunc` (or int, with `ints`) as traced
    arrays of `trace`, in the dtypes NumPy resolves and broadcast to their
    common shape."""
    x_dtype, y_dtype, out_dtype = _resolve(name, ufunc, (x, y))
    _require_float(name, out_dtype, (x, y), ints=ints)
    shape = broadcast_shapes(_shape_of(x), _shape_of(y), name=name)
    return _coerce(trace, x, x_dtype, shape), _coerce(trace, y, y_dtype, shape)


def _compare(name: str, ufunc: np.ufunc, predicate: str, x: Any, y: Any) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    x_dtype, _, _ = _resolve(name, ufunc, (x, y))
    # array.compare takes floats and ints; bools compare exactly as f64.
    dtype = x_dtype if x_dtype in _NUMERIC else _F64
    shape = broadcast_shapes(_shape_of(x), _shape_of(y), name=name)
    a, b = _coerce(trace, x, dtype, shape), _coerce(trace, y, dtype, shape)
    return trace.emit(array.CompareOp(predicate, a.value, b.value))


def negative(x: Any) -> Any:
    return _unary("negative", np.negative, array.NegOp, x)


def exp(x: Any) -> Any:
    return _unary("exp", np.exp, array.ExpOp, x)


def log(x: Any) -> Any:
    return _unary("log", np.log, array.LogOp, x)


def tanh(x: Any) -> Any:
    return _unary("tanh", np.tanh, array.TanhOp, x)


def sinh(x: Any) -> Any:
    return _unary("sinh", np.sinh, array.SinhOp, x)


def cosh(x: Any) -> Any:
    return _unary("cosh", np.cosh, array.CoshOp, x)


def tan(x: Any) -> Any:
    return _unary("tan", np.tan, array.TanOp, x)


def arcsin(x: Any) -> Any:
    return _unary("arcsin", np.arcsin, array.AsinOp, x)


def arccos(x: Any) -> Any:
    return _unary("arccos", np.arccos, array.AcosOp, x)


def arctan(x: Any) -> Any:
    return _unary("arctan", np.arctan, array.AtanOp, x)


def arcsinh(x: Any) -> Any:
    return _unary("arcsinh", np.arcsinh, array.AsinhOp, x)


def arccosh(x: Any) -> Any:
    return _unary("arccosh", np.arccosh, array.AcoshOp, x)


def arctanh(x: Any) -> Any:
    return _unary("arctanh", np.arctanh, array.AtanhOp, x)


asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh


def log1p(x: Any) -> Any:
    return _unary("log1p", np.log1p, array.Log1pOp, x)


def expm1(x: Any) -> Any:
    return _unary("expm1", np.expm1, array.Expm1Op, x)


def log2(x: Any) -> Any:
    return _unary("log2", np.log2, array.Log2Op, x)


def log10(x: Any) -> Any:
    return _unary("log10", np.log10, array.Log10Op, x)


def exp2(x: Any) -> Any:
    return _unary("exp2", np.exp2, array.Exp2Op, x)


def erf(x: Any) -> Any:
    """The error function (jax.scipy.special.erf; NumPy has none), in
    NumPy's float dtype for a unary ufunc."""
    return _unary("erf", np.sin, array.ErfOp, x, untraced=special.erf)


def floor(x: Any) -> Any:
    return _unary("floor", np.floor, array.FloorOp, x)


def ceil(x: Any) -> Any:
    return _unary("ceil", np.ceil, array.CeilOp, x)


def trunc(x: Any) -> Any:
    return _unary("trunc", np.trunc, array.TruncOp, x)


def fix(x: Any) -> Any:
    """Rounds toward zero (trunc, as numpy.fix for floats)."""
    return _unary("fix", np.trunc, array.TruncOp, x, untraced=np.fix)


def rint(x: Any) -> Any:
    """Rounds to the nearest integer, halves to even (NumPy's rint)."""
    return _unary("rint", np.rint, array.RoundEvenOp, x)


def round(x: Any, decimals: int = 0) -> Any:  # noqa: A001 - NumPy's name
    """numpy.round: halves to even, `decimals` digits after the point
    (negative: before it), computed as NumPy does (x * 10**decimals rounded,
    then divided back, or the reverse for decimals < 0); derivative 0."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.round(x, decimals)
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TraceTypeError(f"round: decimals must be an int, got {decimals!r}")
    if x.dtype in _INTS:  # integers stay integers; to tens, hundreds, ... in float64, as NumPy
        if decimals >= 0:
            return _strong(x)
        factor = float(10 ** -decimals)
        return astype(multiply(rint(divide(x, factor)), factor), x.dtype)
    if decimals == 0:
        return rint(x)
    factor = float(10 ** (decimals if decimals > 0 else -decimals))
    if decimals > 0:
        return divide(rint(multiply(x, factor)), factor)
    return multiply(rint(divide(x, factor)), factor)


around = round


def sign(x: Any) -> Any:
    """-1, 0 or 1 by the sign of x (0.0 for -0.0, NaN for NaN, as NumPy);
    derivative 0 everywhere (JAX's)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.sign(x)
    if x.dtype in _INTS:
        return astype(where(x > 0, 1, where(x < 0, -1, 0)), x.dtype)
    frozen = stop_gradient(x)
    return where(x > 0, 1.0, where(x < 0, -1.0, where(x == x, 0.0, frozen)))


def sin(x: Any) -> Any:
    return _unary("sin", np.sin, array.SinOp, x)


def cos(x: Any) -> Any:
    return _unary("cos", np.cos, array.CosOp, x)


def sqrt(x: Any) -> Any:
    return _unary("sqrt", np.sqrt, array.SqrtOp, x)


def abs(x: Any) -> Any:  # noqa: A001 - NumPy's name
    return _unary("abs", np.absolute, array.AbsOp, x)


absolute = abs


def add(x: Any, y: Any) -> Any:
    return _binary("add", np.add, array.AddOp, x, y)


def subtract(x: Any, y: Any) -> Any:
    return _binary("subtract", np.subtract, array.SubOp, x, y)


def multiply(x: Any, y: Any) -> Any:
    return _binary("multiply", np.multiply, array.MulOp, x, y)


def divide(x: Any, y: Any) -> Any:
    return _binary("divide", np.true_divide, array.DivOp, x, y)


true_divide = divide


def power(x: Any, y: Any) -> Any:
    """x ** y. Integers (NumPy's int result dtypes) take a constant
    exponent only (a product of squarings, wrapping as NumPy's); a negative
    one is an error, as in NumPy."""
    return _power("power", x, y)


def _power(name: str, x: Any, y: Any, operator_form: bool = False) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is not None:
        xo, yo = _operand(name, x), _operand(name, y)
        _, _, out_dtype = _resolve(name, np.power, (xo, yo))
        if out_dtype in _INTS:
            return _int_power(trace, xo, yo, out_dtype)
    return _binary(name, np.power, array.PowOp, x, y, operator_form)


def _int_power(trace: Trace, x: Operand, y: Operand, dtype: np.dtype) -> TracedArray:
    if isinstance(y, TracedArray):
        raise TraceTypeError(
            "power: an integer base to a traced integer exponent is not supported; "
            "give a constant exponent, or convert to float first"
        )
    exponent = np.asarray(y)
    if (exponent < 0).any():
        raise TraceTypeError("power: integers to negative integer powers are not allowed (as in NumPy)")
    shape = broadcast_shapes(_shape_of(x), exponent.shape, name="power")
    base = _coerce(trace, x, dtype, shape)
    result: Any = None
    bits = int(exponent.max(initial=0)).bit_length()
    for k in range(bits):
        mask = (exponent >> k) & 1
        if exponent.ndim == 0:
            if mask:
                result = base if result is None else multiply(result, base)
        else:
            factor = where(mask.astype(bool), base, 1)
            result = factor if result is None else multiply(result, factor)
        if k + 1 < bits:
            base = multiply(base, base)
    if result is None:
        return _coerce(trace, 1, dtype, shape)
    return _strong(astype(result, dtype))


def fmod(x1: Any, x2: Any) -> Any:
    """C's fmod: the remainder of truncated division, with the sign of x1
    (NumPy's fmod; for integers x % 0 is 0). Derivative 1 and
    -trunc(x1 / x2), JAX's."""
    return _binary("fmod", np.fmod, array.FmodOp, x1, x2)


def remainder(x1: Any, x2: Any) -> Any:
    """x1 mod x2 with the sign of x2 (Python's %, numpy.remainder), exact:
    C's fmod, moved into x2's sign as NumPy does; integers mod 0 give 0.
    Derivative 1 and -floor_divide(x1, x2), as JAX's, also at multiples of
    x2 (docs/derivative-conventions.md)."""
    return _modulo("remainder", x1, x2)[1]


mod = remainder


def floor_divide(x1: Any, x2: Any) -> Any:
    """floor(x1 / x2) computed as NumPy does (from the exact fmod, so
    exact where x1 / x2 rounds); integers // 0 give 0. Derivative 0."""
    return _modulo("floor_divide", x1, x2)[0]


def divmod(x1: Any, x2: Any) -> Any:  # noqa: A001 - NumPy's name
    """(floor_divide(x1, x2), remainder(x1, x2)), as numpy.divmod."""
    return _modulo("divmod", x1, x2)


def _modulo(name: str, x: Any, y: Any, operator_form: bool = False) -> tuple[Any, Any]:
    """(floor_divide, remainder) of x and y, or NumPy's without a traced
    operand. Floats follow NumPy's npy_divmod step for step: from
    mod = fmod(x, y) and div = (x - mod) / y, a mod whose sign differs
    from y's gets y added (and div 1 taken off), a zero mod takes y's
    sign, div is rounded to the nearest integer below (floor, then up if
    more than 0.5 below), a zero quotient takes the sign of x / y, and
    y == 0 gives x / y and NaN. Integers: truncated division and
    remainder, moved down by one (and the remainder by y) where the
    remainder's sign differs from y's."""
    trace = _trace_of(name, (x, y))
    if trace is None:
        return np.floor_divide(x, y), np.remainder(x, y)
    x, y = _operand(name, x), _operand(name, y)
    a, b = _float_operands(name, np.remainder, trace, x, y, ints=True)
    weak = operator_form and _is_weak(x) and _is_weak(y)
    r = trace.emit(array.FmodOp(a.value, b.value))
    zero = _coerce(trace, 0, a.dtype, a.shape)
    moved = logical_and(r != zero, (b < zero) != (r < zero))
    if a.dtype in _INTS:
        q = trace.emit(array.DivOp(a.value, b.value))
        quotient = subtract(q, astype(moved, a.dtype))
        modulus = where(moved, add(r, b), r)
    else:
        div = divide(subtract(a, r), b)
        # A zero remainder takes y's sign; subtracting r - r (0 in value)
        # keeps r's derivative there, as JAX's 1 and -floor_divide.
        sign = where(b < zero, a.dtype.type(-0.0), a.dtype.type(0.0))
        signed_zero = subtract(sign, subtract(stop_gradient(r), r))
        modulus = where(moved, add(r, b), where(r == zero, signed_zero, r))
        div = where(moved, subtract(div, 1.0), div)
        floored = floor(div)
        floored = where(subtract(div, floored) > 0.5, add(floored, 1.0), floored)
        quotient = where(div == zero, multiply(0.0, divide(a, b)), floored)
        quotient = stop_gradient(where(b == zero, divide(a, b), quotient))
    return _weak_as(quotient, weak), _weak_as(modulus, weak)


def _weak_as(x: TracedArray, weak: bool) -> TracedArray:
    return TracedArray(x.value, x.trace, weak)


def arctan2(x1: Any, x2: Any) -> Any:
    """The angle of the point (x2, x1), in [-pi, pi], with C's signed zeros
    and infinities (numpy.arctan2). Derivative (x2, -x1) / (x1^2 + x2^2),
    computed scaled (no overflow or underflow); NaN at (0, 0), as JAX's."""
    return _binary("arctan2", np.arctan2, array.Atan2Op, x1, x2)


atan2 = arctan2


def copysign(x1: Any, x2: Any) -> Any:
    """|x1| with the sign bit of x2 (also of -0.0 and NaN), as
    numpy.copysign. Derivative to x1: abs'(x1) (1 at 0, as JAX's) times the
    sign x2 gives; to x2: 0."""
    return _binary("copysign", np.copysign, array.CopySignOp, x1, x2)


def signbit(x: Any) -> Any:
    """True where the sign bit of x is set (-0.0, negative NaNs included), as
    numpy.signbit; bool, no derivative."""
    return _classify("signbit", np.signbit, x, lambda v: copysign(1.0, v) < 0.0)


def maximum(x: Any, y: Any) -> Any:
    """Elementwise maximum; NaN propagates, as in NumPy. Where a traced
    operand ties a constant one, the constant wins: the derivative is 0
    there (so `maximum(x, 0)` is a relu); see `_extremum`."""
    return _extremum("maximum", np.maximum, array.MaxOp, "gt", x, y)


def minimum(x: Any, y: Any) -> Any:
    """Elementwise minimum; NaN propagates, as in NumPy. Where a traced
    operand ties a constant one, the constant wins (see `maximum`)."""
    return _extremum("minimum", np.minimum, array.MinOp, "lt", x, y)


def _extremum(name: str, ufunc: np.ufunc, op: type[array.BinaryOp], beats: str, x: Any, y: Any) -> Any:
    """maximum or minimum (`op`; `beats` is the comparison by which the
    traced operand wins). Two traced operands: `op`, whose derivative is
    split evenly at ties (JAX's rule). One traced operand `t` and a
    constant `c`: `where(t beats c, t, stop_gradient(op(x, y)))`, the value
    of `op` everywhere, with the derivative 1 where `t` strictly wins and
    0 elsewhere: at ties, at NaN, and if `c` is NaN (docs/derivative-conventions.md
    says why). array-simplify folds the select away once no derivative is
    left to take."""
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    a, b = _float_operands(name, ufunc, trace, x, y, ints=True)
    value = trace.emit(op(a.value, b.value))
    if isinstance(x, TracedArray) == isinstance(y, TracedArray):
        return value
    t, c = (a, b) if isinstance(x, TracedArray) else (b, a)
    wins = trace.emit(array.CompareOp(beats, t.value, c.value))
    frozen = trace.emit(array.StopGradientOp(value.value))
    return trace.emit(array.SelectOp(wins.value, t.value, frozen.value))


def less(x: Any, y: Any) -> Any:
    return _compare("less", np.less, "lt", x, y)


def less_equal(x: Any, y: Any) -> Any:
    return _compare("less_equal", np.less_equal, "le", x, y)


def greater(x: Any, y: Any) -> Any:
    return _compare("greater", np.greater, "gt", x, y)


def greater_equal(x: Any, y: Any) -> Any:
    return _compare("greater_equal", np.greater_equal, "ge", x, y)


def equal(x: Any, y: Any) -> Any:
    return _compare("equal", np.equal, "eq", x, y)


def not_equal(x: Any, y: Any) -> Any:
    return _compare("not_equal", np.not_equal, "ne", x, y)


def where(condition: Any, x: Any, y: Any) -> Any:
    """`x` where `condition` holds, else `y` (all three broadcast together;
    a float condition means `!= 0`, as in NumPy)."""
    trace = _trace_of("where", (condition, x, y))
    if trace is None:
        return np.where(condition, x, y)
    condition, x, y = (_operand("where", v) for v in (condition, x, y))
    dtype = np.result_type(_promotion_key(x), _promotion_key(y))
    if dtype not in _ARRAY_DTYPES:
        raise TraceTypeError(
            f"where: NumPy gives {dtype.name} for {_describe(x)} and {_describe(y)}; "
            "gradc arrays are float32, float64, int32, int64 or bool, so convert first"
        )
    shape = broadcast_shapes(*map(_shape_of, (condition, x, y)), name="where")
    if isinstance(condition, TracedArray) and condition.dtype != _BOOL:
        condition = condition.trace.emit(array.ConvertOp(condition.value, element_type(_BOOL)))
    elif not isinstance(condition, TracedArray):
        condition = np.asarray(condition) != 0
    cond = _coerce(trace, condition, _BOOL, shape)
    a, b = _coerce(trace, x, dtype, shape), _coerce(trace, y, dtype, shape)
    return trace.emit(array.SelectOp(cond.value, a.value, b.value))


def _require_bool(name: str, *values: Any) -> None:
    for v in values:
        dtype = v.dtype if isinstance(v, TracedArray) else np.asarray(v).dtype
        if dtype != _BOOL:
            raise TraceTypeError(
                f"{name}: takes bool arrays (from comparisons), got {_describe(_operand(name, v))}"
            )


def logical_and(x: Any, y: Any) -> Any:
    x, y = _array_like(x), _array_like(y)
    if not _is_traced(x, y):
        return np.logical_and(x, y)
    _require_bool("logical_and (&)", x, y)
    return where(x, y, False)


def logical_or(x: Any, y: Any) -> Any:
    x, y = _array_like(x), _array_like(y)
    if not _is_traced(x, y):
        return np.logical_or(x, y)
    _require_bool("logical_or (|)", x, y)
    return where(x, True, y)


def logical_not(x: Any) -> Any:
    x = _array_like(x)
    if not _is_traced(x):
        return np.logical_not(x)
    _require_bool("logical_not (~)", x)
    return where(x, False, True)


def _bits(name: str, ufunc: np.ufunc, op: type[array.BinaryOp], x: Any, y: Any, operator_form: bool = False) -> Any:
    """A bitwise ufunc in the dtypes NumPy resolves: int32/int64, or bool
    (and, or, xor)."""
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    x_dtype, y_dtype, out_dtype = _resolve(name, ufunc, (x, y))
    if out_dtype not in _INTS and not (out_dtype == _BOOL and issubclass(op, array.BitwiseOp)):
        raise TraceTypeError(
            f"{name}: NumPy computes this in {out_dtype.name} for {_describe(x)} and {_describe(y)}; "
            "gradc's bitwise operations take int32, int64 or bool"
        )
    shape = broadcast_shapes(_shape_of(x), _shape_of(y), name=name)
    a, b = _coerce(trace, x, x_dtype, shape), _coerce(trace, y, y_dtype, shape)
    return trace.emit(op(a.value, b.value), operator_form and _is_weak(x) and _is_weak(y))


def bitwise_and(x1: Any, x2: Any) -> Any:
    """x1 & x2 bit by bit (ints), or logical and (bools); no derivative."""
    return _bits("bitwise_and", np.bitwise_and, array.AndOp, x1, x2)


def bitwise_or(x1: Any, x2: Any) -> Any:
    return _bits("bitwise_or", np.bitwise_or, array.OrOp, x1, x2)


def bitwise_xor(x1: Any, x2: Any) -> Any:
    return _bits("bitwise_xor", np.bitwise_xor, array.XorOp, x1, x2)


def left_shift(x1: Any, x2: Any) -> Any:
    """x1 << x2 (ints, wrapping); a count outside [0, width) gives 0, as
    NumPy."""
    return _bits("left_shift", np.left_shift, array.ShiftLeftOp, x1, x2)


def right_shift(x1: Any, x2: Any) -> Any:
    """x1 >> x2, sign-filling (ints); a count outside [0, width) gives 0,
    or -1 for negative x1, as NumPy."""
    return _bits("right_shift", np.right_shift, array.ShiftRightOp, x1, x2)


def invert(x: Any) -> Any:
    """~x: bitwise not of ints (-x - 1), logical not of bools."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.invert(x)
    if x.dtype not in (*_INTS, _BOOL):
        raise TraceTypeError(f"invert (~): takes int32, int64 or bool arrays, got {_describe(x)}")
    return x.trace.emit(array.InvertOp(x.value))


bitwise_not = invert


def astype(x: Any, dtype: Any) -> Any:
    """`x` converted to `dtype` (float32, float64, int32, int64 or bool:
    `x != 0`), as NumPy's astype: floats to ints truncate toward zero (NaN
    and out-of-range values give the integer's minimum, see
    docs/frontend.md)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.asarray(x).astype(dtype)
    return _strong(_convert(x, _dtype_arg("astype", dtype)))


# ---------------------------------------------------------------------------
# Composites: only primitives inside
# ---------------------------------------------------------------------------


def square(x: Any) -> Any:
    return multiply(x, x)


def relu(x: Any) -> Any:
    """max(x, 0), elementwise (NaN stays NaN); its derivative is 0 at 0,
    as JAX's: the constant 0 wins the tie (see `maximum`)."""
    return maximum(x, 0.0)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)): accurate in both tails (exp overflowing to inf
    gives exactly 0)."""
    return 1.0 / (1.0 + exp(negative(x)))


def reciprocal(x: Any) -> Any:
    """1 / x in NumPy's float dtype for x."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.reciprocal(x)
    return divide(1.0, _float_input("reciprocal", np.reciprocal, x))


def _float_input(name: str, ufunc: np.ufunc, x: TracedArray) -> TracedArray:
    """`x` converted to the float dtype NumPy computes unary `ufunc` in."""
    _, out_dtype = _resolve(name, ufunc, (x,))
    _require_float(name, out_dtype, (x,))
    return _strong(_convert(x, out_dtype))


def _binary_composite(name: str, ufunc: np.ufunc, x: Any, y: Any) -> tuple[TracedArray, TracedArray] | None:
    """`x`, `y` as traced arrays in NumPy's float dtypes for `ufunc`,
    broadcast together; None if neither is traced."""
    trace = _trace_of(name, (x, y))
    if trace is None:
        return None
    return _float_operands(name, ufunc, trace, _operand(name, x), _operand(name, y))


def _log_add(a: TracedArray, b: TracedArray, power: Any, log_base: float) -> TracedArray:
    """log(power(a) + power(b)) / log_base (power is exp or exp2), as
    hi + log1p(power(lo - hi)) / log_base: exact derivatives of every order
    (the two selects pick between expressions equal everywhere, so a tie
    gets half to each). Where a - b is NaN (a NaN, or infinities of one
    sign) the value is (a + b) / 2, derivative 1/2 each; the other branch
    sees zeros there, so no NaN leaks into the derivative."""
    difference = a - b
    undefined = difference != difference
    a_safe, b_safe = where(undefined, 0.0, a), where(undefined, 0.0, b)
    first = a_safe >= b_safe
    hi, lo = where(first, a_safe, b_safe), where(first, b_safe, a_safe)
    tail = log1p(power(lo - hi))
    if log_base != 1.0:
        tail = tail * (1.0 / log_base)
    # At a tie the value is hi + log_base(2) exactly, as NumPy's; the
    # derivatives stay the tail's.
    tie = where(lo == hi, math.log(2.0) / log_base + (tail - stop_gradient(tail)), tail)
    return where(undefined, (a + b) * 0.5, hi + tie)


def logaddexp(x1: Any, x2: Any) -> Any:
    """log(exp(x1) + exp(x2)) without overflow, as NumPy; derivative
    exp(x1 - out), exp(x2 - out), 1/2 each at ties (JAX), finite at
    infinities (docs/derivative-conventions.md)."""
    operands = _binary_composite("logaddexp", np.logaddexp, x1, x2)
    if operands is None:
        return np.logaddexp(x1, x2)
    return _log_add(*operands, exp, 1.0)


def logaddexp2(x1: Any, x2: Any) -> Any:
    """log2(2**x1 + 2**x2) without overflow, as NumPy (see logaddexp)."""
    operands = _binary_composite("logaddexp2", np.logaddexp2, x1, x2)
    if operands is None:
        return np.logaddexp2(x1, x2)
    return _log_add(*operands, exp2, math.log(2.0))


def softplus(x: Any) -> Any:
    """log(1 + exp(x)) = logaddexp(x, 0), as jax.nn.softplus; derivative
    sigmoid(x) (1/2 at 0)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.logaddexp(x, 0.0)
    return logaddexp(x, 0.0)


def sinc(x: Any) -> Any:
    """sin(pi x) / (pi x), 1 at 0, as numpy.sinc. Where |pi x| < 0.1 it is
    the Maclaurin series to y^8 (exact to rounding there, and every
    derivative up to the 9th exact at 0: 0, -pi^2/3, ..., as JAX's); the
    division only sees operands away from 0, so neither NaN nor
    cancellation reaches the derivatives."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.sinc(x)
    x = _float_input("sinc", np.sin, x)
    y = x * np.pi
    near = abs(y) < 0.1
    safe = where(near, 1.0, y)
    small = where(near, y, 0.0)
    y2 = small * small
    series = 1.0 + y2 * (-1.0 / 6 + y2 * (1.0 / 120 + y2 * (-1.0 / 5040 + y2 * (1.0 / 362880))))
    return where(near, series, sin(safe) / safe)


def hypot(x1: Any, x2: Any) -> Any:
    """sqrt(x1^2 + x2^2) without overflow or underflow (scaled by the larger
    magnitude), inf where either is infinite (NaN or not), as numpy.hypot.
    Derivative x/hypot; at (0, 0) 1/2 to each (JAX's); 0 at infinities."""
    operands = _binary_composite("hypot", np.hypot, x1, x2)
    if operands is None:
        return np.hypot(x1, x2)
    a, b = abs(operands[0]), abs(operands[1])
    infinite = logical_or(a == np.inf, b == np.inf)
    first = a >= b
    hi, lo = where(first, a, b), where(first, b, a)
    zero = hi == 0.0
    safe = where(logical_or(zero, infinite), 1.0, hi)
    ratio = where(infinite, 0.0, lo) / safe
    scaled = safe * sqrt(1.0 + ratio * ratio)
    return where(infinite, np.inf, where(zero, (a + b) * 0.5, scaled))


_NO_VALUE: Any = object()
"""A bound clip was not given (None is a bound given as none)."""


def clip(a: Any, a_min: Any = _NO_VALUE, a_max: Any = _NO_VALUE, out: Any = None, *,
         min: Any = _NO_VALUE, max: Any = _NO_VALUE) -> Any:  # noqa: A002 - NumPy's names
    """numpy.clip: a bounded below by maximum, above by minimum, either bound None
    (or left out); the bounds as a_min/a_max or min=/max= (NumPy 2).
    Derivative 1 strictly inside; at a constant bound 0 (gradc's maximum
    and minimum: a constant wins ties), at a traced bound 1/2 to each."""
    for name, positional, keyword in (("min", a_min, min), ("max", a_max, max)):
        if positional is not _NO_VALUE and keyword is not _NO_VALUE:
            raise TraceTypeError(f"clip: give the {name} bound as a_{name} or as {name}=, not both")
    lower = a_min if a_min is not _NO_VALUE else (None if min is _NO_VALUE else min)
    upper = a_max if a_max is not _NO_VALUE else (None if max is _NO_VALUE else max)
    if not _is_traced(_array_like(a), _array_like(lower), _array_like(upper)):
        return np.clip(a, lower, upper, out=out)
    if out is not None:
        raise TraceTypeError("clip: out= is not supported on traced arrays (they are values, never written in place)")
    # Operand order as NumPy's, which decides the sign of a zero at a tie
    # (maximum and minimum give their second operand): one bound is
    # maximum(a, lower) or minimum(a, upper), two keep a.
    result = _array_like(a)
    if lower is None or upper is None:
        if lower is not None:
            result = maximum(result, lower)
        if upper is not None:
            result = minimum(result, upper)
    else:
        result = minimum(upper, maximum(lower, result))
    return _strong(result)


def _classify(name: str, ufunc: np.ufunc, x: Any, test: Any) -> Any:
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return ufunc(x)
    if x.dtype not in _FLOATS:
        x = _convert(x, _F64)  # bools are exact in float64 (never NaN or infinite)
    return test(x)


def isnan(x: Any) -> Any:
    """True where x is NaN (bool, no derivative)."""
    return _classify("isnan", np.isnan, x, lambda v: v != v)


def isinf(x: Any) -> Any:
    """True where x is +inf or -inf (bool, no derivative)."""
    return _classify("isinf", np.isinf, x, lambda v: abs(v) == np.inf)


def isfinite(x: Any) -> Any:
    """True where x is neither infinite nor NaN (bool, no derivative)."""
    return _classify("isfinite", np.isfinite, x, lambda v: abs(v) < np.inf)


def heaviside(x1: Any, x2: Any) -> Any:
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0, NaN where x1 is
    NaN, as numpy.heaviside; derivative 0 to x1, 1 to x2 where x1 == 0."""
    operands = _binary_composite("heaviside", np.heaviside, x1, x2)
    if operands is None:
        return np.heaviside(x1, x2)
    a, b = operands
    return where(a < 0.0, 0.0, where(a > 0.0, 1.0, where(a == 0.0, b, stop_gradient(a))))


# ---------------------------------------------------------------------------
# NumPy's complex-number functions on real arrays (gradc has no complex ones)
# ---------------------------------------------------------------------------


def real(val: Any) -> Any:
    """The real part: for gradc's real arrays the array itself (numpy.real)."""
    val = _array_like(val)
    return val if isinstance(val, TracedArray) else np.real(val)


def conj(x: Any) -> Any:
    """The complex conjugate: for real arrays the array itself (numpy.conj)."""
    x = _array_like(x)
    return x if isinstance(x, TracedArray) else np.conj(x)


conjugate = conj


def imag(val: Any) -> Any:
    """The imaginary part: zeros of val's shape and dtype for real arrays
    (a constant: no derivative flows), as numpy.imag."""
    val = _array_like(val)
    if not isinstance(val, TracedArray):
        return np.imag(val)
    return np.zeros(val.shape, val.dtype)


def angle(z: Any, deg: bool = False) -> Any:
    """numpy.angle of a real array: arctan2(0, z), i.e. 0 for z >= +0, pi for
    z < 0 and -0.0 (NaN for NaN), in degrees with deg=True; derivative 0
    (NaN at 0, arctan2's at (0, 0))."""
    z = _array_like(z)
    if not isinstance(z, TracedArray):
        return np.angle(z, deg=deg)
    a = arctan2(0, z)
    return a * (180.0 / np.pi) if deg else a


def iscomplexobj(x: Any) -> bool:
    """False: gradc's arrays are real (numpy.iscomplexobj)."""
    x = _array_like(x)
    return False if isinstance(x, TracedArray) else np.iscomplexobj(x)


def isrealobj(x: Any) -> bool:
    """True: gradc's arrays are real (numpy.isrealobj)."""
    return not iscomplexobj(x)


def iscomplex(x: Any) -> Any:
    """False everywhere (a bool constant of x's shape), as numpy.iscomplex
    of a real array."""
    x = _array_like(x)
    return np.zeros(x.shape, bool) if isinstance(x, TracedArray) else np.iscomplex(x)


def isreal(x: Any) -> Any:
    """True everywhere (a bool constant of x's shape), as numpy.isreal of a
    real array."""
    x = _array_like(x)
    return np.ones(x.shape, bool) if isinstance(x, TracedArray) else np.isreal(x)


def stop_gradient(x: Any) -> Any:
    """`x` itself, but no derivative flows through it (JAX's
    `lax.stop_gradient`): d/dx stop_gradient(x) = 0 at every order."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return x
    return x.trace.emit(array.StopGradientOp(x.value), x.weak)


__all__ = [
    "exp", "log", "tanh", "sinh", "sin", "cos", "sqrt", "abs", "absolute", "negative", "add",
    "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "less",
    "less_equal", "greater", "greater_equal", "equal", "not_equal", "where", "logical_and",
    "logical_or", "logical_not", "astype", "square", "relu", "sigmoid", "stop_gradient",
    "cosh", "tan", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "asin", "acos",
    "atan", "asinh", "acosh", "atanh", "log1p", "expm1", "log2", "log10", "exp2", "erf", "floor",
    "ceil", "trunc", "fix", "rint", "round", "around", "sign",
    "reciprocal", "logaddexp", "logaddexp2", "softplus", "sinc", "hypot", "clip", "isnan", "isinf",
    "isfinite", "heaviside", "arctan2", "atan2", "copysign", "signbit",
    "real", "imag", "conj", "conjugate", "angle", "iscomplexobj", "isrealobj", "iscomplex", "isreal",
    "fmod", "remainder", "mod", "floor_divide", "divmod",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "bitwise_not", "left_shift", "right_shift",
]
