"""`import gradc.numpy as gnp`: NumPy's functions, traced into the `array` dialect.

While gradc traces a function (`gradc.jit`, `gradc.lower`, ...), its array
arguments are `TracedArray`s. Each operation on them appends `array` ops to
the function being built and returns a new `TracedArray`; nothing is
computed. On anything else the same functions call NumPy, so one function
runs under NumPy and under gradc alike (which is how the tests check gradc).

The rules are NumPy 2's, made explicit in the IR:

- dtypes: NumPy's own type resolution (`ufunc.resolve_dtypes`) decides, so
  Python scalars are weak (f32 array * 2.0 stays f32), f32 with f64 gives f64
  (an `array.convert`), bool mixed with floats becomes that float. Where
  NumPy would compute in a dtype gradc lacks (integers, float16), tracing
  stops with an error that says so, rather than giving other numbers.
- broadcasting: shapes align on the right, size-1 dimensions repeat; each
  operand that needs it gets an `array.broadcast`.
- NumPy arrays and Python numbers met during tracing become
  `array.constant`s (a splat when all elements are equal); lists and
  tuples holding traced arrays are stacked, as NumPy makes an array of them.

Composite functions (mean, min, softmax, logsumexp, sigmoid, relu, square,
...) are written here with the primitives only, as in tinygrad, so the
dialect stays small and each composite lowers and differentiates for free.

A user mistake (shapes that do not broadcast, an axis out of range, a bad
reshape, an integer array, an index gradc cannot trace) raises a
`gradc.errors.GradcError` naming the operation, the shapes and the file:line
of the user's call. A NumPy function gradc.numpy lacks (called on a traced
array, as `gnp.<name>` or as a method) raises one that says what to write
instead (`gradc.frontend.compositions`).
"""

from __future__ import annotations

import builtins
import contextlib
import math
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, BlockArgument, Operation, SSAValue

from gradc.dialects import array
from gradc.errors import TraceAttributeError, TraceError, TraceIndexError, TraceTypeError
from gradc.frontend.compositions import COMPOSITIONS, NO_COMPOSITION, close_names, missing_message
from gradc.support.dense import element_type, numpy_dtype, numpy_to_dense, splat_dense

float32 = np.float32
float64 = np.float64
bool_ = np.bool_
newaxis = None
pi = np.pi
e = np.e
inf = np.inf
nan = np.nan

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
_FLOATS = (_F32, _F64)
_ARRAY_DTYPES = (_F32, _F64, _BOOL)


# ---------------------------------------------------------------------------
# Traces and traced arrays
# ---------------------------------------------------------------------------


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

    def emit_all(self, op: Operation, weak: Sequence[bool]) -> list[TracedArray]:
        """Append `op` and return all its results (`weak[k]` for result k)."""
        if not self.active:
            raise _finished_error()
        self.block.add_op(op)
        return [TracedArray(r, self, w) for r, w in zip(op.results, weak, strict=True)]

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
        return TracedArray(inner, self, x.weak)

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


