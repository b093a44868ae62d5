"""Compile time of every function the other workloads run: gradc's first call
(trace to loaded C, with an empty GRADC_CACHE_DIR) next to JAX's first call
(trace + XLA compile). Each row is one fresh process, so nothing is cached in
memory either; the first call also runs the function once (microseconds to
milliseconds, negligible here).
"""

from __future__ import annotations

import importlib
from typing import Any

from timing import first_call

TITLE = "Compile time (first call in a fresh process: trace + compile + load)"
SYSTEMS = ("gradc", "jax")
TARGETS = {
    "MLP step (a) 64-128-10 b32": ("mlp_step", "(a) 64-128-10 b32"),
    "MLP step (b) 784-512-10 b128": ("mlp_step", "(b) 784-512-10 b128"),
    "Rosenbrock Hessian n=10": ("rosenbrock", "n=10"),
    "Rosenbrock Hessian n=100": ("rosenbrock", "n=100"),
    "scalar f(x,y)": ("scalar_call", "f(x,y)"),
    "scalar grad f": ("scalar_call", "grad f"),
}


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in TARGETS for system in SYSTEMS]


def measure(config: str, system: str) -> dict[str, Any]:
    """One sample: the first call of the target's function (a workload with
    `measure` replaces the usual warm-up-and-repeat timing)."""
    module_name, target_config = TARGETS[config]
    module = importlib.import_module(module_name)
    call, _ = module.build(target_config, system)
    _, elapsed = first_call(call)
    return {"median_s": elapsed, "min_s": elapsed, "max_s": elapsed, "notes": []}
