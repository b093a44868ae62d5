"""stack-alloc: small workspace buffers become local arrays on the stack.

Expects: loops-level functions (after lower-array-to-loops; tile-matmul may
already have put small packed panels on the stack). Runs before plan-memory,
which then plans only what stays in the workspace.

Per function, function-level stack buffers an earlier pass made
(tile-matmul's packed panels) first move to the workspace, largest first,
while they exceed `budget`. Then every `loops.alloc "workspace"` of at
most `threshold` bytes is a candidate; candidates move to `"stack"` smallest first (ties in program
order) while the function's stack bytes, counting the stack buffers it
already has, stay within `budget`. Smallest first moves the most buffers for
the budget: the many small ones (row maxima and sums, bias gradients, a
scalar loss) are touched in short loops where a local array, which the C
compiler knows is aligned and aliases nothing, pays most, while one large
buffer would use the budget up for a loop that streams memory anyway. Stack
buffers are not shared (C gives each local array its own storage), which is
why the budget bounds their sum.

Defaults: `threshold` 4096 (a page: anything larger is streamed through in
its loops, where where it lives makes no difference) and `budget` 32768 (at
most 32 KiB of frame: fits in L1d next to the data, and is far below the
smallest thread stacks an embedded caller or an OpenMP worker is likely to
have, e.g. musl's 128 KiB).

Records `loops.stack_bytes` (bytes of all stack buffers) on each function.

The promise, about the real stack a call needs: at the default C flags
(gradc.backend.build.DEFAULT_FLAGS), the deepest call chain of a generated function
needs at most `loops.stack_bytes` + RESERVE bytes of stack, counting gcc's
frames (return addresses included), OpenMP outlined functions and the
x86-64 red zone; frames of libm and libgomp (GOMP_parallel) are not counted.
`loops.stack_bytes` is at most `budget` (unless stack buffers nested in
loops alone exceed it; the default pipeline makes none). RESERVE covers
what gcc adds to the buffers: register spills of the inlined microkernels
and math helpers, saved registers, alignment;
measured up to 2760 bytes over stack_bytes (scan gradient; see
tests/test_stack_usage.py, which checks the promise with
gradc.stack_usage). No frame has a VLA or alloca. At -O0 every C local gets
its own slot and helpers are not inlined (a microkernel frame is ~8 KiB):
the looser O0_RESERVE holds there (measured up to 9708 bytes over).
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
