"""Derivatives at kinks, ties and singular points: every row of
docs/derivative-conventions.md, through the public API.

The expected numbers are JAX 0.10's (`jax.grad` at the point, as the table
lists them; where gradc differs on purpose, the table says so and the test
checks gradc's documented value), and central finite differences in
float64 on either side of each kink; the composites are checked against a
hand-written NumPy backward pass. A `gradc.numpy` function runs on NumPy
arrays as plain NumPy, so the finite differences call the very function
gradc differentiates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp

NAN, INF = np.nan, np.inf
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-6, np.float64: 1e-13}


def assert_same(got: Any, expected: Any, dtype: type, what: str = "") -> None:
    """`got` has `dtype`, NaN and infinities exactly where `expected` has
    them, and finite values within RTOL."""
    got = np.asarray(got)
    expected = np.broadcast_to(np.asarray(expected, dtype=np.float64), got.shape)
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {np.dtype(dtype)}"
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: {got} vs {expected}"
    finite = ~np.isnan(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=RTOL[dtype], atol=0, err_msg=what)


def central_difference(f: Callable[[Any], Any], x: float, h: float = 1e-6) -> float:
    """f'(x) in float64 from NumPy evaluations of `f` (steps that stay on one
    side of every kink in the table)."""
    return float((f(np.float64(x + h)) - f(np.float64(x - h))) / (2 * h))


# ---------------------------------------------------------------------------
# The elementwise rows of the table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    f: Callable[[Any], Any]
    x: tuple[float, ...]
    d1: tuple[float, ...]
    """f'(x): JAX's, or gradc's documented value where the table differs."""
    d2: tuple[float, ...]
    """f''(x)."""
    sides: tuple[int, ...]
    """Indices of the points away from the kink, also checked by finite
    differences."""
    forward: tuple[float, ...] | None = None
    """f'(x) in forward mode, where it is not `d1` (reverse mode's)."""


RELU_X, RELU_D1 = (-1.5, -0.0, 0.0, 2.0, NAN), (0.0, 0.0, 0.0, 1.0, 0.0)
MIN_X, MIN_D1 = (0.5, 1.0, 3.0, NAN), (1.0, 0.0, 0.0, 0.0)

