"""Indexing beyond basic slices (issue #14): negative steps, NumPy's
advanced indexing with constant integer arrays and bool masks, take,
take_along_axis, np.<f> dispatch, and JAX's functional updates x.at[...]
(set, add, multiply, min, max, get).

Values against NumPy (np.add.at and kin for the updates), in float32 and
float64, compiled; first derivatives (reverse and vector-mode forward)
and second derivatives against central differences of the NumPy
expression; JAX's convention at ties of .min/.max (the derivative split
evenly among x and every tied update); located errors for bad keys. Each
table is one compiled function.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
from gradc import lax
from gradc.errors import GradcError, TraceError, TraceIndexError, TraceTypeError
import gradc.numpy as gnp
from tests.test_numpy_surface import _central, _central_hessian

rng = np.random.default_rng(1404)
X = rng.normal(size=(3, 4, 5))
M = rng.normal(size=(4, 5))
V = rng.normal(size=6)
MASK = np.array([True, False, True])
MASK2 = rng.normal(size=(4, 5)) > 0
COLS = np.array([[0, 3], [4, 4], [1, 0], [2, 2]])  # take_along_axis on M, axis 1


def _np_update(kind, x, key, v):
    """NumPy's reference for x.at[key].<kind>(v): fancy assignment (last
    write wins) for set, ufunc.at (every duplicate applied) for the rest."""
    y = np.array(x, copy=True)
    v = np.broadcast_to(np.asarray(v, y.dtype), y[key].shape)
    if kind in ("divide", "power"):  # JAX's definition: through the product of the updates
        factor = np.ones_like(y)
        np.multiply.at(factor, key, v)
        return y / factor if kind == "divide" else y**factor
    if kind == "set":
        flat = np.arange(y.size).reshape(y.shape)[key].reshape(-1)
        for p, value in zip(flat, v.reshape(-1)):  # row-major order: the last write wins
            y.reshape(-1)[p] = value
        return y
    {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}[kind].at(y, key, v)
    return y


# name: fn(xp, x3, m, v) -> array; xp is gnp for gradc, np for the reference
INDEX_CASES = {
    "reverse": lambda xp, x3, m, v: v[::-1],
    "reverse_step": lambda xp, x3, m, v: x3[2:0:-1, 5:1:-3, ::-2],
    "reverse_empty": lambda xp, x3, m, v: v[1:4:-1],
    "reverse_mixed": lambda xp, x3, m, v: x3[-1, ::-1, None, 1:4],
    "flip": lambda xp, x3, m, v: xp.flip(x3, axis=(0, 2)),
    "rot90": lambda xp, x3, m, v: xp.rot90(m, 3),
    "list": lambda xp, x3, m, v: v[[4, -1, 0, 0]],
    "array_2d": lambda xp, x3, m, v: m[np.array([[3, 0], [1, -4]])],
    "second_axis": lambda xp, x3, m, v: x3[:, [2, 0, 2]],
    "two_adjacent": lambda xp, x3, m, v: x3[:, [0, 3, 1], [4, 0, 2]],
    "broadcast": lambda xp, x3, m, v: x3[np.array([[0], [2]]), 1, np.array([0, 1, 4])],
    "separated": lambda xp, x3, m, v: x3[[0, 2], :, [1, 3]],
    "int_and_array_separated": lambda xp, x3, m, v: x3[1, 1:3, [0, 4, 4]],
    "ellipsis_none": lambda xp, x3, m, v: x3[..., None, [3, 3]],
    "none_between": lambda xp, x3, m, v: x3[[1, 0], None, [2, 2]],
    "reverse_and_array": lambda xp, x3, m, v: x3[::-1, [1, 2], ::2],
    "zero_d_array": lambda xp, x3, m, v: x3[np.array(2), 1:],
    "empty_list": lambda xp, x3, m, v: m[[], 1:3],
    "mask": lambda xp, x3, m, v: x3[MASK],
    "mask_2d": lambda xp, x3, m, v: m[MASK2],
    "mask_trailing": lambda xp, x3, m, v: x3[:, MASK2],
    "mask_and_int": lambda xp, x3, m, v: x3[MASK, :, 3],
    "bool_values": lambda xp, x3, m, v: (m > 0)[[1, 1], ::-1],
    "take_flat": lambda xp, x3, m, v: xp.take(x3, [59, 0, 7]),
    "take_axis": lambda xp, x3, m, v: xp.take(x3, [[4, 0], [1, 1]], axis=-1),
    "take_wrap": lambda xp, x3, m, v: xp.take(v, [7, -8], mode="wrap"),
    "take_clip": lambda xp, x3, m, v: xp.take(v, [9, -3], mode="clip"),
    "take_along_axis": lambda xp, x3, m, v: xp.take_along_axis(m, COLS, axis=1),
    "take_along_axis_0": lambda xp, x3, m, v: xp.take_along_axis(m, np.array([[3, 0, 0, 1, 2]]), axis=0),
    "take_along_none": lambda xp, x3, m, v: xp.take_along_axis(m, np.array([19, 0]), axis=None),
    "np.take": lambda xp, x3, m, v: np.take(x3, [1, 1], axis=1),
    "method_take": lambda xp, x3, m, v: m.take([[3, 0]], axis=0),
    "np.take_along_axis": lambda xp, x3, m, v: np.take_along_axis(x3, np.zeros((3, 1, 5), int), axis=1),
}

UPDATE_CASES = {  # name: (kind, key, values: a function of v, or a constant)
    "set_rows_duplicates": ("set", ([1, 3, 1],), lambda v: v[:3, None] * v[None, 1:]),
    "set_scalar": ("set", (0, slice(1, None, 2)), 2.5),
    "set_mask": ("set", (MASK2,), lambda v: v[0]),
    "add_duplicates": ("add", ([1, 3, 1],), lambda v: v[:3, None] * v[None, 1:]),
    "set_pairs_duplicates": ("set", ([0, 2, 0], [4, 1, 4]), lambda v: v[:3]),
    "add_column": ("add", (slice(None), -2), lambda v: v[:4]),
    "add_pairs": ("add", ([0, 0, 3], [1, 1, 4]), lambda v: v[:3]),
    "multiply": ("multiply", ([2, 2, 0],), lambda v: v[1:]),
    "divide": ("divide", ([2, 2, 0], 1), lambda v: v[1:4] + 3.0),
    "power": ("power", (slice(1, 3),), lambda v: v[None, :5] * 0.1 + 1.0),
    "min": ("min", (slice(None), [1, 1]), lambda v: v[1:5].reshape(4, 1)),
    "max": ("max", ([3, 3, 0],), lambda v: v[:5]),
    "max_reverse": ("max", (slice(None, None, -1), 0), 0.25),
}


def _update_case(xp, name, m, v):
    kind, key, values = UPDATE_CASES[name]
    vals = values(v) if callable(values) else values
    if kind == "power":
        m = m * m + 0.5  # a positive base: real powers
    if xp is np:
        return _np_update(kind, m, key, vals)
    return getattr(m.at[key], kind)(vals)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_numpy(dtype):
    x3, m, v = (a.astype(dtype) for a in (X, M, V))
    names, updates = list(INDEX_CASES), list(UPDATE_CASES)
    got = gradc.jit(lambda x3, m, v: (
        tuple(INDEX_CASES[n](gnp, x3, m, v) for n in names),
        tuple(_update_case(gnp, n, m, v) for n in updates),
        m.at[[2, 0]].get(),
    ))(x3, m, v)
    for name, g in zip(names, got[0], strict=True):
        want = INDEX_CASES[name](np, x3, m, v)
        assert g.shape == want.shape and g.dtype == want.dtype, (name, g.shape, want.shape, g.dtype)
        np.testing.assert_array_equal(g, want, err_msg=name)
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    for name, g in zip(updates, got[1], strict=True):
        want = _update_case(np, name, m, v)
        assert g.shape == want.shape and g.dtype == want.dtype, (name, g.dtype)
        np.testing.assert_allclose(g, want, rtol=rtol, atol=0, err_msg=name)
    np.testing.assert_array_equal(got[2], m[[2, 0]])


def test_untouched_elements_keep_their_bits():
    x = np.array([-0.0, np.nan, np.inf, 1.0])
    got = gradc.jit(lambda x: (x.at[3].add(1.0), x.at[3].max(0.0), x.at[3].multiply(2.0), x.at[3].set(5.0)))(x)
    for g in got:
        assert np.signbit(g[0]) and np.isnan(g[1]) and g[2] == np.inf, g


# ---------------------------------------------------------------------------
# Derivatives: p packs the arguments; fn(xp, p) -> array
# ---------------------------------------------------------------------------

P = rng.normal(size=26)


def _split(p):
    return p[:20].reshape(4, 5), p[20:]


def _update_of(name):
    def fn(xp, p):
        m, v = _split(p)
        return _update_case(xp, name, m, v)

    return fn


GRAD_CASES = {
    "reverse": lambda xp, p: xp.sin(p[20:1:-3]) * p[::-2][:7],
    "gather_duplicates": lambda xp, p: xp.sin(_split(p)[0][[1, 3, 1, 1], ::-1]),
    "two_separated": lambda xp, p: p[:24].reshape(2, 3, 4)[[1, 0, 1], :, [3, 3, 0]] ** 2,
    "mask": lambda xp, p: xp.exp(_split(p)[0][MASK2]),
    "take": lambda xp, p: xp.take(p, [25, 3, 3, -1]) * p[:4],
    "take_along_axis": lambda xp, p: xp.take_along_axis(_split(p)[0], COLS, axis=1) ** 3,
    **{f"at_{name}": _update_of(name) for name in UPDATE_CASES},
}


def test_first_derivatives_match_central_differences():
    names = list(GRAD_CASES)
    weights = {n: np.random.default_rng(len(n)).normal(size=np.shape(GRAD_CASES[n](np, P))) for n in names}

    def loss(name):
        return lambda p: gnp.sum(GRAD_CASES[name](gnp, p) * weights[name])

    grads = gradc.jit(lambda p: tuple(gradc.grad(loss(n))(p) for n in names))(P)
    for name, g in zip(names, grads, strict=True):
        want = _central(lambda q: np.sum(GRAD_CASES[name](np, q) * weights[name]), P, 1e-6)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8, err_msg=name)


JACOBIAN_CASES = ("reverse", "gather_duplicates", "two_separated", "at_set_rows_duplicates", "at_add_pairs", "at_max")


def test_jacobians_forward_and_reverse():
    """Vector-mode forward (batched JVPs) and reverse, against differences."""
    small = P.copy()
    jf, jr = gradc.jit(lambda p: (
        tuple(gradc.jacfwd(lambda q, n=n: GRAD_CASES[n](gnp, q))(p) for n in JACOBIAN_CASES),
        tuple(gradc.jacrev(lambda q, n=n: GRAD_CASES[n](gnp, q))(p) for n in JACOBIAN_CASES),
    ))(small)
    for name, f, r in zip(JACOBIAN_CASES, jf, jr, strict=True):
        out = GRAD_CASES[name](np, small)
        want = np.zeros(out.shape + small.shape)
        for i in range(small.size):
            up, down = small.copy(), small.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            want[..., i] = (GRAD_CASES[name](np, up) - GRAD_CASES[name](np, down)) / 2e-6
        np.testing.assert_allclose(f, want, rtol=1e-6, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(r, want, rtol=1e-6, atol=1e-8, err_msg=name)


SECOND_CASES = ("reverse", "gather_duplicates", "at_set_rows_duplicates", "at_add_duplicates", "at_multiply", "at_min")


def test_second_derivatives_match_central_differences():
    weights = {n: np.random.default_rng(len(n) + 1).normal(size=np.shape(GRAD_CASES[n](np, P))) for n in SECOND_CASES}

    def loss(xp, name, p):
        y = GRAD_CASES[name](xp, p)
        return xp.sum(y * y * weights[name])

    hessians = gradc.jit(lambda p: tuple(gradc.hessian(lambda q, n=n: loss(gnp, n, q))(p) for n in SECOND_CASES))(P)
    for name, h in zip(SECOND_CASES, hessians, strict=True):
        want = _central_hessian(lambda q: float(loss(np, name, q)), P)
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=2e-5, err_msg=name)


def test_ties_of_min_and_max_split_evenly_as_jax():
    """JAX's scatter max/min JVP: the tangent at a position is the average
    over x's element and every update equal to the result there."""
    def f(p):
        x, u = p[:3], p[3:]
        return (x.at[[0, 0, 1]].max(u[:3]), x.at[[2, 2]].min(u[3:]))

    p = np.array([1.0, 5.0, -1.0, 1.0, 1.0, 2.0, -1.0, 3.0])
    jmax, jmin = gradc.jit(gradc.jacrev(f))(p)
    want_max = np.zeros((3, 8))
    want_max[0, [0, 3, 4]] = 1 / 3  # x[0] and two updates tie at 1
    want_max[1, 1] = 1.0  # x[1] = 5 beats the update 2
    want_max[2, 2] = 1.0  # no update
    want_min = np.zeros((3, 8))
    want_min[0, 0], want_min[1, 1] = 1.0, 1.0
    want_min[2, [2, 6]] = 0.5  # x[2] = -1 ties the update -1; the update 3 loses
    np.testing.assert_array_equal(jmax, want_max)
    np.testing.assert_array_equal(jmin, want_min)


