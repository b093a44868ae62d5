"""jacobian(mode="auto"): the cost model, its candidates and the emitted
strategy (passes/autodiff/elimination.py).

- the Jacobian from mode "auto" equals mode "fwd", mode "rev" and an
  independent reference (NumPy closed forms, finite differences) on chains
  (MLPs of varying widths), branches that rejoin, and small scalar
  benchmark-style functions; run in the interpreter (one C build checks
  the emitted split end to end);
- the counts of pure fwd and rev on a two-layer chain equal hand counts;
- the chosen strategy never costs more than the cheaper pure mode
  (property test over random widths);
- the bracketing DP equals a brute-force enumeration of bracketings.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradc
import gradc.numpy as gnp
from gradc.interpreter import run_function
from gradc.passes.autodiff.elimination import (
    candidates,
    extract_graph,
    markowitz,
    matrix_chain,
    pure_mode_count,
    search,
    simplified_multiplications,
    vertex_elimination,
)
from gradc.pipeline import run_pipeline

RNG = np.random.default_rng(17)


def mlp(widths, seed=0):
    """x -> W_L tanh(... tanh(W_1 x)) and its Jacobian by NumPy."""
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((b, a)) / math.sqrt(a) for a, b in zip(widths, widths[1:])]

    def f(x):
        for k, w in enumerate(ws):
            x = w @ x
            if k < len(ws) - 1:
                x = gnp.tanh(x)
        return x

    def jacobian(x):
        j = np.eye(len(x))
        for k, w in enumerate(ws):
            x = w @ x
            j = w @ j
            if k < len(ws) - 1:
                x = np.tanh(x)
                j = (1 - x**2)[:, None] * j
        return j

    return f, jacobian


def interpreted_jacobian(f, mode, *args, argnums=0):
    """The Jacobian from the differentiated module, run in the
    interpreter (no C build), and the lowering."""
    lowered = gradc.lower(gradc.jacobian(f, argnums=argnums, mode=mode), *args)
    module = run_pipeline(lowered.traced.module.clone(), "differentiate")
    return run_function(module, lowered.name, *args), lowered


def fd_jacobian(f, x, step=1e-6):
    cols = [(np.asarray(f(x + step * e)) - np.asarray(f(x - step * e))) / (2 * step) for e in np.eye(len(x))]
    return np.stack(cols, axis=-1)


def graph_of(f, *args):
    """The linearized graph of traced `f` w.r.t. its first argument."""
    lowered = gradc.lower(gradc.jacobian(f, mode="fwd"), *args)
    (fn,) = [op for op in lowered.traced.module.ops if op.sym_name.data != lowered.name]
    ops = list(fn.body.block.ops)
    graph = extract_graph(ops, [fn.body.block.args[0]], list(ops[-1].operands))
    assert not isinstance(graph, str), graph
    return graph


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("widths", [(8, 64, 4, 64, 8), (50, 5, 50, 5, 50)])
def test_chain_auto_equals_fwd_rev_and_numpy(widths):
    f, reference = mlp(widths)
    x = RNG.standard_normal(widths[0])
    (auto,), lowered = interpreted_jacobian(f, "auto", x)
    (fwd,), _ = interpreted_jacobian(f, "fwd", x)
    (rev,), _ = interpreted_jacobian(f, "rev", x)
    want = reference(x)
    scale = np.abs(want).max()
    for got in (auto, fwd, rev):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)
    (choice,) = lowered.jacobian_strategies
    counts = choice["candidates"]
    assert choice["chosen"].startswith("split")
    assert counts["split"] < min(counts["fwd"], counts["rev"])
    assert counts[choice["cheapest"]] == min(counts.values())


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=2, max_size=6), st.integers(0, 2**16))
def test_chain_auto_values_over_random_widths(widths, seed):
    f, reference = mlp(widths, seed)
    x = np.random.default_rng(seed).standard_normal(widths[0])
    (got,), _ = interpreted_jacobian(f, "auto", x)
    want = reference(x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(np.abs(want).max(), 1.0))


def test_branches_that_rejoin():
    w1, w2 = RNG.standard_normal((6, 5)), RNG.standard_normal((6, 5))
    w3 = RNG.standard_normal((3, 6))

    def f(x):
        h = gnp.tanh(w1 @ x) * gnp.sin(w2 @ x) + x.sum()
        return w3 @ gnp.exp(0.1 * h)

    x = RNG.standard_normal(5)
    (auto,), lowered = interpreted_jacobian(f, "auto", x)
    (fwd,), _ = interpreted_jacobian(f, "fwd", x)
    (rev,), _ = interpreted_jacobian(f, "rev", x)
    np.testing.assert_allclose(auto, fwd, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(auto, rev, rtol=1e-12, atol=1e-13)

    def numpy_f(x):
        h = np.tanh(w1 @ x) * np.sin(w2 @ x) + x.sum()
        return w3 @ np.exp(0.1 * h)

    np.testing.assert_allclose(auto, fd_jacobian(numpy_f, x), rtol=1e-6, atol=1e-8)
    assert lowered.jacobian_strategies[0]["callee"] == "f"


def robot_arm(t, gnp=gnp):
    """Forward kinematics of a 6-joint arm (Graphax-style scalar code):
    position and three angles of the tool. `gnp`: gradc.numpy or NumPy."""
    c = [gnp.cos(t[k]) for k in range(6)]
    s = [gnp.sin(t[k]) for k in range(6)]
    c23, s23 = gnp.cos(t[1] + t[2]), gnp.sin(t[1] + t[2])
    ax = s[4] * (c[0] * c23 * c[3] + s[0] * s[3]) + c[0] * s23 * c[4]
    ay = s[4] * (s[0] * c23 * c[3] - c[0] * s[3]) + s[0] * s23 * c[4]
    az = s23 * c[3] * s[4] - c23 * c[4]
    reach = 0.175 + 0.89 * c[1] + 0.05 * c23 + 1.035 * s23
    px = 0.185 * ax + c[0] * reach
    py = 0.185 * ay + s[0] * reach
    pz = 0.89 * s[1] + 0.05 * s23 - 1.035 * c23 + 0.185 * az
    return gnp.stack([px, py, pz, gnp.arctan2(ay, ax), az * c[5], az * s[5]])


def helmholtz(x, gnp=gnp):
    """A Helmholtz-free-energy-style term: x log(x / (1 - sum x))."""
    return x * gnp.log(x / (1 - gnp.sum(x)))


def roe_like(u, gnp=gnp):
    """A Roe-flux-style scalar kernel: averages of two states and a flux
    difference with absolute eigenvalues."""
    rl, rr = gnp.sqrt(u[0]), gnp.sqrt(u[3])
    vl, vr = u[1] / u[0], u[4] / u[3]
    pl = 0.4 * (u[2] - 0.5 * u[1] * vl)
    pr = 0.4 * (u[5] - 0.5 * u[4] * vr)
    v = (rl * vl + rr * vr) / (rl + rr)
    h = (rl * (u[2] + pl) / u[0] + rr * (u[5] + pr) / u[3]) / (rl + rr)
    a = gnp.sqrt(0.4 * (h - 0.5 * v * v))
    lam = gnp.abs(v + a)
    flux = [u[1] + u[4], pl + pr + u[1] * vl + u[4] * vr, vl * (pl + u[2]) + vr * (pr + u[5])]
    jump = [u[3] - u[0], u[4] - u[1], u[5] - u[2]]
    return gnp.stack([0.5 * (f - lam * d) for f, d in zip(flux, jump)])


@pytest.mark.parametrize(
    "f, x",
    [
        (robot_arm, np.array([0.1, 0.4, -0.3, 0.7, 0.2, -0.5])),
        (helmholtz, np.array([0.1, 0.2, 0.15, 0.05])),
        (roe_like, np.array([1.0, 0.3, 2.5, 0.8, 0.1, 2.0])),
    ],
    ids=["robot_arm", "helmholtz", "roe"],
)
def test_scalar_benchmark_functions(f, x):
    (auto,), lowered = interpreted_jacobian(f, "auto", x)
    (fwd,), _ = interpreted_jacobian(f, "fwd", x)
    (rev,), _ = interpreted_jacobian(f, "rev", x)
    np.testing.assert_allclose(auto, fwd, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(auto, rev, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(auto, fd_jacobian(lambda z: f(z, np), x), rtol=1e-6, atol=1e-7)
    (choice,) = lowered.jacobian_strategies
    counts = choice["candidates"]
    assert counts[chosen_candidate(choice)] <= min(counts["fwd"], counts["rev"])
    assert counts["search"] <= counts["markowitz"]


def chosen_candidate(choice: dict) -> str:
    """The candidate whose count the emitted strategy is: a block
    elimination emits the search's order."""
    chosen = choice["chosen"]
    return "search" if chosen.startswith("block elimination") else chosen.split()[0]


