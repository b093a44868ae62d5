"""Expanding `autodiff` request ops into calls of generated functions, in
dependency order.

Expects: a module whose requests name functions in it.

Guarantees: `expand_requests` replaces every request (derivatives and
`autodiff.vmap`) of the given kinds by
a `func.call` of its generated (or reused) derivative function, with the
same operands and results, inner requests first: a request is expanded
once nothing its callee reaches (through calls and requests) holds a
request. A request reaching its own function (recursion), or one waiting
on a request of a kind the pass does not expand, fails located at it. A
`checkpoint` attribute on a request is the mode of the loops it
differentiates that have none of their own.

How requests are ordered and what each kind becomes:
docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, SymbolRefAttr
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import Rewriter

from gradc.dialects import autodiff
from gradc.dialects.autodiff.checkpointing import Checkpoint
from gradc.passes.autodiff.batching import batch_inlined
from gradc.passes.autodiff.compression import PatternMismatch
from gradc.passes.autodiff.edge_pushing import EdgePushingUnavailable
from gradc.passes.autodiff.jacobian import hessian_function, jacobian_function
from gradc.passes.autodiff.scan_rules import DEFAULT_CHECKPOINT
from gradc.passes.autodiff.transform import (
    fail,
    grad_function,
    jvp_function,
    lookup_function,
    reusable_function,
    vjp_function,
)

Request = autodiff.DerivativeRequestOp | autodiff.VmapOp
Generator = Callable[[ModuleOp, func.FuncOp, Request], func.FuncOp]


def vmap_function(module: ModuleOp, fn: func.FuncOp, op: autodiff.VmapOp) -> func.FuncOp:
    """`@<f>_vmap<size>_<b|u per argument>`: `fn` batched over the operands
    `op` marks (calls inlined first), made once per callee, flags and size."""
    size, batched = op.batch_size, set(op.batched_indices)
    flags = [i in batched for i in range(len(fn.function_type.inputs.data))]
    found, name = reusable_function(
        module,
        f"{fn.sym_name.data}_vmap{size}_" + "".join("b" if f else "u" for f in flags),
        [v.type for v in op.primals],
        [r.type for r in op.outputs],
    )
    return found or batch_inlined(module, fn, flags, size, name)


def _compression(op: autodiff.JacobianOp | autodiff.HessianOp) -> tuple[str, int | None]:
    """(compress, nnz) of a Jacobian or Hessian request: nnz is the length
    of a sparse request's one result, None for a dense one."""
    compress = op.attributes.get(autodiff.COMPRESS_ATTR)
    nnz = op.results[0].type.get_shape()[0] if autodiff.SPARSE_ATTR in op.attributes else None
    return (compress.data if isinstance(compress, StringAttr) else "auto"), nnz


def _compressible(generate: Callable[..., func.FuncOp]) -> Generator:
    """A generator of Jacobian or Hessian functions called with the
    request's compression; a sparse request whose type disagrees with the
    pattern, or an edge-pushing request it does not apply to, fails
    located at it."""

    def generator(module: ModuleOp, fn: func.FuncOp, op: Request) -> func.FuncOp:
        compress, nnz = _compression(op)
        try:
            return generate(module, fn, op.wrt_indices, compress, nnz)
        except (PatternMismatch, EdgePushingUnavailable) as error:
            fail(op, f"{op.name} @{fn.sym_name.data}: {error}")

    return generator


GENERATORS: dict[type, Generator] = {
    autodiff.JvpOp: lambda m, fn, op: jvp_function(m, fn, op.wrt_indices),
    autodiff.VjpOp: lambda m, fn, op: vjp_function(m, fn, op.wrt_indices),
    autodiff.GradOp: lambda m, fn, op: grad_function(m, fn, op.wrt_indices),
    autodiff.JacobianOp: lambda m, fn, op: _compressible(partial(jacobian_function, mode=op.mode.data))(m, fn, op),
    autodiff.HessianOp: lambda m, fn, op: _compressible(partial(hessian_function, mode=op.strategy))(m, fn, op),
    autodiff.VmapOp: vmap_function,
}
"""The function that each kind of request becomes a call of; its arguments
and results are exactly the request's operands and results."""


