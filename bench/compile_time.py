"""Compile time: gradc's first call (trace to loaded C, with an empty
GRADC_CACHE_DIR) next to JAX's first call (trace + XLA compile). Each row is
one fresh process, so nothing is cached in memory either; the first call
also runs the function once (microseconds to milliseconds, negligible here).

Two kinds of rows (issue 16, item 1):

- every function the other workloads run (`TARGETS`);
- chains of k = 1, 4, 16, 64, 256 layers or terms, float64, in three
  families, to see how compile time grows with the program:
  - `MLP grad`: the gradient of sum(tanh(...tanh(x @ W1)... @ Wk)^2) with
    respect to the list of the k weights (32 wide, batch 8);
  - `scan grad`: the gradient through a `lax.scan` of length 10 whose body
    is k layers h = tanh(h @ Wj) on a 16-wide carry, with respect to the k
    weights, of sum(h_10^2);
  - `Hessian sum`: the Hessian of f(x) = sum_i c_i sin(a_i . x) cos(b_i . x),
    k terms with their own constants, x of size 8.
  Every row checks its result against NumPy (a backward pass written here by
  hand; the Hessian in closed form): `rel_error` = max |got - want| / max
  |want|. gradc's row is `jitted.lower(*args)`, `.compile()` and the call:
  the steps `gradc.jit`'s first call runs, so the row also keeps gradc's own
  breakdown (`Lowered.timings`: trace, each pass, print-c, cc) and notes
  its three largest steps. JAX's row is `jax.jit(...)`'s first call, blocked
  until ready. Either row also notes the system's import time (not in the
  first-call figure).

`summarize` gives, per family and system, the growth exponent (the
least-squares slope of log t against log k over k >= 4: 1 is linear) and
gradc / JAX at each k. A chain row that runs past CHILD_TIMEOUT_S
(`GRADC_BENCH_TIMEOUT_S`, default 600) is reported as timed out and left
out of the fit. `GRADC_BENCH_MAX_K` (default 256) drops the longer chains
for a quick run: `GRADC_BENCH_MAX_K=16 python bench/run.py --only
compile_time --rounds 1`. The plot is results/compile_time.png.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from timing import first_call, require, seconds

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
FAMILIES = ("MLP grad", "scan grad", "Hessian sum")
KS = (1, 4, 16, 64, 256)
FIT_FROM_K = 4
MAX_K = int(os.environ.get("GRADC_BENCH_MAX_K", str(KS[-1])))
CHILD_TIMEOUT_S = float(os.environ.get("GRADC_BENCH_TIMEOUT_S", "600"))
"""Seconds a row's process may run (bench/run.py reads it)."""
RTOL = 1e-9

MLP_WIDTH, MLP_BATCH = 32, 8
SCAN_WIDTH, SCAN_LENGTH = 16, 10
HESSIAN_SIZE = 8


def chain_config(family: str, k: int) -> str:
    return f"{family} k={k}"


def parse_chain(config: str) -> tuple[str, int] | None:
    """(family, k) of a chain row's config, None for a TARGETS row."""
    family, _, k = config.rpartition(" k=")
    return (family, int(k)) if family in FAMILIES else None


IMPORT = "import"
"""The row that times `import gradc` (`import jax` for JAX) in a fresh
process, and notes the numpy module's import after it."""


def cases() -> list[tuple[str, str]]:
    configs = [IMPORT, *TARGETS, *(chain_config(f, k) for f in FAMILIES for k in KS if k <= MAX_K)]
    return [(config, system) for config in configs for system in SYSTEMS]


def measure(config: str, system: str) -> dict[str, Any]:
    """One sample: the first call of the row's function (a workload with
    `measure` replaces the usual warm-up-and-repeat timing)."""
    if config == IMPORT:
        package, numpy_module = ("gradc", "gradc.numpy") if system == "gradc" else ("jax", "jax.numpy")
        start = time.perf_counter()
        importlib.import_module(package)
        middle = time.perf_counter()
        importlib.import_module(numpy_module)
        return _row(middle - start, [f"then {numpy_module}: {seconds(time.perf_counter() - middle)}"])
    chain = parse_chain(config)
    if chain is not None:
        return _measure_chain(*chain, system)
    module_name, target_config = TARGETS[config]
    module = importlib.import_module(module_name)
    call, _ = module.build(target_config, system)
    _, elapsed = first_call(call)
    return _row(elapsed, [])


def _row(first_s: float, notes: list[str], **extra: Any) -> dict[str, Any]:
    return {"median_s": first_s, "min_s": first_s, "max_s": first_s, "first_call_s": first_s,
            "notes": notes, **extra}


# --------------------------------------------------------------------------
# The chains: problems and NumPy references
# --------------------------------------------------------------------------


def mlp_problem(k: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((MLP_WIDTH, MLP_WIDTH)) / MLP_WIDTH**0.5 for _ in range(k)]
    return ws, rng.standard_normal((MLP_BATCH, MLP_WIDTH))


