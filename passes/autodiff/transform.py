"""Function-level derivative transforms: forward (JVP) and reverse (VJP) mode.

    jvp_function(module, f, wrt)   @f_jvp_w0:   (x..., dx_wrt...) -> (y..., dy...)
    vjp_function(module, f, wrt)   @f_vjp_w0:   (x..., dy...)     -> (y..., dx_wrt...)
    grad_function(module, f, wrt)  @f_value_and_grad_w0 (or @f_grad_w0): (x...) -> ...
    inline_calls(f): inline every func.call in f, in place

Expects: `f` in `module`, of one block of `array` ops and `func.call`s of
such functions (inlined while copying, so callees are differentiated
through), with no request left inside.

Guarantees: each transform adds (or reuses, for the same f, wrt, kind and
checkpoint mode) a private `func.func` of ordinary `array` ops named
`<f>_<kind>_w<i>_<j>`; `f` and its callees are unchanged; zero tangents
and adjoints are never materialized except where returned, and ops left
dead are erased. Errors (an op without a rule, a call that cannot be
inlined, recursion) raise PassFailedException located at the offending op,
naming the function being differentiated and the op.

The sweeps, the compile-time tape and symbolic zeros, and how a scan's
body is differentiated (`jvp_block`, `vjp_block`): docs/differentiation.md.
"""

from __future__ import annotations

import re

from collections.abc import Callable, Sequence
from typing import NoReturn

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects.autodiff import REQUEST_OPS
from gradc.passes.autodiff.custom_rules import CUSTOM_JVP_RULES, CUSTOM_VJP_RULES, MODULE
from gradc.passes.autodiff.emitter import Emitter, Value, is_differentiable
from gradc.passes.autodiff.rules import JVP_RULES, VJP_RULES
from gradc.passes.autodiff.scan_rules import DEFAULT_CHECKPOINT
from gradc.passes.autodiff.scan_rules import MULTI_JVP_RULES as _SCAN_JVP_RULES
from gradc.passes.autodiff.scan_rules import MULTI_VJP_RULES as _SCAN_VJP_RULES
from gradc.passes.autodiff.switch_rules import SWITCH_JVP_RULES, SWITCH_VJP_RULES
from gradc.passes.autodiff.while_rules import MULTI_JVP_RULES as _WHILE_JVP_RULES
from gradc.passes.autodiff.while_rules import MULTI_VJP_RULES as _WHILE_VJP_RULES

# Ops with several results or rules of their own: scans, switches, whiles and custom derivatives.
MULTI_JVP_RULES = {**_SCAN_JVP_RULES, **SWITCH_JVP_RULES, **_WHILE_JVP_RULES, **CUSTOM_JVP_RULES}
MULTI_VJP_RULES = {**_SCAN_VJP_RULES, **SWITCH_VJP_RULES, **_WHILE_VJP_RULES, **CUSTOM_VJP_RULES}

OpVisitor = Callable[[Operation, Operation], None]
"""Called with (original op, its copy) for each op a sweep copies."""


# --------------------------------------------------------------------------
# Errors, names, new functions
# --------------------------------------------------------------------------


def fail(at: Operation, message: str) -> NoReturn:
    """Fail the running pass with `message`, located at `at`."""
    error = PassFailedException(message)
    at.emit_error(message, error)


def derived_name(fn: func.FuncOp, kind: str, wrt: Sequence[int]) -> str:
    """`<f>_<kind>_w<wrt>`, and the request's checkpoint mode if it has one
    (functions derived under different modes differ in their loops)."""
    mode = DEFAULT_CHECKPOINT.get()
    suffix = "" if mode is None else "_checkpoint_" + re.sub(r"[^A-Za-z0-9]+", "_", mode).strip("_")
    return f"{fn.sym_name.data}_{kind}_w{'_'.join(map(str, wrt))}{suffix}"


