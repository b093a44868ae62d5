"""Choosing how to accumulate a Jacobian (mode "auto"): the linearized
graph, a multiplication-count cost model, the candidate strategies, and the
emitter of the chosen one.

    extract_graph(ops, wrt_values, outputs) -> Graph | str (why not)
    candidates(graph) -> Plan                 every strategy's count, the best
    bracketing / chain_split / matrix_chain  the split strategy's DP
    markowitz / search / vertex_elimination  elimination orders and counts
    scalar_graph(graph)                      the element-level graph
    pure_mode_count(graph, mode, directions) fwd or rev as the simplified code runs it
    jacauto_function(module, f, wrt)         @f_jacauto_w0: (x...) -> (J...)
    hessauto_function(module, f, wrt)        @f_hessauto_w0: (x...) -> (H...)
    jacobian_strategies(module)              the choices, for gradc.lower

Expects: what jacobian.py's jacfwd_function expects of `f`.

Guarantees: the generated function returns what jacfwd_function would
(same types, same values up to rounding) and carries `gradc.strategy` (the
emitted strategy), `gradc.cheapest` (the cheapest candidate on paper,
emittable or not) and `gradc.candidates` (every candidate's estimated
multiplications, derivative part only: the primal sweep is common to all).
The emitted strategy is pure forward, pure reverse, a split of the program
at separating values (segments by forward or reverse mode or in closed
form, multiplied in the cheapest bracketing), for scalar code
element-level vertex elimination in the searched order, or, when every
local Jacobian is small, block-level vertex elimination in the searched
order; it never costs more than the cheaper pure mode by the model, and
a split or an elimination is kept only if its simplified code has no
more multiplications than the better pure mode's (a block elimination:
strictly fewer; fwd/rev ties, and requests without a cost model, are
decided by the simplified code too; functions with custom rules
excepted). Markowitz orders are counted, not emitted. The Hessian function of mode "auto"
returns what hessian_function would and carries the same attributes: the
candidates fwd-over-rev, rev-over-rev, rev-over-fwd and edge-pushing
(where each applies), counted by the
multiplications of their simplified array code, primal included. The graph, the cost model
and the search: docs/differentiation.md, "Mode auto".
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from math import prod
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, TensorType, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.dialects.autodiff import CustomDerivativeOp, DerivativeRequestOp, jacobian_type
from gradc.passes.autodiff.jacobian import hessian_function, jacfwd_function, jacrev_function, sweep_directions
from gradc.passes.autodiff.rules import JVP_RULES
from gradc.passes.autodiff.emitter import Emitter, element_of, is_differentiable, shape_of
from gradc.passes.autodiff.transform import (
    add_function,
    arg_names,
    copy_body,
    derived_name,
    erase_dead_ops,
    jvp_function,
    lookup_function,
    reusable_function,
)
from gradc.support.dense import numpy_dtype

# ---------------------------------------------------------------------------
# The linearized graph
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Local:
    """A local Jacobian block, rows x cols, with `nnz` structural nonzeros;
    `free` when applying it takes no multiplication (index maps, sums,
    additions)."""

    rows: int
    cols: int
    nnz: int
    free: bool

    @property
    def sweep(self) -> int:
        """Multiplications to push one direction through it."""
        return 0 if self.free else self.nnz


@dataclass
class Graph:
    """Vertices are array values (their element counts in `sizes`); edge
    (u, v) is the local Jacobian of v with respect to u. Inputs are sources
    (the differentiated arguments, in order), outputs sinks (one copy vertex
    per returned value); vertices lie in a topological order."""

    sizes: list[int]
    edges: dict[tuple[int, int], Local]
    inputs: list[int]
    outputs: list[int]
    values: list[SSAValue | None]
    ops: dict[tuple[int, int], Operation]

    def preds(self, v: int) -> list[int]:
        return [u for (u, w) in self.edges if w == v]

    def sweep(self) -> int:
        """Multiplications of one JVP (or VJP) sweep over all edges."""
        return sum(e.sweep for e in self.edges.values())


_ONE_PER_ROW = (
    array.ReshapeOp,
    array.TransposeOp,
    array.MirrorOp,
    array.SliceOp,
    array.BroadcastOp,
    array.ConvertOp,
    array.NegOp,
    array.AddOp,
    array.SubOp,
    array.SelectOp,
    array.GatherOp,
)
"""Index maps and signed copies: one 1 (or -1) per row, no multiplication."""
_ONE_PER_COLUMN = (array.ConcatenateOp, array.ReduceSumOp)
"""Placements and sums: one 1 per column, no multiplication."""

_ZERO_OPS = (array.StopGradientOp, array.RoundingOp, array.CompareOp, array.ConstantOp)
"""Ops whose results carry no derivative."""


def _local(op: Operation, operand: SSAValue, result: SSAValue) -> Local | str:
    """The local Jacobian of `result` with respect to `operand`, or why the
    cost model has none."""
    rows, cols = prod(shape_of(result)), prod(shape_of(operand))
    if isinstance(op, _ONE_PER_ROW):
        return Local(rows, cols, rows, True)
    if isinstance(op, _ONE_PER_COLUMN):
        return Local(rows, cols, cols, True)
    if isinstance(op, array.UnaryOp | array.BinaryOp):
        return Local(rows, cols, rows, False)
    if isinstance(op, array.ReduceMaxOp):
        return Local(rows, cols, cols, False)
    if isinstance(op, array.MatmulOp):
        a, b = shape_of(op.lhs), shape_of(op.rhs)
        nnz = prod(a[:-2]) * a[-2] * a[-1] * b[-1]
        return Local(rows, cols, min(nnz, rows * cols), False)
    return f"no cost rule for '{op.name}'"


def extract_graph(
    ops: Sequence[Operation], wrt: Sequence[SSAValue], outputs: Sequence[SSAValue]
) -> Graph | str:
    """The linearized graph of straight-line `ops` (in order) from `wrt` to
    `outputs`, pruned to the vertices on some path between them; or why it
    cannot be built (an op with regions or without a cost rule)."""
    index: dict[SSAValue, int] = {}
    sizes: list[int] = []
    values: list[SSAValue | None] = []
    edges: dict[tuple[int, int], Local] = {}
    producers: dict[tuple[int, int], Operation] = {}

    def vertex(value: SSAValue | None, size: int) -> int:
        sizes.append(size)
        values.append(value)
        if value is not None:
            index[value] = len(sizes) - 1
        return len(sizes) - 1

    inputs = [vertex(v, prod(shape_of(v))) for v in wrt]
    for op in ops:
        active = [o for o in op.operands if o in index]
        if not active or isinstance(op, (*_ZERO_OPS, func.ReturnOp)):
            continue
        if op.regions or len(op.results) != 1:
            return f"'{op.name}' is not straight-line single-result code"
        result = op.results[0]
        if not is_differentiable(result):
            continue
        v = vertex(result, prod(shape_of(result)))
        for operand in active:
            local = _local(op, operand, result)
            if isinstance(local, str):
                return local
            key = (index[operand], v)
            edges[key] = _sum(edges[key], local) if key in edges else local
            producers[key] = op
    sinks = []
    for out in outputs:
        sink = vertex(None, prod(shape_of(out)))
        if out in index:
            edges[(index[out], sink)] = Local(sizes[sink], sizes[sink], sizes[sink], True)
        sinks.append(sink)
    return _pruned(Graph(sizes, edges, inputs, sinks, values, producers))


def _pruned(g: Graph) -> Graph:
    """`g` without edges that are on no input-to-output path."""
    forward, backward = set(g.inputs), set(g.outputs)
    for u, v in sorted(g.edges):
        if u in forward:
            forward.add(v)
    for u, v in sorted(g.edges, key=lambda e: -e[1]):
        if v in backward:
            backward.add(u)
    keep = forward & backward
    g.edges = {k: e for k, e in g.edges.items() if k[0] in keep and k[1] in keep}
    return g


# ---------------------------------------------------------------------------
# Products and sums of local Jacobians
# ---------------------------------------------------------------------------


def _sum(a: Local, b: Local) -> Local:
    return Local(a.rows, a.cols, min(a.rows * a.cols, a.nnz + b.nnz), a.free and b.free)


def product(later: Local, earlier: Local) -> tuple[int, Local]:
    """(multiplications, result) of later @ earlier, nonzeros spread
    uniformly over the shared dimension: nnz(later) * nnz(earlier) / inner
    products, none when either factor is free."""
    inner = max(earlier.rows, 1)
    terms = -(-later.nnz * earlier.nnz // inner)
    nnz = min(later.rows * earlier.cols, max(terms, 0))
    free = later.free and earlier.free
    cost = 0 if (later.free or earlier.free) else terms
    return cost, Local(later.rows, earlier.cols, nnz, free)


# ---------------------------------------------------------------------------
# Vertex elimination
# ---------------------------------------------------------------------------


def _intermediates(g: Graph) -> list[int]:
    ends = set(g.inputs) | set(g.outputs)
    used = {u for u, _ in g.edges} | {v for _, v in g.edges}
    return sorted(used - ends)


class _Adjacency:
    """The edges of a graph being eliminated, by head and by tail."""

    def __init__(self, edges: dict[tuple[int, int], Local]):
        self.into: dict[int, dict[int, Local]] = {}
        self.out: dict[int, dict[int, Local]] = {}
        for (u, v), e in edges.items():
            self.add(u, v, e)

    def add(self, u: int, v: int, e: Local) -> None:
        old = self.out.setdefault(u, {}).get(v)
        made = e if old is None else _sum(old, e)
        self.out[u][v] = made
        self.into.setdefault(v, {})[u] = made

    def copy(self) -> _Adjacency:
        new = _Adjacency({})
        new.into = {v: dict(d) for v, d in self.into.items()}
        new.out = {u: dict(d) for u, d in self.out.items()}
        return new

    def cost(self, v: int) -> int:
        """Multiplications of eliminating `v`."""
        return sum(
            product(b, a)[0] for a in self.into.get(v, {}).values() for b in self.out.get(v, {}).values()
        )

    def eliminate(self, v: int) -> int:
        """Eliminate `v` in place; its multiplications."""
        preds, succs = self.into.pop(v, {}), self.out.pop(v, {})
        cost = 0
        for u, a in preds.items():
            del self.out[u][v]
            for w, b in succs.items():
                c, made = product(b, a)
                cost += c
                self.add(u, w, made)
        for w in succs:
            del self.into[w][v]
        return cost


def vertex_elimination(g: Graph, order: Sequence[int]) -> int:
    """Multiplications of eliminating the intermediates of `g` in `order`."""
    edges = _Adjacency(g.edges)
    return sum(edges.eliminate(v) for v in order)


def markowitz(g: Graph, rng: random.Random | None = None, by_cost: bool = False) -> tuple[int, list[int]]:
    """Greedy vertex elimination, (cost, order): always the vertex of the
    smallest Markowitz degree (predecessors x successors), or with
    `by_cost` the one whose elimination costs the fewest multiplications;
    ties go to the cheaper, then the first vertex or, with `rng`, the one
    of a random rank. Keys are updated for the neighbours of each
    eliminated vertex only."""
    edges, left, total, order = _Adjacency(g.edges), set(_intermediates(g)), 0, []
    rank = {v: rng.random() if rng is not None else v for v in left}

    def key(v: int) -> tuple:
        cost = edges.cost(v)
        if by_cost:
            return (cost, rank[v])
        return (len(edges.into.get(v, {})) * len(edges.out.get(v, {})), cost, rank[v])

    keys = {v: key(v) for v in left}
    while left:
        v = min(left, key=keys.__getitem__)
        touched = set(edges.into.get(v, {})) | set(edges.out.get(v, {}))
        total += edges.eliminate(v)
        left.remove(v)
        order.append(v)
        for u in touched & left:
            keys[u] = key(u)
    return total, order


SEARCH_BEAM = 4
"""Beam width of the elimination-order search."""
SEARCH_RESTARTS = 8
"""Randomized greedy restarts after the beam."""
SEARCH_MAX_VERTICES = 60
"""Graphs with more intermediates get the greedy orders only (each beam
step prices every remaining vertex of every beam entry)."""
ELIMINATION_MAX_VERTICES = 250
"""Graphs with more intermediates get no elimination count at all (the
greedy orders are quadratic in them)."""
MAX_CUTS = 64
"""A split considers at most this many cuts (the narrowest, and the
input and output): the DP is cubic in them."""


def search(g: Graph, seed: int = 0) -> tuple[int, list[int]]:
    """A bounded search over elimination orders: Markowitz, the cheapest
    vertex first, forward and reverse elimination, a beam of SEARCH_BEAM partial orders ranked by their
    multiplications so far, then SEARCH_RESTARTS runs of both greedy rules
    with random tie-breaking; the best (cost, order), never worse than
    Markowitz."""
    best = min(markowitz(g), markowitz(g, by_cost=True))
    inner = _intermediates(g)
    for order in (inner, inner[::-1]):  # forward and reverse elimination
        best = min(best, (vertex_elimination(g, order), order))
    left0 = frozenset(inner)
    if len(left0) > SEARCH_MAX_VERTICES:
        return best
    beam: list[tuple[int, list[int], _Adjacency, frozenset[int]]] = [(0, [], _Adjacency(g.edges), left0)]
    while beam[0][3]:
        grown = [
            (cost + edges.cost(v), v, k)
            for k, (cost, _, edges, left) in enumerate(beam)
            for v in sorted(left)
        ]
        grown.sort()
        step = []
        for cost, v, k in grown[:SEARCH_BEAM]:
            _, order, edges, left = beam[k]
            new = edges.copy()
            new.eliminate(v)
            step.append((cost, [*order, v], new, left - {v}))
        beam = step
    best = min(best, (beam[0][0], beam[0][1]))
    rng = random.Random(seed)
    for k in range(SEARCH_RESTARTS):
        best = min(best, markowitz(g, rng, by_cost=k % 2 == 1))
    return best


# ---------------------------------------------------------------------------
# Splits of a chain: segments by fwd or rev, multiplied in the best order
# ---------------------------------------------------------------------------


def cuts(g: Graph) -> list[int] | None:
    """The separating vertices of a one-input one-output graph, from the
    input to the returned value (the sink's one predecessor), in order:
    every input-to-output path passes each one. None when there is not
    exactly one input and one output."""
    if len(g.inputs) != 1 or len(g.outputs) != 1 or not g.edges:
        return None
    used = sorted({u for u, _ in g.edges} | {v for _, v in g.edges})
    position = {v: k for k, v in enumerate(used)}
    spanned = [0] * (len(used) + 1)
    for u, v in g.edges:
        spanned[position[u] + 1] += 1
        spanned[position[v]] -= 1
    found, open_edges = [], 0
    for k, v in enumerate(used):
        open_edges += spanned[k]
        if open_edges == 0:
            found.append(v)
    return found[:-1]


def segment_sweep(g: Graph, start: int, stop: int) -> int:
    """One sweep's multiplications over the edges between cuts `start` and
    `stop` (vertex numbers)."""
    return sum(e.sweep for (u, v), e in g.edges.items() if start <= u and v <= stop)


# ---------------------------------------------------------------------------
# Pure modes as emitted: the seed fold and fused diagonal chains
# ---------------------------------------------------------------------------


def _weight_product(g: Graph, key: tuple[int, int]) -> bool:
    """Whether edge `key` is W @ x with x a column or x @ W with x a row,
    x the edge's tail: its Jacobian is W itself, and an identity (or 0/1
    colored) seed times it folds into W or a gather of its rows
    (array-simplify's FoldSeedProducts): no multiplication."""
    op = g.ops.get(key)
    if not isinstance(op, array.MatmulOp) or op.lhs is op.rhs:
        return False
    value = g.values[key[0]]
    a, b = shape_of(op.lhs), shape_of(op.rhs)
    return len(a) == 2 and len(b) == 2 and ((op.rhs is value and b[1] == 1) or (op.lhs is value and a[0] == 1))


def _relabels(g: Graph, key: tuple[int, int]) -> bool:
    """Whether edge `key` only reorders elements (a reshape, a transpose,
    the copy into a sink): a seed stays a seed through it."""
    return key[1] in g.outputs or isinstance(g.ops.get(key), array.ReshapeOp | array.TransposeOp)


def seed_folds(g: Graph, vertex: int, mode: str) -> int:
    """Multiplications per direction that the seed fold saves when `mode`
    ("fwd" or "rev") seeds `vertex` with the identity: the weight products
    (_weight_product) leaving it in fwd (entering it in rev), through
    reshapes and transposes that are the only use (fwd: the only
    definition) of what they pass on."""
    succs: dict[int, list[int]] = {}
    preds: dict[int, list[int]] = {}
    for u, v in g.edges:
        succs.setdefault(u, []).append(v)
        preds.setdefault(v, []).append(u)
    saved, seen, work = 0, {vertex}, [vertex]
    while work:
        v = work.pop()
        if mode == "fwd":
            nexts = [(v, w) for w in succs.get(v, [])]
            relabeled = [k for k in nexts if _relabels(g, k) and len(preds[k[1]]) == 1]
        else:
            nexts = [(u, v) for u in preds.get(v, [])]
            relabeled = [k for k in nexts if len(succs[k[0]]) == 1 and _relabels(g, k)]
        saved += sum(g.edges[k].nnz for k in nexts if _weight_product(g, k))
        for k in relabeled:
            nxt = k[1] if mode == "fwd" else k[0]
            if nxt not in seen:
                seen.add(nxt)
                work.append(nxt)
    return saved


def _diagonal(g: Graph, key: tuple[int, int]) -> bool:
    """Whether edge `key` is an elementwise op's non-free diagonal."""
    e = g.edges[key]
    return not e.free and e.rows == e.cols == e.nnz and isinstance(g.ops.get(key), array.UnaryOp | array.BinaryOp)


def fused_diagonals(g: Graph, mode: str, directions: int) -> tuple[int, int]:
    """(multiplications saved per direction, multiplications added once)
    by factor-broadcasts on `mode`'s sweep: in fwd, a vertex whose one
    in-edge and every out-edge are elementwise diagonals never has its
    tangent built: each out-edge scales the predecessor's tangent by the
    product of the two diagonals, formed once on the vectors (rev: the
    mirror image, one out-edge, every in-edge diagonal). Counted only
    where it pays (`directions` more than the edges it multiplies into)."""
    succs: dict[int, list[tuple[int, int]]] = {}
    preds: dict[int, list[tuple[int, int]]] = {}
    for u, v in g.edges:
        succs.setdefault(u, []).append((u, v))
        preds.setdefault(v, []).append((u, v))
    saved = once = 0
    for v in _intermediates(g):
        one, many = (preds.get(v, []), succs.get(v, [])) if mode == "fwd" else (succs.get(v, []), preds.get(v, []))
        if len(one) != 1 or not many or not _diagonal(g, one[0]) or not all(_diagonal(g, k) for k in many):
            continue
        n = g.edges[one[0]].nnz
        if directions > len(many):
            saved += n
            once += n * len(many)
    return saved, once


def pure_mode_count(g: Graph, mode: str, directions: int) -> int:
    """Multiplications of `mode` ("fwd" or "rev") pushing `directions`
    seeded directions through `g`, as the simplified code does them:
    directions x (one sweep - the seed folds at the inputs (outputs) -
    the fused diagonals) + the fused diagonals' products."""
    ends = g.inputs if mode == "fwd" else g.outputs
    saved, once = fused_diagonals(g, mode, directions)
    folded = sum(seed_folds(g, v, mode) for v in ends)
    return directions * (g.sweep() - folded - saved) + once


@dataclass(frozen=True)
class Split:
    """A bracketing of segments: a leaf (lo, hi, mode) or a product
    (later, earlier); lo/hi index the cut list. `kind` is the form of its
    Jacobian: "id" (an identity), "diag" (a vector of the diagonal) or
    "dense" (a matrix). `cost` counts everything below it."""

    cost: int
    lo: int
    hi: int
    kind: str
    mode: str = ""
    later: Split | None = None
    earlier: Split | None = None

    def __str__(self) -> str:
        if self.later is None or self.earlier is None:
            return f"{self.mode}[{self.lo}:{self.hi}]"
        if self.later.mode == "id":  # reshapes are not worth naming
            return str(self.earlier)
        if self.earlier.mode == "id":
            return str(self.later)
        return f"({self.later} * {self.earlier})"


Leaf = Callable[[int, int], Sequence[tuple[int, str, str]]]
"""(i, j) -> the ways to form the block from cut i to cut j directly, each
(multiplications, mode, kind)."""


def product_cost(later: str, earlier: str, p: int, q: int, r: int) -> tuple[int, str]:
    """(multiplications, kind) of a p x q block of kind `later` times a
    q x r block of kind `earlier`."""
    if later == "id":
        return 0, earlier
    if earlier == "id":
        return 0, later
    if later == "diag" and earlier == "diag":
        return q, "diag"
    if later == "diag":
        return q * r, "dense"
    if earlier == "diag":
        return p * q, "dense"
    return p * q * r, "dense"


def materialize_cost(kind: str, n: int) -> int:
    """Multiplications to turn an n x n block of `kind` into a matrix."""
    return n * n if kind == "diag" else 0


def bracketing(sizes: Sequence[int], leaf: Leaf) -> Split:
    """The cheapest product of a chain with cut sizes `sizes` (k + 1 of
    them): the block from cut i to cut j is either a leaf (`leaf(i, j)`) or
    the product of blocks (k, j) and (i, k) (`product_cost`); an interval
    DP (the matrix-chain problem) keeping the best block of each kind;
    the result is a matrix (`materialize_cost` added). Ties go to a leaf,
    then to the leftmost k."""
    n = len(sizes) - 1

    @cache
    def best(i: int, j: int) -> dict[str, Split]:
        found: dict[str, Split] = {}

        def offer(s: Split) -> None:
            if s.kind not in found or s.cost < found[s.kind].cost:
                found[s.kind] = s

        for cost, mode, kind in leaf(i, j):
            offer(Split(cost, i, j, kind, mode))
        for k in range(i + 1, j):
            for left in best(k, j).values():
                for right in best(i, k).values():
                    cost, kind = product_cost(left.kind, right.kind, sizes[j], sizes[k], sizes[i])
                    offer(Split(left.cost + right.cost + cost, i, j, kind, later=left, earlier=right))
        return found

    options = best(0, n)
    assert options, "bracketing: no leaf covers the chain"
    whole = [replace(s, cost=s.cost + materialize_cost(s.kind, sizes[0])) for s in options.values()]
    return min(whole, key=lambda s: s.cost)


def chain_split(
    sizes: Sequence[int],
    sweeps: Sequence[Sequence[int]],
    closed: Leaf | None = None,
    folds: tuple[Sequence[int], Sequence[int]] | None = None,
) -> Split:
    """The cheapest split of a chain whose segment from cut i to cut j
    costs sweeps[i][j] multiplications per direction: each segment by
    forward (sizes[i] directions) or reverse (sizes[j] directions), or in
    closed form where `closed(i, j)` offers one. `folds`: per cut, the
    multiplications per direction the seed fold saves a segment starting
    (fwd) or ending (rev) there (seed_folds)."""
    start, stop = folds or ([0] * len(sizes), [0] * len(sizes))

    def leaf(i: int, j: int) -> list[tuple[int, str, str]]:
        fwd = sizes[i] * max(sweeps[i][j] - start[i], 0)
        rev = sizes[j] * max(sweeps[i][j] - stop[j], 0)
        options = [(fwd, "fwd", "dense") if fwd <= rev else (rev, "rev", "dense")]
        return [*options, *(closed(i, j) if closed else [])]

    return bracketing(sizes, leaf)


def matrix_chain(dims: Sequence[int]) -> tuple[int, str]:
    """The classic matrix-chain order for A_n ... A_1, A_k of shape
    dims[k] x dims[k-1]: (multiplications, bracketing such as
    "(A3)((A2)(A1))")."""
    split = bracketing(dims, lambda i, j: [(0, "A", "dense")] if j == i + 1 else [])

    def show(s: Split) -> str:
        if s.later is None or s.earlier is None:
            return f"A{s.hi}"
        return f"({show(s.later)})({show(s.earlier)})"

    return split.cost, show(split)


def _behind_reshapes(value: SSAValue) -> SSAValue:
    """`value`, or what the reshapes that made it started from."""
    while isinstance(value.owner, array.ReshapeOp):
        value = value.owner.input
    return value


def _single_op(g: Graph, start: int, stop: int) -> tuple[int, int] | None:
    """The one non-free edge of the segment from `start` to `stop` when
    the segment is a path of reshapes around one op (or None); (start,
    stop) itself for a path of reshapes only."""
    inside = sorted(k for k in g.edges if start <= k[0] and k[1] <= stop)
    if [u for u, _ in inside] != [start, *(v for _, v in inside[:-1])] or inside[-1][1] != stop:
        return None
    other = [k for k in inside if not isinstance(g.ops[k], array.ReshapeOp)]
    if not other:
        return (start, stop)
    return other[0] if len(other) == 1 else None


def _reshaped(g: Graph, start: int, stop: int) -> bool:
    """Whether vertex `stop` is a reshape of `start`."""
    op = g.ops.get((start, stop))
    return isinstance(op, array.ReshapeOp) and len(g.preds(stop)) == 1


def closed_form(g: Graph, start: int, stop: int) -> list[tuple[int, str, str]]:
    """The closed forms of the segment from vertex `start` to `stop` when
    it is one op, reshapes around it allowed (a reshape keeps the
    row-major order of the elements): reshapes alone are the identity
    ("id", free), an elementwise op its diagonal ("diag", one sweep: the
    JVP of ones), W @ x or x @ W with x a column or row vector the weight
    matrix ("weight", free)."""
    found = _single_op(g, start, stop)
    if found is None:
        return []
    op, edge = g.ops[found], g.edges[found]
    if isinstance(op, array.ReshapeOp):
        return [(0, "id", "id")]
    if isinstance(op, array.UnaryOp | array.BinaryOp):
        return [(edge.nnz, "diag", "diag")]
    if _weight_product(g, found):
        return [(0, "weight", "dense")]
    return []


# ---------------------------------------------------------------------------
# Scalar programs: vertex elimination at element level
# ---------------------------------------------------------------------------


@dataclass
class ScalarGraph:
    """A graph whose vertices are all scalars: the input's elements as
    sources (picked by slices), the output's as sinks (placed by one
    concatenate); `signs` holds the constant partials (+1 or -1) of the
    free edges, the others are computed by the ops' JVP rules."""

    graph: Graph
    signs: dict[tuple[int, int], int]


def _sign(op: Operation, operand: SSAValue) -> int | None:
    """The constant partial of a free scalar op, None if it has none."""
    if sum(o is operand for o in op.operands) != 1:
        return None
    if isinstance(op, array.NegOp):
        return -1
    if isinstance(op, array.SubOp):
        return -1 if op.rhs is operand else 1
    if isinstance(op, array.AddOp | array.ReshapeOp | array.TransposeOp | array.BroadcastOp | array.SliceOp):
        return 1
    if isinstance(op, array.ReduceSumOp | array.ConcatenateOp):
        return 1
    return None


def scalar_graph(g: Graph) -> ScalarGraph | None:
    """`g` at element level when it is one: one input whose uses are
    slices of one element (or a scalar), one output that is a scalar or the
    concatenation of scalars, every other value a scalar; else None."""
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        return None
    x, sink = g.inputs[0], g.outputs[0]
    into_sink = [u for (u, v) in g.edges if v == sink]
    if len(into_sink) != 1 or into_sink[0] == x:
        return None
    y = into_sink[0]
    n, m = g.sizes[x], g.sizes[sink]
    base = len(g.sizes)
    sources = [x] if n == 1 else [base + k for k in range(n)]
    sinks = [base + n + i for i in range(m)]
    sizes = [*g.sizes, *([1] * (n + m))]
    values = [*g.values, *([None] * (n + m))]
    edges: dict[tuple[int, int], Local] = {}
    ops: dict[tuple[int, int], Operation] = {}
    signs: dict[tuple[int, int], int] = {}
    one = Local(1, 1, 1, True)
    if g.sizes[y] == 1:
        edges[(y, sinks[0])], signs[(y, sinks[0])] = one, 1
    for (u, v), local in g.edges.items():
        if v == sink:
            continue
        op, operand = g.ops[(u, v)], g.values[u]
        if u == x and n > 1:
            if not isinstance(op, array.SliceOp) or g.sizes[v] != 1:
                return None
            k = int(np.ravel_multi_index([b[0] for b in op.bounds], shape_of(operand)))
            edges[(sources[k], v)], signs[(sources[k], v)] = one, 1
            continue
        if v == y and g.sizes[y] > 1:
            if not isinstance(op, array.ConcatenateOp) or g.sizes[u] != 1:
                return None
            for j, o in enumerate(op.operands):
                if o is operand:
                    edges[(u, sinks[j])], signs[(u, sinks[j])] = one, 1
            continue
        if g.sizes[u] != 1 or g.sizes[v] != 1:
            return None
        ops[(u, v)] = op
        if local.free:
            sign = _sign(op, operand)
            if sign is None:
                return None
            edges[(u, v)], signs[(u, v)] = one, sign
        elif isinstance(op, array.UnaryOp | array.BinaryOp):
            edges[(u, v)] = Local(1, 1, 1, False)
        else:
            return None
    return ScalarGraph(Graph(sizes, edges, sources, sinks, values, ops), signs)


# ---------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------


@dataclass
class Plan:
    """The candidates' multiplication counts; `split` is the emittable
    bracketing when the graph is a chain (None otherwise), `scalar` and
    `order` the element-level graph and its elimination order when that is
    chosen; `chosen` the emitted strategy's name."""

    counts: dict[str, int]
    split: Split | None
    cut_values: list[SSAValue]
    chosen: str
    strategy: str
    scalar: ScalarGraph | None = None
    order: list[int] | None = None


def pure_strategy(mode: str, directions: int, n_in: int, n_out: int) -> str:
    """`mode`, and how many colors it pushes when fewer than its elements."""
    full = n_in if mode == "fwd" else n_out
    return mode + (f" ({directions} color{'s' if directions != 1 else ''})" if directions < full else "")


def candidates(g: Graph, directions: tuple[int, int] | None = None) -> Plan:
    """Every candidate's count and the cheapest emittable one (ties go to
    the simpler strategy: fwd, rev, split, then scalar elimination).
    `directions`: how many directions fwd and rev push (fewer than the
    input and output elements when a coloring compresses them)."""
    n_in = sum(g.sizes[v] for v in g.inputs)
    n_out = sum(g.sizes[v] for v in g.outputs)
    d_fwd, d_rev = directions or (n_in, n_out)
    counts = {"fwd": pure_mode_count(g, "fwd", d_fwd), "rev": pure_mode_count(g, "rev", d_rev)}
    searched: list[int] | None = None
    if len(_intermediates(g)) <= ELIMINATION_MAX_VERTICES:
        counts["markowitz"] = markowitz(g)[0]
        counts["search"], searched = search(g)
    chosen = "fwd" if counts["fwd"] <= counts["rev"] else "rev"
    strategy, split, cut_values = pure_strategy(chosen, d_fwd if chosen == "fwd" else d_rev, n_in, n_out), None, []
    found = cuts(g)
    if found is not None:
        # A cut made by a reshape of the one before it splits nothing.
        found = [v for k, v in enumerate(found) if k in (0, len(found) - 1) or not _reshaped(g, found[k - 1], v)]
    if found is not None and len(found) > MAX_CUTS:
        inner = sorted(found[1:-1], key=lambda v: (g.sizes[v], v))[: MAX_CUTS - 2]
        found = [found[0], *sorted(inner), found[-1]]
    if found is not None and len(found) > 2:
        sizes = [g.sizes[v] for v in found]
        steps = [segment_sweep(g, a, b) for a, b in zip(found, found[1:])]
        prefix = [0, *itertools.accumulate(steps)]
        sweeps = [[prefix[j] - prefix[i] for j in range(len(found))] for i in range(len(found))]
        closed = [closed_form(g, a, b) for a, b in zip(found, found[1:])]
        folds = ([seed_folds(g, v, "fwd") for v in found], [seed_folds(g, v, "rev") for v in found])
        split = chain_split(sizes, sweeps, lambda i, j: closed[i] if j == i + 1 else [], folds)
        counts["split"] = split.cost
        if str(split) != f"{chosen}[0:{len(found) - 1}]" and split.cost < counts[chosen]:
            chosen, strategy = "split", f"split {split}"
            cut_values = [g.values[v] for v in found]
    scalar = scalar_graph(g)
    if scalar is not None and len(_intermediates(scalar.graph)) <= ELIMINATION_MAX_VERTICES:
        cost, order = search(scalar.graph)
        counts["scalar"] = cost
        if cost < counts[chosen]:
            chosen, strategy, split = "scalar", "scalar elimination", None
            return Plan(counts, None, [], chosen, strategy, scalar, order)
    if searched is not None and counts["search"] < counts[chosen] and _blocks_small(g):
        return Plan(counts, None, [], "eliminate", f"block elimination of {len(searched)} vertices", order=searched)
    return Plan(counts, split, cut_values, chosen, strategy)


BLOCK_ELIMINATION_MAX_ELEMENTS = 4096
"""Block elimination is emitted only when every local Jacobian, made a
dense matrix, has at most this many elements (a diagonal one counts its
diagonal): it materializes them."""


def _blocks_small(g: Graph) -> bool:
    return all(
        (edge.rows if _elementwise(g, key) else edge.rows * edge.cols) <= BLOCK_ELIMINATION_MAX_ELEMENTS
        for key, edge in g.edges.items()
    )


def _elementwise(g: Graph, key: tuple[int, int]) -> bool:
    """Whether edge `key` is an elementwise op's diagonal (free or not)."""
    op, (u, v) = g.ops.get(key), key
    return isinstance(op, array.UnaryOp | array.BinaryOp) and g.sizes[u] == g.sizes[v] and (
        shape_of(g.values[u]) == shape_of(op.results[0])
    )


# ---------------------------------------------------------------------------
# The emitter
# ---------------------------------------------------------------------------


def _segment_function(
    module: ModuleOp, name: str, ops: Sequence[Operation], start: SSAValue, stop: SSAValue
) -> tuple[func.FuncOp, list[SSAValue]]:
    """`@<name>`: (start, externals...) -> stop, a copy of the ops of `ops`
    that `stop` depends on, `start` taken as given; and the externals (the
    values those ops use from outside, arguments or ops before them)."""
    needed: set[Operation] = set()
    work = [stop.owner]
    while work:
        op = work.pop()
        if not isinstance(op, Operation) or op in needed:
            continue
        needed.add(op)
        work.extend(o.owner for o in op.operands if o is not start)
    if start.owner in needed:
        needed.discard(start.owner)
    body = [op for op in ops if op in needed]
    produced = {r for op in body for r in op.results}
    externals: list[SSAValue] = []
    for op in body:
        for o in op.operands:
            if o is not start and o not in produced and o not in externals:
                externals.append(o)
    new = add_function(
        module, name, [start.type, *(x.type for x in externals)], [stop.type]
    )
    mapping = dict(zip([start, *externals], new.body.block.args))
    for op in body:
        Rewriter.insert_op(op.clone(value_mapper=mapping), InsertPoint.at_end(new.body.block))
    Rewriter.insert_op(func.ReturnOp(mapping[stop]), InsertPoint.at_end(new.body.block))
    return new, externals


EMITTABLE = ("fwd", "rev", "split", "scalar", "search")
"""The candidates jacauto_function can emit (search: as a block
elimination, when its blocks are small); markowitz is counted only."""


def jacauto_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], compress: str = "never") -> func.FuncOp:
    """`@<f>_jacauto_w...`: the Jacobian by the cheapest candidate (see the
    module docstring); its choice in `gradc.strategy`/`gradc.candidates`.
    fwd and rev are jacfwd_function's and jacrev_function's with
    `compress`: they push as many directions as their coloring has colors
    when compression applies, and are counted so."""
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    types = [jacobian_type(o, ins[j]) for o in outs for j in wrt]
    kind = "jacauto" if compress == "auto" else f"jacauto_{compress}"
    found, name = reusable_function(module, derived_name(fn, kind, wrt), ins, types)
    if found is not None:
        return found
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    args = list(new.body.block.args)
    results = copy_body(module, fn, args, e.point)
    ops = list(new.body.block.ops)
    graph = extract_graph(ops, [args[j] for j in wrt], results)
    one_type = len({element_of(t) for t in [*ins, *outs]}) == 1
    if isinstance(graph, str):
        n_in = sum(prod(shape_of(ins[j])) for j in wrt)
        n_out = sum(prod(shape_of(o)) for o in outs)
        plan = Plan({}, None, [], "fwd" if n_in < n_out else "rev", "")  # measured below
        plan.strategy = f"{plan.chosen} (no cost model: {graph})"
    else:
        directions = None
        if compress != "never":
            directions = tuple(sweep_directions(module, fn, wrt, m, compress) for m in ("fwd", "rev"))
        plan = candidates(graph, directions)
    if plan.chosen in ("split", "scalar", "eliminate") and not one_type:
        plan.chosen = "fwd" if plan.counts["fwd"] <= plan.counts["rev"] else "rev"
        plan.strategy = f"{plan.chosen} (a split or an elimination needs one element type)"
    n_in = sum(prod(shape_of(ins[j])) for j in wrt)
    n_out = sum(prod(shape_of(o)) for o in outs)
    if isinstance(graph, str):
        measure, note, counted = True, f"no cost model: {graph}; ", (n_in, n_out)
    else:
        measure = plan.chosen in ("fwd", "rev") and plan.counts["fwd"] == plan.counts["rev"]
        note, counted = "a tie, ", directions or (n_in, n_out)
    if measure and not _has_custom_rules(module, fn):  # a custom_vjp has no forward mode to count
        _measured_choice(module, fn, wrt, compress, plan, counted, (n_in, n_out), note)
    if plan.chosen == "scalar":
        assert plan.scalar is not None and plan.order is not None
        blocks = [e.reshape(_emit_scalar(e, plan.scalar, plan.order), shape_of(types[0]))]
    elif plan.chosen == "eliminate":
        assert not isinstance(graph, str) and plan.order is not None
        blocks = _emit_elimination(module, name, e, graph, plan.order, types)
    elif plan.chosen == "split":
        assert plan.split is not None
        jac = _emit_split(module, name, e, ops, plan.cut_values, plan.split)
        jac = e.reshape(jac, shape_of(types[0]))
        blocks = [jac]
    else:
        make = jacfwd_function if plan.chosen == "fwd" else jacrev_function
        derived = make(module, fn, wrt, compress)
        call = func.CallOp(derived.sym_name.data, args, list(types))
        Rewriter.insert_op(call, e.point)
        blocks = list(call.results)
    Rewriter.insert_op(func.ReturnOp(*blocks), e.point)
    erase_dead_ops(new)
    small = plan.counts and min(plan.counts["fwd"], plan.counts["rev"]) <= CHECK_MAX_MULTIPLICATIONS
    checked = small or plan.chosen == "eliminate"  # the model prices its 0/1 blocks at nothing
    if plan.chosen in ("split", "scalar", "eliminate") and checked and not _has_custom_rules(module, fn):
        _keep_if_no_worse(module, fn, wrt, compress, new, plan)
    new.attributes["gradc.jacobian_of"] = StringAttr(fn.sym_name.data)
    new.attributes["gradc.strategy"] = StringAttr(plan.strategy)
    if plan.counts:
        cheapest = min(plan.counts, key=lambda k: (plan.counts[k], k not in EMITTABLE))
        new.attributes["gradc.cheapest"] = StringAttr(cheapest)
    new.attributes["gradc.candidates"] = DictionaryAttr(
        {k: IntegerAttr(v, i64) for k, v in plan.counts.items()}
    )
    return new


