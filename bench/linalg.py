"""float64 factorizations and solves, one thread: gradc vs numpy.linalg
(LAPACK) and jax.numpy.linalg, at n = 8, 64, 256.

- cholesky: L of a symmetric positive definite matrix.
- solve: x of a x = b, b a vector (LU with partial pivoting).
- slogdet: log|det a| (LU with partial pivoting).
- eigh: eigenvalues and eigenvectors of a symmetric matrix (gradc:
  Householder tridiagonalization and implicit QR steps).
- gradc: `gradc.jit(f)` of the gnp.linalg call; numpy: the same call; jax:
  `jax.jit` of jnp.linalg's, blocked per call.

Every result is checked against NumPy's (max error relative to the largest
element; eigenvectors compared up to sign).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing import require

TITLE = "float64 linear algebra, n x n (1 thread)"
SIZES = (8, 64, 256)
KINDS = ("cholesky", "solve", "slogdet", "eigh")
SYSTEMS = ("gradc", "numpy", "jax")


def cases() -> list[tuple[str, str]]:
    return [(f"{kind} n={n}", system) for kind in KINDS for n in SIZES for system in SYSTEMS]


def _parse(config: str) -> tuple[str, int]:
    kind, n = config.split(" n=")
    return kind, int(n)


def problem(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    m = rng.standard_normal((n, n))
    return m @ m.T / n + np.eye(n), rng.standard_normal(n)


def function(kind: str, xp: Any) -> Any:
    return {
        "cholesky": lambda a, b: xp.linalg.cholesky(a),
        "solve": lambda a, b: xp.linalg.solve(a, b),
        "slogdet": lambda a, b: xp.linalg.slogdet(a)[1],
        "eigh": lambda a, b: xp.linalg.eigh(a)[1],
    }[kind]


def build(config: str, system: str) -> tuple[Any, list[str]]:
    kind, n = _parse(config)
    a, b = problem(n)
    return BUILDERS[system](kind, a, b)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    kind, n = _parse(config)
    a, b = problem(n)
    want = function(kind, np)(a, b)
    got = np.asarray(result, dtype=np.float64)
    if kind == "eigh":
        got, want = got * np.sign(got[0]), want * np.sign(want[0])
    return {"max_rel_err": float(np.max(np.abs(got - want)) / np.max(np.abs(want)))}


def _gradc(kind: str, a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp

    f = gradc.jit(function(kind, gnp))
    return (lambda: f(a, b)), []


def _numpy(kind: str, a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    f = function(kind, np)
    return (lambda: f(a, b)), []


def _jax(kind: str, a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(function(kind, jax.numpy))
    ja, jb = jax.device_put(a), jax.device_put(b)
    return (lambda: f(ja, jb).block_until_ready()), ["jit, blocked per call"]


BUILDERS = {"gradc": _gradc, "numpy": _numpy, "jax": _jax}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for kind in KINDS:
        for n in SIZES:
            by_system = {r["system"]: r["median_s"] for r in rows
                         if r["config"] == f"{kind} n={n}" and "median_s" in r}
            if "gradc" in by_system and len(by_system) > 1:
                shown = ", ".join(f"{s} {t * 1e6:.1f} us" for s, t in by_system.items())
                lines.append(f"{kind} n={n}: {shown}")
    bad = [f"{r['config']} {r['system']}" for r in rows if r.get("max_rel_err", 0.0) > 1e-8]
    lines.append(f"results differ from NumPy's: {', '.join(bad)}" if bad
                 else "every result matches NumPy's (relative error <= 1e-8)")
    return lines