def lookup_function(module: ModuleOp, name: str) -> func.FuncOp | None:
    found = SymbolTable.lookup_symbol(module, name)
    return found if isinstance(found, func.FuncOp) else None


def reusable_function(
    module: ModuleOp, name: str, inputs: Sequence[Attribute], outputs: Sequence[Attribute]
) -> tuple[func.FuncOp | None, str]:
    """(the generated function called `name` of this type if it exists,
    else None; the name to give a new one). A clash with a function that is
    not a matching private one moves the new name to `name_dup<k>`."""
    want = (list(inputs), list(outputs))
    candidate, k = name, 0
    while (found := SymbolTable.lookup_symbol(module, candidate)) is not None:
        if (
            isinstance(found, func.FuncOp)
            and found.sym_visibility is not None
            and found.sym_visibility.data == "private"
            and (list(found.function_type.inputs.data), list(found.function_type.outputs.data)) == want
        ):
            return found, candidate
        k += 1
        candidate = f"{name}_dup{k}"
    return None, candidate


def add_function(
    module: ModuleOp,
    name: str,
    inputs: Sequence[Attribute],
    outputs: Sequence[Attribute],
    names: Sequence[str | None] = (),
) -> func.FuncOp:
    """A new private function at the end of `module`; its arguments are
    named `names` (for readable IR)."""
    fn = func.FuncOp(name, (list(inputs), list(outputs)), visibility="private")
    for arg, hint in zip(fn.body.block.args, names):
        arg.name_hint = hint
    module.body.block.add_op(fn)
    return fn


def arg_names(fn: func.FuncOp) -> list[str | None]:
    return [a.name_hint for a in fn.body.block.args] if fn.body.blocks else []


def erase_dead_ops(fn: func.FuncOp) -> None:
    """Erase side-effect-free ops whose results are unused (one backward
    pass suffices in a single block: users come after their producers)."""
    erase_dead_block(fn.body.block)


def erase_dead_block(block: Block) -> None:
    """`erase_dead_ops` on one block (a function's, or a region's)."""
    for op in reversed(list(block.ops)):
        if op.results and not any(r.uses for r in op.results) and op.dialect_name() == "array":
            Rewriter.erase_op(op)


# --------------------------------------------------------------------------
# Copying a function's body with calls inlined
# --------------------------------------------------------------------------


def _callee(
    module: ModuleOp, call: func.CallOp, stack: Sequence[func.FuncOp], root: func.FuncOp
) -> func.FuncOp:
    name = call.callee.string_value()
    callee = lookup_function(module, name)
    where = stack[-1].sym_name.data
    if callee is None or not callee.body.blocks:
        fail(call, f"@{root.sym_name.data}: cannot inline the call to @{name} in @{where}: "
                   "it is not a function with a body in this module")
    if callee in stack:
        fail(call, f"@{root.sym_name.data}: recursive call to @{name} in @{where} "
                   "cannot be inlined")
    return callee


def copy_body(
    module: ModuleOp,
    fn: func.FuncOp,
    args: Sequence[SSAValue],
    point: InsertPoint,
    visit: OpVisitor | None = None,
    *,
    root: func.FuncOp | None = None,
    stack: Sequence[func.FuncOp] = (),
) -> list[SSAValue]:
    """Copy the ops of `fn` (applied to `args`) to `point`, inlining calls
    recursively; return the values it returns. `visit` sees each copied op."""
    root = root or fn
    stack = (*stack, fn)
    if len(fn.body.blocks) != 1:
        fail(fn, f"@{root.sym_name.data}: @{fn.sym_name.data} must have exactly one block")
    mapping: dict[SSAValue, SSAValue] = dict(zip(fn.body.block.args, args, strict=True))
    for op in fn.body.block.ops:
        if isinstance(op, func.ReturnOp):
            return [mapping[v] for v in op.arguments]
        if isinstance(op, func.CallOp):
            callee = _callee(module, op, stack, root)
            inner = [mapping[v] for v in op.arguments]
            results = copy_body(module, callee, inner, point, visit, root=root, stack=stack)
            mapping.update(zip(op.results, results, strict=True))
            continue
        copy = op.clone(value_mapper=mapping)
        Rewriter.insert_op(copy, point)
        _inline_regions(module, copy, root, stack)
        if visit is not None:
            visit(op, copy)
    fail(fn, f"@{root.sym_name.data}: @{fn.sym_name.data} does not end in func.return")


