"""lower-array-to-loops: bufferize array-level functions into fused loop nests.

What it does. Each `func.func @f(tensors) -> (tensors)` becomes
`func.func @f(inputs..., outputs...)` over memrefs, with attribute
`loops.num_inputs = N`, returning nothing. Its `array` ops become `loops.for`
nests of `loops.load`/`loops.store` with scalar `arith`/`math` in the bodies;
a matmul becomes one structured `loops.matmul`, which reads a transposed
buffer in place through its transpose flags (`tile-matmul` blocks it).
Results are computed directly into the output arguments; only a result that is
an input, a constant, or a value already returned is copied there.

Fusion. A pointwise op (unary, binary, compare, select, convert, broadcast,
transpose, slice, splat constant) has an element rule: the scalar at given
indices, built from its operands' scalars at (remapped) indices. A value gets
a buffer only when it must:
  * it is a function result, or its op is not pointwise (matmul, reductions,
    concatenate, reshape, non-splat constant);
  * it is used by more than one op (a pointwise op reading it twice counts
    once: within one loop body each element is computed once), unless it is a
    free remap (broadcast, transpose or slice of a buffer, or a splat
    constant), which every user recomputes as a remapped load;
  * its user is neither pointwise nor a reduction or concatenation (which
    consume producers inline), e.g. matmul (which still reads free remaps) or
    reshape (which needs real storage to view);
  * its user is a broadcast that expands the element count (so that costly
    work is not redone per broadcast element);
  * it ends an inline chain of MAX_INLINE_DEPTH ops.
Everything else is computed inline, inside the loop nest of its consumer.
Temporaries are `loops.alloc "workspace"` (or "stack" below the
`stack-threshold` option, in bytes); a reshape is a `loops.reshape` view.

Fusion across buffers (options `fuse-epilogues`, `fuse-reductions`, both on):
  * a matmul whose only user starts a chain of same-index pointwise ops
    (each the only user of the one before) ending in a buffered value of
    its shape and element type gets that chain as its epilogue region: the
    product is written straight into the chain's buffer, with no buffer of
    its own, and tile-matmul applies the epilogue to each register tile
    while it is in cache. A product that is a function result or has other
    users keeps its buffer (it is needed as is, so fusing would mean
    computing it twice);
  * a reduction that reads a buffered pointwise value at its own input's
    indices (not also through a transpose, slice or broadcast) is computed
    in that value's loop nest, which stores each element and accumulates it.
    Reductions over trailing axes also initialize each output element in
    the nest, right before its inner loop. Each output element still sums
    its inputs in row-major order, so results do not change.

A scan's VJP. The forward scan of a scan's VJP carries `autodiff.tape = N`
(its last N per-step outputs are the residuals its adjoint reads) and the
reverse scan reads them as its first N xs. When that holds exactly (the
tape read by that scan only, same block, trip count, opposite direction;
see _tape_partner) the two are lowered together per the forward scan's
`autodiff.checkpoint` (default none):
  * none: the forward loop pushes each step's residuals into tape slot i
    (`autodiff.push`, a buffer of capacity T), the reversed loop pops slot i
    (`autodiff.pop`): plain `loops.for`s;
  * every=K, binomial(snapshots=S), budget=BYTES, recompute: an
    `autodiff.schedule` for the forward phase where the forward scan was
    (every step once, its per-step outputs written there) and one for the
    reverse phase where the reverse scan was, which recomputes states into
    a state buffer of its own from snapshots (a buffer [slots, *carry] per
    carry) and runs the reverse scan's steps as adjoints; the tape holds
    the schedule's peak number of entries.
The bodies are lowered once per region (`_lower_step` sets their buffers
and views for that lowering only). The function records the tape bytes,
snapshot bytes and recomputed steps (CHECKPOINT_FIGURES). Any other tagged
scan is lowered as an ordinary scan, with its tape stacked in full.

Expects: array-level functions with a single block, tensor arguments and
results, static shapes, and no calls (inline first).

Guarantees: no `array` op and no tensor type remain; anything left over fails
the pass with a message naming it. The output is a function of the input IR
alone (deterministic).

The pass works a function at a time rather than op by op with rewrite
patterns, because whether a value is fused depends on all of its users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from typing import NoReturn

from xdsl.context import Context
from xdsl.dialects import arith, func, math
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    Float32Type,
    Float64Type,
    FloatAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array, autodiff, loops
from gradc.dialects.autodiff.checkpointing import Checkpoint, simulate

PASS_NAME = "lower-array-to-loops"
CHECKPOINT_FIGURES = {
    "tape_bytes": "autodiff.tape_bytes",
    "snapshot_bytes": "autodiff.snapshot_bytes",
    "recomputed_steps": "autodiff.recomputed_steps",
}
"""Function attributes: tape bytes (capacity x entry bytes), snapshot bytes
(slots x state bytes) and recomputed step evaluations (`simulate`: advanced
+ taped - steps), summed over the function's taped loops. A taped loop
inside another loop's body counts once per lowered copy of that body (a
checkpointed outer loop lowers its body into several schedule regions, each
with buffers of its own), and its recomputed steps once per run of it, not
times the outer trip count."""

# ---------------------------------------------------------------------------
# Index arithmetic, kept symbolic so it folds before any arith op is emitted
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Affine:
    """`const + sum(coeff * iv)`; `terms` holds (loop number, coeff), sorted."""

    const: int = 0
    terms: tuple[tuple[int, int], ...] = ()

    def scaled(self, k: int) -> Affine:
        if k == 0:
            return Affine()
        return Affine(self.const * k, tuple((n, c * k) for n, c in self.terms))

    def shifted(self, k: int) -> Affine:
        return Affine(self.const + k, self.terms)

    def __add__(self, other: Affine) -> Affine:
        coeffs = dict(self.terms)
        for n, c in other.terms:
            coeffs[n] = coeffs.get(n, 0) + c
        return Affine(self.const + other.const, tuple(sorted((n, c) for n, c in coeffs.items() if c)))


Index = tuple[Affine, ...]
ZERO = Affine()


# ---------------------------------------------------------------------------
# The fusion plan: which values get a buffer
# ---------------------------------------------------------------------------

REMAP_OPS = (array.BroadcastOp, array.TransposeOp, array.SliceOp)
INLINE_CONSUMERS = (*array.REDUCE_OPS, array.ConcatenateOp)
MAX_INLINE_DEPTH = 64
"""Longer inline chains are cut by a buffer: this bounds the recursion of the
element rules and the size of one loop body."""


def _splat_value(op: array.ConstantOp) -> float | int | None:
    """The single value of a splat constant (compared bitwise, so NaN
    splats count), else None."""
    raw, count = op.value.data.data, len(op.value)
    if count == 0:
        return None
    size = len(raw) // count
    if raw != raw[:size] * count:
        return None
    return op.value.get_element_type().unpack(raw[:size], 1)[0]


def is_pointwise(op: Operation) -> bool:
    if isinstance(op, array.ConstantOp):
        return _splat_value(op) is not None
    return type(op) in ELEMENT_RULES


def _users(value: SSAValue) -> list[Operation]:
    """Distinct array-level users (not the return), in use-list order."""
    users: list[Operation] = []
    for use in value.uses:
        if not isinstance(use.operation, func.ReturnOp | array.YieldOp) and use.operation not in users:
            users.append(use.operation)
    return users


def _use_count(value: SSAValue) -> int:
    """Uses that would each recompute an inline value: one per pointwise user
    (it evaluates all its operands at the same indices, memoized), one per
    operand slot of other users (a concatenate copies each input separately)."""
    return sum(
        1 if is_pointwise(user) else sum(o is value for o in user.operands)
        for user in _users(value)
    )


def _expands(op: array.BroadcastOp) -> bool:
    return prod(_shape(op.result)) > prod(_shape(op.input))


def plan_buffers(block: Block, results: Sequence[SSAValue]) -> set[SSAValue]:
    """The values of `block` that are materialized into buffers."""
    buffered: set[SSAValue] = set(block.args)

    def is_free(op: Operation) -> bool:
        if isinstance(op, array.ConstantOp):
            return True
        if not isinstance(op, REMAP_OPS):
            return False
        source = op.input
        return source in buffered or (
            isinstance(source.owner, Operation) and is_pointwise(source.owner)
            and is_free(source.owner)
        )

    def needs_buffer(value: SSAValue, op: Operation) -> bool:
        users = _users(value)
        if not is_pointwise(op) or value in results:
            return True
        if any(isinstance(u, array.ReshapeOp) for u in users):
            return True
        if is_free(op) or not users:
            return False
        if any(isinstance(use.operation, array.YieldOp) for use in value.uses):
            return True  # a scan's per-step output that is also used: compute it once
        if _use_count(value) > 1:
            return True
        (user,) = users
        if isinstance(user, INLINE_CONSUMERS):
            return False
        if not is_pointwise(user):
            return True
        return isinstance(user, array.BroadcastOp) and _expands(user)

    depth: dict[SSAValue, int] = {}  # length of the inline chain ending here
    for op in block.ops:
        for value in op.results:
            d = 1 + max((depth.get(o, 0) for o in op.operands), default=0)
            if needs_buffer(value, op) or d > MAX_INLINE_DEPTH:
                buffered.add(value)
                d = 0
            depth[value] = d
    return buffered


# ---------------------------------------------------------------------------
# Fusion across buffers: matmul epilogues, reductions with their producers
# ---------------------------------------------------------------------------

SAME_INDEX_OPS = (array.UnaryOp, array.BinaryOp, array.CompareOp, array.SelectOp, array.ConvertOp)
"""Pointwise ops that read every operand at their own element's indices."""


