"""gradc.distributed over MPI: two ranks started with mpiexec from each test
(tests/mpi_programs.py holds the programs), checked against one process and
against a hand-written NumPy gradient; plus the parts that need no MPI.

The MPI tests skip (with the reason) only when MPI cannot start here:
`make venv` installs the `mpi` extra (mpi4py and MPICH), so `make test` runs
them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gradc
from gradc import distributed as dist

PROGRAMS = Path(__file__).with_name("mpi_programs.py")
TIMEOUT_S = 120
"""A hung job fails the test after this long instead of hanging make test."""


def mpiexec() -> str | None:
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.fixture(scope="module")
def launcher() -> list[str]:
    """The mpiexec command for 2 ranks, after checking a 2-rank job runs."""
    exe = mpiexec()
    if exe is None:
        pytest.skip("MPI cannot start: no mpiexec (pip install -e '.[mpi]')")
    command = [exe, "-n", "2"]
    probe = subprocess.run(
        [*command, sys.executable, "-c", "from mpi4py import MPI; MPI.COMM_WORLD.Barrier()"],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    if probe.returncode != 0:
        pytest.skip(f"MPI cannot start a 2-rank job here: {probe.stderr.strip()[-500:]}")
    return command


def run_job(launcher: list[str], scenario: str, out: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run a scenario of tests/mpi_programs.py on 2 ranks: the finished
    process and its wall time (a hang fails after TIMEOUT_S)."""
    start = time.monotonic()
    run = subprocess.run(
        [*launcher, sys.executable, str(PROGRAMS), scenario, str(out)],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    return run, time.monotonic() - start


def test_two_ranks_against_one_process_and_numpy(launcher: list[str], tmp_path: Path) -> None:
    """One job checks everything the `numbers` program measures (one job,
    not one per check: pytest-xdist would start it again on each worker);
    every failed check is reported."""
    run, _ = run_job(launcher, "numbers", tmp_path / "numbers.json")
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads((tmp_path / "numbers.json").read_text())
    checks = {
        # one gradient, shards of 5 and 4 rows weighted by their rows
        "two ranks": found["size"] == 2 and found["shard_rows"] == [5, 4],
        "gradient vs NumPy on the whole batch": found["grad_vs_numpy"] < 1e-12,
        "gradient vs one process on the whole batch": found["grad_vs_one_process"] < 1e-12,
        "loss vs NumPy": found["value_vs_numpy"] < 1e-12,
        "one float64 buffer: parameters, loss, rows": found["bytes_per_step"] == 8 * (5 * 4 + 4 + 4 * 3 + 3 + 2),
        "reduction sum vs NumPy": found["sum_vs_numpy"] < 1e-12,
        "an empty shard adds nothing": found["shard_rows_one"] == [1, 0] and found["one_row_vs_numpy"] < 1e-12,
        "float32 gradients come back float32": found["grad32_dtypes"] == ["float32"],
        "float32 gradients vs NumPy": found["grad32_vs_numpy"] < 1e-5,
        # 20 SGD steps
        "training moved the parameters": found["moved"] > 0.1,
        "20 steps vs one process": found["steps_vs_one_process"] < 1e-12,
        "20 steps vs NumPy": found["steps_vs_numpy"] < 1e-12,
        "ranks bit-identical after 20 steps": found["in_sync_after_steps"],
        # broadcast and checkpoints
        "broadcast gives rank 0's values": found["broadcast_equals_rank0"] and found["in_sync_after_broadcast"],
        "checkpoint round trip": found["checkpoint_step"] == 10 and found["checkpoint_params_equal"],
        "mismatched checkpoint names the leaf":
            "params/w1: (5, 4) float64, expected (5, 4) float32" in found.get("mismatch_error", ""),
        "mismatched checkpoint raises on every rank": found["mismatch_errors_everywhere"] == [True, True],
    }
    failed = [name for name, ok in checks.items() if not ok]
    assert not failed, f"{failed}\n{json.dumps(found, indent=1)}"


def test_a_rank_that_raises_ends_the_job(launcher: list[str], tmp_path: Path) -> None:
    run, seconds = run_job(launcher, "raise", tmp_path / "unused.json")
    assert run.returncode != 0
    assert "RuntimeError: data loader failed on rank 1" in run.stderr, run.stderr[-3000:]
    assert "rank 1 of 2 stopped on RuntimeError" in run.stderr, run.stderr[-3000:]
    assert seconds < TIMEOUT_S / 2


def test_a_stalled_rank_times_the_allreduce_out(launcher: list[str], tmp_path: Path) -> None:
    run, seconds = run_job(launcher, "stall", tmp_path / "unused.json")
    assert run.returncode != 0
    # Call 3 is where rank 1 stalls; on a loaded machine an earlier call may
    # already wait 1 s, which is the same behaviour.
    assert re.search(r"rank 0 waited more than 1 s in the Allreduce of call [123]:", run.stderr), run.stderr[-3000:]
    assert "rank 0 of 2 stopped on DistributedError" in run.stderr, run.stderr[-3000:]
    assert seconds < 50  # rank 1 sleeps 60 s: the abort ended it


@pytest.mark.parametrize("n", [0, 1, 2, 7, 128])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_shard_bounds_split_like_numpy(n: int, size: int) -> None:
    rows = np.arange(n)
    expected = np.array_split(rows, size)
    for rank in range(size):
        start, stop = dist.shard_bounds(n, rank, size)
        np.testing.assert_array_equal(rows[start:stop], expected[rank])


def test_without_mpi4py_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(gradc.GradcError, match=r"pip install 'gradc\[mpi\]'"):
        dist.init()


def test_import_gradc_does_not_import_mpi4py() -> None:
    code = "import sys, gradc, gradc.distributed; assert 'mpi4py' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ}, timeout=60)
