"""NumPy functions `gradc.numpy` does not have yet, and what to write instead.

`missing_message(name)` is the second half of every message about one (a
NumPy function called on a traced array, `gnp.<name>`, `x.<method>()`):
that gradc.numpy has no `name` yet, and the composition of gradc.numpy
functions that computes it where one exists (`COMPOSITIONS`: expressions
in `x`, `a`, `b`, ... that tests/test_numpy_compositions.py runs against
NumPy), else why none does (`NO_COMPOSITION`).
"""

from __future__ import annotations

import difflib

COMPOSITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "reciprocal": (("1 / x", ""),),
    "clip": (("gnp.minimum(gnp.maximum(x, lo), hi)", ""),),
    "hypot": (("gnp.sqrt(a * a + b * b)", "overflows where hypot does not"),),
    "logaddexp": (("gnp.logsumexp(gnp.stack([a, b]), axis=0)", ""),),
    "isnan": (("x != x", ""),),
    "isinf": (("gnp.abs(x) == np.inf", ""),),
    "isfinite": (("gnp.abs(x) < np.inf", ""),),
    "var": (("gnp.mean((x - gnp.mean(x, axis, keepdims=True)) ** 2, axis)", ""),),
    "std": (("gnp.sqrt(gnp.mean((x - gnp.mean(x, axis, keepdims=True)) ** 2, axis))", ""),),
    "norm": (("gnp.sqrt(gnp.sum(x * x))", "the 2-norm; gnp.sqrt(gnp.sum(x * x, axis)) along an axis"),),
    "average": (("gnp.sum(x * w, axis) / gnp.sum(w, axis)", "weights w"),),
    "any": (("gnp.max(gnp.where(x, 1.0, 0.0), axis) > 0", ""),),
    "all": (("gnp.min(gnp.where(x, 1.0, 0.0), axis) > 0", ""),),
    "prod": (("gradc.scan(lambda p, r: (p * r, None), gnp.ones_like(x[0]), x)[0]", "along axis 0; of x.ravel() for all elements"),),
    "cumsum": (("gradc.scan(lambda s, r: (s + r, s + r), gnp.zeros_like(x[0]), x)[1]", "along axis 0"),),
    "cumprod": (("gradc.scan(lambda p, r: (p * r, p * r), gnp.ones_like(x[0]), x)[1]", "along axis 0"),),
    "diff": (("x[..., 1:] - x[..., :-1]", "along the last axis, as numpy.diff"),),
    "outer": (("a[:, None] * b[None, :]", ""),),
    "inner": (("gnp.sum(a * b)", "1-D a and b"),),
    "vdot": (("gnp.sum(a * b)", "1-D a and b"),),
    "einsum": ((
        "a @ b",
        "for 'ij,jk->ik'; other subscripts are gnp.matmul, gnp.transpose, gnp.reshape and gnp.sum, "
        "e.g. 'i,i->' is gnp.sum(a * b)",
    ),),
    "trace": (("gnp.sum(gnp.where(np.eye(n, dtype=bool), x, 0.0))", "x of shape (n, n)"),),
    "diag": (
        ("gnp.where(np.eye(n, dtype=bool), v, 0.0)", "the (n, n) matrix with vector v on its diagonal"),
        ("gnp.stack([x[i, i] for i in range(n)])", "the diagonal of an (n, n) matrix x"),
    ),
    "tril": (("gnp.where(np.tri(n, m, dtype=bool), x, 0.0)", "x of shape (n, m)"),),
    "triu": (("gnp.where(np.tri(n, m, -1, dtype=bool), 0.0, x)", "x of shape (n, m)"),),
    "hstack": (("gnp.concatenate(arrays, axis=1)", "axis=0 for 1-D arrays"),),
    "vstack": (("gnp.concatenate(arrays, axis=0)", "gnp.stack(arrays) for 1-D arrays"),),
    "split": (("[x[:k], x[k:]]", "at index k along axis 0"),),
    "roll": (("gnp.concatenate([x[-k:], x[:-k]])", "by 0 < k < len(x) along axis 0"),),
    "flip": (("gnp.stack([x[i] for i in range(len(x) - 1, -1, -1)])", "along axis 0"),),
    "repeat": (("gnp.reshape(gnp.broadcast_to(x[:, None], (n, k)), (n * k,))", "each element of a 1-D x of size n, k times"),),
    "tile": (("gnp.concatenate([x] * k)", "k copies of a 1-D x"),),
    "pad": (("gnp.concatenate([np.zeros(k, x.dtype), x, np.zeros(k, x.dtype)])", "k zeros around a 1-D x"),),
    "take": (("gnp.stack([x[i] for i in idx])", "a NumPy array idx of indices along axis 0"),),
    "swapaxes": (("gnp.transpose(x, (1, 0, 2))", "axes 0 and 1 of a 3-D x: spell the permutation out"),),
    "moveaxis": (("gnp.transpose(x, (1, 2, 0))", "axis 0 of a 3-D x to the end: spell the permutation out"),),
    "fabs": (("gnp.abs(x)", ""),),
    "copy": (("x", "traced arrays are values, never changed in place, so a copy is the array itself"),),
    "count_nonzero": (("gnp.sum(gnp.where(x != 0, 1.0, 0.0))", "a float"),),
}

