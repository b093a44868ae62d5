"""`gradc.nn`: the `jax.nn` functions gradc has, traced into the `array`
dialect, plus convolution (`conv`) and flax.linen-style pooling
(`max_pool`, `avg_pool`)."""

from __future__ import annotations

from gradc.frontend.conv import avg_pool, conv_nd as conv, max_pool
from gradc.frontend.elementwise import relu, sigmoid, softplus
from gradc.frontend.nn import (
    celu,
    elu,
    gelu,
    hard_tanh,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    one_hot,
    relu6,
    selu,
    silu,
    standardize,
    swish,
)
from gradc.frontend.reductions import logsumexp, softmax

__all__ = [
    "avg_pool",
    "celu",
    "conv",
    "elu",
    "gelu",
    "hard_tanh",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "max_pool",
    "one_hot",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "standardize",
    "swish",
]
