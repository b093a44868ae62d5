"""Gradient through a loop (issue #5's benchmark), float64, 1 thread:

    x_{t+1} = x_t + 0.01 tanh(W x_t),  x in R^64, W 64x64,  loss = sum(x_T^2)

gradient with respect to W, T in {100, 1000, 10000}.

- gradc: `gradc.jit(gradc.grad(loss))` with the loop a `gradc.fori_loop`:
  a forward loop that stores the values the step's adjoint reads (tanh(W x_t)
  and x_t: the full tape, 2 x 64 doubles per step, in the caller's
  workspace, no heap), then a reverse loop. Its notes give gradc's
  workspace bytes.
- jax: `jax.jit(jax.grad(loss))` over `lax.fori_loop` (a scan: reversible),
  blocked per call.

Each row is checked along a random direction against a central
difference of the loss computed in NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing import require

TITLE = "Gradient through a 64-wide tanh recurrence, full tape (float64, 1 thread)"
SYSTEMS = ("gradc", "jax")
SIZES = {"T=100": 100, "T=1000": 1000, "T=10000": 10000}
N = 64


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in SIZES for system in SYSTEMS]


def problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.normal(size=(N, N)) / np.sqrt(N), rng.normal(size=N)


def build(config: str, system: str) -> tuple[Any, list[str]]:
    steps = SIZES[config]
    w, x0 = problem()
    if system == "gradc":
        import gradc
        import gradc.numpy as gnp

        def loss(w, x0):
            x = gradc.fori_loop(0, steps, lambda i, x: x + 0.01 * gnp.tanh(w @ x), x0)
            return gnp.sum(x * x)

        memory = gradc.lower(gradc.grad(loss), w, x0).memory
        fast = gradc.jit(gradc.grad(loss))
        return (lambda: fast(w, x0)), [f"workspace {memory['workspace_bytes']} B, stack {memory['stack_bytes']} B"]
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def jloss(w, x0):
        x = jax.lax.fori_loop(0, steps, lambda i, x: x + 0.01 * jnp.tanh(w @ x), x0)
        return jnp.sum(x * x)

    fast = jax.jit(jax.grad(jloss))
    jw, jx = jnp.asarray(w), jnp.asarray(x0)
    return (lambda: fast(jw, jx).block_until_ready()), ["jit(grad) over lax.fori_loop, blocked per call"]


def loss_numpy(w: np.ndarray, x: np.ndarray, steps: int) -> float:
    for _ in range(steps):
        x = x + 0.01 * np.tanh(w @ x)
    return float(np.sum(x * x))


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    """The gradient along a random direction against a central difference
    (its own error is ~6e-5 relative at T=10000, where x grows a lot;
    gradc and JAX agree with each other to ~1e-8 there)."""
    steps, (w, x0) = SIZES[config], problem()
    direction = np.random.default_rng(6).normal(size=w.shape)
    h = 1e-6
    fd = (loss_numpy(w + h * direction, x0, steps) - loss_numpy(w - h * direction, x0, steps)) / (2 * h)
    error = abs(float(np.sum(np.asarray(result) * direction)) - fd) / max(abs(fd), 1e-30)
    assert error < 1e-4, error
    return {"directional_rel_error": error}
