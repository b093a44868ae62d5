"""MLP SGD training step, float32, one thread: gradc vs NumPy, JAX, PyTorch.

Two sizes: (a) 64 -> 128 tanh -> 10, batch 32; (b) 784 -> 512 tanh -> 10,
batch 128. One step = forward, softmax cross-entropy (batch mean), gradient
of every parameter, SGD update; it returns the new parameters and the loss.
Every system starts from the same parameters and data (made here with a
fixed seed), and the loss of its first step is recorded so the table can flag
a system that computes something else.

- gradc: `gradc.jit(step)` with `step` built on `gradc.value_and_grad`;
  "gradc tile off", "gradc plan off", "gradc tile+plan off": the same with
  `gradc.Options` tile=False and/or plan_memory=False (the loop-level
  passes of issue 4 off).
- numpy: the same math with the backward pass written by hand.
- jax: `jax.jit(step)` with `jax.value_and_grad`, blocked on every call.
- torch: eager autograd (`backward()`) and an in-place `_foreach_add_` update.
- gradc out= (size (a) only): `gradc.jit(step)` called with `out=`, a
  training loop that allocates nothing: each step writes the new
  parameters and the loss into one of two preallocated sets and takes the
  other as its parameters (double buffering).
- gradc-C (size (a) only; not a peer, a floor for gradc): the generated C
  step in a C loop (other translation unit), timed in C: the "gradc" row
  minus this one is what a call from Python costs, "gradc out=" minus it
  what a call costs when it allocates nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from timing import pinned_torch, require

TITLE = "MLP SGD training step (float32, 1 thread)"
GRADC_VARIANTS = {
    "gradc": {},
    "gradc tile off": {"tile": False},
    "gradc plan off": {"plan_memory": False},
    "gradc tile+plan off": {"tile": False, "plan_memory": False},
}
SYSTEMS = (*GRADC_VARIANTS, "numpy", "jax", "torch", "gradc out=", "gradc-C")
C_LOOP_CONFIGS = ("(a) 64-128-10 b32",)
"""Sizes with gradc out= and gradc-C rows (the call path matters where the
step is short)."""
CALL_PATH_SYSTEMS = ("gradc out=", "gradc-C")
LEARNING_RATE = 0.1


class Size(NamedTuple):
    n_in: int
    hidden: int
    n_out: int
    batch: int


SIZES = {
    "(a) 64-128-10 b32": Size(64, 128, 10, 32),
    "(b) 784-512-10 b128": Size(784, 512, 10, 128),
}


def cases() -> list[tuple[str, str]]:
    return [(config, system) for config in SIZES for system in SYSTEMS
            if system not in CALL_PATH_SYSTEMS or config in C_LOOP_CONFIGS]


def measure(config: str, system: str) -> dict[str, Any]:
    """gradc-C times itself in C; the other rows are measured as run.py
    measures every workload."""
    import sys

    if system == "gradc-C":
        return _c_loop(config)
    import run

    return run.measure(sys.modules[__name__], config, system)


_LOOP = """\
#include <stdlib.h>
#include <time.h>
#include "kernel.h"
double gradc_bench_loop(long n, void **p) {
    void *work = aligned_alloc(64, (%(name)s_work_size() / 64 + 2) * 64);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        %(name)s(%(args)s, work);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(work);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}
