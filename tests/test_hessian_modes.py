"""hessian(f, mode=...): reverse over reverse and reverse over forward
against forward over reverse, and mode "auto"'s choice between them
(passes/autodiff/jacobian.py, hessian_function; elimination.py,
hessauto_function).

- rev-over-rev and rev-over-fwd equal fwd-over-rev and central
  differences of a NumPy gradient on Rosenbrock, an MLP loss with respect
  to two arguments (its weights and biases), float32, mixed precision
  and a scan (against second differences of NumPy's loop); run in the
  interpreter (C builds check rev-over-rev and rev-over-fwd end to end);
- auto records the candidates' counts and emits the cheapest (ties to
  fwd-over-rev): fwd-over-rev on Rosenbrock, rev-over-rev on a
  Helmholtz-energy term, rev-over-fwd on one input through a loop (with
  n inputs it pushes n directions through code batched over n); past
  REV_OVER_FWD_MAX_ELEMENTS or with custom derivative rules it is not
  counted;
- a bad mode, a sparse request other than fwd-over-rev, and a compressed
  rev-over-fwd are user errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc.interpreter import run_function
from gradc.passes.autodiff.elimination import REV_OVER_FWD_MAX_ELEMENTS
from gradc.pipeline import run_pipeline

RNG = np.random.default_rng(4)
MODES = ("fwd-over-rev", "rev-over-rev", "rev-over-fwd", "auto")


def interpreted_hessian(f, mode, *args, argnums=0, compress=False):
    """The Hessian blocks (flat, row-major over the wrt pairs) from the
    differentiated module, run in the interpreter, and the lowering."""
    lowered = gradc.lower(gradc.hessian(f, argnums=argnums, mode=mode, compress=compress), *args)
    module = run_pipeline(lowered.traced.module.clone(), "differentiate")
    return run_function(module, lowered.name, *args), lowered


def fd_hessian(grad, args, step=1e-6):
    """Blocks (i, j) of the Jacobian of NumPy `grad` (a list of gradients
    per argument) by central differences in argument j."""
    blocks = []
    grads_at = [np.asarray(g) for g in grad(*args)]
    for i in range(len(args)):
        for j, a in enumerate(args):
            cols = []
            for k in range(a.size):
                e = np.zeros(a.size)
                e[k] = step
                up = [*args[:j], a + e.reshape(a.shape), *args[j + 1 :]]
                down = [*args[:j], a - e.reshape(a.shape), *args[j + 1 :]]
                cols.append((grad(*up)[i] - grad(*down)[i]) / (2 * step))
            blocks.append(np.moveaxis(np.stack(cols).reshape(a.shape + grads_at[i].shape), range(a.ndim),
                                      range(grads_at[i].ndim, grads_at[i].ndim + a.ndim)))
    return blocks


def rosenbrock(x):
    return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return [g]


V = RNG.standard_normal((2, 3))
X_IN = RNG.standard_normal(4)
TARGET = RNG.standard_normal(2)


def mlp_loss(w, b):
    return 0.5 * gnp.sum((V @ gnp.tanh(w @ X_IN + b) - TARGET) ** 2)


def mlp_loss_grad(w, b):
    h = np.tanh(w @ X_IN + b)
    pre = (V.T @ (V @ h - TARGET)) * (1.0 - h**2)
    return [np.outer(pre, X_IN), pre]


def check_modes(f, grad, args, argnums=0, rtol=1e-12, fd_rtol=1e-6):
    found = {}
    for mode in MODES:
        found[mode], _ = interpreted_hessian(f, mode, *args, argnums=argnums)
    want = fd_hessian(grad, [np.asarray(a, dtype=np.float64) for a in args])
    for mode in MODES:
        for got, ref, base in zip(found[mode], want, found["fwd-over-rev"]):
            scale = max(np.abs(ref).max(), 1.0)
            assert got.shape == ref.shape and got.dtype == base.dtype
            np.testing.assert_allclose(got, base, rtol=rtol, atol=rtol * scale)
            np.testing.assert_allclose(got, ref, rtol=fd_rtol, atol=fd_rtol * scale)


def test_rosenbrock():
    check_modes(rosenbrock, rosenbrock_grad, [np.linspace(-1.2, 1.1, 7)])


def test_mlp_loss_two_arguments():
    w, b = RNG.standard_normal((3, 4)), RNG.standard_normal(3)
    check_modes(mlp_loss, mlp_loss_grad, [w, b], argnums=(0, 1))


def test_float32():
    x = np.linspace(-1.2, 1.1, 5).astype(np.float32)
    check_modes(rosenbrock, rosenbrock_grad, [x], rtol=2e-5, fd_rtol=2e-4)


def test_mixed_precision_blocks_take_the_argument_dtype():
    def f(x, y):
        return gnp.sum(gnp.sin(x) * y[:3] ** 2)

    def grad(x, y):
        gy = np.zeros_like(y)
        gy[:3] = 2.0 * np.sin(x) * y[:3]
        return [np.cos(x) * y[:3] ** 2, gy]

    x, y = np.array([0.3, -0.7, 1.1], dtype=np.float32), RNG.standard_normal(4)
    want = fd_hessian(grad, [x.astype(np.float64), y])
    for mode in MODES:
        got, _ = interpreted_hessian(f, mode, x, y, argnums=(0, 1))
        assert [b.dtype for b in got] == [np.float32, np.float32, np.float64, np.float64]
        for block, ref in zip(got, want):
            np.testing.assert_allclose(block, ref, rtol=1e-4, atol=1e-5)


def scanned(length):
    from gradc import lax

    def f(x):
        def step(c, _):
            return gnp.sin(c) * x + c, None

        c, _ = lax.scan(step, x, None, length=length)
        return gnp.sum(c * c)

    return f


def test_scan():
    def numpy_f(x):
        c = x.copy()
        for _ in range(5):
            c = np.sin(c) * x + c
        return np.sum(c * c)

    x, h = np.array([0.3, -0.2, 0.5]), 1e-4
    e = np.eye(3) * h
    want = np.array([[(numpy_f(x + e[i] + e[j]) - numpy_f(x + e[i] - e[j]) - numpy_f(x - e[i] + e[j])
                       + numpy_f(x - e[i] - e[j])) / (4 * h * h) for j in range(3)] for i in range(3)])
    (base,), _ = interpreted_hessian(scanned(5), "fwd-over-rev", x)
    for mode in MODES:
        (got,), _ = interpreted_hessian(scanned(5), mode, x)
        np.testing.assert_allclose(got, base, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_auto_counts_loop_bodies_per_trip():
    x = np.array([0.3, -0.2, 0.5])
    short = strategy(scanned(5), x, compress=False)
    long = strategy(scanned(10), x, compress=False)
    for mode, count in short["candidates"].items():
        assert long["candidates"][mode] > 1.5 * count
    assert short["chosen"].split(" (")[0] == min(short["candidates"], key=short["candidates"].get)


def test_compiled_to_c():
    x = np.linspace(-1.2, 1.1, 6)
    (want,) = fd_hessian(rosenbrock_grad, [x])
    for mode in ("rev-over-rev", "rev-over-fwd"):
        got = gradc.jit(gradc.hessian(rosenbrock, mode=mode))(x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


# ---------------------------------------------------------------------------
# auto's choice
# ---------------------------------------------------------------------------


def strategy(f, *args, **options):
    (choice,) = gradc.lower(gradc.hessian(f, mode="auto", **options), *args).jacobian_strategies
    assert choice["kind"] == "hessian" and choice["callee"] == f.__name__
    return choice


def test_auto_takes_fwd_over_rev_where_it_is_cheaper():
    # Compressed (3 colors): edge pushing, which needs no coloring, ties
    # (test_edge_pushing.py); a tie goes to fwd-over-rev.
    choice = strategy(rosenbrock, np.linspace(-1.0, 1.0, 8))
    counts = choice["candidates"]
    assert list(counts) == ["fwd-over-rev", "rev-over-rev", "rev-over-fwd", "edge-pushing"]
    assert choice["chosen"] == choice["cheapest"] == "fwd-over-rev"
    assert counts["fwd-over-rev"] < counts["rev-over-rev"]
    assert counts["fwd-over-rev"] <= counts["edge-pushing"]
    # rev-over-fwd pushes 8 directions through code batched over 8.
    assert counts["rev-over-fwd"] > 4 * counts["fwd-over-rev"]


def helmholtz_energy(x):
    return gnp.sum(x * gnp.log(x / (1.0 - gnp.sum(x))))


def helmholtz_energy_grad(x):
    s = 1.0 - x.sum()
    return [np.log(x / s) + 1.0 + x.sum() / s]


A_WIDE = RNG.standard_normal((64, 8))


def widening(x):
    return gnp.sum(gnp.tanh(A_WIDE @ gnp.tanh(x)) ** 2)


def widening_grad(x):
    u = np.tanh(x)
    t = np.tanh(A_WIDE @ u)
    return [(A_WIDE.T @ (2.0 * t * (1.0 - t * t))) * (1.0 - u * u)]


def test_auto_takes_rev_over_rev_where_it_is_cheaper():
    # 8 inputs widened to 64: the gradient's 8 cotangents through the
    # 64-wide layer cost less than its 8 tangents' products with the
    # layer's second derivatives (fwd-over-rev) or edge pushing's 64 x 64
    # second-order block.
    x = np.linspace(-0.4, 0.4, 8)
    choice = strategy(widening, x, compress=False)
    counts = choice["candidates"]
    assert choice["chosen"] == "rev-over-rev"
    assert counts["rev-over-rev"] < min(counts["fwd-over-rev"], counts["edge-pushing"])
    (got,), _ = interpreted_hessian(widening, "auto", x)
    (want,) = fd_hessian(widening_grad, [x])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_auto_takes_rev_over_fwd_where_it_is_cheaper():
    # One input through a loop: the forward-mode gradient is one tangent
    # carried with the loop, and its reverse sweep has fewer products
    # than the reverse sweep's tangent or second reverse.
    def f(x):
        return gradc.fori_loop(0, 3, lambda i, c: 0.5 * gnp.sin(c) + 0.25 * x * i, x)

    x = np.array(0.3)
    choice = strategy(f, x, compress=False)
    counts = choice["candidates"]
    assert choice["chosen"].split(" (")[0] == "rev-over-fwd"  # edge pushing does not run loops
    assert counts["rev-over-fwd"] < min(counts["fwd-over-rev"], counts["rev-over-rev"])
    # c' and c'' carried by hand: c <- 0.5 sin(c) + 0.25 x i.
    c, d, dd = 0.3, 1.0, 0.0
    for i in range(3):
        c, d, dd = 0.5 * np.sin(c) + 0.25 * 0.3 * i, 0.5 * np.cos(c) * d + 0.25 * i, \
            -0.5 * np.sin(c) * d * d + 0.5 * np.cos(c) * dd
    (got,), _ = interpreted_hessian(f, "auto", x)
    np.testing.assert_allclose(got, dd, rtol=1e-13)


@gradc.custom_vjp
def softplus(x):
    return gnp.log1p(gnp.exp(x))


softplus.defvjp(lambda x: (gnp.log1p(gnp.exp(x)), 1.0 / (1.0 + gnp.exp(-x))), lambda s, g: (g * s,))


def test_auto_with_custom_rules_does_not_count_rev_over_fwd():
    # Forward mode cannot run a custom_vjp (and would inline a custom_jvp's
    # rule, whose primal output rev-over-fwd then differentiates as plain
    # code): auto leaves rev-over-fwd out.
    def f(x):
        return gnp.sum(softplus(gnp.sin(x)) * x)

    x = np.array([0.3, -0.5, 0.8])
    choice = strategy(f, x)
    assert "rev-over-fwd" not in choice["candidates"]
    assert "(rev-over-fwd not counted: custom derivative rules;" in choice["chosen"]

    def grad(x):
        s = np.sin(x)
        return [(np.cos(x) * x / (1.0 + np.exp(-s))) + np.log1p(np.exp(s))]

    (got,), _ = interpreted_hessian(f, "auto", x)
    (want,) = fd_hessian(grad, [x])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_auto_tie_goes_to_fwd_over_rev():
    def f(x):
        return gnp.sin(x) * gnp.exp(x * x)

    choice = strategy(f, np.array(0.3))
    assert len(set(choice["candidates"].values())) == 1
    assert choice["chosen"] == "fwd-over-rev"


def test_auto_counts_the_compressed_fwd_over_rev():
    x = np.linspace(-1.0, 1.0, 12)
    dense = strategy(rosenbrock, x, compress=False)["candidates"]["fwd-over-rev"]
    compressed = strategy(rosenbrock, x)["candidates"]["fwd-over-rev"]
    assert compressed < dense / 2


def test_auto_does_not_count_rev_over_fwd_past_the_limit():
    choice = strategy(rosenbrock, np.linspace(-1.0, 1.0, REV_OVER_FWD_MAX_ELEMENTS + 1))
    assert list(choice["candidates"]) == ["fwd-over-rev", "rev-over-rev"]
    assert choice["chosen"].startswith("fwd-over-rev (rev-over-fwd not counted")


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_bad_mode_is_a_user_error():
    with pytest.raises(gradc.GradcError, match="mode must be one of"):
        gradc.hessian(rosenbrock, mode="fwd-over-fwd")


@pytest.mark.parametrize(
    "mode, options",
    [("rev-over-fwd", {"sparse": True}), ("rev-over-fwd", {"compress": True}), ("rev-over-rev", {"sparse": True})],
)
def test_sparse_and_compressed_modes(mode, options):
    with pytest.raises(gradc.GradcError, match=f"mode '{mode}' cannot be"):
        gradc.hessian(rosenbrock, mode=mode, **options)
