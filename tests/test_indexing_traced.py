"""Indexing with index arrays computed at run time (traced int32/int64
arrays passed to jit): x[idx] with NumPy's advanced-indexing placement,
take, take_along_axis, gradc.nn.one_hot, x.at[idx].add/.set.

Values against NumPy (np.add.at for add, the last write in row-major order
for set) and against JAX's documented out-of-range behaviour written here
with NumPy (reads: negative indices wrap once, then clamp; take and
take_along_axis fill with NaN by default; updates out of range dropped);
first derivatives (reverse, vector-mode forward and reverse) and second
derivatives against central differences; located errors for bad input.
Each test is one compiled function.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
import gradc.nn
import gradc.numpy as gnp
from gradc.errors import GradcError, TraceError, TraceIndexError, TraceTypeError
from tests.test_numpy_surface import _central, _central_hessian

rng = np.random.default_rng(1414)
X3 = rng.normal(size=(3, 4, 5))
M = rng.normal(size=(4, 5))
V = rng.normal(size=(6, 5))
LAB = np.array([0, 4, -1, 2], np.int32)  # in range for an axis of 5 (one negative)
ROWS = np.array([[1, 3], [3, -4]], np.int64)  # in range for an axis of 4
I = np.array([2, 0, 2], np.int32)  # axis 0 of X3, duplicated
J = np.array([4, -5, 1], np.int64)
BIG = np.array([7, -9, 3, -2, 5, -6], np.int32)  # against an axis of 5: 7 and 5 past the end, -9 and -6 before
UPD = np.array([1, 3, 3, -1, 9, -7], np.int64)  # rows of M: duplicates (3, 3), a wrap (-1 -> 3), drops (9, -7)


def _read(idx, n):
    """jnp's x[idx] position along an axis of n: wrap once, then clamp."""
    idx = np.asarray(idx, np.int64)
    return np.clip(np.where(idx < 0, idx + n, idx), 0, n - 1)


def _filled(values, idx, n, axis_shape):
    ok = ((idx >= -n) & (idx < n)).reshape(axis_shape)
    return np.where(ok, values, np.nan)


def _scatter(kind, x, rows, v):
    """JAX's x.at[rows].<kind> along axis 0: negative rows wrap once, rows
    out of range dropped, the last of duplicated set rows wins."""
    y = x.copy()
    n = x.shape[0]
    combine = {"add": np.add, "set": lambda old, u: u, "multiply": np.multiply, "max": np.maximum}[kind]
    for r, u in zip(np.asarray(rows), v):
        r = r + n if r < 0 else r
        if 0 <= r < n:
            y[r] = combine(y[r], u)
    return y


def _log_softmax(xp, a):
    return a - xp.log(xp.sum(xp.exp(a), axis=1, keepdims=True))


def _program(m, x3, v, lab, rows, i, j, big, upd):
    return {
        "arange_labels": m[gnp.arange(4), lab],
        "rows_2d": m[rows],
        "separated": x3[i, :, j],
        "adjacent": x3[:, i[:2], j[:2]],
        "mixed_constant_slice": x3[i, 1:3, [0, 2, 4]],
        "broadcast": m[rows[:, :1], lab[None, :3]],
        "ellipsis": x3[..., j],
        "scalar_and_array": x3[lab[1] - 3, :, j],
        "slices_reversed": m[::-1, lab],
        "clamped": m[:, big],
        "take_fill": gnp.take(m, big, axis=1),
        "take_clip": gnp.take(m, big, axis=1, mode="clip"),
        "take_wrap": gnp.take(m, big, axis=1, mode="wrap"),
        "take_flat": gnp.take(m, big * 3, fill_value=-1.0),
        "along_fill": gnp.take_along_axis(m, big[:4, None], axis=1),
        "along_clip": gnp.take_along_axis(m, big[:4, None], axis=1, mode="clip"),
        "one_hot": gradc.nn.one_hot(lab, 5),
        "one_hot_f32": gradc.nn.one_hot(rows, 4, dtype=gnp.float32, axis=0),
        "at_add": m.at[upd].add(v),
        "at_set": m.at[upd].set(v),
        "at_add_columns": m.at[:, lab].add(v[:4, :4]),
        "at_multiply": m.at[upd].multiply(v),
        "at_min_columns": m.at[:, lab].min(v[:4, :4]),
        "at_max_2d": x3.at[i, :, j].max(v[:3, :4]),
        "at_divide": m.at[upd].divide(v),
        "at_set_scalar": m.at[upd, lab[1]].set(2.0),
        "histogram": (m[:, 0] * 0.0).at[upd].add(1.0),
        "at_get": m.at[rows].get(),
        "loop_index_and_array": gradc.fori_loop(0, 3, lambda k, c: c + x3[k, :, [0, 4]], gnp.zeros((2, 4), x3.dtype)),
        "loop_index_at": gradc.fori_loop(0, 2, lambda k, c: c.at[k, [0, 1]].add(1.0), m),
    }


