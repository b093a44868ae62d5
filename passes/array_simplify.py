"""array-simplify: algebraic simplification and constant folding at the array level.

Expects: array-level functions (any mix of `array` ops).

Guarantees: array-level functions computing the same values (up to the
sign of a zero) with the same derivatives and fewer ops: identity shape
ops are gone; transpose, reshape and negation chains are folded; neutral
elements (x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1) are dropped;
`select(x > c, x, max(x, c))` is `max(x, c)` (and `<` with min); the
sum of a diagonal matrix (an identity-masked select) along an axis is its
diagonal; a
product with a derivative seed (an `autodiff.seed` constant: 0/1, one 1
per input element) is the gather of the rows it selects, summed by a
scatter-add where a direction holds several (an identity seed is no op at
all: a Jacobian's X @ I is X); an op
whose operands are all constants is evaluated when the result is a splat
or has at most `fold-limit` elements, so constants never grow large.
Nothing is erased: run `dce` afterwards to drop what became dead.

Options: `fold-limit` (4096): the largest non-splat constant, in elements,
that folding may create.

Each rewrite's conditions are on its pattern class below.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, ShapedType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from gradc.dialects import array
from gradc.dialects.autodiff import SEED_ATTR
from gradc.support.dense import dense_to_numpy, numpy_dtype, numpy_to_dense, splat_dense, splat_element
from gradc.support.limits import MAX_CONSTANT_ELEMENTS

SHAPE_OPS = (
    array.TransposeOp,
    array.ReshapeOp,
    array.BroadcastOp,
    array.SliceOp,
)


def splat_value(value: SSAValue) -> float | None:
    """The repeated element of a splat constant, else None."""
    op = value.owner
    if isinstance(op, array.ConstantOp):
        if (element := splat_element(op.value)) is not None:
            return float(element)  # without expanding it (2^32 elements; found by gradc.tools.fuzz)
        data = dense_to_numpy(op.value)
        if data.size and np.all(data == data.flat[0]):
            return float(data.flat[0])
    return None


def _elements(typ: Attribute) -> int:
    return prod(typ.get_shape()) if isinstance(typ, ShapedType) else 1


def _is_identity(op: Operation) -> bool:
    if isinstance(op, array.TransposeOp):
        return op.perm == tuple(range(len(op.perm)))
    if isinstance(op, array.SliceOp) and any(
        st < 0 and array.slice_length(s, l, st) > 1 for s, l, st in op.bounds
    ):
        return False  # a reversal keeps the type
    if isinstance(op, (array.ReshapeOp, array.BroadcastOp, array.SliceOp)):
        return op.operands[0].type == op.results[0].type
    return False


class RemoveIdentityShapeOp(RewritePattern):
    """Transpose by the identity permutation, reshape or broadcast to the
    same type, a slice covering its input: the input itself."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, SHAPE_OPS) and _is_identity(op):
            rewriter.replace(op, (), (op.operands[0],))


class FoldTransposeChain(RewritePattern):
    """transpose(transpose(x)) is one transpose (none once
    RemoveIdentityShapeOp sees the identity)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.TransposeOp, rewriter: PatternRewriter) -> None:
        inner = op.input.owner
        if isinstance(inner, array.TransposeOp):
            perm = [inner.perm[p] for p in op.perm]
            rewriter.replace(op, array.TransposeOp(inner.input, perm))


class FoldReshapeChain(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.ReshapeOp, rewriter: PatternRewriter) -> None:
        inner = op.input.owner
        if isinstance(inner, array.ReshapeOp):
            rewriter.replace(op, array.ReshapeOp(inner.input, op.result.type.get_shape()))


class FoldDoubleNegation(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.NegOp, rewriter: PatternRewriter) -> None:
        inner = op.input.owner
        if isinstance(inner, array.NegOp):
            rewriter.replace(op, (), (inner.input,))


# (op, which operand may be the neutral constant, its value)
NEUTRAL = {
    array.AddOp: ((0, 0.0), (1, 0.0)),
    array.SubOp: ((1, 0.0),),
    array.MulOp: ((0, 1.0), (1, 1.0)),
    array.DivOp: ((1, 1.0),),
}


class FoldNeutralElement(RewritePattern):
    """x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1 are x. x + 0 turns -0.0
    into +0.0 in IEEE arithmetic; the two compare equal, as XLA's
    simplifier also assumes."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        for index, neutral in NEUTRAL.get(type(op), ()):
            if splat_value(op.operands[index]) == neutral:
                rewriter.replace(op, (), (op.operands[1 - index],))
                return


