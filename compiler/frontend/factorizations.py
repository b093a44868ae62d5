"""Factorizations and solves: numpy.linalg's cholesky, solve, inv, det,
slogdet, eigh, eigvalsh (`gnp.linalg.<f>`) and scipy.linalg's
solve_triangular, cholesky, cho_factor, cho_solve (`gradc.scipy.linalg`).

Expects: matrices [..., n, n] (float32, float64; integers and bools become
float64 as in NumPy); right-hand sides as NumPy 2 (solve) or JAX's
jax.scipy.linalg (solve_triangular, cho_solve) take them.

Guarantees: one `array.cholesky`, `array.triangular_solve`, `array.solve`,
`array.slogdet` or `array.eigh` per call, batch dimensions broadcast;
cholesky and eigh read the symmetrized matrix (a + a^T) / 2, as JAX does
(so their derivatives are JAX's); non-square or mismatched shapes are a
`GradcError` naming them. At bad inputs (not positive definite, singular)
results are NaN or inf, as in JAX: docs/linalg.md.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import add, exp, multiply
from gradc.frontend.operands import _FLOATS, _broadcast, _lift, _promotion_key, _reshape, broadcast_shapes
from gradc.frontend.shapes import _strong_operand, swapaxes
from gradc.frontend.tracer import TracedArray, _trace_of
from gradc.support import linalg as meanings


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


def _floats(name: str, *xs: Any) -> tuple[Any, list[TracedArray]]:
    """The trace and `xs` as traced arrays of their common float dtype
    (integers and bools: float64, as numpy.linalg computes them)."""
    trace = _trace_of(name, xs)
    if trace is None:
        return None, list(xs)
    operands = [_strong_operand(name, x) for x in xs]
    dtype = np.result_type(*map(_promotion_key, operands))
    if dtype not in _FLOATS:
        if dtype.kind not in "biu":
            raise TraceTypeError(f"{name}: gradc computes in float32 or float64, got {dtype.name}")
        dtype = np.dtype(np.float64)
    return trace, [_lift(trace, x, dtype) for x in operands]


def _square(name: str, a: TracedArray, what: str = "a") -> int:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise TraceError(f"{name}: {what} must be a square matrix or a stack of them ([..., n, n]), got shape {a.shape}")
    return a.shape[-1]


def _mT(x: TracedArray) -> TracedArray:
    return swapaxes(x, -1, -2)


def _symmetrized(a: TracedArray) -> TracedArray:
    return multiply(add(a, _mT(a)), np.asarray(0.5, a.dtype))


def _matrix_and_rhs(name: str, a: TracedArray, b: TracedArray, vector: bool) -> tuple[TracedArray, TracedArray, tuple[int, ...]]:
    """a and b broadcast to one batch shape, b as [..., n, m]; and the shape
    of the result (b's, broadcast)."""
    n = _square(name, a)
    bm = _reshape(b, (*b.shape, 1)) if vector else b
    if bm.ndim < 2 or bm.shape[-2] != n:
        raise TraceError(
            f"{name}: b of shape {b.shape} does not fit a of shape {a.shape}: expected "
            f"{'(..., n)' if vector else '(..., n, k)'} with n = {n}"
        )
    batch = broadcast_shapes(a.shape[:-2], bm.shape[:-2], name=f"{name} (batch dimensions of {a.shape} and {b.shape})")
    a = _broadcast(a, (*batch, n, n))
    bm = _broadcast(bm, (*batch, *bm.shape[-2:]))
    return a, bm, (*batch, n) if vector else bm.shape


def _triangular(a: TracedArray, b: TracedArray, **flags: bool) -> TracedArray:
    return a.trace.emit(array.TriangularSolveOp(a.value, b.value, **flags))


# -- numpy.linalg -------------------------------------------------------------


def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """numpy.linalg.cholesky: L with L L^T = a (U = L^T with upper=True).
    Not positive definite: NaN (JAX), where NumPy raises."""
    trace, (a,) = _floats("linalg.cholesky", a)
    if trace is None:
        return np.linalg.cholesky(a, upper=upper)
    _square("linalg.cholesky", a)
    lower = a.trace.emit(array.CholeskyOp(_symmetrized(a).value))
    return _mT(lower) if upper else lower


def solve(a: Any, b: Any) -> Any:
    """numpy.linalg.solve (NumPy 2: b is a vector only when 1-D), by LU with
    partial pivoting. Singular: inf or NaN (JAX), where NumPy raises."""
    if _trace_of("linalg.solve", (a, b)) is None:
        return np.linalg.solve(a, b)
    _, (a, b) = _floats("linalg.solve", a, b)
    vector = b.ndim == 1
    a, bm, shape = _matrix_and_rhs("linalg.solve", a, b, vector)
    return _reshape(a.trace.emit(array.SolveOp(a.value, bm.value)), shape)


def inv(a: Any) -> Any:
    """numpy.linalg.inv, as solve(a, I)."""
    trace, (a,) = _floats("linalg.inv", a)
    if trace is None:
        return np.linalg.inv(a)
    n = _square("linalg.inv", a)
    eye = _broadcast(_lift(trace, np.eye(n, dtype=a.dtype), a.dtype), a.shape)
    return a.trace.emit(array.SolveOp(a.value, eye.value))


def slogdet(a: Any) -> Any:
    """numpy.linalg.slogdet: (sign, logabsdet), a named tuple; (0, -inf) for
    a singular matrix."""
    trace, (a,) = _floats("linalg.slogdet", a)
    if trace is None:
        return np.linalg.slogdet(a)
    _square("linalg.slogdet", a)
    both = a.trace.emit(array.SlogdetOp(a.value))
    batch = a.shape[:-2]
    parts = [_reshape(both[..., k : k + 1], batch) for k in (0, 1)]
    return SlogdetResult(*parts)


def det(a: Any) -> Any:
    """numpy.linalg.det, as sign * exp(logabsdet)."""
    if _trace_of("linalg.det", (a,)) is None:
        return np.linalg.det(a)
    sign, logabsdet = slogdet(a)
    return multiply(sign, exp(logabsdet))


def _eigh(name: str, a: Any, UPLO: str) -> tuple[Any, Any] | None:  # noqa: N803
    if UPLO not in ("L", "U"):
        raise TraceError(f"{name}: UPLO must be 'L' or 'U', got {UPLO!r}")
    trace, (a,) = _floats(name, a)
    if trace is None:
        return None
    n = _square(name, a)
    both = a.trace.emit(array.EighOp(_symmetrized(a).value))
    return _reshape(both[..., 0:1, :], (*a.shape[:-2], n)), both[..., 1:, :]


def eigh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803
    """numpy.linalg.eigh: (eigenvalues ascending, eigenvectors as columns), a
    named tuple, of the symmetrized matrix (JAX); each eigenvector's
    largest-magnitude component is positive."""
    parts = _eigh("linalg.eigh", a, UPLO)
    if parts is None:
        return np.linalg.eigh(a, UPLO=UPLO)
    return EighResult(*parts)


def eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803
    """numpy.linalg.eigvalsh: the eigenvalues of eigh, ascending."""
    parts = _eigh("linalg.eigvalsh", a, UPLO)
    if parts is None:
        return np.linalg.eigvalsh(a, UPLO=UPLO)
    return parts[0]


# -- scipy.linalg (jax.scipy.linalg) ---------------------------------------------


def _trans(name: str, trans: Any) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, 2, "T", "C"):
        return True
    raise TraceError(f"{name}: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")