def _reference(m, x3, v, lab, rows, i, j, big, upd):
    f = {}
    f["arange_labels"] = m[np.arange(4), lab]
    f["rows_2d"] = m[rows]
    f["separated"] = x3[i, :, j]
    f["adjacent"] = x3[:, i[:2], j[:2]]
    f["mixed_constant_slice"] = x3[i, 1:3, [0, 2, 4]]
    f["broadcast"] = m[rows[:, :1], lab[None, :3]]
    f["ellipsis"] = x3[..., j]
    f["scalar_and_array"] = x3[lab[1] - 3, :, j]
    f["slices_reversed"] = m[::-1, lab]
    f["clamped"] = m[:, _read(big, 5)]
    f["take_fill"] = _filled(m[:, _read(big, 5)], big, 5, (1, -1))
    f["take_clip"] = m[:, np.clip(big, 0, 4)]  # mode='clip' clamps without wrapping, as NumPy's and jnp's
    f["take_wrap"] = m[:, big % 5]
    flat = np.where((big * 3 >= -20) & (big * 3 < 20), m.reshape(-1)[_read(big * 3, 20)], -1.0)
    f["take_flat"] = flat
    f["along_fill"] = _filled(m[np.arange(4), _read(big[:4], 5)][:, None], big[:4, None], 5, (4, 1))
    f["along_clip"] = m[np.arange(4), _read(big[:4], 5)][:, None]
    f["one_hot"] = (lab[:, None] == np.arange(5)).astype(np.float64)
    f["one_hot_f32"] = (rows[None] == np.arange(4)[:, None, None]).astype(np.float32)
    f["at_add"] = _scatter("add", m, upd, v)
    f["at_set"] = _scatter("set", m, upd, v)
    cols = m.T.copy()
    np.add.at(cols, lab, v[:4, :4].T)
    f["at_add_columns"] = cols.T
    rows_in = np.where(upd < 0, upd + 4, upd)[(upd >= -4) & (upd < 4)]
    vin = v[(upd >= -4) & (upd < 4)]
    mul = m.copy()
    np.multiply.at(mul, rows_in, vin)
    f["at_multiply"] = mul
    low = m.T.copy()
    np.minimum.at(low, lab, v[:4, :4].T)
    f["at_min_columns"] = low.T
    high = x3.copy()
    np.maximum.at(high, (i, slice(None), j), v[:3, :4])
    f["at_max_2d"] = high
    factor = np.ones_like(m)
    np.multiply.at(factor, rows_in, vin)
    f["at_divide"] = m / factor
    at = m.copy()
    for r in upd:  # lab[1] = 4
        if -4 <= r < 4:
            at[r, 4] = 2.0
    f["at_set_scalar"] = at
    f["histogram"] = np.bincount(np.where(upd < 0, upd + 4, upd)[(upd >= -4) & (upd < 4)], minlength=4).astype(float)
    f["at_get"] = m[rows]
    f["loop_index_and_array"] = sum(x3[k, :, [0, 4]] for k in range(3))
    looped = m.copy()
    looped[:2, :2] += 1.0
    f["loop_index_at"] = looped
    return f


