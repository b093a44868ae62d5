"""`differentiate`: every derivative request becomes plain array code.

What the default pipeline runs first. Expects: a module of `func.func`s of
`array` ops, `func.call`s and `autodiff` requests (jvp, vjp, grad, jacobian,
hessian) in any nesting: a request may name a function that itself holds
requests or calls functions that do.

Does: expands every request, in dependency order (a request whose callee
reaches requests, through calls or requests, waits until those are
expanded; see passes/autodiff/requests.py), into a call of a generated
private derivative function, as autodiff-forward, autodiff-reverse and
autodiff-jacobian do; then inlines all calls into the other functions and
erases the private functions that were called or differentiated and the
generated ones, which nothing references any more. (A private function
that nothing referenced stays, call-free: the pass removes only what it
made unused.)

Leaves: functions of `array` ops only, no `autodiff` op, no `func.call` and
no `array.stop_gradient` (the identity once no derivative is left to take),
which lower-array-to-loops accepts. Run
`array-simplify,canonicalize,cse,dce` afterwards: the derivative code is
written for them (zero-free, with the primal values it needs shared with
the primal computation), and after them no primal work that only unused
results needed remains.

Fails on a function of more than one block, and, located at the op and naming the function being differentiated and
the op, when an op needs a derivative and has no rule, a call cannot be
inlined (no such function, a declaration without body) or recursion (a
recursive call, or a request reaching its own function).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array
from gradc.dialects.autodiff import REQUEST_OPS
from gradc.passes.autodiff.requests import expand_requests, referenced_symbol
from gradc.passes.autodiff.transform import inline_calls


def _is_private(fn: Operation) -> bool:
    return (
        isinstance(fn, func.FuncOp)
        and fn.sym_visibility is not None
        and fn.sym_visibility.data == "private"
    )


def _private_functions(module: ModuleOp) -> set[str]:
    return {fn.sym_name.data for fn in module.ops if _is_private(fn)}


@dataclass(frozen=True)
class Differentiate(ModulePass):
    name = "differentiate"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in op.ops:
            if isinstance(fn, func.FuncOp) and len(fn.body.blocks) > 1:
                # Found by gradc.tools.fuzz: the inliner assumed one block and crashed.
                error = PassFailedException(
                    f"{self.name}: @{fn.sym_name.data} has {len(fn.body.blocks)} blocks; gradc "
                    "compiles straight-line functions (one block; loops are array.scan)"
                )
                fn.emit_error(str(error), error)
        referenced = {name for o in op.walk() if (name := referenced_symbol(o)) is not None}
        before = _private_functions(op)
        expand_requests(op, REQUEST_OPS, self.name)
        # Private functions that were called or differentiated, and the
        # generated ones: inlined below, then nothing references them.
        inlined = (_private_functions(op) - before) | (before & referenced)
        for fn in list(op.ops):
            if isinstance(fn, func.FuncOp) and fn.sym_name.data not in inlined:
                inline_calls(fn, op)
        for fn in list(op.ops):
            if isinstance(fn, func.FuncOp) and fn.sym_name.data in inlined:
                op.body.block.erase_op(fn)
        # No request is left, so no derivative can flow through a
        # stop_gradient any more: it is the identity from here on.
        for stop in [o for o in op.walk() if isinstance(o, array.StopGradientOp)]:
            stop.result.replace_all_uses_with(stop.input)
            stop.detach()
            stop.erase()
