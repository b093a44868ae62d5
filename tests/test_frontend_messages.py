"""Messages about what gradc.numpy lacks or cannot trace: each names what
exists instead, and is a GradcError located at the user's line.

(Argument names and integer arguments: tests/test_frontend.py; the
compositions the messages suggest run against NumPy in
tests/test_numpy_compositions.py.)
"""

from __future__ import annotations

import math
import re
import sys

import numpy as np
import pytest

import gradc
from gradc.errors import GradcError, TraceAttributeError, TraceIndexError, TraceTypeError
import gradc.numpy as gnp

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
X4 = np.array([0.5, -1.0, 2.0, 1.5])


def here() -> int:
    return sys._getframe(1).f_lineno


def raised(error: type, fn, *args, line: int):
    """The `error` that jit-compiling `fn` on `args` raises, checked to be a
    GradcError located at this file's `line`."""
    with pytest.raises(error) as info:
        gradc.jit(fn)(*args)
    assert isinstance(info.value, GradcError)
    assert info.value.location == f"{__file__}:{line}", info.value.location
    return str(info.value)


# ---------------------------------------------------------------------------
# NumPy functions gradc.numpy lacks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda x: np.fabs(x), ["numpy.fabs", "gnp.abs(x)"]),
        (lambda x: np.count_nonzero(x), ["numpy.count_nonzero", "gnp.sum(gnp.where(x != 0, 1.0, 0.0))"]),
        (lambda x: np.copy(x), ["numpy.copy", "a copy is the array itself"]),
    ],
    ids=["fabs", "count_nonzero", "copy"],
)
def test_missing_numpy_function_names_the_composition(call, words):
    message = raised(TraceTypeError, call, X, line=call.__code__.co_firstlineno)
    for word in words:
        assert word in message, (word, message)
    assert "use the gradc.numpy functions" not in message


ISSUE_NAMES = {  # the functions the issue found pointing to nothing
    "svd": lambda x: np.linalg.svd(x),
    "argsort": lambda x: np.argsort(x),
    "cbrt": lambda x: np.cbrt(x),
    "sort": lambda x: np.sort(x),
}


@pytest.mark.parametrize("name", [*ISSUE_NAMES, "erfc"])
def test_no_message_points_to_a_function_that_does_not_exist(name):
    """Through NumPy and as gnp.<name> alike: gradc.numpy has no <name> yet,
    then a composition or why there is none; never 'use the gradc.numpy
    functions' alone."""
    messages = []
    if name in ISSUE_NAMES:
        call = ISSUE_NAMES[name]
        messages.append(raised(TraceTypeError, call, X, line=call.__code__.co_firstlineno))
    with pytest.raises(TraceAttributeError) as info:
        getattr(gnp, name)
    messages.append(str(info.value))
    for message in messages:
        assert re.search(rf"gradc.numpy has no {name} yet(; write it as |: )", message), message


def test_missing_numpy_function_without_a_composition_says_so():
    message = raised(TraceTypeError, lambda x: np.linalg.svd(x), X, line=here())
    assert "numpy.linalg.svd is not supported on traced arrays: gradc.numpy has no svd yet" in message
    assert "no composition of gradc.numpy functions" in message and "Python loops" in message
    message = raised(TraceTypeError, lambda x: np.argsort(x), X, line=here())
    assert "gradc.numpy has no argsort yet: no composition of gradc.numpy functions sorts" in message
    message = raised(TraceTypeError, lambda x: np.modf(x), X, line=here())
    assert "gradc.numpy has no modf yet" in message and "gnp.fmod(x, 1.0)" in message
    message = raised(TraceAttributeError, lambda x: gnp.erfc(x), X, line=here())
    assert "gradc.numpy has no erfc yet: it is gradc.scipy.special.erfc" in message


def test_numpy_ufunc_methods_and_keywords():
    message = raised(TraceTypeError, lambda x: np.add.reduce(x), X, line=here())
    assert "numpy.add.reduce is not supported on traced arrays; call gnp.sum(x, axis=0)" in message
    message = raised(TraceTypeError, lambda x: np.add.accumulate(x), X, line=here())
    assert "numpy.add.accumulate is not supported on traced arrays; call gnp.cumsum(x, axis=0)" in message
    message = raised(TraceTypeError, lambda x: np.exp(x, out=np.empty_like(X)), X, line=here())
    assert "numpy.exp with out= is not supported" in message and "call it without" in message


