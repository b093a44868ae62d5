"""Values defined before they are used: the check xDSL's verifier leaves out.

xDSL 0.74 verifies each op on its own but not SSA dominance, so IR text in
which an op uses a value defined further down its block, or inside another
op's region, parses and verifies; a pass then meets a value it has not seen
yet (lower-loops-to-c raised a KeyError; found by gradc.tools.fuzz). gradc-opt runs
`first_use_before_definition` on its input before any pass.

It also runs `first_nested_function`: xDSL lets a `func.func` sit inside
another function's body (MLIR requires a symbol table parent), and the
passes, which take every function of the module, crashed on one (found by
gradc.tools.fuzz: a swapped line moved a function into its neighbour).
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, SSAValue


def first_use_before_definition(module: ModuleOp) -> tuple[Operation, SSAValue] | None:
    """The first (op, operand) whose operand is not defined before the op in
    an enclosing block, or None. Symbols (functions in the module) are not
    SSA values, so the module's own graph region needs no order."""
    positions: dict[Block, dict[Operation, int]] = {}
    for op in module.walk():
        for operand in op.operands:
            if not _dominates(operand, op, positions):
                return op, operand
    return None


def first_nested_function(module: ModuleOp) -> func.FuncOp | None:
    """The first `func.func` that is not directly in a module, or None."""
    for op in module.walk():
        if isinstance(op, func.FuncOp) and not isinstance(op.parent_op(), ModuleOp):
            return op
    return None


def _dominates(value: SSAValue, user: Operation, positions: dict[Block, dict[Operation, int]]) -> bool:
    if isinstance(value, BlockArgument):
        block, owner = value.block, None
    else:
        assert isinstance(value.owner, Operation)
        owner = value.owner
        block = owner.parent_block()
        if block is None:
            return False
    ancestor: Operation | None = user
    while ancestor is not None and ancestor.parent_block() is not block:
        ancestor = ancestor.parent_op()
    if ancestor is None:
        return False  # not in the defining block nor nested in it
    if owner is None:
        return True
    if block not in positions:
        positions[block] = {op: k for k, op in enumerate(block.ops)}
    index = positions[block]
    return index[owner] < index[ancestor]