class TracedArray:
    """An array inside a function being traced: an SSA value of tensor type.

    `weak` marks a Python float argument: like a Python float in NumPy, it
    takes the dtype of the array it meets (and stays weak through Python
    operators), while gnp functions of it give float64 as NumPy's do."""

    __slots__ = ("value", "trace", "shape", "dtype", "weak")
    __hash__ = None  # type: ignore[assignment]  # == builds a comparison

    def __init__(self, value: SSAValue, trace: Trace, weak: bool = False):
        typ = value.type
        assert isinstance(typ, TensorType)
        self.value = value
        self.trace = trace
        self.shape: tuple[int, ...] = tuple(typ.get_shape())
        self.dtype: np.dtype = numpy_dtype(typ.get_element_type())
        self.weak = weak

    def __repr__(self) -> str:
        return f"TracedArray(shape={self.shape}, dtype={self.dtype.name})"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def T(self) -> TracedArray:
        return transpose(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TraceTypeError("len() of a 0-d traced array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TraceTypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    # -- methods as on numpy.ndarray -----------------------------------------

    def reshape(self, *shape: Any, order: str = "C") -> TracedArray:
        if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
            shape = shape[0]
        return reshape(self, shape, order=order)

    def transpose(self, *axes: Any) -> TracedArray:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], Sequence)):
            axes = axes[0]
        return transpose(self, axes or None)

    def astype(self, dtype: Any) -> TracedArray:
        return astype(self, dtype)

    def ravel(self) -> TracedArray:
        return ravel(self)

    flatten = ravel

    def squeeze(self, axis: Any = None) -> TracedArray:
        return squeeze(self, axis)

    def sum(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return min(self, axis=axis, keepdims=keepdims)

    def dot(self, other: Any) -> TracedArray:
        return dot(self, other)

    # -- operators ------------------------------------------------------------

    def __add__(self, other: Any) -> TracedArray:
        return _binary("operator +", np.add, array.AddOp, self, other, True)

    def __radd__(self, other: Any) -> TracedArray:
        return _binary("operator +", np.add, array.AddOp, other, self, True)

    def __sub__(self, other: Any) -> TracedArray:
        return _binary("operator -", np.subtract, array.SubOp, self, other, True)

    def __rsub__(self, other: Any) -> TracedArray:
        return _binary("operator -", np.subtract, array.SubOp, other, self, True)

    def __mul__(self, other: Any) -> TracedArray:
        return _binary("operator *", np.multiply, array.MulOp, self, other, True)

    def __rmul__(self, other: Any) -> TracedArray:
        return _binary("operator *", np.multiply, array.MulOp, other, self, True)

    def __truediv__(self, other: Any) -> TracedArray:
        return _binary("operator /", np.true_divide, array.DivOp, self, other, True)

    def __rtruediv__(self, other: Any) -> TracedArray:
        return _binary("operator /", np.true_divide, array.DivOp, other, self, True)

    def __pow__(self, other: Any) -> TracedArray:
        return _binary("operator **", np.power, array.PowOp, self, other, True)

    def __rpow__(self, other: Any) -> TracedArray:
        return _binary("operator **", np.power, array.PowOp, other, self, True)

    def __matmul__(self, other: Any) -> TracedArray:
        return _matmul("operator @", self, other)

    def __rmatmul__(self, other: Any) -> TracedArray:
        return _matmul("operator @", other, self)

    def __neg__(self) -> TracedArray:
        return _unary("operator -", np.negative, array.NegOp, self, True)

    def __pos__(self) -> TracedArray:
        return self

    def __abs__(self) -> TracedArray:
        return _unary("abs", np.absolute, array.AbsOp, self, True)

    def __lt__(self, other: Any) -> TracedArray:
        return _compare("operator <", np.less, "lt", self, other)

    def __le__(self, other: Any) -> TracedArray:
        return _compare("operator <=", np.less_equal, "le", self, other)

    def __gt__(self, other: Any) -> TracedArray:
        return _compare("operator >", np.greater, "gt", self, other)

    def __ge__(self, other: Any) -> TracedArray:
        return _compare("operator >=", np.greater_equal, "ge", self, other)

    def __eq__(self, other: Any) -> TracedArray:  # type: ignore[override]
        return _compare("operator ==", np.equal, "eq", self, other)

    def __ne__(self, other: Any) -> TracedArray:  # type: ignore[override]
        return _compare("operator !=", np.not_equal, "ne", self, other)

    def __and__(self, other: Any) -> TracedArray:
        return logical_and(self, other)

    def __rand__(self, other: Any) -> TracedArray:
        return logical_and(other, self)

    def __or__(self, other: Any) -> TracedArray:
        return logical_or(self, other)

    def __ror__(self, other: Any) -> TracedArray:
        return logical_or(other, self)

    def __invert__(self) -> TracedArray:
        return logical_not(self)

    def __floordiv__(self, other: Any) -> TracedArray:
        raise TraceTypeError("floor division (//) is not supported on traced arrays")

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: Any) -> TracedArray:
        raise TraceTypeError("the modulo operator (%) is not supported on traced arrays")

    __rmod__ = __mod__

    def __getitem__(self, key: Any) -> TracedArray:
        return _getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TraceTypeError(
            "traced arrays are immutable: instead of x[i] = v, build the new "
            "array with gnp.where or gnp.concatenate"
        )

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

    # -- NumPy functions called on traced arrays dispatch to gnp ---------------

    def __round__(self, ndigits: Any = None) -> Any:
        raise TraceTypeError(f"round() of a traced array: {missing_message('round')}")

    def __floor__(self) -> Any:
        raise TraceTypeError(f"math.floor of a traced array: {missing_message('floor')}")

    def __ceil__(self) -> Any:
        raise TraceTypeError(f"math.ceil of a traced array: {missing_message('ceil')}")

    def __trunc__(self) -> Any:
        raise TraceTypeError(f"math.trunc of a traced array: {missing_message('trunc')}")

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

    # -- NumPy functions called on traced arrays dispatch to gnp ---------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = _NUMPY_UFUNCS.get(ufunc)
        name = f"numpy.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc else ufunc.__name__
        if method != "__call__":
            composite = _UFUNC_METHODS.get((ufunc, method))
            instead = (
                f"call gnp.{composite}(x, axis=0)" if composite in __all__
                else missing_message(composite) if composite is not None
                else "gradc.numpy has no ufunc methods"
            )
            raise TraceTypeError(f"{name}.{method} is not supported on traced arrays; {instead}")
        if fn is not None and kwargs:
            raise TraceTypeError(
                f"{name} with {', '.join(kwargs)}= is not supported on traced arrays: call it without "
                "(gnp functions take no out=, where= or dtype=; traced arrays are values, never "
                "written in place, and .astype converts)"
            )
        if fn is None:
            raise TraceTypeError(f"{name} is not supported on traced arrays: {missing_message(ufunc.__name__)}")
        return fn(*inputs)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        fn = _NUMPY_FUNCTIONS.get(func)
        if fn is None:
            name = func.__name__
            instead = f"call gnp.{name}" if name in __all__ else missing_message(name)
            raise TraceTypeError(f"{func.__module__}.{name} is not supported on traced arrays: {instead}")
        return fn(*args, **kwargs)


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
        f". It is computed from the index of {loop}, and gradc has no dynamic indexing yet: "
        "to use xs[i] in step i, scan over xs instead, gradc.scan(lambda carry, x: (new_carry, y), "
        "init, xs) hands step i the slice x = xs[i] (scan over a tuple to walk several arrays)"
    )


def _array_like(x: Any) -> Any:
    """`x`, or, for a (nested) list or tuple holding traced arrays, the
    array NumPy would make of it (stacked, as `stack` does)."""
    if isinstance(x, list | tuple) and _holds_traced(x):
        return stack([_array_like(v) for v in x])
    return x


def _holds_traced(items: Sequence[Any]) -> bool:
    return builtins.any(isinstance(v, TracedArray) for v in _within_lists(items))


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


# ---------------------------------------------------------------------------
# Operands: traced arrays, NumPy arrays, Python numbers
# ---------------------------------------------------------------------------

Operand = Any  # TracedArray | np.ndarray | bool | int | float


