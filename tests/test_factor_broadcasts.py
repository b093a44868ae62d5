"""factor-broadcasts keeps the meaning (interpreter before == after on
random chains with infinities and NaNs, exactly where the arithmetic is
exact) and never adds work;
Hessians of generalized linear models and an MLP against closed forms."""

import numpy as np
import pytest
from xdsl.parser import Parser

import gradc
import gradc.numpy as gnp
from gradc.interpreter import run_function
from gradc.pipeline import make_context, run_pipeline

R, C = 3, 5
FULL = f"tensor<{R}x{C}xf64>"
VEC = f"tensor<{C}xf64>"
MASK = f"tensor<{C}xi1>"


def random_chain(rng: np.random.Generator) -> str:
    """A function of two bases T, U (RxC) and four C-vectors: broadcast
    scalings, masks from comparisons of the vectors, a chain of the ops the
    pass rewrites (and some it must leave alone), several results."""
    lines = []
    vecs = ["%v0", "%v1", "%v2", "%v3"]
    full = ["%t", "%t", "%t", "%u", "%zero"]
    sinks: list[str] = []  # squares and exps: results only (inexact)
    n = 0

    def new(text: str) -> str:
        nonlocal n
        n += 1
        lines.append(f"  %x{n} = {text}")
        return f"%x{n}"

    lines.append(f"  %zero = array.constant dense<0.0> : {FULL}")
    scales = [new(f"array.broadcast {v} dims [1] : {VEC} -> {FULL}") for v in vecs[:3]]
    divisor = new(f"array.broadcast %v3 dims [1] : {VEC} -> {FULL}")
    masks = []
    for a, b in [("%v0", "%v1"), ("%v1", "%v2"), ("%v2", "%v0")]:
        m = new(f"array.compare {rng.choice(['gt', 'ge', 'ne'])} {a}, {b} : {VEC}")
        masks.append(new(f"array.broadcast {m} dims [1] : {MASK} -> tensor<{R}x{C}xi1>"))
    for _ in range(int(rng.integers(3, 14))):
        a, b = (full[int(i)] for i in rng.integers(len(full), size=2))
        a = full[-1] if rng.random() < 0.5 else a  # mostly chains
        kind = rng.choice(["neg", "mul", "rmul", "div", "add", "sub", "select", "select", "square", "exp"])
        if kind == "neg":
            full.append(new(f"array.neg {a} : {FULL}"))
        elif kind in ("mul", "rmul"):
            s = scales[int(rng.integers(3))]
            full.append(new(f"array.mul {a}, {s} : {FULL}" if kind == "mul" else f"array.mul {s}, {a} : {FULL}"))
        elif kind == "div":
            full.append(new(f"array.div {a}, {divisor} : {FULL}"))
        elif kind in ("add", "sub"):
            full.append(new(f"array.{kind} {a}, {b} : {FULL}"))
        elif kind == "select":
            m = masks[int(rng.integers(3))]
            full.append(new(f"array.select {m}, {a}, {b} : tensor<{R}x{C}xi1>, {FULL}"))
            if rng.random() < 0.3:  # the other branch too, and their sum (the pieces of max)
                other = new(f"array.select {m}, {b}, {a} : tensor<{R}x{C}xi1>, {FULL}")
                full.append(new(f"array.{rng.choice(['add', 'sub'])} {full[-1]}, {other} : {FULL}"))
        elif kind == "square":
            sinks.append(new(f"array.mul {a}, {a} : {FULL}"))  # not a scaling: left alone
        else:
            sinks.append(new(f"array.exp {a} : {FULL}"))  # leaves the family
    picked = {full[-1], *(full[int(i)] for i in rng.integers(4, len(full), size=2))}
    results = sorted(picked - {"%t", "%u", "%zero"} | set(sinks)) or ["%t"]
    types = ", ".join([FULL] * len(results))
    return (
        f"func.func @f(%t: {FULL}, %u: {FULL}, %v0: {VEC}, %v1: {VEC}, %v2: {VEC}, %v3: {VEC}) -> ({types}) {{\n"
        + "\n".join(lines)
        + f"\n  func.return {', '.join(results)} : {types}\n}}\n"
    )


