"""The call path from Python into a built kernel (gradc.backend.runtime, gradc.transforms.api):
the by-value scalar entry and the generated array calls give the numbers the
checked array path gives, with the same argument errors; and the fast paths
are really the ones taken (checked by counting calls into C, never by
timing)."""

from __future__ import annotations

import sys
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import gradc
from gradc.backend.build import build
from gradc.backend.runtime import SCALAR_SUFFIX, CompiledFunction, scalar_binding
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


class Counting:
    """Wraps a C entry and counts its calls."""

    def __init__(self, entry: Any):
        self.entry, self.calls = entry, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.entry(*args)


def count_entry(call: Any, name: str = "entry") -> Counting:
    """Count the calls a generated call makes into C (`entry`: by value,
    `fn`: the kernel on buffers)."""
    counter = Counting(call.__globals__[name])
    call.__globals__[name] = counter
    return counter


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


def test_python_floats_call_the_scalar_entry_directly(no_checked_path: None) -> None:
    jf = gradc.jit(f)
    jf(X, Y)  # compiles (its first call may check)
    call = jf._recent[2]
    counter = count_entry(call)
    for k in range(5):
        jf(X + k, Y)
    assert counter.calls == 5
    # NumPy scalars and 0-d arrays: a second build, also by value
    jf(np.float64(X), np.float64(Y))
    counter = count_entry(jf._recent[2])
    jf(np.float64(X), np.array(Y))
    jf(np.array(X), np.float64(Y))
    assert counter.calls == 2


def test_grad_takes_the_scalar_entry(no_checked_path: None) -> None:
    for g in (gradc.grad(f, argnums=(0, 1)), gradc.jit(gradc.grad(f, argnums=(0, 1))),
              gradc.value_and_grad(f, argnums=(0, 1))):
        g(X, Y)
        counter = count_entry(g._recent[2])
        g(Y, X)
        assert counter.calls == 1


def test_arrays_take_the_generated_array_call(no_checked_path: None) -> None:
    jf = gradc.jit(lambda a, s: a * s + 1.0)
    a = np.arange(12.0).reshape(3, 4)
    jf(a, 2.0)
    assert the_build(jf).path == "array"
    counter = count_entry(jf._recent[2], "fn")
    np.testing.assert_array_equal(jf(a, 3.0), a * 3.0 + 1.0)
    assert counter.calls == 1


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
    assert function.scalar_entry is not None
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
# The scalar entry itself


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
    binding = scalar_binding(name, inputs, specs)
    assert binding is not None and SCALAR_SUFFIX in binding[0]
    module = build(source, header, [name], binding=binding)
    return CompiledFunction(module, name, inputs, specs, work_size)


@pytest.mark.parametrize("outputs", [[F64], [F32], [F64, F32, F64]])
def test_a_nonzero_status_raises_on_every_path(outputs: list[np.dtype]) -> None:
    name = "status_" + "_".join(d.name for d in outputs)
    function = hand_built(name, outputs)
    call = function.caller()  # by value
    got = call(np.float64(1.5), np.float32(2.0))
    got = got if isinstance(got, list) else [got]
    for k, (value, dtype) in enumerate(zip(got, outputs)):
        assert type(value) is dtype.type and value == dtype.type(1.5 + 2.0 * k)
    for f_ in (call, function):
        with pytest.raises(RuntimeError, match=f"{name}: the C function returned error code 7"):
            f_(np.float64(-1.0), np.float32(2.0))


def test_the_scalar_entry_with_a_workspace_holds_the_lock() -> None:
    function = hand_built("locked_scalar", [F64, F64], work_size=64)
    call = function.caller(lambda outs: f"({', '.join(outs)})")
    assert "with lock:" in call.source and "entry(" in call.source
    assert call(np.float64(1.0), np.float32(0.5)) == (1.0, 1.5)

    def hammer(k: int) -> None:
        for j in range(300):
            a, b = call(np.float64(k), np.float32(j))
            assert (a, b) == (k, k + j)

    run_in_threads(hammer)


def test_signatures_without_a_scalar_entry() -> None:
    assert scalar_binding("g", [((2,), F64)], [((), F64)]) is None
    assert scalar_binding("g", [((), F64)], [((), np.dtype(np.int32))]) is None  # int results: arrays
    assert scalar_binding("g", [((), np.dtype(np.int64))], [((), F64)]) is not None  # a Python int argument
    assert scalar_binding("g", [((), F64)], []) is None
    assert scalar_binding("g", [], [((), F32)]) is not None  # constants are fine


def test_the_exported_c_has_no_python_binding(tmp_path) -> None:
    lowered = gradc.lower(f, X, Y)
    assert SCALAR_SUFFIX not in lowered.c_source and SCALAR_SUFFIX not in lowered.c_header
    c_path, h_path = gradc.export_c(f, X, Y, path_stem=tmp_path / "f")
    assert SCALAR_SUFFIX not in c_path.read_text() + h_path.read_text()
    lowered.compiled  # builds: the cache entry keeps the binding apart
    import os
    from pathlib import Path

    entries = [p for p in Path(os.environ["GRADC_CACHE_DIR"]).iterdir() if (p / "binding.c").exists()]
    assert any((p / "kernel.c").read_text() == lowered.c_source for p in entries)


def test_scalar_functions_run_from_threads() -> None:
    jf = gradc.jit(gradc.grad(f, argnums=(0, 1)))
    want = [tuple(float(v) for v in jf(float(k), 0.5)) for k in range(8)]

    def hammer(_: int) -> None:
        for _ in range(200):
            for k in range(8):
                assert tuple(float(v) for v in jf(float(k), 0.5)) == want[k]

    run_in_threads(hammer)
