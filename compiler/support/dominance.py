"""Values defined before they are used, functions only at module level: the
checks xDSL 0.74's verifier leaves out.

Expects: a parsed module (xDSL verifies each op on its own, not SSA
dominance, and lets a `func.func` sit inside another function's body,
where MLIR requires a symbol-table parent).

Guarantees: `first_use_before_definition` finds the first op using a value
not defined before it in an enclosing block (further down its block, or
inside another op's region); `first_nested_function` the first
`func.func` not directly in the module. gradc-opt runs both on its input
before any pass, so passes never meet such IR.

The fuzzer findings that led here (a KeyError in lower-loops-to-c, a crash
in lower-array-to-loops): docs/reliability.md (Parser and CLI fuzzing,
bugs 6 and 9).
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
