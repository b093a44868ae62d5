"""Small convnet SGD training step, float32, one thread: gradc vs JAX, PyTorch.

conv3x3(1->8, SAME)-relu-conv3x3(8->16, SAME)-relu-flatten-dense(1024->10),
softmax cross-entropy (batch mean), batch 32 of scikit-learn's 8x8 digits
(pixels / 16). One step = forward, loss, gradient of every parameter, SGD
update; it returns the loss. Every system starts from the same parameters
and data (fixed seed); the loss of the first step is recorded so the table
flags a system computing something else.

- gradc: `gradc.jit(step)` with `gradc.value_and_grad` and
  `gradc.nn.conv(..., layout='NHWC')` (im2col composite, docs/conv.md).
- jax: `jax.jit(step)` with `jax.lax.conv_general_dilated` (NHWC/HWIO).
- torch: eager autograd, `torch.nn.functional.conv2d` (NCHW, torch's own
  layout; the activations are flattened in NHWC order so the dense weights
  are the same), `_foreach_add_` update.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing import pinned_torch, require

TITLE = "Convnet SGD training step, 8x8 digits (float32, 1 thread)"
SYSTEMS = ("gradc", "jax", "torch")
CONFIG = "conv3x3(1-8)-conv3x3(8-16)-dense(10) b32"
LEARNING_RATE = 0.1
BATCH = 32


def cases() -> list[tuple[str, str]]:
    return [(CONFIG, system) for system in SYSTEMS]


def problem() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Initial parameters (HWIO filters), NHWC images and one-hot labels."""
    datasets = require("sklearn.datasets")
    digits = datasets.load_digits()
    f32 = np.float32
    x = (digits.images[:BATCH] / 16.0).astype(f32)[..., None]  # (32, 8, 8, 1)
    y = np.eye(10, dtype=f32)[digits.target[:BATCH]]
    rng = np.random.default_rng(0)
    params = {
        "w1": (rng.standard_normal((3, 3, 1, 8)) / 3.0).astype(f32),
        "b1": np.zeros(8, f32),
        "w2": (rng.standard_normal((3, 3, 8, 16)) / np.sqrt(72.0)).astype(f32),
        "b2": np.zeros(16, f32),
        "w3": (rng.standard_normal((8 * 8 * 16, 10)) / 32.0).astype(f32),
        "b3": np.zeros(10, f32),
    }
    return params, x, y


def build(config: str, system: str) -> tuple[Any, list[str]]:
    params, x, y = problem()
    return BUILDERS[system](params, x, y)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    return {"loss0": float(np.asarray(result))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Flag systems whose first-step loss differs from JAX's."""
    losses = {r["system"]: r["loss0"] for r in rows if "loss0" in r}
    reference = losses.get("jax")
    if reference is None:
        return []
    bad = [s for s, v in losses.items() if abs(v - reference) > 1e-4 * abs(reference)]
    shown = ", ".join(f"{s} {v:.6f}" for s, v in losses.items())
    flag = f"MISMATCH ({', '.join(bad)})" if bad else "all agree (rtol 1e-4)"
    return [f"{CONFIG}: first-step loss {shown}: {flag}"]


def gradc_step() -> Any:
    """The training step written with gradc (not jitted)."""
    import gradc
    import gradc.numpy as gnp
    from gradc import nn

    def loss(p, x, y):
        h = nn.relu(nn.conv(x, p["w1"], layout="NHWC") + p["b1"])
        h = nn.relu(nn.conv(h, p["w2"], layout="NHWC") + p["b2"])
        logits = gnp.reshape(h, (h.shape[0], -1)) @ p["w3"] + p["b3"]
        return -gnp.sum(y * nn.log_softmax(logits)) / x.shape[0]

    def sgd_step(p, x, y):
        value, grads = gradc.value_and_grad(loss)(p, x, y)
        return value, {k: p[k] - LEARNING_RATE * grads[k] for k in p}

    return sgd_step


def _gradc(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    import gradc

    fast = gradc.jit(gradc_step())
    return (lambda: fast(params, x, y)[0]), ["nn.conv NHWC (im2col + matmul)"]


def _jax(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jnp = jax.numpy

    def conv(h, w):
        return jax.lax.conv_general_dilated(h, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def loss(p, x, y):
        h = jax.nn.relu(conv(x, p["w1"]) + p["b1"])
        h = jax.nn.relu(conv(h, p["w2"]) + p["b2"])
        logits = h.reshape(h.shape[0], -1) @ p["w3"] + p["b3"]
        return -jnp.sum(y * jax.nn.log_softmax(logits)) / x.shape[0]

    @jax.jit
    def step(p, x, y):
        value, grads = jax.value_and_grad(loss)(p, x, y)
        return value, jax.tree_util.tree_map(lambda w, g: w - LEARNING_RATE * g, p, grads)

    p, xj, yj = jax.device_put((params, x, y))

    def call():
        value, _ = step(p, xj, yj)
        return value.block_until_ready()

    return call, ["jit(value_and_grad + update), blocked per call"]


def _torch(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    functional = torch.nn.functional
    p = {
        "w1": torch.tensor(params["w1"].transpose(3, 2, 0, 1).copy(), requires_grad=True),
        "b1": torch.tensor(params["b1"], requires_grad=True),
        "w2": torch.tensor(params["w2"].transpose(3, 2, 0, 1).copy(), requires_grad=True),
        "b2": torch.tensor(params["b2"], requires_grad=True),
        "w3": torch.tensor(params["w3"], requires_grad=True),
        "b3": torch.tensor(params["b3"], requires_grad=True),
    }
    order = list(p.values())
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    labels = torch.from_numpy(y.argmax(axis=1))

    def call():
        h = torch.relu(functional.conv2d(xt, p["w1"], p["b1"], padding=1))
        h = torch.relu(functional.conv2d(h, p["w2"], p["b2"], padding=1))
        flat = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        value = functional.cross_entropy(torch.addmm(p["b3"], flat, p["w3"]), labels)
        for tensor in order:
            tensor.grad = None
        value.backward()
        with torch.no_grad():
            torch._foreach_add_(order, [tensor.grad for tensor in order], alpha=-LEARNING_RATE)
        return value.detach()

    return call, ["eager: conv2d NCHW, cross_entropy, backward(), foreach update"]


BUILDERS = {"gradc": _gradc, "jax": _jax, "torch": _torch}
