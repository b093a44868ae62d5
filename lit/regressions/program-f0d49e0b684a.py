# Found by tests/fuzz/programs.py: BuildError: C compiler failed (exit 1): _gradc_975da37157cb5423.c:858:16: error: ‘t2$’ may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_f0d49e0b684a': ([{'dtype': 'float64', 'inputs': [(3, 1), (3, 1), (1,), (1, 1), (1, 1), (3, 1)], 'steps': [('index', 1, 1, -1), ('sin', 0), ('rnn', 2, 3, 4), ('bcast', 8, 0, 1), ('maximum', 9, 9), ('bcast', 9, 2, 3), ('concat', 9, 0, 0), ('logsumexp', 12, 0, True), ('index', 8, 0, -1), ('matmul', 12, 5, 'nt')], 'outputs': [15], 'request': 'grad', 'checkpoint': 'recompute'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3'], 147003),
})
