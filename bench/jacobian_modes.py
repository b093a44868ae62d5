"""Mixed-mode Jacobians (issue 17, item 3): multiplications of the strategy
`jacobian(f, mode="auto")` emits against pure forward, pure reverse and
vertex elimination (block-level Markowitz, and the bounded search over
elimination orders), from the cost model of
passes/autodiff/elimination.py; and the emitted Jacobian's time against
mode "fwd" and "rev" on two chains, to show the counted savings are real.

Functions:
- `mlp a-b-...`: x -> W_L tanh(... tanh(W_1 x)), a vector through layers
  of the given widths (several profiles: uniform, hourglass, diamond,
  growing, shrinking, irregular);
- `robot_arm`, `roe_flux_1d`, `helmholtz n=8`: small scalar programs in
  the style of the Graphax/AlphaGrad benchmark functions (6-joint arm
  kinematics, Roe's 1-D flux, a Helmholtz free-energy term), written here
  in gradc.numpy from their formulas.

Hessians (issue 17, item 4): `hessian rosenbrock n=10`, `hessian mlp-loss
4-5` (sum tanh(W x)^2), `hessian helmholtz n=32` (sum x log(x / (1 - sum
x))), `hessian log-sum-exp n=30` (log sum exp(x^2) times sum sin x cos x),
`hessian narrowing 64-8` (sum tanh(W tanh x)^2, W 8 x 64): the counts
`hessian(f, mode="auto")` records for fwd-over-rev, rev-over-rev,
rev-over-fwd and edge-pushing (multiplications of each candidate's
simplified code, primal included) and the multiplications in each explicit
mode's simplified IR; the last three are also timed by mode against their
closed-form Hessians.

Rows: system `counts` (every function) times the analysis (trace + cost
model + choice: `Lowered.jacobian_strategies`) and carries the counts;
systems `gradc auto`, `gradc fwd`, `gradc rev` (two chains) time the
compiled Jacobian, checked against NumPy's closed form (`rel_error`).
`summarize` gives the counts per function and the issue's targets: the chosen
strategy never worse than the best pure mode, and >= 20% fewer
multiplications than it on at least half of the chains whose widths vary.
Counts are of the derivative's multiplications only (one per scalar
product, an FMA counted once); the primal sweep is common to all. As a
check on the model, each counts row also counts the multiplications and
divisions left in the simplified array IR of the auto, fwd and rev
Jacobians and of the primal (`emitted`): what the C will execute, partial
derivatives and primal included.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import numpy as np

from timing import first_call, per_call, timing_fields

TITLE = "Mixed-mode Jacobians: multiplications by strategy, and auto vs fwd vs rev"
CHAINS = (
    (8, 64, 4, 64, 8),
    (50, 5, 50, 5, 50),
    (100, 10, 100),
    (10, 100, 10),
    (4, 32, 64, 32, 4),
    (64, 32, 16, 8, 4),
    (4, 8, 16, 32, 64),
    (30, 60, 20, 80, 10),
    (16, 16, 16, 16, 16),
    (32, 32, 32),
)
SCALAR = ("robot_arm", "roe_flux_1d", "helmholtz n=8")
TIMED = ("mlp 8-64-4-64-8", "mlp 50-5-50-5-50")
MODES = ("auto", "fwd", "rev")
HESSIANS = ("hessian rosenbrock n=10", "hessian mlp-loss 4-5", "hessian helmholtz n=32",
            "hessian log-sum-exp n=30", "hessian narrowing 64-8")
HESSIAN_MODES = ("auto", "fwd-over-rev", "rev-over-rev", "rev-over-fwd", "edge-pushing")
TIMED_HESSIAN_MODES = ("auto", "fwd-over-rev", "rev-over-rev", "edge-pushing")
TIMED_HESSIANS = ("hessian helmholtz n=32", "hessian log-sum-exp n=30", "hessian narrowing 64-8")


def _name(widths: tuple[int, ...]) -> str:
    return "mlp " + "-".join(map(str, widths))


def cases() -> list[tuple[str, str]]:
    rows = [(_name(w), "counts") for w in CHAINS] + [(name, "counts") for name in SCALAR]
    rows += [(config, f"gradc {mode}") for config in TIMED for mode in MODES]
    rows += [(config, "counts") for config in HESSIANS]
    return rows + [(config, f"gradc {mode}") for config in TIMED_HESSIANS for mode in TIMED_HESSIAN_MODES]


def _mlp(widths: tuple[int, ...]) -> tuple[Any, Any, np.ndarray]:
    import gradc.numpy as gnp

    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((b, a)) / math.sqrt(a) for a, b in zip(widths, widths[1:])]

    def f(x):
        for k, w in enumerate(ws):
            x = w @ x
            if k < len(ws) - 1:
                x = gnp.tanh(x)
        return x

    def jacobian(x):
        j = np.eye(len(x))
        for k, w in enumerate(ws):
            x, j = w @ x, w @ j
            if k < len(ws) - 1:
                x = np.tanh(x)
                j = (1 - x**2)[:, None] * j
        return j

    return f, jacobian, rng.standard_normal(widths[0])


def _robot_arm(t):
    import gradc.numpy as gnp

    c = [gnp.cos(t[k]) for k in range(6)]
    s = [gnp.sin(t[k]) for k in range(6)]
    c23, s23 = gnp.cos(t[1] + t[2]), gnp.sin(t[1] + t[2])
    ax = s[4] * (c[0] * c23 * c[3] + s[0] * s[3]) + c[0] * s23 * c[4]
    ay = s[4] * (s[0] * c23 * c[3] - c[0] * s[3]) + s[0] * s23 * c[4]
    az = s23 * c[3] * s[4] - c23 * c[4]
    nz = c[5] * (c23 * s[4] + s23 * c[3] * c[4]) - s23 * s[3] * s[5]
    oz = -s[5] * (c23 * s[4] + s23 * c[3] * c[4]) - s23 * s[3] * c[5]
    reach = 175.0 + 890.0 * c[1] + 50.0 * c23 + 1035.0 * s23
    px = 185.0 * ax + c[0] * reach
    py = 185.0 * ay + s[0] * reach
    pz = 890.0 * s[1] + 575.0 + 50.0 * s23 - 1035.0 * c23 + 185.0 * az
    angles = [gnp.arctan2(ay, ax), gnp.arctan2(gnp.sqrt(1.0 - az * az), az), gnp.arctan2(oz, -nz)]
    return gnp.stack([px, py, pz, *angles])


def _roe_flux_1d(u):
    import gradc.numpy as gnp

    gamma = 1.4
    rl, rr = gnp.sqrt(u[0]), gnp.sqrt(u[3])
    vl, vr = u[1] / u[0], u[4] / u[3]
    pl = (gamma - 1) * (u[2] - 0.5 * u[1] * vl)
    pr = (gamma - 1) * (u[5] - 0.5 * u[4] * vr)
    hl, hr = (u[2] + pl) / u[0], (u[5] + pr) / u[3]
    v = (rl * vl + rr * vr) / (rl + rr)
    h = (rl * hl + rr * hr) / (rl + rr)
    a2 = (gamma - 1) * (h - 0.5 * v * v)
    a = gnp.sqrt(a2)
    n = a * gnp.sqrt(u[0] * u[3])
    dp, dv = pr - pl, vr - vl
    c0 = (u[3] - u[0] - dp / a2) * gnp.abs(v)
    c1 = (dv + dp / n) * gnp.abs(v + a)
    c2 = (dv - dp / n) * gnp.abs(v - a)
    c = 0.5 * gnp.sqrt(u[0] * u[3]) / a
    flux = [u[1] + u[4], pl + u[1] * vl + pr + u[4] * vr, vl * (pl + u[2]) + vr * (pr + u[5])]
    diss = [c0 + c * (c1 - c2), c0 * v + c * (c1 * (v + a) - c2 * (v - a)),
            0.5 * c0 * v * v + c * (c1 * (h + v * a) - c2 * (h - v * a))]
    return gnp.stack([0.5 * (f - d) for f, d in zip(flux, diss)])


def _helmholtz(x):
    import gradc.numpy as gnp

    return x * gnp.log(x / (1.0 - gnp.sum(x)))


def _function(config: str) -> tuple[Any, Any, np.ndarray]:
    """(f, NumPy Jacobian or None, x) of a config."""
    if config.startswith("mlp "):
        return _mlp(tuple(int(w) for w in config[4:].split("-")))
    if config == "robot_arm":
        return _robot_arm, None, np.array([0.1, 0.4, -0.3, 0.7, 0.2, -0.5])
    if config == "roe_flux_1d":
        return _roe_flux_1d, None, np.array([1.0, 0.3, 2.5, 0.8, 0.1, 2.0])
    return _helmholtz, None, np.linspace(0.01, 0.08, 8)


def _hessian(config: str) -> tuple[Any, Any, np.ndarray]:
    """(f, NumPy Hessian, x) of a Hessian config."""
    import gradc.numpy as gnp

    if config == "hessian rosenbrock n=10":
        def rosenbrock(x):
            return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

        def hessian(x):
            h = np.zeros((len(x), len(x)))
            i = np.arange(len(x) - 1)
            h[i, i] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
            h[i + 1, i + 1] += 200.0
            h[i, i + 1] = h[i + 1, i] = -400.0 * x[:-1]
            return h

        return rosenbrock, hessian, np.linspace(-1.2, 1.1, 10)
    if config == "hessian mlp-loss 4-5":
        w = np.random.default_rng(0).standard_normal((5, 4))

        def loss(x):
            return gnp.sum(gnp.tanh(w @ x) ** 2)

        def hessian(x):
            t = np.tanh(w @ x)
            d = 2.0 * (1.0 - t**2) * (1.0 - 3.0 * t**2)  # (t^2)'' with t = tanh(z)
            return w.T @ (d[:, None] * w)

        return loss, hessian, np.random.default_rng(1).standard_normal(4)

    if config == "hessian log-sum-exp n=30":
        def lse(x):
            return gnp.log(gnp.sum(gnp.exp(x * x))) * gnp.sum(gnp.sin(x) * gnp.cos(x))

        def lse_hessian(x):
            e = np.exp(x * x)
            s, t = e.sum(), np.sum(np.sin(x) * np.cos(x))
            a = 2 * x * e / s  # gradient of log(sum(exp(x^2)))
            ha = np.diag((2 + 4 * x * x) * e / s) - np.outer(a, a)
            b = np.cos(2 * x)  # gradient of sum(sin x cos x)
            return ha * t + np.outer(a, b) + np.outer(b, a) + np.log(s) * np.diag(-2 * np.sin(2 * x))

        return lse, lse_hessian, np.linspace(-0.9, 0.8, 30)
    if config == "hessian narrowing 64-8":
        w = np.random.default_rng(2).standard_normal((8, 64)) / 8

        def narrowing(x):
            return gnp.sum(gnp.tanh(w @ gnp.tanh(x)) ** 2)

        def narrowing_hessian(x):
            u = np.tanh(x)
            t = np.tanh(w @ u)
            d = 2.0 * (1.0 - t**2) * (1.0 - 3.0 * t**2)
            du = 1.0 - u * u
            g_u = w.T @ (2.0 * t * (1.0 - t * t))
            return du[:, None] * (w.T @ (d[:, None] * w)) * du[None, :] + np.diag(g_u * -2.0 * u * du)

        return narrowing, narrowing_hessian, np.random.default_rng(3).standard_normal(64)

    def energy(x):
        return gnp.sum(x * gnp.log(x / (1.0 - gnp.sum(x))))

    def energy_hessian(x):
        s = 1.0 - x.sum()
        return np.diag(1.0 / x) + (1.0 / s + 1.0 / s**2)

    return energy, energy_hessian, np.linspace(0.001, 0.02, 32)


def _measure_hessian(config: str, system: str) -> dict[str, Any]:
    import gradc

    f, reference, x = _hessian(config)
    if system == "counts":
        start = time.perf_counter()
        lowered = gradc.lower(gradc.hessian(f, mode="auto", compress=False), x)
        (choice,) = lowered.jacobian_strategies
        took = time.perf_counter() - start
        emitted = {mode: emitted_multiplications(gradc.lower(gradc.hessian(f, mode=mode, compress=False), x)
                                                 .simplified_ir) for mode in HESSIAN_MODES}
        notes = [f"{k} {v}" for k, v in choice["candidates"].items()] + [f"chosen: {choice['chosen']}"]
        notes.append("in the emitted code: " + ", ".join(f"{k} {v}" for k, v in emitted.items()))
        return {"median_s": took, "min_s": took, "counts": choice["candidates"], "chosen": choice["chosen"],
                "emitted": emitted, "notes": notes}
    mode = system.split()[1]
    hessian = gradc.jit(gradc.hessian(f, mode=mode, compress=False))
    got, first_s = first_call(lambda: hessian(x))
    want = reference(x)
    row = {"rel_error": float(np.abs(np.asarray(got) - want).max() / np.abs(want).max())}
    timing = per_call(lambda: hessian(x))
    notes = [f"first call {first_s:.2f} s", f"rel_error {row['rel_error']:.1e}"]
    return {**row, **timing_fields(timing, first_s), "notes": notes}


def emitted_multiplications(ir: str) -> int:
    """Scalar multiplications and divisions in simplified array IR (text):
    each mul/div counts its result's elements, a matmul m k n per batch."""
    total = 0
    for line in ir.splitlines():
        found = re.search(r"= array\.(mul|div) .*: tensor<([0-9x]*)f(32|64)>$", line.strip())
        if found:
            total += math.prod(int(d) for d in found.group(2).split("x") if d)
        found = re.search(r"= array\.matmul .*: tensor<([0-9x]*)f(?:32|64)>, tensor<([0-9x]*)f(?:32|64)> ->", line)
        if found:
            a = [int(d) for d in found.group(1).split("x") if d]
            total += math.prod(a) * int(found.group(2).split("x")[-2])
    return total


