"""The meaning of the linear-algebra ops (`array.cholesky` and kin, and the
`loops.linalg` they lower to) as NumPy functions, for the interpreters.

Expects: float32 or float64 arrays [..., n, n] (and [..., n, m] right-hand
sides). Guarantees: results of the input's dtype; the conventions at bad
inputs of docs/linalg.md (NaN for a failed Cholesky or a singular solve,
(0, -inf) for a singular slogdet; eigenvectors signed so that their
largest-magnitude component, the first of ties, is positive).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _per_matrix(fn: Callable[..., np.ndarray], out_shape: tuple[int, ...], *arrays: np.ndarray) -> np.ndarray:
    """Apply `fn` to each matrix (and right-hand side) of the batch; a
    LinAlgError (singular, not positive definite) gives NaN."""
    batch = arrays[0].shape[:-2]
    out = np.empty((*batch, *out_shape), dtype=arrays[0].dtype)
    for index in np.ndindex(batch):
        with np.errstate(all="ignore"):
            try:
                out[index] = fn(*(x[index] for x in arrays))
            except np.linalg.LinAlgError:
                out[index] = np.nan
    return out


def cholesky(a: np.ndarray) -> np.ndarray:
    return _per_matrix(np.linalg.cholesky, a.shape[-2:], a)


def triangular_matrix(a: np.ndarray, lower: bool, transpose_a: bool, unit_diagonal: bool) -> np.ndarray:
    """op(A) as a triangular solve reads it."""
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        t = t * (1 - np.eye(n, dtype=a.dtype)) + np.eye(n, dtype=a.dtype)
    return np.swapaxes(t, -1, -2) if transpose_a else t


def triangular_solve(
    a: np.ndarray, b: np.ndarray, lower: bool = False, transpose_a: bool = False, unit_diagonal: bool = False
) -> np.ndarray:
    return solve(triangular_matrix(a, lower, transpose_a, unit_diagonal), b)


def solve(a: np.ndarray, b: np.ndarray, transpose_a: bool = False) -> np.ndarray:
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    return _per_matrix(np.linalg.solve, b.shape[-2:], a, b)


def slogdet(a: np.ndarray) -> np.ndarray:
    sign, logabsdet = np.linalg.slogdet(a)
    return np.stack([sign, logabsdet], axis=-1).astype(a.dtype)


def canonical_signs(v: np.ndarray) -> np.ndarray:
    """Eigenvectors (columns) with their largest-magnitude component positive."""
    at = np.argmax(np.abs(v), axis=-2)[..., None, :]
    sign = np.where(np.take_along_axis(v, at, axis=-2) < 0, -1, 1).astype(v.dtype)
    return v * sign


def eigh(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a, UPLO="L")
    return np.concatenate([w[..., None, :], canonical_signs(v)], axis=-2).astype(a.dtype)


__all__ = ["MEANINGS", "canonical_signs", "cholesky", "eigh", "slogdet", "solve", "triangular_matrix", "triangular_solve"]


MEANINGS: dict[str, Callable[..., np.ndarray]] = {
    "cholesky": cholesky,
    "triangular_solve": triangular_solve,
    "solve": solve,
    "slogdet": slogdet,
    "eigh": eigh,
}
"""Each op's kind (its name without `array.`) -> its meaning, called with
the operands and the op's flags as keyword arguments."""
