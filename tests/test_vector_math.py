"""gradc's own exp, log and tanh (gradc.backend.vector_math, the default `math=gradc`)
against NumPy: error in ulp over dense sweeps and random samples, NumPy's
special values exactly, the same numbers as libm (`math=libm`), and loops
over them that gcc vectorizes with gradc's default flags."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable

import numpy as np
import pytest

import gradc
from gradc.backend.build import DEFAULT_FLAGS, compiler_command
from gradc.errors import PipelineError
import gradc.numpy as gnp

ULP_BOUND = 3.0
"""Largest error allowed, in units in the last place of the correctly rounded
result (measured: 2.5 for tanh, 1.1 for exp, 0.8 for log)."""

FUNCTIONS: dict[str, tuple[Callable, Callable]] = {
    "exp": (gnp.exp, np.exp),
    "log": (gnp.log, np.log),
    "tanh": (gnp.tanh, np.tanh),
}
DTYPES = (np.float32, np.float64)


def reference(function: str, x: np.ndarray) -> np.ndarray:
    """NumPy's function in more precision than x: float64 for float32, long
    double (64-bit mantissa on x86) for float64."""
    wider = np.float64 if x.dtype == np.float32 else np.longdouble
    with np.errstate(all="ignore"):
        return FUNCTIONS[function][1](x.astype(wider)).astype(np.longdouble)


def ulp_errors(y: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|y - exact| in ulp of exact rounded to y's type; 0 where both are the
    same infinity or both NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = exact.astype(y.dtype)
        errors = np.abs(y.astype(np.longdouble) - exact) / np.spacing(np.abs(rounded)).astype(np.longdouble)
    same_special = (y == rounded) & np.isinf(rounded) | np.isnan(y) & np.isnan(exact)
    return np.where(same_special, 0, errors)


def samples(function: str, dtype: type) -> np.ndarray:
    """Dense sweeps of where each function is delicate, plus random samples."""
    info = np.finfo(dtype)
    rng = np.random.default_rng(4)
    log_uniform = np.exp(rng.uniform(np.log(float(info.smallest_subnormal)), np.log(float(info.max)), 200_000))
    if function == "exp":
        low, high = (-104.0, 89.0) if dtype == np.float32 else (-746.0, 710.0)
        parts = [np.linspace(low, high, 400_001), np.linspace(-1, 1, 100_001),
                 np.linspace(low, low + 20, 100_001),  # subnormal results
                 rng.uniform(low, high, 200_000), log_uniform[:1000], -log_uniform[:1000]]
    elif function == "log":
        parts = [np.linspace(0.5, 2, 400_001), np.linspace(1 - 1e-4, 1 + 1e-4, 100_001),
                 log_uniform, rng.uniform(0, 100, 100_000)]
    else:
        magnitudes = np.exp(rng.uniform(np.log(float(info.smallest_subnormal)), np.log(30.0), 200_000))
        parts = [np.linspace(-20, 20, 400_001), np.linspace(-1, 1, 100_001),
                 np.linspace(-1e-3, 1e-3, 10_001), magnitudes * rng.choice([-1, 1], magnitudes.size)]
    with np.errstate(over="ignore"):
        return np.concatenate(parts).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_error_within_ulp_bound(function: str, dtype: type) -> None:
    x = samples(function, dtype)
    y = gradc.jit(FUNCTIONS[function][0])(x)
    assert y.dtype == dtype
    errors = ulp_errors(y, reference(function, x))
    worst = int(np.argmax(errors))
    assert errors[worst] <= ULP_BOUND, f"{function}({x[worst]!r}) = {y[worst]!r}: {errors[worst]:.2f} ulp"


SPECIALS = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-30, -1e-30,
            1e30, -1e30, 1000.0, -1000.0, 100.0, -100.0, 89.0, -104.0, 710.0, -746.0]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_special_values_as_numpy(function: str, dtype: type) -> None:
    info = np.finfo(dtype)
    extremes = [info.max, -info.max, info.tiny, -info.tiny, info.smallest_subnormal,
                -info.smallest_subnormal, 3 * info.smallest_subnormal, info.tiny / 3]
    with np.errstate(over="ignore"):
        x = np.array(SPECIALS + extremes, dtype=dtype)
    y = gradc.jit(FUNCTIONS[function][0])(x)
    with np.errstate(all="ignore"):
        expected = FUNCTIONS[function][1](x)
    special = ~np.isfinite(expected) | (expected == 0) | ~np.isfinite(x) | (x == 0)
    special |= (function == "tanh") & ((np.abs(x) < 1e-20) | (np.abs(expected) == 1))
    np.testing.assert_array_equal(y[special], expected[special])
    assert np.array_equal(np.signbit(y[special & ~np.isnan(y)]), np.signbit(expected[special & ~np.isnan(y)]))
    assert (ulp_errors(y, reference(function, x)) <= ULP_BOUND).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_libm_option_computes_the_same(dtype: type) -> None:
    def f(x):
        return gnp.tanh(x) + gnp.exp(-x) * gnp.log(gnp.abs(x) + 1)

    x = np.random.default_rng(5).uniform(-20, 20, 10_000).astype(dtype)
    assert "tanhf(" not in gradc.lower(f, x).c_source.replace("gradc_tanhf(", "")
    assert "gradc_tanh" not in gradc.lower(f, x, options={"math": "libm"}).c_source
    ours, libm = gradc.jit(f)(x), gradc.jit(f, math="libm")(x)
    expected = np.tanh(x.astype(np.longdouble)) + np.exp(-x.astype(np.longdouble)) * np.log1p(np.abs(x.astype(np.longdouble)))
    np.testing.assert_allclose(libm, ours, rtol=8 * np.finfo(dtype).eps, atol=np.finfo(dtype).eps)
    np.testing.assert_allclose(ours, expected.astype(dtype), rtol=8 * np.finfo(dtype).eps, atol=np.finfo(dtype).eps)


def test_bad_math_option_is_an_error() -> None:
    with pytest.raises(PipelineError, match="option math must be one of gradc, libm, got 'fast'"):
        gradc.jit(gnp.exp, math="fast")(np.ones(3))


ARCHITECTURES = ["native"] + (["x86-64-v3"] if platform.machine() == "x86_64" else [])
"""This machine, and on x86 also AVX2 without AVX-512 (gcc decides differently there)."""


@pytest.mark.parametrize("march", ARCHITECTURES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_loop_is_vectorized(function: str, dtype: type, march: str, tmp_path) -> None:
    """The point of the exercise: with gradc's default flags gcc vectorizes the
    loop nest lower-loops-to-c emits (with libm calls it cannot)."""
    x = np.ones((8, 64), dtype=dtype)
    source = tmp_path / "f.c"
    source.write_text(gradc.lower(FUNCTIONS[function][0], x).c_source)
    flags = [flag for flag in DEFAULT_FLAGS if not flag.startswith("-march=")] + [f"-march={march}"]
    report = subprocess.run(
        [*compiler_command(), *flags, "-fopt-info-vec-optimized", "-c", str(source),
         "-o", str(tmp_path / "f.o")],
        capture_output=True, text=True, check=True,
    ).stderr
    assert "loop vectorized" in report, report
