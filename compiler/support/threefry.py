"""Threefry-2x32-20 on NumPy uint32 arrays: what `array.threefry2x32`
means (the interpreter runs it) and what `gradc.random` computes outside
tracing.

    threefry2x32(k0, k1, x0, x1) -> (y0, y1)

Expects arrays (or scalars) that broadcast together; they are read as
uint32 (int32 bit patterns are reinterpreted, not converted). Guarantees
uint32 results of the broadcast shape, bit-identical to the generated C.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradc.dialects.array import THREEFRY_PARITY, THREEFRY_ROTATIONS


def as_uint32(x: Any) -> np.ndarray:
    """`x` as uint32 bits: int32 arrays are viewed, Python ints taken mod 2**32."""
    arr = np.asarray(x)
    if arr.dtype == np.int32:
        return arr.view(np.uint32)
    if arr.dtype == np.uint32:
        return arr
    return (arr.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0: Any, k1: Any, x0: Any, x1: Any) -> tuple[np.ndarray, np.ndarray]:
    k0, k1, x0, x1 = np.broadcast_arrays(*(as_uint32(v) for v in (k0, k1, x0, x1)))
    ks = (k0, k1, k0 ^ k1 ^ np.uint32(THREEFRY_PARITY))
    with np.errstate(over="ignore"):
        y0, y1 = x0 + ks[0], x1 + ks[1]
        for group in range(5):
            for r in THREEFRY_ROTATIONS[group % 2]:
                y0 = y0 + y1
                y1 = _rotl(y1, r) ^ y0
            i = group + 1
            y0 = y0 + ks[i % 3]
            y1 = y1 + ks[(i + 1) % 3] + np.uint32(i)
    return np.asarray(y0, np.uint32), np.asarray(y1, np.uint32)


def threefry_output(output: str, k0: Any, k1: Any, x0: Any, x1: Any) -> np.ndarray:
    """The word `output` ("x0", "x1" or "xor") of `threefry2x32`, as uint32."""
    y0, y1 = threefry2x32(k0, k1, x0, x1)
    return {"x0": y0, "x1": y1, "xor": y0 ^ y1}[output]


__all__ = ["as_uint32", "threefry2x32", "threefry_output"]
