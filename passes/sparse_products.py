"""sparse-products: matrix products with a constant operand skip its zeros.

Expects: array-level functions after array-simplify and canonicalize
(constants folded; a constant seen through one 2-d transpose counts).
Run before cse and dce, which share the tables and drop the dense
constants no longer used.

Guarantees: the same values up to the order of the sums (and the sign of
a zero result), with no multiplication by a zero of the constant operand
of a rank-2 `array.matmul` that this pass rewrites:
- below `density` nonzeros (and at least `min-elements` elements), W @ X
  with W constant becomes a sparse product: `array.gather` of the rows of
  X that W's nonzeros read, times their values (one constant table, sorted
  by output row), summed into the output rows by `array.scatter` "add"
  (the row indices another constant table). X @ W is computed as
  (W^T @ X^T)^T, stored row-major once (an identity reshape: run
  array-simplify before this pass, not after). In C the tables are `static const` arrays and the loop
  runs over the nonzeros only;
- otherwise, when W's all-zero rows and columns remove at least
  `1 - compact` of its elements, the product runs on the nonzero rows and
  columns only (the other operand gathered to match, the result's skipped
  rows or columns set to 0 by a scatter into zeros).
- (A @ B) * C with C constant below `density` nonzeros and the product
  used only there (a pruned weight's masked gradient): one dot product
  per nonzero of C, scattered into zeros.
Everything else is left alone. Nothing is erased: run `dce` afterwards.
A skipped zero is not multiplied: where the other operand holds an
infinity or NaN, the dense product's NaN (0 * inf) becomes the sum of the
other terms.

Options: `density` (0.25), `compact` (0.875), `min-elements` (256).
Why: docs/lowering.md ("Constant operands").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
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


def constant_matrix(value: SSAValue) -> np.ndarray | None:
    """The values of a rank-2 constant (possibly through one transpose),
    else None; splats are None (array-simplify handles those)."""
    op = value.owner
    transposed = False
    if isinstance(op, array.TransposeOp) and tuple(op.perm) == (1, 0):
        op, transposed = op.input.owner, True
    if not isinstance(op, array.ConstantOp) or splat_element(op.value) is not None:
        return None
    data = dense_to_numpy(op.value)
    if data.ndim != 2 or data.dtype.kind != "f":
        return None
    return data.T if transposed else data


def _table(rows: np.ndarray) -> array.ConstantOp:
    """An int32 column of indices, shape [n, 1]: a scatter's index operand."""
    return array.ConstantOp(numpy_to_dense(np.asarray(rows, np.int32).reshape(-1, 1)))


def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> array.ConstantOp:
    return array.ConstantOp(splat_dense(0, dtype, shape))


