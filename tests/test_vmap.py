"""gradc.vmap: batched results against a Python loop over the rows run by
NumPy (`np.stack([f(x) for x in xs])`, the same `gradc.numpy` function on
NumPy arrays is plain NumPy), for every op family; in_axes / out_axes as in
JAX; composition with grad, value_and_grad, hessian, jacfwd, jit, scan,
fori_loop, custom_jvp/custom_vjp and vmap itself, derivatives against
central finite differences in float64; user errors located at the user's
line. Few builds: each test checks many values of one build.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradc
import gradc.nn as gnn
import gradc.numpy as gnp
from gradc.errors import GradcError, TraceError, TraceTypeError
from gradc.frontend.tracer import TracedArray

rng = np.random.default_rng(20261207)
B = 4
H = 1e-6


def here() -> int:
    return sys._getframe(1).f_lineno


def assert_located(err: pytest.ExceptionInfo, line: int) -> None:
    assert isinstance(err.value, GradcError)
    assert err.value.location == f"{__file__}:{line}", err.value.location


def stack(f, *rows):
    """The reference: f on each row, stacked (NumPy arrays, so NumPy runs it)."""
    outs = [f(*row) for row in zip(*rows)]
    if isinstance(outs[0], dict):
        return {k: np.stack([np.asarray(o[k]) for o in outs]) for k in outs[0]}
    return np.stack([np.asarray(o) for o in outs])


def fd_grad(f, x):
    """Central differences of scalar f at array x (float64)."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = H
        g[i] = (f(x + e) - f(x - e)) / (2 * H)
    return g


def close(got, want, rtol=1e-7, atol=1e-9):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def fd_close(got, want):
    """Finite differences are good to ~1e-8 of the values' scale."""
    scale = max(1.0, float(np.abs(want).max()))
    close(got, want, rtol=0, atol=2e-7 * scale)


# ---------------------------------------------------------------------------
# Every op family, one build
# ---------------------------------------------------------------------------


def ops(x, m, v, i):
    """x [3, 4] and m [4, 4] batched, v [4] and i int32[2] not."""
    traced = isinstance(x, TracedArray)
    spd = m @ m.T + 4 * gnp.eye(4)
    out = dict(
        elementwise=gnp.exp(gnp.sin(x)) * 2.0 + gnp.maximum(x, 0.1) / (1.0 + x * x) - gnp.where(x > 0, x, -x),
        broadcast_unbatched=x + v,
        compare=(x > v).astype(np.float64),
        convert=x.astype(np.float32),
        integers=(gnp.floor(x * 3).astype(np.int32) * 2) % 3,
        sum_axis0=gnp.sum(x, axis=0),
        max_axis1=gnp.max(x, axis=1),
        mean_all=gnp.mean(x),
        prod_keepdims=gnp.prod(x, axis=-1, keepdims=True),
        argmax=gnp.argmax(x, axis=1),
        logsumexp=gnn.logsumexp(x, axis=1),
        cumsum=gnp.cumsum(x, axis=1),
        matmul_batched_unbatched=x @ gnp.outer(v, v),
        matvec_batched_unbatched=x @ v,
        vecmat_unbatched_batched=v @ m,
        matmul_unbatched_batched=gnp.outer(v, v)[:3] @ m,
        matmul_batched_batched=x @ m,
        gram=x.T @ x,
        dot=x[0] @ x[1],
        einsum=gnp.einsum("ij,jk->ik", x, m),
        reshape=x.reshape(2, 6),
        transpose=x.T,
        transpose3=gnp.transpose(x.reshape(3, 2, 2), (2, 0, 1)),
        broadcast_to=gnp.broadcast_to(x[:, :1], (3, 4)),
        slice=x[1:, ::2],
        row=x[-1],
        gather=x[:, [2, 0, 2]],
        take=gnp.take(x, i, axis=1),
        take_along=gnp.take_along_axis(x, gnp.argmax(x, axis=1, keepdims=True), axis=1),
        dynamic_index=x[i[0]],
        concatenate=gnp.concatenate([x, m[:3]], axis=1),
        stack=gnp.stack([x, x * 2]),
        pad=gnp.pad(x, 1),
        flip=gnp.flip(x, 1),
        solve=gnp.linalg.solve(spd, x.T),
        cholesky=gnp.linalg.cholesky(spd),
        inv=gnp.linalg.inv(spd),
        slogdet=gnp.linalg.slogdet(spd)[1],
    )
    if traced:
        out["at_add"] = x.at[0, 1].add(5.0)
        out["at_set"] = x.at[i].set(0.0)
    else:
        added, put = x.copy(), x.copy()
        added[0, 1] += 5.0
        put[i] = 0.0
        out["at_add"], out["at_set"] = added, put
    return out