INDICES = (LAB, ROWS, I, J, BIG, UPD)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_values_match_numpy_and_jax_out_of_range_rules(dtype):
    m, x3, v = (a.astype(dtype) for a in (M, X3, V))
    got = gradc.jit(_program)(m, x3, v, *INDICES)
    want = _reference(M, X3, V, *INDICES)
    assert sorted(got) == sorted(want)
    for name in want:
        g = np.asarray(got[name])
        w = np.asarray(want[name])
        assert g.shape == w.shape, name
        expect_dtype = np.float32 if name == "one_hot_f32" else (np.float64 if name == "one_hot" else dtype)
        assert g.dtype == expect_dtype, name
        np.testing.assert_allclose(g, w, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-6 if dtype == np.float32 else 0, err_msg=name)


# ---------------------------------------------------------------------------
# Derivatives: p holds M (20) and V[:4] (20); the index arrays are traced
# ---------------------------------------------------------------------------

P = np.concatenate([M.reshape(-1), V[:4].reshape(-1)])
LABELS = np.array([1, 4, 4, 0], np.int32)
TOKENS = np.array([[2, 2], [0, -1], [3, 2]], np.int64)
SET_ROWS = np.array([2, 0, 2, 5], np.int32)  # a duplicate (the last wins) and a drop


def _parts(p):
    return p[:20].reshape(4, 5), p[20:].reshape(4, 5)


GRAD_CASES = {
    "cross_entropy": lambda xp, p, ix: -xp.mean(_log_softmax(xp, _parts(p)[0])[np.arange(4), ix["labels"]]),
    "along_axis": lambda xp, p, ix: _take_along(xp, xp.tanh(_parts(p)[0]), ix["labels"]) ** 2,
    "one_hot_loss": lambda xp, p, ix: xp.sum(_one_hot(xp, ix["labels"]) * _log_softmax(xp, _parts(p)[0] ** 2)),
    "embedding": lambda xp, p, ix: xp.sin(_parts(p)[0][ix["tokens"]]),
    "clamped_read": lambda xp, p, ix: _parts(p)[0][:, _read(ix["big"], 5) if xp is np else ix["big"]] ** 3,
    "at_add": lambda xp, p, ix: _at(xp, "add", xp.cos(_parts(p)[0]), ix["set_rows"], _parts(p)[1] ** 2),
    "at_set": lambda xp, p, ix: _at(xp, "set", _parts(p)[0] ** 2, ix["set_rows"], xp.exp(_parts(p)[1])),
    "at_multiply": lambda xp, p, ix: _at(xp, "multiply", _parts(p)[0], ix["set_rows"], xp.sin(_parts(p)[1])),
    "at_max": lambda xp, p, ix: _at(xp, "max", _parts(p)[0], ix["set_rows"], _parts(p)[1] * 1.5),
}


def _take_along(xp, a, labels):
    if xp is np:
        return np.take_along_axis(a, np.asarray(labels)[:, None], axis=1)
    return gnp.take_along_axis(a, labels[:, None], axis=1)


def _one_hot(xp, labels):
    return (np.asarray(labels)[:, None] == np.arange(5)).astype(float) if xp is np else gradc.nn.one_hot(labels, 5)


def _at(xp, kind, x, rows, v):
    if xp is np:
        return _scatter(kind, x, rows, v)
    return getattr(x.at[rows], kind)(v)


IX = {"labels": LABELS, "tokens": TOKENS, "big": BIG[:3], "set_rows": SET_ROWS}


def _traced(fn):
    """fn(p, ix) as a jit function of p and the index arrays (traced)."""
    names = list(IX)
    return lambda p, *arrays: fn(p, dict(zip(names, arrays)))


def _weights(name):
    return np.random.default_rng(len(name)).normal(size=np.shape(GRAD_CASES[name](np, P, IX)))


