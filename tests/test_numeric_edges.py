"""Numeric edge cases (issue #6, item 6): NaN and Inf go through elementwise
ops, reductions and matrix products as in NumPy; gradc's own exp, log and
tanh give NumPy's special values; division by zero gives IEEE results; f32
softmax and logsumexp stay finite and exact on large inputs.

Each check compiles under the math implementations (gradc's vectorizable
C and libm), at -O0 and -O3, with and without tiling and threads, since each
is a different code path for the same special value. Arrays have 37
elements, so that the special values land both in vector lanes and in the
scalar tail of vectorized loops. Finite results must agree with NumPy to a
few ulp (gradc's exp/log/tanh are documented within 3 ulp); non-finite ones
exactly (NaN where NumPy has NaN, infinities of the same sign).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp

pytestmark = pytest.mark.usefixtures("private_cache")

COMBOS = [
    ({"math": "gradc"}, None),
    ({"math": "libm"}, None),
    ({"math": "gradc", "tile": False, "threads": 2}, ("-O0",)),
    ({"math": "libm", "plan_memory": False}, ("-O0",)),
]
IDS = ["gradc-O3", "libm-O3", "gradc-untiled-threads2-O0", "libm-unplanned-O0"]
ULPS = 8
"""Finite results within 8 ulp of NumPy's (gradc's math is within 3 ulp of
the correctly rounded result, and so is NumPy's libm: 3 + 3, and a margin
for the sigmoid composite's two roundings)."""

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 1000.0, -1000.0,
           88.0, 88.72, 89.0, -87.0, -103.0, -104.0, 709.0, 710.0, -745.0, -746.0,
           1e-30, -1e-30, 1e-300, 20.0, -20.0, 9.0, -9.0, 3e38, -3e38]


def _values(dtype: type, shift: int = 0) -> np.ndarray:
    base = np.roll(np.array(SPECIAL, dtype=np.float64), shift)
    with np.errstate(over="ignore", under="ignore"):
        return np.resize(base, 37).astype(dtype)