def _leaves(value: SSAValue, buffered: set[SSAValue]) -> tuple[set[SSAValue], set[SSAValue]]:
    """Buffers read by the inline computation of `value`: (those read only
    along same-index ops, i.e. at the element's own indices; the others)."""
    if value in buffered:
        return {value}, set()
    op = value.owner
    same: set[SSAValue] = set()
    other: set[SSAValue] = set()
    for operand in op.operands if isinstance(op, Operation) else ():
        s, o = _leaves(operand, buffered)
        if isinstance(op, SAME_INDEX_OPS):
            same |= s
            other |= o
        else:
            other |= s | o
    return same - other, other


def plan_epilogues(block: Block, buffered: set[SSAValue]) -> dict[SSAValue, SSAValue]:
    """Matmul results computed by their consumer's loop nest as the matmul's
    epilogue: consumer buffer -> matmul result. A product fuses when it is
    not a function result (it would then have to be stored as is) and its
    only user starts an inline chain of same-index ops, each the only user
    of the last, that ends in a buffered value of the same shape and element
    type. The product is then computed where that value is, so everything
    else the chain reads is ready."""
    epilogues: dict[SSAValue, SSAValue] = {}
    results = set(block.last_op.operands) if block.last_op is not None else set()
    for op in block.ops:
        if not isinstance(op, array.MatmulOp) or op.result in results:
            continue
        value = op.result
        while True:
            users = _users(value)
            if len(users) != 1 or not isinstance(users[0], SAME_INDEX_OPS):
                break
            value = users[0].results[0]
            if value in results and value not in buffered:
                break  # a scan's per-step output, read again when it is stored
            if value in buffered:
                if _shape(value) == _shape(op.result) and _element_type(value) == _element_type(op.result):
                    epilogues[value] = op.result
                break
    return epilogues


def plan_reductions(
    block: Block, buffered: set[SSAValue], epilogues: dict[SSAValue, SSAValue]
) -> dict[SSAValue, array.ReduceOp]:
    """Reductions computed in the loop nest of a buffered pointwise value
    they read at their input's indices: producer -> reduction. The nest then
    stores each element and accumulates it, and the reduction moves up to
    the producer, so everything else it reads must be ready there (defined
    before the producer). The order of the sum does not change."""
    position = {value: n for n, op in enumerate(block.ops) for value in op.results}
    fused: dict[SSAValue, array.ReduceOp] = {}
    for op in block.ops:
        if not isinstance(op, array.REDUCE_OPS):
            continue
        order = _memory_order(op.input, buffered)
        if order != tuple(sorted(order)):
            continue
        same, other = _leaves(op.input, buffered)
        candidates = [
            v for v in same
            if v in position and is_pointwise(v.owner) and v not in epilogues and v not in fused
            and _shape(v) == _shape(op.input)
        ]
        if not candidates:
            continue
        producer = max(candidates, key=position.__getitem__)
        if all(position.get(v, -1) <= position[producer] for v in same | other):
            fused[producer] = op
    return fused


# ---------------------------------------------------------------------------
# Emitting one function
# ---------------------------------------------------------------------------


