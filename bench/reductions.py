"""float32 sums, one thread: gradc vs NumPy, JAX and PyTorch, and the
serial loop gradc generated before its sums were blocked (issue 12).

- sum, mean, mean(v*v) of 2^20 uniform values in [0.5, 1.5); sums along
  axis 0 and axis 1 of a 1024 x 1024 matrix.
- gradc: `gradc.jit(f)`; numpy: the same expression in NumPy (pairwise along
  a contiguous axis, serial across rows for axis 0); jax: `jax.jit(f)`,
  blocked per call; torch: the same on a tensor sharing the array.
- serial C (not a peer: the "before" row): one accumulator per output,
  `out += x[i]` in memory order, compiled with gradc's C flags and called
  through the same runtime: what gradc's lowering emitted before.

Every result is checked against a long double sum of the same data (the
relative error, `rel_err`); docs/reductions.md states the guarantee.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing import Skip, pinned_torch, require

TITLE = "float32 sums, 2^20 elements (1 thread)"
N = 2**20
CONFIGS = ("sum", "mean", "mean(v*v)", "sum axis 0", "sum axis 1")
SYSTEMS = ("gradc", "numpy", "jax", "torch", "serial C")


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in CONFIGS for system in SYSTEMS]


def problem(config: str) -> np.ndarray:
    rng = np.random.default_rng(12)
    shape = (1024, 1024) if "axis" in config else (N,)
    return rng.uniform(0.5, 1.5, shape).astype(np.float32)


def function(config: str, xp: Any) -> Any:
    return {
        "sum": lambda v: xp.sum(v),
        "mean": lambda v: xp.mean(v),
        "mean(v*v)": lambda v: xp.mean(v * v),
        "sum axis 0": lambda v: xp.sum(v, axis=0),
        "sum axis 1": lambda v: xp.sum(v, axis=1),
    }[config]


def reference(config: str, x: np.ndarray) -> np.ndarray:
    wide = x.astype(np.longdouble)
    if config == "mean(v*v)":
        return np.mean(wide * wide)
    if config == "sum axis 0":
        return np.sum(np.ascontiguousarray(wide.T), axis=1)
    return function(config, np)(wide)


def build(config: str, system: str) -> tuple[Any, list[str]]:
    x = problem(config)
    return BUILDERS[system](config, x)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    want = reference(config, problem(config)).astype(np.float64)
    got = np.asarray(result, dtype=np.float64)
    return {"rel_err": float(np.max(np.abs(got - want) / np.abs(want)))}


def _gradc(config: str, x: np.ndarray) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp

    f = gradc.jit(function(config, gnp))
    return (lambda: f(x)), []


def _numpy(config: str, x: np.ndarray) -> tuple[Any, list[str]]:
    f = function(config, np)
    return (lambda: f(x)), []


def _jax(config: str, x: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    f = jax.jit(function(config, jax.numpy))
    device = jax.device_put(x)
    return (lambda: jax.block_until_ready(f(device))), ["jit, blocked per call"]


def _torch(config: str, x: np.ndarray) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    f = function(config, torch)
    t = torch.from_numpy(x)
    return (lambda: f(t)), [f"torch {torch.__version__}"]


SERIAL_C = """
int serial(const float *restrict x, float *restrict out, void *restrict work) {{
    (void)work;
    for (int64_t j = 0; j < {outputs}; ++j) out[j] = 0.0f;
    for (int64_t i = 0; i < {rows}; ++i)
        for (int64_t j = 0; j < {inner}; ++j)
            out[{out_index}] = out[{out_index}] + {term};
    {scale}
    return 0;
}}
size_t serial_work_size(void) {{ return 0; }}
"""


def _serial_c(config: str, x: np.ndarray) -> tuple[Any, list[str]]:
    from gradc.backend.build import BuildError, build as build_c
    from gradc.backend.runtime import CompiledFunction

    rows, inner = (1024, 1024) if "axis" in config else (1, N)
    outputs = 1024 if "axis" in config else 1
    out_index = {"sum axis 0": "j", "sum axis 1": "i"}.get(config, "0")
    term = "x[i * {0} + j] * x[i * {0} + j]" if config == "mean(v*v)" else "x[i * {0} + j]"
    scale = f"out[0] = out[0] / {N}.0f;" if config.startswith("mean") else ""
    source = "#include <stddef.h>\n#include <stdint.h>\n" + SERIAL_C.format(
        outputs=outputs, rows=rows, inner=inner, out_index=out_index, term=term.format(inner), scale=scale)
    header = ("#include <stddef.h>\nint serial(const float *restrict x, float *restrict out, void *restrict work);\n"
              "size_t serial_work_size(void);\n")
    try:
        module = build_c(source, header, ["serial"])
    except BuildError as err:  # no C compiler: a note, not a crash
        raise Skip(f"cannot build the serial loop ({err})") from None
    out_shape = (outputs,) if "axis" in config else ()
    f = CompiledFunction(module, "serial", [(x.shape, np.float32)], [(out_shape, np.float32)])
    return (lambda: f(x)[0]), ["gradc's loop before issue 12: one accumulator, memory order"]


BUILDERS = {"gradc": _gradc, "numpy": _numpy, "jax": _jax, "torch": _torch, "serial C": _serial_c}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """gradc against NumPy and the serial loop, time and error, per config."""
    lines = []
    for config in CONFIGS:
        by = {r["system"]: r for r in rows if r["config"] == config}
        if "gradc" not in by:
            continue
        ours = by["gradc"]
        parts = [f"{config}: gradc {ours['median_s'] * 1e6:.0f} us, rel err {ours['rel_err']:.1e}"]
        for other in ("numpy", "serial C", "jax", "torch"):
            if other in by:
                row = by[other]
                parts.append(f"{other} {row['median_s'] * 1e6:.0f} us ({ours['median_s'] / row['median_s']:.2f}x), "
                             f"rel err {row['rel_err']:.1e}")
        lines.append("; ".join(parts))
    return lines
