"""Derivatives of `autodiff.custom_jvp` and `autodiff.custom_vjp`: the
user's rules instead of the primal's ops, in the shapes of scan_rules'
MULTI_JVP_RULES / MULTI_VJP_RULES, and their batching rules.

    custom_jvp, forward: the rule @r inlined on (x, dx); its outputs replace
        the op's (JAX's primal_out) and give the tangents.
    custom_jvp, reverse: the op is kept for the forward sweep; the reverse
        sweep inlines the VJP of @r with respect to its tangent arguments
        (the rule is linear in them: that VJP is its transpose), at zero
        tangents, seeded with the output cotangents.
    custom_vjp, reverse: @fw inlined in the forward sweep (outputs and
        residuals), @bw in the reverse sweep.
    custom_vjp, forward: an error (no forward rule), as in JAX.

Expects: the op in a function of a module (or one being built for a
function of `MODULE`'s module); a tangent or adjoint reaching an operand
outside `diff` (a closed-over value) fails located at the op, since the
rules say nothing about it.

Guarantees: everything emitted is the rules' own `array` code (inlined),
so derivatives of derivatives differentiate the rules; batching makes the
same op over batched copies of the primal and of its rules.

Why, and how this matches JAX: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import NoReturn

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects.autodiff import CustomDerivativeOp, CustomJvpOp, CustomVjpOp
from gradc.passes.autodiff.emitter import Emitter, Value, is_differentiable

MODULE: ContextVar[ModuleOp | None] = ContextVar("custom_rules_module", default=None)
"""The module whose function is being differentiated: ops copied into a
loop body under construction are not in it yet, but their rules are."""

KIND = {CustomJvpOp: "custom_jvp", CustomVjpOp: "custom_vjp"}


def _fail(at: Operation, message: str) -> NoReturn:
    error = PassFailedException(message)
    at.emit_error(message, error)


def module_of(op: Operation) -> ModuleOp:
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, ModuleOp):
        parent = parent.parent_op()
    module = parent if parent is not None else MODULE.get()
    assert isinstance(module, ModuleOp), "a custom derivative op outside any module"
    return module


def _function(module: ModuleOp, name: str) -> func.FuncOp:
    found = SymbolTable.lookup_symbol(module, name)
    assert isinstance(found, func.FuncOp), f"no function @{name}"
    return found


def _check_closure(op: CustomDerivativeOp, nonzero: Sequence[bool]) -> None:
    """Fail when a derivative reaches an operand the rules do not cover."""
    diff = set(op.diff_indices)
    if any(on and k not in diff for k, on in enumerate(nonzero)):
        _fail(op, f"{KIND[type(op)]} function @{op.callee.string_value()} closes over a value that is "
                  "being differentiated (or gets one through nondiff_argnums); its rule only gives "
                  "derivatives with respect to its explicit arguments: pass that value as an argument")


# --------------------------------------------------------------------------
# Forward mode
# --------------------------------------------------------------------------


def _jvp_of_custom_jvp(e: Emitter, op: CustomJvpOp, *tangents: Value) -> tuple[list[SSAValue], list[Value]]:
    from gradc.passes.autodiff.transform import copy_body

    _check_closure(op, [t is not None for t in tangents])
    module = module_of(op)
    args = [*op.args, *(e.materialize(tangents[i], op.args[i]) for i in op.diff_indices)]
    values = copy_body(module, _function(module, op.jvp.string_value()), args, e.point)
    n = len(op.outputs)
    return values[:n], values[n:]


def _jvp_of_custom_vjp(e: Emitter, op: CustomVjpOp, *tangents: Value) -> NoReturn:
    _check_closure(op, [t is not None for t in tangents])
    _fail(op, f"cannot apply forward-mode autodiff (jvp) to the custom_vjp function "
              f"@{op.callee.string_value()}: it only has a reverse-mode rule (forward mode is "
              "also what jacfwd and hessian use); define its derivative with gradc.custom_jvp instead")


# --------------------------------------------------------------------------
# Reverse mode
# --------------------------------------------------------------------------


def _custom_jvp_forward(e: Emitter, op: CustomJvpOp, active: Sequence[bool]) -> tuple[list[SSAValue], list[bool], object]:
    _check_closure(op, active)
    new = op.clone()
    Rewriter.insert_op(new, e.point)
    return list(new.results), [is_differentiable(r) for r in new.results], new


def _custom_jvp_reverse(e: Emitter, op: CustomJvpOp, gs: Sequence[Value]) -> list[Value]:
    from gradc.passes.autodiff.transform import copy_body, vjp_function

    module = module_of(op)
    rule = _function(module, op.jvp.string_value())
    n, diff = len(op.args), op.diff_indices
    transpose = vjp_function(module, rule, [n + k for k in range(len(diff))])
    args = [
        *op.args,
        *(e.zeros_like(op.args[i]) for i in diff),
        *(e.zeros_like(r) for r in op.outputs),
        *(e.materialize(g, r) for g, r in zip(gs, op.outputs, strict=True)),
    ]
    values = copy_body(module, transpose, args, e.point)
    cotangents: list[Value] = [None] * n
    for i, ct in zip(diff, values[2 * len(op.outputs) :], strict=True):
        cotangents[i] = ct
    return cotangents


def _custom_vjp_forward(e: Emitter, op: CustomVjpOp, active: Sequence[bool]) -> tuple[list[SSAValue], list[bool], object]:
    from gradc.passes.autodiff.transform import copy_body

    _check_closure(op, active)
    module = module_of(op)
    values = copy_body(module, _function(module, op.fwd.string_value()), list(op.args), e.point)
    n = len(op.outputs)
    state = (list(op.args), values[:n], values[n:], op.bwd.string_value(), op.diff_indices, module)
    return values[:n], [is_differentiable(v) for v in values[:n]], state


def _custom_vjp_reverse(e: Emitter, state: tuple, gs: Sequence[Value]) -> list[Value]:
    from gradc.passes.autodiff.transform import copy_body

    args, outputs, residuals, bwd, diff, module = state
    gs = [e.materialize(g, y) for g, y in zip(gs, outputs, strict=True)]
    values = copy_body(module, _function(module, bwd), [*args, *residuals, *gs], e.point)
    cotangents: list[Value] = [None] * len(args)
    for i, ct in zip(diff, values, strict=True):
        cotangents[i] = ct
    return cotangents


CUSTOM_JVP_RULES = {CustomJvpOp: _jvp_of_custom_jvp, CustomVjpOp: _jvp_of_custom_vjp}
CUSTOM_VJP_RULES = {
    CustomJvpOp: (_custom_jvp_forward, _custom_jvp_reverse),
    CustomVjpOp: (_custom_vjp_forward, _custom_vjp_reverse),
}


# --------------------------------------------------------------------------
# Batching, and what remains after differentiation
# --------------------------------------------------------------------------


_BATCHING: set[str] = set()
"""Batched functions being built: a rule that calls its own function
(`return f(x), ...`) names the batched rule being made."""


def _batched(module: ModuleOp, name: str, flags: Sequence[bool], size: int) -> str:
    """The name of `@name` batched over the arguments with `flags` (made
    once)."""
    from gradc.passes.autodiff.batching import batch_inlined

    target = f"{name}_batch{size}_" + "".join("b" if f else "u" for f in flags)
    if target in _BATCHING or isinstance(SymbolTable.lookup_symbol(module, target), func.FuncOp):
        return target
    _BATCHING.add(target)
    try:
        batch_inlined(module, _function(module, name), flags, size, target)
        return target
    finally:
        _BATCHING.discard(target)


def batch_custom(b, op: CustomDerivativeOp, args: Sequence[SSAValue], batched: Sequence[bool]) -> list[SSAValue]:
    """BATCH_RULES entry: the same op over batched copies of its functions
    (every result and residual of a batched function is batched)."""
    module = module_of(op)
    flags = [bool(f) for f in batched]
    names = {"callee": _batched(module, op.callee.string_value(), flags, b.size)}
    if isinstance(op, CustomJvpOp):
        names["jvp"] = _batched(module, op.jvp.string_value(), [*flags, *(flags[i] for i in op.diff_indices)], b.size)
    else:
        names["fwd"] = _batched(module, op.fwd.string_value(), flags, b.size)
        residuals = len(op.residual_types())
        bwd_flags = [*flags, *[True] * (residuals + len(op.outputs))]
        names["bwd"] = _batched(module, op.bwd.string_value(), bwd_flags, b.size)
    new = type(op).create(
        operands=list(args),
        result_types=[b.batched_type(r.type) for r in op.outputs],
        properties={**{k: SymbolRefAttr(v) for k, v in names.items()}, "diff": op.diff},
    )
    new.location = b.location if b.location is not None else op.location
    b.block.add_op(new)
    return list(new.results)


def lower_custom_ops(module: ModuleOp) -> None:
    """Every custom derivative op left becomes a call of its primal (no
    derivative is asked for any more)."""
    for op in [o for o in module.walk() if isinstance(o, CustomDerivativeOp)]:
        call = func.CallOp(op.callee.string_value(), list(op.args), [r.type for r in op.outputs])
        call.location = op.location
        Rewriter.replace_op(op, call)


__all__ = ["CUSTOM_JVP_RULES", "CUSTOM_VJP_RULES", "MODULE", "batch_custom", "lower_custom_ops", "module_of"]
