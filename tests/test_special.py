"""gradc.scipy.special against scipy.special: values at random points, at
domain edges, zeros, infinities and NaN and deep in the tails, in float32
and float64; first and second derivatives against the analytic derivatives
(computed with scipy) and against central finite differences; the
conventions where the functions are not differentiable. One build per
dtype for the values, one for the derivatives."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as ss

import gradc
import gradc.numpy as gnp
import gradc.scipy.special as gsp

pytestmark = pytest.mark.usefixtures("private_cache")

NAN, INF = np.nan, np.inf
EPS = {np.float32: float(np.finfo(np.float32).eps), np.float64: float(np.finfo(np.float64).eps)}
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

REALS = np.array([-1e3, -200.0, -40.0, -37.5, -21.0, -20.0, -19.5, -12.0, -10.0, -9.5, -5.0, -1.0, -0.3,
                  -1e-30, -0.0, 0.0, 1e-30, 0.3, 0.7, 1.0, 2.0, 5.0, 6.0, 9.0, 26.0, 40.0, INF, -INF, NAN])
UNIT = np.array([0.0, -0.0, 1e-30, 1e-10, 0.01, 0.2, 0.5, 0.7, 0.9999, 1.0, 1.5, -0.1, INF, -INF, NAN])
PAIRS_X = np.array([0.0, 0.0, 0.0, 0.0, -0.0, 0.0, 1.0, 2.0, 0.5, 3.0, -1.0, 0.0, NAN, 1.0, 1e-3, 0.0, INF])
PAIRS_Y = np.array([0.0, -1.0, -2.0, INF, 5.0, NAN, 0.0, 3.0, 0.5, -2.0, 2.0, 0.3, 1.0, NAN, 7.0, -INF, 1.0])

UNARY = {  # gsp function, scipy reference, points; tolerance in eps: a + b x^2
    "erfc": (gsp.erfc, ss.erfc, REALS, (4, 2)),
    "expit": (gsp.expit, ss.expit, REALS, (4, 0)),
    "ndtr": (gsp.ndtr, ss.ndtr, REALS, (8, 2)),
    "log_ndtr": (gsp.log_ndtr, ss.log_ndtr, REALS, (8, 2)),
    "logit": (gsp.logit, ss.logit, UNIT, (4, 0)),
    "entr": (gsp.entr, ss.entr, UNIT, (4, 0)),
}
BINARY = {
    "xlogy": (gsp.xlogy, ss.xlogy),
    "xlog1py": (gsp.xlog1py, ss.xlog1py),
    "rel_entr": (gsp.rel_entr, ss.rel_entr),
    "kl_div": (gsp.kl_div, ss.kl_div),
}


def assert_close(got, want, dtype, rtol, what):
    """Same dtype, NaN and infinities where `want` has them, finite values
    within `rtol` (elementwise) of `want`; results below the smallest
    normal float count as 0 (scipy flushes some of them)."""
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.dtype == dtype, what
    tiny = np.finfo(dtype).tiny
    want = np.where(np.abs(want) < tiny, 0.0, want)
    got64 = np.where(np.abs(got.astype(np.float64)) < tiny, 0.0, got.astype(np.float64))
    np.testing.assert_array_equal(np.isnan(got64), np.isnan(want), err_msg=what)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got64[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)], err_msg=what)
    rtol = np.broadcast_to(rtol, want.shape)
    err = np.abs(got64[finite] - want[finite])
    assert (err <= rtol[finite] * np.abs(want[finite])).all(), (
        f"{what}: {np.asarray(got)[finite][err > rtol[finite] * np.abs(want[finite])]} vs "
        f"{want[finite][err > rtol[finite] * np.abs(want[finite])]}"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_values_against_scipy_at_edges_and_in_the_tails(dtype):
    """Every function on points rounded to `dtype`, against scipy on the
    same points in float64: within a few ulp (times 1 + x^2 where the
    argument's own rounding is amplified, as in erfc's tail), NaN and
    infinities exactly where scipy has them."""
    unary = [points.astype(dtype) for _, _, points, _ in UNARY.values()]
    x, y = PAIRS_X.astype(dtype), PAIRS_Y.astype(dtype)

    def f(*args):
        return ([fn(a) for (fn, *_), a in zip(UNARY.values(), args[:-2])],
                [fn(args[-2], args[-1]) for fn, _ in BINARY.values()])

    with np.errstate(all="ignore"):
        got_unary, got_binary = gradc.jit(f)(*unary, x, y)
        for (name, (_, ref, _, (a, b))), points, got in zip(UNARY.items(), unary, got_unary):
            wide = points.astype(np.float64)
            rtol = EPS[dtype] * (a + b * np.where(np.isfinite(wide), wide * wide, 0.0))
            assert_close(got, ref(wide), dtype, rtol, f"{name} ({np.dtype(dtype)}) at {points}")
        for (name, (_, ref)), got in zip(BINARY.items(), got_binary):
            want = ref(x.astype(np.float64), y.astype(np.float64))
            assert_close(got, want, dtype, 4 * EPS[dtype], f"{name} ({np.dtype(dtype)}) at {x}, {y}")


def test_untraced_calls_are_scipys_values():
    """On NumPy arrays and Python numbers the same functions give scipy's
    values (float32 stays float32, integers give float64)."""
    x32 = np.array([-3.0, 0.25, 2.0], np.float32)
    for fn, ref in [(gsp.ndtr, ss.ndtr), (gsp.log_ndtr, ss.log_ndtr), (gsp.expit, ss.expit), (gsp.erfc, ss.erfc)]:
        got = fn(x32)
        assert np.asarray(got).dtype == np.float32
        np.testing.assert_allclose(got, ref(x32.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(gsp.logit(0.25), ss.logit(0.25), rtol=1e-15)
    np.testing.assert_allclose(gsp.xlogy(np.array([0, 2]), np.array([0, 3])), ss.xlogy([0, 2], [0, 3]), rtol=1e-15)
    assert np.asarray(gsp.xlogy(np.array([0, 2]), np.array([0, 3]))).dtype == np.float64
    np.testing.assert_allclose(gsp.kl_div(0.5, 0.25), ss.kl_div(0.5, 0.25), rtol=1e-15)
    z = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1e3]])
    np.testing.assert_allclose(gsp.log_softmax(z), ss.log_softmax(z, axis=-1), rtol=1e-15)


# ---------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------

def _dlog_ndtr(x):
    # pdf / cdf = 2 / (sqrt(2 pi) erfcx(-x / sqrt(2))): no exp of a difference of large numbers.
    return 2.0 / (math.sqrt(2 * math.pi) * ss.erfcx(-x / math.sqrt(2)))


DERIVATIVES = {  # name: (gsp function, points, analytic derivative with scipy)
    "erfc": (gsp.erfc, np.array([-2.0, -0.5, 0.3, 1.7, 4.0, 9.0]), lambda x: -2 / math.sqrt(math.pi) * np.exp(-x * x)),
    "expit": (gsp.expit, np.array([-30.0, -2.0, 0.0, 0.5, 3.0]), lambda x: ss.expit(x) * ss.expit(-x)),
    "logit": (gsp.logit, np.array([0.01, 0.3, 0.5, 0.8, 0.999]), lambda x: 1 / (x * (1 - x))),
    "ndtr": (gsp.ndtr, np.array([-30.0, -3.0, -0.2, 0.0, 1.5, 7.0]), lambda x: np.exp(-0.5 * x * x - LOG_SQRT_2PI)),
    "log_ndtr": (gsp.log_ndtr, np.array([-1e3, -50.0, -20.5, -19.5, -10.5, -9.5, -3.0, -0.5, 0.5, 4.0, 9.0]), _dlog_ndtr),
    "entr": (gsp.entr, np.array([1e-8, 0.1, 0.5, 1.0, 3.0]), lambda x: -(np.log(x) + 1)),
}


def test_first_and_second_derivatives_against_scipy_and_finite_differences():
    """grad of each function (reverse mode) against its analytic derivative
    evaluated with scipy, and the second derivative (grad of grad) against
    central differences of that analytic derivative; float64, one build."""
    points = [p for _, p, _ in DERIVATIVES.values()]

    def f(*xs):
        firsts = [gradc.grad(lambda v, fn=fn: gnp.sum(fn(v)))(x) for (fn, *_), x in zip(DERIVATIVES.values(), xs)]
        seconds = [gradc.grad(lambda v, fn=fn: gnp.sum(gradc.grad(lambda u: gnp.sum(fn(u)))(v)))(x)
                   for (fn, *_), x in zip(DERIVATIVES.values(), xs)]
        return firsts, seconds

    firsts, seconds = gradc.jit(f)(*points)
    for (name, (_, x, d)), first, second in zip(DERIVATIVES.items(), firsts, seconds):
        np.testing.assert_allclose(first, d(x), rtol=1e-12, err_msg=f"{name}'")
        h = 1e-7 * np.where(x == 0, 1.0, np.abs(x))
        # atol for zeros of the second derivative (logit's at 1/2).
        atol = 1e-6 * np.abs(d(x)) / np.maximum(np.abs(x), 1e-3)
        fd = (d(x + h) - d(x - h)) / (2 * h)
        assert (np.abs(second - fd) <= 1e-6 * np.abs(fd) + atol).all(), (f"{name}''", x, second, fd)


def test_log_ndtr_derivative_is_continuous_across_its_branches():
    """Where log_ndtr changes formula (-20 and 0 in float64, -10 and 0 in
    float32) its value and derivative agree from both sides, and the
    derivative is scipy's (float32 within a few ulp)."""
    for dtype, lower in [(np.float64, -20.0), (np.float32, -10.0)]:
        eps = EPS[dtype]
        x = np.array([lower * (1 + 4 * eps), lower, lower * (1 - 4 * eps), -4 * eps, 0.0, 4 * eps], dtype)
        value, slope = gradc.jit(gradc.value_and_grad(lambda v: gnp.sum(gsp.log_ndtr(v))))(x)
        wide = x.astype(np.float64)
        # exp(-x^2/2) amplifies the rounding of x / sqrt(2) by x^2.
        rtol = eps * (8 + wide * wide / 2)
        assert (np.abs(slope - _dlog_ndtr(wide)) <= rtol * _dlog_ndtr(wide)).all(), (dtype, slope, _dlog_ndtr(wide))
        np.testing.assert_allclose(value, np.sum(ss.log_ndtr(wide)), rtol=60 * eps)


