"""Checkpointing schedules (dialects/autodiff/checkpointing.py).

Counts are checked against a brute-force dynamic program over where the first
snapshot goes, and against hand-counted cases; gradients through every
schedule against a plain NumPy backpropagation loop and finite differences.
"""

from functools import lru_cache
from math import comb, isqrt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradc.dialects.autodiff.checkpointing import (
    Advance,
    Forward,
    Restore,
    Reverse,
    Schedule,
    ScheduleError,
    Store,
    binomial,
    binomial_advances,
    checkpoint_range,
    every,
    execute,
    repetitions,
    simulate,
    snapshots_for_budget,
    tape_all,
)


@lru_cache(maxsize=None)
def fewest_advances(steps: int, slots: int) -> int:
    """Brute force: try every first snapshot position (and not using a slot)."""
    if steps == 1:
        return 0
    if slots == 1:
        return steps * (steps - 1) // 2
    split = min(
        m + fewest_advances(steps - m, slots - 1) + fewest_advances(m, slots)
        for m in range(1, steps)
    )
    return min(split, fewest_advances(steps, slots - 1))


@pytest.mark.parametrize("slots", range(1, 7))
def test_binomial_is_optimal_and_matches_the_closed_form(slots):
    for steps in range(1, 90):
        counts = simulate(binomial(steps, slots))
        assert counts.advanced == fewest_advances(steps, slots), (steps, slots)
        assert binomial_advances(steps, slots) == fewest_advances(steps, slots)
        assert counts.taped == steps
        assert counts.peak_tape == 1
        assert counts.peak_snapshots <= min(slots, steps - 1)
        assert counts.max_repetitions <= repetitions(steps, slots)


@pytest.mark.parametrize("slots", range(2, 7))
def test_every_position_in_the_checkpoint_range_is_optimal(slots):
    for steps in range(2, 90):
        low, high = checkpoint_range(steps, slots)
        assert 1 <= low <= high < steps
        for m in range(low, high + 1):
            cost = m + fewest_advances(steps - m, slots - 1) + fewest_advances(m, slots)
            assert cost == fewest_advances(steps, slots), (steps, slots, m)


def test_closed_form_by_hand():
    # s = 1: restore x_0 and advance to every step again: 0 + 1 + ... + (l-1).
    assert simulate(binomial(10, 1)).advanced == 45
    # s >= l - 1: store every state once on the way up, advance each step once.
    assert simulate(binomial(10, 9)).advanced == 9
    assert simulate(binomial(10, 50)).advanced == 9
    # l = 10 = C(2 + 3, 2): r = 3 and r*l - C(s + r, s + 1) = 30 - 10.
    assert repetitions(10, 2) == 3 and simulate(binomial(10, 2)).advanced == 20
    assert simulate(binomial(1, 1)).advanced == 0


def test_binomial_actions_for_a_small_loop():
    assert binomial(3, 2).actions == (
        Store(0), Advance(1), Store(1), Advance(2), Forward(2), Reverse(2),
        Restore(1), Forward(1), Reverse(1), Restore(0), Forward(0), Reverse(0),
    )
    assert binomial(1, 3) == Schedule(1, 0, (Forward(0), Reverse(0)))
    assert binomial(4, 10).snapshots == 3


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.integers(1, 12))
def test_binomial_counts_property(steps, slots):
    counts = simulate(binomial(steps, slots))
    r = repetitions(steps, slots)
    assert counts.advanced == r * steps - comb(slots + r, slots + 1)
    assert counts.peak_snapshots <= slots and counts.peak_tape == 1
    assert counts.max_repetitions <= r


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.integers(1, 500))
def test_every_counts(steps, k):
    counts = simulate(every(steps, k))
    segments = -(-steps // k)
    assert counts.advanced == (segments - 1) * k
    assert counts.taped == steps
    assert counts.peak_snapshots == segments - 1
    assert counts.peak_tape == min(k, steps)


@pytest.mark.parametrize("steps", [1, 2, 7, 100])
def test_edge_schedules_agree(steps):
    full = simulate(tape_all(steps))
    assert (full.advanced, full.taped, full.peak_snapshots, full.peak_tape) == (
        0, steps, 0, steps,
    )
    # k >= l is tape_all; k = 1 and s >= l - 1 advance each step once.
    assert every(steps, steps).actions == tape_all(steps).actions
    assert every(steps, steps + 5).actions == tape_all(steps).actions
    assert simulate(every(steps, 1)).advanced == steps - 1
    assert simulate(every(steps, 1)).peak_tape == 1
    assert simulate(binomial(steps, steps)).advanced == steps - 1


@pytest.mark.parametrize(
    "actions, message",
    [
        ((Forward(0), Forward(1), Reverse(1)), "steps 0..0 were never reversed"),
        ((Forward(0), Forward(1), Reverse(0), Reverse(1)), "expected Reverse"),
        ((Forward(1), Reverse(1)), "current state is 0"),
        ((Advance(1), Forward(0)), "current state is 1"),
        ((Restore(0),), "slot is empty"),
        ((Store(0), Advance(1), Store(1)), "the schedule has 1 slots"),
        ((Advance(1), Advance(1)), "cannot advance"),
        ((Advance(3),), "cannot advance"),
        (
            (Store(0), Forward(0), Forward(1), Reverse(1), Reverse(0), Restore(0), Forward(0)),
            "1 tape entries left",
        ),
    ],
)
def test_invalid_schedules_are_rejected(actions, message):
    with pytest.raises(ScheduleError, match=message):
        simulate(Schedule(2, 1, actions))


def test_reverse_needs_its_own_tape():
    # Step 1 re-taped from x_1 after a Restore of x_0 would be wrong; here the
    # Reverse(0) finds step 1's entry on top of the tape.
    bad = (Store(0), Forward(0), Forward(1), Reverse(1), Restore(0), Forward(0),
           Forward(1), Reverse(0))
    with pytest.raises(ScheduleError, match="tape's top"):
        simulate(Schedule(2, 1, bad))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: binomial(5, 0), "at least one snapshot"),
        (lambda: binomial(0, 2), "at least one step"),
        (lambda: every(5, 0), "k >= 1"),
        (lambda: tape_all(0), "at least one step"),
        (lambda: snapshots_for_budget(10, 512, 511), "does not hold one state"),
        (lambda: snapshots_for_budget(10, 0, 100), "must be positive"),
    ],
)
def test_bad_requests_give_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_snapshots_for_budget():
    budget = snapshots_for_budget(1000, 512, 512 * 5 + 100)
    assert budget.snapshots == 5
    assert budget.forward_evaluations == fewest_advances(1000, 5) + 1000
    assert budget.forward_evaluations == simulate(binomial(1000, 5)).forward_evaluations
    assert budget.recompute_factor == budget.forward_evaluations / 1000
    # More than l - 1 snapshots buy nothing.
    assert snapshots_for_budget(10, 8, 10**6).snapshots == 9
    assert snapshots_for_budget(10, 8, 10**6).forward_evaluations == 19
    assert snapshots_for_budget(1, 8, 8).forward_evaluations == 1


