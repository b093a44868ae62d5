"""Hessians by edge pushing (Gower and Mello, 2012) at block level: one
reverse sweep over the linearized graph of a scalar function that carries,
besides the adjoint of each value, the second-order adjoints of pairs of
values (the blocks of the Hessian of f with respect to them), pushes them
to each op's operands and creates new ones from the op's second
derivatives.

    edge_pushing_function(module, f, wrt) -> @f_hessedge_w0: (x...) -> (H_jk...)
    edge_pushing_graph(module, f, wrt)     -> the graph, or why it has none

Expects: `f` returns one scalar (as hessian_function). Edge pushing needs
the graph elimination.py's extract_graph builds (straight-line code whose
ops have cost rules), one element type, every value (and so every
second-order block, at most its square) of at most
EDGE_PUSHING_MAX_ELEMENTS elements; otherwise edge_pushing_function raises
EdgePushingUnavailable saying which.

Guarantees: the function returns what hessian_function returns (the same
types; the same values up to rounding) and every Hessian it returns is
exactly symmetric: diagonal blocks mirrored, block (k, j) the transpose of
block (j, k). Per op it emits: for a reshape, nothing (its flattened
partial is the identity); for an elementwise op, products with its
partials (diagonals, from the JVP rule fed ones) and second partials
(from the JVP of its VJP fed ones); for any other op, its VJP batched over
the rows of the blocks it pushes (no multiplication for index maps), and
the forward-mode Jacobian of its VJP for its second derivatives (none for
ops linear in their operands). A block stays a diagonal while pushing
keeps it one. The recurrence and when it pays: docs/differentiation.md,
"Edge pushing".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import prod

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.dialects.autodiff import jacobian_type
from gradc.passes.autodiff.elimination import (
    _ONE_PER_COLUMN,
    _ONE_PER_ROW,
    ELIMINATION_MAX_VERTICES,
    Block,
    Graph,
    _added,
    _dense,
    _elementwise,
    extract_graph,
)
from gradc.passes.autodiff.emitter import Emitter, element_of, shape_of
from gradc.passes.autodiff.jacobian import _batched, jacfwd_function
from gradc.passes.autodiff.rules import JVP_RULES
from gradc.passes.autodiff.transform import (
    add_function,
    arg_names,
    copy_body,
    derived_name,
    erase_dead_ops,
    jvp_function,
    reusable_function,
    vjp_function,
)

EDGE_PUSHING_MAX_ELEMENTS = 256
"""Edge pushing is built only when every value of the graph has at most
this many elements: its second-order blocks are dense (rows x cols of two
values) unless they stay diagonals."""


class EdgePushingUnavailable(Exception):
    """Edge pushing cannot differentiate this function: `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(f"edge pushing does not apply here ({reason}); mode 'fwd-over-rev' or 'auto' "
                         "differentiates any function")
        self.reason = reason


def edge_pushing_graph(ops: Sequence[Operation], wrt: Sequence[SSAValue], output: SSAValue) -> Graph | str:
    """The linearized graph edge pushing runs over, or why there is none."""
    graph = extract_graph(ops, wrt, [output])
    if isinstance(graph, str):
        return graph
    if len({element_of(v) for v in graph.values if v is not None}) > 1:
        return "more than one element type"
    used = {u for u, _ in graph.edges} | {v for _, v in graph.edges}
    if len(used) > ELIMINATION_MAX_VERTICES:
        return f"{len(used)} values (more than {ELIMINATION_MAX_VERTICES})"
    largest = max((graph.sizes[v] for v in used if graph.values[v] is not None), default=0)
    if largest > EDGE_PUSHING_MAX_ELEMENTS:
        return f"a value of {largest} elements (more than {EDGE_PUSHING_MAX_ELEMENTS})"
    return graph


def edge_pushing_function(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> func.FuncOp:
    """`@<f>_hessedge_w...`: the Hessian of `fn`'s scalar output with
    respect to the arguments `wrt` by edge pushing (the module docstring)."""
    ins = fn.function_type.inputs.data
    types = [jacobian_type(ins[i], ins[j]) for i in wrt for j in wrt]
    found, name = reusable_function(module, derived_name(fn, "hessedge", wrt), ins, types)
    if found is not None:
        return found
    new = add_function(module, name, ins, types, arg_names(fn))
    e = Emitter(InsertPoint.at_end(new.body.block), fn.location)
    args = list(new.body.block.args)
    results = copy_body(module, fn, args, e.point)
    graph = edge_pushing_graph(list(new.body.block.ops), [args[j] for j in wrt], results[0])
    if isinstance(graph, str):
        module.body.block.erase_op(new)
        raise EdgePushingUnavailable(graph)
    blocks = _Sweep(module, name, e, graph).run()
    Rewriter.insert_op(func.ReturnOp(*_hessian_blocks(e, graph, blocks, types)), e.point)
    erase_dead_ops(new)
    return new


Pair = tuple[int, int]
"""Two vertices, the smaller first: the key of a second-order block, held
as a (rows: first, cols: second) matrix or, for two values of one size, a
diagonal."""


def _key(u: int, w: int) -> Pair:
    return (u, w) if u <= w else (w, u)


class _Sweep:
    """The reverse sweep over `graph`: adjoints by vertex, second-order
    blocks by pair, each op's derived functions made on first use."""

    def __init__(self, module: ModuleOp, name: str, e: Emitter, graph: Graph):
        self.module, self.name, self.e, self.g = module, name, e, graph
        values = [v for v in graph.values if v is not None]
        self.element = element_of(values[0])
        self.index = {v: i for i, v in enumerate(graph.values) if v is not None}
        self.adjoint: dict[int, SSAValue] = {}
        self.blocks: dict[Pair, Block] = {}

    def run(self) -> dict[Pair, Block]:
        g, e = self.g, self.e
        (sink,) = g.outputs
        for (u, v) in g.edges:
            if v == sink:
                value = g.values[u]
                assert value is not None
                self.adjoint[u] = e.ones_like(value)
        inputs = set(g.inputs)
        heads = sorted({v for _, v in g.edges if v != sink and v not in inputs}, reverse=True)
        for i in heads:
            if i in self.adjoint or any(i in pair for pair in self.blocks):
                _OpSweep(self, i).run()
            self.adjoint.pop(i, None)
        return self.blocks

    # -- blocks ----------------------------------------------------------

    def get(self, u: int, w: int) -> Block | None:
        """Block (u, w) oriented rows u, cols w, or None (a zero)."""
        block = self.blocks.get(_key(u, w))
        if block is None or u <= w or block[0] == "diag":
            return block
        return "dense", self.e.transpose(block[1], [1, 0])

    def add(self, u: int, w: int, block: Block) -> None:
        """Add `block` (rows u, cols w) to the pair {u, w}."""
        if u > w and block[0] == "dense":
            block = "dense", self.e.transpose(block[1], [1, 0])
        key = _key(u, w)
        old = self.blocks.get(key)
        if old is not None:
            block = _added(self.e, old, block, self.g.sizes[key[0]], self.g.sizes[key[1]], self.element)
        self.blocks[key] = block

    def add_symmetric(self, u: int, block: Block) -> None:
        """Add `block` + its transpose to the diagonal pair {u, u}."""
        if block[0] == "dense":
            block = "dense", self.e.add(block[1], self.e.transpose(block[1], [1, 0]))
        else:
            block = "diag", self.e.add(block[1], block[1])
        self.add(u, u, block)

    def dense(self, block: Block, rows: int, cols: int) -> SSAValue:
        return _dense(self.e, block, rows, cols, self.element)


class _OpSweep:
    """Vertex `i` of the sweep and the op that produces it: its distinct
    active operands (`actives`, vertices `heads`), its other operands, and
    what it pushes and creates."""

    def __init__(self, sweep: _Sweep, i: int):
        g = sweep.g
        self.s, self.e, self.i = sweep, sweep.e, i
        self.op = next(g.ops[(u, v)] for (u, v) in sorted(g.edges) if v == i)
        self.actives: list[SSAValue] = []
        self.others: list[SSAValue] = []
        for o in self.op.operands:
            if o in self.actives or o in self.others:
                continue
            active = o in sweep.index and (sweep.index[o], i) in g.edges
            (self.actives if active else self.others).append(o)
        self.heads = [sweep.index[o] for o in self.actives]
        self.elementwise = all(_elementwise(g, (u, i)) for u in self.heads)
        self.relabel = isinstance(self.op, array.ReshapeOp)
        """The partial is the identity (flattened row-major, a reshape's
        result is its operand): blocks and adjoint pass through as they are."""
        self._vjp: func.FuncOp | None = None
        self._diagonals: list[SSAValue] | None = None

    def run(self) -> None:
        s, i = self.s, self.i
        adjoint = s.adjoint.get(i)
        pairs = sorted(pair for pair in s.blocks if i in pair)
        own = s.blocks.pop((i, i), None)
        for pair in pairs:
            if pair == (i, i):
                continue
            w = pair[0] if pair[1] == i else pair[1]
            block = s.get(w, i)
            del s.blocks[pair]
            assert block is not None
            for a, p in enumerate(self.heads):
                pushed = self.times_partial(block, a, s.g.sizes[w])  # rows w, cols p
                if p == w:
                    s.add_symmetric(p, pushed)
                else:
                    s.add(w, p, pushed)
        if own is not None:
            self.push_own(own)
        if adjoint is not None:
            self.create(adjoint)
            for p, grad in zip(self.heads, self.vjp_grads(adjoint)):
                s.adjoint[p] = grad if p not in s.adjoint else self.e.add(s.adjoint[p], grad)

    # -- the first partials -----------------------------------------------

    def diagonals(self) -> list[SSAValue]:
        """Each active operand's partial, an elementwise op's diagonal."""
        if self._diagonals is None:
            e, op = self.e, self.op
            result = op.results[0]
            self._diagonals = []
            for active in self.actives:
                tangents = [e.ones_like(o) if o is active else None for o in op.operands]
                partial = e.materialize(JVP_RULES[type(op)](e, op, *tangents), result)
                self._diagonals.append(e.reshape(partial, [prod(shape_of(result))]))
        return self._diagonals

    def vjp(self) -> func.FuncOp:
        """@...: (actives..., others..., cotangent) -> (result, cotangents
        of the actives...), the op alone."""
        if self._vjp is None:
            op = self.op
            inputs = [*self.actives, *self.others]
            one = add_function(self.s.module, f"{self.s.name}_op{self.i}", [v.type for v in inputs],
                               [op.results[0].type])
            clone = op.clone(value_mapper=dict(zip(inputs, one.body.block.args)))
            Rewriter.insert_op(clone, InsertPoint.at_end(one.body.block))
            Rewriter.insert_op(func.ReturnOp(clone.results[0]), InsertPoint.at_end(one.body.block))
            self._vjp = vjp_function(self.s.module, one, list(range(len(self.actives))))
        return self._vjp

    def call(self, fn: func.FuncOp, extra: Sequence[SSAValue]) -> Sequence[SSAValue]:
        call = func.CallOp(fn.sym_name.data, [*self.actives, *self.others, *extra],
                           list(fn.function_type.outputs.data))
        call.location = self.e.location
        Rewriter.insert_op(call, self.e.point)
        return call.results

    def vjp_grads(self, cotangent: SSAValue) -> list[SSAValue]:
        if self.relabel:
            return [self.e.reshape(cotangent, shape_of(self.actives[0]))]
        if self.elementwise:
            n = prod(shape_of(cotangent))
            flat = self.e.reshape(cotangent, [n])
            return [self.e.reshape(self.e.mul(d, flat), shape_of(a))
                    for d, a in zip(self.diagonals(), self.actives)]
        return list(self.call(self.vjp(), [cotangent])[1:])

    def times_partial(self, block: Block, a: int, rows: int) -> Block:
        """`block` (rows x the op's result) times the partial of the result
        with respect to active operand `a`: rows x that operand."""
        e, cols = self.e, self.s.g.sizes[self.i]
        if self.relabel:
            return block
        if self.elementwise:
            d = self.diagonals()[a]
            if block[0] == "diag":
                return "diag", e.mul(block[1], d)
            return "dense", e.mul(block[1], e.broadcast(d, [1], [rows, cols]))
        matrix = self.s.dense(block, rows, cols)
        result = self.op.results[0]
        vjp = _batched(self.s.module, self.vjp(), [False] * (len(self.actives) + len(self.others)) + [True], rows)
        grads = self.call(vjp, [e.reshape(matrix, [rows, *shape_of(result)])])[1:]
        return "dense", e.reshape(grads[a], [rows, self.s.g.sizes[self.heads[a]]])

    def push_own(self, own: Block) -> None:
        """The pair {i, i}: J_a^T W J_b for each pair of active operands."""
        s, e, n = self.s, self.e, self.s.g.sizes[self.i]
        if self.relabel:
            s.add(self.heads[0], self.heads[0], own)
            return
        if self.elementwise:  # D_b W D_a: W scaled by rows and columns
            for b, q in enumerate(self.heads):
                for a, p in enumerate(self.heads[: b + 1]):
                    d_b, d_a = self.diagonals()[b], self.diagonals()[a]
                    if own[0] == "diag":
                        s.add(q, p, ("diag", e.mul(e.mul(own[1], d_b), d_a)))
                        continue
                    rows = e.mul(own[1], e.broadcast(d_b, [0], [n, n]))
                    s.add(q, p, ("dense", e.mul(rows, e.broadcast(d_a, [1], [n, n]))))
            return
        for b, q in enumerate(self.heads):
            right = self.times_partial(own, b, n)[1]  # W J_b: rows i, cols q (dense: not elementwise)
            flipped: Block = ("dense", e.transpose(right, [1, 0]))  # J_b^T W, W symmetric
            for a, p in enumerate(self.heads[: b + 1]):
                s.add(q, p, self.times_partial(flipped, a, s.g.sizes[q]))  # J_b^T W J_a: rows q, cols p

    # -- the second partials ----------------------------------------------

    def second_pairs(self) -> list[tuple[int, int]]:
        """The pairs (a, b), a <= b, of active operands whose mixed second
        partials are not zero by the op's kind."""
        op, r = self.op, len(self.actives)
        if isinstance(op, (*_ONE_PER_ROW, *_ONE_PER_COLUMN, array.ReduceMaxOp)):
            return []
        if isinstance(op, array.MulOp | array.MatmulOp):
            if r == 2:
                return [(0, 1)]
            return [(0, 0)] if op.operands[0] is op.operands[1] else []
        if isinstance(op, array.DivOp) and r == 1 and op.operands[1] is not self.actives[0]:
            return []
        return [(a, b) for a in range(r) for b in range(a, r)]

    def create(self, adjoint: SSAValue) -> None:
        """Add each pair's second partials weighted by the adjoint."""
        s, e = self.s, self.e
        pairs = self.second_pairs()
        r = len(self.actives)
        for b in sorted({b for _, b in pairs}):
            if self.elementwise:
                jvp = jvp_function(s.module, self.vjp(), [b])
                # (result, cotangents..., their tangents...): the cotangents' tangents
                tangents = self.call(jvp, [adjoint, e.ones_like(self.actives[b])])[r + 2:]
                for a, _ in (pair for pair in pairs if pair[1] == b):
                    n = s.g.sizes[self.heads[a]]
                    s.add(self.heads[a], self.heads[b], ("diag", e.reshape(tangents[a], [n])))
                continue
            jac = jacfwd_function(s.module, self.vjp(), [b])
            found = self.call(jac, [adjoint])[1:]
            for a, _ in (pair for pair in pairs if pair[1] == b):
                rows, cols = s.g.sizes[self.heads[a]], s.g.sizes[self.heads[b]]
                s.add(self.heads[a], self.heads[b], ("dense", e.reshape(found[a], [rows, cols])))


def _hessian_blocks(e: Emitter, g: Graph, blocks: dict[Pair, Block], types: Sequence[Attribute]) -> list[SSAValue]:
    """The Hessian's blocks (j, k), j-major over the inputs, as `types`:
    (j, j) mirrored, (k, j) the transpose of (j, k). The inputs are the
    graph's first vertices, in order, so pair (j, k), j <= k, is held as
    rows j, cols k."""
    element = element_of(types[0])
    out: dict[tuple[int, int], SSAValue] = {}
    n = len(g.inputs)
    for j, k in itertools.product(range(n), repeat=2):
        if k < j:
            continue
        u, w = g.inputs[j], g.inputs[k]
        rows, cols = g.sizes[u], g.sizes[w]
        block = blocks.get((u, w))
        if block is None:
            matrix = e.full(TensorType(element, [rows, cols]), 0.0)
        else:
            matrix = _dense(e, block, rows, cols, element)
            if j == k and rows > 1 and block[0] == "dense":
                matrix = e.emit(array.MirrorOp(matrix))
        out[(j, k)] = matrix
        if j != k:
            out[(k, j)] = e.transpose(matrix, [1, 0])
    return [e.reshape(out[jk], shape_of(typ)) for jk, typ in zip(itertools.product(range(n), repeat=2), types)]


__all__ = ["EDGE_PUSHING_MAX_ELEMENTS", "EdgePushingUnavailable", "edge_pushing_function", "edge_pushing_graph"]
