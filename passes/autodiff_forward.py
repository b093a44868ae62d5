"""autodiff-forward: forward-mode requests become calls.

Expects: a module whose `autodiff.jvp` requests name functions of `array`
ops and `func.call`s of such functions (calls are inlined into the
derivative; requests inside the callee must already be expanded, or be
`autodiff.jvp` requests themselves, which are expanded first).

Guarantees: each `autodiff.jvp @f(...) tangents(...) wrt [...]` is replaced
by a `func.call` of the private function `@f_jvp_w...` it generates (once
per callee and `wrt`): (primals..., tangents of wrt...) -> (outputs...,
output tangents...), in one forward sweep. Other ops are untouched. Fails,
located at the op, when an op needs a derivative and has no JVP rule, a
call cannot be inlined, or a request reaches itself (recursion).

Options: none. How the JVP is built: docs/differentiation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from gradc.dialects.autodiff import JvpOp
from gradc.passes.autodiff.requests import expand_requests


@dataclass(frozen=True)
class AutodiffForward(ModulePass):
    name = "autodiff-forward"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        expand_requests(op, (JvpOp,), self.name)