def mlp_reference(ws: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """d sum(h_k^2) / dW_j with h_j = tanh(h_{j-1} W_j): forward keeping each
    h, then dz_j = dh_j (1 - h_j^2), dW_j = h_{j-1}^T dz_j, dh_{j-1} = dz_j W_j^T."""
    hs = [x]
    for w in ws:
        hs.append(np.tanh(hs[-1] @ w))
    dh, grads = 2.0 * hs[-1], [np.empty(0)] * len(ws)
    for j in reversed(range(len(ws))):
        dz = dh * (1.0 - hs[j + 1] ** 2)
        grads[j] = hs[j].T @ dz
        dh = dz @ ws[j].T
    return grads


def scan_problem(k: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((SCAN_WIDTH, SCAN_WIDTH)) * 1.2 / SCAN_WIDTH**0.5 for _ in range(k)]
    return ws, rng.standard_normal(SCAN_WIDTH)


def scan_reference(ws: list[np.ndarray], h0: np.ndarray) -> list[np.ndarray]:
    """The same as `mlp_reference` through SCAN_LENGTH repetitions of the k
    layers, each weight's gradient summed over the steps."""
    hs, layer_of = [h0], []
    for _ in range(SCAN_LENGTH):
        for j, w in enumerate(ws):
            hs.append(np.tanh(hs[-1] @ w))
            layer_of.append(j)
    dh, grads = 2.0 * hs[-1], [np.zeros_like(w) for w in ws]
    for t in reversed(range(len(layer_of))):
        j = layer_of[t]
        dz = dh * (1.0 - hs[t + 1] ** 2)
        grads[j] += np.outer(hs[t], dz)
        dh = ws[j] @ dz
    return grads


def hessian_problem(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """c (k,), a and b (k, n) and the point x (n,)."""
    rng = np.random.default_rng(2)
    n = HESSIAN_SIZE
    return (rng.uniform(0.5, 1.5, k), rng.standard_normal((k, n)) / n**0.5,
            rng.standard_normal((k, n)) / n**0.5, rng.standard_normal(n))


def hessian_reference(c: np.ndarray, a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """With u = a.x and v = b.x, the Hessian of sin(u) cos(v) is
    -sin u cos v (a a^T + b b^T) - cos u sin v (a b^T + b a^T)."""
    u, v = a @ x, b @ x
    su_cv, cu_sv = c * np.sin(u) * np.cos(v), c * np.cos(u) * np.sin(v)
    return (-np.einsum("i,ij,ik->jk", su_cv, a, a) - np.einsum("i,ij,ik->jk", su_cv, b, b)
            - np.einsum("i,ij,ik->jk", cu_sv, a, b) - np.einsum("i,ij,ik->jk", cu_sv, b, a))


def chain_problem(family: str, k: int) -> tuple[tuple[Any, ...], Any]:
    """The arguments of the family's function at k, and the reference result."""
    if family == "MLP grad":
        ws, x = mlp_problem(k)
        return (ws, x), mlp_reference(ws, x)
    if family == "scan grad":
        ws, h0 = scan_problem(k)
        return (ws, h0), scan_reference(ws, h0)
    c, a, b, x = hessian_problem(k)
    return (x,), hessian_reference(c, a, b, x)


def chain_function(family: str, k: int, np_like: Any, scan: Callable[..., Any]) -> Callable[..., Any]:
    """The function to differentiate, written once for `gradc.numpy` and
    `jax.numpy` (`np_like`) and their `lax.scan`."""
    if family == "MLP grad":

        def mlp_loss(ws, x):
            h = x
            for w in ws:
                h = np_like.tanh(h @ w)
            return np_like.sum(h * h)

        return mlp_loss
    if family == "scan grad":

        def scan_loss(ws, h0):
            def body(h, _):
                for w in ws:
                    h = np_like.tanh(h @ w)
                return h, None

            h, _ = scan(body, h0, None, length=SCAN_LENGTH)
            return np_like.sum(h * h)

        return scan_loss
    c, a, b, _ = hessian_problem(k)

    def sum_of_terms(x):
        total = 0.0
        for i in range(k):
            total = total + float(c[i]) * np_like.sin(np_like.sum(a[i] * x)) * np_like.cos(np_like.sum(b[i] * x))
        return total

    return sum_of_terms


def rel_error(got: Any, want: Any) -> float:
    """max |got - want| / max |want| over every array of the result."""
    got_list = got if isinstance(got, list | tuple) else [got]
    want_list = want if isinstance(want, list) else [want]
    assert len(got_list) == len(want_list)
    diff = max(float(np.max(np.abs(np.asarray(g) - w))) for g, w in zip(got_list, want_list))
    scale = max(float(np.max(np.abs(w))) for w in want_list)
    return diff / scale if scale > 0 else diff


# --------------------------------------------------------------------------
# The chains: one row
# --------------------------------------------------------------------------


def _measure_chain(family: str, k: int, system: str) -> dict[str, Any]:
    args, want = chain_problem(family, k)
    start = time.perf_counter()
    if system == "gradc":
        import gradc
        import gradc.lax
        import gradc.numpy as gnp

        import_s = time.perf_counter() - start
        fn = chain_function(family, k, gnp, gradc.lax.scan)
        derivative = gradc.hessian(fn) if family == "Hessian sum" else gradc.grad(fn)
        jitted = gradc.jit(derivative)

        def run() -> tuple[Any, dict[str, float]]:
            lowered = jitted.lower(*args)
            return lowered.compile()(*args), lowered.timings

        (got, steps), elapsed = first_call(run)
        largest = sorted(steps.items(), key=lambda item: -item[1])[:3]
        notes = [f"import {seconds(import_s)}", "largest steps: "
                 + ", ".join(f"{name} {seconds(s)}" for name, s in largest)]
        extra: dict[str, Any] = {"steps_s": steps}
    else:
        jax = require("jax")
        jax.config.update("jax_enable_x64", True)
        import_s = time.perf_counter() - start
        fn = chain_function(family, k, jax.numpy, jax.lax.scan)
        derivative = jax.hessian(fn) if family == "Hessian sum" else jax.grad(fn)
        jitted = jax.jit(derivative)
        got, elapsed = first_call(lambda: jax.block_until_ready(jitted(*args)))
        notes, extra = [f"import {seconds(import_s)}"], {}
    error = rel_error(got, want)
    return _row(elapsed, notes, import_s=import_s, rel_error=error, **extra)


# --------------------------------------------------------------------------
# Summary and plot
# --------------------------------------------------------------------------


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """The least-squares slope of log t against log k over k >= FIT_FROM_K
    (None with fewer than two such points)."""
    fit = [(math.log(k), math.log(t)) for k, t in points if k >= FIT_FROM_K]
    if len(fit) < 2:
        return None
    mean_x = sum(x for x, _ in fit) / len(fit)
    mean_y = sum(y for _, y in fit) / len(fit)
    return sum((x - mean_x) * (y - mean_y) for x, y in fit) / sum((x - mean_x) ** 2 for x, _ in fit)


def chain_times(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """(family, system) -> [(k, first-call seconds)] sorted by k."""
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in rows:
        chain = parse_chain(row["config"])
        if chain is not None and "median_s" in row:
            out.setdefault((chain[0], row["system"]), []).append((chain[1], row["median_s"]))
    return {key: sorted(points) for key, points in out.items()}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    bad = [f"{r['config']} {r['system']} ({r['rel_error']:.1e})" for r in rows
           if "rel_error" in r and not r["rel_error"] <= RTOL]
    checked = sum("rel_error" in r for r in rows)
    lines.append(f"chain results vs NumPy (rel. error <= {RTOL:g}): "
                 + (f"MISMATCH: {', '.join(bad)}" if bad else f"all {checked} agree"))
    times = chain_times(rows)
    for family in FAMILIES:
        parts = []
        for system in SYSTEMS:
            exponent = growth_exponent(times.get((family, system), []))
            parts.append(f"{system} {'-' if exponent is None else f'{exponent:.2f}'}")
        timed = {system: dict(times.get((family, system), [])) for system in SYSTEMS}
        ratios = []
        for k in (k for k in KS if k <= MAX_K):
            missing = [system for system in SYSTEMS if k not in timed[system]]
            ratios.append(f"k={k} no {' or '.join(missing)} time (see the table)" if missing
                          else f"k={k} {timed['gradc'][k] / timed['jax'][k]:.1f}x")
        lines.append(f"{family}: growth exponent (log-log slope over the k >= {FIT_FROM_K} that have a time) "
                     f"{', '.join(parts)}; gradc / jax first call: {', '.join(ratios)}")
    return lines


def plot(result: dict[str, Any], plt: Any, path: Any) -> None:
    """compile_time.png: first-call time against k, log-log, one panel per
    family, a line per system (a timed-out row as an open marker at the
    timeout)."""
    rows = result["rows"]
    times = chain_times(rows)
    if not times:
        return
    fig, axes = plt.subplots(1, len(FAMILIES), figsize=(5 * len(FAMILIES), 4), sharey=True)
    for ax, family in zip(axes, FAMILIES):
        for system, color in zip(SYSTEMS, ("tab:blue", "tab:orange")):
            points = times.get((family, system), [])
            if points:
                ax.plot(*zip(*points), marker="o", color=color, label=system)
            timed_out = [(parse_chain(r["config"]), r["timed_out_s"]) for r in rows
                         if r["system"] == system and "timed_out_s" in r]
            timed_out = [(chain[1], limit) for chain, limit in timed_out if chain and chain[0] == family]
            if timed_out:
                ax.plot(*zip(*timed_out), marker="^", linestyle="none", markerfacecolor="none", color=color,
                        label=f"{system} timed out (at least)")
        ks = [k for k in KS if k <= MAX_K]
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k (layers or terms)")
        ax.set_title(family)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("first call, seconds")
    fig.suptitle("Compile time: first call in a fresh process")
    fig.tight_layout()
    fig.savefig(path / "compile_time.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    # A quick look without run.py: python bench/compile_time.py FAMILY K SYSTEM
    print(measure(chain_config(sys.argv[1], int(sys.argv[2])), sys.argv[3]))