def _same(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    """NaN where NumPy has NaN, equal infinities, finite values within ULPS."""
    got = np.asarray(got)
    assert got.dtype == expected.dtype and got.shape == expected.shape, what
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: NaNs {got} vs {expected}"
    inf = np.isinf(expected)
    assert np.array_equal(got[inf], expected[inf]), f"{what}: infinities {got} vs {expected}"
    finite = np.isfinite(expected)
    assert np.all(np.isfinite(got[finite])), f"{what}: non-finite {got} vs finite {expected}"
    tiny = np.finfo(expected.dtype).tiny
    ulp = np.spacing(np.maximum(np.abs(expected[finite]), tiny))
    err = np.abs(got[finite].astype(np.float64) - expected[finite])
    bad = err > ULPS * ulp
    assert not bad.any(), f"{what}: {got[finite][bad]} vs {expected[finite][bad]} (inputs at {np.flatnonzero(finite)[bad]})"


def _check(fn, args, combo) -> None:
    """`fn` compiled under `combo` against `fn` run by NumPy on `args`."""
    options, cflags = combo
    with np.errstate(all="ignore"):
        expected = [np.asarray(e) for e in fn(*args)]
    got = gradc.jit(fn, options=options, cflags=cflags)(*args)
    assert len(got) == len(expected)
    for k, (g, e) in enumerate(zip(got, expected, strict=True)):
        _same(g, e, f"output {k}")


def _elementwise(x, y):
    return (x + y, x - y, x * y, x / y, -x, gnp.abs(x), gnp.exp(x), gnp.log(x), gnp.tanh(x),
            gnp.sqrt(x), gnp.sin(x), gnp.cos(x), gnp.maximum(x, y), gnp.minimum(x, y),
            gnp.sigmoid(x), gnp.relu(x), gnp.where(x < y, x, y), x ** 2.0)


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_through_elementwise_ops(dtype: type, combo) -> None:
    """Every pair of special values (x runs over them, y over a rotation)."""
    _check(_elementwise, (_values(dtype), _values(dtype, 7)), combo)


def _reductions(x):
    return (gnp.sum(x, axis=1), gnp.max(x, axis=1), gnp.min(x, axis=1), gnp.mean(x, axis=1),
            gnp.max(x, axis=0), gnp.max(x), gnp.sum(x))


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_through_reductions(dtype: type, combo) -> None:
    """Rows: a NaN among finite values (max and min propagate it, as
    np.max does, wherever it stands), +inf, -inf, both infinities (sum
    NaN), only -inf (max -inf, not the initial value), and plain values."""
    rows = np.array([
        [1.0, np.nan, 3.0, -2.0, 0.5],
        [np.nan, 1.0, 2.0, 3.0, 4.0],
        [1.0, 2.0, 3.0, 4.0, np.nan],
        [1.0, np.inf, 3.0, -2.0, 0.5],
        [1.0, -np.inf, 3.0, -2.0, 0.5],
        [np.inf, -np.inf, 3.0, -2.0, 0.5],
        [-np.inf, -np.inf, -np.inf, -np.inf, -np.inf],
        [0.25, -7.0, 3.0, -2.0, 0.5],
    ], dtype=dtype)
    _check(_reductions, (rows,), combo)


def _products(a, b):
    return (a @ b, a.T @ a, gnp.tanh(a @ b))


def _naive_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum of products in float64 without BLAS (whose shortcuts may skip
    0 * inf)."""
    return np.sum(a.astype(np.float64)[:, :, None] * b.astype(np.float64)[None, :, :], axis=1)


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_through_matrix_products(dtype: type, combo) -> None:
    """A NaN poisons its row and column of the product; inf * 0 is NaN;
    sizes past one tile so the special values cross tile edges. Special
    values exactly as the float64 sum of products; finite ones within
    k * eps * sum |a||b| of it (any summation order)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((37, 19)).astype(dtype)
    b = rng.standard_normal((19, 33)).astype(dtype)
    a[3, 5] = np.nan
    a[20, 7] = np.inf
    b[7, 4] = 0.0
    b[11, 30] = -np.inf
    options, cflags = combo
    got = gradc.jit(_products, options=options, cflags=cflags)(a, b)
    with np.errstate(all="ignore"):
        expected = [_naive_matmul(a, b), _naive_matmul(a.T, a)]
        bounds = [_naive_matmul(np.abs(a), np.abs(b)), _naive_matmul(np.abs(a.T), np.abs(a))]
        expected.append(np.tanh(expected[0]))
        bounds.append(bounds[0])
    eps = np.finfo(dtype).eps
    for k, (g, e, bound) in enumerate(zip(got, expected, bounds, strict=True)):
        assert g.dtype == dtype and g.shape == e.shape
        assert np.isnan(g).any(), f"output {k}: the NaN got lost"
        assert np.array_equal(np.isnan(g), np.isnan(e)), f"output {k}: NaNs at {np.argwhere(np.isnan(g) != np.isnan(e))}"
        inf = np.isinf(e)
        assert np.array_equal(g[inf], e[inf]), f"output {k}: infinities"
        finite = np.isfinite(e)
        err = np.abs(g[finite] - e[finite])
        assert np.all(err <= 2 * 19 * eps * (bound[finite] + 1)), f"output {k}: max error {err.max()}"


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_division_by_zero_is_ieee(combo) -> None:
    x = np.array([1.0, -1.0, 0.0, np.inf, np.nan, -0.0, 2.0], np.float64)
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0], np.float64)
    _check(lambda x, y: (x / y, 1.0 / y, y / y), (x, y), combo)
    options, cflags = combo
    got = gradc.jit(lambda x, y: x / y, options=options, cflags=cflags)(x, y)
    np.testing.assert_array_equal(got[[0, 1, 3, 6]], [np.inf, -np.inf, np.inf, -np.inf])


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_f32_softmax_and_logsumexp_are_stable_on_large_inputs(combo) -> None:
    """Inputs of +-1000 (exp overflows f32 beyond 88.7): results finite and
    equal to the f64 reference rounded to f32, gradients too."""
    x = np.array([[1000.0, 999.0, 998.0, 0.0, -1000.0],
                  [-1000.0, -1001.0, -1000.5, -999.0, -1002.0],
                  [1000.0, 1000.0, 1000.0, 1000.0, 1000.0],
                  [88.0, 89.0, 90.0, -90.0, 3.0]], np.float32)

    def f(x):
        lse = gnp.logsumexp(x, axis=1)
        return gnp.softmax(x, axis=1), lse, gradc.grad(lambda x: gnp.sum(gnp.logsumexp(x, axis=1)))(x)

    x64 = x.astype(np.float64)
    shifted = x64 - x64.max(axis=1, keepdims=True)
    soft = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    lse = x64.max(axis=1) + np.log(np.exp(shifted).sum(axis=1))
    options, cflags = combo
    got = gradc.jit(f, options=options, cflags=cflags)(x)
    for g, e in zip(got, (soft, lse, soft), strict=True):
        assert g.dtype == np.float32 and np.all(np.isfinite(g))
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)


def test_small_integer_powers_are_products_with_pows_edges():
    """x**2, x**3, x**4 lower to products (as JAX's integer_pow), not a libm
    call: within an ulp of NumPy's pow, and its signs of zero, infinities
    and NaNs."""
    x = np.array([-0.0, 0.0, np.inf, -np.inf, np.nan, 1e-310, -3.5, 1e103, -1e103, 0.1, 7.0])
    fn = gradc.jit(lambda v: (v**2, v**3, v**4))
    for got, k in zip(fn(x), (2, 3, 4)):
        want = x**k
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        near = np.abs(got - want) <= 2 * np.spacing(np.abs(want))
        assert np.all(same | near), (k, got, want)
        real = ~np.isnan(want)
        assert np.array_equal(np.signbit(got[real]), np.signbit(want[real]))
    assert "pow(" not in gradc.lower(lambda v: v**3 + v**4, x).c_source
