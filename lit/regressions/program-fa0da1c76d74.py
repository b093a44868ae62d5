# Found by tests/fuzz/programs.py: BuildError: C compiler failed (exit 1): _gradc_e2f9affc0dfca249.c:792:28: error: ‘t22[0]’ may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_fa0da1c76d74': ([{'dtype': 'float32', 'inputs': [(), ()], 'steps': [('gd', 0, 1), ('where', 1, 0), ('bcast', 2, 0, 5), ('add', 4, 3)], 'outputs': [5, 4, 0], 'request': 'grad', 'checkpoint': 'binomial(snapshots=2)'}], ['tile=False,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 4005),
})
