"""`gradc.scipy.stats.norm`: the normal distribution (as
jax.scipy.stats.norm), traced into the `array` dialect."""

from __future__ import annotations

from gradc.frontend.stats import cdf, isf, logcdf, logpdf, logsf, pdf, ppf, sf

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
