"""Compressed and sparse Jacobians and Hessians (docs/sparsity.md): the
colored sweeps give the dense derivative entry by entry, on random programs
(interpreter) and on the functions users write (compiled), against closed
forms, finite differences and the uncompressed vector mode."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradc
import gradc.numpy as gnp
from gradc.interpreter import run_function
from gradc.passes.autodiff.sparsity import jacobian_pattern
from tests.test_autodiff_passes import (
    _jacobian_fd,
    _jacobian_text,
    _point,
    differentiate,
    parse,
    programs,
    signature,
)

# ---------------------------------------------------------------------------
# Random programs, at the IR level
# ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1))
def test_compressed_jacobians_equal_vector_mode_on_random_programs(f: str, seed: int):
    """compress = "always" (one sweep per color) against "never" (one per
    direction), forward and reverse, to 1e-12; structural zeros exactly 0;
    both against finite differences."""
    ins, outs = signature(parse(f), "f")
    xs = _point(seed, ins)
    dense = run_function(differentiate(_jacobian_text(f, ins, outs, [0, 1], '{compress = "never"}')), "main", *xs)
    packed = run_function(differentiate(_jacobian_text(f, ins, outs, [0, 1], '{compress = "always"}')), "main", *xs)
    want = _jacobian_fd(parse(f), xs, len(outs))
    for a, b in zip(packed, dense):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, w in zip(packed[: len(want)], want):
        assert np.linalg.norm(a - w) <= 1e-6 * max(np.linalg.norm(w), 1.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1), st.sampled_from(["fwd", "rev"]))
def test_sparse_requests_on_random_programs(f: str, seed: int, mode: str):
    """A `sparse` request returns the dense Jacobian's entries at the
    pattern's positions (CSR over the flattened outputs and arguments), and
    the dense Jacobian is zero off the pattern (no false negatives)."""
    module = parse(f)
    ins, outs = signature(module, "f")
    fn = next(op for op in module.walk() if getattr(op, "sym_name", None) and op.sym_name.data == "f")
    pattern = jacobian_pattern(module, fn, [0, 1])
    nnz = pattern.rows.size
    text = f"""{f}
func.func @main(%x0: tensor<3x3xf64>, %x1: tensor<3x3xf64>) -> tensor<{nnz}xf64> {{
  %v = autodiff.jacobian @f(%x0, %x1) wrt [0, 1] mode "{mode}" {{sparse}} : (tensor<3x3xf64>, tensor<3x3xf64>) -> (tensor<{nnz}xf64>)
  func.return %v : tensor<{nnz}xf64>
}}
"""
    assert all(s == (3, 3) for s in ins)
    xs = _point(seed, ins)
    (values,) = run_function(differentiate(text), "main", *xs)
    blocks = run_function(differentiate(_jacobian_text(f, ins, outs, [0, 1], '{compress = "never"}')), "main", *xs)
    blocks = blocks[: len(blocks) // 2]
    rows = [np.concatenate([blocks[2 * o + j].reshape(9, 9) for j in range(2)], axis=1) for o in range(len(outs))]
    full = np.concatenate(rows, axis=0)
    np.testing.assert_allclose(values, full[pattern.rows, pattern.cols], rtol=1e-12, atol=1e-12)
    off = np.ones(full.shape, bool)
    off[pattern.rows, pattern.cols] = False
    assert np.all(full[off] == 0)


def test_a_sparse_request_of_the_wrong_size_fails_located():
    f = """
