"""gradc.scan and gradc.fori_loop: array.scan traced once, lowered to one
loops.for, against a Python loop in NumPy and the interpreter at the array
and loops levels; every user error with its message and the user's line.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradc
from gradc.errors import GradcError, TraceError, TraceTypeError
from gradc.interpreter import run_function
import gradc.numpy as gnp

rng = np.random.default_rng(20261126)


def here() -> int:
    return sys._getframe(1).f_lineno


def assert_located(err: pytest.ExceptionInfo, line: int) -> None:
    assert isinstance(err.value, GradcError)
    assert err.value.location == f"{__file__}:{line}", err.value.location


def check_levels(fn, args, expected, tol):
    """Compiled C, the interpreter on the traced module and on the loops
    level all equal `expected` (a flat list of arrays)."""
    lowered = gradc.lower(fn, *args)
    flat = [np.asarray(a) for a in args]
    for got in (
        run_function(lowered.traced.module, lowered.name, *flat),
        run_function(lowered._module_after("loops"), lowered.name, *flat),
    ):
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
    compiled = gradc.jit(fn)(*args)
    leaves = list(compiled) if isinstance(compiled, tuple) else [compiled]
    for g, e in zip(leaves, expected, strict=True):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
    return lowered


def several_carries(a, m, s, xs, zs):
    """Carries of three shapes (vector, matrix, scalar), two xs, two ys."""

    def body(carry, x):
        a, m, s = carry["a"], carry["m"], carry["s"]
        x, z = x
        a2 = gnp.tanh(a * 0.9 + x) + s
        m2 = m * 0.5 + z.T
        s2 = s * 0.99 + gnp.sum(a2) * 0.01
        return {"a": a2, "m": m2, "s": s2}, (a2 * 2.0, gnp.sum(m2, axis=0))

    carry, ys = gradc.scan(body, {"a": a, "m": m, "s": s}, (xs, zs))
    return carry["a"], carry["m"], carry["s"], ys[0], ys[1]


def several_carries_numpy(a, m, s, xs, zs):
    ya, ym = [], []
    for x, z in zip(xs, zs):
        a2 = np.tanh(a * a.dtype.type(0.9) + x) + s
        m = m * m.dtype.type(0.5) + z.T
        s = s * s.dtype.type(0.99) + np.sum(a2) * a2.dtype.type(0.01)
        a = a2
        ya.append(a2 * a2.dtype.type(2.0))
        ym.append(np.sum(m, axis=0))
    return [a, m, np.asarray(s), np.stack(ya), np.stack(ym)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("length", [1, 2, 7, 100])
def test_scan_matches_python_loop(length, dtype):
    args = (
        rng.normal(size=4).astype(dtype),
        rng.normal(size=(2, 3)).astype(dtype),
        dtype(0.3),
        rng.normal(size=(length, 4)).astype(dtype),
        rng.normal(size=(length, 3, 2)).astype(dtype),
    )
    tol = 1e-5 if dtype == np.float32 else 1e-12
    check_levels(several_carries, args, several_carries_numpy(*args), tol)


def recurrence(x, w):
    """x_{t+1} = x_t + 0.01 * tanh(W x_t), with a matmul in the body."""
    return gradc.fori_loop(0, 100, lambda i, x: x + 0.01 * gnp.tanh(w @ x), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_in_the_body(dtype):
    x, w = rng.normal(size=32).astype(dtype), rng.normal(size=(32, 32)).astype(dtype)
    expected = x.copy()
    for _ in range(100):
        expected = expected + dtype(0.01) * np.tanh(w @ expected)
    lowered = check_levels(recurrence, (x, w), [expected], 1e-4 if dtype == np.float32 else 1e-12)
    loops_ir = lowered.loops_ir
    assert loops_ir.count("loops.for %step = 0 to 100 step 1") == 1  # one loop, not unrolled
    assert "loops.microkernel" in loops_ir  # tile-matmul blocked the matmul inside it


def test_threads_do_not_parallelize_the_carried_loop():
    x, w = rng.normal(size=256), rng.normal(size=(256, 256))
    expected = x.copy()
    for _ in range(100):
        expected = expected + 0.01 * np.tanh(w @ expected)
    lowered = gradc.lower(recurrence, x, w, options={"threads": 2})
    step_loop = lowered.loops_ir.split("loops.for %step")[1].split("{")[0]
    assert "threads" not in step_loop
    np.testing.assert_allclose(gradc.jit(recurrence, threads=2)(x, w), expected, rtol=1e-12, atol=1e-12)


def nested(x, xs):
    """A scan inside a scan body, closing over the outer body's values."""

    def outer(c, row):
        def inner(d, y):
            return d * 0.5 + y * c, d

        d, ds = gradc.scan(inner, c, row)
        return d + 1.0, gnp.sum(ds, axis=0)

    return gradc.scan(outer, x, xs)


