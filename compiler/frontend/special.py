"""scipy.special's functions (as jax.scipy.special has them) that
gradc.numpy does not: erfc (an op), and the composites expit, logit,
xlogy, xlog1py, entr, rel_entr, kl_div, ndtr, log_ndtr, log_softmax,
gammaln, digamma (psi), polygamma, erfinv and ndtri.

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
from gradc.errors import TraceTypeError
from gradc.frontend.elementwise import (
    _binary_composite,
    _float_input,
    _unary,
    abs,
    cos,
    erf,
    exp,
    floor,
    log,
    log1p,
    logical_and,
    logical_or,
    rint,
    sin,
    sqrt,
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


# ---------------------------------------------------------------------------
# The gamma family: recurrence up to z >= 10 (+ n), then the asymptotic
# series; reflection below 0. Rationale and accuracy: docs/scipy-special.md.
# ---------------------------------------------------------------------------

_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
              -174611 / 330)
"""B_2, B_4, ..., B_20."""
_EULER_GAMMA = 0.5772156649015329
_SHIFT = 10
_TAYLOR_TERMS = 28
"""Terms of the Taylor series of gammaln at 2, used for |t| <= 1/2, where
(zeta(k) - 1) / k t^k < 2^-k 2^-k / k is below 1e-17 from k = 28."""


def _zeta_minus_one(k: int, cut: int = 50) -> float:
    """zeta(k) - 1 for k >= 2, to rounding: the sum from 2 to `cut` plus its
    Euler-Maclaurin tail."""
    terms = [float(n) ** -k for n in range(2, cut)]
    terms += [cut ** (1 - k) / (k - 1), 0.5 * cut**-k]
    rising = float(k)
    for j, b in enumerate(_BERNOULLI[:6], 1):
        terms.append(b / math.factorial(2 * j) * rising * float(cut) ** (-k - 2 * j + 1))
        rising *= (k + 2 * j - 1) * (k + 2 * j)
    return math.fsum(terms)


_GAMMALN_AT_TWO = (0.0, 1.0 - _EULER_GAMMA,
                   *((-1) ** k * _zeta_minus_one(k) / k for k in range(2, _TAYLOR_TERMS + 1)))
"""gammaln(2 + t) = sum_k c_k t^k."""


def _horner(t: Any, coefficients: Any) -> Any:
    """sum_k coefficients[k] t^k."""
    total = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        total = total * t + c
    return total


def _sin_cos_pi(x: Any) -> tuple[Any, Any]:
    """sin(pi x), cos(pi x) with x reduced by the nearest integer first
    (pi x itself would round away every digit for large x); -0.0 stays
    -0.0."""
    r = x - rint(x)
    r = where(r == 0.0, x, r)
    return sin(np.pi * r), cos(np.pi * r)


def _nonpositive_integer(x: Any) -> Any:
    return logical_and(x <= 0.0, x == floor(x))


def _gammaln_positive(u: Any) -> Any:
    """log Gamma(u) for u > 0 (inf at +0, NaN at inf: the caller's). Below
    10 the Taylor series at 2 of an argument moved into [1.5, 2.5) by the
    recurrence (exact subtractions of integers, at most 8 factors); from
    10 on Stirling's series (eight Bernoulli terms)."""
    small = u < _SHIFT
    us = where(small, u, 2.0)
    reduced, product = us, 1.0
    for k in range(1, _SHIFT - 1):
        down = us - float(k) >= 1.5
        reduced = where(down, us - float(k), reduced)
        product = product * where(down, us - float(k), 1.0)
    below_half = us < 0.5
    below_one_half = us < 1.5
    t = where(below_half, us, where(below_one_half, us - 1.0, reduced - 2.0))
    safe = where(below_half, us, 1.0)
    correction = where(below_half, -log(safe) - log1p(safe),
                       where(below_one_half, -log1p(where(below_one_half, t, 0.0)), log(product)))
    taylor = _horner(t, _GAMMALN_AT_TWO) + correction
    z = where(small, float(_SHIFT), u)
    inv = 1.0 / z
    inv2 = inv * inv
    series = _horner(inv2, [b / (2 * j * (2 * j - 1)) for j, b in enumerate(_BERNOULLI[:8], 1)]) * inv
    stirling = (z - 0.5) * log(z) - z + _LOG_SQRT_2PI + series
    return where(small, taylor, stirling)


def gammaln(x: Any) -> Any:
    """log |Gamma(x)|, as scipy.special.gammaln: inf at 0 and the negative
    integers, inf at inf and -inf at -inf (scipy's), NaN for NaN; the
    reflection log(pi / |sin(pi x)|) - gammaln(1 - x) below 0.
    Derivative digamma(x), of every order (polygamma)."""
    x = _float1("gammaln", x)
    positive = x > 0.0
    pole = _nonpositive_integer(x)
    reflected = logical_and(~positive, ~pole)
    xn = where(reflected, x, -0.5)
    # One evaluation for both branches: at x itself, or at 1 - x to reflect.
    g = _gammaln_positive(where(positive, x, 1.0 - xn))
    sin_pi, _ = _sin_cos_pi(xn)
    finite = where(positive, g, where(pole, np.inf, log(np.pi / abs(sin_pi)) - g))
    return where(x == np.inf, np.inf, where(x == -np.inf, -np.inf, where(x == x, finite, x)))


def _cot_derivative_polynomial(n: int) -> list[int]:
    """P_n with d^n/dy^n cot(y) = P_n(cot y): P_0 = c, P_{k+1} = -(1 + c^2) P_k'."""
    poly = [0, 1]
    for _ in range(n):
        derivative = [k * poly[k] for k in range(1, len(poly))] or [0]
        product = [0] * (len(derivative) + 2)
        for k, a in enumerate(derivative):
            product[k] -= a
            product[k + 2] -= a
        poly = product
    return poly


def _polygamma_positive(n: int, u: Any) -> Any:
    """psi^(n)(u) for u > 0: the recurrence up to z >= 10 + n, then the
    asymptotic series (ten Bernoulli terms)."""
    shift = _SHIFT + n
    small = u < shift
    z = where(small, u + float(shift), u)
    us = where(small, u, 1.0)
    inv = 1.0 / z
    inv2 = inv * inv
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    if n == 0:
        series = _horner(inv2, [0.0, *(b / (2 * j) for j, b in enumerate(_BERNOULLI, 1))])
        asymptotic = log(z) - 0.5 * inv - series
    else:
        coefficients = [b * math.factorial(2 * j + n - 1) / math.factorial(2 * j)
                        for j, b in enumerate(_BERNOULLI, 1)]
        series = _horner(inv2, [0.0, *coefficients])
        power = inv**n
        asymptotic = sign * power * (float(math.factorial(n - 1)) + 0.5 * math.factorial(n) * inv + series)
    terms = 1.0 / us ** (n + 1)
    for k in range(1, shift):
        terms = terms + 1.0 / (us + float(k)) ** (n + 1)
    return asymptotic + where(small, (sign * math.factorial(n)) * terms, 0.0)


def polygamma(n: Any, x: Any) -> Any:
    """The n-th derivative of digamma, for a static integer n >= 0 (a Python
    or NumPy int), as scipy.special.polygamma: at 0 and the negative
    integers (-1)^(n+1) inf (digamma: NaN, and -inf/+inf at +0/-0);
    below 0 the reflection psi^(n)(x) = (-1)^n psi^(n)(1 - x) -
    pi^(n+1) P_n(cot(pi x)). Derivative polygamma(n + 1, x)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TraceTypeError(f"polygamma: n must be a static integer >= 0 (a Python int), got {n!r}")
    n = int(n)
    name = "digamma" if n == 0 else "polygamma"
    x = _float1(name, x)
    positive = x > 0.0
    pole = _nonpositive_integer(x)
    if n == 0:
        pole = logical_and(pole, x < 0.0)  # -0.0 is reflected: +inf, as scipy
    reflected = logical_and(~positive, ~pole)
    xn = where(reflected, x, -0.5)
    # One evaluation for both branches: at x itself, or at 1 - x to reflect.
    p = _polygamma_positive(n, where(positive, x, 1.0 - xn))
    sin_pi, cos_pi = _sin_cos_pi(xn)
    cot = cos_pi / sin_pi
    cot_part = _horner(cot, [float(c) for c in _cot_derivative_polynomial(n)])
    negative = (p if n % 2 == 0 else -p) - np.pi ** (n + 1) * cot_part
    at_pole = np.nan if n == 0 else (np.inf if n % 2 else -np.inf)
    finite = where(positive, p, where(pole, at_pole, negative))
    return where(x == x, finite, x)


_DIGAMMA_ROOT = (1.4616321449683622, 9.549995429965697e-17)
"""The positive zero of digamma as hi + lo (hi the nearest double)."""
_ROOT_WINDOW = 0.3
_ROOT_TERMS = 26
"""Terms of digamma's Taylor series at its zero, used where |x - root| <
0.3: the coefficients psi^(k)(root) / k! shrink like 1.46^-k."""
_ROOT_SERIES: list[float] = []


def _root_series() -> list[float]:
    """psi^(k)(root) / k!, k = 0 .. _ROOT_TERMS, computed once by polygamma
    itself on NumPy values (each to a few ulp)."""
    if not _ROOT_SERIES:
        with np.errstate(all="ignore"):
            _ROOT_SERIES.extend(
                [0.0] + [float(polygamma(k, np.float64(_DIGAMMA_ROOT[0])) / math.factorial(k)) for k in range(1, _ROOT_TERMS + 1)]
            )
    return _ROOT_SERIES


def digamma(x: Any) -> Any:
    """psi(x) = d/dx gammaln(x), as scipy.special.digamma (polygamma(0, x)):
    -inf at +0, inf at -0 and inf, NaN at the negative integers and -inf;
    near its positive zero, its Taylor series there (relative accuracy,
    where the recurrence cancels)."""
    x = _float1("digamma", x)
    near = abs(x - _DIGAMMA_ROOT[0]) < _ROOT_WINDOW
    d = (where(near, x, _DIGAMMA_ROOT[0]) - _DIGAMMA_ROOT[0]) - _DIGAMMA_ROOT[1]
    return where(near, _horner(d, _root_series()), polygamma(0, x))


psi = digamma


# ---------------------------------------------------------------------------
# Inverses of the error function and the normal CDF: a close first guess,
# then three Halley steps (cubic convergence: 1e-4 -> 1e-12 -> rounding),
# all differentiated, so the derivatives converge with the values.
# ---------------------------------------------------------------------------

_HALLEY_STEPS = 3


def _erfinv_central(s: Any) -> Any:
    """erfinv(s) for |s| <= 1/2: the Maclaurin series to s^7 (error below
    2e-4), refined on erf(y) = s, whose difference keeps its relative
    accuracy near 0."""
    s2 = s * s
    pi = np.pi
    y = (math.sqrt(pi) / 2) * s * (1.0 + s2 * (pi / 12 + s2 * (7 * pi**2 / 480 + s2 * (127 * pi**3 / 40320))))
    for _ in range(_HALLEY_STEPS):
        delta = (erf(y) - s) / ((2 / math.sqrt(pi)) * exp(-(y * y)))
        y = y - delta / (1.0 + y * delta)
    return y


def _ndtri_tail(q: Any) -> Any:
    """ndtri(q) for 0 < q <= 1/4: Abramowitz and Stegun 26.2.23 (error below
    4.5e-4), refined on ndtr(x) = q with the density's reciprocal taken as
    exp(log q + x^2/2) / q, which neither overflows nor underflows."""
    t = sqrt(-2.0 * log(q))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    log_q = log(q)
    for _ in range(_HALLEY_STEPS):
        delta = (ndtr(x) / q - 1.0) * exp(log_q + 0.5 * x * x + _LOG_SQRT_2PI)
        x = x - delta / (1.0 + 0.5 * x * delta)
    return x


def ndtri(p: Any) -> Any:
    """The inverse of ndtr (scipy.special.ndtri): -inf at 0, inf at 1, NaN
    outside [0, 1]; sqrt(2) erfinv(2p - 1) for 1/4 <= p <= 3/4 (2p - 1 is
    exact there), else the tail solver on min(p, 1 - p) (1 - p exact).
    Derivative sqrt(2 pi) exp(x^2 / 2), of every order (through the steps)."""
    p = _float1("ndtri", p)
    middle = logical_and(p >= 0.25, p <= 0.75)
    upper = p > 0.5
    q = where(upper, 1.0 - p, p)
    tail_ok = logical_and(~middle, q > 0.0)
    x_tail = _ndtri_tail(where(tail_ok, q, 0.25))
    x_mid = math.sqrt(2.0) * _erfinv_central(2.0 * where(middle, p, 0.5) - 1.0)
    tail = where(upper, -x_tail, x_tail)
    edge = where(p == 0.0, -np.inf, where(p == 1.0, np.inf, stop_gradient(p) * np.nan))
    return where(middle, x_mid, where(tail_ok, tail, edge))


def erfinv(x: Any) -> Any:
    """The inverse of erf (scipy.special.erfinv): -inf at -1, inf at 1, NaN
    outside [-1, 1]; the series refined on erf for |x| <= 1/2, else
    -ndtri((1 - |x|) / 2) / sqrt(2) signed as x (1 - |x| exact there).
    Derivative sqrt(pi)/2 exp(erfinv(x)^2), of every order."""
    x = _float1("erfinv", x)
    middle = abs(x) <= 0.5
    q = (1.0 - abs(x)) * 0.5
    tail_ok = logical_and(~middle, q > 0.0)
    magnitude = _ndtri_tail(where(tail_ok, q, 0.25)) * -math.sqrt(0.5)
    tail = where(x < 0.0, -magnitude, magnitude)
    edge = where(x == 1.0, np.inf, where(x == -1.0, -np.inf, stop_gradient(x) * np.nan))
    return where(middle, _erfinv_central(where(middle, x, 0.0)), where(tail_ok, tail, edge))


__all__ = [
    "erfc", "expit", "logit", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "ndtr", "log_ndtr",
    "gammaln", "digamma", "psi", "polygamma", "erfinv", "ndtri",
]
