"""`gradc.scipy.stats`: the jax.scipy.stats distributions gradc has: `norm`."""

from gradc.scipy.stats import norm

__all__ = ["norm"]
