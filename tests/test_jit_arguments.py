"""How `gradc.jit` takes its arguments, as JAX's jit does: static arguments
(`static_argnums`, `static_argnames`: Python values at trace time, part of
the cache key, hashable) and Python ints (weak int64 scalars, promoting as
NumPy 2 promotes a Python int). Values are checked against NumPy running
the same code; builds are counted through `cache_size` and a trace counter."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc.errors import GradcError

pytestmark = pytest.mark.usefixtures("private_cache")

HERE = Path(__file__).name
X = np.array([0.3, -1.2, 2.5, 0.9])


# ---------------------------------------------------------------------------
# Static arguments
# ---------------------------------------------------------------------------


def test_static_argnames_partial_decorator_values_and_builds() -> None:
    traces = []

    @functools.partial(gradc.jit, static_argnames=("n", "mode"))
    def f(x, n, mode="sin", scale=1.0, m=gnp):
        if m is gnp:
            traces.append((n, mode))
        out = x
        for _ in range(n):  # n is a Python int here, not a traced value
            out = m.sin(out) if mode == "sin" else m.cos(out)
        return out * scale

    def ref(x, n, mode="sin", scale=1.0):
        return f.__wrapped__(x, n, mode, scale, np)

    np.testing.assert_allclose(f(X, 2), ref(X, 2), rtol=1e-14)
    np.testing.assert_allclose(f(X, 2, scale=0.5), ref(X, 2, scale=0.5), rtol=1e-14)  # scale is dynamic
    np.testing.assert_allclose(f(X, 3, "cos"), ref(X, 3, "cos"), rtol=1e-14)
    np.testing.assert_allclose(f(X, 3, "cos"), ref(X, 3, "cos"), rtol=1e-14)  # equal values: no new build
    assert traces == [(2, "sin"), (2, "sin"), (3, "cos")]  # (2, "sin") traced again for scale=
    assert f.cache_size == 3


def test_equal_static_values_of_other_types_build_apart() -> None:
    """2 == 2.0, but x * n is int64 for 2 and float64 for 2.0: the cache
    keys static values by type as well as equality."""
    jf = gradc.jit(lambda x, n: x * n, static_argnums=1)
    ints = np.array([1, -3, 4])
    exact = jf(ints, 2)
    assert exact.dtype == np.int64 and exact.tolist() == [2, -6, 8]
    floats = jf(ints, 2.0)
    assert floats.dtype == np.float64 and floats.tolist() == [2.0, -6.0, 8.0]
    assert jf.cache_size == 2


def test_static_argnums_negative_shapes_callables_and_keywords() -> None:
    def g(x, shape, fn):
        return fn(gnp.reshape(x, shape)).sum(axis=0)

    jg = gradc.jit(g, static_argnums=(-2, -1))
    got = jg(X, (2, 2), gnp.exp)
    np.testing.assert_allclose(got, np.exp(X.reshape(2, 2)).sum(axis=0), rtol=1e-14)
    assert got.shape == (2,)
    # An index marks its parameter's name too: passed by keyword, still static.
    jh = gradc.jit(g, static_argnums=(1, 2))
    np.testing.assert_allclose(jh(X, fn=gnp.tanh, shape=(4, 1)), np.tanh(X.reshape(4, 1)).sum(axis=0), rtol=1e-14)
    assert jg.cache_size == jh.cache_size == 1
    # donate_*, keep_unused and inline are accepted and change nothing.
    jd = gradc.jit(g, static_argnames=("shape", "fn"), donate_argnums=0, keep_unused=True, inline=True)
    np.testing.assert_allclose(jd(X, shape=(2, 2), fn=gnp.exp), got, rtol=0)


def test_static_arguments_bad_input_is_located() -> None:
    jf = gradc.jit(lambda x, shape: gnp.reshape(x, shape), static_argnums=1)
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: static argument 1 of .* is a list, which is not hashable"):
        jf(X, [2, 2])
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: jit: static_argnums=\(2,\) names argument 2, but .* takes 2"):
        gradc.jit(lambda x, n: x, static_argnums=2)
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: jit: static_argnames names 'k', which .* has no parameter"):
        gradc.jit(lambda x, n: x, static_argnames=("n", "k"))
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: jit: donate_argnums=\(-3,\) names argument -3"):
        gradc.jit(lambda x, n: x, donate_argnums=-3)
    with pytest.raises(GradcError, match=r"static_argnums= takes an int or a sequence of ints"):
        gradc.jit(lambda x, n: x, static_argnums="n")
    # A traced array is not hashable either (a static argument cannot depend on a traced value).
    outer = gradc.jit(lambda x: jf(x, x))
    with pytest.raises(GradcError, match=r"static argument 1 .* is a TracedArray, which is not hashable"):
        outer.lower(X)
    assert jf.cache_size == 0


def test_lower_and_export_c_take_static_arguments(tmp_path: Path) -> None:
    def f(x, n, name):
        assert isinstance(n, int) and name == "y"
        return x * n

    lowered = gradc.lower(f, X, 3, "y", static_argnums=(1, 2))
    assert lowered.array_ir.count("func.func @f(%0: tensor<4xf64>) -> tensor<4xf64>") == 1
    assert "dense<3.000000e+00>" in lowered.array_ir  # n is a constant, not an argument
    same = gradc.jit(f, static_argnames=("n", "name")).lower(X, n=3, name="y")
    assert same.array_ir == lowered.array_ir
    _, header = gradc.export_c(f, X, 3, "y", path_stem=tmp_path / "f", static_argnames=("n", "name"))
    assert "int f(const double *in0, double *out, void *work);" in header.read_text().replace("restrict ", "")


# ---------------------------------------------------------------------------
# Python ints: weak int64 arguments
# ---------------------------------------------------------------------------


def promotions(a32, f32, x, n, m=gnp):
    """The calls of the brief, written once, run by NumPy (m=np) and gradc."""
    return (a32 + n, f32 * n, n / 2, n * 2, n - 0.5, x[n], a32[n], -n, m.sin(n), m.maximum(n, 2))


def test_python_int_arguments_promote_as_numpy() -> None:
    a32 = np.array([4, -7, 9, 2**31 - 1], np.int32)
    f32 = np.array([0.1, 2.5, -3.0, 7.0], np.float32)
    jf = gradc.jit(promotions)
    for n in (3, -1, 2):
        got = jf(a32, f32, X, n)
        # NumPy's Python-number results (n * 2, n / 2) as arrays: int64, float64.
        for k, (g, w) in enumerate(zip(got, promotions(a32, f32, X, n, np))):
            w = np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape, (n, k, g, w)
            np.testing.assert_array_equal(g, w)
    assert jf.cache_size == 1  # a new value is not a new build


def test_python_int_and_float_arguments_are_different_signatures() -> None:
    jf = gradc.jit(lambda a, n: a + n)
    a = np.arange(3, dtype=np.int32)
    r_int, r_float = jf(a, 3), jf(a, 3.0)
    assert r_int.dtype == (a + 3).dtype == np.int32 and r_float.dtype == (a + 3.0).dtype == np.float64
    np.testing.assert_array_equal(r_int, a + 3)
    np.testing.assert_array_equal(r_float, a + 3.0)
    assert jf.cache_size == 2
    with pytest.raises(OverflowError):  # not representable as int64, as in JAX
        jf(a, 2**70)


def test_python_int_argument_takes_the_scalar_entry() -> None:
    jf = gradc.jit(lambda x, n: gnp.sin(x) * n + n // 2)
    for n in (3, -4):
        got = jf(0.7, n)
        assert type(got) is np.float64
        assert got == math.sin(0.7) * n + n // 2
    (compiled,) = jf._cache.values()
    assert compiled.path == "scalar"


def test_python_int_argument_is_not_differentiable() -> None:
    with pytest.raises(GradcError, match=(
        rf"{HERE}:\d+: grad of <lambda>: cannot differentiate with respect to n, which is a Python int; "
        r".*pass it as a float \(.*3.0 for 3\)"
    )):
        gradc.grad(lambda x, n: x * n, argnums=1)(2.0, 3)
    # With respect to the float, the int is a value like any other.
    assert gradc.grad(lambda x, n: x ** n)(2.0, 3) == 3 * 2.0 ** 2


def test_python_bool_argument_points_at_static_arguments() -> None:
    with pytest.raises(GradcError, match=r"argument flag: a Python bool.*static_argnames"):
        gradc.jit(lambda x, flag: x)(X, True)
    jf = gradc.jit(lambda x, flag: x if flag else -x, static_argnames="flag")
    np.testing.assert_array_equal(jf(X, True), X)


# ---------------------------------------------------------------------------
# fori_loop's index: a weak int64, as a Python int
# ---------------------------------------------------------------------------


def loop_program(a32, f32, xs, m=gnp):
    """fori_loop(1, 4, ...) written for gradc, and the same loop in Python
    (m=np, i a Python int) as the reference."""

    def body(i, c):
        ci, cf, cd, out = c
        if m is gnp:
            out = out.at[i].set(xs[i] * i + m.sin(xs[-1 - i]))
        else:
            out = out.copy()
            out[i] = xs[i] * i + m.sin(xs[-1 - i])
        return ci + a32 * i, cf + f32 * i, cd + i / 2 + i // 2, out

    init = (a32, f32, np.float64(0.0), m.zeros_like(xs))
    if m is gnp:
        return gradc.fori_loop(1, 4, body, init)
    for i in range(1, 4):
        init = body(i, init)
    return init


def test_fori_loop_index_is_a_weak_integer() -> None:
    a32 = np.array([3, -2, 7], np.int32)
    f32 = np.array([0.5, -1.5, 2.25], np.float32)
    xs = np.array([0.3, -0.8, 1.7, 2.2, -0.4])
    got = gradc.jit(loop_program)(a32, f32, xs)
    for g, w in zip(got, loop_program(a32, f32, xs, np)):
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        np.testing.assert_allclose(g, w, rtol=1e-15)
    # Its derivative flows through xs[i] (the index itself has none): against central differences.
    loss = lambda xs: gnp.sum(loop_program(a32, f32, xs)[3] ** 2)
    ref = lambda xs: np.sum(loop_program(a32, f32, xs, np)[3] ** 2)
    h = 1e-6
    fd = [(ref(xs + h * e) - ref(xs - h * e)) / (2 * h) for e in np.eye(len(xs))]
    np.testing.assert_allclose(gradc.grad(loss)(xs), fd, rtol=1e-7, atol=1e-9)


def test_compile_budget_runs_a_quick_build_then_the_optimized_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """compile_budget_ms=0: the first call cannot wait for the optimized
    build, so it runs the same C built at -O1; once the background -O3
    build is done the next call uses it. Both give NumPy's numbers."""
    import gradc.backend.build as build_mod

    commands: list[list[str]] = []
    real = build_mod._run_compiler
    monkeypatch.setattr(build_mod, "_run_compiler", lambda command, cwd: commands.append(command) or real(command, cwd))
    x = np.linspace(-2.0, 2.0, 37)

    def f(x):
        return gnp.tanh(x) * gnp.exp(-x * x) + 0.5 * x

    expected = np.tanh(x) * np.exp(-x * x) + 0.5 * x
    fast = gradc.jit(f, compile_budget_ms=0, extra_cflags=["-DGRADC_TEST_BUDGET"])  # a cache key of its own
    np.testing.assert_allclose(fast(x), expected, rtol=1e-13, atol=1e-15)
    fast.wait_for_builds()
    assert fast.pending_builds == 0
    np.testing.assert_allclose(fast(x), expected, rtol=1e-13, atol=1e-15)
    kernels = [c for c in commands if "kernel.c" in c]
    assert len(kernels) == 2 and {c[c.index("-DGRADC_TEST_BUDGET") + 1:].count("-O1") for c in kernels} == {0, 1}
    assert fast.cache_size == 1
    with pytest.raises(gradc.GradcError, match="compile_budget_ms must be a number of milliseconds"):
        gradc.jit(f, compile_budget_ms=-1)


def test_compile_budget_with_static_arguments() -> None:
    """A budgeted jit with static arguments: each static value gets its own
    quick and optimized builds, and `wait_for_builds` waits for them all."""

    @functools.partial(gradc.jit, static_argnums=1, compile_budget_ms=0)
    def f(x, n):
        for _ in range(n):
            x = gnp.tanh(x) * 1.5
        return x

    x = np.linspace(-1.0, 1.0, 5)
    for n in (2, 3):
        expected = x.copy()
        for _ in range(n):
            expected = np.tanh(expected) * 1.5
        np.testing.assert_allclose(f(x, n), expected, rtol=1e-14, atol=1e-15)
    f.wait_for_builds()
    assert f.pending_builds == 0 and f.cache_size == 2
    np.testing.assert_allclose(f(x, 3), expected, rtol=1e-14, atol=1e-15)
    plain = gradc.jit(lambda x: x * 2.0)
    plain.wait_for_builds()  # no budget: nothing to wait for
    assert plain.pending_builds == 0
