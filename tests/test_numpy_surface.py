"""The NumPy surface of issue #14 that gradc.numpy builds from existing ops
(gnp.array, joining and splitting, flips and rolls, padding, diagonals,
var/std/average/prod/any/all/cumsum/cumprod, outer/inner/vdot/kron/trace,
gnp.linalg.norm): values against NumPy in float32 and float64 under
gradc.jit, first derivatives against central differences of the NumPy
function, second derivatives of the nonlinear ones likewise, derivatives
at zeros against NumPy-computed products and JAX's NaN conventions, and
bad input as a located GradcError. Each table is one compiled function.
"""

from __future__ import annotations


import numpy as np
import pytest

import gradc
from gradc.errors import GradcError, TraceAttributeError, TraceError, TraceTypeError
import gradc.numpy as gnp

rng = np.random.default_rng(1414)
X3 = rng.normal(size=(3, 4, 5))
M = rng.normal(size=(4, 5))
V = rng.normal(size=7)
W45 = rng.uniform(0.5, 2.0, size=(4, 5))
INF = np.inf

# Each case is called as fn(xp, x3, m, v) with xp = gradc.numpy (traced
# arguments) and xp = numpy (the reference); cases spelled np.<f> or as a
# method run NumPy's dispatch to gnp on the traced side.
VALUE_CASES = {
    "array_pair": lambda xp, x3, m, v: xp.array([m[0, 0], m[1, 2]]),
    "array_nested": lambda xp, x3, m, v: xp.array([[m[0, 0], 2.0], [v[1], m[3, 4]]]),
    "array_rows": lambda xp, x3, m, v: xp.array([m[0], m[1] * 2, m[2]]),
    "array_dtype": lambda xp, x3, m, v: xp.array((v[0], v[3]), dtype=xp.float64),
    "concatenate_none": lambda xp, x3, m, v: xp.concatenate([m, v], axis=None),
    "hstack": lambda xp, x3, m, v: xp.hstack([m, m[:, :2]]),
    "hstack_1d": lambda xp, x3, m, v: xp.hstack([v, v[:3]]),
    "vstack": lambda xp, x3, m, v: xp.vstack([m, m[:1]]),
    "vstack_1d": lambda xp, x3, m, v: xp.vstack([m[0], m[1]]),
    "dstack": lambda xp, x3, m, v: xp.dstack([m, m * 2]),
    "column_stack": lambda xp, x3, m, v: xp.column_stack([v[:4], m[:, :2]]),
    "append_none": lambda xp, x3, m, v: xp.append(m, v),
    "append_axis": lambda xp, x3, m, v: xp.append(m, m[:2], axis=0),
    "split_int": lambda xp, x3, m, v: xp.split(x3, 5, axis=2),
    "split_indices": lambda xp, x3, m, v: xp.split(v, [2, 5]),
    "split_negative_past_end": lambda xp, x3, m, v: xp.split(v, [-3, 10]),
    "array_split": lambda xp, x3, m, v: xp.array_split(v, 3),
    "array_split_axis": lambda xp, x3, m, v: xp.array_split(x3, 3, axis=-1),
    "moveaxis": lambda xp, x3, m, v: xp.moveaxis(x3, 0, -1),
    "moveaxis_many": lambda xp, x3, m, v: xp.moveaxis(x3, [0, 1], [-1, 0]),
    "swapaxes": lambda xp, x3, m, v: xp.swapaxes(x3, 0, 2),
    "atleast_1d": lambda xp, x3, m, v: xp.atleast_1d(m[0, 0]),
    "atleast_2d": lambda xp, x3, m, v: xp.atleast_2d(v),
    "atleast_3d_1d": lambda xp, x3, m, v: xp.atleast_3d(v),
    "atleast_3d_2d": lambda xp, x3, m, v: xp.atleast_3d(m),
    "atleast_2d_many": lambda xp, x3, m, v: xp.atleast_2d(v, m),
    "flip_all": lambda xp, x3, m, v: xp.flip(x3),
    "flip_1d": lambda xp, x3, m, v: xp.flip(v),
    "flip_axis": lambda xp, x3, m, v: xp.flip(x3, axis=1),
    "flip_axes": lambda xp, x3, m, v: xp.flip(x3, axis=(0, -1)),
    "fliplr": lambda xp, x3, m, v: xp.fliplr(m),
    "flipud": lambda xp, x3, m, v: xp.flipud(m),
    "rot90": lambda xp, x3, m, v: xp.rot90(m),
    "rot90_2": lambda xp, x3, m, v: xp.rot90(m, 2),
    "rot90_neg": lambda xp, x3, m, v: xp.rot90(m, -1),
    "rot90_axes": lambda xp, x3, m, v: xp.rot90(x3, 1, axes=(1, 2)),
    "roll": lambda xp, x3, m, v: xp.roll(v, 3),
    "roll_negative_large": lambda xp, x3, m, v: xp.roll(v, -10),
    "roll_flat": lambda xp, x3, m, v: xp.roll(m, 23),
    "roll_tuple": lambda xp, x3, m, v: xp.roll(x3, (1, -2), axis=(0, 2)),
    "roll_repeated_axis": lambda xp, x3, m, v: xp.roll(x3, 2, axis=(1, 1)),
    "repeat": lambda xp, x3, m, v: xp.repeat(v, 2),
    "repeat_axis": lambda xp, x3, m, v: xp.repeat(m, 3, axis=0),
    "repeat_last": lambda xp, x3, m, v: xp.repeat(x3, 2, axis=-1),
    "repeat_flat": lambda xp, x3, m, v: xp.repeat(m, 2),
    "tile": lambda xp, x3, m, v: xp.tile(v, 2),
    "tile_more_dims": lambda xp, x3, m, v: xp.tile(m, (2, 1, 3)),
    "tile_fewer_reps": lambda xp, x3, m, v: xp.tile(x3, (2, 1)),
    "pad": lambda xp, x3, m, v: xp.pad(v, 2),
    "pad_pairs": lambda xp, x3, m, v: xp.pad(m, ((1, 2), (0, 3)), constant_values=1.5),
    "pad_traced_value": lambda xp, x3, m, v: xp.pad(v, (2, 1), constant_values=m[1, 1]),
    "pad_values_per_axis": lambda xp, x3, m, v: xp.pad(m, (1,), mode="constant", constant_values=((1.0, 2.0), (3.0, 4.0))),
    "diff": lambda xp, x3, m, v: xp.diff(v),
    "diff_n_axis": lambda xp, x3, m, v: xp.diff(m, n=2, axis=0),
    "diff_prepend": lambda xp, x3, m, v: xp.diff(x3, axis=1, prepend=0.0),
    "diff_append": lambda xp, x3, m, v: xp.diff(v, append=v[:2]),
    "diff_bool": lambda xp, x3, m, v: xp.diff(v > 0),
    "diagonal": lambda xp, x3, m, v: xp.diagonal(m),
    "diagonal_offset": lambda xp, x3, m, v: xp.diagonal(m, 1),
    "diagonal_below": lambda xp, x3, m, v: xp.diagonal(m, -2),
    "diagonal_axes": lambda xp, x3, m, v: xp.diagonal(x3, 1, 1, 2),
    "diagonal_axes_swapped": lambda xp, x3, m, v: xp.diagonal(x3, 0, 2, 0),
    "diag_vector": lambda xp, x3, m, v: xp.diag(v),
    "diag_vector_above": lambda xp, x3, m, v: xp.diag(v[:3], 2),
    "diag_vector_below": lambda xp, x3, m, v: xp.diag(v[:3], k=-1),
    "diag_matrix": lambda xp, x3, m, v: xp.diag(m, 1),
    "diag_matrix_below": lambda xp, x3, m, v: xp.diag(m, -3),
    "tril": lambda xp, x3, m, v: xp.tril(m),
    "tril_k": lambda xp, x3, m, v: xp.tril(m, -1),
    "triu_k": lambda xp, x3, m, v: xp.triu(m, k=2),
    "triu_batched": lambda xp, x3, m, v: xp.triu(x3),
    "tril_1d": lambda xp, x3, m, v: xp.tril(v[:3]),
    "outer": lambda xp, x3, m, v: xp.outer(v, v[:3]),
    "outer_flattens": lambda xp, x3, m, v: xp.outer(m[:2], v),
    "inner": lambda xp, x3, m, v: xp.inner(v, v),
    "inner_2d": lambda xp, x3, m, v: xp.inner(m, m),
    "inner_3d": lambda xp, x3, m, v: xp.inner(x3, m),
    "vdot": lambda xp, x3, m, v: xp.vdot(m, m),
    "kron": lambda xp, x3, m, v: xp.kron(v[:3], v[:2]),
    "kron_2d": lambda xp, x3, m, v: xp.kron(m[:2, :3], m[:3, :2]),
    "trace": lambda xp, x3, m, v: xp.trace(m),
    "trace_offset": lambda xp, x3, m, v: xp.trace(m, 1),
    "trace_axes": lambda xp, x3, m, v: xp.trace(x3, -1, 1, 2),
    "var": lambda xp, x3, m, v: xp.var(m),
    "var_axes": lambda xp, x3, m, v: xp.var(x3, axis=(0, 2)),
    "var_ddof": lambda xp, x3, m, v: xp.var(m, axis=1, ddof=1, keepdims=True),
    "std": lambda xp, x3, m, v: xp.std(v),
    "std_axis": lambda xp, x3, m, v: xp.std(x3, axis=-1, ddof=2),
    "average": lambda xp, x3, m, v: xp.average(m),
    "average_weights": lambda xp, x3, m, v: xp.average(m, axis=1, weights=W45[0]),
    "average_traced_weights": lambda xp, x3, m, v: xp.average(m, axis=1, weights=xp.abs(m[0]) + 1),
    "average_returned": lambda xp, x3, m, v: xp.average(m, axis=0, weights=W45, returned=True),
    "average_keepdims": lambda xp, x3, m, v: xp.average(x3, axis=(0, 2), keepdims=True),
    "prod": lambda xp, x3, m, v: xp.prod(v),
    "prod_axis": lambda xp, x3, m, v: xp.prod(m, axis=0),
    "prod_axes": lambda xp, x3, m, v: xp.prod(x3, axis=(0, 2), keepdims=True),
    "any": lambda xp, x3, m, v: xp.any(m > 0.5),
    "all_axis": lambda xp, x3, m, v: xp.all(m > -1.5, axis=0),
    "any_keepdims": lambda xp, x3, m, v: xp.any(x3 > 1.5, axis=(1, 2), keepdims=True),
    "all_float": lambda xp, x3, m, v: xp.all(xp.maximum(m, 0.0), axis=1),
    "cumsum": lambda xp, x3, m, v: xp.cumsum(v),
    "cumsum_axis": lambda xp, x3, m, v: xp.cumsum(m, axis=0),
    "cumsum_flat": lambda xp, x3, m, v: xp.cumsum(x3),
    "cumsum_last": lambda xp, x3, m, v: xp.cumsum(x3, axis=-1),
    "cumprod": lambda xp, x3, m, v: xp.cumprod(v),
    "cumprod_axis": lambda xp, x3, m, v: xp.cumprod(m, axis=1),
    "norm": lambda xp, x3, m, v: xp.linalg.norm(v),
    "norm_1": lambda xp, x3, m, v: xp.linalg.norm(v, 1),
    "norm_inf": lambda xp, x3, m, v: xp.linalg.norm(v, INF),
    "norm_neg_inf": lambda xp, x3, m, v: xp.linalg.norm(v, -INF),
    "norm_0": lambda xp, x3, m, v: xp.linalg.norm(v, 0),
    "norm_3": lambda xp, x3, m, v: xp.linalg.norm(v, ord=3),
    "norm_matrix": lambda xp, x3, m, v: xp.linalg.norm(m),
    "norm_fro": lambda xp, x3, m, v: xp.linalg.norm(m, "fro"),
    "norm_matrix_1": lambda xp, x3, m, v: xp.linalg.norm(m, 1),
    "norm_matrix_neg_1": lambda xp, x3, m, v: xp.linalg.norm(m, -1),
    "norm_matrix_inf": lambda xp, x3, m, v: xp.linalg.norm(m, INF),
    "norm_matrix_neg_inf": lambda xp, x3, m, v: xp.linalg.norm(m, -INF),
    "norm_axis": lambda xp, x3, m, v: xp.linalg.norm(x3, axis=1),
    "norm_axes_keepdims": lambda xp, x3, m, v: xp.linalg.norm(x3, axis=(0, 2), keepdims=True),
    "norm_axes_1": lambda xp, x3, m, v: xp.linalg.norm(x3, ord=1, axis=(2, 0)),
    "norm_vectors_2": lambda xp, x3, m, v: xp.linalg.norm(m, ord=2, axis=1),
    "norm_keepdims_all": lambda xp, x3, m, v: xp.linalg.norm(m, keepdims=True),
    # NumPy's own functions and ndarray methods on traced arrays
    "np_flip": lambda xp, x3, m, v: np.flip(m, 0),
    "np_roll": lambda xp, x3, m, v: np.roll(m, 1, axis=0),
    "np_var": lambda xp, x3, m, v: np.var(m, axis=0),
    "np_std": lambda xp, x3, m, v: np.std(m, axis=1, keepdims=True),
    "np_prod": lambda xp, x3, m, v: np.prod(m, axis=1),
    "np_cumsum": lambda xp, x3, m, v: np.cumsum(v),
    "np_norm": lambda xp, x3, m, v: np.linalg.norm(m, axis=0),
    "np_diag": lambda xp, x3, m, v: np.diag(v),
    "np_pad": lambda xp, x3, m, v: np.pad(v, 1),
    "np_split": lambda xp, x3, m, v: np.split(v, [3]),
    "np_hstack": lambda xp, x3, m, v: np.hstack([v, v]),
    "np_moveaxis": lambda xp, x3, m, v: np.moveaxis(x3, -1, 0),
    "np_tril": lambda xp, x3, m, v: np.tril(m),
    "np_trace": lambda xp, x3, m, v: np.trace(m),
    "np_outer": lambda xp, x3, m, v: np.outer(v, v),
    "np_average": lambda xp, x3, m, v: np.average(m, axis=0),
    "np_any": lambda xp, x3, m, v: np.any(m > 0, axis=1),
    "np_repeat": lambda xp, x3, m, v: np.repeat(v, 3),
    "np_tile": lambda xp, x3, m, v: np.tile(v, (2, 1)),
    "np_diff": lambda xp, x3, m, v: np.diff(m, axis=0),
    "np_kron": lambda xp, x3, m, v: np.kron(v[:2], v[:3]),
    "method_var": lambda xp, x3, m, v: m.var(axis=0),
    "method_std": lambda xp, x3, m, v: m.std(),
    "method_prod": lambda xp, x3, m, v: m.prod(axis=1),
    "method_cumsum": lambda xp, x3, m, v: m.cumsum(axis=0),
    "method_cumprod": lambda xp, x3, m, v: m.cumprod(),
    "method_any": lambda xp, x3, m, v: (m > 0).any(axis=0),
    "method_all": lambda xp, x3, m, v: (m > -3).all(),
    "method_repeat": lambda xp, x3, m, v: m.repeat(2, axis=1),
    "method_swapaxes": lambda xp, x3, m, v: x3.swapaxes(0, 1),
    "method_diagonal": lambda xp, x3, m, v: m.diagonal(1),
}


