"""Structural sparsity of Jacobians and Hessians, at compile time.

    jacobian_pattern(module, fn, wrt) -> Pattern(rows, cols, shape)
    hessian_pattern(module, fn, wrt)  -> Pattern(rows, cols, shape)

Expects: `fn` a `func.func` of `module` at the array level (static
shapes): `array` ops, `func.call`s of such functions, `func.return`;
`autodiff` requests already expanded (a surviving `custom_jvp` /
`custom_vjp` or any op without a rule is taken as dense, see below).

Guarantees: no false negatives. Entry (r, c) is absent only if output
element r does not depend on input column c for any input values (a
derivative that is zero almost everywhere, as floor's or a comparison's,
counts as absent). Rows are the elements of all outputs (each flattened
row-major, in output order), columns the elements of the `wrt` arguments
(likewise); other arguments are constants of unknown value. Values that
are not floats carry no dependence. The pattern can have false positives
(an exact cancellation such as x - x, a data-dependent index taken as any
index, dense linear algebra, control flow united over branches and trip
counts, and for Hessians the symmetrized pattern of the gradient's
Jacobian); docs/sparsity.md lists them.

The pattern of a value of shape S is a uint64 array of shape S + (W,),
W = ceil(N / 64): per element, a bitset over the N columns. Values whose
numbers do not depend on the arguments (constants, a scan's step index,
what is computed from them alone) are also evaluated (the array
interpreter), so that products with constant sparse matrices, constant
indices and starts, and switches on a constant index are exact. Each
pattern is dropped after its last use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import Any, NamedTuple

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter
from xdsl.ir import Block, Operation, SSAValue

from gradc.dialects import array
from gradc.dialects.autodiff.custom import CUSTOM_OPS
from gradc.interpreter import make_interpreter
from gradc.passes.autodiff.transform import grad_function

KNOWN_LIMIT = 1 << 20
"""Argument-independent values with more elements than this are not
evaluated (their pattern is still exact: empty)."""


class Pattern(NamedTuple):
    """A sparsity pattern in coordinate form, sorted row-major, unique."""

    rows: np.ndarray  # int64, nnz
    cols: np.ndarray  # int64, nnz
    shape: tuple[int, int]


Bits = np.ndarray
"""uint64, shape S + (W,): the columns each element of a value depends on."""

_ZERO_DERIVATIVE = (
    array.CompareOp,
    array.RoundingOp,
    array.StopGradientOp,
    array.ArgMaxOp,
    array.Threefry2x32Op,
    array.BitwiseOp,
    array.ShiftOp,
    array.InvertOp,
)
"""Ops whose results have a zero derivative (almost everywhere)."""

_ELEMENTWISE = (array.UnaryOp, array.BinaryOp, array.ConvertOp)
"""Ops whose result element depends on the same element of each operand
(their operands have the result's shape)."""


def _dims(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, TensorType)
    return tuple(value.type.get_shape())


def _is_float(value: SSAValue) -> bool:
    return isinstance(value.type, TensorType) and array.is_float(value.type.get_element_type())


def _or_all(bits: Bits) -> Bits:
    """The union over all elements: shape (W,)."""
    return np.bitwise_or.reduce(bits.reshape(-1, bits.shape[-1]), axis=0)


def _or_axes(bits: Bits, axes: Sequence[int], keepdims: bool = False) -> Bits:
    return np.bitwise_or.reduce(bits, axis=tuple(axes), keepdims=keepdims) if axes else bits


class _Analysis:
    """Propagates patterns through the blocks of one module."""

    def __init__(self, module: ModuleOp, width: int):
        self.width = width
        self.module = module
        self.functions = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
        self._interp: Interpreter | None = None
        self._drops: dict[int, list[list[SSAValue]]] = {}

    # -- values ---------------------------------------------------------

    def empty(self, shape: Sequence[int]) -> Bits:
        """The pattern of a value depending on nothing (a read-only view)."""
        return np.broadcast_to(np.zeros(self.width, np.uint64), (*shape, self.width))

    def union(self, patterns: Sequence[Bits], shape: Sequence[int]) -> Bits:
        """Every element depends on every element of every pattern."""
        total = np.zeros(self.width, np.uint64)
        for p in patterns:
            total |= _or_all(p)
        return np.broadcast_to(total, (*shape, self.width))

    def evaluate(self, op: Operation, values: Sequence[np.ndarray]) -> tuple[np.ndarray, ...] | None:
        """The op's results on argument-independent operand values, or None."""
        if op.regions or isinstance(op, func.CallOp | func.ReturnOp | array.YieldOp | array.ConditionOp):
            return None
        if isinstance(op, CUSTOM_OPS) or sum(prod(_dims(r)) for r in op.results) > KNOWN_LIMIT:
            return None
        if self._interp is None:
            self._interp = make_interpreter(self.module)
        try:
            return tuple(np.asarray(v) for v in self._interp.run_op(op, tuple(values)))
        except Exception:  # no implementation: the value stays unknown, which is safe
            return None

    def drops(self, block: Block) -> list[list[SSAValue]]:
        """Per op of `block`, the values whose last use it is (or that it
        defines and nothing uses)."""
        key = id(block)
        found = self._drops.get(key)
        if found is None:
            ops = list(block.ops)
            last: dict[SSAValue, int] = {a: -1 for a in block.args}
            for k, op in enumerate(ops):
                for r in op.results:
                    last[r] = k
                for v in op.operands:
                    last[v] = k
            found = [[] for _ in ops]
            for v, k in last.items():
                found[max(k, 0)].append(v)
            self._drops[key] = found
        return found

    # -- blocks ---------------------------------------------------------

    def run_block(
        self, block: Block, patterns: Sequence[Bits], known: Sequence[np.ndarray | None]
    ) -> tuple[list[Bits], list[np.ndarray | None]]:
        """Patterns (and argument-independent values) of what `block`'s
        terminator returns, given those of its arguments."""
        env: dict[SSAValue, Bits] = dict(zip(block.args, patterns, strict=True))
        values: dict[SSAValue, np.ndarray] = {a: v for a, v in zip(block.args, known, strict=True) if v is not None}
        drops = self.drops(block)
        for k, op in enumerate(block.ops):
            if op is block.last_op:
                return [env[v] for v in op.operands], [values.get(v) for v in op.operands]
            operand_values = [values.get(v) for v in op.operands]
            results = None
            if all(v is not None for v in operand_values):
                results = self.evaluate(op, operand_values)  # type: ignore[arg-type]
            if results is not None:
                for r, v in zip(op.results, results, strict=True):
                    values[r] = v
                    env[r] = self.empty(_dims(r))
            else:
                outs, out_values = self.rule(op, [env[v] for v in op.operands], operand_values)
                for r, p, v in zip(op.results, outs, out_values, strict=True):
                    env[r] = p if _is_float(r) else self.empty(_dims(r))
                    if v is not None:
                        values[r] = v
            for v in drops[k]:
                env.pop(v, None)
                values.pop(v, None)
        raise AssertionError("a block without a terminator")

    def rule(
        self, op: Operation, ps: list[Bits], known: list[np.ndarray | None]
    ) -> tuple[list[Bits], list[np.ndarray | None]]:
        """The patterns of `op`'s results (and any argument-independent
        values among them)."""
        none = [None] * len(op.results)
        for kind, rule in _REGION_RULES.items():
            if isinstance(op, kind):
                return rule(self, op, ps, known)
        if isinstance(op, _ZERO_DERIVATIVE):
            return [self.empty(_dims(r)) for r in op.results], none
        if isinstance(op, array.CopySignOp):
            return [ps[0]], none
        if isinstance(op, array.SelectOp):
            return [ps[1] | ps[2]], none
        if isinstance(op, _ELEMENTWISE):
            out = ps[0]
            for p in ps[1:]:
                out = out | p
            return [out], none
        for kind, rule in _RULES.items():
            if isinstance(op, kind):
                return [rule(self, op, ps, known)], none
        return [self.union(ps, _dims(r)) for r in op.results], none


def fallback_ops() -> list[str]:
    """The `array` ops that have no rule of their own (taken as dense)."""
    covered = (array.ConstantOp, *_ZERO_DERIVATIVE, array.CopySignOp, array.SelectOp, *_ELEMENTWISE, *_RULES, *_REGION_RULES)
    terminators = (array.YieldOp, array.ConditionOp)
    return sorted(op.name for op in array.Array.operations if not issubclass(op, (*covered, *terminators)))


# ---------------------------------------------------------------------------
# Rules of single-result ops: (analysis, op, operand patterns, operand
# values or None) -> the result's pattern.
# ---------------------------------------------------------------------------

Rule = Callable[[_Analysis, Any, list[Bits], list[Any]], Bits]


def _broadcast(a: _Analysis, op: array.BroadcastOp, ps: list[Bits], known: list[Any]) -> Bits:
    out = _dims(op.result)
    aligned = [1] * len(out)
    for k, d in enumerate(op.dim_map):
        aligned[d] = _dims(op.input)[k]
    return np.broadcast_to(ps[0].reshape(*aligned, a.width), (*out, a.width))


def _reshape(a: _Analysis, op: array.ReshapeOp, ps: list[Bits], known: list[Any]) -> Bits:
    return ps[0].reshape(*_dims(op.result), a.width)


def _transpose(a: _Analysis, op: array.TransposeOp, ps: list[Bits], known: list[Any]) -> Bits:
    return ps[0].transpose(*op.perm, len(op.perm))


def _slice(a: _Analysis, op: array.SliceOp, ps: list[Bits], known: list[Any]) -> Bits:
    return ps[0][tuple(slice(s, None if l < 0 else l, st) for s, l, st in op.bounds)]


def _concatenate(a: _Analysis, op: array.ConcatenateOp, ps: list[Bits], known: list[Any]) -> Bits:
    return np.concatenate(ps, axis=op.axis.value.data)


def _moved(x: Bits, axes: Sequence[int]) -> Bits:
    """`x` with `axes` first (in order), then its other dimensions."""
    rest = [d for d in range(x.ndim) if d not in axes]
    return np.transpose(x, [*axes, *rest])


def _gather(a: _Analysis, op: array.GatherOp, ps: list[Bits], known: list[Any]) -> Bits:
    table = op.table
    return _moved(ps[0], op.axis_list)[tuple(table[..., k] for k in range(len(op.axis_list)))]


def _dynamic_gather(a: _Analysis, op: array.DynamicGatherOp, ps: list[Bits], known: list[Any]) -> Bits:
    x, axes, out = ps[0], op.axis_list, _dims(op.result)
    if known[1] is not None and 0 not in x.shape[: len(axes)] and prod(x.shape[:-1]):
        positions, _ = array.indexed_positions(_dims(op.input), axes, known[1], "clip")
        return _moved(x, axes)[positions]  # a "fill" row is zero: a subset
    return np.broadcast_to(_or_axes(x, axes), (*out, a.width))


def _scatter(a: _Analysis, op: array.ScatterOp, ps: list[Bits], known: list[Any]) -> Bits:
    x, updates, axes = ps[0], ps[2], op.axis_list
    shape = _dims(op.input)
    moved = _moved(x, axes)
    rows = len(op.batch_shape)
    flat_updates = updates.reshape(-1, *updates.shape[rows:])
    if known[1] is None or 0 in shape:
        out = moved | _or_axes(flat_updates, [0])
    else:
        positions, ok = array.indexed_positions(shape, axes, known[1], op.mode.data)
        if op.mode.data == "clip":
            ok = np.ones_like(ok)
        keep = np.flatnonzero(ok.reshape(-1))
        at = np.ravel_multi_index(tuple(p.reshape(-1)[keep] for p in positions), moved.shape[: len(axes)])
        out = np.ascontiguousarray(moved).reshape(-1, *moved.shape[len(axes) :]).copy()
        if op.kind.data == "add":
            np.bitwise_or.at(out, at, flat_updates[keep])
        else:  # the last row written to a position wins
            last = len(at) - 1 - np.unique(at[::-1], return_index=True)[1]
            out[at[last]] = flat_updates[keep[last]]
        out = out.reshape(moved.shape)
    return np.transpose(out, [*np.argsort([*axes, *(d for d in range(len(shape)) if d not in axes)]), len(shape)])


def _window(op: Operation, shape: Sequence[int], sizes: Sequence[int], starts: Sequence[Any]) -> tuple[slice, ...]:
    """The window of `sizes` at the (clamped) `starts`; a dimension whose
    start is not known gets the whole axis."""
    return tuple(
        slice(None) if s is None else slice(c := array.clamped_start(s, n, k), c + k)
        for s, n, k in zip(starts, shape, sizes)
    )


def _dynamic_slice(a: _Analysis, op: array.DynamicSliceOp, ps: list[Bits], known: list[Any]) -> Bits:
    x, starts = ps[0], known[1:]
    window = x[_window(op, _dims(op.input), op.size_list, starts)]
    traced = [d for d, s in enumerate(starts) if s is None]
    return np.broadcast_to(_or_axes(window, traced, keepdims=True), (*_dims(op.result), a.width))


def _dynamic_update_slice(a: _Analysis, op: array.DynamicUpdateSliceOp, ps: list[Bits], known: list[Any]) -> Bits:
    x, update, starts = ps[0], ps[1], known[2:]
    shape = _dims(op.input)
    window = _window(op, shape, _dims(op.update), starts)
    traced = [d for d, s in enumerate(starts) if s is None]
    out = np.array(x)
    if traced:  # any element of the traced axes may be kept or overwritten
        target = out[window].shape
        out[window] |= np.broadcast_to(_or_axes(update, traced, keepdims=True), target)
    else:
        out[window] = update
    return out


def _reduce(a: _Analysis, op: array.ReduceOp, ps: list[Bits], known: list[Any]) -> Bits:
    return _or_axes(ps[0], op.axis_list)


def _constant_left(nonzero: np.ndarray, b: Bits) -> Bits:
    """The pattern of M @ B for a matrix M (m, k) whose nonzeros are
    `nonzero`, B's pattern (k, n, W): out[i, j] = OR over k with
    M[i, k] != 0 of B[k, j]."""
    rows, cols = np.nonzero(nonzero)
    out = np.zeros((nonzero.shape[0], *b.shape[1:]), np.uint64)
    if rows.size:
        present, starts = np.unique(rows, return_index=True)
        out[present] = np.bitwise_or.reduceat(b[cols], starts, axis=0)
    return out


def _matmul(a: _Analysis, op: array.MatmulOp, ps: list[Bits], known: list[Any]) -> Bits:
    lhs, rhs = ps
    out_shape = (*_dims(op.result), a.width)
    batch = out_shape[:-3]
    if known[0] is not None or known[1] is not None:
        out = np.empty(out_shape, np.uint64)
        for b in np.ndindex(*batch):
            if known[0] is not None:
                out[b] = _constant_left(known[0][b] != 0, rhs[b])
            else:
                out[b] = _constant_left(known[1][b].T != 0, np.swapaxes(lhs[b], 0, 1)).swapaxes(0, 1)
        return out
    return _or_axes(lhs, [-2], keepdims=True) | _or_axes(rhs, [-3], keepdims=True)


def _matrices(a: _Analysis, op: Operation, ps: list[Bits], known: list[Any]) -> Bits:
    """Factorizations: every element of a matrix's result depends on every
    element of that matrix (batch dimensions kept apart)."""
    x, out = ps[0], _dims(op.results[0])
    batch = x.shape[:-3]
    per_matrix = _or_axes(x, [-3, -2]).reshape(*batch, *[1] * (len(out) - len(batch)), a.width)
    return np.broadcast_to(per_matrix, (*out, a.width))


def _solve(a: _Analysis, op: Operation, ps: list[Bits], known: list[Any]) -> Bits:
    """X = op(A)^-1 B: column j of X depends on all of A and column j of B."""
    per_column = _or_axes(ps[0], [-3, -2], keepdims=True) | _or_axes(ps[1], [-3], keepdims=True)
    return np.broadcast_to(per_column, (*_dims(op.results[0]), a.width))


_RULES: dict[type, Rule] = {
    array.BroadcastOp: _broadcast,
    array.ReshapeOp: _reshape,
    array.TransposeOp: _transpose,
    array.SliceOp: _slice,
    array.ConcatenateOp: _concatenate,
    array.GatherOp: _gather,
    array.DynamicGatherOp: _dynamic_gather,
    array.ScatterOp: _scatter,
    array.DynamicSliceOp: _dynamic_slice,
    array.DynamicUpdateSliceOp: _dynamic_update_slice,
    array.ReduceOp: _reduce,
    array.MatmulOp: _matmul,
    array.CholeskyOp: _matrices,
    array.SlogdetOp: _matrices,
    array.EighOp: _matrices,
    array.SolveOp: _solve,
    array.TriangularSolveOp: _solve,
}


# ---------------------------------------------------------------------------
# Ops with regions or callees (any number of results).
# ---------------------------------------------------------------------------

Results = tuple[list[Bits], list[Any]]


def _call(a: _Analysis, op: func.CallOp, ps: list[Bits], known: list[Any]) -> Results:
    callee = a.functions[op.callee.string_value()]
    return a.run_block(callee.body.block, ps, known)


def _scan(a: _Analysis, op: array.ScanOp, ps: list[Bits], known: list[Any]) -> Results:
    """Each step in turn (exact for the static trip count); once the carries
    stop changing and the steps no longer differ (no index use, no xs), the
    remaining steps repeat the last one."""
    c, x = len(op.initials), len(op.xs)
    carries, xs, invariants = ps[:c], ps[c : c + x], ps[c + x :]
    carry_values, xs_values, invariant_values = known[:c], known[c : c + x], known[c + x :]
    index = op.body_args()[0]
    same_steps = not index.uses and not xs
    steps: dict[int, list[Bits]] = {}
    order = list(op.steps())
    for n, i in enumerate(order):
        args = [a.empty(()), *carries, *(p[i] for p in xs), *invariants]
        values = [np.float64(i), *carry_values, *(v if v is None else v[i] for v in xs_values), *invariant_values]
        out, out_values = a.run_block(op.block, args, values)
        new, new_values = out[:c], out_values[:c]
        steps[i] = out[c:]
        settled = same_steps and all(
            np.array_equal(p, q) for p, q in zip(new, carries)
        ) and all(
            (v is None and w is None) or (v is not None and w is not None and np.array_equal(v, w))
            for v, w in zip(new_values, carry_values)
        )
        carries, carry_values = new, new_values
        if settled:
            for j in order[n + 1 :]:
                steps[j] = steps[i]
            break
    stacked = [np.stack([steps[i][k] for i in range(op.trip_count)]) for k in range(len(op.ys))]
    return [*carries, *stacked], [*carry_values, *([None] * len(op.ys))]


def _while(a: _Analysis, op: array.WhileOp, ps: list[Bits], known: list[Any]) -> Results:
    """The union over any number of iterations: iterate to a fixed point."""
    c = len(op.initials)
    carries, invariants = [np.array(p) for p in ps[:c]], ps[c:]
    values = [None] * c + known[c:]
    while True:
        out, _ = a.run_block(op.block, [*carries, *invariants], values)
        grown = [p | q for p, q in zip(carries, out)]
        if all(np.array_equal(p, q) for p, q in zip(grown, carries)):
            return carries, [None] * c
        carries = grown


def _switch(a: _Analysis, op: array.SwitchOp, ps: list[Bits], known: list[Any]) -> Results:
    """The union over the branches (only the chosen one for a known index)."""
    branches = list(op.branches)
    if known[0] is not None:
        branches = [branches[min(max(int(known[0]), 0), len(branches) - 1)]]
    outs: list[Bits] | None = None
    for region in branches:
        got, _ = a.run_block(region.block, ps[1:], known[1:])
        outs = got if outs is None else [p | q for p, q in zip(outs, got)]
    assert outs is not None
    return outs, [None] * len(outs)


def _custom(a: _Analysis, op: Operation, ps: list[Bits], known: list[Any]) -> Results:
    """A user's rule may say anything: every output depends on every operand."""
    return [a.union(ps, _dims(r)) for r in op.results], [None] * len(op.results)


_REGION_RULES: dict[type, Callable[[_Analysis, Any, list[Bits], list[Any]], Results]] = {
    func.CallOp: _call,
    array.ScanOp: _scan,
    array.WhileOp: _while,
    array.SwitchOp: _switch,
    **{kind: _custom for kind in CUSTOM_OPS},
}


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def _seeds(fn: func.FuncOp, wrt: Sequence[int]) -> tuple[list[Bits], int]:
    """Per argument its pattern: the wrt arguments' elements are the columns,
    in order; the others depend on nothing."""
    args = fn.body.block.args
    sizes = {i: prod(_dims(args[i])) for i in wrt}
    n = sum(sizes.values())
    width = max(1, -(-n // 64))
    seeds = [np.broadcast_to(np.zeros(width, np.uint64), (*_dims(v), width)) for v in args]
    offset = 0
    for i in wrt:
        m = sizes[i]
        column = np.arange(offset, offset + m)
        bits = np.zeros((m, width), np.uint64)
        bits[np.arange(m), column // 64] = np.left_shift(np.uint64(1), (column % 64).astype(np.uint64))
        seeds[i] = bits.reshape(*_dims(args[i]), width) if _is_float(args[i]) else seeds[i]
        offset += m
    return seeds, n


def _coordinates(rows_bits: Bits, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the set bits of a (rows, W) bitset matrix, row-major."""
    r, w = np.nonzero(rows_bits)
    words = np.ascontiguousarray(rows_bits[r, w]).view(np.uint8).reshape(-1, 8)
    k, bit = np.nonzero(np.unpackbits(words, axis=1, bitorder="little"))
    cols = w[k] * 64 + bit
    keep = cols < n
    return r[k][keep].astype(np.int64), cols[keep].astype(np.int64)


def jacobian_pattern(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> Pattern:
    """The structural pattern of d(outputs of fn) / d(arguments wrt)."""
    seeds, n = _seeds(fn, wrt)
    width = seeds[0].shape[-1] if seeds else 1
    analysis = _Analysis(module, width)
    outs, _ = analysis.run_block(fn.body.block, seeds, [None] * len(seeds))
    m = sum(prod(p.shape[:-1]) for p in outs)
    stacked = np.concatenate([p.reshape(-1, width) for p in outs]) if outs else np.zeros((0, width), np.uint64)
    rows, cols = _coordinates(stacked, n)
    return Pattern(rows, cols, (m, n))


def hessian_pattern(module: ModuleOp, fn: func.FuncOp, wrt: Sequence[int]) -> Pattern:
    """The pattern of the Hessian of fn's one scalar output with respect to
    the `wrt` arguments: the Jacobian pattern of its gradient (built into
    `module` by grad_function), made symmetric."""
    gradient = grad_function(module, fn, wrt, with_outputs=False)
    jac = jacobian_pattern(module, gradient, wrt)
    n = jac.shape[1]
    flat = np.unique(np.concatenate([jac.rows * n + jac.cols, jac.cols * n + jac.rows]))
    return Pattern(flat // n, flat % n, (n, n))


__all__ = ["Pattern", "fallback_ops", "hessian_pattern", "jacobian_pattern"]
