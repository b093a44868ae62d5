"""Symmetric Hessians: a dense Hessian of one argument is `array.mirror` of
its upper triangle, exactly symmetric and equal to the unmirrored one
(jacfwd of the gradient) to rounding; only the kept triangle of a mirrored
product is computed (loops.matmul `triangle`, tile-matmul's skipped tiles),
which the loops-level interpreter checks by filling the other triangle with
NaN; the op's derivative rules (a third derivative, reverse mode through the
mirror), batching (vmap) and sparsity rule. References: closed forms, NumPy,
central differences of NumPy gradients."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.parser import Parser
from xdsl.utils.exceptions import VerifyException

import gradc
import gradc.numpy as gnp
from gradc.interpreter import run_function
from gradc.passes.autodiff.sparsity import jacobian_pattern
from gradc.pipeline import make_context, run_pipeline

pytestmark = pytest.mark.usefixtures("private_cache")


def logreg(w, X, y):
    z = X @ w
    return gnp.mean(gnp.logaddexp(0.0, z) - y * z)


def logreg_hessian(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    s = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (X * (s * (1 - s))[:, None]) / X.shape[0]


def logreg_problem(n: int, d: int, dtype=np.float64, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (rng.random(n) < 0.5).astype(dtype)
    w = (0.3 * rng.standard_normal(d)).astype(dtype)
    return w, X, y


def mirror_upper(a: np.ndarray) -> np.ndarray:
    """NumPy's reference of array.mirror: the upper triangle copied across."""
    upper = np.triu(a)
    return upper + np.swapaxes(np.triu(a, 1), -1, -2)


def test_dense_hessians_are_exactly_symmetric_and_match_closed_forms() -> None:
    """logreg (f64 and f32) and a tanh layer, in one build: the mirrored
    Hessian is bitwise symmetric, equals the closed form and the unmirrored
    jacfwd(grad) to rounding; the layer's also equals central differences
    of its NumPy gradient."""
    w, X, y = logreg_problem(70, 19)
    w32, X32, y32 = logreg_problem(70, 19, np.float32, seed=1)
    rng = np.random.default_rng(2)
    W1, b1, v = rng.standard_normal((20, 12)), rng.standard_normal(20), rng.standard_normal(20)
    x = rng.standard_normal(12)

    def layer(x):
        return gnp.sum(v * gnp.tanh(W1 @ x + b1))

    def layer_grad(x):  # NumPy, by hand
        t = np.tanh(W1 @ x + b1)
        return W1.T @ (v * (1 - t * t))

    both = gradc.jit(lambda w, X, y, w32, X32, y32: (
        gradc.hessian(logreg)(w, X, y), gradc.jacfwd(gradc.grad(logreg))(w, X, y),
        gradc.hessian(logreg)(w32, X32, y32)))
    h, unmirrored, h32 = both(w, X, y, w32, X32, y32)
    # (Its own build: in the one above, gcc 12 -O3 -march=native miscompiles
    # the module, mirror or not; reported with issue #17.)
    h_layer = gradc.hessian(layer)(x)
    for hess in (h, h32, h_layer):
        assert np.array_equal(hess, hess.T)
    np.testing.assert_allclose(h, logreg_hessian(w, X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, unmirrored, rtol=1e-13, atol=1e-16)
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, logreg_hessian(w32.astype(np.float64), X32.astype(np.float64)),
                               rtol=2e-5, atol=2e-6)
    t = np.tanh(W1 @ x + b1)
    closed = W1.T @ ((v * -2 * t * (1 - t * t))[:, None] * W1)
    np.testing.assert_allclose(h_layer, closed, rtol=1e-12, atol=1e-12)
    step = 1e-5
    central = np.stack([(layer_grad(x + step * e) - layer_grad(x - step * e)) / (2 * step) for e in np.eye(12)])
    np.testing.assert_allclose(h_layer, central, rtol=1e-6, atol=1e-6)


def cubic(x, a, b):
    return gnp.sum(gnp.exp(a * x)) + gnp.sum(x * b) ** 3


