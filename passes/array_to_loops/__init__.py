"""The machinery of lower-array-to-loops (passes/lower_array_to_loops.py).

    affine.py       Affine: index expressions, folded before any arith op is emitted
    elementwise.py  FunctionLowering (builds one function's loop nests) and the
                    element rules of pointwise ops
    fusion.py       the fusion plan: which values get a buffer, matmul epilogues,
                    reductions fused with their producer
    reduction.py    reductions: blocked and laned sums, in memory order
    buffers.py      buffer rules of the other ops that are not pointwise: matmul,
                    concatenate (and reductions)
    scan.py         scans, and a scan's VJP lowered as a taped loop or a
                    checkpoint schedule
    loop.py         while loops

The design (bufferization, the fusion plan, scans and tapes):
docs/lowering.md; the order of sums: docs/reductions.md.
"""

from __future__ import annotations

from typing import NoReturn

from xdsl.ir import Operation
from xdsl.utils.exceptions import PassFailedException

PASS_NAME = "lower-array-to-loops"


def fail(message: str, at: Operation | None = None) -> NoReturn:
    """Fail the pass; with `at`, the error is located at that op."""
    error = PassFailedException(f"{PASS_NAME}: {message}")
    if at is not None:
        error.op = at  # for gradc.pipeline.run_pipeline's location
        at.emit_error(str(error), error)
    raise error
