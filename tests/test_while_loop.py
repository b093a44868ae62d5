"""gradc.lax.while_loop: array.while traced once and compiled to a C loop,
against Python loops in NumPy (and the interpreter at the array and loops
levels); max_steps checked at run time; derivatives of every mode and
order against central finite differences and against the same
computation unrolled with fori_loop for the observed trip count; user
errors with their message and line.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc import lax
from gradc.errors import GradcError, LoopLimitError, PipelineError, TraceError, TraceTypeError
from gradc.frontend.tracing import trace
from gradc.interpreter import run_function
from gradc.passes.autodiff.batching import batch_function
from gradc.pipeline import compile_module


def here() -> int:
    return sys._getframe(1).f_lineno


def assert_located(err: pytest.ExceptionInfo, line: int) -> None:
    assert isinstance(err.value, GradcError)
    assert err.value.location == f"{__file__}:{line}", err.value.location


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def newton_sqrt(a):
    """Newton's iteration for sqrt(a), elementwise, until every element has
    converged; also counts the steps."""

    def cond(c):
        x, _ = c
        return gnp.any(gnp.abs(x * x - a) > 1e-9 * a)

    def body(c):
        x, k = c
        return 0.5 * (x + a / x), k + 1

    return lax.while_loop(cond, body, (a, 0), max_steps=60)


def newton_sqrt_numpy(a):
    x, k = a.copy(), 0
    while np.any(np.abs(x * x - a) > 1e-9 * a):
        x, k = 0.5 * (x + a / x), k + 1
    return x, np.int64(k)


def test_newton_sqrt_at_every_level():
    a = np.array([2.0, 9.0, 1e4, 0.25])
    expected = newton_sqrt_numpy(a)
    lowered = gradc.lower(newton_sqrt, a)
    for got in (
        run_function(lowered.traced.module, lowered.name, a),
        run_function(lowered._module_after("loops"), lowered.name, a),
        gradc.jit(newton_sqrt)(a),
    ):
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-15)
        assert int(got[1]) == expected[1] > 5
    assert "for (int64_t n = 0;; ++n) {" in lowered.c_source
    assert "if (n >= 60) return 1;" in lowered.c_source
    np.testing.assert_allclose(lax.while_loop(lambda x: x > 1.0, lambda x: x / 3.0, 100.0), 100.0 / 243)  # eager


def collatz(n):
    """Steps of the Collatz map from n to 1 (int64 carries)."""

    def body(c):
        m, k = c
        return gnp.where(m % 2 == 0, m // 2, 3 * m + 1), k + 1

    return lax.while_loop(lambda c: c[0] != 1, body, (n, np.int64(0)))[1]


def collatz_numpy(n):
    k = 0
    while n != 1:
        n, k = (n // 2 if n % 2 == 0 else 3 * n + 1), k + 1
    return k


def test_collatz_counts_and_zero_iterations():
    f = gradc.jit(collatz)
    for n in (1, 2, 7, 27, 97, 871):  # 1: the body never runs
        got = f(np.int64(n))
        assert got.dtype == np.int64 and int(got) == collatz_numpy(n)


def test_flag_carry_constant_conditions_and_max_steps_zero():
    """A bool "running" flag as the condition; constant conditions (the
    loop is never folded at compile time: it may not stop)."""

    def halve(x):
        def body(c):
            v, _ = c
            v = v * 0.5
            return v, gnp.sum(v) > 1.0

        return lax.while_loop(lambda c: c[1], body, (x, True), max_steps=30)

    v, running = gradc.jit(halve)(np.array([3.0, 5.0]))
    np.testing.assert_array_equal(v, [0.375, 0.625])
    assert running.dtype == np.bool_ and not running
    assert float(gradc.jit(lambda x: lax.while_loop(lambda c: False, lambda c: c + 1.0, x))(2.0)) == 2.0
    with pytest.raises(LoopLimitError, match=r"did not stop within max_steps=0 iterations"):
        gradc.jit(lambda x: lax.while_loop(lambda c: True, lambda c: c + 1.0, x, max_steps=0))(2.0)


def test_pytree_carry_float32_and_closures():
    """A dict carry holding a float32 vector and a tuple (int32 counter,
    float32 scalar); the body and the condition close over traced values
    of the enclosing function (loop invariants)."""

    def f(x, w, limit):
        scale = gnp.sum(w) / 4  # computed outside: an invariant

        def body(c):
            v, (k, t) = c["v"], c["kt"]
            v = gnp.tanh(v * w + scale)
            return {"v": v, "kt": (k + np.int32(1), t + gnp.sum(v * v))}

        init = {"v": x, "kt": (np.int32(0), np.float32(0.0))}
        return lax.while_loop(lambda c: c["kt"][1] < limit, body, init, max_steps=100)

    def numpy_f(x, w, limit):
        scale = np.sum(w) / 4
        v, k, t = x, np.int32(0), np.float32(0.0)
        while t < limit:
            v = np.tanh(v * w + scale)
            k, t = k + np.int32(1), t + np.sum(v * v)
        return v, k, t

    x = np.array([0.3, -0.2, 0.5, 0.1], np.float32)
    w = np.array([1.2, 0.7, -0.4, 0.9], np.float32)
    jitted = gradc.jit(f)
    for limit in (np.float32(0.0), np.float32(3.0), np.float32(10.0)):
        got = jitted(x, w, limit)
        v, k, t = numpy_f(x, w, limit)
        assert got["v"].dtype == np.float32 and got["kt"][0].dtype == np.int32 and got["kt"][1].dtype == np.float32
        np.testing.assert_allclose(got["v"], v, rtol=2e-6, atol=1e-6)
        assert int(got["kt"][0]) == int(k)
        np.testing.assert_allclose(got["kt"][1], t, rtol=2e-6)


def test_matmul_body_tiled_and_in_parallel():
    """A body with a 96x96 product: tiled, and with threads=2 its nests
    run in parallel inside the while (bitwise the serial result)."""
    rng = np.random.default_rng(3)
    a, x = rng.standard_normal((96, 96)) / 20, rng.standard_normal((96, 64))

    def f(a, x):
        def body(c):
            y, k = c
            return gnp.tanh(a @ y) + 0.1 * x, k + 1

        return lax.while_loop(lambda c: c[1] < 7, body, (x, 0), max_steps=10)[0]

    y = x
    for _ in range(7):
        y = np.tanh(a @ y) + 0.1 * x
    serial = gradc.jit(f)(a, x)
    np.testing.assert_allclose(serial, y, rtol=1e-13, atol=1e-14)
    lowered = gradc.lower(f, a, x, options={"threads": 2})
    assert "#pragma omp parallel for" in lowered.c_source
    np.testing.assert_array_equal(gradc.jit(f, options={"threads": 2})(a, x), serial)


def halve_until_small(x):
    return lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, x, max_steps=3)


LOOP_LINE = here() - 3


def test_max_steps_exceeded_names_the_loop_and_reached_is_fine():
    f = gradc.jit(halve_until_small)
    assert float(f(8.0)) == 1.0  # exactly 3 iterations
    assert float(f(0.5)) == 0.5
    with pytest.raises(LoopLimitError, match=(
        rf"while_loop at {__file__}:{LOOP_LINE} did not stop within max_steps=3 iterations"
    )):
        f(8.5)
    assert isinstance(LoopLimitError("x"), GradcError)
    lowered = gradc.lower(halve_until_small, 8.5)
    with pytest.raises(Exception, match=r"more than max_steps=3"):
        run_function(lowered.traced.module, lowered.name, np.float64(8.5))


# ---------------------------------------------------------------------------
# User errors
# ---------------------------------------------------------------------------


def test_errors_are_located():
    def shape_change(x):
        return lax.while_loop(lambda c: gnp.sum(c) > 0, lambda c: c[:2], x)  # <- shape

    line = here() - 2
    with pytest.raises(TraceTypeError, match=r"while_loop: carry init_val is float64\[3\] in init_val but the body returns float64\[2\]") as err:
        gradc.jit(shape_change)(np.ones(3))
    assert_located(err, line)

    def structure_change(x):
        return lax.while_loop(lambda c: c[0] > 0, lambda c: c[0], (x, x))

    with pytest.raises(TraceTypeError, match=r"while_loop: the body returns a carry with structure .* but init_val has structure"):
        gradc.jit(structure_change)(1.0)

    def float_cond(x):
        return lax.while_loop(lambda c: c - 1.0, lambda c: c * 0.5, x)  # <- cond

    line = here() - 2
    with pytest.raises(TraceTypeError, match=r"while_loop: cond_fun must return a scalar bool .* got float64\[\]") as err:
        gradc.jit(float_cond)(4.0)
    assert_located(err, line)

    def vector_cond(x):
        return lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, x)

    with pytest.raises(TraceTypeError, match=r"cond_fun must return a scalar bool .* got bool\[2\]"):
        gradc.jit(vector_cond)(np.ones(2))

    def budget(x):
        return lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, x, max_steps=9, checkpoint="budget=64")  # <- mode

    line = here() - 2
    with pytest.raises(PipelineError, match=r"checkpoint='budget=64' is not supported for while_loop yet") as err:
        gradc.grad(budget)(4.0)
    assert_located(err, line)

    with pytest.raises(TraceTypeError, match=r"max_steps must be a Python int or None, got float"):
        lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, 4.0, max_steps=2.5)
    with pytest.raises(TraceError, match=r"max_steps must be >= 0, got -1"):
        lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, 4.0, max_steps=-1)


def test_reverse_mode_without_max_steps_says_to_pass_it():
    def f(x):
        return lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, x)  # <- unbounded

    line = here() - 2
    with pytest.raises(PipelineError, match=r"reverse-mode differentiation .* pass max_steps=N") as err:
        gradc.grad(f)(4.0)
    assert_located(err, line)
    # Forward mode needs no bound: d/dx (x / 2^3) at x = 4.
    assert gradc.jvp(f, (4.0,), (1.0,))[1] == 0.25


# ---------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------


def step_numpy(v, s, x, w):
    v = np.tanh(w * v + x)
    return v, s + 0.75 + 0.1 * np.sum(v * v) / len(v)


def run_numpy(x, w):
    """The loop in NumPy: (final v, final s, trip count)."""
    v, s, n = x, 0.0, 0
    while s < 4.0:
        v, s = step_numpy(v, s, x, w)
        n += 1
    return v, s, n


def body(x, w):
    def step(c):
        v, s = c
        v = gnp.tanh(w * v + x)
        return v, s + 0.75 + 0.1 * gnp.sum(v * v) / v.shape[0]

    return step


def loop(x, w, max_steps=12, checkpoint=None):
    """A data-dependent trip count (5 here) that small perturbations keep."""
    return lax.while_loop(lambda c: c[1] < 4.0, body(x, w), (x, 0.0), max_steps=max_steps, checkpoint=checkpoint)


def objective(x, w):
    v, s = loop(x, w)
    return gnp.sum(v * v) + s


def objective_numpy(x, w):
    v, s, _ = run_numpy(x, w)
    return np.sum(v * v) + s


X = np.array([0.3, -0.5, 0.8])
W = 0.9
N_STEPS = run_numpy(X, W)[2]


def unrolled(x, w):
    """The same computation with the trip count fixed: fori_loop."""
    v, s = gradc.fori_loop(0, N_STEPS, lambda i, c: body(x, w)(c), (x, 0.0))
    return gnp.sum(v * v) + s


def central(f, x, dx, h=1e-6):
    return (f(x + h * dx) - f(x - h * dx)) / (2 * h)


def fd_gradient(f, x, h=1e-6):
    return np.array([central(f, x, e, h) for e in np.eye(len(x))])


def test_the_trip_count_is_data_dependent_and_locally_constant():
    assert N_STEPS == 5
    assert run_numpy(X, 0.2)[2] == 6 and run_numpy(np.array([3.0, 3.0, 3.0]), 1.5)[2] == 5
    _, s_before, _ = run_numpy(X, W)
    assert 4.05 < s_before < 4.8  # far from the boundary: FD steps keep the count


def test_reverse_first_order_against_fd_and_unrolled():
    gx, gw = gradc.grad(objective, argnums=(0, 1))(X, W)
    np.testing.assert_allclose(gx, fd_gradient(lambda x: objective_numpy(x, W), X), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gw, central(lambda w: objective_numpy(X, w), W, 1.0), rtol=1e-7)
    ux, uw = gradc.grad(unrolled, argnums=(0, 1))(X, W)
    np.testing.assert_allclose(gx, ux, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gw, uw, rtol=1e-13)


def test_forward_mode_against_fd():
    dx = np.array([0.4, -1.0, 0.25])
    out, tangent = gradc.jvp(objective, (X, W), (dx, 0.5))
    np.testing.assert_allclose(out, objective_numpy(X, W), rtol=1e-14)
    fd = (objective_numpy(X + 1e-6 * dx, W + 0.5e-6) - objective_numpy(X - 1e-6 * dx, W - 0.5e-6)) / 2e-6
    np.testing.assert_allclose(tangent, fd, rtol=1e-7)


def test_jacobians_both_modes():
    def final_v(x):
        return loop(x, W)[0]

    fd = np.stack([central(lambda x: run_numpy(x, W)[0], X, e) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(gradc.jacfwd(final_v)(X), fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gradc.jacrev(final_v)(X), fd, rtol=1e-6, atol=1e-9)


def test_second_order():
    """hessian (forward over reverse) and grad of grad (reverse of the
    taped reverse loop) against second differences."""
    h = 1e-4
    eye = np.eye(3)
    f = lambda x: objective_numpy(x, W)  # noqa: E731
    fd = np.array([[
        (f(X + h * eye[i] + h * eye[j]) - f(X + h * eye[i] - h * eye[j])
         - f(X - h * eye[i] + h * eye[j]) + f(X - h * eye[i] - h * eye[j])) / (4 * h * h)
        for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(gradc.hessian(objective)(X, W), fd, rtol=1e-5, atol=1e-6)
    d2 = gradc.grad(gradc.grad(objective, argnums=1), argnums=1)(X, W)
    g = lambda w: objective_numpy(X, w)  # noqa: E731
    np.testing.assert_allclose(d2, (g(W + h) - 2 * g(W) + g(W - h)) / h**2, rtol=1e-5)


def test_nested_loops_reverse_mode():
    """A scan inside a while body, and a while inside a fori_loop body,
    differentiated in reverse against finite differences of NumPy loops."""
    x0, w0 = np.array([0.4, -0.3, 0.9]), 0.8

    def scan_in_while(x, w):
        def body(c):
            v, k = c
            v2, _ = gradc.scan(lambda a, xi: (gnp.sin(a * w + xi), None), v, gnp.stack([x, 2 * x]))
            return v2, k + 1

        return gnp.sum(lax.while_loop(lambda c: c[1] < 3, body, (x, 0), max_steps=5)[0] ** 2)

    def scan_in_while_numpy(x, w):
        v = x
        for _ in range(3):
            for xi in (x, 2 * x):
                v = np.sin(v * w + xi)
        return np.sum(v**2)

    def while_in_fori(x, w):
        def outer(i, v):
            step = lambda c: (gnp.tanh(c[0] * w + x), c[1] + 1)  # noqa: E731
            return lax.while_loop(lambda c: c[1] < 2, step, (v, 0), max_steps=4)[0]

        return gnp.sum(gradc.fori_loop(0, 3, outer, x) ** 2)

    def while_in_fori_numpy(x, w):
        v = x
        for _ in range(6):
            v = np.tanh(v * w + x)
        return np.sum(v**2)

    for fn, numpy_fn in ((scan_in_while, scan_in_while_numpy), (while_in_fori, while_in_fori_numpy)):
        gx, gw = gradc.grad(fn, argnums=(0, 1))(x0, w0)
        np.testing.assert_allclose(gx, fd_gradient(lambda x: numpy_fn(x, w0), x0), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(gw, central(lambda w: numpy_fn(x0, w), w0, 1.0), rtol=1e-7)


@pytest.mark.parametrize("mode", ["every=2", "every=5", "binomial(snapshots=2)", "recompute"])
def test_checkpoint_modes_give_the_full_tape_gradient(mode):
    """every=K: snapshots every K steps (capacity ceil(12/K)), each segment
    recomputed into a tape of K and reversed; n = 5: with K = 2 the last
    segment is short, with K = 5 there is one. binomial(snapshots=2):
    snapshots every 6 steps, each step recomputed from its segment's
    snapshot (no tape); recompute: every step from the initial state."""

    def checkpointed(x, w):
        v, s = loop(x, w, checkpoint=mode)
        return gnp.sum(v * v) + s

    full = gradc.grad(objective, argnums=(0, 1))(X, W)
    got = gradc.grad(checkpointed, argnums=(0, 1))(X, W)
    np.testing.assert_allclose(got[0], full[0], rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(got[1], full[1], rtol=1e-15)
    np.testing.assert_allclose(got[0], fd_gradient(lambda x: objective_numpy(x, W), X), rtol=1e-7, atol=1e-9)


def test_no_heap_stack_or_workspace(tmp_path):
    """The tape lives on the stack (default) or in the caller's workspace
    (plan_memory off): same numbers, and no malloc in the exported C."""
    grad = gradc.grad(objective)
    source, header = gradc.export_c(grad, X, W, path_stem=tmp_path / "grad_objective")
    text = source.read_text()
    assert "malloc" not in text and "free(" not in text and "while" not in text.split("int grad")[0]
    # The header tells a C caller what each nonzero status means: the
    # forward loop's bound, named by its line (the reverse loop's check can
    # never fire, but it is a status too).
    comments = [line for line in header.read_text().splitlines() if line.startswith("/* Returns 0 on success")]
    line_of_loop = loop.__code__.co_firstlineno + 2
    assert any(f"test_while_loop.py:{line_of_loop} did not stop within max_steps=12 iterations" in c
               for c in comments), comments
    assert all(c.count("*/") == 1 and c.endswith("*/") for c in comments)
    lowered = gradc.lower(grad, X, W, options={"plan_memory": False})
    assert lowered.memory["workspace_bytes"] >= 12 * 3 * 8  # the [max_steps, 3] tape of v
    np.testing.assert_array_equal(
        gradc.jit(grad, options={"plan_memory": False})(X, W), gradc.jit(grad)(X, W)
    )


# ---------------------------------------------------------------------------
# Batching: a batched predicate
# ---------------------------------------------------------------------------


def test_batched_predicate_keeps_finished_rows():
    def halve(x):
        return lax.while_loop(lambda c: c[0] > 1.0, lambda c: (c[0] * 0.5, c[1] + 1), (x, 0), max_steps=100)

    traced = trace(halve, (3.0,))
    fn = next(op for op in traced.module.ops if op.sym_name.data == traced.name)
    batch_function(traced.module, fn, [True], 4, "halve_rows")
    xs = np.array([0.5, 3.0, 17.0, 1000.0])
    want = ([0.5, 0.75, 0.53125, 0.9765625], [0, 2, 5, 10])
    for got in (run_function(traced.module, "halve_rows", xs), compile_module(traced.module, "halve_rows")(xs)):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_vmap_rows_stop_at_different_steps():
    """gradc.vmap over a while whose trip count differs per row (a batched
    predicate), and over its reverse-mode gradient, whose reverse loop runs
    a different number of steps per row."""

    def halve(x):
        return lax.while_loop(lambda c: c[0] > 1.0, lambda c: (c[0] * 0.5, c[1] + 1), (x, 0), max_steps=100)

    v, k = gradc.vmap(halve)(np.array([0.5, 3.0, 17.0, 1000.0]))
    np.testing.assert_array_equal(v, [0.5, 0.75, 0.53125, 0.9765625])
    np.testing.assert_array_equal(k, [0, 2, 5, 10])

    def sqrt_newton(a):
        return lax.while_loop(lambda x: gnp.abs(x * x - a) > 1e-12 * a, lambda x: 0.5 * (x + a / x), a, max_steps=50)

    a = np.array([2.0, 9.0, 1e4, 0.04])
    np.testing.assert_allclose(gradc.vmap(gradc.grad(sqrt_newton))(a), 0.5 / np.sqrt(a), rtol=1e-9)
