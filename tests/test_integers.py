"""Integer (int32, int64) and bool values as first-class gradc values, as a
user writes them: NumPy 2's promotion and weak Python scalars, wrapping
overflow, casts, reductions, argmax/argmin, jit arguments and their
messages, and derivatives of float programs with integer intermediates.

Every value is checked against NumPy (or against finite differences for
derivatives); each test compiles one function where it can.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc.errors import GradcError, TraceTypeError

I32 = np.array([[1, -2, 2**31 - 1, -(2**31)], [5, 7, 2**31 - 1, 3], [-(2**31), 0, 9, 9]], np.int32)
I64 = np.array([2**62, -(2**63), 2**63 - 1, -1, 0, 12345678901], np.int64)
F32 = np.array([0.5, -1.25, 3.0, 7.75], np.float32)
B = np.array([True, False, True, True])


def assert_same(got, want, what=""):
    """Same dtype, shape and values (exactly, or to float rounding)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == np.float32 else 1e-13, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def check(fn, *args):
    """`fn` compiled against `fn` under NumPy, result by result."""
    got = gradc.jit(fn)(*args)
    with np.errstate(all="ignore"):
        want = fn(*args)
    if not isinstance(want, tuple):
        got, want = (got,), (want,)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"result {k}")


def test_promotion_follows_numpy_2():
    """Weak Python scalars keep the array's dtype; ints with floats give
    NumPy's float; true division of ints is float64; bool with ints."""
    row = I32[1]

    def f(i, j, x, b):
        return (
            i + 1, i * 3, 2 - i, i + j[:4], i * x, i + 0.5, x + i, i / j[:4], i / 3,
            i - j[:4], b + i, i > 2, i == x, gnp.where(b, i, 7), gnp.where(b, i, 0.5),
            gnp.maximum(i, 4), gnp.minimum(j[:4], i), gnp.abs(i), -i, gnp.square(i), i**2, i**0,
            gnp.sign(i), i.astype(np.float32) + x, gnp.floor(i), gnp.true_divide(i, i),
        )

    check(f, row, I64, F32, B)


def test_overflow_wraps_as_numpy():
    """Signed overflow is undefined in C; gradc wraps, as NumPy does, for
    +, -, *, negation, abs, integer powers and sums (int32 and int64)."""
    big = np.array([2**31 - 1, -(2**31), 65536, -1], np.int32)

    def f(i, k):
        return (i + i, i - 1, -i, gnp.abs(i), i * i, i * 65536, i**3, k * 3, k + k, -k, gnp.abs(k),
                gnp.sum(k), gnp.cumsum(k), gnp.prod(k), gnp.sum(i, dtype=np.int32))

    check(f, big, I64)


def test_reductions_take_numpy_dtypes():
    """sum/prod/cumsum of int32 and of bool give int64 (NumPy on 64-bit
    Linux), max/min keep the dtype (min exact at the most negative value),
    mean/var/std give float64."""

    def f(i, b):
        return (
            gnp.sum(i), gnp.sum(i, axis=0), i.sum(axis=1, keepdims=True), gnp.max(i, axis=1), gnp.min(i),
            gnp.min(i, axis=0), i.max(), gnp.mean(i, axis=1), gnp.prod(i, axis=0), gnp.cumsum(i, axis=1),
            gnp.sum(b), gnp.cumsum(b), gnp.mean(b), gnp.var(i), gnp.std(i, axis=0), gnp.prod(b),
            gnp.any(i > 5), gnp.all(i != 0, axis=1), np.sum(i, axis=1),
        )

    check(f, I32, B)


def test_casts_between_every_pair_as_numpy():
    """astype between float32/64, int32/64 and bool (float -> int truncates
    toward zero; int64 -> int32 keeps the low bits)."""
    x = np.array([0.0, -0.0, 1.5, -1.5, 2.7, -2.7, 1e9, -1e9, 123456.9, -0.4], np.float64)
    k = np.array([0, 1, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**40 + 5, 7, -7], np.int64)

    def f(x, k):
        out = []
        for v in (x, x.astype(np.float32), k, k.astype(np.int32), k > 5):
            for dtype in (np.float32, np.float64, np.int32, np.int64, np.bool_):
                out.append(v.astype(dtype))
        return tuple(out)

    check(f, x, k)