CHECK_MAX_MULTIPLICATIONS = 256
"""A split or scalar elimination is checked against the simplified code
when the better pure mode counts at most this many multiplications: on
small programs the partials' own products, which the model leaves out,
can outweigh its saving; on larger ones the check would cost more
compile time (building and simplifying the pure mode) than it finds."""


def _keep_if_no_worse(
    module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], compress: str, new: func.FuncOp, plan: Plan
) -> None:
    """Keep `new`'s split, scalar or block elimination only if its
    simplified code has no more multiplications than that of the pure mode
    the model prefers (on a tie, the better of the two by their simplified
    code); else make `new` a call of that mode."""
    mine = simplified_multiplications(module, new)
    tie = plan.counts["rev"] == plan.counts["fwd"]
    modes = ("fwd", "rev") if tie else ("rev",) if plan.counts["rev"] < plan.counts["fwd"] else ("fwd",)
    pures = {m: (jacfwd_function if m == "fwd" else jacrev_function)(module, fn, wrt, compress) for m in modes}
    found = {m: simplified_multiplications(module, pure) for m, pure in pures.items()}
    best = min(modes, key=lambda m: (found[m], m != "fwd"))
    pure, theirs = pures[best], found[best]
    if mine < theirs or (mine == theirs and plan.chosen != "eliminate"):  # a tie: the plainer code
        return
    for op in reversed(list(new.body.block.ops)):
        Rewriter.erase_op(op)
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    call = func.CallOp(pure.sym_name.data, list(new.body.block.args), list(new.function_type.outputs.data))
    Rewriter.insert_op(call, e.point)
    Rewriter.insert_op(func.ReturnOp(*call.results), e.point)
    plan.strategy = f"{best} (the {plan.strategy} has {mine} multiplications in the simplified code, {best} {theirs})"
    plan.chosen = best