def test_gnp_missing_name_is_a_located_attribute_error():
    with pytest.raises(TraceAttributeError) as info:
        gnp.fabs  # noqa: B018
    line = here() - 1
    assert isinstance(info.value, AttributeError) and isinstance(info.value, GradcError)
    assert info.value.location == f"{__file__}:{line}"
    assert "gnp.fabs: gradc.numpy has no fabs yet; write it as gnp.abs(x)" in str(info.value)
    assert not hasattr(gnp, "fabs") and hasattr(gnp, "sum")
    with pytest.raises(TraceAttributeError, match=r"gnp.smu: gradc.numpy has no attribute 'smu', nor does NumPy; did you mean gnp.sum\?"):
        gnp.smu  # noqa: B018
    with pytest.raises(TraceAttributeError, match=r"gnp.uint8: .*gradc's integer arrays are int32 and int64"):
        gnp.uint8  # noqa: B018
    with pytest.raises(TraceAttributeError, match=r"gnp.meshgrid: .*create it with NumPy itself \(np.meshgrid"):
        gnp.meshgrid  # noqa: B018
    with pytest.raises(TraceAttributeError, match=r"gnp.random: .*draw them with NumPy outside the function"):
        gnp.random  # noqa: B018
    with pytest.raises(AttributeError) as private:
        gnp._nothing  # noqa: B018
    assert not isinstance(private.value, GradcError)  # Python's own probes stay cheap and plain


def test_missing_method_of_a_traced_array():
    message = raised(TraceAttributeError, lambda x: x.argsort(), X, line=here())
    assert "x.argsort(): traced arrays have no method argsort, and gradc.numpy has no argsort yet" in message
    message = raised(TraceAttributeError, lambda x: x.nonzero(), X, line=here())
    assert "its result's shape depends on the values" in message
    message = raised(TraceAttributeError, lambda x: x.nbytes, X, line=here())
    assert "traced arrays have no attribute nbytes (x.shape, x.dtype" in message
    message = raised(TraceAttributeError, lambda x: x.shapee, X, line=here())
    assert "no attribute 'shapee', nor do NumPy arrays" in message
    seen = []
    gradc.jit(lambda x: seen.append((hasattr(x, "argsort"), hasattr(x, "sum"))) or x)(X)
    assert seen == [(False, True)]


def test_max_and_min_of_bools_are_any_and_all():
    message = raised(TraceTypeError, lambda x: gnp.max(x > 0, axis=1), X, line=here())
    assert "max of a bool array is NumPy's any: call gnp.any" in message
    message = raised(TraceTypeError, lambda x: gnp.min(x > 0), X, line=here())
    assert "min of a bool array is NumPy's all" in message


def test_rounding_builtins():
    message = raised(TraceTypeError, lambda x: round(x[0, 0]), X, line=here())
    assert "round() of a traced array: it gives a Python int" in message and "gnp.round(x)" in message
    message = raised(TraceTypeError, lambda x: math.floor(x[0, 0]), X, line=here())
    assert "math.floor of a traced array: it gives a Python int" in message and "gnp.floor(x)" in message


# ---------------------------------------------------------------------------
# Conversions and indices: no value while tracing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, what",
    [
        (lambda x: np.int64(x[0, 0]), "conversion to a NumPy array or scalar"),
        (lambda x: np.float64(x[0, 0]), "conversion to a NumPy array or scalar"),
        (lambda x: float(x[0, 0]), "float()"),
        (lambda x: int(x[0, 0]), "int()"),
        (lambda x: x[0, 0].item(), ".item()"),
        (lambda x: f"{x[0, 0]:.3f}", "formatting with '.3f'"),
    ],
    ids=["np.int64", "np.float64", "float", "int", "item", "format"],
)
def test_conversions_have_their_own_message(call, what):
    message = raised(TraceTypeError, call, X, line=call.__code__.co_firstlineno)
    assert what in message and "cannot become a Python or NumPy value" in message
    assert "control flow" not in message


