"""Special functions NumPy lacks, computed on NumPy values: `erf`.

Guarantees: NumPy's float dtype rule for a unary ufunc (float32 stays
float32, integers and Python scalars give float64), values from Python's
`math` module in float64 and rounded once to that dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def erf(x: Any) -> Any:
    """The error function, elementwise (NumPy scalars for scalar input)."""
    x = np.asarray(x)
    dtype = np.sin.resolve_dtypes((x.dtype, None))[-1]
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(dtype)[()]


__all__ = ["erf"]
