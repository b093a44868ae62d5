# RUN: %python %s
"""Found by tests/fuzz/programs.py: jacrev through a fori_loop, with
plan_memory=False at -O3 (the default flags): output 1 came out -1.61
instead of -1. gcc 12 miscompiles the reverse scan's copy loops over
`restrict` workspace pointers once it turns them into memcpy/memset
(reduced C in test_gcc_loop_patterns.py); fixed by
-fno-tree-loop-distribute-patterns in compiler/backend/build.py's default flags.

The programs the fuzzer found (tests/fuzz/programs.py), each checked
under the option combinations it failed with and the default one, on the
inputs it failed on."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

CASES = {
    # AssertionError: output 1 with tile=False,plan_memory=False,threads=2,math=gradc,O3: max error 0.61 > 1e-10 * 1
    "program_053f12a8f634": ([{'dtype': 'float64', 'inputs': [(), ()], 'steps': [('sub', 1, 0), ('bcast', 1, 0, 1), ('fori', 1, 2), ('bcast', 2, 0, 2), ('bcast', 4, 0, 3)], 'outputs': [6, 2, 4], 'request': 'jacrev'}], ['tile=False,plan_memory=False,threads=2,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 2009),
}

check_found(CASES)