def inline_calls(fn: func.FuncOp, module: ModuleOp | None = None) -> None:
    """Inline every func.call in `fn` (recursively, and in the bodies of its
    loops: a derivative request inside a loop body leaves a call there), in
    place."""
    if not fn.body.blocks:
        return
    if module is None:
        parent = fn.parent_op()
        assert isinstance(parent, ModuleOp), "inline_calls needs the enclosing module"
        module = parent
    _inline_regions(module, fn, fn, ())


def _inline_regions(module: ModuleOp, op: Operation, root: func.FuncOp, stack: Sequence[func.FuncOp]) -> None:
    """Inline the calls in the regions of `op` (copied from the functions of
    `stack`, for the recursion check), at any depth."""
    frames = tuple(stack) or (root,)
    for region in op.regions:
        for block in region.blocks:
            for inner in list(block.ops):
                if isinstance(inner, func.CallOp):
                    callee = _callee(module, inner, frames, root)
                    args = list(inner.arguments)
                    results = copy_body(module, callee, args, InsertPoint.before(inner), root=root, stack=frames)
                    for old, new in zip(inner.results, results, strict=True):
                        old.replace_all_uses_with(new)
                    Rewriter.erase_op(inner)
                else:
                    _inline_regions(module, inner, root, stack)


def copy_block_ops(old: Block, point: InsertPoint, mapping: dict[SSAValue, SSAValue], visit: OpVisitor) -> None:
    """Copy the ops of a region's block `old` but its terminator to `point`
    (`mapping` maps its arguments and receives the copies' results),
    inlining the calls among them like `copy_body`; `visit` sees each
    copied op."""
    root = _enclosing_function(old.parent_op())
    module = root.parent_op() if root is not None else None
    for op in old.ops:
        if op is old.last_op:
            break
        if isinstance(op, func.CallOp):
            assert isinstance(module, ModuleOp), "inlining a call needs the enclosing module"
            callee = _callee(module, op, (root,), root)
            inner = [mapping.get(v, v) for v in op.arguments]
            results = copy_body(module, callee, inner, point, visit, root=root, stack=(root,))
            mapping.update(zip(op.results, results, strict=True))
            continue
        copy = op.clone(value_mapper=mapping)
        Rewriter.insert_op(copy, point)
        if isinstance(module, ModuleOp):
            _inline_regions(module, copy, root, (root,))
        visit(op, copy)


def _no_rule(root: func.FuncOp, original: Operation, kind: str) -> NoReturn:
    owner = original.parent_op()
    elsewhere = isinstance(owner, func.FuncOp) and owner is not root
    where = f" (in @{owner.sym_name.data})" if elsewhere else ""
    if isinstance(original, REQUEST_OPS):
        fail(original, f"@{root.sym_name.data}: '{original.name}'{where} must be expanded "
                       "before the function is differentiated (run 'differentiate')")
    fail(original, f"@{root.sym_name.data}: cannot differentiate '{original.name}'{where}: "
                   f"it has no {kind} rule")


def _differentiable_result(op: Operation) -> SSAValue | None:
    """The op's one f32/f64 result, if it has exactly one result."""
    if len(op.results) == 1 and is_differentiable(op.results[0]):
        return op.results[0]
    return None


# --------------------------------------------------------------------------
# Forward mode
# --------------------------------------------------------------------------


