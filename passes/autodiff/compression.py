"""Compressed Jacobians and Hessians: as many directions as colors.

    plan = compression_plan(kind, pattern)      # coloring + recovery indices
    seeds = seed_constants(e, plan, types)      # one (C, *shape) per type
    ...call the JVP/VJP batched over plan.count directions...
    blocks = decompress(e, plan, parts, ...)    # dense blocks or nnz values

Expects: the structural pattern of the derivative (passes/autodiff/sparsity.py),
rows and columns in the flattened, concatenated order of the request's
outputs and `wrt` arguments.

Guarantees: `kind` "columns" (forward mode, B = J S), "rows" (reverse mode,
B = S^T J) or "symmetric" (a Hessian as the forward derivative of its
gradient, B = H S, by star or distance-2 coloring, whichever needs fewer
colors); every structural nonzero is read from exactly one entry of B that
no other nonzero of its row (column) adds to, so the compressed derivative
equals the dense one entry by entry, and structural zeros are exact zeros.
Seed constants carry `SEED_ATTR`, so array-simplify turns products with them
into gathers and sums. Coloring and recovery: gradc.support.coloring;
rationale and the cost model: docs/sparsity.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType, UnitAttr
from xdsl.ir import Attribute, SSAValue

from gradc.dialects.autodiff import SEED_ATTR
from gradc.passes.autodiff.emitter import Emitter, element_of, shape_of
from gradc.passes.autodiff.sparsity import Pattern
from gradc.support import coloring
from gradc.support.dense import numpy_dtype

WORTH_IT = 0.75
"""Compress a dense request when it needs at most this fraction of the dense
directions: the gathers that decompress cost about what the dense
layout's transposes do, so any real saving of sweeps pays."""


PATTERN_BUDGET = 1 << 24
"""Most 64-bit words of dependence bitsets (elements of the function's
values times ceil(columns / 64)) the cost model computes a pattern over
for a dense request; beyond it the request stays dense."""


class PatternMismatch(Exception):
    """A sparse request typed with another number of nonzeros than its
    derivative's pattern has."""


