"""`gradc.nn`: the `jax.nn` functions gradc has, traced into the `array`
dialect."""

from __future__ import annotations

from gradc.frontend.elementwise import relu, sigmoid
from gradc.frontend.reductions import logsumexp, softmax

__all__ = ["logsumexp", "relu", "sigmoid", "softmax"]
