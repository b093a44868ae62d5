"""Per-example gradients (vmap of grad), one thread (issue 15, item 1).

The 64 -> 128 tanh -> 10 MLP with a softmax cross-entropy loss per example;
for a batch of 32 examples, the gradient of each example's loss with
respect to every parameter (w1, b1, w2, b2), i.e. 32 gradients, in float32
and float64. Every system starts from the same parameters and data (fixed
seed); each row's gradients are compared with NumPy's (backward written by
hand, per example, in float64): the largest |g - g_ref| / max |g_ref| over
the parameters must stay below 1e-4 (float32) or 1e-10 (float64).

- gradc: `gradc.jit(gradc.vmap(gradc.grad(loss), in_axes=(None, 0, 0)))`.
- numpy: the per-example backward pass written by hand, batched.
- jax: `jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))`, blocked
  on every call.
- torch: `torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))`
  (eager; torch pinned to one thread).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing import pinned_torch, require

TITLE = "Per-example gradients, vmap(grad) (1 thread)"
SIZE = (64, 128, 10, 32)  # inputs, hidden, outputs, batch
DTYPES = {"(a) 64-128-10 b32 f32": np.float32, "(b) 64-128-10 b32 f64": np.float64}
SYSTEMS = ("gradc", "numpy", "jax", "torch")
TOLERANCE = {np.float32: 1e-4, np.float64: 1e-10}
KEYS = ("b1", "b2", "w1", "w2")


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in DTYPES for system in SYSTEMS]


def problem(config: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters, a batch of inputs and one-hot labels, in the config's dtype."""
    n_in, hidden, n_out, batch = SIZE
    dtype = DTYPES[config]
    rng = np.random.default_rng(0)
    params = {
        "w1": rng.standard_normal((n_in, hidden)) / np.sqrt(n_in),
        "b1": 0.1 * rng.standard_normal(hidden),
        "w2": rng.standard_normal((hidden, n_out)) / np.sqrt(hidden),
        "b2": 0.1 * rng.standard_normal(n_out),
    }
    x = rng.standard_normal((batch, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    return {k: v.astype(dtype) for k, v in params.items()}, x.astype(dtype), y.astype(dtype)


def backward(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per-example gradients by the backward pass written by hand, batched."""
    h = np.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    d_logits = e / e.sum(axis=1, keepdims=True) - y
    d_pre = (d_logits @ p["w2"].T) * (1 - h * h)
    return {
        "w2": h[:, :, None] * d_logits[:, None, :],
        "b2": d_logits,
        "w1": x[:, :, None] * d_pre[:, None, :],
        "b1": d_pre,
    }


def reference(config: str) -> dict[str, np.ndarray]:
    """Per-example gradients in float64 (`backward`)."""
    params, x, y = problem(config)
    return backward({k: v.astype(np.float64) for k, v in params.items()}, x.astype(np.float64), y.astype(np.float64))


def build(config: str, system: str) -> tuple[Any, list[str]]:
    """A zero-argument callable returning the per-example gradients (a dict
    of arrays with a leading batch axis), and notes."""
    return BUILDERS[system](*problem(config))


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    want = reference(config)
    err = max(
        float(np.abs(np.asarray(result[k], dtype=np.float64) - want[k]).max() / np.abs(want[k]).max())
        for k in KEYS
    )
    return {"max_rel_err": err, "ok": err <= TOLERANCE[DTYPES[config]]}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for config in DTYPES:
        errs = {r["system"]: r["max_rel_err"] for r in rows if r["config"] == config and "max_rel_err" in r}
        bad = [s for s, e in errs.items() if e > TOLERANCE[DTYPES[config]]]
        shown = ", ".join(f"{s} {e:.1e}" for s, e in errs.items())
        flag = f"MISMATCH ({', '.join(bad)})" if bad else f"all within {TOLERANCE[DTYPES[config]]:.0e}"
        lines.append(f"{config}: largest relative error of the per-example gradients vs NumPy: {shown}: {flag}")
    return lines


def _gradc(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    import gradc
    import gradc.numpy as gnp

    def loss(p, x, y):
        h = gnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -gnp.sum(y * (logits - gnp.logsumexp(logits)))

    per_example = gradc.jit(gradc.vmap(gradc.grad(loss), in_axes=(None, 0, 0)))
    return (lambda: per_example(params, x, y)), ["jit(vmap(grad(loss), in_axes=(None, 0, 0)))"]


def _numpy(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    return (lambda: backward(params, x, y)), ["per-example backward written by hand, batched"]


def _jax(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jnp = jax.numpy
    if x.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)

    def loss(p, x, y):
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -jnp.sum(y * (logits - jax.nn.logsumexp(logits)))

    per_example = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))
    p, xj, yj = jax.device_put((params, x, y))

    def call():
        return jax.block_until_ready(per_example(p, xj, yj))

    return call, ["jit(vmap(grad(loss), in_axes=(None, 0, 0))), blocked per call"]


def _torch(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    from torch.func import grad, vmap

    def loss(p, x, y):
        h = torch.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -torch.sum(y * (logits - torch.logsumexp(logits, dim=0)))

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))
    p = {k: torch.from_numpy(v) for k, v in params.items()}
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def call():
        return {k: v.detach().numpy() for k, v in per_example(p, xt, yt).items()}

    return call, ["torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0)), eager"]


BUILDERS = {"gradc": _gradc, "numpy": _numpy, "jax": _jax, "torch": _torch}
