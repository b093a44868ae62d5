"""`gradc.lax`: the `jax.lax` names gradc has, so JAX code ports by changing
the import: the structured loops `scan` and `fori_loop` (the same functions
as `gradc.scan` and `gradc.fori_loop`), and indexing by traced indices
(`dynamic_slice`, `dynamic_update_slice` and their `_in_dim` forms)."""

from __future__ import annotations

from gradc.frontend.indexing import (
    dynamic_index_in_dim,
    dynamic_slice,
    dynamic_slice_in_dim,
    dynamic_update_index_in_dim,
    dynamic_update_slice,
    dynamic_update_slice_in_dim,
)
from gradc.transforms.control_flow import fori_loop, scan

__all__ = [
    "dynamic_index_in_dim",
    "dynamic_slice",
    "dynamic_slice_in_dim",
    "dynamic_update_index_in_dim",
    "dynamic_update_slice",
    "dynamic_update_slice_in_dim",
    "fori_loop",
    "scan",
]
