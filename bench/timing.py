"""The one timing helper every workload shares, so all rows are measured alike.

`per_call` warms a callable up (>= 0.3 s and >= 3 calls), then times
repetitions of an inner loop sized to ~20 ms each, with Python's GC off,
and reports the per-call median, min and max over the repetitions.
`first_call` times the call that pays for tracing and compiling.

A workload raises `Skip` when a peer cannot run here (not installed, no C
compiler); the row is then reported with that note instead of a time.
"""

from __future__ import annotations

import os
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Skip(Exception):
    """This row cannot be measured on this machine; the message says why."""


@dataclass(frozen=True)
class Timing:
    median_s: float
    min_s: float
    max_s: float
    repetitions: int
    calls_per_repetition: int


def per_call(
    fn: Callable[[], Any],
    *,
    warmup_s: float = 0.3,
    repetition_s: float = 0.02,
    repetitions: int = 21,
) -> Timing:
    """Seconds per call of `fn()` in steady state (see the module docstring)."""
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < warmup_s:
        fn()
        calls += 1
    inner = max(1, round(repetition_s * calls / (time.perf_counter() - start)))
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repetitions):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples.append((time.perf_counter() - start) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(statistics.median(samples), min(samples), max(samples), repetitions, inner)


def timing_fields(timing: Timing, first_call_s: float) -> dict[str, float | int]:
    """A timed row's figures, named alike in every workload's results."""
    return {
        "median_s": timing.median_s,
        "min_s": timing.min_s,
        "max_s": timing.max_s,
        "first_call_s": first_call_s,
        "calls_per_repetition": timing.calls_per_repetition,
    }


def first_call(fn: Callable[[], Any]) -> tuple[Any, float]:
    """`fn()`'s result and how long it took (the call that compiles)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def require(module_name: str) -> Any:
    """Import a peer system, or skip the row when it is not installed."""
    import importlib

    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        raise Skip(f"{module_name} not installed ({err.__class__.__name__})") from None


THREADS_SUFFIX = " 2 threads"
"""A system name ending in this runs on two threads and two cores
(run.py sets the thread variables and the cores; `bench_threads` reads them)."""


def threads_of(system: str) -> int:
    return 2 if system.endswith(THREADS_SUFFIX) else 1


def bench_threads() -> int:
    """Threads this row may use (GRADC_BENCH_THREADS, set by run.py)."""
    return int(os.environ.get("GRADC_BENCH_THREADS", "1"))


def pinned_torch() -> Any:
    """torch with its intra- and inter-op thread pools at the row's thread
    count (one unless the row is a two-thread one)."""
    torch = require("torch")
    torch.set_num_threads(bench_threads())
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # the pool already started in this process
    return torch


def gradient_agreement(rows: list[dict[str, Any]], configs: Any, rtol: float, what: str) -> list[str]:
    """One line per config: whether every row's `grad_rel_error` is within
    `rtol` (`what`: "gradients ... vs NumPy"), naming the rows that are not."""
    lines = []
    for config in configs:
        here = [r for r in rows if r["config"] == config]
        if not here:
            continue
        bad = [r["system"] for r in here if not r["grad_rel_error"] <= rtol]
        worst = max(r["grad_rel_error"] for r in here)
        flag = f"MISMATCH ({', '.join(bad)})" if bad else f"all agree (worst rel. error {worst:.1e} <= {rtol:g})"
        lines.append(f"{config}: {what.format(systems=', '.join(r['system'] for r in here))}: {flag}")
    return lines


def seconds(value: float | None) -> str:
    """`41.2 us`, `2.50 ms`, `1.87 s`: three significant digits, fitting unit."""
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if value >= scale or unit == "ns":
            scaled = value / scale
            decimals = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{scaled:.{decimals}f} {unit}"
    raise AssertionError("unreachable")