def pattern_affordable(fn: func.FuncOp, columns: int) -> bool:
    """Whether computing `fn`'s dependence pattern over `columns` inputs
    stays within PATTERN_BUDGET."""
    words = -(-columns // 64)
    elements = 0
    for op in fn.walk():
        for r in op.results:
            if isinstance(r.type, TensorType):
                elements += prod(r.type.get_shape())
    return elements * words <= PATTERN_BUDGET


@dataclass(frozen=True)
class Plan:
    """A coloring of `pattern` for one kind of compression: `count` colors,
    and for each nonzero (CSR order) its flat index into the compressed
    matrix as the batched sweep returns it, direction-major: (C, L) with L
    the rows of J for "columns", its columns for "rows", n for "symmetric"."""

    kind: str
    pattern: Pattern
    colors: np.ndarray
    count: int
    index: np.ndarray

    @property
    def width(self) -> int:
        """L: the length of one compressed direction."""
        m, n = self.pattern.shape
        return n if self.kind != "columns" else m


def compression_plan(kind: str, pattern: Pattern) -> Plan:
    """The coloring of `pattern` for `kind` (see the module docstring)."""
    rows, cols, (m, n) = pattern.rows, pattern.cols, pattern.shape
    if kind == "columns":
        colors = coloring.color_columns(rows, cols, (m, n))
        count = _count(colors)
        return Plan(kind, pattern, colors, count, colors[cols] * m + rows)
    if kind == "rows":
        colors = coloring.color_rows(rows, cols, (m, n))
        count = _count(colors)
        return Plan(kind, pattern, colors, count, colors[rows] * n + cols)
    assert kind == "symmetric" and m == n, (kind, pattern.shape)
    star = coloring.star_coloring(rows, cols, n)
    columns = coloring.color_columns(rows, cols, (n, n))
    if _count(columns) < _count(star):  # direct recovery from B = H S, column by column
        return Plan(kind, pattern, columns, _count(columns), columns[cols] * n + rows)
    count = _count(star)
    flat = coloring.star_recovery(rows, cols, n, star)  # into B (n, C), row-major
    return Plan(kind, pattern, star, count, (flat % max(count, 1)) * n + flat // max(count, 1))


def _count(colors: np.ndarray) -> int:
    return int(colors.max()) + 1 if colors.size else 0


def may_pay(kind: str, pattern: Pattern, dense_directions: int) -> bool:
    """False when no coloring of `pattern` can save enough sweeps, so the
    cost model need not color it: a row (column) with more nonzeros than
    WORTH_IT of the directions needs that many column (row) colors; a
    symmetric pattern more than half full is taken as dense (a heuristic:
    an arrow, n colors by columns, needs 2 by a star coloring, but it is
    3n entries, not n^2 / 2)."""
    rows, cols, (m, n) = pattern
    if rows.size == 0:
        return True
    if kind == "symmetric":
        return rows.size <= 0.5 * n * n
    counts = np.bincount(rows if kind == "columns" else cols)
    return counts.max() <= WORTH_IT * dense_directions


def worth_it(plan: Plan, dense_directions: int) -> bool:
    """The cost model for a dense request: compress when the colors save at
    least a quarter of the dense sweep's directions."""
    return plan.count <= WORTH_IT * dense_directions


def seed_constants(e: Emitter, plan: Plan, types: Sequence[Attribute]) -> list[SSAValue]:
    """For the values of `types` (the wrt arguments for "columns" and
    "symmetric", the outputs for "rows"), in order: a constant of shape
    (C, *shape) holding S^T, direction c selecting the elements of color c."""
    values, offset = [], 0
    for typ in types:
        shape = shape_of(typ)
        size = prod(shape)
        data = np.zeros((plan.count, size), dtype=numpy_dtype(element_of(typ)))
        data[plan.colors[offset : offset + size], np.arange(size)] = 1
        seed = e.constant(data.reshape((plan.count, *shape)))
        seed.owner.attributes[SEED_ATTR] = UnitAttr()
        values.append(seed)
        offset += size
    return values


def _flat_compressed(e: Emitter, plan: Plan, parts: Sequence[SSAValue], element: Attribute) -> SSAValue:
    """The sweep's results (each (C, *shape)) as one vector: row c of B^T is
    parts' elements of direction c, in order, then one trailing zero (the
    entry every structural zero reads)."""
    rows = [e.convert(e.reshape(p, [plan.count, prod(shape_of(p)[1:])]), element) for p in parts]
    joined = rows[0] if len(rows) == 1 else e.concatenate(rows, 1)
    flat = e.reshape(joined, [plan.count * plan.width])
    zero = e.full(TensorType(element, [1]), 0.0)
    return e.concatenate([flat, zero], 0)


def _widest(types: Sequence[Attribute]) -> Attribute:
    return max((element_of(t) for t in types), key=lambda el: el.bitwidth)


def decompress_values(e: Emitter, plan: Plan, parts: Sequence[SSAValue], element: Attribute) -> SSAValue:
    """The nonzeros of the derivative in CSR order, a vector of `element`."""
    flat = _flat_compressed(e, plan, parts, element)
    return e.gather(flat, [0], plan.index.reshape(-1, 1))


def decompress_blocks(
    e: Emitter,
    plan: Plan,
    parts: Sequence[SSAValue],
    row_shapes: Sequence[Sequence[int]],
    col_shapes: Sequence[Sequence[int]],
    elements: Sequence[Attribute],
) -> list[SSAValue]:
    """The dense blocks, row block outer: block (a, b) of shape
    row_shapes[a] + col_shapes[b] and element type elements[a]. A block at
    most half full is zeros with its nonzeros scattered in (it writes each
    element once and reads only the nonzeros); a fuller one is one gather
    over all its elements (the zeros read the trailing zero)."""
    widest = _widest([p.type for p in parts])
    flat = _flat_compressed(e, plan, parts, widest)
    m, n = plan.pattern.shape
    rows, cols = plan.pattern.rows, plan.pattern.cols
    blocks, r0 = [], 0
    for rshape, element in zip(row_shapes, elements):
        r1, c0 = r0 + prod(rshape), 0
        for cshape in col_shapes:
            c1 = c0 + prod(cshape)
            size = (r1 - r0) * (c1 - c0)
            inside = np.flatnonzero((rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1))
            where = (rows[inside] - r0) * (c1 - c0) + (cols[inside] - c0)
            if inside.size == 0:  # a block of structural zeros
                block = e.full(TensorType(widest, [*rshape, *cshape]), 0.0)
            elif 2 * inside.size <= size:
                values = e.gather(flat, [0], plan.index[inside].reshape(-1, 1))
                zeros = e.full(TensorType(widest, [size]), 0.0)
                table = e.constant(where.astype(np.int32).reshape(-1, 1))
                block = e.reshape(e.scatter(zeros, table, values, [0], "set", "clip"), [*rshape, *cshape])
            else:
                table = np.full(size, plan.count * plan.width, dtype=np.int64)
                table[where] = plan.index[inside]
                block = e.gather(flat, [0], table.reshape((*rshape, *cshape, 1)))
            blocks.append(e.convert(block, element))
            c0 = c1
        r0 = r1
    return blocks


__all__ = ["PATTERN_BUDGET", "WORTH_IT", "PatternMismatch", "Plan", "compression_plan", "decompress_blocks",
           "decompress_values", "may_pay", "pattern_affordable", "seed_constants", "worth_it"]