def _shape(value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    assert isinstance(typ, TensorType | MemRefType)
    return tuple(typ.get_shape())


def _element_type(value: SSAValue) -> Attribute:
    typ = value.type
    assert isinstance(typ, TensorType | MemRefType)
    return typ.get_element_type()


def _memref(typ: Attribute) -> MemRefType:
    assert isinstance(typ, TensorType)
    return MemRefType(typ.get_element_type(), typ.get_shape())


def _element_bytes(element_type: Attribute) -> int:
    if isinstance(element_type, Float64Type):
        return 8
    if isinstance(element_type, Float32Type):
        return 4
    return 1


class FunctionLowering:
    """Builds the loops-level body of one function.

    Constants are pooled and placed at the top of the function; index
    expressions and element values are memoized per block, so a value used
    twice in one loop body is computed once."""

    def __init__(self, block: Block, stack_threshold: int):
        self.block = block
        self.stack_threshold = stack_threshold
        self.fuse_epilogues = True
        self.fuse_reductions = True
        self.insertion_point = InsertPoint.at_end(block)
        self.buffers: dict[SSAValue, SSAValue] = {}
        self.ivs: list[SSAValue] = []
        self._constants: dict[tuple[Attribute, str], SSAValue] = {}
        self._constant_ops: list[Operation] = []
        self._indices: dict[tuple[Block, Affine], SSAValue] = {}
        self._elements: dict[tuple[Block, SSAValue, Index], SSAValue] = {}
        self.checkpoint_figures = {"tape_bytes": 0, "snapshot_bytes": 0, "recomputed_steps": 0}
        """Summed over the scans lowered with a tape (see _forward_half)."""
        self.taped_loops = 0
        self.views: dict[SSAValue, Callable[[Index], SSAValue]] = {}
        """Values read through an element function rather than a buffer of
        their own: a scan body's index and its slices of xs (see _scan)."""

    # -- building blocks ----------------------------------------------------

    def insert(self, op: Operation) -> None:
        Rewriter.insert_op(op, self.insertion_point)

    def emit(self, op: Operation) -> SSAValue:
        """Insert a single-result `op` at the current point; return its result."""
        self.insert(op)
        return op.results[0]

    def constant(self, value: float | int, typ: Attribute) -> SSAValue:
        """A pooled `arith.constant` (-0.0 and 0.0 are told apart by repr)."""
        key = (typ, repr(value))
        if key not in self._constants:
            if isinstance(typ, Float32Type | Float64Type):
                attr: Attribute = FloatAttr(float(value), typ)
            else:
                attr = IntegerAttr(int(value), typ)
            op = arith.ConstantOp(attr, typ)
            self._constant_ops.append(op)
            self._constants[key] = op.result
        return self._constants[key]

    def index(self, expr: Affine) -> SSAValue:
        key = (self.insertion_point.block, expr)
        if key not in self._indices:
            parts: list[SSAValue] = []
            for n, coeff in expr.terms:
                iv = self.ivs[n]
                parts.append(
                    iv if coeff == 1
                    else self.emit(arith.MuliOp(iv, self.constant(coeff, IndexType())))
                )
            if expr.const or not parts:
                parts.append(self.constant(expr.const, IndexType()))
            total = parts[0]
            for part in parts[1:]:
                total = self.emit(arith.AddiOp(total, part))
            self._indices[key] = total
        return self._indices[key]

    def load(self, buffer: SSAValue, idx: Index) -> SSAValue:
        return self.emit(loops.LoadOp(buffer, [self.index(a) for a in idx]))

    def store(self, value: SSAValue, buffer: SSAValue, idx: Index) -> None:
        self.insert(loops.StoreOp(value, buffer, [self.index(a) for a in idx]))

    def alloc(self, typ: MemRefType) -> SSAValue:
        nbytes = prod(typ.get_shape()) * _element_bytes(typ.get_element_type())
        placement = "stack" if nbytes < self.stack_threshold else "workspace"
        return self.emit(loops.AllocOp(typ, placement))

    def for_each(
        self,
        shape: Sequence[int],
        body: Callable[[Index], None],
        order: Sequence[int] | None = None,
    ) -> None:
        """The shared loop-nest helper: loop over `shape` (dimensions nested
        outermost-first in `order`, default row-major) and call `body` with
        the index of one element, at the innermost point. Size-1 dimensions
        get no loop, just index 0."""
        saved = self.insertion_point
        idx = [ZERO] * len(shape)
        for d in order if order is not None else range(len(shape)):
            if shape[d] == 1:
                continue
            loop = loops.ForOp(0, shape[d])
            self.insert(loop)
            loop.induction_var.name_hint = "i"
            self.ivs.append(loop.induction_var)
            idx[d] = Affine(0, ((len(self.ivs) - 1, 1),))
            (yield_op,) = loop.body.block.ops
            self.insertion_point = InsertPoint.before(yield_op)
        body(tuple(idx))
        self.insertion_point = saved

    # -- values -------------------------------------------------------------

    def element(self, value: SSAValue, idx: Index) -> SSAValue:
        """The scalar of tensor `value` at `idx`: a load if it has a buffer,
        else its op's element rule, inline."""
        key = (self.insertion_point.block, value, idx)
        if key not in self._elements:
            if value in self.buffers:
                scalar = self.load(self.buffers[value], idx)
            elif value in self.views:
                scalar = self.views[value](idx)
            else:
                op = value.owner
                assert isinstance(op, Operation)
                scalar = ELEMENT_RULES[type(op)](self, op, idx)
            self._elements[key] = scalar
        return self._elements[key]

    def compute_into(self, op: Operation, dest: SSAValue) -> None:
        """Fill `dest` with the result of pointwise `op`."""
        rule = ELEMENT_RULES[type(op)]
        self.for_each(
            _shape(op.results[0]), lambda idx: self.store(rule(self, op, idx), dest, idx)
        )

    def copy(self, value: SSAValue, dest: SSAValue) -> None:
        self.for_each(
            _shape(value), lambda idx: self.store(self.element(value, idx), dest, idx)
        )

    def finish(self) -> None:
        self.insert(func.ReturnOp())
        first = self.block.first_op
        for op in self._constant_ops:
            if first is None:
                self.block.add_op(op)
            else:
                self.block.insert_op_before(op, first)


# ---------------------------------------------------------------------------
# Element rules: one scalar of a pointwise op at given indices
# ---------------------------------------------------------------------------

_UNARY_SCALAR: dict[type[Operation], Callable[[SSAValue], Operation]] = {
    array.NegOp: arith.NegfOp,
    array.ExpOp: math.ExpOp,
    array.LogOp: math.LogOp,
    array.TanhOp: math.TanhOp,
    array.SinOp: math.SinOp,
    array.CosOp: math.CosOp,
    array.SqrtOp: math.SqrtOp,
    array.AbsOp: math.AbsFOp,
}

_BINARY_SCALAR: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
    array.AddOp: arith.AddfOp,
    array.SubOp: arith.SubfOp,
    array.MulOp: arith.MulfOp,
    array.DivOp: arith.DivfOp,
    array.MaxOp: arith.MaximumfOp,
    array.MinOp: arith.MinimumfOp,
    array.PowOp: math.PowFOp,
}

# Ordered predicates, except `ne`, which is true for NaN as in NumPy.
_CMPF_PREDICATE = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}


def _unary(lw: FunctionLowering, op: array.UnaryOp, idx: Index) -> SSAValue:
    return lw.emit(_UNARY_SCALAR[type(op)](lw.element(op.input, idx)))


def _binary(lw: FunctionLowering, op: array.BinaryOp, idx: Index) -> SSAValue:
    lhs, rhs = lw.element(op.lhs, idx), lw.element(op.rhs, idx)
    return lw.emit(_BINARY_SCALAR[type(op)](lhs, rhs))


def _compare(lw: FunctionLowering, op: array.CompareOp, idx: Index) -> SSAValue:
    lhs, rhs = lw.element(op.lhs, idx), lw.element(op.rhs, idx)
    return lw.emit(arith.CmpfOp(lhs, rhs, _CMPF_PREDICATE[op.predicate.data]))


def _select(lw: FunctionLowering, op: array.SelectOp, idx: Index) -> SSAValue:
    cond = lw.element(op.cond, idx)
    a, b = lw.element(op.true_value, idx), lw.element(op.false_value, idx)
    return lw.emit(arith.SelectOp(cond, a, b))


def _convert(lw: FunctionLowering, op: array.ConvertOp, idx: Index) -> SSAValue:
    x = lw.element(op.input, idx)
    source, target = _element_type(op.input), _element_type(op.result)
    if source == target:
        return x
    if array.is_bool(source):
        return lw.emit(arith.UIToFPOp(x, target))
    if array.is_bool(target):
        return lw.emit(arith.CmpfOp(x, lw.constant(0.0, source), "une"))
    if isinstance(target, Float64Type):
        return lw.emit(arith.ExtFOp(x, target))
    return lw.emit(arith.TruncFOp(x, target))


def _splat(lw: FunctionLowering, op: array.ConstantOp, idx: Index) -> SSAValue:
    value = _splat_value(op)
    assert value is not None
    return lw.constant(value, _element_type(op.result))


def _broadcast(lw: FunctionLowering, op: array.BroadcastOp, idx: Index) -> SSAValue:
    in_shape = _shape(op.input)
    source = tuple(
        ZERO if in_shape[k] == 1 else idx[d] for k, d in enumerate(op.dim_map)
    )
    return lw.element(op.input, source)


def _transpose(lw: FunctionLowering, op: array.TransposeOp, idx: Index) -> SSAValue:
    source = [ZERO] * len(idx)
    for i, p in enumerate(op.perm):
        source[p] = idx[i]
    return lw.element(op.input, tuple(source))


def _slice(lw: FunctionLowering, op: array.SliceOp, idx: Index) -> SSAValue:
    source = tuple(
        a.scaled(stride).shifted(start)
        for a, (start, _, stride) in zip(idx, op.bounds, strict=True)
    )
    return lw.element(op.input, source)


ELEMENT_RULES: dict[type[Operation], Callable[..., SSAValue]] = {
    **{cls: _unary for cls in array.UNARY_OPS},
    **{cls: _binary for cls in array.BINARY_OPS},
    array.CompareOp: _compare,
    array.SelectOp: _select,
    array.ConvertOp: _convert,
    array.StopGradientOp: lambda lw, op, idx: lw.element(op.input, idx),
    array.ConstantOp: _splat,
    array.BroadcastOp: _broadcast,
    array.TransposeOp: _transpose,
    array.SliceOp: _slice,
}