def random_inputs(rng: np.random.Generator) -> list[np.ndarray]:
    """Small integers and powers of two (every sum and product in the chains
    is exact, so reassociation changes nothing), with zeros, infinities and
    NaNs."""
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])

    def draw(shape: tuple[int, ...], values: np.ndarray) -> np.ndarray:
        x = rng.choice(values, size=shape)
        odd = rng.random(shape) < 0.1
        return np.where(odd, rng.choice(special, size=shape), x)

    ints = np.arange(-3.0, 4.0)
    t, u = draw((R, C), ints), draw((R, C), ints)
    vs = [draw((C,), np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])) for _ in range(3)]
    return [t, u, *vs, draw((C,), np.array([-4.0, -2.0, -1.0, -0.5, 0.5, 2.0]))]


def full_size_ops(module, full: str) -> int:
    return sum(
        1
        for op in module.walk()
        if op.name.startswith("array.")
        and op.name not in ("array.broadcast", "array.constant")
        and str(op.results[0].type) == full
    )


@pytest.mark.parametrize("dtype", ["f64", "f32"])
def test_random_chains_keep_their_values_and_never_add_work(dtype: str) -> None:
    rng = np.random.default_rng(17)
    ctx = make_context()
    rewritten = 0
    for _ in range(40):
        source = random_chain(rng).replace("xf64>", f"x{dtype}>")
        module = Parser(ctx, source).parse_module()
        run_pipeline(module, "dce")
        args = [a.astype(np.float32 if dtype == "f32" else np.float64) for a in random_inputs(rng)]
        full = FULL.replace("f64", dtype)
        with np.errstate(all="ignore"):
            before, ops_before = run_function(module, "f", *args), full_size_ops(module, full)
        run_pipeline(module, "factor-broadcasts,dce")
        module.verify()
        with np.errstate(all="ignore"):
            after, ops_after = run_function(module, "f", *args), full_size_ops(module, full)
        assert ops_after <= ops_before, source
        rewritten += ops_after < ops_before
        for b, a in zip(before, after, strict=True):
            # NaN where NaN, infinities of the same sign; exact arithmetic:
            # the finite values are equal (exp of equal values too)
            assert a.dtype == b.dtype == args[0].dtype
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=source)
            np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)], err_msg=source)
    assert rewritten >= 12


# ---------------------------------------------------------------------------
# Hessians (forward over reverse: batched tangents scaled by broadcasts)
# ---------------------------------------------------------------------------

N, D, K = 40, 6, 3


def data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((N, D)), rng.standard_normal(D) * 0.3


def elementwise_over_full(lowered, rows: int, cols: int) -> int:
    """How many elementwise ops of the simplified IR work on rows x cols."""
    shape = f"tensor<{rows}x{cols}xf64>"
    skip = ("array.broadcast", "array.constant", "array.matmul", "array.transpose", "array.reshape")
    return sum(
        1
        for line in lowered.simplified_ir.splitlines()
        if " = array." in line and not any(s in line for s in skip) and line.rstrip().endswith(shape)
    )


ELEMENTWISE_SKIP = ("array.broadcast", "array.constant", "array.reshape", "array.transpose", "array.matmul")


def elementwise_work(module) -> int:
    """Elements written by the module's elementwise-like ops."""
    return sum(
        int(np.prod(op.results[0].type.get_shape()))
        for op in module.walk()
        if op.name.startswith("array.") and op.name not in ELEMENTWISE_SKIP and op.results
    )


def simplified(lowered):
    """The simplified module, and the element work without factor-broadcasts."""
    without = run_pipeline(lowered._module_after("differentiated").clone(), "array-simplify,canonicalize,cse,dce")
    return lowered._module_after("simplified"), elementwise_work(without)


