"""Convolution and pooling: `conv_general_dilated`, `conv` (jax.lax's),
`conv_nd` (gradc.nn.conv's friendly form), `reduce_window` for add and max,
and flax.linen-style `max_pool` and `avg_pool`.

Expects: float arrays with 1 or 2 (or more) spatial dimensions, JAX's
argument meanings (padding 'SAME'/'SAME_LOWER'/'VALID' or (lo, hi) pairs,
negative pairs crop; dimension_numbers as three layout strings).

Guarantees: composites of pad, strided slices, stack/reshape/transpose and
one (batched) matmul (im2col), so they differentiate (the VJPs of slice and
matmul are the two transposed convolutions), batch, lower and print like
any gnp code; the same code runs on NumPy arrays. Max over a window passes
the derivative to the first maximum in row-major window order (XLA's
select_and_scatter with `ge`, what JAX's reduce_window max gives). Bad
shapes, layouts, groups or paddings are a located `GradcError` at trace
time. Rationale and measurements: docs/conv.md.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import add, equal, maximum, multiply, stop_gradient, where
from gradc.frontend.linalg import matmul
from gradc.frontend.operands import _array_like
from gradc.frontend.shapes import concatenate, pad, reshape, stack, transpose
from gradc.frontend.tracer import TracedArray

__all__ = [
    "avg_pool",
    "conv",
    "conv_general_dilated",
    "conv_nd",
    "max_pool",
    "reduce_window",
]

Pairs = list[tuple[int, int]]


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------


def _ints(name: str, what: str, value: Any, count: int, default: int, least: int) -> tuple[int, ...]:
    """One int per spatial dimension (an int is repeated; None is `default`)."""
    if value is None:
        return (default,) * count
    items = value if isinstance(value, Sequence) and not isinstance(value, str) else (value,) * count
    try:
        items = tuple(operator.index(v) for v in items)
    except TypeError:
        raise TraceTypeError(f"{name}: {what} must be integers, got {value!r}") from None
    if len(items) != count:
        raise TraceError(f"{name}: {what} {value!r} needs {count} entries (one per spatial dimension)")
    if any(v < least for v in items):
        raise TraceError(f"{name}: {what} must be >= {least}, got {value!r}")
    return items


def _dilated(n: int, d: int) -> int:
    return 0 if n == 0 else (n - 1) * d + 1


def _pads(
    name: str, padding: Any, sizes: Sequence[int], windows: Sequence[int], strides: Sequence[int]
) -> Pairs:
    """(lo, hi) per spatial dimension, from JAX's padding strings (window
    sizes already dilated) or explicit pairs."""
    if isinstance(padding, str):
        kind = padding.upper()
        if kind == "VALID":
            return [(0, 0)] * len(sizes)
        if kind not in ("SAME", "SAME_LOWER"):
            raise TraceError(f"{name}: padding must be 'SAME', 'SAME_LOWER', 'VALID' or (lo, hi) pairs, got {padding!r}")
        pairs = []
        for n, k, s in zip(sizes, windows, strides):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            small, big = total // 2, total - total // 2
            pairs.append((small, big) if kind == "SAME" else (big, small))
        return pairs
    try:
        pairs = [tuple(operator.index(v) for v in p) for p in padding]
    except TypeError:
        raise TraceTypeError(f"{name}: padding must be a string or (lo, hi) integer pairs, got {padding!r}") from None
    if len(pairs) != len(sizes) or any(len(p) != 2 for p in pairs):
        raise TraceError(f"{name}: padding {padding!r} needs one (lo, hi) pair per spatial dimension ({len(sizes)})")
    return [(lo, hi) for lo, hi in pairs]


def _out_sizes(name: str, sizes: Sequence[int], pads: Pairs, windows: Sequence[int], strides: Sequence[int]) -> list[int]:
    outs = []
    for d, (n, (lo, hi), k, s) in enumerate(zip(sizes, pads, windows, strides)):
        span = n + lo + hi - k
        if span < 0:
            raise TraceError(
                f"{name}: spatial dimension {d}: window {k} (dilated) is larger than the "
                f"padded input {n + lo + hi}"
            )
        outs.append(span // s + 1)
    return outs


# --------------------------------------------------------------------------
# Windows over an array whose leading axis is the batch and whose spatial
# axes are 1..S (channels, if any, after them)
# --------------------------------------------------------------------------


def _axis_slice(x: Any, axis: int, start: int, stop: int, step: int = 1) -> Any:
    return x[(slice(None),) * axis + (slice(start, stop, step),)]


def _interleave(x: Any, axis: int, d: int) -> Any:
    """d - 1 zeros between the elements along `axis` (lhs/base dilation)."""
    n = x.shape[axis]
    if d == 1 or n <= 1:
        return x
    rows = reshape(x, x.shape[: axis + 1] + (1,) + x.shape[axis + 1 :])
    gaps = np.zeros(x.shape[: axis + 1] + (d - 1,) + x.shape[axis + 1 :], x.dtype)
    spread = reshape(concatenate([rows, gaps], axis + 1), x.shape[:axis] + (n * d,) + x.shape[axis + 1 :])
    return _axis_slice(spread, axis, 0, _dilated(n, d))


def _padded(x: Any, axes: Sequence[int], pads: Pairs, fill: float) -> Any:
    """`x` padded by (lo, hi) along `axes`; negative amounts crop. Each axis
    is padded in a 3-D view (before, axis, after), so loop nests stay
    shallow."""
    for ax, (lo, hi) in zip(axes, pads):
        if lo == hi == 0:
            continue
        shape = x.shape
        view = reshape(x, (math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1 :])))
        if lo < 0 or hi < 0:
            view = _axis_slice(view, 1, max(-lo, 0), shape[ax] - max(-hi, 0))
        if lo > 0 or hi > 0:
            view = pad(view, [(0, 0), (max(lo, 0), max(hi, 0)), (0, 0)], constant_values=fill)
        x = reshape(view, (*shape[:ax], view.shape[1], *shape[ax + 1 :]))
    return x


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------


def _specs(dimension_numbers: Any, ndim: int) -> tuple[str, str, str]:
    name = "conv_general_dilated"
    if dimension_numbers is None:
        spatial = "HWDXYZ"[: ndim - 2]
        return "NC" + spatial, "OI" + spatial, "NC" + spatial
    if (
        not isinstance(dimension_numbers, Sequence)
        or len(dimension_numbers) != 3
        or not all(isinstance(s, str) for s in dimension_numbers)
    ):
        raise TraceTypeError(
            f"{name}: dimension_numbers must be None or three layout strings such as "
            f"('NHWC', 'HWIO', 'NHWC'), got {dimension_numbers!r}"
        )
    lhs, rhs, out = dimension_numbers
    for spec, pair, what in ((lhs, "NC", "lhs"), (rhs, "OI", "rhs"), (out, "NC", "out")):
        if len(spec) != ndim or len(set(spec)) != ndim or any(spec.count(c) != 1 for c in pair):
            raise TraceError(
                f"{name}: {what} layout {spec!r} must name {ndim} distinct dimensions, "
                f"{pair[0]} and {pair[1]} once each"
            )
    if set(lhs) - set("NC") != set(rhs) - set("OI") or set(out) - set("NC") != set(rhs) - set("OI"):
        raise TraceError(f"{name}: layouts {lhs!r}, {rhs!r}, {out!r} name different spatial dimensions")
    return lhs, rhs, out


def conv_general_dilated(
    lhs: Any,
    rhs: Any,
    window_strides: Any,
    padding: Any,
    lhs_dilation: Any = None,
    rhs_dilation: Any = None,
    dimension_numbers: Any = None,
    feature_group_count: int = 1,
    batch_group_count: int = 1,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Any:
    """jax.lax.conv_general_dilated: cross-correlation of `lhs` with the
    filters `rhs` (no flip). Layouts from `dimension_numbers` (None: NC...,
    OI..., NC...); spatial dimensions are numbered in the order `rhs`'s
    layout lists them, for strides, padding and dilations. Needs equal
    float dtypes, as JAX; batch_group_count 1 only."""
    name = "conv_general_dilated"
    lhs, rhs = _array_like(lhs), _array_like(rhs)
    for what, v in (("lhs", lhs), ("rhs", rhs)):
        if not hasattr(v, "shape") or np.ndim(v) < 3:
            raise TraceError(f"{name}: {what} must be an array with batch/feature and >= 1 spatial dimensions, got shape {np.shape(v)}")
    if lhs.ndim != rhs.ndim:
        raise TraceError(f"{name}: lhs shape {lhs.shape} and rhs shape {rhs.shape} differ in rank")
    if np.dtype(lhs.dtype) != np.dtype(rhs.dtype) or np.dtype(lhs.dtype) not in (np.float32, np.float64):
        raise TraceTypeError(
            f"{name}: lhs and rhs need the same float dtype (float32 or float64), as in JAX; "
            f"got {np.dtype(lhs.dtype).name} and {np.dtype(rhs.dtype).name}"
        )
    if batch_group_count != 1:
        raise TraceError(f"{name}: batch_group_count {batch_group_count!r} is not supported (only 1)")
    if preferred_element_type is not None and np.dtype(preferred_element_type) != np.dtype(lhs.dtype):
        raise TraceError(f"{name}: preferred_element_type must be None or the operands' dtype")
    lspec, rspec, ospec = _specs(dimension_numbers, lhs.ndim)
    spatial = [c for c in rspec if c not in "OI"]
    S = len(spatial)
    # Internal layouts: x (N, spatial..., C), w (spatial..., I, O).
    x = transpose(lhs, [lspec.index("N"), *(lspec.index(c) for c in spatial), lspec.index("C")])
    w = transpose(rhs, [*(rspec.index(c) for c in spatial), rspec.index("I"), rspec.index("O")])
    strides = _ints(name, "window_strides", window_strides, S, 1, 1)
    ldil = _ints(name, "lhs_dilation", lhs_dilation, S, 1, 1)
    rdil = _ints(name, "rhs_dilation", rhs_dilation, S, 1, 1)
    groups = feature_group_count
    if not isinstance(groups, int) or groups < 1:
        raise TraceError(f"{name}: feature_group_count must be a positive int, got {groups!r}")
    channels, in_per_group, features = x.shape[-1], w.shape[-2], w.shape[-1]
    if channels % groups or features % groups:
        raise TraceError(
            f"{name}: feature_group_count {groups} must divide the input features ({channels}) "
            f"and the output features ({features})"
        )
    if channels != in_per_group * groups:
        raise TraceError(
            f"{name}: lhs has {channels} features but rhs expects {in_per_group} per group x "
            f"{groups} group(s) = {in_per_group * groups} (lhs {lhs.shape} {lspec}, rhs {rhs.shape} {rspec})"
        )
    kernel = w.shape[:S]
    windows = [_dilated(k, d) for k, d in zip(kernel, rdil)]
    sizes = [_dilated(n, d) for n, d in zip(x.shape[1:-1], ldil)]
    if isinstance(padding, str) and any(d != 1 for d in ldil):
        raise TraceError(f"{name}: string padding {padding!r} with lhs_dilation {lhs_dilation!r} is not supported (as in JAX): give (lo, hi) pairs")
    pads = _pads(name, padding, sizes, windows, strides)
    outs = _out_sizes(name, sizes, pads, windows, strides)
    if 0 in kernel or 0 in x.shape:
        raise TraceError(f"{name}: zero-size operands are not supported (lhs {lhs.shape}, rhs {rhs.shape})")
    for d in range(S):
        x = _interleave(x, 1 + d, ldil[d])
    x = _padded(x, range(1, S + 1), pads, 0.0)
    y = _im2col_matmul(x, w, strides, rdil, outs, groups)
    # y is (N, outs..., O); to the output layout.
    position = {"N": 0, **{c: 1 + i for i, c in enumerate(spatial)}, "C": S + 1}
    return transpose(y, [position[c] for c in ospec])


def _im2col(x: Any, kernel: Sequence[int], strides: Sequence[int], rdil: Sequence[int], outs: Sequence[int]) -> Any:
    """x (N, spatial..., C) to patches (N * prod(outs), prod(kernel) * C):
    row (n, o...) holds the window at output o, columns in (kernel..., C)
    order. The last spatial axis first; each step is k strided slices of a
    3-D view and one concatenate of 2-D pieces, so every loop nest is at
    most 3 deep with the contiguous dimensions merged."""
    S = len(outs)
    batch, sizes = x.shape[0], x.shape[1:-1]
    cols = x.shape[-1]  # columns so far: prod(kernel[d+1:]) * C
    inner = 1  # prod(outs[d+1:])
    flat = x
    for d in reversed(range(S)):
        lead = batch * math.prod(sizes[:d])
        view = reshape(flat, (lead, sizes[d], inner * cols))
        step, dl, n = strides[d], rdil[d], outs[d]
        rows = lead * n * inner
        parts = [
            reshape(_axis_slice(view, 1, o * dl, o * dl + (n - 1) * step + 1, step), (rows, cols))
            for o in range(kernel[d])
        ]
        flat = parts[0] if len(parts) == 1 else concatenate(parts, axis=1)
        cols, inner = cols * kernel[d], inner * n
    return flat


def _im2col_matmul(x: Any, w: Any, strides: Sequence[int], rdil: Sequence[int], outs: Sequence[int], groups: int) -> Any:
    S = len(outs)
    batch, channels = x.shape[0], x.shape[-1]
    kernel, in_per_group, features = w.shape[:S], w.shape[-2], w.shape[-1]
    K, M = math.prod(kernel), batch * math.prod(outs)
    patches = _im2col(x, kernel, strides, rdil, outs)  # (M, K * C), columns (kernel..., C)
    if groups == 1:
        y = matmul(patches, reshape(w, (K * in_per_group, features)))
    else:
        per = features // groups
        p = transpose(reshape(patches, (M, K, groups, in_per_group)), (2, 0, 1, 3))
        f = transpose(reshape(w, (K, in_per_group, groups, per)), (2, 0, 1, 3))
        y = matmul(reshape(p, (groups, M, K * in_per_group)), reshape(f, (groups, K * in_per_group, per)))
        y = transpose(y, (1, 0, 2))
    return reshape(y, (batch, *outs, features))


def conv(lhs: Any, rhs: Any, window_strides: Any, padding: Any, precision: Any = None,
         preferred_element_type: Any = None) -> Any:
    """jax.lax.conv: conv_general_dilated with NC.../OI... layouts."""
    return conv_general_dilated(lhs, rhs, window_strides, padding,
                                precision=precision, preferred_element_type=preferred_element_type)


_LAYOUTS = {
    "NCH": ("NCH", "OIH"), "NHC": ("NHC", "HIO"), "NWC": ("NWC", "WIO"), "NCW": ("NCW", "OIW"),
    "NCHW": ("NCHW", "OIHW"), "NHWC": ("NHWC", "HWIO"),
}


def conv_nd(x: Any, w: Any, stride: Any = 1, padding: Any = "SAME", dilation: Any = 1,
            groups: int = 1, layout: str = "NCHW", input_dilation: Any = None) -> Any:
    """A convolution (cross-correlation) with one layout name: 'NCHW' (w is
    OIHW), 'NHWC' (w is HWIO), or 1-D 'NCH'/'NCW' (w OIH) and 'NHC'/'NWC' (w
    HIO). stride/dilation: an int or one per spatial dimension; padding as
    conv_general_dilated's; groups is feature_group_count. Mixed float dtypes
    promote as NumPy's (f32 with f64 gives f64)."""
    if layout not in _LAYOUTS:
        raise TraceError(f"conv: layout must be one of {', '.join(map(repr, _LAYOUTS))}, got {layout!r}")
    lspec, rspec = _LAYOUTS[layout]
    x, w = _array_like(x), _array_like(w)
    dtype = np.result_type(getattr(x, "dtype", np.float64), getattr(w, "dtype", np.float64))
    if dtype in (np.float32, np.float64):
        x, w = (v if np.dtype(v.dtype) == dtype else v.astype(dtype) for v in (x, w))
    return conv_general_dilated(x, w, stride, padding, lhs_dilation=input_dilation,
                                rhs_dilation=dilation, dimension_numbers=(lspec, rspec, lspec),
                                feature_group_count=groups)


