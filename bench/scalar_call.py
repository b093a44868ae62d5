"""Per-call cost of a tiny scalar function and its gradient, float64, called
from Python with Python floats: gradc vs JAX jit vs PyTorch eager vs plain
Python `math`.

    f(x, y) = sin(x) * y + x * x,   grad f = (cos(x) * y + 2 x, sin(x))

At this size the work is a few nanoseconds; what is measured is the crossing
from Python into each system and back (argument conversion, dispatch, result
objects).

- gradc: `gradc.jit(f)` and `gradc.jit(gradc.grad(f, argnums=(0, 1)))`.
- jax: the same through `jax.jit` / `jax.grad` with float64 enabled,
  blocked per call.
- torch: 0-d float64 tensors made from the floats in every call; the
  gradient through `torch.autograd.grad`.
- python: `math.sin`, `math.cos` and the hand-derived gradient.

Two rows split gradc's time (not peers):
- gradc-cffi: the kernel called through cffi on buffers made once (no
  argument check, no result objects): what crossing into C through cffi
  costs, the floor of the call path gradc had before its C entry
  (gradc.backend.callpath), which now checks, converts and returns
  NumPy scalars in less.
- gradc-C: the generated kernel in a C loop (kernel and loop in separate
  translation units, gradc's C flags, timed with `clock_gettime` in C): the
  work itself plus a C call.
"""

from __future__ import annotations

import math
import ctypes
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from timing import Skip, pinned_torch, require

TITLE = "Tiny scalar function from Python floats (float64, 1 thread)"
SYSTEMS = ("gradc", "jax", "torch", "python", "gradc-cffi", "gradc-C")
CONFIGS = ("f(x,y)", "grad f")
X, Y = 0.7, -1.3


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in CONFIGS for system in SYSTEMS]


def expected(config: str) -> tuple[float, ...]:
    if config == "f(x,y)":
        return (math.sin(X) * Y + X * X,)
    return (math.cos(X) * Y + 2 * X, math.sin(X))


def build(config: str, system: str) -> tuple[Any, list[str]]:
    return BUILDERS[system](config == "grad f")


