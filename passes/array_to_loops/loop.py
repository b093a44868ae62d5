"""While loops of lower-array-to-loops: an `array.while` becomes one
`loops.while` (never unrolled).

Carries live in the buffers of the final carries, initialized from the
initial values before the loop, as a scan's do (scan.py's `_scan_state`,
with its in-place updates: a carry that is a dynamic update of itself, such
as a reverse-mode tape, writes only its window). The cond region reads the
carries and ends in the i1 of the condition, computed inline; the body
computes the new carries into temporaries and copies them back.

Guarantees: the loop keeps the op's max_steps and is labelled with the op's
source location, so the C function can name it when it stops the loop.
"""

from __future__ import annotations

from xdsl.dialects.builtin import FileLineColLoc
from xdsl.ir import SSAValue
from xdsl.rewriter import InsertPoint

from gradc.dialects import array, loops
from gradc.passes.array_to_loops.elementwise import FunctionLowering, shape_of
from gradc.passes.array_to_loops.scan import _scan_state


def loop_label(op: array.WhileOp) -> str:
    """How error messages name the loop: `while_loop at FILE:LINE`."""
    loc = op.location
    if isinstance(loc, FileLineColLoc):
        return f"while_loop at {loc.filename.data}:{loc.line.data}"
    return "while_loop"


def lower_while(lw: FunctionLowering, op: array.WhileOp, dest: dict[SSAValue, SSAValue]) -> None:
    """One `loops.while` around the cond and body regions (see the module
    docstring)."""
    finals, temps, invariants = _scan_state(lw, op, dest)
    loop = loops.WhileOp(op.bound, loop_label(op))
    lw.insert(loop)
    saved_point, saved = lw.insertion_point, (dict(lw.buffers), dict(lw.views))

    carries, cond_invariants = op.cond_args()
    lw.buffers.update(zip(carries, finals, strict=True))
    lw.buffers.update(zip(cond_invariants, invariants, strict=True))
    lw.insertion_point = InsertPoint.at_end(loop.cond.block)
    lw.lower_block(op.cond_block, [], [])
    lw.insert(loops.ConditionOp(lw.element(op.condition(), ())))
    lw.buffers, lw.views = dict(saved[0]), dict(saved[1])

    _, carries, _, body_invariants = op.body_args()
    new_carries, _ = op.yielded()
    lw.buffers.update(zip(carries, finals, strict=True))
    lw.buffers.update(zip(body_invariants, invariants, strict=True))
    lw.insertion_point = InsertPoint.before(loop.body.block.last_op)
    lw.lower_block(op.block, new_carries, temps)
    for temp, buffer in zip(temps, finals, strict=True):
        if temp is not buffer:
            lw.for_each(shape_of(temp), lambda idx, t=temp, b=buffer: lw.store(lw.load(t, idx), b, idx))
    lw.buffers, lw.views = saved
    lw.insertion_point = saved_point
    lw.buffers.update(zip(op.finals, finals, strict=True))