@pytest.fixture(scope="module")
def op_table():
    x, m = rng.normal(size=(B, 3, 4)), rng.normal(size=(B, 4, 4))
    v, i = rng.normal(size=4), np.array([1, 2], dtype=np.int32)
    got = gradc.vmap(ops, in_axes=(0, 0, None, None))(x, m, v, i)
    want = stack(lambda x, m: ops(x, m, v, i), x, m)
    return got, want


@pytest.mark.parametrize("name", sorted(ops(np.ones((3, 4)), np.eye(4), np.ones(4), np.array([0, 1], np.int32))))
def test_every_op_family(op_table, name):
    got, want = op_table
    assert got[name].dtype == want[name].dtype, name
    close(got[name], want[name])


# ---------------------------------------------------------------------------
# Loops and custom derivatives, values and gradients
# ---------------------------------------------------------------------------


@gradc.custom_jvp
def softplus(x):
    return gnp.log1p(gnp.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t / (1 + gnp.exp(-x))


@gradc.custom_vjp
def cube(x):
    return x * x * x


cube.defvjp(lambda x: (x * x * x, x), lambda x, g: (3 * x * x * g,))


def loopy(x, w):
    """A scan, a fori_loop, a linear solve, custom_jvp and custom_vjp."""

    def body(c, xi):
        c = gnp.tanh(w @ c + xi)
        return c, c.sum()

    c, ys = gradc.scan(body, x, gnp.stack([x, 2 * x]))
    c = gradc.fori_loop(0, 3, lambda k, c: c * 0.9 + gnp.sin(c) * k, c)
    s = gnp.linalg.solve(w @ w.T + 3 * gnp.eye(3), c)
    return gnp.sum(softplus(s)) + gnp.sum(cube(c)) + ys.sum()


def loopy_np(x, w):
    c, ys = x, 0.0
    for xi in (x, 2 * x):
        c = np.tanh(w @ c + xi)
        ys += c.sum()
    for k in range(3):
        c = c * 0.9 + np.sin(c) * k
    s = np.linalg.solve(w @ w.T + 3 * np.eye(3), c)
    return np.sum(np.log1p(np.exp(s))) + np.sum(c**3) + ys


def test_loops_and_custom_rules_values_and_per_row_gradients():
    xs, w = rng.normal(size=(B, 3)), 0.5 * rng.normal(size=(3, 3))
    values, (gx, gw) = gradc.vmap(gradc.value_and_grad(loopy, argnums=(0, 1)), in_axes=(0, None))(xs, w)
    close(values, [loopy_np(x, w) for x in xs])
    fd_close(gx, np.stack([fd_grad(lambda x: loopy_np(x, w), x) for x in xs]))
    fd_close(gw, np.stack([fd_grad(lambda w: loopy_np(x, w), w) for x in xs]))


def smooth(x, w):
    return gnp.sum(gnp.tanh(w @ x) * x) + gnp.sin(x[0] * w[1, 2])


def smooth_np(x, w):
    return np.sum(np.tanh(w @ x) * x) + np.sin(x[0] * w[1, 2])


def test_grad_of_vmap_first_and_second_order():
    """grad(vmap(f)) with loops in f, and the hessian of a vmap, in one
    build, against central differences of the NumPy loop over the rows
    (second order: differences of differences, h = 1e-4)."""
    xs, w = rng.normal(size=(3, 3)), 0.5 * rng.normal(size=(3, 3))

    def total(xs, w):
        return gnp.sum(gradc.vmap(loopy, in_axes=(0, None))(xs, w) ** 2)

    def total_np(xs, w):
        return np.sum(np.array([loopy_np(x, w) for x in xs]) ** 2)

    def cubic(w):
        return gnp.sum(gradc.vmap(smooth, in_axes=(0, None))(xs, w) ** 3)

    def cubic_np(w):
        return np.sum(np.array([smooth_np(x, w) for x in xs]) ** 3)

    @gradc.jit
    def both(xs, w):
        return gradc.grad(total, argnums=(0, 1))(xs, w), gradc.hessian(cubic)(w)

    (gx, gw), hw = both(xs, w)
    fd_close(gx, fd_grad(lambda a: total_np(a, w), xs))
    fd_close(gw, fd_grad(lambda a: total_np(xs, a), w))
    h = 1e-4
    want = np.zeros((3, 3, 3, 3))
    for i in np.ndindex(3, 3):
        for j in np.ndindex(3, 3):
            def at(a, b):
                d = np.zeros((3, 3))
                d[i] += a
                d[j] += b
                return cubic_np(w + d)
            want[i + j] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    close(hw, want, rtol=0, atol=2e-5 * max(1.0, np.abs(want).max()))
    close(hw, np.transpose(hw, (2, 3, 0, 1)), rtol=1e-10, atol=1e-10)


def test_jacfwd_of_vmap_and_vmap_of_jit():
    xs = rng.normal(size=(B, 3))
    inner = gradc.jit(lambda x: gnp.sin(x) * x.sum())
    jac = gradc.jacfwd(gradc.vmap(inner))(xs)
    want = np.zeros((B, 3, B, 3))
    for b in range(B):
        x = xs[b]
        want[b, :, b, :] = np.diag(np.cos(x) * x.sum()) + np.sin(x)[:, None]
    close(jac, want)


# ---------------------------------------------------------------------------
# Per-example gradients of an MLP
# ---------------------------------------------------------------------------


def mlp_loss(p, x, y):
    h = gnp.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    return -gnp.sum(y * (logits - gnn.logsumexp(logits)))


def mlp_loss_np(p, x, y):
    h = np.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    top = logits.max()
    return -np.sum(y * (logits - top - np.log(np.sum(np.exp(logits - top)))))


def test_per_example_gradients_of_an_mlp():
    p = {"w1": 0.5 * rng.normal(size=(5, 6)), "b1": 0.1 * rng.normal(size=6),
         "w2": 0.5 * rng.normal(size=(6, 3)), "b2": 0.1 * rng.normal(size=3)}
    x = rng.normal(size=(B, 5))
    y = np.eye(3)[rng.integers(0, 3, B)]
    per_example = gradc.vmap(gradc.grad(mlp_loss), in_axes=(None, 0, 0))(p, x, y)
    one = gradc.grad(mlp_loss)
    loop = [one(p, x[b], y[b]) for b in range(B)]
    for k in p:
        assert per_example[k].shape == (B, *p[k].shape)
        close(per_example[k], np.stack([g[k] for g in loop]), rtol=1e-10, atol=1e-12)
        for b in range(B):
            fd_close(per_example[k][b], fd_grad(lambda w: mlp_loss_np({**p, k: w}, x[b], y[b]), p[k]))


# ---------------------------------------------------------------------------
# in_axes, out_axes, axis_size, nesting, jit
# ---------------------------------------------------------------------------


def test_in_axes_out_axes_variants():
    """dict in_axes with a None leaf, a negative axis, keyword arguments
    (axis 0), out_axes as a tuple with a negative axis and a None for an
    unbatched result; inside jit."""
    a = rng.normal(size=(3, B))  # batched along axis -1
    d = {"u": rng.normal(size=(B, 2)), "s": rng.normal(size=2)}
    k = rng.normal(size=(B, 2))

    def f(a, d, k=None):
        return (a[:, None] * d["u"] + k, gnp.sum(d["s"] ** 2), d["u"].sum() * a)

    mapped = gradc.vmap(f, in_axes=(-1, {"u": 0, "s": None}), out_axes=(1, None, -1))
    first, invariant, last = gradc.jit(mapped)(a, d, k=k)
    rows = [f(a[:, b], {"u": d["u"][b], "s": d["s"]}, k[b]) for b in range(B)]
    close(first, np.stack([r[0] for r in rows], axis=1))
    close(invariant, np.sum(d["s"] ** 2))
    close(last, np.stack([r[2] for r in rows], axis=-1))


def test_axis_size_nested_vmap_and_eager_calls():
    x = rng.normal(size=(2, 3, 4))
    c = rng.normal(size=4)
    # vmap(vmap(f)): rows of rows; the inner one maps its second argument's axis 1.
    nested = gradc.vmap(gradc.vmap(lambda x, c: gnp.tanh(x * c).sum() + x[0], in_axes=(0, None)), in_axes=(0, None))
    close(nested(x, c), np.array([[np.tanh(r * c).sum() + r[0] for r in m] for m in x]))
    # axis_size with no mapped argument: every row is the same.
    constant = gradc.vmap(lambda c: c * 2.0, in_axes=None, axis_size=3)(c)
    close(constant, np.stack([c * 2.0] * 3))
    # out_axes on nested axes: the outer batch axis goes last.
    swapped = gradc.vmap(gradc.vmap(lambda x: x * 3.0), out_axes=-1)(x)
    close(swapped, np.moveaxis(x * 3.0, 0, -1))


def test_batched_indices_and_vmap_inside_a_differentiated_scan():
    """A batched integer index (the per-row scan of dynamic_slice) and a
    vmap in a scan body under grad, in one build."""
    x, idx = rng.normal(size=(5, 4)), np.array([3, 0, 2, 4], dtype=np.int32)
    xs, w = rng.normal(size=(3, 4)), rng.normal(size=2)

    def outer(w, xs):
        def step(c, row):
            y = gradc.vmap(lambda r: gnp.tanh(r * w).sum())(row.reshape(2, 2))
            return c + y.sum(), y
        return gradc.scan(step, 0.0, xs)[0]

    def outer_np(w):
        return sum(np.tanh(r.reshape(2, 2) * w).sum() for r in xs)

    @gradc.jit
    def both(x, idx, w, xs):
        picked = gradc.vmap(lambda x, i: x[i] * x[i - 1, 0], in_axes=(None, 0))(x, idx)
        return picked, gradc.value_and_grad(outer)(w, xs)

    picked, (value, g) = both(x, idx, w, xs)
    close(picked, np.stack([x[i] * x[i - 1, 0] for i in idx]))
    close(value, outer_np(w))
    fd_close(g, fd_grad(outer_np, w))


def test_random_draws_per_row_key_and_shared_key():
    """vmap over split keys draws each row with its own key, as JAX does;
    an unmapped key draws the same numbers for every row. Reference: the
    eager draws (gradc.random on NumPy arrays runs on NumPy)."""
    import gradc.random as gr

    keys = gr.split(gr.key(3), 4)
    x = rng.normal(size=(4, 3))

    def draw(k, x):
        return gr.uniform(k, (3,)) + gr.normal(k, (2,)).sum() * x, gr.bernoulli(k, 0.5, (3,))

    @gradc.jit
    def both(keys, x):
        return gradc.vmap(draw)(keys, x), gradc.vmap(draw, in_axes=(None, 0))(keys[0], x)

    (per_row, masks), (shared, shared_masks) = both(keys, x)
    want = [draw(k, r) for k, r in zip(keys, x)]
    close(per_row, np.stack([w[0] for w in want]), rtol=1e-12)
    np.testing.assert_array_equal(masks, np.stack([w[1] for w in want]))
    close(shared, np.stack([draw(keys[0], r)[0] for r in x]), rtol=1e-12)
    np.testing.assert_array_equal(shared_masks, np.stack([draw(keys[0], r)[1] for r in x]))


def test_cond_switch_and_while_loop_under_vmap():
    """Branches and data-dependent loops under vmap, as JAX batches them: a
    per-row predicate or index computes every branch and selects per row
    (so the untaken branch's NaN of sqrt/log at x < 0 must not reach the
    value or the per-row gradient); a shared predicate keeps one branch; a
    while with per-row trip counts runs until every row is done, finished
    rows keeping their carry. References: the same functions on NumPy
    scalars row by row, closed-form derivatives, and central differences."""
    from gradc import lax

    def piecewise(x):
        return lax.cond(x > 0, lambda v: gnp.sqrt(v) * gnp.log(v), lambda v: -v * v, x)

    def pick(k, x):
        return lax.switch(k, [lambda v: v + 1.0, lambda v: v * v, gnp.sin], x)

    def fixed_point(a):  # x = cos(a x), per-row trip counts
        def cond(c):
            return gnp.abs(gnp.cos(a * c[0]) - c[0]) > 1e-12

        return lax.while_loop(cond, lambda c: (gnp.cos(a * c[0]), c[1] + 1), (0.5, 0), max_steps=200)

    @gradc.jit
    def run(xs, ks, a, flag):
        return (gradc.vmap(piecewise)(xs), gradc.vmap(gradc.grad(piecewise))(xs), gradc.vmap(pick)(ks, xs),
                gradc.vmap(pick, in_axes=(None, 0))(flag, xs), gradc.vmap(fixed_point)(a),
                gradc.vmap(gradc.grad(lambda a: fixed_point(a)[0]))(a))

    xs = np.array([-2.0, -0.5, 0.25, 3.0])
    ks = np.array([-1, 0, 1, 7])
    a = np.array([0.2, 0.5, 0.8, 1.0])
    value, slope, picked, shared, (x, steps), dx_da = run(xs, ks, a, 1)
    pos = np.abs(xs)
    close(value, np.where(xs > 0, np.sqrt(pos) * np.log(pos), -xs * xs), rtol=1e-14)
    close(slope, np.where(xs > 0, np.log(pos) / (2 * np.sqrt(pos)) + 1 / np.sqrt(pos), -2 * xs), rtol=1e-13)
    branches = [lambda v: v + 1.0, lambda v: v * v, np.sin]
    close(picked, np.array([branches[min(max(k, 0), 2)](v) for k, v in zip(ks, xs)]), rtol=1e-14)
    close(shared, xs * xs, rtol=1e-14)
    want_steps = []
    for ai in a:  # the same iteration in Python floats
        c, n = 0.5, 0
        while abs(np.cos(ai * c) - c) > 1e-12:
            c, n = np.cos(ai * c), n + 1
        want_steps.append(n)
    np.testing.assert_array_equal(steps, want_steps)
    assert len(set(want_steps)) > 1  # rows really stop at different steps
    close(np.cos(a * x), x, atol=1e-11)
    close(dx_da, -x * np.sin(a * x) / (1 + a * np.sin(a * x)), rtol=1e-9)  # implicit differentiation
    fd = (gradc.vmap(fixed_point)(a + H)[0] - gradc.vmap(fixed_point)(a - H)[0]) / (2 * H)
    close(dx_da, fd, rtol=1e-5)


# ---------------------------------------------------------------------------
# Errors, located at the user's call
# ---------------------------------------------------------------------------


def f2(x, y):
    return x * y


def test_errors_are_located():
    x, y = np.ones((3, 2)), np.ones((4, 2))
    with pytest.raises(TraceError, match=r"in_axes \(0, 0, 0\) has 3 entries, but f2 was called with 2") as err:
        line = here() + 1
        gradc.vmap(f2, in_axes=[0, 0, 0])(x, x)
    assert_located(err, line)
    with pytest.raises(TraceError, match=r"args\[1\] is a leaf, but in_axes gives it the container \{.a.: 0\}") as err:
        line = here() + 1
        gradc.vmap(f2, in_axes=(0, {"a": 0}))(x, x)
    assert_located(err, line)
    with pytest.raises(TraceTypeError, match="in_axes must be an int, None, or a tuple, list or dict of those, got str"):
        gradc.vmap(f2, in_axes="0")
    with pytest.raises(TraceError, match=r"maps argument x along axis 2, but it is float64\[3, 2\] \(rank 2\); the axis must be in \[-2, 2\)") as err:
        line = here() + 1
        gradc.vmap(f2, in_axes=(2, 0))(x, x)
    assert_located(err, line)
    with pytest.raises(TraceError, match=r"different sizes: argument x \(float64\[3, 2\]\) has size 3 along axis 0; argument y \(float64\[4, 2\]\) has size 4 along axis 0") as err:
        line = here() + 1
        gradc.vmap(f2)(x, y)
    assert_located(err, line)
    with pytest.raises(TraceError, match=r"argument x \(float64\[0, 2\]\) has no rows along axis 0"):
        gradc.vmap(f2)(np.ones((0, 2)), np.ones((0, 2)))
    with pytest.raises(TraceError, match="no argument is mapped .*give axis_size"):
        gradc.vmap(f2, in_axes=None)(x, x)
    with pytest.raises(TraceError, match=r"out_axes is None for output, but it depends on the mapped arguments") as err:
        line = here() + 1
        gradc.vmap(f2, out_axes=None)(x, x)
    assert_located(err, line)
    with pytest.raises(TraceError, match=r"out_axes 3 for output\[0\] is out of range"):
        gradc.vmap(lambda x: (x, x), out_axes=(3, 0))(x)

    @gradc.jit
    def inside(x):
        return gradc.vmap(f2, in_axes=(0, 1))(x, x)

    with pytest.raises(TraceError, match=r"argument x \(float64\[3, 2\]\) has size 3 along axis 0; argument y \(float64\[3, 2\]\) has size 2 along axis 1") as err:
        line = here() + 1
        inside(x)