# The predicate by which `x` wins, for max and min.
WINS = {array.MaxOp: "gt", array.MinOp: "lt"}


class FoldSelectOfWinner(RewritePattern):
    """`select(x > c, x, max(x, c))` is `max(x, c)`: where x > c, max gives
    exactly x (and where it does not, the select takes max); either operand
    order of max, and `<` with min likewise. Equal values, and equal
    derivatives: this is what gradc.numpy writes for a maximum with a
    constant, once the `stop_gradient` in it is gone."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.SelectOp, rewriter: PatternRewriter) -> None:
        compare, extremum = op.cond.owner, op.false_value.owner
        if not isinstance(compare, array.CompareOp) or type(extremum) not in WINS:
            return
        x, c = compare.lhs, compare.rhs
        if (compare.predicate.data == WINS[type(extremum)] and op.true_value == x
                and {extremum.lhs, extremum.rhs} == {x, c}):
            rewriter.replace(op, (), (extremum.result,))


class FoldSumOfDiagonal(RewritePattern):
    """`reduce_sum(select(I, broadcast(v), 0))` over either axis of the
    n x n identity mask I is `v` (v of n elements, broadcast along either
    axis): the sum of one row or column of a diagonal matrix is its
    diagonal element. Edge pushing (passes/autodiff/edge_pushing.py)
    writes it when a diagonal block meets a sum's VJP; folded, no n x n
    loop is left."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.ReduceSumOp, rewriter: PatternRewriter) -> None:
        select = op.input.owner
        if not isinstance(select, array.SelectOp) or len(op.axes.get_values()) != 1:
            return
        broadcast, mask = select.true_value.owner, select.cond.owner
        if not isinstance(broadcast, array.BroadcastOp) or not isinstance(mask, array.ConstantOp):
            return
        shape = tuple(select.result.type.get_shape())
        v = broadcast.input
        if len(shape) != 2 or shape[0] != shape[1] or tuple(v.type.get_shape()) != shape[:1]:
            return
        if splat_value(select.false_value) != 0.0 or op.result.type != v.type:
            return
        if not np.array_equal(dense_to_numpy(mask.value), np.eye(shape[0], dtype=bool)):
            return
        rewriter.replace(op, (), (v,))


@dataclass
class FoldConstants(RewritePattern):
    """An op whose operands are all constants, evaluated with the array
    interpreter (the one definition of each op's meaning), when the result
    is a splat or has at most `fold_limit` elements. Not a while loop (its
    trip count may be unbounded, or exceed max_steps, an error of the call)
    nor a terminator."""

    fold_limit: int

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, array.ConstantOp | array.WhileOp) or op.dialect_name() != "array" or len(op.results) != 1:
            return  # a while may not stop (it runs when called); terminators yield; several results
        owners = [v.owner for v in op.operands]
        if not owners or not all(isinstance(o, array.ConstantOp) for o in owners):
            return
        if any(_elements(v.type) > MAX_CONSTANT_ELEMENTS for v in (*op.operands, *op.results)):
            return  # folding runs on full NumPy arrays (32 GB for 2^32 f64; found by gradc.tools.fuzz)
        # Imported here: most modules have nothing to fold, and the
        # interpreter is ~20 ms of imports (docs/architecture.md, "Import time").
        from xdsl.interpreter import Interpreter

        from gradc.interpreter.array import ArrayFunctions

        inputs = tuple(dense_to_numpy(o.value) for o in owners)  # type: ignore[union-attr]
        interpreter = Interpreter(ModuleOp([]))
        interpreter.register_implementations(ArrayFunctions())
        (result,) = interpreter.run_op(op, inputs)
        result = np.asarray(result)
        is_splat = result.size > 0 and bool(np.all(result == result.flat[0]))
        if result.size > self.fold_limit and not is_splat:
            return
        if is_splat:
            attr = splat_dense(result.flat[0], result.dtype, result.shape)
        else:
            attr = numpy_to_dense(result)
        folded = array.ConstantOp(attr)
        if isinstance(op, SHAPE_OPS) and all(SEED_ATTR in o.attributes for o in owners):
            folded.attributes[SEED_ATTR] = owners[0].attributes[SEED_ATTR]  # still a seed, reshaped
        rewriter.replace(op, folded)


