"""The call path from Python into a built kernel (gradc.backend.callpath,
gradc.backend.runtime, gradc.transforms.api): the C entry and the generated
Python calls give the numbers the checked array path gives, with the same
argument errors; and the fast paths are really the ones taken (checked by
refusing the slow ones, never by timing)."""

from __future__ import annotations

import sys
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import gradc
from gradc.backend.build import build
from gradc.backend import callpath
from gradc.backend.runtime import CompiledFunction, is_scalar_signature
from gradc.errors import GradcError, TraceError
import gradc.numpy as gnp
from gradc.transforms.api import Compiled
from tests.conftest import run_in_threads

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
X, Y = 0.7, -1.3


pytestmark = pytest.mark.usefixtures("private_cache")

def f(x, y):
    return gnp.sin(x) * y + x * x


def the_build(jitted: gradc.transforms.api.JitFunction) -> Compiled:
    (compiled,) = set(jitted._cache.values())
    return compiled


def array_path(compiled: Compiled, *args: Any) -> list[np.ndarray]:
    """The checked array path (0-d arrays in, a list of 0-d arrays out)."""
    return compiled.function(*(np.asarray(a, d) for a, (_, d, _, _) in zip(args, compiled.function.inputs)))


def same(got: Any, want: np.ndarray) -> None:
    """`got` is a NumPy scalar with `want`'s dtype and bits."""
    assert type(got) is want.dtype.type, type(got)
    assert got.shape == () and got.dtype == want.dtype
    assert np.asarray(got).tobytes() == want.tobytes(), (got, want)


def recent_call(jitted: gradc.transforms.api.JitFunction) -> Any:
    """The call jitted's fast path makes for its (one) positional signature."""
    ((_, call),) = jitted._positional.values()
    return call


def is_c_entry(call: Any) -> bool:
    return type(call).__module__ == callpath.MODULE and type(call).__name__ == "Entry"


def refuse_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, anything but the recent call fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("left the fast path")

    monkeypatch.setattr(gradc.transforms.api.JitFunction, "_call_slow", refuse)
    monkeypatch.setattr(gradc.transforms.api.JitFunction, "_dispatch", refuse)


def test_the_c_entry_is_built_here() -> None:
    """CI machines have a compiler and NumPy's headers: the C entry must be
    in use (else every speed figure is the Python path's)."""
    assert callpath.available()
    assert gradc.transforms.api.JitFunction.__mro__[1] is callpath.module().Dispatcher