def test_float_to_int_at_nan_and_out_of_range_gives_the_minimum():
    """C leaves it undefined; gradc defines it as NumPy's astype on x86-64:
    the integer's minimum, at every level (the interpreter and the C)."""
    x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 1e19, -1e19, 2.0**31, 2.0**63, 5.5])

    got = gradc.jit(lambda x: (x.astype(np.int32), x.astype(np.int64), x.astype(np.float32).astype(np.int32)))(x)
    lo32, lo64 = np.iinfo(np.int32).min, np.iinfo(np.int64).min
    want32 = np.array([lo32] * 9 + [5], np.int32)
    want64 = np.array([lo64, lo64, lo64, 3_000_000_000, -3_000_000_000, lo64, lo64, 2**31, lo64, 5], np.int64)
    assert_same(got[0], want32)
    assert_same(got[1], want64)
    assert_same(got[2], want32)


def test_argmax_and_argmin_ties_nan_axes_keepdims():
    """First occurrence on ties; NaN counts as the extreme; axis=None
    flattens; keepdims; methods and np.argmax dispatch; ints at their
    extremes and bools."""
    x = np.array([[1, 3, 3, np.nan], [2, 2, -1, -1], [np.nan, 5, np.nan, 0], [0, -0.0, 0, 9]], np.float32)
    k = np.array([[1, -(2**31), 2**31 - 1, 2**31 - 1], [5, 5, 7, -(2**31)], [0, 0, 0, 0], [3, 9, -9, 9]], np.int32)

    def f(x, k, b):
        return (
            gnp.argmax(x), gnp.argmax(x, axis=0), x.argmin(axis=1), np.argmax(x, axis=1, keepdims=True),
            gnp.argmin(x), np.argmin(x, axis=0), gnp.argmax(k, axis=1), gnp.argmin(k, axis=0), k.argmax(),
            gnp.argmax(b), gnp.argmin(b), gnp.argmin(k, axis=None, keepdims=True), gnp.argmax(x[1:2, 2:4], axis=-1),
            gnp.argmax(x.astype(np.float64), axis=1),
        )

    check(f, x, k, B)


def test_int_arguments_results_and_signatures():
    """int32/int64 arrays are jit arguments and results; each dtype is its
    own signature; other integer dtypes are refused with a message."""
    f = gradc.jit(lambda x, n: (x * n + n, n * 2))
    for n in (np.array(3, np.int32), np.array(3, np.int64), np.array([1, 2, 3, 4], np.int32)):
        got = f(F32, n)
        want = (F32 * n + n, n * 2)
        for g, w in zip(got, want):
            assert_same(g, w)
    assert f.cache_size == 3
    with pytest.raises(TraceTypeError, match=r"argument n is an uint8 array .*int32 and int64.*astype\(np.int32\)"):
        f(F32, np.array(3, np.uint8))
    with pytest.raises(GradcError, match=r"cannot differentiate with respect to n, which is int32"):
        gradc.grad(lambda x, n: gnp.sum(x * n), argnums=1)(F32, np.array(3, np.int32))


def test_compiled_call_checks_integer_dtypes_and_shapes():
    """A lowered function's call checks its arguments: an int64 array where
    int32 is expected is an error, as for floats, and so is another shape."""
    call = gradc.lower(lambda n: n + 1, np.array([1, 2], np.int32)).compile()
    assert_same(call(np.array([7, -(2**31)], np.int32)), np.array([8, -(2**31) + 1], np.int32))
    for bad in (np.array([1, 2], np.int64), np.array([1, 2, 3], np.int32), np.array([1.0, 2.0])):
        with pytest.raises(GradcError, match=r"was compiled for arguments .*int32\[2\]"):
            call(bad)


