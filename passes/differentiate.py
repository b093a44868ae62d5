"""differentiate: every derivative request (and every vmap) becomes plain
array code.

What the default pipeline runs first. Expects: a module of `func.func`s of
`array` ops, `func.call`s and `autodiff` requests (jvp, vjp, grad,
jacobian, hessian, and vmap: batching) in any nesting, every function of
one block.

Guarantees: functions of `array` ops only: no `autodiff` op, no
`func.call`, no `array.stop_gradient`, which lower-array-to-loops accepts.
Requests are expanded in dependency order into calls of generated
functions (as autodiff-forward, autodiff-reverse and autodiff-jacobian
do; custom derivative ops use their rules there), custom derivative ops
left become calls of their primal, then every call is inlined; the private functions that were called
or differentiated and the generated ones are erased (a private function
nothing referenced stays, call-free). Fails on a function of more than one
block, and, located at the op and naming the function being
differentiated, on an op with no rule, a call that cannot be inlined, or
recursion.

Options: none. Run `array-simplify,canonicalize,cse,dce` afterwards: the
derivative code is written for them.

The expansion order, the generated functions and the rules:
docs/differentiation.md.
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
from gradc.passes.autodiff.custom_rules import lower_custom_ops
from gradc.passes.autodiff.requests import expand_requests, referenced_symbols
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
        referenced = {name for o in op.walk() for name in referenced_symbols(o)}
        before = _private_functions(op)
        expand_requests(op, REQUEST_OPS, self.name)
        # No derivative is asked for any more: a custom derivative op is a
        # call of its primal, inlined below like the others.
        lower_custom_ops(op)
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
