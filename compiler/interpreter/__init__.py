"""Executable meaning for every IR level, on NumPy.

`array` ops run as whole-array NumPy calls; `loops` ops run element by
element on NumPy buffers, with `arith`/`math` scalar ops evaluated in the
element type (float32 stays float32). Each lowering is tested by running the
module before and after it here and comparing.

    run_function(module, "f", x, y) -> list of results
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.dialects import arith, func, math
from xdsl.dialects.builtin import IndexType, MemRefType, ModuleOp, TensorType
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_callable,
    impl_terminator,
    register_impls,
)
from xdsl.ir import Attribute

from gradc.dialects import array, autodiff, loops
from gradc.support.dense import dense_to_numpy, numpy_dtype


# ---------------------------------------------------------------------------
# array level
# ---------------------------------------------------------------------------

_UNARY: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    array.NegOp: np.negative,
    array.ExpOp: np.exp,
    array.LogOp: np.log,
    array.TanhOp: np.tanh,
    array.SinOp: np.sin,
    array.CosOp: np.cos,
    array.SqrtOp: np.sqrt,
    array.AbsOp: np.abs,
}

_BINARY: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    array.AddOp: np.add,
    array.SubOp: np.subtract,
    array.MulOp: np.multiply,
    array.DivOp: np.divide,
    array.MaxOp: np.maximum,
    array.MinOp: np.minimum,
    array.PowOp: np.power,
}

_COMPARE = {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}


def _result_dtype(op: Any) -> np.dtype:
    return numpy_dtype(op.result.type.get_element_type())


class ArrayFunctions(InterpreterFunctions):
    """The `array` dialect on NumPy arrays (value semantics: never mutated)."""

    @impl(array.ConstantOp)
    def run_constant(self, interp: Interpreter, op: array.ConstantOp, args: PythonValues):
        return (dense_to_numpy(op.value),)

    @impl(array.CompareOp)
    def run_compare(self, interp: Interpreter, op: array.CompareOp, args: PythonValues):
        return (_COMPARE[op.predicate.data](*args),)

    @impl(array.SelectOp)
    def run_select(self, interp: Interpreter, op: array.SelectOp, args: PythonValues):
        return (np.where(*args),)

    @impl(array.ConvertOp)
    def run_convert(self, interp: Interpreter, op: array.ConvertOp, args: PythonValues):
        (x,) = args
        dtype = _result_dtype(op)
        return ((x != 0) if dtype == np.bool_ else x.astype(dtype),)

    @impl(array.StopGradientOp)
    def run_stop_gradient(self, interp: Interpreter, op: array.StopGradientOp, args: PythonValues):
        return args

    @impl(array.BroadcastOp)
    def run_broadcast(self, interp: Interpreter, op: array.BroadcastOp, args: PythonValues):
        (x,) = args
        out_shape = tuple(op.result.type.get_shape())
        aligned = [1] * len(out_shape)
        for k, d in enumerate(op.dim_map):
            aligned[d] = x.shape[k]
        return (np.broadcast_to(x.reshape(aligned), out_shape).copy(),)

    @impl(array.ReshapeOp)
    def run_reshape(self, interp: Interpreter, op: array.ReshapeOp, args: PythonValues):
        return (args[0].reshape(tuple(op.result.type.get_shape())),)

    @impl(array.TransposeOp)
    def run_transpose(self, interp: Interpreter, op: array.TransposeOp, args: PythonValues):
        return (np.ascontiguousarray(np.transpose(args[0], op.perm)),)

    @impl(array.SliceOp)
    def run_slice(self, interp: Interpreter, op: array.SliceOp, args: PythonValues):
        index = tuple(slice(s, l, st) for s, l, st in op.bounds)
        return (args[0][index].copy(),)

    @impl(array.ConcatenateOp)
    def run_concatenate(self, interp: Interpreter, op: array.ConcatenateOp, args: PythonValues):
        return (np.concatenate(args, axis=op.axis.value.data),)

    @impl(array.MatmulOp)
    def run_matmul(self, interp: Interpreter, op: array.MatmulOp, args: PythonValues):
        return (np.matmul(*args),)

    @impl(array.ScanOp)
    def run_scan(self, interp: Interpreter, op: array.ScanOp, args: PythonValues):
        """Run the body once per step (in reverse step order for a reverse
        scan); stack the per-step outputs by step."""
        c, x = len(op.initials), len(op.xs)
        carries, xs, invariants = list(args[:c]), args[c : c + x], args[c + x :]
        steps: dict[int, PythonValues] = {}
        for i in op.steps():
            slices = [v[i] for v in xs]
            out = interp.run_ssacfg_region(op.body, (np.float64(i), *carries, *slices, *invariants), "array.scan")
            carries, outputs = list(out[:c]), out[c:]
            steps[i] = outputs
        stacked = [np.stack([np.asarray(steps[i][k]) for i in range(op.trip_count)]) for k in range(len(op.ys))]
        return (*(np.asarray(v) for v in carries), *stacked)

    @impl_terminator(array.YieldOp)
    def run_yield(
        self, interp: Interpreter, op: array.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(array.ReduceSumOp)
    def run_reduce_sum(self, interp: Interpreter, op: array.ReduceSumOp, args: PythonValues):
        (x,) = args
        return (np.asarray(np.sum(x, axis=op.axis_list), dtype=x.dtype),)

    @impl(array.ReduceMaxOp)
    def run_reduce_max(self, interp: Interpreter, op: array.ReduceMaxOp, args: PythonValues):
        (x,) = args
        return (np.asarray(np.max(x, axis=op.axis_list), dtype=x.dtype),)


def _register_table(cls: type, table: dict[type, Callable[..., Any]]) -> None:
    for op_type, fn in table.items():

        def run(self: Any, interp: Interpreter, op: Any, args: PythonValues, fn=fn):
            return (np.asarray(fn(*args), dtype=_result_dtype(op)),)

        setattr(cls, f"run_{op_type.name.split('.')[1]}", impl(op_type)(run))


_register_table(ArrayFunctions, {**_UNARY, **_BINARY})
register_impls(ArrayFunctions)


# ---------------------------------------------------------------------------
# loops level: buffers are mutable NumPy arrays, indices Python ints
# ---------------------------------------------------------------------------


@register_impls
class LoopsFunctions(InterpreterFunctions):
    @impl(loops.ForOp)
    def run_for(self, interp: Interpreter, op: loops.ForOp, args: PythonValues):
        for i in range(op.lower.data, op.upper.data, op.step.data):
            interp.run_ssacfg_region(op.body, (i,), "loops.for")
        return ()

    @impl_terminator(loops.YieldOp)
    def run_yield(
        self, interp: Interpreter, op: loops.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(loops.ThreadIdOp)
    def run_thread_id(self, interp: Interpreter, op: loops.ThreadIdOp, args: PythonValues):
        return (0,)  # the interpreter runs every loop on one thread

    @impl(loops.AllocOp)
    def run_alloc(self, interp: Interpreter, op: loops.AllocOp, args: PythonValues):
        typ = op.result.type
        # NaN-filled so that reading a buffer before writing it shows up in tests.
        dtype = numpy_dtype(typ.get_element_type())
        fill = np.nan if dtype != np.bool_ else False
        return (np.full(tuple(typ.get_shape()), fill, dtype=dtype),)

    @impl(loops.ConstantOp)
    def run_constant(self, interp: Interpreter, op: loops.ConstantOp, args: PythonValues):
        value = dense_to_numpy(op.value)
        value.flags.writeable = False
        return (value,)

    @impl(loops.ReshapeOp)
    def run_reshape(self, interp: Interpreter, op: loops.ReshapeOp, args: PythonValues):
        view = args[0].reshape(tuple(op.result.type.get_shape()))
        assert np.shares_memory(view, args[0]) or view.size == 0
        return (view,)

    @impl(loops.LoadOp)
    def run_load(self, interp: Interpreter, op: loops.LoadOp, args: PythonValues):
        buffer, *indices = args
        return (buffer[tuple(indices)],)

    @impl(loops.StoreOp)
    def run_store(self, interp: Interpreter, op: loops.StoreOp, args: PythonValues):
        value, buffer, *indices = args
        buffer[tuple(indices)] = value
        return ()

    @impl(loops.MatmulOp)
    def run_matmul(self, interp: Interpreter, op: loops.MatmulOp, args: PythonValues):
        a, b, c = args
        if op.transpose_a is not None:
            a = np.swapaxes(a, -1, -2)
        if op.transpose_b is not None:
            b = np.swapaxes(b, -1, -2)
        product = np.matmul(a, b).astype(c.dtype)
        c[...] = c + product if op.accumulate is not None else product
        if op.epilogue_block is not None:
            for index in np.ndindex(c.shape):
                (c[index],) = interp.run_ssacfg_region(
                    op.epilogue, (c[index], *index), "loops.matmul epilogue"
                )
        return ()

    @impl(loops.PackOp)
    def run_pack(self, interp: Interpreter, op: loops.PackOp, args: PythonValues):
        src, src_offset, dst, dst_offset = args
        depth, width, panel, depth_stride, lane_stride = (op.value_of(x) for x in op.PARAMETERS)
        p, lane = np.arange(depth)[:, None], np.arange(width)[None, :]
        at = dst_offset + (lane // panel) * depth * panel + p * panel + lane % panel
        dst[at] = src[src_offset + p * depth_stride + lane * lane_stride]
        return ()

    @impl(loops.MicrokernelOp)
    def run_microkernel(self, interp: Interpreter, op: loops.MicrokernelOp, args: PythonValues):
        a, a_offset, b, b_offset, c, c_offset = args
        m, n, k = (op.value_of(name) for name in ("m", "n", "k"))
        rows, cols, depth = np.arange(m)[:, None], np.arange(n)[None, :], np.arange(k)
        a_tile = a[a_offset + rows * op.value_of("a_row_stride") + depth[None, :] * op.value_of("a_k_stride")]
        b_tile = b[b_offset + depth[:, None] * op.value_of("b_k_stride") + cols]
        c_index = c_offset + rows * op.value_of("c_row_stride") + cols
        product = np.matmul(a_tile, b_tile).astype(c.dtype)
        c[c_index] = c[c_index] + product if op.accumulate is not None else product
        return ()


@register_impls
class AutodiffFunctions(InterpreterFunctions):
    """The stack tape and checkpoint schedules. `evaluations` counts the runs
    of each schedule region by name (advance, taped, adjoint, store,
    restore): what tests compare with the revolve formula."""

    def __init__(self, evaluations: Counter | None = None):
        self.evaluations = evaluations if evaluations is not None else Counter()

    @impl(autodiff.PushOp)
    def run_push(self, interp: Interpreter, op: autodiff.PushOp, args: PythonValues):
        entry, tape, slot = args
        tape[slot] = entry
        return ()

    @impl(autodiff.PopOp)
    def run_pop(self, interp: Interpreter, op: autodiff.PopOp, args: PythonValues):
        entry, tape, slot = args
        entry[...] = tape[slot]
        if np.issubdtype(tape.dtype, np.floating):
            tape[slot] = np.nan  # a popped slot is dead: reading it again shows up as NaN
        return ()

    @impl(autodiff.ScheduleOp)
    def run_schedule(self, interp: Interpreter, op: autodiff.ScheduleOp, args: PythonValues):
        from gradc.dialects.autodiff.checkpointing import ADVANCE, FORWARD, REVERSE

        names = [name for name, _ in autodiff.SCHEDULE_REGIONS]
        for kind, first, stop, slot in op.table():
            region, name = op.regions[kind], names[kind]
            if kind == ADVANCE:
                runs = [(i,) for i in range(first, stop)]
            elif kind in (FORWARD, REVERSE):
                order = range(first, stop) if kind == FORWARD else reversed(range(first, stop))
                runs = [(i, slot + i - first) for i in order]
            else:
                runs = [(first,)]
            for values in runs:
                self.evaluations[name] += 1
                interp.run_ssacfg_region(region, values, name)
        return ()

    @impl_terminator(autodiff.ScheduleYieldOp)
    def run_yield(self, interp: Interpreter, op: autodiff.ScheduleYieldOp, args: PythonValues):
        return ReturnedValues(()), ()


def _scalar(typ: Attribute, value: Any) -> Any:
    if isinstance(typ, IndexType):
        return int(value)
    return numpy_dtype(typ).type(value)


_SCALAR_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    arith.AddfOp: np.add,
    arith.SubfOp: np.subtract,
    arith.MulfOp: np.multiply,
    arith.DivfOp: np.divide,
    arith.MaximumfOp: np.maximum,
    arith.MinimumfOp: np.minimum,
    math.PowFOp: np.power,
    arith.AddiOp: lambda a, b: a + b,
    arith.SubiOp: lambda a, b: a - b,
    arith.MuliOp: lambda a, b: a * b,
}

_SCALAR_UNARY: dict[type, Callable[[Any], Any]] = {
    arith.NegfOp: np.negative,
    math.ExpOp: np.exp,
    math.LogOp: np.log,
    math.TanhOp: np.tanh,
    math.SinOp: np.sin,
    math.CosOp: np.cos,
    math.SqrtOp: np.sqrt,
    math.AbsFOp: np.abs,
    arith.ExtFOp: lambda x: x,
    arith.TruncFOp: lambda x: x,
    arith.UIToFPOp: lambda x: x,
}

_CMPF = {
    "oeq": np.equal, "ogt": np.greater, "oge": np.greater_equal,
    "olt": np.less, "ole": np.less_equal, "one": lambda a, b: a < b or a > b,
    "ueq": lambda a, b: not (a < b or a > b), "ugt": lambda a, b: not a <= b,
    "uge": lambda a, b: not a < b, "ult": lambda a, b: not a >= b,
    "ule": lambda a, b: not a > b, "une": np.not_equal,
    "ord": lambda a, b: not (np.isnan(a) or np.isnan(b)),
    "uno": lambda a, b: bool(np.isnan(a) or np.isnan(b)),
    "false": lambda a, b: False, "true": lambda a, b: True,
}


class ScalarFunctions(InterpreterFunctions):
    """`arith` and `math` on scalars, computed in the element type (xDSL's own
    implementations use Python floats, which would hide float32 rounding)."""

    @impl(arith.ConstantOp)
    def run_constant(self, interp: Interpreter, op: arith.ConstantOp, args: PythonValues):
        return (_scalar(op.result.type, op.value.value.data),)

    @impl(arith.CmpfOp)
    def run_cmpf(self, interp: Interpreter, op: arith.CmpfOp, args: PythonValues):
        name = arith.CMPF_COMPARISON_OPERATIONS[op.predicate.value.data]
        return (np.bool_(_CMPF[name](*args)),)

    @impl(arith.IndexCastOp)
    def run_index_cast(self, interp: Interpreter, op: arith.IndexCastOp, args: PythonValues):
        return (int(args[0]),)

    @impl(arith.SIToFPOp)
    def run_sitofp(self, interp: Interpreter, op: arith.SIToFPOp, args: PythonValues):
        return (_scalar(op.result.type, args[0]),)

    @impl(arith.SelectOp)
    def run_select(self, interp: Interpreter, op: arith.SelectOp, args: PythonValues):
        cond, a, b = args
        return (a if cond else b,)


def _register_scalar_table(table: dict[type, Callable[..., Any]]) -> None:
    for op_type, fn in table.items():

        def run(self: Any, interp: Interpreter, op: Any, args: PythonValues, fn=fn):
            return (_scalar(op.result.type, fn(*args)),)

        setattr(ScalarFunctions, f"run_{op_type.name.replace('.', '_')}", impl(op_type)(run))


_register_scalar_table({**_SCALAR_BINARY, **_SCALAR_UNARY})
register_impls(ScalarFunctions)


@register_impls
class FuncFunctions(InterpreterFunctions):
    """`func` calls and returns. (xDSL has these too, but importing
    `xdsl.interpreters` loads every interpreter it ships: ~150 ms on each
    first compile.)"""

    @impl_callable(func.FuncOp)
    def call_func(self, interp: Interpreter, op: func.FuncOp, args: tuple[Any, ...]):
        return interp.run_ssacfg_region(op.body, args, op.sym_name.data)

    @impl(func.CallOp)
    def run_call(self, interp: Interpreter, op: func.CallOp, args: PythonValues):
        return interp.call_op(op.callee, args)

    @impl_terminator(func.ReturnOp)
    def run_return(
        self, interp: Interpreter, op: func.ReturnOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------


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
    outputs are allocated here, NaN-filled, and returned after the call."""
    fn = _find_function(module, name)
    arg_types = fn.function_type.inputs.data
    values = [_as_input(a, t) for a, t in zip(args, arg_types, strict=False)]
    if len(values) > len(arg_types):
        raise TypeError(f"@{name} takes {len(arg_types)} arguments, got {len(args)}")
    num_inputs = fn.attributes.get(loops.NUM_INPUTS_ATTR)
    interp = make_interpreter(module, evaluations)
    if num_inputs is None:
        return [np.asarray(r) for r in interp.call_op(fn, tuple(values))]
    outputs = []
    for typ in arg_types[num_inputs.value.data :]:
        assert isinstance(typ, MemRefType)
        dtype = numpy_dtype(typ.get_element_type())
        outputs.append(np.full(tuple(typ.get_shape()), np.nan if dtype != np.bool_ else False, dtype=dtype))
    interp.call_op(fn, tuple(values + outputs))
    return outputs


def _find_function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
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