def test_first_derivatives_match_central_differences():
    names = list(GRAD_CASES)
    weights = {n: _weights(n) for n in names}
    grads = gradc.jit(_traced(lambda p, ix: tuple(
        gradc.grad(lambda q, n=n: gnp.sum(GRAD_CASES[n](gnp, q, ix) * weights[n]))(p) for n in names
    )))(P, *IX.values())
    for name, g in zip(names, grads, strict=True):
        want = _central(lambda q: np.sum(GRAD_CASES[name](np, q, IX) * weights[name]), P, 1e-6)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8, err_msg=name)


def test_jacobians_forward_and_reverse():
    """Vector mode: jacfwd (batched JVPs) and jacrev (batched VJPs)."""
    names = ("embedding", "clamped_read", "at_set", "at_multiply", "at_max")
    jf, jr = gradc.jit(_traced(lambda p, ix: (
        tuple(gradc.jacfwd(lambda q, n=n: GRAD_CASES[n](gnp, q, ix))(p) for n in names),
        tuple(gradc.jacrev(lambda q, n=n: GRAD_CASES[n](gnp, q, ix))(p) for n in names),
    )))(P, *IX.values())
    for name, f, r in zip(names, jf, jr, strict=True):
        out = GRAD_CASES[name](np, P, IX)
        want = np.zeros(out.shape + P.shape)
        for k in range(P.size):
            up, down = P.copy(), P.copy()
            up[k] += 1e-6
            down[k] -= 1e-6
            want[..., k] = (GRAD_CASES[name](np, up, IX) - GRAD_CASES[name](np, down, IX)) / 2e-6
        np.testing.assert_allclose(f, want, rtol=1e-6, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(r, want, rtol=1e-6, atol=1e-8, err_msg=name)


def test_second_derivatives_match_central_differences():
    names = ("cross_entropy", "at_set", "at_multiply")
    small = P[::4].copy()  # fewer differences: the rest of p fixed
    weights = {n: _weights(n) for n in names}

    def loss(xp, name, q, ix):
        rest = P.reshape(10, 4)[:, 1:]
        full = (xp.concatenate if xp is gnp else np.concatenate)([q[:, None], rest], axis=1).reshape(-1)
        y = GRAD_CASES[name](xp, full, ix)
        return xp.sum(y * y * weights[name])

    hessians = gradc.jit(_traced(lambda p, ix: tuple(
        gradc.hessian(lambda q, n=n: loss(gnp, n, q, ix))(p) for n in names
    )))(small, *IX.values())
    for name, h in zip(names, hessians, strict=True):
        want = _central_hessian(lambda q: float(loss(np, name, q, IX)), small)
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=2e-5, err_msg=name)


def test_duplicates_and_clamped_reads_follow_jax():
    """.set: only the last of duplicated rows gets a derivative, and the
    row it replaced none; .add: every duplicate gets the cotangent; a
    clamped read sends its derivative to the element it read."""
    def f(x, v, rows, cols):
        return gnp.sum(x.at[rows].set(v) * 2.0) + gnp.sum(x.at[rows].add(v)) + gnp.sum(x[cols] * 10.0)

    x, v = np.arange(4.0), np.array([5.0, 6.0, 7.0])
    rows, cols = np.array([1, 1, 8], np.int32), np.array([-1, 9, -7], np.int64)
    gx, gv = gradc.jit(gradc.grad(f, argnums=(0, 1)))(x, v, rows, cols)
    # x: 2 where no set lands (0, 2, 3), 0 at 1; +1 from add everywhere; reads 3, 3 and 0 (clamped)
    np.testing.assert_array_equal(gx, [2.0 + 1 + 10, 0.0 + 1, 2.0 + 1, 2.0 + 1 + 20])
    # v: set row 0 loses to row 1, row 2 is dropped; add: every in-range row
    np.testing.assert_array_equal(gv, [0.0 + 1, 2.0 + 1, 0.0])