def measure(config: str, system: str) -> dict[str, Any]:
    """The C loop times itself; every other row is measured as run.py does."""
    if system == "gradc-C":
        return _c_loop(config == "grad f")
    import sys

    import run

    return run.measure(sys.modules[__name__], config, system)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    if system == "gradc-cffi":
        result = tuple(out[()] for out in result)  # the output buffers the kernel wrote
    parts = result if isinstance(result, tuple | list) else (result,)
    got = np.array([float(np.asarray(part)) for part in parts])
    return {"max_abs_err": float(np.max(np.abs(got - np.array(expected(config)))))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    bad = [f"{r['config']} {r['system']}" for r in rows if r.get("max_abs_err", 0.0) > 1e-12]
    return [f"results differ from math.sin/cos: {', '.join(bad)}"] if bad else ["all results match math.sin/cos (1e-12)"]


def _gradc_function(gradient: bool) -> Any:
    import gradc
    import gradc.numpy as gnp

    def f(x, y):
        return gnp.sin(x) * y + x * x

    if gradient:
        if not hasattr(gradc, "grad"):
            raise Skip("gradc.grad not available in this checkout")
        return gradc.jit(gradc.grad(f, argnums=(0, 1)))
    return gradc.jit(f)


def _gradc(gradient: bool) -> tuple[Any, list[str]]:
    fast = _gradc_function(gradient)
    return (lambda: fast(X, Y)), []


def _gradc_cffi(gradient: bool) -> tuple[Any, list[str]]:
    import gradc

    lowered = gradc.lower(_gradc_function(gradient), X, Y)
    function = lowered.compiled.function
    ffi = function._ffi
    buffers = [np.array(X), np.array(Y)] + [np.empty(s, d) for s, d, _, _ in function.outputs]
    pointers = [ffi.from_buffer("double[]", b, True) for b in buffers]
    kernel, work = function._fn, function._work
    outputs = buffers[2:]

    def call() -> list[np.ndarray]:
        kernel(*pointers, work)
        return outputs

    return call, ["the kernel through cffi on buffers made once: no checks, no results"]


_LOOP = """\
#include <time.h>
#include "kernel.h"
volatile double gradc_bench_sink;
double gradc_bench_loop(long n, double x, double y, double *last) {
    double out[2] = {0.0, 0.0}, acc = 0.0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        %(call)s;
        acc += out[0];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    gradc_bench_sink = acc;
    last[0] = out[0];
    last[1] = out[1];
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}
"""


def _c_loop(gradient: bool) -> dict[str, Any]:
    """The kernel called from a C loop in another translation unit (so the
    call is not inlined or hoisted), 21 repetitions of ~20 ms."""
    import gradc
    from gradc.backend.build import compiler_command, resolve_flags

    if shutil.which(compiler_command()[0]) is None:
        raise Skip("no C compiler")
    lowered = gradc.lower(_gradc_function(gradient), X, Y)
    outs = "&out[0], &out[1]" if gradient else "&out[0]"
    workdir = Path(tempfile.mkdtemp(prefix="bench-scalar-c-"))
    try:
        (workdir / "kernel.c").write_text(lowered.c_source)
        (workdir / "kernel.h").write_text(lowered.c_header)
        (workdir / "loop.c").write_text(_LOOP % {"call": f"{lowered.name}(&x, &y, {outs}, 0)"})
        flags = resolve_flags(None)
        command = [*compiler_command(), *flags, "-fPIC", "-shared", "kernel.c", "loop.c", "-o", "loop.so", "-lm"]
        subprocess.run(command, cwd=workdir, check=True, capture_output=True)
        loop = ctypes.CDLL(str(workdir / "loop.so")).gradc_bench_loop
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    loop.restype = ctypes.c_double
    loop.argtypes = [ctypes.c_long, ctypes.c_double, ctypes.c_double, ctypes.c_void_p]
    last = np.zeros(2)
    n = 1000
    while (elapsed := loop(n, X, Y, last.ctypes.data)) < 0.005:
        n *= 4
    n = max(1, round(n * 0.02 / elapsed))
    loop(n, X, Y, last.ctypes.data)  # warm-up at the final size
    samples = [loop(n, X, Y, last.ctypes.data) / n for _ in range(21)]
    row = check("grad f" if gradient else "f(x,y)", "gradc-C", tuple(last[: 2 if gradient else 1]))
    return {
        **row,
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "calls_per_repetition": n,
        "notes": [f"generated C in a C loop ({' '.join(flags)}), timed in C"],
    }


def _jax(gradient: bool) -> tuple[Any, list[str]]:
    jax = require("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def f(x, y):
        return jnp.sin(x) * y + x * x

    fast = jax.jit(jax.grad(f, argnums=(0, 1)) if gradient else f)
    return (lambda: jax.block_until_ready(fast(X, Y))), ["jit, blocked per call"]


def _torch(gradient: bool) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    f64 = torch.float64

    def value():
        x, y = torch.tensor(X, dtype=f64), torch.tensor(Y, dtype=f64)
        return torch.sin(x) * y + x * x

    def grad():
        x = torch.tensor(X, dtype=f64, requires_grad=True)
        y = torch.tensor(Y, dtype=f64, requires_grad=True)
        return torch.autograd.grad(torch.sin(x) * y + x * x, (x, y))

    return (grad if gradient else value), ["eager; tensors made from the floats per call"]


def _python(gradient: bool) -> tuple[Any, list[str]]:
    sin, cos = math.sin, math.cos

    def value():
        return sin(X) * Y + X * X

    def grad():
        return (cos(X) * Y + 2 * X, sin(X))

    return (grad, ["gradient derived by hand"]) if gradient else (value, [])


BUILDERS = {"gradc": _gradc, "jax": _jax, "torch": _torch, "python": _python, "gradc-cffi": _gradc_cffi}