def _leaves(value):
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_numpy(dtype):
    x3, m, v = X3.astype(dtype), M.astype(dtype), V.astype(dtype)
    names = list(VALUE_CASES)
    got = gradc.jit(lambda x3, m, v: tuple(VALUE_CASES[n](gnp, x3, m, v) for n in names))(x3, m, v)
    rtol, atol = (3e-6, 3e-6) if dtype == np.float32 else (1e-13, 1e-13)
    for name, g in zip(names, got, strict=True):
        want = VALUE_CASES[name](np, x3, m, v)
        g_leaves, w_leaves = _leaves(g), _leaves(want)
        assert len(g_leaves) == len(w_leaves), name
        assert type(g) is type(want) or not isinstance(want, list | tuple), name
        for gl, wl in zip(g_leaves, w_leaves):
            gl, wl = np.asarray(gl), np.asarray(wl)
            assert gl.shape == wl.shape, (name, gl.shape, wl.shape)
            assert gl.dtype == wl.dtype, (name, gl.dtype, wl.dtype)
            if wl.dtype == np.bool_:
                np.testing.assert_array_equal(gl, wl, err_msg=name)
            else:
                np.testing.assert_allclose(gl, wl, rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------------------
# First derivatives: gradc.grad of sum(f(a) * R) against central differences
# of the same NumPy expression (float64)
# ---------------------------------------------------------------------------

A34 = rng.normal(size=(3, 4))
A3 = rng.normal(size=(2, 3, 4))
A6 = rng.normal(size=6)
P34 = rng.uniform(0.5, 1.5, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))  # prods away from 0

