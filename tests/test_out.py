"""Preallocated outputs: `gradc.jit(f)(*args, out=tree)` writes the results
into `tree`'s arrays and returns `tree`, on the C entry and on the Python
path alike; an `out` it cannot write into exactly (nesting, dtype, shape,
layout, read-only, memory shared with an argument or another leaf) is an
OutError naming the leaf, raised before C runs: never wrong numbers, never
a silent copy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc import OutError
from gradc.backend import callpath
from gradc.errors import GradcError
from tests.conftest import run_in_threads

@pytest.fixture
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """`c` or `python`: which call path the builds made in the test use."""
    if request.param == "python":
        monkeypatch.setattr(callpath, "available", lambda: False)
    return request.param


both_paths = pytest.mark.parametrize("path", ["c", "python"], indirect=True)


def refuse_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, anything but the recent call fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("left the fast path")

    monkeypatch.setattr(gradc.transforms.api.JitFunction, "_call_slow", refuse)
    monkeypatch.setattr(gradc.transforms.api.JitFunction, "_dispatch", refuse)


def is_c_entry(call: Any) -> bool:
    return type(call).__module__ == callpath.MODULE and type(call).__name__ == "Entry"


needs_c_entry = pytest.mark.skipif(not callpath.available(), reason="the C entry is not built (GRADC_CALLPATH=python)")


# ---------------------------------------------------------------------------
# Results written in place


@both_paths
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_a_bare_result_is_written_into_out_and_out_returned(path: str, dtype: type) -> None:
    jf = gradc.jit(lambda a, b: a * b + a)
    a = np.arange(12, dtype=dtype).reshape(3, 4)
    b = np.full((3, 4), 3, dtype=dtype)
    out = np.full((3, 4), -7, dtype=dtype)
    for _ in range(3):  # the first call compiles, the others take the recent call
        got = jf(a, b, out=out)
        assert got is out
        np.testing.assert_array_equal(out, a * b + a)
        out[...] = -7
    assert jf.cache_size == 1


@both_paths
def test_a_zero_d_result_takes_a_zero_d_array(path: str) -> None:
    jf = gradc.jit(lambda x: gnp.sum(x * x))
    x = np.linspace(-1.0, 2.0, 7)
    out = np.empty(())
    for _ in range(2):
        assert jf(x, out=out) is out
        np.testing.assert_allclose(out, np.sum(x * x), rtol=1e-15)


@both_paths
def test_a_scalar_signature_writes_its_results_into_zero_d_arrays(path: str) -> None:
    """Floats in, floats out: without out= NumPy scalars come back; with it,
    the 0-d arrays given."""
    jf = gradc.jit(lambda x, y: (gnp.sin(x) * y, x * x))
    assert type(jf(0.7, -1.3)[0]) is np.float64
    out = (np.empty(()), np.empty(()))
    for x, y in [(0.7, -1.3), (2.0, 0.5)]:
        got = jf(x, y, out=out)
        assert got is out
        assert out[0] == np.sin(x) * y and out[1] == x * x
    f32 = (np.empty((), np.float32), np.empty((), np.float32))
    got = jf(np.float32(0.5), np.float32(2.0), out=f32)
    assert got is f32 and f32[0] == np.sin(np.float32(0.5)) * np.float32(2.0)


def _nested(p, x):
    return {"y": p["w"] * x + p["b"], "parts": (gnp.sum(x), [x * 2.0, (p["b"] - 1.0).astype(gnp.float32)])}


def _nested_reference(p, x):
    return {"y": p["w"] * x + p["b"], "parts": (np.sum(x), [x * 2.0, (p["b"] - 1.0).astype(np.float32)])}


def _empty_like_tree(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _empty_like_tree(v) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return type(tree)(_empty_like_tree(v) for v in tree)
    return np.full_like(np.asarray(tree), 99)


def _assert_tree_equal(got: Any, want: Any) -> None:
    if isinstance(want, dict | tuple | list):
        assert type(got) is type(want)
    if isinstance(want, dict):
        assert set(got) == set(want)
        for k in want:
            _assert_tree_equal(got[k], want[k])
    elif isinstance(want, tuple | list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _assert_tree_equal(g, w)
    else:
        assert got.dtype == np.asarray(want).dtype and got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-15)


@both_paths
def test_nested_results_are_written_into_a_tree_of_the_same_structure(path: str) -> None:
    jf = gradc.jit(_nested)
    rng = np.random.default_rng(1)
    p, x = {"w": rng.standard_normal(5), "b": rng.standard_normal(5)}, rng.standard_normal(5)
    out = _empty_like_tree(_nested_reference(p, x))
    leaves = [out["y"], out["parts"][0], *out["parts"][1]]
    for scale in (1.0, -2.0, 0.5):
        p2 = {"b": p["b"] * scale, "w": p["w"]}  # another insertion order: the same tree
        got = jf(p2, x, out=out)
        assert got is out
        assert all(a is b for a, b in zip([out["y"], out["parts"][0], *out["parts"][1]], leaves))
        _assert_tree_equal(out, _nested_reference(p2, x))
    assert jf.cache_size == 1


Pair = namedtuple("Pair", "first second")


@both_paths
def test_named_tuples_and_lists_of_results(path: str) -> None:
    jf = gradc.jit(lambda x: Pair(x + 1.0, [x * x, gnp.sum(x)]))
    x = np.arange(4.0)
    out = Pair(np.empty(4), [np.empty(4), np.empty(())])
    for _ in range(2):
        assert jf(x, out=out) is out
        np.testing.assert_array_equal(out.first, x + 1.0)
        np.testing.assert_array_equal(out.second[0], x * x)
        assert out.second[1] == np.sum(x)


@both_paths
def test_none_among_the_results_is_none_in_out(path: str) -> None:
    jf = gradc.jit(lambda x: (x * 2.0, None, {"n": None, "s": gnp.sum(x)}))
    x = np.arange(3.0)
    out = (np.empty(3), None, {"n": None, "s": np.empty(())})
    for _ in range(2):
        assert jf(x, out=out) is out
        np.testing.assert_array_equal(out[0], x * 2.0)
        assert out[2]["s"] == 3.0


@both_paths
def test_a_loop_past_its_bound_raises_with_out_too(path: str) -> None:
    """A nonzero status of the C function raises as without out=; the next
    call still works."""
    jf = gradc.jit(lambda a: gradc.lax.while_loop(lambda v: v < 100.0, lambda v: v * 2.0, a, max_steps=5))
    out = np.empty(())
    for _ in range(2):
        with pytest.raises(gradc.LoopLimitError, match="did not stop within"):
            jf(1.0, out=out)
    assert jf(10.0, out=out) is out and out == 160.0


def test_a_compile_budget_and_out() -> None:
    jf = gradc.jit(lambda x: gnp.tanh(x) * 2.0, compile_budget_ms=0)
    x = np.linspace(-1.0, 1.0, 9)
    out = np.empty(9)
    assert jf(x, out=out) is out
    jf.wait_for_builds()
    out[...] = 0.0
    assert jf(x, out=out) is out
    np.testing.assert_allclose(out, np.tanh(x) * 2.0, rtol=1e-6)


@both_paths
def test_out_none_allocates(path: str) -> None:
    jf = gradc.jit(lambda x: x * 3.0)
    x = np.arange(3.0)
    first = jf(x, out=None)
    second = jf(x, out=None)
    assert first is not second
    np.testing.assert_array_equal(second, x * 3.0)


@both_paths
def test_python_numbers_and_strided_views_as_arguments(path: str) -> None:
    """Python floats go by value; a strided view of the right dtype and shape
    is copied before C runs, as without out=."""
    jf = gradc.jit(lambda a, s: a * s)
    base = np.arange(24.0).reshape(4, 6)
    out = np.empty((4, 3))
    assert jf(base[:, ::2].copy(), 2.0, out=out) is out
    got = jf(base[:, ::2], -0.5, out=out)
    assert got is out
    np.testing.assert_array_equal(out, base[:, ::2] * -0.5)


@both_paths
def test_a_compiled_function_caller_takes_out_with_its_default_slow_path(path: str) -> None:
    """`CompiledFunction.caller(outputs=...)` without mismatch or fallback:
    its own slow path takes out= too (a strided input, a wrong input)."""
    from gradc.backend.runtime import Outputs

    function = gradc.jit(lambda a, b: (a + b, a * b)).lower(np.ones(3), np.ones(3)).compiled.function

    def leaves(out: Any) -> list[Any]:
        if type(out) is not list or len(out) != 2:
            raise OutError("out: a list of two")
        return out

    call = function.caller(outputs=Outputs((list, None, (None, None)), leaves, ["out[0]", "out[1]"], ["a", "b"]))
    assert is_c_entry(call) is (path == "c" and callpath.available())
    a, b = np.arange(6.0)[::2], np.full(3, 2.0)
    out = [np.empty(3), np.empty(3)]
    assert call(a, b, out=out) is out
    np.testing.assert_array_equal(out[0], a + b)
    np.testing.assert_array_equal(out[1], a * b)
    with pytest.raises(OutError, match="out: a list of two"):
        call(a.copy(), b, out=(out[0], out[1]))
    with pytest.raises(OutError, match="out\\[1\\] shares memory with b"):
        call(a.copy(), b, out=[out[0], b])


# ---------------------------------------------------------------------------
# A training loop that allocates nothing


def _loss(p, x, y):
    h = gnp.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    logp = logits - gnp.logsumexp(logits, axis=1, keepdims=True)
    return -gnp.sum(y * logp) / x.shape[0]


LR = 0.1


def _sgd_step(p, x, y):
    value, grads = gradc.value_and_grad(_loss)(p, x, y)
    return value, {k: p[k] - LR * grads[k] for k in p}


def _numpy_step(p, x, y):
    """The same step with the backward pass written by hand, in float64."""
    p = {k: v.astype(np.float64) for k, v in p.items()}
    x, y = x.astype(np.float64), y.astype(np.float64)
    h = np.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    value = -np.sum(y * (shifted - np.log(total))) / x.shape[0]
    d_logits = (e / total - y) / x.shape[0]
    d_h = (d_logits @ p["w2"].T) * (1 - h * h)
    grads = {"w2": h.T @ d_logits, "b2": d_logits.sum(axis=0), "w1": x.T @ d_h, "b1": d_h.sum(axis=0)}
    return value, {k: p[k] - LR * grads[k] for k in p}


def _problem(dtype: type = np.float32) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    p = {
        "w1": rng.standard_normal((6, 8)) / 3,
        "b1": np.zeros(8),
        "w2": rng.standard_normal((8, 3)) / 3,
        "b2": np.zeros(3),
    }
    x = rng.standard_normal((5, 6))
    y = np.eye(3)[rng.integers(0, 3, 5)]
    return {k: v.astype(dtype) for k, v in p.items()}, x.astype(dtype), y.astype(dtype)


@both_paths
def test_twenty_double_buffered_sgd_steps_equal_numpy(path: str) -> None:
    step = gradc.jit(_sgd_step)
    params, x, y = _problem()
    buffers = [(np.empty((), np.float32), {k: np.empty_like(v) for k, v in params.items()}) for _ in range(2)]
    reference = {k: v.astype(np.float64) for k, v in params.items()}
    current = params
    for k in range(20):
        out = buffers[k % 2]
        value, new = step(current, x, y, out=out)
        assert value is out[0] and new is out[1]
        want_value, reference = _numpy_step(reference, x, y)
        np.testing.assert_allclose(value, want_value, rtol=1e-5)
        for name in reference:
            np.testing.assert_allclose(new[name], reference[name], rtol=1e-4, atol=1e-6)
        current = new
    assert step.cache_size == 1
    np.testing.assert_array_equal(params["w1"], _problem()[0]["w1"])  # the first parameters untouched


@needs_c_entry
def test_the_step_with_out_runs_no_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first call, out= calls with a params dict go straight to the
    C entry: no slow path, no generated Python, no pytree walk."""
    step = gradc.jit(_sgd_step)
    params, x, y = _problem()
    out = (np.empty((), np.float32), {k: np.empty_like(v) for k, v in params.items()})
    step(params, x, y, out=out)
    (tree_call,) = step._trees.values()
    assert is_c_entry(tree_call)
    refuse_slow(monkeypatch)
    monkeypatch.setattr(gradc.transforms.api.pytree, "flatten", lambda *a: pytest.fail("flattened"))
    calls: list[str] = []
    sys.setprofile(lambda frame, event, arg: calls.append(frame.f_code.co_name) if event == "call" else None)
    try:
        got = step(params, x, y, out=out)
    finally:
        sys.setprofile(None)
    assert got is out and calls == []
    want, _ = _numpy_step(params, x, y)
    np.testing.assert_allclose(out[0], want, rtol=1e-5)
    allocating = step(params, x, y)  # out= and plain calls share the recent call
    np.testing.assert_array_equal(allocating[1]["w1"], out[1]["w1"])


