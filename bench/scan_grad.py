"""Gradient through a loop of T steps, float64, one thread (issue 5, item 6).

x_{t+1} = x_t + 0.01 * tanh(W x_t) with x in R^64 and W 64x64, loss =
sum(x_T^2), gradient with respect to W, for T in 100, 1000, 10000. Every
system starts from the same x_0 and W (fixed seed), and each row's gradient
is compared with a NumPy reference whose backward loop is written here by
hand (max |g - g_ref| / max |g_ref| <= 1e-10 passes).

- gradc: `gradc.jit(gradc.grad(loss))` over `gradc.fori_loop`, full tape.
- gradc every=sqrt(T): the same with `checkpoint="every=K"`, K = round(sqrt(T));
  gradc binomial s=16: `checkpoint="binomial(snapshots=16)"` (the revolve
  schedule; at T=10000 each step runs at most 5 times, 44,015 untaped steps
  besides the 10,000 taped ones, for 16 states of 512 B). The rows note the
  tape and snapshot bytes and the recomputed steps gradc reports.
- jax: `jax.jit(jax.grad(loss))` over `lax.scan`; "jax checkpoint": the same
  with `jax.checkpoint` on the scan body.
- torch: eager autograd over a Python loop, `backward()`.

Memory: the peak RSS of the row's process while the timed calls run against
its RSS before building (taken after importing the system, so the increase is
what the built gradient holds and uses, not the import). The peak is restarted
after the first call (Linux's /proc/self/clear_refs), so XLA's or the C
compiler's transient peak while compiling is not counted; the row notes when
that was not possible. For gradc also the bytes it reports it needs besides
its arguments (workspace + stack: the tape or the snapshots live there), and
for JAX the temporary buffers XLA's compiled executable reports
(`memory_analysis().temp_size_in_bytes`, asked after the first call).
"""

from __future__ import annotations

import math
import resource
from collections.abc import Callable
from typing import Any

import numpy as np

from timing import Skip, first_call, gradient_agreement, per_call, pinned_torch, require, seconds, timing_fields

TITLE = "Gradient through a T-step loop (float64, 1 thread)"
N = 64
STEP = 0.01
SNAPSHOTS = 16
STEPS = {"T=100": 100, "T=1000": 1000, "T=10000": 10000}
GRADC_SYSTEMS = ("gradc", "gradc every=sqrt(T)", f"gradc binomial s={SNAPSHOTS}")
SYSTEMS = (*GRADC_SYSTEMS, "jax", "jax checkpoint", "torch")
RTOL = 1e-10

Built = tuple[Callable[[], Any], list[str], Callable[[], dict[str, int]]]
"""What a system's builder returns: the zero-argument gradient call, notes,
and the memory figures the system reports itself (asked after the first call,
so that asking does not compile ahead of it)."""


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in STEPS for system in SYSTEMS]


def problem() -> tuple[np.ndarray, np.ndarray]:
    """W (scaled so the map stays tame over 10,000 steps) and x_0."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((N, N)) / np.sqrt(N)
    x0 = rng.standard_normal(N)
    return w, x0


def reference_grad(w: np.ndarray, x0: np.ndarray, steps: int) -> np.ndarray:
    """d sum(x_T^2) / dW by a forward loop keeping every tanh and a backward
    loop written by hand: with a_t = tanh(W x_t) and g the adjoint of x_{t+1},
    dW += outer(0.01 g (1 - a_t^2), x_t) and the adjoint of x_t is
    g + W^T (0.01 g (1 - a_t^2))."""
    xs, acts = [x0], []
    for _ in range(steps):
        acts.append(np.tanh(w @ xs[-1]))
        xs.append(xs[-1] + STEP * acts[-1])
    g = 2.0 * xs[-1]
    dw = np.zeros_like(w)
    for t in reversed(range(steps)):
        d_pre = STEP * g * (1.0 - acts[t] ** 2)
        dw += np.outer(d_pre, xs[t])
        g = g + w.T @ d_pre
    return dw


def checkpoint_option(system: str, steps: int) -> str:
    """The `checkpoint=` value of a gradc row, spelled as the issue does."""
    if system == "gradc":
        return "none"
    if system.startswith("gradc every"):
        return f"every={round(math.sqrt(steps))}"
    return f"binomial(snapshots={SNAPSHOTS})"


def rss_bytes(field: str = "VmRSS") -> int:
    """This process's resident set now (VmRSS) or its peak (VmHWM), from
    /proc/self/status (KiB there)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> bool:
    """Restart the peak (VmHWM, and so ru_maxrss) from the current RSS, so a
    compiler's transient peak during the first call is not counted as the
    gradient's memory; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def measure(config: str, system: str) -> dict[str, Any]:
    """Import, RSS baseline, build, first call (compiles), check against the
    reference, steady-state timing, then the peak RSS while timing."""
    steps = STEPS[config]
    w, x0 = problem()
    reference = reference_grad(w, x0, steps)  # before the baseline: its memory is not the row's
    library = _import(system)
    rss_before = rss_bytes()
    call, notes, memory = BUILDERS[system.split(" ")[0]](library, system, w, x0, steps)
    result, first_s = first_call(call)
    row = memory()
    error = float(np.max(np.abs(np.asarray(result) - reference)) / np.max(np.abs(reference)))
    first_peak = rss_bytes("VmHWM")
    peak_reset = reset_peak_rss()
    timing = per_call(call)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    row.update(
        grad_rel_error=error,
        rss_before_bytes=rss_before,
        first_call_peak_rss_bytes=first_peak,
        max_rss_bytes=peak,
        rss_increase_bytes=peak - rss_before,
        peak_reset_after_first_call=peak_reset,
    )
    since = "while timing" if peak_reset else "incl. compiling"
    rss = f"max RSS {since} +{_mib(peak - rss_before)} over the imports ({_mib(rss_before)})"
    if "workspace_bytes" in row:
        rss += f"; gradc workspace {row['workspace_bytes']:,} B + stack {row['stack_bytes']:,} B"
    if "xla_temp_bytes" in row:
        rss += f"; XLA temp buffers {row['xla_temp_bytes']:,} B"
    first = [f"first call {seconds(first_s)}"] if system != "torch" else []
    notes = [*first, rss, f"grad rel. error {error:.1e}", *notes]
    return {**row, **timing_fields(timing, first_s), "notes": notes}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Gradient agreement per row, then the issue's targets."""
    return gradient_agreement(rows, STEPS, RTOL, "gradients of {systems} vs NumPy") + targets(rows)


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 5's targets: full tape no slower than JAX jit; at T=10000,
    binomial within 1% of the full tape's memory and 4x its time."""
    by = {(r["config"], r["system"]): r for r in rows}
    lines = []
    for config in STEPS:
        g, j = by.get((config, "gradc")), by.get((config, "jax"))
        if g and j:
            ratio = g["median_s"] / j["median_s"]
            verdict = "met" if ratio <= 1 else "NOT met"
            detail = f"gradc {seconds(g['median_s'])}, jax {seconds(j['median_s'])} (gradc / jax {ratio:.2f})"
        else:
            verdict, detail = "not measured", "a row is missing or skipped"
        lines.append(f"target {config}, full tape no slower than JAX jit: {detail} -> **{verdict}**")
    full, binomial = by.get(("T=10000", "gradc")), by.get(("T=10000", f"gradc binomial s={SNAPSHOTS}"))
    if full and binomial:
        memory = _gradc_bytes(binomial) / _gradc_bytes(full)
        time = binomial["median_s"] / full["median_s"]
        verdict = "met" if memory <= 0.01 and time <= 4 else "NOT met"
        detail = (f"gradc memory {_gradc_bytes(binomial):,} B vs {_gradc_bytes(full):,} B ({memory:.2%}), "
                  f"time {seconds(binomial['median_s'])} vs {seconds(full['median_s'])} ({time:.2f}x)")
    else:
        verdict, detail = "not measured", "a row is missing or skipped"
    lines.append(f"target T=10000, binomial <= 1% of the full tape's memory and <= 4x its time: "
                 f"{detail} -> **{verdict}**")
    return lines


