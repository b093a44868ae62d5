"""gradc's dialects, passes and the `c` target, as an xDSL plugin.

Guarantees: registered under the `xdsl.universe` entry point, so plain
`xdsl-opt` can parse gradc programs, run its passes and print C (`-t c`)
once gradc is installed.
"""

from collections.abc import Callable

from xdsl.universe import Universe
from xdsl.utils.target import Target

from gradc.dialects import get_all_dialects
from gradc.passes import get_all_passes


def get_all_targets() -> dict[str, Callable[[], type[Target]]]:
    def get_c() -> type[Target]:
        from gradc.backend.target_c import CTarget

        return CTarget

    return {"c": get_c}


GRADC_UNIVERSE = Universe(
    all_dialects=get_all_dialects(),
    all_passes=get_all_passes(),
    all_targets=get_all_targets(),
)
