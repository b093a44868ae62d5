"""Derivative rules of the linear-algebra ops (dialects/array/linalg.py),
entered in rules.py's JVP_RULES and VJP_RULES.

Expects and guarantees as rules.py: every rule emits only ops that have
rules themselves (solves, matmuls, transposes, masks by constants), so
second derivatives work. Each op reads only the triangle of A its meaning
names (Cholesky and eigh the lower one), and its rules are the derivatives
of that: a tangent's other triangle is dropped. The formulas (Murray 2016
for Cholesky, the F-matrix rule for eigh) and the degenerate cases:
docs/linalg.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.ir import SSAValue

from gradc.dialects import array
from gradc.passes.autodiff.emitter import Emitter, Value, element_of, shape_of
from gradc.support.dense import numpy_dtype


def _matrix_constant(e: Emitter, like: SSAValue, data: np.ndarray) -> SSAValue:
    """An [n, n] constant broadcast to the shape of `like` ([..., n, n])."""
    shape = shape_of(like)
    value = e.constant(np.ascontiguousarray(data, dtype=numpy_dtype(element_of(like))))
    rank = len(shape)
    if rank == 2:
        return value
    return e.emit(array.BroadcastOp(value, [rank - 2, rank - 1], shape))


def _mask(e: Emitter, x: Value, lower: bool, strict: bool = False, diagonal: float = 1.0) -> Value:
    """`x` with the other triangle (and the diagonal if `strict`) zeroed; the
    diagonal scaled by `diagonal`."""
    if x is None:
        return None
    n = shape_of(x)[-1]
    keep = np.tril(np.ones((n, n))) if lower else np.triu(np.ones((n, n)))
    keep[np.diag_indices(n)] = 0.0 if strict else diagonal
    return e.mul(x, _matrix_constant(e, x, keep))


def _symmetric_from_lower(e: Emitter, d: Value) -> Value:
    """The symmetric matrix whose lower triangle is that of `d`."""
    return e.add(_mask(e, d, True), e.mT(_mask(e, d, True, strict=True)))


def _lower_adjoint(e: Emitter, s: Value) -> Value:
    """The adjoint of `_symmetric_from_lower`: tril(S) + tril(S^T, -1)."""
    return e.add(_mask(e, s, True), _mask(e, e.mT(s), True, strict=True))


def _tri(e: Emitter, a: SSAValue, b: Value, **flags: bool) -> Value:
    return None if b is None else e.emit(array.TriangularSolveOp(a, b, **flags))


def _solve(e: Emitter, a: SSAValue, b: Value, transpose_a: bool = False) -> Value:
    return None if b is None else e.emit(array.SolveOp(a, b, transpose_a=transpose_a))


def _op_a(e: Emitter, m: Value, transpose: bool) -> Value:
    return e.mT(m) if transpose else m


# -- Cholesky ---------------------------------------------------------------


def _cholesky_jvp(e: Emitter, op: array.CholeskyOp, da: Value) -> Value:
    # dL = L Phi(L^-1 dS L^-T), Phi = lower triangle with the diagonal halved.
    L = op.result
    x = _tri(e, L, _symmetric_from_lower(e, da), lower=True)
    y = _tri(e, L, e.mT(x), lower=True)
    return e.matmul(L, _mask(e, y, True, diagonal=0.5))


def _cholesky_vjp(e: Emitter, op: array.CholeskyOp, g: Value) -> tuple[Value, ...]:
    # S = L^-T Phi(L^T G) L^-1, then onto the lower triangle A is read from.
    L = op.result
    p = _mask(e, e.matmul(e.mT(L), g), True, diagonal=0.5)
    z = _tri(e, L, p, lower=True, transpose_a=True)
    s = e.mT(_tri(e, L, e.mT(z), lower=True, transpose_a=True))
    return (_lower_adjoint(e, s),)


# -- triangular solve and solve ----------------------------------------------


def _triangular_solve_jvp(e: Emitter, op: array.TriangularSolveOp, da: Value, db: Value) -> Value:
    flags = op.flags()
    lower, trans, unit = flags["lower"], flags["transpose_a"], flags["unit_diagonal"]
    dm = _op_a(e, _mask(e, da, lower, strict=unit), trans)
    return _tri(e, op.a, e.sub(db, e.matmul(dm, op.result)), **flags)


def _triangular_solve_vjp(e: Emitter, op: array.TriangularSolveOp, g: Value) -> tuple[Value, ...]:
    flags = op.flags()
    lower, trans, unit = flags["lower"], flags["transpose_a"], flags["unit_diagonal"]
    gb = _tri(e, op.a, g, lower=lower, transpose_a=not trans, unit_diagonal=unit)
    outer = e.matmul(op.result, e.mT(gb)) if trans else e.matmul(gb, e.mT(op.result))
    return e.neg(_mask(e, outer, lower, strict=unit)), gb


def _solve_jvp(e: Emitter, op: array.SolveOp, da: Value, db: Value) -> Value:
    trans = op.flag("transpose_a")
    return _solve(e, op.a, e.sub(db, e.matmul(_op_a(e, da, trans), op.result)), trans)


def _solve_vjp(e: Emitter, op: array.SolveOp, g: Value) -> tuple[Value, ...]:
    trans = op.flag("transpose_a")
    gb = _solve(e, op.a, g, not trans)
    outer = e.matmul(op.result, e.mT(gb)) if trans else e.matmul(gb, e.mT(op.result))
    return e.neg(outer), gb


# -- slogdet ------------------------------------------------------------------


def _inverse_transpose(e: Emitter, a: SSAValue) -> SSAValue:
    n = shape_of(a)[-1]
    inv_t = _solve(e, a, _matrix_constant(e, a, np.eye(n)), transpose_a=True)
    assert inv_t is not None
    return inv_t


def _slogdet_jvp(e: Emitter, op: array.SlogdetOp, da: Value) -> Value:
    # d log|det A| = tr(A^-1 dA) = sum(A^-T * dA); the sign's tangent is 0.
    a = op.input
    rank = len(shape_of(a))
    dlog = e.reduce_sum(e.mul(_inverse_transpose(e, a), da), [rank - 2, rank - 1])
    if dlog is None:
        return None
    batch = shape_of(dlog)
    zeros = e.full(array.tensor_of([*batch, 1], element_of(a)), 0.0)
    return e.concatenate([zeros, e.reshape(dlog, [*batch, 1])], rank - 2)


def _slogdet_vjp(e: Emitter, op: array.SlogdetOp, g: Value) -> tuple[Value, ...]:
    a = op.input
    shape = shape_of(a)
    rank = len(shape)
    glog = e.reshape(e.slice_axis(g, rank - 2, 1, 2), shape[:-2])
    return (e.mul(e.broadcast(glog, range(rank - 2), shape), _inverse_transpose(e, a)),)


# -- eigh ---------------------------------------------------------------------


def _eigh_parts(e: Emitter, op: array.EighOp) -> tuple[SSAValue, SSAValue, SSAValue]:
    """(w as [..., 1, n], V, F) with F_ij = 1 / (w_j - w_i) off the diagonal
    and 0 on it."""
    out = op.result
    shape = shape_of(out)
    rank, n = len(shape), shape[-1]
    w = e.slice_axis(out, rank - 2, 0, 1)
    v = e.slice_axis(out, rank - 2, 1, n + 1)
    assert w is not None and v is not None
    wide = [*shape[:-2], n, n]
    w_col = e.broadcast(e.reshape(w, [*shape[:-2], n]), [*range(rank - 2), rank - 1], wide)
    w_row = e.broadcast(e.reshape(w, [*shape[:-2], n]), [*range(rank - 2), rank - 2], wide)
    eye = _matrix_constant(e, v, np.eye(n))
    differences = e.add(eye, e.sub(w_col, w_row))  # w_j - w_i, 1 on the diagonal
    f = e.sub(e.div(e.ones_like(eye), differences), eye)
    assert w is not None and v is not None and f is not None
    return w, v, f


def _eigh_jvp(e: Emitter, op: array.EighOp, da: Value) -> Value:
    w, v, f = _eigh_parts(e, op)
    n = shape_of(v)[-1]
    m = e.matmul(e.mT(v), e.matmul(_symmetric_from_lower(e, da), v))
    rank = len(shape_of(m))
    eye = _matrix_constant(e, v, np.eye(n))
    dw = e.reduce_sum(e.mul(m, eye), [rank - 2])  # [..., n]: the diagonal
    dv = e.matmul(v, e.mul(f, m))
    assert dw is not None and dv is not None
    return e.concatenate([e.reshape(dw, shape_of(w)), dv], rank - 2)


def _eigh_vjp(e: Emitter, op: array.EighOp, g: Value) -> tuple[Value, ...]:
    w, v, f = _eigh_parts(e, op)
    shape = shape_of(v)
    rank, n = len(shape), shape[-1]
    gw = e.slice_axis(g, rank - 2, 0, 1)
    gv = e.slice_axis(g, rank - 2, 1, n + 1)
    eye = _matrix_constant(e, v, np.eye(n))
    # F * (V^T gV), 0 where V^T gV is 0: with no cotangent on the eigenvectors
    # (eigvalsh), repeated eigenvalues (F infinite) give no NaN, as in JAX,
    # whose transpose sees a symbolic zero there.
    projected = e.matmul(e.mT(v), gv)
    assert projected is not None
    unused = e.emit(array.CompareOp("eq", projected, e.zeros_like(projected)))
    inner = e.add(
        e.mul(e.broadcast(e.reshape(gw, [*shape[:-2], n]), [*range(rank - 2), rank - 1], shape), eye),
        e.select(unused, None, e.mul(f, projected)),
    )
    s = e.matmul(v, e.matmul(inner, e.mT(v)))
    return (_lower_adjoint(e, s),)


LINALG_JVP_RULES: dict[type, Callable[..., Value]] = {
    array.CholeskyOp: _cholesky_jvp,
    array.TriangularSolveOp: _triangular_solve_jvp,
    array.SolveOp: _solve_jvp,
    array.SlogdetOp: _slogdet_jvp,
    array.EighOp: _eigh_jvp,
}

LINALG_VJP_RULES: dict[type, Callable[..., tuple[Value, ...]]] = {
    array.CholeskyOp: _cholesky_vjp,
    array.TriangularSolveOp: _triangular_solve_vjp,
    array.SolveOp: _solve_vjp,
    array.SlogdetOp: _slogdet_vjp,
    array.EighOp: _eigh_vjp,
}

__all__ = ["LINALG_JVP_RULES", "LINALG_VJP_RULES"]