def _operand(name: str, x: Any) -> Operand:
    """`x` as NumPy would see it: traced arrays and Python numbers as they
    are (numbers are weakly typed), lists holding traced arrays stacked,
    everything else as an ndarray (NumPy scalars too: np.float64 is a
    subclass of float, but strongly typed)."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        return x
    if isinstance(x, np.ndarray | np.generic | list | tuple):
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TraceTypeError(f"{name}: cannot use an array of dtype {arr.dtype} as an operand")
        return arr
    if isinstance(x, bool | int | float):
        return x
    raise TraceTypeError(
        f"{name}: expected an array or a number, got {type(x).__name__} {x!r:.60}"
    )


def _shape_of(x: Operand) -> tuple[int, ...]:
    return x.shape if isinstance(x, TracedArray | np.ndarray) else ()


def _is_weak(x: Operand) -> bool:
    if isinstance(x, TracedArray):
        return x.weak
    return isinstance(x, int | float) and not isinstance(x, bool)


def _ufunc_key(x: Operand) -> Any:
    """What `ufunc.resolve_dtypes` takes for `x`: a dtype, or the Python type
    `int`/`float` for a weakly typed scalar."""
    if isinstance(x, TracedArray):
        return float if x.weak else x.dtype
    if isinstance(x, bool):
        return _BOOL
    if isinstance(x, int):
        return int
    if isinstance(x, float):
        return float
    return x.dtype


def _promotion_key(x: Operand) -> Any:
    """What `numpy.result_type` takes for `x` (Python numbers are weak there)."""
    if isinstance(x, TracedArray):
        return 0.0 if x.weak else x.dtype
    if isinstance(x, bool | int | float):
        return x
    return x.dtype


def _describe(x: Operand) -> str:
    if isinstance(x, TracedArray):
        return "a Python float" if x.weak else f"{x.dtype.name}{list(x.shape)}"
    if isinstance(x, bool | int | float):
        return f"a Python {type(x).__name__}"
    return f"a NumPy {x.dtype.name}{list(x.shape)} array"


def _resolve(name: str, ufunc: np.ufunc, operands: Sequence[Operand]) -> tuple[np.dtype, ...]:
    """NumPy's dtypes for `ufunc` on `operands`: inputs..., output."""
    try:
        return ufunc.resolve_dtypes((*map(_ufunc_key, operands), None))
    except TypeError as err:
        raise TraceTypeError(
            f"{name}: NumPy does not compute {ufunc.__name__} of "
            f"{' and '.join(map(_describe, operands))} ({err})"
        ) from None


def _require_float(name: str, dtype: np.dtype, operands: Sequence[Operand]) -> None:
    if dtype not in _FLOATS:
        raise TraceTypeError(
            f"{name}: NumPy computes this in {dtype.name} for "
            f"{' and '.join(map(_describe, operands))}; gradc computes in float32 "
            "or float64 only, so convert first, e.g. x.astype(np.float32)"
        )