def nested_numpy(x, xs):
    """`nested` as two Python loops in NumPy."""
    c, ys = x.copy(), []
    for row in xs:
        d, ds = c.copy(), []
        for y in row:
            ds.append(d)
            d = d * 0.5 + y * c
        c = d + 1.0
        ys.append(np.sum(ds, axis=0))
    return c, np.stack(ys)


def test_nested_scans():
    x, xs = rng.normal(size=3), rng.normal(size=(4, 5, 3))
    lowered = check_levels(nested, (x, xs), list(nested_numpy(x, xs)), 1e-12)
    assert lowered.array_ir.count("array.scan") == 2


def test_fori_loop_index_and_closure():
    def f(x, scale):
        return gradc.fori_loop(3, 9, lambda i, v: v * scale + i * 0.5, x)

    x = rng.normal(size=5).astype(np.float32)
    expected = x.copy()
    for i in range(3, 9):
        expected = expected * np.float32(0.7) + np.float32(i * 0.5)
    check_levels(f, (x, np.float32(0.7)), [expected], 1e-5)


def test_scan_with_length_and_no_xs_and_outside_a_trace():
    carry, ys = gradc.scan(lambda c, _: (c * 2.0, c), np.ones(2), None, length=3)
    np.testing.assert_array_equal(carry, [8.0, 8.0])
    np.testing.assert_array_equal(ys, [[1, 1], [2, 2], [4, 4]])
    np.testing.assert_array_equal(gradc.fori_loop(0, 4, lambda i, v: v + i, np.zeros(1)), [6.0])


def test_swapped_carries():
    """New carries that read the old ones crosswise need the step's temporaries."""

    def f(a, b):
        return gradc.fori_loop(0, 3, lambda i, c: (c[1], c[0] + c[1]), (a, b))

    a, b = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    x, y = a, b
    for _ in range(3):
        x, y = y, x + y
    check_levels(f, (a, b), [x, y], 0)


def test_transposed_carry():
    def f(x):
        return gradc.fori_loop(0, 3, lambda i, v: v.T * 2.0 + v, x)

    x = np.arange(9.0).reshape(3, 3)
    expected = x.copy()
    for _ in range(3):
        expected = expected.T * 2.0 + expected
    check_levels(f, (x,), [expected], 0)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_carry_structure_mismatch():
    def f(x):
        return gradc.scan(lambda c, _: ((c, c), None), x, None, length=2)  # <- structure

    line = here() - 2
    with pytest.raises(TraceTypeError, match=r"scan: the body returns a carry with structure .* but init has structure") as err:
        gradc.jit(f)(np.ones(2))
    assert_located(err, line)


def test_carry_shape_and_dtype_mismatch():
    def f(x):
        return gradc.fori_loop(0, 2, lambda i, v: gnp.sum(v), x)

    line = here() - 2
    with pytest.raises(TraceTypeError, match=r"fori_loop: carry init is float64\[3\] in init but the body returns float64\[\]") as err:
        gradc.jit(f)(np.ones(3))
    assert_located(err, line)

    def g(x):
        return gradc.fori_loop(0, 2, lambda i, v: v.astype(np.float32), x)

    with pytest.raises(TraceTypeError, match=r"carry init is float64\[3\] in init but the body returns float32\[3\]"):
        gradc.jit(g)(np.ones(3))