# ---------------------------------------------------------------------------
# Buffer rules: ops that are not pointwise, computed into `dest`
# ---------------------------------------------------------------------------


def _memory_order(value: SSAValue, buffered: set[SSAValue]) -> tuple[int, ...]:
    """Dimensions of `value`, outermost first, in the order of the memory an
    inline read of it walks (a transpose permutes it)."""
    op = value.owner
    if value not in buffered and isinstance(op, array.TransposeOp):
        perm = op.perm
        return tuple(perm.index(d) for d in _memory_order(op.input, buffered))
    if value not in buffered and isinstance(op, array.UnaryOp | array.ConvertOp):
        return _memory_order(op.input, buffered)
    return tuple(range(len(_shape(value))))


CHAIN = 16
"""A sum's accumulators add at most 2 x CHAIN values one after the other:
longer runs are blocked into chunks of CHAIN^k (see _Reduction)."""
LANE_BYTES = 256
"""Lane accumulators of a laned sum: 64 f32 or 32 f64, four AVX-512 (eight
AVX2) vectors, so that the adds of one row do not wait for each other."""
MIN_LANED = 64
"""Innermost reduced dimensions at least this long are laned."""
LANE = -1
"""In _Acc.dims: the lane axis of a laned reduction's accumulators."""


@dataclass(frozen=True)
class _Acc:
    """An accumulator: a flat buffer whose elements stand for the values of
    `dims` (input dimensions, or LANE for a lane, `lanes` long), row-major."""

    buffer: SSAValue
    dims: tuple[int, ...]
    lanes: int = 0


class _Reduction:
    """The loop nest of one reduction, in the input's memory order. Its sums
    have error bounds like pairwise summation's, O(log n) units of roundoff
    rather than O(n), and its innermost loops vectorize without
    reassociation:

      * blocking: no accumulator adds more than 2 x CHAIN values in a row.
        A longer reduced loop is split into at most CHAIN chunks of CHAIN^k
        iterations and a remainder, each summed (the same way, a level
        down) into a fresh accumulator shaped like the kept dimensions
        inside the loop, which is then added to the level above;
      * lanes: an innermost reduced dimension of length >= MIN_LANED is
        walked in rows of L elements added to L lane accumulators (the
        vectorized loop), the rows blocked like any reduced loop; the tail
        of n mod L elements goes to the first lanes, and the lanes are
        summed pairwise into the result.

    A max is exact in any order: it gets the lanes, no blocking. The order
    of every sum depends on the shapes alone (deterministic, and the same
    with any number of threads). See docs/reductions.md."""

    def __init__(
        self, lw: FunctionLowering, op: array.ReduceOp, dest: SSAValue,
        buffered: set[SSAValue], producer: Operation | None,
    ):
        self.lw, self.op, self.dest, self.producer = lw, op, dest, producer
        self.elem = _element_type(op.result)
        self.shape = _shape(op.input)
        self.axes = set(op.axis_list)
        self.order = _memory_order(op.input, buffered)
        if isinstance(op, array.ReduceSumOp):
            self.init, self.combine, self.chain = 0.0, arith.AddfOp, CHAIN
        else:  # maximumf propagates NaN; a max needs no blocking
            self.init, self.combine, self.chain = float("-inf"), arith.MaximumfOp, None
        self.idx: list[Affine] = [ZERO] * len(self.shape)
        self.lane = ZERO
        self.free: list[tuple[SSAValue, int]] = []
        """Accumulator buffers not in use, and their lengths."""
        self.allocs: list[Operation] = []

    def emit(self) -> None:
        kept = tuple(d for d in range(len(self.shape)) if d not in self.axes)
        result = _Acc(self.dest, kept)
        if not self.axes:  # nothing reduced: initial value combined with each element
            self._initialize(result, kept)
        self._visit(0, result, 1)

    def _with_accumulators(self, build: Callable[[], None]) -> None:
        """`build` at the insertion point, with the accumulators it asks for
        allocated right before (so inside the loops over kept dimensions
        around the first reduced one: storage private to their iterations),
        each reused wherever one of its length is free."""
        point = self.lw.insertion_point
        before = point.insert_before.prev_op if point.insert_before else point.block.last_op
        build()
        first = before.next_op if before is not None else point.block.first_op
        where = InsertPoint.before(first) if first is not None else InsertPoint.at_end(point.block)
        Rewriter.insert_op(self.allocs, where)

    # -- the nest -------------------------------------------------------------

    def _visit(self, pos: int, acc: _Acc, mult: int) -> None:
        """Loops for order[pos:] accumulating into `acc`, which takes `mult`
        values in a row per value added here. `acc` is the result up to the
        first reduced dimension, which initializes the elements it reaches."""
        if pos == len(self.order):
            self._accumulate(acc)
            return
        d, n = self.order[pos], self.shape[self.order[pos]]
        inner = tuple(e for e in self.order[pos + 1 :] if e not in self.axes)
        if d not in self.axes:
            self._loop(n, lambda i: self._at(d, i, lambda: self._visit(pos + 1, acc, mult)))
            return
        if not any(e in self.axes for e in self.order[:pos]):
            self._initialize(acc, inner)
            self._with_accumulators(lambda: self._reduced(pos, acc, mult))
        else:
            self._reduced(pos, acc, mult)

    def _reduced(self, pos: int, acc: _Acc, mult: int) -> None:
        """The loop of reduced dimension order[pos] and everything inside."""
        d, n = self.order[pos], self.shape[self.order[pos]]
        inside = self.order[pos + 1 :]
        if not inside and n >= MIN_LANED:
            self._laned(d, n, acc)
            return

        def leaf(into: _Acc, run: int, i: Affine) -> None:
            self._at(d, i, lambda: self._visit(pos + 1, into, run))

        self._blocked(n, acc, mult, ZERO, leaf, tuple(e for e in inside if e not in self.axes), 0)

    def _blocked(
        self, count: int, acc: _Acc, mult: int, base: Affine,
        leaf: Callable[[_Acc, int, Affine], None], dims: tuple[int, ...], lanes: int,
    ) -> None:
        """Iterations base .. base + count of a reduced loop into `acc`:
        `leaf(acc, run, i)` adds iteration i's values; `dims` (and `lanes`)
        shape the accumulators below this loop."""
        if count == 0:
            return
        if self.chain is None or mult * count <= 2 * self.chain:
            self._loop(count, lambda i: leaf(acc, mult * count, base + i))
            return
        if mult > 1:
            self._via_fresh(acc, dims, lanes, lambda tmp: self._blocked(count, tmp, 1, base, leaf, dims, lanes))
            return
        chunk = 1
        while chunk * self.chain < count:
            chunk *= self.chain
        full, rest = divmod(count, chunk)

        def one_chunk(j: Affine) -> None:
            start = base + j.scaled(chunk)
            self._via_fresh(acc, dims, lanes, lambda tmp: self._blocked(chunk, tmp, 1, start, leaf, dims, lanes))

        self._loop(full, one_chunk)
        rest_base = base.shifted(full * chunk)
        if rest <= self.chain:
            self._loop(rest, lambda i: leaf(acc, rest, rest_base + i))
        else:
            self._via_fresh(acc, dims, lanes, lambda tmp: self._blocked(rest, tmp, 1, rest_base, leaf, dims, lanes))

    def _laned(self, d: int, n: int, acc: _Acc) -> None:
        """Innermost reduced dimension d in rows of `lanes` elements."""
        lanes = LANE_BYTES // _element_bytes(self.elem)
        while 2 * lanes > n:
            lanes //= 2
        rows, tail = divmod(n, lanes)
        lane_acc = self._fresh((LANE,), lanes)

        def row(into: _Acc, _run: int, r: Affine) -> None:
            self._loop(lanes, lambda l: self._at_lane(d, r.scaled(lanes) + l, l, into))

        self._blocked(rows, lane_acc, 1, ZERO, row, (LANE,), lanes)
        self._loop(tail, lambda l: self._at_lane(d, l.shifted(rows * lanes), l, lane_acc))
        half = lanes // 2
        while half:
            self._loop(half, lambda l, h=half: self._combine_into(
                lane_acc, (l,), self.lw.load(lane_acc.buffer, (l.shifted(h),))))
            half //= 2
        self._combine_into(acc, self._index(acc), self.lw.load(lane_acc.buffer, (ZERO,)))
        self._release(lane_acc)

    # -- pieces -----------------------------------------------------------------

    def _at(self, d: int, i: Affine, then: Callable[[], None]) -> None:
        self.idx[d] = i
        then()

    def _at_lane(self, d: int, i: Affine, lane: Affine, acc: _Acc) -> None:
        self.idx[d], self.lane = i, lane
        self._accumulate(acc)

    def _index(self, acc: _Acc) -> Index:
        if acc.buffer is self.dest:
            return tuple(self.idx[d] for d in acc.dims)
        flat = ZERO
        for d in acc.dims:
            flat = flat.scaled(acc.lanes if d == LANE else self.shape[d]) + (self.lane if d == LANE else self.idx[d])
        return (flat,)

    def _loop(self, count: int, body: Callable[[Affine], None]) -> None:
        """A loop over `count` iterations (none for 0, just index 0 for 1)."""
        if count == 1:
            body(ZERO)
        elif count > 1:
            self.lw.for_each((count,), lambda idx: body(idx[0]))

    def _each(self, dims: Sequence[int], lanes: int, body: Callable[[], None]) -> None:
        """`body` in loops over `dims` (input dimensions, or the lane),
        with idx (and lane) set."""
        if not dims:
            body()
            return
        d, rest = dims[0], dims[1:]
        if d == LANE:
            self._loop(lanes, lambda i: self._at_lane_then(i, lambda: self._each(rest, lanes, body)))
        else:
            self._loop(self.shape[d], lambda i: self._at(d, i, lambda: self._each(rest, lanes, body)))

    def _at_lane_then(self, lane: Affine, then: Callable[[], None]) -> None:
        self.lane = lane
        then()

    def _initialize(self, acc: _Acc, dims: Sequence[int]) -> None:
        """Set the elements of `acc` that `dims` reach to the initial value."""
        start = self.lw.constant(self.init, self.elem)
        self._each(dims, acc.lanes, lambda: self.lw.store(start, acc.buffer, self._index(acc)))

    def _fresh(self, dims: tuple[int, ...], lanes: int) -> _Acc:
        """An accumulator indexed by `dims`, initialized (release it after)."""
        size = prod(lanes if d == LANE else self.shape[d] for d in dims)
        for k, (buffer, length) in enumerate(self.free):
            if length == size:
                del self.free[k]
                break
        else:
            typ = MemRefType(self.elem, [size])
            nbytes = size * _element_bytes(self.elem)
            alloc = loops.AllocOp(typ, "stack" if nbytes < self.lw.stack_threshold else "workspace")
            self.allocs.append(alloc)
            buffer = alloc.result
        acc = _Acc(buffer, dims, lanes)
        self._initialize(acc, dims)
        return acc

    def _release(self, acc: _Acc) -> None:
        self.free.append((acc.buffer, acc.buffer.type.get_shape()[0]))

    def _via_fresh(
        self, acc: _Acc, dims: tuple[int, ...], lanes: int, fill: Callable[[_Acc], None]
    ) -> None:
        """Sum into a fresh accumulator with `fill`, then add it to `acc`."""
        tmp = self._fresh(dims, lanes)
        fill(tmp)
        self._each(dims, lanes, lambda: self._combine_into(
            acc, self._index(acc), self.lw.load(tmp.buffer, self._index(tmp))))
        self._release(tmp)

    def _combine_into(self, acc: _Acc, index: Index, value: SSAValue) -> None:
        lw = self.lw
        lw.store(lw.emit(self.combine(lw.load(acc.buffer, index), value)), acc.buffer, index)

    def _accumulate(self, acc: _Acc) -> None:
        """Add the input element at idx (computing and storing the fused
        producer's element first)."""
        lw, idx = self.lw, tuple(self.idx)
        if self.producer is not None:
            value = ELEMENT_RULES[type(self.producer)](lw, self.producer, idx)
            lw.store(value, lw.buffers[self.producer.results[0]], idx)
            lw._elements[(lw.insertion_point.block, self.producer.results[0], idx)] = value
        index = self._index(acc)
        total = lw.emit(self.combine(lw.load(acc.buffer, index), lw.element(self.op.input, idx)))
        lw.store(total, acc.buffer, index)


