"""Jacobians and Hessians in vector mode, from one batched JVP or VJP.

    jacfwd_function(module, f, wrt)  @f_jacfwd_w0:  (x...) -> (J_ij...)
    jacrev_function(module, f, wrt)  @f_jacrev_w0:  (x...) -> (J_ij...)
    hessian_function(module, f, wrt) @f_grad_w0_jacfwd_w0: (x...) -> (H_jk...)
    jacobian_function(module, f, wrt, mode)  fwd, rev, or auto (elimination.py)

Expects: what transform.py's jvp_function and vjp_function expect of `f`.

Guarantees: J_ij, the Jacobian of output i (shape O_i) with respect to
argument j (shape I_j), has shape O_i + I_j and output i's element type;
results are output-major (i outer). jacfwd calls the JVP batched over all
input directions once, jacrev the VJP batched over all output directions
once (its forward sweep runs once); the Hessian is forward over reverse,
block (j, k) of shape I_j + I_k.

The identity bases, the row blocks and the layouts: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects.autodiff import jacobian_type
from gradc.passes.autodiff.batching import batch_function
from gradc.passes.autodiff.emitter import Emitter, element_of, shape_of
from gradc.support.dense import numpy_dtype
from gradc.passes.autodiff.transform import (
    add_function,
    arg_names,
    derived_name,
    grad_function,
    jvp_function,
    lookup_function,
    reusable_function,
    vjp_function,
)


def _batched(module: ModuleOp, fn: func.FuncOp, batched: Sequence[bool], size: int) -> func.FuncOp:
    """`fn` batched over the arguments flagged in `batched` (made once)."""
    name = f"{fn.sym_name.data}_batch{size}"
    return lookup_function(module, name) or batch_function(module, fn, batched, size, name)


def _basis(e: Emitter, types: Sequence[Attribute]) -> tuple[list[SSAValue], list[tuple[int, int]]]:
    """The identity basis over the elements of values of `types`, one
    constant per type with the direction index leading, and each type's
    (offset, size) among the directions."""
    sizes = [prod(shape_of(t)) for t in types]
    total = sum(sizes)
    values, spans, offset = [], [], 0
    for typ, n in zip(types, sizes):
        data = np.zeros((total, n), dtype=numpy_dtype(element_of(typ)))
        data[offset : offset + n] = np.eye(n)
        values.append(e.constant(data.reshape((total, *shape_of(typ)))))
        spans.append((offset, n))
        offset += n
    return values, spans


def _call(e: Emitter, fn: func.FuncOp, args: Sequence[SSAValue]) -> Sequence[SSAValue]:
    call = func.CallOp(fn.sym_name.data, list(args), list(fn.function_type.outputs.data))
    call.location = e.location
    Rewriter.insert_op(call, e.point)
    return call.results


def jacfwd_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    types = [jacobian_type(o, ins[j]) for o in outs for j in wrt]
    found, name = reusable_function(module, derived_name(fn, "jacfwd", wrt), ins, types)
    if found is not None:
        return found
    jvp = jvp_function(module, fn, wrt)
    directions = sum(prod(shape_of(ins[j])) for j in wrt)
    batched = _batched(module, jvp, [False] * len(ins) + [True] * len(wrt), directions)
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    basis, spans = _basis(e, [ins[j] for j in wrt])
    tangents = _call(e, batched, [*new.body.block.args, *basis])[len(outs) :]
    blocks = []
    for t in tangents:
        out_rank = len(shape_of(t)) - 1
        for j, (offset, n) in zip(wrt, spans):
            arg_shape = shape_of(ins[j])
            rows = e.slice_axis(t, 0, offset, offset + n)
            rows = e.reshape(rows, [*arg_shape, *shape_of(t)[1:]])
            perm = [*range(len(arg_shape), len(arg_shape) + out_rank), *range(len(arg_shape))]
            blocks.append(e.transpose(rows, perm))
    Rewriter.insert_op(func.ReturnOp(*blocks), e.point)
    return new


def jacrev_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    types = [jacobian_type(o, ins[j]) for o in outs for j in wrt]
    found, name = reusable_function(module, derived_name(fn, "jacrev", wrt), ins, types)
    if found is not None:
        return found
    vjp = vjp_function(module, fn, wrt)
    directions = sum(prod(shape_of(o)) for o in outs)
    batched = _batched(module, vjp, [False] * len(ins) + [True] * len(outs), directions)
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    basis, spans = _basis(e, outs)
    grads = _call(e, batched, [*new.body.block.args, *basis])[len(outs) :]
    blocks = []
    for out, (offset, m) in zip(outs, spans):
        for j, g in zip(wrt, grads):
            rows = e.slice_axis(g, 0, offset, offset + m)
            # The gradient has the argument's dtype, the Jacobian the
            # output's (as jacfwd's): they differ in mixed precision.
            rows = e.convert(rows, element_of(out))
            blocks.append(e.reshape(rows, [*shape_of(out), *shape_of(ins[j])]))
    Rewriter.insert_op(func.ReturnOp(*blocks), e.point)
    return new


def jacobian_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], mode: str) -> func.FuncOp:
    """The Jacobian function of `mode`: fwd, rev, or auto (the cheapest
    strategy by multiplication count, elimination.py)."""
    if mode == "auto":
        from gradc.passes.autodiff.elimination import jacauto_function

        return jacauto_function(module, fn, wrt)
    return (jacfwd_function if mode == "fwd" else jacrev_function)(module, fn, wrt)


def hessian_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    return jacfwd_function(module, grad_function(module, fn, wrt, with_outputs=False), wrt)


__all__ = ["hessian_function", "jacfwd_function", "jacobian_function", "jacrev_function"]

