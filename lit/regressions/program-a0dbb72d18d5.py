# Found by tests/fuzz/programs.py: AssertionError: output 2 with tile=False,plan_memory=True,threads=1,math=libm,O0: max error 0.0245 > 0.0001 * 223
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_a0dbb72d18d5': ([{'dtype': 'float32', 'inputs': [(130,), (130,), (130, 130), (4, 130)], 'steps': [('bcast', 1, 1, 1), ('rnn', 1, 2, 3)], 'outputs': [5, 5, 2], 'request': 'grad', 'checkpoint': None}], ['tile=False,plan_memory=True,threads=1,math=libm,O0', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 91003),
})
