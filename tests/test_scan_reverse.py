"""Reverse mode through gradc.scan / fori_loop (a forward scan that stacks
the residuals, then a reverse scan over the body's VJP), and scans with
reverse=True: against finite differences, the unrolled program, a
hand-written NumPy adjoint and forward mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from tests.test_checkpointing import reference_gradient
from tests.test_scan import RNN_ARGS, check_levels, nested, nested_numpy, rnn, rnn_unrolled

rng = np.random.default_rng(20261127)


def loop_loss(w, x0, steps):
    x = gradc.fori_loop(0, steps, lambda i, x: x + 0.01 * gnp.tanh(w @ x), x0)
    return gnp.sum(x * x)


def unrolled_loss(w, x0, steps):
    x = x0
    for _ in range(steps):
        x = x + 0.01 * gnp.tanh(w @ x)
    return gnp.sum(x * x)


def numpy_loss(w, x0, steps):
    x = x0
    for _ in range(steps):
        x = x + 0.01 * np.tanh(w @ x)
    return float(np.sum(x * x))


def numpy_adjoint(w, x0, steps):
    """The gradient (d/dW, d/dx0) by a hand-written reverse loop."""
    _, gx, gw = reference_gradient(x0, w, steps)
    return gw, gx


def directional_fd(fn, args, directions, h=1e-6):
    plus = fn(*(a + h * d for a, d in zip(args, directions)))
    minus = fn(*(a - h * d for a, d in zip(args, directions)))
    return (plus - minus) / (2 * h)


@pytest.mark.parametrize("steps", [1, 2, 7, 100, 1000])
def test_grad_through_fori_loop(steps):
    n = 6
    w, x0 = rng.normal(size=(n, n)) * 0.5, rng.normal(size=n)
    gw, gx = gradc.grad(lambda w, x0: loop_loss(w, x0, steps), argnums=(0, 1))(w, x0)
    ew, ex = numpy_adjoint(w, x0, steps)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
    dw, dx = rng.normal(size=(n, n)), rng.normal(size=n)
    fd = directional_fd(lambda w, x0: numpy_loss(w, x0, steps), (w, x0), (dw, dx))
    np.testing.assert_allclose(np.sum(gw * dw) + np.sum(gx * dx), fd, rtol=1e-7)
    if steps <= 100:
        uw, ux = gradc.grad(lambda w, x0: unrolled_loss(w, x0, steps), argnums=(0, 1))(w, x0)
        np.testing.assert_allclose(gw, uw, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gx, ux, rtol=1e-12, atol=1e-12)


def test_the_tape_is_a_static_buffer_and_the_loop_runs_backwards():
    w, x0 = rng.normal(size=(8, 8)), rng.normal(size=8)
    lowered = gradc.lower(gradc.grad(lambda w, x0: loop_loss(w, x0, 50)), w, x0)
    assert lowered.differentiated_ir.count("array.scan") == 2
    assert lowered.differentiated_ir.count("array.scan length 50 reverse") == 1
    assert "tensor<50x8xf64>" in lowered.differentiated_ir  # tanh(W x_t), stacked
    assert lowered.loops_ir.count(" = 0 to 50 step 1 {") == 2  # two loops, not unrolled
    assert "malloc" not in lowered.c_source


def rnn_loss(x, w, xs):
    h, s, ys = rnn(x, w, xs)
    return gnp.sum(h * h) + s * 0.1 + gnp.sum(ys * gnp.cos(xs))


def rnn_unrolled_loss(x, w, xs):
    h, s, ys = rnn_unrolled(x, w, xs)
    return gnp.sum(h * h) + s * 0.1 + gnp.sum(ys * gnp.cos(xs))


def test_grad_with_xs_ys_invariants_equals_unrolled_and_fd():
    grads = gradc.grad(rnn_loss, argnums=(0, 1, 2))(*RNN_ARGS)
    unrolled = gradc.grad(rnn_unrolled_loss, argnums=(0, 1, 2))(*RNN_ARGS)
    for g, u in zip(grads, unrolled, strict=True):
        np.testing.assert_allclose(g, u, rtol=1e-12, atol=1e-12)
    directions = [rng.normal(size=a.shape) for a in RNN_ARGS]
    fd = directional_fd(lambda *a: float(gradc.jit(rnn_loss)(*a)), RNN_ARGS, directions)
    np.testing.assert_allclose(sum(np.sum(g * d) for g, d in zip(grads, directions)), fd, rtol=1e-7)


def test_vjp_and_value_and_grad():
    _, pullback = gradc.vjp(rnn, *RNN_ARGS)
    ct = (rng.normal(size=4), 0.7, rng.normal(size=(7, 4)))
    got = pullback(ct)
    _, expected_pullback = gradc.vjp(rnn_unrolled, *RNN_ARGS)
    for g, e in zip(got, expected_pullback(ct), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    value, grad = gradc.value_and_grad(rnn_loss, argnums=1)(*RNN_ARGS)
    np.testing.assert_allclose(value, gradc.jit(rnn_unrolled_loss)(*RNN_ARGS), rtol=1e-12)
    np.testing.assert_allclose(grad, gradc.grad(rnn_unrolled_loss, argnums=1)(*RNN_ARGS), rtol=1e-12, atol=1e-12)


def test_jacrev_equals_jacfwd():
    for argnums in (0, 1, 2):
        rev = gradc.jacrev(rnn, argnums=argnums)(*RNN_ARGS)
        fwd = gradc.jacfwd(rnn, argnums=argnums)(*RNN_ARGS)
        for r, f in zip(rev, fwd, strict=True):
            np.testing.assert_allclose(r, f, rtol=1e-11, atol=1e-12)
    rev = gradc.jacobian(rnn, argnums=1, mode="rev")(*RNN_ARGS)
    np.testing.assert_allclose(rev[0], gradc.jacfwd(rnn, argnums=1)(*RNN_ARGS)[0], rtol=1e-11, atol=1e-12)


def test_grad_of_nested_scans():
    x, xs = rng.normal(size=3), rng.normal(size=(4, 5, 3)) * 0.5

    def loss(x, xs):
        c, ys = nested(x, xs)
        return gnp.sum(c * c) + gnp.sum(gnp.sin(ys))

    def numpy_loss_nested(x, xs):
        c, ys = nested_numpy(x, xs)
        return float(np.sum(c * c) + np.sum(np.sin(ys)))

    gx, gxs = gradc.grad(loss, argnums=(0, 1))(x, xs)
    for k in range(3):
        e = np.eye(3)[k]
        fd = directional_fd(numpy_loss_nested, (x, xs), (e, np.zeros_like(xs)))
        np.testing.assert_allclose(gx[k], fd, rtol=1e-7, atol=1e-8)
    direction = rng.normal(size=xs.shape)
    fd = directional_fd(numpy_loss_nested, (x, xs), (np.zeros_like(x), direction))
    np.testing.assert_allclose(np.sum(gxs * direction), fd, rtol=1e-7)
    assert gradc.lower(gradc.grad(loss), x, xs).differentiated_ir.count("reverse") >= 2


def test_hessian_of_a_loop_equals_fd_of_its_grad():
    n, steps = 4, 20
    w, x0 = rng.normal(size=(n, n)) * 0.5, rng.normal(size=n)
    hess = gradc.hessian(lambda x0, w: loop_loss(w, x0, steps))(x0, w)
    for k in range(n):
        e = np.eye(n)[k]
        fd = (numpy_adjoint(w, x0 + 1e-5 * e, steps)[1] - numpy_adjoint(w, x0 - 1e-5 * e, steps)[1]) / 2e-5
        np.testing.assert_allclose(hess[:, k], fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10, atol=1e-12)


def test_reverse_scan_equals_a_reversed_python_loop():
    x, xs = rng.normal(size=3), rng.normal(size=(6, 3))

    def f(x, xs):
        def body(c, u):
            c2 = gnp.tanh(c * 0.8 + u)
            return c2, c2 * 2.0 + c

        return gradc.scan(body, x, xs, reverse=True)

    c, ys = x.copy(), [None] * 6
    for t in reversed(range(6)):
        c2 = np.tanh(c * 0.8 + xs[t])
        ys[t] = c2 * 2.0 + c
        c = c2
    lowered = check_levels(f, (x, xs), [c, np.stack(ys)], 1e-12)
    assert "array.scan length 6 reverse" in lowered.array_ir

    def index_order(x):
        return gradc.scan(lambda c, _: (c * 10.0 + 1.0, c), x, None, length=4, reverse=True)

    got = gradc.jit(lambda x: gradc.fori_loop(0, 1, lambda i, c: c, index_order(x)))(np.zeros(()))
    np.testing.assert_allclose(got[1], [111.0, 11.0, 1.0, 0.0])

    def loss(x, xs):
        c, ys = f(x, xs)
        return gnp.sum(c) + gnp.sum(ys * ys)

    gx, gxs = gradc.grad(loss, argnums=(0, 1))(x, xs)
    jx = gradc.jvp(lambda x: loss(x, xs), (x,), (np.ones(3),))[1]
    np.testing.assert_allclose(np.sum(gx), jx, rtol=1e-12)
    direction = rng.normal(size=xs.shape)
    fd = directional_fd(lambda xs: float(gradc.jit(loss)(x, xs)), (xs,), (direction,))
    np.testing.assert_allclose(np.sum(gxs * direction), fd, rtol=1e-7)


def test_inactive_carries_cost_nothing_and_float32_works():
    """A carry that does not depend on the differentiated argument gets no
    cotangent carry in the reverse scan (only the values the adjoint reads
    of it are taped)."""
    w, x0 = (rng.normal(size=(5, 5)) * 0.3).astype(np.float32), rng.normal(size=5).astype(np.float32)

    def loss(w, x0):
        def body(carry, _):
            x, counter = carry
            return (x + gnp.tanh(w @ x) * counter, counter * 0.5), None

        (x, _), _ = gradc.scan(body, (x0, np.float32(1.0)), None, length=9)
        return gnp.sum(x * x)

    def numpy_loss_f64(w, x0):
        x, counter = x0.astype(np.float64), 1.0
        for _ in range(9):
            x, counter = x + np.tanh(w.astype(np.float64) @ x) * counter, counter * 0.5
        return float(np.sum(x * x))

    g = gradc.grad(loss)(w, x0)
    assert g.dtype == np.float32
    direction = rng.normal(size=w.shape)
    fd = directional_fd(lambda w: numpy_loss_f64(w, x0), (w.astype(np.float64),), (direction,))
    np.testing.assert_allclose(np.sum(g * direction), fd, rtol=1e-4)
    ir = gradc.lower(gradc.grad(loss), w, x0).differentiated_ir
    reverse = next(line for line in ir.splitlines() if "reverse" in line)
    assert "carries(" in reverse and reverse.split("carries(")[1].split(")")[0].count("=") == 2  # dx and dW


def test_reverse_over_reverse_and_nested_jacrev():
    """grad of a grad through a loop (the reverse scan differentiated in
    reverse mode again) equals the hessian (forward over reverse) times a
    vector; jacrev of nested scans equals jacfwd."""
    w, x0, v = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3), rng.normal(size=3)

    def f(x0, w):
        x = gradc.fori_loop(0, 6, lambda i, x: x + 0.1 * gnp.tanh(w @ x) * gnp.sin(i), x0)
        return gnp.sum(x * x * x)

    hvp = gradc.grad(lambda x0: gnp.sum(gradc.grad(f)(x0, w) * v))(x0)
    np.testing.assert_allclose(hvp, gradc.hessian(f)(x0, w) @ v, rtol=1e-12, atol=1e-14)
    xs = rng.normal(size=(2, 3, 3))
    for r, f_ in zip(gradc.jacrev(nested)(x0, xs), gradc.jacfwd(nested)(x0, xs), strict=True):
        np.testing.assert_allclose(r, f_, rtol=1e-12, atol=1e-14)


def test_vjp_with_a_cotangent_on_the_per_step_outputs_only():
    x0, xs = rng.normal(size=3), rng.normal(size=(5, 3))
    ct = rng.normal(size=(5, 3))

    def g(x0, xs):
        return gradc.scan(lambda c, u: (c * 0.9 + u, gnp.tanh(c * u)), x0, xs)

    def numpy_loss(x0, xs):
        c, total = x0, 0.0
        for u, g_ in zip(xs, ct):
            total += np.sum(np.tanh(c * u) * g_)
            c = c * 0.9 + u
        return total

    _, pullback = gradc.vjp(g, x0, xs)
    gx, gxs = pullback((np.zeros(3), ct))
    dx, dxs = rng.normal(size=3), rng.normal(size=xs.shape)
    fd = directional_fd(numpy_loss, (x0, xs), (dx, dxs))
    np.testing.assert_allclose(np.sum(gx * dx) + np.sum(gxs * dxs), fd, rtol=1e-7)


@pytest.mark.parametrize(
    "options",
    [{}, {"tile": False}, {"plan_memory": False}, {"threads": 2}, {"tile": False, "plan_memory": False}],
    ids=["default", "untiled", "unplanned", "threads=2", "untiled-unplanned"],
)
def test_the_cotangent_of_w_accumulates_in_place(options):
    """The reverse scan's cotangent of W is `carry + outer product`: one
    accumulating matmul into the carry's own buffer, no temporary and no
    copy per step; under every pipeline option the numbers are the NumPy
    adjoint's."""
    n, steps = 16, 40
    w, x0 = rng.normal(size=(n, n)) * 0.3, rng.normal(size=n)
    grad = gradc.grad(lambda w, x0: loop_loss(w, x0, steps), argnums=(0, 1))
    lowered = gradc.lower(grad, w, x0, options=options)
    reverse_loop = lowered.loops_ir.split(" = 0 to 40 step 1 {")[2]
    assert "accumulate" in reverse_loop
    gw, gx = gradc.jit(grad, options=options)(w, x0)
    ew, ex = numpy_adjoint(w, x0, steps)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
