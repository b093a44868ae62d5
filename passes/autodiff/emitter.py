"""The context derivative rules are written in: an `Emitter` inserts `array`
ops at one place and knows symbolic zeros.

Expects: an insertion point (and a location for what it emits).

Guarantees: a derivative value is an `SSAValue` or `None`, the symbolic
zero, for which no op is emitted; ops linear in an argument give `None`
for a `None` argument, `add` and `sub` drop a zero term, and only ops
that must see a real value (`select`, `concatenate`) materialize a zero.
Every op emitted here has derivative rules itself, so derivative code is
differentiable again; emitted ops carry `location`, so later errors point
at the user's code.

Why symbolic zeros and how rules use them: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import LocationAttr, TensorType, UnknownLoc
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.support.dense import numpy_dtype, numpy_to_dense, splat_dense

Value = SSAValue | None
"""A derivative value; `None` is the symbolic zero."""


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    typ = value.type if isinstance(value, SSAValue) else value
    assert isinstance(typ, TensorType), typ
    return tuple(typ.get_shape())


def element_of(value: SSAValue | Attribute) -> Attribute:
    typ = value.type if isinstance(value, SSAValue) else value
    assert isinstance(typ, TensorType), typ
    return typ.get_element_type()


def is_differentiable(value: SSAValue | Attribute) -> bool:
    """Only f32 and f64 tensors carry tangents (i1 values do not)."""
    typ = value.type if isinstance(value, SSAValue) else value
    return isinstance(typ, TensorType) and array.is_float(typ.get_element_type())


class Emitter:
    """Inserts `array` ops at `point`; see the module docstring."""

    def __init__(self, point: InsertPoint, location: LocationAttr | None = None):
        self.point = point
        self.location: LocationAttr = location or UnknownLoc()

    def emit(self, op: Operation) -> SSAValue:
        op.location = self.location
        Rewriter.insert_op(op, self.point)
        return op.results[0]

    # -- constants ---------------------------------------------------------

    def full(self, typ: Attribute, value: float) -> SSAValue:
        """A splat constant of tensor type `typ`."""
        dtype = numpy_dtype(element_of(typ))
        return self.emit(array.ConstantOp(splat_dense(value, dtype, shape_of(typ))))

    def full_like(self, x: SSAValue, value: float) -> SSAValue:
        return self.full(x.type, value)

    def zeros_like(self, x: SSAValue) -> SSAValue:
        return self.full(x.type, 0.0)

    def ones_like(self, x: SSAValue) -> SSAValue:
        return self.full(x.type, 1.0)

    def constant(self, data: np.ndarray) -> SSAValue:
        return self.emit(array.ConstantOp(numpy_to_dense(data)))

    def materialize(self, d: Value, like: SSAValue | Attribute) -> SSAValue:
        """`d`, or zeros of the type of `like` for the symbolic zero."""
        if d is not None:
            return d
        return self.full(like.type if isinstance(like, SSAValue) else like, 0.0)

    # -- zero-aware linear arithmetic --------------------------------------

    def add(self, a: Value, b: Value) -> Value:
        if a is None or b is None:
            return b if a is None else a
        return self.emit(array.AddOp(a, b))

    def sub(self, a: Value, b: Value) -> Value:
        if b is None:
            return a
        if a is None:
            return self.neg(b)
        return self.emit(array.SubOp(a, b))

    def neg(self, a: Value) -> Value:
        return None if a is None else self.emit(array.NegOp(a))

    def mul(self, a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        return self.emit(array.MulOp(a, b))

    def div(self, a: Value, b: SSAValue) -> Value:
        return None if a is None else self.emit(array.DivOp(a, b))

    def matmul(self, a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        return self.emit(array.MatmulOp(a, b))

    def select(self, cond: SSAValue, a: Value, b: Value) -> Value:
        if a is None and b is None:
            return None
        like = a if a is not None else b
        assert like is not None
        return self.emit(
            array.SelectOp(cond, self.materialize(a, like), self.materialize(b, like))
        )

    def convert(self, a: Value, element_type: Attribute) -> Value:
        if a is None:
            return None
        if element_of(a) == element_type:
            return a
        return self.emit(array.ConvertOp(a, element_type))

    # -- zero-aware shape ops ----------------------------------------------

    def broadcast(self, a: Value, dims: Sequence[int], shape: Sequence[int]) -> Value:
        if a is None:
            return None
        return self.emit(array.BroadcastOp(a, dims, shape))

    def reshape(self, a: Value, shape: Sequence[int]) -> Value:
        if a is None or shape_of(a) == tuple(shape):
            return a
        return self.emit(array.ReshapeOp(a, shape))

    def transpose(self, a: Value, perm: Sequence[int]) -> Value:
        if a is None or list(perm) == list(range(len(perm))):
            return a
        return self.emit(array.TransposeOp(a, perm))

    def mT(self, a: Value) -> Value:
        """Swap the last two dimensions (matrix transpose, batched)."""
        if a is None:
            return None
        rank = len(shape_of(a))
        return self.transpose(a, [*range(rank - 2), rank - 1, rank - 2])

    def slice(
        self, a: Value, start: Sequence[int], limit: Sequence[int], stride: Sequence[int]
    ) -> Value:
        if a is None:
            return None
        return self.emit(array.SliceOp(a, start, limit, stride))

    def slice_axis(self, a: Value, axis: int, start: int, limit: int) -> Value:
        """`a[..., start:limit, ...]` along `axis` (unit stride)."""
        if a is None:
            return None
        shape = shape_of(a)
        if (start, limit) == (0, shape[axis]):
            return a
        starts = [start if d == axis else 0 for d in range(len(shape))]
        limits = [limit if d == axis else n for d, n in enumerate(shape)]
        return self.slice(a, starts, limits, [1] * len(shape))

    def reverse(self, a: Value, axes: Sequence[int]) -> Value:
        """`a` read backwards along `axes` (a slice with stride -1 there)."""
        if a is None or not axes:
            return a
        shape = shape_of(a)
        starts = [n - 1 if d in axes else 0 for d, n in enumerate(shape)]
        limits = [-1 if d in axes else n for d, n in enumerate(shape)]
        strides = [-1 if d in axes else 1 for d in range(len(shape))]
        return self.slice(a, starts, limits, strides)

    def gather(self, a: Value, axes: Sequence[int], table: np.ndarray) -> Value:
        if a is None:
            return None
        return self.emit(array.GatherOp(a, axes, table))

    def scatter_add(
        self, g: Value, shape: Sequence[int], axes: Sequence[int], table: np.ndarray
    ) -> Value:
        """The adjoint of `gather(x, axes, table)` for an `x` of `shape`:
        each element of `g` added at the position it was read from. Built as
        a gather too: position p of the indexed axes reads, from g, the m
        rows that read p (m the largest count; shorter lists padded and
        masked out with a select, never multiplied by 0, so inf/nan in
        unused rows stay out), summed in row-major order of g."""
        k_axes = len(axes)
        batch = table.shape[:-1]
        if g is None or 0 in shape_of(g):
            return None
        if not batch:
            g = self.reshape(g, [1, *shape_of(g)])
            table, batch = table.reshape(1, k_axes), (1,)
        sizes = [shape[a] for a in axes]
        rest = [d for d in range(len(shape)) if d not in axes]
        target = np.ravel_multi_index(tuple(table[..., k].reshape(-1) for k in range(k_axes)), sizes)
        rows, hit = array.inverse_rows(target, int(np.prod(sizes)))
        m = rows.shape[1]
        inverse = np.stack(np.unravel_index(rows, batch), axis=-1).reshape(*sizes, m, len(batch))
        h = self.gather(g, range(len(batch)), inverse)
        assert h is not None
        if not hit.all():
            mask = self.constant(hit.reshape(*sizes, m))
            h = self.select(self.broadcast(mask, range(k_axes + 1), shape_of(h)), h, None)
        h = self.reduce_sum(h, [k_axes]) if m > 1 else self.reshape(h, [*sizes, *(shape[d] for d in rest)])
        order_now = [*axes, *rest]
        return self.transpose(h, [order_now.index(d) for d in range(len(shape))])

    def dynamic_gather(self, a: Value, indices: SSAValue, axes: Sequence[int], mode: str) -> Value:
        if a is None:
            return None
        return self.emit(array.DynamicGatherOp(a, indices, axes, mode))

    def scatter(self, a: SSAValue, indices: SSAValue, updates: SSAValue, axes: Sequence[int], kind: str, mode: str) -> SSAValue:
        return self.emit(array.ScatterOp(a, indices, updates, axes, kind, mode))

    def dynamic_slice(self, a: Value, starts: Sequence[SSAValue], sizes: Sequence[int]) -> Value:
        if a is None:
            return None
        return self.emit(array.DynamicSliceOp(a, starts, sizes))

    def dynamic_update_slice(self, a: SSAValue, update: SSAValue, starts: Sequence[SSAValue]) -> SSAValue:
        return self.emit(array.DynamicUpdateSliceOp(a, update, starts))

    def concatenate(self, parts: Sequence[SSAValue], axis: int) -> SSAValue:
        if len(parts) == 1:
            return parts[0]
        return self.emit(array.ConcatenateOp(parts, axis))

    def reduce_sum(self, a: Value, axes: Sequence[int]) -> Value:
        if a is None or not axes:
            return a
        return self.emit(array.ReduceSumOp(a, axes))

    # -- composite helpers -------------------------------------------------

    def power(self, x: SSAValue, k: float) -> SSAValue:
        """x^k for a constant k; k = 0, 1, 2 as 1, x, x*x (exact, and no
        libm pow per element)."""
        if k == 0:
            return self.ones_like(x)
        if k == 1:
            return x
        if k == 2:
            return self.emit(array.MulOp(x, x))
        return self.emit(array.PowOp(x, self.full_like(x, k)))

    def tie_weight(self, x: SSAValue, chosen: SSAValue, other: SSAValue) -> SSAValue:
        """How much of max/min's derivative goes to `x`: 1 where x alone is
        the chosen value, 0.5 where x and `other` tie, else 0 (JAX's
        balanced rule)."""
        zero = self.zeros_like(x)
        is_x = self.emit(array.CompareOp("eq", x, chosen))
        is_other = self.emit(array.CompareOp("eq", other, chosen))
        share = self.emit(array.SelectOp(is_other, self.full_like(x, 0.5), self.ones_like(x)))
        return self.emit(array.SelectOp(is_x, share, zero))

    def indicator(self, cond: SSAValue, like: SSAValue) -> SSAValue:
        """1.0 where `cond`, else 0.0, in the element type of `like`."""
        return self.emit(array.ConvertOp(cond, element_of(like)))

    def sum_to_shape(self, g: Value, dims: Sequence[int], shape: Sequence[int]) -> Value:
        """The adjoint of `broadcast(x, dims)` for `x` of `shape`: sum over
        the new dimensions and those where `x` had size 1, then reshape to
        bring back the size-1 dimensions."""
        if g is None:
            return None
        out_shape = shape_of(g)
        source = {d: k for k, d in enumerate(dims)}
        axes = [
            d
            for d, n in enumerate(out_shape)
            if d not in source or (shape[source[d]] == 1 and n != 1)
        ]
        return self.reshape(self.reduce_sum(g, axes), shape)

    def pad_slice(
        self, g: Value, shape: Sequence[int], bounds: Sequence[tuple[int, int, int]]
    ) -> Value:
        """The adjoint of a strided slice of an `x` of `shape`: `g` placed at
        the sliced positions of a zero tensor. Per dimension, a stride k
        interleaves k-1 zero rows after each row (reshape, concatenate with
        zeros, reshape), then zero blocks pad the front and the back."""
        if g is None or 0 in shape_of(g):
            return None
        if any(stride < 0 for _, _, stride in bounds):
            # A backward walk is the forward one reversed: reverse g there.
            lengths = shape_of(g)
            g = self.reverse(g, [d for d, (_, _, st) in enumerate(bounds) if st < 0])
            bounds = [
                (s - (n - 1) * -st, s + 1, -st) if st < 0 else (s, l, st)
                for (s, l, st), n in zip(bounds, lengths)
            ]
        for d, ((start, _limit, stride), size) in enumerate(zip(bounds, shape)):
            cur = list(shape_of(g))
            if stride > 1:
                rows = self.reshape(g, [*cur[: d + 1], 1, *cur[d + 1 :]])
                gaps = self.full(
                    TensorType(element_of(g), [*cur[: d + 1], stride - 1, *cur[d + 1 :]]), 0.0
                )
                spread = self.concatenate([rows, gaps], d + 1)
                g = self.reshape(spread, [*cur[:d], cur[d] * stride, *cur[d + 1 :]])
                g = self.slice_axis(g, d, 0, min(cur[d] * stride, size - start))
                cur = list(shape_of(g))
            parts = []
            after = size - start - cur[d]
            for count in (start, None, after):
                if count is None:
                    parts.append(g)
                elif count > 0:
                    zeros = TensorType(element_of(g), [*cur[:d], count, *cur[d + 1 :]])
                    parts.append(self.full(zeros, 0.0))
            g = self.concatenate(parts, d)
        return g