def cubic_hessian(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.diag(a * a * np.exp(a * x)) + 6 * (x @ b) * np.outer(b, b)


def test_third_derivatives_through_the_mirror() -> None:
    """Compiled: jacfwd(hessian) (forward through the mirror) against
    central differences of the closed-form Hessian; grad of
    sum(W * hessian) with W not symmetric (reverse through the mirror)
    against the closed-form third derivative; vmap of the Hessian (the
    batching rule) against the closed form per row. (The mirror's input is
    symmetric here; test_mirror_jvp_and_vjp_on_an_unsymmetric_input checks
    the rules where it is not.)"""
    rng = np.random.default_rng(3)
    x, a, b = rng.standard_normal(6), 0.5 * rng.standard_normal(6), rng.standard_normal(6)
    W = rng.standard_normal((6, 6))
    xs = rng.standard_normal((3, 6))
    fns = gradc.jit(lambda x, a, b, xs: (
        gradc.jacfwd(gradc.hessian(cubic))(x, a, b),
        gradc.grad(lambda x: gnp.sum(W * gradc.hessian(cubic)(x, a, b)))(x),
        gradc.vmap(gradc.hessian(cubic), in_axes=(0, None, None))(xs, a, b)))
    third, weighted, batched = fns(x, a, b, xs)
    step = 1e-5
    central = np.stack([(cubic_hessian(x + step * e, a, b) - cubic_hessian(x - step * e, a, b)) / (2 * step)
                        for e in np.eye(6)], axis=-1)
    np.testing.assert_allclose(third, central, rtol=1e-6, atol=1e-6)
    exact = np.zeros((6, 6, 6))
    exact[np.arange(6), np.arange(6), np.arange(6)] = a**3 * np.exp(a * x)
    exact += 6 * np.einsum("i,j,k->ijk", b, b, b)
    np.testing.assert_allclose(weighted, np.einsum("ij,ijk->k", W, exact), rtol=1e-12, atol=1e-12)
    for row, got in zip(xs, batched, strict=True):
        assert np.array_equal(got, got.T)
        np.testing.assert_allclose(got, cubic_hessian(row, a, b), rtol=1e-12, atol=1e-12)


def two_arguments(x, z, c, d):
    return (gnp.sum(gnp.sin(x)) * gnp.sum(z * z) + gnp.sum(x * c) * gnp.sum(z * d)
            + gnp.sum(x * c) ** 2 + gnp.sum(z * d) ** 2)


def test_hessian_blocks_of_two_arguments() -> None:
    """hessian(argnums=(0, 1)): diagonal blocks bitwise symmetric, block
    (1, 0) bitwise the transpose of block (0, 1) (x of shape 2x2, so the
    transpose is of a 2x2x3 block), all equal to the closed form."""
    rng = np.random.default_rng(7)
    x, c = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    z, d = rng.standard_normal(3), rng.standard_normal(3)
    (hxx, hxz), (hzx, hzz) = gradc.hessian(two_arguments, argnums=(0, 1))(x, z, c, d)
    xf, cf = x.reshape(-1), c.reshape(-1)
    want_xx = np.diag(-np.sin(xf) * np.sum(z * z)) + 2 * np.outer(cf, cf)
    want_xz = np.outer(np.cos(xf), 2 * z) + np.outer(cf, d)
    want_zz = 2 * np.eye(3) * np.sum(np.sin(x)) + 2 * np.outer(d, d)
    assert np.array_equal(hxx.reshape(4, 4), hxx.reshape(4, 4).T) and np.array_equal(hzz, hzz.T)
    assert np.array_equal(hzx, np.transpose(hxz, (2, 0, 1)))
    np.testing.assert_allclose(hxx.reshape(4, 4), want_xx, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(hxz.reshape(4, 3), want_xz, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(hzz, want_zz, rtol=1e-13, atol=1e-14)


# ---------------------------------------------------------------------------
# Lowering: only the kept triangle of a mirrored product is computed
# ---------------------------------------------------------------------------

PRODUCTS = """
func.func @upper(%a: tensor<2x{n}x{k}xf64>, %b: tensor<2x{k}x{n}xf64>) -> tensor<2x{n}x{n}xf64> {{
  %p = array.matmul %a, %b : tensor<2x{n}x{k}xf64>, tensor<2x{k}x{n}xf64> -> tensor<2x{n}x{n}xf64>
  %m = array.mirror %p : tensor<2x{n}x{n}xf64>
  func.return %m : tensor<2x{n}x{n}xf64>
}}
func.func @lower(%a: tensor<{n}x{k}xf64>, %b: tensor<{k}x{n}xf64>) -> tensor<{n}x{n}xf64> {{
  %p = array.matmul %a, %b : tensor<{n}x{k}xf64>, tensor<{k}x{n}xf64> -> tensor<{n}x{n}xf64>
  %t = array.transpose %p perm [1, 0] : tensor<{n}x{n}xf64> -> tensor<{n}x{n}xf64>
  %m = array.mirror %t : tensor<{n}x{n}xf64>
  func.return %m : tensor<{n}x{n}xf64>
}}
func.func @other(%a: tensor<{n}x{n}xf64>, %b: tensor<{n}x{n}xf64>) -> tensor<{n}x{n}xf64> {{
  %s = array.add %a, %b : tensor<{n}x{n}xf64>
  %m = array.mirror %s : tensor<{n}x{n}xf64>
  func.return %m : tensor<{n}x{n}xf64>
}}
"""


@pytest.mark.parametrize("tiling", [
    "",
    ",tile-matmul{direct-bytes=0 vector-bytes=32 mr=3 nr=8 kc=7 mc=9 nc=16}",  # packed, uneven edges
    ",tile-matmul{vector-bytes=16 mr=4 nr=4}",  # direct
])
def test_mirrored_products_compute_one_triangle(tiling: str) -> None:
    """At the loops level (interpreted: the triangle a `loops.matmul` may
    leave out is NaN there), the mirror of a product, of its transpose and
    of a sum equal NumPy's; the products carry their triangle."""
    n, k = 19, 11
    module = Parser(make_context(), PRODUCTS.format(n=n, k=k)).parse_module()
    run_pipeline(module, "lower-array-to-loops" + tiling)
    module.verify()
    text = str(module)
    if not tiling:
        assert 'triangle "upper"' in text and 'triangle "lower"' in text
    else:
        assert "loops.switch" in text and "loops.matmul" not in text
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, n, k)), rng.standard_normal((2, k, n))
    (got,) = run_function(module, "upper", a, b)
    np.testing.assert_allclose(got, mirror_upper(a @ b), rtol=1e-13)
    (got,) = run_function(module, "lower", a[0], b[0])
    np.testing.assert_allclose(got, mirror_upper((a[0] @ b[0]).T), rtol=1e-13)
    x, y = rng.standard_normal((2, n, n))
    (got,) = run_function(module, "other", x, y)
    np.testing.assert_array_equal(got, mirror_upper(x + y))


TRIANGLE = """
func.func @p(%a: memref<32x5xf64>, %b: memref<5x32xf64>, %c: memref<32x32xf64>) attributes {{loops.num_inputs = 2 : i64}} {{
  loops.matmul %a, %b into %c triangle "{triangle}" : memref<32x5xf64>, memref<5x32xf64> into memref<32x32xf64>
  func.return
}}
"""


@pytest.mark.parametrize("triangle", ["upper", "lower"])
def test_tile_matmul_skips_tiles_outside_the_triangle(triangle: str) -> None:
    """A 32 x 32 product in 8 x 8 register tiles into a NaN-filled output:
    the tiles meeting the triangle hold the product, the 6 wholly outside it
    are never written."""
    module = Parser(make_context(), TRIANGLE.format(triangle=triangle)).parse_module()
    run_pipeline(module, "tile-matmul{vector-bytes=32 mr=8 nr=8}")
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((32, 5)), rng.standard_normal((5, 32))
    (got,) = run_function(module, "p", a, b)
    outside = np.kron(np.tri(4, k=-1), np.ones((8, 8))).astype(bool)
    if triangle == "lower":
        outside = outside.T
    np.testing.assert_array_equal(np.isnan(got), outside)
    np.testing.assert_allclose(got[~outside], (a @ b)[~outside], rtol=1e-13)


@pytest.mark.parametrize("tiling", [
    "tile-matmul{vector-bytes=16 mr=4 nr=4}",
    "tile-matmul{vector-bytes=32 mr=2 nr=12}",  # tiles three vectors wide: narrowed across the diagonal
    "tile-matmul{vector-bytes=64 mr=8 nr=16}",
    "tile-matmul{direct-bytes=0 vector-bytes=32 mr=3 nr=8 kc=7 mc=9 nc=16}",
    "tile-matmul{direct-bytes=0 vector-bytes=32 mr=6 nr=12 kc=4 mc=12 nc=12}",
])
@pytest.mark.parametrize("triangle", ["upper", "lower"])
def test_tiled_triangles_hold_the_product(tiling: str, triangle: str) -> None:
    """19 x 19 products (edge tiles in both directions, blocks off the
    diagonal): every element of the triangle is the product's, and some of
    the rest is never computed."""
    text = TRIANGLE.replace("32x5", "19x11").replace("5x32", "11x19").replace("32x32", "19x19")
    module = Parser(make_context(), text.format(triangle=triangle)).parse_module()
    run_pipeline(module, tiling)
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((19, 11)), rng.standard_normal((11, 19))
    (got,) = run_function(module, "p", a, b)
    kept = np.triu(np.ones((19, 19), bool)) if triangle == "upper" else np.tril(np.ones((19, 19), bool))
    np.testing.assert_allclose(got[kept], (a @ b)[kept], rtol=1e-13)
    assert np.isnan(got).sum() > 19 * 19 // 5


RULES = """
func.func @f(%x: tensor<2x3x3xf64>) -> tensor<2x3x3xf64> {
  %s = array.mul %x, %x : tensor<2x3x3xf64>
  %m = array.mirror %s : tensor<2x3x3xf64>
  func.return %m : tensor<2x3x3xf64>
}
func.func @main(%x: tensor<2x3x3xf64>, %t: tensor<2x3x3xf64>, %g: tensor<2x3x3xf64>) -> (tensor<2x3x3xf64>, tensor<2x3x3xf64>) {
  %y, %dy = autodiff.jvp @f(%x) tangents(%t) wrt [0] : (tensor<2x3x3xf64>), (tensor<2x3x3xf64>) -> (tensor<2x3x3xf64>), (tensor<2x3x3xf64>)
  %z, %gx = autodiff.vjp @f(%x) cotangents(%g) wrt [0] : (tensor<2x3x3xf64>), (tensor<2x3x3xf64>) -> (tensor<2x3x3xf64>), (tensor<2x3x3xf64>)
  func.return %dy, %gx : tensor<2x3x3xf64>, tensor<2x3x3xf64>
}
"""


def test_mirror_jvp_and_vjp_on_an_unsymmetric_input() -> None:
    """The rules alone (the array interpreter, no C), on x * x, which is not
    symmetric, with batch dimensions: the JVP mirrors 2 x t; the VJP sends
    g[i, j] + g[j, i] to the upper triangle, g[i, i] to the diagonal and
    nothing below (NumPy's transpose of the mirror as a 0/1 matrix)."""
    module = Parser(make_context(), RULES).parse_module()
    run_pipeline(module, "differentiate")
    rng = np.random.default_rng(8)
    x, t, g = rng.standard_normal((3, 2, 3, 3))
    dy, gx = run_function(module, "main", x, t, g)
    np.testing.assert_allclose(dy, mirror_upper(2 * x * t), rtol=1e-15)
    n = 3
    mirror = np.zeros((n * n, n * n))  # d mirror(s)_flat / d s_flat
    for i in range(n):
        for j in range(n):
            mirror[i * n + j, min(i, j) * n + max(i, j)] = 1.0
    want = np.stack([2 * xb * (mirror.T @ gb.reshape(-1)).reshape(n, n) for xb, gb in zip(x, g)])
    np.testing.assert_allclose(gx, want, rtol=1e-15)


def test_mirror_verifier_and_sparsity() -> None:
    """Square matrices only; the pattern of the mirror of x * x is element
    (min(i, j), max(i, j)) of x."""
    bad = "func.func @f(%a: tensor<2x3xf64>) -> tensor<2x3xf64> {\n  %m = array.mirror %a : tensor<2x3xf64>\n  func.return %m : tensor<2x3xf64>\n}"
    with pytest.raises(VerifyException, match="n, n"):
        Parser(make_context(), bad).parse_module().verify()
    text = """
func.func @f(%x: tensor<3x3xf64>) -> tensor<3x3xf64> {
  %s = array.mul %x, %x : tensor<3x3xf64>
  %m = array.mirror %s : tensor<3x3xf64>
  func.return %m : tensor<3x3xf64>
}"""
    module = Parser(make_context(), text).parse_module()
    fn = next(op for op in module.ops)
    pattern = jacobian_pattern(module, fn, [0])
    want = {(3 * i + j, 3 * min(i, j) + max(i, j)) for i in range(3) for j in range(3)}
    assert set(zip(pattern.rows.tolist(), pattern.cols.tolist())) == want
