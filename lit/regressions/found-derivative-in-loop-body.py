# RUN: %python %s
"""Found by tests/fuzz/programs.py: a derivative request inside a loop body
(gradc.grad in a fori_loop) left a func.call in the scan body, which
neither the final inlining nor the JVP/VJP of the loop handled (nor
lower-array-to-loops). Fixed in passes/autodiff/transform.py: calls are
inlined in nested regions too, when copying a body and when
differentiating a region's block.

The programs the fuzzer found (tests/fuzz/programs.py), each checked
under the option combinations it failed with and the default one, on the
inputs it failed on."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

CASES = {
    # PassFailedException: @lambda__grad_w0: cannot differentiate 'func.call': it has no vjp rule
    "program_0a1284af15b9": ([{'dtype': 'float32', 'inputs': [(2,), (1, 2), (2, 2, 2)], 'steps': [('slice', 1, 1, 1, 2, 1), ('gd', 0, 0), ('dot', 1, 2)], 'outputs': [5], 'request': 'hessian'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=2,math=libm,O0', 'tile=True,plan_memory=True,threads=2,math=libm,O3'], 8),
    # PassFailedException: @f_jvp_w0: cannot differentiate 'func.call': it has no jvp rule
    "program_2d09746eb969": ([{'dtype': 'float64', 'inputs': [(5,)], 'steps': [('cube', 0), ('sigmoid', 0), ('minimum', 2, 1), ('gd', 2, 2), ('min', 2, None, False), ('bcast', 4, 1, 5), ('where', 5, 6)], 'outputs': [7, 5, 1], 'request': 'linearize'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=libm,O0', 'tile=True,plan_memory=True,threads=1,math=libm,O3'], 3),
    # PassFailedException: @loss_value_and_grad_w0_1_checkpoint_every_2: cannot differentiate 'func.call': it has no vjp rule
    "program_5b86451edc0e": ([{'dtype': 'float64', 'inputs': [(), (5, 5)], 'steps': [('bcast', 0, 0, 5), ('min', 2, (0,), False), ('matmul', 2, 1, 'left'), ('gd', 4, 3), ('bcast', 1, 1, 3), ('sin', 4)], 'outputs': [7], 'request': 'grad', 'checkpoint': 'every=2'}], ['tile=False,plan_memory=True,threads=1,math=gradc,O0', 'tile=False,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 1003),
    # VerifyException: '@lambda__1_value_and_grad_w0' could not be found in symbol table
    "program_8eef3f674689": ([{'dtype': 'float64', 'inputs': [(1,), (2,), (2,)], 'steps': [('max', 2, (0,), False), ('gd', 1, 1), ('cos', 4), ('index', 5, 0, 1)], 'outputs': [6, 6, 1], 'request': 'jacfwd'}], ['tile=False,plan_memory=True,threads=1,math=gradc,O0', 'tile=False,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 1004),
    # VerifyException: '@lambda__value_and_grad_w0' could not be found in symbol table
    "program_97cd5941efb9": ([{'dtype': 'float32', 'inputs': [(), (), ()], 'steps': [('gd', 2, 0), ('reshape', 0, (1,)), ('bcast', 0, 0, 7), ('div', 2, 3), ('cube', 0)], 'outputs': [7, 2, 4], 'request': 'none'}], ['tile=True,plan_memory=False,threads=2,math=gradc,O0', 'tile=True,plan_memory=False,threads=2,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 1003),
    # PassFailedException: @lambda__jvp_w0: cannot differentiate 'func.call': it has no jvp rule
    "program_c9f5c7991884": ([{'dtype': 'float64', 'inputs': [()], 'steps': [('gd', 0, 0), ('mul', 0, 0), ('minimum', 2, 2), ('square', 2)], 'outputs': [4, 4], 'request': 'jacfwd'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=2,math=libm,O0', 'tile=True,plan_memory=True,threads=2,math=libm,O3'], 7),
    # PassFailedException: @f_jvp_w0_1_2: cannot differentiate 'func.call': it has no jvp rule
    "program_ece6b1215fb6": ([{'dtype': 'float64', 'inputs': [(), (), ()], 'steps': [('gd', 1, 1), ('cube', 2), ('sub', 4, 2), ('bcast', 5, 0, 3), ('where', 2, 6), ('logsumexp', 7, 0, False), ('relu', 4)], 'outputs': [9, 9, 0], 'request': 'linearize'}], ['tile=True,plan_memory=False,threads=1,math=gradc,O0', 'tile=True,plan_memory=False,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=gradc,O3'], 0),
    # PassFailedException: @lambda__vjp_w0: cannot differentiate 'func.call': it has no vjp rule
    "program_ff0b037b23c9": ([{'dtype': 'float32', 'inputs': [(2,)], 'steps': [('gd', 0, 0), ('cos', 1), ('reshape', 2, (2,)), ('square', 3)], 'outputs': [4], 'request': 'jacrev'}], ['tile=True,plan_memory=True,threads=1,math=gradc,O3', 'tile=True,plan_memory=True,threads=1,math=libm,O0', 'tile=True,plan_memory=True,threads=1,math=libm,O3'], 9),
}

check_found(CASES)
