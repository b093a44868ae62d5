"""Checkpointing schedules: in what order to run and reverse a loop of l steps.

Provides the schedules `tape_all` (tape every step), `every` (a snapshot
every k steps), `binomial` (Griewank and Walther's revolve) and `recompute`
(keep only x_0); `Checkpoint`, the `checkpoint=` spelling that picks one for
a loop; `simulate`, which checks a schedule on the abstract machine of
Advance, Store, Restore, Forward and Reverse actions and counts its cost;
`execute`, which runs one on real values (the reference for compiled
loops); and `tables` / `phase_tables`, its forward and reverse phases as the
rows that compiled code runs.

Guarantees: every schedule built here passes `simulate`: each step is
reversed exactly once, in the order l-1, ..., 0, by the adjoint of the tape
its own Forward pushed, and no more snapshot slots are filled than the
schedule declares. `binomial(l, s)` makes the fewest step evaluations any
schedule with s slots and a one-entry tape can: A(l, s) + l, with
A(l, s) = r*l - C(s + r, s + 1) for the repetition number r.

The machine, the schedules and the counting behind revolve:
docs/checkpointing.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from math import comb
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Advance:
    """Run the steps from the current state up to state x_`to`, not taping."""

    to: int


@dataclass(frozen=True)
class Store:
    """Copy the current state into snapshot slot `slot`."""

    slot: int


@dataclass(frozen=True)
class Restore:
    """Make the state stored in slot `slot` the current state."""

    slot: int


@dataclass(frozen=True)
class Forward:
    """Run step `step` from x_`step`, pushing what its adjoint needs."""

    step: int


@dataclass(frozen=True)
class Reverse:
    """Pop the tape of step `step` and run its adjoint."""

    step: int


Action = Advance | Store | Restore | Forward | Reverse


@dataclass(frozen=True)
class Schedule:
    """The actions that reverse a loop of `steps` steps.

    They use snapshot slots 0..snapshots-1 (the memory to reserve for states)
    and the tape holds at most `simulate(schedule).peak_tape` steps' entries.
    """

    steps: int
    snapshots: int
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Counts:
    """What running a schedule costs (see `simulate`)."""

    advanced: int  # untaped step evaluations (Advance)
    taped: int  # taped step evaluations (Forward)
    peak_snapshots: int  # most slots filled at once
    peak_tape: int  # most tape entries at once
    max_repetitions: int  # most untaped evaluations of any one step

    @property
    def forward_evaluations(self) -> int:
        return self.advanced + self.taped


class ScheduleError(ValueError):
    """A schedule that does not reverse its loop correctly."""


def _check_steps(steps: int) -> None:
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"a loop needs at least one step, got {steps!r}")


def beta(s: int, r: int) -> int:
    """How many steps s slots reverse when each step is advanced at most r times."""
    return comb(s + r, s) if r >= 0 else 0


def repetitions(steps: int, snapshots: int) -> int:
    """The least r with steps <= beta(snapshots, r)."""
    _check_steps(steps)
    if snapshots < 1:
        raise ValueError(f"binomial checkpointing needs at least one snapshot, got {snapshots}")
    r = 0
    while beta(snapshots, r) < steps:
        r += 1
    return r


def binomial_advances(steps: int, snapshots: int) -> int:
    """A(l, s): the fewest untaped step evaluations (closed form: docs/checkpointing.md)."""
    r = repetitions(steps, snapshots)
    return r * steps - comb(snapshots + r, snapshots + 1)


def tape_all(steps: int) -> Schedule:
    """Tape every step, then reverse: no recomputation, a tape of `steps` entries."""
    _check_steps(steps)
    forward = [Forward(i) for i in range(steps)]
    reverse = [Reverse(i) for i in reversed(range(steps))]
    return Schedule(steps, 0, tuple(forward + reverse))


def every(steps: int, k: int) -> Schedule:
    """Store the state every k steps; recompute and tape one segment at a time."""
    _check_steps(steps)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"every=k needs k >= 1, got {k!r}")
    starts = list(range(0, steps, k))
    actions: list[Action] = []
    for slot, start in enumerate(starts[:-1]):  # the last segment is taped at once
        if start:
            actions.append(Advance(start))
        actions.append(Store(slot))
    if starts[-1]:
        actions.append(Advance(starts[-1]))
    for slot in reversed(range(len(starts))):
        start, stop = starts[slot], min(starts[slot] + k, steps)
        if slot < len(starts) - 1:
            actions.append(Restore(slot))
        actions += [Forward(i) for i in range(start, stop)]
        actions += [Reverse(i) for i in reversed(range(start, stop))]
    return Schedule(steps, len(starts) - 1, tuple(actions))


def checkpoint_range(steps: int, snapshots: int) -> tuple[int, int]:
    """Optimal positions m of the first snapshot, lowest and highest (docs/checkpointing.md)."""
    r = repetitions(steps, snapshots)
    low = max(beta(snapshots, r - 2), steps - beta(snapshots - 1, r), 1)
    high = min(beta(snapshots, r - 1), steps - beta(snapshots - 1, r - 1), steps - 1)
    return low, high


def binomial(steps: int, snapshots: int) -> Schedule:
    """Griewank and Walther's revolve schedule: fewest evaluations for s slots.

    More than steps - 1 slots buy nothing (each step is then advanced once),
    so the schedule declares at most that many: the memory to reserve.
    """
    _check_steps(steps)
    repetitions(steps, snapshots)  # checks snapshots
    snapshots = min(snapshots, steps - 1)
    actions: list[Action] = []
    current = 0  # index of the current state, to leave out needless Restores

    def go_to(slot: int, start: int, stop: int) -> None:
        nonlocal current
        if current != start:
            actions.append(Restore(slot))
        if stop != start:
            actions.append(Advance(stop))
        current = stop

    def turn(step: int) -> None:
        nonlocal current
        actions.extend([Forward(step), Reverse(step)])
        current = step + 1

    if steps > 1:
        actions.append(Store(0))
    # Segments still to reverse, the next on top: (lo, hi, slot, free) means
    # steps lo..hi-1, with x_lo in `slot` and `free` slots from `slot` on. A
    # stack rather than a recursion, which would nest as deep as l.
    pending = [(0, steps, 0, snapshots)]
    while pending:
        lo, hi, slot, free = pending.pop()
        if hi - lo > 1 and free > 1:
            mid = lo + checkpoint_range(hi - lo, free)[1]
            go_to(slot, lo, mid)
            actions.append(Store(slot + 1))
            pending += [(lo, mid, slot, free), (mid, hi, slot + 1, free - 1)]
            continue
        for step in reversed(range(lo, hi)):
            go_to(slot, lo, step)
            turn(step)
    return Schedule(steps, snapshots, tuple(actions))


def recompute(steps: int) -> Schedule:
    """Keep only x_0: the first sweep runs every step untaped (the primal
    results), and each step is reversed after advancing to it again from
    x_0. What `gradc.checkpoint(f)` asks for with one step: f's
    intermediates are recomputed in the reverse sweep, never kept from the
    forward one."""
    _check_steps(steps)
    actions: list[Action] = [Store(0), Advance(steps)]
    for step in reversed(range(steps)):
        actions.append(Restore(0))
        if step:
            actions.append(Advance(step))
        actions += [Forward(step), Reverse(step)]
    return Schedule(steps, 1, tuple(actions))


def split(schedule: Schedule) -> tuple[tuple[Action, ...], tuple[Action, ...]]:
    """The forward phase and the reverse phase of `schedule`.

    The forward phase runs where the loop stood in the primal program: its
    actions up to and including the one that first reaches x_l (an
    Advance(l) or a Forward(l-1)), one sweep over every step in order, which
    computes the loop's results. The reverse phase runs where the loop's
    cotangents are computed, once the output's cotangent (the seed) is
    known; snapshots and tape entries made in the first are read in the
    second."""
    for index, action in enumerate(schedule.actions):
        if action in (Advance(schedule.steps), Forward(schedule.steps - 1)):
            return schedule.actions[: index + 1], schedule.actions[index + 1 :]
    raise ScheduleError("the schedule never reaches its last state")


@dataclass(frozen=True)
class Checkpoint:
    """How a loop's reverse sweep gets the states its adjoint needs: the
    spelling of `checkpoint=` on a derivative request, `gradc.grad(...,
    checkpoint=...)` and `gradc.scan(..., checkpoint=...)`.

        none                    tape every step (the default)
        every=K                 store the state every K steps (see `every`)
        binomial(snapshots=S)   the revolve schedule with S slots (`binomial`)
        budget=BYTES            binomial with as many slots as BYTES hold, or
                                the whole tape if it fits in BYTES
        recompute               keep only x_0 (`recompute`; gradc.checkpoint)
    """

    kind: str
    value: int = 0

    SPELLINGS = ("none", "every=K", "binomial(snapshots=S)", "budget=BYTES", "recompute")

    @staticmethod
    def parse(spec: str) -> Checkpoint:
        """Parse a spelling; ValueError naming the accepted ones otherwise."""
        import re

        text = spec.strip() if isinstance(spec, str) else None
        match = None if text is None else re.fullmatch(
            r"(none|recompute)|every\s*=\s*(\d+)|binomial\s*\(\s*snapshots\s*=\s*(\d+)\s*\)"
            r"|budget\s*=\s*(\d+)", text)
        if match is None:
            raise ValueError(
                f"unknown checkpoint mode {spec!r}; expected one of {', '.join(Checkpoint.SPELLINGS)}"
            )
        word, k, s, budget = match.groups()
        if word is not None:
            return Checkpoint(word)
        kind, value = next((n, int(v)) for n, v in (("every", k), ("binomial", s), ("budget", budget)) if v)
        if value < 1:
            raise ValueError(f"checkpoint mode {spec!r}: the number must be at least 1")
        return Checkpoint(kind, value)

    def __str__(self) -> str:
        return {
            "every": f"every={self.value}", "binomial": f"binomial(snapshots={self.value})",
            "budget": f"budget={self.value}",
        }.get(self.kind, self.kind)

    def schedule(self, steps: int, state_bytes: int, entry_bytes: int) -> Schedule:
        """The schedule for a loop of `steps` steps whose carried state takes
        `state_bytes` and whose tape entry (one step's residuals) takes
        `entry_bytes`. ValueError if a budget cannot hold one state."""
        match self.kind:
            case "none":
                return tape_all(steps)
            case "every":
                return every(steps, min(self.value, steps))
            case "binomial":
                return binomial(steps, self.value)
            case "recompute":
                return recompute(steps)
        if steps * entry_bytes <= self.value:
            return tape_all(steps)
        fit = snapshots_for_budget(steps, max(state_bytes, 1), self.value)
        return binomial(steps, fit.snapshots)


@dataclass(frozen=True)
class Budget:
    """Snapshots that fit a memory budget and what they cost in recomputation."""

    steps: int
    snapshots: int
    forward_evaluations: int

    @property
    def recompute_factor(self) -> float:
        """Step evaluations per step (1.0 means no recomputation)."""
        return self.forward_evaluations / self.steps


def snapshots_for_budget(steps: int, bytes_per_state: int, budget_bytes: int) -> Budget:
    """The binomial schedule's snapshot count for a budget on snapshot memory.

    More than steps - 1 snapshots buy nothing (each step is then advanced at
    most once), so the count is capped there. The one-entry tape of the
    binomial schedule is not part of the budget.
    """
    _check_steps(steps)
    if bytes_per_state <= 0:
        raise ValueError(f"bytes per state must be positive, got {bytes_per_state}")
    if budget_bytes < bytes_per_state:
        raise ValueError(
            f"a checkpoint budget of {budget_bytes} bytes does not hold one "
            f"state of {bytes_per_state} bytes"
        )
    snapshots = min(budget_bytes // bytes_per_state, max(steps - 1, 1))
    return Budget(steps, snapshots, binomial_advances(steps, snapshots) + steps)


def simulate(schedule: Schedule) -> Counts:
    """Run `schedule` on the abstract machine; raise ScheduleError if invalid."""
    steps = schedule.steps
    current = 0  # index of the current state
    slots: dict[int, int] = {}
    tape: list[int] = []
    next_reverse = steps - 1
    advanced_per_step = [0] * steps
    taped = peak_snapshots = peak_tape = 0

    def fail(index: int, action: Action, why: str) -> None:
        raise ScheduleError(f"action {index} ({action}): {why}")

    for index, action in enumerate(schedule.actions):
        match action:
            case Advance(to):
                if not current < to <= steps:
                    fail(index, action, f"cannot advance from state {current}")
                for step in range(current, to):
                    advanced_per_step[step] += 1
                current = to
            case Store(slot):
                if slot not in range(schedule.snapshots):
                    fail(index, action, f"the schedule has {schedule.snapshots} slots")
                slots[slot] = current
                peak_snapshots = max(peak_snapshots, len(slots))
            case Restore(slot):
                if slot not in slots:
                    fail(index, action, "slot is empty")
                current = slots[slot]
            case Forward(step):
                if current != step or step >= steps:
                    fail(index, action, f"current state is {current}")
                tape.append(step)
                taped += 1
                peak_tape = max(peak_tape, len(tape))
                current = step + 1
            case Reverse(step):
                if step != next_reverse:
                    fail(index, action, f"expected Reverse({next_reverse})")
                if not tape or tape[-1] != step:
                    fail(index, action, "the tape's top is not this step's")
                tape.pop()
                next_reverse -= 1
            case _:
                fail(index, action, "unknown action")
    if next_reverse != -1:
        raise ScheduleError(f"steps {next_reverse}..0 were never reversed")
    if tape:
        raise ScheduleError(f"{len(tape)} tape entries left at the end")
    return Counts(
        advanced=sum(advanced_per_step),
        taped=taped,
        peak_snapshots=peak_snapshots,
        peak_tape=peak_tape,
        max_repetitions=max(advanced_per_step),
    )


Pullback = Callable[[Any], tuple[Any, Any]]


def execute(
    schedule: Schedule,
    x0: Any,
    step: Callable[[int, Any], Any],
    vjp_step: Callable[[int, Any], tuple[Any, Pullback]],
    seed: Callable[[Any], Any],
) -> tuple[Any, Any, Any]:
    """Run a (validated) schedule on real values: the reference for compiled loops.

    step(i, x) returns x_{i+1}; vjp_step(i, x) returns x_{i+1} and a pullback
    taking the cotangent of x_{i+1} to (cotangent of x_i, cotangent of the
    loop's parameters); seed(x_l) is the cotangent of the output. Returns x_l,
    the cotangent of x_0 and the parameter cotangents summed over the steps
    (None if the pullbacks return None for them).
    """
    simulate(schedule)
    current, output = x0, None
    slots: dict[int, Any] = {}
    tape: list[Pullback] = []
    x_bar = params_bar = None
    position = 0
    for action in schedule.actions:
        match action:
            case Advance(to):
                for i in range(position, to):
                    current = step(i, current)
                position = to
            case Store(slot):
                slots[slot] = (position, current)
            case Restore(slot):
                position, current = slots[slot]
            case Forward(i):
                current, pullback = vjp_step(i, current)
                tape.append(pullback)
                position = i + 1
            case Reverse(i):
                if i == schedule.steps - 1:
                    x_bar = seed(output)
                x_bar, step_bar = tape.pop()(x_bar)
                params_bar = step_bar if params_bar is None else params_bar + step_bar
        if position == schedule.steps and output is None:
            output = current
    return output, x_bar, params_bar


ADVANCE, STORE, RESTORE, FORWARD, REVERSE = range(5)
"""Action kinds in a compiled schedule table (`tables`)."""


Row = tuple[int, int, int, int]


def tables(schedule: Schedule) -> dict[str, tuple[Row, ...]]:
    """The forward and the reverse phase of `schedule` (see `split`) as rows
    (kind, first, stop, slot), what compiled code runs (a `static const`
    table in C):

        ADVANCE  run steps first..stop-1 untaped
        STORE    copy the current state into snapshot slot `first`
        RESTORE  make snapshot slot `first` the current state
        FORWARD  run steps first..stop-1, step i pushing tape slot slot+i-first
        REVERSE  run the adjoints of steps stop-1..first, step i popping tape
                 slot slot+i-first

    The tape slot of each entry is fixed here, from the tape's depth when
    it is pushed (over the whole schedule), so the compiled code keeps no
    stack pointer; runs of consecutive Forwards (Reverses) become one row,
    which keeps the table small (`every` has a few rows per segment)."""
    forward, _ = split(schedule)
    rows: dict[str, list[list[int]]] = {"forward": [], "reverse": []}
    depth = current = 0
    slots: dict[int, int] = {}
    for index, action in enumerate(schedule.actions):
        phase = rows["forward" if index < len(forward) else "reverse"]
        last = phase[-1] if phase else None
        match action:
            case Advance(to):
                phase.append([ADVANCE, current, to, 0])
                current = to
            case Store(slot):
                phase.append([STORE, slot, 0, 0])
                slots[slot] = current
            case Restore(slot):
                phase.append([RESTORE, slot, 0, 0])
                current = slots[slot]
            case Forward(step):
                if last is not None and last[0] == FORWARD and last[2] == step:
                    last[2] += 1
                else:
                    phase.append([FORWARD, step, step + 1, depth])
                depth += 1
                current = step + 1
            case Reverse(step):
                depth -= 1
                if last is not None and last[0] == REVERSE and last[1] == step + 1 and last[3] == depth + 1:
                    last[1], last[3] = step, depth
                else:
                    phase.append([REVERSE, step, step + 1, depth])
    return {name: tuple((a, b, c, d) for a, b, c, d in phase) for name, phase in rows.items()}


@lru_cache(maxsize=16)
def phase_tables(spec: str, steps: int, state_bytes: int, entry_bytes: int) -> dict[str, np.ndarray]:
    """`tables` of the schedule a checkpoint spelling gives (see
    `Checkpoint.schedule`) as read-only int32 arrays of shape (rows, 4),
    computed once per loop: the compiler asks for both phases of the same
    loop, and building a binomial schedule of 10,000 steps takes a
    noticeable fraction of a second. Arrays, not tuples of Python ints,
    so the few kept take little memory (48,000 rows: 768 kB, not 8 MB)."""
    found = {}
    for phase, rows in tables(Checkpoint.parse(spec).schedule(steps, state_bytes, entry_bytes)).items():
        array = np.array(rows, dtype=np.int32).reshape(len(rows), 4)
        array.flags.writeable = False
        found[phase] = array
    return found