def _measured_choice(
    module: ModuleOp,
    fn: func.FuncOp,
    wrt: Sequence[int],
    compress: str,
    plan: Plan,
    directions: tuple[int, int],
    sizes: tuple[int, int],
    note: str = "",
) -> None:
    """fwd and rev tie by the model, or there is no model: `plan` takes
    the one with fewer multiplications in its simplified code (what the
    model leaves out: the rules' own products, partial fusions; loops,
    counted per trip), fwd when they tie again; `note` starts the
    strategy's parenthesis."""
    found = {
        mode: simplified_multiplications(module, make(module, fn, wrt, compress))
        for mode, make in (("fwd", jacfwd_function), ("rev", jacrev_function))
    }
    plan.chosen = "rev" if found["rev"] < found["fwd"] else "fwd"
    pure = pure_strategy(plan.chosen, directions[plan.chosen == "rev"], *sizes)
    plan.strategy = f"{pure} ({note}by the simplified code: fwd {found['fwd']}, rev {found['rev']})"


def _emit_split(
    module: ModuleOp, name: str, e: Emitter, ops: Sequence[Operation], cut_values: Sequence[SSAValue], split: Split
) -> SSAValue:
    """The Jacobian of the last cut with respect to the first for `split`,
    as a matrix (rows: output elements)."""
    kind, value = _emit_block(module, name, e, ops, cut_values, split)
    n = prod(shape_of(cut_values[0]))
    if kind == "id":
        return e.constant(np.eye(n, dtype=numpy_dtype(element_of(cut_values[0]))))
    if kind == "diag":
        eye = e.constant(np.eye(n, dtype=numpy_dtype(element_of(cut_values[0]))))
        return e.mul(e.broadcast(value, [0], [n, n]), eye)
    return value