@needs_c_entry
def test_positional_arrays_with_out_take_the_c_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    jf = gradc.jit(lambda a, b: (a @ b, a.T))
    a, b = np.ones((3, 4)), np.full((4, 2), 0.5)
    out = (np.empty((3, 2)), np.empty((4, 3)))
    jf(a, b, out=out)
    ((_, call),) = jf._positional.values()
    assert is_c_entry(call)
    refuse_slow(monkeypatch)
    assert jf(a, b, out=out) is out
    np.testing.assert_array_equal(out[0], a @ b)
    np.testing.assert_array_equal(out[1], a.T)


@both_paths
def test_a_jitted_gradient_writes_into_the_params_structure(path: str) -> None:
    params, x, y = _problem(np.float64)
    g = gradc.jit(gradc.grad(_loss))
    direct = gradc.grad(_loss)  # a transformation is a JitFunction too
    for fn in (g, direct):
        out = {k: np.empty_like(v) for k, v in params.items()}
        assert fn(params, x, y, out=out) is out
        want = gradc.grad(_loss)(params, x, y)
        for k in params:
            np.testing.assert_allclose(out[k], want[k], rtol=1e-13)
        _, stepped = _numpy_step(params, x, y)
        np.testing.assert_allclose(params["w1"] - LR * out["w1"], stepped["w1"], rtol=1e-12)


