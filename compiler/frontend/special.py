"""scipy.special's functions (as jax.scipy.special has them) that
gradc.numpy does not: erfc.

Expects: operands as `gradc.frontend.operands` takes them; with no traced
operand each function is computed on NumPy values.

Guarantees: NumPy's float dtype rule for a unary ufunc (float32 stays
float32, bools and integers give float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.frontend.elementwise import _unary
from gradc.support import special


def erfc(x: Any) -> Any:
    """1 - erf(x) without cancellation (an op over libm's erfc)."""
    return _unary("erfc", np.sin, array.ErfcOp, x, untraced=special.erfc)


__all__ = ["erfc"]
