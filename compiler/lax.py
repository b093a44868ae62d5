"""`gradc.lax`: the `jax.lax` names gradc has, so JAX code ports by changing
the import: the structured loops `scan`, `fori_loop` and `while_loop` (the
same functions as `gradc.scan`, `gradc.fori_loop` and `gradc.while_loop`),
the branches `cond` and `switch` (only the chosen branch runs; here only,
as in JAX), indexing by traced indices
(`dynamic_slice`, `dynamic_update_slice` and their `_in_dim` forms),
convolutions (`conv_general_dilated`, `conv`) and `reduce_window` (add and
max), with `add` and `max` to pass it."""

from __future__ import annotations

from gradc.frontend.conv import conv, conv_general_dilated, reduce_window
from gradc.frontend.elementwise import add
from gradc.frontend.elementwise import maximum as max  # noqa: A001
from gradc.frontend.indexing import (
    dynamic_index_in_dim,
    dynamic_slice,
    dynamic_slice_in_dim,
    dynamic_update_index_in_dim,
    dynamic_update_slice,
    dynamic_update_slice_in_dim,
)
from gradc.transforms.branches import cond, switch
from gradc.transforms.control_flow import fori_loop, scan, while_loop

__all__ = [
    "add",
    "cond",
    "conv",
    "conv_general_dilated",
    "dynamic_index_in_dim",
    "dynamic_slice",
    "dynamic_slice_in_dim",
    "dynamic_update_index_in_dim",
    "dynamic_update_slice",
    "dynamic_update_slice_in_dim",
    "fori_loop",
    "max",
    "reduce_window",
    "scan",
    "switch",
    "while_loop",
]
