"""`import gradc.numpy as gnp`: NumPy's functions, traced into the `array`
dialect.

While gradc traces a function (`gradc.jit`, `gradc.lower`, ...), its array
arguments are `TracedArray`s: each gnp function of them appends `array` ops
and returns a new one; on anything else it is NumPy's own function, so one
function runs under NumPy and under gradc alike. The rules are NumPy 2's
(dtypes, weak Python scalars, broadcasting), made explicit in the IR.

Guarantees: a user mistake (shapes that do not broadcast, an axis out of
range, a dtype gradc lacks such as int8, an out-of-range constant index) is a `GradcError`
naming the operation, the shapes and the file:line of the call;
`gnp.<name>` for a name this module lacks is a `TraceAttributeError` that
says what to write instead (`gradc.frontend.compositions`).

The functions live in gradc.frontend by family (elementwise, reductions,
shapes, linalg, creation; the tracer core in tracer and operands). The
rules and why: docs/frontend.md. `gnp.linalg` holds numpy.linalg's norm, multi_dot, cholesky, solve, inv,
det, slogdet, eigh and eigvalsh.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

from gradc.errors import TraceAttributeError
from gradc.frontend.compositions import COMPOSITIONS, NO_COMPOSITION, close_names, missing_message
from gradc.frontend.creation import (
    arange,
    array,
    asarray,
    eye,
    full,
    full_like,
    identity,
    linspace,
    ones,
    ones_like,
    tri,
    zeros,
    zeros_like,
    empty,
    empty_like,
)
from gradc.frontend.elementwise import (
    angle,
    conj,
    conjugate,
    imag,
    iscomplex,
    iscomplexobj,
    isreal,
    isrealobj,
    real,
    abs,
    absolute,
    acos,
    acosh,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    around,
    asin,
    atan2,
    asinh,
    astype,
    atan,
    atanh,
    ceil,
    clip,
    copysign,
    cos,
    cosh,
    divide,
    equal,
    erf,
    exp,
    exp2,
    expm1,
    fix,
    floor,
    greater,
    greater_equal,
    heaviside,
    fmod,
    remainder,
    mod,
    floor_divide,
    divmod,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    invert,
    bitwise_not,
    left_shift,
    right_shift,
    hypot,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log10,
    log1p,
    log2,
    logaddexp,
    logaddexp2,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    reciprocal,
    relu,
    rint,
    round,
    sigmoid,
    sign,
    signbit,
    sin,
    sinc,
    sinh,
    softplus,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from gradc.frontend.indexing import take, take_along_axis
from gradc.frontend.linalg import dot, einsum, inner, kron, matmul, outer, tensordot, trace, vdot
from gradc.frontend.linalg import multi_dot as _multi_dot
from gradc.frontend import factorizations as _factorizations
from gradc.frontend.linalg import norm as _norm
from gradc.frontend.operands import bool_, broadcast_shapes, e, float32, float64, inf, int32, int64, nan, newaxis, pi
from gradc.frontend.reductions import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    average,
    cumprod,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)
from gradc.frontend.shapes import (
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    column_stack,
    concatenate,
    diag,
    diagonal,
    diff,
    dstack,
    expand_dims,
    flip,
    fliplr,
    flipud,
    hstack,
    moveaxis,
    ndim,
    pad,
    ravel,
    repeat,
    reshape,
    roll,
    rot90,
    shape,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    transpose,
    tril,
    triu,
    vstack,
)
from gradc.frontend.tracer import Trace, TracedArray, current_trace

__all__ = [
    "TracedArray",
    "Trace",
    "current_trace",
    "float32", "float64", "int32", "int64", "bool_", "newaxis", "pi", "e", "inf", "nan",
    "exp", "log", "tanh", "sinh", "sin", "cos", "sqrt", "abs", "absolute", "negative",
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "where", "logical_and", "logical_or", "logical_not", "astype", "asarray",
    "square", "relu", "sigmoid", "softmax", "logsumexp", "stop_gradient",
    "cosh", "tan", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
    "asin", "acos", "atan", "asinh", "acosh", "atanh", "log1p", "expm1", "log2", "log10",
    "exp2", "erf", "floor", "ceil", "trunc", "fix", "rint", "round", "around", "sign",
    "reciprocal", "logaddexp", "logaddexp2", "softplus", "sinc", "hypot", "clip", "isnan", "isinf",
    "isfinite", "heaviside", "arctan2", "atan2", "copysign", "signbit",
    "real", "imag", "conj", "conjugate", "angle", "iscomplexobj", "isrealobj", "iscomplex", "isreal",
    "fmod", "remainder", "mod", "floor_divide", "divmod",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "bitwise_not", "left_shift", "right_shift",
    "sum", "max", "min", "amax", "amin", "mean",
    "var", "std", "average", "prod", "any", "all", "cumsum", "cumprod", "argmax", "argmin",
    "reshape", "ravel", "squeeze", "expand_dims", "transpose", "broadcast_to",
    "broadcast_shapes", "concatenate", "stack", "shape", "ndim",
    "moveaxis", "swapaxes", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack",
    "column_stack", "append", "split", "array_split", "flip", "fliplr", "flipud", "rot90", "roll",
    "repeat", "tile", "pad", "diff", "diagonal", "diag", "tril", "triu",
    "take", "take_along_axis",
    "matmul", "dot", "outer", "inner", "vdot", "kron", "trace", "einsum", "tensordot", "linalg",
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like",
    "array", "eye", "identity", "arange", "linspace", "tri",
]


def _linalg_getattr(name: str) -> Any:
    """`gnp.linalg.<name>` for a name gradc.numpy.linalg lacks: what to
    write instead, as for `gnp.<name>`."""
    if name.startswith("_"):
        raise AttributeError(f"module 'gradc.numpy.linalg' has no attribute {name!r}")
    if hasattr(np.linalg, name) or name in NO_COMPOSITION:
        raise TraceAttributeError(f"gnp.linalg.{name}: {missing_message(name)}")
    raise TraceAttributeError(f"gnp.linalg.{name}: gradc.numpy.linalg has no attribute {name!r}, nor does numpy.linalg")


linalg = types.ModuleType(
    "gradc.numpy.linalg",
    "numpy.linalg's functions gradc.numpy has: norm, multi_dot, cholesky, solve, inv, det, slogdet, eigh, "
    "eigvalsh.",
)
linalg.norm = _norm  # type: ignore[attr-defined]
linalg.multi_dot = _multi_dot  # type: ignore[attr-defined]
for _name in ("cholesky", "solve", "inv", "det", "slogdet", "eigh", "eigvalsh"):
    setattr(linalg, _name, getattr(_factorizations, _name))
linalg.__all__ = ["norm", "multi_dot", "cholesky", "solve", "inv", "det", "slogdet", "eigh", "eigvalsh"]  # type: ignore[attr-defined]
linalg.__getattr__ = _linalg_getattr  # type: ignore[attr-defined]
sys.modules[linalg.__name__] = linalg


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
