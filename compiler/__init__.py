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
other (see `gradc.transforms.derivatives`); `jacobian_sparsity` and
`hessian_sparsity` give the structural patterns their sparse and compressed
forms use (`gradc.transforms.sparsity`, docs/sparsity.md); `vmap` maps a function over
a batch axis (`gradc.transforms.vmap`); `scan`, `fori_loop`,
`while_loop` and `checkpoint` are structured loops (`gradc.transforms.control_flow`),
`stop_gradient` blocks derivatives; `custom_jvp` and `custom_vjp` give a
function derivative rules of its own (`gradc.transforms.custom_derivatives`); `GradcError` is the base of every error a
user can cause (`LoopLimitError`: a while_loop ran past its max_steps; `OutError`: a call's `out=` it cannot write into); `gradc.random` is JAX's PRNG (docs/random.md). How Python
is traced: docs/frontend.md.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from gradc import lax, nn, numpy, random, scipy, stack_usage, tune
    from gradc.errors import GradcError, LoopLimitError, OutError
    from gradc.frontend.elementwise import stop_gradient
    from gradc.pipeline import Options
    from gradc.transforms.api import export_c, jit, lower
    from gradc.transforms.specialize import specialize
    from gradc.transforms.control_flow import checkpoint, fori_loop, scan, while_loop
    from gradc.transforms.custom_derivatives import custom_jvp, custom_vjp
    from gradc.transforms.derivatives import grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
    from gradc.transforms.sparsity import SparsityPattern, hessian_sparsity, jacobian_sparsity
    from gradc.transforms.vmap import vmap

_HOMES: dict[str, str] = {
    "jit": "gradc.transforms.api",
    "lower": "gradc.transforms.api",
    "export_c": "gradc.transforms.api",
    "specialize": "gradc.transforms.specialize",
    **dict.fromkeys(
        ("grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian"), "gradc.transforms.derivatives"
    ),
    "vmap": "gradc.transforms.vmap",
    **dict.fromkeys(("jacobian_sparsity", "hessian_sparsity", "SparsityPattern"), "gradc.transforms.sparsity"),
    "stop_gradient": "gradc.frontend.elementwise",
    **dict.fromkeys(("scan", "fori_loop", "while_loop", "checkpoint"), "gradc.transforms.control_flow"),
    "custom_jvp": "gradc.transforms.custom_derivatives",
    "custom_vjp": "gradc.transforms.custom_derivatives",
    "GradcError": "gradc.errors",
    "LoopLimitError": "gradc.errors",
    "OutError": "gradc.errors",
    "Options": "gradc.pipeline",
}
"""The module that defines each public name. `import gradc` imports none of
them (nor xDSL, NumPy or the passes): the first use of a name imports its
module (PEP 562), so a program pays for what it uses, and `gradc-opt` or a
module that only decorates functions starts quickly (docs/architecture.md)."""

_SUBMODULES = ("numpy", "random", "lax", "nn", "scipy", "tune", "stack_usage", "distributed")
"""Public submodules that are attributes of `gradc` without an import of their own."""


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"gradc.{name}")
    else:
        raise AttributeError(f"module 'gradc' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
    "jacobian_sparsity",
    "hessian_sparsity",
    "SparsityPattern",
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
    "OutError",
    "Options",
    "numpy",
    "random",
]
