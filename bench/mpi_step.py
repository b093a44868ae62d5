"""Data-parallel MLP training step over MPI: gradc.distributed vs PyTorch
DistributedDataParallel (gloo), on 1 and 2 ranks.

The 784 -> 512 tanh -> 10 MLP of mlp_step (b), float32, softmax
cross-entropy, SGD; the global batch is 128 rows on every row of the table,
split over the ranks (2 ranks: 64 rows each), one thread per rank, rank r
pinned to core r. A row is one `mpiexec -n R` job started from the bench
child; the time is rank 0's seconds per step (the Allreduce keeps the ranks
in step), median over 21 repetitions after warm-up.

- gradc: `gradc.distributed.data_parallel(gradc.jit(gradc.value_and_grad(loss)))`
  on the rank's shard, then a jitted SGD update; one Allreduce per step of
  one float64 buffer (all parameters, loss, row count).
- torch DDP: `torch.nn.parallel.DistributedDataParallel` over a gloo process
  group (float32 gradient buckets, averaged), `torch.optim.SGD`; the ranks
  are started by the same mpiexec (mpi4py only hands out the port).

Rows skip when mpi4py or mpiexec is missing (`pip install -e '.[mpi]'`).
The notes give steps per second and the bytes each step's Allreduce moves.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from timing import Skip, require

TITLE = "Data-parallel MLP step over MPI (float32, 1 thread per rank)"
CONFIG = "784-512-10 b128"
SYSTEMS = ("gradc 1 rank", "gradc 2 ranks", "torch DDP 1 rank", "torch DDP 2 ranks")
LEARNING_RATE = 0.1
REPETITIONS = 21
WARMUP_STEPS = 50
CHILD_TIMEOUT_S = 600


def cases() -> list[tuple[str, str]]:
    return [(CONFIG, system) for system in SYSTEMS]


def measure(config: str, system: str) -> dict[str, Any]:
    """Run the system's MPI job and return its row."""
    require("mpi4py")
    exe = Path(sys.executable).with_name("mpiexec")
    mpiexec = str(exe) if exe.exists() else shutil.which("mpiexec")
    if mpiexec is None:
        raise Skip("no mpiexec (pip install -e '.[mpi]')")
    if system.startswith("torch"):
        require("torch")
    ranks = int(system.split()[-2])
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"mpi_step_{os.getpid()}.json"
    job = subprocess.run(
        [mpiexec, "-n", str(ranks), sys.executable, __file__, system, str(out)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT_S - 30,
    )
    if job.returncode != 0:
        raise RuntimeError(f"mpiexec exited {job.returncode}: {job.stderr[-2000:]}")
    row = json.loads(out.read_text())
    out.unlink()
    return row


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Every row's first-step loss (over the global batch) must agree, and
    the 2-rank speed-up of each system."""
    losses = {r["system"]: r["loss0"] for r in rows if "loss0" in r}
    lines = []
    if losses:
        reference = next(iter(losses.values()))
        bad = [s for s, v in losses.items() if abs(v - reference) > 1e-4 * abs(reference)]
        shown = ", ".join(f"{s} {v:.6f}" for s, v in losses.items())
        lines.append(f"{CONFIG}: first-step loss {shown}: {'MISMATCH (' + ', '.join(bad) + ')' if bad else 'all agree (rtol 1e-4)'}")
    medians = {r["system"]: r["median_s"] for r in rows}
    for name in ("gradc", "torch DDP"):
        one, two = medians.get(f"{name} 1 rank"), medians.get(f"{name} 2 ranks")
        if one and two:
            lines.append(f"{name}: {1 / one:.0f} steps/s on 1 rank, {1 / two:.0f} on 2 ranks ({one / two:.2f}x)")
    one, two = medians.get("gradc 2 ranks"), medians.get("torch DDP 2 ranks")
    if one and two:
        lines.append(f"2 ranks: gradc / torch DDP time per step {one / two:.2f}")
    return lines


# --------------------------------------------------------------------------
# In each rank (python bench/mpi_step.py SYSTEM OUT.json under mpiexec)
# --------------------------------------------------------------------------


def problem() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    from mlp_step import SIZES
    from mlp_step import problem as mlp_problem

    (key,) = [k for k in SIZES if k.endswith(CONFIG)]
    return mlp_problem(key)


def gradc_step(comm: Any) -> tuple[Any, list[str], Any]:
    import gradc
    import gradc.distributed as dist
    import gradc.numpy as gnp

    def loss(p, x, y):
        h = gnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -gnp.sum(y * (logits - gnp.logsumexp(logits, axis=1, keepdims=True))) / x.shape[0]

    def sgd(p, g):
        return {k: p[k] - LEARNING_RATE * g[k] for k in p}

    world = dist.init(comm)
    params, x, y = problem()
    params = dist.broadcast(params, world)
    x, y = dist.shard(x, y, world=world)
    gradient = dist.data_parallel(gradc.jit(gradc.value_and_grad(loss)), world)
    update = gradc.jit(sgd)
    state = {"params": params}

    def step():
        value, grads = gradient(state["params"], x, y)
        state["params"] = update(state["params"], grads)
        return float(value)

    def notes():
        return [f"Allreduce {gradient.bytes_per_step:,} B/step (float64)"]

    return step, notes, lambda value: value


def torch_step(comm: Any) -> tuple[Any, list[str], Any]:
    import torch
    import torch.distributed

    torch.set_num_threads(1)
    rank, size = comm.Get_rank(), comm.Get_size()
    port = None
    if rank == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    port = comm.bcast(port, root=0)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=size)

    params, x, y = problem()

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name, value in params.items():
                setattr(self, name, torch.nn.Parameter(torch.from_numpy(value.copy())))

        def forward(self, x):
            h = torch.tanh(torch.addmm(self.b1, x, self.w1))
            return torch.addmm(self.b2, h, self.w2)

    model = torch.nn.parallel.DistributedDataParallel(MLP())
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    start, stop = (len(x) * rank) // size, (len(x) * (rank + 1)) // size
    xt, labels = torch.from_numpy(x[start:stop]), torch.from_numpy(y[start:stop].argmax(axis=1))
    rows = stop - start

    def step():
        optimizer.zero_grad(set_to_none=True)
        value = torch.nn.functional.cross_entropy(model(xt), labels)
        value.backward()
        optimizer.step()
        return float(value.detach())

    def notes():
        n = sum(p.numel() for p in model.parameters())
        return [f"Allreduce {4 * n:,} B/step (float32 buckets)"]

    return step, notes, lambda value: comm.allreduce(value * rows) / len(x)


def rank_main(system: str, out: str) -> None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if comm.Get_size() > 1:  # one core per rank (the bench child is pinned to one)
        os.sched_setaffinity(0, {comm.Get_rank() % os.cpu_count()})
    build = gradc_step if system.startswith("gradc") else torch_step
    start = time.perf_counter()
    step, notes, global_loss = build(comm)
    loss0 = global_loss(step())
    first_s = time.perf_counter() - start
    calls, start = WARMUP_STEPS, time.perf_counter()  # the same count on every rank: each step is a collective
    for _ in range(calls):
        step()
    inner = comm.bcast(max(1, round(0.02 * calls / (time.perf_counter() - start))), root=0)
    samples = []
    for _ in range(REPETITIONS):
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(inner):
            step()
        samples.append((time.perf_counter() - start) / inner)
    if comm.Get_rank() == 0:
        median = statistics.median(samples)
        row = {
            "median_s": median, "min_s": min(samples), "max_s": max(samples), "first_call_s": first_s,
            "calls_per_repetition": inner, "loss0": loss0,
            "notes": [f"{1 / median:.0f} steps/s", *notes(), f"setup + first step {first_s:.2f} s"],
        }
        Path(out).write_text(json.dumps(row))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    rank_main(sys.argv[1], sys.argv[2])