@both_paths
def test_static_arguments_and_out(path: str) -> None:
    jf = gradc.jit(lambda x, n: x * n + 1.0, static_argnums=1)
    x = np.arange(4.0)
    out = np.empty(4)
    for n in (2, 3, 2):
        assert jf(x, n, out=out) is out
        np.testing.assert_array_equal(out, x * n + 1.0)


def test_threads_write_their_own_outputs() -> None:
    """A function with a workspace (its lock), called from threads, each
    into its own out."""
    step = gradc.jit(_sgd_step)
    params, x, y = _problem()
    want_value, want = _numpy_step(params, x, y)
    step(params, x, y)

    def work(k: int) -> None:
        out = (np.empty((), np.float32), {name: np.empty_like(v) for name, v in params.items()})
        for _ in range(200):
            out[1]["w1"][...] = np.nan
            assert step(params, x, y, out=out) is out
            np.testing.assert_allclose(out[0], want_value, rtol=1e-5)
            np.testing.assert_allclose(out[1]["w1"], want["w1"], rtol=1e-4, atol=1e-6)

    run_in_threads(work)


# ---------------------------------------------------------------------------
# What is refused, and that nothing is written then


def _check_refused(call: Any, match: str, *untouched: np.ndarray) -> None:
    before = [a.copy() for a in untouched]
    with pytest.raises(OutError, match=match) as info:
        call()
    assert isinstance(info.value, GradcError) and isinstance(info.value, TypeError | ValueError)
    # Located at the user's call; the traceback goes from one frame of
    # gradc's (the one that raised it again) straight to the user's code.
    assert info.value.location is not None and info.value.location.startswith(__file__)
    tb, frames = info.value.__traceback__, []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert len([f for f in frames if "/compiler/" in f]) <= 1, frames
    for a, b in zip(untouched, before):
        np.testing.assert_array_equal(a, b)