def test_binary_derivatives_against_scipy_and_finite_differences():
    """xlogy, xlog1py, rel_entr, kl_div and log_softmax: gradients to both
    operands at random interior points against the analytic ones (scipy's
    values in them), second derivatives against central differences of the
    analytic gradient; float64, one build."""
    rng = np.random.default_rng(31)
    x, y = rng.uniform(0.2, 3.0, 6), rng.uniform(0.2, 3.0, 6)
    analytic = {
        "xlogy": (gsp.xlogy, lambda x, y: (np.log(y), x / y)),
        "xlog1py": (gsp.xlog1py, lambda x, y: (np.log1p(y), x / (1 + y))),
        "rel_entr": (gsp.rel_entr, lambda x, y: (np.log(x / y) + 1, -x / y)),
        "kl_div": (gsp.kl_div, lambda x, y: (np.log(x / y), 1 - x / y)),
    }

    def f(x, y):
        out = {}
        for name, (fn, _) in analytic.items():
            g = gradc.grad(lambda a, b, fn=fn: gnp.sum(fn(a, b)), argnums=(0, 1))
            out[name] = (g(x, y), gradc.grad(lambda a, b, g=g: gnp.sum(g(a, b)[0] + g(a, b)[1]), argnums=(0, 1))(x, y))
        return out

    got = gradc.jit(f)(x, y)
    h = 1e-6
    for name, (_, d) in analytic.items():
        (gx, gy), (hx, hy) = got[name]
        want_x, want_y = d(x, y)
        np.testing.assert_allclose(gx, want_x, rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(gy, want_y, rtol=1e-13, err_msg=name)
        total = lambda a, b: sum(d(a, b))  # noqa: E731
        np.testing.assert_allclose(hx, (total(x + h, y) - total(x - h, y)) / (2 * h), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(hy, (total(x, y + h) - total(x, y - h)) / (2 * h), rtol=1e-6, err_msg=name)


def test_log_softmax_gradient_and_stability():
    """log_softmax along an axis: scipy's values for large inputs (no
    overflow), and the gradient of sum(w * log_softmax(z)) is
    w - softmax(z) sum(w) along the axis."""
    z = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1e3]])
    w = np.array([[0.5, -1.0, 2.0], [1.0, 1.0, -3.0]])
    value, grad = gradc.jit(gradc.value_and_grad(lambda v: gnp.sum(w * gsp.log_softmax(v, axis=1))))(z)
    np.testing.assert_allclose(value, np.sum(w * ss.log_softmax(z, axis=1)), rtol=1e-14)
    want = w - ss.softmax(z, axis=1) * w.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, want, rtol=1e-13, atol=1e-300)
    got = gradc.jit(lambda v: gsp.log_softmax(v, axis=0))(z.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ss.log_softmax(z, axis=0), rtol=1e-6)