GRAD_CASES = {  # name: (fn(xp, a), a)
    "array": (lambda xp, a: xp.array([[a[0, 0], 2.0 * a[1, 1]], [a[2, 3], a[0, 0] * a[1, 2]]]), A34),
    "hstack": (lambda xp, a: xp.hstack([a, a[:, :1] * a[:, 1:2]]), A34),
    "split": (lambda xp, a: xp.split(a, [1, 3], axis=1)[1] * xp.array_split(a, 2, axis=1)[0][:, :2], A34),
    "moveaxis": (lambda xp, a: xp.moveaxis(a, 0, -1) ** 2 * xp.swapaxes(a, 0, 1).reshape(3, 4, 2), A3),
    "flip": (lambda xp, a: xp.flip(a, axis=(0, 2)) * a, A3),
    "rot90": (lambda xp, a: xp.rot90(a) ** 2, A34),
    "roll": (lambda xp, a: xp.roll(a, (5, -1), axis=(2, 1)) * a, A3),
    "repeat": (lambda xp, a: xp.repeat(a, 2, axis=1) ** 2, A34),
    "tile": (lambda xp, a: xp.tile(a, (2, 1, 2)) ** 2, A34),
    "pad": (lambda xp, a: xp.pad(a * a, ((1, 0), (2, 1)), constant_values=0.5), A34),
    "pad_traced_value": (lambda xp, a: xp.pad(a[0], 2, constant_values=a[1, 1] ** 2) * a[2, 0], A34),
    "diff": (lambda xp, a: xp.diff(a ** 2, n=2, axis=1), A34),
    "diagonal": (lambda xp, a: xp.diagonal(a, 1, 2, 1) ** 2, A3),
    "diag": (lambda xp, a: xp.diag(a ** 2, -1)[:, None] * xp.diag(xp.diag(a, 1) ** 3, 1)[:2], A34),
    "tril_triu": (lambda xp, a: xp.tril(a ** 2, 1) + xp.triu(a ** 3, -1), A34),
    "outer_inner": (lambda xp, a: xp.outer(a[0], a[1]) * xp.inner(a, a)[0, 2], A34),
    "vdot_kron": (lambda xp, a: xp.kron(a[:2, :2], a[1:, 2:]) * xp.vdot(a, a), A34),
    "trace": (lambda xp, a: xp.trace(a, 1, 2, 0) * a[0, 0, 0], A3),
    "var": (lambda xp, a: xp.var(a, axis=0, ddof=1), A34),
    "std": (lambda xp, a: xp.std(a, axis=(0, 2), keepdims=True), A3),
    "average": (lambda xp, a: xp.average(a, axis=1, weights=xp.abs(a[0]) + 0.5), A34),
    "prod": (lambda xp, a: xp.prod(a, axis=1), P34),
    "prod_all": (lambda xp, a: xp.prod(a), P34),
    "cumsum": (lambda xp, a: xp.cumsum(a * a, axis=1), A34),
    "cumprod": (lambda xp, a: xp.cumprod(a, axis=1), P34),
    "cumprod_long": (lambda xp, a: xp.cumprod(a), P34),
    "norm": (lambda xp, a: xp.linalg.norm(a), A34),
    "norm_axis": (lambda xp, a: xp.linalg.norm(a, axis=-1), A3),
    "norm_1": (lambda xp, a: xp.linalg.norm(a, 1, axis=(0, 1)), A34),
    "norm_inf": (lambda xp, a: xp.linalg.norm(a, INF), A6),
    "norm_3": (lambda xp, a: xp.linalg.norm(a, 3), A6),
}


