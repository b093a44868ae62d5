"""`gradc.scipy.stats.norm`: the normal distribution's functions, as
jax.scipy.stats.norm's (loc and scale as keywords or positions, traced or
not, broadcast), composites of gradc.scipy.special so they differentiate to
any order in x, loc and scale: pdf, logpdf, cdf, logcdf, sf, logsf, ppf,
isf. The tails keep their accuracy (logcdf through log_ndtr, sf as the
cdf of -z).
"""

from __future__ import annotations

import math
from typing import Any

from gradc.frontend.elementwise import exp, log
from gradc.frontend.special import log_ndtr, ndtr, ndtri

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _z(x: Any, loc: Any, scale: Any) -> Any:
    return (x - loc) / scale


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """-z^2/2 - log(scale) - log(sqrt(2 pi)), z = (x - loc) / scale."""
    z = _z(x, loc, scale)
    return -0.5 * (z * z) - log(scale) - _LOG_SQRT_2PI


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return ndtr(_z(x, loc, scale))


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log_ndtr(_z(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """1 - cdf, as the cdf of -z (accurate in the right tail)."""
    return ndtr(-_z(x, loc, scale))


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log_ndtr(-_z(x, loc, scale))


def ppf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The quantile: loc + scale * ndtri(q)."""
    return loc + scale * ndtri(q)


def isf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The inverse of sf: loc - scale * ndtri(q)."""
    return loc - scale * ndtri(q)


__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
