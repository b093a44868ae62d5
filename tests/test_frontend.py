"""The tracing frontend: `gradc.numpy`, pytrees, `trace`, and `gradc.jit`,
`gradc.lower`, `gradc.export_c` end to end.

The reference for every traced function is the same Python function run on
NumPy arrays (gnp functions call NumPy there): the traced IR, run by the
array interpreter (and, end to end, the compiled C), must give the same
values, shapes, dtypes and pytree structure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradc
from gradc.errors import GradcError, PipelineError, TraceError, TraceIndexError, TraceTypeError
from gradc.frontend import pytree
from gradc.frontend.tracing import function_name, trace
from gradc.interpreter import run_function
import gradc.numpy as gnp
from gradc.pipeline import DEFAULT_PIPELINE, compile_module, run_pipeline


pytestmark = pytest.mark.usefixtures("private_cache")

RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}
ATOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-13}

rng = np.random.default_rng(20260101)
f32, f64 = np.float32, np.float64
X = rng.standard_normal((3, 4)).astype(f32)
Y = rng.standard_normal((3, 4)).astype(f32)
V = rng.standard_normal(4).astype(f32)
COL = rng.standard_normal((3, 1)).astype(f32)
P = rng.uniform(0.5, 2.0, (3, 4)).astype(f32)
B = rng.standard_normal((2, 3, 4)).astype(f32)
W = rng.standard_normal((4, 5)).astype(f32)
X64 = rng.standard_normal((3, 4))
HALF = rng.uniform(-0.95, 0.95, (3, 4)).astype(f32)
HALVES = np.array([[-2.5, -1.5, -0.5, -0.0], [0.0, 0.5, 1.5, 2.5], [-0.7, 0.3, np.nan, -np.inf]], f32)
V64 = rng.standard_normal(4)
I32 = np.array([[7, -7, 2**31 - 1, -(2**31)], [0, 5, -1, 12], [3, -9, 100, 2**30]], np.int32)
J32 = np.array([[2, 2, -3, 1], [5, -4, 7, 3], [-1, 3, -6, 2]], np.int32)  # no zeros: test_integers divides by 0
I64 = np.array([[2**62, -(2**63), 3, -1], [0, 12345678901, 7, -9], [5, 2**40, -(2**33), 1]], np.int64)


def interpret(fn, *args):
    """Trace `fn` on `args`, run the IR in the array interpreter, return the
    results in `fn`'s output structure (and the trace)."""
    traced = trace(fn, args)
    leaves, _ = pytree.flatten(args)
    results = run_function(traced.module, traced.name, *leaves)
    return pytree.unflatten(traced.out_tree, results), traced


def assert_same(got, want):
    got_leaves, got_tree = pytree.flatten(got)
    want_leaves, want_tree = pytree.flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if w.dtype.kind in "bi":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=RTOL[w.dtype], atol=ATOL[w.dtype])


def check(fn, *args):
    got, traced = interpret(fn, *args)
    assert_same(got, fn(*args))
    return traced


# ---------------------------------------------------------------------------
# Every function and operator, against NumPy
# ---------------------------------------------------------------------------

