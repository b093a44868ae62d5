"""`gradc.lax`: the `jax.lax` names gradc has, so JAX code ports by changing
the import: the structured loops `scan` and `fori_loop` (the same functions
as `gradc.scan` and `gradc.fori_loop`)."""

from __future__ import annotations

from gradc.transforms.control_flow import fori_loop, scan

__all__ = ["fori_loop", "scan"]
