"""Batching (JAX's vmap) as a function transform on array-level functions.

    batch_function(module, fn, batched=[True, False], size=8, name="f_batched")

Expects: `fn` has one block of `array` ops (no calls: inline first) ending
in `func.return`, tensor arguments and results, and lives in `module`.

Guarantees: adds `func.func private @f_batched` right after `fn`: argument
i gets a leading dimension `size` if `batched[i]`, every result gets one,
and row s of every result is what `fn` gives on row s of the batched
arguments; values that do not depend on a batched argument stay unbatched
(computed once, broadcast only where needed); the new function holds only
`array` ops and verifies, with the locations of the ops it batches; `fn` is
unchanged. A bad call raises ValueError; an op without a rule in
`BATCH_RULES`, PassFailedException located at it.

The rule per op (`BATCH_RULES`) and why matmul, scan, switch and while
are batched as they are: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array, autodiff
from gradc.passes.autodiff.custom_rules import batch_custom
from gradc.support.dense import numpy_dtype, numpy_to_dense, splat_dense


@dataclass
class Batcher:
    """Where batched ops go: the new function's block, the batch size, and
    the location of the op being batched."""

    block: Block
    size: int
    location: Attribute | None = None
    _lifted: dict[SSAValue, SSAValue] = field(default_factory=dict)

    def emit(self, op: Operation) -> SSAValue:
        if self.location is not None:
            op.location = self.location
        self.block.add_op(op)
        return op.results[0]

    def batched_type(self, typ: Attribute) -> TensorType:
        assert isinstance(typ, TensorType)
        return TensorType(typ.get_element_type(), [self.size, *typ.get_shape()])

    def lift(self, value: SSAValue, batched: bool) -> SSAValue:
        """`value` with the leading batch dimension: broadcast (once per
        value) when it has none."""
        if batched:
            return value
        if value not in self._lifted:
            rank = len(shape_of(value))
            typ = self.batched_type(value.type)
            self._lifted[value] = self.emit(
                array.BroadcastOp(value, range(1, rank + 1), typ.get_shape())
            )
        return self._lifted[value]

    def reshape(self, value: SSAValue, shape: Sequence[int]) -> SSAValue:
        if shape_of(value) == tuple(shape):
            return value
        return self.emit(array.ReshapeOp(value, shape))

    def transpose(self, value: SSAValue, perm: Sequence[int]) -> SSAValue:
        """A transpose, or a reshape when it only moves dimensions of size 1
        (no element changes place), or nothing for the identity."""
        shape = shape_of(value)
        if list(perm) == sorted(perm):
            return value
        moved = [p for p in perm if shape[p] != 1]
        if moved == sorted(moved):
            return self.reshape(value, [shape[p] for p in perm])
        return self.emit(array.TransposeOp(value, perm))


def shape_of(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, TensorType)
    return tuple(value.type.get_shape())


Args = Sequence[SSAValue]
Flags = Sequence[bool]
Rule = Callable[[Batcher, Operation, Args, Flags], SSAValue]
"""(batcher, op, new operands, which are batched) -> the batched result."""


# ---------------------------------------------------------------------------
# Rules, one per op
# ---------------------------------------------------------------------------


def _elementwise(b: Batcher, op: Operation, args: Args, batched: Flags) -> SSAValue:
    """Unary, binary, compare, select, convert: the same op on the batched
    shape, with unbatched operands broadcast to it."""
    return b.emit(
        type(op).create(
            operands=[b.lift(v, bat) for v, bat in zip(args, batched)],
            result_types=[b.batched_type(op.results[0].type)],
            properties=dict(op.properties),
            attributes=dict(op.attributes),
        )
    )


def _constant(b: Batcher, op: Operation, args: Args, batched: Flags) -> SSAValue:
    raise AssertionError("a constant has no operands and a yield ends its scan's body: neither is batched by a rule")


def _broadcast(b: Batcher, op: array.BroadcastOp, args: Args, batched: Flags) -> SSAValue:
    dims = [0, *(d + 1 for d in op.dim_map)]
    shape = b.batched_type(op.result.type).get_shape()
    return b.emit(array.BroadcastOp(args[0], dims, shape))


def _reshape(b: Batcher, op: array.ReshapeOp, args: Args, batched: Flags) -> SSAValue:
    return b.emit(array.ReshapeOp(args[0], b.batched_type(op.result.type).get_shape()))


def _transpose(b: Batcher, op: array.TransposeOp, args: Args, batched: Flags) -> SSAValue:
    return b.emit(array.TransposeOp(args[0], [0, *(p + 1 for p in op.perm)]))


def _slice(b: Batcher, op: array.SliceOp, args: Args, batched: Flags) -> SSAValue:
    start, limit, stride = zip(*op.bounds) if op.bounds else ((), (), ())
    return b.emit(
        array.SliceOp(args[0], [0, *start], [b.size, *limit], [1, *stride])
    )


def _gather(b: Batcher, op: array.GatherOp, args: Args, batched: Flags) -> SSAValue:
    """The batch dimension is not gathered: it lands after the table's
    dimensions, and a transpose brings it to the front."""
    gathered = b.emit(array.GatherOp(args[0], [a + 1 for a in op.axis_list], op.table))
    n = len(op.batch_shape)
    rank = len(shape_of(gathered))
    return b.transpose(gathered, [n, *range(n), *range(n + 1, rank)])


def _indexed(b: Batcher, op: array.DynamicGatherOp | array.ScatterOp, args: Args, batched: Flags) -> SSAValue:
    """Every operand lifted to the batch; the batch dimension becomes one
    more indexed axis (the first), its index the row number, prepended to
    each row of the indices."""
    x, indices = b.lift(args[0], batched[0]), b.lift(args[1], batched[1])
    shape = shape_of(indices)
    element = indices.type.get_element_type()
    rows = np.arange(b.size, dtype=numpy_dtype(element)).reshape(b.size, *[1] * (len(shape) - 1))
    row = b.emit(array.ConstantOp(numpy_to_dense(np.ascontiguousarray(np.broadcast_to(rows, (*shape[:-1], 1))))))
    indices = b.emit(array.ConcatenateOp([row, indices], len(shape) - 1))
    axes = [0, *(a + 1 for a in op.axis_list)]
    if isinstance(op, array.DynamicGatherOp):
        return b.emit(array.DynamicGatherOp(x, indices, axes, op.mode.data))
    return b.emit(array.ScatterOp(x, indices, b.lift(args[2], batched[2]), axes, op.kind.data, op.mode.data))


def _dynamic(b: Batcher, op: array.DynamicSliceOp | array.DynamicUpdateSliceOp, args: Args, batched: Flags) -> SSAValue:
    """With unbatched starts, the same op with one more start, 0, for the
    batch dimension. With a batched start (a window per row, or a start a
    scan carried as a per-step output), a scan over the rows applies the
    op to each."""
    n_starts = len(op.starts)
    if any(batched[len(args) - n_starts :]):
        return _per_row(b, op, args, batched)
    starts = list(args[len(args) - n_starts :])
    zero = b.emit(array.ConstantOp(splat_dense(0, numpy_dtype(starts[0].type.get_element_type()), ())))
    if isinstance(op, array.DynamicSliceOp):
        return b.emit(array.DynamicSliceOp(args[0], [zero, *starts], [b.size, *op.size_list]))
    return b.emit(array.DynamicUpdateSliceOp(b.lift(args[0], batched[0]), b.lift(args[1], batched[1]), [zero, *starts]))


def _per_row(b: Batcher, op: Operation, args: Args, batched: Flags) -> SSAValue:
    """`op` on row s of its batched operands (the others as they are), for
    each s: an `array.scan` over the rows whose body is the op itself."""
    rows = [a for a, bat in zip(args, batched) if bat]
    invariants = [a for a, bat in zip(args, batched) if not bat]
    block = Block(arg_types=[
        array.INDEX_TYPE,
        *(TensorType(a.type.get_element_type(), shape_of(a)[1:]) for a in rows),
        *(a.type for a in invariants),
    ])
    row_args = iter(block.args[1 : 1 + len(rows)])
    invariant_args = iter(block.args[1 + len(rows) :])
    operands = [next(row_args) if bat else next(invariant_args) for bat in batched]
    inner = type(op).create(
        operands=operands,
        result_types=[r.type for r in op.results],
        properties=dict(op.properties),
        attributes=dict(op.attributes),
    )
    inner.location = b.location
    block.add_op(inner)
    block.add_op(array.YieldOp(inner.results))
    scan = array.ScanOp(b.size, [], rows, invariants, [b.batched_type(op.results[0].type)], Region(block))
    scan.location = b.location
    b.block.add_op(scan)
    return scan.ys[0]


def _concatenate(b: Batcher, op: array.ConcatenateOp, args: Args, batched: Flags) -> SSAValue:
    inputs = [b.lift(v, bat) for v, bat in zip(args, batched)]
    return b.emit(array.ConcatenateOp(inputs, op.axis.value.data + 1))


def _reduce(b: Batcher, op: array.ReduceOp, args: Args, batched: Flags) -> SSAValue:
    return b.emit(type(op)(args[0], [a + 1 for a in op.axis_list]))


def _argmax(b: Batcher, op: array.ArgMaxOp, args: Args, batched: Flags) -> SSAValue:
    return b.emit(array.ArgMaxOp(args[0], op.axis_index + 1))


def _matmul(b: Batcher, op: array.MatmulOp, args: Args, batched: Flags) -> SSAValue:
    lhs, rhs = args
    if all(batched):
        return b.emit(array.MatmulOp(lhs, rhs))
    if batched[0]:
        return _matmul_batched_lhs(b, lhs, rhs)
    # A @ X[s] = (X[s]^T @ A^T)^T: A^T is computed once, unbatched, and the
    # transposes of X and of the result are reshapes when n == 1.
    rank = len(shape_of(lhs))
    swap = [*range(rank - 2), rank - 1, rank - 2]
    swap_batched = [0, *(p + 1 for p in swap)]
    product = _matmul_batched_lhs(b, b.transpose(rhs, swap_batched), b.transpose(lhs, swap))
    return b.transpose(product, swap_batched)


def _matmul_batched_lhs(b: Batcher, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
    """[S, B.., m, k] x [B.., k, n]: fold S into the rows of lhs, one matmul
    with the unbatched rhs as it is, unfold. (For B empty, both transposes
    vanish and the reshapes are views.)"""
    s, *batch, m, k = shape_of(lhs)
    n = shape_of(rhs)[-1]
    r = len(batch)
    rows_last = b.transpose(lhs, [*range(1, r + 1), 0, r + 1, r + 2])  # [B.., S, m, k]
    folded = b.reshape(rows_last, [*batch, s * m, k])
    product = b.emit(array.MatmulOp(folded, rhs))  # [B.., S*m, n]
    unfolded = b.reshape(product, [*batch, s, m, n])
    return b.transpose(unfolded, [r, *range(r), r + 1, r + 2])


def _scan(b: Batcher, op: array.ScanOp, args: Args, batched: Flags) -> list[SSAValue]:
    """One scan over batched values: every carry and per-step output gets
    the batch dimension right after the step dimension (carries need it as
    soon as any operand has it, and a uniform choice keeps this short); xs
    are transposed to [steps, S, ...] and the stacked outputs back to
    [S, steps, ...]. The body is batched like a function."""
    c, x = len(op.initials), len(op.xs)
    index, carries, slices, invariants = op.body_args()
    initials = [b.lift(v, bat) for v, bat in zip(args[:c], batched[:c])]
    xs = [_swap_leading(b, v) if bat else v for v, bat in zip(args[c : c + x], batched[c : c + x])]
    arg_flags = [False, *[True] * c, *batched[c:]]
    old_args = [index, *carries, *slices, *invariants]
    block = Block(arg_types=[b.batched_type(a.type) if bat else a.type for a, bat in zip(old_args, arg_flags)])
    env = {old: (new, bat) for old, new, bat in zip(old_args, block.args, arg_flags)}
    inner = Batcher(block, b.size)
    yielded = _batch_block(inner, op.block, env)
    yield_op = array.YieldOp(yielded)
    yield_op.location = op.block.last_op.location
    block.add_op(yield_op)
    ys_types = [TensorType(y.type.get_element_type(), [op.trip_count, b.size, *shape_of(y)[1:]]) for y in op.ys]
    new = array.ScanOp(op.trip_count, initials, xs, args[c + x :], ys_types, Region(block), op.is_reverse)
    new.location = b.location
    new.attributes.update(op.attributes)  # the tape and checkpoint marks: same ys, same meaning
    b.block.add_op(new)
    return [*new.finals, *(_swap_leading(b, y) for y in new.ys)]


def _switch(b: Batcher, op: array.SwitchOp, args: Args, batched: Flags) -> list[SSAValue]:
    """An unbatched index: one switch whose branches are batched like
    functions (all results batched). A batched index (a branch per row):
    every branch runs on the whole batch, inline, and each result is
    chosen row by row with selects on the (clamped) index, as JAX does."""
    index, inputs, flags = args[0], args[1:], batched[1:]
    if not batched[0]:
        regions = []
        for region in op.branches:
            old_args = region.block.args
            block = Block(arg_types=[b.batched_type(a.type) if bat else a.type for a, bat in zip(old_args, flags)])
            env = {old: (new, bat) for old, new, bat in zip(old_args, block.args, flags)}
            yield_op = array.YieldOp(_batch_block(Batcher(block, b.size), region.block, env))
            yield_op.location = region.block.last_op.location
            block.add_op(yield_op)
            regions.append(Region(block))
        new = array.SwitchOp(index, inputs, [b.batched_type(t) for t in op.outputs.types], regions)
        new.location = b.location
        b.block.add_op(new)
        return list(new.outputs)
    location = b.location
    chosen = [
        _batch_block(b, region.block, {a: (v, bat) for a, v, bat in zip(region.block.args, inputs, flags)})
        for region in op.branches
    ]
    b.location = location
    results = list(chosen[-1])
    dtype = numpy_dtype(index.type.get_element_type())
    for k in range(len(chosen) - 2, -1, -1):
        bound = b.emit(array.ConstantOp(splat_dense(k, dtype, (b.size,))))
        taken = b.emit(array.CompareOp("le", index, bound))  # index <= k: clamped below, as the op
        for i, (value, current) in enumerate(zip(chosen[k], results)):
            mask = b.emit(array.BroadcastOp(taken, [0], shape_of(value))) if len(shape_of(value)) > 1 else taken
            results[i] = b.emit(array.SelectOp(mask, value, current))
    return results

def _while(b: Batcher, op: array.WhileOp, args: Args, batched: Flags) -> list[SSAValue]:
    """One while over batched values. A carry is batched when its initial
    value or its new value is (to a fixed point), and every carry is when
    the predicate is: the loop then runs while any row's predicate holds,
    and a row whose predicate fails keeps its carry (a select), as in JAX.
    An unbatched predicate leaves the loop as it is, over a batched body."""
    c = len(op.initials)
    inv_flags = list(batched[c:])
    flags = list(batched[:c])
    while True:
        ((_, predicate),) = _batched_region(b, op.cond_block, flags, inv_flags)[2]
        outs = _batched_region(b, op.block, flags, inv_flags)[2]
        new = [on or predicate or bat for on, (_, bat) in zip(flags, outs)]
        if new == flags:
            break
        flags = new
    cond, inner, ((p, _),) = _batched_region(b, op.cond_block, flags, inv_flags)
    if predicate:  # any row's predicate holds
        as_int = inner.emit(array.ConvertOp(p, IntegerType(32)))
        count = inner.emit(array.ReduceMaxOp(as_int, [0]))
        zero = inner.emit(array.ConstantOp(splat_dense(0, np.dtype(np.int32), ())))
        p = inner.emit(array.CompareOp("gt", count, zero))
    cond.add_op(array.ConditionOp(p))
    body, inner, outs = _batched_region(b, op.block, flags, inv_flags)
    values = [inner.lift(v, bat) if on else v for on, (v, bat) in zip(flags, outs)]  # lift(v, bat): v batched
    if predicate:  # rows that are done keep their carry
        env = {o: (n, bat) for o, n, bat in zip(op.cond_block.args, body.args, [*flags, *inv_flags])}
        ((again, _),) = _batch_body(inner, op.cond_block, env)
        values = [
            inner.emit(array.SelectOp(inner.emit(array.BroadcastOp(again, [0], shape_of(v))), v, old))
            for v, old in zip(values, body.args[:c])
        ]
    body.add_op(array.YieldOp(values))
    new_op = array.WhileOp(
        [b.lift(v, bat) if on else v for v, on, bat in zip(args[:c], flags, batched)], list(args[c:]),
        Region(cond), Region(body), op.bound
    )
    new_op.location = b.location
    new_op.attributes.update(op.attributes)
    b.block.add_op(new_op)
    return [b.lift(v, on) for v, on in zip(new_op.finals, flags)]


def _batched_region(
    b: Batcher, old: Block, flags: Flags, inv_flags: Flags
) -> tuple[Block, Batcher, list[tuple[SSAValue, bool]]]:
    """A block with the arguments of a while region `old` (carries batched
    by `flags`, invariants by `inv_flags`) holding old's ops batched but its
    terminator; returns it, a Batcher at its end and the terminator's
    operands as (value, whether batched)."""
    arg_flags = [*flags, *inv_flags]
    block = Block(arg_types=[b.batched_type(a.type) if bat else a.type for a, bat in zip(old.args, arg_flags)])
    env = {o: (n, bat) for o, n, bat in zip(old.args, block.args, arg_flags)}
    inner = Batcher(block, b.size)
    return block, inner, _batch_body(inner, old, env)


def _swap_leading(b: Batcher, value: SSAValue) -> SSAValue:
    rank = len(shape_of(value))
    return b.transpose(value, [1, 0, *range(2, rank)])


BATCH_RULES: dict[type[Operation], Rule] = {
    array.ConstantOp: _constant,
    **{op: _elementwise for op in (*array.UNARY_OPS, *array.BINARY_OPS, *array.BITWISE_OPS)},
    array.Threefry2x32Op: _elementwise,  # key words batched like counters: per-row keys
    array.CompareOp: _elementwise,
    array.SelectOp: _elementwise,
    array.ConvertOp: _elementwise,
    array.StopGradientOp: _elementwise,
    array.BroadcastOp: _broadcast,
    array.ReshapeOp: _reshape,
    array.TransposeOp: _transpose,
    array.MirrorOp: _elementwise,  # mirrors the last two dimensions: the batch one leads
    array.SliceOp: _slice,
    array.GatherOp: _gather,
    array.DynamicGatherOp: _indexed,
    array.ScatterOp: _indexed,
    array.DynamicSliceOp: _dynamic,
    array.DynamicUpdateSliceOp: _dynamic,
    array.ConcatenateOp: _concatenate,
    array.MatmulOp: _matmul,
    **{op: _reduce for op in array.REDUCE_OPS},
    array.ArgMaxOp: _argmax,
    array.ScanOp: _scan,
    array.SwitchOp: _switch,
    array.WhileOp: _while,
    array.YieldOp: _constant,
    array.ConditionOp: _constant,
    autodiff.CustomJvpOp: batch_custom,
    autodiff.CustomVjpOp: batch_custom,
    **{op: _elementwise for op in array.LINALG_OPS},  # leading dimensions are batch dimensions
}


# ---------------------------------------------------------------------------
# The transform
# ---------------------------------------------------------------------------


def _fail(message: str, at: Operation) -> NoReturn:
    """Fail located at `at` (gradc-opt then prints its file:line:col)."""
    error = PassFailedException(f"batching: {message}")
    at.emit_error(str(error), error)


def _check(
    module: ModuleOp, fn: func.FuncOp, batched: Sequence[bool], size: int, name: str
) -> None:
    fn_name = fn.sym_name.data
    if fn.parent_op() is not module:
        raise ValueError(f"batching: @{fn_name} is not a function of the given module")
    num_args = len(fn.function_type.inputs.data)
    if len(batched) != num_args:
        raise ValueError(
            f"batching: @{fn_name} takes {num_args} arguments but batched has "
            f"{len(batched)} entries"
        )
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"batching: size must be a positive integer, got {size!r}")
    if SymbolTable.lookup_symbol(module, name) is not None:
        raise ValueError(f"batching: the module already has a symbol @{name}")
    if len(fn.body.blocks) != 1:
        _fail(f"@{fn_name} must have exactly one block", fn)
    for typ in (*fn.function_type.inputs.data, *fn.function_type.outputs.data):
        if not isinstance(typ, TensorType):
            _fail(f"@{fn_name}: arguments and results must be tensors, got {typ}", fn)
    for op in fn.body.block.ops:
        if isinstance(op, func.CallOp):
            _fail(
                f"@{fn_name} calls @{op.callee.string_value()}: 'func.call' cannot "
                f"be batched, inline the callee first",
                op,
            )
        if type(op) not in BATCH_RULES and not isinstance(op, func.ReturnOp):
            _fail(f"@{fn_name}: no batching rule for '{op.name}'", op)


def _batch_block(b: Batcher, old: Block, env: dict[SSAValue, tuple[SSAValue, bool]]) -> list[SSAValue]:
    """Batch the ops of `old` (its arguments are in `env`) into `b.block`;
    return its terminator's operands, all with the batch dimension."""
    return [b.lift(v, bat) for v, bat in _batch_body(b, old, env)]


