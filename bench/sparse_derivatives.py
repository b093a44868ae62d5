"""Sparse and dense Hessians and Jacobians (float64): gradc's coloring
against JAX, CasADi's generated C and sparsejac.

- Extended Rosenbrock Hessian (tridiagonal), n = 10, 100, 1000:
  `gradc.jit(gradc.hessian(f, sparse=True))` (nonzeros in the CSR order of
  `gradc.hessian_sparsity`), `gradc.jit(gradc.hessian(f))` (dense; colors
  by itself when the pattern is sparse enough) and the same with
  `compress=False` (one Hessian-vector product per input); JAX
  `jit(hessian)`; CasADi's SX `hessian` as generated C, densified and
  sparse (its nonzeros, column-major; bench/casadi_codegen.py). CasADi's
  densified C at n = 1000 is skipped (one statement per entry: tens of MB
  of C).
- Logistic-regression Hessian, N = 1000 samples, D = 50 features, w.r.t. w:
  loss(w) = mean(logaddexp(0, X w) - y X w): dense, gradc vs JAX.
- Jacobian of a nonlinear Laplacian residual F(u) = A u + u^3 - 1 (A the
  1-D three-point or 2-D five-point Laplacian with zero boundary, written
  with pads and slices, never as a matrix): gradc `jacobian(F,
  sparse=True)`; dense gradc and JAX `jit(jacfwd)` only at n = 1000 (a
  dense n = 10,000 Jacobian is 800 MB); sparsejac's `jacfwd` given the
  pattern by hand (its own networkx coloring, JAX forward mode).

Every row is checked against the closed form, scattered to a dense matrix.
Each row carries `one_off_s`: build plus first call (gradc and JAX trace
and compile in the first call; CasADi's code generation and gcc run in the
build), as well as `first_call_s`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from casadi_codegen import compiled_call
import rosenbrock
from rosenbrock import exact_hessian as rosenbrock_hessian
from rosenbrock import point as rosenbrock_point
from timing import Skip, first_call, per_call, require, seconds, timing_fields

TITLE = "Sparse derivatives (float64, 1 thread)"
CHILD_TIMEOUT_S = 900

ROSENBROCK = {"rosenbrock n=10": 10, "rosenbrock n=100": 100, "rosenbrock n=1000": 1000}
LOGREG = "logreg N=1000 D=50"
PDE = {"pde1d n=1000": (1000,), "pde1d n=10000": (10_000,), "pde2d 100x100": (100, 100)}
ROSENBROCK_SYSTEMS = ("gradc", "gradc dense", "gradc dense uncompressed", "jax", "casadi", "casadi sparse")
PDE_SYSTEMS = ("gradc", "gradc dense", "jax", "sparsejac")
DENSE_LIMIT = 1000
"""Largest n with a dense n x n Jacobian row (8 MB)."""


def cases() -> list[tuple[str, str]]:
    out = [(config, system) for config in ROSENBROCK for system in ROSENBROCK_SYSTEMS]
    out += [(LOGREG, "gradc"), (LOGREG, "jax")]
    for config, grid in PDE.items():
        dense_ok = int(np.prod(grid)) <= DENSE_LIMIT
        out += [(config, system) for system in PDE_SYSTEMS if dense_ok or system in ("gradc", "sparsejac")]
    return out


def measure(config: str, system: str) -> dict[str, Any]:
    """Build, first call, check against the closed form, steady-state timing
    (the system's package imported before the clock starts)."""
    _import(system)
    start = time.perf_counter()
    call, notes = build(config, system)
    result, first_s = first_call(call)
    one_off_s = time.perf_counter() - start
    row = check(config, system, result)
    timing = per_call(call)
    notes = [f"build + first call {seconds(one_off_s)}", *notes]
    return {**row, **timing_fields(timing, first_s), "one_off_s": one_off_s, "notes": notes}


def _import(system: str) -> None:
    family = system.split(" ")[0]
    if family == "gradc":
        import gradc.numpy  # noqa: F401
    elif family in ("jax", "sparsejac"):
        _jax_setup()
        require(family)
    else:
        require(family)


def build(config: str, system: str) -> tuple[Any, list[str]]:
    if config in ROSENBROCK:
        return _ROSENBROCK_BUILDERS[system](rosenbrock_point(ROSENBROCK[config]), system)
    if config == LOGREG:
        return _LOGREG_BUILDERS[system](*logreg_problem())
    return _PDE_BUILDERS[system.split(" ")[0]](PDE[config], system)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    if config in ROSENBROCK:
        x = rosenbrock_point(ROSENBROCK[config])
        exact = rosenbrock_hessian(x)
    elif config == LOGREG:
        w, features, labels = logreg_problem()
        exact = logreg_hessian(w, features, labels)
    else:
        u = pde_point(PDE[config])
        exact = pde_jacobian(u, PDE[config])
    dense = _dense(config, system, result, exact.shape)
    scale = max(1.0, float(np.max(np.abs(exact))))
    return {"max_rel_err": float(np.max(np.abs(dense - exact))) / scale, "nnz_exact": int(np.count_nonzero(exact))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['config']} {r['system']}: max |D - D_exact| / max(1, max |D_exact|) = {r['max_rel_err']:.1e}"
        + ("" if r["max_rel_err"] <= 1e-12 else " MISMATCH")
        for r in rows
        if "max_rel_err" in r
    ]


