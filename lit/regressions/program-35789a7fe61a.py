# Found by tests/fuzz/programs.py: BuildError: C compiler failed (exit 1): _gradc_82621218e9442874.c:769:25: error: ‘t15[0]’ may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_35789a7fe61a': ([{'dtype': 'float64', 'inputs': [(), (), (), (5,)], 'steps': [('square', 0), ('square', 4), ('cube', 0), ('reshape', 2, (1,)), ('relu', 7), ('concat', 7, 7, 0), ('scan', 2, 3)], 'outputs': [10, 4, 9], 'request': 'grad', 'checkpoint': 'every=3'}], ['tile=False,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 4007),
})
