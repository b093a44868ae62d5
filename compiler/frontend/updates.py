"""Functional index updates, JAX's `x.at[key].set(v)` and kin: `set`,
`add`, `multiply` (`mul`), `divide`, `power`, `min`, `max`, `get`.

Expects: a key of constant indices, as `x[key]` takes them (ints, slices,
None, `...`, integer lists and arrays, bool masks); `v` broadcasting to
`x[key]`'s shape (converted to x's dtype, as JAX does).

Guarantees: a new array (x is a value, never changed); composites of one
`array.gather` from `v` (position p of x reads the updates aimed at it,
through a static table), a select, and for add/multiply/min/max a
reduction over x and those updates, so they differentiate, batch and
lower as those ops do. Duplicate indices: add, multiply, min and max
combine every update (JAX's scatter-add, ...); set keeps the last one in
row-major order of `x[key]` (JAX leaves it unspecified; gradc is
deterministic). Positions no update reaches keep x's element bit for bit.
With traced integer index arrays in the key, add and set are one
`array.scatter` (rows in row-major order, so the same duplicate rules;
a row out of range after wrapping negative indices once is dropped);
multiply, min and max compare every position with every update (a mask)
and reduce as above.
Rules and conventions at ties: docs/frontend.md (Indexing),
docs/derivative-conventions.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import GradcError, TraceError, TraceIndexError, TraceTypeError
from gradc.frontend import elementwise, reductions
from gradc.frontend.indexing import (
    _expand_ellipsis,
    _getitem,
    _index_item,
    _index_operand,
    _is_index_array,
    _is_scalar_index,
    _traced_index_error,
    dynamic_slice,
    dynamic_update_slice,
)
from gradc.frontend.operands import _FLOATS, _coerce, _constant, _operand, _reshape, _shape_of, _strong, broadcast_shapes
from gradc.frontend.shapes import broadcast_to, concatenate
from gradc.frontend.tracer import TracedArray, _trace_of

_NEUTRAL = {"add": 0.0, "multiply": 1.0, "min": np.inf, "max": -np.inf}
_MODES = (None, "promise_in_bounds")


def _method(kind: str, doc: str) -> Callable[..., TracedArray]:
    def method(self: IndexUpdateRef, values: Any, *, indices_are_sorted: bool = False,
               unique_indices: bool = False, mode: Any = None) -> TracedArray:
        return _update(self.x, self.key, values, kind, mode)

    method.__name__, method.__doc__ = kind, doc
    return method


class IndexUpdateHelper:
    """`x.at`: `x.at[key]` names the elements an update changes."""

    def __init__(self, x: TracedArray):
        self._x = x

    def __getitem__(self, key: Any) -> IndexUpdateRef:
        return IndexUpdateRef(self._x, key)

    def __repr__(self) -> str:
        return f"_IndexUpdateHelper({self._x!r})"


class IndexUpdateRef:
    """`x.at[key]`: its methods return the updated array (JAX's names and
    keywords; `indices_are_sorted` and `unique_indices` are accepted and
    change nothing, `mode` may be None or 'promise_in_bounds')."""

    def __init__(self, x: TracedArray, key: Any):
        self.x, self.key = x, key

    def get(self, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: Any = None, fill_value: Any = None) -> TracedArray:
        _check_mode("get", mode)
        return _getitem(self.x, self.key)

    set = _method("set", "x with x[key] replaced by values (the last of duplicates wins)")
    add = _method("add", "x with values added at key (duplicates accumulate)")
    multiply = _method("multiply", "x with x[key] multiplied by values (duplicates accumulate)")
    mul = multiply
    divide = _method("divide", "x with x[key] divided by values: x / (the product of the updates), as JAX's")
    power = _method("power", "x with x[key] raised to values: x ** (the product of the updates), as JAX's")
    min = _method("min", "x with x[key] the minimum of itself and values")
    max = _method("max", "x with x[key] the maximum of itself and values")


def _check_mode(kind: str, mode: Any) -> None:
    if mode not in _MODES:
        raise TraceError(
            f"x.at[...].{kind}: mode={mode!r} is not supported; gradc's indices are constants checked "
            "while tracing (an index out of bounds is an error), so mode may be None or 'promise_in_bounds'"
        )


def _positions(x: TracedArray, key: Any) -> tuple[np.ndarray, int]:
    """(the positions x[key] reads, t): x's last t dimensions are untouched
    by the key (full slices, explicit or implied), so a position is a flat
    index into x's other dimensions, and the positions have the shape of
    x[key] without its last t dimensions."""
    items = list(key) if isinstance(key, tuple) else [key]
    checked = []
    for k in items:
        if isinstance(k, slice):
            for part in (k.start, k.stop, k.step):
                if isinstance(part, TracedArray):
                    raise _traced_index_error(part, "a slice bound")
        checked.append(_index_item(k))
    consumed = sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1
                   for k in checked if k is not None and k is not Ellipsis)
    trailing = 0 if any(k is Ellipsis for k in checked) else x.ndim - consumed
    while checked and (checked[-1] is Ellipsis or (isinstance(checked[-1], slice) and checked[-1] == slice(None))):
        trailing += x.ndim - consumed if checked[-1] is Ellipsis else 1
        checked.pop()
    trailing = min(trailing, x.ndim)
    lead = x.shape[: x.ndim - trailing]
    try:
        return np.arange(math.prod(lead), dtype=np.int64).reshape(lead)[tuple(checked)], trailing
    except (IndexError, TypeError, ValueError) as err:
        raise TraceIndexError(f"x.at[{key!r:.60}]: {err}") from None


def _check_values(kind: str, v: Any, indexed: tuple[int, ...]) -> None:
    """`v` must broadcast to the shape `indexed` of x[key]."""
    try:
        if broadcast_shapes(_shape_of(v), indexed) != indexed:
            raise ValueError
    except (GradcError, ValueError):
        raise TraceError(
            f"x.at[...].{kind}: values of shape {_shape_of(v)} do not broadcast to the indexed shape {indexed}"
        ) from None


def _update(x: TracedArray, key: Any, values: Any, kind: str, mode: Any) -> TracedArray:
    """x with the elements at `key` replaced by, or combined with, `values`:
    x is seen as rows (the dimensions the key indexes) of elements (the
    trailing ones it leaves alone), and each row of the result gathers the
    rows of the updates aimed at it."""
    _check_mode(kind, mode)
    if kind != "set" and x.dtype not in _FLOATS:
        raise TraceTypeError(f"x.at[...].{kind}: needs a float32 or float64 array, got {x.dtype.name}")
    if kind in ("divide", "power"):  # JAX's: x / ones.at[key].multiply(values), x ** (the same)
        ones = _constant(x.trace, 1.0, x.dtype, x.shape)
        factor = _update(ones, key, values, "multiply", None)
        return (elementwise.divide if kind == "divide" else elementwise.power)(x, factor)
    items = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, TracedArray) and k.ndim > 0 for k in items) or (
        any(_is_scalar_index(k) for k in items) and any(_is_index_array(k) for k in items)
    ):
        return _scatter_update(x, items, values, kind)
    if any(_is_scalar_index(k) for k in items):
        return _dynamic_update(x, key, values, kind)
    where, trailing = _positions(x, key)
    tail = x.shape[x.ndim - trailing :]
    indexed = where.shape + tail
    v = _operand(f"x.at[...].{kind}", values)
    x = _trace_of(f"x.at[...].{kind}", [x, v]).adopt(x)
    _check_values(kind, v, indexed)
    if where.size == 0 or 0 in tail:
        return _strong(x)
    width = math.prod(tail)
    count = x.size // width
    v = _reshape(_coerce(x.trace, v, x.dtype, indexed), (where.size, width))
    rows_of_x = _reshape(x, (count, width))
    rows, hit = array.inverse_rows(where.reshape(-1), count)
    reached = np.broadcast_to(hit[:, :1], (count, width))
    if kind == "set":
        last = rows[np.arange(count), np.maximum(hit.sum(axis=1) - 1, 0)]
        new = x.trace.emit(array.GatherOp(v.value, [0], last[:, None]))
    else:
        updates = x.trace.emit(array.GatherOp(v.value, [0], rows[..., None]))  # [count, m, width]
        new = _combine(kind, rows_of_x, updates, hit)
    return _strong(_reshape(elementwise.where(reached, new, rows_of_x), x.shape))


def _combine(kind: str, rows_of_x: TracedArray, updates: TracedArray, hit: Any) -> TracedArray:
    """Row p of x (count, width) combined with the updates (count, m,
    width) whose `hit[p, j]` holds (the others replaced by the neutral
    element): one reduction over x's row and its m updates."""
    count, width = rows_of_x.shape
    if not (isinstance(hit, np.ndarray) and hit.all()):
        updates = elementwise.where(hit[..., None], updates, np.asarray(_NEUTRAL[kind], rows_of_x.dtype))
    both = concatenate([_reshape(rows_of_x, (count, 1, width)), updates], axis=1)
    reduce = {"add": reductions.sum, "multiply": reductions.prod, "min": reductions.min, "max": reductions.max}
    return reduce[kind](both, axis=1)


