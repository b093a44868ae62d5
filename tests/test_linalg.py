"""gnp.linalg's factorizations and solves and gradc.scipy.linalg, end to end.

Values against numpy.linalg (at the array level, the loops level and in
compiled C, f32 and f64, batched, n not a multiple of any block size);
derivatives, first and second order, forward and reverse, against central
finite differences or closed forms; a Gaussian-process likelihood written
as a JAX user writes it; the documented results at bad inputs (NaN, inf,
(0, -inf)) and located errors for bad shapes. Each compiled function
exercises several ops, to keep the number of builds low.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from xdsl.context import Context

import gradc
import gradc.numpy as gnp
import gradc.scipy.linalg as gsl
from gradc.errors import GradcError
from gradc.frontend import pytree
from gradc.frontend.tracing import trace
from gradc.interpreter import run_function
from gradc.passes.lower_array_to_loops import LowerArrayToLoops

pytestmark = pytest.mark.usefixtures("private_cache")

RTOL = {np.float32: 2e-4, np.float64: 1e-10}


def spd(rng, shape, dtype=np.float64):
    n = shape[-1]
    m = rng.standard_normal(shape)
    return (m @ np.swapaxes(m, -1, -2) / n + np.eye(n)).astype(dtype)


def well_conditioned(rng, shape, dtype=np.float64):
    n = shape[-1]
    return (rng.standard_normal(shape) / np.sqrt(n) + 2 * np.eye(n)).astype(dtype)


def canonical(v):
    """Eigenvectors (columns) signed so the largest-magnitude component is positive."""
    at = np.argmax(np.abs(v), axis=-2)[..., None, :]
    return v * np.where(np.take_along_axis(v, at, axis=-2) < 0, -1, 1)


def everything(a1, a3, a17, s17, v17, b3, t5, b5):
    """Every function, at several sizes (1, 3 batched, 17, 5)."""
    sign, logabsdet = gnp.linalg.slogdet(a3)
    w, v = gnp.linalg.eigh(s17)
    return dict(
        chol1=gnp.linalg.cholesky(a1), chol3=gnp.linalg.cholesky(a3), chol17=gnp.linalg.cholesky(s17),
        chol_upper=gnp.linalg.cholesky(a3, upper=True),
        solve_vec=gnp.linalg.solve(a17, v17), solve_mat=gnp.linalg.solve(a3, b3),
        solve_bcast=gnp.linalg.solve(a3[0], b3),
        inv=gnp.linalg.inv(a17), inv3=gnp.linalg.inv(a3), det=gnp.linalg.det(a17), det1=gnp.linalg.det(a1),
        sign=sign, logabsdet=logabsdet, slogdet17=gnp.linalg.slogdet(a17).logabsdet,
        w=w, v=v, w3=gnp.linalg.eigvalsh(a3, UPLO="U"),
        tri_l=gsl.solve_triangular(t5, b5, lower=True),
        tri_u=gsl.solve_triangular(t5, b5),
        tri_lt=gsl.solve_triangular(t5, b5, trans="T", lower=True),
        tri_ut_unit=gsl.solve_triangular(t5, b5[:, 0], trans=1, unit_diagonal=True),
        tri_l_unit=gsl.solve_triangular(t5, b5, lower=True, unit_diagonal=True),
        tri_of_transpose=gsl.solve_triangular(t5.T, b5, lower=True), solve_of_transpose=gnp.linalg.solve(a17.T, v17),
        cho=gsl.cho_solve(gsl.cho_factor(a3[1]), b3[1]),
        cho_lower=gsl.cho_solve(gsl.cho_factor(a3[1], lower=True), b3[1, :, 0]),
        scipy_chol=gsl.cholesky(a3[0]),
    )


def reference(a1, a3, a17, s17, v17, b3, t5, b5):
    a1, a3, a17, s17, v17, b3, t5, b5 = (np.asarray(x, np.float64) for x in (a1, a3, a17, s17, v17, b3, t5, b5))
    sign, logabsdet = np.linalg.slogdet(a3)
    w, v = np.linalg.eigh(s17)
    lo, up = np.tril(t5), np.triu(t5)
    up_unit = up - np.diag(np.diag(up)) + np.eye(5)
    lo_unit = lo - np.diag(np.diag(lo)) + np.eye(5)
    return dict(
        chol1=np.linalg.cholesky(a1), chol3=np.linalg.cholesky(a3), chol17=np.linalg.cholesky(s17),
        chol_upper=np.swapaxes(np.linalg.cholesky(a3), -1, -2),
        solve_vec=np.linalg.solve(a17, v17), solve_mat=np.linalg.solve(a3, b3),
        solve_bcast=np.linalg.solve(a3[0], b3),
        inv=np.linalg.inv(a17), inv3=np.linalg.inv(a3), det=np.linalg.det(a17), det1=np.linalg.det(a1),
        sign=sign, logabsdet=logabsdet, slogdet17=np.linalg.slogdet(a17)[1],
        w=w, v=canonical(v), w3=np.linalg.eigvalsh(a3, UPLO="U"),
        tri_l=np.linalg.solve(lo, b5), tri_u=np.linalg.solve(up, b5), tri_lt=np.linalg.solve(lo.T, b5),
        tri_ut_unit=np.linalg.solve(up_unit.T, b5[:, 0]), tri_l_unit=np.linalg.solve(lo_unit, b5),
        tri_of_transpose=np.linalg.solve(np.tril(t5.T), b5), solve_of_transpose=np.linalg.solve(a17.T, v17),
        cho=np.linalg.solve(a3[1], b3[1]), cho_lower=np.linalg.solve(a3[1], b3[1, :, 0]),
        scipy_chol=np.linalg.cholesky(a3[0]).T,
    )


def inputs(dtype):
    rng = np.random.default_rng(14)
    s17 = spd(rng, (17, 17))
    s17 = s17 + np.diag(np.arange(17.0))  # well separated eigenvalues
    return [x.astype(dtype) for x in (
        spd(rng, (1, 1)), spd(rng, (2, 3, 3)), well_conditioned(rng, (17, 17)), s17, rng.standard_normal(17),
        rng.standard_normal((2, 3, 2)), well_conditioned(rng, (5, 5)), rng.standard_normal((5, 4)),
    )]


def close(got: dict, want: dict, dtype, level: str):
    assert got.keys() == want.keys()
    for key in want:
        g, w = np.asarray(got[key]), want[key]
        assert g.shape == w.shape, (level, key, g.shape, w.shape)
        assert g.dtype == dtype, (level, key, g.dtype)
        scale = max(1.0, float(np.max(np.abs(w))))
        err = float(np.max(np.abs(g.astype(np.float64) - w))) / scale
        assert err < RTOL[dtype], f"{level}: {key} off by {err}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_values_at_every_level(dtype):
    xs = inputs(dtype)
    want = reference(*xs)
    traced = trace(everything, tuple(xs))
    leaves, _ = pytree.flatten(tuple(xs))
    array_level = pytree.unflatten(traced.out_tree, run_function(traced.module, traced.name, *leaves))
    close(array_level, want, dtype, "array interpreter")
    loops_module = traced.module.clone()
    LowerArrayToLoops().apply(Context(), loops_module)
    loops_module.verify()
    loops_level = pytree.unflatten(traced.out_tree, run_function(loops_module, traced.name, *leaves))
    close(loops_level, want, dtype, "loops interpreter")
    close(gradc.jit(everything)(*xs), want, dtype, "compiled C")


def test_generated_c_is_warning_free(tmp_path):
    xs = inputs(np.float32)[:4] + inputs(np.float64)[4:]  # both element types, every kind
    source = gradc.lower(everything, *xs).c_source
    for kind in ("cholesky", "solve", "slogdet", "eigh", "triangular_solve"):
        assert f"gradc_{kind}" in source
    assert "malloc" not in source
    path = tmp_path / "linalg.c"
    path.write_text(source)
    done = subprocess.run(["cc", "-std=c99", "-pedantic", "-O2", "-Wall", "-Wextra", "-Werror", "-c", str(path),
                           "-o", str(tmp_path / "linalg.o")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_bad_inputs_give_jax_results():
    """Not positive definite: NaN (JAX; NumPy raises). Singular: solve inf or
    NaN (JAX), slogdet (0, -inf) and det 0 (NumPy and JAX)."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])

    late = np.random.default_rng(8).standard_normal((11, 11))
    late[:, 9] = 0.0  # the zero pivot comes in the second panel of the blocked LU

    def f(a, b, c, d):
        sign, logabsdet = gnp.linalg.slogdet(b)
        # np.linalg.<f> on traced arrays dispatches to gnp.linalg.<f>
        return (np.linalg.cholesky(a), np.linalg.solve(b, c), sign, logabsdet, np.linalg.det(b),
                gnp.linalg.cholesky(gnp.stack([b + 3 * gnp.eye(2), a])), gnp.linalg.slogdet(d))

    chol, x, sign, logabsdet, det, mixed, late_slogdet = gradc.jit(f)(indefinite, singular, np.ones(2), late)
    assert tuple(late_slogdet) == (0.0, -np.inf) == tuple(np.linalg.slogdet(late))
    assert np.all(np.isnan(chol))
    assert not np.any(np.isfinite(x))
    assert (sign, logabsdet, det) == (0.0, -np.inf, 0.0)
    # one bad matrix of a batch spoils only its own result
    np.testing.assert_allclose(mixed[0], np.linalg.cholesky(singular + 3 * np.eye(2)), rtol=1e-12)
    assert np.all(np.isnan(mixed[1]))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: gnp.linalg.cholesky(t[0, :2]), "square"),
        (lambda t: gnp.linalg.solve(t[0], gnp.ones(4)), "does not fit"),
        (lambda t: gnp.linalg.solve(t, gnp.ones((4, 3, 1))), "batch"),
        (lambda t: gnp.linalg.inv(t[0, 0]), "square"),
        (lambda t: gnp.linalg.eigh(t, UPLO="X"), "UPLO"),
        (lambda t: gsl.solve_triangular(t[0], t[0, 0], trans=5), "trans"),
        (lambda t: gsl.cho_solve(t[0], t[0, 0]), "cho_factor"),
    ],
)
def test_bad_shapes_are_located_errors(call, message):
    with pytest.raises(GradcError, match=message) as info:
        gradc.jit(call)(np.ones((2, 3, 3)))
    assert "test_linalg.py" in str(info.value)


