"""parallelize: run the outermost independent loop of each large nest on threads.

Walks each loops-level function's loop nests (and those in the branches of
a `loops.switch`) from the outside in: the first
`loops.for` that is provably parallel and does at least `min-work` scalar
operations gets `threads N` (lower-loops-to-c prints `#pragma omp parallel
for num_threads(N) schedule(static)`); loops inside a marked loop are left
alone, loops that fail are searched inside. A buffer the proof finds to be
private scratch becomes one slice per thread (`loops.thread_id`); a large
`loops.pack` outside parallel loops becomes a parallel loop over groups of
panels.

Expects: loops-level functions (after lower-array-to-loops, optionally
tile-matmul).

Guarantees: the results are bitwise those of the input IR, with any number
of threads: a loop is marked only when every buffer its body writes is
disjoint per iteration, allocated in the body, or private scratch, so sums
are never reassociated.

Options: `threads` (2; >= 1, and 1 marks nothing); `min-work` (65536:
estimated scalar operations of the whole loop, a tile counting m * n * k).

The proof, privatization, the BLIS matmul nest, why `min-work` and what
threads cost on a busy machine: docs/parallelize.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from typing import NoReturn

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import IndexType, IntAttr, IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import loops

PASS_NAME = "parallelize"


class NotParallel(Exception):
    """Why a loop cannot run its iterations in parallel (the search goes on inside it)."""


# ---------------------------------------------------------------------------
# Affine offsets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Affine:
    """`const + sum(coeff * value)` over `index` values."""

    const: int
    terms: tuple[tuple[SSAValue, int], ...] = ()

    def plus(self, other: Affine, sign: int = 1) -> Affine:
        coeffs = dict(self.terms)
        for value, coeff in other.terms:
            coeffs[value] = coeffs.get(value, 0) + sign * coeff
        return Affine(self.const + sign * other.const, tuple((v, c) for v, c in coeffs.items() if c))

    def times(self, k: int) -> Affine:
        return Affine(self.const * k, tuple((v, c * k) for v, c in self.terms if c * k))


def affine(value: SSAValue, inside: set[SSAValue]) -> Affine | None:
    """`value` as an affine form; values defined outside the loop are opaque
    terms (invariants), values inside that are not affine in its induction
    variables give None."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return Affine(owner.value.value.data)
    if value not in inside or not isinstance(owner, Operation):
        return Affine(0, ((value, 1),))
    if isinstance(owner, arith.AddiOp | arith.SubiOp | arith.MuliOp):
        a, b = affine(owner.lhs, inside), affine(owner.rhs, inside)
        if a is None or b is None:
            return None
        if isinstance(owner, arith.AddiOp):
            return a.plus(b)
        if isinstance(owner, arith.SubiOp):
            return a.plus(b, -1)
        if not a.terms:
            return b.times(a.const)
        if not b.terms:
            return a.times(b.const)
    return None


# ---------------------------------------------------------------------------
# What the ops of a body touch
# ---------------------------------------------------------------------------


@dataclass
class Access:
    """One op's access to a buffer: elements `offset + footprint` of `root`
    (flat), for every value of the loops around `op` inside the candidate."""

    op: Operation
    root: SSAValue
    offset: Affine | None
    footprint: np.ndarray
    writes: bool


def root_of(buffer: SSAValue) -> SSAValue:
    while isinstance(buffer.owner, loops.ReshapeOp):
        buffer = buffer.owner.source
    return buffer


def _flat_offset(buffer: SSAValue, indices: list[SSAValue], inside: set[SSAValue]) -> Affine | None:
    shape = tuple(buffer.type.get_shape())
    total = Affine(0)
    for k, index in enumerate(indices):
        term = affine(index, inside)
        if term is None:
            return None
        total = total.plus(term.times(prod(shape[k + 1:])))
    return total


def _grid(*sizes_and_strides: tuple[int, int]) -> np.ndarray:
    """Offsets `sum(x_d * stride_d)` for x_d < size_d, flattened."""
    result = np.zeros(1, dtype=np.int64)
    for size, stride in sizes_and_strides:
        result = np.add.outer(result, np.arange(size, dtype=np.int64) * stride).ravel()
    return result