def _emit_block(
    module: ModuleOp, name: str, e: Emitter, ops: Sequence[Operation], cut_values: Sequence[SSAValue], split: Split
) -> tuple[str, SSAValue | None]:
    """(kind, value) of the block of `split`: None for "id", the diagonal
    (a vector) for "diag", a matrix for "dense"."""
    start, stop = cut_values[split.lo], cut_values[split.hi]
    rows, cols = prod(shape_of(stop)), prod(shape_of(start))
    if split.later is not None and split.earlier is not None:
        later = _emit_block(module, name, e, ops, cut_values, split.later)
        earlier = _emit_block(module, name, e, ops, cut_values, split.earlier)
        return _product(e, later, earlier, rows, prod(shape_of(cut_values[split.earlier.hi])), cols)
    if split.mode == "id":
        return "id", None
    if split.mode == "weight":
        op = _behind_reshapes(stop).owner
        assert isinstance(op, array.MatmulOp)
        weight = op.lhs if _behind_reshapes(op.rhs) is start else e.transpose(op.rhs, [1, 0])
        return "dense", weight
    segment, externals = _segment_function(module, f"{name}_seg{split.lo}_{split.hi}", ops, start, stop)
    if split.mode == "diag":
        jvp = jvp_function(module, segment, [0])
        call = func.CallOp(jvp.sym_name.data, [start, *externals, e.ones_like(start)], [stop.type, stop.type])
        Rewriter.insert_op(call, e.point)
        return "diag", e.reshape(call.results[1], [rows])
    make = jacfwd_function if split.mode == "fwd" else jacrev_function
    derived = make(module, segment, [0])
    out_type = derived.function_type.outputs.data[0]
    call = func.CallOp(derived.sym_name.data, [start, *externals], [out_type])
    Rewriter.insert_op(call, e.point)
    return "dense", e.reshape(call.results[0], [rows, cols])