def test_two_arguments():
    w = RNG.standard_normal((4, 3))

    def f(x, y):
        return gnp.tanh(w @ x) * y

    x, y = RNG.standard_normal(3), RNG.standard_normal(4)
    (jx, jy), lowered = interpreted_jacobian(f, "auto", x, y, argnums=(0, 1))
    t = np.tanh(w @ x)
    np.testing.assert_allclose(jx, ((1 - t**2) * y)[:, None] * w, rtol=1e-12)
    np.testing.assert_allclose(jy, np.diag(t), rtol=1e-12)
    assert chosen_candidate(lowered.jacobian_strategies[0]) in ("fwd", "rev", "search")


def test_auto_split_compiled_to_c():
    f, reference = mlp((12, 3, 12))
    x = RNG.standard_normal(12)
    got = gradc.jit(gradc.jacobian(f, mode="auto"))(x)
    np.testing.assert_allclose(got, reference(x), rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------
# Counts
# ---------------------------------------------------------------------------


def test_pure_mode_counts_of_a_two_layer_chain_match_hand_counts():
    n0, n1, n2 = 7, 5, 3
    f, _ = mlp((n0, n1, n2))
    plan = candidates(graph_of(f, np.ones(n0)))
    # One sweep: W1 (n1 x n0), tanh's n1 diagonal entries, W2 (n2 x n1);
    # fwd's identity seed times W1 is W1 (no multiplication), rev's seed
    # times W2 is W2.
    assert plan.counts["fwd"] == n0 * (n1 + n2 * n1)
    assert plan.counts["rev"] == n2 * (n1 * n0 + n1)
    # W2 diag(t') W1 in the best order: diag into W2 (n2 n1), then
    # (n2 x n1)(n1 x n0); the diagonal itself is one sweep of tanh (n1):
    # 125, more than rev over the whole chain (120), which the split
    # also offers; the tie goes to the simpler rev.
    assert n1 + n2 * n1 + n2 * n1 * n0 == 125
    assert plan.counts["split"] == plan.counts["rev"] == 120
    assert plan.chosen == "rev"


def test_fused_diagonal_chains_match_hand_counts():
    # y = x * log(x / b), b = broadcast(1 - sum x): per direction, five
    # diagonal edges of n entries (x->q, b->q, q->L, x->y, L->y). fwd
    # never builds L's tangent (one diagonal in, one out: scaled by the
    # product of both, formed once); rev never builds the cotangents of L
    # and q (one diagonal out, diagonals in), each fused product formed
    # once per in-edge.
    n = 4
    g = graph_of(helmholtz, np.array([0.1, 0.2, 0.15, 0.05]))
    assert g.sweep() == 5 * n
    assert pure_mode_count(g, "fwd", n) == n * (5 * n - n) + n
    assert pure_mode_count(g, "rev", n) == n * (5 * n - 2 * n) + n + 2 * n
    plan = candidates(g)
    # The block elimination (diagonals multiplied together, then one outer
    # product for the sum's row) beats both.
    assert plan.chosen == "eliminate" and plan.counts["search"] < pure_mode_count(g, "rev", n)


def softmax(x):
    return gnp.exp(x) / gnp.sum(gnp.exp(x))


def test_softmax_takes_a_block_elimination():
    # fwd and rev tie by the model (one sweep: the two exps, 6 each, and
    # the division, 6 + 6; the numerator's exp fused into the division:
    # 6 x 18 + 6); eliminating the blocks (the diagonals multiplied
    # together, one outer product for the sum's row) costs far fewer, also
    # in the simplified code, where fwd's division rule multiplies twice
    # per element and rev's cotangents fold into vector products.
    x = np.linspace(-1.0, 1.0, 6)
    lowered = gradc.lower(gradc.jacobian(softmax, mode="auto", compress=False), x)
    (choice,) = lowered.jacobian_strategies
    assert choice["candidates"]["fwd"] == choice["candidates"]["rev"] == 6 * 18 + 6
    assert choice["chosen"].startswith("block elimination")
    counts = {mode: emitted(softmax, mode, x) for mode in ("auto", "fwd", "rev")}
    assert counts["auto"] < min(counts["fwd"], counts["rev"])
    (got,), _ = interpreted_jacobian(softmax, "auto", x)
    p = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(got, np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gradc.jit(gradc.jacobian(softmax, mode="auto"))(x), np.diag(p) - np.outer(p, p),
                               rtol=1e-13, atol=1e-15)


def test_a_tie_is_broken_by_the_simplified_code():
    # A uniform chain: fwd, rev and every elimination order tie by the
    # model, so the simplified code decides (fwd on a second tie).
    f, reference = mlp((6, 6, 6))
    x = RNG.standard_normal(6)
    (choice,) = gradc.lower(gradc.jacobian(f, mode="auto", compress=False), x).jacobian_strategies
    counts = choice["candidates"]
    assert counts["fwd"] == counts["rev"] == counts["search"]
    assert "a tie, by the simplified code" in choice["chosen"]
    (got,), _ = interpreted_jacobian(f, "auto", x)
    np.testing.assert_allclose(got, reference(x), rtol=1e-12, atol=1e-14)


def test_a_scalar_elimination_that_emits_more_falls_back():
    # arcsin(arccos(x)), one element: the model counts one product of two
    # partials against fwd's and rev's two, but computing the partials
    # takes more multiplications than fwd's whole simplified code.
    def f(x):
        return gnp.arcsin(gnp.arccos(x))

    x = np.array([0.8])  # arccos(x) < 1: inside arcsin's domain
    (choice,) = gradc.lower(gradc.jacobian(f, mode="auto"), x).jacobian_strategies
    assert choice["candidates"]["scalar"] < choice["candidates"]["fwd"]
    assert choice["chosen"] == "fwd (the scalar elimination has 5 multiplications in the simplified code, fwd 4)"
    counts = {mode: emitted(f, mode, x) for mode in ("auto", "fwd", "rev")}
    assert counts["auto"] <= min(counts["fwd"], counts["rev"])
    (got,), _ = interpreted_jacobian(f, "auto", x)
    a = np.arccos(x)
    want = -1.0 / np.sqrt(1 - x**2) / np.sqrt(1 - a**2)
    assert np.all(np.isfinite(want))
    np.testing.assert_allclose(got, want[:, None], rtol=1e-13)


def test_without_a_cost_model_the_simplified_code_decides():
    w = np.array([[0.5, -0.3], [0.2, 0.4], [0.1, 0.9]])

    def f(x):
        return gnp.tanh(w @ gradc.fori_loop(0, 3, lambda i, c: 0.5 * gnp.sin(c) + 0.25 * x, x))

    x = np.array([0.3, -0.4])
    (choice,) = gradc.lower(gradc.jacobian(f, mode="auto"), x).jacobian_strategies
    assert choice["chosen"].startswith("fwd (no cost model: ")
    assert "by the simplified code: fwd " in choice["chosen"]
    (got,), _ = interpreted_jacobian(f, "auto", x)
    np.testing.assert_allclose(got, fd_jacobian(lambda z: np.tanh(w @ loop_numpy(z)), x), rtol=1e-6, atol=1e-8)


def loop_numpy(x):
    c = x
    for _ in range(3):
        c = 0.5 * np.sin(c) + 0.25 * x
    return c


def emitted(f, mode, x):
    """Multiplications of the simplified Jacobian function of `mode`."""
    lowered = gradc.lower(gradc.jacobian(f, mode=mode), x)
    module = run_pipeline(lowered.traced.module.clone(), "differentiate")
    (fn,) = [op for op in module.ops if op.sym_name.data == lowered.name]
    return simplified_multiplications(module, fn)


@pytest.mark.parametrize(
    "f, x",
    [
        (helmholtz, np.linspace(0.01, 0.08, 8)),
        (robot_arm, np.array([0.1, 0.4, -0.3, 0.7, 0.2, -0.5])),
        (mlp((30, 60, 20, 80, 10))[0], np.linspace(-1.0, 1.0, 30)),
        (mlp((8, 64, 4, 64, 8))[0], np.linspace(-1.0, 1.0, 8)),
        (mlp((50, 5, 50, 5, 50))[0], np.linspace(-1.0, 1.0, 50)),
        (roe_like, np.array([1.0, 0.3, 2.5, 0.8, 0.1, 2.0])),
        (softmax, np.linspace(-1.0, 1.0, 6)),
    ],
    ids=["helmholtz", "robot_arm", "mlp-30-60-20-80-10", "mlp-8-64-4-64-8", "mlp-50-5-50-5-50", "roe", "softmax"],
)
def test_auto_emits_no_more_multiplications_than_either_pure_mode(f, x):
    counts = {mode: emitted(f, mode, x) for mode in ("auto", "fwd", "rev")}
    assert counts["auto"] <= min(counts["fwd"], counts["rev"]), counts


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(1, 24), min_size=3, max_size=5), st.integers(0, 2**16))
def test_auto_emits_no_more_than_either_pure_mode_over_random_widths(widths, seed):
    f, _ = mlp(widths, seed)
    x = np.random.default_rng(seed).standard_normal(widths[0])
    counts = {mode: emitted(f, mode, x) for mode in ("auto", "fwd", "rev")}
    assert counts["auto"] <= min(counts["fwd"], counts["rev"]), counts


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=3, max_size=6))
def test_chosen_never_costs_more_than_the_better_pure_mode(widths):
    f, _ = mlp(widths)
    g = graph_of(f, np.ones(widths[0]))
    plan = candidates(g)
    assert plan.counts[plan.chosen] <= min(plan.counts["fwd"], plan.counts["rev"])
    assert plan.counts["search"] <= plan.counts["markowitz"]
    cost, order = markowitz(g)
    assert vertex_elimination(g, order) == cost
    cost, order = search(g)
    assert vertex_elimination(g, order) == cost