def accesses(op: Operation, inside: set[SSAValue]) -> Iterator[Access]:
    """The accesses of one op with a memory effect; NotParallel for ops this
    analysis does not understand."""
    one = np.zeros(1, dtype=np.int64)

    def at(offset: SSAValue) -> Affine | None:
        return affine(offset, inside)

    match op:
        case loops.LoadOp() | loops.StoreOp():
            yield Access(op, root_of(op.memref), _flat_offset(op.memref, list(op.indices), inside),
                         one, isinstance(op, loops.StoreOp))
        case loops.PackOp():
            depth, width, panel, ds, ls = (op.value_of(x) for x in op.PARAMETERS)
            lane = np.arange(width, dtype=np.int64)
            dst = np.add.outer(np.arange(depth, dtype=np.int64) * panel,
                               (lane // panel) * depth * panel + lane % panel).ravel()
            yield Access(op, root_of(op.src), at(op.src_offset), _grid((depth, ds), (width, ls)), False)
            yield Access(op, root_of(op.dst), at(op.dst_offset), dst, True)
        case loops.MicrokernelOp():
            v = op.value_of
            m, n, k = v("m"), v("n"), v("k")
            yield Access(op, root_of(op.a), at(op.a_offset),
                         _grid((m, v("a_row_stride")), (k, v("a_k_stride"))), False)
            yield Access(op, root_of(op.b), at(op.b_offset), _grid((k, v("b_k_stride")), (n, 1)), False)
            c_tile = _grid((m, v("c_row_stride")), (n, 1))
            if op.accumulate is not None:
                yield Access(op, root_of(op.c), at(op.c_offset), c_tile, False)
            yield Access(op, root_of(op.c), at(op.c_offset), c_tile, True)
        case loops.LinalgOp():
            for value in op.buffers:
                size = prod(value.type.get_shape())
                yield Access(op, root_of(value), Affine(0), np.arange(size, dtype=np.int64),
                             value not in op.inputs)
        case loops.MatmulOp():
            for value, writes in ((op.lhs, False), (op.rhs, False), (op.out, False), (op.out, True)):
                size = prod(value.type.get_shape())
                yield Access(op, root_of(value), Affine(0), np.arange(size, dtype=np.int64), writes)
        case (loops.ForOp() | loops.YieldOp() | loops.AllocOp() | loops.ReshapeOp()
              | loops.ConstantOp() | loops.ThreadIdOp() | func.ReturnOp()):
            return
        case _ if op.dialect_name() in ("arith", "math") and not op.regions:
            return
        case _:
            raise NotParallel(f"'{op.name}' has effects this analysis does not know")


Found = list[tuple[Access, tuple[loops.ForOp, ...]]]
"""Accesses with the loops around each (inside the op or block looked at)."""


def defined_in(op_or_block: Operation | Block) -> set[SSAValue]:
    ops = op_or_block.walk() if isinstance(op_or_block, Operation) else (
        o for top in op_or_block.ops for o in top.walk())
    values: set[SSAValue] = set()
    for op in ops:
        values.update(op.results)
        values.update(a for r in op.regions for b in r.blocks for a in b.args)
    return values


def accesses_in(op: Operation, inside: set[SSAValue]) -> Found:
    """Every access of `op` and the ops nested in it."""
    found: Found = []

    def visit(op: Operation, around: tuple[loops.ForOp, ...]) -> None:
        found.extend((access, around) for access in accesses(op, inside) if access.footprint.size)
        if isinstance(op, loops.ForOp):
            for inner in op.body.block.ops:
                visit(inner, (*around, op))

    visit(op, ())
    return found


def elements(access: Access, around: tuple[loops.ForOp, ...], others: bool = False) -> np.ndarray | None:
    """Every element `access` reaches while the loops `around` run; None
    when its offset depends on anything else (or, with `others`, leaving
    out the terms of anything else)."""
    if access.offset is None:
        return None
    ivs = {loop.induction_var: loop for loop in around}
    result = np.array([access.offset.const], dtype=np.int64)
    for value, coeff in access.offset.terms:
        loop = ivs.get(value)
        if loop is None:
            if others:
                continue
            return None
        values = np.arange(loop.lower.data, loop.upper.data, loop.step.data, dtype=np.int64)
        result = np.add.outer(result, values * coeff).ravel()
    return np.add.outer(result, access.footprint).ravel()


def hull(access: Access, around: tuple[loops.ForOp, ...]) -> tuple[int, int]:
    """[lo, hi) of what `access` reaches while the loops `around` run, leaving
    out every other term (the candidate's variable, invariants)."""
    assert access.offset is not None
    ivs = {loop.induction_var: loop for loop in around}
    lo = hi = access.offset.const
    for value, coeff in access.offset.terms:
        loop = ivs.get(value)
        if loop is None:
            continue
        last = loop.lower.data + (loop.trip_count - 1) * loop.step.data
        ends = (coeff * loop.lower.data, coeff * last)
        lo, hi = lo + min(ends), hi + max(ends)
    return lo + int(access.footprint.min()), hi + int(access.footprint.max()) + 1


# ---------------------------------------------------------------------------
# The legality proof
# ---------------------------------------------------------------------------


def _name(root: SSAValue) -> str:
    return f"%{root.name_hint}" if root.name_hint else "a buffer"


def check_disjoint(loop: loops.ForOp, root: SSAValue, found: Found) -> None:
    """Every iteration of `loop` touches only its own elements of `root`."""
    parts = set()
    lo, hi = None, None
    for access, around in found:
        if access.offset is None:
            raise NotParallel(f"an access to {_name(root)} is not affine")
        terms = dict(access.offset.terms)
        coeff = terms.pop(loop.induction_var, 0)
        inner = {l.induction_var for l in around}
        parts.add((coeff, frozenset((v, c) for v, c in terms.items() if v not in inner)))
        a, b = hull(access, around)
        lo, hi = a if lo is None else min(lo, a), b if hi is None else max(hi, b)
    if len(parts) != 1:
        raise NotParallel(f"accesses to {_name(root)} differ in how they use the loop")
    ((coeff, _),) = parts
    if coeff <= 0:
        raise NotParallel(f"every iteration writes the same elements of {_name(root)}")
    shift = coeff * loop.step.data
    if hi - lo > shift and not shifts_apart(found, lo, hi, shift, loop.trip_count):
        raise NotParallel(f"iterations overlap in {_name(root)}")


EXACT_LIMIT = 1 << 22
"""Most elements (span x trips) the exact disjointness test looks at."""


def shifts_apart(found: Found, lo: int, hi: int, shift: int, trips: int) -> bool:
    """The exact test when the hulls of iterations overlap (a column block
    of a row-major matrix): iteration i reaches the set S + shift * i, so
    no two iterations conflict when what one writes, shifted by any
    multiple d * shift (0 < |d| < trips), misses all that the other touches."""
    span = hi - lo
    if span * min(trips, span // shift + 1) > EXACT_LIMIT:
        return False
    touched, written = np.zeros(span, dtype=bool), np.zeros(span, dtype=bool)
    for access, around in found:
        reached = elements(access, around, others=True) - lo
        touched[reached] = True
        if access.writes:
            written[reached] = True
    for d in range(1, trips):
        distance = d * shift
        if distance >= span:
            break
        # written at x in iteration i+d vs touched at x in iteration i, and the reverse
        if (written[distance:] & touched[:-distance]).any() or (touched[distance:] & written[:-distance]).any():
            return False
    return True


def frame_ok(block: Block, root: SSAValue, size: int) -> bool:
    """Every element of scratch `root` read in one run of `block` was written
    before in the same run: by the ops of the block in order, where a loop
    whose every iteration passes this check by itself leaves only garbage
    behind (its values are never read afterwards)."""
    inside = defined_in(block)
    written = np.zeros(size, dtype=bool)
    for op in block.ops:
        try:
            found = [(a, around) for a, around in accesses_in(op, inside) if a.root == root]
        except NotParallel:
            return False
        if not found:
            continue
        if isinstance(op, loops.ForOp) and frame_ok(op.body.block, root, size):
            written[:] = False
            continue
        if len({a.writes for a, _ in found}) != 1:
            return False  # reads and writes mixed inside one op: not followed
        for access, around in found:
            reached = elements(access, around)
            if reached is None:
                return False
            if access.writes:
                written[reached] = True
            elif not written[reached].all():
                return False
    return True


def _privatizable(root: SSAValue) -> bool:
    """A flat allocation accessed only element- or tile-wise (no views or
    whole-buffer ops), so `privatize` can give each thread a slice."""
    return (
        isinstance(root.owner, loops.AllocOp) and len(root.type.get_shape()) == 1
        and all(isinstance(use.operation, loops.LoadOp | loops.StoreOp | loops.PackOp | loops.MicrokernelOp)
                for use in root.uses)
    )


def is_private_scratch(loop: loops.ForOp, root: SSAValue) -> bool:
    """`root` can be one slice per thread in `loop`: a flat allocation that
    each iteration writes before reading (reading only what it wrote), and
    whose values never flow anywhere else in the function either."""
    if not _privatizable(root):
        return False
    function = loop.parent_op()
    while function is not None and not isinstance(function, func.FuncOp):
        function = function.parent_op()
    if function is None:
        return False
    (size,) = root.type.get_shape()
    return frame_ok(loop.body.block, root, size) and frame_ok(function.body.block, root, size)


def prove_parallel(loop: loops.ForOp) -> list[SSAValue]:
    """The scratch buffers to make private if `loop` is parallel; NotParallel if not."""
    inside = defined_in(loop)
    by_root: dict[SSAValue, Found] = {}
    for op in loop.body.block.ops:
        for access, around in accesses_in(op, inside):
            by_root.setdefault(access.root, []).append((access, around))
    private = []
    for root, found in by_root.items():
        if not any(access.writes for access, _ in found):
            continue
        if root in inside:  # allocated in the body: storage of one iteration
            if _privatizable(root) and root.owner.placement.data == "workspace":
                private.append(root)
            elif not _privatizable(root):
                raise NotParallel(f"{root.name_hint or 'a buffer'} allocated in the loop is viewed")
            continue
        try:
            check_disjoint(loop, root, found)
        except NotParallel:
            if not is_private_scratch(loop, root):
                raise
            private.append(root)
    return private


def work(loop: loops.ForOp) -> int:
    """Estimated scalar operations of a whole loop: ops of the body times the
    trips; a microkernel counts m * n * k, a pack depth * width."""
    def block_work(block: Block) -> int:
        total = 0
        for op in block.ops:
            total += work(op) if isinstance(op, loops.ForOp) else work_of(op)
        return total

    return loop.trip_count * block_work(loop.body.block)


# ---------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    raise PassFailedException(f"{PASS_NAME}: {message}")


@dataclass(frozen=True)
class Parallelize(ModulePass):
    """Mark the outermost provably independent loop of each large nest parallel."""

    name = PASS_NAME

    threads: int = 2
    """Threads per parallel loop (1: leave every loop serial)."""
    min_work: int = 65536
    """Loops with fewer estimated scalar operations stay serial."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.threads < 1:
            _fail(f"threads must be >= 1, got {self.threads}")
        if self.min_work < 0:
            _fail(f"min-work must be >= 0, got {self.min_work}")
        if self.threads == 1:
            return
        for function in [f for f in op.ops if isinstance(f, func.FuncOp)]:
            private: dict[SSAValue, list[loops.ForOp]] = {}
            self.search(function.body.block, private)
            for root, marked in private.items():
                privatize(root, marked, self.threads)

    def search(self, block: Block, private: dict[SSAValue, list[loops.ForOp]]) -> None:
        for switch in [o for o in block.ops if isinstance(o, loops.SwitchOp)]:
            for region in switch.branches:  # a branch's nests, as if they were here
                self.search(region.block, private)
        for pack in [o for o in block.ops if isinstance(o, loops.PackOp)]:
            if work_of(pack) >= self.min_work:
                split_pack(pack, self.threads)
        for loop in [o for o in block.ops if isinstance(o, loops.WhileOp)]:
            # Each run of a nest inside a while's regions is a parallel loop of its own.
            self.search(loop.cond.block, private)
            self.search(loop.body.block, private)
        for loop in [o for o in block.ops if isinstance(o, loops.ForOp)]:
            if loop.trip_count >= 2 and work(loop) >= self.min_work:
                try:
                    scratch = prove_parallel(loop)
                except NotParallel:
                    pass
                else:
                    loop.properties["threads"] = IntAttr(self.threads)
                    for root in scratch:
                        private.setdefault(root, []).append(loop)
                    continue
            self.search(loop.body.block, private)


def split_pack(pack: loops.PackOp, threads: int) -> None:
    """A large pack outside any parallel loop (tile-matmul's B block, packed
    once per depth block for all row blocks) becomes a loop over `threads`
    groups of whole panels, then the rest: the same copy, and each group
    writes its own panels, which the proof then confirms."""
    depth, width, panel, _, lane_stride = (pack.value_of(x) for x in pack.PARAMETERS)
    per_group = (-(-width // panel) // threads) * panel
    groups = width // per_group if per_group else 0
    if groups < 2:
        return
    parameters = pack.parameters
    loop = loops.ForOp(0, groups * per_group, per_group)
    loop.induction_var.name_hint = "jp"
    Rewriter.insert_op(loop, InsertPoint.before(pack))

    def part(lane: SSAValue | int, lanes: int, at: InsertPoint) -> None:
        offsets = []
        for offset, stride in ((pack.src_offset, lane_stride), (pack.dst_offset, depth)):
            ops: list[Operation] = [arith.ConstantOp(IntegerAttr(stride, IndexType()), IndexType())]
            if isinstance(lane, int):
                ops = [arith.ConstantOp(IntegerAttr(lane * stride, IndexType()), IndexType())]
            else:
                ops.append(arith.MuliOp(lane, ops[0].results[0]))
            ops.append(arith.AddiOp(offset, ops[-1].results[0]))
            Rewriter.insert_op(ops, at)
            offsets.append(ops[-1].results[0])
        Rewriter.insert_op(loops.PackOp((pack.src, offsets[0]), (pack.dst, offsets[1]),
                                        {**parameters, "width": lanes}), at)

    part(loop.induction_var, per_group, InsertPoint.before(loop.body.block.last_op))
    if width > groups * per_group:
        part(groups * per_group, width - groups * per_group, InsertPoint.before(pack))
    Rewriter.erase_op(pack)
    try:
        if not prove_parallel(loop):
            loop.properties["threads"] = IntAttr(threads)
    except NotParallel:
        pass


def work_of(op: Operation) -> int:
    if isinstance(op, loops.PackOp):
        return op.value_of("depth") * op.value_of("width")
    if isinstance(op, loops.MicrokernelOp):
        return op.value_of("m") * op.value_of("n") * op.value_of("k")
    return 1


def privatize(root: SSAValue, marked: list[loops.ForOp], threads: int) -> None:
    """`root` becomes `threads` slices; accesses inside the marked loops use
    slice `loops.thread_id` (elsewhere slice 0)."""
    alloc = root.owner
    assert isinstance(alloc, loops.AllocOp)
    typ = alloc.result.type
    (size,) = typ.get_shape()
    wide = loops.AllocOp(MemRefType(typ.get_element_type(), [size * threads]), alloc.placement.data)
    Rewriter.replace_op(alloc, wide)
    wide.result.name_hint = root.name_hint
    for loop in marked:
        first = loop.body.block.first_op
        assert first is not None
        thread = loops.ThreadIdOp()
        stride = arith.ConstantOp(IntegerAttr(size, IndexType()), IndexType())
        base = arith.MuliOp(thread.result, stride.result)
        Rewriter.insert_op([thread, stride, base], InsertPoint.before(first))
        for use in list(wide.result.uses):
            user = use.operation
            if not loop.is_ancestor(user):
                continue
            # The flat offset follows the buffer (a store's buffer is operand 1).
            shifted = arith.AddiOp(user.operands[use.index + 1], base.result)
            Rewriter.insert_op(shifted, InsertPoint.before(user))
            user.operands[use.index + 1] = shifted.result