_LINEAR_ALGEBRA = (
    "no composition of gradc.numpy functions computes it for every size; for a small fixed "
    "size, write the algorithm with Python loops over Python ints (they unroll into the traced "
    "program) and gnp.stack the entries"
)
_INTEGERS = "it gives integers, and gradc has no integer arrays yet"
_ROUNDING = "no composition of gradc.numpy functions computes it yet (gnp.floor, gnp.trunc and division are a start)"

NO_COMPOSITION: dict[str, str] = {
    **{name: _LINEAR_ALGEBRA for name in (
        "cholesky", "solve", "inv", "det", "slogdet", "eig", "eigh", "eigvals", "eigvalsh",
        "svd", "qr", "lstsq", "pinv", "matrix_power", "matrix_rank",
    )},
    "argmax": _INTEGERS + " (the one-hot mask of the maximum is x == gnp.max(x, axis, keepdims=True))",
    "argmin": _INTEGERS + " (the one-hot mask of the minimum is x == gnp.min(x, axis, keepdims=True))",
    **{name: _INTEGERS for name in ("argsort", "nonzero", "argwhere", "flatnonzero", "searchsorted", "digitize", "bincount")},
    "unique": "its result's shape depends on the values, which gradc cannot compile",
    "sort": "no composition of gradc.numpy functions sorts",
    **{name: _ROUNDING for name in ("mod", "fmod", "remainder", "floor_divide", "divmod", "modf")},
    **{name: "gradc has no integer arrays yet; it computes in float32, float64 and bool" for name in (
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intp", "integer",
    )},
    "float16": "gradc computes in float32 and float64",
    **{name: "create it with NumPy itself (np." + name + "(...)): NumPy arrays become constants where "
       "they meet traced arrays" for name in (
        "arange", "linspace", "logspace", "eye", "identity", "tri", "empty", "array", "meshgrid",
    )},
    "random": "gradc has no random numbers in compiled code yet; draw them with NumPy outside the "
    "function (np.random.default_rng(seed)) and pass them as arguments (drawn while tracing, they "
    "would be the same constants on every call)",
    "linalg": "for a norm write gnp.sqrt(gnp.sum(x * x)), for products @; for the rest (cholesky, solve, ...) "
    + _LINEAR_ALGEBRA,
    **{name: "no composition of gradc.numpy functions computes it" for name in (
        "erfc", "arctan2", "cbrt", "gamma", "lgamma",
    )},
}


def missing_message(name: str) -> str:
    """`gradc.numpy has no <name> yet; write it as ...` (or why nothing
    computes it)."""
    ways = COMPOSITIONS.get(name)
    if ways is not None:
        shown = " or ".join(f"{expr} ({note})" if note else expr for expr, note in ways)
        return f"gradc.numpy has no {name} yet; write it as {shown}"
    reason = NO_COMPOSITION.get(name)
    if reason is not None:
        return f"gradc.numpy has no {name} yet: {reason}"
    return f"gradc.numpy has no {name} yet (gradc.numpy.__all__ lists what it has)"


def close_names(name: str, names: list[str]) -> str:
    """`; did you mean gnp.sum?` for the closest of `names`, or ''."""
    found = difflib.get_close_matches(name, names, n=1)
    return f"; did you mean gnp.{found[0]}?" if found else ""


__all__ = ["COMPOSITIONS", "NO_COMPOSITION", "missing_message", "close_names"]