def test_xs_leading_sizes_and_length():
    def f(a, b):
        return gradc.scan(lambda c, x: (c, x[0] + x[1]), 0.0, (a, b))

    line = here() - 2
    with pytest.raises(TraceError, match=r"scan: xs leaves have different leading sizes \(xs\[0\] has 3, xs\[1\] has 4\)") as err:
        gradc.jit(f)(np.ones(3), np.ones(4))
    assert_located(err, line)

    def g(a):
        return gradc.scan(lambda c, x: (c, x), 0.0, a, length=5)

    with pytest.raises(TraceError, match=r"scan: length=5 but the xs leaves have leading size 3"):
        gradc.jit(g)(np.ones(3))

    def h(a):
        return gradc.scan(lambda c, x: (c, x), a, None)

    with pytest.raises(TraceError, match=r"pass length= when xs is None"):
        gradc.jit(h)(np.ones(3))


def test_non_static_bounds():
    def f(x, n):
        return gradc.fori_loop(0, n, lambda i, v: v, x)

    line = here() - 2
    with pytest.raises(TraceTypeError, match=r"fori_loop: upper must be a Python int .*static trip counts.*TracedArray") as err:
        gradc.jit(f)(np.ones(3), 4.0)
    assert_located(err, line)


def test_body_must_return_a_pair():
    def f(x):
        return gradc.scan(lambda c, x: c + x, x[0], x)

    with pytest.raises(TraceTypeError, match=r"scan: the body must return a pair \(new carry, per-step output\), got TracedArray"):
        gradc.jit(f)(np.ones(3))


# ---------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------


def rnn(x, w, xs):
    """Carries of two shapes, an input sequence and a closed-over matrix."""

    def step(carry, u):
        h, s = carry
        h = h + 0.1 * gnp.tanh(w @ h + u) + s * 0.01
        return (h, s * 0.9 + gnp.sum(h * h)), gnp.sum(h) * u

    (h, s), ys = gradc.scan(step, (x, 0.5 * gnp.sum(x)), xs)
    return h, s, ys


def rnn_unrolled(x, w, xs):
    """The same program with the loop unrolled in Python."""
    h, s, ys = x, 0.5 * gnp.sum(x), []
    for u in xs:
        h = h + 0.1 * gnp.tanh(w @ h + u) + s * 0.01
        s = s * 0.9 + gnp.sum(h * h)
        ys.append(gnp.sum(h) * u)
    return h, s, gnp.stack(ys)


def central_difference(fn, args, tangents, h=1e-6):
    plus = fn(*(a + h * t for a, t in zip(args, tangents)))
    minus = fn(*(a - h * t for a, t in zip(args, tangents)))
    return [(p - m) / (2 * h) for p, m in zip(plus, minus)]


def rnn_numpy(x, w, xs):
    h, s, ys = x, 0.5 * np.sum(x), []
    for u in xs:
        h = h + 0.1 * np.tanh(w @ h + u) + s * 0.01
        s = s * 0.9 + np.sum(h * h)
        ys.append(np.sum(h) * u)
    return h, s, np.stack(ys)


RNN_ARGS = (rng.normal(size=4) * 0.5, rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(7, 4)) * 0.5)