def _reduce(
    lw: FunctionLowering, op: array.ReduceOp, dest: SSAValue, buffered: set[SSAValue],
    producer: Operation | None = None,
) -> None:
    """Accumulate into `dest` in one pass over the input (with its producer
    inline), in the input's memory order, blocked and laned (_Reduction).
    With a buffered pointwise `producer` (see plan_reductions) the nest also
    computes and stores the producer's elements, and the reduction reads
    them from registers."""
    _Reduction(lw, op, dest, buffered, producer).emit()


def _matmul_operand(lw: FunctionLowering, value: SSAValue) -> tuple[SSAValue, bool]:
    """A buffer for one operand of a `loops.matmul`, and whether it holds the
    operand's transpose (last two dimensions swapped). A transpose of a
    buffer is read in place through that flag; any other remap (broadcast,
    slice, another permutation, a splat) is first copied into a temporary."""
    rank = len(_shape(value))
    perm = list(range(rank))  # dimension d of `value` is dimension perm[d] of `source`
    source = value
    while source not in lw.buffers and isinstance(source.owner, array.TransposeOp):
        perm = [source.owner.perm[d] for d in perm]
        source = source.owner.input
    if source in lw.buffers:
        if perm == list(range(rank)):
            return lw.buffers[source], False
        if perm == [*range(rank - 2), rank - 1, rank - 2]:
            return lw.buffers[source], True
    temporary = lw.alloc(_memref(value.type))
    lw.copy(value, temporary)
    return temporary, False


def _matmul(
    lw: FunctionLowering, op: array.MatmulOp, dest: SSAValue, buffered: set[SSAValue],
    consumer: Operation | None = None,
) -> None:
    """One structured `loops.matmul` (tile-matmul blocks it; lower-loops-to-c
    has a plain loop nest for it when it is not tiled). With a `consumer`
    (see plan_epilogues), `dest` is the consumer's buffer, and the consumer's
    element rule, with the product's element as a block argument, becomes
    the matmul's epilogue."""
    lhs, transpose_a = _matmul_operand(lw, op.lhs)
    rhs, transpose_b = _matmul_operand(lw, op.rhs)
    if _accumulates_into(lw, op, dest, consumer):
        # dest already holds the other addend (a scan's carry updated in
        # place, see _scan): C += A B, no epilogue, no temporary.
        lw.insert(loops.MatmulOp(lhs, rhs, dest, transpose_a, transpose_b, accumulate=True))
        return
    epilogue = None
    if consumer is not None:
        shape = _shape(op.result)
        block = Block(arg_types=[_element_type(op.result), *[IndexType()] * len(shape)])
        block.args[0].name_hint = "product"
        for arg in block.args[1:]:
            arg.name_hint = "i"
        saved, lw.insertion_point = lw.insertion_point, InsertPoint.at_end(block)
        first = len(lw.ivs)
        lw.ivs.extend(block.args[1:])
        idx = tuple(Affine(0, ((first + d, 1),)) for d in range(len(shape)))
        lw._elements[(block, op.result, idx)] = block.args[0]
        lw.insert(loops.YieldOp(ELEMENT_RULES[type(consumer)](lw, consumer, idx)))
        lw.insertion_point = saved
        epilogue = Region(block)
    lw.insert(loops.MatmulOp(lhs, rhs, dest, transpose_a, transpose_b, epilogue=epilogue))