# ---------------------------------------------------------------------------
# Bad input: located errors while tracing
# ---------------------------------------------------------------------------

BAD = [
    (lambda a, k: a[a[0]], TraceIndexError, r"a traced float64 array \(4,\) as an index: arrays used as indices must be of integer type"),
    (lambda a, k: a[a > 0], TraceIndexError, r"a traced bool array \(3, 4\) as a mask"),
    (lambda a, k: a[k, [0, 1]], TraceIndexError, r"shape mismatch: indexing arrays could not be broadcast together"),
    (lambda a, k: gnp.take(a, a[0, :2]), TraceIndexError, r"take: indices must be integers, got a traced float64"),
    (lambda a, k: gnp.take(a, k, mode="raise"), TraceError, r"take: mode must be one of 'fill', 'clip', 'wrap' or None"),
    (lambda a, k: gnp.take_along_axis(a, k, axis=1), TraceIndexError, r"same number of dimensions, got 1 and 2"),
    (lambda a, k: gnp.take_along_axis(a, k[:, None], axis=1, mode="wrap"), TraceError, r"mode must be one of 'fill', 'clip'"),
    (lambda a, k: gradc.nn.one_hot(a[0], 3), TraceTypeError, r"one_hot: labels must be integers, got a traced float64"),
    (lambda a, k: a.at[k].add(np.ones(3)), TraceError, r"values of shape \(3,\) do not broadcast to the indexed shape \(3, 4\)"),
    (lambda a, k: a.at[k].min(a[:2]), TraceError, r"values of shape \(2, 4\) do not broadcast to the indexed shape \(3, 4\)"),
    (lambda a, k: a.at[k, 1:3].add(1.0), TraceIndexError, r"the other entries of the key must be full slices"),
    (lambda a, k: a.at[k, 5].add(1.0), TraceIndexError, r"index 5 is out of bounds for axis 1 with size 4"),
]


@pytest.mark.parametrize("n", range(len(BAD)))
def test_bad_input_is_a_located_error(n):
    fn, kind, message = BAD[n]
    with pytest.raises(kind, match=message) as info:
        gradc.jit(fn)(np.ones((3, 4)), np.array([0, 2, 1], np.int32))
    assert isinstance(info.value, GradcError)
    assert "test_indexing_traced.py" in str(info.value)


def test_gnp_zeros_has_at_while_traced_as_jnp_zeros():
    """`gnp.zeros(k).at[labels].add(w)` (a weighted bincount) as a JAX user
    writes it: while traced, gnp.zeros/ones/full/empty return traced
    constants with `.at`; outside a trace they stay NumPy arrays. One build."""
    labels = np.array([0, 2, 2, 1, 2, 4], np.int32)
    w = np.linspace(0.5, 1.5, 6)

    def program(w, labels):
        counts = gnp.zeros(5).at[labels].add(w)
        filled = gnp.full((2, 5), 7.0).at[1, labels].set(w)
        return counts, filled, gradc.grad(lambda q: gnp.sum(gnp.ones(5).at[labels].multiply(q) ** 2))(w)

    counts, filled, grad = gradc.jit(program)(w, labels)
    np.testing.assert_allclose(counts, np.bincount(labels, w, 5), rtol=1e-15)
    want = np.full((2, 5), 7.0)
    want[1, labels] = w  # NumPy's assignment: the last duplicate wins, as gradc's
    np.testing.assert_array_equal(filled, want)
    products = np.ones(5)
    np.multiply.at(products, labels, w)
    want = np.array([2 * products[l] ** 2 / wi for l, wi in zip(labels, w, strict=True)])
    np.testing.assert_allclose(grad, want, rtol=1e-13)
    assert type(gnp.zeros(3)) is np.ndarray
    with pytest.raises(TraceTypeError, match=r"x = x.at\[i\].set\(v\)"):
        gradc.jit(lambda w: gnp.zeros(6).__setitem__(0, w[0]))(w)