def _dtype_arg(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TraceTypeError(f"{name}: {dtype!r} is not a dtype") from None
    if dt not in _ARRAY_DTYPES:
        raise TraceTypeError(
            f"{name}: dtype {dt.name} is not supported; gradc arrays are "
            "float32, float64 or bool"
        )
    return dt


def broadcast_shapes(*shapes: Sequence[int], name: str = "broadcast_shapes") -> tuple[int, ...]:
    """NumPy's broadcast of `shapes` (right-aligned, size 1 repeats)."""
    ndim = builtins.max((len(s) for s in shapes), default=0)
    result = []
    for dims in zip(*((1,) * (ndim - len(s)) + tuple(s) for s in shapes)):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise TraceError(
                f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot "
                "be broadcast together (aligned on the right, each dimension must "
                "be equal or 1)"
            )
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


# ---------------------------------------------------------------------------
# Emitting ops
# ---------------------------------------------------------------------------


def _convert(x: TracedArray, dtype: np.dtype) -> TracedArray:
    if x.dtype == dtype:
        return x
    return x.trace.emit(array.ConvertOp(x.value, element_type(dtype)))


def _broadcast(x: TracedArray, shape: tuple[int, ...]) -> TracedArray:
    """`x` broadcast to `shape` (already checked to be compatible)."""
    if x.shape == shape:
        return x
    offset = len(shape) - x.ndim
    return x.trace.emit(array.BroadcastOp(x.value, range(offset, len(shape)), shape))


def _reshape(x: TracedArray, shape: tuple[int, ...]) -> TracedArray:
    if x.shape == shape:
        return x
    return x.trace.emit(array.ReshapeOp(x.value, shape))


def _strong(x: TracedArray) -> TracedArray:
    """`x`, no longer weakly typed (what a NumPy function returns)."""
    return TracedArray(x.value, x.trace) if x.weak else x


def _constant(trace: Trace, value: Any, dtype: np.dtype, shape: tuple[int, ...]) -> TracedArray:
    """A constant operand as an `array.constant` of `dtype`, broadcast to
    `shape`; a splat straight at `shape` when all its elements are equal."""
    arr = np.asarray(value, dtype=dtype)
    flat = arr.reshape(-1)
    if flat.size == 1 or (flat.size > 1 and bool((flat == flat[0]).all())):
        return trace.emit(array.ConstantOp(splat_dense(flat[0], dtype, shape)))
    return _broadcast(trace.emit(array.ConstantOp(numpy_to_dense(arr))), shape)


def _coerce(trace: Trace, x: Operand, dtype: np.dtype, shape: tuple[int, ...]) -> TracedArray:
    """Operand `x` as a traced array of `trace` with `dtype` and `shape`."""
    if isinstance(x, TracedArray):
        return _broadcast(_convert(trace.adopt(x), dtype), shape)
    return _constant(trace, x, dtype, shape)


def _lift(trace: Trace, x: Operand, dtype: np.dtype) -> TracedArray:
    """Operand `x` as a traced array of its own shape, in `dtype`."""
    return _coerce(trace, x, dtype, _shape_of(x))


# ---------------------------------------------------------------------------
# Elementwise
# ---------------------------------------------------------------------------


def _unary(name: str, ufunc: np.ufunc, op: type[array.UnaryOp], x: Any, operator_form: bool = False) -> Any:
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return ufunc(x)
    in_dtype, out_dtype = _resolve(name, ufunc, (x,))
    _require_float(name, out_dtype, (x,))
    return x.trace.emit(op(_convert(x, in_dtype).value), operator_form and x.weak)


def _binary(
    name: str, ufunc: np.ufunc, op: type[array.BinaryOp], x: Any, y: Any, operator_form: bool = False
) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    a, b = _float_operands(name, ufunc, trace, x, y)
    weak = operator_form and _is_weak(x) and _is_weak(y)
    return trace.emit(op(a.value, b.value), weak)


def _float_operands(name: str, ufunc: np.ufunc, trace: Trace, x: Operand, y: Operand) -> tuple[TracedArray, TracedArray]:
    """Operands `x`, `y` of a float `ufunc` as traced arrays of `trace`, in
    the dtypes NumPy resolves and broadcast to their common shape."""
    x_dtype, y_dtype, out_dtype = _resolve(name, ufunc, (x, y))
    _require_float(name, out_dtype, (x, y))
    shape = broadcast_shapes(_shape_of(x), _shape_of(y), name=name)
    return _coerce(trace, x, x_dtype, shape), _coerce(trace, y, y_dtype, shape)


def _compare(name: str, ufunc: np.ufunc, predicate: str, x: Any, y: Any) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    x_dtype, _, _ = _resolve(name, ufunc, (x, y))
    # array.compare takes floats; bools and integers compare exactly as f64.
    dtype = x_dtype if x_dtype in _FLOATS else _F64
    shape = broadcast_shapes(_shape_of(x), _shape_of(y), name=name)
    a, b = _coerce(trace, x, dtype, shape), _coerce(trace, y, dtype, shape)
    return trace.emit(array.CompareOp(predicate, a.value, b.value))


def negative(x: Any) -> Any:
    return _unary("negative", np.negative, array.NegOp, x)


def exp(x: Any) -> Any:
    return _unary("exp", np.exp, array.ExpOp, x)


def log(x: Any) -> Any:
    return _unary("log", np.log, array.LogOp, x)


def tanh(x: Any) -> Any:
    return _unary("tanh", np.tanh, array.TanhOp, x)


def sin(x: Any) -> Any:
    return _unary("sin", np.sin, array.SinOp, x)


def cos(x: Any) -> Any:
    return _unary("cos", np.cos, array.CosOp, x)


def sqrt(x: Any) -> Any:
    return _unary("sqrt", np.sqrt, array.SqrtOp, x)


def abs(x: Any) -> Any:  # noqa: A001 - NumPy's name
    return _unary("abs", np.absolute, array.AbsOp, x)


absolute = abs


def add(x: Any, y: Any) -> Any:
    return _binary("add", np.add, array.AddOp, x, y)


def subtract(x: Any, y: Any) -> Any:
    return _binary("subtract", np.subtract, array.SubOp, x, y)


def multiply(x: Any, y: Any) -> Any:
    return _binary("multiply", np.multiply, array.MulOp, x, y)


def divide(x: Any, y: Any) -> Any:
    return _binary("divide", np.true_divide, array.DivOp, x, y)


true_divide = divide


def power(x: Any, y: Any) -> Any:
    return _binary("power", np.power, array.PowOp, x, y)


def maximum(x: Any, y: Any) -> Any:
    """Elementwise maximum; NaN propagates, as in NumPy. Where a traced
    operand ties a constant one, the constant wins: the derivative is 0
    there (so `maximum(x, 0)` is a relu); see `_extremum`."""
    return _extremum("maximum", np.maximum, array.MaxOp, "gt", x, y)


def minimum(x: Any, y: Any) -> Any:
    """Elementwise minimum; NaN propagates, as in NumPy. Where a traced
    operand ties a constant one, the constant wins (see `maximum`)."""
    return _extremum("minimum", np.minimum, array.MinOp, "lt", x, y)


def _extremum(name: str, ufunc: np.ufunc, op: type[array.BinaryOp], beats: str, x: Any, y: Any) -> Any:
    """maximum or minimum (`op`; `beats` is the comparison by which the
    traced operand wins). Two traced operands: `op`, whose derivative is
    split evenly at ties (JAX's rule). One traced operand `t` and a
    constant `c`: `where(t beats c, t, stop_gradient(op(x, y)))`, the value
    of `op` everywhere, with the derivative 1 where `t` strictly wins and
    0 elsewhere: at ties, at NaN, and if `c` is NaN (docs/derivative-conventions.md
    says why). array-simplify folds the select away once no derivative is
    left to take."""
    trace = _trace_of(name, (x, y))
    if trace is None:
        return ufunc(x, y)
    x, y = _operand(name, x), _operand(name, y)
    a, b = _float_operands(name, ufunc, trace, x, y)
    value = trace.emit(op(a.value, b.value))
    if isinstance(x, TracedArray) == isinstance(y, TracedArray):
        return value
    t, c = (a, b) if isinstance(x, TracedArray) else (b, a)
    wins = trace.emit(array.CompareOp(beats, t.value, c.value))
    frozen = trace.emit(array.StopGradientOp(value.value))
    return trace.emit(array.SelectOp(wins.value, t.value, frozen.value))


def less(x: Any, y: Any) -> Any:
    return _compare("less", np.less, "lt", x, y)


def less_equal(x: Any, y: Any) -> Any:
    return _compare("less_equal", np.less_equal, "le", x, y)


def greater(x: Any, y: Any) -> Any:
    return _compare("greater", np.greater, "gt", x, y)


def greater_equal(x: Any, y: Any) -> Any:
    return _compare("greater_equal", np.greater_equal, "ge", x, y)


def equal(x: Any, y: Any) -> Any:
    return _compare("equal", np.equal, "eq", x, y)


def not_equal(x: Any, y: Any) -> Any:
    return _compare("not_equal", np.not_equal, "ne", x, y)


def where(condition: Any, x: Any, y: Any) -> Any:
    """`x` where `condition` holds, else `y` (all three broadcast together;
    a float condition means `!= 0`, as in NumPy)."""
    trace = _trace_of("where", (condition, x, y))
    if trace is None:
        return np.where(condition, x, y)
    condition, x, y = (_operand("where", v) for v in (condition, x, y))
    dtype = np.result_type(_promotion_key(x), _promotion_key(y))
    if dtype not in _ARRAY_DTYPES:
        raise TraceTypeError(
            f"where: NumPy gives {dtype.name} for {_describe(x)} and {_describe(y)}; "
            "gradc arrays are float32, float64 or bool, so convert first"
        )
    shape = broadcast_shapes(*map(_shape_of, (condition, x, y)), name="where")
    if isinstance(condition, TracedArray) and condition.dtype != _BOOL:
        condition = condition.trace.emit(array.ConvertOp(condition.value, element_type(_BOOL)))
    elif not isinstance(condition, TracedArray):
        condition = np.asarray(condition) != 0
    cond = _coerce(trace, condition, _BOOL, shape)
    a, b = _coerce(trace, x, dtype, shape), _coerce(trace, y, dtype, shape)
    return trace.emit(array.SelectOp(cond.value, a.value, b.value))


def _require_bool(name: str, *values: Any) -> None:
    for v in values:
        dtype = v.dtype if isinstance(v, TracedArray) else np.asarray(v).dtype
        if dtype != _BOOL:
            raise TraceTypeError(
                f"{name}: takes bool arrays (from comparisons), got {_describe(_operand(name, v))}"
            )


def logical_and(x: Any, y: Any) -> Any:
    x, y = _array_like(x), _array_like(y)
    if not _is_traced(x, y):
        return np.logical_and(x, y)
    _require_bool("logical_and (&)", x, y)
    return where(x, y, False)


def logical_or(x: Any, y: Any) -> Any:
    x, y = _array_like(x), _array_like(y)
    if not _is_traced(x, y):
        return np.logical_or(x, y)
    _require_bool("logical_or (|)", x, y)
    return where(x, True, y)


def logical_not(x: Any) -> Any:
    x = _array_like(x)
    if not _is_traced(x):
        return np.logical_not(x)
    _require_bool("logical_not (~)", x)
    return where(x, False, True)


def astype(x: Any, dtype: Any) -> Any:
    """`x` converted to `dtype` (float32, float64 or bool: `x != 0`)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.asarray(x).astype(dtype)
    return _strong(_convert(x, _dtype_arg("astype", dtype)))


def asarray(x: Any, dtype: Any = None) -> Any:
    """`x` as an array (a list of traced arrays: stacked)."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return np.asarray(x, dtype=dtype)
    return x if dtype is None else astype(x, dtype)


# ---------------------------------------------------------------------------
# Composites: only primitives inside
# ---------------------------------------------------------------------------


def square(x: Any) -> Any:
    return multiply(x, x)


def relu(x: Any) -> Any:
    """max(x, 0), elementwise (NaN stays NaN); its derivative is 0 at 0,
    as JAX's: the constant 0 wins the tie (see `maximum`)."""
    return maximum(x, 0.0)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)): accurate in both tails (exp overflowing to inf
    gives exactly 0)."""
    return 1.0 / (1.0 + exp(negative(x)))


def softmax(x: Any, axis: Any = -1) -> Any:
    """exp(x) / sum(exp(x)) along `axis`, computed as exp(x - max) so that
    large inputs do not overflow."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        _normalize_axes("softmax", axis, x.shape)
    e_x = exp(subtract(x, stop_gradient(max(x, axis=axis, keepdims=True))))
    return divide(e_x, sum(e_x, axis=axis, keepdims=True))


