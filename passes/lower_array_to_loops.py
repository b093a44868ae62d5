"""lower-array-to-loops: bufferize array-level functions into fused loop nests.

Each `func.func @f(tensors) -> (tensors)` becomes `func.func @f(inputs...,
outputs...)` over memrefs, with `loops.num_inputs = N`, returning nothing.
Its `array` ops become `loops.for` nests of `loops.load`/`loops.store`
around scalar `arith`/`math`; a matmul becomes one `loops.matmul`, a scan a
loop around its body, a switch a `loops.switch` of its lowered branches, a while a `loops.while`,
a scan's VJP a taped loop or an `autodiff.schedule`.
A value is computed inline in its consumer's loop nest unless the fusion
plan gives it a buffer; results are computed straight into the outputs.

Expects: array-level functions with a single block, tensor arguments and
results, static shapes, and no calls (inline first). Functions already at
the loops level (`loops.num_inputs`) are left alone.

Guarantees: no `array` op and no tensor type remain; anything left over
fails the pass with a message naming it. The output is a function of the
input IR alone (deterministic), and sums add in an order fixed by the
shapes (docs/reductions.md). Temporaries are `loops.alloc "workspace"`, or
"stack" below `stack-threshold`; buffers nothing reads are removed. A
function with taped loops records CHECKPOINT_FIGURES.

Options: `stack-threshold` (0 bytes); `fuse-epilogues` (on): a matmul's
elementwise consumers become its epilogue; `fuse-reductions` (on): a
reduction runs in the loop nest of its input's producer.

The machinery lives in passes/array_to_loops/. The fusion rules, the scan
and tape lowering, and why the pass works a function at a time rather than
with rewrite patterns: docs/lowering.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FunctionType,
    IntegerAttr,
    ModuleOp,
    TensorType,
    i64,
)
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from gradc.dialects import array, autodiff, loops
from gradc.passes.array_to_loops import PASS_NAME, fail
from gradc.passes.array_to_loops.buffers import BUFFER_RULES, lower_matmul
from gradc.passes.array_to_loops.elementwise import (
    ELEMENT_RULES,
    FunctionLowering,
    is_pointwise,
    memref_of,
    shape_of,
)
from gradc.passes.array_to_loops.fusion import Fusion, plan_buffers, plan_epilogues, plan_reductions
from gradc.passes.array_to_loops.loop import lower_while
from gradc.passes.array_to_loops.reduction import lower_reduction
from gradc.passes.array_to_loops.scan import (
    CHECKPOINT_FIGURES,
    TapedLoop,
    lower_forward_half,
    lower_reverse_half,
    lower_scan,
    tape_partner,
)
from gradc.passes.array_to_loops.switch import lower_switch


# ---------------------------------------------------------------------------
# One function
# ---------------------------------------------------------------------------


def _check_lowerable(fn: func.FuncOp) -> None:
    name = fn.sym_name.data
    if len(fn.body.blocks) != 1:
        fail(f"@{name} must have exactly one block", at=fn)
    for typ in (*fn.function_type.inputs.data, *fn.function_type.outputs.data):
        if not isinstance(typ, TensorType):
            fail(f"@{name}: arguments and results must be tensors, got {typ}", at=fn)
    for op in fn.body.walk():
        if isinstance(op, func.CallOp):
            fail(f"@{name}: found func.call to @{op.callee.string_value()}; "
                 "inline calls before lowering", at=op)
        if not isinstance(op, func.ReturnOp | array.YieldOp | func.FuncOp) and type(op) not in (
            *ELEMENT_RULES, *BUFFER_RULES, array.ReshapeOp, array.ScanOp, array.SwitchOp, array.WhileOp,
            array.ConditionOp
        ):
            fail(f"@{name}: cannot lower '{op.name}'", at=op)


def _place_results(
    lw: FunctionLowering, results: Sequence[SSAValue], outputs: Sequence[SSAValue]
) -> tuple[dict[SSAValue, SSAValue], list[tuple[SSAValue, SSAValue]]]:
    """Decide where each result is computed: straight into its output
    argument (along a reshape chain, its source into a view of the output),
    or, for inputs, non-splat constants and values already placed, copied
    there at the end. Returns (value -> destination buffer, copies)."""
    dest: dict[SSAValue, SSAValue] = {}
    copies: list[tuple[SSAValue, SSAValue]] = []

    def claimable(value: SSAValue) -> bool:
        op = value.owner
        return (
            isinstance(op, Operation) and value not in dest
            and (is_pointwise(op) or not isinstance(op, array.ConstantOp))
        )

    for value, out in zip(results, outputs, strict=True):
        chain = [value]
        while isinstance(chain[-1].owner, array.ReshapeOp) and claimable(chain[-1].owner.input):
            chain.append(chain[-1].owner.input)
        if not claimable(value) or isinstance(chain[-1].owner, array.ReshapeOp):
            copies.append((value, out))
            continue
        buffer = out
        for v in chain:
            if v is not value:
                buffer = lw.emit(loops.ReshapeOp(buffer, shape_of(v)))
            dest[v] = buffer
    return dest, copies


def _materialize(
    lw: FunctionLowering, op: Operation, dest: dict[SSAValue, SSAValue], buffered: set[SSAValue],
    fusion: Fusion,
) -> None:
    """Give the result of `op` its buffer: a view, a constant, or `dest`
    (else a new temporary) filled by its buffer or element rule, or (when
    fused) by the matmul whose epilogue it is, or in one nest with the
    reduction of it."""
    value = op.results[0]
    if isinstance(op, array.ReshapeOp):
        view = dest.get(value)
        if view is None:
            view = lw.emit(loops.ReshapeOp(lw.buffers[op.input], shape_of(value)))
        lw.buffers[value] = view
    elif isinstance(op, array.ConstantOp) and not is_pointwise(op):
        lw.buffers[value] = lw.emit(loops.ConstantOp(op.value))
    else:
        target = dest[value] if value in dest else lw.alloc(memref_of(value.type))
        if value in fusion.epilogues:
            matmul = fusion.epilogues[value].owner
            lower_matmul(lw, matmul, target, buffered, consumer=op)
        elif value in fusion.reductions:
            lw.buffers[value] = target
            reduction = fusion.reductions[value]
            _materialize_into(lw, reduction, dest, lambda out: lower_reduction(lw, reduction, out, buffered, op))
        elif type(op) in BUFFER_RULES:
            BUFFER_RULES[type(op)](lw, op, target, buffered)
        else:
            lw.compute_into(op, target)
        lw.buffers[value] = target


def _materialize_into(
    lw: FunctionLowering, op: Operation, dest: dict[SSAValue, SSAValue],
    fill: Callable[[SSAValue], None],
) -> None:
    """Give the result of `op` its buffer (`dest`, else a new temporary) and
    `fill` it."""
    value = op.results[0]
    target = dest[value] if value in dest else lw.alloc(memref_of(value.type))
    fill(target)
    lw.buffers[value] = target


def lower_block(
    lw: FunctionLowering, old: Block, results: Sequence[SSAValue], outputs: Sequence[SSAValue]
) -> None:
    """Lower the ops of `old` (a function body or a scan body) at the current
    insertion point, computing `results` into the buffers `outputs`."""
    buffered = plan_buffers(old, results)
    epilogues = plan_epilogues(old, buffered) if lw.fuse_epilogues else {}
    fusion = Fusion(epilogues, plan_reductions(old, buffered, epilogues) if lw.fuse_reductions else {})
    dest, copies = _place_results(lw, results, outputs)
    pairs: dict[array.ScanOp, TapedLoop | None] = {}  # reverse scan -> its forward half
    for op in old.ops:
        if isinstance(op, array.ScanOp) and op in pairs:
            taped = pairs.pop(op)
            assert taped is not None
            lower_reverse_half(lw, op, dest, taped)
            continue
        if isinstance(op, array.WhileOp):
            lower_while(lw, op, dest)
            continue
        if isinstance(op, array.ScanOp):
            partner = tape_partner(op)
            if partner is None:
                lower_scan(lw, op, dest)
            else:
                pairs[partner] = lower_forward_half(lw, op, dest)
            continue
        if isinstance(op, array.SwitchOp):
            lower_switch(lw, op, dest)
            continue
        value = op.results[0] if op.results else None
        if op is not old.last_op and value in buffered and not fusion.done_elsewhere(value):
            _materialize(lw, op, dest, buffered, fusion)
    for value, out in copies:
        lw.copy(value, out)


def lower_function(
    fn: func.FuncOp, stack_threshold: int, fuse_epilogues: bool = True, fuse_reductions: bool = True
) -> None:
    """Rewrite one array-level function into its loops-level form in place."""
    _check_lowerable(fn)
    old = fn.body.block
    ret = old.last_op
    assert isinstance(ret, func.ReturnOp)
    results = list(ret.arguments)
    in_types = [memref_of(a.type) for a in old.args]
    out_types = [memref_of(r.type) for r in results]
    block = Block(arg_types=[*in_types, *out_types])
    inputs, outputs = block.args[: len(in_types)], block.args[len(in_types) :]
    for new, arg in zip(inputs, old.args, strict=True):
        new.name_hint = arg.name_hint
    for out in outputs:
        out.name_hint = "out"

    lw = FunctionLowering(block, stack_threshold, lower_block)
    lw.buffers.update(zip(old.args, inputs, strict=True))
    lw.fuse_epilogues, lw.fuse_reductions = fuse_epilogues, fuse_reductions
    lower_block(lw, old, results, outputs)
    lw.finish()
    remove_dead_buffers(block)

    arg_attrs = None
    if fn.arg_attrs is not None or fn.res_attrs is not None:
        empty = DictionaryAttr({})
        ins = fn.arg_attrs.data if fn.arg_attrs is not None else (empty,) * len(in_types)
        outs = fn.res_attrs.data if fn.res_attrs is not None else (empty,) * len(out_types)
        arg_attrs = ArrayAttr([*ins, *outs])
    fn.body.detach_block(old)
    old.erase(safe_erase=False)
    fn.body.add_block(block)
    fn.function_type = FunctionType.from_lists([*in_types, *out_types], [])
    fn.arg_attrs = arg_attrs
    fn.res_attrs = None
    fn.attributes[loops.NUM_INPUTS_ATTR] = IntegerAttr(len(in_types), i64)
    if lw.taped_loops:
        for key, value in lw.checkpoint_figures.items():
            fn.attributes[CHECKPOINT_FIGURES[key]] = IntegerAttr(value, i64)


def _writes_only(use_op: Operation, buffer: SSAValue) -> bool:
    """Whether `use_op` only writes `buffer` (and reads nothing from it)."""
    if isinstance(use_op, loops.StoreOp):
        return use_op.memref == buffer and use_op.value != buffer
    if isinstance(use_op, autodiff.PopOp):
        return use_op.entry == buffer and use_op.tape != buffer
    return isinstance(use_op, autodiff.PushOp) and use_op.tape == buffer and use_op.entry != buffer


def _pure(op: Operation) -> bool:
    """Ops that compute a value and touch no memory (loads only read)."""
    return isinstance(op, loops.LoadOp) or (
        op.dialect_name() in ("arith", "math") and not op.regions
    )


def remove_dead_buffers(block: Block) -> None:
    """Erase the buffers nothing reads, with the writes into them and what
    only those writes used, until none is left. A buffer that is only
    written is dead work and, in C, a set-but-unused local array (a
    -Wunused-but-set-variable warning): e.g. a tape entry the adjoint of a
    step does not need (found by the random program generator)."""
    changed = True
    while changed:
        changed = False
        for alloc in [o for o in block.walk() if isinstance(o, loops.AllocOp)]:
            buffer = alloc.results[0]
            if not all(_writes_only(use.operation, buffer) for use in buffer.uses):
                continue
            for op in [*dict.fromkeys(use.operation for use in buffer.uses), alloc]:  # writers first
                operands = list(op.operands)
                Rewriter.erase_op(op)
                _erase_unused(operands)
            changed = True


def _erase_unused(values: Sequence[SSAValue]) -> None:
    """Erase the pure ops among the producers of `values` that nothing uses
    any more, and theirs in turn."""
    stack = [v.owner for v in values if isinstance(v.owner, Operation)]
    while stack:
        op = stack.pop()
        if op.parent is None or not _pure(op) or any(r.uses for r in op.results):
            continue
        operands = list(op.operands)
        Rewriter.erase_op(op)
        stack.extend(v.owner for v in operands if isinstance(v.owner, Operation))


# ---------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------


def check_legal(module: ModuleOp) -> None:
    """Fail on any `array` op or tensor type left in `module`."""
    for op in module.walk():
        if op.dialect_name() == "array":
            fail(f"'{op.name}' was left unlowered", at=op)
        types = [*op.result_types, *op.operand_types]
        types += [a.type for r in op.regions for b in r.blocks for a in b.args]
        if isinstance(op, func.FuncOp):
            types += [*op.function_type.inputs.data, *op.function_type.outputs.data]
        if any(isinstance(t, TensorType) for t in types):
            fail(f"'{op.name}' still has a tensor type after lowering", at=op)


@dataclass(frozen=True)
class LowerArrayToLoops(ModulePass):
    """Bufferize array-level functions into fused `loops` nests."""

    name = PASS_NAME

    stack_threshold: int = 0
    """Temporaries smaller than this many bytes are allocated "stack"."""

    fuse_epilogues: bool = True
    """Apply elementwise consumers of a matmul as its epilogue (see plan_epilogues)."""

    fuse_reductions: bool = True
    """Compute a reduction in the nest of its input's producer (see plan_reductions)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.stack_threshold < 0:
            fail(f"stack-threshold must be >= 0, got {self.stack_threshold}")
        for fn in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            if loops.NUM_INPUTS_ATTR in fn.attributes:
                continue  # already at the loops level
            if fn.is_declaration:
                fail(f"@{fn.sym_name.data} is a declaration; inline calls first", at=fn)
            lower_function(fn, self.stack_threshold, self.fuse_epilogues, self.fuse_reductions)
        check_legal(op)
