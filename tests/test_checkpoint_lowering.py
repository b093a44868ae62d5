"""Checkpointed reverse loops at the loops level: every checkpoint mode gives
the gradients of mode none (the full tape) and of an independent NumPy
reference; the interpreter's count of forward-step evaluations matches the
revolve formula; the reported tape/snapshot bytes match the buffers."""

from __future__ import annotations

from collections import Counter
from functools import cache
from math import isqrt

import numpy as np
import pytest
from xdsl.dialects.builtin import StringAttr

import gradc
from gradc.dialects import array, autodiff
from gradc.dialects.autodiff.checkpointing import binomial_advances
from gradc.interpreter import run_function
import gradc.numpy as gnp
from gradc.dialects.autodiff import checkpointing as ck
from gradc.passes.plan_memory import check_plan

N = 8
RNG = np.random.default_rng(5)
W = RNG.standard_normal((N, N)) * 0.4
X0 = RNG.standard_normal(N)
XS_LEN = 7
XS = RNG.standard_normal((XS_LEN, N))


@pytest.mark.parametrize("schedule", [
    ck.tape_all(5), ck.every(10, 3), ck.every(4, 4), ck.binomial(30, 3), ck.binomial(1, 2), ck.recompute(4),
], ids=["tape_all", "every", "every-one-segment", "binomial", "binomial-one-step", "recompute"])
def test_tables_replay_their_schedule(schedule):
    """The compiled rows, expanded back into actions, are the schedule's
    actions; each adjoint pops the tape slot its step pushed, within the
    capacity (the peak tape)."""
    rows = ck.tables(schedule)
    actions, pushed, stored, position = [], {}, {}, 0
    for kind, first, stop, slot in (*rows["forward"], *rows["reverse"]):
        if kind == ck.ADVANCE:
            assert first == position
            actions.append(ck.Advance(stop))
            position = stop
        elif kind == ck.STORE:
            actions.append(ck.Store(first))
            stored[first] = position
        elif kind == ck.RESTORE:
            actions.append(ck.Restore(first))
            position = stored[first]
        elif kind == ck.FORWARD:
            for i in range(first, stop):
                actions.append(ck.Forward(i))
                pushed[i] = slot + i - first
                position = i + 1
        else:
            for i in reversed(range(first, stop)):
                actions.append(ck.Reverse(i))
                assert pushed.pop(i) == slot + i - first
    assert tuple(actions) == schedule.actions
    assert len(rows["forward"]) + len(rows["reverse"]) <= len(schedule.actions)
    peak = ck.simulate(schedule).peak_tape
    assert all(0 <= row[3] < peak for phase in rows.values() for row in phase if row[0] >= ck.FORWARD)


def recurrence(steps: int):
    def loss(w, x):
        x = gradc.fori_loop(0, steps, lambda i, x: x + 0.1 * gnp.tanh(w @ x), x)
        return gnp.sum(x * x)

    return loss


def numpy_gradient(steps: int) -> np.ndarray:
    """Backward loop by hand: the reference for the recurrence's dL/dW."""
    states = [X0]
    for _ in range(steps):
        states.append(states[-1] + 0.1 * np.tanh(W @ states[-1]))
    x_bar, w_bar = 2 * states[-1], np.zeros_like(W)
    for x in reversed(states[:-1]):
        g = x_bar * 0.1 * (1 - np.tanh(W @ x) ** 2)
        w_bar += np.outer(g, x)
        x_bar = x_bar + W.T @ g
    return w_bar


def lowered(fn, args, mode: str, wrt=0):
    """gradc.lower of grad(fn, checkpoint=mode), its loops level computed
    (so that .memory and .compile() follow from the same module)."""
    low = gradc.lower(gradc.grad(fn, argnums=wrt, checkpoint=mode), *args)
    module = low._module_after("simplified")
    tagged = [op for op in module.walk() if isinstance(op, array.ScanOp) and autodiff.TAPE_ATTR in op.attributes]
    assert tagged and all(op.attributes[autodiff.CHECKPOINT_ATTR] == StringAttr(mode) for op in tagged)
    low._module_after("loops")
    return low


@cache
def compiled_recurrence(steps: int, mode: str):
    low = lowered(recurrence(steps), (W, X0), mode)
    return low, low.compile()


def modes(steps: int) -> list[str]:
    root = max(1, isqrt(steps))
    return ["every=1", "every=3", f"every={root}", "binomial(snapshots=1)", "binomial(snapshots=2)",
            "binomial(snapshots=3)", "binomial(snapshots=16)", "budget=200", "budget=100000000", "recompute"]


CASES = [(t, m) for t in (1, 2, 7, 100, 1000) for m in modes(t)] + [(1000, "budget=2000")]
"""budget=200 holds 3 states of 64 B (binomial with 3 slots), budget=2000
31, budget=100000000 the whole tape (mode none)."""


@pytest.mark.parametrize(("steps", "mode"), CASES)
def test_modes_match_full_tape_and_numpy(steps, mode):
    _, full = compiled_recurrence(steps, "none")
    _, checkpointed = compiled_recurrence(steps, mode)
    want = np.asarray(full(W, X0))
    got = np.asarray(checkpointed(W, X0))
    np.testing.assert_allclose(want, numpy_gradient(steps), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14 * np.abs(want).max())


def scan_loss(w, xs):
    """A scan with xs and per-step outputs (both in the loss)."""
    def body(c, x):
        c = gnp.tanh(w @ c + x)
        return c, gnp.sum(c * x)

    final, ys = gradc.scan(body, np.full(N, 0.5), xs)
    return gnp.sum(final * final) + gnp.sum(ys)


