"""Structural Jacobian and Hessian patterns (passes/autodiff/sparsity.py)
against patterns found numerically: central differences of the array
interpreter (Jacobians) or of NumPy (Hessians, second differences) at a few
random points. Every numerically nonzero entry must be in the structural
pattern (no false negatives); where the structural pattern is exact the two
are equal, and where it has false positives by design (docs/sparsity.md)
the test says which. No C builds."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

import gradc
import gradc.lax as lax
import gradc.numpy as gnp
import gradc.scipy.linalg as gsl
from gradc.interpreter import run_function
from gradc.passes.autodiff.sparsity import fallback_ops, hessian_pattern, jacobian_pattern
from gradc.pipeline import DIFFERENTIATE, make_context, run_pipeline

from fuzz.programs import batches, make_args, requested

RNG_POINTS = 3
"""Random points the numerical patterns are united over."""


def _traced(f: Callable, *args: np.ndarray, differentiate: bool = False) -> tuple[ModuleOp, func.FuncOp]:
    """The array-level module of `f` (its requests expanded with
    `differentiate`) and its top-level function."""
    lowered = gradc.lower(f, *args)
    module = lowered.traced.module.clone()
    if differentiate:
        run_pipeline(module, DIFFERENTIATE)
    fn = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == lowered.name)
    return module, fn


def _dense(pattern) -> np.ndarray:
    out = np.zeros(pattern.shape, bool)
    out[pattern.rows, pattern.cols] = True
    return out


def _random_args(args: Sequence[np.ndarray], rng: np.random.Generator, low: float, high: float) -> list[np.ndarray]:
    return [rng.uniform(low, high, a.shape) if a.dtype.kind == "f" else a for a in args]


def _numeric_jacobian(module: ModuleOp, name: str, args: Sequence[np.ndarray], wrt: Sequence[int],
                      low: float, high: float) -> np.ndarray:
    """Where central differences of the interpreter are nonzero, at
    RNG_POINTS random points."""
    rng = np.random.default_rng(0)
    return _differences(module, name, [_random_args(args, rng, low, high) for _ in range(RNG_POINTS)], wrt)


def _differences(module: ModuleOp, name: str, points: Sequence[Sequence[np.ndarray]], wrt: Sequence[int]) -> np.ndarray:
    """Where central differences of the interpreter are nonzero at any of
    `points` (argument lists)."""
    found = None
    for xs in points:

        def flat(values: list[np.ndarray]) -> np.ndarray:
            return np.concatenate([np.ravel(v) for v in run_function(module, name, *values)])

        scale = max(1.0, float(np.max(np.abs(flat(list(xs))), initial=0.0)))
        columns = []
        for i in wrt:
            for e in range(xs[i].size):
                h = 1e-6 * max(1.0, abs(xs[i].flat[e]))
                plus, minus = [x.copy() for x in xs], [x.copy() for x in xs]
                plus[i].flat[e] += h
                minus[i].flat[e] -= h
                columns.append(np.abs(flat(plus) - flat(minus)) / (2 * h) > 1e-6 * scale)
        here = np.stack(columns, axis=1)
        found = here if found is None else found | here
    assert found is not None
    return found


def check_jacobian(f: Callable, args: Sequence[np.ndarray], wrt: Sequence[int] = (0,), *,
                   extra: Sequence[tuple[int, int]] = (), expected: np.ndarray | None = None,
                   differentiate: bool = False, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """The structural pattern of f's Jacobian, checked: no false negatives
    against finite differences, and equal to them but for `extra` (the
    false positives expected, as (row, col)), or equal to `expected` (where
    values at random points hide entries: kinks, branches)."""
    module, fn = _traced(f, *args, differentiate=differentiate)
    pattern = jacobian_pattern(module, fn, wrt)
    assert pattern.rows.dtype == np.int64 and pattern.cols.dtype == np.int64
    flat = pattern.rows * pattern.shape[1] + pattern.cols
    assert np.all(np.diff(flat) > 0), "rows/cols must be sorted row-major and unique"
    structural = _dense(pattern)
    numeric = _numeric_jacobian(module, fn.sym_name.data, args, wrt, low, high)
    assert structural.shape == numeric.shape
    missing = np.argwhere(numeric & ~structural)
    assert not missing.size, f"false negatives at {missing.tolist()}"
    if expected is None:
        expected = numeric.copy()
        for r, c in extra:
            assert not numeric[r, c], f"({r}, {c}) is not a false positive"
            expected[r, c] = True
    assert np.array_equal(structural, expected), f"differs at {np.argwhere(structural != expected).tolist()}"
    return structural


def _x(*shape: int) -> np.ndarray:
    return np.zeros(shape)


# ---------------------------------------------------------------------------
# Jacobians, by op family
# ---------------------------------------------------------------------------


def test_elementwise_broadcasting_and_wrt_subsets() -> None:
    def f(x, y, c):
        return gnp.sin(x) * y + gnp.exp(x[None, :] * c), gnp.tanh(y) ** 2

    args = [_x(3), _x(2, 3), _x(2, 1)]
    for wrt in ([0], [1], [0, 1], [1, 0], [0, 1, 2]):
        check_jacobian(f, args, wrt)


def test_shape_ops() -> None:
    def f(x, y):
        a = gnp.transpose(gnp.reshape(x, (3, 4)))  # 4x3
        b = gnp.concatenate([a[::-1, 1:], y[:, None]], axis=1)  # 4x3
        c = gnp.broadcast_to(y[None, :], (2, 4))
        d = gnp.pad(y[1:3], (2, 1))
        return b[1::2, ::-1] * 2.0, c, d, gnp.expand_dims(x[::5], 0)

    pattern = check_jacobian(f, [_x(12), _x(4)], [0, 1])
    assert pattern.sum() < pattern.size / 4  # pure data movement: one column per element at most
    assert (pattern.sum(axis=1) <= 1).all()


def test_reductions() -> None:
    def f(x):
        return gnp.sum(x, axis=0), gnp.mean(x ** 2), gnp.sum(x, axis=(0, 1), keepdims=True), gnp.prod(x, axis=0)

    check_jacobian(f, [_x(3, 4)])
    # A maximum depends on the element that is largest: structurally, on all.
    rows = np.kron(np.eye(3, dtype=bool), np.ones((1, 4), bool))
    check_jacobian(lambda x: gnp.max(x, axis=1), [_x(3, 4)], expected=rows)


def test_matmul_traced_operands() -> None:
    def f(a, b):
        return a @ b

    # (a @ b)[i, j] depends on row i of a and column j of b.
    check_jacobian(f, [_x(2, 3), _x(3, 4)], [0, 1])
    check_jacobian(lambda a, v: gnp.einsum("bij,bj->bi", a, v), [_x(2, 3, 3), _x(2, 3)], [0, 1])


def test_matmul_with_a_constant_sparse_matrix_is_exact() -> None:
    n = 7
    lap = np.diag(-2.0 * np.ones(n)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    lap[0, 3] = 0.5
    structural = check_jacobian(lambda x: lap @ gnp.sin(x) + x ** 3, [_x(n)])
    assert np.array_equal(structural, lap != 0)
    # On the right: x @ M, M known; a matrix built from constants (an eye
    # times a scalar, a shifted eye) counts as known too.
    check_jacobian(lambda x: gnp.reshape(x, (2, n)) @ (gnp.eye(n) * 3.0 + gnp.eye(n, k=2)), [_x(2 * n)])


def test_constant_matrix_with_cancellation_is_a_false_positive() -> None:
    m = np.array([[1.0, 1.0], [1.0, -1.0]])

    def f(x):
        return m @ (m @ x)  # = 2 x: the off-diagonal terms cancel

    # Structure sees row i of m @ m as reaching both columns.
    check_jacobian(f, [_x(2)], extra=[(0, 1), (1, 0)])
    # x - x cancels; a product with a known zero does not count.
    check_jacobian(lambda x: x - x + x[::-1] * 0.0, [_x(3)], extra=[(0, 0), (1, 1), (2, 2)])


def test_gather_and_scatter_with_constant_indices() -> None:
    def f(x, y):
        a = x[np.array([2, 0, 2, 4])]
        b = gnp.take(x, np.array([[1, 3], [0, 0]]))
        c = x.at[np.array([1, 1, 3])].add(y)
        d = x.at[np.array([0, 2, 0])].set(y)  # x[0] and x[2] are overwritten
        e = gnp.take_along_axis(gnp.reshape(x, (5, 1)) * y, np.array([[2], [0]]), axis=0)
        return a, b, c, d, e

    check_jacobian(f, [_x(5), _x(3)], [0, 1])


def test_indexing_by_traced_indices_is_conservative() -> None:
    def f(x, k):
        i = gnp.argmax(x[:3])  # traced (and zero derivative itself)
        a = x[k]  # an integer argument: unknown
        b = lax.dynamic_slice(x, (k[0],), (2,))
        c = x.at[k].add(x[:2] * 2.0)
        d = lax.dynamic_update_slice(x, x[:2] * 3.0, (i,))
        return a, b, c, d

    k = np.array([1, 3])
    structural = check_jacobian(f, [_x(5), k], [0], extra=_traced_extras(f, k))
    assert structural[:2].all()  # x[k]: each row may read any element


def _traced_extras(f: Callable, k: np.ndarray) -> list[tuple[int, int]]:
    """The false positives of test_indexing_by_traced_indices_is_conservative:
    every entry of the rows a traced index makes dense but the
    dependences that the values k = [1, 3] and argmax of the sample take.
    Found as: all entries the conservative rules give, minus what the
    differences see (the differences are computed by the caller)."""
    module, fn = _traced(f, _x(5), k)
    structural = _dense(jacobian_pattern(module, fn, [0]))
    numeric = _numeric_jacobian(module, fn.sym_name.data, [_x(5), k], [0], -1.0, 1.0)
    # What the rules must give, written out: x[k] rows dense; the dynamic
    # slice's two rows dense; x.at[k].add(x[:2] * 2) is x plus x[0], x[1]
    # anywhere; the update by x[:2] * 3 at a traced start is x or x[0:2]
    # anywhere.
    rows = np.zeros((2 + 2 + 5 + 5, 5), bool)
    rows[0:4] = True
    rows[4:9] = np.eye(5, dtype=bool)
    rows[4:9, 0:2] = True
    rows[9:14] = np.eye(5, dtype=bool)
    rows[9:14, 0:2] = True
    assert np.array_equal(structural, rows)
    return [tuple(rc) for rc in np.argwhere(structural & ~numeric)]


def test_indices_known_at_compile_time_are_exact() -> None:
    """The ops of traced indexing (scatter add and set, dynamic_gather,
    dynamic_slice, dynamic_update_slice), with the index argument replaced
    by a constant (repeated: the add sums both rows, the set keeps the
    last)."""
    def f(x, k):
        return (x.at[k].add(x[:2] * 2.0), x[k], lax.dynamic_slice(x, (k[0],), (2,)), x.at[k].set(x[1::-1]),
                lax.dynamic_update_slice(x, x[:2] * 3.0, (k[1],)))

    text = gradc.lower(f, _x(5), np.array([1, 3])).array_ir
    head = "func.func @f(%0: tensor<5xf64>, %1: tensor<2xi64>)"
    assert head in text
    lines = text.replace(head, "func.func @f(%0: tensor<5xf64>)").split("\n")
    at = next(k for k, line in enumerate(lines) if "func.func @f" in line) + 1
    lines.insert(at, "    %1 = array.constant dense<[1, 1]> : tensor<2xi64>")
    text = "\n".join(lines)
    module = Parser(make_context(), text).parse_module()
    fn = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    structural = _dense(jacobian_pattern(module, fn, [0]))
    assert np.array_equal(structural, _numeric_jacobian(module, "f", [_x(5)], [0], -1.0, 1.0))
    eye = np.eye(5, dtype=bool)
    assert np.array_equal(structural[1], [1, 1, 0, 0, 0])  # x[1] + 2 x[0] + 2 x[1]
    assert np.array_equal(structural[5:7], eye[[1, 1]])
    assert np.array_equal(structural[7:9], eye[1:3])
    assert np.array_equal(structural[9:14], eye[[0, 0, 2, 3, 4]])  # x.at[[1, 1]].set([x1, x0]): x0 last
    assert np.array_equal(structural[14:19], eye[[0, 0, 1, 3, 4]])


def test_scan_cumulative_sum_and_tridiagonal_solve() -> None:
    def cumsum(x):
        carry, ys = lax.scan(lambda c, v: (c + v, c * v), 0.0, x)
        return ys, carry

    structural = check_jacobian(cumsum, [_x(6)])
    assert structural[:6].sum() == 20  # ys[i] = c_i * x_i: x_0..x_i, but ys[0] = 0 * x_0

    def thomas(d, a):
        """Forward elimination and back substitution of a tridiagonal system
        with diagonal d, off-diagonals a (constant), right side ones."""
        def forward(carry, di):
            c_prev, r_prev = carry
            m = di - a * c_prev
            return (a / m, (1.0 - a * r_prev) / m), (a / m, (1.0 - a * r_prev) / m)

        _, (cs, rs) = lax.scan(forward, (gnp.zeros(()), gnp.zeros(())), d)

        def back(x_next, cr):
            c, r = cr
            x = r - c * x_next
            return x, x

        _, xs = lax.scan(back, gnp.zeros(()), (cs, rs), reverse=True)
        return xs

    # Each unknown of a tridiagonal solve depends on every diagonal entry.
    structural = check_jacobian(thomas, [np.zeros(5), np.zeros(())], [0, 1], low=3.0, high=4.0)
    assert structural.all()


def test_fori_loop_indexing_by_its_index_is_exact() -> None:
    def f(x):
        def body(i, acc):
            return acc.at[i].set(gnp.sin(x[i]) * x[i + 1])

        return lax.fori_loop(0, 4, body, gnp.zeros(4))

    structural = check_jacobian(f, [_x(5)])
    assert np.array_equal(structural, np.eye(5, dtype=bool)[:4] | np.eye(5, k=1, dtype=bool)[:4])


def test_while_loop_unites_every_trip_count() -> None:
    def f(x):
        def body(state):
            v, k = state
            return gnp.concatenate([v[1:], v[:1]]) * 0.5, k + 1

        v, _ = lax.while_loop(lambda s: (s[1] < 2) & (gnp.sum(s[0]) < 100.0), body, (x, 0))
        return v

    # Any number of rotations: every element may reach every position. The
    # loop runs exactly twice here, so rotations by 0, 1 and 3 are false
    # positives.
    structural = check_jacobian(f, [_x(4)], extra=[(r, (r + s) % 4) for r in range(4) for s in (0, 1, 3)])
    assert structural.all()


def test_cond_and_switch_unite_their_branches() -> None:
    def f(x, k):
        a = lax.cond(x[0] > 0.0, lambda v: v * 2.0, lambda v: v[::-1] + 0.0, x)
        b = lax.switch(k, [lambda v: v[:2], lambda v: v[1:3] * v[0]], x)
        return a, b

    # At random points some branches do not run: their entries are false
    # positives (the sum over points sees both cond branches).
    module, fn = _traced(f, _x(3), np.array(1))
    structural = _dense(jacobian_pattern(module, fn, [0]))
    expected = np.zeros((5, 3), bool)
    expected[:3] = np.eye(3, dtype=bool) | np.eye(3, dtype=bool)[::-1]
    expected[3:] = [[1, 1, 0], [1, 1, 1]]
    assert np.array_equal(structural, expected)
    numeric = _numeric_jacobian(module, fn.sym_name.data, [_x(3), np.array(1)], [0], -1.0, 1.0)
    assert not (numeric & ~structural).any()
    # A constant index chooses one branch: exact.
    check_jacobian(lambda x: lax.switch(1, [lambda v: v[:2], lambda v: v[1:3] * v[0]], x), [_x(3)])


def test_select_kinks_and_zero_derivatives() -> None:
    def f(x, y):
        a = gnp.where(x > y, x * 2.0, gnp.exp(y))
        b = gnp.maximum(x, y) + gnp.abs(x)
        c = gnp.floor(x) * y + gnp.sign(y) + (x > 0.0)
        d = gnp.clip(x, -0.5, 0.5) + x.astype(int).astype(float)
        return a, b, c, d

    eye = np.eye(3, dtype=bool)
    zero = np.zeros((3, 3), bool)
    expected = np.block([[eye, eye], [eye, eye], [zero, eye], [eye, zero]])
    check_jacobian(f, [_x(3), _x(3)], [0, 1], expected=expected)


def test_solve_is_dense_per_column() -> None:
    def f(a, b):
        return gnp.linalg.solve(a + 4.0 * gnp.eye(3), b)

    structural = check_jacobian(f, [_x(3, 3), _x(3, 2)], [0, 1])
    assert structural[:, :9].all()  # every entry of A
    check_jacobian(lambda a: gnp.linalg.slogdet(a + 3.0 * gnp.eye(2))[1], [_x(2, 2)])


def test_cholesky_and_triangular_solves_follow_the_triangles() -> None:
    # Cholesky reads the lower triangle; L[i, j] depends on the leading
    # block and on row i up to column j, and its upper triangle is zero.
    structural = check_jacobian(lambda a: gnp.linalg.cholesky(a + 6.0 * gnp.eye(4)), [_x(4, 4)])
    assert not structural.reshape(4, 4, 4, 4)[np.triu_indices(4, 1)].any()
    for lower in (True, False):
        for trans in (0, 1):
            for unit in (False, True):
                def f(a, b, lower=lower, trans=trans, unit=unit):
                    return gsl.solve_triangular(a + 4.0 * gnp.eye(4), b, lower=lower, trans=trans,
                                                unit_diagonal=unit)

                check_jacobian(f, [_x(4, 4), _x(4, 2)], [0, 1])


CALLS_IR = """
builtin.module {
  func.func @inner(%x: tensor<4xf64>, %s: tensor<f64>) -> (tensor<3xf64>, tensor<f64>) {
    %a = array.slice %x [1:4:1] : tensor<4xf64> -> tensor<3xf64>
    %b = array.slice %x [0:3:1] : tensor<4xf64> -> tensor<3xf64>
    %c = array.mul %a, %b : tensor<3xf64>
    %d = array.reduce_sum %c axes [0] : tensor<3xf64> -> tensor<f64>
    %e = array.mul %d, %s : tensor<f64>
    func.return %c, %e : tensor<3xf64>, tensor<f64>
  }
  func.func @outer(%x: tensor<4xf64>, %y: tensor<f64>) -> (tensor<3xf64>, tensor<f64>) {
    %c, %e = func.call @inner(%x, %y) : (tensor<4xf64>, tensor<f64>) -> (tensor<3xf64>, tensor<f64>)
    %z = array.exp %c : tensor<3xf64>
    %w = array.slice %x [0:1:1] : tensor<4xf64> -> tensor<1xf64>
    %v = array.reshape %w : tensor<1xf64> -> tensor<f64>
    %c2, %e2 = func.call @inner(%x, %v) : (tensor<4xf64>, tensor<f64>) -> (tensor<3xf64>, tensor<f64>)
    func.return %z, %e2 : tensor<3xf64>, tensor<f64>
  }
}
"""


def test_functions_calling_functions() -> None:
    """A `func.call` (what `differentiate` leaves before it inlines) is
    followed into its callee, twice with different arguments."""
    module = Parser(make_context(), CALLS_IR).parse_module()
    outer = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == "outer")
    structural = _dense(jacobian_pattern(module, outer, [0, 1]))
    numeric = _numeric_jacobian(module, "outer", [_x(4), _x()], [0, 1], -1.0, 1.0)
    assert np.array_equal(structural, numeric)
    assert np.array_equal(structural[:3, :4], np.eye(3, 4, dtype=bool) | np.eye(3, 4, k=1, dtype=bool))
    assert structural[3, :4].all() and not structural[3, 4]  # @inner's %s is x[0] on the second call

    # Transformations inside a function: differentiated first.
    def inner(x):
        return gnp.sum(gnp.sin(x[1:]) * x[:-1])

    def f(x, y):
        return gradc.grad(inner)(x) * y[0], gradc.jacfwd(lambda v: v[::-1] ** 2)(x)

    check_jacobian(f, [_x(4), _x(2)], [0, 1], differentiate=True)


def test_custom_rules_give_their_own_pattern() -> None:
    """A custom_jvp / custom_vjp op's pattern is its rule's: an elementwise
    rule is diagonal, a rule mixing neighbours is banded."""
    @gradc.custom_jvp
    def soft(x):
        return gnp.log1p(gnp.exp(x))

    @soft.defjvp
    def soft_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return soft(x), t / (1.0 + gnp.exp(-x))

    @gradc.custom_vjp
    def smooth(x, c):
        return x[1:] * x[:-1] + c

    def smooth_fwd(x, c):
        return smooth(x, c), x

    def smooth_bwd(x, g):
        pad = gnp.zeros(1)
        return gnp.concatenate([g * x[1:], pad]) + gnp.concatenate([pad, g * x[:-1]]), None

    smooth.defvjp(smooth_fwd, smooth_bwd)

    def f(x, c):
        return soft(x[::-1]), smooth(x, c)

    module, fn = _traced(f, _x(4), _x(3))
    assert any(op.name.startswith("autodiff.custom") for op in fn.walk())
    structural = _dense(jacobian_pattern(module, fn, [0, 1]))
    numeric = _numeric_jacobian(module, fn.sym_name.data, [_x(4), _x(3)], [0, 1], -1.0, 1.0)
    # c is not differentiated by the rule (None): its columns are empty,
    # though the primal adds it.
    numeric[:, 4:] = False
    assert np.array_equal(structural, numeric)
    assert np.array_equal(structural[:4, :4], np.eye(4, dtype=bool)[::-1])


def test_fallback_ops_are_listed() -> None:
    """The `array` ops without a rule of their own (taken as dense)."""
    assert fallback_ops() == []


# ---------------------------------------------------------------------------
# Hessians
# ---------------------------------------------------------------------------


def _numeric_hessian(f: Callable, n: int, low: float, high: float) -> np.ndarray:
    """Where second central differences of f (on NumPy) are nonzero."""
    rng = np.random.default_rng(1)
    found = np.zeros((n, n), bool)
    h = 1e-4
    eye = np.eye(n) * h
    for _ in range(RNG_POINTS):
        x = rng.uniform(low, high, n)
        scale = max(1.0, abs(float(f(x))))
        for i in range(n):
            for j in range(i, n):
                d = (f(x + eye[i] + eye[j]) - f(x + eye[i] - eye[j]) - f(x - eye[i] + eye[j])
                     + f(x - eye[i] - eye[j])) / (4 * h * h)
                found[i, j] |= abs(d) > 1e-4 * scale
                found[j, i] = found[i, j]
    return found


def check_hessian(f: Callable, n: int, *, reference: Callable | None = None, low: float = -1.0,
                  high: float = 1.0, others: Sequence[np.ndarray] = ()) -> np.ndarray:
    """The structural Hessian pattern of f with respect to its first
    argument (n elements; `others` give the shapes of the rest, of unknown
    value), checked equal to the one second differences of `reference` (f
    itself by default, on NumPy) see."""
    module, fn = _traced(f, _x(n), *others)
    pattern = hessian_pattern(module, fn, [0])
    structural = _dense(pattern)
    assert np.array_equal(structural, structural.T)
    numeric = _numeric_hessian(reference or f, n, low, high)
    assert not (numeric & ~structural).any(), f"false negatives at {np.argwhere(numeric & ~structural).tolist()}"
    assert np.array_equal(structural, numeric), f"false positives at {np.argwhere(structural & ~numeric).tolist()}"
    return structural


def test_rosenbrock_hessian_is_tridiagonal() -> None:
    def rosen(x):
        return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    structural = check_hessian(rosen, 8)
    assert np.array_equal(structural, np.abs(np.subtract.outer(np.arange(8), np.arange(8))) <= 1)


def test_arrow_hessian() -> None:
    def arrow(x):
        return gnp.sum(gnp.sin(x[:-1]) * x[-1]) + gnp.sum(x[:-1] ** 4)

    structural = check_hessian(arrow, 6)
    assert structural[-1, :-1].all() and not structural[-1, -1] and structural[:-1, :-1].sum() == 5


def test_separable_hessian_is_diagonal() -> None:
    def separable(x):
        return gnp.sum(gnp.exp(x) + gnp.cos(x) * x)

    assert np.array_equal(check_hessian(separable, 5), np.eye(5, dtype=bool))


def test_logistic_regression_hessian_is_dense() -> None:
    features = np.random.default_rng(2).normal(size=(7, 4))
    labels = np.array([0, 1, 1, 0, 1, 0, 0], dtype=float)

    def loss(w):
        z = features @ w
        return gnp.sum(gnp.log1p(gnp.exp(z)) - labels * z)

    assert check_hessian(loss, 4).all()


def test_hessian_of_a_scan_and_of_abs() -> None:
    def f(x):
        _, ys = lax.scan(lambda c, v: (v, c * v), 0.0, x)
        return gnp.sum(ys) + gnp.sum(gnp.abs(x) * 2.0)

    def reference(x):
        return np.sum(np.concatenate([[0.0], x[:-1]]) * x) + np.sum(np.abs(x) * 2.0)

    check_hessian(f, 5, reference=reference)


# ---------------------------------------------------------------------------
# Random programs
# ---------------------------------------------------------------------------


@seed(17)
@settings(max_examples=3, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(batches(size=10))
def test_random_programs_have_no_false_negatives(batch: list[dict]) -> None:
    """tests/fuzz/programs.py's programs with their requests (differentiated
    first), in float64, at their own domain-safe inputs and a second draw:
    every dependence the differences see is in the pattern, taken with
    respect to the program's inputs of at most MAX_COLUMNS elements."""
    for k, program in enumerate(batch):
        points = [[a.astype(np.float64) if a.dtype.kind == "f" else a for a in make_args(program, seed)]
                  for seed in (k, k + 100)]
        n = len(program["inputs"])

        def f(*xs: np.ndarray, program: dict = program) -> tuple:
            return tuple(requested(program, xs))

        module, fn = _traced(f, *points[0], differentiate=True)
        wrt = [i for i in range(n) if points[0][i].dtype.kind == "f" and points[0][i].size <= MAX_COLUMNS][:2]
        if not wrt:
            continue
        structural = _dense(jacobian_pattern(module, fn, wrt))
        numeric = _differences(module, fn.sym_name.data, points, wrt)
        missing = np.argwhere(numeric & ~structural)
        assert not missing.size, f"false negatives at {missing.tolist()} in {program}"


