"""Reference interpreter: executable meaning for every IR level, on NumPy.

    run_function(module, "f", x, y) -> list of results

Expects: a module at the array level (`func.func` on tensors) or the loops
level (`func.func` on memrefs, with `loops.num_inputs`).

Guarantees: `array` ops run as whole-array NumPy calls; `loops` ops run
element by element on NumPy buffers, with `arith`/`math` scalar ops
evaluated in the element type (float32 stays float32). Each lowering is
tested by running the module before and after it here and comparing.

One module of interpreter functions per dialect, as xDSL's
`xdsl/interpreters/`: array, loops, autodiff, scalar (`arith` and `math`),
func; this module is the driver.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from xdsl.dialects.builtin import MemRefType, ModuleOp, TensorType
from xdsl.dialects.func import FuncOp
from xdsl.interpreter import Interpreter
from xdsl.ir import Attribute

from gradc.dialects.loops import NUM_INPUTS_ATTR
from gradc.interpreter.array import ArrayFunctions
from gradc.interpreter.autodiff import AutodiffFunctions
from gradc.interpreter.func import FuncFunctions
from gradc.interpreter.loops import LoopsFunctions
from gradc.interpreter.scalar import ScalarFunctions
from gradc.support.dense import numpy_dtype


def make_interpreter(module: ModuleOp, evaluations: Counter | None = None) -> Interpreter:
    """An interpreter for `module`; schedule regions run are counted into
    `evaluations` (see AutodiffFunctions)."""
    interp = Interpreter(module)
    functions_list = (FuncFunctions(), ArrayFunctions(), LoopsFunctions(), ScalarFunctions(),
                      AutodiffFunctions(evaluations))
    for functions in functions_list:
        interp.register_implementations(functions)
    return interp


def run_function(module: ModuleOp, name: str, *args: Any, evaluations: Counter | None = None) -> list[np.ndarray]:
    """Run `name` at whatever level the module is, returning its results.

    At the array level, results are what `func.return` gives. At the loops
    level (a `func.func` with `loops.num_inputs`), `args` are the inputs only:
    outputs are allocated here, NaN-filled (integers with a garbage value), and returned after the call."""
    fn = _find_function(module, name)
    arg_types = fn.function_type.inputs.data
    values = [_as_input(a, t) for a, t in zip(args, arg_types, strict=False)]
    if len(values) > len(arg_types):
        raise TypeError(f"@{name} takes {len(arg_types)} arguments, got {len(args)}")
    num_inputs = fn.attributes.get(NUM_INPUTS_ATTR)
    interp = make_interpreter(module, evaluations)
    if num_inputs is None:
        return [np.asarray(r) for r in interp.call_op(fn, tuple(values))]
    outputs = []
    for typ in arg_types[num_inputs.value.data :]:
        assert isinstance(typ, MemRefType)
        dtype = numpy_dtype(typ.get_element_type())
        fill = {"f": np.nan, "b": False, "i": 0x5A5A5A5A}[dtype.kind]  # integers: an unlikely garbage value
        outputs.append(np.full(tuple(typ.get_shape()), fill, dtype=dtype))
    interp.call_op(fn, tuple(values + outputs))
    return outputs


def _find_function(module: ModuleOp, name: str) -> FuncOp:
    for op in module.ops:
        if isinstance(op, FuncOp) and op.sym_name.data == name:
            return op
    raise KeyError(f"no function @{name} in the module")


def _as_input(value: Any, typ: Attribute) -> np.ndarray:
    assert isinstance(typ, TensorType | MemRefType)
    arr = np.asarray(value, dtype=numpy_dtype(typ.get_element_type()))
    if arr.shape != tuple(typ.get_shape()):
        raise ValueError(f"expected shape {tuple(typ.get_shape())}, got {arr.shape}")
    if isinstance(typ, MemRefType):
        arr = arr.copy()
        arr.flags.writeable = False  # inputs are const in the C ABI
    return arr
