"""Reductions of lower-array-to-loops: `array.reduce_sum` and `reduce_max`.

One loop nest over the input in its memory order (a transposed input is read
as it lies), with the input's producer inline (or, fused by plan_reductions,
a buffered producer computed and stored in the same nest). Sums are blocked
(no accumulator adds more than 2 x CHAIN values in a row) and laned (an
innermost reduced dimension of at least MIN_LANED elements goes to
LANE_BYTES of lane accumulators, then summed pairwise); a max gets the
lanes only.

Guarantees: the order of every sum depends on the shapes alone
(deterministic, and the same with any number of threads); its error grows
like log n, not n; accumulators are small buffers allocated inside the
loops over kept dimensions, "stack" below the stack threshold.

The order, the error bound and measurements: docs/reductions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects import arith
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array, loops
from gradc.passes.array_to_loops.affine import ZERO, Affine, Index
from gradc.passes.array_to_loops.elementwise import (
    ELEMENT_RULES,
    FunctionLowering,
    element_bytes,
    element_type_of,
    shape_of,
)
from gradc.passes.array_to_loops.fusion import memory_order

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
        self.elem = element_type_of(op.result)
        self.shape = shape_of(op.input)
        self.axes = set(op.axis_list)
        self.order = memory_order(op.input, buffered)
        if array.is_int(self.elem):  # wrapping sums and maxima are exact in any order
            if isinstance(op, array.ReduceSumOp):
                self.init, self.combine, self.chain = 0, arith.AddiOp, None
            else:
                width = self.elem.width.data
                self.init, self.combine, self.chain = -(2 ** (width - 1)), arith.MaxSIOp, None
        elif isinstance(op, array.ReduceSumOp):
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
        lanes = LANE_BYTES // element_bytes(self.elem)
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
            nbytes = size * element_bytes(self.elem)
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


def lower_reduction(
    lw: FunctionLowering, op: array.ReduceOp, dest: SSAValue, buffered: set[SSAValue],
    producer: Operation | None = None,
) -> None:
    """Accumulate into `dest` in one pass over the input (with its producer
    inline), in the input's memory order, blocked and laned (_Reduction).
    With a buffered pointwise `producer` (see plan_reductions) the nest also
    computes and stores the producer's elements, and the reduction reads
    them from registers."""
    _Reduction(lw, op, dest, buffered, producer).emit()
