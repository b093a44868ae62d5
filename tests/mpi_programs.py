"""Programs tests/test_distributed.py runs under `mpiexec -n 2` (and one
process): `python tests/mpi_programs.py SCENARIO OUT.json`.

- `numbers`: gradients and 20 SGD steps of a small float64 MLP through
  `gradc.distributed.data_parallel` on every rank of COMM_WORLD, against
  the same on one process (COMM_SELF, the whole batch) and against a
  hand-written NumPy gradient; float32 gradients; broadcast; a checkpoint
  round trip and a mismatched one. Rank 0 writes the measured differences
  to OUT.json; the test asserts on them.
- `raise`: rank 1 raises in the middle of training while rank 0 waits in
  the Allreduce: the job must end (MPI_Abort), not hang.
- `stall`: rank 1 sleeps in the middle of training; rank 0's Allreduce,
  with a 1 s timeout, raises, and the job ends.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import gradc
import gradc.distributed as dist
import gradc.numpy as gnp

N_IN, HIDDEN, N_OUT = 5, 4, 3
BATCH = 9  # 2 ranks: shards of 5 and 4 rows
STEPS = 20
LEARNING_RATE = 0.5


def loss(params, x, y):
    h = gnp.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    log_probs = logits - gnp.logsumexp(logits, axis=1, keepdims=True)
    return -gnp.sum(y * log_probs) / x.shape[0]


def numpy_value_and_grad(params, x, y):
    """The same loss and its gradient by hand, in float64 NumPy."""
    p = {k: v.astype(np.float64) for k, v in params.items()}
    h = np.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    value = -np.sum(y * (shifted - np.log(total))) / len(x)
    d_logits = (e / total - y) / len(x)
    d_h = (d_logits @ p["w2"].T) * (1 - h * h)
    return value, {"w1": x.T @ d_h, "b1": d_h.sum(axis=0), "w2": h.T @ d_logits, "b2": d_logits.sum(axis=0)}


def init_params(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.standard_normal((N_IN, HIDDEN)).astype(dtype),
        "b1": rng.standard_normal(HIDDEN).astype(dtype),
        "w2": rng.standard_normal((HIDDEN, N_OUT)).astype(dtype),
        "b2": rng.standard_normal(N_OUT).astype(dtype),
    }


def batch(step):
    rng = np.random.default_rng(100 + step)
    x = rng.standard_normal((BATCH, N_IN))
    y = np.eye(N_OUT)[rng.integers(0, N_OUT, BATCH)]
    return x, y


def rel(a, b):
    """Largest difference over the leaves of two dicts, relative to b's scale."""
    return max(float(np.max(np.abs(a[k] - b[k])) / max(np.max(np.abs(b[k])), 1e-300)) for k in b)


def sgd(params, grads):
    return {k: params[k] - LEARNING_RATE * grads[k] for k in params}


class _Rank:
    """Stands in for a communicator of rank `rank` of 2 (to shard as another rank would)."""

    def __init__(self, rank):
        self.rank = rank

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return 2