def test_conventions_where_the_functions_are_not_differentiable():
    """docs/scipy-special.md: xlogy at x = 0 is 0 with derivative (log y,
    0) for y > 0 (the function's own) and (0, 0) where log y is not
    finite; entr, rel_entr and kl_div give the chosen constant's
    derivative (0) at x = 0, and kl_div 1 to y there."""
    x = np.array([0.0, 0.0, 0.0, 0.0])
    y = np.array([2.0, 0.0, -1.0, INF])
    g = gradc.jit(gradc.grad(lambda a, b: gnp.sum(gsp.xlogy(a, b)), argnums=(0, 1)))
    gx, gy = g(x, y)
    np.testing.assert_array_equal(gx, [math.log(2.0), 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.0, 0.0])
    p, q = np.array([0.0, 0.0, 0.5]), np.array([0.5, 0.0, 2.0])
    both = gradc.jit(lambda a, b: (gradc.grad(lambda u: gnp.sum(gsp.entr(u)))(a),
                                   gradc.grad(lambda u, v: gnp.sum(gsp.rel_entr(u, v)), argnums=(0, 1))(a, b),
                                   gradc.grad(lambda u, v: gnp.sum(gsp.kl_div(u, v)), argnums=(0, 1))(a, b)))
    d_entr, (r_p, r_q), (k_p, k_q) = both(p, q)
    np.testing.assert_array_equal(d_entr[:2], [0.0, 0.0])
    np.testing.assert_allclose(d_entr[2], -(math.log(0.5) + 1), rtol=1e-15)
    np.testing.assert_array_equal([r_p[:2], r_q[:2], k_p[:2]], np.zeros((3, 2)))
    np.testing.assert_array_equal(k_q[:2], [1.0, 1.0])
    np.testing.assert_allclose([r_p[2], r_q[2], k_p[2], k_q[2]],
                               [math.log(0.25) + 1, -0.25, math.log(0.25), 0.75], rtol=1e-15)