def _weights(name, fn, a):
    out = np.asarray(fn(np, a))
    return np.random.default_rng(len(name)).normal(size=out.shape)


def _central(f, a, h):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


def check_first_derivatives(cases):
    """gradc.grad of sum(fn(a) * W) for every `cases` entry name: (fn(xp, a),
    a), in one build, against central differences of the NumPy expression."""
    names = list(cases)
    weights = {n: _weights(n, *cases[n]) for n in names}

    def loss(name):
        fn = cases[name][0]
        return lambda a: gnp.sum(fn(gnp, a) * weights[name])

    grads = gradc.jit(lambda *arrays: tuple(gradc.grad(loss(n))(a) for n, a in zip(names, arrays)))(
        *(cases[n][1] for n in names)
    )
    for name, g in zip(names, grads, strict=True):
        fn, a = cases[name]
        want = _central(lambda y: np.sum(np.asarray(fn(np, y)) * weights[name]), a, 1e-6)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-7, err_msg=name)


def test_first_derivatives_match_central_differences():
    check_first_derivatives(GRAD_CASES)


SECOND_CASES = {
    "var": (lambda xp, a: xp.sum(xp.var(a, axis=1) * np.array([1.0, -2.0, 0.5])), A34),
    "std": (lambda xp, a: xp.sum(xp.std(a, axis=0, ddof=1) * np.array([1.0, -2.0, 0.5, 3.0])), A34),
    "prod": (lambda xp, a: xp.sum(xp.prod(a, axis=0) * np.array([1.0, -2.0, 0.5, 3.0])), P34),
    "cumprod": (lambda xp, a: xp.sum(xp.cumprod(a) * np.linspace(-1.0, 1.0, 6)), A6),
    "norm": (lambda xp, a: xp.linalg.norm(a), A34),
    "norm_3": (lambda xp, a: xp.linalg.norm(a, 3), A6),
    "average": (lambda xp, a: xp.average(a[0], weights=a[1] * a[1] + 0.5), A34),
}


