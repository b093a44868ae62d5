"""Interpreter functions for the `array` dialect: whole-array NumPy calls.

Expects: `array` ops on NumPy arrays (0-d arrays for rank 0).

Guarantees: value semantics: no input is ever mutated and every result is
a new array of the op's result dtype (float32 stays float32). `array.scan`
runs its body once per step, in reverse step order for a reverse scan, and
stacks the per-step outputs by step; `array.switch` runs only the region
its clamped index chooses; `array.while` runs its body while its condition
holds (more than its max_steps iterations is an error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)
from xdsl.utils.exceptions import InterpretationError

from gradc.dialects import array
from gradc.support import linalg
from gradc.support.dense import dense_to_numpy, numpy_dtype
from gradc.support.special import erf, erfc

_UNARY: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    array.NegOp: np.negative,
    array.ExpOp: np.exp,
    array.LogOp: np.log,
    array.TanhOp: np.tanh,
    array.SinOp: np.sin,
    array.CosOp: np.cos,
    array.SqrtOp: np.sqrt,
    array.AbsOp: np.abs,
    array.SinhOp: np.sinh,
    array.CoshOp: np.cosh,
    array.TanOp: np.tan,
    array.AsinOp: np.arcsin,
    array.AcosOp: np.arccos,
    array.AtanOp: np.arctan,
    array.AsinhOp: np.arcsinh,
    array.AcoshOp: np.arccosh,
    array.AtanhOp: np.arctanh,
    array.Log1pOp: np.log1p,
    array.Expm1Op: np.expm1,
    array.Log2Op: np.log2,
    array.Log10Op: np.log10,
    array.Exp2Op: np.exp2,
    array.ErfOp: erf,
    array.FloorOp: np.floor,
    array.CeilOp: np.ceil,
    array.RoundEvenOp: np.rint,
    array.TruncOp: np.trunc,
    array.ErfcOp: erfc,
    array.InvertOp: np.invert,
}

_BINARY: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    array.AddOp: np.add,
    array.SubOp: np.subtract,
    array.MulOp: np.multiply,
    array.DivOp: lambda a, b: _integer_safe(_truncated_divide, a, b),
    array.MaxOp: np.maximum,
    array.MinOp: np.minimum,
    array.PowOp: np.power,
    array.Atan2Op: np.arctan2,
    array.CopySignOp: np.copysign,
    array.FmodOp: lambda a, b: _integer_safe(np.fmod, a, b),
    array.AndOp: np.bitwise_and,
    array.OrOp: np.bitwise_or,
    array.XorOp: np.bitwise_xor,
    array.ShiftLeftOp: np.left_shift,  # NumPy's counts outside [0, width) are array.ShiftOp's
    array.ShiftRightOp: np.right_shift,
}

_COMPARE = {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}


def _truncated_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b: NumPy's for floats; truncated toward zero for integers."""
    if a.dtype.kind != "i":
        return np.divide(a, b)
    q = np.floor_divide(a, b)
    return q + ((np.fmod(a, b) != 0) & ((a < 0) != (b < 0)))