@dataclass
class SparseConstantProducts(RewritePattern):
    density: float
    compact: float
    min_elements: int

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.MatmulOp, rewriter: PatternRewriter) -> None:
        if len(op.result.type.get_shape()) != 2:
            return
        left = constant_matrix(op.lhs)
        if left is not None and left.size >= self.min_elements:
            found = self.left_product(left, op.rhs, [])
        else:
            right = constant_matrix(op.rhs)
            if right is None or right.size < self.min_elements:
                return
            # X @ W = (W^T @ X^T)^T
            xt = array.TransposeOp(op.lhs, [1, 0])
            found = self.left_product(right.T, xt.result, [xt])
            if found is None:
                xt.erase()  # never inserted: drop its use of the operand
            else:
                ops, product = found
                back = array.TransposeOp(product, [1, 0])
                # An identity reshape needs its operand in a buffer of its own
                # (fusion.plan_buffers): the transposed result is stored once,
                # row-major, so its consumers (a tanh) read it contiguously
                # and vectorize, rather than each reading it with strides.
                copy = array.ReshapeOp(back, back.result.type.get_shape())
                found = [*ops, back, copy], copy.result
        if found is not None:
            rewriter.replace(op, found[0], [found[1]])

    def left_product(
        self, w: np.ndarray, x: SSAValue, ops: list[Operation]
    ) -> tuple[list[Operation], SSAValue] | None:
        """The ops (after `ops`) computing W @ x for the constant W without
        its zeros, and their result; None when neither form pays."""
        m, k = w.shape
        n = x.type.get_shape()[1]
        dtype = w.dtype
        nonzero = w != 0
        count = int(nonzero.sum())

        def add(new: Operation) -> SSAValue:
            ops.append(new)
            return new.results[0]

        if count == 0:
            result = add(_zeros((m, n), dtype))
        elif count <= self.density * w.size:
            rows, cols = np.nonzero(nonzero)  # row-major: sorted by output row
            gathered = add(array.GatherOp(x, [0], cols.reshape(-1, 1)))
            values = add(array.ConstantOp(numpy_to_dense(np.ascontiguousarray(w[rows, cols]))))
            scale = add(array.BroadcastOp(values, [0], [count, n]))
            terms = add(array.MulOp(gathered, scale))
            result = add(array.ScatterOp(add(_zeros((m, n), dtype)), add(_table(rows)), terms, [0], "add", "clip"))
        else:
            live_rows = np.flatnonzero(nonzero.any(axis=1))
            live_cols = np.flatnonzero(nonzero.any(axis=0))
            if live_rows.size * live_cols.size > self.compact * w.size:
                return None
            compact = np.ascontiguousarray(w[np.ix_(live_rows, live_cols)])
            operand = x if live_cols.size == k else add(array.GatherOp(x, [0], live_cols.reshape(-1, 1)))
            result = add(array.MatmulOp(add(array.ConstantOp(numpy_to_dense(compact))), operand))
            if live_rows.size < m:
                result = add(array.ScatterOp(add(_zeros((m, n), dtype)), add(_table(live_rows)), result, [0],
                                             "set", "clip"))
        return ops, result


@dataclass
class SampledProducts(RewritePattern):
    """(A @ B) * C with C a constant below `density` nonzeros (and at least
    `min_elements` elements) and the product used only there: one dot
    product per nonzero of C (a masked weight gradient of a pruned
    network), scattered into zeros."""

    density: float
    min_elements: int

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.MulOp, rewriter: PatternRewriter) -> None:
        for product, mask in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            matmul = product.owner
            if not isinstance(matmul, array.MatmulOp) or not product.has_one_use():
                continue
            if len(product.type.get_shape()) != 2:
                continue
            c = constant_matrix(mask)
            if c is None or c.size < self.min_elements or not 0 < np.count_nonzero(c) <= self.density * c.size:
                continue
            rewriter.replace(op, *self.sampled(matmul, c))
            return

    @staticmethod
    def sampled(matmul: array.MatmulOp, c: np.ndarray) -> tuple[list[Operation], list[SSAValue]]:
        rows, cols = np.nonzero(c)
        ops: list[Operation] = [
            rows_of_a := array.GatherOp(matmul.lhs, [0], rows.reshape(-1, 1)),
            bt := array.TransposeOp(matmul.rhs, [1, 0]),
            columns_of_b := array.GatherOp(bt, [0], cols.reshape(-1, 1)),
            terms := array.MulOp(rows_of_a, columns_of_b),
            dots := array.ReduceSumOp(terms, [1]),
            values := array.ConstantOp(numpy_to_dense(np.ascontiguousarray(c[rows, cols]))),
            scaled := array.MulOp(dots, values),
            zeros := _zeros(c.shape, c.dtype),
            positions := array.ConstantOp(numpy_to_dense(np.stack([rows, cols], 1).astype(np.int32))),
            result := array.ScatterOp(zeros, positions, scaled, [0, 1], "set", "clip"),
        ]
        return ops, [result.result]


@dataclass(frozen=True)
class SparseProducts(ModulePass):
    name = "sparse-products"

    density: float = 0.25
    """Largest fraction of nonzeros that makes a product sparse."""
    compact: float = 0.875
    """Largest fraction of elements left by dropping zero rows and columns
    that makes a dense product run on the rest."""
    min_elements: int = 256
    """Smaller constant matrices are left alone."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([
                SampledProducts(self.density, self.min_elements),
                SparseConstantProducts(self.density, self.compact, self.min_elements),
            ]),
            apply_recursively=False,
        ).rewrite_module(op)
