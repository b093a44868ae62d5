"""`gradc.scipy`: the `jax.scipy` functions gradc has, traced like
`gradc.numpy` (`import gradc.scipy.special as gsp`): `linalg`, `special` and `stats`
(`stats.norm`).

The functions live in gradc.frontend by family; these modules only name
them, as `gradc.numpy` does.
"""

from gradc.scipy import linalg, special, stats

__all__ = ["linalg", "special", "stats"]