def _central_hessian(f, a, h=1e-4):
    flat = a.reshape(-1)
    n = flat.size
    hess = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            vals = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                y = flat.copy()
                y[i] += si * h
                y[j] += sj * h
                vals.append(f(y.reshape(a.shape)))
            hess[i, j] = (vals[0] - vals[1] - vals[2] + vals[3]) / (4 * h * h)
    return hess.reshape(a.shape + a.shape)


def check_second_derivatives(cases):
    """gradc.hessian of every scalar `cases` entry name: (fn(xp, a), a), in
    one build, against central differences of the NumPy expression."""
    names = list(cases)
    hessians = gradc.jit(
        lambda *arrays: tuple(
            gradc.hessian(lambda a, n=n: cases[n][0](gnp, a))(a) for n, a in zip(names, arrays)
        )
    )(*(cases[n][1] for n in names))
    for name, h in zip(names, hessians, strict=True):
        fn, a = cases[name]
        want = _central_hessian(lambda y: float(fn(np, y)), a)
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=2e-6, err_msg=name)


def test_second_derivatives_match_central_differences():
    check_second_derivatives(SECOND_CASES)


# ---------------------------------------------------------------------------
# At zeros: prod exactly, std and norm as JAX (NaN)
# ---------------------------------------------------------------------------


