"""Call a built C kernel on NumPy arrays with as little Python as possible.

Expects: a cffi extension from gradc.backend.build with
`int NAME(inputs..., outputs..., void *work)` and `NAME_work_size`, and the
(shape, dtype) of every input and output.

Guarantees: what does not depend on the arguments (C pointer types,
shapes, dtypes, the workspace) is prepared once per `CompiledFunction`;
each call hands every input to C without a copy when it matches its
(type, dtype, shape), converts what it may otherwise, and raises a
TypeError or ValueError naming the argument before C runs; outputs are
allocated on every call. Functions whose inputs are all 0-d
float32/float64/int32/int64 and outputs all 0-d float32/float64 also get
a by-value C entry (`scalar_binding`, built into
the extension only, not into the exported C), which `caller()` uses.

Environment: `GRADC_DEBUG_WORKSPACE=nan` fills the workspace with NaN
before every call (`DEBUG_WORKSPACE_ENV`).

The two generated call paths and where the time of one call goes:
docs/backend.md.
"""

from __future__ import annotations

import itertools
import linecache
import os
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from gradc.errors import LoopLimitError

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

SCALAR_C_TYPES = {"float32": "float", "float64": "double"}
"""Element types the scalar entry passes by value (results, and inputs)."""

SCALAR_INPUT_C_TYPES = {**SCALAR_C_TYPES, "int32": "int", "int64": "int64_t"}
"""Element types the scalar entry takes by value as inputs: floats, and
integers (a Python int argument, `f(x, 3)`); results stay floats, whose
NaN stands for a failed call."""

SCALAR_SUFFIX = "__gradc_scalar"
"""`NAME__gradc_scalar`: the by-value entry `scalar_binding` builds for NAME."""

_serial = itertools.count()
"""Numbers the generated calls' file names."""

ArraySpec = tuple[Sequence[int], Any]
"""(shape, dtype) of one argument or result."""

