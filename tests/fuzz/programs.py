"""Random well-typed array programs, and differential testing of every
pipeline option on them (issue #6, item 1).

A *program* is plain data (a dict of tuples, printable as a Python literal,
so a failing one is saved as a regression test file as it is):

    {"dtype": "float32", "inputs": [(3, 1), (5,)],
     "steps": [("tanh", 0), ("add", 2, 1), ("sum", 3, 0, True), ...],
     "outputs": [4, 2], "request": "grad"}

Values are numbered: the inputs first, then one value per step; a step
names its operation and the values it reads (a matmul step adds the input
it multiplies by when it is drawn). `run_program` builds the program with
`gradc.numpy`, so the same code is traced by `gradc.jit` (what a user writes)
and runs on NumPy arrays (the finite-difference reference). The request
wraps the program in a derivative: `none`, `grad` (value_and_grad of a
weighted sum of the outputs), `linearize` (jvp and vjp of the outputs), `jacfwd`
and `jacrev` (with respect to the first input), `hessian` (of the weighted
sum, first input), `jacobian_sparse` and `hessian_sparse` (the same with
`sparse=True`: the nonzeros, checked through gradc's pattern).

The generator keeps every value bounded (it tracks a bound per value and
only draws growing operations below a cap), takes logarithms and square
roots of `v*v + c` and divides by `w*w + c`, so that programs stay in the
domains where every operation is smooth and finite; likewise the inverse
trigonometric and hyperbolic functions see `0.9*tanh(v)` or `v*v + 1.1`,
tan sees `tanh(v)`, xlogy's second operand is `w*w + 0.5`, arctan2's
second is `w + 0.3` (never exactly 0, where the first may be), and exp, sinh,
cosh, expm1, exp2 and log_ndtr are drawn only on values small enough.

A sixth of the steps draw the constructs of issue #14's second round
(NEW_KINDS): static gathers (`x[..., [2, 0, 2]]` with negative and repeated
indices, gnp.take, take_along_axis, bool masks), `x.at[idx].add/set/max`
with repeated constant indices, a fori_loop indexing with its index (xs[i],
xs[-1 - i], lax.dynamic_slice clamped at the end, out.at[i].set), linalg on
matrices well conditioned by construction (`_linalg`: cholesky of
m m^T + n I, solve/inv/slogdet of a diagonally dominant m + c I,
solve_triangular of a cholesky factor, eigvalsh of a matrix whose
eigenvalues stay apart), gradc.nn.conv and max_pool/avg_pool on small
shapes, argmax selecting (one-hot by comparison with an arange, or as a
traced index), integer arithmetic on `v.astype(int)` fed back by astype
and where, and softplus with a custom_jvp or custom_vjp rule (the primal
stops the gradient of its smooth part, so only the rule gives the right
derivative). Piecewise-constant parts (argmax, integer truncation, max
pooling) jump only at ties or at integers, which random points miss, as
floor and maximum already do; custom_vjp is drawn only for reverse-mode
requests (it has no forward rule, as in JAX). Issue #15 adds a cond step
(`_cond`): lax.cond on a reduced value compared with a constant, its
branches drawn from the unary and binary steps. A loop step may also be a
lax.while_loop with a data-dependent trip count and max_steps (`_while`),
differentiated in every mode.

Oracle and tolerances. The array-level interpreter (`gradc.interpreter`) runs
the *differentiated* program in the program's own dtypes on NumPy; the
compiled C must agree with it under every combination of `Options` (tile,
plan_memory, threads 1/2, math gradc/libm) and C flags (-O0, the default
-O3 -march=native), i.e. 32 combinations. An output `g` agrees with `e`
when, elementwise,

    |g - e| <= RTOL[dtype] * max(1, max|e|)       (NaN where NaN, equal infs)

with RTOL = 1e-4 for float32 and 1e-10 for float64. Why norm-wise, and
these values: the pipelines legitimately differ from NumPy by summation
order (tiled products, sequential vs pairwise sums, FMA contraction at -O3)
and by gradc's exp/log/tanh (<= 3 ulp); each is a rounding error relative
to the largest magnitude in flight, not to the (possibly cancelled) result,
and a chain of <= ~10 operations with bounded derivatives on O(1) values
amplifies it by a modest factor. Sums here have at most a few hundred terms:
n*eps*amplification stays near 1e-5 (f32: eps 6e-8) and 1e-13 (f64: eps
1.1e-16), an order below RTOL. Real bugs (a wrong index, a missed
accumulation, a race) give errors of order 1. The exception is an
ill-conditioned float32 output (derivatives through several wide matrix
products amplify rounding by ||W|| per step): there any float32 evaluation
is off by more, so a float32 output may also differ by CONDITIONING times
the interpreter's own float32 error, measured against the same program run
in float64 (`float32_allowances`).

Derivative requests are also checked against finite differences of the
program run on NumPy in float64 (central differences along a random
direction, h = 1e-6; tolerance 1e-5 norm-wise for f64 programs, 1e-3 for
f32 ones whose derivatives are computed in f32), and `linearize` against
the transposition identity <vjp(u), v> = <u, jvp(v)> (same tolerances,
relative to |u||jvp(v)| + |vjp(u)||v|).

Run as a script for a long campaign:

    GRADC_FUZZ_EXAMPLES=500 python tests/fuzz/programs.py   (or GRADC_FUZZ_SECONDS=600)

It prints the counts (programs, batches, option combinations, comparisons,
failures) and writes each failing program, shrunk by hypothesis, as a lit
test lit/regressions/program-<hash>.py.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

import gradc
from gradc.backend.build import DEFAULT_FLAGS
from gradc.frontend import pytree
from gradc.interpreter import run_function
import gradc.numpy as gnp
import gradc.lax as glax
import gradc.nn as gnn
import gradc.scipy.linalg as gsl
import gradc.scipy.special as gsp
from gradc.pipeline import DIFFERENTIATE, Options, run_pipeline

RTOL = {"float32": 1e-4, "float64": 1e-10}
FD_RTOL = {"float32": 1e-3, "float64": 1e-5}
FD_STEP = 1e-6
WARNINGS = ("-Wall", "-Wextra", "-Werror")
"""Generated C compiles without warnings: every build here checks it."""
CFLAGS = {"O0": ("-O0", *WARNINGS), "O3": (*DEFAULT_FLAGS, *WARNINGS)}

COMBINATIONS: list[tuple[Options, str]] = [
    (Options(tile=tile, plan_memory=plan, threads=threads, math=maths), level)
    for tile, plan, threads, maths, level in itertools.product(
        (True, False), (True, False), (1, 2), ("gradc", "libm"), ("O3", "O0")
    )
]
"""Every pipeline option combination with both optimisation levels (32)."""


def combination_name(combo: tuple[Options, str]) -> str:
    o, level = combo
    return f"tile={o.tile},plan_memory={o.plan_memory},threads={o.threads},math={o.math},{level}"


# ---------------------------------------------------------------------------
# Programs as data, built with gradc.numpy
# ---------------------------------------------------------------------------

UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda v: -v,
    "tanh": gnp.tanh,
    "sin": gnp.sin,
    "cos": gnp.cos,
    "abs": gnp.abs,
    "exp": gnp.exp,
    "log": lambda v: gnp.log(v * v + 0.5),
    "sqrt": lambda v: gnp.sqrt(v * v + 0.25),
    "sigmoid": gnp.sigmoid,
    "relu": gnp.relu,
    "square": gnp.square,
    "pow": lambda v: (v * v + 0.5) ** 1.5,
    "cube": lambda v: v ** 3,
    # Added with issue #14; arguments mapped into each domain, away from
    # poles and domain edges.
    "sinh": gnp.sinh,
    "cosh": gnp.cosh,
    "tan": lambda v: gnp.tan(gnp.tanh(v)),
    "arcsin": lambda v: gnp.arcsin(0.9 * gnp.tanh(v)),
    "arccos": lambda v: gnp.arccos(0.9 * gnp.tanh(v)),
    "arctan": gnp.arctan,
    "arcsinh": gnp.arcsinh,
    "arccosh": lambda v: gnp.arccosh(v * v + 1.1),
    "arctanh": lambda v: gnp.arctanh(0.9 * gnp.tanh(v)),
    "log1p": lambda v: gnp.log1p(v * v),
    "expm1": gnp.expm1,
    "log2": lambda v: gnp.log2(v * v + 0.5),
    "log10": lambda v: gnp.log10(v * v + 0.5),
    "exp2": gnp.exp2,
    "erf": gnp.erf,
    "floor": gnp.floor,
    "ceil": gnp.ceil,
    "rint": gnp.rint,
    "trunc": gnp.trunc,
    "reciprocal": lambda v: gnp.reciprocal(v * v + 0.5),
    "softplus": gnp.softplus,
    "clip": lambda v: gnp.clip(v, -1.0, 1.5),
    "erfc": gsp.erfc,
    "expit": gsp.expit,
    "ndtr": gsp.ndtr,
    "log_ndtr": gsp.log_ndtr,
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda v, w: v + w,
    "sub": lambda v, w: v - w,
    "mul": lambda v, w: v * w,
    "div": lambda v, w: v / (w * w + 0.5),
    "maximum": gnp.maximum,
    "minimum": gnp.minimum,
    "where": lambda v, w: gnp.where(v < w, v, 0.5 * w),
    "hypot": gnp.hypot,
    "logaddexp": gnp.logaddexp,
    # Not both operands zero (arctan2's derivative is NaN at (0, 0), as JAX's):
    # relu or v - v give exact zeros, -0.3 no construction gives exactly.
    "arctan2": lambda v, w: gnp.arctan2(v, w + 0.3),
    "copysign": gnp.copysign,
    "xlogy": lambda v, w: gsp.xlogy(v, w * w + 0.5),
}
REDUCE: dict[str, Callable[..., Any]] = {"sum": gnp.sum, "max": gnp.max, "min": gnp.min, "mean": gnp.mean}
MATMUL: dict[str, Callable[[Any, Any], Any]] = {
    "nn": lambda v, w: v @ w,
    "nt": lambda v, w: v @ _swap(w),
    "tn": lambda v, w: _swap(v) @ w,
    "left": lambda v, w: w @ v,
}


def _swap(x: Any) -> Any:
    """The last two axes exchanged (a transposed operand)."""
    perm = list(range(x.ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    return gnp.transpose(x, perm)


def _loop(kind: str, v: Any, w: Any, traced: bool) -> Any:
    """`scan` (`rscan`: in reverse): carry v over the leading slices x of w
    (c <- tanh(c*x + 0.5), y = c*x, stacked where x was), giving the final
    carry plus a weighted sum of the ys. `fori`: 3 steps of
    c <- 0.5*sin(c) + 0.25*w*i (w closed over). On NumPy arrays the same
    loops run in Python."""
    if kind in ("scan", "rscan"):
        reverse = kind == "rscan"

        def body(c: Any, x: Any) -> tuple[Any, Any]:
            x = x.astype(c.dtype)  # a mixed program's carry keeps its dtype
            return gnp.tanh(c * x + 0.5), c * x

        if traced:
            c, ys = gradc.scan(body, v, w, reverse=reverse)
        else:
            c, ys = v, [None] * len(w)
            for t in (reversed(range(len(w))) if reverse else range(len(w))):
                c, ys[t] = body(c, w[t])
            ys = np.stack(ys)
        weights = np.linspace(0.5, 1.5, len(w)).reshape((len(w),) + (1,) * (ys.ndim - 1))
        return c + gnp.sum(ys * weights.astype(ys.dtype), axis=0)

    if kind == "rnn":
        # c <- tanh(c @ W + x) over the slices x of xs, W (n, n) closed
        # over: the recurrent cell. Here w is the pair (W, xs).
        weights, xs = w

        def cell(c: Any, x: Any) -> tuple[Any, Any]:
            c = gnp.tanh(c @ weights.astype(c.dtype) + x.astype(c.dtype))
            return c, gnp.sum(c, axis=-1)

        if traced:
            c, ys = gradc.scan(cell, v, xs)
        else:
            c, ys = v, []
            for x in xs:
                c, y = cell(c, x)
                ys.append(y)
            ys = np.stack(ys)
        return c * gnp.expand_dims(gnp.mean(ys, axis=0), -1)
    if kind == "gd":
        # Two gradient-descent steps on sum(tanh(z * w)) inside the loop:
        # a derivative inside the program being differentiated.
        def descend(i: Any, c: Any) -> Any:
            if traced:
                g = gradc.grad(lambda z: gnp.sum(gnp.tanh(z * w.astype(z.dtype))))(c)
            else:  # w in the carry's dtype, as traced (a mixed program's carry keeps its dtype)
                wc = np.asarray(w).astype(np.asarray(c).dtype)
                g = wc * (1 - np.tanh(c * wc) ** 2)
            return c - 0.1 * g

        if traced:
            return gradc.fori_loop(0, 2, descend, v)
        return descend(1.0, descend(0.0, v))

    def step(i: Any, c: Any) -> Any:
        return 0.5 * gnp.sin(c) + 0.25 * w.astype(c.dtype) * i

    if traced:
        return gradc.fori_loop(0, 3, step, v)
    c = v
    for i in range(3):
        c = step(float(i), c)
    return c


def _while(v: Any, traced: bool) -> Any:
    """A while_loop with a data-dependent trip count: t = 1 + mean(v*v) is
    halved until it is below 0.3 (at most ~22 times for values below CAP;
    max_steps=40), while v <- 0.5*v + 0.25*tanh(v). The count jumps only
    where t0 / 2^k crosses 0.3 exactly, which random points miss (as floor
    does). On NumPy arrays the same loop runs in Python."""
    t0 = 1.0 + gnp.mean(v * v) if traced else 1.0 + np.mean(v * v)

    def body(c: Any) -> Any:
        x, t = c
        return 0.5 * x + 0.25 * gnp.tanh(x), 0.5 * t

    if traced:
        x, t = glax.while_loop(lambda c: c[1] > 0.3, body, (v, t0), max_steps=40)
    else:
        x, t = v, t0
        while t > 0.3:
            x, t = body((x, t))
    return x + t


# -- Issue #14, round 2: gathers, updates, dynamic indexing in loops, linalg,
# convolution and pooling, integer subprograms, custom derivatives. Each
# step is written for both modes: traced (gradc) and NumPy (the
# finite-difference reference), the NumPy side written independently where
# gnp's NumPy fallback would be gradc's own code or would compile.

def _axis_key(axis: int, key: Any) -> tuple:
    return (slice(None),) * axis + (key,)


def _take(v: Any, axis: int, idx: tuple[int, ...]) -> Any:
    """v[..., idx] along `axis` (constant indices, negative and repeated
    ones included), the mean of its spellings as indexing and gnp.take."""
    return 0.5 * v[_axis_key(axis, list(idx))] + 0.5 * gnp.take(v, list(idx), axis=axis)


def _take_along(v: Any, axis: int, index_shape: tuple[int, ...], flat: tuple[int, ...]) -> Any:
    return gnp.take_along_axis(v, np.array(flat, np.int64).reshape(index_shape), axis=axis)


def _update(x: Any, values: Any, axis: int, idx: tuple[int, ...], kind: str, traced: bool) -> Any:
    """x.at[..., idx].add/set/max(values) along `axis`, repeated indices
    included (add and max combine every update, set keeps the last one,
    as NumPy's assignment does); on NumPy arrays np.add.at and kin."""
    key = _axis_key(axis, np.array(idx, np.int64))
    if traced:
        return getattr(x.at[key], kind)(values)
    out = np.array(x, copy=True)
    values = np.broadcast_to(np.asarray(values), out[key].shape).astype(out.dtype)
    if kind == "add":
        np.add.at(out, key, values)
    elif kind == "max":
        np.maximum.at(out, key, values)
    else:
        for k, position in enumerate(idx):  # in order: the last update wins
            out[_axis_key(axis, position)] = values[_axis_key(axis, k)]
    return out


def _dyn_loop(v: Any, xs: Any, traced: bool) -> Any:
    """A fori_loop over the rows of xs (steps >= 2) indexing with the loop
    index: x is the mean of xs[i], xs[-1 - i] (a negative traced index
    wraps) and the window dynamic_slice(xs, (i, 0, ...), (2, ...)) (clamped
    into range at the last step), averaged; the carry (c, out) updates
    c <- tanh(0.5*c + x) and out.at[i].set(out[i]*c + x), out starting as
    0.5*xs. Result: c plus a weighted sum of out's rows."""
    steps = xs.shape[0]
    zeros = (0,) * (xs.ndim - 1)

    def body(i: Any, carry: tuple[Any, Any]) -> tuple[Any, Any]:
        c, out = carry
        if traced:
            window = glax.dynamic_slice(xs, (i, *zeros), (2, *xs.shape[1:]))
        else:
            start = min(i, steps - 2)
            window = xs[start:start + 2]
        x = ((xs[i] + xs[-1 - i] + window[0] + window[1]) * 0.25).astype(c.dtype)
        c = gnp.tanh(0.5 * c + x)
        if traced:
            out = out.at[i].set(out[i] * c + x)
        else:
            out = out.copy()
            out[i] = out[i] * c + x
        return c, out

    c = v
    out0 = (0.5 * xs).astype(v.dtype)
    if traced:
        c, out = gradc.fori_loop(0, steps, body, (c, out0))
    else:
        out = out0
        for i in range(steps):
            c, out = body(i, (c, out))
    weights = np.linspace(0.5, 1.5, steps).reshape((steps,) + (1,) * (xs.ndim - 1)).astype(out.dtype)
    return c + gnp.sum(out * weights, axis=0)


def _np_triangular_solve(t: np.ndarray, b: np.ndarray, transpose: bool) -> np.ndarray:
    t = np.tril(t)
    if transpose:
        t = np.swapaxes(t, -1, -2)
    return np.linalg.solve(t, b[..., None])[..., 0]


def _linalg(kind: str, v: Any, w: Any, traced: bool) -> Any:
    """A linear-algebra op on matrices built from v (..., n) and an input
    w (n, n): m = w + 0.5*tanh(v) broadcast over the rows (|m| <= 2.5), so
    that every construction is well conditioned: cholesky of m m^T + n I,
    solve/inv/slogdet of m + (2.5 n + 1) I (diagonally dominant by 1,
    positive determinant), solve_triangular with that cholesky factor plus
    with its transpose, eigvalsh of sym(m) + diag(0, 1, ..., n-1)."""
    n = v.shape[-1]
    m = w + 0.5 * gnp.tanh(v)[..., None, :]
    eye = np.eye(n, dtype=m.dtype)
    if kind in ("cholesky", "trisolve"):
        spd = m @ _swap(m) + n * eye
        factor = gnp.linalg.cholesky(spd)
        if kind == "cholesky":
            return factor
        b = v.astype(m.dtype)
        if traced:
            return (gsl.solve_triangular(factor, b, lower=True)
                    + gsl.solve_triangular(factor, b, lower=True, trans="T"))
        return _np_triangular_solve(factor, b, False) + _np_triangular_solve(factor, b, True)
    if kind == "eigvalsh":
        return gnp.linalg.eigvalsh(0.5 * (m + _swap(m)) + np.diag(np.arange(n)).astype(m.dtype))
    dominant = m + (2.5 * n + 1) * eye
    if kind == "solve":  # solve and inv, (..., n) each
        b = v.astype(m.dtype)[..., None]
        return (gnp.linalg.solve(dominant, b) + gnp.linalg.inv(dominant) @ b)[..., 0]
    sign, logabsdet = gnp.linalg.slogdet(dominant)
    return sign * logabsdet


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _np_windows(x: np.ndarray, axes: Sequence[int], window: Sequence[int], stride: Sequence[int],
                dilation: Sequence[int], padding: str, fill: float) -> tuple[np.ndarray, list[list[int]]]:
    """x padded (padding 'SAME' as XLA's, with `fill`) and, per windowed
    axis, the start of each output window."""
    pads = [(0, 0)] * x.ndim
    starts = []
    for a, k, s, d in zip(axes, window, stride, dilation):
        span = (k - 1) * d + 1
        if padding == "SAME":
            pads[a] = _same_pads(x.shape[a], span, s)
        size = x.shape[a] + sum(pads[a])
        starts.append(list(range(0, size - span + 1, s)))
    return np.pad(x, pads, constant_values=fill), starts


def _np_conv1d(x: np.ndarray, w: np.ndarray, stride: int, dilation: int, padding: str) -> np.ndarray:
    """Cross-correlation of x (batch, length, in) with w (k, in, out)."""
    xp, (starts,) = _np_windows(x, [1], [w.shape[0]], [stride], [dilation], padding, 0.0)
    return np.stack([sum(xp[:, s + t * dilation, :] @ w[t] for t in range(w.shape[0])) for s in starts], axis=1)


def _np_pool(x: np.ndarray, window: tuple[int, ...], stride: tuple[int, ...], padding: str, kind: str) -> np.ndarray:
    """flax's max_pool/avg_pool (count_include_pad): x (batch, spatial...,
    features) with the batch optional."""
    first = x.ndim - 1 - len(window)
    axes = list(range(first, x.ndim - 1))
    xp, starts = _np_windows(x, axes, window, stride, [1] * len(window), padding,
                             -np.inf if kind == "max" else 0.0)
    out = np.empty(x.shape[:first] + tuple(len(s) for s in starts) + x.shape[-1:], x.dtype)
    for pos in itertools.product(*(range(len(s)) for s in starts)):
        key = tuple(slice(starts[a][p], starts[a][p] + k) for a, (p, k) in enumerate(zip(pos, window)))
        block = xp[(slice(None),) * first + key]
        reduced = block.max(axis=tuple(axes)) if kind == "max" else block.sum(axis=tuple(axes)) / math.prod(window)
        out[(slice(None),) * first + pos] = reduced
    return out


def _window(kind: str, v: Any, w: Any, window: tuple[int, ...], stride: tuple[int, ...], dilation: int,
            padding: str, traced: bool) -> Any:
    """gradc.nn.conv of v (batch, length, in) (or (length, in)) with the
    kernel w (k, in, out) in the 'NWC' layout, or gradc.nn.max_pool / avg_pool of v."""
    if kind == "conv":
        x = v if v.ndim == 3 else v[None]  # (length, in): one batch
        if traced:
            y = gnn.conv(x, w, stride=stride, padding=padding, dilation=dilation, layout="NWC")
        else:
            dtype = np.result_type(v.dtype, w.dtype)
            y = _np_conv1d(x.astype(dtype), w.astype(dtype), stride[0], dilation, padding)
        return y if v.ndim == 3 else y[0]
    if traced:
        pool = gnn.max_pool if kind == "max_pool" else gnn.avg_pool
        return pool(v, window, strides=stride, padding=padding)
    return _np_pool(v, window, stride, padding, "max" if kind == "max_pool" else "avg")


def _argmax(form: str, v: Any, axis: int) -> Any:
    """argmax used to select: a one-hot mask from comparing with an arange
    (`onehot`: where(mask, v, 0.5 v); `select`: the masked sum, the max),
    or as a traced index (`index`: v[argmax of v summed over the other
    axes])."""
    if form == "index":
        summed = gnp.sum(v, axis=tuple(range(1, v.ndim))) if v.ndim > 1 else v
        return v[gnp.argmax(summed)]
    k = gnp.argmax(v, axis=axis, keepdims=True)
    shape = [1] * v.ndim
    shape[axis] = v.shape[axis]
    hot = gnp.arange(v.shape[axis]).reshape(shape) == k
    if form == "select":
        return gnp.sum(gnp.where(hot, v, 0.0), axis=axis)
    return gnp.where(hot, v, 0.5 * v)


def _ints(v: Any, itype: str, divisor: int) -> Any:
    """An integer subprogram: q = v.astype(itype) (truncated), then integer
    % and // by a (possibly negative) divisor, arithmetic, comparisons and
    bitwise ops on bools, fed back into the float program through astype
    and where: |result| <= 1.5 |v| + 0.25 (|v| / 2 + 1)."""
    q = v.astype(itype)
    big = v > 0.3
    mask = (big ^ ((q * 2 - 1) % 4 < 2)) | (~big & (q != 0))
    scale = 1 + (q % divisor).astype(v.dtype) * (0.5 / abs(divisor))
    return gnp.where(mask, v, -0.5 * v) * scale + gnp.floor_divide(q, divisor).astype(v.dtype) * 0.25


def _softplus_primal(x: Any) -> Any:
    # The smooth part goes through stop_gradient: differentiating this
    # function itself gives the wrong derivative (heaviside(x)), so the
    # derivative checks fail unless the custom rule is what gradc uses.
    return gnp.maximum(x, 0.0) + gnp.stop_gradient(gnp.log1p(gnp.exp(-gnp.abs(x))))


@gradc.custom_jvp
def custom_softplus(x: Any) -> Any:
    """log(1 + e^x), stably, with its derivative sigmoid(x) as a custom_jvp rule."""
    return _softplus_primal(x)


@custom_softplus.defjvp
def _custom_softplus_jvp(primals: tuple, tangents: tuple) -> tuple:
    (x,), (t,) = primals, tangents
    return _softplus_primal(x), t * gnp.sigmoid(x)


@gradc.custom_vjp
def custom_softplus_vjp(x: Any) -> Any:
    """The same function with a custom_vjp rule."""
    return _softplus_primal(x)


def _softplus_fwd(x: Any) -> tuple:
    return _softplus_primal(x), gnp.sigmoid(x)


def _softplus_bwd(s: Any, g: Any) -> tuple:
    return (g * s,)


custom_softplus_vjp.defvjp(_softplus_fwd, _softplus_bwd)


def _custom(kind: str, v: Any, traced: bool) -> Any:
    f = custom_softplus if kind == "jvp" else custom_softplus_vjp
    return f(v) if traced else _softplus_primal(v)


COND_UNARY = ["tanh", "sin", "cos", "arctan", "sigmoid", "neg", "erf", "softplus"]
COND_BINARY = ["add", "sub", "mul", "maximum"]
"""The branches of a cond step: a unary step on the operand, or a binary
step of it and a bounded scalar the branch closes over (bounds stay at
most the operand's + 1)."""


def _cond(v: Any, w: Any, threshold: float, true_name: str, false_name: str, traced: bool) -> Any:
    """Issue #15: `lax.cond(sum(w) > threshold, unary, binary with a closed-
    over s = tanh(mean(w)), v)`; on NumPy arrays, a Python `if`."""
    s = gnp.tanh(gnp.mean(w)).astype(v.dtype)
    pred = gnp.sum(w) > threshold

    def true_fun(a: Any) -> Any:
        return UNARY[true_name](a)

    def false_fun(a: Any) -> Any:
        return BINARY[false_name](a, s)

    if traced:
        return glax.cond(pred, true_fun, false_fun, v)
    return true_fun(v) if pred else false_fun(v)


def run_program(program: dict, args: Sequence[Any], traced: bool) -> list[Any]:
    """The program's outputs on `args` (traced arrays, or NumPy arrays when
    `traced` is False)."""
    values = list(args)
    for step in program["steps"]:
        name, *ops = step
        if name in UNARY:
            out = UNARY[name](values[ops[0]])
        elif name in BINARY:
            out = BINARY[name](values[ops[0]], values[ops[1]])
        elif name in REDUCE:
            i, axis, keepdims = ops
            out = REDUCE[name](values[i], axis=axis, keepdims=keepdims)
        elif name == "matmul":
            i, j, variant = ops
            out = MATMUL[variant](values[i], values[j])
        elif name == "softmax":
            out = gnp.softmax(values[ops[0]], axis=ops[1])
        elif name == "logsumexp":
            out = gnp.logsumexp(values[ops[0]], axis=ops[1], keepdims=ops[2])
        elif name == "slice":
            i, axis, start, stop, stride = ops
            index = (slice(None),) * axis + (slice(start, stop, stride),)
            out = values[i][index]
        elif name == "reshape":
            out = gnp.reshape(values[ops[0]], ops[1])
        elif name == "transpose":
            out = gnp.transpose(values[ops[0]], ops[1])
        elif name == "index":
            i, axis, k = ops
            out = values[i][(slice(None),) * axis + (k,)]
        elif name == "dot":
            out = gnp.dot(values[ops[0]], values[ops[1]])
        elif name == "concat":
            i, j, axis = ops
            out = gnp.concatenate([values[i], values[j]], axis=axis)
        elif name == "bcast":
            i, axis, n = ops
            v = gnp.expand_dims(values[i], axis)
            shape = list(v.shape)
            shape[axis] = n
            out = gnp.broadcast_to(v, tuple(shape))
        elif name in ("scan", "rscan", "fori", "gd"):
            out = _loop(name, values[ops[0]], values[ops[1]], traced)
        elif name == "rnn":
            i, j, k = ops
            out = _loop(name, values[i], (values[j], values[k]), traced)
        elif name == "while":
            out = _while(values[ops[0]], traced)
        elif name == "take":
            out = _take(values[ops[0]], *ops[1:])
        elif name == "take_along":
            out = _take_along(values[ops[0]], *ops[1:])
        elif name == "mask":
            i, axis, mask = ops
            out = values[i][_axis_key(axis, np.array(mask, bool))]
        elif name == "update":
            i, j, axis, idx, kind = ops
            out = _update(values[i], values[j], axis, idx, kind, traced)
        elif name == "dyn":
            i, j = ops
            out = _dyn_loop(values[i], values[j], traced)
        elif name == "linalg":
            i, j, kind = ops
            out = _linalg(kind, values[i], values[j], traced)
        elif name == "window":
            i, j, kind, window, stride, dilation, padding = ops
            out = _window(kind, values[i], values[j], window, stride, dilation, padding, traced)
        elif name == "argmax":
            i, form, axis = ops
            out = _argmax(form, values[i], axis)
        elif name == "ints":
            i, itype, divisor = ops
            out = _ints(values[i], itype, divisor)
        elif name == "custom":
            i, kind = ops
            out = _custom(kind, values[i], traced)
        elif name == "cond":
            i, j, threshold, true_name, false_name = ops
            out = _cond(values[i], values[j], threshold, true_name, false_name, traced)
        else:
            raise ValueError(f"unknown step {step!r}")
        values.append(out)
    return [values[k] for k in program["outputs"]]


def _weighted_sum(outs: Sequence[Any], weights: Sequence[Any]) -> Any:
    total = 0.0
    for out, w in zip(outs, weights, strict=True):
        total = total + gnp.sum(out * w)
    return total


def n_inputs(program: dict) -> int:
    return len(program["inputs"])


Spec = tuple[tuple[int, ...], np.dtype]


def input_specs(program: dict) -> list[Spec]:
    """(shape, dtype) of each input: the program's dtype, or in a mixed
    program each input's own (`input_dtypes`)."""
    dtypes = program.get("input_dtypes") or [program["dtype"]] * n_inputs(program)
    return [(tuple(s), np.dtype(t)) for s, t in zip(program["inputs"], dtypes, strict=True)]


def output_specs(program: dict) -> list[Spec]:
    """(shape, dtype) of the program's outputs (run on zeros with NumPy)."""
    zeros = [np.zeros(s, t) for s, t in input_specs(program)]
    return [(np.shape(o), np.asarray(o).dtype) for o in run_program(program, zeros, traced=False)]


def extra_specs(program: dict) -> list[Spec]:
    """(shape, dtype) of the arguments the request adds after the program's
    inputs: weights of the outputs (grad, hessian), tangents then
    cotangents (linearize)."""
    request = program["request"]
    if request in ("grad", "hessian", "hessian_sparse"):
        return output_specs(program)
    if request == "linearize":
        return input_specs(program) + output_specs(program)
    if request == "vmap":
        shape, dtype = input_specs(program)[0]
        return [((VMAP_SIZE, *shape), dtype)]
    return []


def requested(program: dict, args: Sequence[Any]) -> list[Any]:
    """The outputs of the program's request on traced `args` (the program's
    inputs, then `extra_specs` arguments), flattened."""
    n = n_inputs(program)
    xs, extra = list(args[:n]), list(args[n:])
    request = program["request"]

    def f(*inputs: Any) -> tuple:
        return tuple(run_program(program, inputs, traced=True))

    def loss(*inputs: Any) -> Any:
        return _weighted_sum(f(*inputs), extra)

    if request == "none":
        out: Any = f(*xs)
    elif request == "grad":
        checkpoint = program.get("checkpoint")
        out = gradc.value_and_grad(loss, argnums=tuple(range(n)), checkpoint=checkpoint)(*xs)
    elif request == "linearize":
        tangents, cotangents = extra[:n], extra[n:]
        _, jv = gradc.jvp(f, tuple(xs), tuple(tangents))
        _, vjp_fn = gradc.vjp(f, *xs)
        out = (jv, vjp_fn(tuple(cotangents)))
    elif request in ("jacfwd", "jacrev"):
        jac = getattr(gradc, request)
        out = jac(lambda x0: f(x0, *xs[1:]))(xs[0])
    elif request == "hessian":
        out = gradc.hessian(lambda x0: loss(x0, *xs[1:]))(xs[0])
    elif request == "jacobian_sparse":
        out = gradc.jacobian(lambda x0: f(x0, *xs[1:]), sparse=True)(xs[0])
    elif request == "hessian_sparse":
        out = gradc.hessian(lambda x0: loss(x0, *xs[1:]), sparse=True)(xs[0])
    elif request == "vmap":
        out = gradc.vmap(lambda x0: f(x0, *xs[1:]))(extra[0])
    else:
        raise ValueError(f"unknown request {request!r}")
    return pytree.flatten(out)[0]


# ---------------------------------------------------------------------------
# The generator (hypothesis strategies)
# ---------------------------------------------------------------------------

SIZES = (1, 2, 3, 5, 7)
BIG_SIZES = (1, 9, 17, 33, 70, 130)
"""Sizes of the `big` programs: past the register tiles and vector widths
of tile-matmul, and products of more than the 65536 operations that
parallelize wants before it uses threads."""
CHECKPOINTS = (None, "none", "every=2", "every=3", "binomial(snapshots=1)", "binomial(snapshots=2)", "recompute", "budget=100000000")
"""Checkpoint modes of `grad` requests. A budget must hold one state of the
loop (else lowering rejects it, see tests/test_checkpoint_api.py), so the
one drawn here is large; tests/test_checkpoint_lowering.py covers budgets
that force binomial schedules."""
VMAP_SIZE = 3
"""The batch of a `vmap` request."""
REQUESTS = ("none", "grad", "linearize", "jacfwd", "jacrev", "hessian", "vmap", "jacobian_sparse",
            "hessian_sparse")
"""The request kinds drawn (each as often); the sparse ones return the
nonzeros of the Jacobian of the outputs (the Hessian of the weighted sum)
with respect to the first input, in the CSR order of gradc's pattern."""
CAP = 1e3
"""No value grows beyond this bound (in absolute value): growing operations
are drawn only on values whose product stays below it."""


@dataclass
class _Draft:
    dtype: str
    inputs: list[tuple[int, ...]]
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    bounds: list[float] = field(default_factory=list)
    steps: list[tuple] = field(default_factory=list)
    n_loops: int = 0
    request: str = "none"

    def add_input(self, shape: tuple[int, ...]) -> int:
        """A new input; inputs are numbered before the steps, so the steps'
        references are shifted by one."""
        k = len(self.inputs)
        self.inputs.append(shape)
        self.steps = [_shift(s, k) for s in self.steps]
        self.shapes.insert(k, shape)
        self.bounds.insert(k, 2.0)
        return k

    def push(self, step: tuple, shape: tuple[int, ...], bound: float) -> None:
        self.steps.append(step)
        self.shapes.append(tuple(shape))
        self.bounds.append(bound)


def _shift(step: tuple, k: int) -> tuple:
    """`step` with value references >= k moved up by one."""
    name, *ops = step
    refs = REFS.get(name, 1)
    return (name, *[o + 1 if n < refs and o >= k else o for n, o in enumerate(ops)])


REFS = {**{n: 2 for n in BINARY}, "matmul": 2, "scan": 2, "rscan": 2, "fori": 2, "gd": 2, "concat": 2, "dot": 2, "rnn": 3,
        "update": 2, "dyn": 2, "linalg": 2, "window": 2, "cond": 2}
"""How many leading operands of a step are value references (else 1)."""


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


@st.composite
def programs(draw: st.DrawFn, requests: Sequence[str] = REQUESTS) -> dict:
    """A random well-typed program (see the module docstring)."""
    dtype = draw(st.sampled_from(["float32", "float64"]))
    request = draw(st.sampled_from(list(requests)))
    small = request in ("jacfwd", "jacrev", "hessian", "jacobian_sparse", "hessian_sparse")
    # A vmap request runs its program VMAP_SIZE times over: small shapes
    # (as a Jacobian's), as many steps as the others.
    narrow = small or request == "vmap"
    big = not narrow and draw(st.integers(0, 3)) == 0
    sizes = (1, 2, 3) if narrow else BIG_SIZES if big else SIZES
    rank = draw(st.integers(0, 2 if narrow or big else 3))
    base = tuple(draw(st.sampled_from(sizes)) for _ in range(rank))
    d = _Draft(dtype, [], request=request)
    for _ in range(draw(st.integers(1, 3))):
        # A broadcast-compatible variant of the base shape: a suffix of it
        # with some dimensions set to 1.
        suffix = base[draw(st.integers(0, max(rank - 1, 0))):]
        shape = tuple(1 if draw(st.integers(0, 3)) == 0 else n for n in suffix)
        d.add_input(shape)
    for _ in range(draw(st.integers(2, 5 if small else 10))):
        for _attempt in range(3):  # some kinds do not apply to every value
            if _draw_step(draw, d, sizes):
                break
    n_values = len(d.shapes)
    last = n_values - 1
    # Besides the last value, any others: inputs and repeated values too
    # (outputs that alias each other or an argument).
    outputs = [last, *draw(st.lists(st.integers(0, last), max_size=2))]
    program = {"dtype": dtype, "inputs": d.inputs, "steps": d.steps, "outputs": outputs, "request": request}
    if dtype == "float32" and draw(st.integers(0, 3)) == 0:
        # Mixed precision: float64 inputs promote what they meet; the
        # float32 tolerance applies to every output.
        program["input_dtypes"] = [draw(st.sampled_from(["float32", "float64"])) for _ in d.inputs]
    if request == "grad" and d.n_loops:
        program["checkpoint"] = draw(st.sampled_from(CHECKPOINTS))
    return program


KINDS = ["unary", "unary", "binary", "binary", "reduce", "matmul", "softmax", "slice", "reshape", "transpose",
         "loop", "concat", "bcast", "index", "dot", "rnn", "new", "new", "new"]
"""The kinds of step, each drawn as often as it is listed; "new" is one of
NEW_KINDS (the constructs of issue #14's second round)."""


def _draw_step(draw: st.DrawFn, d: _Draft, sizes: Sequence[int]) -> bool:
    """Draw one step onto `d`; False when the drawn kind does not apply to
    the drawn value (a transpose of a vector, a second loop)."""
    i = draw(st.integers(0, len(d.shapes) - 1))
    shape, bound = d.shapes[i], d.bounds[i]
    rank = len(shape)
    kind = draw(st.sampled_from(KINDS))
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        if (name in ("exp", "sinh", "cosh", "expm1") and bound > 6 or name == "exp2" and bound > 9
                or name == "square" and bound * bound > CAP
                or name in ("pow", "cube") and (bound + 1) ** 3 > CAP or name == "log_ndtr" and bound > 40):
            name = "tanh"
        growth = math.exp(min(bound, 6.0))
        new = {"exp": growth, "sinh": growth, "cosh": growth, "expm1": growth, "exp2": 2.0 ** min(bound, 9.0),
               "square": bound * bound, "neg": bound, "abs": bound, "relu": bound,
               "log": math.log(bound * bound + 0.5) + 1, "sqrt": bound + 0.5,
               "pow": (bound + 1) ** 3, "cube": bound ** 3, "arcsin": 2.0, "arccos": 3.2, "arctanh": 1.5, "tan": 1.6,
               "arcsinh": bound, "arccosh": math.log(2 * (bound * bound + 1.1)) + 1, "log1p": 2 * math.log1p(bound) + 1,
               "log2": 2 * math.log(bound * bound + 0.5) + 2, "log10": math.log(bound * bound + 0.5) + 1,
               "floor": bound + 1, "ceil": bound + 1, "rint": bound + 1, "trunc": bound + 1, "reciprocal": 2.0,
               "softplus": bound + 1, "clip": 1.5, "erfc": 2.0, "log_ndtr": bound * bound / 2 + 2}.get(name, 1.0)
        d.push((name, i), shape, new)
    elif kind == "binary":
        partners = [j for j, s in enumerate(d.shapes) if _broadcasts(shape, s)]
        j = draw(st.sampled_from(partners))
        name = draw(st.sampled_from(sorted(BINARY)))
        b = d.bounds[j]
        new = {"add": bound + b, "sub": bound + b, "mul": bound * b, "div": 2 * bound, "hypot": bound + b,
               "logaddexp": max(bound, b) + 1, "arctan2": 3.2, "copysign": bound,
               "xlogy": bound * (math.log(b * b + 0.5) + 1)}.get(name, max(bound, b))
        if new > CAP:
            name, new = "maximum", max(bound, b)
        d.push((name, i, j), np.broadcast_shapes(shape, d.shapes[j]), new)
    elif kind == "reduce" and rank >= 1:
        name = draw(st.sampled_from(sorted(REDUCE)))
        axis = draw(st.one_of(st.none(), st.integers(-rank, rank - 1),
                              st.lists(st.integers(0, rank - 1), min_size=1, unique=True).map(tuple)))
        keepdims = draw(st.booleans())
        axes = range(rank) if axis is None else (axis,) if isinstance(axis, int) else axis
        count = math.prod(shape[a] for a in axes)
        out = np.sum(np.zeros(shape), axis=axis, keepdims=keepdims).shape
        d.push((name, i, axis, keepdims), out, bound * count if name == "sum" else bound)
    elif kind == "matmul" and rank >= 1 and bound * max(shape) * 2 <= CAP:
        variant = draw(st.sampled_from(["nn", "nt", "tn", "left"] if rank >= 2 else ["nn", "left"]))
        n = draw(st.sampled_from(sizes))
        batch = shape[:-2] if rank >= 3 and draw(st.booleans()) else ()
        if variant == "nn":
            w_shape, k = (*batch, shape[-1], n), shape[-1]
        elif variant == "nt":
            w_shape, k = (*batch, n, shape[-1]), shape[-1]
        elif variant == "tn":
            w_shape, k = (*batch, shape[-2], n), shape[-2]
        else:  # w @ v
            k = shape[-2] if rank >= 2 else shape[0]
            w_shape = (*batch, n, k)
        j = d.add_input(tuple(w_shape))
        i = i + 1 if i >= j else i
        zeros = [np.zeros(s) for s in (shape, w_shape)]
        out = MATMUL[variant](*zeros).shape
        d.push(("matmul", i, j, variant), out, bound * 2 * k)
    elif kind == "softmax" and rank >= 1:
        axis = draw(st.integers(0, rank - 1))
        if draw(st.booleans()):
            d.push(("softmax", i, axis), shape, 1.0)
        else:
            keepdims = draw(st.booleans())
            out = np.sum(np.zeros(shape), axis=axis, keepdims=keepdims).shape
            d.push(("logsumexp", i, axis, keepdims), out, bound + math.log(shape[axis]) + 1)
    elif kind == "slice" and rank >= 1:
        axis = draw(st.integers(0, rank - 1))
        n = shape[axis]
        start = draw(st.integers(0, n - 1))
        stop = draw(st.integers(start + 1, n))
        stride = draw(st.sampled_from([1, 2, -1, -2]))
        if stride < 0:  # the same elements, last first
            start, stop = stop - 1, (start - 1 if start > 0 else None)
        out = np.zeros(shape)[(slice(None),) * axis + (slice(start, stop, stride),)].shape
        d.push(("slice", i, axis, start, stop, stride), out, bound)
    elif kind == "reshape":
        size = math.prod(shape)
        divisors = [k for k in range(1, size + 1) if size % k == 0]
        first = draw(st.sampled_from(divisors))
        out = (first, size // first) if draw(st.booleans()) else (size,)
        d.push(("reshape", i, out), out, bound)
    elif kind == "transpose" and rank >= 2:
        perm = tuple(draw(st.permutations(range(rank))))
        d.push(("transpose", i, perm), tuple(shape[p] for p in perm), bound)
    elif kind == "loop" and d.n_loops < 1:
        d.n_loops += 1
        loop = draw(st.integers(0, 3))
        if loop == 3:
            # A while_loop with a data-dependent trip count (max_steps 40).
            d.push(("while", i), shape, bound + 1.0)
        elif loop == 2:
            # Dynamic indexing by the loop index (xs[i], out.at[i].set,
            # dynamic_slice): a fori_loop over the rows of a new input.
            steps = draw(st.sampled_from([2, 3, 5]))
            j = d.add_input((steps, *shape))
            i = i + 1 if i >= j else i
            d.push(("dyn", i, j), shape, 1.0 + 4.5 * steps)
        elif loop == 0:
            steps = draw(st.sampled_from([1, 2, 3, 5]))
            j = d.add_input((steps, *shape))
            i = i + 1 if i >= j else i
            name = draw(st.sampled_from(["scan", "rscan"]))
            d.push((name, i, j), shape, 1.0 + 2.0 * steps * 2.0 * bound)
        else:
            partners = [j for j, s in enumerate(d.shapes)
                        if _broadcasts(shape, s) and np.broadcast_shapes(shape, s) == shape and d.bounds[j] <= 10]
            if not partners:
                return False
            j = draw(st.sampled_from(partners))
            name = draw(st.sampled_from(["fori", "gd"]))
            d.push((name, i, j), shape, 1.0 + bound if name == "fori" else bound + 0.2 * d.bounds[j])
    elif kind == "rnn" and rank >= 1 and d.n_loops < 1:
        d.n_loops += 1
        n, steps = shape[-1], draw(st.sampled_from([1, 2, 4]))
        j = d.add_input((n, n))
        i = i + 1 if i >= j else i
        k = d.add_input((steps, *shape))
        i, j = (i + 1 if i >= k else i), (j + 1 if j >= k else j)
        d.push(("rnn", i, j, k), shape, float(n))
    elif kind == "index" and rank >= 1:
        axis = draw(st.integers(0, rank - 1))
        k = draw(st.integers(-shape[axis], shape[axis] - 1))
        d.push(("index", i, axis, k), shape[:axis] + shape[axis + 1:], bound)
    elif kind == "dot" and rank >= 2:
        # N-D dot: a sum over v's last axis and w's second-to-last.
        n = draw(st.sampled_from(sizes))
        j = d.add_input((2, shape[-1], n))
        i = i + 1 if i >= j else i
        d.push(("dot", i, j), (*shape[:-1], 2, n), bound * 2 * shape[-1])
    elif kind == "concat" and rank >= 1:
        axis = draw(st.integers(0, rank - 1))
        partners = [j for j, t in enumerate(d.shapes)
                    if len(t) == rank and all(a == b for k, (a, b) in enumerate(zip(shape, t)) if k != axis)]
        j = draw(st.sampled_from(partners))
        out = tuple(n + d.shapes[j][axis] if k == axis else n for k, n in enumerate(shape))
        d.push(("concat", i, j, axis), out, max(bound, d.bounds[j]))
    elif kind == "bcast" and rank < 3:
        axis = draw(st.integers(0, rank))
        n = draw(st.sampled_from(sizes))
        d.push(("bcast", i, axis, n), (*shape[:axis], n, *shape[axis:]), bound)
    elif kind == "new":  # issue #14's round 2 constructs, at a sixth of the draws
        return _NEW_KINDS[draw(st.sampled_from(NEW_KINDS))](draw, d, i)
    else:
        return False
    return True


def _numpy_shape(d: _Draft, step: tuple) -> tuple[int, ...]:
    """The shape of `step`'s result, run on zeros with NumPy."""
    values = [np.zeros(s) for s in d.shapes]
    return np.shape(run_program({"steps": [step], "outputs": [len(values)]}, values, traced=False)[0])


def _new_input(d: _Draft, shape: tuple[int, ...], *refs: int) -> tuple[int, ...]:
    """Add an input of `shape`; returns its number, then `refs` renumbered."""
    j = d.add_input(shape)
    return (j, *(r + 1 if r >= j else r for r in refs))


def _draw_gather(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """Static advanced indexing: x[..., [2, 0, 2]] or gnp.take (constant
    indices, negative and repeated ones), take_along_axis, a bool mask."""
    shape, bound = d.shapes[i], d.bounds[i]
    if not shape:
        return False
    axis = draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    form = draw(st.sampled_from(["take", "take_along", "mask"]))
    if form == "mask":
        mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        mask[draw(st.integers(0, n - 1))] = True  # not empty
        step: tuple = ("mask", i, axis, tuple(mask))
    elif form == "take_along":
        m = draw(st.integers(1, 4))
        index_shape = tuple(m if a == axis else 1 if draw(st.booleans()) else s for a, s in enumerate(shape))
        size = math.prod(index_shape)
        if size > 64:
            return False
        flat = tuple(draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size)))
        step = ("take_along", i, axis, index_shape, flat)
    else:
        idx = tuple(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
        step = ("take", i, axis, idx)
    d.push(step, _numpy_shape(d, step), bound)
    return True


def _draw_update(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """x.at[..., idx].add/set/max(values), constant indices with repeats;
    values a new input of x[..., idx]'s shape, or for add any value that
    broadcasts to it (max and set get distinct values for repeats, so no
    ties)."""
    shape, bound = d.shapes[i], d.bounds[i]
    if not shape:
        return False
    axis = draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    idx = tuple(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
    kind = draw(st.sampled_from(["add", "set", "max"]))
    target = (*shape[:axis], len(idx), *shape[axis + 1:])
    partners = [j for j, s in enumerate(d.shapes)
                if kind == "add" and _broadcasts(s, target) and np.broadcast_shapes(s, target) == target]
    if partners and draw(st.booleans()):
        j = draw(st.sampled_from(partners))
    else:
        j, i = _new_input(d, target, i)
    b = d.bounds[j]
    new = bound + len(idx) * b if kind == "add" else max(bound, b)
    if new > CAP:
        return False
    d.push(("update", i, j, axis, idx, kind), shape, new)
    return True


def _draw_linalg(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """A linalg op on well-conditioned matrices built from v (..., n) and a
    new (n, n) input (see `_linalg`)."""
    shape, bound = d.shapes[i], d.bounds[i]
    if not shape or shape[-1] > 9 or math.prod(shape) * shape[-1] > 512 or 2 * bound > CAP:
        return False
    n = shape[-1]
    kind = draw(st.sampled_from(["cholesky", "trisolve", "eigvalsh", "solve", "slogdet"]))
    j, i = _new_input(d, (n, n), i)
    new = {"cholesky": math.sqrt(7.25 * n), "eigvalsh": 3.5 * n,
           "slogdet": n * math.log(5 * n + 1) + 1}.get(kind, 2 * bound)
    step = ("linalg", i, j, kind)
    d.push(step, _numpy_shape(d, step), new)
    return True


def _draw_window(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """gradc.nn.conv of a (batch, length, in) or (length, in) value with a new (k, in, out)
    kernel (strides, dilation, VALID or SAME), or max_pool / avg_pool of a
    value of rank 2 to 4 over 1 or 2 spatial dimensions (the batch
    dimension optional)."""
    shape, bound = d.shapes[i], d.bounds[i]
    rank = len(shape)
    if rank < 2:
        return False
    kind = draw(st.sampled_from(["conv", "max_pool", "avg_pool"]))
    padding = draw(st.sampled_from(["VALID", "SAME"]))
    if kind == "conv":
        if rank > 3:
            return False
        batch, length, channels = shape if rank == 3 else (1, *shape)  # rank 2: unbatched
        k, dilation, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        features = draw(st.sampled_from([1, 2, 3]))
        new = bound * k * channels * 2
        if (padding == "VALID" and (k - 1) * dilation + 1 > length or new > CAP
                or batch * length * channels * k * features > 4000):
            return False
        j, i = _new_input(d, (k, channels, features), i)
        step: tuple = ("window", i, j, "conv", (k,), (stride,), dilation, padding)
    else:
        if rank > 4:
            return False
        dims = draw(st.integers(1, 2)) if rank == 3 else rank - 2
        spatial = shape[rank - 1 - dims:rank - 1]
        window = tuple(draw(st.integers(1, min(3, s))) for s in spatial)
        stride = tuple(draw(st.integers(1, 2)) for _ in spatial)
        step, new = ("window", i, i, kind, window, stride, 1, padding), bound
    d.push(step, _numpy_shape(d, step), new)
    return True


def _draw_ints(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """argmax selecting (one-hot by comparison with an arange, or as a
    traced index), or integer arithmetic on v.astype(int): see `_ints`."""
    shape, bound = d.shapes[i], d.bounds[i]
    if draw(st.booleans()):
        if not shape:
            return False
        form = draw(st.sampled_from(["onehot", "select", "index"]))
        step: tuple = ("argmax", i, form, draw(st.integers(0, len(shape) - 1)))
        new = bound
    else:
        divisor = draw(st.sampled_from([3, -3, 2, -2, 5]))
        step = ("ints", i, draw(st.sampled_from(["int32", "int64"])), divisor)
        new = 1.5 * bound + 0.25 * (bound / 2 + 1)
    d.push(step, _numpy_shape(d, step), new)
    return True


def _draw_custom(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """softplus with a custom_jvp rule, or (in reverse-mode requests only:
    a custom_vjp function has no forward rule) a custom_vjp rule."""
    reverse = d.request in ("none", "grad", "jacrev", "vmap")
    kind = "vjp" if reverse and draw(st.booleans()) else "jvp"
    d.push(("custom", i, kind), d.shapes[i], d.bounds[i] + 1)
    return True


def _draw_cond(draw: st.DrawFn, d: _Draft, i: int) -> bool:
    """A cond (issue #15) on value i, its predicate a reduction of any value
    compared with a constant (random points miss the switch point), its
    branches a unary and a binary step (see `_cond`)."""
    j = draw(st.integers(0, len(d.shapes) - 1))
    step = ("cond", i, j, draw(st.sampled_from([-0.5, 0.0, 0.5])), draw(st.sampled_from(COND_UNARY)),
            draw(st.sampled_from(COND_BINARY)))
    d.push(step, d.shapes[i], max(d.bounds[i] + 1, 1.6))
    return True


_NEW_KINDS: dict[str, Callable[[st.DrawFn, _Draft, int], bool]] = {
    "window": _draw_window, "linalg": _draw_linalg, "gather": _draw_gather, "update": _draw_update,
    "ints": _draw_ints, "custom": _draw_custom, "cond": _draw_cond,
}
NEW_KINDS = ["window", "linalg", "gather", "update", "ints", "linalg", "window", "custom", "cond"]
"""How they are drawn: linalg and window, with the most variants and
requirements on the value, twice; custom and cond, which always apply,
last (hypothesis favours the first entries)."""


@st.composite
def batches(draw: st.DrawFn, size: int = 8, **kwargs: Any) -> list[dict]:
    """`size` programs compiled together as one function."""
    return [draw(programs(**kwargs)) for _ in range(size)]


# ---------------------------------------------------------------------------
# Running and checking
# ---------------------------------------------------------------------------


def make_args(program: dict, seed: int) -> list[np.ndarray]:
    """Inputs uniform in [-2, 2] and request arguments in [-1, 1]."""
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-2, 2, s).astype(t) for s, t in input_specs(program)]
    args += [rng.uniform(-1, 1, s).astype(t) for s, t in extra_specs(program)]
    return args


def batch_function(batch: Sequence[dict]) -> tuple[Callable[..., tuple], list[int]]:
    """One function computing every program's request: its arguments are
    each program's arguments in turn; its results all their outputs. The
    list it comes with receives, when it is traced, how many outputs each
    program has."""
    counts = [n_inputs(p) + len(extra_specs(p)) for p in batch]
    n_outputs: list[int] = []

    def fuzz_batch(*args: Any) -> tuple:
        outs: list[Any] = []
        n_outputs.clear()
        at = 0
        for program, count in zip(batch, counts, strict=True):
            mine = requested(program, args[at:at + count])
            n_outputs.append(len(mine))
            outs += mine
            at += count
        return tuple(outs)

    return fuzz_batch, n_outputs


@dataclass
class Counts:
    programs: int = 0
    batches: int = 0
    builds: int = 0
    comparisons: int = 0
    derivative_checks: int = 0
    failures: int = 0
    combinations: set[str] = field(default_factory=set)

    def line(self) -> str:
        return (f"{self.programs} programs in {self.batches} batches, {self.builds} builds, "
                f"{len(self.combinations)}/{len(COMBINATIONS)} option combinations, "
                f"{self.comparisons} comparisons, {self.derivative_checks} derivative checks, "
                f"{self.failures} failures")


COUNTS = Counts()


def assert_close(got: Any, expected: np.ndarray, rtol: float, what: str, floor: float = 0.0) -> None:
    """`got` agrees with `expected` norm-wise (see the module docstring),
    or within `floor` (the conditioning allowance of float32 outputs)."""
    got = np.asarray(got)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    finite = np.isfinite(expected)
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: NaNs differ: {got} vs {expected}"
    assert np.array_equal(got[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)]), what
    scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
    err = float(np.max(np.abs(got[finite].astype(np.float64) - expected[finite]), initial=0.0))
    assert err <= max(rtol * scale, floor), (
        f"{what}: max error {err:.3g} > {rtol:g} * {scale:.3g} (and > {floor:.3g})\ngot {got}\nexpected {expected}")


def reference(fn: Callable[..., Any], args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The array-level interpreter on the differentiated program."""
    lowered = gradc.lower(fn, *args)
    module = run_pipeline(lowered.traced.module.clone(), DIFFERENTIATE)
    module.verify()  # the passes' output must be valid IR, not only run
    return run_function(module, lowered.name, *args)


CONDITIONING = 8.0
"""How many times its own rounding error a float32 output may differ by."""


def float32_allowances(fn: Callable[..., Any], args: Sequence[np.ndarray], expected: Sequence[np.ndarray]) -> list[float]:
    """Per output: 0 for float64 outputs; for float32 ones, CONDITIONING
    times the interpreter's own float32 error, measured against the
    interpreter on the same program in float64. Well-conditioned outputs get
    nothing beyond RTOL; an ill-conditioned one (a 130-wide recurrent net
    differentiated through 4 steps in float32, found by a campaign: both
    float32 results were 1e-2 off at magnitude 223, the C 2.2 times more
    than the interpreter at -O3 and 4 times more at the sanitizers' -O1, in
    other summation orders) gets what its conditioning costs any float32
    evaluation. A bug gives errors of order
    one relative to the output, far above."""
    if not any(np.asarray(e).dtype == np.float32 for e in expected):
        return [0.0] * len(expected)
    exact = reference(fn, [a.astype(np.float64) if a.dtype == np.float32 else a for a in args])
    floors = []
    for e, x in zip(expected, exact, strict=True):
        e = np.asarray(e)
        finite = np.isfinite(e) & np.isfinite(x)
        error = float(np.max(np.abs(e[finite].astype(np.float64) - x[finite]), initial=0.0))
        floors.append(CONDITIONING * error if e.dtype == np.float32 else 0.0)
    return floors


def check_batch(batch: Sequence[dict], combos: Sequence[tuple[Options, str]], seed: int = 0) -> None:
    """Compile the batch under `combos` and compare every output with the
    interpreter; check the derivative requests against finite differences
    and the transposition identity."""
    fn, n_outputs = batch_function(batch)
    args: list[np.ndarray] = []
    spans = []
    for k, program in enumerate(batch):
        a = make_args(program, seed + k)
        spans.append((len(args), len(a)))
        args += a
    expected = reference(fn, args)
    rtols = [RTOL[p["dtype"]] for p, n in zip(batch, n_outputs, strict=True) for _ in range(n)]
    assert len(rtols) == len(expected)
    floors: list[float] = []  # float32_allowances, computed on the first output that needs them
    for combo in combos:
        options, level = combo
        name = combination_name(combo)
        got = gradc.jit(fn, options=options, cflags=CFLAGS[level])(*args)
        COUNTS.builds += 1
        COUNTS.combinations.add(name)
        assert len(got) == len(expected), name
        for k, (g, e, rtol) in enumerate(zip(got, expected, rtols, strict=True)):
            try:
                assert_close(g, e, rtol, f"output {k} with {name}")
            except AssertionError:
                if np.asarray(e).dtype != np.float32:
                    raise
                floors = floors or float32_allowances(fn, args, expected)
                assert_close(g, e, rtol, f"output {k} with {name}", floors[k])
            COUNTS.comparisons += 1
    at = 0
    for program, (start, count), n_out in zip(batch, spans, n_outputs, strict=True):
        check_derivatives(program, args[start:start + count], expected[at:at + n_out])
        COUNTS.derivative_checks += program["request"] != "none"
        at += n_out
    COUNTS.programs += len(batch)
    COUNTS.batches += 1


def _numpy_f64(program: dict) -> Callable[..., list[np.ndarray]]:
    return lambda *xs: [np.asarray(o, np.float64) for o in run_program(program, xs, traced=False)]


def _directional(f: Callable[..., Any], xs: Sequence[np.ndarray], ds: Sequence[np.ndarray]) -> Any:
    """Central difference of f at xs along ds (float64)."""
    plus = f(*[x + FD_STEP * d for x, d in zip(xs, ds)])
    minus = f(*[x - FD_STEP * d for x, d in zip(xs, ds)])
    return [(p - m) / (2 * FD_STEP) for p, m in zip(plus, minus)]


def check_derivatives(program: dict, args: Sequence[np.ndarray], outs: Sequence[np.ndarray]) -> None:
    """The derivative request's outputs (from the interpreter, which the
    compiled C matched) against float64 finite differences of the program."""
    request = program["request"]
    if request == "none":
        return
    if request == "vmap":
        # Against a loop over the rows run by NumPy in the program's own
        # dtypes: a batching bug gives errors of order one.
        rows = [run_program(program, [x, *args[1:n_inputs(program)]], traced=False) for x in args[-1]]
        for k, out in enumerate(outs):
            want = np.stack([np.asarray(r[k]) for r in rows])
            assert_close(out, want, FD_RTOL[program["dtype"]], f"vmap of {program}: output {k} vs the loop over rows")
        return
    n = n_inputs(program)
    xs = [np.asarray(a, np.float64) for a in args[:n]]
    extra = [np.asarray(a, np.float64) for a in args[n:]]
    rtol = FD_RTOL[program["dtype"]]
    rng = np.random.default_rng(len(program["steps"]))
    f = _numpy_f64(program)
    what = f"{request} of {program}"
    if request == "grad":
        grads = [np.asarray(g, np.float64) for g in outs[1:]]
        ds = [rng.uniform(-1, 1, x.shape) for x in xs]
        fd = sum(float(np.sum(o * w)) for o, w in zip(_directional(f, xs, ds), extra))
        ad = sum(float(np.sum(g * d)) for g, d in zip(grads, ds))
        scale = max(1.0, sum(float(np.sum(np.abs(g * d))) for g, d in zip(grads, ds)))
        assert abs(fd - ad) <= rtol * scale, f"{what}: <grad, d> {ad} vs finite differences {fd}"
    elif request == "linearize":
        tangents, cotangents = extra[:n], extra[n:]
        n_out = len(cotangents)
        jv = [np.asarray(o, np.float64) for o in outs[:n_out]]
        vj = [np.asarray(o, np.float64) for o in outs[n_out:]]
        for k, (a, b) in enumerate(zip(jv, _directional(f, xs, tangents))):
            assert_close(a, b, rtol, f"{what}: jvp output {k} vs finite differences")
        left = sum(float(np.sum(g * v)) for g, v in zip(vj, tangents))
        right = sum(float(np.sum(u * j)) for u, j in zip(cotangents, jv))
        scale = max(1.0, sum(float(np.sum(np.abs(g * v))) for g, v in zip(vj, tangents)),
                    sum(float(np.sum(np.abs(u * j))) for u, j in zip(cotangents, jv)))
        assert abs(left - right) <= rtol * scale, f"{what}: <vjp(u), v> {left} != <u, jvp(v)> {right}"
    elif request in ("jacfwd", "jacrev"):
        d = rng.uniform(-1, 1, xs[0].shape)
        zeros = [np.zeros_like(x) for x in xs[1:]]
        fd = _directional(f, xs, [d, *zeros])
        for k, (jac, col) in enumerate(zip(outs, fd)):
            jac = np.asarray(jac, np.float64)
            ad = np.tensordot(jac, d, axes=d.ndim) if d.ndim else jac * d
            assert_close(ad, col, rtol, f"{what}: J d of output {k} vs finite differences")
    elif request in ("jacobian_sparse", "hessian_sparse"):
        _check_sparse(program, args, outs, f, xs, extra, rng, rtol, what)
    elif request == "hessian":
        d = rng.uniform(-1, 1, xs[0].shape)
        hess = np.asarray(outs[0], np.float64)
        ad = float(np.tensordot(np.tensordot(hess, d, axes=d.ndim), d, axes=d.ndim))
        _check_curvature(f, xs, extra, d, ad, float(np.sum(np.abs(hess))), rtol, f"{what}: d'Hd")


def _check_curvature(f: Callable[..., Any], xs: list[np.ndarray], extra: list[np.ndarray], d: np.ndarray,
                     ad: float, size: float, rtol: float, what: str) -> None:
    """`ad` (d'Hd of the weighted sum of the outputs, in the first input)
    against its second difference; `size` the sum of |H|'s entries."""

    def loss(x0: np.ndarray) -> float:
        return sum(float(np.sum(o * w)) for o, w in zip(f(x0, *xs[1:]), extra))

    h = 1e-4
    fd = (loss(xs[0] + h * d) - 2 * loss(xs[0]) + loss(xs[0] - h * d)) / (h * h)
    scale = max(1.0, abs(ad), size)
    assert abs(fd - ad) <= 10 * rtol * scale, f"{what} {ad} vs finite differences {fd}"


def _check_sparse(program: dict, args: Sequence[np.ndarray], outs: Sequence[np.ndarray], f: Callable[..., Any],
                  xs: list[np.ndarray], extra: list[np.ndarray], rng: np.random.Generator, rtol: float,
                  what: str) -> None:
    """A sparse request's nonzeros, placed by gradc's pattern, against
    finite differences: J d (all outputs flattened, then concatenated) or
    d'Hd in a random direction d. An entry missing from the pattern (or
    misplaced) makes them differ."""
    n = n_inputs(program)
    x0, rest = np.asarray(args[0]), list(args[1:n])
    values = np.asarray(outs[0], np.float64)
    d = rng.uniform(-1, 1, xs[0].shape)
    flat = d.reshape(-1)

    def traced(x: Any, *others: Any) -> tuple:  # every input traced, as in `requested`
        return tuple(run_program(program, [x, *others], traced=True))

    if program["request"] == "jacobian_sparse":
        rows, cols = gradc.jacobian_sparsity(traced, x0, *rest).nonzero()
        fd = np.concatenate([np.asarray(o, np.float64).reshape(-1)
                             for o in _directional(f, xs, [d, *[np.zeros_like(x) for x in xs[1:]]])])
        ad = np.bincount(rows, weights=values * flat[cols], minlength=fd.size).astype(np.float64)
        assert_close(ad, fd, rtol, f"{what}: J d from the nonzeros vs finite differences")
        return
    weights = [np.asarray(a) for a in args[n:]]
    rows, cols = gradc.hessian_sparsity(lambda x, *others: _weighted_sum(traced(x, *others), weights),
                                        x0, *rest).nonzero()
    ad = float(np.sum(values * flat[rows] * flat[cols]))
    _check_curvature(f, xs, extra, d, ad, float(np.sum(np.abs(values))), rtol, f"{what}: d'Hd from the nonzeros")


# ---------------------------------------------------------------------------
# The long campaign
# ---------------------------------------------------------------------------

def combination_named(name: str) -> tuple[Options, str]:
    return next(c for c in COMBINATIONS if combination_name(c) == name)


LIT_REGRESSIONS = Path(__file__).resolve().parents[2] / "lit" / "regressions"
"""Where failing programs are saved, as lit tests (Python scripts run by
`# RUN: %python %s`)."""

REGRESSION_HEADER = """\
# RUN: %python %s
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from fuzz.programs import check_found  # noqa: E402

"""


def save_regression(programs: Sequence[dict], combos: Sequence[str], error: str, seed: int = 0,
                    folder: Path = LIT_REGRESSIONS) -> Path:
    """`programs` (one, or a batch that fails only together) as a lit test
    lit/regressions/program-<hash>.py, checked under `combos` (the
    combinations they failed with) and the default one, on the inputs of
    `seed`."""
    text = repr(list(programs))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    names = sorted({*combos, combination_name((Options(), "O3"))})
    first = error.strip().splitlines()[0] if error.strip() else "error"
    path = folder / f"program-{digest}.py"
    folder.mkdir(exist_ok=True)
    path.write_text(
        f"# Found by tests/fuzz/programs.py: {first[:200]}\n"
        + REGRESSION_HEADER
        + f"check_found({{\n    {f'program_{digest}'!r}: ({text}, {names!r}, {seed}),\n}})\n"
    )
    return path


def check_found(cases: dict[str, tuple[list[dict], list[str], int]]) -> None:
    """Check each saved case `name: (programs, combination names, seed)`:
    what a lit regression script runs. Raises on the first failure."""
    for name, (programs, combinations, seed) in cases.items():
        check_batch(programs, [combination_named(n) for n in combinations], seed)
        print(f"{name}: ok under {len(combinations)} combinations")


def _isolate(batch: Sequence[dict], combos: Sequence[tuple[Options, str]], seed: int) -> list[tuple[dict, int, list[str], str]]:
    """The programs of a failing batch that fail on their own (on the inputs
    they had in the batch), with the combinations they fail under and the
    first error."""
    found = []
    for k, program in enumerate(batch):
        failed, first = [], ""
        for combo in combos:
            try:
                check_batch([program], [combo], seed + k)
            except Exception as err:  # noqa: BLE001 - any error is a finding
                failed.append(combination_name(combo))
                first = first or f"{type(err).__name__}: {err}"
        if failed:
            found.append((program, seed + k, failed, first))
    return found


def campaign(examples: int, seconds: float, batch_size: int = 10, per_batch: int = 2, seed0: int = 1000) -> Counts:
    """Batches of random programs until `examples` programs or `seconds`
    have passed; each batch under `per_batch` combinations taken in turn.
    Failing programs are saved with `save_regression`."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    start = time.monotonic()
    taken = itertools.count()
    counts = COUNTS
    chunk = 0
    while counts.programs < examples and time.monotonic() - start < seconds:
        @seed(seed0 + chunk)
        @settings(max_examples=5, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(batches(size=batch_size))
        def run(batch: list[dict]) -> None:
            if counts.programs >= examples or time.monotonic() - start >= seconds:
                return
            combos = [COMBINATIONS[next(taken) % len(COMBINATIONS)] for _ in range(per_batch)]
            try:
                check_batch(batch, combos, seed=chunk * 1000)
            except Exception as err:  # noqa: BLE001 - every error is reported and saved
                counts.programs += len(batch)
                counts.batches += 1
                error = f"{type(err).__name__}: {err}"
                print(f"batch failed: {error[:300]}", flush=True)
                alone = _isolate(batch, combos, chunk * 1000)
                for program, program_seed, failed, first in alone:
                    counts.failures += 1
                    path = save_regression([program], failed, first, program_seed)
                    print(f"  saved {path} ({len(failed)} combination(s)): {first[:300]}", flush=True)
                if not alone:  # fails only together: keep the whole batch
                    counts.failures += 1
                    path = save_regression(batch, [combination_name(c) for c in combos], error, chunk * 1000)
                    print(f"  saved {path} (the whole batch)", flush=True)

        run()
        chunk += 1
        print(f"[{time.monotonic() - start:.0f}s] {counts.line()}", flush=True)
    return counts


def main() -> int:
    examples = int(os.environ.get("GRADC_FUZZ_EXAMPLES", "1000000000"))
    seconds = float(os.environ.get("GRADC_FUZZ_SECONDS", "inf"))
    if math.isinf(seconds) and examples >= 10**9:
        examples = 2000
    seed0 = int(os.environ.get("GRADC_FUZZ_SEED", "1000"))
    counts = campaign(examples, seconds, seed0=seed0)
    print(f"random programs: {counts.line()}")
    return 1 if counts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