def test_integer_intermediates_carry_no_derivative():
    """x * argmax(x), int casts of x and masks from them: the integers are
    constants for the derivative (JAX's float0), in grad, jvp, jacfwd,
    jacrev and hessian (batched in vector mode), against central
    differences."""
    x = np.array([0.3, 2.1, -1.4, 0.7, 1.6])

    def f(x):
        k = gnp.argmax(x)
        i = (x * 3).astype(np.int32)
        j = gnp.cumsum(i) + gnp.argmin(x, keepdims=True)
        return gnp.sum(x * k) + gnp.sum(x * x * i.astype(np.float64)) + gnp.sum(gnp.where(i > 0, x, 0.0) ** 2) + gnp.sum(gnp.sin(x) * j)

    def vector(x):
        return x * gnp.argmax(x) + (x * 2).astype(np.int64) + gnp.sin(x) * gnp.cumsum((x > 0).astype(np.int32))

    h = 1e-6
    eye = np.eye(len(x))
    fd = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(gradc.grad(f)(x), fd, rtol=1e-7, atol=1e-7)
    fd_jac = np.array([(vector(x + h * e) - vector(x - h * e)) / (2 * h) for e in eye]).T
    np.testing.assert_allclose(gradc.jacfwd(vector)(x), fd_jac, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(gradc.jacrev(vector)(x), fd_jac, rtol=1e-7, atol=1e-7)
    _, tangent = gradc.jvp(vector, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(tangent, fd_jac.sum(axis=1), rtol=1e-7, atol=1e-7)
    grad = gradc.grad(f)
    fd_hess = np.array([(grad(x + h * e) - grad(x - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(gradc.hessian(f)(x), fd_hess, rtol=1e-6, atol=1e-6)


def test_bad_integer_operations_are_located_errors():
    with pytest.raises(TraceTypeError, match=r"power: integers to negative integer powers are not allowed"):
        gradc.jit(lambda i: i ** -2)(I32)
    with pytest.raises(TraceTypeError, match=r"the Python int 4294967296 is out of bounds for int32"):
        gradc.jit(lambda i: i + 2**32)(I32)
    with pytest.raises(TraceTypeError, match=r"exp: NumPy computes this in float16"):
        gradc.jit(lambda b: gnp.exp(b))(B)
    with pytest.raises(TraceTypeError, match=r"astype: dtype uint8 is not supported"):
        gradc.jit(lambda i: gnp.sin(i).astype(np.uint8))(I32)


def test_modulo_family_as_numpy():
    """remainder/mod (the divisor's sign), fmod (the dividend's), floor_divide,
    divmod, the %, // operators and their reflected forms, and np.mod
    dispatch: NumPy's values, signed zeros and NaN included, for floats
    (large quotients, infinities, division by 0) and ints (division by 0
    gives 0, MIN // -1 wraps)."""
    rng = np.random.default_rng(15)
    x = np.concatenate([rng.uniform(-10, 10, 12), [0.0, -0.0, 6.0, -6.0, 1e17, -1e17, np.inf, np.nan, 5.0, 3.0, -7.5, 7.5]])
    y = np.concatenate([rng.uniform(-3, 3, 12), [3.0, 3.0, -3.0, 3.0, 3.0, 0.7, 2.0, 1.0, 0.0, -0.0, np.inf, -np.inf]])
    i = np.array([7, -7, 7, -7, 0, 5, -(2**31), -(2**31), 2**31 - 1, 9, -9, 13], np.int32)
    j = np.array([2, 2, -2, -2, 3, 0, -1, 1, -1, 0, -3, 5], np.int32)

    def f(x, y, i, j):
        return (
            gnp.remainder(x, y), gnp.floor_divide(x, y), gnp.fmod(x, y), x % y, x // y, np.mod(x, y), *gnp.divmod(x, y),
            i % j, i // j, gnp.fmod(i, j), np.floor_divide(i, j), i % 3, 7 // j, -7 % j, gnp.mod(i.astype(np.int64), j),
            x.astype(np.float32) % 2.5, x.astype(np.float32) // y.astype(np.float32), i % 2.5, 10.0 % x, np.fmod(x, 1.5),
        )

    got = gradc.jit(f)(x, y, i, j)
    with np.errstate(all="ignore"):
        want = f(x, y, i, j)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"result {k}")
        if w.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(g), np.signbit(w), err_msg=f"sign of result {k}")


def test_modulo_derivatives_are_jaxs():
    """d(x mod y) = (1, -floor_divide(x, y)), d fmod = (1, -trunc(x / y)),
    floor_divide's is 0: first and second order against central
    differences at random points away from the jumps, and JAX's values at
    exact multiples."""
    rng = np.random.default_rng(16)
    y = rng.uniform(0.5, 3, 6) * rng.choice([-1, 1], 6)
    x = y * (rng.integers(-4, 4, 6) + rng.uniform(0.2, 0.8, 6))

    def f(x, y):
        return gnp.sum(gnp.sin(x % y) * gnp.fmod(x, y) + gnp.cos(y) * (x // y) + gnp.remainder(x * y, 2.5) ** 2)

    def fd(fn, v, h=1e-6):
        return np.array([(fn(v + h * e) - fn(v - h * e)) / (2 * h) for e in np.eye(len(v))])

    with np.errstate(all="ignore"):
        gx, gy = gradc.grad(f, argnums=(0, 1))(x, y)
        np.testing.assert_allclose(gx, fd(lambda v: f(v, y), x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gy, fd(lambda v: f(x, v), y), rtol=1e-6, atol=1e-7)
        grad_x = gradc.grad(lambda v: f(v, y))
        np.testing.assert_allclose(gradc.hessian(lambda v: f(v, y))(x), fd(grad_x, x, 1e-5), rtol=1e-5, atol=1e-6)
    multiples = np.array([3.0, -3.0, 2.0])
    assert_same(gradc.grad(lambda v: gnp.sum(gnp.remainder(6.0, v)))(multiples), -np.floor_divide(6.0, multiples))
    assert_same(gradc.grad(lambda v: gnp.sum(gnp.remainder(v, 3.0)))(np.array([6.0, -6.0, 0.0])), np.ones(3))
    assert_same(gradc.grad(lambda v: gnp.sum(v // 0.7))(x), np.zeros(6))


def test_bool_and_int_loop_carries_xs_and_ys():
    """fori_loop and scan with bool and int leaves in the carry, xs and ys
    (wrapping int sums), and the gradient of the float carry alongside, with
    each checkpointing schedule, against NumPy and central differences."""
    w = np.array([0.5, -1.0, 2.0])
    ks = np.array([3, -1, 2, 2**31 - 1, 0, 7], np.int32)

    def body(c, k):
        v, flag, n = c
        v2 = gnp.where(flag, gnp.tanh(v * k), v * 0.9)
        return (v2, v2[0] > 0, n + k), (v2 * k, flag, n)

    def f(w, ks):
        (v, flag, n), (ys, flags, ns) = gradc.scan(body, (w, w[1] > 0, np.zeros((), np.int32)), ks)
        again = gradc.fori_loop(0, 3, lambda i, c: (c[0] * 1.5, ~c[1], c[2] * 3), (v, flag, n))
        return gnp.sum(again[0]) + gnp.sum(ys) * flag.astype(np.float64) + gnp.sum(flags) + n + gnp.sum(ns) + again[2]

    def f_np(w, ks):
        v, flag, n = w, w[1] > 0, np.int32(0)
        ys, flags, ns = [], [], []
        for k in ks:
            v2 = np.where(flag, np.tanh(v * k), v * 0.9)
            ys.append(v2 * k), flags.append(flag), ns.append(n)
            v, flag, n = v2, v2[0] > 0, np.int32(n + k)
        v3, n3 = v, n
        for _ in range(3):
            v3, n3 = v3 * 1.5, np.int32(n3 * 3)
        return np.sum(v3) + np.sum(ys) * float(flag) + np.sum(flags) + n + np.sum(np.array(ns, np.int32)) + n3

    with np.errstate(over="ignore"):
        assert_same(gradc.jit(f)(w, ks), np.asarray(f_np(w, ks)))
    small = np.array([3, -1, 2, 5, 0, 7], np.int32)  # values whose differences are not swamped
    fd = np.array([(f_np(w + 1e-6 * e, small) - f_np(w - 1e-6 * e, small)) / 2e-6 for e in np.eye(3)])
    for checkpoint in (None, "every=2", "binomial(snapshots=2)"):
        grad = gradc.grad(f, checkpoint=checkpoint) if checkpoint else gradc.grad(f)
        np.testing.assert_allclose(grad(w, small), fd, rtol=1e-6, atol=1e-7, err_msg=str(checkpoint))
    np.testing.assert_allclose(gradc.jacfwd(f)(w, small), fd, rtol=1e-6, atol=1e-7)


def test_bitwise_ops_as_numpy():
    """&, |, ^, ~, <<, >> and their reflected forms, gnp's and NumPy's
    functions, on int32/int64 and bools: shift counts outside [0, width)
    (negative, = width, beyond) give NumPy's values, left shifts wrap."""
    a = np.array([5, -5, 1, -1, 2**30, -(2**31), 7, 12345], np.int32)
    b = np.array([1, 1, 31, 32, 40, -1, -3, 4], np.int32)
    k = np.array([2**62, -(2**63), 3, -1, 0, 12345678901, 7, -9], np.int64)
    s = np.array([1, 63, 64, -2, 5, 3, 0, 62], np.int64)
    p = np.array([True, False, True, False, True, True, False, False])
    q = np.array([True, True, False, False, True, False, True, False])

    def f(a, b, k, s, p, q):
        return (
            a & b, a | b, a ^ b, ~a, a << b, a >> b, gnp.left_shift(k, s), gnp.right_shift(k, s),
            np.bitwise_and(k, 255), k ^ -1, p & q, p | q, p ^ q, ~p, gnp.invert(k), 1 << b, a >> 2,
            (a > 0) & (b > 0), gnp.bitwise_not(p), np.right_shift(a, 3), 0xFF & a, 6 | a, 3 ^ k, gnp.bitwise_or(p, True),
            np.invert(a), np.left_shift(k, 1), -8 >> b,
        )

    check(f, a, b, k, s, p, q)
    with pytest.raises(TraceTypeError, match=r"operator <<: NumPy computes this in int8 for bool\[8\] and bool\[8\]"):
        gradc.jit(lambda p: p << p)(p)
    with pytest.raises(TraceTypeError, match=r"bitwise_and: NumPy does not compute bitwise_and of float64"):
        gradc.jit(lambda x: gnp.bitwise_and(x, 1))(np.ones(3))


def test_exported_c_is_right_standalone_under_ubsan(tmp_path):
    """export_c's integer code needs no flag (-fwrapv) to be right: built
    alone with -O2 and UBSan (any finding aborts), it gives NumPy's values
    at overflow, division by 0 and -1, out-of-range shifts and casts."""
    i = np.array([7, -7, 2**31 - 1, -(2**31)], np.int32)
    j = np.array([2, 0, -1, -1], np.int32)

    def f(i, j):
        return i * 3 + j, i // j, i % j, i << j, i >> 1, (i.astype(np.float32) * 1e10).astype(np.int32), -i

    source, _ = gradc.export_c(f, i, j, path_stem=tmp_path / "f")
    main = tmp_path / "main.c"
    main.write_text(
        '#include <stdio.h>\n#include <stdlib.h>\n#include "f.h"\n'
        "int main(void) {\n"
        "  int a[4] = {7, -7, 2147483647, -2147483647 - 1}, b[4] = {2, 0, -1, -1}, o[7][4];\n"
        "  void *work = malloc(f_work_size() + 64);\n"
        "  if (f(a, b, o[0], o[1], o[2], o[3], o[4], o[5], o[6], work) != 0) return 1;\n"
        "  for (int r = 0; r < 7; ++r) for (int k = 0; k < 4; ++k) printf(\"%d\\n\", o[r][k]);\n"
        "  free(work);\n  return 0;\n}\n"
    )
    program = tmp_path / "main"
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fsanitize=undefined", "-fno-sanitize-recover=all"]
    subprocess.run(["cc", *flags, str(main), str(source), "-lm", "-o", str(program)], check=True, capture_output=True)
    got = np.array(subprocess.run([str(program)], check=True, capture_output=True, text=True).stdout.split(), np.int64)
    with np.errstate(all="ignore"):
        want = [np.asarray(w, np.int64) for w in f(i, j)]
    want[5] = np.full(4, np.iinfo(np.int32).min)  # every product is out of range: gradc's (and x86 NumPy's) minimum
    np.testing.assert_array_equal(got, np.concatenate(want))


def test_creation_with_integer_dtypes():
    """zeros/ones/full/arange/asarray/array with integer dtypes meet traced
    arrays as NumPy's do; full and asarray of traced ints stay traced."""

    def f(i, x):
        return (
            i + gnp.arange(4, dtype=np.int32), i * gnp.ones(4, np.int64), gnp.zeros_like(i) + i, gnp.full(3, i[0]),
            gnp.full((2, 2), i[1], dtype=np.int64), gnp.asarray(x, dtype=np.int32), gnp.array(i, dtype=np.float32),
            gnp.asarray([i[0], i[2]]), gnp.full_like(i, 7) - i, x + gnp.arange(4), gnp.ones_like(i, dtype=np.int64),
        )

    check(f, I32[1], F32)
