"""gradc's passes, one module per pass, each named after its CLI name.

`get_all_passes()` maps CLI names to loaders, so that importing the registry
stays cheap and `xdsl-opt` only imports the passes it runs.
"""

from collections.abc import Callable

from xdsl.passes import ModulePass


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

    return {
        "array-simplify": array_simplify,
        "lower-array-to-loops": lower_array_to_loops,
        "lower-loops-to-c": lower_loops_to_c,
    }
