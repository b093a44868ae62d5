"""Dropout MLP SGD training step, float32, one thread: gradc vs JAX.

The MLPs of bench/mlp_step.py ((a) 64 -> 128 tanh -> 10, batch 32; (b)
784 -> 512 tanh -> 10, batch 128) with dropout 0.5 on the hidden layer
(inverted dropout: kept units scaled by 2, the mask from
`random.bernoulli(subkey, float32(0.5), h.shape)`). One step = split the
key, forward with dropout, softmax cross-entropy (batch mean), gradient of
every parameter, SGD update; it returns the loss, the new parameters and
the new key. Both systems draw the same mask (gradc.random's uniform
float32 bits are JAX's), so their first-step losses must agree.

- gradc: `gradc.jit(step)` with `gradc.value_and_grad` and `gradc.random`.
- jax: `jax.jit(step)` with `jax.value_and_grad` and `jax.random`, blocked
  on every call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlp_step import LEARNING_RATE, SIZES, problem
from timing import require

TITLE = "Dropout MLP SGD training step (float32, 1 thread)"
SYSTEMS = ("gradc", "jax")
RATE = 0.5
SEED = 0


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in SIZES for system in SYSTEMS]


def build(config: str, system: str) -> tuple[Any, list[str]]:
    params, x, y = problem(config)
    return {"gradc": _gradc, "jax": _jax}[system](params, x, y)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    return {"loss0": float(np.asarray(result))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Flag a first-step loss that differs between the systems."""
    lines = []
    for config in SIZES:
        losses = {r["system"]: r["loss0"] for r in rows if r["config"] == config and "loss0" in r}
        if len(losses) < 2:
            continue
        values = list(losses.values())
        agree = max(values) - min(values) <= 1e-4 * abs(values[0])
        shown = ", ".join(f"{s} {v:.6f}" for s, v in losses.items())
        lines.append(f"{config}: first-step loss {shown}: {'agree (rtol 1e-4)' if agree else 'MISMATCH'}")
    return lines


def _gradc(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp
    import gradc.random as gr

    def loss(p, x, y, key):
        h = gnp.tanh(x @ p["w1"] + p["b1"])
        keep = gr.bernoulli(key, np.float32(1 - RATE), h.shape)
        h = gnp.where(keep, h / np.float32(1 - RATE), np.float32(0))
        logits = h @ p["w2"] + p["b2"]
        logp = logits - gnp.logsumexp(logits, axis=1, keepdims=True)
        return -gnp.sum(y * logp) / x.shape[0]

    @gradc.jit
    def step(p, x, y, key):
        key, sub = gr.split(key)
        value, grads = gradc.value_and_grad(loss)(p, x, y, sub)
        return value, {k: p[k] - np.float32(LEARNING_RATE) * grads[k] for k in p}, key

    key = gr.key(SEED)
    return (lambda: step(params, x, y, key)[0]), ["jit(split + value_and_grad + update)"]


def _jax(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jnp = jax.numpy

    def loss(p, x, y, key):
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        keep = jax.random.bernoulli(key, np.float32(1 - RATE), h.shape)
        h = jnp.where(keep, h / np.float32(1 - RATE), np.float32(0))
        logits = h @ p["w2"] + p["b2"]
        logp = logits - jax.nn.logsumexp(logits, axis=1, keepdims=True)
        return -jnp.sum(y * logp) / x.shape[0]

    @jax.jit
    def step(p, x, y, key):
        key, sub = jax.random.split(key)
        value, grads = jax.value_and_grad(loss)(p, x, y, sub)
        return value, jax.tree_util.tree_map(lambda w, g: w - LEARNING_RATE * g, p, grads), key

    p, xj, yj, key = jax.device_put((params, x, y, jax.random.PRNGKey(SEED)))

    def call():
        value, _, _ = step(p, xj, yj, key)
        return value.block_until_ready()

    return call, ["jit(split + value_and_grad + update), blocked per call"]
