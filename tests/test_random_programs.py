"""Differential testing on random programs (issue #6, item 1): the compiled
C under every pipeline option combination against the array-level
interpreter, derivatives against float64 finite differences and the
jvp/vjp transposition identity. The generator, the tolerances and their
justification are in tests/fuzz/programs.py; its long campaign is
`python tests/fuzz/programs.py`.

CI size: SHARDS x EXAMPLES batches of BATCH programs (4 x 6 x 10 = 240
programs), each batch built under 2 option combinations taken in turn from
the 32, so that the 48 builds cover every combination; fixed seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from fuzz.programs import COMBINATIONS, batches, check_batch, save_regression

SHARDS, EXAMPLES, BATCH, PER_BATCH = 4, 6, 10, 2


def _shard(shard: int):
    taken = iter(range(shard * EXAMPLES * PER_BATCH, 10**9))

    @seed(shard)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(batches(size=BATCH))
    def test(batch: list[dict]) -> None:
        combos = [COMBINATIONS[next(taken) % len(COMBINATIONS)] for _ in range(PER_BATCH)]
        check_batch(batch, combos, seed=shard * 1000)

    test.__name__ = f"test_random_programs_shard_{shard}"
    return test


test_random_programs_shard_0 = _shard(0)
test_random_programs_shard_1 = _shard(1)
test_random_programs_shard_2 = _shard(2)
test_random_programs_shard_3 = _shard(3)


def test_shards_cover_every_combination() -> None:
    used = {k % len(COMBINATIONS) for k in range(SHARDS * EXAMPLES * PER_BATCH)}
    assert used == set(range(len(COMBINATIONS)))


def test_a_saved_regression_is_a_runnable_lit_test(tmp_path: Path) -> None:
    """What the long campaign writes for a failing program: a script with a
    RUN line that checks the program (here one that passes) under the
    combinations it failed with and the default one."""
    program = {"dtype": "float64", "inputs": [(3,), (3,)], "steps": [("mul", 0, 1), ("sum", 2, None, False)],
               "outputs": [3], "request": "jacrev"}
    path = save_regression([program], ["tile=False,plan_memory=False,threads=2,math=libm,O0"],
                           "AssertionError: output 0 ...\nmore", seed=5, folder=tmp_path)
    text = path.read_text()
    assert text.startswith("# Found by tests/fuzz/programs.py: AssertionError: output 0 ...\n# RUN: %python %s\n")
    tests = Path(__file__).resolve().parent
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(tests)})
    assert proc.returncode == 0, proc.stderr
    assert "ok under 2 combinations" in proc.stdout
