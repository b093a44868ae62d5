"""Indexing traced arrays: `x[key]`.

Expects: a key of Python ints, slices with steps > 0, None and `...`.

Guarantees: at most one `array.slice` and one `array.reshape`; an index
out of bounds, a negative step, or a traced index or mask (whose value,
and for a mask the result's shape, is unknown while tracing) is a
`TraceIndexError` that says what to write instead (gnp.where, or
gradc.scan for the index of a loop).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceIndexError
from gradc.frontend.operands import _BOOL, _reshape, _strong
from gradc.frontend.tracer import TracedArray, _dynamic_index_hint

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


__all__: list[str] = []
