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


@pytest.fixture(scope="module")
def numbers(launcher: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("mpi") / "numbers.json"
    run, _ = run_job(launcher, "numbers", out)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


def test_gradient_over_two_ranks_equals_the_whole_batch(numbers: dict) -> None:
    assert numbers["size"] == 2
    assert numbers["shard_rows"] == [5, 4]  # unequal shards, weighted by rows
    assert numbers["grad_vs_numpy"] < 1e-12
    assert numbers["grad_vs_one_process"] < 1e-12
    assert numbers["value_vs_numpy"] < 1e-12
    assert numbers["bytes_per_step"] == 8 * (5 * 4 + 4 + 4 * 3 + 3 + 2)


def test_sum_reduction_and_an_empty_shard(numbers: dict) -> None:
    assert numbers["sum_vs_numpy"] < 1e-12
    assert numbers["shard_rows_one"] == [1, 0]
    assert numbers["one_row_vs_numpy"] < 1e-12


def test_float32_gradients_come_back_as_float32(numbers: dict) -> None:
    assert numbers["grad32_dtypes"] == ["float32"]
    assert numbers["grad32_vs_numpy"] < 1e-5


def test_twenty_steps_on_two_ranks_match_one_process(numbers: dict) -> None:
    assert numbers["moved"] > 0.1  # training changed the parameters
    assert numbers["steps_vs_one_process"] < 1e-12
    assert numbers["steps_vs_numpy"] < 1e-12
    assert numbers["in_sync_after_steps"]


def test_broadcast_and_checkpoints(numbers: dict) -> None:
    assert numbers["broadcast_equals_rank0"] and numbers["in_sync_after_broadcast"]
    assert numbers["checkpoint_step"] == 10 and numbers["checkpoint_params_equal"]
    assert "params/w1: (5, 4) float64, expected (5, 4) float32" in numbers["mismatch_error"]
    assert numbers["mismatch_errors_everywhere"] == [True, True]


def test_a_rank_that_raises_ends_the_job(launcher: list[str], tmp_path: Path) -> None:
    run, seconds = run_job(launcher, "raise", tmp_path / "unused.json")
    assert run.returncode != 0
    assert "RuntimeError: data loader failed on rank 1" in run.stderr
    assert "rank 1 of 2 stopped on RuntimeError" in run.stderr
    assert seconds < TIMEOUT_S / 2


def test_a_stalled_rank_times_the_allreduce_out(launcher: list[str], tmp_path: Path) -> None:
    run, seconds = run_job(launcher, "stall", tmp_path / "unused.json")
    assert run.returncode != 0
    assert "rank 0 waited more than 2 s in the Allreduce of call 3" in run.stderr
    assert "rank 0 of 2 stopped on DistributedError" in run.stderr
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
