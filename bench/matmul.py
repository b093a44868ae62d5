"""float32 matrix product C = A @ B, square N, one thread: gradc vs NumPy
(its BLAS), PyTorch and JAX, in GFLOP/s next to the FMA peak measured in
the same run.

- gradc: `gradc.jit(lambda a, b: a @ b)` (tile-matmul in the default pipeline).
- numpy: `a @ b`; the BLAS library and kernel threadpoolctl reports go in
  the notes (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset by run.py).
- torch: `torch.mm`, intra- and inter-op pools at one thread.
- jax: `jax.jit(jnp.matmul)`, blocked per call.
- "... 2 threads" (N = 512, 1024): gradc with `threads=2`, NumPy's BLAS
  and torch with two threads, the process on two cores.
- gradc-C (N <= 128, not a peer: a floor for gradc): the generated C
  function called from a C loop in another translation unit, so the
  Python-to-C crossing is not in the time.
- peak: 24 independent chains of 16-wide FMAs (GNU C vectors), compiled
  like gradc's kernels: what one core sustains right now. A shared host
  moves it by +-30% between runs, so each row is also given as a fraction
  of it.

GFLOP/s = 2 N^3 / median time. Every result is checked against a float64
product (max error relative to sum |a||b| per element).
"""

from __future__ import annotations

import ctypes
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from timing import THREADS_SUFFIX, Skip, bench_threads, pinned_torch, require

TITLE = "float32 matmul, square N (1 thread)"
SIZES = (32, 64, 128, 256, 512, 1024)
SYSTEMS = ("gradc", "numpy", "torch", "jax", "gradc-C")
C_LOOP_MAX_N = 128
THREADED = ("gradc", "numpy", "torch")
"""Systems also run on two threads (two cores) at the sizes below."""
THREADED_SIZES = (512, 1024)
PEAK = "FMA peak"
PEAK_CHAINS, PEAK_LANES = 24, 16


def cases() -> list[tuple[str, str]]:
    rows = [(PEAK, "probe")]
    for n in SIZES:
        rows += [(f"N={n}", system) for system in SYSTEMS if system != "gradc-C" or n <= C_LOOP_MAX_N]
        if n in THREADED_SIZES:
            rows += [(f"N={n}", system + THREADS_SUFFIX) for system in THREADED]
    return rows


def _size(config: str) -> int:
    return int(config.split("=")[1])