def test_truth_tests_are_control_flow():
    message = raised(TraceTypeError, lambda x: x if x[0, 0] > 0 else -x, X, line=here())
    assert "a truth test" in message and "Python control flow on traced values cannot be compiled" in message


def test_fori_loop_index_as_an_index_suggests_scan():
    xs = np.arange(12.0).reshape(4, 3)
    # A traced array indexed with it is a dynamic slice (tests/test_indexing_advanced.py);
    # a NumPy array indexed with it, or the index as a size, cannot be.
    message = raised(TraceTypeError, lambda x: gradc.fori_loop(0, 4, lambda i, c: c + xs[i], x[0]), X, line=here())
    assert "the index of fori_loop" in message and "gnp.asarray(xs)[i]" in message and "scan over xs instead" in message
    assert "gradc.scan(lambda carry, x: (new_carry, y), init, xs)" in message
    message = raised(TraceTypeError, lambda x: gradc.fori_loop(0, 4, lambda i, c: c + len(range(i)), x[0]), X, line=here())
    assert "index or a size" in message and "the index of fori_loop" in message
    # What the message suggests gives the loop's values.
    scanned = gradc.jit(lambda c, xs: gradc.scan(lambda c, x: (c + x, None), c, xs)[0])(X[0], xs)
    np.testing.assert_allclose(scanned, X[0] + xs.sum(axis=0))


def test_other_traced_indices():
    message = raised(TraceIndexError, lambda x: x[x[0, 0] > 0], X, line=here())
    assert "a traced bool array () as a mask" in message and "gnp.where" in message
    message = raised(TraceIndexError, lambda x: x[1][x[0, 0]], X, line=here())
    assert "a traced float64 scalar as an index, not computed from the index of a fori_loop" in message
    message = raised(TraceIndexError, lambda x: x[: x[0, 0]], X, line=here())
    assert "as a slice bound" in message


# ---------------------------------------------------------------------------
# Lists and tuples of traced arrays are array-likes, as in NumPy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.mean([x, x + 2]),
        lambda m, x: m.mean([x, x + 2], axis=0),
        lambda m, x: m.sum((x, x * 3)),
        lambda m, x: m.asarray([x[0, 0], x[1, 2], 2.0]),
        lambda m, x: x + m.asarray([x[0], x[1] * 2]) if m is np else x + [x[0], x[1] * 2],
        lambda m, x: m.add(x[0], [x[0], x[1]]),
        lambda m, x: m.max([[x[0, 0], x[0, 1]], [x[1, 2], 1.0]], axis=1),
        lambda m, x: m.where([x[0, 0] > 0, x[1, 0] > 0], [x[0, 0], x[1, 0]], 0.0),
        lambda m, x: m.exp((x[0], x[1])),
        lambda m, x: m.reshape([x, x], (3, 4)),
        lambda m, x: m.concatenate([[x[0, 0], x[0, 1]], x[1]]),
        lambda m, x: m.matmul([x[0], x[1]], x.T),
        lambda m, x: m.zeros_like([x, x]) + x,
    ],
    ids=["mean", "mean_axis", "sum_tuple", "asarray", "operator", "ufunc", "nested", "where", "exp", "reshape", "concatenate", "matmul", "zeros_like"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lists_of_traced_arrays_are_array_likes(call, dtype):
    x = X.astype(dtype)
    got = gradc.jit(lambda x: call(gnp, x))(x)
    want = call(np, x)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_gradient_through_a_list_of_traced_arrays():
    g = gradc.grad(lambda x: gnp.mean([x, x * x]))(X)
    np.testing.assert_allclose(g, (1 + 2 * X) / (2 * X.size), rtol=1e-12)


def test_numpy_function_on_a_list_of_traced_arrays_points_to_gnp():
    message = raised(TraceTypeError, lambda x: np.mean([x, x + 2]), X, line=here())
    assert "a NumPy function given a list that holds it" in message and "gnp.mean([a, b])" in message


def test_gnp_names_are_the_frontend_modules_public_names():
    # Messages about NumPy functions on traced arrays ("call gnp.<name>")
    # ask gradc.frontend.array_methods what gnp has; gnp.__all__ must agree.
    from gradc.frontend.array_methods import _GNP_NAMES

    assert sorted(gnp.__all__) == sorted(_GNP_NAMES)
    assert all(hasattr(gnp, name) for name in gnp.__all__)


# ---------------------------------------------------------------------------
# Complex numbers and FFTs: out of scope, said so at the user's line
# ---------------------------------------------------------------------------

COMPLEX_WORDS = "complex numbers are not supported by gradc"


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda x: 1j * x, ["operator *", "Python complex operand (1j)"]),
        (lambda x: x + np.array([1j, 2.0, 3.0, 4.0]), ["operator +", "complex128 array operand"]),
        (lambda x: gnp.add(x, np.complex64(2)), ["add:", "complex64 array operand"]),
        (lambda x: x.astype(np.complex64), ["astype: dtype complex64"]),
        (lambda x: np.fft.fft(x), ["numpy.fft.fft is not supported on traced arrays", "no fft"]),
        (lambda x: np.fft.rfft(x), ["numpy.fft.rfft is not supported on traced arrays"]),
        (lambda x: gnp.fft.fft(x), ["gnp.fft: gradc.numpy has no fft"]),
        (lambda x: gnp.zeros(3, np.complex128) + x, ["complex128"]),
    ],
    ids=["python_complex", "complex_constant", "numpy_complex_scalar", "astype", "np_fft", "np_rfft", "gnp_fft",
         "complex_creation"],
)
def test_complex_numbers_and_ffts_are_refused_at_the_users_line(call, words):
    message = raised(GradcError, call, X4, line=call.__code__.co_firstlineno)
    assert COMPLEX_WORDS in message, message
    for word in words:
        assert word in message, (word, message)