def _product(
    e: Emitter, later: tuple[str, SSAValue | None], earlier: tuple[str, SSAValue | None], p: int, q: int, r: int
) -> tuple[str, SSAValue | None]:
    """later (p x q) @ earlier (q x r), each (kind, value) as _emit_block's;
    the multiplications are product_cost's."""
    (lk, lv), (ek, ev) = later, earlier
    if lk == "id":
        return earlier
    if ek == "id":
        return later
    assert lv is not None and ev is not None
    if lk == "diag" and ek == "diag":
        return "diag", e.mul(lv, ev)
    if lk == "diag":
        return "dense", e.mul(e.broadcast(lv, [0], [q, r]), ev)
    if ek == "diag":
        return "dense", e.mul(lv, e.broadcast(ev, [1], [p, q]))
    return "dense", e.matmul(lv, ev)


def _eliminate_in_order(
    order: Sequence[int], into: dict[int, dict[int, Any]], out: dict[int, dict[int, Any]],
    combine: Callable[[int, int, int, Any, Any], None],
) -> None:
    """Eliminate the vertices of `order` from the edge maps (into[w][u],
    out[u][w] both hold edge (u, w)): `combine(u, v, w, edge (u, v),
    edge (v, w))` for each predecessor u and successor w of each v, which
    adds the fill-in edge (u, w)."""
    for v in order:
        preds, succs = into.pop(v, {}), out.pop(v, {})
        for u in preds:
            del out[u][v]
        for w in succs:
            del into[w][v]
        for u, earlier in preds.items():
            for w, later in succs.items():
                combine(u, v, w, earlier, later)