@pytest.fixture
def no_checked_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow, checked array path fails the test if anything takes it."""

    def refuse(self: CompiledFunction, args: Any) -> None:
        raise AssertionError(f"{self.name}: took the checked array path")

    monkeypatch.setattr(CompiledFunction, "_call_checked", refuse)


# ---------------------------------------------------------------------------
# Scalar functions: the same numbers as the array path, as NumPy scalars


POINTS = [(0.7, -1.3), (0.0, 2.5), (-3.25, 1e-300), (1e10, -0.0), (5e-324, 3.0)]


@pytest.mark.parametrize("x, y", POINTS)
def test_jit_of_python_floats_is_the_array_path_as_float64_scalars(x: float, y: float) -> None:
    jf = gradc.jit(f)
    got = jf(x, y)
    compiled = the_build(jf)
    assert compiled.path == "scalar"
    (want,) = array_path(compiled, x, y)
    same(got, want)
    same(jf(x, y), want)  # the generated call, second time round


@pytest.mark.parametrize("x, y", POINTS)
def test_grad_and_value_and_grad_match_the_array_path(x: float, y: float) -> None:
    g = gradc.grad(f, argnums=(0, 1))
    gx, gy = g(x, y)
    want = array_path(the_build(g), x, y)
    same(gx, want[0])
    same(gy, want[1])
    jg = gradc.jit(gradc.grad(f, argnums=(0, 1)))
    for got, w in zip(jg(x, y), want):
        same(got, w)
    vg = gradc.value_and_grad(f, argnums=(0, 1))
    value, (vx, vy) = vg(x, y)
    want = array_path(the_build(vg), x, y)
    same(value, want[0])
    same(vx, want[1])
    same(vy, want[2])


def test_float32_signatures_give_float32_scalars() -> None:
    x32, y32 = np.float32(0.3), np.float32(-2.0)
    for args in [(x32, y32), (np.array(x32), np.array(y32)), (x32, np.array(y32))]:
        jf = gradc.jit(f)
        value = jf(*args)
        (want,) = array_path(the_build(jf), *args)
        same(value, want)
        g = gradc.grad(f, argnums=(0, 1))
        grads = g(*args)
        for got, w in zip(grads, array_path(the_build(g), *args)):
            same(got, w)
        assert the_build(g).path == "scalar"


def test_mixed_float32_and_float64_outputs() -> None:
    def two(x, s):
        return x * 2.0, gnp.exp(s) + x.astype(gnp.float64)

    jf = gradc.jit(two)
    args = (np.float32(1.5), np.float64(0.25))
    a, b = jf(*args)
    want = array_path(the_build(jf), *args)
    same(a, want[0])
    same(b, want[1])
    assert a.dtype == F32 and b.dtype == F64


def test_results_come_back_in_any_structure() -> None:
    Pair = namedtuple("Pair", "lo hi")

    def structured(x, y):
        s = gnp.sin(x)
        return {"b": [s, (y, None)], "a": Pair(x * y, x + y), "c": ()}

    jf = gradc.jit(structured)
    for _ in range(2):  # compiling call, then the generated one
        out = jf(X, Y)
        assert list(out) == ["a", "b", "c"]
        assert isinstance(out["a"], Pair) and isinstance(out["b"], list) and out["c"] == ()
        assert out["b"][1][1] is None
        want = structured(np.float64(X), np.float64(Y))
        assert float(out["b"][0]) == float(want["b"][0])
        assert float(out["a"].lo) == X * Y and float(out["a"].hi) == X + Y
        assert type(out["b"][1][0]) is np.float64


def test_python_ints_and_numpy_scalars_give_the_same_numbers() -> None:
    jf = gradc.jit(f)
    a = jf(2.0, 3.0)
    for args in [(2, 3), (2.0, 3), (2.0, 3.0), (np.float64(2.0), np.float64(3.0)), (np.array(2.0), 3.0)]:
        b = jf(*args)
        same(b, np.asarray(a))
    # Python floats and Python ints (weak int64, NumPy 2's Python int) are
    # signatures of their own, whatever the value: (float, float), (int,
    # int), (float, int); NumPy scalars and 0-d arrays are float64[] inputs,
    # one more, and one for the mix. Ints go to C by value too.
    assert jf.cache_size == 5
    assert {compiled.path for compiled in jf._cache.values()} == {"scalar"}


def test_nan_results_go_through_the_array_path() -> None:
    jf = gradc.jit(lambda x: gnp.log(x))
    got = jf(-1.0)
    assert type(got) is np.float64 and np.isnan(got)
    same(jf(np.e), np.asarray(np.float64(1.0)))


# ---------------------------------------------------------------------------
# The fast paths are taken


def test_python_floats_take_the_c_entry(no_checked_path: None) -> None:
    jf = gradc.jit(f)
    jf(X, Y)  # compiles (its first call may check)
    assert is_c_entry(recent_call(jf))
    with pytest.MonkeyPatch.context() as patched:
        refuse_slow(patched)
        for k in range(5):
            same(jf(X + k, Y), np.asarray(np.sin(X + k) * Y + (X + k) ** 2))
    # NumPy scalars and 0-d arrays: a second build, also through the entry
    jf(np.float64(X), np.float64(Y))
    with pytest.MonkeyPatch.context() as patched:
        refuse_slow(patched)
        want = np.asarray(np.sin(X) * Y + X * X)
        same(jf(np.float64(X), np.array(Y)), want)
        same(jf(np.array(X), np.float64(Y)), want)


def test_grad_takes_the_c_entry(no_checked_path: None) -> None:
    want = (np.cos(Y) * X + 2 * Y, np.sin(Y))
    for g in (gradc.grad(f, argnums=(0, 1)), gradc.jit(gradc.grad(f, argnums=(0, 1))),
              gradc.value_and_grad(f, argnums=(0, 1))):
        g(X, Y)
        assert is_c_entry(recent_call(g))
        with pytest.MonkeyPatch.context() as patched:
            refuse_slow(patched)
            got = g(Y, X)
        if isinstance(got[1], tuple):  # value_and_grad
            value, got = got
            same(value, np.asarray(np.float64(np.sin(Y) * X + Y * Y)))
        for value, reference in zip(got, want):
            same(value, np.asarray(np.float64(reference)))


def test_arrays_take_the_c_entry(no_checked_path: None) -> None:
    jf = gradc.jit(lambda a, s: a * s + 1.0)
    a = np.arange(12.0).reshape(3, 4)
    jf(a, 2.0)
    assert the_build(jf).path == "array" and is_c_entry(recent_call(jf))
    with pytest.MonkeyPatch.context() as patched:
        refuse_slow(patched)
        np.testing.assert_array_equal(jf(a, 3.0), a * 3.0 + 1.0)


def test_the_fast_path_has_no_pytree_work(monkeypatch: pytest.MonkeyPatch) -> None:
    jf = gradc.jit(f)
    jf(X, Y)

    def refuse(*args: Any) -> None:
        raise AssertionError("flattened the arguments")

    monkeypatch.setattr(gradc.transforms.api.pytree, "flatten", refuse)
    monkeypatch.setattr(gradc.transforms.api.JitFunction, "_dispatch", refuse)
    jf(Y, X)


def _tree_fn(p, xs, scale):
    (a, b), c = xs
    return {"y": p["w"] * a + p["b"] * b[0] - c * scale, "n": gnp.sum(p["w"])}


def _tree_reference(p, xs, scale):
    (a, b), c = xs
    return {"y": p["w"] * a + p["b"] * b[0] - c * scale, "n": np.sum(p["w"])}


def test_containers_take_a_generated_call_without_flattening(monkeypatch: pytest.MonkeyPatch) -> None:
    jf = gradc.jit(_tree_fn)
    rng = np.random.default_rng(5)
    p = {"w": rng.standard_normal(3), "b": rng.standard_normal(3)}
    xs = ((rng.standard_normal(3), [rng.standard_normal(3)]), rng.standard_normal(3))
    jf(p, xs, 2.0)

    def refuse(*args: Any) -> None:
        raise AssertionError("flattened the arguments")

    with monkeypatch.context() as patched:
        patched.setattr(gradc.transforms.api.pytree, "flatten", refuse)
        patched.setattr(gradc.transforms.api.JitFunction, "_dispatch", refuse)
        for scale in (2.0, -0.5):
            p2 = {"b": p["w"] * 2, "w": p["b"]}  # another insertion order: the same tree
            got, want = jf(p2, xs, scale), _tree_reference(p2, xs, scale)
            assert set(got) == {"y", "n"}
            np.testing.assert_allclose(got["y"], want["y"], rtol=1e-15)
            np.testing.assert_allclose(got["n"], want["n"], rtol=1e-15)
    assert jf.cache_size == 1


@pytest.mark.parametrize(
    "change",
    ["leaf shape", "leaf dtype", "extra key", "other key", "list for tuple", "shorter list", "array for dict"],
)
def test_a_different_tree_leaves_the_generated_call(change: str) -> None:
    """After the generated tree call is in place, any difference in the
    arguments (down to one leaf) compiles or refuses exactly as the first
    call would: never a wrong number."""
    jf = gradc.jit(lambda p, xs: p["w"] * xs[0] + xs[1])
    p, xs = {"w": np.ones(3)}, (np.arange(3.0), np.full(3, 0.5))
    np.testing.assert_array_equal(jf(p, xs), np.arange(3.0) + 0.5)
    if change == "leaf shape":
        p2, xs2 = {"w": np.ones(4)}, (np.arange(4.0), np.full(4, 0.5))
    elif change == "leaf dtype":
        p2, xs2 = {"w": np.ones(3, np.float32)}, (np.arange(3.0, dtype=np.float32), np.full(3, 0.5, np.float32))
    elif change == "extra key":
        p2, xs2 = {"w": np.ones(3), "v": np.ones(3)}, xs
    elif change == "list for tuple":
        p2, xs2 = p, list(xs)
    elif change == "array for dict":  # traced again: the function itself refuses
        with pytest.raises(GradcError, match="unsupported index 'w'"):
            jf(np.ones(3), xs)
        return
    elif change == "other key":
        with pytest.raises(KeyError):  # raised by the function, as NumPy would
            jf({"v": np.ones(3)}, xs)
        return
    else:
        with pytest.raises(IndexError):
            jf(p, xs[:1])
        return
    np.testing.assert_array_equal(jf(p2, xs2), p2["w"] * xs2[0] + xs2[1])
    np.testing.assert_array_equal(jf(p, xs), np.arange(3.0) + 0.5)  # the first build again
    assert jf.cache_size == 2


def test_named_tuples_and_none_keep_the_flattening_call() -> None:
    Pair = namedtuple("Pair", "a b")
    jf = gradc.jit(lambda pair, nothing: pair.a - pair.b)
    for k in range(3):
        np.testing.assert_array_equal(jf(Pair(np.full(2, k + 1.0), np.ones(2)), None), np.full(2, float(k)))


def test_jit_of_a_transformed_function_keeps_its_own_state() -> None:
    g = gradc.grad(f, argnums=(0, 1))
    jg = gradc.jit(g, cflags=["-O1"])
    assert jg.cflags == ("-O1",) and g.cflags is None
    assert jg.fn is g and jg.__name__ == g.__name__
    for got, want in zip(jg(X, Y), g(X, Y)):
        same(got, np.asarray(want))
    assert jg._cache is not g._cache and jg.cache_size == 1 and g.cache_size == 1


def test_switching_signatures_gives_each_its_build() -> None:
    jf = gradc.jit(lambda a, b: a * b + a)
    a2, a3 = np.arange(4.0).reshape(2, 2), np.arange(9.0).reshape(3, 3)
    a2f = a2.astype(np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(jf(a2, a2), a2 * a2 + a2)
        np.testing.assert_array_equal(jf(a3, 2.0), a3 * 2.0 + a3)
        out = jf(a2f, a2f)
        assert out.dtype == F32
        np.testing.assert_array_equal(out, a2f * a2f + a2f)
        same(jf(2.0, 3.0), np.asarray(8.0))
        same(jf(np.float32(2.0), np.float32(3.0)), np.asarray(np.float32(8.0)))
    assert jf.cache_size == 5


def test_a_different_number_of_arguments() -> None:
    jf = gradc.jit(lambda *xs: sum(xs[1:], xs[0]))
    assert float(jf(1.0)) == 1.0
    assert float(jf(1.0, 2.0)) == 3.0
    assert float(jf(1.0, 2.0, 3.0)) == 6.0
    assert float(jf(1.0, 2.0)) == 3.0


# ---------------------------------------------------------------------------
# Arguments and errors


def test_strided_views_are_copied_for_jit_and_refused_by_compiled_function() -> None:
    jf = gradc.jit(lambda a, b: a * b + a)
    a = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(jf(a, a), a * a + a)
    np.testing.assert_array_equal(jf(a.T, a), a.T * a + a.T)  # same signature, not contiguous
    np.testing.assert_array_equal(jf(a, a[::-1]), a * a[::-1] + a)
    with pytest.raises(ValueError, match="C-contiguous"):
        the_build(jf).function(a.T, a)


def test_compiled_function_keeps_its_argument_errors() -> None:
    jf = gradc.jit(f)
    jf(X, Y)
    function = the_build(jf).function
    assert function.scalar
    assert [float(r) for r in function(X, Y)] == [float(jf(X, Y))]
    assert type(function(X, Y)[0]) is np.ndarray  # the low-level call keeps 0-d arrays
    with pytest.raises(TypeError, match=r"expected 2 arguments, got 1"):
        function(X)
    with pytest.raises(TypeError, match=r"argument 0: expected float64\[\], got complex128\[\]"):
        function(1 + 2j, Y)
    with pytest.raises(TypeError, match=r"argument 1: expected float64\[\], got <U3\[\]"):
        function(X, "1.0")
    with pytest.raises(ValueError, match=r"argument 0: expected float64\[\], got float64\[2\]"):
        function(np.zeros(2), Y)
    # Through the generated calls, too (mismatch goes to the same checks).
    with pytest.raises(TypeError, match=r"argument 1: expected a NumPy array float64\[\], got list"):
        function.caller()(np.float64(X), [1.0])


def test_lowered_compile_rejects_other_signatures() -> None:
    call = gradc.lower(f, X, Y).compile()
    same(call(X, Y), np.asarray(np.float64(np.sin(X) * Y + X * X)))
    with pytest.raises(GradcError, match="was compiled for arguments"):
        call(np.zeros(2), Y)


def here() -> int:
    return sys._getframe(1).f_lineno


def test_errors_of_a_new_signature_after_fast_calls_are_located() -> None:
    @gradc.jit
    def g(a):
        return a @ a  # line of the error

    line = here() - 2
    g(np.ones((2, 2)))
    g(np.ones((2, 2)))
    with pytest.raises(TraceError) as info:
        g(np.ones((2, 3)))  # a new signature: mismatch, then tracing fails
    assert info.value.location == f"{__file__}:{line}"
    files = [str(entry.path) for entry in info.traceback]
    assert files == [__file__, gradc.transforms.api.__file__, __file__]


# ---------------------------------------------------------------------------
# The C entry itself, on kernels written here


KERNEL = """
#include <stddef.h>
int {name}(const double *restrict in0, const float *restrict in1, {outs}void *restrict work) {{
    (void)work;
    {body}
    return in0[0] < 0 ? 7 : 0;
}}
size_t {name}_work_size(void) {{ return 0; }}
"""


def hand_built(name: str, outputs: list[np.dtype], work_size: int | None = None) -> CompiledFunction:
    """A kernel written here: out_k = in0 + k * in1, status 7 when in0 < 0."""
    ctype = {F64: "double", F32: "float"}
    outs = "".join(f"{ctype[d]} *restrict out{k}, " for k, d in enumerate(outputs))
    body = " ".join(f"out{k}[0] = ({ctype[d]})(in0[0] + {k} * in1[0]);" for k, d in enumerate(outputs))
    source = KERNEL.format(name=name, outs=outs, body=body)
    header = source.split("{")[0].strip() + ";\nsize_t " + name + "_work_size(void);\n"
    inputs = [((), F64), ((), F32)]
    specs = [((), d) for d in outputs]
    module = build(source, header, [name])
    return CompiledFunction(module, name, inputs, specs, work_size)


@pytest.mark.parametrize("python", [False, True], ids=["c", "python"])
@pytest.mark.parametrize("outputs", [[F64], [F32], [F64, F32, F64]])
def test_a_nonzero_status_raises_on_every_path(outputs: list[np.dtype], python: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if python:
        monkeypatch.setattr(callpath, "available", lambda: False)
    name = "status_" + "_".join(d.name for d in outputs)
    function = hand_built(name, outputs)
    call = function.caller()
    assert is_c_entry(call) is not python
    got = call(np.float64(1.5), np.float32(2.0))
    assert type(got) is list and len(got) == len(outputs)
    for k, (value, dtype) in enumerate(zip(got, outputs)):
        assert type(value) is dtype.type and value == dtype.type(1.5 + 2.0 * k)
    for f_ in (call, function):
        with pytest.raises(RuntimeError, match=f"{name}: the C function returned error code 7"):
            f_(np.float64(-1.0), np.float32(2.0))


def test_the_c_entry_with_a_workspace_runs_from_threads() -> None:
    function = hand_built("locked_scalar", [F64, F64], work_size=64)
    call = function.caller(lambda outs: f"({', '.join(outs)},)")
    assert is_c_entry(call) and function._lock is not None
    assert call(np.float64(1.0), np.float32(0.5)) == (1.0, 1.5)

    def hammer(k: int) -> None:
        for j in range(300):
            a, b = call(np.float64(k), np.float32(j))
            assert (a, b) == (k, k + j)

    run_in_threads(hammer)


def test_scalar_signatures() -> None:
    assert not is_scalar_signature([((2,), F64)], [((), F64)])
    assert not is_scalar_signature([((), F64)], [((), np.dtype(np.int32))])  # int results: arrays
    assert is_scalar_signature([((), np.dtype(np.int64))], [((), F64)])  # a Python int argument
    assert not is_scalar_signature([((), F64)], [])
    assert is_scalar_signature([], [((), F32)])  # constants are fine


def _arrays_fn(a, b, s):
    return {"sum": a * s + b, "dot": gnp.sum(a * b), "n": a.astype(gnp.int32)}


def _arrays_reference(a, b, s):
    return {"sum": a * s + b, "dot": np.sum(a * b), "n": a.astype(np.int32)}


@pytest.mark.parametrize("python", [False, True], ids=["c", "python"])
def test_both_call_paths_agree_with_numpy_on_every_kind_of_argument(python: bool,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Contiguous, read-only, Fortran-order, misaligned, subclassed and
    wrongly typed arguments, through the C entry and through the Python
    path: the same numbers as NumPy, or the same errors."""
    if python:
        monkeypatch.setattr(callpath, "available", lambda: False)
    jf = gradc.jit(_arrays_fn)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def check(*args: Any) -> None:
        got, want = jf(*args), _arrays_reference(*args)  # Python numbers are weak in both
        assert set(got) == set(want)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-15)
            assert np.asarray(got[key]).dtype == want[key].dtype

    check(a, b, 2.0)
    assert is_c_entry(recent_call(jf)) is not python
    readonly = a.copy()
    readonly.flags.writeable = False
    check(readonly, b, -1.5)
    check(np.asfortranarray(a), b, 0.5)  # same signature, not contiguous: copied
    raw = np.zeros(a.size * 8 + 1, np.uint8)
    misaligned = np.frombuffer(raw.data, np.float64, a.size, offset=1).reshape(a.shape)
    misaligned[...] = a
    assert not misaligned.flags.aligned
    check(misaligned, b, 3.0)

    class Sub(np.ndarray):
        pass

    check(a.view(Sub), b, 3.0)
    check(a, b, np.float64(0.25))
    check(a, b, 4)  # a Python int where a float was: another build
    check(a.astype(np.float32), b.astype(np.float32), 2.0)
    with pytest.raises(GradcError):
        jf(a, b[:2], 2.0)
    # the fast path still works after all that, and counts no leaked reference
    check(a, b, 2.0)
    before = sys.getrefcount(a), sys.getrefcount(b)
    for _ in range(100):
        out = jf(a, b, 2.0)
    assert (sys.getrefcount(a), sys.getrefcount(b)) == before
    assert sys.getrefcount(out["sum"]) == 3  # the dict's, `out["sum"]`'s... and getrefcount's argument


