"""`make bench`: every workload, every system, each in a fresh pinned process.

    python bench/run.py                      # all workloads, 2 rounds
    python bench/run.py --only rosenbrock --rounds 1

A workload is a module in this folder with `TITLE`, `cases()` -> [(config,
system)], and either `build(config, system)` -> (zero-argument callable,
notes) plus `check(config, system, result)` -> extra columns, or its own
`measure(config, system)`; `summarize(rows)` -> lines is optional.

Each (config, system) runs in a child process started here with one thread
everywhere: OMP/OPENBLAS/MKL_NUM_THREADS=1, XLA's Eigen pool off, torch pinned
by the workload, and the whole process on one core with `taskset` when there
is one, so any helper thread shares that core. Systems named "... 2 threads"
get 2 in those variables (and GRADC_BENCH_THREADS) and two cores. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed for NumPy's rows. Every child gets an empty
GRADC_CACHE_DIR, so gradc's first call really compiles (kernel and cffi
glue), except for what gradc builds once per machine and then keeps (the
precompiled Python.h, `prepare_machine_cache`). Round r pins to core
r mod (cores available); each row keeps the round with the lowest median (the
noise on a shared host only ever adds time), and its notes list every round.
A child gets CHILD_TIMEOUT_S seconds (a workload may set its own
`CHILD_TIMEOUT_S`); past that, it and everything it started (a C compiler)
are killed and the row is reported as timed out (`timed_out_s`).

Results: bench/results/<workload>.json, and bench/results/README.md with one
table for everything, which is also printed.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from timing import Skip, first_call, per_call, seconds, threads_of, timing_fields

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
WORKLOADS = ("matmul", "mlp_step", "rosenbrock", "scalar_call", "compile_time", "scan_grad", "reductions", "linalg",
             "convnet", "dropout", "vmap", "while_loop", "specialize", "sparse_derivatives", "jacobian_modes",
             "sparsity", "mpi_step")
COMPILING = ("gradc", "jax")
"""Systems whose first call traces and compiles: their rows note its time."""
MARKER = "BENCH-ROW "
CHILD_TIMEOUT_S = 600


# --------------------------------------------------------------------------
# In the child process
# --------------------------------------------------------------------------


def measure(module: Any, config: str, system: str) -> dict[str, Any]:
    """Build, first call (compiles), check the result, then steady-state timing."""
    call, notes = module.build(config, system)
    result, first_s = first_call(call)
    row = module.check(config, system, result)
    timing = per_call(call)
    if system in COMPILING:
        notes = [f"first call {seconds(first_s)}", *notes]
    return {**row, **timing_fields(timing, first_s), "notes": notes}


def child(workload: str, config: str, system: str) -> None:
    module = importlib.import_module(workload)
    try:
        if hasattr(module, "measure"):
            row = module.measure(config, system)
        else:
            row = measure(module, config, system)
    except Skip as why:
        row = {"skipped": str(why)}
    print(MARKER + json.dumps(row), flush=True)


# --------------------------------------------------------------------------
# In the parent
# --------------------------------------------------------------------------


MACHINE_CACHE: Path | None = None
"""A cache holding what gradc builds once per machine (the precompiled
Python.h of the cffi glue, `.pch-*`), made by `prepare_machine_cache`; each
child's otherwise empty cache links to it."""


def prepare_machine_cache() -> None:
    """Build the once-per-machine part of gradc's cache (one tiny function
    in a fresh cache, in a child process) for every row to start from."""
    global MACHINE_CACHE
    folder = Path(tempfile.mkdtemp(prefix="bench-gradc-machine-"))
    atexit.register(shutil.rmtree, folder, True)
    warm = "import gradc, gradc.numpy as gnp; gradc.jit(lambda x: gnp.sin(x) * 2.0)(1.0)"
    done = subprocess.run([sys.executable, "-c", warm], env={**os.environ, "GRADC_CACHE_DIR": str(folder)},
                          capture_output=True, text=True, cwd=BENCH)
    MACHINE_CACHE = folder if done.returncode == 0 else None


