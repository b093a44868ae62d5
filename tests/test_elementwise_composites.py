"""The elementwise composites of issue #14 (reciprocal, logaddexp,
logaddexp2, softplus, sinc, hypot, clip, heaviside, isnan, isinf,
isfinite): values against NumPy in float32 and float64 at edge values
(signed zeros, infinities, NaN, huge and tiny magnitudes) under gradc.jit,
through gnp.<f>, np.<f> dispatch and x.clip; first and second derivatives
against central differences of the NumPy function (float64) away from
kinks; at kinks and infinities the values docs/derivative-conventions.md
lists (JAX's, or gradc's documented ones), forward and reverse. Each table
is one compiled function.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradc
from gradc.errors import GradcError, TraceError, TraceTypeError
import gradc.numpy as gnp
from tests.test_numpy_surface import _central, _central_hessian

INF, NAN = np.inf, np.nan
EDGES = np.array([-INF, -3.5, -1.0, -0.0, 0.0, 0.5, 2.0, INF, NAN])
GRID_A, GRID_B = (g.ravel() for g in np.meshgrid(EDGES, EDGES))  # every pair of edge values
rng = np.random.default_rng(1415)


def _operands(dtype):
    """(a, b, x): every pair of edge values, random pairs, and magnitudes
    near overflow and underflow of `dtype`; x is a alone."""
    big, tiny = (1e300, 1e-300) if dtype == np.float64 else (1e38, 1e-38)
    extra_a = np.array([big, -big, big, tiny, tiny, -tiny, 3 * big, 1.0])
    extra_b = np.array([big, big, -2 * big, tiny, -3 * tiny, 0.0, 1.0, 3 * big])
    a = np.concatenate([GRID_A, rng.normal(size=16) * 3, extra_a]).astype(dtype)
    b = np.concatenate([GRID_B, rng.normal(size=16) * 3, extra_b]).astype(dtype)
    return a, b, a.copy()


# name: (gradc's call on traced a, b, x; NumPy's on NumPy arrays)
VALUE_CASES = {
    "reciprocal": (lambda a, b, x: gnp.reciprocal(x), lambda a, b, x: np.reciprocal(x)),
    "np.reciprocal": (lambda a, b, x: np.reciprocal(x), lambda a, b, x: np.reciprocal(x)),
    "logaddexp": (lambda a, b, x: gnp.logaddexp(a, b), lambda a, b, x: np.logaddexp(a, b)),
    "np.logaddexp": (lambda a, b, x: np.logaddexp(a, b), lambda a, b, x: np.logaddexp(a, b)),
    "logaddexp_const": (lambda a, b, x: gnp.logaddexp(-INF, x), lambda a, b, x: np.logaddexp(-INF, x)),
    "logaddexp2": (lambda a, b, x: gnp.logaddexp2(a, b), lambda a, b, x: np.logaddexp2(a, b)),
    "np.logaddexp2": (lambda a, b, x: np.logaddexp2(b, a), lambda a, b, x: np.logaddexp2(b, a)),
    "softplus": (lambda a, b, x: gnp.softplus(x), lambda a, b, x: np.logaddexp(x, 0.0)),
    "sinc": (lambda a, b, x: gnp.sinc(x), lambda a, b, x: np.sinc(x)),
    "np.sinc": (lambda a, b, x: np.sinc(x / 7), lambda a, b, x: np.sinc(x / 7)),
    "hypot": (lambda a, b, x: gnp.hypot(a, b), lambda a, b, x: np.hypot(a, b)),
    "np.hypot": (lambda a, b, x: np.hypot(b, a), lambda a, b, x: np.hypot(b, a)),
    "hypot_f64": (lambda a, b, x: gnp.hypot(a, np.float64(2.5)), lambda a, b, x: np.hypot(a, np.float64(2.5))),
    "clip": (lambda a, b, x: gnp.clip(x, -1.0, 2.0), lambda a, b, x: np.clip(x, -1.0, 2.0)),
    "clip_keywords": (lambda a, b, x: gnp.clip(x, min=0.0, max=0.5), lambda a, b, x: np.clip(x, 0.0, 0.5)),
    "clip_a_min_only": (lambda a, b, x: gnp.clip(x, -0.0), lambda a, b, x: np.clip(x, -0.0, None)),  # jnp.clip(x, lo)
    "clip_max_none": (lambda a, b, x: gnp.clip(x, 0.0, None), lambda a, b, x: np.clip(x, 0.0, None)),
    "clip_neither": (lambda a, b, x: gnp.clip(x, None, None), lambda a, b, x: np.clip(x, None, None)),
    "clip_crossed": (lambda a, b, x: gnp.clip(x, 1.0, -1.0), lambda a, b, x: np.clip(x, 1.0, -1.0)),
    "clip_traced": (lambda a, b, x: gnp.clip(x, b, b + 1.0), lambda a, b, x: np.clip(x, b, b + 1.0)),
    "np.clip": (lambda a, b, x: np.clip(x, min=-0.5, max=1.5), lambda a, b, x: np.clip(x, min=-0.5, max=1.5)),
    "np.clip_a_max": (lambda a, b, x: np.clip(x, a_min=None, a_max=0.5), lambda a, b, x: np.clip(x, a_min=None, a_max=0.5)),
    "method_clip": (lambda a, b, x: x.clip(0.0), lambda a, b, x: x.clip(0.0)),
    "method_clip_max": (lambda a, b, x: x.clip(max=-1.0), lambda a, b, x: x.clip(max=-1.0)),
    "heaviside": (lambda a, b, x: gnp.heaviside(a, b), lambda a, b, x: np.heaviside(a, b)),
    "np.heaviside": (lambda a, b, x: np.heaviside(x, 0.5), lambda a, b, x: np.heaviside(x, 0.5)),
    "isnan": (lambda a, b, x: gnp.isnan(x), lambda a, b, x: np.isnan(x)),
    "isinf": (lambda a, b, x: gnp.isinf(x), lambda a, b, x: np.isinf(x)),
    "isfinite": (lambda a, b, x: gnp.isfinite(x), lambda a, b, x: np.isfinite(x)),
    "np.classify": (
        lambda a, b, x: (np.isnan(x), np.isinf(x), np.isfinite(x), gnp.isnan(x > 0)),
        lambda a, b, x: (np.isnan(x), np.isinf(x), np.isfinite(x), np.isnan(x > 0)),
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_numpy(dtype):
    a, b, x = _operands(dtype)
    names = list(VALUE_CASES)
    got = gradc.jit(lambda a, b, x: tuple(VALUE_CASES[n][0](a, b, x) for n in names))(a, b, x)
    rtol = 4e-6 if dtype == np.float32 else 4e-15
    with np.errstate(all="ignore"):
        wants = [VALUE_CASES[n][1](a, b, x) for n in names]
    for name, g, want in zip(names, got, wants, strict=True):
        for gl, wl in zip(g if isinstance(want, tuple) else [g], want if isinstance(want, tuple) else [want]):
            gl, wl = np.asarray(gl), np.asarray(wl)
            assert gl.shape == wl.shape and gl.dtype == wl.dtype, (name, gl.shape, gl.dtype, wl.dtype)
            if wl.dtype == np.bool_:
                np.testing.assert_array_equal(gl, wl, err_msg=name)
                continue
            np.testing.assert_allclose(gl, wl, rtol=rtol, atol=0, equal_nan=True, err_msg=name)
            if name != "clip_traced":  # NumPy's sign of a zero tie with array bounds is its loop's, not its scalar path's
                zeros = wl == 0
                assert np.array_equal(np.signbit(gl[zeros]), np.signbit(wl[zeros])), name  # -0.0 as NumPy


# ---------------------------------------------------------------------------
# Derivatives away from kinks, float64, against central differences of the
# NumPy function; binary functions take a = (first operands, second operands)
# ---------------------------------------------------------------------------

PAIRS = rng.normal(size=(2, 5)) * 2
PAIRS[1, :2] = PAIRS[0, :2] + np.array([0.3, -0.4])  # near ties, not at them
POSITIVE = rng.uniform(0.5, 2.0, size=(1, 5)) * rng.choice([-1.0, 1.0], size=(1, 5))
INSIDE = np.array([[-0.9, 0.3, 1.7, -2.5, 3.1], [-1.0, -1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 2.0, 2.0, 2.0]])

# name: (gradc's function of a, NumPy's, a)
GRAD_CASES = {
    "reciprocal": (lambda a: gnp.reciprocal(a[0]), lambda a: np.reciprocal(a[0]), POSITIVE),
    "logaddexp": (lambda a: gnp.logaddexp(a[0], a[1]), lambda a: np.logaddexp(a[0], a[1]), PAIRS),
    "logaddexp2": (lambda a: np.logaddexp2(a[0], a[1]), lambda a: np.logaddexp2(a[0], a[1]), PAIRS),
    "softplus": (lambda a: gnp.softplus(a[0] * 3), lambda a: np.logaddexp(a[0] * 3, 0.0), PAIRS),
    "sinc": (lambda a: gnp.sinc(a[0]), lambda a: np.sinc(a[0]), PAIRS),
    "hypot": (lambda a: gnp.hypot(a[0], a[1]), lambda a: np.hypot(a[0], a[1]), PAIRS),
    "hypot_const": (lambda a: gnp.hypot(a[0], 1.5), lambda a: np.hypot(a[0], 1.5), PAIRS),
    "clip": (lambda a: gnp.clip(a[0], -1.0, 1.5) * a[0], lambda a: np.clip(a[0], -1.0, 1.5) * a[0], INSIDE),
    "clip_traced": (lambda a: np.clip(a[0] * 1.7, a[1], a[2]), lambda a: np.clip(a[0] * 1.7, a[1], a[2]), INSIDE),
    "heaviside": (lambda a: gnp.heaviside(a[0], a[1]) * a[1], lambda a: np.heaviside(a[0], a[1]) * a[1], PAIRS),
}


def test_first_derivatives_match_central_differences():
    names = list(GRAD_CASES)
    weights = {n: np.random.default_rng(len(n)).normal(size=np.shape(GRAD_CASES[n][1](GRAD_CASES[n][2]))) for n in names}

    def loss(name):
        return lambda a: gnp.sum(GRAD_CASES[name][0](a) * weights[name])

    grads = gradc.jit(lambda *arrays: tuple(gradc.grad(loss(n))(a) for n, a in zip(names, arrays)))(
        *(GRAD_CASES[n][2] for n in names)
    )
    for name, g in zip(names, grads, strict=True):
        _, numpy_fn, a = GRAD_CASES[name]
        want = _central(lambda y: np.sum(numpy_fn(y) * weights[name]), a, 1e-6)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8, err_msg=name)


SECOND_CASES = {name: GRAD_CASES[name] for name in (
    "reciprocal", "logaddexp", "logaddexp2", "softplus", "sinc", "hypot", "hypot_const", "clip_traced",
)}


def test_second_derivatives_match_central_differences():
    names = list(SECOND_CASES)
    small = {n: SECOND_CASES[n][2][:, :2] for n in names}
    weights = {n: np.random.default_rng(len(n) + 1).normal(size=np.shape(SECOND_CASES[n][1](small[n]))) for n in names}
    hessians = gradc.jit(lambda *arrays: tuple(
        gradc.hessian(lambda a, n=n: gnp.sum(SECOND_CASES[n][0](a) * weights[n]))(a) for n, a in zip(names, arrays)
    ))(*(small[n] for n in names))
    for name, h in zip(names, hessians, strict=True):
        numpy_fn = SECOND_CASES[name][1]
        want = _central_hessian(lambda y: float(np.sum(numpy_fn(y) * weights[name])), small[name])
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=2e-6, err_msg=name)


# ---------------------------------------------------------------------------
# Kinks, ties and infinities: docs/derivative-conventions.md
# ---------------------------------------------------------------------------

S2 = 1 / math.sqrt(2)
# name: (gradc's function of the pair p = (p0, p1) -> scalar, points, gradients at them)
KINK_CASES = {
    # JAX's: exp(x - out) to each, 1/2 at ties, (1, 0) against -inf
    "logaddexp": (
        lambda p: gnp.logaddexp(p[0], p[1]),
        [(1.5, 1.5), (-0.0, 0.0), (2.0, -INF), (-INF, -3.0), (INF, 2.0), (-INF, -INF), (INF, INF), (NAN, 1.0)],
        [(0.5, 0.5), (0.5, 0.5), (1, 0), (0, 1), (1, 0), (0.5, 0.5), (0.5, 0.5), (0.5, 0.5)],
    ),
    "logaddexp2": (
        lambda p: gnp.logaddexp2(p[0], p[1]),
        [(1.5, 1.5), (2.0, -INF), (-INF, -INF)],
        [(0.5, 0.5), (1, 0), (0.5, 0.5)],
    ),
    "softplus": (lambda p: gnp.softplus(p[0]) + p[1], [(0.0, 0.0), (-INF, 0.0), (INF, 0.0)], [(0.5, 1), (0, 1), (1, 1)]),
    # JAX's: 1/2 to each at (0, 0); the tie of magnitudes is smooth (x / hypot)
    "hypot": (
        lambda p: gnp.hypot(p[0], p[1]),
        [(0.0, 0.0), (-0.0, 0.0), (2.0, -2.0), (0.0, 3.0), (INF, 1.0), (2.0, -INF), (NAN, INF)],
        [(0.5, 0.5), (0.5, 0.5), (S2, -S2), (0, 1), (0, 0), (0, 0), (0, 0)],
    ),
    "hypot_const": (lambda p: gnp.hypot(p[0], -2.0) + p[1], [(2.0, 0.0), (-2.0, 0.0)], [(S2, 1), (-S2, 1)]),
    # a constant bound wins the tie (gradc's maximum/minimum); traced bounds split it
    "clip": (
        lambda p: gnp.clip(p[0], -1.0, 2.0) + p[1],
        [(-1.0, 0.0), (2.0, 0.0), (0.5, 0.0), (3.0, 0.0), (NAN, 0.0)],
        [(0, 1), (0, 1), (1, 1), (0, 1), (0, 1)],
    ),
    "clip_traced_low": (lambda p: gnp.clip(p[0], p[1], 5.0), [(-1.0, -1.0), (0.0, -1.0)], [(0.5, 0.5), (1, 0)]),
    "clip_traced_high": (lambda p: gnp.clip(p[0], None, p[1]), [(2.0, 2.0), (3.0, 2.0)], [(0.5, 0.5), (0, 1)]),
    "heaviside": (
        lambda p: gnp.heaviside(p[0], p[1]),
        [(0.0, 0.5), (-0.0, 2.0), (1.0, 0.5), (-1.0, 0.5), (NAN, 0.5)],
        [(0, 1), (0, 1), (0, 0), (0, 0), (0, 0)],
    ),
}
KINK_ROWS = [(n, i) for n, (_, points, _) in KINK_CASES.items() for i in range(len(points))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_derivatives_at_kinks(dtype):
    points = [np.array(KINK_CASES[n][1][i], dtype) for n, i in KINK_ROWS]

    def both_modes(*ps):
        out = []
        for (name, _), p in zip(KINK_ROWS, ps):
            f = KINK_CASES[name][0]
            out.append((gradc.grad(f)(p), gradc.jacfwd(f)(p)))
        return tuple(out)

    got = gradc.jit(both_modes)(*points)
    for (name, i), (reverse, forward) in zip(KINK_ROWS, got, strict=True):
        want = np.array(KINK_CASES[name][2][i], np.float64)
        for mode, g in (("reverse", reverse), ("forward", forward)):
            g = np.asarray(g)
            assert g.dtype == dtype, (name, i, mode, g.dtype)
            np.testing.assert_allclose(g, want, rtol=4e-7 if dtype == np.float32 else 1e-15, atol=0,
                                       err_msg=f"{name} at {KINK_CASES[name][1][i]} ({mode})")


def test_second_derivatives_at_kinks():
    """logaddexp's Hessian at a tie is exact ([[1/4, -1/4], [-1/4, 1/4]],
    as JAX's); sinc at 0: 1, 0, -pi^2/3 (its Maclaurin series, as JAX's);
    hypot at (0, 0): 0 (JAX's)."""
    tie = np.array([0.75, 0.75])
    zero = np.array([0.0, -0.0, 0.0])
    tiny = np.array([1e-8, -3e-5, 0.02, 0.04])  # the series (|pi x| < 0.1), then sin(pi x) / (pi x)
    value, d1, d2, h_lae, h_hyp, h_sp, d_tiny = gradc.jit(lambda t, z, s: (
        gnp.sinc(z),
        gradc.jacfwd(lambda z: gnp.sinc(z))(z),
        gradc.hessian(lambda z: gnp.sum(gnp.sinc(z)))(z),
        gradc.hessian(lambda t: gnp.logaddexp(t[0], t[1]))(t),
        gradc.hessian(lambda z: gnp.hypot(z[0], z[1]))(z),
        gradc.hessian(lambda z: gnp.sum(gnp.softplus(z)))(z),
        gradc.grad(lambda s: gnp.sum(gnp.sinc(s)))(s),
    ))(tie, zero, tiny)
    np.testing.assert_array_equal(value, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(d1, np.zeros((3, 3)))
    np.testing.assert_allclose(d2, np.diag([-math.pi ** 2 / 3] * 3), rtol=1e-14, atol=0)
    np.testing.assert_allclose(h_lae, [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-14, atol=0)
    np.testing.assert_allclose(h_lae, _central_hessian(lambda t: float(np.logaddexp(t[0], t[1])), tie), atol=1e-7)
    np.testing.assert_array_equal(h_hyp, np.zeros((3, 3)))
    np.testing.assert_allclose(h_sp, np.diag([0.25] * 3), rtol=1e-14, atol=0)  # sigmoid'(0)
    y = np.pi * tiny  # sinc' = pi (y cos y - sin y) / y^2, its series where that cancels
    want = np.where(np.abs(y) < 1e-3, -y / 3 + y ** 3 / 30 - y ** 5 / 840, (y * np.cos(y) - np.sin(y)) / y ** 2)
    np.testing.assert_allclose(d_tiny, np.pi * want, rtol=1e-11, atol=0)


@pytest.mark.parametrize(
    "fn, error, pattern",
    [
        (lambda x: gnp.clip(x, 0.0, a_max=1.0, max=2.0), TraceTypeError, r"clip: give the max bound as a_max or as max=, not both"),
        (lambda x: np.clip(x, 0.0, 1.0, out=np.empty(3)), TraceTypeError, r"clip: out= is not supported"),
        (lambda x: gnp.hypot(x, np.ones(4)), TraceError, r"hypot: shapes \(3,\) and \(4,\) cannot be broadcast"),
        (lambda x: gnp.logaddexp(x > 0, x > 1), TraceTypeError, r"logaddexp: NumPy computes this in float16"),
        (lambda x: np.logaddexp(x, 1.0, out=x), TraceTypeError, r"numpy.logaddexp with out= is not supported"),
    ],
    ids=["clip_both", "clip_out", "hypot_shapes", "logaddexp_bool", "logaddexp_out"],
)
def test_bad_input_is_a_located_error(fn, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        gradc.jit(fn)(np.array([0.5, -1.0, 2.0]))
    assert isinstance(info.value, GradcError)
    assert info.value.location is not None and info.value.location.startswith(__file__)