@pytest.mark.parametrize("length", [1, 2, 7])
def test_jvp_equals_finite_differences_and_unrolled(length):
    args = (RNN_ARGS[0], RNN_ARGS[1], RNN_ARGS[2][:length])
    tangents = tuple(rng.normal(size=np.shape(a)) for a in args)
    primal, tangent = gradc.jvp(rnn, args, tangents)
    for got, want in zip(primal, rnn_numpy(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for got, want in zip(tangent, central_difference(rnn_numpy, args, tangents)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    _, unrolled = gradc.jvp(rnn_unrolled, args, tangents)
    for got, want in zip(tangent, unrolled):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_jvp_through_fori_loop_with_a_matmul_over_100_steps():
    x, w = rng.normal(size=8), rng.normal(size=(8, 8))
    dx, dw = rng.normal(size=8), rng.normal(size=(8, 8))

    def numpy_loop(x, w):
        for _ in range(100):
            x = x + 0.01 * np.tanh(w @ x)
        return (x,)

    _, tangent = gradc.jvp(recurrence, (x, w), (dx, dw))
    (fd,) = central_difference(numpy_loop, (x, w), (dx, dw))
    np.testing.assert_allclose(tangent, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("argnums", [0, 1, (0, 2)])
def test_jacfwd_equals_finite_differences_and_unrolled(argnums):
    def final_state(x, w, xs):
        h, s, ys = rnn(x, w, xs)
        return h * s

    def final_state_unrolled(x, w, xs):
        h, s, ys = rnn_unrolled(x, w, xs)
        return h * s

    got = gradc.jacfwd(final_state, argnums=argnums)(*RNN_ARGS)
    unrolled = gradc.jacfwd(final_state_unrolled, argnums=argnums)(*RNN_ARGS)
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    parts = got if isinstance(argnums, tuple) else (got,)
    for num, part, ref in zip(nums, parts, unrolled if isinstance(argnums, tuple) else (unrolled,)):
        np.testing.assert_allclose(part, ref, rtol=1e-11, atol=1e-12)
        arg = RNN_ARGS[num]
        for k in range(arg.size):
            direction = np.zeros(arg.size)
            direction[k] = 1.0
            tangents = [np.zeros_like(a) for a in RNN_ARGS]
            tangents[num] = direction.reshape(arg.shape)

            def fn(*a):
                h, s, _ = rnn_numpy(*a)
                return (h * s,)

            (fd,) = central_difference(fn, RNN_ARGS, tangents)
            np.testing.assert_allclose(part.reshape(4, -1)[:, k], fd, rtol=1e-6, atol=1e-7)


def test_jacfwd_of_nested_scans():
    def f(x, xs):
        c, ys = nested(x, xs)
        return c

    x, xs = rng.normal(size=3) * 0.5, rng.normal(size=(3, 2, 3)) * 0.5

    def numpy_nested(x):
        c = x.copy()
        for row in xs:
            d = c.copy()
            for y in row:
                d = d * 0.5 + y * c
            c = d + 1.0
        return (c,)

    jac = gradc.jacfwd(f)(x, xs)
    for k in range(3):
        (fd,) = central_difference(numpy_nested, (x,), (np.eye(3)[k],))
        np.testing.assert_allclose(jac[:, k], fd, rtol=1e-6, atol=1e-8)


def test_top_level_scan_and_fori_loop_trace_once_per_signature():
    """Outside a trace each runs a compiled function built once per body and
    static arguments: the body is traced once, not on every call."""
    traced = []

    def body(c, x):
        traced.append("scan")
        return c + x, c * x

    def loop_body(i, v):
        traced.append("fori")
        return v * 2.0 + i

    xs = np.arange(6.0).reshape(3, 2)
    for _ in range(3):
        c, ys = gradc.scan(body, np.zeros(2), xs)
        v = gradc.fori_loop(0, 4, loop_body, 1.0)
    np.testing.assert_allclose(c, xs.sum(0))
    np.testing.assert_allclose(ys, np.stack([xs[:k].sum(0) * xs[k] for k in range(3)]))
    expect = 1.0
    for i in range(4):
        expect = expect * 2.0 + i
    assert v == pytest.approx(expect)
    assert traced.count("scan") == 1 and traced.count("fori") == 1
    gradc.fori_loop(0, 5, loop_body, 1.0)  # another trip count: traced again
    assert traced.count("fori") == 2


# ---------------------------------------------------------------------------
# Bool carries: the "done" flag that replaces an early `break`. A bool leaf
# is a value of the loop like any other (carry, xs, per-step output,
# closed-over invariant); it has no derivative, so it gets no tangent and no
# cotangent (JAX's float0), while what it selects is differentiated.
# ---------------------------------------------------------------------------


def until_converged(x, a, tol=1e-3, steps=40):
    """v <- a * sin(v) + x per element, frozen once a step moves it by less
    than `tol`; also the flags and the number of steps each element took."""

    def body(i, carry):
        v, done, count = carry
        new = a * gnp.sin(v) + x
        return gnp.where(done, v, new), done | (gnp.abs(new - v) < tol), gnp.where(done, count, count + 1.0)

    return gradc.fori_loop(0, steps, body, (x, gnp.zeros_like(x, dtype=bool), gnp.zeros_like(x)))


def until_converged_with_break(x, a, tol=1e-3, steps=40):
    """The same program as one writes it in Python: per element, a loop that
    breaks once converged."""
    v, done, count = x.copy(), np.zeros(x.shape, bool), np.zeros_like(x)
    for j in np.ndindex(x.shape):
        for _ in range(steps):
            new = a * np.sin(v[j]) + x[j]
            moved, v[j] = abs(new - v[j]), new
            count[j] += 1
            if moved < tol:
                done[j] = True
                break
    return v, done, count


FLAG_X = np.array([0.3, -1.2, 2.0, 0.05])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_done_flag_carry_matches_a_python_loop_with_break(dtype):
    x, a = FLAG_X.astype(dtype), 0.6
    v, done, count = until_converged_with_break(x, dtype(a))
    assert 1 < count.min() < count.max() < 40  # elements stop at different steps
    lowered = check_levels(lambda x: until_converged(x, a), (x,), [v, done, count], 1e-5 if dtype == np.float32 else 1e-12)
    assert "tensor<4xi1>" in lowered.array_ir


def test_done_flag_derivatives_equal_finite_differences():
    """Every transformation through the loop: the frozen state's derivative
    w.r.t. x and a (the flags flip nowhere near x +- h)."""

    def f(x, a):
        v, done, count = until_converged(x, a)
        return gnp.sum(v * v) + gnp.sum(gnp.where(done, count, 0.0))

    def f_numpy(x, a):
        v, done, count = until_converged_with_break(x, a)
        return np.sum(v * v) + np.sum(np.where(done, count, 0.0))

    x, a, h = FLAG_X, 0.6, 1e-6
    fd_x = np.array([(f_numpy(x + h * e, a) - f_numpy(x - h * e, a)) / (2 * h) for e in np.eye(4)])
    fd_a = (f_numpy(x, a + h) - f_numpy(x, a - h)) / (2 * h)
    assert f_numpy(x, a) == pytest.approx(gradc.jit(f)(x, a), rel=1e-12)
    gx, ga = gradc.grad(f, argnums=(0, 1))(x, a)
    np.testing.assert_allclose(gx, fd_x, rtol=1e-6, atol=1e-8)
    assert ga == pytest.approx(fd_a, rel=1e-6)
    for mode in ("every=3", "binomial(snapshots=2)"):
        np.testing.assert_allclose(gradc.grad(f, checkpoint=mode)(x, a), fd_x, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gradc.jacfwd(f)(x, a), fd_x, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gradc.jacrev(f)(x, a), fd_x, rtol=1e-6, atol=1e-8)
    (cotangent,) = gradc.vjp(lambda x: f(x, a), x)[1](1.0)
    np.testing.assert_allclose(cotangent, fd_x, rtol=1e-6, atol=1e-8)
    direction = np.array([1.0, -0.5, 0.25, 2.0])
    _, tangent = gradc.jvp(f, (x, a), (direction, 1.0))
    assert tangent == pytest.approx(fd_x @ direction + fd_a, rel=1e-6)
    h2 = 1e-4
    grad_numpy = lambda x: np.array([(f_numpy(x + h2 * e, a) - f_numpy(x - h2 * e, a)) / (2 * h2) for e in np.eye(4)])
    fd_hessian = np.array([(grad_numpy(x + h2 * e) - grad_numpy(x - h2 * e)) / (2 * h2) for e in np.eye(4)])
    np.testing.assert_allclose(gradc.hessian(f)(x, a), fd_hessian, rtol=1e-4, atol=1e-5)


def test_bool_carries_get_no_tangent_carry():
    """The JVP's loop carries the state, the flag, the count and the state's
    tangent: no tangent for the flag, nor for the count, which depends on x
    only through the flag."""
    lowered = gradc.lower(lambda x: gradc.jvp(lambda x: until_converged(x, 0.6)[0], (x,), (x,)), FLAG_X)
    (scan_line,) = [line for line in lowered.stages["differentiated"].splitlines() if "array.scan" in line]
    carries = scan_line.split("carries(")[1].split(") xs(")[0]
    assert carries.count("tensor<4xi1>") == 1 and carries.count("tensor<4xf64>") == 3


@pytest.mark.parametrize("reverse", [False, True])
def test_bool_xs_ys_and_closed_over_masks(reverse):
    """Bool slices in, bool per-step outputs out, a bool mask of the
    enclosing function used in the body; values and the gradient w.r.t. the
    float xs against NumPy and finite differences."""
    xs = rng.normal(size=(5, 3))
    masks = rng.normal(size=(5, 3)) > 0
    x = np.array([0.5, -0.4, 1.1])

    def f(x, xs, masks):
        outer = x > 0

        def body(c, step):
            row, m = step
            keep = m & outer
            c = gnp.where(keep, c * gnp.cos(row) + row, c)
            return c, (keep, c > 0.5)

        c, (kept, positive) = gradc.scan(body, x, (xs, masks), reverse=reverse)
        return gnp.sum(c * c), kept, positive

    def f_numpy(x, xs, masks):
        c, kept, positive = x.copy(), [None] * 5, [None] * 5
        for k in (range(4, -1, -1) if reverse else range(5)):
            keep = masks[k] & (x > 0)
            c = np.where(keep, c * np.cos(xs[k]) + xs[k], c)
            kept[k], positive[k] = keep, c > 0.5
        return np.sum(c * c), np.array(kept), np.array(positive)

    value, kept, positive = gradc.jit(f)(x, xs, masks)
    want = f_numpy(x, xs, masks)
    assert value == pytest.approx(want[0], rel=1e-12)
    assert kept.dtype == positive.dtype == np.bool_
    np.testing.assert_array_equal(kept, want[1])
    np.testing.assert_array_equal(positive, want[2])
    g = gradc.grad(lambda xs: f(x, xs, masks)[0])(xs)
    h = 1e-6
    fd = [(f_numpy(x, xs + h * e, masks)[0] - f_numpy(x, xs - h * e, masks)[0]) / (2 * h) for e in np.eye(15).reshape(15, 5, 3)]
    np.testing.assert_allclose(g, np.reshape(fd, (5, 3)), rtol=1e-6, atol=1e-8)


def test_bool_carries_outside_a_trace_and_nested():
    """A Python bool init and a top-level loop (compiled like jit) return
    NumPy bools; a flag carried by an inner loop inside an outer one."""
    v, flag = gradc.fori_loop(0, 3, lambda i, c: (c[0] + 1.0, ~c[1]), (0.0, False))
    assert (v, flag.dtype, bool(flag)) == (3.0, np.bool_, True)
    c, ys = gradc.scan(lambda c, m: (c | m, ~c), np.zeros(2, bool), np.array([[False, True], [True, False]]))
    np.testing.assert_array_equal(c, [True, True])
    np.testing.assert_array_equal(ys, [[True, True], [True, False]])

    def f(x):
        def outer(i, c):
            v, flag = c
            v, flag = gradc.fori_loop(0, 3, lambda j, d: (gnp.where(d[1], d[0], d[0] * 0.9 + 0.1 * gnp.tanh(d[0])), d[1] | (d[0] > 1.5)), (v, flag))
            return v + 0.1, flag

        v, flag = gradc.fori_loop(0, 4, outer, (x, np.zeros(3, bool)))
        return gnp.sum(v ** 2), flag

    def f_numpy(x):
        v, flag = x.copy(), np.zeros(3, bool)
        for _ in range(4):
            for _ in range(3):
                v, flag = np.where(flag, v, v * 0.9 + 0.1 * np.tanh(v)), flag | (v > 1.5)
            v = v + 0.1
        return np.sum(v ** 2), flag

    x = np.array([0.3, -1.2, 2.0])
    value, flag = gradc.jit(f)(x)
    assert value == pytest.approx(f_numpy(x)[0], rel=1e-12)
    np.testing.assert_array_equal(flag, f_numpy(x)[1])
    fd = [(f_numpy(x + 1e-6 * e)[0] - f_numpy(x - 1e-6 * e)[0]) / 2e-6 for e in np.eye(3)]
    np.testing.assert_allclose(gradc.grad(lambda x: f(x)[0])(x), fd, rtol=1e-6, atol=1e-8)
