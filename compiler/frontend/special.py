"""scipy.special's functions (as jax.scipy.special has them) that
gradc.numpy does not: erfc (an op), and the composites expit, logit,
xlogy, xlog1py, entr, rel_entr, kl_div, ndtr, log_ndtr, log_softmax.

Expects: operands as `gradc.frontend.operands` takes them; with no traced
operand each function computes on NumPy values (the same composite).

Guarantees: NumPy's float dtype rule for a float ufunc (float32 stays
float32, bools and integers give float64, weak Python scalars); scipy's
values, including at 0, at the domain edges and in the tails (erfc, not
1 - erf; log_ndtr by an asymptotic series where ndtr underflows); every
unchosen branch sees safe operands, so no NaN or infinity reaches a
derivative from it. Derivatives and where they depart from JAX's:
docs/scipy-special.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.frontend.elementwise import (
    _binary_composite,
    _float_input,
    _unary,
    divide,
    exp,
    log,
    log1p,
    logical_and,
    logical_or,
    stop_gradient,
    where,
)
from gradc.frontend.operands import _array_like, _normalize_axes
from gradc.frontend.reductions import max as _max
from gradc.frontend.reductions import sum as _sum
from gradc.frontend.tracer import TracedArray
from gradc.support import special

_SQRT_HALF = math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def erfc(x: Any) -> Any:
    """1 - erf(x) without cancellation (an op over libm's erfc)."""
    return _unary("erfc", np.sin, array.ErfcOp, x, untraced=special.erfc)


def _float1(name: str, x: Any) -> Any:
    """`x` in the float dtype NumPy computes a unary float ufunc in."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        return _float_input(name, np.sin, x)
    return np.asarray(x, np.result_type(x, 1.0))


def _float2(name: str, x: Any, y: Any) -> tuple[Any, Any]:
    """`x`, `y` broadcast together in the float dtype NumPy computes a binary
    float ufunc in."""
    operands = _binary_composite(name, np.arctan2, x, y)
    if operands is not None:
        return operands
    dtype = np.result_type(x, y, 1.0)  # a weak float: float32 stays float32
    a, b = np.broadcast_arrays(np.asarray(x, dtype), np.asarray(y, dtype))
    return a, b


def expit(x: Any) -> Any:
    """1 / (1 + exp(-x)), the logistic sigmoid (scipy.special.expit):
    exactly 0 and 1 in the far tails; derivative expit(x) (1 - expit(x))."""
    x = _float1("expit", x)
    return 1.0 / (1.0 + exp(-x))


def logit(x: Any) -> Any:
    """log(x / (1 - x)): -inf at 0, inf at 1, NaN outside [0, 1], as
    scipy.special.logit; derivative 1 / (x (1 - x))."""
    x = _float1("logit", x)
    return log(x / (1.0 - x))


def _x_times(name: str, log_function: Any, pole: float, x: Any, y: Any) -> Any:
    """x * log_function(y), 0 where x == 0 and y is not NaN (scipy's xlogy,
    xlog1py); where x == 0 and log_function(y) is not finite (y <= pole
    or y == inf), y is replaced by a point where it is 0."""
    a, b = _float2(name, x, y)
    undefined = logical_and(a == 0.0, logical_or(b <= pole, b == np.inf))
    return a * log_function(where(undefined, pole + 1.0, b))


def xlogy(x: Any, y: Any) -> Any:
    """x * log(y), 0 where x == 0 (unless y is NaN), as scipy.special.xlogy;
    derivative (log(y), x / y), JAX's, with 0 for both where x == 0 and
    y <= 0 or y = inf (JAX: log(y) and x / y there)."""
    return _x_times("xlogy", log, 0.0, x, y)


def xlog1py(x: Any, y: Any) -> Any:
    """x * log1p(y), 0 where x == 0 (unless y is NaN), as
    scipy.special.xlog1py; derivative (log1p(y), x / (1 + y)), as xlogy."""
    return _x_times("xlog1py", log1p, -1.0, x, y)


def entr(x: Any) -> Any:
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0, as scipy.special.entr;
    derivative -(log(x) + 1) for x > 0, 0 elsewhere (JAX: +inf at 0)."""
    x = _float1("entr", x)
    positive = x > 0.0
    safe = where(positive, x, 1.0)
    return where(positive, -(safe * log(safe)), where(x == 0.0, 0.0, where(x == x, -np.inf, x)))


def _relative(name: str, x: Any, y: Any, zero_value: Any) -> Any:
    """x log(x / y) for x, y > 0 (plus `zero_value`'s terms), zero_value(y)
    where x == 0 <= y, NaN for a NaN operand, else inf."""
    a, b = _float2(name, x, y)
    both = logical_and(a > 0.0, b > 0.0)
    sa, sb = where(both, a, 1.0), where(both, b, 1.0)
    inside = sa * log(sa / sb)
    nan = logical_or(a != a, b != b)
    outside = where(logical_and(a == 0.0, b >= 0.0), zero_value(b), where(nan, a + b, np.inf))
    return both, sa, sb, inside, outside


def rel_entr(x: Any, y: Any) -> Any:
    """x log(x / y) for x, y > 0, 0 where x == 0 <= y, inf otherwise (NaN for
    NaN), as scipy.special.rel_entr; derivative (log(x / y) + 1, -x / y)
    inside, 0 elsewhere (JAX's)."""
    both, _, _, inside, outside = _relative("rel_entr", x, y, lambda b: 0.0)
    return where(both, inside, outside)


def kl_div(x: Any, y: Any) -> Any:
    """x log(x / y) - x + y for x, y > 0, y where x == 0 <= y, inf otherwise
    (NaN for NaN), as scipy.special.kl_div; derivative (log(x / y),
    1 - x / y) inside, (0, 1) where x == 0 (JAX's)."""
    both, sa, sb, inside, outside = _relative("kl_div", x, y, lambda b: b)
    return where(both, inside - sa + sb, outside)


def ndtr(x: Any) -> Any:
    """The standard normal CDF, erfc(-x / sqrt(2)) / 2 (accurate relative to
    its value in the left tail, where 1 + erf would be 0); derivative the
    normal density."""
    x = _float1("ndtr", x)
    return 0.5 * erfc(x * -_SQRT_HALF)


_LOG_NDTR_SERIES_TERMS = 10


def log_ndtr(x: Any) -> Any:
    """log(ndtr(x)), accurate for every x (scipy.special.log_ndtr): below
    -20 (float64; -10 float32) the asymptotic series -x^2/2 - log(-x) -
    log(sqrt(2 pi)) + log(sum (-1)^n (2n-1)!! / x^(2n)), where ndtr(x)
    would underflow; above 0 log1p(-ndtr(-x)) (near 1, ndtr(x) has lost
    the digits of 1 - ndtr(x)); log(ndtr(x)) between. Derivatives of every
    order from the same branches."""
    x = _float1("log_ndtr", x)
    f32 = x.dtype == np.float32
    lower, upper = (-10.0 if f32 else -20.0), 0.0
    low = x < lower
    high = x > upper
    x_low = where(low, x, lower)
    x_mid = where(low, lower, where(high, upper, x))
    x_high = where(high, x, upper)
    # The series sum_n (-1)^n (2n-1)!! / x^(2n), by Horner in 1 / x^2.
    r = 1.0 / (x_low * x_low)
    series = 1.0
    for n in range(_LOG_NDTR_SERIES_TERMS, 0, -1):
        series = 1.0 - (2 * n - 1) * r * series
    tail = -0.5 * x_low * x_low - log(-x_low) - _LOG_SQRT_2PI + log(series)
    return where(low, tail, where(high, log1p(-ndtr(-x_high)), log(ndtr(x_mid))))


def log_softmax(x: Any, axis: Any = -1) -> Any:
    """x - logsumexp(x, axis, keepdims=True), shifted by the maximum (which
    no derivative flows through), as jax.nn.log_softmax."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        _normalize_axes("log_softmax", axis, x.shape)
    shifted = x - stop_gradient(_max(x, axis=axis, keepdims=True))
    return shifted - log(_sum(exp(shifted), axis=axis, keepdims=True))


__all__ = [
    "erfc", "expit", "logit", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "ndtr", "log_ndtr",
    "log_softmax",
]