def jvp_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    """`@<f>_jvp_w...`: (primals..., tangents of wrt...) -> (outputs...,
    output tangents...), primal and tangent computed in one sweep."""
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    inputs, outputs = [*ins, *(ins[i] for i in wrt)], [*outs, *outs]
    found, name = reusable_function(module, derived_name(fn, "jvp", wrt), inputs, outputs)
    if found is not None:
        return found
    names = arg_names(fn)
    tangent_names = [names[i] and f"{names[i]}_dot" for i in wrt] if names else []
    new = add_function(module, name, inputs, outputs, [*names, *tangent_names])
    token = MODULE.set(module)
    try:
        _jvp_body(module, fn, new, wrt)
    finally:
        MODULE.reset(token)
    return new


def _jvp_body(module: ModuleOp, fn: func.FuncOp, new: func.FuncOp, wrt: Sequence[int]) -> None:
    ins = fn.function_type.inputs.data
    block = new.body.block
    args = block.args[: len(ins)]
    tangent: dict[SSAValue, Value] = {
        args[i]: t for i, t in zip(wrt, block.args[len(ins) :], strict=True)
    }
    e = Emitter(InsertPoint.at_end(block), fn.location)
    replaced: list[tuple[Operation, list[SSAValue]]] = []
    results = copy_body(module, fn, args, e.point, _jvp_visitor(e, tangent, replaced, fn))
    e.location = fn.location
    tangents = [e.materialize(tangent.get(v), v) for v in results]
    Rewriter.insert_op(func.ReturnOp(*results, *tangents), e.point)
    _replace(replaced)
    erase_dead_ops(new)


def _jvp_visitor(
    e: Emitter, tangent: dict[SSAValue, Value], replaced: list[tuple[Operation, list[SSAValue]]], root: func.FuncOp
) -> OpVisitor:
    """The forward sweep's step: after an op is copied, its JVP rule maps
    the tangents of its operands to those of its results. An op with
    several results (a scan) is replaced by the ops its rule builds, which
    also compute the primal results: `replaced` collects (old op, new
    values of its results) pairs
    for `_replace` once the sweep is done (later copies still refer to the
    old results until then)."""

    def visit(original: Operation, op: Operation) -> None:
        tangents = [tangent.get(v) for v in op.operands]
        if all(t is None for t in tangents):
            return
        e.location = op.location
        multi = MULTI_JVP_RULES.get(type(op))
        if multi is not None:
            primals, outs = multi(e, op, *tangents)
            replaced.append((op, primals))
            tangent.update((r, t) for r, t in zip(op.results, outs, strict=True) if t is not None)
            return
        result = _differentiable_result(op)
        if result is None:
            if any(is_differentiable(r) for r in op.results):
                _no_rule(root, original, "jvp")
            return
        rule = JVP_RULES.get(type(op))
        if rule is None:
            _no_rule(root, original, "jvp")
        tangent[result] = rule(e, op, *tangents)

    return visit


def _replace(replaced: list[tuple[Operation, list[SSAValue]]]) -> None:
    """Replace each old op's results by its new values and erase it. A new
    value may itself be a result of an earlier replaced op (a custom rule
    returning an operand): the lists are resolved in place, in order."""
    done: dict[SSAValue, SSAValue] = {}
    for old, new in replaced:
        new[:] = [done.get(v, v) for v in new]
        for a, b in zip(old.results, new, strict=True):
            a.replace_all_uses_with(b)
            done[a] = b
        Rewriter.erase_op(old)