def _prod_gradient(x):
    """d prod(x) / d x_i = the product of the other elements (NumPy)."""
    flat = x.reshape(-1)
    return np.array([np.prod(np.delete(flat, i)) for i in range(flat.size)]).reshape(x.shape)


def test_prod_and_cumprod_with_zeros():
    grad_prod = gradc.jit(gradc.grad(lambda a: gnp.prod(a)))
    r = np.array([1.0, -2.0, 0.5, 3.0, -1.5])
    grad_cumprod = gradc.jit(gradc.grad(lambda a: gnp.sum(gnp.cumprod(a) * r)))
    base = np.array([1.5, -2.0, 0.75, -3.0, 1.25])
    for zeros in ([2], [1, 3], [0, 4, 2]):
        x = base.copy()
        x[zeros] = 0.0
        np.testing.assert_array_equal(grad_prod(x), _prod_gradient(x))
        assert np.signbit(gradc.jit(gnp.prod)(x)) == np.signbit(np.prod(x))
        want = np.array([
            sum(r[k] * np.prod(np.delete(x[: k + 1], i)) for k in range(i, x.size)) for i in range(x.size)
        ])
        np.testing.assert_allclose(grad_cumprod(x), want, rtol=1e-15, atol=0)


def test_std_and_norm_at_zero_follow_jax():
    """JAX's std and linalg.norm are square roots: at zero variance and at
    x = 0 the derivative is NaN (0 * inf, jax-ml/jax#21723); var's is 0,
    and the 1- and inf-norms take abs' = 1 at 0 (JAX's abs convention)."""
    at_zero = gradc.jit(lambda a: (
        gradc.grad(lambda y: gnp.std(y))(a),
        gradc.grad(lambda y: gnp.linalg.norm(y))(a * 0.0),
        gradc.grad(lambda y: gnp.var(y))(a),
        gradc.grad(lambda y: gnp.linalg.norm(y, 1))(a * 0.0),
        gradc.grad(lambda y: gnp.linalg.norm(y, INF))(a * 0.0 + np.array([0.0, 0.0, 2.0])),
    ))
    std_g, norm_g, var_g, norm1_g, norminf_g = at_zero(np.full(3, 1.25))
    assert np.isnan(std_g).all() and np.isnan(norm_g).all()
    np.testing.assert_array_equal(var_g, np.zeros(3))
    np.testing.assert_array_equal(norm1_g, np.ones(3))
    np.testing.assert_array_equal(norminf_g, np.array([0.0, 0.0, 1.0]))


# ---------------------------------------------------------------------------
# NumPy arrays out of the creation functions; gnp.linalg's other names
# ---------------------------------------------------------------------------


