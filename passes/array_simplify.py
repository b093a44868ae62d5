"""array-simplify: algebraic simplification and constant folding at the array level.

Expects: array-level functions (any mix of `array` ops).

Guarantees: array-level functions computing the same values (up to the
sign of a zero) with the same derivatives and fewer ops: identity shape
ops are gone; transpose, reshape and negation chains are folded; neutral
elements (x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1) are dropped;
`select(x > c, x, max(x, c))` is `max(x, c)` (and `<` with min); an op
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
from gradc.support.dense import dense_to_numpy, numpy_to_dense, splat_dense, splat_element
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
        rewriter.replace(op, array.ConstantOp(attr))


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
                    FoldConstants(self.fold_limit),
                ]
            )
        ).rewrite_module(op)
