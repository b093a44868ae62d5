"""Jacobians and Hessians in vector mode, from one batched JVP or VJP,
over every direction or over the colors of the derivative's pattern.

    jacfwd_function(module, f, wrt)  @f_jacfwd_w0:  (x...) -> (J_ij...)
    jacrev_function(module, f, wrt)  @f_jacrev_w0:  (x...) -> (J_ij...)
    hessian_function(module, f, wrt) @f_grad_w0_jacfwd_w0: (x...) -> (H_jk...)
    ... mode="rev-over-rev"          @f_grad_w0_jacrev_w0: (x...) -> (H_jk...)
    ... mode="rev-over-fwd"          @f_jacfwd_w0_jacrev_w0: (x...) -> (H_jk...)
    ... compress="always"            @f_jacfwd_w0_colors3: (x...) -> (J_ij...)
    ... nnz=298                      @f_grad_w0_jacfwd_w0_sparse298: (x...) -> (values)
    jacobian_function(module, f, wrt, compress, nnz, mode)  fwd, rev, or auto (elimination.py)

Expects: what transform.py's jvp_function and vjp_function expect of `f`.

Guarantees: J_ij, the Jacobian of output i (shape O_i) with respect to
argument j (shape I_j), has shape O_i + I_j and output i's element type;
results are output-major (i outer). jacfwd calls the JVP batched over all
input directions once, jacrev the VJP batched over all output directions
once (its forward sweep runs once); the Hessian is the Jacobian of the
gradient (forward or reverse over reverse) or reverse over forward, block
(j, k) of shape I_j + I_k. Compressed (compress "always", or "auto"
when the cost model of compression.py says it pays), the sweep runs over
as many directions as the coloring has colors and gathers decompress it;
with `nnz`, the one result is the vector of the nonzeros in CSR order
(raises PatternMismatch when the pattern has another count).

The identity bases, the row blocks and the layouts: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, UnitAttr
from xdsl.ir import Attribute, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.dialects.autodiff import SEED_ATTR, jacobian_type, sparse_types
from gradc.passes.autodiff.compression import (
    Plan,
    PatternMismatch,
    compression_plan,
    decompress_blocks,
    decompress_values,
    may_pay,
    pattern_affordable,
    seed_constants,
    worth_it,
)
from gradc.passes.autodiff.sparsity import jacobian_pattern, symmetric_pattern
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
        values.append(basis := e.constant(data.reshape((total, *shape_of(typ)))))
        basis.owner.attributes[SEED_ATTR] = UnitAttr()
        spans.append((offset, n))
        offset += n
    return values, spans


def _call(e: Emitter, fn: func.FuncOp, args: Sequence[SSAValue]) -> Sequence[SSAValue]:
    call = func.CallOp(fn.sym_name.data, list(args), list(fn.function_type.outputs.data))
    call.location = e.location
    Rewriter.insert_op(call, e.point)
    return call.results


def jacfwd_function(
    module: ModuleOp,
    fn: func.FuncOp,
    wrt: Sequence[int],
    compress: str = "never",
    nnz: int | None = None,
    symmetric: bool = False,
) -> func.FuncOp:
    """Forward mode: the JVP batched over the input directions, or over the
    colors of the columns (`compress` "auto"/"always"; `nnz` set: the
    result is the vector of nonzeros). `symmetric`: `fn` is a gradient, so
    its Jacobian is a symmetric Hessian, colored by a star coloring, or,
    dense, mirrored from its upper triangle."""
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    n_in = sum(prod(shape_of(ins[j])) for j in wrt)
    plan = _plan(module, fn, wrt, "symmetric" if symmetric else "columns", compress, nnz, n_in)
    types = sparse_types([jacobian_type(o, ins[j]) for o in outs for j in wrt], nnz)
    found, name = reusable_function(module, _named(derived_name(fn, "jacfwd", wrt), plan, nnz), ins, types)
    if found is not None:
        return found
    jvp = jvp_function(module, fn, wrt)
    directions = n_in if plan is None else plan.count
    batched = _batched(module, jvp, [False] * len(ins) + [True] * len(wrt), directions)
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    if plan is None:
        basis, spans = _basis(e, [ins[j] for j in wrt])
    else:
        basis = seed_constants(e, plan, [ins[j] for j in wrt])
    tangents = _call(e, batched, [*new.body.block.args, *basis])[len(outs) :]
    if plan is not None:
        blocks = _decompressed(e, plan, tangents, nnz, [shape_of(o) for o in outs],
                               [shape_of(ins[j]) for j in wrt], [element_of(o) for o in outs], types)
        Rewriter.insert_op(func.ReturnOp(*blocks), e.point)
        return new
    blocks = []
    for t in tangents:
        out_rank = len(shape_of(t)) - 1
        for j, (offset, n) in zip(wrt, spans):
            arg_shape = shape_of(ins[j])
            rows = e.slice_axis(t, 0, offset, offset + n)
            rows = e.reshape(rows, [*arg_shape, *shape_of(t)[1:]])
            perm = [*range(len(arg_shape), len(arg_shape) + out_rank), *range(len(arg_shape))]
            blocks.append(e.transpose(rows, perm))
    if symmetric:
        blocks = _symmetric_blocks(e, blocks, [len(shape_of(ins[j])) for j in wrt])
    Rewriter.insert_op(func.ReturnOp(*blocks), e.point)
    return new


def _symmetric_blocks(e: Emitter, blocks: Sequence[SSAValue], ranks: Sequence[int]) -> list[SSAValue]:
    """The Hessian's blocks (j, k), j-major, made exactly symmetric with
    the upper triangle winning (docs/differentiation.md, "Symmetric
    Hessians"): block (j, j) mirrored, block (k, j), k > j, the transpose
    of block (j, k) when both have one element type (else each keeps its
    own precision)."""
    count = len(ranks)
    out = list(blocks)
    for j, rank in enumerate(ranks):
        out[j * count + j] = _mirrored(e, blocks[j * count + j])
        for k in range(j + 1, count):
            perm = [*range(rank, rank + ranks[k]), *range(rank)]
            if element_of(blocks[j * count + k]) == element_of(blocks[k * count + j]):
                out[k * count + j] = e.transpose(blocks[j * count + k], perm)
            # else mixed precision: each block keeps its own precision
    return out


def _mirrored(e: Emitter, hessian: SSAValue) -> SSAValue:
    """A diagonal block (shape S + S) as an `array.mirror` of its n x n
    matrix: only its upper triangle is computed."""
    shape = shape_of(hessian)
    n = prod(shape[: len(shape) // 2])
    if n <= 1:
        return hessian
    square = e.reshape(hessian, [n, n])
    return e.reshape(e.emit(array.MirrorOp(square)), shape)


def jacrev_function(
    module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], compress: str = "never", nnz: int | None = None
) -> func.FuncOp:
    """Reverse mode: the VJP batched over the output directions, or over
    the colors of the rows (`compress`, `nnz` as for jacfwd_function)."""
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    n_out = sum(prod(shape_of(o)) for o in outs)
    plan = _plan(module, fn, wrt, "rows", compress, nnz, n_out)
    types = sparse_types([jacobian_type(o, ins[j]) for o in outs for j in wrt], nnz)
    found, name = reusable_function(module, _named(derived_name(fn, "jacrev", wrt), plan, nnz), ins, types)
    if found is not None:
        return found
    vjp = vjp_function(module, fn, wrt)
    directions = n_out if plan is None else plan.count
    batched = _batched(module, vjp, [False] * len(ins) + [True] * len(outs), directions)
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    if plan is None:
        basis, spans = _basis(e, outs)
    else:
        basis = seed_constants(e, plan, outs)
    grads = _call(e, batched, [*new.body.block.args, *basis])[len(outs) :]
    if plan is not None:
        blocks = _decompressed(e, plan, grads, nnz, [shape_of(o) for o in outs],
                               [shape_of(ins[j]) for j in wrt], [element_of(o) for o in outs], types)
        Rewriter.insert_op(func.ReturnOp(*blocks), e.point)
        return new
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


def jacobian_function(
    module: ModuleOp,
    fn: func.FuncOp,
    wrt: Sequence[int],
    compress: str = "never",
    nnz: int | None = None,
    mode: str = "fwd",
) -> func.FuncOp:
    """The Jacobian function of `mode`: fwd, rev, or auto (the cheapest
    strategy by multiplication count, elimination.py; a sparse request,
    `nnz` set, takes fwd when the inputs have fewer elements than the
    outputs, else rev)."""
    if mode == "auto" and nnz is None:
        from gradc.passes.autodiff.elimination import jacauto_function

        return jacauto_function(module, fn, wrt, compress)
    if mode == "auto":
        ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
        n_in = sum(prod(shape_of(ins[j])) for j in wrt)
        mode = "fwd" if n_in < sum(prod(shape_of(o)) for o in outs) else "rev"
    return (jacfwd_function if mode == "fwd" else jacrev_function)(module, fn, wrt, compress, nnz)


def sweep_directions(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], mode: str, compress: str) -> int:
    """How many directions jacfwd_function (`mode` fwd) or jacrev_function
    (rev) of a dense request pushes: the colors when compression applies,
    else every input (output) element."""
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    if mode == "fwd":
        n = sum(prod(shape_of(ins[j])) for j in wrt)
    else:
        n = sum(prod(shape_of(o)) for o in outs)
    plan = _plan(module, fn, wrt, "columns" if mode == "fwd" else "rows", compress, None, n)
    return n if plan is None else plan.count


def hessian_function(
    module: ModuleOp,
    fn: func.FuncOp,
    wrt: Sequence[int],
    compress: str = "never",
    nnz: int | None = None,
    mode: str = "fwd-over-rev",
) -> func.FuncOp:
    """The Hessian function of `mode`. fwd-over-rev: jacfwd of the
    gradient, compressed by a symmetric (star) coloring of the Hessian's
    pattern when `compress` allows and it pays. rev-over-rev: jacrev of
    the gradient (compressed by a row coloring). rev-over-fwd: jacrev of
    the forward-mode gradient (jacfwd of `fn`, whose one output is a
    scalar: its Jacobian blocks are the gradients), dense. edge-pushing:
    one reverse sweep carrying second-order blocks (edge_pushing.py; raises
    EdgePushingUnavailable where it does not apply), dense. auto: the one
    with the fewest multiplications (elimination.py's hessauto_function);
    a sparse request (`nnz` set) is always fwd-over-rev."""
    if mode == "auto" and nnz is None:
        from gradc.passes.autodiff.elimination import hessauto_function

        return hessauto_function(module, fn, wrt, compress)
    if mode == "rev-over-fwd" and nnz is None:
        return _rev_over_fwd(module, fn, wrt)
    if mode == "edge-pushing" and nnz is None:
        from gradc.passes.autodiff.edge_pushing import edge_pushing_function

        return edge_pushing_function(module, fn, wrt)
    gradient = grad_function(module, fn, wrt, with_outputs=False)
    if mode == "rev-over-rev" and nnz is None:
        return jacrev_function(module, gradient, wrt, compress)
    return jacfwd_function(module, gradient, wrt, compress, nnz, symmetric=True)


def _rev_over_fwd(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    """jacrev of the forward-mode gradient; its blocks converted to the
    Hessian's types (the argument's element type, as fwd-over-rev's) where
    the forward-mode gradient has the output's."""
    ins = fn.function_type.inputs.data
    types = [jacobian_type(ins[i], ins[j]) for i in wrt for j in wrt]
    hessian = jacrev_function(module, jacfwd_function(module, fn, wrt), wrt)
    if list(hessian.function_type.outputs.data) == types:
        return hessian
    found, name = reusable_function(module, f"{hessian.sym_name.data}_converted", ins, types)
    if found is not None:
        return found
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    blocks = _call(e, hessian, list(new.body.block.args))
    Rewriter.insert_op(func.ReturnOp(*(e.convert(b, element_of(t)) for b, t in zip(blocks, types))), e.point)
    return new


# ---------------------------------------------------------------------------
# Compression (passes/autodiff/compression.py)
# ---------------------------------------------------------------------------


def _plan(
    module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], kind: str, compress: str, nnz: int | None, dense: int
) -> Plan | None:
    """The coloring to use, or None for plain vector mode: always for a
    sparse request (`nnz` set), never for compress "never", else when the
    cost model says it pays."""
    if nnz is None and (compress == "never" or dense <= 1):
        return None
    if nnz is None and not pattern_affordable(fn, dense):
        return None
    pattern = jacobian_pattern(module, fn, wrt)
    if kind == "symmetric":
        pattern = symmetric_pattern(pattern)
    if nnz is None and compress == "auto" and not may_pay(kind, pattern, dense):
        return None
    plan = compression_plan(kind, pattern)
    if nnz is not None:
        if pattern.rows.size != nnz:
            raise PatternMismatch(
                f"the sparse request has {nnz} nonzeros but the derivative's pattern has {pattern.rows.size}"
            )
        return plan
    return plan if compress == "always" or worth_it(plan, dense) else None


def _named(name: str, plan: Plan | None, nnz: int | None) -> str:
    if plan is None:
        return name
    return f"{name}_sparse{nnz}" if nnz is not None else f"{name}_colors{plan.count}"


def _decompressed(
    e: Emitter,
    plan: Plan,
    parts: Sequence[SSAValue],
    nnz: int | None,
    row_shapes: Sequence[Sequence[int]],
    col_shapes: Sequence[Sequence[int]],
    elements: Sequence[Attribute],
    types: Sequence[Attribute],
) -> list[SSAValue]:
    if nnz is not None:
        return [decompress_values(e, plan, parts, element_of(types[0]))]
    return decompress_blocks(e, plan, parts, row_shapes, col_shapes, elements)


__all__ = ["hessian_function", "jacfwd_function", "jacobian_function", "jacrev_function", "sweep_directions"]

