"""A Newton solve in a while_loop and its gradient, float64, one thread.

Kepler's equation E - e sin E = M solved for the eccentric anomaly E of n
mean anomalies M at once (e = 0.6): Newton steps E <- E - (E - e sin E - M)
/ (1 - e cos E) from E = M, while max |E - e sin E - M| > 1e-12 (about 5
steps here; max_steps = 50). Loss L(M) = sum(E^2); every row computes
dL/dM, checked against the implicit-function value 2 E / (1 - e cos E) at
the reference solution (max |g - g_ref| / max |g_ref| <= 1e-10 passes).

- gradc: `gradc.jit(gradc.grad(loss))`: reverse mode through the
  while_loop (max_steps=50): the forward loop tapes each step's E (a tape
  of 50 x n doubles), the reverse loop runs n_steps VJPs of the body.
- gradc every=4: the same with `checkpoint="every=4"` (13 snapshots, each
  segment recomputed).
- gradc jvp: forward mode, `gradc.jvp` with a tangent of ones (the problem
  is elementwise, so 2 E times the JVP is the gradient).
- jax jvp: the same in JAX (`jax.jit` of `jax.jvp` through
  `lax.while_loop`; JAX has no reverse mode through while_loop).
- jax implicit: `jax.jit` of the solve (stop_gradient) followed by the
  implicit-function formula written by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing import gradient_agreement, require

TITLE = "Newton solve in a while_loop and its gradient (float64, 1 thread)"
SYSTEMS = ("gradc", "gradc every=4", "gradc jvp", "jax jvp", "jax implicit")
SIZES = {"n=1000": 1000, "n=100000": 100000}
ECC = 0.6
TOL = 1e-12
MAX_STEPS = 50
RTOL = 1e-10


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in SIZES for system in SYSTEMS]


def anomalies(n: int) -> np.ndarray:
    return np.random.default_rng(2).uniform(-3.0, 3.0, n)


def reference_grad(m: np.ndarray) -> np.ndarray:
    """2 E / (1 - e cos E) with E from Newton in NumPy (dE/dM by the
    implicit function theorem)."""
    e = m.copy()
    while np.max(np.abs(e - ECC * np.sin(e) - m)) > TOL:
        e = e - (e - ECC * np.sin(e) - m) / (1.0 - ECC * np.cos(e))
    return 2.0 * e / (1.0 - ECC * np.cos(e))


def build(config: str, system: str) -> tuple[Any, list[str]]:
    m = anomalies(SIZES[config])
    return BUILDERS[system.split(" ")[0]](system, m)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    reference = reference_grad(anomalies(SIZES[config]))
    error = float(np.max(np.abs(np.asarray(result) - reference)) / np.max(np.abs(reference)))
    return {"grad_rel_error": error}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    return gradient_agreement(rows, SIZES, RTOL, "dL/dM of {systems} vs the implicit formula")


def _gradc(system: str, m: np.ndarray) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp

    checkpoint = "every=4" if system == "gradc every=4" else None

    def solve(m):
        def residual(e):
            return e - ECC * gnp.sin(e) - m

        def newton(e):
            return e - residual(e) / (1.0 - ECC * gnp.cos(e))

        return gradc.while_loop(
            lambda e: gnp.max(gnp.abs(residual(e))) > TOL, newton, m, max_steps=MAX_STEPS, checkpoint=checkpoint
        )

    def loss(m):
        e = solve(m)
        return gnp.sum(e * e)

    if system == "gradc jvp":
        def grad_by_jvp(m):
            e, de = gradc.jvp(solve, (m,), (gnp.ones_like(m),))
            return 2.0 * e * de

        fast = gradc.jit(grad_by_jvp)
        return (lambda: fast(m)), ["jit(jvp) through while_loop, tangent of ones"]
    grad = gradc.grad(loss)
    memory = gradc.lower(grad, m).memory
    fast = gradc.jit(grad)
    note = f"jit(grad) through while_loop, max_steps={MAX_STEPS}" + (f", checkpoint={checkpoint}" if checkpoint else "")
    used = f"workspace {memory['workspace_bytes']:,} B + stack {memory['stack_bytes']:,} B"
    return (lambda: fast(m)), [note, used]


def _jax(system: str, m: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def solve(m):
        def residual(e):
            return e - ECC * jnp.sin(e) - m

        def newton(e):
            return e - residual(e) / (1.0 - ECC * jnp.cos(e))

        return jax.lax.while_loop(lambda e: jnp.max(jnp.abs(residual(e))) > TOL, newton, m)

    if system == "jax jvp":
        @jax.jit
        def grad(m):
            e, de = jax.jvp(solve, (m,), (jnp.ones_like(m),))
            return 2.0 * e * de

        note = "jit(jvp) through lax.while_loop"
    else:
        @jax.jit
        def grad(m):
            e = jax.lax.stop_gradient(solve(m))
            return 2.0 * e / (1.0 - ECC * jnp.cos(e))

        note = "jit: solve, then the implicit-function formula by hand"
    mj = jax.device_put(m)
    return (lambda: grad(mj).block_until_ready()), [note]


BUILDERS = {"gradc": _gradc, "jax": _jax}
