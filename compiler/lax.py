"""`gradc.lax`: the `jax.lax` names gradc has, so JAX code ports by changing
the import: the structured loops `scan` and `fori_loop` (the same functions
as `gradc.scan` and `gradc.fori_loop`), convolutions
(`conv_general_dilated`, `conv`) and `reduce_window` (add and max), with
`add` and `max` to pass it."""

from __future__ import annotations

from gradc.frontend.conv import conv, conv_general_dilated, reduce_window
from gradc.frontend.elementwise import add
from gradc.frontend.elementwise import maximum as max  # noqa: A001
from gradc.transforms.control_flow import fori_loop, scan

__all__ = ["add", "conv", "conv_general_dilated", "fori_loop", "max", "reduce_window", "scan"]
