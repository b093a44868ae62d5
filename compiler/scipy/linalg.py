"""`gradc.scipy.linalg`: scipy.linalg's functions gradc has (as
`jax.scipy.linalg`), traced into the `array` dialect."""

from __future__ import annotations

__all__: list[str] = []
