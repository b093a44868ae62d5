"""gradc's dialects: `array` (tensor math), `autodiff` (derivative requests,
and the tape and checkpoint schedules of a loop's reverse sweep), `loops`
(loop nests over buffers) and `c` (what the C printer prints).

`get_all_dialects` maps each name to a loader (for gradc-opt and xdsl-opt).
A dialect imports nothing of gradc's but other dialects. Overview of the
packages and why the dialects look as they do: docs/dialects.md.
"""

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    def get_array() -> Dialect:
        from gradc.dialects.array import Array

        return Array

    def get_loops() -> Dialect:
        from gradc.dialects.loops import Loops

        return Loops

    def get_c() -> Dialect:
        from gradc.dialects.c import C

        return C

    def get_autodiff() -> Dialect:
        from gradc.dialects.autodiff import Autodiff

        return Autodiff

    return {"array": get_array, "autodiff": get_autodiff, "loops": get_loops, "c": get_c}