def measure(config: str, system: str) -> dict[str, Any]:
    import gradc

    if config.startswith("hessian "):
        return _measure_hessian(config, system)
    f, reference, x = _function(config)
    if system == "counts":
        start = time.perf_counter()
        (choice,) = gradc.lower(gradc.jacobian(f, mode="auto"), x).jacobian_strategies
        took = time.perf_counter() - start
        counts = choice["candidates"]
        chosen = choice["chosen"]
        emitted = {mode: emitted_multiplications(gradc.lower(gradc.jacobian(f, mode=mode), x).simplified_ir)
                   for mode in MODES}
        emitted["primal"] = emitted_multiplications(gradc.lower(f, x).simplified_ir)
        notes = [f"{k} {v}" for k, v in counts.items()] + [f"chosen: {chosen}"]
        notes.append("in the emitted code: " + ", ".join(f"{k} {v}" for k, v in emitted.items()))
        return {"median_s": took, "min_s": took, "counts": counts, "chosen": chosen, "emitted": emitted,
                "notes": notes}
    mode = system.split()[1]
    jac = gradc.jit(gradc.jacobian(f, mode=mode))
    got, first_s = first_call(lambda: jac(x))
    want = reference(x)
    row = {"rel_error": float(np.abs(np.asarray(got) - want).max() / np.abs(want).max())}
    if mode == "auto":
        row["chosen"] = gradc.lower(gradc.jacobian(f, mode="auto"), x).jacobian_strategies[0]["chosen"]
    timing = per_call(lambda: jac(x))
    notes = [f"first call {first_s:.2f} s", f"rel_error {row['rel_error']:.1e}"]
    return {**row, **timing_fields(timing, first_s), "notes": notes}