# x_{t+1} = x_t + 0.01 tanh(W x_t), loss sum(x_T^2), gradients wrt x_0 and W.
N = 6


def problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(N), rng.standard_normal((N, N))


def step(W):
    return lambda i, x: x + 0.01 * np.tanh(W @ x)


def vjp_step(W):
    def vjp(i, x):
        h = np.tanh(W @ x)

        def pullback(x_bar):
            pre_bar = 0.01 * x_bar * (1 - h * h)
            return x_bar + W.T @ pre_bar, np.outer(pre_bar, x)

        return x + 0.01 * h, pullback

    return vjp


def reference_gradient(x0, W, steps):
    """Plain backpropagation: keep every state, sweep back."""
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] + 0.01 * np.tanh(W @ xs[-1]))
    x_bar, W_bar = 2 * xs[-1], np.zeros_like(W)
    for x in reversed(xs[:-1]):
        pre_bar = 0.01 * x_bar * (1 - np.tanh(W @ x) ** 2)
        W_bar += np.outer(pre_bar, x)
        x_bar = x_bar + W.T @ pre_bar
    return xs[-1], x_bar, W_bar


def gradient_through(schedule, x0, W):
    return execute(schedule, x0, step(W), vjp_step(W), lambda x: 2 * x)


def schedules_for(steps):
    yield tape_all(steps)
    for k in sorted({1, 2, 3, isqrt(steps) or 1, steps, steps + 1}):
        yield every(steps, k)
    for s in sorted({1, 2, 3, 5, 10, steps, steps + 3}):
        if s > 1 or steps <= 100:  # s = 1 costs l^2/2 steps
            yield binomial(steps, s)


@pytest.mark.parametrize("steps", [1, 2, 7, 100, 1000])
def test_all_schedules_give_the_reference_gradient(steps):
    x0, W = problem()
    x_ref, x0_bar_ref, W_bar_ref = reference_gradient(x0, W, steps)
    full = gradient_through(tape_all(steps), x0, W)
    for schedule in schedules_for(steps):
        out, x0_bar, W_bar = gradient_through(schedule, x0, W)
        np.testing.assert_allclose(out, x_ref, rtol=1e-12, atol=0)
        for got, ref in [(x0_bar, x0_bar_ref), (W_bar, W_bar_ref),
                         (x0_bar, full[1]), (W_bar, full[2])]:
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_gradient_matches_finite_differences():
    x0, W = problem(1)
    steps, eps = 50, 1e-6
    _, x0_bar, W_bar = gradient_through(binomial(steps, 3), x0, W)

    def loss(x0, W):
        x = x0
        for i in range(steps):
            x = step(W)(i, x)
        return np.sum(x * x)

    for i in range(N):
        e = np.zeros(N)
        e[i] = eps
        fd = (loss(x0 + e, W) - loss(x0 - e, W)) / (2 * eps)
        assert abs(fd - x0_bar[i]) < 1e-7 * max(1, abs(fd))
    for i, j in [(0, 0), (2, 5), (5, 1)]:
        E = np.zeros((N, N))
        E[i, j] = eps
        fd = (loss(x0, W + E) - loss(x0, W - E)) / (2 * eps)
        assert abs(fd - W_bar[i, j]) < 1e-7 * max(1, abs(fd))
