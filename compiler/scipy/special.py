"""`gradc.scipy.special`: scipy.special's functions gradc has (as
`jax.scipy.special`), traced into the `array` dialect."""

from __future__ import annotations

from gradc.frontend.elementwise import erf
from gradc.frontend.special import erfc
from gradc.frontend.reductions import logsumexp, softmax

__all__ = ["erf", "erfc", "logsumexp", "softmax"]