Block = tuple[str, SSAValue | None]
"""A local Jacobian being eliminated: ("id", None), ("diag", vector) or
("dense", matrix), as _emit_block's."""


def _emit_elimination(
    module: ModuleOp, name: str, e: Emitter, g: Graph, order: Sequence[int], types: Sequence[Attribute]
) -> list[SSAValue]:
    """The Jacobian blocks (output-major, as `types`) by eliminating the
    intermediates of `g` in `order` at block level: each local Jacobian
    from its op (a diagonal from the JVP rule fed ones for an elementwise
    op, else the dense Jacobian of the op alone), each elimination one
    `_product` per (predecessor, successor) pair, sums by `_added`."""
    element = element_of(types[0])  # one element type (jacauto_function checks)
    into: dict[int, dict[int, Block]] = {}
    out: dict[int, dict[int, Block]] = {}

    def put(u: int, w: int, block: Block) -> None:
        old = out.setdefault(u, {}).get(w)
        if old is not None:
            block = _added(e, old, block, g.sizes[w], g.sizes[u], element)
        out[u][w] = block
        into.setdefault(w, {})[u] = block

    for (u, v) in sorted(g.edges):
        put(u, v, _local_block(module, f"{name}_edge{u}_{v}", e, g, (u, v)))
    _eliminate_in_order(order, into, out, lambda u, v, w, earlier, later: put(
        u, w, _product(e, later, earlier, g.sizes[w], g.sizes[v], g.sizes[u])))
    blocks = []
    for (sink, source), typ in zip(itertools.product(g.outputs, g.inputs), types, strict=True):
        rows, cols = g.sizes[sink], g.sizes[source]
        found = into.get(sink, {}).get(source)
        dense = e.full(TensorType(element, [rows, cols]), 0.0) if found is None else _dense(e, found, rows, cols, element)
        blocks.append(e.reshape(dense, shape_of(typ)))
    return blocks


