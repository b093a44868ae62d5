"""hessian(f, mode="edge-pushing") (passes/autodiff/edge_pushing.py) and
its place among mode "auto"'s candidates.

- On random straight-line programs (IR level, interpreter): equal to
  fwd-over-rev to 1e-12 and to central differences of the gradient,
  exactly symmetric.
- On the functions users write, against central differences of a NumPy
  gradient: Rosenbrock, softmax cross-entropy, an MLP loss in its weights
  and biases, a quadratic form in its matrix and vector (bilinear cross
  blocks), broadcasts, reductions, selects, a scalar, an unused argument,
  float32; compiled to C too.
- auto: edge pushing is counted and chosen where it has the fewest
  multiplications (and ties otherwise go to the earlier candidates); it
  needs no coloring to reach the compressed count on Rosenbrock.
- Where it does not apply (loops, large values, mixed precision) an
  explicit request is a located user error and auto says why it left
  edge pushing out.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradc
import gradc.numpy as gnp
from gradc import lax
from gradc.interpreter import run_function
from gradc.passes.autodiff.edge_pushing import EDGE_PUSHING_MAX_ELEMENTS
from tests.test_autodiff_passes import _point, differentiate, names, parse, programs, signature, ty, types
from tests.test_hessian_modes import (
    fd_hessian, interpreted_hessian, mlp_loss, mlp_loss_grad, rosenbrock, rosenbrock_grad, strategy,
)

RNG = np.random.default_rng(11)

# ---------------------------------------------------------------------------
# Random programs
# ---------------------------------------------------------------------------


def _hessian_text(f: str, outs) -> str:
    """@g: sum over @f's outputs of sum(sin(o) * o) (nonlinear in each
    output, so first and second derivatives of @f both reach the
    Hessian); @main: its Hessian by edge pushing, then by fwd-over-rev,
    and its gradient."""
    square = ty((3, 3))
    lines = [f"%o{k}_s = array.sin %o{k} : {square}\n  %o{k}_m = array.mul %o{k}_s, %o{k} : {square}\n"
             f"  %o{k}_r = array.reduce_sum %o{k}_m axes [0, 1] : {square} -> tensor<f64>" for k in range(len(outs))]
    total = "%o0_r" if len(outs) == 1 else "%t"
    if len(outs) == 2:
        lines.append("%t = array.add %o0_r, %o1_r : tensor<f64>")
    body = "\n  ".join(lines)
    block = ty((3, 3, 3, 3))
    blocks = types([(3, 3, 3, 3)] * 4)
    return f"""{f}
