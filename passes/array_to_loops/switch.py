"""Switches of lower-array-to-loops: an `array.switch` becomes one
`loops.switch` whose regions are its branches, each lowered by the pass's
block lowering straight into the switch's result buffers.

Guarantees: only the chosen branch's code runs (C `if`/`switch`); each
branch reads the operands' buffers in place (a value computed inline, a
splat say, is first copied into a temporary, outside the switch) and
writes every result buffer; nothing is fused across the switch (its
operands and results have buffers of their own). How and why:
docs/lowering.md.
"""

from __future__ import annotations

from xdsl.ir import SSAValue
from xdsl.rewriter import InsertPoint

from gradc.dialects import array, loops
from gradc.passes.array_to_loops.elementwise import FunctionLowering, memref_of
from gradc.passes.array_to_loops.scan import buffer_of


def lower_switch(lw: FunctionLowering, op: array.SwitchOp, dest: dict[SSAValue, SSAValue]) -> None:
    """One `loops.switch` on the index's scalar, a region per branch."""
    outputs = [dest[r] if r in dest else lw.alloc(memref_of(r.type)) for r in op.outputs]
    inputs = [buffer_of(lw, v) for v in op.inputs]
    new = loops.SwitchOp(lw.element(op.index, ()), len(op.branches))
    lw.insert(new)
    saved = lw.insertion_point, dict(lw.buffers), dict(lw.views)
    for k, (old, region) in enumerate(zip(op.branches, new.branches, strict=True)):
        lw.buffers, lw.views = dict(saved[1]), dict(saved[2])
        lw.buffers.update(zip(old.block.args, inputs, strict=True))
        lw.insertion_point = InsertPoint.before(region.block.last_op)
        lw.lower_block(old.block, list(op.yielded(k)), outputs)
    lw.insertion_point, lw.buffers, lw.views = saved
    lw.buffers.update(zip(op.outputs, outputs, strict=True))
