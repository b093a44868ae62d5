"""autodiff-reverse: reverse-mode requests become calls.

Expects: a module whose `autodiff.vjp` and `autodiff.grad` requests name
functions of `array` ops and `func.call`s of such functions (calls are
inlined into the derivative; requests inside the callee must already be
expanded, or be vjp/grad requests themselves, which are expanded first).

Guarantees: each request is replaced by a `func.call` of a private
function it generates (once per callee, kind and `wrt`):
`autodiff.vjp @f` -> `@f_vjp_w...`: (primals..., output cotangents...) ->
(outputs..., cotangents of wrt...); `autodiff.grad @f` ->
`@f_value_and_grad_w...`: (primals...) -> (outputs..., gradients...),
cotangent 1 for the scalar first output, the auxiliary outputs costing no
reverse work. Other ops are untouched. Fails, located at the op, when an
op needs a derivative and has no VJP rule, a call cannot be inlined, or a
request reaches itself (recursion).

Options: none. The forward sweep, the tape and the reverse sweep:
docs/differentiation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from gradc.dialects.autodiff import GradOp, VjpOp
from gradc.passes.autodiff.requests import expand_requests


@dataclass(frozen=True)
class AutodiffReverse(ModulePass):
    name = "autodiff-reverse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        expand_requests(op, (VjpOp, GradOp), self.name)
