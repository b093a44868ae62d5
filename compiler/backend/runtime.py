"""Call a built C kernel on NumPy arrays with as little Python as possible.

Expects: a cffi extension from gradc.backend.build with
`int NAME(inputs..., outputs..., void *work)` and `NAME_work_size`, and the
(shape, dtype) of every input and output.

Guarantees: what does not depend on the arguments (C pointer types,
shapes, dtypes, the workspace) is prepared once per `CompiledFunction`;
each call hands every input to C without a copy when it matches its
(type, dtype, shape), converts what it may otherwise, and raises a
TypeError or ValueError naming the argument before C runs; outputs are
allocated on every call, or written into the caller's arrays (`out=`, see
`Outputs`; an `OutError` names what is wrong with them before C runs).
`caller()` makes the lean calls `gradc.jit` uses:
the C entry of gradc.backend.callpath, or, without it, generated Python
over cffi. Functions whose inputs are all 0-d float32/float64/int32/int64
and outputs all 0-d float32/float64 (`is_scalar_signature`) return NumPy
scalars from `caller()`.

Environment: `GRADC_DEBUG_WORKSPACE=nan` fills the workspace with NaN
before every call (`DEBUG_WORKSPACE_ENV`; such functions take the Python
path).

The call paths and where the time of one call goes: docs/backend.md.
"""

from __future__ import annotations

import itertools
import linecache
import os
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from gradc.backend import callpath
from gradc.errors import GradcError, LoopLimitError, OutError

WORKSPACE_ALIGN = 64

DEBUG_WORKSPACE_ENV = "GRADC_DEBUG_WORKSPACE"
"""Set to `nan` (when a function is loaded) to fill its workspace with NaN
bytes (0xff) before every call: a buffer read before it is written, or
overwritten while still live (a wrong memory plan), then shows up as NaN or
wrong numbers instead of stale values that happen to be right."""


def _debug_fill() -> bool:
    value = os.environ.get(DEBUG_WORKSPACE_ENV, "")
    if value not in ("", "nan"):
        raise ValueError(f"{DEBUG_WORKSPACE_ENV} must be 'nan' or unset, got {value!r}")
    return value == "nan"

C_ELEMENT_TYPES = {
    "float32": "float[]",
    "float64": "double[]",
    "bool": "_Bool[]",
    "int8": "int8_t[]",
    "int16": "int16_t[]",
    "int32": "int[]",  # i32 is spelled `int` (gradc.backend.c_spelling)
    "uint32": "int[]",  # PRNG keys: uint32 at the boundary, the same bits as i32 inside
    "int64": "int64_t[]",
}

SCALAR_INPUT_TYPES = ("float32", "float64", "int32", "int64")
"""0-d input dtypes of a scalar signature (an int: `f(x, 3)`)."""

SCALAR_OUTPUT_TYPES = ("float32", "float64")
"""0-d output dtypes of a scalar signature."""

_serial = itertools.count()
"""Numbers the generated calls' file names."""

ArraySpec = tuple[Sequence[int], Any]
"""(shape, dtype) of one argument or result."""

ResultExpression = Callable[[list[str]], str]
"""Given one Python expression per result, the expression a generated call
returns (see `CompiledFunction.caller`)."""


class Outputs(NamedTuple):
    """How a call takes preallocated outputs (`f(..., out=tree)`): the
    caller's arrays are written instead of fresh ones, and the call returns
    `out` itself."""

    tree: callpath.Nesting
    """How `out` nests the outputs, as the C entry checks it."""
    leaves: Callable[[Any], list[Any]]
    """`out`'s leaves in output order; an OutError when `out` is nested
    otherwise."""
    paths: Sequence[str]
    """Each output's name in messages: `out`, `out[1]['w1']`."""
    inputs: Sequence[str]
    """Each input's name in messages: `argument p['w1']`."""


def describe(shape: Sequence[int], dtype: np.dtype[Any]) -> str:
    """`float32[64,784]`, the spelling every argument error uses."""
    return f"{dtype}[{','.join(str(d) for d in shape)}]"


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))


