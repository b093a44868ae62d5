"""stack-alloc: small workspace buffers become local arrays on the stack.

Expects: loops-level functions (after lower-array-to-loops and
tile-matmul, which may already have put small packed panels on the stack).
Runs before plan-memory, which then plans only what stays in the
workspace.

Guarantees: each function's stack buffers total at most `budget` bytes
(unless buffers nested in loops alone exceed it; the default pipeline makes
none), recorded as `loops.stack_bytes`; at the default C flags its deepest
call chain needs at most `loops.stack_bytes` + RESERVE bytes of stack
(O0_RESERVE at -O0), libm and libgomp frames not counted; no VLA or
alloca.

Options: `threshold` (4096): larger buffers stay in the workspace;
`budget` (32768): most bytes of stack buffers per function.

Why these numbers, the order buffers move in, and how the stack promise
was measured: docs/memory.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import loops
from gradc.passes.plan_memory import STACK_BYTES_ATTR, buffer_bytes, loops_functions, stack_bytes, workspace_allocs

PASS_NAME = "stack-alloc"
RESERVE = 4096
"""Stack bytes beyond `loops.stack_bytes` a call may need at the default flags."""
O0_RESERVE = 16384
"""The same at -O0."""


@dataclass(frozen=True)
class StackAlloc(ModulePass):
    """Move small workspace buffers to the stack, within a per-function budget."""

    name = PASS_NAME

    threshold: int = 4096
    """Largest buffer (bytes) that may go on the stack."""
    budget: int = 32768
    """Most stack bytes per function, stack buffers already there included."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for option in ("threshold", "budget"):
            value = getattr(self, option)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PassFailedException(f"{PASS_NAME}: {option} must be an integer >= 0, got {value!r}")
        for f in loops_functions(op, PASS_NAME):
            used = self.keep_within_budget(f)
            candidates = [a for a in workspace_allocs(f) if buffer_bytes(a) <= self.threshold]
            for alloc in sorted(candidates, key=buffer_bytes):  # stable: program order on ties
                size = buffer_bytes(alloc)
                if used + size > self.budget:
                    break
                alloc.placement = StringAttr("stack")
                alloc.offset = None
                used += size
            f.attributes[STACK_BYTES_ATTR] = IntegerAttr(used, 64)

    def keep_within_budget(self, f: func.FuncOp) -> int:
        """Stack bytes of `f` after moving the function-level stack buffers
        that earlier passes made (tile-matmul's packed panels, up to its
        `stack-bytes` each, one set per product) to the workspace, largest
        first, until they fit the budget: the same buffers tile-matmul puts
        in the workspace when they are larger. Buffers nested in loops stay
        where they are (one in a parallel loop must stay thread-private)."""
        used = stack_bytes(f)
        movable = [a for a in f.body.block.ops if isinstance(a, loops.AllocOp) and a.placement.data == "stack"]
        for alloc in sorted(movable, key=buffer_bytes, reverse=True):
            if used <= self.budget:
                break
            alloc.placement = StringAttr("workspace")
            used -= buffer_bytes(alloc)
        return used