@both_paths
def test_an_out_overlapping_an_argument_is_refused(path: str) -> None:
    """The C reads its arguments while it writes its results: writing a
    result over an argument would give wrong numbers, so it is refused,
    whole or in part, directly or through a view."""
    jf = gradc.jit(lambda x, y: gnp.cumsum(x) + y[::-1])
    x, y = np.arange(1.0, 7.0), np.full(6, 0.5)
    jf(x, y, out=np.empty(6))
    for _ in range(2):  # through the recent call too
        _check_refused(lambda: jf(x, y, out=x), r"lambda_: out shares memory with argument x", x, y)
        _check_refused(lambda: jf(x, y, out=y), r"out shares memory with argument y.*second buffer", x, y)
        big = np.zeros(10)
        head, tail = big[:6], big[4:]
        head[:] = x
        _check_refused(lambda: jf(head, y, out=tail), "out shares memory with argument x", big, y)
    p = {"w": np.ones(3)}
    tree = gradc.jit(lambda p, z: {"a": p["w"] * z, "b": z + 1.0})
    z = np.arange(3.0)
    out = {"a": np.empty(3), "b": np.empty(3)}
    tree(p, z, out=out)
    for _ in range(2):
        _check_refused(lambda: tree(p, z, out={"a": np.empty(3), "b": p["w"]}),
                       r"out\['b'\] shares memory with argument p\['w'\]", p["w"], z)