def is_scalar_signature(inputs: Sequence[ArraySpec], outputs: Sequence[ArraySpec]) -> bool:
    """Every input 0-d float32/float64/int32/int64, every output 0-d
    float32/float64, and at least one output: the signatures whose calls
    return NumPy scalars."""
    return bool(outputs) and all(
        len(tuple(shape)) == 0 and np.dtype(dtype).name in SCALAR_INPUT_TYPES for shape, dtype in inputs
    ) and all(len(tuple(shape)) == 0 and np.dtype(dtype).name in SCALAR_OUTPUT_TYPES for shape, dtype in outputs)


def load(
    source: str,
    header: str,
    name: str,
    specs: tuple[Sequence[ArraySpec], Sequence[ArraySpec]],
    cflags: Sequence[str] | None = None,
    extra_cflags: Sequence[str] = (),
    statuses: dict[int, str] | None = None,
) -> CompiledFunction:
    """Build printed C (through the content-hash cache) and wrap `name`
    (`statuses`: see CompiledFunction)."""
    from gradc.backend.build import build

    inputs, outputs = specs
    module = build(source, header, [name], None if cflags is None else tuple(cflags),
                   extra_flags=tuple(extra_cflags))
    return CompiledFunction(module, name, inputs, outputs, statuses=statuses)


def generate_function(name: str, params: Sequence[str], body: Sequence[str], env: dict[str, Any]) -> Callable[..., Any]:
    """`def name(params): body` compiled with `env` as its globals. Its file
    name lies in gradc's folder, so error locations and tracebacks skip it
    like gradc's other frames; linecache has its text for tracebacks."""
    text = f"def call({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    filename = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"<generated call {name} {next(_serial)}>")
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"__builtins__": __builtins__, **env}
    exec(compile(text, filename, "exec"), namespace)
    function = namespace["call"]
    function.__name__ = function.__qualname__ = name
    function.source = text  # for reading, and for tests
    return function


def _as_list(results: list[str]) -> str:
    return f"[{', '.join(results)}]"


def _scalars(result: ResultExpression) -> ResultExpression:
    """`result` of each output's NumPy scalar (`o[()]`), for the Python
    paths (the C entry makes the scalars itself)."""
    return lambda outs: result([f"{o}[()]" for o in outs])