def fd_gradient(f, x, step=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = step
        g[i] = (f(x + e) - f(x - e)) / (2 * step)
    return g


def test_derivatives_at_singular_and_degenerate_points():
    """det at a singular matrix: NaN (JAX gives the cofactor matrix,
    docs/linalg.md); eigenvalue gradients at repeated eigenvalues: finite and
    right (as JAX), since only the eigenvector part of the rule divides by
    w_j - w_i."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    repeated = np.diag([1.0, 1.0, 2.0])

    def f(a, b):
        return (gradc.grad(gnp.linalg.det)(a),
                gradc.grad(lambda b: gnp.sum(gnp.linalg.eigvalsh(b)))(b),
                gradc.grad(lambda b: gnp.linalg.eigh(b)[0][2])(b))

    det_grad, trace_grad, top_grad = gradc.jit(f)(singular, repeated)
    assert np.all(np.isnan(det_grad))
    np.testing.assert_allclose(trace_grad, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(top_grad, np.diag([0.0, 0.0, 1.0]), atol=1e-12)


def test_gradients_of_every_function():
    """One scalar through every op; reverse mode against finite differences of NumPy."""
    rng = np.random.default_rng(3)
    a = spd(rng, (4, 4)) + np.diag([0.0, 1.0, 2.0, 3.0])
    b = rng.standard_normal((4, 2))

    def f(a, b):
        L = gnp.linalg.cholesky(a)
        w, v = gnp.linalg.eigh(a)
        x = gnp.linalg.solve(a, b)
        y = gsl.solve_triangular(L, b, lower=True, trans="T")
        return (gnp.sum(gnp.sin(L)) + gnp.linalg.slogdet(a).logabsdet + gnp.sum(x * b) + gnp.sum(y ** 2)
                + gnp.sum(w * gnp.arange(4.0)) + gnp.sum(v[:, 1] ** 3) + gnp.linalg.det(a) * 1e-2
                + gnp.sum(gnp.linalg.inv(a)))

    def numpy_f(a, b):
        s = (a + a.T) / 2
        L = np.linalg.cholesky(s)
        w, v = np.linalg.eigh(s)
        v = canonical(v)
        return (np.sum(np.sin(L)) + np.linalg.slogdet(a)[1] + np.sum(np.linalg.solve(a, b) * b)
                + np.sum(np.linalg.solve(L.T, b) ** 2) + np.sum(w * np.arange(4.0)) + np.sum(v[:, 1] ** 3)
                + np.linalg.det(a) * 1e-2 + np.sum(np.linalg.inv(a)))

    ga, gb = gradc.jit(gradc.grad(f, argnums=(0, 1)))(a, b)
    np.testing.assert_allclose(ga, fd_gradient(lambda x: numpy_f(x, b), a), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gb, fd_gradient(lambda x: numpy_f(a, x), b), rtol=1e-6, atol=1e-7)


def test_jacobians_forward_and_reverse_of_cholesky_and_solve():
    rng = np.random.default_rng(4)
    a = spd(rng, (3, 3))
    b = rng.standard_normal(3)

    def f(a):
        return gnp.concatenate([gnp.linalg.cholesky(a).ravel(), gnp.linalg.solve(a, b)])

    def numpy_f(a):
        s = (a + a.T) / 2
        return np.concatenate([np.linalg.cholesky(s).ravel(), np.linalg.solve(a, b)])

    want = np.stack([(numpy_f(a + e) - numpy_f(a - e)) / 2e-6
                     for e in (np.eye(9)[k].reshape(3, 3) * 1e-6 for k in range(9))], axis=-1).reshape(12, 3, 3)
    fwd, rev = gradc.jit(lambda a: (gradc.jacfwd(f)(a), gradc.jacrev(f)(a)))(a)
    np.testing.assert_allclose(fwd, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(rev, want, rtol=1e-6, atol=1e-8)


def test_hessian_of_logdet_is_the_closed_form():
    """d^2 log|det A| / dA_ij dA_kl = -inv(A)_jk inv(A)_li."""
    rng = np.random.default_rng(5)
    a = well_conditioned(rng, (3, 3))
    h = gradc.jit(gradc.hessian(lambda a: gnp.linalg.slogdet(a)[1]))(a)
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(h, -np.einsum("jk,li->ijkl", inv, inv), rtol=1e-9, atol=1e-12)


def gp_nll(params, x, y):
    """A Gaussian process's negative log marginal likelihood, as in JAX code."""
    log_ls, log_amp, log_noise = params[0], params[1], params[2]
    d = (x[:, None] - x[None, :]) / gnp.exp(log_ls)
    k = gnp.exp(2 * log_amp) * gnp.exp(-0.5 * d ** 2) + (gnp.exp(2 * log_noise) + 1e-6) * gnp.eye(x.shape[0])
    L = gnp.linalg.cholesky(k)
    alpha = gsl.cho_solve((L, True), y)
    z = gsl.solve_triangular(L, y, lower=True)
    return (0.25 * gnp.dot(y, alpha) + 0.25 * gnp.dot(z, z) + gnp.sum(gnp.log(gnp.diagonal(L)))
            + 0.5 * x.shape[0] * gnp.log(2 * gnp.pi))


def numpy_nll(params, x, y):
    ls, amp, noise = np.exp(params)
    d = (x[:, None] - x[None, :]) / ls
    k = amp ** 2 * np.exp(-0.5 * d ** 2) + (noise ** 2 + 1e-6) * np.eye(len(x))
    return 0.5 * y @ np.linalg.solve(k, y) + 0.5 * np.linalg.slogdet(k)[1] + 0.5 * len(x) * np.log(2 * np.pi)


def test_gaussian_process_likelihood_gradient_and_hessian():
    rng = np.random.default_rng(6)
    x = np.sort(rng.uniform(0, 5, 12))
    y = np.sin(x) + 0.1 * rng.standard_normal(12)
    params = np.array([0.1, -0.2, -1.0])

    def both(p, x, y):
        return gradc.value_and_grad(gp_nll)(p, x, y), gradc.hessian(gp_nll)(p, x, y)

    (value, grad), hess = gradc.jit(both)(params, x, y)
    np.testing.assert_allclose(value, numpy_nll(params, x, y), rtol=1e-10)
    np.testing.assert_allclose(grad, fd_gradient(lambda p: numpy_nll(p, x, y), params), rtol=1e-6)
    fd_hess = np.stack([fd_gradient(lambda p: numpy_nll(p, x, y), params + e, 1e-4)
                        - fd_gradient(lambda p: numpy_nll(p, x, y), params - e, 1e-4)
                        for e in np.eye(3) * 1e-4]) / 2e-4
    np.testing.assert_allclose(hess, fd_hess, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10)


def test_numpy_arrays_go_to_numpy():
    """Untraced calls are NumPy's (SciPy's functions by NumPy's solve)."""
    rng = np.random.default_rng(7)
    a, b = spd(rng, (4, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(gnp.linalg.solve(a, b), np.linalg.solve(a, b))
    np.testing.assert_allclose(gsl.solve_triangular(a, b, lower=True), np.linalg.solve(np.tril(a), b))
    np.testing.assert_allclose(gsl.cho_solve(gsl.cho_factor(a), b), np.linalg.solve(a, b))
    assert gnp.linalg.slogdet(a).logabsdet == np.linalg.slogdet(a).logabsdet