def problem(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    return (rng.standard_normal((n, n)).astype(np.float32),
            rng.standard_normal((n, n)).astype(np.float32))


def build(config: str, system: str) -> tuple[Any, list[str]]:
    a, b = problem(_size(config))
    return BUILDERS[system.removesuffix(THREADS_SUFFIX)](a, b)


def measure(config: str, system: str) -> dict[str, Any]:
    """The peak probe and the C loop time themselves; the other rows are
    measured as run.py measures every workload."""
    if system == "probe":
        return _peak()
    if system == "gradc-C":
        return _c_loop(_size(config))
    import sys

    import run

    return run.measure(sys.modules[__name__], config, system)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    a, b = problem(_size(config))
    got = np.asarray(result, dtype=np.float64)
    want = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    return {"max_rel_err": float(np.max(np.abs(got - want) / scale))}


def gflops(row: dict[str, Any]) -> float:
    if row["config"] == PEAK:
        return row["gflops"]
    return 2 * _size(row["config"]) ** 3 / row["median_s"] * 1e-9


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """GFLOP/s per size and system, as % of the measured peak, and the
    issue's matmul targets against the best peer of this run."""
    peak = next((r["gflops"] for r in rows if r["config"] == PEAK), None)
    lines = []
    if peak is not None:
        lines.append(f"measured FMA peak this run: {peak:.1f} GFLOP/s on one core")
    bad = [f"{r['config']} {r['system']}" for r in rows if r.get("max_rel_err", 0.0) > 1e-5]
    lines.append(f"results differ from float64: {', '.join(bad)}" if bad
                 else "every result matches a float64 product (relative error <= 1e-5)")
    for n in SIZES:
        by_system = {r["system"]: gflops(r) for r in rows if r["config"] == f"N={n}"}
        if not by_system:
            continue
        shown = ", ".join(
            f"{s} {g:.1f}" + (f" ({g / peak:.0%})" if peak else "") for s, g in by_system.items()
        )
        lines.append(f"N={n} GFLOP/s: {shown}")
        peers = {s: g for s, g in by_system.items() if s in ("numpy", "torch", "jax")}
        ours = by_system.get("gradc")
        two = by_system.get("gradc" + THREADS_SUFFIX)
        if ours is not None and two is not None:
            verdict = "met" if two / ours >= 1.7 else "NOT met"
            target = " (target >= 1.7x at N=1024)" if n == 1024 else ""
            lines.append(f"N={n}: gradc on 2 threads / 1 thread: {two / ours:.2f}x{target}"
                         + (f" -> **{verdict}**" if n == 1024 else ""))
        if not peers or ours is None:
            continue
        best_name = max(peers, key=peers.get)
        ratio = ours / peers[best_name]
        if n >= 512:
            verdict = "met" if ratio >= 0.9 else "NOT met"
            lines.append(f"target N={n}: gradc >= 90% of the best peer ({best_name}): "
                         f"{ratio:.0%} -> **{verdict}**")
        elif n <= 64:
            verdict = "met" if ratio > 1 else "NOT met"
            lines.append(f"target N={n}: gradc faster than every peer (best: {best_name}): "
                         f"{ratio:.2f}x -> **{verdict}**")
    return lines


# ---------------------------------------------------------------------------
# Systems
# ---------------------------------------------------------------------------


def _gradc(a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    import gradc

    threads = bench_threads()
    fast = gradc.jit(lambda x, y: x @ y, threads=threads)
    return (lambda: fast(a, b)), [f"gradc.jit(a @ b, threads={threads})"]


def _numpy(a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    notes = []
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                notes.append(f"{pool.get('internal_api')} {pool.get('version')} "
                             f"kernel {pool.get('architecture')}, {pool.get('num_threads')} thread(s)")
    except ImportError:
        notes.append("threadpoolctl not installed: BLAS kernel unknown")
    return (lambda: a @ b), notes


def _torch(a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    return (lambda: torch.mm(ta, tb)), [f"torch.mm, {torch.get_num_threads()} thread(s)"]


def _jax(a: np.ndarray, b: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    fast = jax.jit(jax.numpy.matmul)
    ja, jb = jax.device_put(a), jax.device_put(b)
    return (lambda: fast(ja, jb).block_until_ready()), ["jit, blocked per call"]


BUILDERS = {"gradc": _gradc, "numpy": _numpy, "torch": _torch, "jax": _jax}


# ---------------------------------------------------------------------------
# Timed in C: the generated kernel in a loop, and the FMA peak
# ---------------------------------------------------------------------------

_LOOP = """\
#include <stdlib.h>
#include <time.h>
#include "kernel.h"
double gradc_bench_loop(long n, const float *a, const float *b, float *c) {
    void *work = aligned_alloc(64, %(name)s_work_size() + 64);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        %(name)s(a, b, c, work);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(work);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}
"""

_PEAK = """\
#include <time.h>
typedef float v16 __attribute__((vector_size(64)));
double gradc_bench_peak(long n, float *sink) {
    v16 acc[%(chains)d];
    v16 x = {0}, y = {0};
    for (int k = 0; k < %(chains)d; k++) acc[k] = (v16){0} + (float)k;
    x += 0.999999f;
    y += 1e-7f;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
%(body)s
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    float total = 0.0f;
    for (int k = 0; k < %(chains)d; k++) total += acc[k][0];
    *sink = total;
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}
"""


def _compile(sources: dict[str, str], symbol: str) -> Any:
    """Build `sources` into a shared library with gradc's C flags; the ctypes function `symbol`."""
    from gradc.backend.build import compiler_command, resolve_flags

    if shutil.which(compiler_command()[0]) is None:
        raise Skip("no C compiler")
    workdir = Path(tempfile.mkdtemp(prefix="bench-matmul-c-"))
    try:
        for name, text in sources.items():
            (workdir / name).write_text(text)
        units = [name for name in sources if name.endswith(".c")]
        command = [*compiler_command(), *resolve_flags(None), "-fPIC", "-shared", *units, "-o", "lib.so", "-lm"]
        subprocess.run(command, cwd=workdir, check=True, capture_output=True)
        return getattr(ctypes.CDLL(str(workdir / "lib.so")), symbol)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _timed_in_c(call: Any) -> tuple[list[float], int]:
    """21 repetitions of ~20 ms of `call(n) -> seconds`, after a warm-up at that size."""
    n = 1
    while (elapsed := call(n)) < 0.005:
        n *= 4
    n = max(1, round(n * 0.02 / elapsed))
    call(n)
    return [call(n) / n for _ in range(21)], n


def _c_loop(n: int) -> dict[str, Any]:
    import gradc

    a, b = problem(n)
    lowered = gradc.lower(lambda x, y: x @ y, a, b)
    loop = _compile({"kernel.c": lowered.c_source, "kernel.h": lowered.c_header,
                     "loop.c": _LOOP % {"name": lowered.name}}, "gradc_bench_loop")
    loop.restype = ctypes.c_double
    loop.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    c = np.empty((n, n), np.float32)
    samples, calls = _timed_in_c(lambda k: loop(k, a.ctypes.data, b.ctypes.data, c.ctypes.data))
    return {
        **check(f"N={n}", "gradc-C", c),
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "calls_per_repetition": calls,
        "notes": ["the generated C function in a C loop (other translation unit), timed in C"],
    }


def _peak() -> dict[str, Any]:
    body = "\n".join(f"        acc[{k}] = acc[{k}] * x + y;" for k in range(PEAK_CHAINS))
    probe = _compile({"peak.c": _PEAK % {"chains": PEAK_CHAINS, "body": body}}, "gradc_bench_peak")
    probe.restype = ctypes.c_double
    probe.argtypes = [ctypes.c_long, ctypes.c_void_p]
    sink = np.zeros(1, np.float32)
    samples, calls = _timed_in_c(lambda k: probe(k * 1000, sink.ctypes.data))
    flops = 1000 * PEAK_CHAINS * PEAK_LANES * 2
    median = statistics.median(samples)
    return {
        "median_s": median,
        "min_s": min(samples),
        "max_s": max(samples),
        "calls_per_repetition": calls,
        "gflops": flops / median * 1e-9,
        "notes": [f"{PEAK_CHAINS} chains of 16-float FMAs, {flops / median * 1e-9:.1f} GFLOP/s "
                  f"(best repetition {flops / min(samples) * 1e-9:.1f}); time per 1000 steps"],
    }
