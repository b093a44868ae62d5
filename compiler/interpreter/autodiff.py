"""Interpreter functions for the `autodiff` dialect: custom derivative ops
(a call of their primal), the stack tape and checkpoint schedules.

Expects: tapes as NumPy buffers indexed by slot (the loops level).

Guarantees: a popped slot of a float tape becomes NaN, so reading a dead
slot again shows up; a schedule runs its table's rows in order, each
row's region once per step (advance, taped: first..stop-1; adjoint:
stop-1 down to first) or once (store, restore), and counts each region run
by name in `AutodiffFunctions.evaluations`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    impl,
    impl_terminator,
    register_impls,
)

from gradc.dialects import autodiff


@register_impls
class AutodiffFunctions(InterpreterFunctions):
    """The stack tape and checkpoint schedules. `evaluations` counts the runs
    of each schedule region by name (advance, taped, adjoint, store,
    restore): what tests compare with the revolve formula."""

    def __init__(self, evaluations: Counter | None = None):
        self.evaluations = evaluations if evaluations is not None else Counter()

    @impl(autodiff.PushOp)
    def run_push(self, interp: Interpreter, op: autodiff.PushOp, args: PythonValues):
        entry, tape, slot = args
        tape[slot] = entry
        return ()

    @impl(autodiff.PopOp)
    def run_pop(self, interp: Interpreter, op: autodiff.PopOp, args: PythonValues):
        entry, tape, slot = args
        entry[...] = tape[slot]
        if np.issubdtype(tape.dtype, np.floating):
            tape[slot] = np.nan  # a popped slot is dead: reading it again shows up as NaN
        return ()

    @impl(autodiff.ScheduleOp)
    def run_schedule(self, interp: Interpreter, op: autodiff.ScheduleOp, args: PythonValues):
        from gradc.dialects.autodiff.checkpointing import ADVANCE, FORWARD, REVERSE

        names = [name for name, _ in autodiff.SCHEDULE_REGIONS]
        for kind, first, stop, slot in op.table():
            region, name = op.regions[kind], names[kind]
            if kind == ADVANCE:
                runs = [(i,) for i in range(first, stop)]
            elif kind in (FORWARD, REVERSE):
                order = range(first, stop) if kind == FORWARD else reversed(range(first, stop))
                runs = [(i, slot + i - first) for i in order]
            else:
                runs = [(first,)]
            for values in runs:
                self.evaluations[name] += 1
                interp.run_ssacfg_region(region, values, name)
        return ()

    @impl(autodiff.CustomJvpOp)
    def run_custom_jvp(self, interp: Interpreter, op: autodiff.CustomJvpOp, args: PythonValues):
        return interp.call_op(op.callee.string_value(), args)

    @impl(autodiff.CustomVjpOp)
    def run_custom_vjp(self, interp: Interpreter, op: autodiff.CustomVjpOp, args: PythonValues):
        return interp.call_op(op.callee.string_value(), args)

    @impl_terminator(autodiff.ScheduleYieldOp)
    def run_yield(self, interp: Interpreter, op: autodiff.ScheduleYieldOp, args: PythonValues):
        return ReturnedValues(()), ()