"""


def _c_loop(config: str) -> dict[str, Any]:
    """The step's generated C function called in a C loop on the problem's
    arrays (its leaves in the C function's order), the loss checked."""
    import ctypes
    import statistics

    import gradc
    from gradc.frontend import pytree
    from matmul import _compile, _timed_in_c

    params, x, y = problem(config)
    lowered = gradc.lower(_gradc_step(), params, x, y)
    function = lowered.compiled.function
    leaves, _ = pytree.flatten((params, x, y))
    inputs = [np.ascontiguousarray(leaf) for leaf in leaves]
    outputs = [np.empty(shape, dtype) for shape, dtype, _, _ in function.outputs]
    buffers = [*inputs, *outputs]
    args = ", ".join(f"p[{k}]" for k in range(len(buffers)))
    loop = _compile({"kernel.c": lowered.c_source, "kernel.h": lowered.c_header,
                     "loop.c": _LOOP % {"name": lowered.name, "args": args}}, "gradc_bench_loop")
    loop.restype = ctypes.c_double
    loop.argtypes = [ctypes.c_long, ctypes.c_void_p]
    pointers = (ctypes.c_void_p * len(buffers))(*(b.ctypes.data for b in buffers))
    samples, calls = _timed_in_c(lambda k: loop(k, pointers))
    return {
        **check(config, "gradc-C", outputs[0]),
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "calls_per_repetition": calls,
        "notes": ["the generated C step in a C loop (other translation unit), timed in C"],
    }


def problem(config: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Initial parameters, a batch of inputs and one-hot labels (float32)."""
    size = SIZES[config]
    rng = np.random.default_rng(0)
    f32 = np.float32
    params = {
        "w1": (rng.standard_normal((size.n_in, size.hidden)) / np.sqrt(size.n_in)).astype(f32),
        "b1": np.zeros(size.hidden, f32),
        "w2": (rng.standard_normal((size.hidden, size.n_out)) / np.sqrt(size.hidden)).astype(f32),
        "b2": np.zeros(size.n_out, f32),
    }
    x = rng.standard_normal((size.batch, size.n_in)).astype(f32)
    labels = rng.integers(0, size.n_out, size.batch)
    y = np.eye(size.n_out, dtype=f32)[labels]
    return params, x, y


def build(config: str, system: str) -> tuple[Any, list[str]]:
    """A zero-argument callable doing one step on fixed inputs (returns the
    loss first), and notes on how it was set up."""
    params, x, y = problem(config)
    if system in GRADC_VARIANTS:
        return _gradc(params, x, y, GRADC_VARIANTS[system])
    if system == "gradc out=":
        return _gradc_out(params, x, y)
    return BUILDERS[system](params, x, y)


def check(config: str, system: str, result: Any) -> dict[str, Any]:
    return {"loss0": float(np.asarray(result))}


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Flag systems whose first-step loss differs from NumPy's."""
    lines = []
    for config in SIZES:
        losses = {r["system"]: r["loss0"] for r in rows if r["config"] == config and "loss0" in r}
        reference = losses.get("numpy")
        if reference is None:
            continue
        bad = [s for s, v in losses.items() if abs(v - reference) > 1e-4 * abs(reference)]
        shown = ", ".join(f"{s} {v:.6f}" for s, v in losses.items())
        flag = f"MISMATCH ({', '.join(bad)})" if bad else "all agree (rtol 1e-4)"
        lines.append(f"{config}: first-step loss {shown}: {flag}")
    return lines


def _gradc_loss() -> Any:
    """The step's loss written with gradc: softmax cross-entropy, batch mean."""
    import gradc.numpy as gnp

    def loss(p, x, y):
        h = gnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        logp = logits - gnp.logsumexp(logits, axis=1, keepdims=True)
        return -gnp.sum(y * logp) / x.shape[0]

    return loss


def _gradc_step() -> Any:
    """The training step written with gradc (not jitted)."""
    import gradc

    loss = _gradc_loss()

    def sgd_step(p, x, y):
        value, grads = gradc.value_and_grad(loss)(p, x, y)
        return value, {k: p[k] - LEARNING_RATE * grads[k] for k in p}

    return sgd_step


def _gradc(params: dict, x: np.ndarray, y: np.ndarray, options: dict[str, Any]) -> tuple[Any, list[str]]:
    import gradc

    fast = gradc.jit(_gradc_step(), options=options)
    notes = [", ".join(f"{k}={v}" for k, v in options.items())] if options else []
    return (lambda: fast(params, x, y)[0]), notes


def _gradc_out(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    """A training loop with `out=`: step k reads the parameters step k - 1
    wrote and writes into the other of two preallocated sets."""
    import gradc

    fast = gradc.jit(_gradc_step())
    buffers = [(np.empty((), np.float32), {k: np.empty_like(v) for k, v in params.items()}) for _ in range(2)]
    state = [params, 0]

    def call():
        current, k = state
        value, state[0] = fast(current, x, y, out=buffers[k])
        state[1] = 1 - k
        return value

    return call, ["out= double-buffered: the step allocates nothing"]


def memory_report() -> list[str]:
    """Workspace of each step (planned and not) against the sum of all its
    buffers and the most bytes live at once (issue target: planned
    workspace <= 1.25x the most live)."""
    import gradc

    lines = []
    for config in SIZES:
        params, x, y = problem(config)
        planned = getattr(gradc.lower(_gradc_step(), params, x, y), "memory", None)
        unplanned = getattr(
            gradc.lower(_gradc_step(), params, x, y, options={"plan_memory": False}), "memory", None
        )
        if planned is None or unplanned is None:
            lines.append(f"{config}: gradc reports no memory figures in this checkout")
            continue
        ratio = planned["workspace_bytes"] / max(1, planned["live_bytes"])
        verdict = "met" if ratio <= 1.25 else "NOT met"
        lines.append(
            f"{config}: workspace {planned['workspace_bytes']:,} B planned (+ {planned['stack_bytes']:,} B "
            f"stack) vs {unplanned['workspace_bytes']:,} B unplanned; sum of all buffers "
            f"{planned['buffer_bytes']:,} B; most live at once {planned['live_bytes']:,} B; "
            f"planned / most live = {ratio:.2f} (target <= 1.25) -> **{verdict}**"
        )
    return lines


def _numpy(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    def step(p, x, y):
        h = np.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        batch = x.shape[0]
        value = -np.sum(y * (shifted - np.log(total))) / batch
        d_logits = (e / total - y) / batch
        d_h = (d_logits @ p["w2"].T) * (1 - h * h)
        grads = {
            "w2": h.T @ d_logits,
            "b2": d_logits.sum(axis=0),
            "w1": x.T @ d_h,
            "b1": d_h.sum(axis=0),
        }
        return value, {k: p[k] - np.float32(LEARNING_RATE) * grads[k] for k in p}

    return (lambda: step(params, x, y)[0]), ["backward written by hand"]


def _jax(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    jax = require("jax")
    jnp = jax.numpy

    def loss(p, x, y):
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        logp = logits - jax.nn.logsumexp(logits, axis=1, keepdims=True)
        return -jnp.sum(y * logp) / x.shape[0]

    @jax.jit
    def step(p, x, y):
        value, grads = jax.value_and_grad(loss)(p, x, y)
        return value, jax.tree_util.tree_map(lambda w, g: w - LEARNING_RATE * g, p, grads)

    p, xj, yj = jax.device_put((params, x, y))

    def call():
        value, _ = step(p, xj, yj)
        return value.block_until_ready()  # one executable: the new params are ready too

    return call, ["jit(value_and_grad + update), blocked per call"]


def _torch(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[Any, list[str]]:
    torch = pinned_torch()
    cross_entropy = torch.nn.functional.cross_entropy
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    order = list(p.values())
    xt, labels = torch.from_numpy(x), torch.from_numpy(y.argmax(axis=1))

    def call():
        h = torch.tanh(torch.addmm(p["b1"], xt, p["w1"]))
        value = cross_entropy(torch.addmm(p["b2"], h, p["w2"]), labels)
        for tensor in order:
            tensor.grad = None
        value.backward()
        with torch.no_grad():
            torch._foreach_add_(order, [tensor.grad for tensor in order], alpha=-LEARNING_RATE)
        return value.detach()

    return call, ["eager: addmm, cross_entropy, backward(), foreach update"]


BUILDERS = {"numpy": _numpy, "jax": _jax, "torch": _torch}
