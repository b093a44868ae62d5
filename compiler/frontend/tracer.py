"""The tracer core: `Trace`, one function being traced, and `TracedArray`,
an array value inside it; `current_trace()`.

Expects: traces are made and run (`Trace.running`) by
`gradc.frontend.tracing` and the transformations; traced arrays are made
only by a trace (`emit`, `emit_all`, `adopt`).

Guarantees: an op on traced arrays lands in the innermost of their traces,
and a value of an enclosing trace reaches it as a captured argument
(`Trace.adopt`); a traced array used after its trace finished, or met by
one of a trace that does not nest with its own, is a `TraceError`; asking
a traced array for a Python value (`bool`, `float`, `int`, `__array__`,
formatting) is a `TraceTypeError` that says what to write instead.

TracedArray's operators and NumPy methods call the op families, which
build on this module: `gradc.frontend.array_methods` installs them.
How traces nest and capture: docs/frontend.md.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, BlockArgument, Operation, SSAValue

from gradc.errors import TraceAttributeError, TraceError, TraceTypeError
from gradc.frontend.compositions import missing_message
from gradc.support.dense import numpy_dtype


class Trace:
    """One function being traced: the block its ops are appended to.

    It is active while the function runs; a traced array used after that
    (one that escaped into a global, say) is an error, not a dangling op.

    Traces nest: a transformation (`gradc.grad(f)` called while tracing)
    traces `f` in a child trace whose `parent` is the trace it was called
    in. Every trace of one nest shares `functions`, the module being built
    (an object of `gradc.frontend.tracing`; opaque here). A child may use the traced
    arrays of its enclosing traces: each such value is *captured*, i.e.
    becomes an extra argument of the child's function (`captures` lists the
    values to pass for them, in the parent, in argument order), so a value
    closed over by `f` reaches it as an explicit, non-differentiated input.

    While a trace runs it is on a per-thread stack (`running`); the top is
    `current_trace()`, where a transformation called inside it emits."""

    __slots__ = ("block", "active", "parent", "depth", "functions", "captures", "_captured", "loop")

    def __init__(self, block: Block, parent: Trace | None = None, functions: Any = None):
        self.block = block
        self.loop: str | None = None
        """The loop whose body this traces (`fori_loop`): its block's first
        argument is the loop's index."""
        self.active = True
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.functions = parent.functions if parent is not None else functions
        self.captures: list[TracedArray] = []
        self._captured: dict[SSAValue, SSAValue] = {}

    def emit(self, op: Operation, weak: bool = False) -> TracedArray:
        if not self.active:
            raise _finished_error()
        self.block.add_op(op)
        return TracedArray(op.results[0], self, weak)

    def emit_all(
        self, op: Operation, weak: Sequence[bool], dtypes: Sequence[np.dtype | None] | None = None
    ) -> list[TracedArray]:
        """Append `op` and return all its results (`weak[k]` for result k;
        `dtypes[k]`, when given, UINT32 for a key carried through `op`)."""
        if not self.active:
            raise _finished_error()
        self.block.add_op(op)
        dtypes = dtypes if dtypes is not None else [None] * len(op.results)
        return [TracedArray(r, self, w, d) for r, w, d in zip(op.results, weak, dtypes, strict=True)]

    def encloses(self, other: Trace) -> bool:
        """Whether `other` is this trace or nested (at any depth) inside it."""
        while other is not None and other.depth >= self.depth:
            if other is self:
                return True
            other = other.parent
        return False

    def adopt(self, x: TracedArray) -> TracedArray:
        """`x` as a value of this trace: itself, or, when it belongs to an
        enclosing trace, the argument that captures it (added on first use,
        through every trace in between)."""
        if x.trace is self:
            return x
        if not x.trace.active:
            raise _finished_error()
        inner = self._captured.get(x.value)
        if inner is None:
            if self.parent is None or not x.trace.encloses(self):
                raise TraceError(
                    "mixes traced arrays from two different traces "
                    "(a traced array escaped from another traced function)"
                )
            outer = self.parent.adopt(x)
            if not self.active:
                raise _finished_error()
            inner = self.block.insert_arg(x.value.type, len(self.block.args))
            self._captured[x.value] = inner
            self.captures.append(outer)
        return TracedArray(inner, self, x.weak, x.dtype)

    @contextlib.contextmanager
    def running(self) -> Iterator[Trace]:
        """Make this the current trace for the `with` body; finish it after."""
        stack = _running_traces()
        stack.append(self)
        try:
            yield self
        finally:
            self.active = False
            stack.pop()


