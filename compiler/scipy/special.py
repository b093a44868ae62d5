"""`gradc.scipy.special`: scipy.special's functions gradc has (as
`jax.scipy.special`), traced into the `array` dialect."""

from __future__ import annotations

from gradc.frontend.elementwise import erf
from gradc.frontend.nn import log_softmax
from gradc.frontend.reductions import logsumexp, softmax
from gradc.frontend.special import (
    digamma,
    entr,
    erfc,
    erfinv,
    expit,
    gammaln,
    kl_div,
    log_ndtr,
    logit,
    ndtr,
    ndtri,
    polygamma,
    psi,
    rel_entr,
    xlog1py,
    xlogy,
)

__all__ = [
    "erf", "erfc", "logsumexp", "softmax", "expit", "logit", "xlogy", "xlog1py", "entr", "rel_entr",
    "kl_div", "ndtr", "log_ndtr", "log_softmax", "gammaln", "digamma", "psi", "polygamma",
    "erfinv", "ndtri",
]