def _candidate(chosen: str) -> str:
    """The candidate whose count a chosen strategy is (a block elimination
    emits the search's order)."""
    return "search" if chosen.startswith("block elimination") else chosen.split()[0]


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    never_worse, varying, good = True, 0, 0
    emitted_never_worse, emitted_good = True, 0
    for row in rows:
        if row.get("system") != "counts" or "counts" not in row or row["config"].startswith("hessian "):
            continue
        counts, chosen = row["counts"], row["chosen"]
        pure = min(counts["fwd"], counts["rev"])
        got = counts[_candidate(chosen)]
        saving = 1 - got / pure if pure else 0.0
        never_worse &= got <= pure
        widths = [int(w) for w in row["config"][4:].split("-")] if row["config"].startswith("mlp ") else []
        emitted = {k: v - row["emitted"]["primal"] for k, v in row["emitted"].items()}
        best_emitted = min(emitted["fwd"], emitted["rev"])
        emitted_never_worse &= emitted["auto"] <= best_emitted
        if len(set(widths)) > 1:
            varying += 1
            good += saving >= 0.2
            emitted_good += emitted["auto"] <= 0.8 * best_emitted
        raw = row["emitted"]
        lines.append(f"{row['config']}: fwd {counts['fwd']}, rev {counts['rev']}, markowitz {counts['markowitz']}, "
                     f"search {counts['search']} -> {_candidate(chosen)} {got} ({saving:.0%} fewer than the best "
                     f"pure mode; {chosen}); multiplications in the simplified IR, primal included: "
                     f"auto {raw['auto']}, fwd {raw['fwd']}, rev {raw['rev']} "
                     f"(primal alone {raw['primal']})")
    lines.append(f"chosen never worse than the best pure mode: {'met' if never_worse else 'NOT met'} by the model, "
                 f"{'met' if emitted_never_worse else 'NOT met'} in the emitted code")
    lines.append(f">= 20% fewer multiplications than the best pure mode on at least half of the {varying} chains "
                 f"whose widths vary: by the model on {good} ({'met' if 2 * good >= varying else 'NOT met'}); "
                 f"in the emitted code (primal subtracted) on {emitted_good} "
                 f"({'met' if 2 * emitted_good >= varying else 'NOT met'}; the model counts fwd and rev as the "
                 f"simplified code runs them: the identity seed folded into a first or last weight)")
    for row in rows:
        if row.get("system") == "counts" and "counts" in row and row["config"].startswith("hessian "):
            emitted = row["emitted"]
            best = min(v for k, v in emitted.items() if k != "auto")
            lines.append(f"{row['config']}: " + ", ".join(f"{k} {v}" for k, v in row["counts"].items())
                         + f" -> {row['chosen']}; emitted auto {emitted['auto']} "
                         f"({'the' if emitted['auto'] <= best else 'NOT the'} fewest of the explicit modes)")
    timed = {(r["config"], r["system"]): r for r in rows if r.get("system", "").startswith("gradc ")}
    for config in TIMED_HESSIANS:
        found = {m: timed.get((config, f"gradc {m}")) for m in TIMED_HESSIAN_MODES}
        if all(found.values()):
            lines.append(f"{config}: " + ", ".join(f"{m} {r['median_s'] * 1e6:.1f} us" for m, r in found.items())
                         + f"; rel_error {max(r['rel_error'] for r in found.values()):.1e}")
    for config in TIMED:
        auto, fwd, rev = (timed.get((config, f"gradc {m}")) for m in MODES)
        if auto and fwd and rev:
            lines.append(f"{config}: auto ({auto.get('chosen')}) {auto['median_s'] * 1e6:.1f} us, "
                         f"fwd {fwd['median_s'] * 1e6:.1f} us, rev {rev['median_s'] * 1e6:.1f} us; "
                         f"rel_error {max(r['rel_error'] for r in (auto, fwd, rev)):.1e}")
    return lines