def _batch_body(b: Batcher, old: Block, env: dict[SSAValue, tuple[SSAValue, bool]]) -> list[tuple[SSAValue, bool]]:
    """Batch the ops of `old` but its terminator into `b.block`; return the
    terminator's operands as (new value, whether it is batched)."""
    for op in old.ops:
        b.location = op.location
        operands = [env[v] for v in op.operands]
        if op is old.last_op:
            return operands
        new_args = [v for v, _ in operands]
        is_batched = [bat for _, bat in operands]
        if any(is_batched):
            new = BATCH_RULES[type(op)](b, op, new_args, is_batched)
            results = new if isinstance(new, list) else [new]
            env.update((old_result, (v, True)) for old_result, v in zip(op.results, results, strict=True))
        else:
            copy = op.clone(value_mapper=dict(zip(op.operands, new_args)))
            b.block.add_op(copy)
            env.update((old_result, (v, False)) for old_result, v in zip(op.results, copy.results))
    raise AssertionError("a block ends in its terminator")


def batch_function(
    module: ModuleOp, fn: func.FuncOp, batched: Sequence[bool], size: int, name: str
) -> func.FuncOp:
    """Insert after `fn` a private function `name` computing `fn` on `size`
    values at once: arguments with `batched[i]` and all results get a leading
    dimension `size`. See the module docstring for what is guaranteed."""
    _check(module, fn, batched, size, name)
    in_types = [
        TensorType(t.get_element_type(), [size, *t.get_shape()]) if bat else t
        for t, bat in zip(fn.function_type.inputs.data, batched)
    ]
    block = Block(arg_types=in_types)
    b = Batcher(block, size)
    # Each value of `fn` -> its value in the new function, and whether that
    # value has the leading batch dimension.
    env: dict[SSAValue, tuple[SSAValue, bool]] = {
        old: (new, bool(bat)) for old, new, bat in zip(fn.args, block.args, batched)
    }
    results = _batch_block(b, fn.body.block, env)
    ret = func.ReturnOp(*results)
    ret.location = fn.body.block.last_op.location
    block.add_op(ret)
    out_types = [b.batched_type(t) for t in fn.function_type.outputs.data]
    new_fn = func.FuncOp(name, (in_types, out_types), Region(block), visibility="private")
    new_fn.location = fn.location
    module.body.block.insert_op_after(new_fn, fn)
    new_fn.verify()
    return new_fn


def batch_inlined(
    module: ModuleOp, fn: func.FuncOp, batched: Sequence[bool], size: int, name: str
) -> func.FuncOp:
    """`batch_function` of `fn` with every call in it (and in its loops)
    inlined first, on a copy: `fn` and its callees are unchanged."""
    from gradc.passes.autodiff.transform import inline_calls

    if not any(isinstance(o, func.CallOp) for o in fn.walk()):
        return batch_function(module, fn, batched, size, name)
    flat = fn.clone()
    flat.sym_name = StringAttr(f"{name}_inlined")
    module.body.block.insert_op_after(flat, fn)
    try:
        inline_calls(flat, module)
        return batch_function(module, flat, batched, size, name)
    finally:
        module.body.block.erase_op(flat)


__all__ = ["BATCH_RULES", "Batcher", "batch_function", "batch_inlined"]