def brute_force_chain(dims):
    """The cheapest bracketing of A_n ... A_1 by enumerating every
    bracketing recursively (no memo of splits: all trees)."""

    def trees(i, j):
        if j == i + 1:
            yield 0
            return
        for k in range(i + 1, j):
            for left, right in itertools.product(list(trees(k, j)), list(trees(i, k))):
                yield left + right + dims[j] * dims[k] * dims[i]

    return min(trees(0, len(dims) - 1))


@pytest.mark.parametrize("seed", range(6))
def test_matrix_chain_dp_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    dims = [int(d) for d in rng.integers(1, 30, size=int(rng.integers(2, 8)))]
    cost, order = matrix_chain(dims)
    assert cost == brute_force_chain(dims)
    assert order.count("A") == len(dims) - 1


def test_matrix_chain_textbook_example():
    # CLRS 15.2: 30x35, 35x15, 15x5, 5x10, 10x20, 20x25 -> 15125 by
    # (A1 (A2 A3)) ((A4 A5) A6), written here later factor first.
    cost, order = matrix_chain([30, 35, 15, 5, 10, 20, 25])
    assert cost == 15125
    assert order == "((A6)((A5)(A4)))(((A3)(A2))(A1))"



def test_scalar_elimination_compiled_to_c():
    x = np.array([0.1, 0.4, -0.3, 0.7, 0.2, -0.5])
    (choice,) = gradc.lower(gradc.jacobian(robot_arm, mode="auto"), x).jacobian_strategies
    assert choice["chosen"] == "scalar elimination"
    got = gradc.jit(gradc.jacobian(robot_arm, mode="auto"))(x)
    np.testing.assert_allclose(got, fd_jacobian(lambda z: robot_arm(z, np), x), rtol=1e-6, atol=1e-7)


def test_scalar_elimination_with_passthrough_and_constant_outputs():
    def f(x):
        a = gnp.sin(x[0]) * x[1]
        return gnp.stack([x[2], a * a - x[0], gnp.zeros(()) + 2.0, -a])

    x = np.array([0.3, -1.1, 0.8])
    (got,), lowered = interpreted_jacobian(f, "auto", x)
    assert lowered.jacobian_strategies[0]["chosen"] == "scalar elimination"
    a, da = np.sin(x[0]) * x[1], np.array([np.cos(x[0]) * x[1], np.sin(x[0]), 0.0])
    want = np.stack([[0.0, 0.0, 1.0], 2 * a * da - [1.0, 0.0, 0.0], np.zeros(3), -da])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_large_graphs_get_no_elimination_count():
    def f(x):
        a = [x[k] for k in range(6)]
        for k in range(100):
            a[k % 6] = gnp.sin(a[(k + 1) % 6]) * a[(k + 2) % 6] + a[k % 6]
        return gnp.stack(a)

    plan = candidates(graph_of(f, np.ones(6)))
    assert "markowitz" not in plan.counts and "scalar" not in plan.counts
    assert plan.chosen in ("fwd", "rev")
