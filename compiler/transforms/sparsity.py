"""`gradc.jacobian_sparsity` and `gradc.hessian_sparsity`: the structural
nonzero patterns gradc's sparse derivatives use, computed at compile time.

    gradc.jacobian_sparsity(f, x)           -> scipy.sparse.csr_array (bool)
    gradc.hessian_sparsity(f, x, argnums=0) -> the same, symmetric

Expects: `f` and arguments as `gradc.jacobian` / `gradc.hessian` take them
(for the Hessian, `f` returns one float scalar).

Guarantees: rows are the output leaves flattened row-major, in order;
columns the differentiated argument leaves flattened, in argument order
(for the Hessian, both). An entry the pattern leaves out is zero at every
input; an entry it holds may still be zero (the analysis is structural:
docs/sparsity.md lists where it is conservative). Without SciPy the result
is a `SparsityPattern(rows, cols, shape)` of index arrays in CSR order.
`gradc.jacobian(f, sparse=True)` returns the values in exactly this order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gradc.errors import GradcError
from gradc.frontend.tracing import function_name, trace
from gradc.transforms.api import _for_user
from gradc.transforms.derivatives import (
    Argnums,
    _check_float_outputs,
    _check_scalar,
    _request,
    _running,
    _trace_callee,
    _Wrt,
)


class SparsityPattern(NamedTuple):
    """Where a derivative can be nonzero: `rows` and `cols` (int64, CSR
    order) of an array of `shape`."""

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]

    def todense(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=bool)
        dense[self.rows, self.cols] = True
        return dense


def jacobian_sparsity(fn: Callable[..., Any], *args: Any, argnums: Argnums = 0, **kwargs: Any) -> Any:
    """The structural pattern of `gradc.jacobian(fn, argnums)` at `args`."""
    return _sparsity("jacobian_sparsity", fn, args, kwargs, argnums, hessian=False)


def hessian_sparsity(fn: Callable[..., Any], *args: Any, argnums: Argnums = 0, **kwargs: Any) -> Any:
    """The structural pattern of `gradc.hessian(fn, argnums)` at `args`
    (symmetric)."""
    return _sparsity("hessian_sparsity", fn, args, kwargs, argnums, hessian=True)


def _sparsity(kind: str, fn: Callable[..., Any], args: tuple, kwargs: dict, argnums: Argnums, hessian: bool) -> Any:
    from gradc.pipeline import derivative_pattern

    found = []
    try:
        single, name, label, check = _request(kind, fn, argnums)

        def probe(*a: Any, **k: Any) -> float:
            parent = _running(label)
            callee = _trace_callee(parent, fn, a, k, function_name(fn))
            if hessian:
                _check_scalar(label, name, callee.body, first_only=False)
            else:
                _check_float_outputs(label, name, callee.body, kind)
            wrt = _Wrt.of(callee, a, check(a, k), single)
            found.append(derivative_pattern(callee.function, parent.functions.functions, wrt.positions, hessian))
            return 0.0

        trace(probe, args, kwargs or None, name=f"{kind}_{function_name(fn)}")
    except GradcError as err:
        raise _for_user(err) from None
    rows, cols, shape = found[0]
    return as_matrix(SparsityPattern(np.asarray(rows, np.int64), np.asarray(cols, np.int64), tuple(shape)))


def as_matrix(pattern: SparsityPattern) -> Any:
    """`pattern` as a boolean scipy.sparse.csr_array, or as it is without SciPy."""
    try:
        from scipy import sparse
    except ImportError:
        return pattern
    data = np.ones(pattern.rows.size, dtype=bool)
    return sparse.csr_array((data, (pattern.rows, pattern.cols)), shape=pattern.shape)


__all__ = ["SparsityPattern", "as_matrix", "hessian_sparsity", "jacobian_sparsity"]