ResultExpression = Callable[[list[str]], str]
"""Given one Python expression per result, the expression a generated call
returns (see `CompiledFunction.caller`)."""


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
    float32/float64, and at least one output: what the scalar entry serves."""
    return bool(outputs) and all(
        len(tuple(shape)) == 0 and np.dtype(dtype).name in SCALAR_INPUT_C_TYPES for shape, dtype in inputs
    ) and all(len(tuple(shape)) == 0 and np.dtype(dtype).name in SCALAR_C_TYPES for shape, dtype in outputs)


def scalar_binding(
    name: str, inputs: Sequence[ArraySpec], outputs: Sequence[ArraySpec]
) -> tuple[str, str] | None:
    """C source and cffi declarations of `NAME__gradc_scalar`, a static entry
    around the kernel `NAME` that takes its 0-d inputs by value (plus the
    workspace) and returns the results by value: the value itself for one
    result (NAN when the kernel's status is nonzero; the caller then asks the
    array path, which raises), else a struct `{r0, r1, ..., status}`. None
    when the signature is not all 0-d floats."""
    if not is_scalar_signature(inputs, outputs):
        return None
    entry = name + SCALAR_SUFFIX
    in_types = [SCALAR_INPUT_C_TYPES[np.dtype(d).name] for _, d in inputs]
    out_types = [SCALAR_C_TYPES[np.dtype(d).name] for _, d in outputs]
    params = ", ".join([f"{t} a{k}" for k, t in enumerate(in_types)] + ["void *work"])
    ins = [f"&a{k}" for k in range(len(in_types))]
    head = (
        "/* gradc.backend.runtime: the Python binding's by-value entry around "
        f"{name} (not part of the exported C). */\n#include <math.h>\n#include <stdint.h>\n"
    )
    if len(out_types) == 1:
        (t,) = out_types
        call = ", ".join([*ins, "&r0", "work"])
        source = (
            f"{head}static {t} {entry}({params}) {{\n"
            f"    {t} r0;\n"
            f"    return {name}({call}) == 0 ? r0 : ({t})NAN;\n"
            "}\n"
        )
        return source, f"{t} {entry}({params});\n"
    struct = name + "__gradc_results"
    fields = " ".join(f"{t} r{k};" for k, t in enumerate(out_types))
    typedef = f"typedef struct {{ {fields} int status; }} {struct};\n"
    call = ", ".join([*ins, *(f"&r.r{k}" for k in range(len(out_types))), "work"])
    source = (
        f"{head}{typedef}static {struct} {entry}({params}) {{\n"
        f"    {struct} r;\n"
        f"    r.status = {name}({call});\n"
        "    return r;\n"
        "}\n"
    )
    return source, f"{typedef}{struct} {entry}({params});\n"


def load(
    source: str,
    header: str,
    name: str,
    specs: tuple[Sequence[ArraySpec], Sequence[ArraySpec]],
    cflags: Sequence[str] | None = None,
    extra_cflags: Sequence[str] = (),
    statuses: dict[int, str] | None = None,
) -> CompiledFunction:
    """Build printed C (through the content-hash cache) with the scalar entry
    when `name`'s signature has one, and wrap `name` (`statuses`: see
    CompiledFunction)."""
    from gradc.backend.build import build

    inputs, outputs = specs
    module = build(
        source, header, [name], None if cflags is None else tuple(cflags),
        binding=scalar_binding(name, inputs, outputs), extra_flags=tuple(extra_cflags),
    )
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
        self.scalar_entry = (
            getattr(lib, name + SCALAR_SUFFIX, None) if is_scalar_signature(inputs, outputs) else None
        )
        """The by-value C entry (`scalar_binding`), when the module has one."""
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
    ) -> Callable[..., Any]:
        """A generated function of exactly the inputs, in order, returning
        `result([expression of output 0, ...])` (default: a list), an
        expression that may use `names` (capitalized names are free).

        It first checks each input's type: in `numbers` (0-d float64 and
        int64 inputs only), a Python float or int; elsewhere an ndarray of the input's dtype
        (identical object) and shape, or, for a 0-d input, the NumPy scalar
        type of its dtype. Any other input sends the call to
        `mismatch(*inputs)`; an array that is not C-contiguous to
        `fallback(*inputs)`. Both default to the slow checks, which convert
        0-d values and raise the argument errors.

        With `scalar` and a scalar entry, the inputs go to C by value and
        each output comes back as a NumPy scalar (`numpy.float64` /
        `numpy.float32`). Otherwise the array path: `from_buffer` for each
        input (a fresh C double for a Python float), fresh output arrays."""
        names = dict(names or {})
        slow = self._slow(result, names) if mismatch is None or fallback is None else None
        params = [f"a{k}" for k in range(self._n_inputs)]
        args = ", ".join(params)
        env: dict[str, Any] = {
            **names,
            "fn": self._fn,
            "entry": self.scalar_entry,
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
            "mismatch": mismatch or slow,
            "fallback": fallback or slow,
        }
        by_value = scalar and self.scalar_entry is not None
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
                test = f"type(a{k}) is ndarray and a{k}.dtype is d{k} and a{k}.shape == s{k}"
                if not shape:
                    test = f"(type(a{k}) is t{k} or {test})"
                pointers.append(f"from_buffer(c{k}, a{k})")
            tests.append(test)
        if tests:
            body += [f"if not ({' and '.join(tests)}):", f"    return mismatch({args})"]
        call = "with lock:\n        {}" if self._lock is not None else "{}"
        if self.fills_workspace:
            call = "with lock:\n        work_memory.fill(255)\n        {}"
        if by_value:
            body.append(call.format(f"r = entry({', '.join([*params, 'work'])})"))
            for k, (_, dtype, _, _) in enumerate(self.outputs):
                env[f"w{k}"] = dtype.type
            if len(self.outputs) == 1:
                # NAN stands for a nonzero status too: the array path decides.
                env["again"] = self._slow(lambda outs: result([f"{o}[()]" for o in outs]), names)
                body += ["if r != r:", f"    return again({args})", f"return {result(['w0(r)'])}"]
            else:
                body += ["if r.status:", "    fail(r.status)"]
                body.append(f"return {result([f'w{k}(r.r{k})' for k in range(len(self.outputs))])}")
            return generate_function(self.name, params, body, env)
        outs = []
        for k, (shape, dtype, ctype, _) in enumerate(self.outputs):
            env[f"os{k}"], env[f"od{k}"], env[f"oc{k}"] = shape, dtype, ctype
            body.append(f"o{k} = empty(os{k}, od{k})")
            pointers.append(f"from_buffer(oc{k}, o{k}, True)")
            outs.append(f"o{k}")
        if pointers:
            body.append("try:")
            body += [f"    p{j} = {p}" for j, p in enumerate(pointers)]
            body += ["except ValueError:  # not C-contiguous", f"    return fallback({args})"]
        body.append(call.format(f"status = fn({', '.join([*(f'p{j}' for j in range(len(pointers))), 'work'])})"))
        body += ["if status:", "    fail(status)", f"return {result(outs)}"]
        return generate_function(self.name, params, body, env)

    def _slow(self, result: ResultExpression, names: dict[str, Any] | None = None) -> Callable[..., Any]:
        """The checked path, slow but explicit, returning `result(...)`."""
        outs = [f"o[{k}]" for k in range(len(self.outputs))]
        finish = generate_function(f"{self.name}_result", ["o"], [f"return {result(outs)}"], names or {})
        call = self._call_checked
        return lambda *args: finish(call(args))

    def _call_checked(self, args: Sequence[Any]) -> list[np.ndarray]:
        from_buffer = self._from_buffer
        pointers = []
        for k, arg in enumerate(args):
            arg = self._check_input(k, arg)
            pointers.append(from_buffer(self.inputs[k][2], arg))
        results = []
        for shape, dtype, ctype, _ in self.outputs:
            out = np.empty(shape, dtype)
            results.append(out)
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
        if type(arg) is np.ndarray and arg.dtype is dtype and arg.shape == shape and arg.strides == strides:
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
        return arg