def _seed(value: SSAValue) -> np.ndarray | None:
    """The 0/1 matrix of a rank-2 seed constant seen directly or through
    one 2-d transpose, else None."""
    op, transposed = value.owner, False
    if isinstance(op, array.TransposeOp) and tuple(op.perm) == (1, 0):
        op, transposed = op.input.owner, True
    if not isinstance(op, array.ConstantOp) or SEED_ATTR not in op.attributes:
        return None
    data = dense_to_numpy(op.value)
    if data.ndim != 2 or not np.all((data == 0) | (data == 1)):
        return None
    return data.T if transposed else data


class FoldSeedProducts(RewritePattern):
    """S @ X or X @ S (rank 2) with S a seed: row i of S @ X is the sum of
    the rows j of X with S[i, j] = 1, so the product is a gather of X's
    rows, and a scatter-add of them into zeros where a row of S holds
    several ones or none; X itself when S is the identity. No
    multiplication by the seed's zeros is left: where X holds an infinity,
    the entries of other directions stay exact (a dense product would make
    them NaN from 0 * inf)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.MatmulOp, rewriter: PatternRewriter) -> None:
        if len(op.result.type.get_shape()) != 2:
            return
        seed = _seed(op.lhs)
        if seed is not None:
            ops, result = self.rows_of(seed, op.rhs)
        else:
            seed = _seed(op.rhs)
            if seed is None:
                return
            # X @ S = (S^T @ X^T)^T
            xt = array.TransposeOp(op.lhs, [1, 0])
            ops, result = self.rows_of(seed.T, xt.result)
            back = array.TransposeOp(result, [1, 0])
            ops, result = [xt, *ops, back], back.result
        rewriter.replace(op, ops, [result])

    @staticmethod
    def rows_of(s: np.ndarray, x: SSAValue) -> tuple[list[Operation], SSAValue]:
        m, k = s.shape
        rows, cols = np.nonzero(s)  # row-major: sorted by output row
        if rows.size == m and np.array_equal(rows, np.arange(m)):
            if np.array_equal(cols, np.arange(k)):
                return [], x
            gather = array.GatherOp(x, [0], cols.reshape(-1, 1))
            return [gather], gather.result
        n = x.type.get_shape()[1]
        element = x.type.get_element_type()
        zeros = array.ConstantOp(splat_dense(0, numpy_dtype(element), (m, n)))
        gather = array.GatherOp(x, [0], cols.reshape(-1, 1))
        table = array.ConstantOp(numpy_to_dense(rows.astype(np.int32).reshape(-1, 1)))
        scatter = array.ScatterOp(zeros.result, table.result, gather.result, [0], "add", "clip")
        return [zeros, gather, table, scatter], scatter.result


@dataclass(frozen=True)
class ArraySimplify(ModulePass):
    name = "array-simplify"

    fold_limit: int = 4096
    """Largest non-splat constant (in elements) that folding may create."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    RemoveIdentityShapeOp(),
                    FoldTransposeChain(),
                    FoldReshapeChain(),
                    FoldDoubleNegation(),
                    FoldNeutralElement(),
                    FoldSelectOfWinner(),
                    FoldSumOfDiagonal(),
                    FoldSeedProducts(),
                    FoldConstants(self.fold_limit),
                ]
            )
        ).rewrite_module(op)