MAX_COLUMNS = 24


def test_hessian_through_padded_cotangents() -> None:
    """The gradient pads the slice's cotangent with zeros before the
    elementwise derivative: known zeros keep the unused elements out (the
    matrix is an argument: its values are unknown)."""
    w = np.random.default_rng(3).uniform(-1, 1, (7, 2))

    def f(x, m):
        return gnp.sum((m @ gnp.arctan(x)[2::-2]) * gnp.arange(7.0))

    structural = check_hessian(f, 5, reference=lambda x: f(x, w), others=[w])
    assert np.array_equal(structural, np.diag([True, False, True, False, False]))


def test_hessian_with_respect_to_several_arguments() -> None:
    """Columns (and rows) in wrt order; the argument not in wrt is constant."""
    def f(x, y, c):
        return gnp.sum(x[:2] * y) + gnp.sum(x ** 3) * c[0] + gnp.sum(gnp.sin(y))

    for wrt in ([0, 1], [1, 0]):
        module, fn = _traced(f, _x(3), _x(2), _x(1))
        structural = _dense(hessian_pattern(module, fn, wrt))
        sizes = {0: 3, 1: 2}

        def flat(v, wrt=wrt):
            parts = dict(zip(wrt, np.split(v, [sizes[wrt[0]]])))
            return f(parts[0], parts[1], np.array([0.7]))

        assert np.array_equal(structural, _numeric_hessian(flat, 5, -1.0, 1.0))
    # wrt [1, 0]: y's two columns first, then x's three.
    assert np.array_equal(structural, [[1, 0, 1, 0, 0], [0, 1, 0, 1, 0], [1, 0, 1, 0, 0], [0, 1, 0, 1, 0],
                                       [0, 0, 0, 0, 1]])