def _scatter_update(x: TracedArray, items: tuple[Any, ...], values: Any, kind: str) -> TracedArray:
    """x.at[key] with traced integer index arrays: one array.scatter (add or
    set) at the rows the index arrays name, negative indices wrapped once
    and rows out of range dropped, as JAX's scatter does. The other entries
    of the key must be full slices, '...', ints or constant index arrays."""
    entries = _expand_ellipsis(x, [_index_item(k) for k in items])
    arrays: dict[int, Any] = {}
    for d, k in enumerate(entries):
        n = x.shape[d] if d < x.ndim else 0
        if isinstance(k, TracedArray) or (isinstance(k, np.ndarray) and k.dtype != np.bool_):
            if isinstance(k, np.ndarray) and k.size and (k.min() < -n or k.max() >= n):
                raise TraceIndexError(f"index {int(k[(k < -n) | (k >= n)].flat[0])} is out of bounds for axis {d} with size {n}")
            arrays[d] = k if isinstance(k, TracedArray) else k % max(n, 1)
        elif isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_):
            if not -n <= k < n:
                raise TraceIndexError(f"index {int(k)} is out of bounds for axis {d} with size {n}")
            arrays[d] = np.asarray(int(k) % n)
        elif not (isinstance(k, slice) and k == slice(None)):
            raise TraceIndexError(
                f"x.at[...].{kind}: with traced index arrays, the other entries of the key must be full "
                f"slices, '...', ints or integer index arrays, got {k!r:.60}"
            )
    axes = sorted(arrays)
    try:
        batch = broadcast_shapes(*(np.shape(arrays[d]) for d in axes))
    except GradcError:
        raise TraceIndexError(
            "shape mismatch: indexing arrays could not be broadcast together with shapes "
            + " ".join(str(np.shape(arrays[d])) for d in axes)
        ) from None
    rest = [d for d in range(x.ndim) if d not in arrays]
    adjacent = axes == list(range(axes[0], axes[-1] + 1))
    front = sum(1 for d in rest if d < axes[0]) if adjacent else 0
    rest_shape = [x.shape[d] for d in rest]
    indexed = (*rest_shape[:front], *batch, *rest_shape[front:])  # NumPy's shape of x[key]
    v = _operand(f"x.at[...].{kind}", values)
    x = _trace_of(f"x.at[...].{kind}", [x, v, *(a for a in arrays.values() if isinstance(a, TracedArray))]).adopt(x)
    _check_values(kind, v, indexed)
    v = _coerce(x.trace, v, x.dtype, indexed)
    nb = len(batch)
    order = [*range(front, front + nb), *range(front), *range(front + nb, len(indexed))]
    if order != sorted(order):
        v = x.trace.emit(array.TransposeOp(v.value, order))
    indices = _index_operand(x, [arrays[d] for d in axes], [x.shape[d] for d in axes], batch)
    if kind in ("add", "set"):
        return _strong(x.trace.emit(array.ScatterOp(x.value, indices.value, v.value, axes, kind, "drop")))
    return _compare_all(x, indices, v, axes, kind)