def scan_loss_numpy(w, xs, reverse=False):
    c = np.full(N, 0.5)
    total = 0.0
    for x in (xs[::-1] if reverse else xs):
        c = np.tanh(w @ c + x)
        total += np.sum(c * x)
    return np.sum(c * c) + total


def finite_difference(f, args, wrt):
    arg = args[wrt]
    grad = np.zeros_like(arg)
    eps = 1e-6
    for idx in np.ndindex(arg.shape):
        plus, minus = arg.copy(), arg.copy()
        plus[idx] += eps
        minus[idx] -= eps
        lo = list(args); lo[wrt] = minus
        hi = list(args); hi[wrt] = plus
        grad[idx] = (f(*hi) - f(*lo)) / (2 * eps)
    return grad


def reversed_scan_loss(w, xs):
    def body(c, x):
        c = gnp.tanh(w @ c + x)
        return c, gnp.sum(c * x)

    final, ys = gradc.scan(body, np.full(N, 0.5), xs, reverse=True)
    return gnp.sum(final * final) + gnp.sum(ys)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
def test_scan_with_xs_and_outputs(reverse):
    """Gradients with respect to the invariant W and the stacked xs."""
    fn = reversed_scan_loss if reverse else scan_loss
    want = [finite_difference(lambda w, xs: scan_loss_numpy(w, xs, reverse), [W, XS], k) for k in (0, 1)]
    full = [np.asarray(g) for g in lowered(fn, (W, XS), "none", (0, 1)).compile()(W, XS)]
    for got, expected in zip(full, want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    for mode in ("every=3", "binomial(snapshots=2)", "recompute", "budget=300"):
        grads = lowered(fn, (W, XS), mode, (0, 1)).compile()(W, XS)
        for got, expected in zip(grads, full, strict=True):
            np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-14 * np.abs(expected).max())


@pytest.mark.parametrize(("steps", "snapshots"), [(7, 1), (7, 2), (7, 3), (20, 2), (20, 3), (30, 16)])
def test_forward_evaluations_follow_the_revolve_formula(steps, snapshots):
    low = lowered(recurrence(steps), (W, X0), f"binomial(snapshots={snapshots})")
    counted = Counter()
    (got,) = run_function(low._module_after("loops"), low.name, W, X0, evaluations=counted)
    np.testing.assert_allclose(got, numpy_gradient(steps), rtol=1e-10)
    advances = binomial_advances(steps, min(snapshots, steps - 1))
    assert counted["advance"] + counted["taped"] == advances + steps
    assert counted["adjoint"] == steps
    assert low.memory["recomputed_steps"] == advances


@pytest.mark.parametrize(("mode", "slots", "capacity"), [
    ("none", 0, 100), ("binomial(snapshots=4)", 4, 1), ("every=10", 9, 10), ("recompute", 1, 1),
])
def test_reported_tape_and_snapshot_bytes(mode, slots, capacity):
    low = lowered(recurrence(100), (W, X0), mode)
    state, entry = N * 8, 2 * N * 8  # x; tanh(W x) and x
    memory = low.memory
    assert memory["tape_bytes"] == capacity * entry
    assert memory["snapshot_bytes"] == slots * state
    check_plan(low._module_after("loops"))


def test_binomial_workspace_far_below_full_tape():
    full, _ = compiled_recurrence(1000, "none")
    binomial, _ = compiled_recurrence(1000, "binomial(snapshots=16)")
    assert full.memory["workspace_bytes"] >= 1000 * 2 * N * 8
    assert binomial.memory["workspace_bytes"] + binomial.memory["stack_bytes"] < full.memory["workspace_bytes"] / 20
    check_plan(binomial._module_after("loops"))


def test_schedule_c_is_standalone_warning_free_and_deterministic(tmp_path):
    """The C of a schedule: no heap, no mutable global (the tables are static
    const), -Wall -Wextra -Werror -pedantic clean, and the same text from
    two lowerings."""
    import re
    import subprocess

    source = lowered(scan_loss, (W, XS), "binomial(snapshots=2)").c_source
    assert source == lowered(scan_loss, (W, XS), "binomial(snapshots=2)").c_source
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)
    tables = re.findall(r"^\s*(static .*)\[\d+\] = \{", source, re.MULTILINE)
    assert tables and all(t.startswith("static const int32_t schedule") for t in tables if "schedule" in t)
    (tmp_path / "f.c").write_text(source)
    done = subprocess.run(["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", "-c", "f.c"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def nested_loss(w, x):
    """A loop in a loop: the VJP has a pair inside the outer reverse scan's body."""
    def outer(i, x):
        return gradc.fori_loop(0, 3, lambda j, y: y + 0.1 * gnp.tanh(w @ y), x) * 0.9

    return gnp.sum(gradc.fori_loop(0, 5, outer, x) ** 2)


def nested_numpy(w, x):
    for _ in range(5):
        for _ in range(3):
            x = x + 0.1 * np.tanh(w @ x)
        x = x * 0.9
    return np.sum(x**2)


def test_nested_loops_in_every_mode():
    want = finite_difference(nested_numpy, [W, X0], 0)
    full = np.asarray(lowered(nested_loss, (W, X0), "none").compile()(W, X0))
    np.testing.assert_allclose(full, want, rtol=1e-6, atol=1e-8)
    for mode in ("every=2", "binomial(snapshots=2)", "recompute"):
        low = lowered(nested_loss, (W, X0), mode)
        got = np.asarray(low.compile()(W, X0))
        np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-14 * np.abs(full).max())
        if mode.startswith("binomial"):  # the interpreter runs nested schedules too
            (interpreted,) = run_function(low._module_after("loops"), low.name, W, X0)
            np.testing.assert_allclose(interpreted, full, rtol=1e-12, atol=1e-14 * np.abs(full).max())