def _accumulates_into(
    lw: FunctionLowering, op: array.MatmulOp, dest: SSAValue, consumer: Operation | None
) -> bool:
    """Whether the product's consumer is `other + product` (either order)
    with `other`'s buffer being `dest` itself."""
    if not isinstance(consumer, array.AddOp) or op.result not in consumer.operands:
        return False
    (other,) = [v for v in consumer.operands if v is not op.result] or [None]
    return other is not None and lw.buffers.get(other) is dest


def _accumulated_carries(op: array.ScanOp) -> set[int]:
    """Carries k whose new value is `carry_k + product` (either order), with
    the product a matmul used only there and carry_k used only there: the
    product can accumulate straight into the carry's buffer (nothing else
    reads the old value, and C += A B reads each element before writing it).
    A reverse scan's cotangent of an invariant matrix is such a carry."""
    _, carries, _, _ = op.body_args()
    new_carries, _ = op.yielded()
    found = set()
    for k, (carry, new) in enumerate(zip(carries, new_carries, strict=True)):
        add = new.owner
        if not isinstance(add, array.AddOp) or len(_users(carry)) != 1 or carry not in add.operands:
            continue
        others = [v for v in add.operands if v is not carry]
        if len(others) != 1 or new in op.yielded()[1]:
            continue
        product = others[0].owner
        if isinstance(product, array.MatmulOp) and len(_users(product.result)) == 1:
            found.add(k)
    return found


def _concatenate(
    lw: FunctionLowering, op: array.ConcatenateOp, dest: SSAValue, buffered: set[SSAValue]
) -> None:
    """Copy each input (with its producer inline) into its region of `dest`."""
    axis = op.axis.value.data
    offset = 0
    for value in op.inputs:

        def place(idx: Index, value: SSAValue = value, offset: int = offset) -> None:
            out = tuple(a.shifted(offset) if d == axis else a for d, a in enumerate(idx))
            lw.store(lw.element(value, idx), dest, out)

        lw.for_each(_shape(value), place)
        offset += _shape(value)[axis]


BUFFER_RULES: dict[type[Operation], Callable[..., None]] = {
    array.ReduceSumOp: _reduce,
    array.ReduceMaxOp: _reduce,
    array.MatmulOp: _matmul,
    array.ConcatenateOp: _concatenate,
}


# ---------------------------------------------------------------------------
# One function
# ---------------------------------------------------------------------------


def _fail(message: str, at: Operation | None = None) -> NoReturn:
    """Fail the pass; with `at`, the error is located at that op."""
    error = PassFailedException(f"{PASS_NAME}: {message}")
    if at is not None:
        error.op = at  # for gradc.pipeline.run_pipeline's location
        at.emit_error(str(error), error)
    raise error


def _check_lowerable(fn: func.FuncOp) -> None:
    name = fn.sym_name.data
    if len(fn.body.blocks) != 1:
        _fail(f"@{name} must have exactly one block", at=fn)
    for typ in (*fn.function_type.inputs.data, *fn.function_type.outputs.data):
        if not isinstance(typ, TensorType):
            _fail(f"@{name}: arguments and results must be tensors, got {typ}", at=fn)
    for op in fn.body.walk():
        if isinstance(op, func.CallOp):
            _fail(f"@{name}: found func.call to @{op.callee.string_value()}; "
                  "inline calls before lowering", at=op)
        if not isinstance(op, func.ReturnOp | array.YieldOp | func.FuncOp) and type(op) not in (
            *ELEMENT_RULES, *BUFFER_RULES, array.ReshapeOp, array.ScanOp
        ):
            _fail(f"@{name}: cannot lower '{op.name}'", at=op)


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
                buffer = lw.emit(loops.ReshapeOp(buffer, _shape(v)))
            dest[v] = buffer
    return dest, copies


@dataclass
class Fusion:
    """What is computed together across buffers (plan_epilogues,
    plan_reductions)."""

    epilogues: dict[SSAValue, SSAValue]
    reductions: dict[SSAValue, array.ReduceOp]

    def done_elsewhere(self, value: SSAValue) -> bool:
        """Whether `value` is computed in another value's nest."""
        return value in self.epilogues.values() or any(
            r.result is value for r in self.reductions.values()
        )


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
            view = lw.emit(loops.ReshapeOp(lw.buffers[op.input], _shape(value)))
        lw.buffers[value] = view
    elif isinstance(op, array.ConstantOp) and not is_pointwise(op):
        lw.buffers[value] = lw.emit(loops.ConstantOp(op.value))
    else:
        target = dest[value] if value in dest else lw.alloc(_memref(value.type))
        if value in fusion.epilogues:
            matmul = fusion.epilogues[value].owner
            _matmul(lw, matmul, target, buffered, consumer=op)
        elif value in fusion.reductions:
            lw.buffers[value] = target
            reduction = fusion.reductions[value]
            _materialize_into(lw, reduction, dest, lambda out: _reduce(lw, reduction, out, buffered, op))
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
    target = dest[value] if value in dest else lw.alloc(_memref(value.type))
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
            _reverse_half(lw, op, dest, taped)
            continue
        if isinstance(op, array.ScanOp):
            partner = _tape_partner(op)
            if partner is None:
                _scan(lw, op, dest)
            else:
                pairs[partner] = _forward_half(lw, op, dest)
            continue
        value = op.results[0] if op.results else None
        if op is not old.last_op and value in buffered and not fusion.done_elsewhere(value):
            _materialize(lw, op, dest, buffered, fusion)
    for value, out in copies:
        lw.copy(value, out)


def _buffer_of(lw: FunctionLowering, value: SSAValue) -> SSAValue:
    """`value`'s buffer; a value computed inline (a free remap, a splat) is
    first copied into a temporary."""
    if value not in lw.buffers:
        buffer = lw.alloc(_memref(value.type))
        lw.copy(value, buffer)
        lw.buffers[value] = buffer
    return lw.buffers[value]


def _scan(lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue]) -> None:
    """One `loops.for` over the trip count (never unrolled) around the body.

    Carries live in the buffers of the final carries (the outputs when they
    are results), initialized from `initials` before the loop. Each step
    computes the new carries into temporaries and copies them back at its
    end: a new carry may read the old one at other indices (a transpose, a
    matmul, a reduction), so it cannot be written in place, and C has no
    pointer swap without indirection. The exception: a carry whose new
    value is `carry + A @ B`, read nowhere else, is updated in place by an
    accumulating matmul (see _accumulated_carries). Slice i of each xs is read in place
    through the body's element loads (loads of xs's buffer at (i, ...), or
    of the enclosing scan's xs in a nested scan; a matmul or reshape of a
    slice copies it); per-step outputs are computed inline straight into slice i of the
    stacked results, before the carries are overwritten. A reverse scan
    runs the same loop with step = length-1-iv."""
    finals, temps, invariants = _scan_state(lw, op, dest)
    stacked = _stacked(lw, op.ys, dest)
    with _loop(lw, op.trip_count) as iv:
        _lower_step(lw, op, _step_index(op, iv), finals, temps, invariants, stacked)
    lw.buffers.update((r, b) for r, b in zip(op.ys, stacked, strict=True) if b is not None)


