"""`gradc.tune`: opt-in autotuning of matrix-product block sizes.

    gradc.tune.tune(f, *args)                         # every product in f
    gradc.tune.tune_matmul(512, 512, 512, "float32")  # one shape
    fast = gradc.jit(f, tuned=True)

The tuner is `gradc.tools.tune`; the store it writes, `gradc.support.tuning`.
"""

from gradc.tools.tune import *  # noqa: F403
from gradc.tools.tune import __all__  # noqa: F401
