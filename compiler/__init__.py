"""gradc: NumPy-like Python functions compiled to dependency-free C.

    import gradc
    import gradc.numpy as gnp

    @gradc.jit
    def layer(x, w, b):
        return gnp.tanh(x @ w + b)

`jit`, `lower` and `export_c` are the entry points (see `gradc.transforms.api`);
`specialize` compiles a function with chosen arguments baked in as constants
(`gradc.transforms.specialize`);
`Options` their pipeline options (tiling, memory planning, threads);
`grad`, `value_and_grad`, `jvp`, `vjp`, `jacfwd`, `jacrev`, `jacobian` and
`hessian` transform functions as in JAX and compose with `jit` and each
other (see `gradc.transforms.derivatives`); `vmap` maps a function over
a batch axis (`gradc.transforms.vmap`); `scan`, `fori_loop`,
`while_loop` and `checkpoint` are structured loops (`gradc.transforms.control_flow`),
`stop_gradient` blocks derivatives; `custom_jvp` and `custom_vjp` give a
function derivative rules of its own (`gradc.transforms.custom_derivatives`); `GradcError` is the base of every error a
user can cause (`LoopLimitError`: a while_loop ran past its max_steps); `gradc.random` is JAX's PRNG (docs/random.md). How Python
is traced: docs/frontend.md.
"""

from gradc import numpy  # noqa: F401  (makes `gradc.numpy` an attribute)
from gradc import tune  # noqa: F401  (gradc.tune.tune, gradc.tune.tune_matmul)
from gradc import random  # noqa: F401  (gradc.random.key, split, uniform, ...)
from gradc.errors import GradcError, LoopLimitError
from gradc.frontend.elementwise import stop_gradient
from gradc.pipeline import Options
from gradc.transforms.api import export_c, jit, lower
from gradc.transforms.specialize import specialize
from gradc.transforms.control_flow import checkpoint, fori_loop, scan, while_loop
from gradc.transforms.custom_derivatives import custom_jvp, custom_vjp
from gradc.transforms.derivatives import grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
from gradc.transforms.vmap import vmap

__all__ = [
    "jit",
    "lower",
    "export_c",
    "specialize",
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "vmap",
    "stop_gradient",
    "scan",
    "fori_loop",
    "while_loop",
    "checkpoint",
    "custom_jvp",
    "custom_vjp",
    "GradcError",
    "LoopLimitError",
    "Options",
    "numpy",
    "random",
]