# ---------------------------------------------------------------------------
# Bad keys: located errors while tracing
# ---------------------------------------------------------------------------

BAD = [
    (lambda a: a[[0, 3]], TraceIndexError, r"index 3 is out of bounds for axis 0 with size 3"),
    (lambda a: a[:, [-5]], TraceIndexError, r"index -5 is out of bounds for axis 1 with size 4"),
    (lambda a: a[[0, 1], [0, 1, 2]], TraceIndexError, r"shape mismatch: indexing arrays could not be broadcast together with shapes \(2,\) \(3,\)"),
    (lambda a: a[np.array([True, False])], TraceIndexError, r"boolean index did not match indexed array along axis 0; size of axis is 3 but size of corresponding boolean axis is 2"),
    (lambda a: a[[0.5]], TraceIndexError, r"arrays used as indices must be of integer \(or boolean\) type, got float64"),
    (lambda a: a[::0], TraceIndexError, r"slice step cannot be zero"),
    (lambda a: a[True], TraceIndexError, r"a bool scalar"),
    (lambda a: a[a[0, 0]], TraceIndexError, r"a traced float64 scalar as an index, not computed from the index of a fori_loop"),
    (lambda a: a[a[0]], TraceIndexError, r"a traced float64 array \(4,\) as an index: arrays used as indices must be of integer type"),
    (lambda a: a[[a[0, 0]]], TraceIndexError, r"an index list holding traced arrays: make it one integer array first"),
    (lambda a: gnp.take(a, [12]), TraceIndexError, r"index 12 is out of bounds for axis 0 with size 12"),
    (lambda a: gnp.take(a, [1], axis=2), TraceError, r"take: axis 2 is out of range"),
    (lambda a: gnp.take(np.ones(5), a[0, :2]), TraceIndexError, r"take: indices must be integers, got a traced float64"),
    (lambda a: gnp.take(a, [0], mode="fill"), TraceError, r"take: mode must be 'raise', 'wrap' or 'clip'"),
    (lambda a: gnp.take_along_axis(a, np.array([0]), axis=0), TraceIndexError, r"same number of dimensions"),
    (lambda a: gnp.take_along_axis(a, np.zeros((2, 3), int), axis=0), TraceIndexError, r"do not broadcast"),
    (lambda a: a.at[3].set(1.0), TraceIndexError, r"x.at\[3\]: index 3 is out of bounds for axis 0 with size 3"),
    (lambda a: a.at[:, 1].set(np.ones(4)), TraceError, r"values of shape \(4,\) do not broadcast to the indexed shape \(3,\)"),
    (lambda a: a.at[0].add(1.0, mode="drop"), TraceError, r"mode='drop' is not supported"),
    (lambda a: (a > 0).at[0].add(True), TraceTypeError, r"needs a float32 or float64 array, got bool"),
    (lambda a: a.at[a[0, 0]].set(1.0), TraceIndexError, r"a traced float64 scalar as an index, not computed"),
    (lambda a: a.at[a[0] > 0].set(1.0), TraceIndexError, r"a traced bool array \(4,\) as a mask"),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_bad_keys_are_located_errors(k):
    fn, kind, message = BAD[k]
    with pytest.raises(kind, match=message) as info:
        gradc.jit(fn)(np.ones((3, 4)))
    assert isinstance(info.value, GradcError)
    assert "test_indexing_advanced.py" in str(info.value)


# ---------------------------------------------------------------------------
# Traced indices: the index of a fori_loop (dynamic slices and updates)
# ---------------------------------------------------------------------------

XS = rng.normal(size=(5, 3))


def _loop_program(xp, xs):
    """What a JAX user writes: read xs[i], write out.at[i]; and the same with
    NumPy in a Python loop (the reference)."""
    if xp is np:
        out, acc = np.zeros((5, 3)), np.zeros(2)
        for i in range(5):
            out[i] = np.sin(xs[i]) * xs[i, 0] + out[i - 1]
            out[i, 1:] += xs[-1 - i, :2] ** 2
            out[min(i + 1, 4), 0] = max(out[min(i + 1, 4), 0], xs[i, 2])
            start = min((i - 1) % 5, 3)  # JAX's lax: a negative start wraps once, then it is clamped
            acc = acc * 0.5 + xs[start : start + 2, 1]
        return out, acc

    def body(i, carry):
        out, acc = carry
        out = out.at[i].set(gnp.sin(xs[i]) * xs[i, 0] + out[i - 1])
        out = out.at[i, 1:].add(lax.dynamic_index_in_dim(xs, -1 - i, 0, keepdims=False)[:2] ** 2)
        out = out.at[gnp.minimum(i + 1, 4), 0].max(xs[i, 2])
        acc = acc * 0.5 + lax.dynamic_slice(xs, (i - 1, 1), (2, 1))[:, 0]
        return out, acc

    return gradc.fori_loop(0, 5, body, (gnp.zeros((5, 3)), gnp.zeros(2)))


def test_dynamic_indexing_values():
    (out, acc), extra = gradc.jit(lambda xs: (_loop_program(gnp, xs), gradc.fori_loop(0, 3, lambda i, c: (
        c[0].at[i + 3].set(9.0),  # i + 3 >= 5 drops the update, as JAX's scatter does
        lax.dynamic_update_slice(c[1], gnp.ones((2, 2)) * i, (i + 2, -2)),  # wraps, then clamps
        lax.dynamic_update_index_in_dim(c[2], xs[i, :2], i, 1),
        c[3] + lax.dynamic_slice_in_dim(xs, i * 2, 2, axis=0)), (xs, xs, xs[:2], gnp.zeros((2, 3))))))(XS)
    want_out, want_acc = _loop_program(np, XS)
    np.testing.assert_allclose(out, want_out, rtol=1e-15)
    np.testing.assert_allclose(acc, want_acc, rtol=1e-15)
    dropped, placed, columns, window = extra
    np.testing.assert_array_equal(dropped, np.where(np.arange(5)[:, None] >= 3, 9.0, XS))
    want = XS.copy()
    for i in range(3):
        start = min(i + 2, 3)
        want[start : start + 2, 1:3] = i
    np.testing.assert_array_equal(placed, want)
    want = XS[:2].copy()
    for i in range(3):
        want[:, i] = XS[i, :2]
    np.testing.assert_array_equal(columns, want)
    np.testing.assert_allclose(window, XS[0:2] + XS[2:4] + XS[3:5], rtol=1e-15)


def test_dynamic_indexing_derivatives():
    """The loop program's Jacobian, forward (vector mode) and reverse, and
    the Hessian of a loss of a smaller loop, against central differences;
    one build."""
    def flat(xp, xs):
        out, acc = _loop_program(xp, xs)
        return xp.concatenate([out.reshape(-1), acc])

    def loss(xp, xs):  # out.at[i].set(f(xs[i], out[i - 1])), summed
        if xp is np:
            out = np.zeros((3, 2))
            for i in range(3):
                out[i] = np.sin(xs[i]) * out[i - 1, ::-1] + xs[i, 0] ** 2
            return np.sum(out * out)
        body = lambda i, out: out.at[i].set(gnp.sin(xs[i]) * out[i - 1, ::-1] + xs[i, 0] ** 2)  # noqa: E731
        out = gradc.fori_loop(0, 3, body, gnp.zeros((3, 2)))
        return gnp.sum(out * out)

    small = XS[:3, :2]
    jf, jr, hess = gradc.jit(lambda xs, small: (
        gradc.jacfwd(lambda q: flat(gnp, q))(xs),
        gradc.jacrev(lambda q: flat(gnp, q))(xs),
        gradc.hessian(lambda q: loss(gnp, q))(small),
    ))(XS, small)
    want = np.zeros((17, *XS.shape))
    for i in np.ndindex(XS.shape):
        up, down = XS.copy(), XS.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        want[(slice(None), *i)] = (flat(np, up) - flat(np, down)) / 2e-6
    np.testing.assert_allclose(jf, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jr, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hess, _central_hessian(lambda q: float(loss(np, q)), small), rtol=1e-5, atol=2e-5)


def test_integer_arguments_index_as_jax_does():
    """x[i], x.at[i] and lax.dynamic_slice with i an int32 or int64 argument
    (clamped as integers in the C): a negative i wraps once, then the start
    is clamped so the window fits; x.at[i] out of range drops the update;
    the gradient flows to x only. One build per index dtype."""
    x = XS[:4]

    def program(x, i):
        return (x[i], x[i, 1:] * 2.0, lax.dynamic_slice(x, (i, i), (2, 2)),
                x.at[i].add(1.0), gradc.grad(lambda q: gnp.sum(q[i] ** 2))(x))

    def start(i, size, window):
        i = i + size if i < 0 else i
        return min(max(i, 0), size - window)

    for dtype in (np.int32, np.int64):
        f = gradc.jit(program)
        for i in (-6, -4, -1, 0, 2, 3, 4, 9):
            row, tail, window, added, grad = f(x, dtype(i))
            r = start(i, 4, 1)
            np.testing.assert_array_equal(row, x[r])
            np.testing.assert_array_equal(tail, x[r, 1:] * 2.0)
            a, b = start(i, 4, 2), start(i, 3, 2)
            np.testing.assert_array_equal(window, x[a:a + 2, b:b + 2])
            want = x.copy()
            if -4 <= i < 4:  # in range after one wrap: applied, else dropped
                want[i] += 1.0
            np.testing.assert_array_equal(added, want)
            want = np.zeros_like(x)
            want[r] = 2 * x[r]
            np.testing.assert_array_equal(grad, want)


DYNAMIC_BAD = [
    (lambda a: lax.dynamic_slice(a, (0,), (1, 1)), TraceIndexError, r"dynamic_slice: needs one start index per dimension"),
    (lambda a: lax.dynamic_slice(a, (0, 0), (4, 1)), TraceIndexError, r"slice_sizes \(4, 1\) must fit the operand's shape \(3, 4\)"),
    (lambda a: lax.dynamic_update_slice(a, np.ones((1, 5)), (0, 0)), TraceIndexError, r"update of shape \(1, 5\) does not fit"),
    (lambda a: gradc.fori_loop(0, 2, lambda i, c: c.at[i, ::2].set(1.0), a), TraceIndexError,
     r"with a traced index, the other entries of the key must be ints, unit-step slices"),
    (lambda a: gradc.fori_loop(0, 2, lambda i, c: c + a[a[0, 0], [0, 1]].sum(), a), TraceIndexError,
     r"a traced array \(\) float64 as an index: its value is not known while tracing: index with integers"),
    (lambda a: gradc.fori_loop(0, 2, lambda i, c: c + a[i : i + 2].sum(), a), TraceIndexError,
     r"as a slice bound.*gradc.lax.dynamic_slice_in_dim\(x, i, k, axis\)"),
    (lambda a: lax.dynamic_slice(a, (a[0, 0], 0), (1, 1)), TraceIndexError,
     r"a traced float64 scalar as an index, not computed from the index of a fori_loop"),
]


@pytest.mark.parametrize("k", range(len(DYNAMIC_BAD)))
def test_bad_dynamic_indices_are_located_errors(k):
    fn, kind, message = DYNAMIC_BAD[k]
    with pytest.raises(kind, match=message) as info:
        gradc.jit(fn)(np.ones((3, 4)))
    assert "test_indexing_advanced.py" in str(info.value)
