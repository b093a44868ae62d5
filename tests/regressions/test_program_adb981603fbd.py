"""Found by tests/fuzz/programs.py: jacrev of a program mixing float32 and
float64 gave Jacobian blocks in the argument's dtype where the function
signature (and jacfwd) has the output's (the C got a float buffer for a
double result: a cffi TypeError, or a wrong dtype). Fixed in
passes/autodiff/jacobian.py (jacrev_function converts each block).

First error: TypeError: initializer for ctype 'float *' must be a pointer to same type, not cdata 'double[]'"""

from fuzz.programs import check_batch, combination_named

PROGRAMS = [{'dtype': 'float32', 'inputs': [(1,), (3,), (3,), (1, 3), (2, 1), (1, 3)], 'steps': [('matmul', 2, 3, 'left'), ('relu', 6), ('matmul', 6, 4, 'left'), ('matmul', 1, 5, 'left')], 'outputs': [9, 1, 2], 'request': 'jacrev', 'input_dtypes': ['float32', 'float32', 'float64', 'float32', 'float64', 'float64']}]
COMBINATIONS = ['tile=True,plan_memory=True,threads=1,math=gradc,O0', 'tile=True,plan_memory=True,threads=1,math=gradc,O3']
SEED = 3004


def test_program_adb981603fbd() -> None:
    check_batch(PROGRAMS, [combination_named(n) for n in COMBINATIONS], SEED)
