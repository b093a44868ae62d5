"""Call a built C kernel on NumPy arrays with as little Python as possible.

Everything that does not depend on the arguments (C pointer types, strides,
the workspace) is prepared once in `CompiledFunction.__init__`; a call checks
each input against a precomputed (dtype, shape, strides) triple, hands NumPy's
memory to C without copying, and allocates fresh outputs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

WORKSPACE_ALIGN = 64

C_ELEMENT_TYPES = {
    "float32": "float[]",
    "float64": "double[]",
    "bool": "_Bool[]",
    "int8": "int8_t[]",
    "int16": "int16_t[]",
    "int32": "int32_t[]",
    "int64": "int64_t[]",
}

ArraySpec = tuple[Sequence[int], Any]
"""(shape, dtype) of one argument or result."""


def describe(shape: Sequence[int], dtype: np.dtype[Any]) -> str:
    """`float32[64,784]`, the spelling every argument error uses."""
    return f"{dtype}[{','.join(str(d) for d in shape)}]"


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))


class CompiledFunction:
    """One generated C function `int NAME(inputs..., outputs..., void *work)`
    as a Python callable: `f(*inputs) -> [outputs]`.

    The workspace is allocated once and reused, so calls on one instance are
    serialized by a lock (only when there is a workspace)."""

    def __init__(
        self,
        module: ModuleType,
        name: str,
        inputs: Sequence[ArraySpec],
        outputs: Sequence[ArraySpec],
        work_size: int | None = None,
    ):
        ffi, lib = module.ffi, module.lib
        self.name = name
        self._fn = getattr(lib, name)
        if work_size is None:
            work_size = int(getattr(lib, name + "_work_size")())
        self.work_size = work_size
        self._from_buffer = ffi.from_buffer
        self.inputs = [self._spec(ffi, s, d) for s, d in inputs]
        self.outputs = [self._spec(ffi, s, d) for s, d in outputs]
        self._output_shapes = [(shape, dtype, ctype) for shape, dtype, ctype, _ in self.outputs]
        self._n_inputs = len(self.inputs)
        self._lock = threading.Lock() if work_size else None
        if work_size:
            raw = np.empty(work_size + WORKSPACE_ALIGN, dtype=np.uint8)
            start = -raw.ctypes.data % WORKSPACE_ALIGN
            self._work_memory = raw[start : start + work_size]
            self._work = ffi.from_buffer("char[]", self._work_memory, require_writable=True)
        else:
            self._work = ffi.NULL

    @staticmethod
    def _spec(ffi: Any, shape: Sequence[int], dtype: Any) -> tuple[tuple[int, ...], np.dtype[Any], Any, tuple[int, ...]]:
        dtype = np.dtype(dtype)
        if dtype.name not in C_ELEMENT_TYPES:
            raise TypeError(f"dtype {dtype} has no C element type")
        shape = tuple(int(d) for d in shape)
        return shape, dtype, ffi.typeof(C_ELEMENT_TYPES[dtype.name]), _c_strides(shape, dtype.itemsize)

    def __repr__(self) -> str:
        ins = ", ".join(describe(s, d) for s, d, _, _ in self.inputs)
        outs = ", ".join(describe(s, d) for s, d, _, _ in self.outputs)
        return f"<CompiledFunction {self.name}({ins}) -> ({outs})>"

    def __call__(self, *args: Any) -> list[np.ndarray]:
        if len(args) != self._n_inputs:
            raise TypeError(f"{self.name}: expected {self._n_inputs} arguments, got {len(args)}")
        from_buffer = self._from_buffer
        pointers = []
        for k, arg in enumerate(args):
            shape, dtype, ctype, strides = self.inputs[k]
            if not (
                type(arg) is np.ndarray
                and arg.dtype is dtype
                and arg.shape == shape
                and arg.strides == strides
            ):
                arg = self._check_input(k, arg)
            pointers.append(from_buffer(ctype, arg))
        results = []
        for shape, dtype, ctype in self._output_shapes:
            out = np.empty(shape, dtype)
            results.append(out)
            pointers.append(from_buffer(ctype, out, True))
        if self._lock is None:
            status = self._fn(*pointers, self._work)
        else:
            with self._lock:
                status = self._fn(*pointers, self._work)
        if status != 0:
            raise RuntimeError(f"{self.name}: the C function returned error code {status}")
        return results

    def _check_input(self, k: int, arg: Any) -> np.ndarray:
        """The slow path: accept what is merely unusual, explain what is wrong."""
        shape, dtype, _, _ = self.inputs[k]
        where = f"{self.name}: argument {k}"
        expected = describe(shape, dtype)
        if shape == () and (np.isscalar(arg) or (isinstance(arg, np.ndarray) and arg.ndim == 0)):
            value = np.asarray(arg)
            if not np.can_cast(value.dtype, dtype, "same_kind"):
                raise TypeError(f"{where}: expected {expected}, got {describe((), value.dtype)}")
            return np.ascontiguousarray(value, dtype=dtype)
        if not isinstance(arg, np.ndarray):
            raise TypeError(f"{where}: expected a NumPy array {expected}, got {type(arg).__name__}")
        got = describe(arg.shape, arg.dtype)
        if arg.dtype != dtype:
            raise TypeError(f"{where}: expected {expected}, got {got}")
        if arg.shape != shape:
            raise ValueError(f"{where}: expected {expected}, got {got}")
        if not arg.flags.c_contiguous:
            raise ValueError(
                f"{where}: expected a C-contiguous {expected}, got a strided view "
                "(use numpy.ascontiguousarray)"
            )
        return arg