def jvp_block(
    old: Block, new: Block, mapping: dict[SSAValue, SSAValue], tangent: dict[SSAValue, Value]
) -> tuple[list[SSAValue], list[Value], Emitter]:
    """Copy the ops of a region's block `old` (applied to `mapping`'s values
    for its arguments) to the end of `new`, with their JVPs (`tangent` holds
    those of the arguments). Returns the copies of the values its
    terminator yields, their tangents, and an Emitter at the end of `new`
    (for the terminator)."""
    e = Emitter(InsertPoint.at_end(new))
    replaced: list[tuple[Operation, list[SSAValue]]] = []
    visit = _jvp_visitor(e, tangent, replaced, _enclosing_function(old.parent_op()))
    copy_block_ops(old, e.point, mapping, visit)
    values = [mapping.get(v, v) for v in old.last_op.operands]
    tangents = [tangent.get(v) for v in values]
    _replace(replaced)
    values = [_replacement(v, replaced) for v in values]
    return values, tangents, e


def _replacement(value: SSAValue, replaced: list[tuple[Operation, list[SSAValue]]]) -> SSAValue:
    for old, new in replaced:
        if value.owner is old:
            return new[value.index]
    return value


# --------------------------------------------------------------------------
# Reverse mode
# --------------------------------------------------------------------------


class _Tape:
    """The reverse-mode record of a forward sweep, and the reverse sweep
    over it. The forward sweep's `visit` marks the results of ops with an
    active operand active and records those ops; an op with several results
    (a scan) is replaced by the ops of its MULTI_VJP_RULES forward part
    (which also computes what its reverse part reads), collected in
    `replaced` for `_replace` once the sweeps are done. `reverse` runs the
    VJP rules over the record backwards, summing adjoints over fan-out."""

    def __init__(self, e: Emitter, active: set[SSAValue], root: func.FuncOp | None):
        self.e, self.active, self.root = e, active, root
        self.entries: list[tuple[Operation, Operation, object]] = []
        self.replaced: list[tuple[Operation, list[SSAValue]]] = []

    def visit(self, original: Operation, op: Operation) -> None:
        if not any(v in self.active for v in op.operands):
            return
        state = None
        multi = MULTI_VJP_RULES.get(type(op))
        if multi is not None:
            self.e.location = op.location
            primals, active_results, state = multi[0](self.e, op, [v in self.active for v in op.operands])
            self.replaced.append((op, primals))
            self.active.update(r for r, on in zip(op.results, active_results, strict=True) if on)
        else:
            self.active.update(r for r in op.results if is_differentiable(r))
        self.entries.append((original, op, state))

    def accumulate(self, adjoint: dict[SSAValue, Value], value: SSAValue, g: Value) -> None:
        if g is not None and value in self.active:
            adjoint[value] = self.e.add(adjoint.get(value), g)

    def reverse(self, adjoint: dict[SSAValue, Value]) -> None:
        e = self.e
        for original, op, state in reversed(self.entries):
            gs = [adjoint.pop(r, None) for r in op.results]
            if all(g is None for g in gs):
                continue
            e.location = op.location
            multi = MULTI_VJP_RULES.get(type(op))
            if multi is not None:
                cotangents = multi[1](e, state, gs)
            else:
                rule = VJP_RULES.get(type(op))
                if rule is None or len(gs) != 1:
                    _no_rule(self.root, original, "vjp")
                cotangents = rule(e, op, gs[0])
            for value, g in zip(op.operands, cotangents, strict=True):
                self.accumulate(adjoint, value, g)


def _enclosing_function(op: Operation | None) -> func.FuncOp | None:
    while op is not None and not isinstance(op, func.FuncOp):
        op = op.parent_op()
    return op