def numbers(out):
    world = dist.init()
    from mpi4py import MPI

    alone = dist.init(MPI.COMM_SELF)
    vg = gradc.jit(gradc.value_and_grad(loss))
    spread = dist.data_parallel(vg, world)
    whole = dist.data_parallel(vg, alone)
    found = {"size": world.size}

    # broadcast: every rank starts from its own random parameters, then rank 0's
    params = dist.broadcast(init_params(seed=world.rank))
    found["broadcast_equals_rank0"] = rel(params, init_params(seed=0)) == 0.0
    found["in_sync_after_broadcast"] = dist.in_sync(params)

    # one gradient
    x, y = batch(0)
    value, grads = spread(params, *dist.shard(x, y))
    grads = {k: v.copy() for k, v in grads.items()}
    ref_value, ref_grads = numpy_value_and_grad(params, x, y)
    one_grads = whole(params, x, y)[1] if world.is_root else grads  # the one-process runs: rank 0 only
    found["shard_rows"] = world.comm.allgather(len(dist.shard(x)))
    found["grad_vs_numpy"] = rel(grads, ref_grads)
    found["grad_vs_one_process"] = rel(grads, one_grads)
    found["value_vs_numpy"] = abs(float(value) - ref_value) / abs(ref_value)
    found["bytes_per_step"] = spread.bytes_per_step

    # reduction "sum": the shards' own gradients added, unweighted
    summed = dist.data_parallel(vg, world, reduction="sum")(params, *dist.shard(x, y))[1]
    halves = [numpy_value_and_grad(params, *dist.shard(x, y, world=dist.World(_Rank(r))))[1] for r in range(2)]
    found["sum_vs_numpy"] = rel(summed, {k: halves[0][k] + halves[1][k] for k in halves[0]})

    # a batch of one row: rank 1's shard is empty and adds nothing
    value, grads = spread(params, *dist.shard(x[:1], y[:1]))
    found["shard_rows_one"] = world.comm.allgather(len(dist.shard(x[:1])))
    found["one_row_vs_numpy"] = rel(grads, numpy_value_and_grad(params, x[:1], y[:1])[1])

    # float32 gradients: reduced in float64, handed back as float32
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    v32, g32 = dist.data_parallel(gradc.jit(gradc.value_and_grad(loss)), world)(p32, *dist.shard(x.astype(np.float32), y.astype(np.float32)))
    found["grad32_dtypes"] = sorted({str(g.dtype) for g in g32.values()})
    found["grad32_vs_numpy"] = rel(g32, numpy_value_and_grad(p32, x.astype(np.float32).astype(np.float64), y)[1])

    # 20 SGD steps: 2 ranks, one process, NumPy; a checkpoint halfway
    p_spread, p_one, p_numpy = params, params, params
    for step in range(STEPS):
        x, y = batch(step)
        p_spread = sgd(p_spread, spread(p_spread, *dist.shard(x, y))[1])
        if world.is_root:
            p_one = sgd(p_one, whole(p_one, x, y)[1])
        p_numpy = sgd(p_numpy, numpy_value_and_grad(p_numpy, x, y)[1])
        if step == STEPS // 2:
            dist.save_checkpoint(out + ".ckpt.npz", {"params": p_spread, "step": step})
            restored = dist.load_checkpoint(out + ".ckpt.npz", {"params": init_params(seed=7), "step": 0})
            found["checkpoint_step"] = restored["step"]
            found["checkpoint_params_equal"] = rel(restored["params"], p_spread) == 0.0
    found["steps_vs_one_process"] = rel(p_spread, p_one)
    found["steps_vs_numpy"] = rel(p_spread, p_numpy)
    found["in_sync_after_steps"] = dist.in_sync(p_spread)
    found["moved"] = rel(p_spread, params)

    try:
        dist.load_checkpoint(out + ".ckpt.npz", {"params": init_params(seed=0, dtype=np.float32), "step": 0})
    except dist.DistributedError as error:
        found["mismatch_error"] = str(error)
    found["mismatch_errors_everywhere"] = world.comm.allgather("mismatch_error" in found)

    if world.is_root:
        with open(out, "w") as f:
            json.dump(found, f)


def raising(out):
    world = dist.init()
    spread = dist.data_parallel(gradc.jit(gradc.value_and_grad(loss)), world)
    params = dist.broadcast(init_params(seed=0))
    for step in range(5):
        if step == 2 and world.rank == 1:
            raise RuntimeError("data loader failed on rank 1")
        x, y = batch(step)
        params = sgd(params, spread(params, *dist.shard(x, y))[1])


def stalling(out):
    world = dist.init()
    vg = gradc.jit(gradc.value_and_grad(loss))
    params = dist.broadcast(init_params(seed=0))
    dist.data_parallel(vg, world)(params, *dist.shard(*batch(0)))  # compiles, untimed: ranks compile at their own pace
    spread = dist.data_parallel(vg, world, timeout=1.0)
    for step in range(5):
        if step == 2 and world.rank == 1:
            time.sleep(60)  # stalls without failing: rank 0's Allreduce times out
        x, y = batch(step)
        params = sgd(params, spread(params, *dist.shard(x, y))[1])


if __name__ == "__main__":
    {"numbers": numbers, "raise": raising, "stall": stalling}[sys.argv[1]](sys.argv[2])