def stop_gradient(x: Any) -> Any:
    """`x` itself, but no derivative flows through it (JAX's
    `lax.stop_gradient`): d/dx stop_gradient(x) = 0 at every order."""
    x = _array_like(x)
    if not isinstance(x, TracedArray):
        return x
    return x.trace.emit(array.StopGradientOp(x.value), x.weak)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) along `axis`, as max + log(sum(exp(x - max))) so that
    large inputs do not overflow."""
    x = _array_like(x)
    if isinstance(x, TracedArray):
        _normalize_axes("logsumexp", axis, x.shape)
    # The shift cancels in the value and in every derivative, so none flows
    # through it (as in JAX): the derivative code skips reduce_max's ties.
    m = stop_gradient(max(x, axis=axis, keepdims=True))
    out = add(log(sum(exp(subtract(x, m)), axis=axis, keepdims=True)), m)
    return out if keepdims else squeeze(out, axis=axis)


# ---------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------


def _normalize_axis(name: str, axis: Any, shape: tuple[int, ...]) -> int:
    try:
        a = operator.index(axis)
    except TypeError:
        raise TraceTypeError(f"{name}: axis must be an integer, got {axis!r}") from None
    ndim = len(shape)
    if not -ndim <= a < ndim:
        raise TraceError(
            f"{name}: axis {a} is out of range for an array of shape {shape} "
            f"(ndim {ndim}, so axis must be in [{-ndim}, {ndim}))"
        )
    return a % ndim


def _normalize_axes(name: str, axis: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's `axis` (None, an int, a tuple; negative counts from the end)
    as sorted non-negative axes."""
    if axis is None:
        return tuple(range(len(shape)))
    items = axis if isinstance(axis, tuple | list) else (axis,)
    axes = [_normalize_axis(name, a, shape) for a in items]
    if len(set(axes)) != len(axes):
        raise TraceError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(axes))


