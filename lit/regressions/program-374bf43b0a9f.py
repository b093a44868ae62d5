# Found by tests/fuzz/programs.py: BuildError: C compiler failed (exit 1): _gradc_a5b87aa0e7f9f396.c:788:20: error: ‘t14$’ may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_374bf43b0a9f': ([{'dtype': 'float64', 'inputs': [(), (), (1,)], 'steps': [('scan', 0, 2), ('cube', 3), ('bcast', 2, 0, 1)], 'outputs': [5, 0, 4], 'request': 'grad', 'checkpoint': 'recompute'}], ['tile=False,plan_memory=True,threads=2,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 75007),
})