def _gradc_bytes(row: dict[str, Any]) -> int:
    return row["workspace_bytes"] + row["stack_bytes"]


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _import(system: str) -> Any:
    """The system's library, imported before the RSS baseline."""
    name = system.split(" ")[0]
    if name == "torch":
        return pinned_torch()
    library = require(name)
    if name == "jax":
        library.config.update("jax_enable_x64", True)
    return library


def _gradc(gradc: Any, system: str, w: np.ndarray, x0: np.ndarray, steps: int) -> Built:
    import gradc.numpy as gnp

    def loss(w, x0):
        x = gradc.fori_loop(0, steps, lambda i, x: x + STEP * gnp.tanh(w @ x), x0)
        return gnp.sum(x * x)

    option = checkpoint_option(system, steps)
    grad = gradc.grad(loss, checkpoint=option)
    try:
        memory = gradc.lower(grad, w, x0).memory
    except gradc.GradcError as err:
        # The first line, without its source location and its hint.
        what = str(err).splitlines()[0].split(f"grad of {loss.__name__}: ")[-1].split(";")[0]
        raise Skip(f"not implemented: {what}") from None
    fast = gradc.jit(grad)
    row = {"workspace_bytes": memory["workspace_bytes"], "stack_bytes": memory["stack_bytes"]}
    notes = [f"fori_loop, checkpoint={option}"]
    if "tape_bytes" in memory:
        row.update((k, memory[k]) for k in ("tape_bytes", "snapshot_bytes", "recomputed_steps"))
        notes.append(f"tape {memory['tape_bytes']:,} B, snapshots {memory['snapshot_bytes']:,} B, "
                     f"{memory['recomputed_steps']:,} steps recomputed")
    return (lambda: fast(w, x0)), notes, lambda: row


def _jax(jax: Any, system: str, w: np.ndarray, x0: np.ndarray, steps: int) -> Built:
    jnp = jax.numpy

    def loss(w, x0):
        def body(x, _):
            return x + STEP * jnp.tanh(w @ x), None

        step = jax.checkpoint(body) if system == "jax checkpoint" else body
        x, _ = jax.lax.scan(step, x0, None, length=steps)
        return jnp.sum(x * x)

    grad = jax.jit(jax.grad(loss))
    wj, xj = jax.device_put((w, x0))
    note = "jit(grad) over lax.scan" + (", jax.checkpoint on the body" if system == "jax checkpoint" else "")

    def memory() -> dict[str, int]:
        analysis = grad.lower(wj, xj).compile().memory_analysis()
        return {} if analysis is None else {"xla_temp_bytes": int(analysis.temp_size_in_bytes)}

    return (lambda: grad(wj, xj).block_until_ready()), [note], memory


def _torch(torch: Any, system: str, w: np.ndarray, x0: np.ndarray, steps: int) -> Built:
    wt = torch.tensor(w, requires_grad=True)
    xt = torch.from_numpy(x0)

    def call():
        x = xt
        for _ in range(steps):
            x = x + STEP * torch.tanh(torch.mv(wt, x))
        wt.grad = None
        torch.sum(x * x).backward()
        return wt.grad.numpy()

    return call, ["eager: Python loop, backward()"], dict


BUILDERS = {"gradc": _gradc, "jax": _jax, "torch": _torch}
