"""autodiff-jacobian: Jacobian and Hessian requests become calls, in vector mode.

Expects: a module whose `autodiff.jacobian` and `autodiff.hessian` requests
name functions of `array` ops and `func.call`s of such functions (requests
inside the callee must already be expanded, or be of these two kinds).

Guarantees: each request is replaced by a `func.call` of a private
function it generates (passes/autodiff/jacobian.py): `mode fwd` ->
`@f_jacfwd_w...`, one call of the JVP batched over all N input directions
(`@f_jvp_w..._batch<N>`); `mode rev` -> `@f_jacrev_w...`, one call of the
VJP batched over all M output directions (`@f_vjp_w..._batch<M>`);
`mode auto` -> `@f_jacauto_w...`, the strategy with the fewest counted
multiplications (passes/autodiff/elimination.py), its choice and counts
in `gradc.strategy` and `gradc.candidates`; `autodiff.hessian` -> `@f_grad_w..._jacfwd_w...`, forward over reverse.
Block (i, j) has shape O_i + I_j, output-major. Other ops are untouched.
Fails, located at the op, when an op needs a derivative or a batching rule
and has none, a call cannot be inlined, or a request reaches itself.

Options: none. The identity bases, batching and the layouts:
docs/differentiation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from gradc.dialects.autodiff import HessianOp, JacobianOp
from gradc.passes.autodiff.requests import expand_requests


@dataclass(frozen=True)
class AutodiffJacobian(ModulePass):
    name = "autodiff-jacobian"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        expand_requests(op, (JacobianOp, HessianOp), self.name)