ROWS = [
    Row("relu", gnp.relu, RELU_X, RELU_D1, (0.0,) * 5, (0, 3)),
    # Hand-written relus: the constant wins the tie (JAX: 0.5).
    Row("maximum(x, 0.0)", lambda x: gnp.maximum(x, 0.0), RELU_X, RELU_D1, (0.0,) * 5, (0, 3)),
    Row("maximum(0.0, x)", lambda x: gnp.maximum(0.0, x), RELU_X, RELU_D1, (0.0,) * 5, (0, 3)),
    Row("np.maximum(x, 0)", lambda x: np.maximum(x, 0), RELU_X, RELU_D1, (0.0,) * 5, (0, 3)),
    Row("maximum(x, np.float32(0))", lambda x: gnp.maximum(x, np.float32(0)), RELU_X, RELU_D1, (0.0,) * 5, (0, 3)),
    Row("minimum(x, 1.0)", lambda x: gnp.minimum(x, 1.0), MIN_X, MIN_D1, (0.0,) * 4, (0, 2)),
    Row("minimum(1.0, x)", lambda x: gnp.minimum(1.0, x), MIN_X, MIN_D1, (0.0,) * 4, (0, 2)),
    # A clip against constant bounds: 0 at both (jnp.clip: 0.5, torch.clamp: 1).
    Row("minimum(maximum(x, -1), 1)", lambda x: gnp.minimum(gnp.maximum(x, -1.0), 1.0),
        (-2.0, -1.0, 0.5, 1.0, 2.0), (0.0, 0.0, 1.0, 0.0, 0.0), (0.0,) * 5, (0, 2, 4)),
    Row("abs", gnp.abs, (-2.0, -0.0, 0.0, 3.0, NAN), (-1.0, 1.0, 1.0, 1.0, -1.0), (0.0,) * 5, (0, 3)),
    Row("builtin abs", lambda x: abs(x), (-2.0, 0.0, 3.0), (-1.0, 1.0, 1.0), (0.0,) * 3, (0, 2)),
    Row("sqrt", gnp.sqrt, (0.0, -0.0, 0.25), (INF, -INF, 1.0), (-INF, INF, -2.0), (2,)),
    Row("log", gnp.log, (0.0, 0.5), (INF, 2.0), (-INF, -4.0), (1,)),
    # A constant exponent as JAX's integer_pow (jnp.power(x, 0.0) gives NaN).
    Row("x ** 0", lambda x: x ** 0, (0.0, -1.5, 2.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1, 2)),
    Row("x ** 0.0", lambda x: x ** 0.0, (0.0, -1.5), (0.0, 0.0), (0.0, 0.0), (1,)),
    Row("x ** 1.0", lambda x: x ** 1.0, (0.0, -1.5), (1.0, 1.0), (0.0, 0.0), (1,)),
    Row("x ** 2", lambda x: x ** 2, (0.0, -1.5), (0.0, -3.0), (2.0, 2.0), (1,)),
    Row("x ** 3", lambda x: x ** 3, (0.0, 2.0), (0.0, 12.0), (0.0, 12.0), (1,)),
    Row("x ** 0.5", lambda x: x ** 0.5, (0.0, 0.25), (INF, 1.0), (-INF, -2.0), (1,)),
    Row("x ** 1.5", lambda x: x ** 1.5, (0.0, 0.25), (0.0, 0.75), (INF, 1.5), (1,)),
    Row("x ** -1", lambda x: x ** -1, (0.0, 2.0), (-INF, -0.25), (INF, 0.25), (1,)),
    Row("0.0 ** x", lambda x: 0.0 ** x, (0.0, 1.0, 2.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1, 2)),
    Row("where(x > 0, x, 2x)", lambda x: gnp.where(x > 0, x, 2.0 * x), (-1.0, 0.0, 1.0), (2.0, 2.0, 1.0), (0.0,) * 3, (0, 2)),
    # In reverse mode the unchosen branch's zero cotangent meets sqrt'(<= 0):
    # NaN, as in JAX; forward mode selects the tangent instead: 0.
    Row("where(x > 0, sqrt(x), 0)", lambda x: gnp.where(x > 0, gnp.sqrt(x), 0.0),
        (-1.0, 0.0, 1.0), (NAN, NAN, 0.5), (NAN, NAN, -0.25), (2,), forward=(0.0, 0.0, 0.5)),
    Row("where(x > 0, sqrt(where(x > 0, x, 1)), 0)",
        lambda x: gnp.where(x > 0, gnp.sqrt(gnp.where(x > 0, x, 1.0)), 0.0),
        (-1.0, 0.0, 1.0), (0.0, 0.0, 0.5), (0.0, 0.0, -0.25), (0, 2)),
    Row("(x > 0) * 3", lambda x: (x > 0).astype(x.dtype) * 3.0, (-1.0, 0.0, 1.0), (0.0,) * 3, (0.0,) * 3, (0, 2)),
    # JAX's copysign is where(signbit(y), -abs(x), abs(x)): abs' = 1 at 0, signed by y.
    Row("copysign(x, -2.0)", lambda x: gnp.copysign(x, -2.0), (-1.5, -0.0, 0.0, 2.0, NAN),
        (1.0, -1.0, -1.0, -1.0, 1.0), (0.0,) * 5, (0, 3)),
    Row("copysign(2.0, x)", lambda x: gnp.copysign(2.0, x), (-1.0, -0.0, 0.0, 1.0), (0.0,) * 4, (0.0,) * 4, (0, 3)),
    Row("stop_gradient(x) * x", lambda x: gnp.stop_gradient(x) * x, (3.0, -2.0), (3.0, -2.0), (0.0, 0.0), ()),
    # remainder jumps at multiples of the divisor; its derivative there is
    # JAX's (lax.rem's): 1 to x, -floor_divide(x, y) to y.
    Row("x mod 3.0 (operator)", lambda x: x % 3.0, (6.0, -6.0, 0.0, -0.0, 4.5), (1.0,) * 5, (0.0,) * 5, (4,)),
    Row("6.0 mod x (operator)", lambda x: 6.0 % x, (3.0, -3.0, 2.5), (-2.0, 2.0, -2.0), (0.0,) * 3, (2,)),
    Row("x floordiv 0.5 (operator)", lambda x: x // 0.5, (1.0, -1.0, 0.75), (0.0,) * 3, (0.0,) * 3, (2,)),
]
ROW_IDS = [row.name for row in ROWS]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_scalar_derivatives_at_the_kink_and_on_both_sides(row: Row, dtype: type) -> None:
    derivatives = gradc.jit(lambda x: (gradc.grad(row.f)(x), gradc.grad(gradc.grad(row.f))(x)))
    for x, d1, d2 in zip(row.x, row.d1, row.d2):
        first, second = derivatives(dtype(x))
        assert_same(first, d1, dtype, f"{row.name}' at {x}")
        assert_same(second, d2, dtype, f"{row.name}'' at {x}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_array_derivatives_forward_reverse_and_second(row: Row, dtype: type) -> None:
    """jvp and grad (reverse mode) with all points in one array, and the
    second derivative (grad of the sum of the gradient)."""

    def derivatives(x):
        _, tangent = gradc.jvp(row.f, (x,), (gnp.ones_like(x),))
        gradient = gradc.grad(lambda y: gnp.sum(row.f(y)))
        second = gradc.grad(lambda y: gnp.sum(gradient(y)))(x)
        return tangent, gradient(x), second

    x = np.array(row.x, dtype=dtype)
    tangent, gradient, second = gradc.jit(derivatives)(x)
    assert_same(tangent, row.forward or row.d1, dtype, f"jvp of {row.name}")
    assert_same(gradient, row.d1, dtype, f"grad of {row.name}")
    assert_same(second, row.d2, dtype, f"second derivative of {row.name}")


@pytest.mark.parametrize("row", [r for r in ROWS if r.sides], ids=[r.name for r in ROWS if r.sides])
def test_table_values_on_both_sides_match_finite_differences(row: Row) -> None:
    """The literal derivatives away from each kink are the function's own
    (so the table's kink values are the only conventions in it)."""
    for k in row.sides:
        fd = central_difference(row.f, row.x[k])
        assert abs(fd - row.d1[k]) <= 1e-6 * max(1.0, abs(fd)), (row.name, row.x[k], fd)
        fd2 = central_difference(lambda x: central_difference(row.f, x, 1e-4), row.x[k], 1e-4)
        assert abs(fd2 - row.d2[k]) <= 1e-3 * max(1.0, abs(fd2)), (row.name, row.x[k], fd2)


# ---------------------------------------------------------------------------
# relu's values, and maximum/minimum with a constant
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_values_nan_signed_zero_and_dtype(dtype: type) -> None:
    """relu(nan) is nan (as jax.nn.relu), relu(-0.0) is +0.0 (as JAX's and
    numpy.maximum(-0.0, 0)), float32 stays float32."""
    x = np.array([NAN, -0.0, 0.0, -INF, INF, -1.0, 2.5], dtype=dtype)
    got = gradc.jit(gnp.relu)(x)
    expected = np.maximum(x, 0)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), [False] * 7)
    np.testing.assert_array_equal(np.isnan(got), [True] + [False] * 6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_maximum_minimum_with_a_constant_keep_numpys_values(dtype: type) -> None:
    """The values of maximum/minimum with a constant operand, either side,
    are NumPy's bit for bit: NaN from either operand, which zero at a tie."""
    x = np.array([NAN, -0.0, 0.0, -INF, INF, -1.0, 2.5, 1.0], dtype=dtype)
    fns = [
        (lambda x: gnp.maximum(x, 0.0), lambda x: np.maximum(x, dtype(0.0))),
        (lambda x: gnp.maximum(0.0, x), lambda x: np.maximum(dtype(0.0), x)),
        (lambda x: gnp.minimum(x, -0.0), lambda x: np.minimum(x, dtype(-0.0))),
        (lambda x: gnp.minimum(1.0, x), lambda x: np.minimum(dtype(1.0), x)),
        (lambda x: gnp.maximum(x, NAN), lambda x: np.maximum(x, dtype(NAN))),
        (lambda x: gnp.minimum(NAN, x), lambda x: np.minimum(dtype(NAN), x)),
    ]
    for traced, numpy_fn in fns:
        got, expected = gradc.jit(traced)(x), numpy_fn(x)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("dtype", DTYPES)
def test_maximum_minimum_with_an_array_constant(dtype: type) -> None:
    """A non-splat NumPy constant: derivative 1 where x strictly wins, 0 at
    ties, where the constant wins, and where the constant is NaN (whose
    value NaN propagates)."""
    c = np.array([0.0, 1.0, -2.0, 3.0, NAN], dtype=dtype)
    x = np.array([0.0, 2.0, -2.0, 1.0, 5.0], dtype=dtype)
    for fn, expected in [(gnp.maximum, [0, 1, 0, 0, 0]), (gnp.minimum, [0, 0, 0, 1, 0])]:
        value, g = gradc.value_and_grad(lambda x: gnp.sum(fn(x, c) * np.arange(1, 6, dtype=dtype)))(x)
        assert_same(g, np.array(expected) * np.arange(1, 6), dtype, fn.__name__)
        assert np.isnan(value)
        _, tangent = gradc.jvp(lambda x: fn(c, x), (x,), (np.ones(5, dtype),))
        assert_same(tangent, expected, dtype, f"jvp of {fn.__name__}(c, x)")


@pytest.mark.parametrize("dtype", DTYPES)
def test_maximum_minimum_of_two_traced_operands_split_ties_evenly(dtype: type) -> None:
    """JAX's 0.5 each at a tie (0.0 and -0.0 tie too); second derivatives 0."""
    x = np.array([1.0, 2.0, 3.0, 0.0], dtype=dtype)
    y = np.array([1.0, 0.0, 5.0, -0.0], dtype=dtype)
    gx, gy = gradc.grad(lambda x, y: gnp.sum(gnp.maximum(x, y)), argnums=(0, 1))(x, y)
    assert_same(gx, [0.5, 1.0, 0.0, 0.5], dtype, "d max / dx")
    assert_same(gy, [0.5, 0.0, 1.0, 0.5], dtype, "d max / dy")
    gx, gy = gradc.grad(lambda x, y: gnp.sum(gnp.minimum(x, y)), argnums=(0, 1))(x, y)
    assert_same(gx, [0.5, 0.0, 1.0, 0.5], dtype, "d min / dx")
    assert_same(gy, [0.5, 1.0, 0.0, 0.5], dtype, "d min / dy")
    _, tangent = gradc.jvp(gnp.maximum, (x, y), (np.ones(4, dtype), np.zeros(4, dtype)))
    assert_same(tangent, [0.5, 1.0, 0.0, 0.5], dtype, "jvp of max")
    hessian = gradc.hessian(lambda v: gnp.maximum(v[0], v[1]))(np.array([1.0, 1.0], dtype))
    assert_same(hessian, np.zeros((2, 2)), dtype, "hessian of max at a tie")
    assert_same(gradc.grad(lambda x: gnp.maximum(x, x))(dtype(1.0)), 1.0, dtype, "max(x, x)")


# ---------------------------------------------------------------------------
# Under jacfwd/jacrev (vector mode), hessian, scan, and in a network
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_in_vector_mode_jacobians(dtype: type) -> None:
    x = np.array([-1.0, -0.0, 0.0, 2.0], dtype=dtype)
    for name, fn, diagonal in [
        ("relu", gnp.relu, [0, 0, 0, 1]),
        ("maximum(x, 0.0)", lambda x: gnp.maximum(x, 0.0), [0, 0, 0, 1]),
        ("minimum(x, 0.0)", lambda x: gnp.minimum(x, 0.0), [1, 0, 0, 0]),
        ("abs", gnp.abs, [-1, 1, 1, 1]),
    ]:
        for transform in (gradc.jacfwd, gradc.jacrev):
            assert_same(transform(fn)(x), np.diag(diagonal), dtype, f"{transform.__name__} of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_under_hessian(dtype: type) -> None:
    """d2/dv2 sum(v * relu(v)) = 2 relu'(v) + v relu''(v): 0 at 0 (it was 1
    with relu'(0) = 0.5); with abs, 2 abs'(v): 2 at 0 (JAX's values)."""
    v = np.array([-1.0, -0.0, 0.0, 1.0], dtype=dtype)
    for name, fn, diagonal in [
        ("v relu(v)", lambda v: gnp.sum(v * gnp.relu(v)), [0, 0, 0, 2]),
        ("v maximum(v, 0)", lambda v: gnp.sum(v * gnp.maximum(v, 0.0)), [0, 0, 0, 2]),
        ("v abs(v)", lambda v: gnp.sum(v * gnp.abs(v)), [-2, 2, 2, 2]),
    ]:
        assert_same(gradc.hessian(fn)(v), np.diag(diagonal), dtype, f"hessian of {name}")


def _scan_reference(init: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of sum(h_T) + sum_t sum(|h_{t+1} - x_t|) for
    h_{t+1} = relu(h_t + x_t), by a NumPy backward pass written here with
    relu'(0) = 0 and abs'(0) = 1."""
    hs, zs, us = [init], [], []
    for x in xs:
        zs.append(hs[-1] + x)
        hs.append(np.maximum(zs[-1], 0))
        us.append(hs[-1] - x)
    gh = np.ones_like(init)
    gxs = np.zeros_like(xs)
    for t in reversed(range(len(xs))):
        gu = np.where(us[t] >= 0, 1.0, -1.0).astype(init.dtype)
        gh = gh + gu
        gz = gh * (zs[t] > 0)
        gxs[t] = gz - gu
        gh = gz
    return gh, gxs


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_abs_in_a_scan_body(dtype: type) -> None:
    """The kinks are hit exactly (h + x == 0, h_{t+1} == x_t) at many steps."""
    init = np.array([0.0, 1.0, -1.0, 2.0], dtype=dtype)
    xs = np.array([[0.0, -1.0, 1.0, 0.5], [1.0, 0.0, -0.5, -2.5], [-1.0, 2.0, 0.0, 0.0]], dtype=dtype)

    def loss(init, xs):
        def step(h, x):
            new = gnp.relu(h + x)
            return new, gnp.abs(new - x)

        final, ys = gradc.scan(step, init, xs)
        return gnp.sum(final) + gnp.sum(ys)

    g_init, g_xs = gradc.grad(loss, argnums=(0, 1))(init, xs)
    r_init, r_xs = _scan_reference(init, xs)
    assert_same(g_init, r_init, dtype, "d loss / d init")
    assert_same(g_xs, r_xs, dtype, "d loss / d xs")


def _mlp_loss(params: dict, x: Any, y: Any, act: Callable[[Any], Any]) -> Any:
    h = act(x @ params["w1"] + params["b1"])
    return gnp.mean((h @ params["w2"] + params["b2"] - y) ** 2)


def _mlp_reference(params: dict, x: np.ndarray, y: np.ndarray) -> dict:
    """The MLP's gradient by a NumPy backward pass with relu'(0) = 0."""
    z = x @ params["w1"] + params["b1"]
    h = np.maximum(z, 0)
    out = h @ params["w2"] + params["b2"]
    d_out = 2 * (out - y) / out.size
    dz = (d_out @ params["w2"].T) * (z > 0)
    return {"w1": x.T @ dz, "b1": dz.sum(0), "w2": h.T @ d_out, "b2": d_out.sum(0)}


@pytest.mark.parametrize("act", [gnp.relu, lambda z: gnp.maximum(z, 0.0)], ids=["relu", "maximum(z, 0.0)"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_with_zero_initialised_weights_and_padding(act: Callable[[Any], Any], dtype: type) -> None:
    """Pre-activations exactly 0: a zero-initialised hidden unit (zero
    column of w1, zero bias) and zero-padded input rows. relu'(0) = 0, so
    those units pass no gradient (with 0.5 they did)."""
    rng = np.random.default_rng(12)
    w1 = rng.standard_normal((4, 6))
    w1[:, [1, 4]] = 0.0
    b1 = np.where(np.arange(6) % 2 == 0, 0.1, 0.0)
    b1[[1, 4]] = 0.0
    params = {k: v.astype(dtype) for k, v in
              {"w1": w1, "b1": b1, "w2": rng.standard_normal((6, 3)), "b2": rng.standard_normal(3)}.items()}
    x = rng.standard_normal((5, 4)).astype(dtype)
    x[3:] = 0.0  # padding rows
    y = rng.standard_normal((5, 3)).astype(dtype)
    z = x @ params["w1"] + params["b1"]
    assert (z == 0).sum() >= 10  # the kink is really hit
    got = gradc.grad(lambda p: _mlp_loss(p, x, y, act))(params)
    expected = _mlp_reference(params, x, y)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=30 * RTOL[dtype], atol=30 * RTOL[dtype], err_msg=k)
        assert got[k].dtype == dtype


def test_mlp_with_a_fully_zero_initialised_layer() -> None:
    """w1 = 0, b1 = 0: every hidden pre-activation is 0, so w1 and b1 get no
    gradient at all (relu'(0) = 0, as in JAX, PyTorch and TensorFlow)."""
    rng = np.random.default_rng(3)
    params = {"w1": np.zeros((4, 6)), "b1": np.zeros(6), "w2": rng.standard_normal((6, 3)), "b2": np.zeros(3)}
    x, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    got = gradc.grad(lambda p: _mlp_loss(p, x, y, gnp.relu))(params)
    expected = _mlp_reference(params, x, y)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-15, err_msg=k)
    assert not got["w1"].any() and not got["b1"].any()


# ---------------------------------------------------------------------------
# Reductions, logsumexp and softmax, pow with a traced exponent
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_and_min_reductions_divide_among_ties(dtype: type) -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, -1.0, 0.0]], dtype=dtype)
    third = 1 / 3
    g = gradc.grad(lambda x: gnp.sum(gnp.max(x, axis=1)))(x)
    assert_same(g, [[0, 0.5, 0.5], [third] * 3, [1, 0, 0]], dtype, "max over axis 1")
    g = gradc.grad(lambda x: gnp.sum(gnp.min(x, axis=1)))(x)
    assert_same(g, [[1, 0, 0], [third] * 3, [0, 1, 0]], dtype, "min over axis 1")
    g = gradc.grad(lambda x: gnp.max(x))(np.array([3.0, 1.0, 3.0, 3.0], dtype=dtype))
    assert_same(g, [third, 0, third, third], dtype, "max of all")
    _, tangent = gradc.jvp(gnp.max, (np.array([3.0, 3.0, 1.0], dtype=dtype),), (np.array([1.0, 0.0, 0.0], dtype=dtype),))
    assert_same(tangent, 0.5, dtype, "jvp of max")


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_and_softmax_at_ties_are_their_smooth_derivatives(dtype: type) -> None:
    """The max shift carries no derivative: grad logsumexp = softmax and the
    softmax Jacobian is diag(s) - s s^T, ties in the max or not."""
    x = np.array([1.0, 3.0, 3.0, -2.0], dtype=dtype)
    e = np.exp(x.astype(np.float64) - 3.0)
    s = e / e.sum()
    assert_same(gradc.grad(gnp.logsumexp)(x), s, dtype, "grad logsumexp")
    assert_same(gradc.jacrev(gnp.softmax)(x), np.diag(s) - np.outer(s, s), dtype, "softmax jacobian")
    assert_same(gradc.jacfwd(gnp.softmax)(x), np.diag(s) - np.outer(s, s), dtype, "softmax jacobian")


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_with_a_traced_exponent(dtype: type) -> None:
    """d/dx x^y = 0 where y == 0 (JAX: NaN at x = 0, from 0 * 0^-1; PyTorch:
    0), d/dy x^y = 0 where x == 0 and y >= 0, NaN where x^y is infinite or x < 0."""
    x = np.array([0.0, 0.0, 0.0, 2.0, -2.0, 0.0], dtype=dtype)
    y = np.array([0.0, 2.0, 0.5, 0.0, 2.0, -1.0], dtype=dtype)
    gx, gy = gradc.grad(lambda x, y: gnp.sum(x ** y), argnums=(0, 1))(x, y)
    assert_same(gx, [0.0, 0.0, INF, 0.0, -4.0, -INF], dtype, "d x^y / dx")
    assert_same(gy, [0.0, 0.0, 0.0, np.log(2.0), NAN, NAN], dtype, "d x^y / dy")