CASES = {
    # elementwise unary
    "exp": (lambda a: gnp.exp(a), X),
    "log": (lambda a: gnp.log(a), P),
    "tanh": (lambda a: gnp.tanh(a), X),
    "sinh": (lambda a: gnp.sinh(a), X),
    "sin": (lambda a: gnp.sin(a), X),
    "cos": (lambda a: gnp.cos(a), X64),
    "sqrt": (lambda a: gnp.sqrt(a), P),
    "abs": (lambda a: gnp.abs(a), X),
    "builtin_abs": (lambda a: abs(a), X),
    "hyperbolic_trig": (lambda a: (gnp.cosh(a), gnp.tan(a), gnp.arctan(a), gnp.arcsinh(a), gnp.atan(a), gnp.asinh(a)), X),
    "inverse_trig": (
        lambda a: (gnp.arcsin(a), gnp.arccos(a), gnp.arctanh(a), gnp.arccosh(a + 1.5), gnp.asin(a), gnp.acos(a),
                   gnp.atanh(a), gnp.acosh(a + 2.0)),
        HALF,
    ),
    "exp_log_family": (lambda a: (gnp.log1p(a), gnp.expm1(a), gnp.log2(a), gnp.log10(a), gnp.exp2(a), gnp.erf(a)), P),
    "exp_log_family_f64": (lambda a: (gnp.log1p(a * a), gnp.expm1(a), gnp.exp2(a), gnp.erf(a)), X64),
    "rounding": (
        lambda a: (gnp.floor(a), gnp.ceil(a), gnp.trunc(a), gnp.fix(a), gnp.rint(a), gnp.round(a), gnp.around(a),
                   gnp.sign(a)),
        HALVES,
    ),
    "round_decimals": (
        lambda a: (gnp.round(a, 2), gnp.round(a * 1000.0, decimals=-2), gnp.around(a, 1), a.round(1), a.round()), X
    ),
    "numpy_rounding_and_math": (
        lambda a: (np.round(a, 1), np.around(a), np.fix(a), np.floor(a), np.ceil(a), np.trunc(a), np.rint(a),
                   np.sign(a), np.cosh(a), np.arctan(a), np.expm1(a), np.log1p(a * a), np.exp2(a)),
        X64,
    ),
    "sign_functions": (
        lambda a, b: (gnp.arctan2(a, b), gnp.atan2(b, a), gnp.copysign(a, b), gnp.signbit(a), np.arctan2(a, 2.0),
                      np.copysign(3.0, b), np.signbit(b), gnp.copysign(a, -0.0), gnp.signbit(a > 0)),
        HALVES, HALVES[::-1].copy(),
    ),
    "sign_functions_f64": (lambda a, b: (gnp.arctan2(a, b), np.copysign(a, b), gnp.signbit(-a)), X64, X64[::-1].copy()),
    "neg": (lambda a: -a, X),
    "pos": (lambda a: +a, X),
    # elementwise binary, with broadcasting
    "add": (lambda a, b: a + b, X, Y),
    "add_row": (lambda a, b: a + b, X, V),
    "sub_col": (lambda a, b: a - b, X, COL),
    "mul_outer": (lambda a, b: a * b, COL, V),
    "div_3d": (lambda a, b: a / b, B, P),
    "pow": (lambda a, b: a**b, P, X),
    "maximum": (lambda a, b: gnp.maximum(a, b), X, V),
    "minimum": (lambda a, b: gnp.minimum(a, b), COL, Y),
    "named_binary": (
        lambda a, b: gnp.add(a, b) * gnp.subtract(a, b) / gnp.divide(gnp.multiply(a, 2.0), gnp.power(b, 2.0) + 1.0),
        X,
        V,
    ),
    # Python scalars on either side, NumPy arrays and scalars on the left
    "scalar_right": (lambda a: a * 2.0 + 1 - 0.5 / (abs(a) + 1.0) ** 2, X),
    "scalar_left": (lambda a: 2.0 - a, X),
    "reflected_div": (lambda a: 2.0 / (1.5 + abs(a)), X),
    "reflected_pow": (lambda a: 2.0**a, X),
    "numpy_left": (lambda a: np.ones((3, 1)) + a, X),
    "numpy_left_mul": (lambda a: np.linspace(0, 1, 4, dtype=f32) * a, X),
    "numpy_scalar_f64": (lambda a: np.float64(2.0) * a, X),
    "numpy_scalar_f32": (lambda a: np.float32(2.0) * a, X),
    "list_operand": (lambda a: a + [1.0, 2.0, 3.0, 4.0], X),
    # comparisons and where
    "lt_scalar": (lambda a: a < 0.5, X),
    "le": (lambda a, b: a <= b, X, Y),
    "gt_row": (lambda a, b: a > b, X, V),
    "ge_col": (lambda a, b: a >= b, COL, Y),
    "eq": (lambda a: a == gnp.maximum(a, 0.0), X),
    "ne": (lambda a: a != gnp.maximum(a, 0.0), X),
    "named_compare": (
        lambda a, b: (gnp.less(a, b), gnp.greater_equal(a, 0), gnp.equal(a, a), gnp.not_equal(b, 1.0)),
        X,
        Y,
    ),
    "where": (lambda a: gnp.where(a > 0, a, 0.0), X),
    "where_broadcast": (lambda a, b: gnp.where(b > 0, a, b), X, V),
    "where_float_condition": (lambda a: gnp.where(gnp.maximum(a, 0.0), 1.0, -1.0), X),
    "where_numpy_condition": (lambda a: gnp.where(np.array([True, False, True, True]), a, -a), X),
    "bool_ops": (lambda a: ((a > 0) & (a < 1), (a > 0) | ~(a < 1)), X),
    "bool_times_float": (lambda a: (a > 0) * a, X),
    "bool_times_python_float": (lambda a: (a > 0) * 2.0, X),
    "astype": (lambda a: ((a > 0).astype(np.float32), a.astype(np.float64) * 2), X),
    # reductions: axis None / int / negative / tuple, keepdims
    "sum_all": (lambda a: gnp.sum(a), B),
    "sum_axis": (lambda a: gnp.sum(a, axis=1), B),
    "sum_negative_axis": (lambda a: gnp.sum(a, axis=-1), B),
    "sum_tuple_keepdims": (lambda a: gnp.sum(a, axis=(0, -1), keepdims=True), B),
    "sum_empty_axes": (lambda a: gnp.sum(a, axis=()), X),
    "max_keepdims": (lambda a: gnp.max(a, axis=-1, keepdims=True), B),
    "max_all": (lambda a: gnp.max(a), X),
    "min_axis": (lambda a: gnp.min(a, axis=0), X),
    "min_tuple": (lambda a: gnp.min(a, axis=(0, 2), keepdims=True), B),
    "mean_all": (lambda a: gnp.mean(a), X),
    "mean_axis_keepdims": (lambda a: gnp.mean(a, axis=1, keepdims=True), B),
    "mean_bool": (lambda a: gnp.mean(a > 0, axis=0), X),
    "methods": (lambda a: (a.sum(axis=0), a.max(axis=1), a.min(), a.mean(axis=-1, keepdims=True)), X),
    # composites
    "softmax": (lambda a: gnp.softmax(a), X),
    "softmax_axis0": (lambda a: gnp.softmax(a, axis=0), B),
    "logsumexp_all": (lambda a: gnp.logsumexp(a), X),
    "logsumexp_axis": (lambda a: gnp.logsumexp(a, axis=-1), B),
    "logsumexp_keepdims": (lambda a: gnp.logsumexp(a, axis=(0, 1), keepdims=True), B),
    "sigmoid_relu_square": (lambda a: (gnp.sigmoid(a), gnp.relu(a), gnp.square(a)), X),
    "sigmoid_tails": (lambda a: gnp.sigmoid(a * 100.0), X64),
    # matrix products
    "matmul_2d": (lambda a, b: a @ b, X, W),
    "matmul_vec_right": (lambda a, b: a @ b, X, V),
    "matmul_vec_left": (lambda a, b: a.T @ b, X, np.ones(3, f32)),
    "matmul_vec_vec": (lambda a: a @ a, V),
    "matmul_batched_broadcast": (lambda a, b: gnp.matmul(a, b), B, W),
    "matmul_batched_both": (lambda a: a @ gnp.transpose(a, (0, 2, 1)), B),
    "matmul_batch_broadcast_4d": (lambda a: gnp.matmul(np.ones((2, 1, 3, 3), f32), a), B),
    "matmul_numpy_left": (lambda a: np.eye(3, dtype=f32) @ a, X),
    "dot_2d": (lambda a, b: gnp.dot(a, b), X, W),
    "dot_scalar": (lambda a: gnp.dot(a, 3.0), X),
    "dot_nd": (lambda a: gnp.dot(a, np.arange(24.0, dtype=f32).reshape(2, 4, 3)), B),
    "dot_method": (lambda a, b: a.dot(b), X, V),
    # shapes
    "transpose_default": (lambda a: gnp.transpose(a), B),
    "transpose_axes": (lambda a: gnp.transpose(a, (2, -3, 1)), B),
    "T": (lambda a: a.T, X),
    "transpose_method": (lambda a: (a.transpose(1, 2, 0), a.transpose((2, 0, 1))), B),
    "reshape_minus_one": (lambda a: gnp.reshape(a, (-1, 6)), B),
    "reshape_method": (lambda a: (a.reshape(4, 3), a.reshape((2, -1)), a.reshape(-1)), X),
    "ravel_squeeze_expand": (
        lambda a: (gnp.ravel(a), gnp.squeeze(a[:, :1]), gnp.expand_dims(a, (0, -1)), gnp.squeeze(a[None], axis=0)),
        X,
    ),
    "broadcast_to": (lambda a: gnp.broadcast_to(a, (2, 3, 4)), COL),
    "concatenate": (lambda a, b: gnp.concatenate([a, b[None], np.zeros((1, 4), f32)], axis=0), X, V),
    "concatenate_negative_axis": (lambda a, b: gnp.concatenate((a, b, a), axis=-1), X, COL),
    "concatenate_none": (lambda a, b: gnp.concatenate([a, b], axis=None), X, V),
    "concatenate_promotes": (lambda a, b: gnp.concatenate([a, b]), X, X64),
    "stack": (lambda a: (gnp.stack([a, a * 2.0]), gnp.stack([a, -a], axis=-1)), X),
    "stack_scalars": (lambda a, s: (gnp.stack([a[0, 0], 1, 2.0]), gnp.stack([s, a[1, 1]])), X, 0.5),
    # indexing
    "index_int": (lambda a: (a[1], a[-1], a[0, -2], a[-3, 0]), X),
    "index_slices": (lambda a: (a[1:, ::2], a[-2:], a[:-1, -3:-1], a[::3, 1::2]), X),
    "index_out_of_range_bounds": (lambda a: (a[1:100], a[-100:2], a[2:1]), X),
    "index_steps": (lambda a: (a[::2, ::3, 1:4:2], a[0, ::2]), B),
    "index_none_ellipsis": (lambda a: (a[None], a[..., 1], a[0, ..., None], a[:, None, 1:3], a[...]), B),
    "index_numpy_int": (lambda a: a[np.int64(1), np.int32(-1)], X),
    # constants and creation functions
    "numpy_constant": (lambda a: a * np.arange(4.0, dtype=f32) + np.full((3, 4), 0.5, f32), X),
    "creation": (
        lambda a: (gnp.zeros_like(a) + gnp.ones((4,)), gnp.full((3, 1), 2.0) * a, gnp.ones_like(a) * a, gnp.full_like(a, 3.0) - a),
        X,
    ),
    "full_traced_fill": (lambda a: gnp.full((2, 3), a[0, 0]), X),
    "zeros_output": (lambda a: (a, gnp.zeros((2, 2), f32)), X),
    # NumPy's own functions on traced arrays dispatch to gnp
    "numpy_functions": (
        lambda a: (np.exp(a) + np.sum(a, axis=0) + np.maximum(a, 0), np.tanh(a).T, np.where(a > 0, a, 0.0), np.mean(a)),
        X,
    ),
    # dtype promotion across arrays
    "f32_plus_f64": (lambda a, b: a + b, X, V64),
    "f64_matmul_f32": (lambda a, b: a @ b, X64, W),
    "f32_where_f64": (lambda a, b: gnp.where(a > 0, a, b), X, X64),
    # integers (int32, int64; wrapping), the modulo family, argmax, bitwise ops
    "int_arithmetic": (
        lambda i, j: (i + j, i * 3, -i, gnp.abs(i), i // j, i % j, gnp.fmod(i, j), gnp.maximum(i, j), i < j,
                      gnp.where(i > j, i, j), i / j, gnp.sign(i), i ** 2, gnp.power(j, 3), gnp.square(i), 7 % j,
                      gnp.floor_divide(i, 2), gnp.remainder(i, -3), gnp.mod(i, j), *gnp.divmod(i, j),
                      gnp.round(j * 7, -1), gnp.round(i, 2), gnp.clip(i, -5, 50), gnp.floor(j), gnp.trunc(i)),
        I32, J32,
    ),
    "int_bitwise": (
        lambda i, j: (i & j, i | 1, i ^ j, ~i, i << 2, i >> 1, gnp.bitwise_and(i, 6), gnp.bitwise_or(i, j),
                      gnp.bitwise_xor(j, 5), gnp.invert(i), gnp.bitwise_not(j), gnp.left_shift(j, 1), gnp.right_shift(i, 2)),
        I64, I64[::-1].copy(),
    ),
    "int_reductions": (
        lambda i: (gnp.sum(i), gnp.prod(i, axis=0), gnp.max(i, axis=1), gnp.min(i), gnp.mean(i), gnp.cumsum(i, axis=1),
                   gnp.argmax(i, axis=1), gnp.argmin(i), i.argmax(), np.argmin(i, axis=0, keepdims=True)),
        I32,
    ),
    "float_modulo_argmax": (
        lambda a, b: (a % b, a // b, gnp.fmod(a, b), gnp.remainder(a, 0.7), np.floor_divide(a, b), 2.0 % a,
                      gnp.argmax(a, axis=0), np.argmin(a), a.argmin(axis=1)),
        X, Y,
    ),
    "int_float_mixing": (
        lambda a, i: (a * i, i + 0.5, i.astype(np.float32) + a, a.astype(np.int32), (a > 0) + i, i.astype(np.float64) / 3),
        X, I32,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_traced_function_matches_numpy(name):
    fn, *args = CASES[name]
    check(fn, *args)


def test_every_public_numpy_name_is_exercised():
    """gnp names used in the cases above cover the promised function list."""
    promised = """exp log tanh sinh sin cos sqrt abs maximum minimum where sum mean max min
    matmul dot transpose reshape broadcast_to concatenate zeros ones full zeros_like
    ones_like softmax logsumexp sigmoid relu square cosh tan arcsin arccos arctan arcsinh
    arccosh arctanh asin acos atan asinh acosh atanh log1p expm1 log2 log10 exp2 erf floor ceil
    trunc fix rint round around sign reciprocal logaddexp logaddexp2 softplus sinc hypot clip heaviside
    isnan isinf isfinite arctan2 atan2 copysign signbit real imag conj conjugate angle iscomplexobj
    isrealobj iscomplex isreal fmod remainder mod floor_divide divmod argmax argmin bitwise_and bitwise_or
    bitwise_xor invert bitwise_not left_shift right_shift""".split()
    for name in promised:
        assert callable(getattr(gnp, name)), name


# ---------------------------------------------------------------------------
# dtype rules (NumPy 2): weak Python scalars, promotion, bools
# ---------------------------------------------------------------------------


def test_f32_times_python_float_stays_f32():
    traced = check(lambda a: a * 2.0, X)
    assert traced.out_specs[0].dtype == np.float32
    assert "array.convert" not in str(traced.module)
    assert "dense<2.000000e+00> : tensor<3x4xf32>" in str(traced.module)


def test_f32_plus_f64_array_promotes_to_f64_with_convert():
    traced = check(lambda a, b: a + b, X, X64)
    assert traced.out_specs[0].dtype == np.float64
    assert "array.convert %0 : tensor<3x4xf32> -> tensor<3x4xf64>" in str(traced.module)


def test_bool_in_arithmetic_converts_to_the_float_dtype():
    traced = check(lambda a: (a > 0) * a, X)
    ir = str(traced.module)
    assert "tensor<3x4xi1> -> tensor<3x4xf32>" in ir
    assert traced.out_specs[0].dtype == np.float32


def test_python_float_argument_is_weak_f64():
    """A Python float argument is a 0-d f64 argument of the function, but it
    meets an f32 array as a Python float does in NumPy: converted to f32."""
    traced = check(lambda a, s: (a * s, s * 2.0, gnp.exp(s)), X, 0.5)
    fn_type = str(traced.module.ops.first.function_type)
    assert "tensor<f64>" in fn_type
    assert [s.dtype for s in traced.out_specs] == [np.float32, np.float64, np.float64]


def test_numpy_scalar_argument_is_strong():
    traced = check(lambda a, s: a * s, X, np.float64(0.5))
    assert traced.out_specs[0].dtype == np.float64


def test_numpy_array_constants_become_array_constants():
    table = np.arange(12.0, dtype=f32).reshape(3, 4)
    traced = check(lambda a: a + table + np.full((4,), 1.5, f32), X)
    ir = str(traced.module)
    assert "array.constant dense<[[0.000000e+00, 1.000000e+00" in ir
    assert "array.constant dense<1.500000e+00> : tensor<3x4xf32>" in ir  # splat at the use


def test_constant_outputs():
    got, traced = interpret(lambda a: {"one": 1.0, "arr": np.array([1.0, 2.0]), "f": np.float32(2.5), "x": a}, X)
    assert got["one"].dtype == np.float64 and got["one"].shape == () and got["one"] == 1.0
    np.testing.assert_array_equal(got["arr"], [1.0, 2.0])
    assert got["f"].dtype == np.float32


def test_gnp_on_numpy_arrays_calls_numpy():
    assert type(gnp.exp(X)) is np.ndarray
    np.testing.assert_array_equal(gnp.exp(X), np.exp(X))
    np.testing.assert_array_equal(gnp.sum(B, axis=(0, 2), keepdims=True), np.sum(B, axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(gnp.where(X > 0, X, 0.0), np.where(X > 0, X, 0.0))
    np.testing.assert_array_equal(gnp.concatenate([X, Y]), np.concatenate([X, Y]))
    np.testing.assert_allclose(gnp.softmax(X), np.exp(X) / np.exp(X).sum(-1, keepdims=True), rtol=1e-6)
    assert gnp.exp(1.0) == np.exp(1.0)


def test_composites_against_textbook_formulas():
    """Independent of gnp: the definitions written out in NumPy (float64)."""
    x = X.astype(f64) * 30.0
    got, _ = interpret(lambda a: (gnp.softmax(a, axis=0), gnp.logsumexp(a, axis=1), gnp.sigmoid(a)), x)
    e = np.exp(x - x.max(axis=0))
    np.testing.assert_allclose(got[0], e / e.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.log(np.sum(np.exp(x), axis=1)), rtol=1e-12)
    np.testing.assert_allclose(got[2], 1.0 / (1.0 + np.exp(-x)), rtol=1e-12)


def test_logsumexp_is_stable_for_large_inputs():
    big = np.array([[1000.0, 1000.0], [-1000.0, -1001.0]])
    got, _ = interpret(lambda a: gnp.logsumexp(a, axis=1), big)
    np.testing.assert_allclose(got, [1000.0 + np.log(2.0), -1000.0 + np.log1p(np.exp(-1.0))], rtol=1e-12)


# ---------------------------------------------------------------------------
# Property tests: random indices, reductions and broadcasts against NumPy
# ---------------------------------------------------------------------------

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def basic_indices(draw, shape):
    """A NumPy basic index for `shape`: ints, slices (any bounds and steps)
    and None for the leading dimensions, or, after an Ellipsis, the trailing
    ones."""
    count = draw(st.integers(0, len(shape)))
    trailing = draw(st.booleans())
    dims = shape[len(shape) - count :] if trailing else shape[:count]
    items = []
    for n in dims:
        if draw(st.booleans()):
            items.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 2, n + 2)
            items.append(slice(draw(bound), draw(bound), draw(st.none() | st.sampled_from([1, 2, 3, -1, -2, -3]))))
        if draw(st.integers(0, 5)) == 0:
            items.append(None)
    if trailing:
        items.insert(0, Ellipsis)
    elif draw(st.booleans()):
        items.append(Ellipsis)
    return tuple(items)


@settings(max_examples=60, deadline=None)
@given(st.data(), shapes)
def test_indexing_matches_numpy(data, shape):
    x = np.arange(np.prod(shape), dtype=f64).reshape(shape)
    index = data.draw(basic_indices(shape))
    got, _ = interpret(lambda a: a[index], x)
    assert_same(got, x[index])


@settings(max_examples=60, deadline=None)
@given(st.data(), shapes, st.booleans(), st.sampled_from(["sum", "max", "min", "mean"]))
def test_reductions_match_numpy(data, shape, keepdims, name):
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(f32)
    axes = data.draw(st.none() | st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda a: a % len(shape)).map(tuple) | st.integers(-len(shape), len(shape) - 1))
    fn = getattr(gnp, name)
    got, _ = interpret(lambda a: fn(a, axis=axes, keepdims=keepdims), x)
    assert_same(got, getattr(np, name)(x, axis=axes, keepdims=keepdims))


@settings(max_examples=60, deadline=None)
@given(shapes, st.data())
def test_broadcasting_matches_numpy(shape, data):
    """Operands with dimensions dropped from the left or set to 1 broadcast
    as in NumPy, for every binary operator."""
    def variant():
        drop = data.draw(st.integers(0, len(shape)))
        return tuple(1 if data.draw(st.booleans()) else n for n in shape[drop:])

    a = np.random.default_rng(1).uniform(0.5, 2.0, variant()).astype(f32)
    b = np.random.default_rng(2).uniform(0.5, 2.0, variant()).astype(f64 if data.draw(st.booleans()) else f32)
    check(lambda p, q: (p + q, p - q, p * q, p / q, p**q, gnp.maximum(p, q), p < q), a, b)


# ---------------------------------------------------------------------------
# Pytrees
# ---------------------------------------------------------------------------

Pair = namedtuple("Pair", "first second")


@pytest.mark.parametrize(
    "tree",
    [
        X,
        (X, Y),
        [X, (Y, [V])],
        {"b": X, "a": [Y, {"z": V, "y": COL}]},
        Pair(X, {"k": Y}),
        (X, None, ()),
        {},
    ],
    ids=["leaf", "tuple", "nested_list", "nested_dict", "namedtuple", "none", "empty"],
)
def test_pytree_round_trip(tree):
    leaves, treedef = pytree.flatten(tree)
    rebuilt = pytree.unflatten(treedef, leaves)
    assert pytree.flatten(rebuilt)[1] == treedef
    assert type(rebuilt) is type(tree)
    assert all(a is b for a, b in zip(pytree.flatten(rebuilt)[0], leaves))
    assert hash(treedef) == hash(pytree.flatten(tree)[1])


def test_pytree_dicts_flatten_in_sorted_key_order():
    leaves, treedef = pytree.flatten({"b": 2, "a": 1, "c": 3})
    assert leaves == [1, 2, 3]
    assert treedef == pytree.flatten({"c": 0, "a": 0, "b": 0})[1]
    assert treedef != pytree.flatten({"a": 0, "b": 0, "d": 0})[1]
    assert treedef != pytree.flatten((0, 0, 0))[1]
    assert pytree.leaf_keys(pytree.flatten({"w": [0, 0]})[1]) == [("w", 0), ("w", 1)]


def test_pytree_unsortable_keys():
    with pytest.raises(GradcError, match="sortable"):
        pytree.flatten({1: X, "a": Y})


def test_pytrees_in_and_out_of_traced_functions():
    def f(params, batch):
        w, b = params["w"], params["b"]
        h = batch[0] @ w + b
        return {"h": h, "stats": (gnp.mean(h), [gnp.max(h, axis=0), None]), "pair": Pair(h.T, batch[1])}

    params = {"w": W, "b": rng.standard_normal(5).astype(f32)}
    got, traced = interpret(f, params, [X, 2.0])
    assert_same(got, f(params, [X, 2.0]))
    assert isinstance(got["pair"], Pair)
    assert got["stats"][1][1] is None


# ---------------------------------------------------------------------------
# Errors a user can cause: a GradcError naming the op, the shapes and the
# user's file:line
# ---------------------------------------------------------------------------


def line_of(marker: str) -> str:
    """`this_file:line` of the line holding `marker` (a comment at the call)."""
    for number, text in enumerate(Path(__file__).read_text().splitlines(), 1):
        if marker in text and "line_of(" not in text:
            return f"{__file__}:{number}"
    raise AssertionError(marker)


def test_shape_mismatch_names_both_shapes_and_the_users_line():
    def f(a, b):
        return a + b  # <- broadcast error here

    with pytest.raises(TraceError) as info:
        trace(f, (X, np.ones(5, f32)))
    message = str(info.value)
    assert "(3, 4)" in message and "(5,)" in message and "broadcast" in message
    assert message.startswith(line_of("# <- broadcast error here"))
    assert isinstance(info.value, ValueError) and isinstance(info.value, GradcError)


def test_error_location_is_the_users_call_inside_a_composite():
    def f(a):
        return gnp.softmax(a, axis=2)  # <- softmax axis error

    with pytest.raises(TraceError, match="softmax: axis 2 is out of range.*shape \\(3, 4\\)") as info:
        trace(f, (X,))
    assert info.value.location == line_of("# <- softmax axis error")


@pytest.mark.parametrize(
    "fn, error, pattern",
    [
        (lambda a: gnp.sum(a, axis=2), TraceError, r"sum: axis 2 is out of range for an array of shape \(3, 4\)"),
        (lambda a: gnp.max(a, axis=-3), TraceError, r"max: axis -3 is out of range"),
        (lambda a: gnp.sum(a, axis=(0, -2)), TraceError, r"sum: repeated axis"),
        (lambda a: a.reshape(5, -1), TraceError, r"reshape: cannot reshape array of shape \(3, 4\) \(size 12\) into shape \(5, -1\)"),
        (lambda a: a.reshape(5, 2), TraceError, r"reshape: cannot reshape .* into shape \(5, 2\)"),
        (lambda a: a @ a, TraceError, r"operator @: shapes \(3, 4\) and \(3, 4\) are not aligned"),
        (lambda a: gnp.matmul(a, np.ones(3, f32)), TraceError, r"matmul: shapes \(3, 4\) and \(3,\) are not aligned"),
        (lambda a: gnp.matmul(a, 2.0), TraceError, r"matmul: operands must have at least one dimension"),
        (lambda a: gnp.concatenate([a, np.ones((2, 3))]), TraceError, r"concatenate: shapes \(3, 4\), \(2, 3\) differ"),
        (lambda a: gnp.transpose(a, (0, 0)), TraceError, r"not a permutation"),
        (lambda a: gnp.broadcast_to(a, (4, 4)), TraceError, r"cannot broadcast shape \(3, 4\) to shape \(4, 4\)"),
        (lambda a: gnp.squeeze(a, axis=0), TraceError, r"squeeze: axis 0 of shape \(3, 4\) has size 3"),
        (lambda a: gnp.where(a > 0, a, np.ones(5)), TraceError, r"where: shapes .*\(5,\) cannot be broadcast"),
        (lambda a: a[[0, 5]], TraceIndexError, r"index 5 is out of bounds for axis 0 with size 3"),
        (lambda a: a[a > 0], TraceIndexError, r"a traced bool array \(3, 4\) as a mask.*gnp.where\(mask, x, 0.0\)"),
        (lambda a: a[::0], TraceIndexError, r"slice step cannot be zero"),
        (lambda a: a[5], TraceIndexError, r"index 5 is out of bounds for axis 0 with size 3"),
        (lambda a: a[0, 0, 0], TraceIndexError, r"too many indices"),
        (lambda a: a[..., 0, ...], TraceIndexError, r"single ellipsis"),
        (lambda a: a if a > 0 else -a, TraceTypeError, r"truth test .* gnp.where"),
        (lambda a: float(a), TraceTypeError, r"float\(\) of a traced array .*cannot become a Python or NumPy value"),
        (lambda a: np.asarray(a), TraceTypeError, r"conversion to a NumPy array"),
        (lambda a: np.modf(a), TraceTypeError, r"numpy.modf is not supported"),
        (lambda a: gnp.round(a, 1.5), TraceTypeError, r"round: decimals must be an int"),
        (lambda a: np.sort(a), TraceTypeError, r"numpy.sort is not supported"),
        (lambda a: gnp.exp(a > 0), TraceTypeError, r"exp: NumPy computes this in float16"),
        (lambda a: (a > 0) * np.uint8(1), TraceTypeError, r"operator \*: NumPy computes this in uint8"),
        (lambda a: gnp.sum(a > 0, dtype=np.int8), TraceTypeError, r"sum: dtype int8 is not supported"),
        (lambda a: a + "s", TraceTypeError, r"operator \+: expected an array or a number, got str"),
        (lambda a: (a > 0) // (a > 0), TraceTypeError, r"operator //: NumPy computes this in int8"),
        (lambda a: a & a, TraceTypeError, r"operator &: NumPy does not compute bitwise_and of float32"),
        (lambda a: ~a, TraceTypeError, r"invert \(~\): takes int32, int64 or bool arrays, got float32"),
        (lambda a: gnp.logical_and(a, a), TraceTypeError, r"logical_and .*takes bool arrays"),
        (lambda a: a.astype(np.int8), TraceTypeError, r"astype: dtype int8 is not supported"),
        (lambda a: np.arange(3).astype(np.uint16), TraceTypeError, r"output is a constant uint16 array"),
        (lambda a: a.astype(np.int32) + 2**40, TraceTypeError, r"the Python int 1099511627776 is out of bounds for int32"),
        (lambda a: a.astype(np.int32) ** -1, TraceTypeError, r"power: integers to negative integer powers"),
        (lambda a: gnp.argmax(a, axis=2), TraceError, r"argmax: axis 2 is out of range"),
        (lambda a: gnp.argmin(a[:0]), TraceError, r"argmin: attempt to get argmin of an empty sequence"),
        (lambda a: "result", TraceTypeError, r"output is a str"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_user_errors(fn, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        trace(fn, (X,))
    assert isinstance(info.value, GradcError)
    assert info.value.location is not None and info.value.location.startswith(__file__)


def test_item_assignment_is_refused():
    def f(a):
        a[0] = 1.0
        return a

    with pytest.raises(TraceTypeError, match="immutable"):
        trace(f, (X,))


@pytest.mark.parametrize(
    "arg, pattern",
    [
        (np.ones(3, np.uint8), r"argument a is an uint8 array .*int32 and int64.*astype\(np.int32\)"),
        ("abc", r"argument a: a str"),
        (True, r"argument a: a Python bool"),
        ({"w": [X, object()]}, r"argument a\['w'\]\[1\]: a object"),
    ],
    ids=["int_array", "string", "bool", "nested_object"],
)
def test_bad_arguments(arg, pattern):
    with pytest.raises(TraceTypeError, match=pattern):
        trace(lambda a: a, (arg,))


def test_arguments_are_named_as_the_function_names_them():
    """Parameter names, `rest[k]` for what *rest collects, keyword names;
    `args[k]` only where the function has no signature to read."""

    def f(x, scale, *rest, flag=None, **extra):
        return x

    bad = np.ones(2, np.int16)
    for args, kwargs, name in [
        ((X, bad), {}, r"scale"),
        ((X, 1.0, X, {"a": [X, bad]}), {}, r"rest\[1\]\['a'\]\[1\]"),
        ((X, 1.0), {"flag": bad}, r"flag"),
    ]:
        with pytest.raises(TraceTypeError, match=rf"^{__file__}:\d+: argument {name} is an int16 array") as info:
            gradc.jit(f)(*args, **kwargs)  # <- named argument
        assert info.value.location == line_of("# <- named argument")
    with pytest.raises(TraceTypeError, match=r"argument y: a str"):
        gradc.grad(lambda x, y: gnp.sum(x))(X, "s")
    with pytest.raises(TraceTypeError, match=r"checkpoint of f: argument scale is an int16 array"):
        gradc.jit(lambda x: gradc.checkpoint(f)(x, bad))(X)
    with pytest.raises(TraceTypeError, match=r"fori_loop: init_val\[1\] is an int16 array"):
        gradc.jit(lambda x: gradc.fori_loop(0, 2, lambda i, c: c, (x, bad)))(X)
    with pytest.raises(TraceTypeError, match=r"argument args\[0\] is an int16 array"):
        trace(max, (bad,))


def test_integer_indices_closed_over_work_as_the_message_says():
    """What the integer-argument message suggests runs and gives NumPy's
    values (and gradients)."""
    idx = np.array([2, 0, 2])
    got = gradc.jit(lambda x: gnp.stack([x[i] for i in idx]))(X)
    np.testing.assert_array_equal(got, X[idx])
    g = gradc.grad(lambda x: gnp.sum(gnp.stack([x[i] for i in idx]) ** 2))(X.astype(np.float64))
    want = np.zeros((3, 4))
    np.add.at(want, idx, 2 * X[idx].astype(np.float64))
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_escaped_traced_array():
    escaped = []
    trace(lambda a: escaped.append(a) or a, (X,))
    with pytest.raises(TraceError, match="after its function finished tracing"):
        trace(lambda a: escaped[0] + 1.0, (X,))
    with pytest.raises(TraceError, match="two different traces"):
        trace(lambda a: escaped[0] + a, (X,))


def test_function_names_are_c_identifiers():
    def exp(a):
        return a

    assert function_name(lambda a: a) == "lambda_"
    assert function_name(exp) == "g_exp"  # would clash with libm's exp
    assert function_name(np.sum) == "sum"
    assert trace(exp, (X,)).name == "g_exp"
    np.testing.assert_array_equal(gradc.jit(exp)(X), X)


# ---------------------------------------------------------------------------
# End to end: gradc.jit, gradc.lower, gradc.export_c (compiled C vs NumPy)
# ---------------------------------------------------------------------------


def mlp(x, w1, b1, w2, b2):
    h = gnp.tanh(x @ w1 + b1)
    return gnp.softmax(h @ w2 + b2, axis=1)


def mlp_args(batch=8, n_in=32, hidden=16, n_out=10, dtype=f32):
    r = np.random.default_rng(1)
    return (
        r.standard_normal((batch, n_in)).astype(dtype),
        (r.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(dtype),
        (0.1 * r.standard_normal(hidden)).astype(dtype),
        (r.standard_normal((hidden, n_out)) / np.sqrt(hidden)).astype(dtype),
        (0.1 * r.standard_normal(n_out)).astype(dtype),
    )


@pytest.mark.parametrize("dtype", [f32, f64], ids=["f32", "f64"])
def test_jit_mlp_forward_matches_numpy(dtype):
    args = mlp_args(dtype=dtype)
    got = gradc.jit(mlp)(*args)
    assert_same(got, mlp(*args))


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_function_matches_numpy(name):
    """The same cases as above, through the whole pipeline to C."""
    fn, *args = CASES[name]
    assert_same(gradc.jit(fn)(*args), fn(*args))


def test_run_pipeline_by_cli_names():
    traced = trace(mlp, mlp_args())
    module = run_pipeline(traced.module.clone(), "canonicalize,cse,dce,lower-array-to-loops")
    assert "loops.for" in str(module)
    want = run_function(traced.module, "mlp", *mlp_args())
    got = run_function(module, "mlp", *mlp_args())
    np.testing.assert_allclose(got[0], want[0], rtol=2e-6)
    assert DEFAULT_PIPELINE[-6:] == (
        "lower-array-to-loops", "tile-matmul", "stack-alloc", "plan-memory", "lower-loops-to-c", "outline-nests"
    )


def test_run_pipeline_unknown_pass_is_a_gradc_error():
    traced = trace(mlp, mlp_args())
    with pytest.raises(PipelineError, match="no-such-pass"):
        run_pipeline(traced.module, "cse,no-such-pass")
    assert issubclass(PipelineError, GradcError)


def test_compile_module_returns_a_callable_on_arrays():
    traced = trace(lambda a, b: (a @ b, gnp.sum(b)), (X, W))
    compiled = compile_module(traced.module, traced.name)
    product, total = compiled(X, W)
    np.testing.assert_allclose(product, X @ W, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(total, W.sum(), rtol=2e-5)


def test_jit_softmax_logsumexp_and_pytrees():
    @gradc.jit
    def f(batch, scale):
        z = batch["x"] * scale
        return {"p": gnp.softmax(z, axis=0), "lse": (gnp.logsumexp(z, axis=-1), gnp.logsumexp(z))}

    batch = {"x": X}
    assert_same(f(batch, 3.0), f.fn(batch, 3.0))
    out = f(batch, 3.0)
    assert isinstance(out["lse"], tuple) and out["lse"][1].shape == () and type(out["lse"][1]) is np.ndarray


def test_jit_retraces_only_for_a_new_signature():
    traces = []

    @gradc.jit
    def f(a, s):
        traces.append(a.shape)
        return gnp.exp(a) * s

    for s in (1.0, 2.0, 3.5):  # a Python float's value is an argument, not a constant
        np.testing.assert_allclose(f(X, s), np.exp(X) * s, rtol=2e-6)
    assert len(traces) == 1
    f(X[:2], 1.0)  # new shape
    f(X64, 1.0)  # new dtype
    f(X, np.float64(2.0))  # a NumPy float64 scalar: strong, so a new signature
    assert traces == [(3, 4), (2, 4), (3, 4), (3, 4)]
    assert f.cache_size == 4
    f(X, 5.0), f(X64, 5.0)
    assert len(traces) == 4


def test_jit_wrong_argument_type_is_a_located_gradc_error():
    f = gradc.jit(lambda a: a * 2.0)
    with pytest.raises(GradcError, match=r"argument a: a str") as info:
        f("abc")  # <- jit called with a string
    assert info.value.location == line_of("# <- jit called with a string")
    with pytest.raises(GradcError, match="an uint8 array"):
        f(np.arange(3, dtype=np.uint8))


def test_jit_error_traceback_skips_gradc_frames():
    @gradc.jit
    def f(a):
        return a @ a

    with pytest.raises(TraceError) as info:
        f(X)
    files = [str(entry.path) for entry in info.traceback]
    # the test, the one jit frame that re-raises, then straight to the user's f
    assert files == [__file__, gradc.transforms.api.__file__, __file__]
    assert info.traceback[-1].name == "f"


def test_jit_composes_with_itself():
    inner = gradc.jit(lambda a: gnp.tanh(a) * 2.0)
    outer = gradc.jit(lambda a, b: inner(a) + inner(b))
    np.testing.assert_allclose(outer(X, Y), np.tanh(X) * 2 + np.tanh(Y) * 2, rtol=2e-6)
    assert inner.cache_size == 0  # traced through, never compiled on its own


def test_jit_keyword_arguments_strided_inputs_and_cflags():
    f = gradc.jit(lambda a, *, scale: a.T * scale, cflags=["-O1"])
    np.testing.assert_allclose(f(X, scale=2.0), X.T * 2.0)
    strided = np.asfortranarray(X)
    np.testing.assert_allclose(f(strided, scale=2.0), X.T * 2.0)
    np.testing.assert_allclose(f(X[:, ::2].copy(), scale=1.0), X[:, ::2].T)


def test_jit_decorator_with_options():
    @gradc.jit(cflags=["-O2"])
    def f(a):
        return gnp.sum(a, axis=0)

    np.testing.assert_allclose(f(X), X.sum(axis=0), rtol=2e-6)
    assert f.__name__ == "f"


def test_jit_results_of_every_kind():
    f = gradc.jit(lambda a: (a, a, a > 0, gnp.sum(a), 2.0, np.ones(2, f32)))
    out = f(X)
    assert isinstance(out, tuple) and len(out) == 6
    np.testing.assert_array_equal(out[0], X)
    np.testing.assert_array_equal(out[2], X > 0)
    assert out[3].shape == () and out[3].dtype == np.float32
    assert out[4].shape == () and out[4] == 2.0
    np.testing.assert_array_equal(out[5], np.ones(2, f32))


def test_bool_array_arguments_are_masks():
    """NumPy bool arrays (and bool scalars) are arguments: they select, in
    compiled code and under every transformation that does not
    differentiate them."""
    mask = X > 0.5

    def f(a, m):
        return gnp.sum(gnp.where(m, a * a, gnp.sin(a))), ~m

    value, flipped = gradc.jit(f)(X, mask)
    assert value == pytest.approx(np.sum(np.where(mask, X * X, np.sin(X))), rel=1e-6)
    np.testing.assert_array_equal(flipped, ~mask)
    assert gradc.jit(lambda a, m: gnp.where(m, a, 0.0))(X, np.bool_(False)).sum() == 0.0
    want = np.where(mask, 2 * X, np.cos(X))
    np.testing.assert_allclose(gradc.grad(lambda a, m: f(a, m)[0])(X, mask), want, rtol=1e-6)
    np.testing.assert_allclose(gradc.jacfwd(lambda a, m: f(a, m)[0])(X, mask), want, rtol=1e-6)
    np.testing.assert_allclose(
        gradc.hessian(lambda a, m: f(a, m)[0])(X, mask).reshape(12, 12),
        np.diag(np.where(mask, 2.0, -np.sin(X)).ravel()), rtol=1e-5, atol=1e-6,
    )


def test_jit_indexing_and_shape_ops_end_to_end():
    fn, arg = CASES["index_slices"][0], X
    assert_same(gradc.jit(fn)(arg), fn(arg))
    fn = CASES["concatenate"][0]
    assert_same(gradc.jit(fn)(X, V), fn(X, V))


def test_lower_exposes_every_level():
    args = mlp_args()
    lowered = gradc.lower(mlp, *args)
    assert "func.func @mlp" in lowered.array_ir and "array.matmul" in lowered.array_ir
    assert "loops.for" in lowered.loops_ir and "array." not in lowered.loops_ir
    assert "int mlp(" in lowered.c_source and "malloc" not in lowered.c_source
    assert "mlp_work_size" in lowered.c_header
    assert_same(lowered.compile()(*args), mlp(*args))
    assert_same(lowered.callable(*args), mlp(*args))
    with pytest.raises(GradcError, match="compiled for arguments"):
        lowered.callable(*mlp_args(batch=4))


def test_lower_of_a_jitted_function_and_lower_method():
    f = gradc.jit(mlp)
    args = mlp_args()
    assert gradc.lower(f, *args).array_ir == f.lower(*args).array_ir


def test_lower_timings_name_each_step_once_it_has_run():
    """`.timings`: trace, then each pass (in pipeline order) and the C
    printer once `.c_source` and `.c_header` ran them, then the C build and the Python call
    once `.compile()` did; each figure a non-negative wall time of its own
    stretch, so together at most the wall time of those calls."""

    def twice_sin(x):
        return gnp.sin(x) * 2.0

    x = np.linspace(-1.0, 1.0, 3)
    jitted = gradc.jit(twice_sin)
    start = time.perf_counter()
    lowered = jitted.lower(x)
    traced = lowered.timings
    lowered.c_source, lowered.c_header
    printed = lowered.timings
    call = lowered.compile()
    wall = time.perf_counter() - start
    timings = lowered.timings
    passes = list(jitted.options.pipeline())
    assert list(traced) == ["trace"]
    assert list(printed) == ["trace", "pipeline-setup", *passes, "check-sizes", "print-c"]
    assert list(timings) == [*printed, "cc", "load"]
    assert all(timings[name] == printed[name] for name in printed)  # nothing ran twice
    assert all(seconds >= 0.0 for seconds in timings.values())
    assert sum(timings.values()) <= wall
    np.testing.assert_allclose(call(x), 2.0 * np.sin(x), rtol=1e-12)


def test_export_c_writes_a_standalone_pair(tmp_path):
    c_path, h_path = gradc.export_c(mlp, *mlp_args(), path_stem=tmp_path / "out" / "mlp")
    assert c_path == tmp_path / "out" / "mlp.c" and h_path == tmp_path / "out" / "mlp.h"
    source, header = c_path.read_text(), h_path.read_text()
    assert "int mlp(" in source and "int mlp(" in header
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc:  # it compiles on its own, against only the C library's headers
        subprocess.run(
            [cc, "-std=c99", "-c", str(c_path), "-o", str(tmp_path / "mlp.o")],
            check=True,
            capture_output=True,
        )


def test_function_named_like_a_libc_export_runs():
    """glibc exports `step` (not declared by any header gradc's build sees:
    only hidden visibility keeps the kernel from being interposed, which once
    crashed) and `index` (declared by <strings.h>: renamed)."""

    def step(x):
        return gnp.tanh(x) * 2.0

    def index(x):
        return x + 1.0

    x = np.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(gradc.jit(step)(x), np.tanh(x) * 2.0, rtol=1e-12)
    np.testing.assert_allclose(gradc.jit(index)(x), x + 1.0, rtol=1e-12)