# ---------------------------------------------------------------------------
# gammaln, digamma, polygamma
# ---------------------------------------------------------------------------

GAMMA_POINTS = np.array([1e-300, 1e-8, 0.3, 0.5, 0.99, 1.0, 1.01, 1.2, 1.46, 1.4616321449683622, 1.5, 1.9, 2.0,
                         2.1, 2.5, 3.7, 9.5, 9.999, 10.0, 12.5, 150.0, 1e5, 1e17, 1e300, -0.5, -1.5, -2.457,
                         -3.3, -7.8, -1e-8, -20.25, 0.0, -0.0, -1.0, -4.0, INF, -INF, NAN])
GAMMA_FUNCTIONS = {
    "gammaln": (gsp.gammaln, ss.gammaln),
    "digamma": (gsp.digamma, ss.digamma),
    "psi": (gsp.psi, ss.psi),
    "polygamma(1)": (lambda v: gsp.polygamma(1, v), lambda v: ss.polygamma(1, v)),
    "polygamma(2)": (lambda v: gsp.polygamma(2, v), lambda v: ss.polygamma(2, v)),
    "polygamma(5)": (lambda v: gsp.polygamma(np.int64(5), v), lambda v: ss.polygamma(5, v)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_gamma_family_values_against_scipy(dtype):
    """gammaln, digamma and polygamma(n) at small, moderate and huge x,
    near the zeros of gammaln (1, 2) and of digamma (1.4616...), below 0
    (reflection), at the poles and at +-inf and NaN: scipy's values
    (infinities and their signs, NaN) and within 32 ulp of max(1, |f|)
    (scipy's own error reaches 200 ulp in places; gradc's, measured
    against 200-bit references, is below 5 ulp of max(1, |f|) and 16 ulp
    relative for x > 0: docs/scipy-special.md)."""
    x = GAMMA_POINTS.astype(dtype)
    with np.errstate(all="ignore"):
        got = gradc.jit(lambda v: [fn(v) for fn, _ in GAMMA_FUNCTIONS.values()])(x)
        for (name, (_, ref)), g in zip(GAMMA_FUNCTIONS.items(), got):
            want = ref(x.astype(np.float64)).astype(dtype).astype(np.float64)  # float32 overflows to inf
            finite = np.isfinite(want)
            rtol = np.where(finite, 32 * EPS[dtype] * np.maximum(1.0, np.abs(want)) / np.where(want == 0, 1.0, np.abs(want)), 0.0)
            what = f"{name} ({np.dtype(dtype)}) at {x}"
            assert_close(g, want, dtype, rtol, what)
            # zeros of the function aside: assert_close divides by |want|
            zeros = want == 0
            assert (np.abs(g[zeros]) <= 32 * EPS[dtype]).all(), what


@pytest.mark.parametrize("part", ["gammaln", "digamma_polygamma"])
def test_gamma_family_derivatives_are_the_next_polygamma(part):
    """gammaln' = digamma and gammaln'' = polygamma(1) (reverse over
    reverse); digamma' = polygamma(1), polygamma(1)' = polygamma(2) (forward
    mode), polygamma(2)' = polygamma(3): against scipy, for x > 0 and below
    0; float64, one build per part."""
    x = np.array([1e-3, 0.3, 1.0, 1.46, 1.7, 2.0, 3.3, 9.9, 10.1, 55.0, 1e4, -0.5, -2.3, -7.75])
    d_gammaln = gradc.grad(lambda u: gnp.sum(gsp.gammaln(u)))
    if part == "gammaln":
        got = gradc.jit(lambda v: (d_gammaln(v), gradc.grad(lambda u: gnp.sum(d_gammaln(u)))(v)))(x)
        wants = {"gammaln'": ss.digamma(x), "gammaln''": ss.polygamma(1, x)}
    else:
        def f(v):
            d_digamma = gradc.grad(lambda u: gnp.sum(gsp.digamma(u)))
            _, d_pg1 = gradc.jvp(lambda u: gsp.polygamma(1, u), (v,), (gnp.ones_like(v),))
            return d_digamma(v), d_pg1, gradc.grad(lambda u: gnp.sum(gsp.polygamma(2, u)))(v)

        got = gradc.jit(f)(x)
        wants = {"digamma'": ss.polygamma(1, x), "polygamma(1)'": ss.polygamma(2, x),
                 "polygamma(2)'": ss.polygamma(3, x)}
    for (name, want), g in zip(wants.items(), got):
        np.testing.assert_allclose(g, want, rtol=64 * EPS[np.float64], atol=64 * EPS[np.float64], err_msg=name)


def test_polygamma_takes_a_static_integer_order():
    with pytest.raises(gradc.GradcError, match="polygamma: n must be a static integer >= 0"):
        gradc.jit(lambda v: gsp.polygamma(1.5, v))(np.ones(2))
    with pytest.raises(gradc.GradcError, match="polygamma: n must be a static integer >= 0"):
        gradc.jit(lambda v: gsp.polygamma(-1, v))(np.ones(2))


# ---------------------------------------------------------------------------
# erfinv, ndtri
# ---------------------------------------------------------------------------

PROBABILITIES = np.array([0.0, 1e-300, 1e-100, 1e-30, 1e-10, 1e-3, 0.02, 0.2, 0.25, 0.3, 0.5, 0.5 + 1e-12, 0.7,
                          0.75, 0.8, 0.999, 1 - 1e-12, 1 - 2**-53, 1.0, -0.1, 1.5, INF, NAN])
ERF_VALUES = np.array([-1.0, -1 + 2**-53, -0.9, -0.5, -0.3, -1e-20, -0.0, 0.0, 1e-300, 0.2, 0.4999, 0.5, 0.51,
                       0.99, 1 - 1e-12, 1.0, 1.0001, -INF, NAN])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_erfinv_and_ndtri_values_against_scipy(dtype):
    """Within a few ulp of scipy from the middle to the deepest tails
    (ndtri(1e-300), erfinv(1 - 2^-53)), infinities at the ends of the
    domain, NaN outside it and for NaN; signs of zeros (erfinv(-0.0) is
    -0.0)."""
    p, s = PROBABILITIES.astype(dtype), ERF_VALUES.astype(dtype)
    with np.errstate(all="ignore"):
        got_p, got_s = gradc.jit(lambda a, b: (gsp.ndtri(a), gsp.erfinv(b)))(p, s)
        assert_close(got_p, ss.ndtri(p.astype(np.float64)), dtype, 8 * EPS[dtype], f"ndtri at {p}")
        assert_close(got_s, ss.erfinv(s.astype(np.float64)), dtype, 8 * EPS[dtype], f"erfinv at {s}")
    zeros = s == 0
    np.testing.assert_array_equal(np.signbit(got_s[zeros]), np.signbit(s[zeros]))


@pytest.mark.parametrize("name", ["ndtri", "erfinv"])
def test_erfinv_and_ndtri_derivatives(name):
    """First derivatives d = sqrt(2 pi) exp(y^2 / 2) for y = ndtri(p) and
    d = sqrt(pi)/2 exp(y^2) for y = erfinv(x), second derivatives y d^2 and
    2 y d^2 (scipy's y in them), in both branches (middle and tails);
    float64, one build each."""
    if name == "ndtri":
        fn, x = gsp.ndtri, np.array([1e-100, 1e-8, 0.1, 0.26, 0.5, 0.74, 0.9, 1 - 1e-9])
        y = ss.ndtri(x)
        d, d2 = math.sqrt(2 * math.pi) * np.exp(0.5 * y**2), y
    else:
        fn, x = gsp.erfinv, np.array([-0.999999, -0.7, -0.4, 0.0, 0.3, 0.49, 0.51, 0.95])
        y = ss.erfinv(x)
        d, d2 = math.sqrt(math.pi) / 2 * np.exp(y**2), 2 * y
    first = gradc.grad(lambda u: gnp.sum(fn(u)))
    got, second = gradc.jit(lambda v: (first(v), gradc.grad(lambda u: gnp.sum(first(u)))(v)))(x)
    np.testing.assert_allclose(got, d, rtol=1e-13, err_msg=f"{name}'")
    np.testing.assert_allclose(second, d2 * d * d, rtol=1e-12, atol=1e-300, err_msg=f"{name}''")


def test_stats_norm_against_scipy_and_black_scholes_greeks():
    """gradc.scipy.stats.norm against scipy.stats.norm (tails included, loc
    and scale traced), and the program an option-pricing user writes: the
    Black-Scholes call price with its delta and gamma from grad and grad of
    grad, against the closed forms computed with scipy. One build."""
    import scipy.stats as stats

    import gradc.scipy.stats.norm as norm

    x = np.array([-40.0, -7.5, -1.0, 0.0, 0.3, 2.0, 9.0])
    q = np.array([1e-300, 1e-12, 0.025, 0.5, 0.9, 1 - 1e-12])
    loc, scale = 0.7, 1.9

    def price(s, k, t, r, sigma):
        d1 = (gnp.log(s / k) + (r + 0.5 * sigma**2) * t) / (sigma * gnp.sqrt(t))
        d2 = d1 - sigma * gnp.sqrt(t)
        return s * norm.cdf(d1) - k * gnp.exp(-r * t) * norm.cdf(d2)

    def program(x, q, loc, scale, s):
        values = tuple(f(x) for f in (norm.pdf, norm.logpdf, norm.cdf, norm.logcdf, norm.sf, norm.logsf))
        shifted = (norm.logpdf(x, loc, scale), norm.cdf(x, loc=loc, scale=scale), norm.ppf(q), norm.isf(q, loc, scale))
        delta = gradc.grad(price)(s, 100.0, 0.5, 0.03, 0.2)
        gamma = gradc.grad(gradc.grad(price))(s, 100.0, 0.5, 0.03, 0.2)
        return values, shifted, price(s, 100.0, 0.5, 0.03, 0.2), delta, gamma

    values, shifted, p, delta, gamma = gradc.jit(program)(x, q, loc, scale, 105.0)
    n = stats.norm
    for got, want in zip(values, (n.pdf(x), n.logpdf(x), n.cdf(x), n.logcdf(x), n.sf(x), n.logsf(x)), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    want = (n.logpdf(x, loc, scale), n.cdf(x, loc, scale), n.ppf(q), n.isf(q, loc, scale))
    for got, w in zip(shifted, want, strict=True):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=0)
    s, k, t, r, sigma = 105.0, 100.0, 0.5, 0.03, 0.2
    d1 = (math.log(s / k) + (r + 0.5 * sigma**2) * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    np.testing.assert_allclose(p, s * n.cdf(d1) - k * math.exp(-r * t) * n.cdf(d2), rtol=1e-14)
    np.testing.assert_allclose(delta, n.cdf(d1), rtol=1e-13)
    np.testing.assert_allclose(gamma, n.pdf(d1) / (s * sigma * math.sqrt(t)), rtol=1e-12)