# --------------------------------------------------------------------------
# Windowed reductions and pooling
# --------------------------------------------------------------------------


def _is_add(computation: Any) -> bool:
    from gradc.frontend import elementwise

    return computation in (operator.add, np.add, elementwise.add, "add") or getattr(computation, "__name__", "") == "add"


def _is_max(computation: Any) -> bool:
    from gradc.frontend import elementwise

    return computation in (np.maximum, elementwise.maximum, "max") or getattr(computation, "__name__", "") in ("max", "maximum")


def _first_max(parts: list[Any]) -> Any:
    """max over `parts`; its derivative goes to the first part holding the
    maximum (NaN windows give NaN and no derivative)."""
    top = stop_gradient(parts[0])
    for p in parts[1:]:
        top = maximum(top, stop_gradient(p))
    result = top
    for p in reversed(parts):
        result = where(equal(p, top), p, result)
    return result


def reduce_window(operand: Any, init_value: Any, computation: Any, window_dimensions: Any,
                  window_strides: Any, padding: Any, base_dilation: Any = None,
                  window_dilation: Any = None) -> Any:
    """jax.lax.reduce_window for computation add (operator.add, gnp.add,
    lax.add) or max (gnp.maximum, lax.max) with a constant init_value: the
    reduction over every window, padding filled with init_value. Max
    differentiates to the first maximum of each window (row-major)."""
    name = "reduce_window"
    x = _array_like(operand)
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    if isinstance(init_value, TracedArray):
        raise TraceError(f"{name}: init_value must be a constant number, not a traced array")
    init = float(init_value)
    add_kind, max_kind = _is_add(computation), _is_max(computation)
    if not (add_kind or max_kind):
        raise TraceError(f"{name}: computation must be add or max (gnp.add, gnp.maximum, lax.add, lax.max), got {computation!r}")
    rank = x.ndim
    windows = _ints(name, "window_dimensions", window_dimensions, rank, 1, 1)
    strides = _ints(name, "window_strides", window_strides, rank, 1, 1)
    bdil = _ints(name, "base_dilation", base_dilation, rank, 1, 1)
    wdil = _ints(name, "window_dilation", window_dilation, rank, 1, 1)
    if any(d != 1 for d in bdil):
        raise TraceError(f"{name}: base_dilation is not supported (only 1s), got {base_dilation!r}")
    eff = [_dilated(k, d) for k, d in zip(windows, wdil)]
    pads = _pads(name, padding, x.shape, eff, strides)
    outs = _out_sizes(name, x.shape, pads, eff, strides)
    # One axis at a time, the last first (the window is a product of
    # intervals): k slices of a 3-D view per axis instead of prod(k) slices.
    # For max this still picks the row-major first maximum: the first window
    # row holding the maximum, and in it the first column that does.
    result = x
    for ax in reversed(range(rank)):
        if windows[ax] == 1 and strides[ax] == 1 and pads[ax] == (0, 0):
            continue
        shape = result.shape
        view = reshape(result, (math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1 :])))
        view = _padded(view, [1], [pads[ax]], 0.0 if add_kind else -math.inf)
        n, step, dl = outs[ax], strides[ax], wdil[ax]
        parts = [_axis_slice(view, 1, o * dl, o * dl + (n - 1) * step + 1, step) for o in range(windows[ax])]
        if add_kind:
            # zeros pad here; init is added once at the end (as XLA)
            reduced = parts[0]
            for p in parts[1:]:
                reduced = add(reduced, p)
        else:
            reduced = _first_max(parts)
        result = reshape(reduced, (*shape[:ax], n, *shape[ax + 1 :]))
    if not isinstance(result, TracedArray):
        result = np.asarray(result)
    if add_kind:
        # init once per window, padding adding nothing: what jax.lax.reduce_window gives
        return result if init == 0.0 else add(result, init)
    return result if init == -math.inf else maximum(result, init)