def _local_block(module: ModuleOp, name: str, e: Emitter, g: Graph, key: tuple[int, int]) -> Block:
    """The local Jacobian of edge `key` of `g`."""
    u, v = key
    if v in g.outputs:
        return "id", None
    op, operand = g.ops[key], g.values[u]
    assert operand is not None
    result = op.results[0]
    rows, cols = g.sizes[v], g.sizes[u]
    if _elementwise(g, key):
        tangents = [e.ones_like(o) if o is operand else None for o in op.operands]
        partial = e.materialize(JVP_RULES[type(op)](e, op, *tangents), result)
        return "diag", e.reshape(partial, [rows])
    others = [o for o in op.operands if o is not operand]
    one = add_function(module, name, [operand.type, *(o.type for o in others)], [result.type])
    args = list(one.body.block.args)
    mapping = dict(zip([operand, *others], args))
    clone = op.clone(value_mapper=mapping)
    Rewriter.insert_op(clone, InsertPoint.at_end(one.body.block))
    Rewriter.insert_op(func.ReturnOp(clone.results[0]), InsertPoint.at_end(one.body.block))
    derived = jacfwd_function(module, one, [0])
    out_type = derived.function_type.outputs.data[0]
    call = func.CallOp(derived.sym_name.data, [operand, *others], [out_type])
    Rewriter.insert_op(call, e.point)
    return "dense", e.reshape(call.results[0], [rows, cols])


def _dense(e: Emitter, block: Block, rows: int, cols: int, element: Attribute) -> SSAValue:
    """`block` as a rows x cols matrix."""
    kind, value = block
    if kind == "dense":
        assert value is not None
        return value
    eye = np.eye(rows, cols, dtype=numpy_dtype(element))
    if kind == "id":
        return e.constant(eye)
    assert value is not None
    zeros = e.full(TensorType(element, [rows, cols]), 0.0)
    return e.select(e.constant(eye != 0), e.broadcast(value, [0], [rows, cols]), zeros)  # no multiplication


def _added(e: Emitter, a: Block, b: Block, rows: int, cols: int, element: Attribute) -> Block:
    """a + b, two blocks of one edge (rows x cols): a diagonal while both
    are (an identity is a diagonal of ones), else dense."""
    if a[0] != "dense" and b[0] != "dense":
        def diagonal(block: Block) -> SSAValue:
            return block[1] if block[1] is not None else e.full(TensorType(element, [rows]), 1.0)

        return "diag", e.add(diagonal(a), diagonal(b))
    return "dense", e.add(_dense(e, a, rows, cols, element), _dense(e, b, rows, cols, element))


Entry = tuple[int, SSAValue | None]
"""A scalar partial: sign times value, the value None for the constant 1."""


def _emit_scalar(e: Emitter, scalar: ScalarGraph, order: Sequence[int]) -> SSAValue:
    """The M x N Jacobian of a scalar graph by eliminating `order`: each
    partial from its op's JVP rule fed a one, then one `array.mul` per
    product of two computed partials (signs are folded, sums are adds)."""
    g = scalar.graph
    element = element_of(next(v for v in g.values if v is not None))
    scalar_type = TensorType(element, [])
    into: dict[int, dict[int, Entry]] = {}
    out: dict[int, dict[int, Entry]] = {}

    def value(entry: Entry) -> SSAValue:
        sign, v = entry
        if v is None:
            return e.full(scalar_type, float(sign))
        return v if sign == 1 else e.emit(array.NegOp(v))

    def put(u: int, w: int, entry: Entry) -> None:
        old = out.setdefault(u, {}).get(w)
        if old is not None:
            entry = (1, e.emit(array.AddOp(value(old), value(entry))))
        out[u][w] = entry
        into.setdefault(w, {})[u] = entry

    for (u, v) in g.edges:
        if (u, v) in scalar.signs:
            put(u, v, (scalar.signs[(u, v)], None))
            continue
        op, operand = g.ops[(u, v)], g.values[u]
        tangents = [e.ones_like(o) if o is operand else None for o in op.operands]
        partial = e.materialize(JVP_RULES[type(op)](e, op, *tangents), op.results[0])
        put(u, v, (1, e.reshape(partial, [])))

    def combine(u: int, v: int, w: int, earlier: Entry, later: Entry) -> None:
        (s1, a), (s2, b) = earlier, later
        put(u, w, (s1 * s2, b if a is None else a if b is None else e.emit(array.MulOp(a, b))))

    _eliminate_in_order(order, into, out, combine)
    zero = e.full(TensorType(element, [1]), 0.0)
    rows = []
    for sink in g.outputs:
        entries = into.get(sink, {})
        row = [e.reshape(value(entries[x]), [1]) if x in entries else zero for x in g.inputs]
        rows.append(e.reshape(e.concatenate(row, 0) if len(row) > 1 else row[0], [1, len(row)]))
    return e.concatenate(rows, 0) if len(rows) > 1 else rows[0]


# ---------------------------------------------------------------------------
# Hessians: the cheapest strategy by the simplified code's count
# ---------------------------------------------------------------------------

HESSIAN_CANDIDATES = ("fwd-over-rev", "rev-over-rev", "rev-over-fwd", "edge-pushing")
"""The Hessian strategies mode "auto" counts; ties go to the earlier."""
REV_OVER_FWD_MAX_ELEMENTS = 256
"""Hessians of more differentiated elements do not count rev-over-fwd: it
pushes n directions through code already batched over n (about n times
fwd-over-rev's work) and builds n x n identity bases."""


