"""Interpreter functions for the `loops` dialect: element by element on
mutable NumPy buffers, indices as Python ints.

Expects: `loops` ops whose buffers are NumPy arrays of the memref's shape
and dtype (the driver allocates the outputs, gradc.interpreter).

Guarantees: every loop runs serially on one thread (a `loops.while` past
its max_steps is an InterpretationError) (`loops.thread_id` is
0); a `loops.alloc` buffer starts NaN-filled (False for bool), so reading
it before writing shows up in tests; constants are read-only and a reshape
is a view of its source; matmul, pack and micro-kernel tiles are computed
as whole NumPy operations over the elements their C code reads and writes.
"""

from __future__ import annotations

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

from gradc.dialects import loops
from gradc.support import linalg
from gradc.support.dense import dense_to_numpy, numpy_dtype


@register_impls
class LoopsFunctions(InterpreterFunctions):
    @impl(loops.ForOp)
    def run_for(self, interp: Interpreter, op: loops.ForOp, args: PythonValues):
        for i in range(op.lower.data, op.upper.data, op.step.data):
            interp.run_ssacfg_region(op.body, (i,), "loops.for")
        return ()

    @impl(loops.SwitchOp)
    def run_switch(self, interp: Interpreter, op: loops.SwitchOp, args: PythonValues):
        k = min(max(int(args[0]), 0), len(op.branches) - 1)
        interp.run_ssacfg_region(op.branches[k], (), "loops.switch")
        return ()

    @impl(loops.WhileOp)
    def run_while(self, interp: Interpreter, op: loops.WhileOp, args: PythonValues):
        """Run the body while the condition holds; an iteration beyond
        max_steps is an error (the C function returns a nonzero status)."""
        steps = 0
        while bool(interp.run_ssacfg_region(op.cond, (), "loops.while")[0]):
            if op.bound is not None and steps >= op.bound:
                raise InterpretationError(f"loops.while: more than max_steps={op.bound} iterations")
            interp.run_ssacfg_region(op.body, (), "loops.while")
            steps += 1
        return ()

    @impl_terminator(loops.ConditionOp)
    def run_condition(
        self, interp: Interpreter, op: loops.ConditionOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl_terminator(loops.YieldOp)
    def run_yield(
        self, interp: Interpreter, op: loops.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(loops.FmodOp)
    def run_fmod(self, interp: Interpreter, op: loops.FmodOp, args: PythonValues):
        with np.errstate(invalid="ignore"):
            return (np.fmod(*args),)

    @impl(loops.ThreadIdOp)
    def run_thread_id(self, interp: Interpreter, op: loops.ThreadIdOp, args: PythonValues):
        return (0,)  # the interpreter runs every loop on one thread

    @impl(loops.AllocOp)
    def run_alloc(self, interp: Interpreter, op: loops.AllocOp, args: PythonValues):
        typ = op.result.type
        # NaN-filled so that reading a buffer before writing it shows up in
        # tests (integers: an unlikely garbage value, as run_function's outputs).
        dtype = numpy_dtype(typ.get_element_type())
        fill = {"f": np.nan, "b": False}.get(dtype.kind, 0x5A5A5A5A)
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
        if op.triangle_name is not None:  # the other triangle may hold anything: here NaN
            n = c.shape[-1]
            c[..., np.tri(n, k=-1, dtype=bool) if op.triangle_name == "upper" else ~np.tri(n, dtype=bool)] = np.nan
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

    @impl(loops.LinalgOp)
    def run_linalg(self, interp: Interpreter, op: loops.LinalgOp, args: PythonValues):
        count = loops.LINALG_KINDS[op.kind_name][0]
        flags = {k: v for k, v in op.flags().items() if v}
        out = args[count]
        out[...] = linalg.MEANINGS[op.kind_name](*args[:count], **flags)
        if op.scratch is not None:
            args[count + 1][...] = np.nan  # the C kernel leaves its working copy there
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