def referenced_symbol(op: Operation) -> str | None:
    """The function a call or a request names."""
    if isinstance(op, func.CallOp | autodiff.DerivativeRequestOp | autodiff.VmapOp):
        return op.callee.string_value()
    return None


def referenced_symbols(op: Operation) -> list[str]:
    """The functions a call, a request or a custom derivative op (its
    primal and rules) names."""
    if isinstance(op, autodiff.CustomDerivativeOp):
        return op.symbols()
    name = referenced_symbol(op)
    return [] if name is None else [name]


def _reachable(module: ModuleOp, start: func.FuncOp) -> list[func.FuncOp]:
    """`start` and every function it reaches through calls and requests."""
    seen: list[func.FuncOp] = []
    todo = [start]
    while todo:
        fn = todo.pop()
        if fn in seen:
            continue
        seen.append(fn)
        for op in fn.walk():
            for name in referenced_symbols(op):
                callee = lookup_function(module, name)
                if callee is not None:
                    todo.append(callee)
    return seen


def _owner(op: Operation) -> func.FuncOp:
    fn = op.parent_op()
    while fn is not None and not isinstance(fn, func.FuncOp):
        fn = fn.parent_op()
    assert fn is not None
    return fn


def _blocker(
    module: ModuleOp, request: Request, pass_name: str
) -> Operation | None:
    """A request that must be expanded before `request`, if any; fails on
    recursion."""
    callee = request.callee_function()
    reachable = _reachable(module, callee)
    owner = _owner(request)
    if owner in reachable:
        via = "" if callee is owner else f" (through @{callee.sym_name.data})"
        fail(request, f"{pass_name}: @{owner.sym_name.data} asks for a derivative of "
                      f"itself{via}: recursion cannot be differentiated")
    for fn in reachable:
        for op in fn.walk():
            if isinstance(op, autodiff.REQUEST_OPS):
                return op
    return None


def call_arguments(op: Request) -> list[SSAValue]:
    """The primals, then the tangents or cotangents (by name: the order of
    `op.operands` follows the op definition's field order)."""
    if isinstance(op, autodiff.JvpOp):
        return [*op.primals, *op.tangents]
    if isinstance(op, autodiff.VjpOp):
        return [*op.primals, *op.cotangents]
    return list(op.primals)


def expand_request(module: ModuleOp, op: Request) -> None:
    """Replace `op` by a call of its generated function. A `checkpoint`
    attribute on the request is the mode of the loops it differentiates
    that have none of their own."""
    mode = op.attributes.get("checkpoint")
    token = DEFAULT_CHECKPOINT.set(str(Checkpoint.parse(mode.data)) if isinstance(mode, StringAttr) else None)
    try:
        fn = GENERATORS[type(op)](module, op.callee_function(), op)
    finally:
        DEFAULT_CHECKPOINT.reset(token)
    call = func.CallOp(SymbolRefAttr(fn.sym_name.data), call_arguments(op), [r.type for r in op.results])
    call.location = op.location
    Rewriter.replace_op(op, call)


def expand_requests(module: ModuleOp, kinds: Sequence[type], pass_name: str) -> None:
    """Expand every request of `kinds` in `module`, inner ones first."""
    kinds = tuple(kinds)
    while True:
        pending = [op for op in module.walk() if isinstance(op, kinds)]
        if not pending:
            return
        progress = False
        first_blocked: tuple[Operation, Operation] | None = None
        for op in pending:
            blocker = _blocker(module, op, pass_name)
            if blocker is None:
                expand_request(module, op)
                progress = True
            elif first_blocked is None:
                first_blocked = (op, blocker)
        if not progress:
            assert first_blocked is not None
            op, blocker = first_blocked
            fail(op, f"{pass_name}: '{op.name}' of @{op.callee.string_value()} needs "
                     f"'{blocker.name}' in @{_owner(blocker).sym_name.data} expanded first, "
                     f"which this pass does not do (run 'differentiate', which expands "
                     "every kind of request in dependency order)")


__all__ = ["GENERATORS", "vmap_function", "expand_request", "expand_requests", "referenced_symbol", "referenced_symbols"]