func.func private @f(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = array.sin %x : tensor<4xf64>
  func.return %0 : tensor<4xf64>
}
func.func @main(%x: tensor<4xf64>) -> tensor<5xf64> {
  %v = autodiff.jacobian @f(%x) wrt [0] mode "fwd" {sparse} : (tensor<4xf64>) -> (tensor<5xf64>)
  func.return %v : tensor<5xf64>
}
"""
    from xdsl.utils.exceptions import PassFailedException

    with pytest.raises(PassFailedException, match="5 nonzeros but the derivative's pattern has 4"):
        differentiate(f)


# ---------------------------------------------------------------------------
# What users write, compiled
# ---------------------------------------------------------------------------


def rosenbrock(x):
    return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    d = np.zeros(x.size)
    d[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    d[1:] += 200
    off = -400 * x[:-1]
    return np.diag(d) + np.diag(off, 1) + np.diag(off, -1)


def _close(got: np.ndarray, want: np.ndarray, rtol: float = 1e-12) -> None:
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(np.abs(want).max(), 1.0))


def test_rosenbrock_hessian_dense_compressed_and_sparse():
    x = np.random.default_rng(1).uniform(-1.5, 1.5, 12)
    want = rosenbrock_hessian(x)
    pattern = gradc.hessian_sparsity(rosenbrock, x)
    tri = np.abs(np.subtract.outer(np.arange(12), np.arange(12))) <= 1
    assert np.array_equal(pattern.toarray(), tri)
    _close(gradc.hessian(rosenbrock)(x), want)  # compressed: 3 colors for 12 directions
    _close(gradc.hessian(rosenbrock, compress=False)(x), want)
    values = gradc.jit(gradc.hessian(rosenbrock, sparse=True))(x)
    rows, cols = pattern.nonzero()
    assert values.shape == (3 * 12 - 2,)
    _close(values, want[rows, cols])
    # three Hessian-vector products (the seed: 3 directions over 12 inputs), not twelve
    assert "tensor<3x12xf64>" in str(gradc.lower(gradc.hessian(rosenbrock), x).differentiated_ir)


def arrow(x):
    """Every variable interacts with x[0] only: an arrow-shaped Hessian
    (distance-2 column coloring needs n colors, star coloring 2)."""
    return gnp.sum(x[0] * x[1:] ** 2) + gnp.sum(gnp.sin(x) ** 2)


def arrow_hessian(x: np.ndarray) -> np.ndarray:
    n = x.size
    h = np.diag(2 * np.cos(2 * x))
    h[0, 1:] = h[1:, 0] = 2 * x[1:]
    h[1:, 1:] += np.diag(np.full(n - 1, 2 * x[0]))
    return h


def test_arrow_hessian_by_star_coloring():
    x = np.random.default_rng(2).uniform(-1, 1, 9)
    want = arrow_hessian(x)
    _close(gradc.hessian(arrow, compress=True)(x), want)
    values = gradc.hessian(arrow, sparse=True)(x)
    rows, cols = gradc.hessian_sparsity(arrow, x).nonzero()
    assert rows.size == 9 + 2 * 8
    _close(values, want[rows, cols])


def residual(u, b):
    """A 1-D Laplacian with a cubic term: F(u) = A u + u^3 - b, A
    tridiagonal (2 on the diagonal, -1 beside), u = 0 outside."""
    inner = 2.0 * u - gnp.concatenate([gnp.zeros(1), u[:-1]]) - gnp.concatenate([u[1:], gnp.zeros(1)])
    return inner + u**3 - b


def residual_jacobian(u: np.ndarray) -> np.ndarray:
    n = u.size
    return np.diag(2 + 3 * u**2) - np.eye(n, k=1) - np.eye(n, k=-1)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_banded_jacobian_forward_and_reverse(mode: str):
    rng = np.random.default_rng(3)
    u, b = rng.uniform(-1, 1, 40), rng.uniform(-1, 1, 40)
    want = residual_jacobian(u)
    _close(gradc.jacobian(residual, mode=mode)(u, b), want)
    sparse = gradc.jit(gradc.jacobian(residual, mode=mode, sparse=True))
    pattern = gradc.jacobian_sparsity(residual, u, b)
    rows, cols = pattern.nonzero()
    assert rows.size == 3 * 40 - 2
    _close(sparse(u, b), want[rows, cols])


def test_sparse_values_of_several_arguments_and_outputs():
    """Rows: the output leaves flattened in order; columns: the
    differentiated leaves flattened in argument order."""

    def f(p, q):
        return {"a": p * q[:3], "b": gnp.sin(q) * 2.0}

    rng = np.random.default_rng(4)
    p, q = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 5)
    dense_a = np.concatenate([np.diag(q[:3]), np.concatenate([np.diag(p), np.zeros((3, 2))], 1)], 1)
    dense_b = np.concatenate([np.zeros((5, 3)), np.diag(2 * np.cos(q))], 1)
    full = np.concatenate([dense_a, dense_b], 0)
    pattern = gradc.jacobian_sparsity(f, p, q, argnums=(0, 1))
    rows, cols = pattern.nonzero()
    assert np.array_equal(pattern.toarray(), full != 0)
    values = gradc.jacobian(f, argnums=(0, 1), sparse=True)(p, q)
    _close(values, full[rows, cols])
    blocks = gradc.jacobian(f, argnums=(0, 1), compress=True)(p, q)
    _close(blocks["a"][1], dense_a[:, 3:])
    _close(blocks["b"][0], dense_b[:, :3])


def test_sparse_hessian_inside_jit_and_of_a_nested_gradient():
    def energy(x):
        g = gradc.grad(rosenbrock)(x)  # a gradient inside: the pattern sees it expanded
        return gnp.sum(g**2)

    def rosenbrock_gradient(x):
        g = np.zeros_like(x)
        g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
        g[1:] += 200 * (x[1:] - x[:-1] ** 2)
        return g

    def energy_gradient(x):  # d/dx sum(g^2) = 2 H g, in NumPy
        return 2 * rosenbrock_hessian(x) @ rosenbrock_gradient(x)

    x = np.random.default_rng(5).uniform(-1, 1, 8)
    dense = gradc.hessian(energy, compress=False)(x)
    step = 1e-6
    fd = np.stack([(energy_gradient(x + step * e) - energy_gradient(x - step * e)) / (2 * step) for e in np.eye(8)], 1)
    np.testing.assert_allclose(dense, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    pattern = gradc.hessian_sparsity(energy, x)
    rows, cols = pattern.nonzero()
    assert np.all(dense[~pattern.toarray()] == 0)
    doubled = gradc.jit(lambda x: 2.0 * gradc.hessian(energy, sparse=True)(x))(x)
    _close(doubled, 2 * dense[rows, cols], 1e-11)
    _close(gradc.hessian(energy)(x), dense, 1e-11)


def test_structural_zeros_stay_zero_where_vector_mode_makes_nan():
    """sqrt at 0: the diagonal is inf; a compressed Jacobian's off-diagonal
    entries are the structural zeros (vector mode multiplies inf by the
    zero tangents of the other directions: NaN, as JAX's jacfwd)."""
    x = np.zeros(4)
    packed = gradc.jacobian(gnp.sqrt, compress=True)(x)
    assert np.all(np.isinf(np.diag(packed))) and np.all(packed[~np.eye(4, dtype=bool)] == 0)
    plain = gradc.jacobian(gnp.sqrt, mode="fwd", compress=False)(x)
    assert np.all(np.isnan(plain[~np.eye(4, dtype=bool)]))


def test_bad_sparse_and_compress_arguments():
    x = np.ones(3)
    with pytest.raises(gradc.GradcError, match="compress=False contradicts it"):
        gradc.hessian(rosenbrock, sparse=True, compress=False)
    with pytest.raises(gradc.GradcError, match="sparse must be True or False"):
        gradc.jacobian(gnp.sin, sparse="yes")
    with pytest.raises(gradc.GradcError, match="compress must be None"):
        gradc.jacobian(gnp.sin, compress="always")
    with pytest.raises(gradc.GradcError, match="must return a scalar"):
        gradc.hessian_sparsity(gnp.sin, x)


def test_export_c_of_a_sparse_hessian_with_its_pattern(tmp_path):
    """The standalone C of `hessian(f, sparse=True)` declares its pattern
    (rows, cols, row_ptr, NNZ) next to the function; a C driver fills a
    dense matrix from the triplets and prints it: the closed form's
    Hessian. Compiled with -Wall -Wextra -Werror."""
    import shutil
    import subprocess

    x = np.random.default_rng(6).uniform(-1.5, 1.5, 7)
    c_path, h_path = gradc.export_c(gradc.hessian(rosenbrock, sparse=True), x, path_stem=tmp_path / "h",
                                    name="rosen_hess")
    header = h_path.read_text()
    assert "#define ROSEN_HESS_NNZ 19" in header and "extern const int32_t rosen_hess_rows[19];" in header
    driver = tmp_path / "main.c"
    driver.write_text("""
#include <stdio.h>
#include "h.h"
int main(void) {
    double x[7], values[ROSEN_HESS_NNZ], dense[ROSEN_HESS_ROWS * ROSEN_HESS_COLS] = {0};
    static unsigned char work[1 << 16];
    for (int i = 0; i < 7; ++i) if (scanf("%lf", &x[i]) != 1) return 2;
    if (rosen_hess_work_size() > sizeof work) return 3;
    if (rosen_hess(x, values, work) != 0) return 4;
    for (int k = 0; k < ROSEN_HESS_NNZ; ++k)
        dense[rosen_hess_rows[k] * ROSEN_HESS_COLS + rosen_hess_cols[k]] = values[k];
    for (int i = 0; i < ROSEN_HESS_ROWS; ++i)  /* row_ptr brackets each row's entries */
        for (int k = rosen_hess_row_ptr[i]; k < rosen_hess_row_ptr[i + 1]; ++k)
            if (rosen_hess_rows[k] != i) return 5;
    for (int i = 0; i < ROSEN_HESS_ROWS * ROSEN_HESS_COLS; ++i) printf("%.17g\\n", dense[i]);
    return 0;
}
""")
    cc = shutil.which("cc") or shutil.which("gcc")
    exe = tmp_path / "main"
    subprocess.run([cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", str(driver), str(c_path), "-lm",
                    "-o", str(exe)], check=True, capture_output=True)
    run = subprocess.run([str(exe)], input=" ".join(repr(float(v)) for v in x), capture_output=True,
                         text=True, check=True)
    got = np.array([float(v) for v in run.stdout.split()]).reshape(7, 7)
    _close(got, rosenbrock_hessian(x))


def test_sparse_jacobian_through_a_custom_rule_and_stop_gradient():
    """The pattern the frontend sizes the request by is the one the pass
    colors: custom rules and stop_gradient stay as the pass sees them."""

    @gradc.custom_jvp
    def soft(x):
        return gnp.log1p(gnp.exp(x))

    @soft.defjvp
    def soft_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return soft(x), t / (1.0 + gnp.exp(-x))

    def f(x):
        return soft(x[::-1]) * 2.0 + gradc.stop_gradient(x[0]) * x

    x = np.random.default_rng(7).uniform(-1, 1, 5)
    sig = 1 / (1 + np.exp(-x[::-1]))
    want = 2 * np.diag(sig)[:, ::-1] + x[0] * np.eye(5)
    rows, cols = gradc.jacobian_sparsity(f, x).nonzero()
    _close(gradc.jacobian(f, sparse=True)(x), want[rows, cols])
    _close(gradc.jacobian(f)(x), want)


def test_sparse_hessian_under_vmap_and_differentiated_again():
    """The nonzeros are an array like any other: vmap maps them, grad
    differentiates through them (third derivatives, against differences)."""
    X = np.random.default_rng(8).uniform(-1, 1, (4, 6))
    rows, cols = gradc.hessian_sparsity(rosenbrock, X[0]).nonzero()
    batched = gradc.vmap(gradc.hessian(rosenbrock, sparse=True))(X)
    for k in range(4):
        _close(batched[k], rosenbrock_hessian(X[k])[rows, cols])

    def size(x):
        return np.sum(rosenbrock_hessian(x)[rows, cols] ** 2)

    g = gradc.jit(gradc.grad(lambda x: gnp.sum(gradc.hessian(rosenbrock, sparse=True)(x) ** 2)))(X[0])
    step = 1e-6
    fd = np.array([(size(X[0] + step * e) - size(X[0] - step * e)) / (2 * step) for e in np.eye(6)])
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-7 * np.abs(fd).max())