def _keep(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def _reduce(name: str, op: type[array.ReduceOp], x: TracedArray, axes: tuple[int, ...], keepdims: bool) -> TracedArray:
    if x.dtype not in _FLOATS:
        raise _bool_reduction_error(name)
    if not axes:
        result = _strong(x)
    else:
        result = x.trace.emit(op(x.value, axes))
    return _reshape(result, _keep(x.shape, axes)) if keepdims else result


def _bool_reduction_error(name: str) -> TraceTypeError:
    """`sum` of a bool array counts (integers gradc lacks); `max` and `min`
    of one are NumPy's any and all, which gradc.numpy lacks too."""
    if name == "sum":
        return TraceTypeError(
            "sum: of a bool array NumPy gives integers, which gradc does not have; "
            "convert first, e.g. x.astype(np.float32)"
        )
    same = "any" if name == "max" else "all"
    return TraceTypeError(f"{name} of a bool array is NumPy's {same}, and {missing_message(same)}")


def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Sum over `axis` (None: all; int or tuple; negative from the end)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.sum(a, axis=axis, keepdims=keepdims)
    return _reduce("sum", array.ReduceSumOp, a, _normalize_axes("sum", axis, a.shape), keepdims)


def max(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Maximum over `axis`; NaN propagates, as in NumPy."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.max(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("max", axis, a.shape)
    if builtins.any(a.shape[d] == 0 for d in axes):
        raise TraceError(f"max: zero-size reduction over axes {axes} of shape {a.shape} has no identity")
    return _reduce("max", array.ReduceMaxOp, a, axes, keepdims)


def min(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Minimum over `axis`, as -max(-a)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.min(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("min", axis, a.shape)
    if a.dtype not in _FLOATS:
        raise _bool_reduction_error("min")
    if builtins.any(a.shape[d] == 0 for d in axes):
        raise TraceError(f"min: zero-size reduction over axes {axes} of shape {a.shape} has no identity")
    return negative(max(negative(a), axis=axes, keepdims=keepdims))


amax = max
amin = min


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """sum / count over `axis` (bool arrays average as float64, as in NumPy)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.mean(a, axis=axis, keepdims=keepdims)
    axes = _normalize_axes("mean", axis, a.shape)
    if a.dtype == _BOOL:
        a = _convert(a, _F64)
    count = math.prod(a.shape[d] for d in axes)
    return divide(sum(a, axis=axes, keepdims=keepdims), float(count))


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


def _shape_arg(name: str, shape: Any) -> tuple[int, ...]:
    items = shape if isinstance(shape, Sequence) else (shape,)
    try:
        return tuple(operator.index(n) for n in items)
    except TypeError:
        raise TraceTypeError(f"{name}: a shape is a tuple of integers, got {shape!r}") from None


def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """Row-major reshape; one dimension may be -1 (inferred)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.reshape(a, shape, order=order)
    if order != "C":
        raise TraceError(f"reshape: only order='C' (row-major) is supported, got {order!r}")
    new = list(_shape_arg("reshape", shape))
    unknown = [i for i, n in enumerate(new) if n == -1]
    if len(unknown) > 1 or builtins.any(n < -1 for n in new):
        raise TraceError(
            f"reshape: bad target shape {tuple(new)} (one -1 at most, other sizes >= 0)"
        )
    known = math.prod(n for n in new if n != -1)
    if unknown:
        if known == 0 or a.size % known:
            raise TraceError(
                f"reshape: cannot reshape array of shape {a.shape} (size {a.size}) "
                f"into shape {tuple(new)}"
            )
        new[unknown[0]] = a.size // known
    if math.prod(new) != a.size:
        raise TraceError(
            f"reshape: cannot reshape array of shape {a.shape} (size {a.size}) into "
            f"shape {tuple(new)} (size {math.prod(new)})"
        )
    return _strong(_reshape(a, tuple(new)))


def ravel(a: Any) -> Any:
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.ravel(a)
    return reshape(a, (-1,))


def squeeze(a: Any, axis: Any = None) -> Any:
    """Drop size-1 dimensions (all of them, or those in `axis`)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.squeeze(a, axis=axis)
    if axis is None:
        axes = tuple(d for d, n in enumerate(a.shape) if n == 1)
    else:
        axes = _normalize_axes("squeeze", axis, a.shape)
        bad = [d for d in axes if a.shape[d] != 1]
        if bad:
            raise TraceError(
                f"squeeze: axis {bad[0]} of shape {a.shape} has size {a.shape[bad[0]]}, not 1"
            )
    return _strong(_reshape(a, tuple(n for d, n in enumerate(a.shape) if d not in axes)))


def expand_dims(a: Any, axis: Any) -> Any:
    """Insert size-1 dimensions at `axis` (positions in the result)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.expand_dims(a, axis)
    count = len(axis) if isinstance(axis, tuple | list) else 1
    out_ndim = a.ndim + count
    axes = _normalize_axes("expand_dims", axis, (1,) * out_ndim)
    rest = iter(a.shape)
    return _strong(_reshape(a, tuple(1 if d in axes else next(rest) for d in range(out_ndim))))


def transpose(a: Any, axes: Any = None) -> Any:
    """Permute dimensions (default: reverse them)."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.transpose(a, axes)
    if axes is None:
        perm = tuple(reversed(range(a.ndim)))
    else:
        if len(axes) != a.ndim:
            raise TraceError(f"transpose: axes {tuple(axes)} don't match an array of shape {a.shape}")
        perm = tuple(_normalize_axis("transpose", d, a.shape) for d in axes)
        if sorted(perm) != list(range(a.ndim)):
            raise TraceError(f"transpose: axes {tuple(axes)} are not a permutation of the dimensions of shape {a.shape}")
    if perm == tuple(range(a.ndim)):
        return _strong(a)
    return a.trace.emit(array.TransposeOp(a.value, perm))


def broadcast_to(a: Any, shape: Any) -> Any:
    """`a` repeated to `shape` by NumPy's broadcasting rules."""
    a = _array_like(a)
    if not isinstance(a, TracedArray):
        return np.broadcast_to(a, shape)
    target = _shape_arg("broadcast_to", shape)
    if len(target) < a.ndim or builtins.any(
        n not in (1, m) for n, m in zip(a.shape, target[len(target) - a.ndim :])
    ):
        raise TraceError(f"broadcast_to: cannot broadcast shape {a.shape} to shape {target}")
    return _strong(_broadcast(a, target))


def _strong_operand(name: str, x: Any) -> Operand:
    x = _operand(name, x)
    if isinstance(x, TracedArray):
        return _strong(x)
    return np.asarray(x)


def _common_parts(name: str, trace: Trace, arrays: Sequence[Any]) -> list[TracedArray]:
    """`arrays` as traced arrays of their common dtype (NumPy converts Python
    numbers to arrays here, so they count as float64/int64, not weakly)."""
    operands = [_strong_operand(name, a) for a in arrays]
    dtype = np.result_type(*map(_promotion_key, operands))
    if dtype not in _ARRAY_DTYPES:
        raise TraceTypeError(
            f"{name}: NumPy gives {dtype.name}; gradc arrays are float32, float64 or bool"
        )
    return [_lift(trace, x, dtype) for x in operands]


def concatenate(arrays: Sequence[Any], axis: Any = 0) -> Any:
    """Join arrays along an existing axis (None: flatten them first)."""
    arrays = [_array_like(a) for a in arrays]
    trace = _trace_of("concatenate", arrays)
    if trace is None:
        return np.concatenate(arrays, axis=axis)
    parts = _common_parts("concatenate", trace, arrays)
    if axis is None:
        parts, axis = [_reshape(p, (p.size,)) for p in parts], 0
    shapes = [p.shape for p in parts]
    if builtins.any(len(s) == 0 for s in shapes):
        raise TraceError("concatenate: zero-dimensional arrays cannot be concatenated")
    ax = _normalize_axis("concatenate", axis, shapes[0])
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or builtins.any(
            m != n for d, (m, n) in enumerate(zip(s, shapes[0])) if d != ax
        ):
            raise TraceError(
                f"concatenate: shapes {', '.join(map(str, shapes))} differ outside axis {ax}"
            )
    if len(parts) == 1:
        return _strong(parts[0])
    return trace.emit(array.ConcatenateOp([p.value for p in parts], ax))


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join equally shaped arrays along a new axis."""
    arrays = [_array_like(a) for a in arrays]
    trace = _trace_of("stack", arrays)
    if trace is None:
        return np.stack(arrays, axis=axis)
    parts = _common_parts("stack", trace, arrays)
    shapes = {p.shape for p in parts}
    if len(shapes) != 1:
        raise TraceError(f"stack: all input arrays must have the same shape, got {sorted(shapes)}")
    (common,) = shapes
    ax = _normalize_axis("stack", axis, (1,) * (len(common) + 1))
    return concatenate([_reshape(p, common[:ax] + (1,) + common[ax:]) for p in parts], axis=ax)


def shape(a: Any) -> tuple[int, ...]:
    a = _array_like(a)
    return a.shape if isinstance(a, TracedArray) else np.shape(a)


def ndim(a: Any) -> int:
    a = _array_like(a)
    return a.ndim if isinstance(a, TracedArray) else np.ndim(a)


# ---------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------


def _getitem(x: TracedArray, key: Any) -> TracedArray:
    """Basic indexing: integers, slices with steps > 0, None and Ellipsis
    become one `array.slice` and one `array.reshape`."""
    items = key if isinstance(key, tuple) else (key,)
    if builtins.sum(k is Ellipsis for k in items) > 1:
        raise TraceIndexError("an index can only have a single ellipsis ('...')")
    n_real = builtins.sum(k is not None and k is not Ellipsis for k in items)
    if n_real > x.ndim:
        raise TraceIndexError(
            f"too many indices for an array of shape {x.shape}: {x.ndim} dimension(s), "
            f"{n_real} indexed"
        )
    if builtins.any(k is Ellipsis for k in items):
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items = items[:at] + (slice(None),) * (x.ndim - n_real) + items[at + 1 :]
    else:
        items = items + (slice(None),) * (x.ndim - n_real)
    start, limit, stride, out_shape = [], [], [], []
    d = 0
    for k in items:
        if k is None:
            out_shape.append(1)
            continue
        n = x.shape[d]
        if isinstance(k, slice):
            for part in (k.start, k.stop, k.step):
                if isinstance(part, TracedArray):
                    raise _traced_index_error(part, "a slice bound")
                if part is not None and not isinstance(part, int | np.integer):
                    raise TraceIndexError(f"slice bounds must be integers or None, got {k}")
            if k.step is not None and k.step <= 0:
                raise TraceIndexError(
                    f"slice {k}: only steps > 0 are supported on traced arrays"
                )
            s, e, st = k.indices(n)
            e = builtins.max(e, s)
            start.append(s), limit.append(e), stride.append(st)
            out_shape.append(array.slice_length(s, e, st))
        elif isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_):
            i = int(k)
            if not -n <= i < n:
                raise TraceIndexError(f"index {i} is out of bounds for axis {d} with size {n}")
            i %= n
            start.append(i), limit.append(i + 1), stride.append(1)
        elif isinstance(k, TracedArray):
            raise _traced_index_error(k, "an index")
        else:
            raise TraceIndexError(
                f"unsupported index {k!r:.60} (of type {type(k).__name__}) on an array of "
                f"shape {x.shape}: traced arrays take integers, slices with steps > 0, "
                "None and '...'; for masks use gnp.where"
            )
        d += 1
    result = x
    if (start, limit, stride) != ([0] * x.ndim, list(x.shape), [1] * x.ndim):
        result = x.trace.emit(array.SliceOp(x.value, start, limit, stride))
    return _strong(_reshape(result, tuple(out_shape)))


def _traced_index_error(k: TracedArray, what: str) -> TraceIndexError:
    if k.dtype == _BOOL:
        return TraceIndexError(
            f"a traced bool array {k.shape} as a mask: the result's shape would depend on its "
            "values, which gradc cannot compile; select with gnp.where(mask, x, 0.0) instead"
        )
    hint = _dynamic_index_hint(k) or (
        ". gradc has no dynamic indexing yet: index with Python ints and slices, select with "
        "gnp.where, or walk the array with gradc.scan"
    )
    return TraceIndexError(f"a traced array {k.shape} {k.dtype.name} as {what}: its value is not known while tracing{hint}")


# ---------------------------------------------------------------------------
# Matrix products
# ---------------------------------------------------------------------------


def _matmul(name: str, x: Any, y: Any) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return np.matmul(x, y)
    x, y = _operand(name, x), _operand(name, y)
    x_dtype, y_dtype, out_dtype = _resolve(name, np.matmul, (x, y))
    _require_float(name, out_dtype, (x, y))
    a, b = _lift(trace, x, x_dtype), _lift(trace, y, y_dtype)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise TraceError(
            f"{name}: operands must have at least one dimension, got shapes {sa} and {sb} "
            "(use * to multiply by a scalar)"
        )
    a2 = a if a.ndim >= 2 else _reshape(a, (1, sa[0]))
    b2 = b if b.ndim >= 2 else _reshape(b, (sb[0], 1))
    if a2.shape[-1] != b2.shape[-2]:
        raise TraceError(
            f"{name}: shapes {sa} and {sb} are not aligned: {sa[-1]} (last dimension of "
            f"the first) != {b2.shape[-2]} ({'only' if b.ndim == 1 else 'second-to-last'} "
            "dimension of the second)"
        )
    batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2], name=f"{name} (batch dimensions of {sa} and {sb})")
    a2 = _broadcast(a2, batch + a2.shape[-2:])
    b2 = _broadcast(b2, batch + b2.shape[-2:])
    result = trace.emit(array.MatmulOp(a2.value, b2.value))
    out_shape = batch + ((sa[-2],) if a.ndim >= 2 else ()) + ((sb[-1],) if b.ndim >= 2 else ())
    return _reshape(result, out_shape)


def matmul(x: Any, y: Any) -> Any:
    """NumPy's matmul: 1-D operands act as row/column vectors, leading
    (batch) dimensions broadcast."""
    return _matmul("matmul", x, y)


def dot(x: Any, y: Any) -> Any:
    """NumPy's dot: products with scalars, matmul up to 2-D, and for N-D a sum
    over the last axis of x and the second-to-last of y."""
    x, y = _array_like(x), _array_like(y)
    trace = _trace_of("dot", (x, y))
    if trace is None:
        return np.dot(x, y)
    sx, sy = _shape_of(_operand("dot", x)), _shape_of(_operand("dot", y))
    if not sx or not sy:
        # np.dot takes a Python number as a (strong) array, unlike a ufunc.
        return multiply(_strong_operand("dot", x), _strong_operand("dot", y))
    if (len(sx) <= 2 and len(sy) <= 2) or len(sy) == 1:
        return _matmul("dot", x, y)
    x, y = _operand("dot", x), _operand("dot", y)
    x_dtype, y_dtype, out_dtype = _resolve("dot", np.matmul, (x, y))
    _require_float("dot", out_dtype, (x, y))
    a, b = _lift(trace, x, x_dtype), _lift(trace, y, y_dtype)
    k = sx[-1]
    if sy[-2] != k:
        raise TraceError(
            f"dot: shapes {sx} and {sy} are not aligned: {k} (last dimension of the first) "
            f"!= {sy[-2]} (second-to-last dimension of the second)"
        )
    perm = (b.ndim - 2, *(d for d in range(b.ndim) if d != b.ndim - 2))
    b2 = _reshape(transpose(b, perm), (k, b.size // k if k else 0))
    a2 = _reshape(a, (a.size // k if k else 0, k))
    return _reshape(matmul(a2, b2), sx[:-1] + sy[:-2] + sy[-1:])


# ---------------------------------------------------------------------------
# Creation: NumPy arrays, which become constants where they meet traced ones
# ---------------------------------------------------------------------------


def zeros(shape: Any, dtype: Any = float) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def ones(shape: Any, dtype: Any = float) -> np.ndarray:
    return np.ones(shape, dtype=dtype)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """An array of `shape` filled with `fill_value` (which may be traced)."""
    fill_value = _array_like(fill_value)
    if isinstance(fill_value, TracedArray):
        value = fill_value if dtype is None else astype(fill_value, dtype)
        return broadcast_to(value, shape)
    return np.full(shape, fill_value, dtype=dtype)


def zeros_like(a: Any, dtype: Any = None) -> np.ndarray:
    return np.zeros(shape(a), dtype=dtype or _like_dtype(a))


def ones_like(a: Any, dtype: Any = None) -> np.ndarray:
    return np.ones(shape(a), dtype=dtype or _like_dtype(a))


def full_like(a: Any, fill_value: Any, dtype: Any = None) -> Any:
    return full(shape(a), fill_value, dtype=dtype or _like_dtype(a))


def _like_dtype(a: Any) -> np.dtype:
    a = _array_like(a)
    return a.dtype if isinstance(a, TracedArray) else np.asarray(a).dtype


# ---------------------------------------------------------------------------
# NumPy's own functions on traced arrays (np.exp(x), np_array + x, np.sum(x))
# ---------------------------------------------------------------------------

_NUMPY_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: add,
    np.subtract: subtract,
    np.multiply: multiply,
    np.true_divide: divide,
    np.power: power,
    np.negative: negative,
    np.positive: lambda x: x,
    np.exp: exp,
    np.log: log,
    np.tanh: tanh,
    np.sin: sin,
    np.cos: cos,
    np.sqrt: sqrt,
    np.absolute: abs,
    np.square: square,
    np.maximum: maximum,
    np.minimum: minimum,
    np.less: less,
    np.less_equal: less_equal,
    np.greater: greater,
    np.greater_equal: greater_equal,
    np.equal: equal,
    np.not_equal: not_equal,
    np.logical_and: logical_and,
    np.logical_or: logical_or,
    np.logical_not: logical_not,
    np.matmul: matmul,
}

_UFUNC_METHODS: dict[tuple[np.ufunc, str], str] = {
    (np.add, "reduce"): "sum",
    (np.maximum, "reduce"): "max",
    (np.minimum, "reduce"): "min",
    (np.multiply, "reduce"): "prod",
    (np.add, "accumulate"): "cumsum",
    (np.multiply, "accumulate"): "cumprod",
}
"""The gnp function (or missing NumPy function) a ufunc method computes."""

_NUMPY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: sum,
    np.mean: mean,
    np.max: max,
    np.amax: max,
    np.min: min,
    np.amin: min,
    np.where: where,
    np.dot: dot,
    np.transpose: transpose,
    np.reshape: reshape,
    np.ravel: ravel,
    np.squeeze: squeeze,
    np.expand_dims: expand_dims,
    np.broadcast_to: broadcast_to,
    np.concatenate: concatenate,
    np.stack: stack,
    np.zeros_like: zeros_like,
    np.ones_like: ones_like,
    np.full_like: full_like,
    np.shape: shape,
    np.ndim: ndim,
    np.astype: astype,
}


__all__ = [
    "TracedArray",
    "Trace",
    "current_trace",
    "float32", "float64", "bool_", "newaxis", "pi", "e", "inf", "nan",
    "exp", "log", "tanh", "sin", "cos", "sqrt", "abs", "absolute", "negative",
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "where", "logical_and", "logical_or", "logical_not", "astype", "asarray",
    "square", "relu", "sigmoid", "softmax", "logsumexp", "stop_gradient",
    "sum", "max", "min", "amax", "amin", "mean",
    "reshape", "ravel", "squeeze", "expand_dims", "transpose", "broadcast_to",
    "broadcast_shapes", "concatenate", "stack", "shape", "ndim",
    "matmul", "dot",
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like",
]


def __getattr__(name: str) -> Any:
    """`gnp.<name>` for a name gradc.numpy lacks: an AttributeError that
    says what to write instead (NumPy's functions) or what was meant."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if hasattr(np, name) or name in COMPOSITIONS or name in NO_COMPOSITION:
        raise TraceAttributeError(f"gnp.{name}: {missing_message(name)}")
    raise TraceAttributeError(
        f"gnp.{name}: gradc.numpy has no attribute {name!r}, nor does NumPy{close_names(name, __all__)}"
    )
