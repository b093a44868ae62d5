"""`differentiate`: every derivative request becomes plain array code.

What the default pipeline runs first. Expects: a module of `func.func`s of
`array` ops, `func.call`s and `autodiff` requests (jvp, vjp, grad, jacobian,
hessian) in any nesting: a request may name a function that itself holds
requests or calls functions that do.

Does: expands every request, in dependency order (a request whose callee
reaches requests, through calls or requests, waits until those are
expanded; see passes/autodiff/requests.py), into a call of a generated
private derivative function, as autodiff-forward, autodiff-reverse and
autodiff-jacobian do; then inlines all calls into the public functions and
erases the private functions that nothing references any more.

Leaves: public functions of `array` ops only, no `autodiff` op and no
`func.call`, which lower-array-to-loops accepts. Run
`array-simplify,canonicalize,cse,dce` afterwards: the derivative code is
written for them (zero-free, with the primal values it needs shared with
the primal computation), and after them no primal work that only unused
results needed remains.

Fails, located at the op and naming the function being differentiated and
the op, when an op needs a derivative and has no rule, a call cannot be
inlined (no such function, a declaration without body) or recursion (a
recursive call, or a request reaching its own function).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from gradc.dialects.autodiff import REQUEST_OPS
from gradc.passes.autodiff.requests import expand_requests, referenced_symbol
from gradc.passes.autodiff.transform import inline_calls


def _is_private(fn: func.FuncOp) -> bool:
    return fn.sym_visibility is not None and fn.sym_visibility.data == "private"


def erase_unreferenced_private_functions(module: ModuleOp) -> None:
    while True:
        referenced = {
            name for op in module.walk() if (name := referenced_symbol(op)) is not None
        }
        dead = [
            fn
            for fn in module.ops
            if isinstance(fn, func.FuncOp) and _is_private(fn) and fn.sym_name.data not in referenced
        ]
        if not dead:
            return
        for fn in dead:
            module.body.block.erase_op(fn)


@dataclass(frozen=True)
class Differentiate(ModulePass):
    name = "differentiate"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        expand_requests(op, REQUEST_OPS, self.name)
        for fn in list(op.ops):
            if isinstance(fn, func.FuncOp) and not _is_private(fn):
                inline_calls(fn, op)
        erase_unreferenced_private_functions(op)