def _integer_safe(fn: Callable[..., np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`fn` of integers with gradc's values where C would trap: 0 where
    b == 0; where b == -1, the quotient -a (wrapping) and the remainder 0.
    Floats: `fn` itself."""
    if a.dtype.kind != "i":
        return fn(a, b)
    trap = (b == 0) | (b == -1)
    with np.errstate(all="ignore"):
        out = np.asarray(fn(a, np.where(trap, 1, b)), dtype=a.dtype)
        minus_one = np.negative(a) if fn is _truncated_divide else np.zeros_like(a)
    return np.where(b == 0, 0, np.where(b == -1, minus_one, out)).astype(a.dtype)


def float_to_int(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """`array.convert` of floats to an integer dtype: truncated toward zero;
    NaN and values outside the dtype's range give its minimum (as NumPy's
    astype does on x86-64, there with a warning)."""
    bound = 2.0 ** (8 * np.dtype(dtype).itemsize - 1)
    inside = (x >= -bound) & (x < bound)
    out = np.where(inside, x, 0).astype(dtype)
    out[~inside] = np.iinfo(dtype).min
    return np.asarray(out)


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

    @impl(array.Threefry2x32Op)
    def run_threefry(self, interp: Interpreter, op: array.Threefry2x32Op, args: PythonValues):
        return (array.threefry_output(op.output.data, *args).view(np.int32),)

    @impl(array.SelectOp)
    def run_select(self, interp: Interpreter, op: array.SelectOp, args: PythonValues):
        return (np.where(*args),)

    @impl(array.ConvertOp)
    def run_convert(self, interp: Interpreter, op: array.ConvertOp, args: PythonValues):
        (x,) = args
        dtype = _result_dtype(op)
        if dtype == np.bool_:
            return (np.asarray(x != 0),)
        if dtype.kind == "i" and x.dtype.kind == "f":
            return (float_to_int(x, dtype),)
        return (np.asarray(x.astype(dtype)),)

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
        return (np.array(np.transpose(args[0], op.perm), order="C"),)

    @impl(array.MirrorOp)
    def run_mirror(self, interp: Interpreter, op: array.MirrorOp, args: PythonValues):
        x = np.asarray(args[0])
        lower = np.tri(x.shape[-1], k=-1, dtype=bool)
        return (np.where(lower, np.swapaxes(x, -1, -2), x),)

    @impl(array.SliceOp)
    def run_slice(self, interp: Interpreter, op: array.SliceOp, args: PythonValues):
        index = tuple(slice(s, None if l < 0 else l, st) for s, l, st in op.bounds)
        return (args[0][index].copy(),)

    @impl(array.GatherOp)
    def run_gather(self, interp: Interpreter, op: array.GatherOp, args: PythonValues):
        axes = op.axis_list
        rest = [d for d in range(args[0].ndim) if d not in axes]
        table = op.table
        moved = np.transpose(args[0], [*axes, *rest])
        # np.array, not ascontiguousarray (which makes a 0-d result 1-d)
        return (np.array(moved[tuple(table[..., k] for k in range(len(axes)))], order="C"),)

    @impl(array.DynamicGatherOp)
    def run_dynamic_gather(self, interp: Interpreter, op: array.DynamicGatherOp, args: PythonValues):
        x, indices = args
        axes = op.axis_list
        rest = [d for d in range(x.ndim) if d not in axes]
        positions, ok = array.indexed_positions(x.shape, axes, indices, "clip")
        moved = np.transpose(x, [*axes, *rest])
        if 0 in moved.shape[: len(axes)]:
            return (np.zeros(tuple(op.result.type.get_shape()), x.dtype),)
        out = np.array(moved[positions], order="C")
        if op.mode.data == "fill":
            out[~ok] = 0
        return (out,)

    @impl(array.ScatterOp)
    def run_scatter(self, interp: Interpreter, op: array.ScatterOp, args: PythonValues):
        x, indices, updates = args
        axes = op.axis_list
        rest = [d for d in range(x.ndim) if d not in axes]
        positions, ok = array.indexed_positions(x.shape, axes, indices, op.mode.data)
        if op.mode.data == "clip":
            ok = np.ones_like(ok)
        out = np.transpose(x.copy(), [*axes, *rest])  # a view of the copy
        rows = len(op.batch_shape)
        updates = updates.reshape(-1, *updates.shape[rows:])
        flat = [p.reshape(-1) for p in positions]
        for b in np.flatnonzero(ok.reshape(-1)):  # row-major order: the last set wins
            at = tuple(int(p[b]) for p in flat)
            out[at] = out[at] + updates[b] if op.kind.data == "add" else updates[b]
        return (np.array(np.transpose(out, np.argsort([*axes, *rest])), order="C"),)

    @impl(array.DynamicSliceOp)
    def run_dynamic_slice(self, interp: Interpreter, op: array.DynamicSliceOp, args: PythonValues):
        x, *starts = args
        index = tuple(
            slice(s, s + k)
            for s, k in ((array.clamped_start(st, n, k), k) for st, n, k in zip(starts, x.shape, op.size_list))
        )
        return (x[index].copy(),)

    @impl(array.DynamicUpdateSliceOp)
    def run_dynamic_update_slice(self, interp: Interpreter, op: array.DynamicUpdateSliceOp, args: PythonValues):
        x, update, *starts = args
        out = x.copy()
        index = tuple(
            slice(s, s + k)
            for s, k in ((array.clamped_start(st, n, k), k) for st, n, k in zip(starts, x.shape, update.shape))
        )
        out[index] = update
        return (out,)

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

    @impl(array.SwitchOp)
    def run_switch(self, interp: Interpreter, op: array.SwitchOp, args: PythonValues):
        """Run only region clamp(index, 0, N-1) on the other operands."""
        k = min(max(int(np.asarray(args[0])), 0), len(op.branches) - 1)
        out = interp.run_ssacfg_region(op.branches[k], tuple(args[1:]), "array.switch")
        return tuple(np.asarray(v) for v in out)

    @impl(array.WhileOp)
    def run_while(self, interp: Interpreter, op: array.WhileOp, args: PythonValues):
        """Run the body while the condition holds; more than max_steps
        iterations is an error (as the compiled loop's status is)."""
        c = len(op.initials)
        carries, invariants = list(args[:c]), args[c:]
        steps = 0
        while bool(interp.run_ssacfg_region(op.cond, (*carries, *invariants), "array.while")[0]):
            if op.bound is not None and steps >= op.bound:
                raise InterpretationError(f"array.while: more than max_steps={op.bound} iterations")
            carries = list(interp.run_ssacfg_region(op.body, (*carries, *invariants), "array.while"))
            steps += 1
        return tuple(np.asarray(v) for v in carries)

    @impl_terminator(array.ConditionOp)
    def run_condition(
        self, interp: Interpreter, op: array.ConditionOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl_terminator(array.YieldOp)
    def run_yield(
        self, interp: Interpreter, op: array.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(array.ReduceSumOp)
    def run_reduce_sum(self, interp: Interpreter, op: array.ReduceSumOp, args: PythonValues):
        (x,) = args
        return (np.asarray(np.sum(x, axis=op.axis_list, dtype=x.dtype), dtype=x.dtype),)

    @impl(array.ArgMaxOp)
    def run_argmax(self, interp: Interpreter, op: array.ArgMaxOp, args: PythonValues):
        return (np.asarray(np.argmax(args[0], axis=op.axis_index), dtype=np.int64),)

    @impl(array.ReduceMaxOp)
    def run_reduce_max(self, interp: Interpreter, op: array.ReduceMaxOp, args: PythonValues):
        (x,) = args
        return (np.asarray(np.max(x, axis=op.axis_list), dtype=x.dtype),)

    @impl(array.CholeskyOp)
    def run_cholesky(self, interp: Interpreter, op: array.CholeskyOp, args: PythonValues):
        return (linalg.cholesky(*args),)

    @impl(array.TriangularSolveOp)
    def run_triangular_solve(self, interp: Interpreter, op: array.TriangularSolveOp, args: PythonValues):
        return (linalg.triangular_solve(*args, **op.flags()),)

    @impl(array.SolveOp)
    def run_solve(self, interp: Interpreter, op: array.SolveOp, args: PythonValues):
        return (linalg.solve(*args, **op.flags()),)

    @impl(array.SlogdetOp)
    def run_slogdet(self, interp: Interpreter, op: array.SlogdetOp, args: PythonValues):
        return (linalg.slogdet(*args),)

    @impl(array.EighOp)
    def run_eigh(self, interp: Interpreter, op: array.EighOp, args: PythonValues):
        return (linalg.eigh(*args),)


def _register_table(cls: type, table: dict[type, Callable[..., Any]]) -> None:
    for op_type, fn in table.items():

        def run(self: Any, interp: Interpreter, op: Any, args: PythonValues, fn=fn):
            return (np.asarray(fn(*args), dtype=_result_dtype(op)),)

        setattr(cls, f"run_{op_type.name.split('.')[1]}", impl(op_type)(run))


_register_table(ArrayFunctions, {**_UNARY, **_BINARY})
register_impls(ArrayFunctions)
