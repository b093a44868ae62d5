"""Dense Hessian of the extended (chained) Rosenbrock function, float64:
gradc vs JAX vs CasADi's generated C.

    f(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2,   i = 0 .. n-2

Its Hessian is tridiagonal (3n-2 nonzeros); every system returns it as a
dense n x n array and is checked against the closed form. The one-off cost of
each side is part of the row: gradc's first call (trace to loaded C), JAX's
first call (trace + XLA compile), CasADi's code generation plus `gcc -O3
-march=native`.

- gradc: `gradc.jit(gradc.hessian(f))` called on a NumPy array.
- jax: `jax.jit(jax.hessian(f))` (forward over reverse), blocked per call.
- casadi: SX `hessian`, `densify`, `CodeGenerator`, compiled to a shared
  library together with a small C entry point and called through ctypes on
  fixed input and output buffers (bench/casadi_codegen.py).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from casadi_codegen import compiled_call
from timing import Skip, require

TITLE = "Extended Rosenbrock dense Hessian (float64, 1 thread)"
SYSTEMS = ("gradc", "jax", "casadi")
SIZES = {"n=10": 10, "n=100": 100}


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in SIZES for system in SYSTEMS]


def point(n: int) -> np.ndarray:
    return np.random.default_rng(1).uniform(-1.5, 1.5, n)


def exact_hessian(x: np.ndarray) -> np.ndarray:
    n = x.size
    diagonal = np.zeros(n)
    diagonal[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diagonal[1:] += 200
    off = -400 * x[:-1]
    return np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)


def build(config: str, system: str) -> tuple[Any, list[str]]:
    return BUILDERS[system](point(SIZES[config]))


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    hessian = np.asarray(result)
    x = point(SIZES[config])
    return {"max_abs_err": float(np.max(np.abs(hessian - exact_hessian(x))))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['config']} {r['system']}: max |H - H_exact| = {r['max_abs_err']:.1e}"
        for r in rows
        if "max_abs_err" in r
    ]


def _gradc(x: np.ndarray) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp

    if not hasattr(gradc, "hessian"):
        raise Skip("gradc.hessian not available in this checkout")

    def rosenbrock(x):
        return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    hess = gradc.jit(gradc.hessian(rosenbrock))
    return (lambda: hess(x)), []


def _jax(x: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def rosenbrock(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    hess = jax.jit(jax.hessian(rosenbrock))
    xj = jax.device_put(x)
    return (lambda: hess(xj).block_until_ready()), ["jit(hessian), blocked per call"]


def _casadi(x: np.ndarray) -> tuple[Any, list[str]]:
    ca = require("casadi")
    n = x.size
    start = time.perf_counter()
    xs = ca.SX.sym("x", n)
    f = ca.sum1(100 * (xs[1:] - xs[:-1] ** 2) ** 2 + (1 - xs[:-1]) ** 2)
    hessian, _ = ca.hessian(f, xs)
    function = ca.Function("rosen_hess", [xs], [ca.densify(hessian)])
    symbolic_s = time.perf_counter() - start
    call, notes = compiled_call(function, x, symbolic_s)
    return (lambda: call().reshape(n, n)), notes


BUILDERS = {"gradc": _gradc, "jax": _jax, "casadi": _casadi}