@both_paths
def test_out_leaves_overlapping_each_other_are_refused(path: str) -> None:
    jf = gradc.jit(lambda x: (x + 1.0, x * 2.0))
    x = np.arange(4.0)
    jf(x, out=(np.empty(4), np.empty(4)))
    shared = np.zeros(4)
    big = np.zeros(6)
    for _ in range(2):
        _check_refused(lambda: jf(x, out=(shared, shared)), r"out\[1\] shares memory with out\[0\]", x)
        _check_refused(lambda: jf(x, out=(big[:4], big[2:])), r"out\[1\] shares memory with out\[0\]", x)
    np.testing.assert_array_equal(shared, 0.0)
    np.testing.assert_array_equal(big, 0.0)


def _bad_leaves() -> list[tuple[str, Any, str]]:
    readonly = np.empty(4)
    readonly.flags.writeable = False
    raw = np.empty(4 * 8 + 1, np.uint8)
    misaligned = raw[1:].view(np.float64)
    return [
        ("dtype", np.empty(4, np.float32), r"out: expected float64\[4\], got float32\[4\]"),
        ("shape", np.empty(5), r"out: expected float64\[4\], got float64\[5\]"),
        ("0-d for 1-d", np.empty(()), r"out: expected float64\[4\], got float64\[\]"),
        ("strided", np.empty(8)[::2], r"out: expected a C-contiguous float64\[4\], got a strided view"),
        ("read-only", readonly, r"out: expected a writeable float64\[4\], got a read-only array"),
        ("misaligned", misaligned, r"out: expected an aligned float64\[4\]"),
        ("a string", "four", r"out: expected a NumPy array float64\[4\] to write the result into, got str"),
        ("swapped bytes", np.empty(4, ">f8"), r"out: expected float64\[4\], got >f8\[4\]"),
    ]


@both_paths
@pytest.mark.parametrize("case", range(8), ids=[c[0] for c in _bad_leaves()])
def test_a_leaf_that_is_not_exactly_the_result_array_is_refused(path: str, case: int) -> None:
    _, bad, match = _bad_leaves()[case]
    jf = gradc.jit(lambda x: x * 2.0)
    x = np.arange(4.0)
    jf(x, out=np.empty(4))
    if isinstance(bad, np.ndarray) and bad.flags.writeable:
        bad[...] = 0
    untouched = [x, bad] if isinstance(bad, np.ndarray) else [x]
    for _ in range(2):
        _check_refused(lambda: jf(x, out=bad), match, *untouched)
    out = np.empty(4)
    assert jf(x, out=out) is out  # the recent call still works
    np.testing.assert_array_equal(out, x * 2.0)