# ---------------------------------------------------------------------------
# Rounding and sign: derivative 0 everywhere; domain edges of the new ops
# ---------------------------------------------------------------------------

ZERO_DERIVATIVE = [
    ("floor", gnp.floor), ("ceil", gnp.ceil), ("trunc", gnp.trunc), ("fix", gnp.fix),
    ("rint", gnp.rint), ("round", gnp.round), ("around(x, 1)", lambda x: gnp.around(x, 1)),
    ("round(x, -1)", lambda x: np.round(x, -1)), ("sign", gnp.sign), ("np.floor", np.floor),
]
ROUNDING_X = (-2.5, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.5, 2.0, INF, -INF, NAN)

EDGES = [
    # (f, points, f'(points) as JAX's jvp rules give them: the formula, also
    # outside the domain where it is finite (atanh'(2) = -1/3); gradc's
    # arcsinh'/arccosh' stay exact for large x where JAX's rsqrt(x^2 + 1)
    # underflows to 0)
    (gnp.arcsin, (-1.0, 1.0, 1.5, 0.0), (INF, INF, NAN, 1.0)),
    (gnp.arccos, (-1.0, 1.0, -1.5, 0.0), (-INF, -INF, NAN, -1.0)),
    (gnp.arctanh, (-1.0, 1.0, 2.0, 0.0), (INF, INF, -1 / 3, 1.0)),
    (gnp.arccosh, (1.0, 0.5, 1e30), (INF, NAN, 1e-30)),
    (gnp.arcsinh, (0.0, 1e30, -1e30), (1.0, 1e-30, 1e-30)),
    (gnp.log1p, (-1.0, -2.0, 0.0), (INF, -1.0, 1.0)),
    (gnp.log2, (0.0, -1.0, 1.0), (INF, -1 / np.log(2), 1 / np.log(2))),
    (gnp.log10, (0.0, 1.0), (INF, 1 / np.log(10))),
    (gnp.expm1, (-INF, -50.0, 0.0), (0.0, np.exp(-50.0), 1.0)),
    (gnp.erf, (0.0, INF, 30.0), (2 / np.sqrt(np.pi), 0.0, 0.0)),
    (gnp.cosh, (0.0, 1.0), (0.0, np.sinh(1.0))),
    (gnp.arctan, (0.0, INF, 1e30), (1.0, 0.0, 1e-60)),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_rounding_and_sign_have_derivative_zero(dtype: type) -> None:
    """jnp.floor, ceil, trunc, fix, rint, round and sign have derivative 0
    at every point, integers, halves, zeros, infinities and NaN included,
    in forward and reverse mode and at second order; the values are
    NumPy's (signed zeros too). One build per dtype."""

    def all_derivatives(x):
        out = []
        for _, f in ZERO_DERIVATIVE:
            _, tangent = gradc.jvp(f, (x,), (gnp.ones_like(x),))
            gradient = gradc.grad(lambda y, f=f: gnp.sum(f(y) * y))
            second = gradc.grad(lambda y, gradient=gradient: gnp.sum(gradient(y)))(x)
            out.append((f(x), tangent, gradient(x), second))
        return out

    x = np.array(ROUNDING_X, dtype=dtype)
    for (name, f), (value, tangent, gradient, second) in zip(ZERO_DERIVATIVE, gradc.jit(all_derivatives)(x)):
        expected = f(x)
        assert value.dtype == dtype, name
        np.testing.assert_array_equal(value, expected, err_msg=name)
        np.testing.assert_array_equal(np.signbit(value), np.signbit(expected), err_msg=name)
        assert_same(tangent, np.zeros(len(x)), dtype, f"jvp of {name}")
        # d/dy sum(f(y) y) = f(y) (+ 0 * y); d/dy sum(f(y)) = 0.
        assert_same(gradient, expected, dtype, f"grad of {name}(x) x")
        assert_same(second, np.zeros(len(x)), dtype, f"second derivative of {name}(x) x")


@pytest.mark.parametrize("dtype", DTYPES)
def test_derivatives_at_domain_edges(dtype: type) -> None:
    """Poles give inf, outside the domain NaN, large arguments finite and
    accurate (nothing squared overflows), as JAX's rules. One build per dtype."""
    xs = [np.array(points, dtype=dtype) for _, points, _ in EDGES]

    def gradients(*xs):
        return [gradc.grad(lambda y, f=f: gnp.sum(f(y)))(x) for (f, _, _), x in zip(EDGES, xs)]

    with np.errstate(all="ignore"):
        got = gradc.jit(gradients)(*xs)
    for (f, points, expected), g in zip(EDGES, got):
        assert_same(g, np.array(expected, dtype=dtype), dtype, f"{f.__name__}' at {points}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_arctan2_derivatives_at_the_origin_the_branch_cut_and_extreme_scales(dtype: type) -> None:
    """d atan2(y, x) = (x dy - y dx) / (x^2 + y^2): NaN at (0, 0) as JAX's
    0 / 0; across the branch cut (y = +-0, x < 0) the same finite numbers on
    both sides; at magnitudes whose squares overflow or underflow the
    formula's value (computed scaled). One build per dtype."""
    tiny, huge = (1e-30, 1e30) if dtype == np.float32 else (1e-200, 1e200)
    y = np.array([0.0, -0.0, 0.0, -0.0, 1.0, 3.0 * tiny, 3.0 * huge, 0.5, 1.0, INF], dtype=dtype)
    x = np.array([0.0, 0.0, -2.0, -2.0, -1.0, -4.0 * tiny, 4.0 * huge, 2.0, INF, 2.0], dtype=dtype)
    with np.errstate(all="ignore"):
        dy, dx = gradc.jit(gradc.grad(lambda y, x: gnp.sum(gnp.arctan2(y, x)), argnums=(0, 1)))(y, x)
    wide_y, wide_x = y.astype(np.float64), x.astype(np.float64)
    scale = np.maximum(np.abs(wide_x), np.abs(wide_y))
    with np.errstate(all="ignore"):
        norm = scale * ((wide_x / scale) ** 2 + (wide_y / scale) ** 2)
        assert_same(dy, wide_x / scale / norm, dtype, "d atan2 / dy")
        assert_same(dx, -wide_y / scale / norm, dtype, "d atan2 / dx")
    assert np.isnan(dy[[0, 1, 8, 9]]).all() and np.isnan(dx[[0, 1, 8, 9]]).all()
    assert dy[2] == dy[3] == dtype(-0.5) and dx[2] == dx[3] == 0.0