def _stacked(
    lw: FunctionLowering, ys: Sequence[SSAValue], dest: dict[SSAValue, SSAValue]
) -> list[SSAValue | None]:
    """Buffers for a scan's stacked per-step outputs; None for one nothing
    reads (not stored at all: a buffer written and never read is dead work,
    and a C warning)."""
    return [dest[r] if r in dest else lw.alloc(_memref(r.type)) if list(r.uses) else None for r in ys]


def _scan_state(
    lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue]
) -> tuple[list[SSAValue], list[SSAValue], list[SSAValue]]:
    """A scan's carry buffers (initialized, and the buffers of its final
    carries), the temporaries a step computes the new carries into, and the
    buffers of its invariants."""
    new_carries, _ = op.yielded()
    finals = [dest[r] if r in dest else lw.alloc(_memref(r.type)) for r in op.finals]
    accumulated = _accumulated_carries(op)
    temps = [finals[k] if k in accumulated else lw.alloc(_memref(v.type)) for k, v in enumerate(new_carries)]
    for init, buffer in zip(op.initials, finals, strict=True):
        lw.copy(init, buffer)
    invariants = [_buffer_of(lw, v) for v in op.invariants]
    lw.buffers.update(zip(op.finals, finals, strict=True))
    return finals, temps, invariants


class _loop:
    """`with _loop(lw, n) as iv:` emits a `loops.for` over n steps and puts
    the insertion point in its body (the induction variable's number in
    lw.ivs is `iv`)."""

    def __init__(self, lw: FunctionLowering, count: int):
        self.lw, self.count = lw, count

    def __enter__(self) -> int:
        lw = self.lw
        loop = loops.ForOp(0, self.count)
        lw.insert(loop)
        loop.induction_var.name_hint = "step"
        self.saved, lw.insertion_point = lw.insertion_point, InsertPoint.before(loop.body.block.last_op)
        return _push_iv(lw, loop.induction_var)

    def __exit__(self, *exc: object) -> None:
        self.lw.insertion_point = self.saved


def _push_iv(lw: FunctionLowering, value: SSAValue) -> int:
    lw.ivs.append(value)
    return len(lw.ivs) - 1


def _step_index(op: array.ScanOp, iv: int) -> Affine:
    """The data index step `iv` of the loop works on (reversed for a reverse scan)."""
    if op.is_reverse:
        return Affine(op.trip_count - 1, ((iv, -1),))
    return Affine(0, ((iv, 1),))


Tape = tuple[Sequence[SSAValue], Affine]
"""Tape buffers and the slot a step pushes to or pops from."""


def _lower_step(
    lw: FunctionLowering, op: array.ScanOp, step: Affine, state: Sequence[SSAValue],
    temps: Sequence[SSAValue], invariants: Sequence[SSAValue], stacked: Sequence[SSAValue | None],
    push: Tape | None = None, pop: Tape | None = None,
) -> None:
    """One step of scan `op` (data index `step`) at the insertion point: read
    the carries from `state`, compute the new ones into `temps` and copy them
    back; store each per-step output into its `stacked` buffer at `step`
    (None: not stored). With `push`, the last outputs are the tape (one
    buffer each) and are pushed at its slot; with `pop`, the first xs are
    popped from the tape at its slot. The body may be lowered several
    times (the regions of a checkpoint schedule): the buffers and views of
    its values are set for this lowering only."""
    index, carries, slices, invariant_args = op.body_args()
    new_carries, outs = op.yielded()
    saved = dict(lw.buffers), dict(lw.views)
    lw.buffers.update(zip(invariant_args, invariants, strict=True))
    lw.buffers.update(zip(carries, state, strict=True))

    def index_value(idx: Index) -> SSAValue:
        count = lw.emit(arith.IndexCastOp(lw.index(step), i64))
        return lw.emit(arith.SIToFPOp(count, Float64Type()))

    lw.views[index] = index_value
    popped = pop[0] if pop is not None else ()
    for k, (arg, stacked_input) in enumerate(zip(slices, op.xs, strict=True)):
        if k < len(popped):
            assert pop is not None
            entry = lw.alloc(_memref(arg.type))
            lw.insert(autodiff.PopOp(entry, popped[k], lw.index(pop[1])))
            lw.buffers[arg] = entry
            continue
        lw.views[arg] = lambda idx, v=stacked_input: lw.element(v, (step, *idx))
        if any(isinstance(u, array.ReshapeOp) for u in _users(arg)):
            buffer = lw.alloc(_memref(arg.type))
            lw.copy(arg, buffer)
            lw.buffers[arg] = buffer
    lower_block(lw, op.block, new_carries, temps)
    pushed = push[0] if push is not None else ()
    first_pushed = len(outs) - len(pushed)
    for k, (value, buffer) in enumerate(zip(outs, stacked, strict=True)):
        if k >= first_pushed:
            assert push is not None
            lw.insert(autodiff.PushOp(_buffer_of(lw, value), pushed[k - first_pushed], lw.index(push[1])))
        elif buffer is not None:
            lw.for_each(_shape(value), lambda idx, v=value, b=buffer: lw.store(lw.element(v, idx), b, (step, *idx)))
    for temp, buffer in zip(temps, state, strict=True):
        if temp is not buffer:
            lw.for_each(_shape(temp), lambda idx, t=temp, b=buffer: lw.store(lw.load(t, idx), b, idx))
    lw.buffers, lw.views = saved


# ---------------------------------------------------------------------------
# A scan's VJP: the forward scan with its tape and the reverse scan, together
# ---------------------------------------------------------------------------


def _tape_partner(op: array.ScanOp) -> array.ScanOp | None:
    """The reverse scan that reads the tape of forward scan `op` (tagged
    autodiff.tape = N), if the pair can be lowered together: its N tape ys
    are used only by that scan, as its leading N xs, in the same block, with
    the same trip count and the opposite direction."""
    attr = op.attributes.get(autodiff.TAPE_ATTR)
    if not isinstance(attr, IntegerAttr) or not 0 < attr.value.data <= len(op.ys) or op.trip_count < 1:
        return None
    tape = list(op.ys)[-attr.value.data :]
    users = {use.operation for value in tape for use in value.uses}
    if len(users) != 1 or any(len(list(value.uses)) != 1 for value in tape):
        return None
    (partner,) = users
    if (
        not isinstance(partner, array.ScanOp) or partner.parent_block() is not op.parent_block()
        or list(partner.xs)[: len(tape)] != tape or partner.trip_count != op.trip_count
        or partner.is_reverse == op.is_reverse
    ):
        return None
    return partner


def _checkpoint(op: array.ScanOp) -> Checkpoint:
    """The scan's checkpoint mode (none without the attribute); a bad one
    fails the pass at the scan."""
    attr = op.attributes.get(autodiff.CHECKPOINT_ATTR)
    if attr is None:
        return Checkpoint("none")
    try:
        if not isinstance(attr, StringAttr):
            raise ValueError(f"{autodiff.CHECKPOINT_ATTR} must be a string, got {attr}")
        return Checkpoint.parse(attr.data)
    except ValueError as error:
        _fail(str(error), at=op)


def _bytes(values: Sequence[SSAValue]) -> int:
    return sum(prod(_shape(v)) * _element_bytes(_element_type(v)) for v in values)


@dataclass
class TapedLoop:
    """What the forward half of a pair leaves for the reverse half."""

    forward: array.ScanOp
    checkpoint: str
    state_bytes: int
    entry_bytes: int
    temps: list[SSAValue]
    invariants: list[SSAValue]
    tapes: list[SSAValue]
    snapshots: list[SSAValue]