def test_creation_functions_are_numpys():
    pairs = [
        (gnp.eye(3, 4, k=1), np.eye(3, 4, k=1)),
        (gnp.identity(3, dtype=np.float32), np.identity(3, dtype=np.float32)),
        (gnp.arange(1.0, 4.0, 0.5), np.arange(1.0, 4.0, 0.5)),
        (gnp.linspace(0.0, 1.0, 5, endpoint=False), np.linspace(0.0, 1.0, 5, endpoint=False)),
        (gnp.tri(3, 2, -1), np.tri(3, 2, -1)),
        (gnp.full((2, 2), 3.0), np.full((2, 2), 3.0)),
        (gnp.array([[1, 2], [3, 4]], dtype=np.float32), np.array([[1, 2], [3, 4]], dtype=np.float32)),
    ]
    for got, want in pairs:
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_linspace_of_traced_bounds_and_repeat_with_counts():
    """linspace with traced bounds (scalars and arrays, endpoint, axis,
    retstep, float32 kept) and repeat with constant counts per element,
    against NumPy; their derivatives against central differences. One build."""
    a, b = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    m = np.arange(6.0).reshape(2, 3)

    def program(a, b, m, s):
        return (gnp.linspace(a[0], b[0], 5), gnp.linspace(a, b, 4, endpoint=False, axis=1),
                gnp.linspace(a, b, 3, retstep=True)[1], gnp.linspace(s, 1.0, 3), gnp.linspace(a[0], b[0], 1),
                gnp.repeat(m, [2, 0, 1], axis=1), gnp.repeat(m, np.array([1, 3])[:, None][:, 0], axis=0),
                gradc.grad(lambda q: gnp.sum(gnp.linspace(q[0], q[1], 5) ** 3))(a),
                gradc.grad(lambda q: gnp.sum(gnp.repeat(q, [2, 0, 1], axis=1) ** 2))(m))

    got = gradc.jit(program)(a, b, m, np.float32(0.25))
    want = (np.linspace(a[0], b[0], 5), np.linspace(a, b, 4, endpoint=False, axis=1),
            np.linspace(a, b, 3, retstep=True)[1], np.linspace(np.float32(0.25), 1.0, 3), np.linspace(a[0], b[0], 1),
            np.repeat(m, [2, 0, 1], axis=1), np.repeat(m, [1, 3], axis=0))
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-15, atol=1e-15)
    grad_linspace = _central(lambda q: np.sum(np.linspace(q[0], q[1], 5) ** 3), a, 1e-6)
    np.testing.assert_allclose(got[7], grad_linspace, rtol=1e-7)
    np.testing.assert_allclose(got[8], m * np.array([4.0, 0.0, 2.0]), rtol=1e-15)


def test_gnp_linalg_namespace():
    assert gnp.linalg.norm is not None and "linalg" in gnp.__all__
    with pytest.raises(TraceAttributeError, match=r"gnp.linalg.svd: gradc.numpy has no svd yet: no composition"):
        gnp.linalg.svd  # noqa: B018
    assert gnp.linalg.cholesky is not None and gnp.linalg.eigh is not None
    with pytest.raises(TraceAttributeError, match=r"gnp.linalg.nrom: gradc.numpy.linalg has no attribute 'nrom'"):
        gnp.linalg.nrom  # noqa: B018
    with pytest.raises(AttributeError):
        gnp.norm  # noqa: B018


# ---------------------------------------------------------------------------
# Bad input: a GradcError at trace time, located at the user's line
# ---------------------------------------------------------------------------

