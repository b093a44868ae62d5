"""Recompile every k steps? Specialization's break-even on the MLP step.

The training step of mlp_step.py (float32, one thread): forward, softmax
cross-entropy, the gradient of every parameter, SGD update. Configs: sizes
(a) and (b), and (b) with 90% of each weight matrix pruned (the smallest
magnitudes zeroed; the update is masked, `w - rate * (g * mask)`, so the
pruned entries stay zero and the mask is fixed).

- "gradc": `gradc.jit(step)(params, [mask,] x, y)`, weights as arguments.
- "gradc specialized": `gradc.specialize(step, params, [mask,] x, y,
  constants=...)`: the current weights (and mask) baked into the C as
  constants; the call takes (x, y). Pruned weights make the products with
  them sparse (`sparse-products`: the loop runs over the nonzeros only).

Each row is a fresh process with an empty cache: "first call" is the
compile time (specialize + first call for the specialized row), the median
the time per step. A training loop that recompiles its specialized step
every k steps gains (t_jit - t_specialized) per step and pays one compile
per k steps, so it breaks even at k = compile_specialized / (t_jit -
t_specialized) (infinite when the specialized step is not faster).
`summarize` reports that k per config (from the medians, and from the
minimums, which a loaded machine disturbs less); the specialized rows'
notes too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mlp_step

TITLE = "Specialization: weights baked into the C, break-even k (float32, 1 thread)"
PRUNED = 0.9
CONFIGS = {
    "(a) 64-128-10 b32": ("(a) 64-128-10 b32", 0.0),
    "(b) 784-512-10 b128": ("(b) 784-512-10 b128", 0.0),
    "(b) 90% pruned": ("(b) 784-512-10 b128", PRUNED),
}
SYSTEMS = ("gradc", "gradc specialized")


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in CONFIGS for system in SYSTEMS]


def problem(config: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, np.ndarray, np.ndarray]:
    """mlp_step's parameters and data; pruned configs zero the smallest
    weights by magnitude and return the masks (1 kept, 0 pruned)."""
    size, pruned = CONFIGS[config]
    params, x, y = mlp_step.problem(size)
    if not pruned:
        return params, None, x, y
    masks = {}
    for k, w in params.items():
        keep = np.abs(w) >= np.quantile(np.abs(w), pruned) if w.ndim == 2 else np.ones(w.shape, bool)
        masks[k] = keep.astype(w.dtype)
        params[k] = w * masks[k]
    return params, masks, x, y


def _steps() -> tuple[Any, Any]:
    """mlp_step's step, and the same step with each gradient masked."""
    import gradc

    loss = mlp_step._gradc_loss()

    def masked_step(p, mask, x, y):
        value, grads = gradc.value_and_grad(loss)(p, x, y)
        return value, {k: p[k] - mlp_step.LEARNING_RATE * (grads[k] * mask[k]) for k in p}

    return mlp_step._gradc_step(), masked_step


def build(config: str, system: str) -> tuple[Any, list[str]]:
    import gradc

    params, masks, x, y = problem(config)
    step, masked_step = _steps()
    fn, args = (step, (params, x, y)) if masks is None else (masked_step, (params, masks, x, y))
    baked = (0,) if masks is None else (0, 1)
    if system == "gradc":
        jitted = gradc.jit(fn)
        return (lambda: jitted(*args)[0]), ["weights as arguments"]
    state: dict[str, Any] = {}

    def call():
        specialized = state.get("fn")
        if specialized is None:
            specialized = state["fn"] = gradc.specialize(fn, *args, constants=baked)
        return specialized(x, y)[0]

    what = "weights and masks" if masks is not None else "weights"
    nonzero = sum(int(np.count_nonzero(params[k])) for k in ("w1", "w2"))
    total = sum(params[k].size for k in ("w1", "w2"))
    return call, [f"{what} baked in ({nonzero:,} of {total:,} weights nonzero)"]


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    return {"loss0": float(np.asarray(result))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Per config: compile times, step times, the break-even k; the losses
    of both rows must agree."""
    lines = []
    for config in CONFIGS:
        by = {r["system"]: r for r in rows if r["config"] == config}
        plain, special = by.get("gradc"), by.get("gradc specialized")
        if plain is None or special is None:
            continue
        compile_s = special["first_call_s"]

        def break_even(field: str) -> str:
            gain = plain[field] - special[field]
            return f"{compile_s / gain:,.0f} steps" if gain > 0 else "infinite (the specialized step is not faster)"

        shown = break_even("median_s")
        agree = abs(plain["loss0"] - special["loss0"]) <= 1e-5 * abs(plain["loss0"])
        line = (
            f"{config}: jit compile {plain['first_call_s'] * 1e3:,.0f} ms, step {plain['median_s'] * 1e6:,.1f} us; "
            f"specialized compile {compile_s * 1e3:,.0f} ms, step {special['median_s'] * 1e6:,.1f} us "
            f"({plain['median_s'] / special['median_s']:.2f}x); break-even k = {shown} "
            f"(from the minimum step times, {plain['min_s'] * 1e6:,.1f} and {special['min_s'] * 1e6:,.1f} us: "
            f"{break_even('min_s')}); "
            f"first-step losses {'agree' if agree else 'DIFFER'} ({plain['loss0']:.6f}, {special['loss0']:.6f})"
        )
        special["notes"] = [*special.get("notes", []), f"compile (specialize + first call) {compile_s:.2f} s",
                            f"break-even k = {shown}"]
        lines.append(line)
    return lines