def child_env(system: str, cache_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    threads = str(threads_of(system))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GRADC_BENCH_THREADS"):
        env[var] = threads
    env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
    env["JAX_PLATFORMS"] = "cpu"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["GRADC_CACHE_DIR"] = cache_dir
    if system.split(" ")[0] == "numpy":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    return env


def run_child(
    workload: str, config: str, system: str, core: int | None, cores: list[int | None],
    timeout_s: float = CHILD_TIMEOUT_S,
) -> dict[str, Any]:
    """One fresh process measuring one row; failures become a note. A
    two-thread row gets two cores (when there are two)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", workload, config, system]
    if core is not None:
        if threads_of(system) > 1 and len(cores) > 1:
            pinned = ",".join(str(c) for c in cores[: threads_of(system)])
        else:
            pinned = str(core)
        command = ["taskset", "-c", pinned, *command]
    cache_dir = tempfile.mkdtemp(prefix="bench-gradc-cache-")
    for machine_level in MACHINE_CACHE.glob(".pch-*") if MACHINE_CACHE else ():
        os.symlink(machine_level, Path(cache_dir) / machine_level.name)
    try:
        # A session of its own, so a timeout also ends the C compiler it runs.
        with subprocess.Popen(
            command, env=child_env(system, cache_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=BENCH, start_new_session=True,
        ) as child_process:
            try:
                stdout, stderr = child_process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(child_process.pid, signal.SIGKILL)
                child_process.communicate()
                return {"failed": f"timed out after {timeout_s:g} s", "timed_out_s": timeout_s}
        proc = subprocess.CompletedProcess(command, child_process.returncode, stdout, stderr)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if proc.returncode < 0:
        why = f"killed by {signal.Signals(-proc.returncode).name}"
    else:
        why = lines[-1][:200] if lines else f"exit status {proc.returncode}"
    return {"failed": why, "stderr": proc.stderr[-4000:]}


def best_of(runs: list[tuple[int | None, dict[str, Any]]]) -> dict[str, Any]:
    """The run with the lowest median; every run's median goes in the notes."""
    timed = [(core, run) for core, run in runs if "median_s" in run]
    if not timed:
        return dict(runs[0][1])
    core, best = min(timed, key=lambda item: item[1]["median_s"])
    row = dict(best)
    if len(runs) > 1:
        row["runs"] = [{"core": c, "median_s": r.get("median_s")} for c, r in runs]
        shown = " / ".join(
            f"{seconds(r.get('median_s'))}" + (f" (c{c})" if c is not None else "") for c, r in runs
        )
        row["notes"] = [*row.get("notes", []), f"runs: {shown}"]
    return row


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """`ratio_to_gradc` = this row's median / gradc's median for the same config."""
    gradc = {r["config"]: r["median_s"] for r in rows if r["system"] == "gradc" and "median_s" in r}
    for row in rows:
        if "median_s" in row and row["config"] in gradc:
            row["ratio_to_gradc"] = row["median_s"] / gradc[row["config"]]


def run_workload(workload: str, rounds: int, cores: list[int | None]) -> dict[str, Any]:
    module = importlib.import_module(workload)
    cases = module.cases()
    timeout_s = getattr(module, "CHILD_TIMEOUT_S", CHILD_TIMEOUT_S)
    runs: dict[tuple[str, str], list] = {case: [] for case in cases}
    for round_index in range(rounds):
        core = cores[round_index % len(cores)]
        for config, system in cases:
            start = time.perf_counter()
            result = run_child(workload, config, system, core, cores, timeout_s)
            runs[(config, system)].append((core, result))
            status = (
                seconds(result["median_s"]) if "median_s" in result
                else f"skipped: {result['skipped']}" if "skipped" in result
                else f"FAILED: {result['failed']}"
            )
            print(
                f"  [{workload} round {round_index + 1}/{rounds}] {config} / {system}: {status}"
                f"  ({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
    rows = [{"config": config, "system": system, **best_of(runs[(config, system)])} for config, system in cases]
    add_ratios(rows)
    checks = module.summarize([r for r in rows if "median_s" in r]) if hasattr(module, "summarize") else []
    return {"workload": workload, "title": module.TITLE, "rows": rows, "checks": checks, "doc": module.__doc__}


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    for package in ("numpy", "jax", "jaxlib", "torch", "casadi", "sparsejac", "xdsl"):
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = "not installed"
    probe = (
        "import numpy, json\n"
        "from threadpoolctl import threadpool_info\n"
        "print(json.dumps([{k: p.get(k) for k in ('internal_api', 'version', 'architecture', 'threading_layer', 'num_threads')}"
        " for p in threadpool_info()]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=child_env("numpy", ""), capture_output=True, text=True, check=False
    )
    info["numpy_blas"] = json.loads(proc.stdout) if proc.returncode == 0 else "threadpoolctl not installed"
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
        info["cc"] = version.stdout.splitlines()[0] if version.stdout else cc
    return info


def _fmt_ratio(row: dict[str, Any]) -> str:
    ratio = row.get("ratio_to_gradc")
    return "-" if ratio is None else f"{ratio:.2f}"


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| workload | system | median | min | ratio to gradc | notes |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for row in result["rows"]:
            if "median_s" in row:
                median, minimum = seconds(row["median_s"]), seconds(row["min_s"])
                notes = "; ".join(row.get("notes", []))
            else:
                median = minimum = "-"
                notes = f"skipped: {row['skipped']}" if "skipped" in row else f"FAILED: {row.get('failed')}"
            name = f"{result['title'].split(' (')[0]}: {row['config']}"
            lines.append(f"| {name} | {row['system']} | {median} | {minimum} | {_fmt_ratio(row)} | {notes} |")
    return lines


def targets(results: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, each with the measured value and whether it is met."""
    rows = {(r["workload"], row["config"], row["system"]): row for r in results for row in r["rows"]}

    def median(workload: str, config: str, system: str) -> float | None:
        return rows.get((workload, config, system), {}).get("median_s")

    def line(label: str, value: float | None, met: bool | None, detail: str) -> str:
        verdict = "not measured" if value is None or met is None else ("met" if met else "NOT met")
        return f"- {label}: {detail} -> **{verdict}**"

    out = []
    for config in ("f(x,y)", "grad f"):
        t = median("scalar_call", config, "gradc")
        out.append(line(f"tiny function `{config}` from Python under 1 us", t, None if t is None else t < 1e-6, f"gradc {seconds(t)}"))
    g, j, c = (median("rosenbrock", "n=100", s) for s in ("gradc", "jax", "casadi"))
    out.append(line(
        "Rosenbrock n=100 Hessian >= 10x faster than JAX jit", g,
        None if g is None or j is None else j / g >= 10,
        f"gradc {seconds(g)}, jax {seconds(j)}" + (f" ({j / g:.1f}x)" if g and j else ""),
    ))
    out.append(line(
        "Rosenbrock n=100 Hessian within 2x of CasADi's generated C", g,
        None if g is None or c is None else g / c <= 2,
        f"gradc {seconds(g)}, casadi C {seconds(c)}" + (f" (gradc/casadi {g / c:.2f})" if g and c else ""),
    ))
    for config in ("MLP step (a) 64-128-10 b32", "MLP step (b) 784-512-10 b128"):
        t = median("compile_time", config, "gradc")
        out.append(line(f"compile time of {config} under 2 s", t, None if t is None else t < 2.0, f"gradc {seconds(t)}"))
    return out


def targets_issue4(results: list[dict[str, Any]]) -> list[str]:
    """The MLP-step targets of issue 4 (the matmul ones are in the matmul
    checks, the memory one in the memory section)."""
    rows = {(row["config"], row["system"]): row.get("median_s") for r in results if r["workload"] == "mlp_step"
            for row in r["rows"]}
    out = []
    a = "(a) 64-128-10 b32"
    g, j = rows.get((a, "gradc")), rows.get((a, "jax"))
    if g and j:
        out.append(f"- MLP step {a} >= 2.5x faster than JAX jit: gradc {seconds(g)}, jax {seconds(j)} "
                   f"({j / g:.2f}x) -> **{'met' if j / g >= 2.5 else 'NOT met'}**")
    b = "(b) 784-512-10 b128"
    g, j, t = rows.get((b, "gradc")), rows.get((b, "jax")), rows.get((b, "torch"))
    if g and j and t:
        best = min(j, t)
        out.append(f"- MLP step {b} no slower than the fastest of JAX jit and PyTorch: gradc {seconds(g)}, "
                   f"jax {seconds(j)}, torch {seconds(t)} (gradc / fastest {g / best:.2f}) "
                   f"-> **{'met' if g <= best else 'NOT met'}**")
    for config in (a, b):
        on, off = rows.get((config, "gradc")), rows.get((config, "gradc tile+plan off"))
        if on and off:
            out.append(f"- {config}: tiling + planning on {seconds(on)} vs off {seconds(off)} ({off / on:.2f}x)")
    return out


def targets_issue15(results: list[dict[str, Any]]) -> list[str]:
    """Issue 15's vmap target: per-example gradients at least as fast as JAX jit."""
    rows = {(row["config"], row["system"]): row.get("median_s") for r in results if r["workload"] == "vmap"
            for row in r["rows"]}
    out = []
    for config in sorted({c for c, _ in rows}):
        g, j = rows.get((config, "gradc")), rows.get((config, "jax"))
        if g and j:
            out.append(f"- per-example gradients {config} at least as fast as JAX jit: gradc {seconds(g)}, "
                       f"jax {seconds(j)} ({j / g:.2f}x) -> **{'met' if g <= j else 'NOT met'}**")
    return out


def targets_issue16(results: list[dict[str, Any]]) -> list[str]:
    """Issue 16's compile-time targets, from the compile_time and specialize rows."""
    import math

    rows = {(row["config"], row["system"]): row.get("median_s") for r in results if r["workload"] == "compile_time"
            for row in r["rows"]}
    out = []
    imported = rows.get(("import", "gradc"))
    if imported is not None:
        out.append(f"- `import gradc` under 0.25 s: {seconds(imported)} -> **{'met' if imported < 0.25 else 'NOT met'}**")
    for config in sorted({c for c, _ in rows}):
        if config == "import" or config.startswith(("MLP grad", "scan grad", "Hessian sum")):
            continue
        g, j = rows.get((config, "gradc")), rows.get((config, "jax"))
        if g and j:
            out.append(f"- first call of {config} at or below JAX jit's: gradc {seconds(g)}, jax {seconds(j)} "
                       f"(gradc / jax {g / j:.2f}) -> **{'met' if g <= j else 'NOT met'}**")
    g, j = rows.get(("MLP grad k=64", "gradc")), rows.get(("MLP grad k=64", "jax"))
    if g and j:
        out.append(f"- 64-layer MLP gradient within 1.5x of JAX's first call: gradc {seconds(g)}, jax {seconds(j)} "
                   f"(gradc / jax {g / j:.2f}) -> **{'met' if g <= 1.5 * j else 'NOT met'}**")
    points = [(k, rows.get((f"MLP grad k={k}", "gradc"))) for k in (4, 16, 64, 256)]
    points = [(math.log(k), math.log(t)) for k, t in points if t]
    if len(points) >= 2:
        mx, my = sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)
        slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
        out.append(f"- MLP gradient compile time no worse than linear in k: growth exponent {slope:.2f} (k >= 4) "
                   f"-> **{'met' if slope <= 1.05 else 'NOT met'}**")
    spec = {(row["config"], row["system"]): row.get("median_s") for r in results if r["workload"] == "specialize"
            for row in r["rows"]}
    g, s = spec.get(("(b) 90% pruned", "gradc")), spec.get(("(b) 90% pruned", "gradc specialized"))
    if g and s:
        out.append(f"- specialized 90%-pruned step faster than the unspecialized one: specialized {seconds(s)}, "
                   f"jit {seconds(g)} ({g / s:.2f}x) -> **{'met' if s < g else 'NOT met'}** "
                   "(break-even k: see the specialization check above)")
    return out


def targets_issue17(results: list[dict[str, Any]]) -> list[str]:
    """Issue 17's targets, from the sparse_derivatives rows."""
    rows = {(row["config"], row["system"]): row.get("median_s") for r in results
            if r["workload"] == "sparse_derivatives" for row in r["rows"]}
    out = []
    for label, mine, peer, limit in (
        ("Rosenbrock n=100 dense Hessian no slower than CasADi's generated C",
         ("rosenbrock n=100", "gradc dense"), ("rosenbrock n=100", "casadi"), 1.0),
        ("Rosenbrock n=100 sparse Hessian within 1.5x of CasADi's sparse C",
         ("rosenbrock n=100", "gradc"), ("rosenbrock n=100", "casadi sparse"), 1.5),
        ("logistic-regression Hessian at least 1.5x faster than JAX jit",
         ("logreg N=1000 D=50", "gradc"), ("logreg N=1000 D=50", "jax"), 1 / 1.5),
    ):
        g, p = rows.get(mine), rows.get(peer)
        if g and p:
            out.append(f"- {label}: gradc {seconds(g)}, {peer[1]} {seconds(p)} (gradc / {peer[1]} {g / p:.2f}) "
                       f"-> **{'met' if g <= limit * p else 'NOT met'}**")
    for r in results:  # the mixed-mode targets: jacobian_modes' own summary of its counts
        if r["workload"] == "jacobian_modes":
            out += [f"- mixed mode, {check}" for check in r["checks"]
                    if check.startswith(("chosen never worse", ">= 20% fewer"))]
    return out


def targets_issue18(results: list[dict[str, Any]]) -> list[str]:
    """Issue 18's call-path targets, from the matmul and mlp_step rows."""
    rows = {(r["workload"], row["config"], row["system"]): row.get("median_s") for r in results for row in r["rows"]}
    out = []
    mine, numpy = rows.get(("matmul", "N=32", "gradc")), rows.get(("matmul", "N=32", "numpy"))
    if mine and numpy:
        out.append(f"- N=32 float32 matmul from Python faster than NumPy's: gradc {seconds(mine)}, numpy "
                   f"{seconds(numpy)} -> **{'met' if mine < numpy else 'NOT met'}**")
    config = "(a) 64-128-10 b32"
    c_time = rows.get(("mlp_step", config, "gradc-C"))
    for system in ("gradc", "gradc out="):
        call = rows.get(("mlp_step", config, system))
        if call and c_time:
            out.append(f"- MLP step {config} call within 0.5 us of its C time: {system} {seconds(call)}, C alone "
                       f"{seconds(c_time)} (difference {seconds(call - c_time)}) "
                       f"-> **{'met' if call - c_time <= 0.5e-6 else 'NOT met'}**")
    return out


def write_report(results: list[dict[str, Any]], machine: dict[str, Any], rounds: int, elapsed_s: float) -> str:
    blas = machine.get("numpy_blas")
    blas_text = (
        ", ".join(f"{p['internal_api']} {p['version']} ({p['architecture']}, {p['threading_layer']}, "
                  f"{p['num_threads']} thread)" for p in blas)
        if isinstance(blas, list) else str(blas)
    )
    lines = [
        "# gradc benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); see that file's docstring for the method. "
        f"Each row: one thread, a fresh process per run, best median of {rounds} run(s) "
        "(round r pinned to core r mod #cores); median and min of 21 repetitions of a ~20 ms "
        "inner loop after >= 0.3 s of warm-up. Compile-time rows are single first calls. "
        "`ratio to gradc` = the row's median / gradc's median for the same workload "
        "(> 1: gradc is faster). On a shared 2-vCPU host expect +-30% between sessions.",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cpus')} CPUs; Python {machine['python']}; "
        f"{machine.get('cc', 'no C compiler')}; numpy {machine['numpy']} with BLAS: {blas_text}; "
        f"jax {machine['jax']}, torch {machine['torch']}, casadi {machine['casadi']}, sparsejac {machine.get('sparsejac', '-')}, xdsl {machine['xdsl']}.",
        f"Whole run: {elapsed_s:.0f} s.",
        "",
        *table(results),
        "",
        "## Checks",
        "",
    ]
    for result in results:
        lines += [f"- {result['title'].split(' (')[0]}: {check}" for check in result["checks"]]
    lines += ["", "## Targets (issue 3)", "", *targets(results), ""]
    lines += ["## Targets (issue 4)", "", *targets_issue4(results), ""]
    lines += ["## Targets (issue 15)", "", *targets_issue15(results), ""]
    lines += ["## Targets (issue 16)", "", *targets_issue16(results), ""]
    lines += ["## Targets (issue 17)", "", *targets_issue17(results), ""]
    lines += ["## Targets (issue 18)", "", *targets_issue18(results), "", "## Memory of the MLP step", ""]
    lines += [f"- {line}" for line in memory_report()]
    lines += ["", "Plots: matmul.png (GFLOP/s by N), mlp_step.png (step time by system), "
              "compile_time.png (first-call time by program size).", ""]
    text = "\n".join(lines)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "README.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per row (best median kept)")
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "CONFIG", "SYSTEM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    start = time.perf_counter()
    if shutil.which("taskset") and hasattr(os, "sched_getaffinity"):
        cores: list[int | None] = sorted(os.sched_getaffinity(0))
    else:
        cores = [None]
        print("taskset not available: child processes are not pinned to a core")
    machine = machine_info()
    prepare_machine_cache()
    print(f"gradc bench on {machine.get('cpu', '?')} ({machine.get('cpus')} CPUs), {args.rounds} round(s)", flush=True)
    for workload in args.only:
        result = run_workload(workload, args.rounds, cores)
        result.update(machine=machine, rounds=args.rounds)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{workload}.json").write_text(json.dumps(result, indent=1) + "\n")
    # The report covers every workload with results, so `--only` updates its part.
    results = [
        json.loads((RESULTS / f"{w}.json").read_text()) for w in WORKLOADS if (RESULTS / f"{w}.json").exists()
    ]
    print()
    print(write_report(results, machine, args.rounds, time.perf_counter() - start))
    plot(results)


def memory_report() -> list[str]:
    try:
        import mlp_step

        return mlp_step.memory_report()
    except Exception as err:  # a report line, not a lost run
        return [f"memory figures failed: {err.__class__.__name__}: {err}"]


def plot(results: list[dict[str, Any]]) -> None:
    """matmul.png: GFLOP/s against N per system, with the measured peak;
    mlp_step.png: step time per system for each size (log scale); and each
    workload with a `plot(result, plt, folder)` draws its own."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plots")
        return
    by_name = {r["workload"]: r for r in results}
    if "matmul" in by_name:
        rows = [r for r in by_name["matmul"]["rows"] if "median_s" in r]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for system in dict.fromkeys(r["system"] for r in rows if r["config"].startswith("N=")):
            points = sorted(
                (int(r["config"][2:]), 2 * int(r["config"][2:]) ** 3 / r["median_s"] * 1e-9)
                for r in rows if r["system"] == system and r["config"].startswith("N=")
            )
            ax.plot(*zip(*points), marker="o", label=system, linewidth=2.5 if system.startswith("gradc") else 1.2)
        peak = next((r.get("gflops") for r in rows if r["system"] == "probe"), None)
        if peak:
            ax.axhline(peak, color="gray", linestyle="--", label=f"FMA peak, 1 core ({peak:.0f})")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (square float32 matmul)")
        ax.set_ylabel("GFLOP/s")
        ax.set_title("float32 matmul")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(RESULTS / "matmul.png", dpi=110)
        plt.close(fig)
    if "mlp_step" in by_name:
        rows = [r for r in by_name["mlp_step"]["rows"] if "median_s" in r]
        configs = list(dict.fromkeys(r["config"] for r in rows))
        fig, axes = plt.subplots(1, len(configs), figsize=(6 * len(configs), 4))
        for ax, config in zip(axes if len(configs) > 1 else [axes], configs):
            here = [r for r in rows if r["config"] == config]
            names = [r["system"] for r in here]
            values = [r["median_s"] * 1e6 for r in here]
            colors = ["tab:blue" if n.startswith("gradc") else "tab:gray" for n in names]
            ax.barh(names, values, color=colors)
            ax.set_xscale("log")
            ax.set_xlabel("microseconds per step (median, 1 thread)")
            ax.set_title(f"MLP SGD step {config}")
        fig.tight_layout()
        fig.savefig(RESULTS / "mlp_step.png", dpi=110)
        plt.close(fig)
    for result in results:
        module = importlib.import_module(result["workload"])
        if hasattr(module, "plot"):
            module.plot(result, plt, RESULTS)


if __name__ == "__main__":
    main()
