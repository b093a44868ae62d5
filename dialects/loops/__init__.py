"""The `loops` dialect: static loop nests over memref buffers.

What lower-array-to-loops produces; tile-matmul, stack-alloc, plan-memory
and parallelize rewrite it, and lower-loops-to-c turns it into `c`. Ops:
loops, buffers, element access and whole matrix products (nests.py);
register tiles and panel copies (tiles.py); scalar special functions
upstream `math` lacks (scalars.py).

Expects: after lower-array-to-loops a function takes its inputs and then
its outputs as builtin `memref` arguments and returns nothing; the attribute
`loops.num_inputs` on the `func.func` says where the inputs end. Temporary
buffers come from `loops.alloc` with a placement (`stack` or `workspace`),
constant tensors from `loops.constant`. Scalar math inside loop bodies is
upstream `arith` and `math`; indices are `index` values built with `arith`.

Guarantees (the verifiers): shapes are static; a planned workspace offset
is a multiple of WORKSPACE_ALIGN (64 bytes); the accesses of a tile or a
panel copy stay inside their buffers.

Two structured ops carry matrix products: `loops.matmul` (a whole, possibly
batched product, what lower-array-to-loops emits) and `loops.microkernel`
(one register tile over flat buffers, what tile-matmul emits). Both have a
meaning of their own (interpreter) and a C lowering, as has `loops.linalg`
(a factorization or solve over whole buffers, linalg.py). `loops.switch`
(branches.py) runs one of its regions, chosen by an integer scalar. Attribute spellings and
verifier policy: docs/dialects.md.
"""

from __future__ import annotations

from xdsl.ir import Dialect

from gradc.dialects.loops.branches import SwitchOp
from gradc.dialects.loops.nests import (
    NUM_INPUTS_ATTR,
    PLACEMENTS,
    WORKSPACE_ALIGN,
    AllocOp,
    ConstantOp,
    FmodOp,
    ForOp,
    WhileOp,
    ConditionOp,
    LoadOp,
    MatmulOp,
    ReshapeOp,
    StoreOp,
    ThreadIdOp,
    YieldOp,
    memref_shape,
)
from gradc.dialects.loops.linalg import KINDS as LINALG_KINDS
from gradc.dialects.loops.linalg import LinalgOp, LinalgParameters, scratch_shape
from gradc.dialects.loops.scalars import SPECIAL_FUNCTIONS, SpecialOp
from gradc.dialects.loops.tiles import (
    MicrokernelOp,
    MicrokernelParameters,
    PackOp,
    PackParameters,
    vector_widths,
)

Loops = Dialect(
    "loops",
    [ForOp, WhileOp, ConditionOp, YieldOp, ThreadIdOp, FmodOp, AllocOp, ConstantOp, ReshapeOp, LoadOp, StoreOp,
     MatmulOp, MicrokernelOp, PackOp, LinalgOp, SpecialOp, SwitchOp],
)

__all__ = [
    "Loops",
    "NUM_INPUTS_ATTR",
    "PLACEMENTS",
    "WORKSPACE_ALIGN",
    "AllocOp",
    "ConstantOp",
    "ForOp",
    "WhileOp",
    "ConditionOp",
    "LINALG_KINDS",
    "LinalgOp",
    "LinalgParameters",
    "LoadOp",
    "MatmulOp",
    "MicrokernelOp",
    "MicrokernelParameters",
    "PackOp",
    "PackParameters",
    "ReshapeOp",
    "SPECIAL_FUNCTIONS",
    "SpecialOp",
    "StoreOp",
    "SwitchOp",
    "ThreadIdOp",
    "FmodOp",
    "YieldOp",
    "memref_shape",
    "scratch_shape",
    "vector_widths",
]
