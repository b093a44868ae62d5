"""Special functions NumPy lacks, computed on NumPy values: `erf`, `erfc`.

Guarantees: NumPy's float dtype rule for a unary ufunc (float32 stays
float32, integers and Python scalars give float64), values from Python's
`math` module in float64 and rounded once to that dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _elementwise(function: Any, x: Any) -> Any:
    x = np.asarray(x)
    dtype = np.sin.resolve_dtypes((x.dtype, None))[-1]
    return np.vectorize(function, otypes=[np.float64])(x).astype(dtype)[()]


def erf(x: Any) -> Any:
    """The error function, elementwise (NumPy scalars for scalar input)."""
    return _elementwise(math.erf, x)


def erfc(x: Any) -> Any:
    """1 - erf(x) without cancellation, elementwise (as `erf`)."""
    return _elementwise(math.erfc, x)


SCALAR: dict[str, Any] = {"erfc": erfc}
"""The functions of `loops.special` by name."""


__all__ = ["SCALAR", "erf", "erfc"]
