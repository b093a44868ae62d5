"""hessian(f, mode=...): reverse over forward against forward over
reverse, and mode "auto"'s choice between them
(passes/autodiff/jacobian.py, hessian_function; elimination.py,
hessauto_function).

- rev-over-fwd equals fwd-over-rev and central differences of a NumPy
  gradient on Rosenbrock, an MLP loss with respect to two arguments (its
  weights and biases), float32 and mixed precision; run in the
  interpreter (one C build checks rev-over-fwd and auto end to end);
- auto records both candidates' counts and emits the cheaper (ties to
  fwd-over-rev); past REV_OVER_FWD_MAX_ELEMENTS it counts fwd-over-rev
  only;
- a bad mode, and rev-over-fwd with sparse or compress, are user errors.
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
MODES = ("fwd-over-rev", "rev-over-fwd", "auto")


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
    for got, ref, ro in zip(found["fwd-over-rev"], want, found["rev-over-fwd"]):
        scale = max(np.abs(ref).max(), 1.0)
        assert ro.shape == got.shape == ref.shape and ro.dtype == got.dtype
        np.testing.assert_allclose(ro, got, rtol=rtol, atol=rtol * scale)
        np.testing.assert_allclose(ro, ref, rtol=fd_rtol, atol=fd_rtol * scale)
    for got, auto in zip(found["fwd-over-rev"], found["auto"]):
        np.testing.assert_array_equal(auto, got)


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
    (ro, _) = interpreted_hessian(f, "rev-over-fwd", x, y, argnums=(0, 1))
    (fr, _) = interpreted_hessian(f, "fwd-over-rev", x, y, argnums=(0, 1))
    want = fd_hessian(grad, [x.astype(np.float64), y])
    for a, b, ref in zip(ro, fr, want):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, ref, rtol=1e-4, atol=1e-5)
    assert [b.dtype for b in ro] == [np.float32, np.float32, np.float64, np.float64]


def test_compiled_to_c():
    x = np.linspace(-1.2, 1.1, 6)
    (want,) = fd_hessian(rosenbrock_grad, [x])
    for mode in ("rev-over-fwd", "auto"):
        got = gradc.jit(gradc.hessian(rosenbrock, mode=mode))(x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


# ---------------------------------------------------------------------------
# auto's choice
# ---------------------------------------------------------------------------


def strategy(f, *args, **options):
    (choice,) = gradc.lower(gradc.hessian(f, mode="auto", **options), *args).jacobian_strategies
    assert choice["kind"] == "hessian" and choice["callee"] == f.__name__
    return choice


def test_auto_takes_the_cheaper_count():
    choice = strategy(rosenbrock, np.linspace(-1.0, 1.0, 8), compress=False)
    counts = choice["candidates"]
    assert set(counts) == {"fwd-over-rev", "rev-over-fwd"}
    assert choice["chosen"] == choice["cheapest"] == min(counts, key=counts.get)
    # rev-over-fwd pushes 8 directions through code batched over 8.
    assert counts["rev-over-fwd"] > 4 * counts["fwd-over-rev"]


def test_auto_tie_goes_to_fwd_over_rev():
    def f(x):
        return gnp.sin(x) * gnp.exp(x * x)

    choice = strategy(f, np.array(0.3))
    assert choice["candidates"]["fwd-over-rev"] == choice["candidates"]["rev-over-fwd"]
    assert choice["chosen"] == "fwd-over-rev"


def test_auto_counts_the_compressed_fwd_over_rev():
    x = np.linspace(-1.0, 1.0, 12)
    dense = strategy(rosenbrock, x, compress=False)["candidates"]["fwd-over-rev"]
    compressed = strategy(rosenbrock, x)["candidates"]["fwd-over-rev"]
    assert compressed < dense / 2


def test_auto_does_not_count_rev_over_fwd_past_the_limit():
    choice = strategy(rosenbrock, np.linspace(-1.0, 1.0, REV_OVER_FWD_MAX_ELEMENTS + 1))
    assert list(choice["candidates"]) == ["fwd-over-rev"]
    assert choice["chosen"].startswith("fwd-over-rev (rev-over-fwd not counted")


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_bad_mode_is_a_user_error():
    with pytest.raises(gradc.GradcError, match="mode must be one of"):
        gradc.hessian(rosenbrock, mode="rev-over-rev")


@pytest.mark.parametrize("options", [{"sparse": True}, {"compress": True}])
def test_rev_over_fwd_is_dense(options):
    with pytest.raises(gradc.GradcError, match="rev-over-fwd' is dense"):
        gradc.hessian(rosenbrock, mode="rev-over-fwd", **options)