def _pool_args(name: str, inputs: Any, window_shape: Any, strides: Any, padding: Any) -> tuple[Any, tuple, tuple, Any, bool]:
    x = _array_like(inputs)
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    try:
        window = tuple(operator.index(k) for k in window_shape)
    except TypeError:
        raise TraceTypeError(f"{name}: window_shape must be a tuple of ints, got {window_shape!r}") from None
    S = len(window)
    if any(k < 1 for k in window):
        raise TraceError(f"{name}: window_shape entries must be >= 1, got {window_shape!r}")
    if x.ndim not in (S + 1, S + 2):
        raise TraceError(
            f"{name}: inputs of shape {x.shape} do not fit window_shape {window}: need "
            f"(batch, spatial x {S}, features) or (spatial x {S}, features)"
        )
    unbatched = x.ndim == S + 1
    if unbatched:
        x = reshape(x, (1, *x.shape))
    stride = _ints(name, "strides", strides, S, 1, 1)
    if not isinstance(padding, str):
        try:
            pairs = [tuple(operator.index(v) for v in p) for p in padding]
        except TypeError:
            raise TraceTypeError(f"{name}: padding must be 'SAME', 'VALID' or (lo, hi) pairs, got {padding!r}") from None
        if len(pairs) != S:
            raise TraceError(f"{name}: padding {padding!r} needs one (lo, hi) pair per window dimension ({S})")
        padding = [(0, 0), *pairs, (0, 0)]
    return x, (1, *window, 1), (1, *stride, 1), padding, unbatched