def _forward_half(lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue]) -> TapedLoop:
    """The forward scan of a pair: in mode none a loop pushing each step's
    residuals at tape slot i; otherwise the schedule's forward phase, with
    the tape and the snapshots in buffers the reverse phase reads."""
    checkpoint = _checkpoint(op)
    spec = str(checkpoint)
    _, outs = op.yielded()
    count = op.attributes[autodiff.TAPE_ATTR].value.data
    entries = list(outs)[-count:]
    steps = op.trip_count
    state_bytes, entry_bytes = _bytes(op.finals), _bytes(entries)
    try:
        schedule = checkpoint.schedule(steps, state_bytes, entry_bytes)
    except ValueError as error:
        _fail(f"checkpoint {spec}: {error}", at=op)
    counts = simulate(schedule)  # also checks it
    capacity = steps if spec == "none" else counts.peak_tape
    finals, temps, invariants = _scan_state(lw, op, dest)
    stacked = _stacked(lw, list(op.ys)[:-count], dest)
    tapes = [lw.alloc(MemRefType(_element_type(v), [capacity, *_shape(v)])) for v in entries]
    snapshots = [lw.alloc(MemRefType(_element_type(v), [schedule.snapshots, *_shape(v)]))
                 for v in op.finals] if schedule.snapshots else []
    lw.taped_loops += 1
    lw.checkpoint_figures["tape_bytes"] += capacity * entry_bytes
    lw.checkpoint_figures["snapshot_bytes"] += schedule.snapshots * state_bytes
    lw.checkpoint_figures["recomputed_steps"] += counts.advanced + counts.taped - steps
    outputs = [*stacked, *[None] * count]
    if spec == "none":
        with _loop(lw, steps) as iv:
            slot = Affine(0, ((iv, 1),))
            _lower_step(lw, op, _step_index(op, iv), finals, temps, invariants, outputs, push=(tapes, slot))
    else:
        _schedule(lw, op, spec, "forward", state_bytes, entry_bytes, finals, snapshots, {
            "advance": lambda step, slot: _lower_step(lw, op, step, finals, temps, invariants, outputs),
            "taped": lambda step, slot: _lower_step(
                lw, op, step, finals, temps, invariants, outputs, push=(tapes, slot)),
        })
    lw.buffers.update((r, b) for r, b in zip(op.ys, stacked, strict=False) if b is not None)
    return TapedLoop(op, spec, state_bytes, entry_bytes, temps, invariants, tapes, snapshots)


def _reverse_half(
    lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue], taped: TapedLoop
) -> None:
    """The reverse scan of a pair: in mode none a reversed loop popping tape
    slot i; otherwise the schedule's reverse phase, which recomputes the
    forward scan's states into a state of its own (the forward scan's final
    carries stay as they are) and runs this scan's steps as its adjoints."""
    fwd = taped.forward
    finals, temps, invariants = _scan_state(lw, op, dest)
    stacked = _stacked(lw, op.ys, dest)
    if taped.checkpoint == "none":
        with _loop(lw, op.trip_count) as iv:
            step = _step_index(op, iv)
            slot = step.scaled(-1).shifted(op.trip_count - 1) if fwd.is_reverse else step  # where it was pushed
            _lower_step(lw, op, step, finals, temps, invariants, stacked, pop=(taped.tapes, slot))
    else:
        state = [lw.alloc(_memref(v.type)) for v in fwd.finals]
        fwd_outputs = [None] * len(fwd.ys)
        _schedule(lw, fwd, taped.checkpoint, "reverse", taped.state_bytes, taped.entry_bytes,
                  state, taped.snapshots, {
            "advance": lambda step, slot: _lower_step(
                lw, fwd, step, state, taped.temps, taped.invariants, fwd_outputs),
            "taped": lambda step, slot: _lower_step(
                lw, fwd, step, state, taped.temps, taped.invariants, fwd_outputs, push=(taped.tapes, slot)),
            "adjoint": lambda step, slot: _lower_step(
                lw, op, step, finals, temps, invariants, stacked, pop=(taped.tapes, slot)),
        })
    lw.buffers.update((r, b) for r, b in zip(op.ys, stacked, strict=True) if b is not None)


def _schedule(
    lw: FunctionLowering, fwd: array.ScanOp, spec: str, phase: str, state_bytes: int, entry_bytes: int,
    state: Sequence[SSAValue], snapshots: Sequence[SSAValue],
    steps: dict[str, Callable[[Affine, Affine], None]],
) -> None:
    """An `autodiff.schedule` for one phase: `steps[name](data index, tape
    slot)` lowers the advance, taped and adjoint regions; the store and
    restore regions copy `state` to and from `snapshots`."""
    op = autodiff.ScheduleOp(spec, phase, fwd.trip_count, state_bytes, entry_bytes)
    lw.insert(op)
    saved = lw.insertion_point
    kinds = {row[0] for row in op.table()}
    for kind, ((name, _), region) in enumerate(zip(autodiff.SCHEDULE_REGIONS, op.regions, strict=True)):
        if kind not in kinds:
            continue  # never run in this phase: left empty, so what only it used is dead
        block = region.block
        lw.insertion_point = InsertPoint.before(block.last_op)
        ivs = [_push_iv(lw, arg) for arg in block.args]
        for arg, hint in zip(block.args, ("slot",) if name in ("store", "restore") else ("step", "slot")):
            arg.name_hint = hint
        if name in ("store", "restore") and snapshots:
            slot = Affine(0, ((ivs[0], 1),))
            for buffer, snapshot in zip(state, snapshots, strict=True):
                source, target = (buffer, snapshot) if name == "store" else (snapshot, buffer)
                lw.for_each(_shape(buffer), lambda idx, s=source, t=target: lw.store(
                    lw.load(s, (slot, *idx) if s is snapshot else idx), t, (slot, *idx) if t is snapshot else idx))
        elif name in steps:
            steps[name](_step_index(fwd, ivs[0]), Affine(0, ((ivs[1], 1),)) if len(ivs) == 2 else ZERO)
    lw.insertion_point = saved


def lower_function(
    fn: func.FuncOp, stack_threshold: int, fuse_epilogues: bool = True, fuse_reductions: bool = True
) -> None:
    """Rewrite one array-level function into its loops-level form in place."""
    _check_lowerable(fn)
    old = fn.body.block
    ret = old.last_op
    assert isinstance(ret, func.ReturnOp)
    results = list(ret.arguments)
    in_types = [_memref(a.type) for a in old.args]
    out_types = [_memref(r.type) for r in results]
    block = Block(arg_types=[*in_types, *out_types])
    inputs, outputs = block.args[: len(in_types)], block.args[len(in_types) :]
    for new, arg in zip(inputs, old.args, strict=True):
        new.name_hint = arg.name_hint
    for out in outputs:
        out.name_hint = "out"

    lw = FunctionLowering(block, stack_threshold)
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
            _fail(f"'{op.name}' was left unlowered", at=op)
        types = [*op.result_types, *op.operand_types]
        types += [a.type for r in op.regions for b in r.blocks for a in b.args]
        if isinstance(op, func.FuncOp):
            types += [*op.function_type.inputs.data, *op.function_type.outputs.data]
        if any(isinstance(t, TensorType) for t in types):
            _fail(f"'{op.name}' still has a tensor type after lowering", at=op)


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
            _fail(f"stack-threshold must be >= 0, got {self.stack_threshold}")
        for fn in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            if loops.NUM_INPUTS_ATTR in fn.attributes:
                continue  # already at the loops level
            if fn.is_declaration:
                _fail(f"@{fn.sym_name.data} is a declaration; inline calls first", at=fn)
            lower_function(fn, self.stack_threshold, self.fuse_epilogues, self.fuse_reductions)
        check_legal(op)
