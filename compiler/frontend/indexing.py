"""Indexing traced arrays: `x[key]`, `take`, `take_along_axis`.

Expects: a key of Python ints, slices (any nonzero step), None, `...`,
constant index arrays (lists or NumPy arrays of integers, NumPy bool
masks) and traced int32/int64 arrays.

Guarantees: basic indexing is at most one `array.slice` and one
`array.reshape`; a key with index arrays (NumPy's advanced indexing, with
its rules for where the indexed dimensions go) adds one `array.gather` with
the positions as a static table, or with traced index arrays one
`array.dynamic_gather` (negative indices wrapped once, then clamped, as
jnp's), and a transpose when NumPy moves them. A constant index out of
bounds, arrays that do not broadcast, a zero step, a float index array or
a traced mask (whose result's shape is unknown while tracing) is a
`TraceIndexError` that says what to write instead.
The rules and examples: docs/frontend.md (Indexing).
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import GradcError, TraceError, TraceIndexError, TraceTypeError
from gradc.frontend.elementwise import add, astype, greater_equal, less, logical_and, maximum, minimum, remainder, where
from gradc.frontend.operands import (
    _BOOL,
    _INTS,
    _array_like,
    _coerce,
    _constant,
    _normalize_axis,
    _operand,
    _reshape,
    _strong,
)
from gradc.frontend.shapes import broadcast_to as _broadcast_to
from gradc.frontend.shapes import concatenate, expand_dims
from gradc.frontend.tracer import UINT32, TracedArray, _dynamic_index_hint, _loop_of_index, _trace_of

def _basic(x: TracedArray, key: Any) -> TracedArray:
    """Basic indexing: integers, slices, None and Ellipsis become one
    `array.slice` and one `array.reshape`."""
    items = _expand_ellipsis(x, list(key if isinstance(key, tuple) else (key,)))
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
            if k.step is not None and k.step == 0:
                raise TraceIndexError(f"slice {k}: slice step cannot be zero")
            s, e, st = k.indices(n)
            length = array.slice_length(s, e, st)
            if length == 0:
                s, e, st = 0, 0, 1
            elif st > 0:
                e = s + (length - 1) * st + 1
            else:
                e = s + (length - 1) * st - 1
            start.append(s), limit.append(e), stride.append(st)
            out_shape.append(length)
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
                f"shape {x.shape}: traced arrays take integers, slices, None, '...' and constant "
                "integer or bool index arrays"
            )
        d += 1
    result = x
    if (start, limit, stride) != ([0] * x.ndim, list(x.shape), [1] * x.ndim):
        result = x.trace.emit(array.SliceOp(x.value, start, limit, stride))
    return _strong(_reshape(result, tuple(out_shape)))


def _expand_ellipsis(x: TracedArray, items: list[Any]) -> list[Any]:
    """`items` with `...` (or the missing trailing dimensions) spelled out
    as full slices; too many indices or ellipses is an error."""
    ellipses = [i for i, k in enumerate(items) if k is Ellipsis]
    if len(ellipses) > 1:
        raise TraceIndexError("an index can only have a single ellipsis ('...')")
    n_real = builtins.sum(k is not None and k is not Ellipsis for k in items)
    if n_real > x.ndim:
        raise TraceIndexError(
            f"too many indices for an array of shape {x.shape}: {x.ndim} dimension(s), {n_real} indexed"
        )
    at = ellipses[0] if ellipses else len(items)
    return items[:at] + [slice(None)] * (x.ndim - n_real) + items[at + 1 :]


def _traced_index_error(k: TracedArray, what: str) -> TraceIndexError:
    if k.dtype == _BOOL:
        return TraceIndexError(
            f"a traced bool array {k.shape} as a mask: the result's shape would depend on its "
            "values, which gradc cannot compile; select with gnp.where(mask, x, 0.0) instead"
        )
    if what == "a slice bound":
        hint = (
            ", and the slice's length would depend on it: for a window of fixed length k from a "
            "traced start i, write gradc.lax.dynamic_slice_in_dim(x, i, k, axis)"
        )
    else:
        hint = _dynamic_index_hint(k) or (
            ": index with integers (Python ints, integer lists and arrays, or traced int32/int64 "
            "arrays), select with gnp.where, or walk the array with gradc.scan"
        )
    return TraceIndexError(f"a traced array {k.shape} {k.dtype.name} as {what}: its value is not known while tracing{hint}")



def _getitem(x: TracedArray, key: Any) -> TracedArray:
    """`x[key]`: basic indexing, or NumPy's advanced indexing when the key
    holds index arrays (see the module docstring)."""
    items = key if isinstance(key, tuple) else (key,)
    if builtins.any(isinstance(k, TracedArray) and k.dtype == UINT32 for k in items):
        raise TraceTypeError("indexing with a uint32 traced array (a gradc.random key): keys are not indices")
    if builtins.any(_is_scalar_index(k) for k in items) and not builtins.any(
        _is_index_array(k) for k in items
    ):
        return _dynamic(x, items)
    items = tuple(_index_item(k) for k in items)
    if not builtins.any(isinstance(k, np.ndarray | TracedArray) for k in items):
        return _basic(x, items)
    traced = [k for k in items if isinstance(k, TracedArray)]
    if traced:
        x = _trace_of("indexing", [x, *traced]).adopt(x)
    return _advanced(x, items)


def _is_index_array(k: Any) -> bool:
    """An index array: a constant one (list, tuple, NumPy array) or a traced
    integer array of at least one dimension."""
    if isinstance(k, TracedArray):
        return k.ndim > 0 and k.dtype != _BOOL
    return isinstance(k, list | tuple | np.ndarray)


def _index_item(k: Any) -> Any:
    """One entry of a key: index arrays (lists, tuples, NumPy arrays) become
    int64 or bool NumPy arrays; everything else is left as it is."""
    if isinstance(k, bool | np.bool_):
        raise TraceIndexError(
            f"a bool scalar ({k}) as an index is not supported on traced arrays: use None to add a dimension"
        )
    if isinstance(k, TracedArray):
        if k.dtype in _INTS:
            return k
        if k.ndim == 0 and k.dtype.kind == "f" and _loop_of_index(k) is not None:
            return astype(k, np.int64)  # a fori_loop's index: a whole number, exact
        if k.dtype == _BOOL or k.ndim == 0:
            raise _traced_index_error(k, "an index")
        raise TraceIndexError(
            f"a traced {k.dtype.name} array {k.shape} as an index: arrays used as indices must be of "
            f"integer type; convert with .astype(gnp.int32) (which truncates) if that is meant"
        )
    if isinstance(k, list | tuple | np.ndarray):
        try:
            arr = np.asarray(k)
        except GradcError:
            raise TraceIndexError(
                "an index list holding traced arrays: make it one integer array first "
                "(gnp.stack([...]) of traced int32/int64 values), or use constant indices"
            ) from None
        except ValueError as err:
            raise TraceIndexError(f"index {k!r:.60} is not a rectangular array: {err}") from None
        if arr.dtype == np.bool_:
            if arr.ndim == 0:
                return _index_item(bool(arr))
            return arr
        if np.issubdtype(arr.dtype, np.integer) or arr.size == 0:
            return arr.astype(np.int64)
        raise TraceIndexError(
            f"index {k!r:.60}: arrays used as indices must be of integer (or boolean) type, got {arr.dtype}"
        )
    return k


def _advanced(x: TracedArray, items: tuple[Any, ...]) -> TracedArray:
    """NumPy's advanced indexing: slices first (one array.slice), then one
    array.gather over the indexed dimensions, then NumPy's placement of the
    broadcast index dimensions: where the first index array is when all of
    them (ints count) are adjacent, else in front."""
    entries: list[Any] = []
    for k in items:
        if isinstance(k, np.ndarray) and k.dtype == np.bool_:
            entries.extend(("mask", k, j) for j in range(k.ndim))
        else:
            entries.append(k)
    entries = _expand_ellipsis(x, entries)
    arrays: dict[int, np.ndarray | TracedArray] = {}  # entry position -> its index array
    dim_of: dict[int, int] = {}  # entry position -> the dimension of x it indexes
    d = 0
    for pos, k in enumerate(entries):
        if k is None:
            continue
        dim_of[pos] = d
        n = x.shape[d]
        if isinstance(k, tuple):  # a mask's dimension j
            _, mask, j = k
            if mask.shape[j] != n:
                raise TraceIndexError(
                    f"boolean index did not match indexed array along axis {d}; size of axis is {n} but "
                    f"size of corresponding boolean axis is {mask.shape[j]}"
                )
            arrays[pos] = np.nonzero(mask)[j]
        elif isinstance(k, np.ndarray) or (isinstance(k, int | np.integer)):
            idx = np.asarray(operator.index(k) if not isinstance(k, np.ndarray) else k, dtype=np.int64)
            bad = (idx < -n) | (idx >= n)
            if bad.any():
                raise TraceIndexError(f"index {int(idx[bad].flat[0])} is out of bounds for axis {d} with size {n}")
            arrays[pos] = idx % n if n else idx
        elif isinstance(k, slice):
            pass
        elif isinstance(k, TracedArray):
            if n == 0:
                raise TraceIndexError(f"index into axis {d} of size 0: no element to read")
            arrays[pos] = k
        else:
            raise TraceIndexError(
                f"unsupported index {k!r:.60} (of type {type(k).__name__}) on an array of shape {x.shape}"
            )
        d += 1
    try:
        batch = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = " ".join(str(a.shape) for pos, a in arrays.items() if not isinstance(entries[pos], int | np.integer))
        raise TraceIndexError(
            f"shape mismatch: indexing arrays could not be broadcast together with shapes {shapes}"
        ) from None
    positions = sorted(arrays)
    sliced = _basic(x, tuple(slice(None) if pos in arrays else entries[pos] for pos in dim_of))
    axes = [dim_of[pos] for pos in positions]
    if builtins.any(isinstance(a, TracedArray) for a in arrays.values()):
        indices = _index_operand(x, [arrays[pos] for pos in positions], [x.shape[a] for a in axes], batch)
        gathered = x.trace.emit(array.DynamicGatherOp(sliced.value, indices.value, axes, "clip"))
    elif not batch:  # only 0-d index arrays: plain integers
        return _basic(x, tuple(int(arrays[pos]) if pos in arrays else k for pos, k in enumerate(entries)))
    else:
        table = np.stack([np.broadcast_to(arrays[pos], batch) for pos in positions], axis=-1)
        gathered = x.trace.emit(array.GatherOp(sliced.value, axes, table))
    nb = len(batch)
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    order: list[int] = [] if adjacent else list(range(nb))
    shape: list[int] = [] if adjacent else list(batch)
    rest = nb
    for pos, k in enumerate(entries):
        if k is None:
            shape.append(1)
        elif pos not in arrays:
            order.append(rest), shape.append(gathered.shape[rest])
            rest += 1
        elif adjacent and pos == positions[0]:
            order.extend(range(nb)), shape.extend(batch)
    if order != sorted(order):
        gathered = x.trace.emit(array.TransposeOp(gathered.value, order))
    return _strong(_reshape(gathered, tuple(shape)))


def _wrapped(trace: Any, k: np.ndarray | TracedArray, n: int) -> TracedArray:
    """Index array `k` (constant, already in [0, n), or traced integers) as a
    traced integer array, negative traced indices wrapped once (i + n)."""
    if isinstance(k, np.ndarray):
        return _constant(trace, k, np.dtype(np.int64 if n > 2**31 - 1 else np.int32), k.shape)
    k = _strong(trace.adopt(k))
    return where(less(k, 0), add(k, n), k)


def _index_operand(
    x: TracedArray, arrays: list[np.ndarray | TracedArray], sizes: list[int], batch: tuple[int, ...]
) -> TracedArray:
    """The integer operand of an array.dynamic_gather / array.scatter: the
    index arrays (negative ones wrapped once) broadcast to `batch` and
    stacked along a last dimension, in one integer dtype."""
    columns = [_wrapped(x.trace, k, n) for k, n in zip(arrays, sizes)]
    dtype = np.dtype(np.int64) if builtins.any(c.dtype == np.int64 for c in columns) else np.dtype(np.int32)
    parts = [
        _reshape(_broadcast_to(c.astype(dtype) if c.dtype != dtype else c, batch), (*batch, 1))
        for c in columns
    ]
    return parts[0] if len(parts) == 1 else concatenate(parts, axis=-1)


def _is_scalar_index(k: Any) -> bool:
    return isinstance(k, TracedArray) and k.ndim == 0 and k.dtype != _BOOL


def _dynamic(x: TracedArray, items: tuple[Any, ...]) -> TracedArray:
    """x[key] with traced scalar indices (a loop's index): one
    array.dynamic_slice of size 1 at those dimensions (negative indices
    wrap, then the start is clamped into range, as jnp's x[i] does), then
    the rest of the key as basic indexing."""
    entries = _expand_ellipsis(x, list(items))
    starts: list[Any] = []
    rest: list[Any] = []
    for k in entries:
        if _is_scalar_index(k):
            starts.append(k)
        elif isinstance(k, list | tuple | np.ndarray):
            raise TraceIndexError(
                "a traced index together with index arrays: gradc does not mix them yet; index in two steps"
            )
        else:
            if k is not None:
                starts.append(0)
            rest.append(k)
    sizes = [1 if _is_scalar_index(s) else n for s, n in zip(starts, x.shape)]
    window = dynamic_slice(x, starts, sizes)
    kept = tuple(n for s, n in zip(starts, x.shape) if not _is_scalar_index(s))
    return _basic(_reshape(window, kept), tuple(rest))


def _starts(name: str, x: TracedArray, starts: list[Any]) -> list[TracedArray]:
    """Start indices as 0-d traced arrays of x's trace, negative ones
    wrapped (i + n, as JAX's lax does); Python ints are folded."""
    if len(starts) != x.ndim:
        raise TraceIndexError(
            f"{name}: needs one start index per dimension of the operand of shape {x.shape}, got {len(starts)}"
        )
    out = []
    for s, n in zip(starts, x.shape):
        if isinstance(s, int | np.integer) and not isinstance(s, bool | np.bool_):
            value = int(s) + n if s < 0 else int(s)
            out.append(_constant(x.trace, value, np.dtype(np.float64), ()))
        elif _is_scalar_index(s):
            if s.dtype.kind == "f" and _loop_of_index(s) is None:
                raise TraceIndexError(
                    f"{name}: a traced {s.dtype.name} scalar as an index, not computed from the index of a "
                    "fori_loop: gradc takes traced indices from fori_loop's index (a float, truncated) or "
                    "integer arrays; index with Python ints, or select with gnp.where"
                )
            s = x.trace.adopt(s)
            out.append(where(less(s, 0), add(s, n), s))
        else:
            raise TraceIndexError(
                f"{name}: a start index must be an integer or a traced scalar, got {s!r:.60}"
            )
    return out


def _in_one_trace(name: str, operand: Any, start_indices: Any, *others: Any) -> tuple[TracedArray, list[Any]]:
    """The operand in the innermost trace of it, the starts and `others`
    (a loop body reading an array of the enclosing function), and the
    starts as a list."""
    starts = list(start_indices) if isinstance(start_indices, list | tuple) else [start_indices]
    x = _array_like(operand)
    trace = _trace_of(name, [x, *starts, *others])
    if not isinstance(x, TracedArray) or trace is None:
        raise TraceError(f"{name}: the operand must be a traced array")
    return trace.adopt(x), starts


def dynamic_slice(operand: Any, start_indices: Any, slice_sizes: Any) -> Any:
    """JAX's lax.dynamic_slice: the window of `slice_sizes` at
    `start_indices` (ints or traced scalars; negative ones wrap once, then
    each start is clamped so the window fits)."""
    x, starts = _in_one_trace("dynamic_slice", operand, start_indices)
    sizes = [operator.index(k) for k in slice_sizes]
    if len(sizes) != x.ndim or builtins.any(not 0 <= k <= n for k, n in zip(sizes, x.shape)):
        raise TraceIndexError(f"dynamic_slice: slice_sizes {tuple(sizes)} must fit the operand's shape {x.shape}")
    starts = _starts("dynamic_slice", x, starts)
    return _strong(x.trace.emit(array.DynamicSliceOp(x.value, [s.value for s in starts], sizes)))


def dynamic_update_slice(operand: Any, update: Any, start_indices: Any) -> Any:
    """JAX's lax.dynamic_update_slice: `operand` with `update` written over
    the window at `start_indices` (wrapped and clamped as in dynamic_slice);
    `update` takes the operand's dtype."""
    x, starts = _in_one_trace("dynamic_update_slice", operand, start_indices, update)
    u = _operand("dynamic_update_slice", update)
    shape = u.shape if isinstance(u, TracedArray | np.ndarray) else ()
    if len(shape) != x.ndim or builtins.any(k > n for k, n in zip(shape, x.shape)):
        raise TraceIndexError(f"dynamic_update_slice: update of shape {shape} does not fit the operand's shape {x.shape}")
    u = _coerce(x.trace, u, x.dtype, shape)
    starts = _starts("dynamic_update_slice", x, starts)
    return _strong(x.trace.emit(array.DynamicUpdateSliceOp(x.value, u.value, [s.value for s in starts])))


def dynamic_index_in_dim(operand: Any, index: Any, axis: int = 0, keepdims: bool = True) -> Any:
    """JAX's lax.dynamic_index_in_dim: element `index` along `axis`."""
    return dynamic_slice_in_dim(operand, index, 1, axis) if keepdims else _getitem(
        operand, (slice(None),) * _normalize_axis("dynamic_index_in_dim", axis, operand.shape) + (index,)
    )


def dynamic_slice_in_dim(operand: Any, start_index: Any, slice_size: int, axis: int = 0) -> Any:
    """JAX's lax.dynamic_slice_in_dim: `slice_size` elements from `start_index` along `axis`."""
    x = _as_traced("dynamic_slice_in_dim", operand)
    ax = _normalize_axis("dynamic_slice_in_dim", axis, x.shape)
    starts = [start_index if d == ax else 0 for d in range(x.ndim)]
    return dynamic_slice(x, starts, [slice_size if d == ax else n for d, n in enumerate(x.shape)])


def dynamic_update_slice_in_dim(operand: Any, update: Any, start_index: Any, axis: int) -> Any:
    """JAX's lax.dynamic_update_slice_in_dim: `update` written from `start_index` along `axis`."""
    x = _as_traced("dynamic_update_slice_in_dim", operand)
    ax = _normalize_axis("dynamic_update_slice_in_dim", axis, x.shape)
    return dynamic_update_slice(x, update, [start_index if d == ax else 0 for d in range(x.ndim)])


def dynamic_update_index_in_dim(operand: Any, update: Any, index: Any, axis: int) -> Any:
    """JAX's lax.dynamic_update_index_in_dim: `update` (with or without the
    size-1 dimension at `axis`) written at `index` along `axis`."""
    x = _as_traced("dynamic_update_index_in_dim", operand)
    ax = _normalize_axis("dynamic_update_index_in_dim", axis, x.shape)
    u = _array_like(update)
    if np.ndim(u) == x.ndim - 1:
        u = expand_dims(u, ax)
    return dynamic_update_slice_in_dim(x, u, index, ax)


def _constant_indices(name: str, indices: Any) -> np.ndarray:
    """`indices` as an int64 NumPy array; traced or non-integer ones are errors."""
    if isinstance(indices, TracedArray):
        raise _traced_index_error(indices, f"{name}'s indices")
    idx = np.asarray(indices)
    if not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
        raise TraceIndexError(f"{name}: indices must be integers, got {idx.dtype}")
    return idx.astype(np.int64)


def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: Any = None,
         unique_indices: bool = False, indices_are_sorted: bool = False, fill_value: Any = None) -> Any:
    """NumPy's take: elements of the flattened `a` (axis None) or along
    `axis`. Constant `indices`: mode None or 'raise' (out of range is an
    error), 'wrap' or 'clip' as NumPy's. Traced integer `indices`: jnp's
    modes, 'fill' (the default: negative indices wrap once, the others out
    of range give `fill_value`, NaN for floats), 'clip' (clamped) or
    'wrap' (modulo)."""
    if out is not None:
        raise TraceError("take: out= is not supported (gradc's arrays are values)")
    if isinstance(indices, TracedArray):
        return _take_traced(a, indices, axis, mode, fill_value)
    idx = _constant_indices("take", indices)
    x = _as_traced("take", a)
    if x is None:
        return np.take(a, idx, axis=axis, mode=mode or "raise")
    if axis is None:
        x, ax = _reshape(x, (x.size,)), 0
    else:
        ax = _normalize_axis("take", axis, x.shape)
    n = x.shape[ax]
    if mode == "wrap" and n:
        idx = idx % n
    elif mode == "clip" and n:
        idx = np.clip(idx, 0, n - 1)
    elif mode not in (None, "raise", "wrap", "clip"):
        raise TraceError(f"take: mode must be 'raise', 'wrap' or 'clip' for constant indices, got {mode!r}")
    return _getitem(x, (slice(None),) * ax + (idx,))


def _take_traced(a: Any, indices: TracedArray, axis: Any, mode: Any, fill_value: Any) -> Any:
    """take with traced integer indices (see take)."""
    x, idx = _one_trace("take", a, _integer_indices("take", indices))
    if axis is None:
        x, ax = _reshape(x, (x.size,)), 0
    else:
        ax = _normalize_axis("take", axis, x.shape)
    n = x.shape[ax]
    if n == 0 and idx.size:
        raise TraceIndexError("take: cannot take a non-empty selection from an empty axis")
    kind = _check_traced_mode("take", mode, ("fill", "clip", "wrap"))
    if kind == "wrap":
        idx = remainder(idx, n)
    elif kind == "clip":
        idx = minimum(maximum(idx, 0), n - 1)
    got = _getitem(x, (slice(None),) * ax + (idx,))
    if kind != "fill":
        return got
    ok = _reshape(_in_range(idx, n), (1,) * ax + idx.shape + (1,) * (x.ndim - ax - 1))
    return _filled(got, ok, fill_value)


def _one_trace(name: str, a: Any, idx: TracedArray) -> tuple[TracedArray, TracedArray]:
    """`a` (traced or constant) and `idx` in the innermost trace of the two."""
    x = _array_like(a)
    trace = _trace_of(name, [x, idx])
    x = trace.adopt(x) if isinstance(x, TracedArray) else _constant(trace, x, np.asarray(x).dtype, np.shape(x))
    return x, trace.adopt(idx)


def _integer_indices(name: str, indices: TracedArray) -> TracedArray:
    if indices.dtype not in _INTS:
        raise TraceIndexError(f"{name}: indices must be integers, got a traced {indices.dtype.name} array {indices.shape}")
    return _strong(indices)


def _check_traced_mode(name: str, mode: Any, allowed: tuple[str, ...]) -> str:
    kind = "fill" if mode is None else mode
    if kind not in allowed:
        raise TraceError(f"{name}: mode must be one of {', '.join(map(repr, allowed))} or None for traced indices, got {mode!r}")
    return kind


def _in_range(idx: TracedArray, n: int) -> TracedArray:
    """-n <= idx < n: the indices jnp's fill mode reads (negative ones wrap)."""
    return logical_and(greater_equal(idx, -n), less(idx, n))


def _filled(got: TracedArray, ok: TracedArray, fill_value: Any) -> TracedArray:
    """`got` where `ok` (broadcast), else `fill_value` (jnp's default: NaN for
    floats, the most negative value for integers)."""
    if fill_value is None:
        fill_value = np.nan if got.dtype.kind == "f" else (np.iinfo(got.dtype).min if got.dtype.kind == "i" else True)
    return _strong(where(ok, got, np.asarray(fill_value, got.dtype)))


def take_along_axis(arr: Any, indices: Any, axis: Any = -1, mode: Any = None, fill_value: Any = None) -> Any:
    """NumPy's take_along_axis: `indices` (integers, same number of
    dimensions as `arr`, broadcasting against it off `axis`). Constant
    indices must be in range; traced ones take jnp's `mode`: 'fill' (the
    default: negative indices wrap once, the others out of range give
    `fill_value`, NaN for floats) or 'clip'."""
    if isinstance(indices, TracedArray):
        return _take_along_traced(arr, indices, axis, mode, fill_value)
    idx = _constant_indices("take_along_axis", indices)
    x = _as_traced("take_along_axis", arr)
    if x is None:
        return np.take_along_axis(arr, idx, axis)
    if axis is None:
        if idx.ndim != 1:
            raise TraceIndexError(f"take_along_axis: with axis=None, indices must be 1-d, got shape {idx.shape}")
        return take(x, idx)
    ax = _normalize_axis("take_along_axis", axis, x.shape)
    if idx.ndim != x.ndim:
        raise TraceIndexError(
            f"take_along_axis: indices and arr must have the same number of dimensions, got {idx.ndim} and {x.ndim}"
        )
    key = []
    for d, n in enumerate(x.shape):
        if d == ax:
            key.append(idx)
        else:
            key.append(np.arange(n).reshape([n if e == d else 1 for e in range(x.ndim)]))
    try:
        np.broadcast_shapes(*(k.shape for k in key))
    except ValueError:
        raise TraceIndexError(
            f"take_along_axis: indices of shape {idx.shape} do not broadcast against arr of shape {x.shape} "
            f"off axis {ax}"
        ) from None
    return _getitem(x, tuple(key))


def _take_along_traced(arr: Any, indices: TracedArray, axis: Any, mode: Any, fill_value: Any) -> Any:
    """take_along_axis with traced integer indices (see take_along_axis)."""
    x, idx = _one_trace("take_along_axis", arr, _integer_indices("take_along_axis", indices))
    if axis is None:
        if idx.ndim != 1:
            raise TraceIndexError(f"take_along_axis: with axis=None, indices must be 1-d, got shape {idx.shape}")
        x, axis = _reshape(x, (x.size,)), 0
    ax = _normalize_axis("take_along_axis", axis, x.shape)
    if idx.ndim != x.ndim:
        raise TraceIndexError(
            f"take_along_axis: indices and arr must have the same number of dimensions, got {idx.ndim} and {x.ndim}"
        )
    kind = _check_traced_mode("take_along_axis", mode, ("fill", "clip"))
    n = x.shape[ax]
    try:
        shape = np.broadcast_shapes(idx.shape, tuple(1 if d == ax else k for d, k in enumerate(x.shape)))
    except ValueError:
        raise TraceIndexError(
            f"take_along_axis: indices of shape {idx.shape} do not broadcast against arr of shape {x.shape} "
            f"off axis {ax}"
        ) from None
    if n == 0:
        return _strong(_constant(x.trace, 0, x.dtype, shape))
    key = [
        idx if d == ax else np.arange(k).reshape([k if e == d else 1 for e in range(x.ndim)])
        for d, k in enumerate(x.shape)
    ]
    got = _getitem(x, tuple(key))  # negative indices wrap once, then clamp: 'clip'
    return got if kind == "clip" else _filled(got, _in_range(idx, n), fill_value)


def _as_traced(name: str, a: Any) -> TracedArray | None:
    """`a` as a traced array, or None when nothing in it is traced."""
    a = _array_like(a)
    return a if isinstance(a, TracedArray) else None


__all__ = ["take", "take_along_axis"]
"""gradc.numpy's names; gradc.lax imports the dynamic_* functions by name."""