func.func @g(%x0: {square}, %x1: {square}) -> tensor<f64> {{
  {names("o", len(outs))} = func.call @f(%x0, %x1) : ({square}, {square}) -> ({types(outs)})
  {body}
  func.return {total} : tensor<f64>
}}
func.func @main(%x0: {square}, %x1: {square}) -> ({blocks}, {blocks}, {square}, {square}) {{
  %a:4 = autodiff.hessian @g(%x0, %x1) wrt [0, 1] mode "edge-pushing" : ({square}, {square}) -> ({blocks})
  %b:4 = autodiff.hessian @g(%x0, %x1) wrt [0, 1] {{compress = "never"}} : ({square}, {square}) -> ({blocks})
  %v, %c:2 = autodiff.grad @g(%x0, %x1) wrt [0, 1] : ({square}, {square}) -> (tensor<f64>), ({square}, {square})
  func.return %a#0, %a#1, %a#2, %a#3, %b#0, %b#1, %b#2, %b#3, %c#0, %c#1 : {block}, {block}, {block}, {block}, \
{block}, {block}, {block}, {block}, {square}, {square}
}}
"""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_programs_equal_fwd_over_rev_and_finite_differences(f: str, seed: int):
    ins, outs = signature(parse(f), "f")
    module = differentiate(_hessian_text(f, outs))
    xs = _point(seed, ins)
    found = run_function(module, "main", *xs)
    pushed, base = found[:4], found[4:8]
    scale = max(1.0, max(np.abs(b).max() for b in base))
    for a, b in zip(pushed, base):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale)
    for j in range(2):
        square = pushed[3 * j].reshape(9, 9)
        assert np.array_equal(square, square.T)
    assert np.array_equal(pushed[1].reshape(9, 9), pushed[2].reshape(9, 9).T)
    # Central differences of the gradient (the interpreter's reverse mode).
    step = 1e-6
    for j in range(2):
        for k in np.ndindex(3, 3):
            e = np.zeros((3, 3))
            e[k] = step
            up = run_function(module, "main", *[x + e if i == j else x for i, x in enumerate(xs)])[8:]
            down = run_function(module, "main", *[x - e if i == j else x for i, x in enumerate(xs)])[8:]
            for i in range(2):
                column = (up[i] - down[i]) / (2 * step)
                np.testing.assert_allclose(pushed[2 * i + j][..., k[0], k[1]], column, rtol=1e-5,
                                           atol=1e-5 * scale)


# ---------------------------------------------------------------------------
# What users write
# ---------------------------------------------------------------------------


def check(f, grad, args, argnums=0, rtol=1e-6):
    """Edge pushing (interpreted) against central differences of NumPy
    `grad` and against fwd-over-rev; exactly symmetric."""
    got, _ = interpreted_hessian(f, "edge-pushing", *args, argnums=argnums)
    base, _ = interpreted_hessian(f, "fwd-over-rev", *args, argnums=argnums)
    want = fd_hessian(grad, [np.asarray(a, dtype=np.float64) for a in args])
    for block, ref, other in zip(got, want, base):
        scale = max(np.abs(ref).max(), 1.0)
        assert block.shape == ref.shape and block.dtype == other.dtype
        np.testing.assert_allclose(block, ref, rtol=rtol, atol=rtol * scale)
        np.testing.assert_allclose(block, other, rtol=1e-12 if block.dtype == np.float64 else 1e-5,
                                   atol=(1e-12 if block.dtype == np.float64 else 1e-5) * scale)
    n = len(args)
    for j, a in enumerate(args):
        square = got[j * n + j].reshape(np.size(a), np.size(a))
        assert np.array_equal(square, square.T)
        for k in range(j + 1, n):
            assert np.array_equal(got[j * n + k].reshape(np.size(a), -1), got[k * n + j].reshape(-1, np.size(a)).T)
    return got


def test_rosenbrock():
    check(rosenbrock, rosenbrock_grad, [np.linspace(-1.2, 1.1, 7)])


def softmax_cross_entropy(z):
    return gnp.log(gnp.sum(gnp.exp(z))) - z[2]


def softmax_cross_entropy_grad(z):
    p = np.exp(z - z.max())
    p /= p.sum()
    p[2] -= 1.0
    return [p]


def test_softmax_cross_entropy():
    check(softmax_cross_entropy, softmax_cross_entropy_grad, [RNG.standard_normal(6)])


def test_mlp_loss_in_weights_and_biases():
    check(mlp_loss, mlp_loss_grad, [RNG.standard_normal((3, 4)), RNG.standard_normal(3)], argnums=(0, 1))


def test_quadratic_form_in_matrix_and_vector():
    # x^T A x: block (A, x) is the bilinear cross term, blocks (A, A) zero.
    def f(a, x):
        return x @ (a @ x) + gnp.sum(gnp.sin(a) * a)

    def grad(a, x):
        return [np.outer(x, x) + np.cos(a) * a + np.sin(a), (a + a.T) @ x]

    got = check(f, grad, [RNG.standard_normal((3, 3)), RNG.standard_normal(3)], argnums=(0, 1))
    np.testing.assert_array_equal(got[3], got[3].T)


def test_broadcasts_divisions_powers():
    def f(x, s):
        return gnp.sum((x * s) ** 3 / (1.0 + x * x)) + gnp.sum(gnp.sqrt(1.0 + x ** 2) * s)

    def grad(x, s):
        q = (x * s) ** 3
        d = 1.0 + x * x
        r = np.sqrt(1.0 + x**2)
        gx = 3 * (x * s) ** 2 * s / d - q * 2 * x / d**2 + x / r * s
        gs = np.sum(3 * (x * s) ** 2 * x / d) + np.sum(r)
        return [gx, np.asarray(gs)]

    check(f, grad, [RNG.standard_normal(4), np.float64(1.3)], argnums=(0, 1))


def test_reductions_slices_and_selects():
    def f(x):
        return gnp.max(x * x) + gnp.sum(x[::2] * x[1::2]) + gnp.sum(gnp.where(x > 0, x**3, gnp.sin(x))) \
            + gnp.var(x) * gnp.mean(x)

    def grad(x):
        g = np.zeros_like(x)
        g[np.argmax(x * x)] += 2 * x[np.argmax(x * x)]
        g[::2] += x[1::2]
        g[1::2] += x[::2]
        g += np.where(x > 0, 3 * x**2, np.cos(x))
        n, m, v = x.size, x.mean(), x.var()
        g += 2 * (x - m) / n * m + v / n
        return [g]

    check(f, grad, [np.array([0.3, -1.2, 0.7, 1.9, -0.4, 0.1])])


def test_concatenate_reshape_transpose():
    def f(x):
        m = gnp.concatenate([x, x * x]).reshape(2, 4).T
        return gnp.sum(gnp.tanh(m) ** 2 @ np.array([1.0, 2.0]))

    def grad(x):
        m = np.concatenate([x, x * x]).reshape(2, 4).T
        t = np.tanh(m)
        gm = 2 * t * (1 - t * t) * np.array([1.0, 2.0])
        flat = gm.T.reshape(8)
        return [flat[:4] + 2 * x * flat[4:]]

    check(f, grad, [RNG.standard_normal(4)])


def test_scalar_and_unused_argument():
    check(lambda x: x**4 + gnp.exp(x), lambda x: [4 * x**3 + np.exp(x)], [np.float64(0.7)])
    got = check(lambda x, y: gnp.sum(x**3), lambda x, y: [3 * x**2, np.zeros_like(y)],
                [RNG.standard_normal(3), RNG.standard_normal(2)], argnums=(0, 1))
    assert not np.any(got[1]) and not np.any(got[2]) and not np.any(got[3])


def test_float32():
    x = np.linspace(-1.2, 1.1, 5).astype(np.float32)
    (got,) = check(rosenbrock, rosenbrock_grad, [x], rtol=2e-4)
    assert got.dtype == np.float32


def helmholtz(x):
    return gnp.sum(x * gnp.log(x / (1.0 - gnp.sum(x))))


def helmholtz_grad(x):
    s = 1.0 - x.sum()
    return [np.log(x / s) + 1.0 + x.sum() / s]


def test_compiled_to_c():
    for f, grad, x in [(softmax_cross_entropy, softmax_cross_entropy_grad, RNG.standard_normal(9)),
                       (helmholtz, helmholtz_grad, np.linspace(0.01, 0.08, 8))]:
        got = gradc.jit(gradc.hessian(f, mode="edge-pushing"))(x)
        (want,) = fd_hessian(grad, [x], step=1e-7)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * max(np.abs(want).max(), 1.0))
        np.testing.assert_allclose(got, gradc.hessian(f)(x), rtol=1e-12, atol=1e-12 * np.abs(want).max())
        assert np.array_equal(got, got.T)


# ---------------------------------------------------------------------------
# auto
# ---------------------------------------------------------------------------


def test_auto_takes_edge_pushing_where_it_is_cheapest():
    # A softmax and a log of a sum of exponentials: fwd-over-rev and
    # rev-over-rev push 30 directions through each elementwise op, edge
    # pushing scales one 30 x 30 block.
    def f(x):
        return gnp.log(gnp.sum(gnp.exp(x * x))) * gnp.sum(gnp.sin(x) * gnp.cos(x))

    def grad(x):
        e = np.exp(x * x)
        s, t = e.sum(), np.sum(np.sin(x) * np.cos(x))
        return [2 * x * e / s * t + np.log(s) * np.cos(2 * x)]

    x = np.linspace(-0.9, 0.8, 30)
    choice = strategy(f, x)
    counts = choice["candidates"]
    assert choice["chosen"] == choice["cheapest"] == "edge-pushing"
    assert counts["edge-pushing"] < 0.6 * min(counts["fwd-over-rev"], counts["rev-over-rev"])
    (got,), _ = interpreted_hessian(f, "auto", x)
    (want,) = fd_hessian(grad, [x])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())


def test_auto_on_helmholtz():
    choice = strategy(helmholtz, np.linspace(0.01, 0.08, 8), compress=False)
    counts = choice["candidates"]
    assert choice["chosen"] == "edge-pushing"
    assert counts["edge-pushing"] < counts["rev-over-rev"] < counts["fwd-over-rev"]


def test_without_coloring_edge_pushing_reaches_the_compressed_count():
    # Rosenbrock's tridiagonal Hessian: edge pushing keeps diagonal blocks
    # diagonal and pushes through slices for free, so it has exactly the
    # multiplications of the 3-color compressed fwd-over-rev.
    x = np.linspace(-1.0, 1.0, 30)
    dense = strategy(rosenbrock, x, compress=False)["candidates"]
    compressed = strategy(rosenbrock, x)["candidates"]
    assert dense["edge-pushing"] == compressed["edge-pushing"] == compressed["fwd-over-rev"]
    assert dense["edge-pushing"] < dense["fwd-over-rev"] / 5


# ---------------------------------------------------------------------------
# Where it does not apply
# ---------------------------------------------------------------------------


def scanned(x):
    def step(c, _):
        return gnp.sin(c) * x + c, None

    c, _ = lax.scan(step, x, None, length=3)
    return gnp.sum(c * c)


def mixed(x, y):
    return gnp.sum(gnp.sin(x) * y[:3] ** 2)


@pytest.mark.parametrize(
    "f, args, argnums, why",
    [
        (scanned, [np.array([0.3, -0.2])], 0, "'array.scan' is not straight-line single-result code"),
        (lambda x: gnp.sum(x**3), [np.linspace(0.0, 1.0, EDGE_PUSHING_MAX_ELEMENTS + 1)], 0,
         f"a value of {EDGE_PUSHING_MAX_ELEMENTS + 1} elements"),
        (mixed, [np.ones(3, np.float32), np.ones(4)], (0, 1), "more than one element type"),
    ],
    ids=["loop", "large", "mixed-precision"],
)
def test_where_it_does_not_apply(f, args, argnums, why):
    with pytest.raises(gradc.GradcError, match="edge pushing does not apply here") as info:
        gradc.hessian(f, argnums=argnums, mode="edge-pushing")(*args)
    assert why in str(info.value) and "test_edge_pushing.py:" in str(info.value)
    choice = gradc.lower(gradc.hessian(f, argnums=argnums, mode="auto"), *args).jacobian_strategies[0]
    assert "edge-pushing" not in choice["candidates"]
    assert f"edge pushing not counted: {why}" in choice["chosen"]


@pytest.mark.parametrize("options", [{"sparse": True}, {"compress": True}])
def test_sparse_and_compressed_requests_are_user_errors(options):
    with pytest.raises(gradc.GradcError, match="mode 'edge-pushing' cannot be"):
        gradc.hessian(rosenbrock, mode="edge-pushing", **options)