def solve_triangular(
    a: Any, b: Any, trans: Any = 0, lower: bool = False, unit_diagonal: bool = False,
    overwrite_b: bool = False, debug: Any = None, check_finite: bool = True,
) -> Any:
    """scipy.linalg.solve_triangular: x with op(a) x = b reading only a's lower
    (lower=True) or upper triangle; b is (..., n) when it has one dimension
    fewer than a, else (..., n, k), as jax.scipy.linalg takes it."""
    name = "scipy.linalg.solve_triangular"
    transpose = _trans(name, trans)
    if _trace_of(name, (a, b)) is None:
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype not in _FLOATS:
            a = a.astype(np.float64)
        t = meanings.triangular_matrix(a, bool(lower), transpose, bool(unit_diagonal))
        return np.linalg.solve(t, b[..., None])[..., 0] if b.ndim == a.ndim - 1 else np.linalg.solve(t, b)
    _, (a, b) = _floats(name, a, b)
    a_vector = b.ndim == a.ndim - 1
    a, bm, shape = _matrix_and_rhs(name, a, b, a_vector)
    x = _triangular(a, bm, lower=bool(lower), transpose_a=transpose, unit_diagonal=bool(unit_diagonal))
    return _reshape(x, shape)


def scipy_cholesky(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.cholesky: the upper factor U (U^T U = a) by default, L with
    lower=True."""
    return cholesky(a, upper=not lower)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.cho_factor: (c, lower), c the triangular factor (the other
    triangle zero, where SciPy leaves a's entries)."""
    return scipy_cholesky(a, lower=lower), lower


def cho_solve(c_and_lower: Any, b: Any, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.cho_solve: x with a x = b from cho_factor's (c, lower), by
    two triangular solves."""
    name = "scipy.linalg.cho_solve"
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise TraceError(f"{name}: expected (c, lower) as cho_factor returns it") from None
    trace, (c, b) = _floats(name, c, b)
    if trace is None:
        return solve_triangular(c, solve_triangular(c, b, trans=0 if lower else 1, lower=lower),
                                trans=1 if lower else 0, lower=lower)
    vector = b.ndim == c.ndim - 1
    c, bm, shape = _matrix_and_rhs(name, c, b, vector)
    # a = L L^T: solve L y = b, then L^T x = y (for U: U^T y = b, U x = y).
    y = _triangular(c, bm, lower=bool(lower), transpose_a=not lower)
    x = _triangular(c, y, lower=bool(lower), transpose_a=bool(lower))
    return _reshape(x, shape)


__all__ = [
    "EighResult", "SlogdetResult", "cho_factor", "cho_solve", "cholesky", "det", "eigh", "eigvalsh",
    "inv", "scipy_cholesky", "slogdet", "solve", "solve_triangular",
]