def test_empty_patterns_and_blocks_build_warning_free():
    """No nonzero at all (a sparse request of size 0) and a dense block
    of structural zeros next to a nonzero one, under -Wall -Wextra -Werror
    at -O0 (an empty scatter's index table once read uninitialized memory
    there, found by the fuzz regression)."""
    x = np.linspace(0.0, 1.0, 5)
    flags = ["-O0", "-Wall", "-Wextra", "-Werror"]
    assert gradc.jit(gradc.jacobian(lambda v: gnp.floor(v) * 1.0, sparse=True), cflags=flags)(x).shape == (0,)
    assert gradc.jit(gradc.hessian(gnp.sum, sparse=True), cflags=flags)(x).shape == (0,)
    flat, doubled = gradc.jit(gradc.jacobian(lambda v: (gnp.floor(v) * 1.0, v * 2.0), compress=True),
                              cflags=flags)(x)
    assert np.all(flat == 0) and np.array_equal(doubled, 2.0 * np.eye(5))


def test_dense_patterns_are_not_colored_by_the_cost_model():
    """A dense Hessian keeps plain vector mode without coloring its pattern
    (may_pay's bounds), and its values are right."""
    from gradc.passes.autodiff.compression import may_pay
    from gradc.passes.autodiff.sparsity import Pattern

    rng = np.random.default_rng(9)
    w = rng.standard_normal((6, 30)) * 0.3

    def f(x):
        return gnp.sum(gnp.tanh(w @ x) ** 2)

    x = rng.standard_normal(30)
    seeds = re.findall(r"autodiff.seed\} dense<[^:]*: (tensor<[^>]*>)", str(gradc.lower(gradc.hessian(f), x).differentiated_ir))
    assert seeds == ["tensor<30x30xf64>"]  # the identity: 30 directions
    separable = str(gradc.lower(gradc.hessian(lambda v: gnp.sum(v**4)), x).differentiated_ir)
    assert re.findall(r"autodiff.seed\} dense<[^:]*: (tensor<[^>]*>)", separable) == ["tensor<1x30xf64>"]
    t = np.tanh(w @ x)
    want = w.T @ np.diag(2 * (1 - t**2) * (1 - 3 * t**2)) @ w
    _close(gradc.hessian(f)(x), want, 1e-11)
    full = np.nonzero(np.ones((8, 8)))
    dense = Pattern(full[0], full[1], (8, 8))
    assert not may_pay("symmetric", dense, 8) and not may_pay("columns", dense, 8) and not may_pay("rows", dense, 8)
    arrow = np.nonzero(np.eye(8) + np.eye(8)[0] + np.eye(8)[:, [0]])
    assert may_pay("symmetric", Pattern(arrow[0], arrow[1], (8, 8)), 8)


def test_compressed_hessians_are_exactly_symmetric() -> None:
    """Star recovery reads H[i, j] and H[j, i] from one entry of the
    compressed product (decided per pair), so compressed and sparse
    Hessians are symmetric bit for bit, like the mirrored dense ones."""
    x = np.random.default_rng(4).standard_normal(12)

    def banded(x):  # pentadiagonal; H[i, j] and H[j, i] sum their terms in different orders
        return gnp.sum(gnp.sin(x[2:] * x[:-2]) * x[1:-1]) + gnp.sum(gnp.exp(0.3 * x[1:] * x[:-1]))

    for f in (rosenbrock, banded):
        dense = gradc.jit(gradc.hessian(f, compress=True))(x)
        np.testing.assert_array_equal(dense, dense.T)
        nnz = gradc.jit(gradc.hessian(f, sparse=True))(x)
        pattern = gradc.hessian_sparsity(f, x)
        rows, cols = pattern.nonzero()
        got = dict(zip(zip(rows.tolist(), cols.tolist()), nnz.tolist()))
        assert all(got[(i, j)] == got[(j, i)] for i, j in got)
    np.testing.assert_allclose(gradc.hessian(rosenbrock, compress=True)(x), rosenbrock_hessian(x), rtol=1e-13)
