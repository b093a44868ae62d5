# Found by tests/fuzz/programs.py: BuildError: C compiler failed (exit 1): _gradc_787a160dd9abdbcd.c:642:16: error: ‘t6$’ may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_8ccde342db89': ([{'dtype': 'float64', 'inputs': [(2,), (3, 2), (1, 1), (4, 1)], 'steps': [('minimum', 0, 0), ('minimum', 0, 0), ('slice', 4, 0, 1, 2, 1), ('matmul', 5, 1, 'left'), ('rnn', 6, 2, 3), ('bcast', 2, 2, 2), ('log', 3), ('index', 7, 0, -3), ('concat', 0, 8, 0)], 'outputs': [12, 7, 0], 'request': 'grad', 'checkpoint': 'binomial(snapshots=2)'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=2,math=libm,O3'], 4),
})
