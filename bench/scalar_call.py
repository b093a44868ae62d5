"""Per-call cost of a tiny scalar function and its gradient, float64, called
from Python with Python floats: gradc vs JAX jit vs PyTorch eager vs plain
Python `math`.

    f(x, y) = sin(x) * y + x * x,   grad f = (cos(x) * y + 2 x, sin(x))

At this size the work is a few nanoseconds; what is measured is the crossing
from Python into each system and back (argument conversion, dispatch, result
objects).

- gradc: `gradc.jit(f)` and `gradc.jit(gradc.grad(f, argnums=(0, 1)))`.
- jax: the same through `jax.jit` / `jax.grad` with float64 enabled,
  blocked per call.
- torch: 0-d float64 tensors made from the floats in every call; the
  gradient through `torch.autograd.grad`.
- python: `math.sin`, `math.cos` and the hand-derived gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from timing import Skip, pinned_torch, require

TITLE = "Tiny scalar function from Python floats (float64, 1 thread)"
SYSTEMS = ("gradc", "jax", "torch", "python")
CONFIGS = ("f(x,y)", "grad f")
X, Y = 0.7, -1.3


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in CONFIGS for system in SYSTEMS]


def expected(config: str) -> tuple[float, ...]:
    if config == "f(x,y)":
        return (math.sin(X) * Y + X * X,)
    return (math.cos(X) * Y + 2 * X, math.sin(X))


def build(config: str, system: str) -> tuple[Any, list[str]]:
    return BUILDERS[system](config == "grad f")


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    parts = result if isinstance(result, tuple | list) else (result,)
    got = np.array([float(np.asarray(part)) for part in parts])
    return {"max_abs_err": float(np.max(np.abs(got - np.array(expected(config)))))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    bad = [f"{r['config']} {r['system']}" for r in rows if r.get("max_abs_err", 0.0) > 1e-12]
    return [f"results differ from math.sin/cos: {', '.join(bad)}"] if bad else ["all results match math.sin/cos (1e-12)"]


def _gradc(gradient: bool) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp

    def f(x, y):
        return gnp.sin(x) * y + x * x

    if gradient:
        if not hasattr(gradc, "grad"):
            raise Skip("gradc.grad not available in this checkout")
        fast = gradc.jit(gradc.grad(f, argnums=(0, 1)))
    else:
        fast = gradc.jit(f)
    return (lambda: fast(X, Y)), []


def _jax(gradient: bool) -> tuple[Any, list[str]]:
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def f(x, y):
        return jnp.sin(x) * y + x * x

    fast = jax.jit(jax.grad(f, argnums=(0, 1)) if gradient else f)
    return (lambda: jax.block_until_ready(fast(X, Y))), ["jit, blocked per call"]


def _torch(gradient: bool) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    f64 = torch.float64

    def value():
        x, y = torch.tensor(X, dtype=f64), torch.tensor(Y, dtype=f64)
        return torch.sin(x) * y + x * x

    def grad():
        x = torch.tensor(X, dtype=f64, requires_grad=True)
        y = torch.tensor(Y, dtype=f64, requires_grad=True)
        return torch.autograd.grad(torch.sin(x) * y + x * x, (x, y))

    return (grad if gradient else value), ["eager; tensors made from the floats per call"]


def _python(gradient: bool) -> tuple[Any, list[str]]:
    sin, cos = math.sin, math.cos

    def value():
        return sin(X) * Y + X * X

    def grad():
        return (cos(X) * Y + 2 * X, sin(X))

    return (grad, ["gradient derived by hand"]) if gradient else (value, [])


BUILDERS = {"gradc": _gradc, "jax": _jax, "torch": _torch, "python": _python}