def _compare_all(x: TracedArray, indices: TracedArray, v: TracedArray, axes: list[int], kind: str) -> TracedArray:
    """multiply, min, max at traced indices: every position of the indexed
    axes compared with every update's (a [positions, updates] mask, so
    O(positions x updates) work), then one reduction per position over x's
    element and the updates aimed at it, as with constant keys. Rows out
    of range (after wrapping) match no position: dropped."""
    sizes = [x.shape[a] for a in axes]
    rest = [d for d in range(x.ndim) if d not in axes]
    count, width = math.prod(sizes), math.prod(x.shape[d] for d in rest)
    rows = math.prod(indices.shape[:-1])
    flat_idx = _reshape(indices, (rows, len(axes)))
    position, inside = None, None
    for k, n in enumerate(sizes):
        column = flat_idx[:, k]
        ok = elementwise.logical_and(elementwise.greater_equal(column, 0), elementwise.less(column, n))
        term = elementwise.multiply(column, math.prod(sizes[k + 1 :]))
        position = term if position is None else elementwise.add(position, term)
        inside = ok if inside is None else elementwise.logical_and(inside, ok)
    position = elementwise.where(inside, position, -1)
    hit = elementwise.equal(_reshape(position, (1, rows)), np.arange(count, dtype=position.dtype).reshape(count, 1))
    moved = x.trace.emit(array.TransposeOp(x.value, [*axes, *rest])) if axes + rest != list(range(x.ndim)) else x
    updates = broadcast_to(_reshape(v, (1, rows, width)), (count, rows, width))
    new = _reshape(_combine(kind, _reshape(moved, (count, width)), updates, hit), tuple(moved.shape))
    if new.shape == x.shape and axes + rest == list(range(x.ndim)):
        return _strong(new)
    return _strong(x.trace.emit(array.TransposeOp(new.value, list(np.argsort([*axes, *rest])))))