ERRORS = [
    (lambda m, v: gnp.flip(m, axis=2), TraceError, r"flip: axis 2 is out of range"),
    (lambda m, v: gnp.roll(m, (1, 2), axis=(0, 1, 1)), TraceError, r"roll: shift \(1, 2\) and axis \(0, 1, 1\) differ"),
    (lambda m, v: gnp.split(v, 3), TraceError, r"split: axis 0 of size 7 does not split into 3 equal sections"),
    (lambda m, v: gnp.array_split(v, 0), TraceError, r"number of sections must be larger than 0"),
    (lambda m, v: gnp.split(m, [1.5]), TraceTypeError, r"split indices must be integers"),
    (lambda m, v: gnp.moveaxis(m, 0, 2), TraceError, r"moveaxis: axis 2 is out of range"),
    (lambda m, v: gnp.swapaxes(m, 0, -3), TraceError, r"swapaxes: axis -3 is out of range"),
    (lambda m, v: gnp.hstack([m, v]), TraceError, r"concatenate: .*differ"),
    (lambda m, v: gnp.vstack([m, v]), TraceError, r"concatenate: shapes \(4, 5\), \(1, 7\) differ outside axis 0"),
    (lambda m, v: gnp.rot90(m, axes=(0, 0)), TraceError, r"rot90: axes \(0, 0\) must be different"),
    (lambda m, v: gnp.repeat(v, [1, 2]), TraceError, r"repeat: repeats of shape \(2,\) do not match axis 0 of length"),
    (lambda m, v: gnp.repeat(m, v.astype(np.int64)), TraceTypeError, r"repeat: the counts must be constants"),
    (lambda m, v: gnp.repeat(v, 2, total_repeat_length=5), TraceError, r"total_repeat_length=5 but the counts sum to"),
    (lambda m, v: gnp.repeat(v, -1), TraceError, r"repeat: repeats must be >= 0"),
    (lambda m, v: gnp.tile(m, (2, -1)), TraceError, r"tile: reps must be >= 0"),
    (lambda m, v: gnp.pad(m, 1, mode="reflect"), TraceError, r"pad: only mode='constant'"),
    (lambda m, v: gnp.pad(m, ((1, 2), (3, 4), (5, 6))), TraceError, r"pad: pad_width .* one pair per axis of 2"),
    (lambda m, v: gnp.pad(m, -1), TraceError, r"pad: pad_width must be >= 0"),
    (lambda m, v: gnp.pad(m, 1, constant_values=v), TraceError, r"pad: a traced constant_values must be 0-d"),
    (lambda m, v: gnp.diff(m, n=-1), TraceError, r"diff: order n must be >= 0"),
    (lambda m, v: gnp.diff(m[0, 0]), TraceError, r"diff: needs an array of at least one dimension"),
    (lambda m, v: gnp.diagonal(v), TraceError, r"diagonal: needs an array of at least 2 dimensions"),
    (lambda m, v: gnp.diagonal(m, 0, 1, -1), TraceError, r"diagonal: axis1 and axis2 must differ"),
    (lambda m, v: gnp.diag(m[None]), TraceError, r"diag: takes a 1-D or 2-D array"),
    (lambda m, v: gnp.inner(m, v), TraceError, r"inner: shapes \(4, 5\) and \(7,\) differ in their last dimension"),
    (lambda m, v: gnp.vdot(m, v), TraceError, r"vdot: sizes 20 and 7"),
    (lambda m, v: gnp.var(m, axis=2), TraceError, r"var: axis 2 is out of range"),
    (lambda m, v: gnp.std(m, axis=(0, 0)), TraceError, r"std: repeated axis"),
    (lambda m, v: gnp.average(m, weights=v), TraceError, r"average: weights of shape \(7,\) differ from a's shape \(4, 5\)"),
    (lambda m, v: gnp.average(m, axis=1, weights=v), TraceError, r"weights of length 7 differ from a's axis 1 of size 5"),
    (lambda m, v: gnp.average(m, axis=0, weights=np.zeros(4)), TraceError, r"average: the weights sum to zero"),
    (lambda m, v: gnp.prod(m > 0, dtype=np.uint8), TraceTypeError, r"prod: dtype uint8 is not supported"),
    (lambda m, v: gnp.cumsum(m, axis=-3), TraceError, r"cumsum: axis -3 is out of range"),
    (lambda m, v: gnp.cumprod(v > 0, dtype=np.int16), TraceTypeError, r"cumprod: dtype int16 is not supported"),
    (lambda m, v: gnp.any(m, axis=3), TraceError, r"any: axis 3 is out of range"),
    (lambda m, v: gnp.linalg.norm(m, 2), TraceError, r"linalg.norm: the matrix norm ord=2 needs a singular value decomposition"),
    (lambda m, v: gnp.linalg.norm(m, "nuc"), TraceError, r"ord='nuc' needs a singular value decomposition"),
    (lambda m, v: gnp.linalg.norm(v, "fro"), TraceError, r"ord='fro' is a matrix norm"),
    (lambda m, v: gnp.linalg.norm(m[None], 1), TraceError, r"an array of shape \(1, 4, 5\) needs axis="),
    (lambda m, v: gnp.linalg.norm(m, axis=(0, 0)), TraceError, r"axis must be one axis or two different ones"),
    (lambda m, v: gnp.linalg.norm(m, 3, axis=(0, 1)), TraceError, r"invalid norm order 3 for matrices"),
    (lambda m, v: gnp.array([m, v]), TraceError, r"stack: all input arrays must have the same shape"),
    (lambda m, v: gnp.trace(v), TraceError, r"diagonal: needs an array of at least 2 dimensions"),
]


@pytest.mark.parametrize("fn, error, pattern", ERRORS, ids=[p for _, _, p in ERRORS])
def test_bad_input_is_a_located_error(fn, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        gradc.jit(fn)(M, V)
    assert isinstance(info.value, GradcError)
    assert info.value.location == f"{__file__}:{fn.__code__.co_firstlineno}", info.value.location
