"""Compile-time sparsity patterns (passes/autodiff/sparsity.py), one thread.

Each row times the pattern computation alone, on a traced module (tracing
and, for Hessians, building the gradient happen once, in `build`; the
gradient is reused by later calls):

- laplacian: the Jacobian of the residual x[i-1] - 2 x[i] + x[i+1] + exp(x[i])
  (zero boundary values), tridiagonal, 3n - 2 entries.
- rosenbrock: the Hessian of the extended Rosenbrock function, tridiagonal.
- cumsum scan: the Jacobian of ys[i] = (x[0] + ... + x[i-1]) x[i] by a
  `lax.scan` of n steps (run step by step), lower triangular without the
  diagonal's first entry.

Checked against the known entry count. Not in run.py's WORKLOADS yet:
`python bench/run.py --only sparsity` once it is registered there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TITLE = "Sparsity patterns at compile time (1 thread)"
SYSTEMS = ("gradc",)
CONFIGS = {
    "laplacian n=10000": ("laplacian", 10000),
    "rosenbrock hessian n=1000": ("rosenbrock", 1000),
    "rosenbrock hessian n=10000": ("rosenbrock", 10000),
    "cumsum scan n=1000": ("cumsum", 1000),
}


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in CONFIGS for system in SYSTEMS]


def _functions() -> dict[str, Any]:
    import gradc.lax as lax
    import gradc.numpy as gnp

    def laplacian(x):
        xp = gnp.concatenate([gnp.zeros(1), x, gnp.zeros(1)])
        return xp[:-2] - 2.0 * x + xp[2:] + gnp.exp(x)

    def rosenbrock(x):
        return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def cumsum(x):
        return lax.scan(lambda c, v: (c + v, c * v), 0.0, x)[1]

    return {"laplacian": laplacian, "rosenbrock": rosenbrock, "cumsum": cumsum}


def expected_nnz(config: str) -> int:
    kind, n = CONFIGS[config]
    return {"laplacian": 3 * n - 2, "rosenbrock": 3 * n - 2, "cumsum": n * (n + 1) // 2 - 1}[kind]


def build(config: str, system: str) -> tuple[Any, list[str]]:
    import gradc
    from xdsl.dialects import func

    from gradc.passes.autodiff.sparsity import hessian_pattern, jacobian_pattern

    kind, n = CONFIGS[config]
    lowered = gradc.lower(_functions()[kind], np.ones(n))
    module = lowered.traced.module
    fn = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == lowered.name)
    pattern = hessian_pattern if kind == "rosenbrock" else jacobian_pattern
    pattern(module, fn, [0])  # builds the gradient once
    return (lambda: pattern(module, fn, [0])), []


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    nnz = len(result.rows)
    assert nnz == expected_nnz(config), (nnz, expected_nnz(config))
    return {"nnz": nnz}