class CompiledFunction:
    """One generated C function `int NAME(inputs..., outputs..., void *work)`
    as a Python callable: `f(*inputs) -> [outputs]` (0-d outputs as 0-d
    arrays); `caller()` makes leaner calls for `gradc.jit`.

    The workspace is allocated once and reused, so calls on one instance are
    serialized by a lock (only when there is a workspace). With
    GRADC_DEBUG_WORKSPACE=nan in the environment when it is made, the
    workspace is filled with NaN before every call (`DEBUG_WORKSPACE_ENV`)."""

    def __init__(
        self,
        module: ModuleType,
        name: str,
        inputs: Sequence[ArraySpec],
        outputs: Sequence[ArraySpec],
        work_size: int | None = None,
        statuses: dict[int, str] | None = None,
    ):
        ffi, lib = module.ffi, module.lib
        self.name = name
        self.statuses = dict(statuses or {})
        """What each nonzero status of the C function means (a while loop
        past its max_steps: `c.fail_if`); it raises a LoopLimitError."""
        self._ffi = ffi
        self._fn = getattr(lib, name)
        if work_size is None:
            work_size = int(getattr(lib, name + "_work_size")())
        self.work_size = work_size
        self._from_buffer = ffi.from_buffer
        self.inputs = [self._spec(ffi, s, d) for s, d in inputs]
        self.outputs = [self._spec(ffi, s, d) for s, d in outputs]
        self._n_inputs = len(self.inputs)
        self._lock = threading.Lock() if work_size else None
        self._work_memory: np.ndarray | None = None
        self.fills_workspace = bool(work_size) and _debug_fill()
        if work_size:
            raw = np.empty(work_size + WORKSPACE_ALIGN, dtype=np.uint8)
            start = -raw.ctypes.data % WORKSPACE_ALIGN
            self._work_memory = raw[start : start + work_size]
            self._work = ffi.from_buffer("char[]", self._work_memory, require_writable=True)
        else:
            self._work = ffi.NULL
        self.scalar = is_scalar_signature(inputs, outputs)
        """Whether `caller()`'s calls return NumPy scalars."""
        self._checked = self.caller(scalar=False)

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
        return self._checked(*args)

    def caller(
        self,
        result: ResultExpression = _as_list,
        *,
        names: dict[str, Any] | None = None,
        scalar: bool = True,
        numbers: Sequence[int] = (),
        mismatch: Callable[..., Any] | None = None,
        fallback: Callable[..., Any] | None = None,
        outputs: Outputs | None = None,
    ) -> Callable[..., Any]:
        """A call of exactly the inputs, in order, returning `result([expression
        of output 0, ...])` (default: a list), an expression that may use
        `names` (capitalized names are free). With `outputs`, the call also
        takes `out=`: given (not None), it writes the outputs into `out`'s
        leaves and returns `out` (`call_into`); `mismatch` and `fallback`
        then get `out=` too.

        It first checks each input's type: in `numbers` (0-d float64 and
        int64 inputs only), a Python float or int; elsewhere an ndarray of
        the input's dtype and shape, or, for a 0-d input, the NumPy scalar
        type of its dtype. Any other input sends the call to
        `mismatch(*inputs)`; an array of the right type, dtype and shape
        that is not C-contiguous to `fallback(*inputs)` (not aligned: to
        `fallback` from the C entry, `mismatch` from the Python path). Both default to the slow checks, which convert
        0-d values and raise the argument errors. Outputs are fresh arrays,
        or NumPy scalars with `scalar` on a scalar signature.

        The call is the C entry (gradc.backend.callpath) when it is
        available, else a generated Python function over cffi."""
        names = dict(names or {})
        scalars = scalar and self.scalar
        native_result = result
        if scalars:
            result = _scalars(result)
        slow = self._slow(result, names, outputs) if mismatch is None or fallback is None else None
        mismatch, fallback = mismatch or slow, fallback or slow
        native = self._native(native_result, names, numbers, mismatch, fallback, scalars, outputs)
        if native is not None:
            return native
        params = [f"a{k}" for k in range(self._n_inputs)]
        args = ", ".join(params)
        redirect = args
        if outputs is not None:
            params.append("out=None")
            redirect = ", ".join([*params[:-1], "out=out"])
        env: dict[str, Any] = {
            **names,
            "fn": self._fn,
            "work": self._work,
            "lock": self._lock,
            "work_memory": self._work_memory,
            "fail": self._fail,
            "ndarray": np.ndarray,
            "empty": np.empty,
            "from_buffer": self._from_buffer,
            "new": self._ffi.new,
            "double_ptr": self._ffi.typeof("double *"),
            "int64_ptr": self._ffi.typeof("int64_t *"),
            "mismatch": mismatch,
            "fallback": fallback,
            "into": lambda *args, out: self.call_into(args, out, outputs),
            "GradcError": GradcError,
        }
        body, pointers, tests = [], [], []
        for k, (shape, dtype, ctype, _) in enumerate(self.inputs):
            env[f"c{k}"], env[f"s{k}"], env[f"d{k}"], env[f"t{k}"] = ctype, shape, dtype, dtype.type
            if k in numbers and dtype.name == "float64" and not shape:
                test = f"type(a{k}) is float"
                pointers.append(f"new(double_ptr, a{k})")
            elif k in numbers and dtype.name == "int64" and not shape:
                # A Python int beyond int64 raises cffi's OverflowError.
                test = f"type(a{k}) is int"
                pointers.append(f"new(int64_ptr, a{k})")
            else:
                # A NumPy scalar (np.float64(1.0)) exposes its value as a buffer too.
                test = f"type(a{k}) is ndarray and a{k}.dtype is d{k} and a{k}.shape == s{k} and a{k}.flags.aligned"
                if not shape:
                    test = f"(type(a{k}) is t{k} or {test})"
                pointers.append(f"from_buffer(c{k}, a{k})")
            tests.append(test)
        if tests:
            body += [f"if not ({' and '.join(tests)}):", f"    return mismatch({redirect})"]
        if outputs is not None:
            # An OutError is raised again here, so its traceback goes from
            # this frame straight to the caller (as from gradc.jit's slow path).
            body += ["if out is not None:", "    try:", f"        return into({redirect})",
                     "    except GradcError as err:", "        raise err.with_traceback(None) from None"]
        call = "with lock:\n        {}" if self._lock is not None else "{}"
        if self.fills_workspace:
            call = "with lock:\n        work_memory.fill(255)\n        {}"
        outs = []
        for k, (shape, dtype, ctype, _) in enumerate(self.outputs):
            env[f"os{k}"], env[f"od{k}"], env[f"oc{k}"] = shape, dtype, ctype
            body.append(f"o{k} = empty(os{k}, od{k})")
            pointers.append(f"from_buffer(oc{k}, o{k}, True)")
            outs.append(f"o{k}")
        if pointers:
            body.append("try:")
            body += [f"    p{j} = {p}" for j, p in enumerate(pointers)]
            body += ["except ValueError:  # not C-contiguous", f"    return fallback({redirect})"]
        body.append(call.format(f"status = fn({', '.join([*(f'p{j}' for j in range(len(pointers))), 'work'])})"))
        body += ["if status:", "    fail(status)", f"return {result(outs)}"]
        return generate_function(self.name, params, body, env)

    def _native(
        self,
        result: ResultExpression,
        names: dict[str, Any],
        numbers: Sequence[int],
        mismatch: Callable[..., Any],
        fallback: Callable[..., Any],
        scalars: bool,
        out: Outputs | None,
        in_tree: tuple[callpath.Nesting, ...] | None = None,
    ) -> Callable[..., Any] | None:
        """The C entry (gradc.backend.callpath) doing what `caller`'s
        generated Python does (on the leaves of arguments nested as
        `in_tree` says, when given), or None when it is not available or
        the workspace is filled before every call (GRADC_DEBUG_WORKSPACE)."""
        if self.fills_workspace or not callpath.available():
            return None
        inputs = []
        for k, (shape, dtype, _, _) in enumerate(self.inputs):
            kind = callpath.ARRAY
            if k in numbers and not shape and dtype.name in ("float64", "int64"):
                kind = callpath.FLOAT if dtype.name == "float64" else callpath.INT
            inputs.append((dtype, shape, kind, dtype.type if not shape else None))
        outputs = [(dtype, shape, callpath.ARRAY, None) for shape, dtype, _, _ in self.outputs]
        outs = [f"o{k}" for k in range(len(outputs))]
        expression = result(outs)
        finish = None
        if expression == "o0" and len(outs) == 1:
            kind = callpath.BARE
        elif expression == _as_list(outs):
            kind = callpath.LIST
        elif expression == f"({', '.join(outs)},)":
            kind = callpath.TUPLE
        elif out is not None:
            kind = callpath.TREE  # built in C, nested as out= is
        else:
            kind = callpath.FINISH
            finish = generate_function(f"{self.name}_finish", outs, [f"return {expression}"], names)
        ffi = self._ffi
        return callpath.entry(
            int(ffi.cast("uintptr_t", self._fn)), int(ffi.cast("uintptr_t", self._work)), inputs, outputs, kind,
            finish=finish, mismatch=mismatch, fallback=fallback, fail=self._fail, locked=self._lock is not None,
            scalars=scalars, keep=(self._fn, self._work, self._work_memory),
            in_tree=in_tree, out_tree=callpath.NO_OUT if out is None else out.tree,
        )

    def tree_caller(
        self,
        in_tree: tuple[callpath.Nesting, ...],
        result: ResultExpression,
        *,
        names: dict[str, Any],
        numbers: Sequence[int],
        mismatch: Callable[..., Any],
        outputs: Outputs | None = None,
    ) -> Callable[..., Any] | None:
        """`caller`'s call (scalar results on a scalar signature) taking
        arguments nested as `in_tree` says (one callpath.Nesting per
        argument) and the inputs from their leaves: the C entry, or None
        when it is not available. Arguments nested otherwise, or any leaf
        `caller` would not take, go to `mismatch(*arguments)` (with `out=`
        when given)."""
        return self._native(result, dict(names), numbers, mismatch, mismatch, self.scalar, outputs, in_tree)

    def _slow(self, result: ResultExpression, names: dict[str, Any] | None = None,
              outputs: Outputs | None = None) -> Callable[..., Any]:
        """The checked path, slow but explicit, returning `result(...)`, or
        writing into `out=` (with `outputs`)."""
        outs = [f"o[{k}]" for k in range(len(self.outputs))]
        finish = generate_function(f"{self.name}_result", ["o"], [f"return {result(outs)}"], names or {})
        call = self._call_checked

        def slow(*args: Any, out: Any = None) -> Any:
            if out is not None:
                return self.call_into(args, out, outputs)  # type: ignore[arg-type]  # given with outputs only
            return finish(call(args))

        return slow

    def call_into(self, args: Sequence[Any], out: Any, outputs: Outputs) -> Any:
        """The checked call writing into `out` (a tree `outputs` describes):
        returns `out`. Raises an OutError naming the leaf when `out` is not
        nested as the outputs, a leaf is not exactly its output's array
        (ndarray, dtype, shape, C-contiguous, aligned, writeable), or a leaf
        may share memory (numpy.may_share_memory) with an array argument or
        another leaf: the C function reads its inputs while it writes its
        outputs. Inputs are checked and converted as the slow path does
        (a strided view is copied)."""
        leaves = outputs.leaves(out)
        for k, (leaf, path, (shape, dtype, _, _)) in enumerate(zip(leaves, outputs.paths, self.outputs, strict=True)):
            where, expected = f"{self.name}: {path}", describe(shape, dtype)
            if not isinstance(leaf, np.ndarray):
                raise OutError(f"{where}: expected a NumPy array {expected} to write the result into, "
                               f"got {type(leaf).__name__}")
            got = describe(leaf.shape, leaf.dtype)
            if leaf.dtype != dtype or leaf.shape != shape:
                raise OutError(f"{where}: expected {expected}, got {got}")
            if not leaf.flags.c_contiguous:
                raise OutError(f"{where}: expected a C-contiguous {expected}, got a strided view "
                               "(the result is written in place: pass a contiguous array)")
            if not leaf.flags.aligned:
                raise OutError(f"{where}: expected an aligned {expected}, got a misaligned view")
            if not leaf.flags.writeable:
                raise OutError(f"{where}: expected a writeable {expected}, got a read-only array")
            for arg, name in zip(args, outputs.inputs):
                if isinstance(arg, np.ndarray) and np.may_share_memory(leaf, arg):
                    raise OutError(
                        f"{where} shares memory with {name}: the compiled function reads its arguments "
                        "while it writes its results, so out= must not overlap them (write into a second "
                        "buffer, and swap the two between calls)"
                    )
            for other, other_path in zip(leaves[:k], outputs.paths):
                if np.may_share_memory(leaf, other):
                    raise OutError(f"{where} shares memory with {other_path}: each result needs its own array")
        args = [arg.copy(order="C") if isinstance(arg, np.ndarray) and not arg.flags.c_contiguous else arg
                for arg in args]
        self._call_checked(args, leaves)
        return out

    def _call_checked(self, args: Sequence[Any], outs: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        """The checked call of `args`, writing into `outs` (already checked by
        `call_into`) or fresh arrays, which it returns."""
        from_buffer = self._from_buffer
        pointers = []
        for k, arg in enumerate(args):
            arg = self._check_input(k, arg)
            pointers.append(from_buffer(self.inputs[k][2], arg))
        results = [np.empty(shape, dtype) for shape, dtype, _, _ in self.outputs] if outs is None else outs
        for out, (_, _, ctype, _) in zip(results, self.outputs, strict=True):
            pointers.append(from_buffer(ctype, out, True))
        if self._lock is None:
            status = self._fn(*pointers, self._work)
        else:
            with self._lock:
                if self.fills_workspace:
                    self._work_memory.fill(255)
                status = self._fn(*pointers, self._work)
        if status != 0:
            self._fail(status)
        return results

    def _fail(self, status: int) -> None:
        message = self.statuses.get(status)
        if message is not None:
            raise LoopLimitError(f"{self.name}: {message}")
        raise RuntimeError(f"{self.name}: the C function returned error code {status}")

    def _check_input(self, k: int, arg: Any) -> np.ndarray:
        """The slow path: accept what is merely unusual, explain what is wrong."""
        shape, dtype, _, strides = self.inputs[k]
        if (type(arg) is np.ndarray and arg.dtype is dtype and arg.shape == shape and arg.strides == strides
                and arg.flags.aligned):
            return arg
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
        return arg if arg.flags.aligned else arg.copy()  # C reads its elements as aligned values