def _finished_error() -> TraceError:
    return TraceError(
        "a traced array was used after its function finished tracing "
        "(did it escape into a global, a closure or a later call?)"
    )


_THREAD = threading.local()


def _running_traces() -> list[Trace]:
    try:
        return _THREAD.traces
    except AttributeError:
        _THREAD.traces = []
        return _THREAD.traces


def current_trace() -> Trace | None:
    """The innermost trace running in this thread, or None outside tracing."""
    stack = getattr(_THREAD, "traces", None)
    return stack[-1] if stack else None


_PYTHON_ROUNDING = (
    "{what} of a traced array: it gives a Python int, and a traced array has no value while "
    "its function is traced; gnp.{name}(x) rounds elementwise to a float array"
)


UINT32 = np.dtype(np.uint32)
"""The dtype of PRNG keys (`gradc.random`) and other uint32 arguments: an
i32 value in the IR whose TracedArray says uint32, so that it crosses the
function boundary as uint32 bits (docs/random.md). Only gradc.random's
functions take such values; every other operation refuses them."""


class TracedArray:
    """An array inside a function being traced: an SSA value of tensor type.

    `weak` marks a Python float (float64) or int (int64) argument: like a
    Python number in NumPy, it takes the dtype of the array it meets (and stays weak through Python
    operators), while gnp functions of it give float64 as NumPy's do.

    Its operators, `numpy.ndarray` methods and NumPy dispatch
    (`__array_ufunc__`, `__array_function__`) are installed by
    `gradc.frontend.array_methods`."""

    __slots__ = ("value", "trace", "shape", "dtype", "weak")
    __hash__ = None  # type: ignore[assignment]  # == builds a comparison

    def __init__(self, value: SSAValue, trace: Trace, weak: bool = False, dtype: np.dtype | None = None):
        typ = value.type
        assert isinstance(typ, TensorType)
        self.value = value
        self.trace = trace
        self.shape: tuple[int, ...] = tuple(typ.get_shape())
        self.dtype: np.dtype = numpy_dtype(typ.get_element_type())
        if dtype == UINT32 and self.dtype == np.int32:
            self.dtype = UINT32
        self.weak = weak

    def __repr__(self) -> str:
        return f"TracedArray(shape={self.shape}, dtype={self.dtype.name})"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TraceTypeError("len() of a 0-d traced array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TraceTypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    # -- what has no value while tracing ---------------------------------------

    def _no_value(self, what: str) -> TraceTypeError:
        return TraceTypeError(
            f"{what} needs the value of a traced array {self.shape} {self.dtype.name}, "
            "which is not known while tracing; Python control flow on traced "
            "values cannot be compiled (use gnp.where to choose between values)"
        )

    def _not_convertible(self, what: str, instead: str) -> TraceTypeError:
        return TraceTypeError(
            f"{what} of a traced array {self.shape} {self.dtype.name}: a traced array has "
            "no value while its function is traced (the compiled code computes it), so it "
            f"cannot become a Python or NumPy value; {instead}{_dynamic_index_hint(self)}"
        )

    def __bool__(self) -> bool:
        raise self._no_value("a truth test (bool(), if, while, and, or, not)")

    def __float__(self) -> float:
        raise self._not_convertible("float()", _KEEP_AN_ARRAY)

    def __int__(self) -> int:
        raise self._not_convertible("int()", _KEEP_AN_ARRAY)

    def __complex__(self) -> complex:
        raise self._not_convertible("complex()", _KEEP_AN_ARRAY)

    def __index__(self) -> int:
        raise self._not_convertible(
            "using it as an index or a size (range(i), seq[i], a NumPy array indexed with it)",
            "indices, sizes and loop bounds are Python ints, fixed when the function is traced",
        )

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise self._not_convertible(
            "conversion to a NumPy array or scalar (numpy.asarray, np.float64(x), np.int64(x), a "
            "NumPy function given a list that holds it, a NumPy array indexed with it)",
            "build arrays with gnp.stack or gnp.asarray (they take lists of traced arrays), "
            "change dtypes with x.astype(np.float32), call the gnp function (gnp.mean([a, b]))",
        )

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        raise self._not_convertible(f"formatting with {spec!r}", "format the function's result after the call")

    def item(self) -> float:
        raise self._not_convertible(".item()", _KEEP_AN_ARRAY)

    def tolist(self) -> list:
        raise self._not_convertible(".tolist()", _KEEP_AN_ARRAY)

    # -- Python's rounding, and ndarray methods gnp lacks ---------------------

    def __round__(self, ndigits: Any = None) -> Any:
        raise TraceTypeError(_PYTHON_ROUNDING.format(what="round()", name="round"))

    def __floor__(self) -> Any:
        raise TraceTypeError(_PYTHON_ROUNDING.format(what="math.floor", name="floor"))

    def __ceil__(self) -> Any:
        raise TraceTypeError(_PYTHON_ROUNDING.format(what="math.ceil", name="ceil"))

    def __trunc__(self) -> Any:
        raise TraceTypeError(_PYTHON_ROUNDING.format(what="math.trunc", name="trunc"))

    def __getattr__(self, name: str) -> Any:
        # Only names that are not there: NumPy's methods say what to
        # write instead; an AttributeError still, so hasattr() works.
        if name.startswith("_"):
            raise AttributeError(f"'TracedArray' object has no attribute {name!r}")
        known = getattr(np.ndarray, name, None)
        if callable(known):
            raise TraceAttributeError(f"x.{name}(): traced arrays have no method {name}, and {missing_message(name)}")
        have = "x.shape, x.dtype, x.ndim, x.size and x.T"
        if known is not None:
            raise TraceAttributeError(f"x.{name}: traced arrays have no attribute {name} ({have} are there)")
        raise TraceAttributeError(
            f"x.{name}: traced arrays have no attribute {name!r}, nor do NumPy arrays ({have} are there)"
        )


_KEEP_AN_ARRAY = (
    "keep computing with it as an array (gnp functions and operators take traced and 0-d "
    "arrays), change its dtype with x.astype(np.float32), or return it and convert the result"
)


def _loop_of_index(x: TracedArray) -> str | None:
    """The loop (fori_loop) whose iteration index `x` is computed from, if
    any: its definition is followed back through the ops of its trace and
    through captures into enclosing traces."""
    seen: set[SSAValue] = set()
    todo: list[tuple[SSAValue, Trace]] = [(x.value, x.trace)]
    while todo:
        value, trace = todo.pop()
        if value in seen:
            continue
        seen.add(value)
        if isinstance(value, BlockArgument):
            if value.block is not trace.block:
                continue
            if trace.loop is not None and value.index == 0:
                return trace.loop
            k = value.index - (len(trace.block.args) - len(trace.captures))
            if k >= 0 and trace.parent is not None:
                todo.append((trace.captures[k].value, trace.parent))
        elif isinstance(value.owner, Operation):
            todo.extend((v, trace) for v in value.owner.operands)
    return None


def _dynamic_index_hint(x: TracedArray) -> str:
    """What to do instead of indexing with `x` (for a loop's index: scan)."""
    loop = _loop_of_index(x)
    if loop is None:
        return ""
    return (
        f". It is computed from the index of {loop}: index a traced array with it "
        "(gnp.asarray(xs)[i], gradc.lax.dynamic_slice), or scan over xs instead, "
        "gradc.scan(lambda carry, x: (new_carry, y), init, xs) hands step i the slice x = xs[i] "
        "(scan over a tuple to walk several arrays)"
    )


def _within_lists(items: Sequence[Any]) -> Iterator[Any]:
    """`items`, with the items of (nested) lists and tuples among them."""
    for v in items:
        if isinstance(v, list | tuple):
            yield from _within_lists(v)
        else:
            yield v


def _is_traced(*values: Any) -> bool:
    return builtins.any(isinstance(v, TracedArray) for v in values)


def _trace_of(name: str, values: Sequence[Any]) -> Trace | None:
    """The trace an operation on `values` is emitted in (None if none is
    traced): the innermost of their traces, into which the others' values
    are captured (`Trace.adopt`); traces that do not nest cannot meet.
    Lists and tuples among `values` count with the traced arrays they hold."""
    found: Trace | None = None
    for v in _within_lists(values):
        if isinstance(v, TracedArray):
            trace = v.trace
            if found is None or found.encloses(trace):
                found = trace
            elif not trace.encloses(found):
                raise TraceError(
                    f"{name}: mixes traced arrays from two different traces "
                    "(a traced array escaped from another traced function)"
                )
    return found


__all__ = [
    "Trace", "TracedArray", "current_trace",
]
