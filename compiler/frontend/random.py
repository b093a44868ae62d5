"""gradc.random's functions: JAX's functional PRNG on Threefry-2x32.

Keys are uint32 arrays of shape (2,), as `jax.random.PRNGKey` makes them:
`key`/`PRNGKey` from a seed, `split` and `fold_in` derive new ones, the
samplers (`uniform`, `normal`, `bernoulli`, `categorical`, `randint`,
`permutation`, `truncated_normal`) draw from one. The algorithms are
JAX's with `jax_threefry_partitionable` (its default): element i of a
draw of shape S is Threefry-2x32 of counter (0, i), i the row-major index
in S, so a draw does not depend on how it is computed.

Expects: keys as made here (uint32[2], traced or not), static shapes
(Python ints), float32/float64 sample dtypes (default float64, as
gnp.zeros), int32 for randint.

Guarantees: while a function is traced the draws are `array.threefry2x32`
ops (compiled to C; constant keys become constants of the trace); outside
tracing the same algorithms run on NumPy (array.threefry2x32's meaning, gradc.dialects.array.random) and give
the same bits. Keys carry no derivative. A key of the wrong shape or
dtype, a traced shape, a bad minval/maxval/p/logits is a TraceTypeError
located at the user's call. Key representation, the JAX cross-check and
where this departs from JAX: docs/random.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceTypeError
from gradc.frontend.elementwise import astype, clip, erf, log, maximum, where
from gradc.frontend.indexing import take
from gradc.frontend.operands import _broadcast, _coerce, _constant, _reshape
from gradc.frontend.reductions import argmax, sum as _sum
from gradc.frontend.shapes import expand_dims
from gradc.frontend.special import erfinv
from gradc.frontend.tracer import UINT32, Trace, TracedArray, _trace_of, current_trace
from gradc.support.dense import numpy_to_dense

_I32 = np.dtype(np.int32)
_I64 = np.dtype(np.int64)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_MASK32 = 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _check_key(name: str, key: Any) -> TracedArray | np.ndarray:
    """`key` if it is a uint32[2] key (traced or a NumPy array), else a TraceTypeError."""
    if isinstance(key, TracedArray):
        if key.shape == (2,) and key.dtype == UINT32:
            return key
        got = f"a traced {key.dtype.name} array of shape {key.shape}"
    else:
        arr = np.asarray(key) if isinstance(key, np.ndarray | np.generic | list | tuple) else None
        if arr is not None and arr.shape == (2,) and arr.dtype == UINT32:
            return arr
        got = (f"a {arr.dtype.name} array of shape {arr.shape}" if arr is not None
               else f"a {type(key).__name__}")
    raise TraceTypeError(
        f"{name}: the key must be a uint32 array of shape (2,), as gradc.random.key(seed), "
        f"split and fold_in make them; got {got}"
    )


def _shape_arg(name: str, shape: Any) -> tuple[int, ...]:
    """A static shape: a Python int or a sequence of them, each >= 0."""
    if isinstance(shape, TracedArray) or (
        isinstance(shape, Sequence) and any(isinstance(d, TracedArray) for d in shape)
    ):
        raise TraceTypeError(
            f"{name}: the shape must be static (Python ints, fixed when the function is traced), "
            "got a traced array"
        )
    dims = (shape,) if isinstance(shape, int | np.integer) else shape
    if not isinstance(dims, Sequence | np.ndarray) or not all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise TraceTypeError(f"{name}: the shape must be a tuple of non-negative Python ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def _float_dtype(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(float if dtype is None else dtype)
    except TypeError:
        dt = None
    if dt not in _FLOATS:
        raise TraceTypeError(f"{name}: dtype must be float32 or float64, got {dtype!r}")
    return dt


def _real(name: str, what: str, x: Any, dtype: np.dtype) -> Any:
    """A bound or probability `x` (a number, or a float/int array, traced
    or not) converted to `dtype`."""
    if isinstance(x, TracedArray):
        if x.dtype.kind not in "fi":
            raise TraceTypeError(f"{name}: {what} must be a float or integer array, got a traced {x.dtype.name} array")
        return astype(x, dtype)
    if isinstance(x, bool) or not isinstance(x, int | float | np.ndarray | np.generic | list | tuple):
        raise TraceTypeError(f"{name}: {what} must be a number or an array of numbers, got {type(x).__name__} {x!r:.40}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TraceTypeError(f"{name}: {what} must be a number or an array of numbers, got a {arr.dtype.name} array")
    return arr.astype(dtype)


def _shape_of(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, TracedArray | np.ndarray) else ()


def _require_broadcast(name: str, what: str, x: Any, shape: tuple[int, ...]) -> None:
    """`x` broadcasts to `shape` (and no further), else a TraceTypeError."""
    own = _shape_of(x)
    try:
        fits = len(own) <= len(shape) and np.broadcast_shapes(own, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise TraceTypeError(f"{name}: {what} of shape {own} does not broadcast to the shape {shape}")


def _trace_for(name: str, *values: Any) -> Trace | None:
    """Where to emit: the trace of the traced values, else the running
    trace (constant keys are traced too, so draws are compiled, not
    constants), else None (NumPy)."""
    trace = _trace_of(name, values)
    return trace if trace is not None else current_trace()


# ---------------------------------------------------------------------------
# The cipher on keys and counters
# ---------------------------------------------------------------------------


def _counters(trace: Trace | None, shape: tuple[int, ...]) -> Any:
    """The low counter word of every element: its row-major index (JAX's
    iota_2x32_shape; the high word is 0 below 2**32 elements). Traced, a
    sum of one small constant per dimension, which the lowering fuses."""
    if trace is None:
        return np.arange(math.prod(shape), dtype=np.int64).reshape(shape).astype(_I32)
    total: TracedArray | None = None
    stride = 1
    for d in reversed(range(len(shape))):
        if shape[d] > 1:
            column = (np.arange(shape[d], dtype=np.int64) * stride).astype(_I32)
            column = column.reshape([shape[d] if k == d else 1 for k in range(len(shape))])
            term = _broadcast(trace.emit(array.ConstantOp(numpy_to_dense(column))), shape)
            total = term if total is None else trace.emit(array.AddOp(total.value, term.value))
        stride *= shape[d]
    return total if total is not None else _constant(trace, 0, _I32, shape)


def _cipher(
    name: str, key: Any, x0: Any, x1: Any, shape: tuple[int, ...], outputs: Sequence[str]
) -> list[Any]:
    """Words `outputs` ("x0", "x1", "xor") of Threefry-2x32 under `key` of
    counters (x0, x1) (int32, broadcast to `shape`), as int32 arrays."""
    trace = _trace_for(name, key, x0, x1)
    if trace is None:
        k = np.asarray(key).view(_I32)
        return [array.threefry_output(o, k[0], k[1], np.broadcast_to(x0, shape), np.broadcast_to(x1, shape)).view(_I32)
                for o in outputs]
    k = trace.adopt(key) if isinstance(key, TracedArray) else _constant(trace, key, UINT32, (2,))
    words = [
        _broadcast(_reshape(trace.emit(array.SliceOp(k.value, [j], [j + 1], [1])), ()), shape) for j in (0, 1)
    ]
    xs = [_coerce(trace, x, _I32, shape) for x in (x0, x1)]
    operands = [w.value for w in words] + [x.value for x in xs]
    return [trace.emit(array.Threefry2x32Op(o, *operands)) for o in outputs]


def _as_key(name: str, x0: Any, x1: Any) -> Any:
    """Two int32 words of shape S as keys uint32 (*S, 2)."""
    if not isinstance(x0, TracedArray):
        return np.stack([x0, x1], axis=-1).view(UINT32)
    shape = (*x0.shape, 1)
    parts = [_reshape(x, shape).value for x in (x0, x1)]
    both = x0.trace.emit(array.ConcatenateOp(parts, len(shape) - 1))
    return TracedArray(both.value, both.trace, dtype=UINT32)


def _bits32(name: str, key: Any, shape: tuple[int, ...]) -> Any:
    """JAX's 32 random bits per element (x0 ^ x1), as int32."""
    trace = _trace_for(name, key)
    return _cipher(name, key, 0, _counters(trace, shape), shape, ["xor"])[0]