# --------------------------------------------------------------------------
# Problems and closed forms
# --------------------------------------------------------------------------


def logreg_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    features = rng.standard_normal((1000, 50))
    labels = (rng.random(1000) < 0.5).astype(np.float64)
    w = 0.1 * rng.standard_normal(50)
    return w, features, labels


def logreg_hessian(w: np.ndarray, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    s = 1.0 / (1.0 + np.exp(-(features @ w)))
    return features.T @ (features * (s * (1 - s))[:, None]) / features.shape[0]


def pde_point(grid: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(3).uniform(-1.0, 1.0, int(np.prod(grid)))


def pde_pattern(grid: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Row-major (rows, cols) of the Laplacian's pattern (the diagonal and
    each grid neighbour), written from the stencil."""
    n = int(np.prod(grid))
    index = np.arange(n).reshape(grid)
    rows, cols = [np.arange(n)], [np.arange(n)]
    for axis in range(len(grid)):
        for shift in (-1, 1):
            neighbour = np.roll(index, -shift, axis=axis)
            inside = np.ones(grid, dtype=bool)
            edge = [slice(None)] * len(grid)
            edge[axis] = slice(-1, None) if shift == 1 else slice(0, 1)
            inside[tuple(edge)] = False
            rows.append(index[inside])
            cols.append(neighbour[inside])
    rows_all, cols_all = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((cols_all, rows_all))
    return rows_all[order], cols_all[order]


def pde_jacobian(u: np.ndarray, grid: tuple[int, ...]) -> np.ndarray:
    rows, cols = pde_pattern(grid)
    jac = np.zeros((u.size, u.size))
    jac[rows, cols] = np.where(rows == cols, 2.0 * len(grid) + 3 * u[rows] ** 2, -1.0)
    return jac


# --------------------------------------------------------------------------
# Results to dense matrices
# --------------------------------------------------------------------------

_PATTERNS: dict[str, tuple[np.ndarray, np.ndarray]] = {}
"""(rows, cols) of a row's nonzero output, filled by its builder or check."""


def _dense(config: str, system: str, result: Any, shape: tuple[int, int]) -> np.ndarray:
    if system == "sparsejac":
        return np.asarray(result.todense())
    values = np.asarray(result)
    if values.ndim == 2:
        return values
    if system == "gradc":
        rows, cols = _gradc_pattern(config)
    else:
        rows, cols = _PATTERNS[system]
    dense = np.zeros(shape)
    dense[rows, cols] = values
    return dense


def _gradc_pattern(config: str) -> tuple[np.ndarray, np.ndarray]:
    """gradc's pattern for the sparse row, in CSR order (asked for after
    the timed first call, so its tracing is not part of the one-off time)."""
    import gradc

    if config in ROSENBROCK:
        pattern = gradc.hessian_sparsity(_gradc_functions()[0], rosenbrock_point(ROSENBROCK[config]))
    else:
        grid = PDE[config]
        pattern = gradc.jacobian_sparsity(_gradc_residual(grid), pde_point(grid))
    if hasattr(pattern, "tocsr"):
        csr = pattern.tocsr()
        csr.sort_indices()
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        return rows, np.asarray(csr.indices)
    return np.asarray(pattern.rows), np.asarray(pattern.cols)


# --------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------


def _gradc_functions() -> tuple[Any, Any]:
    import gradc.numpy as gnp

    def rosenbrock(x):
        return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def logreg(w, features, labels):
        z = features @ w
        return gnp.mean(gnp.logaddexp(0.0, z) - labels * z)

    return rosenbrock, logreg


def _gradc_residual(grid: tuple[int, ...]) -> Any:
    import gradc.numpy as gnp

    return _residual(gnp, grid)


def _residual(xnp: Any, grid: tuple[int, ...]) -> Any:
    """F(u) = A u + u^3 - 1 on a 1-D or 2-D grid, u flattened, for NumPy-like
    module `xnp` (gradc.numpy or jax.numpy)."""
    if len(grid) == 1:

        def residual_1d(u):
            p = xnp.pad(u, 1)
            return 2.0 * u - p[:-2] - p[2:] + u**3 - 1.0

        return residual_1d
    rows, cols = grid

    def residual_2d(u):
        g = u.reshape(rows, cols)
        p = xnp.pad(g, 1)
        r = 4.0 * g - p[:-2, 1:-1] - p[2:, 1:-1] - p[1:-1, :-2] - p[1:-1, 2:] + g**3 - 1.0
        return r.reshape(-1)

    return residual_2d


def _gradc_rosenbrock(x: np.ndarray, system: str) -> tuple[Any, list[str]]:
    import gradc

    rosenbrock = _gradc_functions()[0]
    if system == "gradc":
        hess = gradc.jit(gradc.hessian(rosenbrock, sparse=True))
        notes = ["jit(hessian(sparse=True)): nonzeros in CSR order"]
    elif system == "gradc dense":
        hess = gradc.jit(gradc.hessian(rosenbrock))
        notes = ["jit(hessian): dense, compression chosen by gradc"]
    else:
        hess = gradc.jit(gradc.hessian(rosenbrock, compress=False))
        notes = ["jit(hessian(compress=False)): one HVP per input"]
    return (lambda: hess(x)), notes


def _jax_setup() -> Any:
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_rosenbrock(x: np.ndarray, system: str) -> tuple[Any, list[str]]:
    _jax_setup()
    return rosenbrock.BUILDERS["jax"](x)


def _casadi_rosenbrock(x: np.ndarray, system: str) -> tuple[Any, list[str]]:
    ca = require("casadi")
    n = x.size
    sparse = system == "casadi sparse"
    if not sparse and n > 100:
        raise Skip(f"CasADi's densified Hessian C at n={n} writes every entry ({n * n} statements)")
    start = time.perf_counter()
    xs = ca.SX.sym("x", n)
    f = ca.sum1(100 * (xs[1:] - xs[:-1] ** 2) ** 2 + (1 - xs[:-1]) ** 2)
    hessian, _ = ca.hessian(f, xs)
    output = hessian if sparse else ca.densify(hessian)
    function = ca.Function("rosen_hess_sparse" if sparse else "rosen_hess", [xs], [output])
    symbolic_s = time.perf_counter() - start
    call, notes = compiled_call(function, x, symbolic_s)
    if sparse:
        rows, cols = function.sparsity_out(0).get_triplet()  # column-major order
        _PATTERNS[system] = (np.asarray(rows), np.asarray(cols))
        return call, [f"{function.nnz_out(0)} nonzeros, column-major", *notes]
    return (lambda: call().reshape(n, n)), notes


def _gradc_logreg(w: np.ndarray, features: np.ndarray, labels: np.ndarray) -> tuple[Any, list[str]]:
    import gradc

    hess = gradc.jit(gradc.hessian(_gradc_functions()[1]))
    return (lambda: hess(w, features, labels)), ["jit(hessian)"]


def _jax_logreg(w: np.ndarray, features: np.ndarray, labels: np.ndarray) -> tuple[Any, list[str]]:
    jax = _jax_setup()
    jnp = jax.numpy

    def logreg(w, features, labels):
        z = features @ w
        return jnp.mean(jnp.logaddexp(0.0, z) - labels * z)

    hess = jax.jit(jax.hessian(logreg))
    args = [jax.device_put(a) for a in (w, features, labels)]
    return (lambda: hess(*args).block_until_ready()), ["jit(hessian), blocked per call"]


def _gradc_pde(grid: tuple[int, ...], system: str) -> tuple[Any, list[str]]:
    import gradc

    u = pde_point(grid)
    if system == "gradc":
        jac = gradc.jit(gradc.jacobian(_gradc_residual(grid), sparse=True))
        notes = ["jit(jacobian(sparse=True)): nonzeros in CSR order"]
    else:
        jac = gradc.jit(gradc.jacobian(_gradc_residual(grid)))
        notes = ["jit(jacobian): dense, compression chosen by gradc"]
    return (lambda: jac(u)), notes


def _jax_pde(grid: tuple[int, ...], system: str) -> tuple[Any, list[str]]:
    jax = _jax_setup()
    jac = jax.jit(jax.jacfwd(_residual(jax.numpy, grid)))
    u = jax.device_put(pde_point(grid))
    return (lambda: jac(u).block_until_ready()), ["jit(jacfwd), dense, blocked per call"]


def _sparsejac_pde(grid: tuple[int, ...], system: str) -> tuple[Any, list[str]]:
    jax = _jax_setup()
    sparsejac = require("sparsejac")
    from jax.experimental import sparse

    n = int(np.prod(grid))
    rows, cols = pde_pattern(grid)
    pattern = sparse.BCOO((jax.numpy.ones(rows.size), jax.numpy.stack([rows, cols], axis=1)), shape=(n, n))
    jac = jax.jit(sparsejac.jacfwd(_residual(jax.numpy, grid), sparsity=pattern))
    u = jax.device_put(pde_point(grid))

    def call():
        out = jac(u)
        out.data.block_until_ready()
        return out

    return call, ["jit(sparsejac.jacfwd), pattern given by hand, BCOO out, blocked per call"]


_ROSENBROCK_BUILDERS = {
    "gradc": _gradc_rosenbrock,
    "gradc dense": _gradc_rosenbrock,
    "gradc dense uncompressed": _gradc_rosenbrock,
    "jax": _jax_rosenbrock,
    "casadi": _casadi_rosenbrock,
    "casadi sparse": _casadi_rosenbrock,
}
_LOGREG_BUILDERS = {"gradc": _gradc_logreg, "jax": _jax_logreg}
_PDE_BUILDERS = {"gradc": _gradc_pde, "jax": _jax_pde, "sparsejac": _sparsejac_pde}