def _dynamic_update(x: TracedArray, key: Any, values: Any, kind: str) -> TracedArray:
    """x.at[key] with traced scalar indices (a loop's index), ints and unit
    step slices: the window is read (array.dynamic_slice), combined with
    the values and written back (array.dynamic_update_slice). An index
    out of range after wrapping negative ones once drops the update, as
    JAX's scatter does."""
    items = key if isinstance(key, tuple) else (key,)
    entries = _expand_ellipsis(x, list(items))
    if len(entries) != x.ndim:
        raise TraceIndexError(f"x.at[{key!r:.60}]: None is not supported with a traced index")
    starts: list[Any] = []
    sizes: list[int] = []
    kept: list[int] = []
    inside: Any = True
    for k, n in zip(entries, x.shape):
        if _is_scalar_index(k):
            wrapped = elementwise.where(elementwise.less(k, 0), elementwise.add(k, n), k)
            ok = elementwise.logical_and(elementwise.greater_equal(wrapped, 0), elementwise.less(wrapped, n))
            inside = ok if inside is True else elementwise.logical_and(inside, ok)
            starts.append(wrapped), sizes.append(1)
        elif isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_):
            if not -n <= k < n:
                raise TraceIndexError(f"index {k} is out of bounds for axis {len(starts)} with size {n}")
            starts.append(int(k) % n), sizes.append(1)
        elif isinstance(k, slice) and k.step in (None, 1) and not any(
            isinstance(p, TracedArray) for p in (k.start, k.stop)
        ):
            lo, hi, _ = k.indices(n)
            starts.append(lo), sizes.append(max(hi - lo, 0)), kept.append(len(sizes) - 1)
        else:
            raise TraceIndexError(
                f"x.at[{key!r:.60}]: with a traced index, the other entries of the key must be ints, "
                "unit-step slices or '...'"
            )
    shape = tuple(sizes[d] for d in kept)
    v = _operand(f"x.at[...].{kind}", values)
    _check_values(kind, v, shape)
    old = dynamic_slice(x, starts, sizes)
    v = _reshape(_coerce(old.trace, v, x.dtype, shape), tuple(sizes))
    new = {
        "set": lambda: v,
        "add": lambda: elementwise.add(old, v),
        "multiply": lambda: elementwise.multiply(old, v),
        "min": lambda: elementwise.minimum(old, v),
        "max": lambda: elementwise.maximum(old, v),
    }[kind]()
    return dynamic_update_slice(x, elementwise.where(inside, new, old), starts)


__all__: list[str] = []