def _unbatch(y: Any, unbatched: bool) -> Any:
    return reshape(y, y.shape[1:]) if unbatched else y


def max_pool(inputs: Any, window_shape: Any, strides: Any = None, padding: Any = "VALID") -> Any:
    """flax.linen.max_pool: inputs (batch, spatial..., features) (batch
    optional), window over the spatial dimensions, padding 'SAME', 'VALID'
    or (lo, hi) per spatial dimension (filled with -inf). The derivative
    goes to the first maximum of each window, as JAX's."""
    x, window, stride, pads, unbatched = _pool_args("max_pool", inputs, window_shape, strides, padding)
    return _unbatch(reduce_window(x, -math.inf, "max", window, stride, pads), unbatched)


def avg_pool(inputs: Any, window_shape: Any, strides: Any = None, padding: Any = "VALID",
             count_include_pad: bool = True) -> Any:
    """flax.linen.avg_pool: the window sum divided by the window size
    (count_include_pad=True, flax's default) or by the number of
    non-padding elements in it (False). Layout as max_pool's."""
    x, window, stride, pads, unbatched = _pool_args("avg_pool", inputs, window_shape, strides, padding)
    total = reduce_window(x, 0.0, "add", window, stride, pads)
    if count_include_pad:
        y = multiply(total, 1.0 / math.prod(window))
    else:
        ones = np.ones(x.shape[1:-1], dtype=np.float64)
        counts = reduce_window(ones, 0.0, "add", window[1:-1], stride[1:-1],
                               pads if isinstance(pads, str) else pads[1:-1])
        y = multiply(total, (1.0 / counts)[..., None].astype(np.dtype(x.dtype)))
    return _unbatch(y, unbatched)
