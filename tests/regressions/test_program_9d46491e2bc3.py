"""Found by tests/fuzz/programs.py: jacrev of a program mixing float32 and
float64 gave Jacobian blocks in the argument's dtype where the function
signature (and jacfwd) has the output's (the C got a float buffer for a
double result: a cffi TypeError, or a wrong dtype). Fixed in
passes/autodiff/jacobian.py (jacrev_function converts each block).

First error: AssertionError: output 0 with tile=True,plan_memory=True,threads=1,math=gradc,O3: dtype float64 != float32"""

from fuzz.programs import check_batch, combination_named

PROGRAMS = [{'dtype': 'float32', 'inputs': [(), (), ()], 'steps': [('fori', 0, 2), ('mul', 1, 1)], 'outputs': [4, 2, 3], 'request': 'jacrev', 'input_dtypes': ['float32', 'float64', 'float64']}]
COMBINATIONS = ['tile=True,plan_memory=True,threads=1,math=gradc,O0', 'tile=True,plan_memory=True,threads=1,math=gradc,O3']
SEED = 9006


def test_program_9d46491e2bc3() -> None:
    check_batch(PROGRAMS, [combination_named(n) for n in COMBINATIONS], SEED)
