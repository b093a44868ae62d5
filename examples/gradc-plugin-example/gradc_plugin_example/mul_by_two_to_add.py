"""`example-mul-by-two-to-add`: `x * 2.0` becomes `x + x`.

Expects array-level IR (`array` ops on tensors). Rewrites every `array.mul`
one of whose operands is a splat `array.constant` of 2.0 (on either side:
multiplication commutes) into `array.add %x, %x`, which is exact in IEEE
arithmetic. Other ops are left alone; the constant stays and `dce` removes it
once nothing uses it.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from gradc.dialects import array


def is_splat_two(value: SSAValue) -> bool:
    """Whether `value` is an `array.constant` whose every element is 2.0."""
    op = value.owner
    return (
        isinstance(op, array.ConstantOp)
        and op.value.is_splat()
        and op.value.get_values()[0] == 2.0
    )


class MulByTwoToAdd(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: array.MulOp, rewriter: PatternRewriter) -> None:
        if is_splat_two(op.rhs):
            x = op.lhs
        elif is_splat_two(op.lhs):
            x = op.rhs
        else:
            return
        add = array.AddOp(x, x)
        # Keep the source location: an error about the new op then still
        # points at the line of the user's file it came from.
        add.location = op.location
        rewriter.replace(op, add)


@dataclass(frozen=True)
class MulByTwoToAddPass(ModulePass):
    name = "example-mul-by-two-to-add"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(MulByTwoToAdd()).rewrite_module(op)