def _split_keys(name: str, key: Any, shape: tuple[int, ...]) -> Any:
    trace = _trace_for(name, key)
    x0, x1 = _cipher(name, key, 0, _counters(trace, shape), shape, ["x0", "x1"])
    return _as_key(name, x0, x1)


def _key_at(keys: Any, i: int) -> Any:
    """Key `i` of a (n, 2) array of keys."""
    if not isinstance(keys, TracedArray):
        return keys[i]
    row = keys.trace.emit(array.SliceOp(keys.value, [i, 0], [i + 1, 2], [1, 1]))
    return TracedArray(_reshape(row, (2,)).value, keys.trace, dtype=UINT32)


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def key(seed: Any) -> Any:
    """A key from an integer seed: (0, seed mod 2**32) for seeds in int32's
    range (JAX's, whose seeds are int32 by default), (seed >> 32, seed mod
    2**32) for larger int64 seeds (JAX with x64)."""
    name = "gradc.random.key"
    if isinstance(seed, TracedArray):
        if seed.shape != () or seed.dtype.kind != "i" or seed.dtype == UINT32:
            raise TraceTypeError(f"{name}: the seed must be a scalar integer, got a traced {seed.dtype.name} array {seed.shape}")
        low = astype(seed, _I32)
        if seed.dtype == _I32:
            high: Any = 0
        else:
            wide = (seed < -(2**31)) | (seed >= 2**31)
            high = where(wide, astype(seed >> 32, _I32), 0)
        x0, x1 = high, low
        trace = seed.trace
        words = [_coerce(trace, w, _I32, ()) for w in (x0, x1)]
        return _as_key(name, *words)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or np.ndim(seed):
        raise TraceTypeError(f"{name}: the seed must be a scalar integer, got {type(seed).__name__} {seed!r:.40}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise TraceTypeError(f"{name}: the seed {seed} does not fit in 64 bits")
    high = 0 if -(2**31) <= seed < 2**31 else (seed >> 32) & _MASK32
    data = np.array([high, seed & _MASK32], dtype=UINT32)
    trace = current_trace()
    return data if trace is None else _constant(trace, data, UINT32, (2,))


PRNGKey = key


def split(key: Any, num: Any = 2) -> Any:
    """`num` new keys (an int, or a shape), as an array of shape (*num, 2)."""
    name = "gradc.random.split"
    key = _check_key(name, key)
    shape = _shape_arg(name, num)
    return _split_keys(name, key, shape)


def fold_in(key: Any, data: Any) -> Any:
    """A new key from `key` and a scalar integer `data` (taken mod 2**32):
    Threefry of counter (0, data)."""
    name = "gradc.random.fold_in"
    key = _check_key(name, key)
    if isinstance(data, TracedArray):
        if data.shape != () or data.dtype.kind != "i" or data.dtype == UINT32:
            raise TraceTypeError(f"{name}: data must be a scalar integer, got a traced {data.dtype.name} array {data.shape}")
        word: Any = astype(data, _I32)
    elif isinstance(data, bool) or not isinstance(data, int | np.integer) or np.ndim(data):
        raise TraceTypeError(f"{name}: data must be a scalar integer, got {type(data).__name__} {data!r:.40}")
    else:
        word = np.array(int(data) & _MASK32, dtype=np.uint32).view(_I32)
    x0, x1 = _cipher(name, key, 0, word, (), ["x0", "x1"])
    return _as_key(name, x0, x1)


def key_data(keys: Any) -> Any:
    """The uint32 words of keys: the keys themselves (gradc's keys are raw)."""
    return keys


def wrap_key_data(key_bits: Any) -> Any:
    """A key from its uint32[2] words (checked)."""
    return _check_key("gradc.random.wrap_key_data", key_bits)


# ---------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------


def _unit(name: str, key: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """JAX's floats in [0, 1): the top mantissa-many random bits m as
    m * 2**-mantissa (exactly JAX's bitcast of 1.m minus 1)."""
    key = _check_key(name, key)
    if dtype == np.float32:
        bits = _bits32(name, key, shape)
        mantissa = (bits >> 9) & 0x7FFFFF
        return astype(mantissa, dtype) * np.float32(2.0**-23)
    trace = _trace_for(name, key)
    hi, lo = _cipher(name, key, 0, _counters(trace, shape), shape, ["x0", "x1"])
    high, low = (astype(w, _I64) & _MASK32 for w in (hi, lo))
    mantissa = (high << 20) | (low >> 12)
    return astype(mantissa, dtype) * 2.0**-52


def uniform(key: Any, shape: Any = (), dtype: Any = None, minval: Any = 0.0, maxval: Any = 1.0) -> Any:
    """Uniform floats in [minval, maxval) (dtype float64 unless given):
    JAX's `floats * (maxval - minval) + minval`, at least minval."""
    name = "gradc.random.uniform"
    shape = _shape_arg(name, shape)
    dtype = _float_dtype(name, dtype)
    low, high = _real(name, "minval", minval, dtype), _real(name, "maxval", maxval, dtype)
    _require_broadcast(name, "minval", low, shape)
    _require_broadcast(name, "maxval", high, shape)
    floats = _unit(name, key, shape, dtype)
    scaled = floats * (high - low) + low
    if not isinstance(low, TracedArray) and not isinstance(high, TracedArray) and bool(np.all(high >= low)):
        # floats >= 0 and high - low >= 0 make scaled >= low in any rounding:
        # JAX's max(minval, .) changes nothing, and a branch-free loop vectorizes
        return scaled
    return maximum(low, scaled)


def normal(key: Any, shape: Any = (), dtype: Any = None) -> Any:
    """Standard normal samples: sqrt(2) erfinv(u), u uniform in
    (-1, 1) (JAX's; gradc's erfinv)."""
    name = "gradc.random.normal"
    shape = _shape_arg(name, shape)
    dtype = _float_dtype(name, dtype)
    lowest = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    u = uniform(key, shape, dtype, lowest, 1.0)
    return dtype.type(np.sqrt(2.0)) * erfinv(u)


def truncated_normal(key: Any, lower: Any, upper: Any, shape: Any = None, dtype: Any = None) -> Any:
    """Normal samples within (lower, upper): the inverse CDF of a uniform
    between erf(lower/sqrt 2) and erf(upper/sqrt 2), clipped (JAX's)."""
    name = "gradc.random.truncated_normal"
    dtype = _float_dtype(name, dtype)
    lower, upper = _real(name, "lower", lower, dtype), _real(name, "upper", upper, dtype)
    try:
        bounds = np.broadcast_shapes(_shape_of(lower), _shape_of(upper))
    except ValueError:
        raise TraceTypeError(f"{name}: lower {_shape_of(lower)} and upper {_shape_of(upper)} do not broadcast") from None
    shape = bounds if shape is None else _shape_arg(name, shape)
    sqrt2 = dtype.type(np.sqrt(2.0))
    a, b = erf(lower / sqrt2), erf(upper / sqrt2)
    u = uniform(key, shape, dtype, a, b)
    out = sqrt2 * erfinv(u)
    # JAX clips to the open interval (nextafter of the bounds inward); a
    # traced bound has no nextafter here, so it clips to the closed one.
    inside = [np.nextafter(v, np.array(toward, dtype)) if not isinstance(v, TracedArray) else v
              for v, toward in ((lower, np.inf), (upper, -np.inf))]
    return clip(out, *inside)


def bernoulli(key: Any, p: Any = 0.5, shape: Any = None) -> Any:
    """Booleans, True with probability p: uniform(key, shape) < p, in p's
    float dtype (float64 for a Python number)."""
    name = "gradc.random.bernoulli"
    dtype = p.dtype if isinstance(p, TracedArray | np.ndarray | np.generic) and p.dtype in _FLOATS else np.dtype(np.float64)
    p = _real(name, "p", p, dtype)
    shape = _shape_of(p) if shape is None else _shape_arg(name, shape)
    _require_broadcast(name, "p", p, shape)
    return uniform(key, shape, dtype) < p


def categorical(key: Any, logits: Any, axis: int = -1, shape: Any = None) -> Any:
    """Indices drawn with probabilities softmax(logits) along `axis`: the
    Gumbel-max trick, argmax(logits + gumbel) (JAX's, with replacement)."""
    name = "gradc.random.categorical"
    if isinstance(logits, TracedArray):
        dtype = logits.dtype
    else:
        logits = np.asarray(logits)
        dtype = logits.dtype if logits.dtype in _FLOATS else np.dtype(np.float64)
    if dtype not in _FLOATS:
        raise TraceTypeError(f"{name}: logits must be a float array, got {dtype.name}")
    logits = _real(name, "logits", logits, dtype)
    rank = len(_shape_of(logits))
    if rank == 0 or not isinstance(axis, int) or not -rank <= axis < rank:
        raise TraceTypeError(f"{name}: axis {axis!r} is out of range for logits of shape {_shape_of(logits)}")
    axis = axis % rank
    batch = tuple(np.delete(np.array(_shape_of(logits), dtype=np.int64), axis).tolist())
    shape = batch if shape is None else _shape_arg(name, shape)
    if len(shape) < len(batch) or shape[len(shape) - len(batch):] != batch:
        raise TraceTypeError(f"{name}: shape {shape} does not end in the batch shape {batch} of the logits")
    prefix = shape[: len(shape) - len(batch)]
    draw = list(shape[len(prefix):])
    draw.insert(axis, _shape_of(logits)[axis])
    tiny = float(np.finfo(dtype).tiny)
    gumbel = -log(-log(uniform(key, (*prefix, *draw), dtype, tiny, 1.0)))
    lifted = expand_dims(logits, tuple(range(len(prefix)))) if prefix else logits
    return argmax(gumbel + lifted, axis=len(prefix) + axis)


def randint(key: Any, shape: Any, minval: Any, maxval: Any, dtype: Any = np.int32) -> Any:
    """Integers in [minval, maxval) (int32, JAX's default): JAX's sum of two
    32-bit draws modulo the span (biased by at most span**2 / 2**64)."""
    name = "gradc.random.randint"
    shape = _shape_arg(name, shape)
    if np.dtype(dtype) != _I32:
        raise TraceTypeError(f"{name}: draws int32 (JAX's algorithm for 32 bits), got dtype {dtype!r}; "
                             "convert the result with .astype(np.int64)")
    key = _check_key(name, key)
    bounds = []
    for what, v in (("minval", minval), ("maxval", maxval)):
        if isinstance(v, TracedArray):
            if v.dtype.kind != "i":
                raise TraceTypeError(f"{name}: {what} must be an integer, got a traced {v.dtype.name} array")
            bounds.append(astype(v, _I64))
        elif isinstance(v, bool) or not isinstance(v, int | np.integer | np.ndarray):
            raise TraceTypeError(f"{name}: {what} must be an integer or an integer array, got {type(v).__name__} {v!r:.40}")
        elif np.asarray(v).dtype.kind not in "iu":
            raise TraceTypeError(f"{name}: {what} must be an integer, got a {np.asarray(v).dtype.name} array")
        else:
            bounds.append(np.asarray(v).astype(_I64))
    for what, v in zip(("minval", "maxval"), bounds):
        _require_broadcast(name, what, v, shape)
    info = np.iinfo(np.int32)
    out_of_range = bounds[1] > info.max
    low, high = (clip(v, info.min, info.max) for v in bounds)
    keys = _split_keys(name, key, (2,))
    higher, lower = ((astype(_bits32(name, _key_at(keys, j), shape), _I64) & _MASK32) for j in (0, 1))
    # Everything below in int64, exact: JAX's uint32 span, with 2**32
    # standing for the span that wraps to 0 (the same result).
    span = where(high <= low, 1, high - low)
    span = where(out_of_range & (high > low), span + 1, span)
    multiplier = ((65536 % span) * (65536 % span) & _MASK32) % span
    offset = (((higher % span) * multiplier & _MASK32) + lower % span) & _MASK32
    return astype(low + offset % span, _I32)


def permutation(key: Any, x: Any, axis: int = 0, independent: bool = False) -> Any:
    """A random permutation of range(x) (int x) or of x along `axis`: JAX's
    sort by fresh 32-bit keys, one round per 3 log(n) / log(2**32 - 1)."""
    name = "gradc.random.permutation"
    key = _check_key(name, key)
    if independent:
        raise TraceTypeError(f"{name}: independent=True is not supported")
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        if x < 0:
            raise TraceTypeError(f"{name}: the length must be non-negative, got {x}")
        return _shuffle(name, key, np.arange(int(x)))
    if not isinstance(x, TracedArray):
        x = np.asarray(x)
    rank = len(_shape_of(x))
    if rank == 0 or not isinstance(axis, int) or not -rank <= axis < rank:
        raise TraceTypeError(f"{name}: axis {axis!r} is out of range for an array of shape {_shape_of(x)}")
    if rank == 1:
        return _shuffle(name, key, x)
    order = _shuffle(name, key, np.arange(_shape_of(x)[axis]))
    return take(x, order, axis=axis)


def _shuffle(name: str, key: Any, x: Any) -> Any:
    """x (1-d) sorted by random uint32 keys, stably, round after round."""
    n = _shape_of(x)[0]
    rounds = math.ceil(3 * math.log(max(1, n)) / math.log(2**32 - 1))
    for _ in range(rounds):
        keys = _split_keys(name, key, (2,))
        key, subkey = _key_at(keys, 0), _key_at(keys, 1)
        bits = _bits32(name, subkey, (n,))
        x = _sort_by(bits, x)
    return x


def _sort_by(bits: Any, x: Any) -> Any:
    """x ordered by the uint32 `bits` (int32 patterns), stably: element i
    goes to its rank, the count of smaller keys and of equal ones before it."""
    if not isinstance(bits, TracedArray) and not isinstance(x, TracedArray):
        return np.asarray(x)[np.argsort(bits.view(UINT32), kind="stable")]
    ordered = bits ^ np.int32(-(2**31))  # unsigned order as signed order
    n = _shape_of(x)[0]
    earlier = np.tril(np.ones((n, n), dtype=bool), -1)  # [i, j]: j < i
    row, col = expand_dims(ordered, 1), expand_dims(ordered, 0)
    before = (col < row) | ((col == row) & earlier)
    rank = _sum(astype(before, _I64), axis=1)
    if not isinstance(x, TracedArray):
        x = _coerce(bits.trace, x, x.dtype, x.shape)
    return x.at[rank].set(x)


__all__ = [
    "PRNGKey",
    "bernoulli",
    "categorical",
    "fold_in",
    "key",
    "key_data",
    "normal",
    "permutation",
    "randint",
    "split",
    "truncated_normal",
    "uniform",
    "wrap_key_data",
]
