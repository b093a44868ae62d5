"""Shape and joining gnp functions: reshape, ravel, squeeze, expand_dims,
transpose, moveaxis, swapaxes, atleast_1d/2d/3d, broadcast_to, concatenate,
stack, hstack, vstack, dstack, column_stack, append, split, array_split,
flip, rot90, roll, repeat, tile, pad, diff, diagonal, diag, tril, triu,
shape, ndim.

Expects: an array (or a sequence of them to join) and NumPy's shape and
axis arguments.

Guarantees: the primitives (reshape ... stack) emit at most one
`array.reshape`, `array.transpose`, `array.broadcast` or
`array.concatenate` per call (none when the shape does not change); the
others are composites of them, of slices and of `where` with constant
masks (flip: one slice with stride -1); the result is strongly typed, as NumPy's is; a bad
shape, axis or permutation is a `GradcError` naming the shapes. Joined
arrays take their common NumPy dtype (Python numbers count as arrays
there, not weakly).
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import not_equal, subtract, where
from gradc.frontend.operands import (
    _ARRAY_DTYPES,
    Operand,
    _array_like,
    _broadcast,
    _convert,
    _lift,
    _normalize_axes,
    _normalize_axis,
    _operand,
    _promotion_key,
    _reshape,
    _strong,
)
from gradc.frontend.tracer import Trace, TracedArray, _trace_of
from gradc.support.dense import splat_dense

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


def _traced(name: str, a: Any) -> Any:
    """`a` as a traced array, or None when nothing in it is traced."""
    a = _array_like(a)
    return a if isinstance(a, TracedArray) else None


def _along(x: TracedArray, axis: int, start: int | None, stop: int | None) -> TracedArray:
    """x[..., start:stop, ...] at `axis` (Python's slice rules)."""
    return x[(slice(None),) * axis + (slice(start, stop),)]


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Move axes `source` to positions `destination` (ints or sequences)."""
    x = _traced("moveaxis", a)
    if x is None:
        return np.moveaxis(a, source, destination)
    src = source if isinstance(source, Sequence) else (source,)
    dst = destination if isinstance(destination, Sequence) else (destination,)
    if len(src) != len(dst):
        raise TraceError(f"moveaxis: source {source!r} and destination {destination!r} differ in length")
    src = [_normalize_axis("moveaxis", d, x.shape) for d in src]
    dst = [_normalize_axis("moveaxis", d, x.shape) for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise TraceError(f"moveaxis: repeated axis in source {source!r} or destination {destination!r}")
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def swapaxes(a: Any, axis1: Any, axis2: Any) -> Any:
    """Exchange two axes."""
    x = _traced("swapaxes", a)
    if x is None:
        return np.swapaxes(a, axis1, axis2)
    i, j = _normalize_axis("swapaxes", axis1, x.shape), _normalize_axis("swapaxes", axis2, x.shape)
    perm = list(range(x.ndim))
    perm[i], perm[j] = j, i
    return transpose(x, tuple(perm))


def _atleast(name: str, ndmin: int, arrays: tuple[Any, ...]) -> Any:
    out = []
    for a in arrays:
        x = _traced(name, a)
        if x is None:
            out.append(getattr(np, name)(a))
            continue
        x = _strong(x)
        if x.ndim < ndmin:
            if ndmin == 3 and x.ndim == 2:
                x = _reshape(x, (*x.shape, 1))
            elif ndmin == 3:
                x = _reshape(x, (1, x.size, 1))
            else:
                x = _reshape(x, (1,) * (ndmin - x.ndim) + x.shape)
        out.append(x)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arrays: Any) -> Any:
    return _atleast("atleast_1d", 1, arrays)


def atleast_2d(*arrays: Any) -> Any:
    """1-D arrays become rows (1, n)."""
    return _atleast("atleast_2d", 2, arrays)


def atleast_3d(*arrays: Any) -> Any:
    """1-D arrays become (1, n, 1), 2-D ones (m, n, 1)."""
    return _atleast("atleast_3d", 3, arrays)


def _join(name: str, arrays: Sequence[Any], prepare: Any, axis: int) -> Any:
    if isinstance(arrays, TracedArray) or not isinstance(arrays, Sequence):
        raise TraceTypeError(f"{name}: takes a sequence of arrays (a list or tuple)")
    if _trace_of(name, arrays) is None:
        return getattr(np, name)(arrays)
    return concatenate([prepare(a) for a in arrays], axis=axis)


def hstack(tup: Sequence[Any]) -> Any:
    """Join along axis 1 (along axis 0 for 1-D arrays)."""
    if isinstance(tup, Sequence) and not isinstance(tup, TracedArray) and tup:
        ones = [atleast_1d(a) for a in tup]
        return _join("hstack", ones, lambda a: a, 0 if ndim(ones[0]) == 1 else 1)
    return _join("hstack", tup, atleast_1d, 0)


def vstack(tup: Sequence[Any]) -> Any:
    """Join along axis 0, 1-D arrays as rows."""
    return _join("vstack", tup, atleast_2d, 0)


def dstack(tup: Sequence[Any]) -> Any:
    """Join along axis 2, after atleast_3d."""
    return _join("dstack", tup, atleast_3d, 2)


def column_stack(tup: Sequence[Any]) -> Any:
    """Join along axis 1, 1-D arrays as columns."""

    def column(a: Any) -> Any:
        x = _traced("column_stack", a)
        if x is None:
            x = np.asarray(a)
            return x.reshape(-1, 1) if x.ndim < 2 else x
        return _reshape(_strong(x), (x.size, 1)) if x.ndim < 2 else x

    return _join("column_stack", tup, column, 1)


def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """`values` after `arr` along `axis` (None: both flattened)."""
    if _trace_of("append", (arr, values)) is None:
        return np.append(arr, values, axis=axis)
    if axis is None:
        return concatenate([arr, values], axis=None)
    return concatenate([arr, values], axis=axis)


def array_split(ary: Any, indices_or_sections: Any, axis: Any = 0) -> Any:
    """Split into `indices_or_sections` parts (an int: the first n % k parts
    one longer) or at the indices of a sequence, along `axis`."""
    return _split("array_split", ary, indices_or_sections, axis, equal=False)


def split(ary: Any, indices_or_sections: Any, axis: Any = 0) -> Any:
    """Split into equal parts (an int that must divide the axis) or at the
    indices of a sequence, along `axis`."""
    return _split("split", ary, indices_or_sections, axis, equal=True)


def _split(name: str, ary: Any, sections: Any, axis: Any, equal: bool) -> list[Any]:
    x = _traced(name, ary)
    if x is None:
        return getattr(np, name)(ary, sections, axis=axis)
    ax = _normalize_axis(name, axis, x.shape)
    n = x.shape[ax]
    if isinstance(sections, TracedArray):
        raise TraceTypeError(f"{name}: the sections are Python ints, not a traced array")
    if isinstance(sections, Sequence | np.ndarray):
        try:
            cuts = [operator.index(i) for i in sections]
        except TypeError:
            raise TraceTypeError(f"{name}: split indices must be integers, got {sections!r}") from None
        bounds = list(zip([0, *cuts], [*cuts, n]))
    else:
        try:
            k = operator.index(sections)
        except TypeError:
            raise TraceTypeError(f"{name}: sections must be an int or a sequence of ints, got {sections!r}") from None
        if k <= 0:
            raise TraceError(f"{name}: the number of sections must be larger than 0, got {k}")
        if equal and n % k:
            raise TraceError(f"{name}: axis {ax} of size {n} does not split into {k} equal sections")
        size, extra = divmod(n, k)
        edges = [0]
        for i in range(k):
            edges.append(edges[-1] + size + (i < extra))
        bounds = list(zip(edges[:-1], edges[1:]))
    return [_along(x, ax, lo, hi) for lo, hi in bounds]


def flip(m: Any, axis: Any = None) -> Any:
    """Reverse the order of elements along `axis` (None: every axis)."""
    x = _traced("flip", m)
    if x is None:
        return np.flip(m, axis=axis)
    axes = _normalize_axes("flip", axis, x.shape)
    return x[tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(x.ndim))]


def fliplr(m: Any) -> Any:
    return flip(m, axis=1)


def flipud(m: Any) -> Any:
    return flip(m, axis=0)


def rot90(m: Any, k: Any = 1, axes: Any = (0, 1)) -> Any:
    """Rotate by 90 degrees k times in the plane of `axes`, from the first
    towards the second."""
    x = _traced("rot90", m)
    if x is None:
        return np.rot90(m, k, axes)
    if len(axes) != 2:
        raise TraceError(f"rot90: axes must be two axes, got {axes!r}")
    a0, a1 = (_normalize_axis("rot90", d, x.shape) for d in axes)
    if a0 == a1:
        raise TraceError(f"rot90: axes {tuple(axes)} must be different")
    k = operator.index(k) % 4
    if k == 0:
        return _strong(x)
    if k == 2:
        return flip(flip(x, a0), a1)
    if k == 1:
        return swapaxes(flip(x, a1), a0, a1)
    return flip(swapaxes(x, a0, a1), a1)


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """Elements shifted by `shift` along `axis`, those past the end coming
    back at the start (None: along the flattened array, shape kept)."""
    x = _traced("roll", a)
    if x is None:
        return np.roll(a, shift, axis=axis)
    if isinstance(shift, TracedArray):
        raise TraceTypeError("roll: the shift is a Python int, not a traced array")
    x = _strong(x)
    if axis is None:
        return _reshape(roll(_reshape(x, (x.size,)), shift, 0), x.shape)
    shifts = shift if isinstance(shift, Sequence) else (shift,)
    axes = axis if isinstance(axis, Sequence) else (axis,)
    if len(shifts) == 1:
        shifts = tuple(shifts) * len(axes)
    if len(axes) == 1:
        axes = tuple(axes) * len(shifts)
    if len(shifts) != len(axes):
        raise TraceError(f"roll: shift {shift!r} and axis {axis!r} differ in length")
    total: dict[int, int] = {}
    for s, d in zip(shifts, axes):
        d = _normalize_axis("roll", d, x.shape)
        total[d] = total.get(d, 0) + operator.index(s)
    for d, s in total.items():
        n = x.shape[d]
        if n and s % n:
            cut = n - s % n
            x = concatenate([_along(x, d, cut, None), _along(x, d, 0, cut)], axis=d)
    return x


def repeat(a: Any, repeats: Any, axis: Any = None, *, total_repeat_length: Any = None) -> Any:
    """Each element `repeats` times along `axis` (None: of the flattened
    array): an int for all, or constant counts per element (a static
    gather). `total_repeat_length` (jnp's) must equal the counts' sum."""
    x = _traced("repeat", a)
    if x is None:
        return np.repeat(a, repeats, axis=axis)
    if isinstance(repeats, TracedArray):
        raise TraceTypeError(
            "repeat: the counts must be constants (Python ints or a NumPy array): traced counts "
            "would give a result whose shape depends on values"
        )
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iub":
        raise TraceTypeError(f"repeat: repeats must be integers, got {repeats!r}")
    if (counts < 0).any():
        raise TraceError(f"repeat: repeats must be >= 0, got {repeats!r}")
    x = _strong(x)
    if axis is None:
        x, axis = _reshape(x, (x.size,)), 0
    ax = _normalize_axis("repeat", axis, x.shape)
    s = x.shape
    if counts.size != 1 and counts.shape != (s[ax],):
        raise TraceError(
            f"repeat: repeats of shape {counts.shape} do not match axis {ax} of length {s[ax]} "
            "(one count per element, or one count for all)"
        )
    total = int(counts.sum()) if counts.size != 1 else int(counts.reshape(-1)[0]) * s[ax]
    if total_repeat_length is not None and operator.index(total_repeat_length) != total:
        raise TraceError(f"repeat: total_repeat_length={total_repeat_length} but the counts sum to {total}")
    if counts.size != 1:
        from gradc.frontend.indexing import take  # indexing builds on this module

        return take(x, np.repeat(np.arange(s[ax]), counts), axis=ax)
    r = int(counts.reshape(-1)[0])
    wide = _broadcast(_reshape(x, s[: ax + 1] + (1,) + s[ax + 1 :]), s[: ax + 1] + (r,) + s[ax + 1 :])
    return _reshape(wide, s[:ax] + (s[ax] * r,) + s[ax + 1 :])


def tile(A: Any, reps: Any) -> Any:
    """`A` repeated `reps` times along each axis (reps an int or a tuple)."""
    x = _traced("tile", A)
    if x is None:
        return np.tile(A, reps)
    reps = _shape_arg("tile", reps)
    if builtins.any(r < 0 for r in reps):
        raise TraceError(f"tile: reps must be >= 0, got {reps}")
    d = builtins.max(x.ndim, len(reps))
    reps = (1,) * (d - len(reps)) + reps
    shape_ = (1,) * (d - x.ndim) + x.shape
    inter = tuple(n for pair in zip((1,) * d, shape_) for n in pair)
    wide = tuple(n for pair in zip(reps, shape_) for n in pair)
    return _strong(_reshape(_broadcast(_reshape(_strong(x), inter), wide), tuple(r * n for r, n in zip(reps, shape_))))


def _pairs(name: str, value: Any, ndim_: int, what: str) -> list[tuple[Any, Any]]:
    """NumPy's per-axis (before, after) pairs from a scalar, a pair or one
    pair per axis."""
    arr = np.asarray(value, dtype=object)
    try:
        full = np.broadcast_to(arr, (ndim_, 2)) if arr.ndim <= 2 else None
    except ValueError:
        full = None
    if full is None:
        raise TraceError(f"{name}: {what} {value!r} is not a number, a pair or one pair per axis of {ndim_}")
    return [(full[d, 0], full[d, 1]) for d in range(ndim_)]


def pad(array_: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """`array_` with `pad_width` elements of `constant_values` (default 0)
    before and after along each axis; mode='constant' only."""
    x = _traced("pad", array_)
    if x is None:
        return np.pad(array_, pad_width, mode=mode, **kwargs)
    if mode != "constant":
        raise TraceError(f"pad: only mode='constant' is supported on traced arrays, got mode={mode!r}")
    values = kwargs.pop("constant_values", 0)
    if kwargs:
        raise TraceTypeError(f"pad: unexpected arguments {', '.join(kwargs)} for mode='constant'")
    widths = _pairs("pad", pad_width, x.ndim, "pad_width")
    try:
        widths = [(operator.index(b), operator.index(e)) for b, e in widths]
    except TypeError:
        raise TraceTypeError(f"pad: pad_width must hold ints, got {pad_width!r}") from None
    if builtins.any(b < 0 or e < 0 for b, e in widths):
        raise TraceError(f"pad: pad_width must be >= 0, got {pad_width!r}")
    if isinstance(values, TracedArray) and values.ndim:
        raise TraceError(f"pad: a traced constant_values must be 0-d, got shape {values.shape}")
    fills = [(values, values)] * x.ndim if isinstance(values, TracedArray) else _pairs("pad", values, x.ndim, "constant_values")
    x = _strong(x)
    for d, ((b, e), (vb, ve)) in enumerate(zip(widths, fills)):
        parts = []
        for width, v in ((b, vb), (0, None), (e, ve)):
            if v is None:
                parts.append(x)
            elif width:
                side = x.shape[:d] + (width,) + x.shape[d + 1 :]
                if isinstance(v, TracedArray):
                    parts.append(_broadcast(_convert(x.trace.adopt(v), x.dtype), side))
                else:
                    parts.append(x.trace.emit(array.ConstantOp(splat_dense(np.asarray(v).astype(x.dtype), x.dtype, side))))
        if len(parts) > 1:
            x = x.trace.emit(array.ConcatenateOp([p.value for p in parts], d))
    return x


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """n-th differences a[i+1] - a[i] along `axis` (for bool arrays, !=)."""
    if _trace_of("diff", (a, prepend, append)) is None:
        kw = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
        return np.diff(a, n=n, axis=axis, **kw)
    x = _strong_operand("diff", a)
    n = operator.index(n)
    if n < 0:
        raise TraceError(f"diff: order n must be >= 0, got {n}")
    if x.ndim == 0:
        raise TraceError("diff: needs an array of at least one dimension")
    ax = _normalize_axis("diff", axis, x.shape)
    parts = []
    for extra, at_end in ((prepend, False), (x, None), (append, True)):
        if extra is None:
            continue
        if at_end is None:
            parts.append(extra)
            continue
        e = _strong_operand("diff", extra)
        if e.ndim == 0:
            side = x.shape[:ax] + (1,) + x.shape[ax + 1 :]
            e = broadcast_to(e, side) if isinstance(e, TracedArray) else np.broadcast_to(e, side)
        parts.append(e)
    x = concatenate(parts, axis=ax) if len(parts) > 1 else x
    for _ in range(n):
        m = x.shape[ax]
        if m == 0:
            break
        hi, lo = _along(x, ax, 1, None), _along(x, ax, 0, m - 1)
        x = not_equal(hi, lo) if x.dtype == np.bool_ else subtract(hi, lo)
    return x


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal `offset` of the (axis1, axis2) planes, as a last axis:
    the planes flattened and sliced with stride (columns + 1)."""
    x = _traced("diagonal", a)
    if x is None:
        return np.diagonal(a, offset, axis1, axis2)
    if x.ndim < 2:
        raise TraceError(f"diagonal: needs an array of at least 2 dimensions, got shape {x.shape}")
    i, j = _normalize_axis("diagonal", axis1, x.shape), _normalize_axis("diagonal", axis2, x.shape)
    if i == j:
        raise TraceError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    offset = operator.index(offset)
    rest = [d for d in range(x.ndim) if d not in (i, j)]
    planes = transpose(x, (*rest, i, j))
    rows, cols = x.shape[i], x.shape[j]
    length = builtins.max(0, builtins.min(rows, cols - offset) if offset >= 0 else builtins.min(rows + offset, cols))
    batch = tuple(x.shape[d] for d in rest)
    if length == 0:
        return x.trace.emit(array.ConstantOp(splat_dense(0, x.dtype, batch + (0,))))
    flat = _reshape(planes, batch + (rows * cols,))
    start = offset if offset >= 0 else -offset * cols
    step = cols + 1
    return _along_step(flat, start, start + (length - 1) * step + 1, step)


def _along_step(x: TracedArray, start: int, stop: int, step: int) -> TracedArray:
    return x[..., start:stop:step]


def diag(v: Any, k: int = 0) -> Any:
    """A 1-D `v` on diagonal k of a square matrix; of a 2-D `v`, its
    diagonal k."""
    x = _traced("diag", v)
    if x is None:
        return np.diag(v, k)
    k = operator.index(k)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise TraceError(f"diag: takes a 1-D or 2-D array, got shape {x.shape}")
    n = x.shape[0]
    size = n + builtins.abs(k)
    # Row i of the result holds v[i] at column i + k (k >= 0); column j holds
    # v[j] at row j - k (k < 0): v padded with |k| zeros along the other axis.
    padded = pad(x, (0, builtins.abs(k)))
    full = _broadcast(_reshape(padded, (size, 1)), (size, size)) if k >= 0 else _broadcast(padded, (size, size))
    return where(np.eye(size, k=k, dtype=bool), full, np.zeros((), x.dtype))


def _triangle(name: str, m: Any, k: int, lower: bool) -> Any:
    x = _traced(name, m)
    if x is None:
        return getattr(np, name)(m, k)
    if x.ndim == 0:
        raise TraceError(f"{name}: needs an array of at least 1 dimension")
    x = _strong(x) if x.ndim >= 2 else _broadcast(_strong(x), (x.shape[0], x.shape[0]))
    rows, cols = x.shape[-2:]
    k = operator.index(k)
    keep = np.tri(rows, cols, k if lower else k - 1, dtype=bool)
    return where(keep, x, np.zeros((), x.dtype)) if lower else where(keep, np.zeros((), x.dtype), x)


def tril(m: Any, k: int = 0) -> Any:
    """Zeros above diagonal k of the last two axes."""
    return _triangle("tril", m, k, True)


def triu(m: Any, k: int = 0) -> Any:
    """Zeros below diagonal k of the last two axes."""
    return _triangle("triu", m, k, False)


__all__ = [
    "reshape", "ravel", "squeeze", "expand_dims", "transpose", "broadcast_to", "concatenate",
    "stack", "shape", "ndim",
    "moveaxis", "swapaxes", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack",
    "column_stack", "append", "split", "array_split", "flip", "fliplr", "flipud", "rot90", "roll",
    "repeat", "tile", "pad", "diff", "diagonal", "diag", "tril", "triu",
]
