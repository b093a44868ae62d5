# Found by tests/fuzz/programs.py: BuildError: C compiler failed (exit 1): _gradc_6c5e4e6b525ba7fb.c:857:20: error: ‘t16$’ may be used uninitialized [-Werror=maybe-uninitialized]
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

check_found({
    'program_fc92a9e76685': ([{'dtype': 'float32', 'inputs': [(1,), (1, 1), (1, 1)], 'steps': [('rnn', 0, 1, 2), ('exp', 3), ('max', 3, None, False), ('index', 4, 0, 0)], 'outputs': [6, 3, 2], 'request': 'grad', 'input_dtypes': ['float32', 'float32', 'float32'], 'checkpoint': 'recompute'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3'], 76007),
})
