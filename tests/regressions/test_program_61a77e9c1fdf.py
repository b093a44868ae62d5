"""Found by tests/fuzz/programs.py: jacrev of a program mixing float32 and
float64 gave Jacobian blocks in the argument's dtype where the function
signature (and jacfwd) has the output's (the C got a float buffer for a
double result: a cffi TypeError, or a wrong dtype). Fixed in
passes/autodiff/jacobian.py (jacrev_function converts each block).

First error: TypeError: initializer for ctype 'float *' must be a pointer to same type, not cdata 'double[]'"""

from fuzz.programs import check_batch, combination_named

PROGRAMS = [{'dtype': 'float32', 'inputs': [(2,), (2,), (1,), (3, 4)], 'steps': [('concat', 0, 0, 0), ('matmul', 4, 3, 'left'), ('logsumexp', 2, 0, False), ('concat', 4, 2, 0)], 'outputs': [7, 0, 1], 'request': 'jacrev', 'input_dtypes': ['float32', 'float64', 'float64', 'float64']}]
COMBINATIONS = ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=2,math=gradc,O0', 'tile=True,plan_memory=True,threads=2,math=gradc,O3']
SEED = 16005


def test_program_61a77e9c1fdf() -> None:
    check_batch(PROGRAMS, [combination_named(n) for n in COMBINATIONS], SEED)