def test_complex_arguments_are_refused_naming_the_argument():
    with pytest.raises(TraceTypeError) as info:
        gradc.jit(lambda x, z: x)(X4, np.ones(2, np.complex64))
    assert "argument z is a complex64 array (shape (2,))" in str(info.value) and COMPLEX_WORDS in str(info.value)
    with pytest.raises(TraceTypeError) as info:
        gradc.jit(lambda x, z: x)(X4, 2 + 1j)
    assert "argument z: a Python complex ((2+1j))" in str(info.value) and COMPLEX_WORDS in str(info.value)
    with pytest.raises(TraceTypeError) as info:
        gradc.jit(lambda x: (x, 2j))(X4)
    assert "output[1] is a constant complex128 array" in str(info.value) and COMPLEX_WORDS in str(info.value)


def test_complex_functions_on_real_arrays_are_numpys():
    """real, conj, conjugate (and .real, .conj()) are the array itself, imag
    zeros of its dtype, angle arctan2(0, x) (pi at -0.0), iscomplexobj
    False: NumPy's values, float32 kept; the derivative of real is 1, of
    imag and angle 0 away from 0."""
    x = np.array([-0.0, 0.0, -1.5, 2.0, np.nan, -np.inf], np.float32)

    def f(x):
        return (gnp.real(x), gnp.imag(x), gnp.conj(x), gnp.conjugate(x), np.conjugate(x), np.real(x), np.imag(x),
                x.real, x.imag, x.conj(), x.conjugate(), gnp.angle(x), np.angle(x, deg=True), gnp.iscomplex(x),
                np.isreal(x), np.float32(gnp.iscomplexobj(x)), np.float32(np.isrealobj(x)))

    with np.errstate(invalid="ignore"):
        got = gradc.jit(f)(x)
        want = (np.real(x), np.imag(x), np.conj(x), np.conjugate(x), np.conjugate(x), np.real(x), np.imag(x),
                x.real, x.imag, x.conj(), x.conjugate(), np.angle(x), np.angle(x, deg=True), np.iscomplex(x),
                np.isreal(x), np.float32(np.iscomplexobj(x)), np.float32(np.isrealobj(x)))
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype, (g, w)
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
    y = np.array([-2.0, 0.5, 3.0])
    grad = gradc.jit(gradc.grad(lambda v: gnp.sum(gnp.real(v) * 3.0 + gnp.imag(v) + gnp.angle(v))))(y)
    np.testing.assert_array_equal(grad, [3.0, 3.0, 3.0])