@both_paths
@pytest.mark.parametrize("bad", [
    "bare for tuple", "list for tuple", "missing key", "extra key", "shorter", "leaf for dict", "string",
])
def test_an_out_nested_otherwise_is_refused(path: str, bad: str) -> None:
    jf = gradc.jit(lambda x: (x + 1.0, {"a": x, "b": gnp.sum(x)}))
    x = np.arange(3.0)
    good = (np.empty(3), {"a": np.empty(3), "b": np.empty(())})
    jf(x, out=good)
    out = {
        "bare for tuple": np.empty(3),
        "list for tuple": [np.empty(3), {"a": np.empty(3), "b": np.empty(())}],
        "missing key": (np.empty(3), {"a": np.empty(3)}),
        "extra key": (np.empty(3), {"a": np.empty(3), "b": np.empty(()), "c": np.empty(3)}),
        "shorter": (np.empty(3),),
        "leaf for dict": (np.empty(3), np.empty(3)),
        "string": "out",
    }[bad]
    for _ in range(2):
        _check_refused(lambda: jf(x, out=out), r"lambda_: out must be nested as the result, "
                       r"PyTreeDef\(\(\*, \{'a': \*, 'b': \*\}\)\), got", x)
    assert jf(x, out=good) is good


@both_paths
def test_unsortable_keys_in_out_are_refused(path: str) -> None:
    jf = gradc.jit(lambda x: {"a": x})
    x = np.arange(3.0)
    jf(x, out={"a": np.empty(3)})
    _check_refused(lambda: jf(x, out={"a": np.empty(3), 1: np.empty(3)}), "out must be nested as the result")


# ---------------------------------------------------------------------------
# Where out= is not the preallocated outputs


def test_a_function_with_its_own_out_parameter_gets_it() -> None:
    def f(x, out):
        return x + out

    jf = gradc.jit(f)
    x = np.arange(3.0)
    for _ in range(2):
        got = jf(x, out=np.full(3, 10.0))
        np.testing.assert_array_equal(got, x + 10.0)
    kw = gradc.jit(lambda x, *, out=None: x * 2.0 if out is None else x * out)
    np.testing.assert_array_equal(kw(x, out=np.full(3, 3.0)), x * 3.0)


def test_a_catch_all_of_keywords_is_not_an_out_parameter() -> None:
    jf = gradc.jit(lambda x, **options: x + 1.0)
    x, out = np.arange(3.0), np.empty(3)
    assert jf(x, out=out) is out
    np.testing.assert_array_equal(out, x + 1.0)


def test_out_inside_a_traced_function_is_an_error() -> None:
    inner = gradc.jit(lambda x: x * 2.0)

    def outer(x):
        return inner(x, out=np.empty(3))

    with pytest.raises(GradcError, match="called with out= inside a traced function"):
        gradc.jit(outer)(np.arange(3.0))


def test_the_python_dispatcher_passes_out_too() -> None:
    """GRADC_CALLPATH=python: no C module at all (the Python base class of
    jitted functions, the generated calls): the same results and errors."""
    script = textwrap.dedent("""
        import numpy as np, gradc, gradc.numpy as gnp
        from gradc.backend import callpath
        assert not callpath.available()
        step = gradc.jit(lambda p, x: ({"w": p["w"] - 0.5 * x}, gnp.sum(x * p["w"])))
        p, x = {"w": np.arange(3.0)}, np.ones(3)
        bufs = [({"w": np.empty(3)}, np.empty(())) for _ in range(2)]
        for k in range(4):
            out = step(p, x, out=bufs[k % 2])
            assert out is bufs[k % 2], k
            assert step._out_fast
            want = np.arange(3.0) - 0.5 * (k + 1)
            assert np.array_equal(out[0]["w"], want), (k, out)
            p = out[0]
        try:
            step(p, x, out=({"w": p["w"]}, np.empty(())))
        except gradc.OutError as err:
            assert "out[0]['w'] shares memory with argument p['w']" in str(err), err
        else:
            raise AssertionError("no error")
        print("ok")
    """)
    env = {**os.environ, "GRADC_CALLPATH": "python"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
