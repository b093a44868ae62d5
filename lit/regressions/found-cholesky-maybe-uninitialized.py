# Found by tests/fuzz/programs.py: BuildError: under the sanitizers (-O1), gcc: 't4' (a 1x1 cholesky factor) may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_03f0e71b3949': ([{'dtype': 'float64', 'inputs': [(1,), (1, 1)], 'steps': [('linalg', 0, 1, 'trisolve')], 'outputs': [2], 'request': 'jacrev'}], ['tile=False,plan_memory=True,threads=1,math=libm,O0', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 0),
})