def check_hessian(f, expected: np.ndarray, *args: np.ndarray, full: tuple[int, int], at_most: int, compiled: bool = False) -> None:
    lowered = gradc.lower(gradc.hessian(f), *args)
    assert elementwise_over_full(lowered, *full) <= at_most, lowered.simplified_ir
    module = lowered._module_after("simplified")
    (got,) = run_function(module, lowered.name, *args)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    if compiled:
        np.testing.assert_allclose(gradc.jit(gradc.hessian(f))(*args), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_logistic_regression_hessian() -> None:
    rng = np.random.default_rng(0)
    X, w = data(rng)
    y = (rng.random(N) < 0.5).astype(float)

    def loss(w, X, y):
        z = X @ w
        return gnp.mean(gnp.logaddexp(0.0, z) - y * z)

    s = 1 / (1 + np.exp(-X @ w))
    check_hessian(loss, (X.T * (s * (1 - s) / N)) @ X, w, X, y, full=(D, N), at_most=7, compiled=True)


def test_poisson_regression_hessian() -> None:
    rng = np.random.default_rng(1)
    X, w = data(rng)
    y = rng.poisson(1.0, N).astype(float)

    def loss(w, X, y):
        z = X @ w
        return gnp.sum(gnp.exp(z) - y * z)

    check_hessian(loss, (X.T * np.exp(X @ w)) @ X, w, X, y, full=(D, N), at_most=2)


def test_softmax_regression_hessian() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((N, D))
    W = rng.standard_normal((D, K)) * 0.3
    y = np.eye(K)[rng.integers(K, size=N)]

    def loss(W, X, y):
        z = X @ W
        z = z - gnp.max(z, axis=1, keepdims=True)
        return -gnp.sum(y * (z - gnp.log(gnp.sum(gnp.exp(z), axis=1, keepdims=True))))

    z = X @ W
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    # d2/dW[a,i] dW[b,j] = sum_n X[n,a] X[n,b] (p_i delta_ij - p_i p_j)
    inner = np.einsum("ni,ij->nij", p, np.eye(K)) - np.einsum("ni,nj->nij", p, p)
    expected = np.einsum("na,nb,nij->aibj", X, X, inner)
    lowered = gradc.lower(gradc.hessian(loss), W, X, y)
    module, unfactored = simplified(lowered)
    assert elementwise_work(module) < unfactored
    (got,) = run_function(module, lowered.name, W, X, y)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_mlp_hessian() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, 4))
    w1 = rng.standard_normal(20) * 0.5
    w2 = rng.standard_normal(5) * 0.5
    y = rng.standard_normal(N)

    def loss(w1, X, w2, y):
        h = gnp.tanh(X @ gnp.reshape(w1, (4, 5)))
        return gnp.mean((h @ w2 - y) ** 2)

    # L = mean(r^2), r = tanh(X W1) w2 - y: with g = w2 (1 - h^2),
    # d2L/dW1[i,j] dW1[k,l] = 2/N sum_n X[n,i] X[n,k] (g[n,j] g[n,l] - 2 [j=l] r[n] h[n,j] g[n,j])
    h = np.tanh(X @ w1.reshape(4, 5))
    r = h @ w2 - y
    g = w2 * (1 - h**2)
    inner = np.einsum("nj,nl->njl", g, g) - 2 * np.einsum("n,nj,jl->njl", r, h * g, np.eye(5))
    expected = (2 / N * np.einsum("ni,nk,njl->ijkl", X, X, inner)).reshape(20, 20)
    lowered = gradc.lower(gradc.hessian(loss), w1, X, w2, y)
    module, unfactored = simplified(lowered)
    assert elementwise_work(module) < unfactored
    (got,) = run_function(module, lowered.name, w1, X, w2, y)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
