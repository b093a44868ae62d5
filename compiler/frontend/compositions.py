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
    "fabs": (("gnp.abs(x)", ""),),
    "copy": (("x", "traced arrays are values, never changed in place, so a copy is the array itself"),),
    "count_nonzero": (("gnp.sum(gnp.where(x != 0, 1.0, 0.0))", "a float"),),
}

_LINEAR_ALGEBRA = (
    "no composition of gradc.numpy functions computes it for every size; for a small fixed "
    "size, write the algorithm with Python loops over Python ints (they unroll into the traced "
    "program) and gnp.stack the entries"
)
_VALUE_SHAPED = "its result's shape depends on the values, which gradc cannot compile"

COMPLEX = (
    "complex numbers are not supported by gradc (it computes in float32, float64 and bool; "
    "complex numbers and FFTs, whose results are complex, are out of its scope)"
)
"""Why gradc refuses a complex value, dtype or function (argument, constant,
result, astype, np.fft, gnp.fft)."""

NO_COMPOSITION: dict[str, str] = {
    **{name: _LINEAR_ALGEBRA for name in (
        "eig", "eigvals",
        "svd", "qr", "lstsq", "pinv", "matrix_power", "matrix_rank",
    )},
    **{name: _VALUE_SHAPED for name in ("nonzero", "argwhere", "flatnonzero", "bincount", "unique")},
    **{name: "no composition of gradc.numpy functions sorts" for name in ("sort", "argsort")},
    **{name: "no composition of gradc.numpy functions computes it yet" for name in ("searchsorted", "digitize")},
    "modf": "no composition of gradc.numpy functions computes it yet; for finite x, gnp.fmod(x, 1.0) is its "
    "fractional part and gnp.trunc(x) its integral part",
    **{name: "gradc's integer arrays are int32 and int64 (gnp.int32, gnp.int64)" for name in (
        "int8", "int16", "uint8", "uint16", "uint32", "uint64", "intp", "integer",
    )},
    "float16": "gradc computes in float32 and float64",
    **{name: "create it with NumPy itself (np." + name + "(...)): NumPy arrays become constants where "
       "they meet traced arrays" for name in (
        "logspace", "meshgrid",
    )},
    "random": "gradc has no random numbers in compiled code yet; draw them with NumPy outside the "
    "function (np.random.default_rng(seed)) and pass them as arguments (drawn while tracing, they "
    "would be the same constants on every call)",
    **{name: "no composition of gradc.numpy functions computes it" for name in (
        "cbrt", "gamma", "lgamma",
    )},
    "erfc": "it is gradc.scipy.special.erfc, as in jax.scipy.special (NumPy has none)",
    **{name: COMPLEX for name in (
        "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
        "hfft", "ihfft", "complex64", "complex128", "complexfloating", "csingle", "cdouble", "clongdouble",
        "complex_", "sort_complex",
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


__all__ = ["COMPLEX", "COMPOSITIONS", "NO_COMPOSITION", "missing_message", "close_names"]