def simplified_multiplications(module: ModuleOp, fn: func.FuncOp) -> int:
    """Scalar multiplications and divisions of `fn` (calls inlined) after
    the array clean-up passes (array-simplify, factor-broadcasts,
    canonicalize, cse, dce, on a scratch copy): each mul and div counts
    its result's elements, a matmul m k n per batch, loop bodies per trip
    (_multiplications). The primal work the function keeps is included;
    other ops (linalg, math functions) are not counted."""
    from xdsl.context import Context
    from xdsl.transforms.canonicalize import CanonicalizePass
    from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination
    from xdsl.transforms.dead_code_elimination import DeadCodeElimination

    from gradc.passes.array_simplify import ArraySimplify
    from gradc.passes.factor_broadcasts import FactorBroadcasts

    scratch = ModuleOp([])
    ins, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
    copy = add_function(scratch, "count", ins, outs)
    point = InsertPoint.at_end(copy.body.block)
    Rewriter.insert_op(func.ReturnOp(*copy_body(module, fn, list(copy.body.block.args), point)), point)
    ctx = Context()
    passes = (ArraySimplify, FactorBroadcasts, CanonicalizePass, CommonSubexpressionElimination, DeadCodeElimination)
    for make in passes:
        make().apply(ctx, scratch)
    return _multiplications(copy.body.block.ops)


def _multiplications(ops: Iterable[Operation]) -> int:
    """simplified_multiplications' count of `ops`: a scan's body counts
    `length` times, a while loop's max_steps times (once without it),
    every branch of a switch once (an upper bound)."""
    total = 0
    for op in ops:
        if isinstance(op, array.MulOp | array.DivOp):
            total += prod(shape_of(op.results[0]))
        elif isinstance(op, array.MatmulOp):
            total += prod(shape_of(op.results[0])) * shape_of(op.lhs)[-1]
        trips = 1
        if isinstance(op, array.ScanOp):
            trips = op.length.value.data
        elif isinstance(op, array.WhileOp) and op.max_steps is not None:
            trips = op.max_steps.value.data
        total += trips * sum(_multiplications(block.ops) for region in op.regions for block in region.blocks)
    return total


def _has_custom_rules(module: ModuleOp, fn: func.FuncOp) -> bool:
    """Whether `fn` or a function it calls or requests holds a custom_jvp
    or custom_vjp op: forward mode cannot run a custom_vjp, and forward
    mode inlines a custom_jvp's rule, whose primal output reverse mode
    then differentiates as plain code (JAX's jacrev(jacfwd(f)))."""
    seen, work = {fn.sym_name.data}, [fn]
    while work:
        for op in work.pop().walk():
            if isinstance(op, CustomDerivativeOp):
                return True
            if isinstance(op, func.CallOp | DerivativeRequestOp):
                name = op.callee.string_value()
                callee = lookup_function(module, name)
                if callee is not None and name not in seen:
                    seen.add(name)
                    work.append(callee)
    return False


def hessauto_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int], compress: str = "never") -> func.FuncOp:
    """`@<f>_hessauto_w...`: the Hessian by whichever of
    HESSIAN_CANDIDATES (the first two compressed as `compress` allows;
    rev-over-fwd only up to REV_OVER_FWD_MAX_ELEMENTS and without custom
    derivative rules, _has_custom_rules; edge-pushing where it applies)
    has the fewest multiplications in its simplified code
    (simplified_multiplications; ties to the earlier), as a call of it;
    the choice in `gradc.strategy` (with each candidate left out and
    why) and the counts in `gradc.candidates`."""
    from gradc.passes.autodiff.edge_pushing import EdgePushingUnavailable

    ins = fn.function_type.inputs.data
    types = [jacobian_type(ins[i], ins[j]) for i in wrt for j in wrt]
    kind = "hessauto" if compress == "auto" else f"hessauto_{compress}"
    found, name = reusable_function(module, derived_name(fn, kind, wrt), ins, types)
    if found is not None:
        return found
    n = sum(prod(shape_of(ins[j])) for j in wrt)
    custom = _has_custom_rules(module, fn)
    made, left_out = {}, []
    for mode in HESSIAN_CANDIDATES:
        if mode == "rev-over-fwd" and (n > REV_OVER_FWD_MAX_ELEMENTS or custom):
            left_out.append(f"rev-over-fwd not counted: {'custom derivative rules' if custom else f'{n} elements'}")
            continue
        try:
            made[mode] = hessian_function(module, fn, wrt, compress, None, mode)
        except EdgePushingUnavailable as why:
            left_out.append(f"edge pushing not counted: {why.reason}")
    counted = list(made)
    counts = {mode: simplified_multiplications(module, made[mode]) for mode in counted}
    chosen = min(counted, key=lambda mode: counts[mode])
    strategy = f"{chosen} ({'; '.join(left_out)})" if left_out else chosen
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    call = func.CallOp(made[chosen].sym_name.data, list(new.body.block.args), list(types))
    Rewriter.insert_op(call, e.point)
    Rewriter.insert_op(func.ReturnOp(*call.results), e.point)
    new.attributes["gradc.jacobian_of"] = StringAttr(fn.sym_name.data)
    new.attributes["gradc.derivative"] = StringAttr("hessian")
    new.attributes["gradc.strategy"] = StringAttr(strategy)
    new.attributes["gradc.cheapest"] = StringAttr(chosen)
    new.attributes["gradc.candidates"] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in counts.items()})
    return new


def jacobian_strategies(module: ModuleOp) -> list[dict[str, object]]:
    """The choices of the mode-"auto" Jacobians and Hessians of `module`
    (left as it is): for each, in module order, {"kind": "jacobian" or
    "hessian", "function": the generated function,
    "callee", "chosen": the emitted strategy, "candidates": {name:
    multiplications}, "cheapest": the cheapest candidate on paper, which
    may be one that is only counted}. Expands a clone's requests (as `differentiate`
    does, without inlining)."""
    from gradc.dialects.autodiff import REQUEST_OPS
    from gradc.passes.autodiff.requests import expand_requests

    clone = module.clone()
    expand_requests(clone, REQUEST_OPS, "differentiate")
    found = []
    for fn in clone.ops:
        strategy = fn.attributes.get("gradc.strategy")
        if isinstance(fn, func.FuncOp) and isinstance(strategy, StringAttr):
            callee = fn.attributes["gradc.jacobian_of"]
            counts = fn.attributes["gradc.candidates"]
            cheapest = fn.attributes.get("gradc.cheapest")
            assert isinstance(callee, StringAttr) and isinstance(counts, DictionaryAttr)
            kind = fn.attributes.get("gradc.derivative")
            found.append({
                "kind": kind.data if isinstance(kind, StringAttr) else "jacobian",
                "function": fn.sym_name.data,
                "callee": callee.data,
                "chosen": strategy.data,
                "candidates": {k: v.value.data for k, v in counts.data.items() if isinstance(v, IntegerAttr)},
                "cheapest": cheapest.data if isinstance(cheapest, StringAttr) else None,
            })
    return found


__all__ = [
    "jacobian_strategies",
    "Graph",
    "HESSIAN_CANDIDATES",
    "REV_OVER_FWD_MAX_ELEMENTS",
    "CHECK_MAX_MULTIPLICATIONS",
    "hessauto_function",
    "pure_mode_count",
    "seed_folds",
    "simplified_multiplications",
    "Local",
    "Plan",
    "Split",
    "candidates",
    "chain_split",
    "cuts",
    "extract_graph",
    "jacauto_function",
    "markowitz",
    "matrix_chain",
    "product",
    "search",
    "vertex_elimination",
]
