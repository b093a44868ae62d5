"""jax.nn activations and helpers as gnp composites: relu6, gelu, silu
(swish), elu, celu, selu, leaky_relu, hard_tanh, log_sigmoid, log_softmax,
one_hot, standardize.

Expects: float arrays (Python numbers stay weak, as in gnp), JAX's
arguments; `one_hot` takes constant (NumPy) labels only.

Guarantees: the formulas of jax.nn (so values, dtypes and derivatives at
kinks are JAX's: relu6's derivative is 0 at 0 and 6, leaky_relu takes the
x >= 0 branch at 0, elu the x <= 0 one); log_softmax subtracts a max no
derivative flows through; the same code runs on NumPy arrays.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import (
    exp,
    expm1,
    greater,
    greater_equal,
    less,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    sigmoid,
    softplus,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tanh,
    where,
)
from gradc.frontend.operands import _array_like
from gradc.frontend.reductions import max as _max
from gradc.frontend.reductions import mean as _mean
from gradc.frontend.reductions import sum as _sum
from gradc.frontend.shapes import expand_dims
from gradc.frontend.special import erfc
from gradc.frontend.tracer import TracedArray

__all__ = [
    "celu",
    "elu",
    "gelu",
    "hard_tanh",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "one_hot",
    "relu6",
    "selu",
    "silu",
    "standardize",
    "swish",
]


def relu6(x: Any) -> Any:
    """min(max(x, 0), 6); derivative 0 at 0 and at 6 (JAX's)."""
    return minimum(maximum(x, 0.0), 6.0)


def gelu(x: Any, approximate: bool = True) -> Any:
    """x * Phi(x): the tanh approximation (default, as JAX) or, with
    approximate=False, x * erfc(-x / sqrt(2)) / 2 (erfc keeps its relative
    accuracy where Phi(x) is tiny, x << 0, where 1 + erf(x) cancels)."""
    x = _array_like(x)
    if approximate:
        inner = multiply(math.sqrt(2.0 / math.pi), x + 0.044715 * (x * x * x))
        return x * (0.5 * (1.0 + tanh(inner)))
    return (0.5 * x) * erfc(x * -math.sqrt(0.5))


def silu(x: Any) -> Any:
    """x * sigmoid(x)."""
    x = _array_like(x)
    return x * sigmoid(x)


swish = silu


def elu(x: Any, alpha: Any = 1.0) -> Any:
    """x for x > 0, alpha * expm1(x) otherwise."""
    x = _array_like(x)
    positive = greater(x, 0.0)
    return where(positive, x, alpha * expm1(where(positive, 0.0, x)))


def celu(x: Any, alpha: Any = 1.0) -> Any:
    """max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
    x = _array_like(x)
    return maximum(x, 0.0) + alpha * expm1(minimum(x, 0.0) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Any:
    """scale * elu(x, alpha) with the SELU constants."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def leaky_relu(x: Any, negative_slope: Any = 1e-2) -> Any:
    """x for x >= 0, negative_slope * x otherwise."""
    x = _array_like(x)
    return where(greater_equal(x, 0.0), x, negative_slope * x)


def hard_tanh(x: Any) -> Any:
    """x clipped to [-1, 1]; derivative 1 at +-1 (JAX's nested where keeps x there)."""
    x = _array_like(x)
    return where(greater(x, 1.0), 1.0, where(less(x, -1.0), -1.0, x))


def log_sigmoid(x: Any) -> Any:
    """log(sigmoid(x)) = -softplus(-x), accurate in both tails."""
    return negative(softplus(negative(x)))


def log_softmax(x: Any, axis: Any = -1, where: Any = None) -> Any:
    """x - logsumexp(x) along `axis`, shifted by a stop-gradient max."""
    if where is not None:
        raise TraceError("log_softmax: where= is not supported")
    x = _array_like(x)
    shifted = subtract(x, stop_gradient(_max(x, axis=axis, keepdims=True)))
    return subtract(shifted, log(_sum(exp(shifted), axis=axis, keepdims=True)))


def one_hot(x: Any, num_classes: int, *, dtype: Any = None, axis: int = -1) -> Any:
    """A NumPy array: 1 where the class index along the new `axis` equals
    the label, else 0 (labels outside [0, num_classes) give zero rows);
    dtype defaults to float64. Constant labels give a NumPy array, traced
    integer labels a traced one (a comparison with the class numbers, so
    its derivative is zero)."""
    traced = _array_like(x)
    if isinstance(traced, TracedArray) and traced.dtype.kind not in "iu":
        raise TraceTypeError(f"one_hot: labels must be integers, got a traced {traced.dtype.name} array {traced.shape}")
    try:
        n = operator.index(num_classes)
    except TypeError:
        raise TraceTypeError(f"one_hot: num_classes must be an int, got {num_classes!r}") from None
    labels = traced if isinstance(traced, TracedArray) else np.asarray(x)
    out_dtype = np.dtype(np.float64 if dtype is None else dtype)
    ndim = labels.ndim + 1
    if not -ndim <= axis < ndim:
        raise TraceError(f"one_hot: axis {axis} out of range for a result of {ndim} dimensions")
    ax = axis % ndim
    classes = np.arange(n).reshape((1,) * ax + (n,) + (1,) * (ndim - 1 - ax))
    if isinstance(labels, TracedArray):
        return (expand_dims(labels, ax) == classes.astype(labels.dtype)).astype(out_dtype)
    return (np.expand_dims(labels, ax) == classes).astype(out_dtype)


def standardize(x: Any, axis: Any = -1, mean: Any = None, variance: Any = None,
                epsilon: Any = 1e-5, where: Any = None, *, algorithm: str = "fast") -> Any:
    """(x - mean) / sqrt(variance + epsilon) along `axis`; mean and variance
    computed when not given ('fast': mean(x^2) - mean^2 clipped at 0, JAX's
    default; 'stable': mean((x - mean)^2))."""
    if where is not None:
        raise TraceError("standardize: where= is not supported")
    x = _array_like(x)
    if mean is None:
        mean = _mean(x, axis=axis, keepdims=True)
    if variance is None:
        if algorithm == "fast":
            variance = maximum(subtract(_mean(square(x), axis=axis, keepdims=True), square(mean)), 0.0)
        elif algorithm == "stable":
            variance = _mean(square(subtract(x, mean)), axis=axis, keepdims=True)
        else:
            raise TraceError(f"standardize: algorithm must be 'fast' or 'stable', got {algorithm!r}")
    return subtract(x, mean) / sqrt(variance + epsilon)