def test_many_arguments_and_outputs() -> None:
    """Past MAX_RECENT positional arguments (the generic dispatch) and past
    MAX_POINTERS arrays (the Python path), calls still give NumPy's numbers."""
    n = callpath.MAX_POINTERS // 2 + 1
    xs = [np.full(2, float(k)) for k in range(n)]
    jf = gradc.jit(lambda *xs: [x * 2.0 for x in xs])
    got = jf(*xs)
    assert not is_c_entry(recent_call(jf))  # 2n pointers: more than the C entry takes
    for _ in range(2):
        got = jf(*xs)
        for x, y in zip(xs, got):
            np.testing.assert_array_equal(y, x * 2.0)
    few = xs[: callpath.MAX_RECENT + 2]
    jg = gradc.jit(lambda *xs: sum(xs[1:], xs[0]))
    for _ in range(3):
        np.testing.assert_array_equal(jg(*few), sum(few[1:], few[0]))
    assert is_c_entry(recent_call(jg))


def test_keywords_and_other_counts_leave_the_entry() -> None:
    jf = gradc.jit(lambda x, y=1.0: x * y)
    a = np.arange(3.0)
    np.testing.assert_array_equal(jf(a, 2.0), a * 2.0)
    np.testing.assert_array_equal(jf(a, y=3.0), a * 3.0)
    np.testing.assert_array_equal(jf(a), a)
    np.testing.assert_array_equal(jf(a, 2.0), a * 2.0)


def test_scalar_functions_run_from_threads() -> None:
    jf = gradc.jit(gradc.grad(f, argnums=(0, 1)))
    want = [tuple(float(v) for v in jf(float(k), 0.5)) for k in range(8)]

    def hammer(_: int) -> None:
        for _ in range(200):
            for k in range(8):
                assert tuple(float(v) for v in jf(float(k), 0.5)) == want[k]

    run_in_threads(hammer)


def test_jitted_functions_and_their_builds_are_collected() -> None:
    """A jitted function, its C entries and its builds form reference cycles
    (an entry's mismatch call is the function's method): the C types take
    part in garbage collection, so all of it goes once unreachable."""
    import gc
    import weakref

    def make() -> tuple[weakref.ref, weakref.ref]:
        jf = gradc.jit(lambda x: x * 2.0)
        jf(np.ones(3))
        np.testing.assert_array_equal(jf(np.ones(3)), np.full(3, 2.0))
        return weakref.ref(jf), weakref.ref(the_build(jf).function)

    refs = [make() for _ in range(3)]
    gc.collect()
    assert all(a() is None and b() is None for a, b in refs)
