# RUN: %python %s
"""Found by tests/fuzz/programs.py: jacrev of a program mixing float32 and
float64 gave Jacobian blocks in the argument's dtype where the function
signature (and jacfwd) has the output's (the C got a float buffer for a
double result: a cffi TypeError, or a wrong dtype). Fixed in
passes/autodiff/jacobian.py (jacrev_function converts each block).

The programs the fuzzer found (tests/fuzz/programs.py), each checked
under the option combinations it failed with and the default one, on the
inputs it failed on."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

CASES = {
    # TypeError: initializer for ctype 'float *' must be a pointer to same type, not cdata 'double[]'
    "program_61a77e9c1fdf": ([{'dtype': 'float32', 'inputs': [(2,), (2,), (1,), (3, 4)], 'steps': [('concat', 0, 0, 0), ('matmul', 4, 3, 'left'), ('logsumexp', 2, 0, False), ('concat', 4, 2, 0)], 'outputs': [7, 0, 1], 'request': 'jacrev', 'input_dtypes': ['float32', 'float64', 'float64', 'float64']}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=2,math=gradc,O0', 'tile=True,plan_memory=True,threads=2,math=gradc,O3'], 16005),
    # AssertionError: output 0 with tile=True,plan_memory=True,threads=1,math=gradc,O3: dtype float64 != float32
    "program_9d46491e2bc3": ([{'dtype': 'float32', 'inputs': [(), (), ()], 'steps': [('fori', 0, 2), ('mul', 1, 1)], 'outputs': [4, 2, 3], 'request': 'jacrev', 'input_dtypes': ['float32', 'float64', 'float64']}], ['tile=True,plan_memory=True,threads=1,math=gradc,O0', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 9006),
    # TypeError: initializer for ctype 'float *' must be a pointer to same type, not cdata 'double[]'
    "program_adb981603fbd": ([{'dtype': 'float32', 'inputs': [(1,), (3,), (3,), (1, 3), (2, 1), (1, 3)], 'steps': [('matmul', 2, 3, 'left'), ('relu', 6), ('matmul', 6, 4, 'left'), ('matmul', 1, 5, 'left')], 'outputs': [9, 1, 2], 'request': 'jacrev', 'input_dtypes': ['float32', 'float32', 'float64', 'float32', 'float64', 'float64']}], ['tile=True,plan_memory=True,threads=1,math=gradc,O0', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 3004),
    # TypeError: initializer for ctype 'double *' must be a pointer to same type, not cdata 'float[]'
    "program_af9fea402d11": ([{'dtype': 'float32', 'inputs': [(1, 2), (2,), (1, 1)], 'steps': [('reshape', 0, (2,)), ('transpose', 2, (1, 0))], 'outputs': [4], 'request': 'jacrev', 'input_dtypes': ['float64', 'float64', 'float32']}], ['tile=True,plan_memory=False,threads=1,math=gradc,O0', 'tile=True,plan_memory=False,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 10001),
    # TypeError: initializer for ctype 'float *' must be a pointer to same type, not cdata 'double[]'
    "program_c9bdd3b4515a": ([{'dtype': 'float32', 'inputs': [(1,), (1,), (1,)], 'steps': [('bcast', 0, 0, 2), ('softmax', 1, 0)], 'outputs': [4, 3, 2], 'request': 'jacrev', 'input_dtypes': ['float32', 'float32', 'float64']}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=2,math=gradc,O0', 'tile=True,plan_memory=True,threads=2,math=gradc,O3'], 3000),
}

check_found(CASES)
