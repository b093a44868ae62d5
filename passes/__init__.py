"""gradc's passes, one module per pass, each named after its CLI name
(`tile-matmul` is passes/tile_matmul.py).

Guarantees: `get_all_passes()` maps every CLI name to a loader of its pass
class, so importing the registry imports no pass and `xdsl-opt` only
imports the passes it runs. Shared machinery lives in subpackages:
passes/autodiff/ (docs/differentiation.md) and passes/tiling/
(docs/tiling.md).
"""

from collections.abc import Callable

from xdsl.passes import ModulePass

MATH_CHOICES = ("gradc", "libm")
"""The values of lower-loops-to-c's `math` option; here, not in the pass, so
that `gradc.pipeline.Options` checks them without importing the pass."""


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    def lower_array_to_loops() -> type[ModulePass]:
        from gradc.passes.lower_array_to_loops import LowerArrayToLoops

        return LowerArrayToLoops

    def lower_loops_to_c() -> type[ModulePass]:
        from gradc.passes.lower_loops_to_c import LowerLoopsToC

        return LowerLoopsToC

    def array_simplify() -> type[ModulePass]:
        from gradc.passes.array_simplify import ArraySimplify

        return ArraySimplify

    def autodiff_forward() -> type[ModulePass]:
        from gradc.passes.autodiff_forward import AutodiffForward

        return AutodiffForward

    def autodiff_reverse() -> type[ModulePass]:
        from gradc.passes.autodiff_reverse import AutodiffReverse

        return AutodiffReverse

    def autodiff_jacobian() -> type[ModulePass]:
        from gradc.passes.autodiff_jacobian import AutodiffJacobian

        return AutodiffJacobian

    def tile_matmul() -> type[ModulePass]:
        from gradc.passes.tile_matmul import TileMatmul

        return TileMatmul

    def plan_memory() -> type[ModulePass]:
        from gradc.passes.plan_memory import PlanMemory

        return PlanMemory

    def stack_alloc() -> type[ModulePass]:
        from gradc.passes.stack_alloc import StackAlloc

        return StackAlloc

    def parallelize() -> type[ModulePass]:
        from gradc.passes.parallelize import Parallelize

        return Parallelize

    def factor_broadcasts() -> type[ModulePass]:
        from gradc.passes.factor_broadcasts import FactorBroadcasts

        return FactorBroadcasts

    def sparse_products() -> type[ModulePass]:
        from gradc.passes.sparse_products import SparseProducts

        return SparseProducts

    def outline_nests() -> type[ModulePass]:
        from gradc.passes.outline_nests import OutlineNests

        return OutlineNests

    def differentiate() -> type[ModulePass]:
        from gradc.passes.differentiate import Differentiate

        return Differentiate

    return {
        "array-simplify": array_simplify,
        "autodiff-forward": autodiff_forward,
        "autodiff-reverse": autodiff_reverse,
        "autodiff-jacobian": autodiff_jacobian,
        "differentiate": differentiate,
        "lower-array-to-loops": lower_array_to_loops,
        "lower-loops-to-c": lower_loops_to_c,
        "outline-nests": outline_nests,
        "plan-memory": plan_memory,
        "stack-alloc": stack_alloc,
        "parallelize": parallelize,
        "sparse-products": sparse_products,
        "factor-broadcasts": factor_broadcasts,
        "tile-matmul": tile_matmul,
    }
