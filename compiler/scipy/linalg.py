"""`gradc.scipy.linalg`: scipy.linalg's functions gradc has (as
`jax.scipy.linalg`), traced into the `array` dialect."""

from __future__ import annotations

from gradc.frontend.factorizations import cho_factor, cho_solve, solve_triangular
from gradc.frontend.factorizations import scipy_cholesky as cholesky

__all__: list[str] = ["cho_factor", "cho_solve", "cholesky", "solve_triangular"]
