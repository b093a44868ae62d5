"""What this plugin adds to xdsl-opt and gradc-opt: one pass.

Names are global across all installed plugins (xDSL refuses to load two
plugins that define the same name), hence the `example-` prefix. The pass
module is imported only when the pass is run, so listing passes stays cheap.
"""

from xdsl.passes import ModulePass
from xdsl.universe import Universe


def get_mul_by_two_to_add() -> type[ModulePass]:
    from gradc_plugin_example.mul_by_two_to_add import MulByTwoToAddPass

    return MulByTwoToAddPass


EXAMPLE_UNIVERSE = Universe(
    all_passes={"example-mul-by-two-to-add": get_mul_by_two_to_add},
)