def vjp_block(
    old: Block,
    new: Block,
    mapping: dict[SSAValue, SSAValue],
    active: set[SSAValue],
    cotangents: Sequence[Value],
) -> tuple[list[SSAValue], list[bool], dict[SSAValue, Value], set[Operation]]:
    """Copy the ops of a region's block `old` (applied to `mapping`'s values
    for its arguments, of which those in `active` are active) to the end of
    `new`, then the reverse sweep that takes `cotangents` for the values its
    terminator yields. Returns (the copies of the yielded values, whether
    each is active, the adjoints of the active values of `new` (its
    arguments' among them), the ops of the forward sweep). The reverse sweep
    reads values of the forward sweep: a scan's VJP stacks those per step."""
    e = Emitter(InsertPoint.at_end(new))
    tape = _Tape(e, active, _enclosing_function(old.parent_op()))
    copy_block_ops(old, e.point, mapping, tape.visit)
    forward = set(new.ops)
    values = [mapping.get(v, v) for v in old.last_op.operands]
    flags = [v in active for v in values]
    adjoint: dict[SSAValue, Value] = {}
    for v, g in zip(values, cotangents, strict=True):
        tape.accumulate(adjoint, v, g)
    tape.reverse(adjoint)
    _replace(tape.replaced)
    forward = {op for op in forward if op.parent is new}
    return [_replacement(v, tape.replaced) for v in values], flags, adjoint, forward


def _reverse_function(
    module: ModuleOp,
    fn: func.FuncOp,
    wrt: Sequence[int],
    kind: str,
    *,
    cotangent_args: bool,
    with_outputs: bool,
) -> func.FuncOp:
    """The forward sweep, then the reverse sweep. Cotangents of the outputs
    are arguments (`cotangent_args`) or, for a gradient, 1 for the first
    output and zero for the others."""
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    inputs = [*ins, *(outs if cotangent_args else ())]
    outputs = [*(outs if with_outputs else ()), *(ins[i] for i in wrt)]
    found, name = reusable_function(module, derived_name(fn, kind, wrt), inputs, outputs)
    if found is not None:
        return found
    new = add_function(module, name, inputs, outputs, arg_names(fn))
    token = MODULE.set(module)
    try:
        _reverse_body(module, fn, new, wrt, cotangent_args, with_outputs)
    finally:
        MODULE.reset(token)
    return new


def _reverse_body(
    module: ModuleOp, fn: func.FuncOp, new: func.FuncOp, wrt: Sequence[int], cotangent_args: bool, with_outputs: bool
) -> None:
    ins = fn.function_type.inputs.data
    block = new.body.block
    args = block.args[: len(ins)]
    e = Emitter(InsertPoint.at_end(block), fn.location)
    tape = _Tape(e, {args[i] for i in wrt if is_differentiable(args[i])}, fn)
    results = copy_body(module, fn, args, e.point, tape.visit)

    adjoint: dict[SSAValue, Value] = {}
    e.location = fn.location
    if cotangent_args:
        for value, g in zip(results, block.args[len(ins) :], strict=True):
            tape.accumulate(adjoint, value, g)
    else:
        tape.accumulate(adjoint, results[0], e.ones_like(results[0]))
    tape.reverse(adjoint)

    e.location = fn.location
    grads = [e.materialize(adjoint.get(args[i]), args[i]) for i in wrt]
    Rewriter.insert_op(func.ReturnOp(*(results if with_outputs else ()), *grads), e.point)
    _replace(tape.replaced)
    erase_dead_ops(new)


def vjp_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    """`@<f>_vjp_w...`: (primals..., output cotangents...) -> (outputs...,
    cotangents of wrt...)."""
    return _reverse_function(module, fn, wrt, "vjp", cotangent_args=True, with_outputs=True)


def grad_function(
    module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], *, with_outputs: bool = True
) -> func.FuncOp:
    """The gradient of the first (scalar) output: `@<f>_value_and_grad_w...`
    (primals...) -> (outputs..., gradients...), or with `with_outputs=False`
    `@<f>_grad_w...` (primals...) -> (gradients...)."""
    kind = "value_and_grad" if with_outputs else "grad"
    return _reverse_function(module, fn, wrt, kind, cotangent_args=False, with_outputs=with_outputs)


__all__ = [
    "copy_body",
    "derived_name",
    "erase_dead_block",
    "fail",
    "grad_function",
    "inline_calls",
    "jvp_block",
    "jvp_function",
    "vjp_block",
    "vjp_function",
]
