"""gradc.lax.cond and gradc.lax.switch: values against Python branches,
derivatives against central differences, only the taken branch running,
batching, and the errors a user can cause. Few builds: each compiled
function checks many values."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc import lax
from gradc.errors import GradcError, TraceTypeError
from gradc.interpreter import run_function

rng = np.random.default_rng(20261207)


def here() -> int:
    return sys._getframe(1).f_lineno


def assert_located(err: pytest.ExceptionInfo, line: int) -> None:
    assert isinstance(err.value, GradcError)
    assert err.value.location == f"{__file__}:{line}", err.value.location


def central(f, x, h=1e-5):
    """Central differences of f (array -> array) at x: d f / d x, shaped
    f's shape + x's shape."""
    x = np.asarray(x, np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def branches_fn(x, flag, count, level, k64, k32):
    """A cond on a bool, an int (nonzero), a float and a comparison, and a
    switch on an int64 and an int32 index, over 3 branches."""
    up = lambda a: gnp.sin(a) * 2.0  # noqa: E731
    down = lambda a: a * a - 1.0  # noqa: E731
    three = [lambda a: a + 1.0, lambda a: gnp.exp(a), lambda a: (a @ a) * gnp.ones_like(a)]
    return (
        lax.cond(flag, up, down, x),
        lax.cond(count, up, down, x),
        lax.cond(level, up, down, x),
        lax.cond(gnp.sum(x) > 0, up, down, x),
        lax.switch(k64, three, x),
        lax.switch(k32, three, x),
        # Concrete predicates and indices (and one branch) just call it.
        lax.cond(np.float32(0.0), up, down, x),
        lax.switch(-4, three, x),
        lax.switch(k64, three[1:2], x),
    )


def branches_numpy(x, flag, count, level, k64, k32):
    up, down = np.sin(x) * 2.0, x * x - 1.0
    three = [x + 1.0, np.exp(x), (x @ x) * np.ones_like(x)]
    pick = lambda k: three[min(max(int(k), 0), 2)]  # noqa: E731
    return (
        up if flag else down, up if count else down, up if level else down,
        up if x.sum() > 0 else down, pick(k64), pick(k32), down, three[0], three[1],
    )


@pytest.fixture(scope="module")
def branches():
    return gradc.jit(branches_fn)


@pytest.mark.parametrize(
    "flag, count, level, k64, k32",
    [(True, 0, 0.0, -5, -1), (False, 3, -0.5, 0, 0), (True, -2, np.nan, 1, 1), (False, 1, 1e-300, 2, 2),
     (True, 0, -0.0, 100, 7), (False, 7, 2.0, -(2**40), 2**31 - 1)],
)
def test_values_of_every_branch_and_clamped_index(branches, flag, count, level, k64, k32):
    for x in (np.array([0.3, -1.2, 2.0]), np.array([-0.3, -1.2, 0.5])):
        args = (x, np.bool_(flag), np.int64(count), np.float64(level), np.int64(k64), np.int32(k32))
        for got, want in zip(branches(*args), branches_numpy(*args), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


def test_interpreter_levels_and_c_agree():
    """The traced module and the loops level in the interpreter give what
    the C gives (each lowering checked against the level above), and the C
    has a real `if` and a real `switch`; it is deterministic and warning
    free under -Wall -Wextra -Werror -pedantic."""
    args = (np.array([0.3, -1.2, 2.0]), np.bool_(True), np.int64(0), np.float64(0.5), np.int64(1), np.int32(9))
    lowered = gradc.lower(branches_fn, *args)
    want = branches_numpy(*args)
    for module in (lowered.traced.module, lowered._module_after("loops")):
        got = run_function(module, lowered.name, *args)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-14)
    source = lowered.c_source
    assert re.search(r"\bif \(\w+ <= 0\) \{", source) and "} else {" in source
    assert re.search(r"switch \(\w+ < 0 \? 0 : \w+\) \{", source) and "default: {" in source
    assert source == gradc.lower(branches_fn, *args).c_source
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)


def test_c_is_warning_free(tmp_path):
    args = (np.array([0.3, -1.2, 2.0]), np.bool_(True), np.int64(0), np.float64(0.5), np.int64(1), np.int32(9))
    (tmp_path / "f.c").write_text(gradc.lower(branches_fn, *args).c_source)
    done = subprocess.run(["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", "-c", "f.c"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_closures_pytrees_and_python_numbers():
    """Branches close over traced values of the enclosing function (they
    become operands), take and return pytrees, and may return Python
    numbers and operands unchanged."""

    def f(x, w, k):
        s = gnp.sum(w)
        ops = {"a": x, "pair": (w, 2.0)}
        b0 = lambda o: {"y": o["a"] * s, "z": (o["pair"][0], 1.0)}  # noqa: E731
        b1 = lambda o: {"y": o["a"] + o["pair"][1], "z": (o["pair"][0] * x[0], s)}  # noqa: E731
        b2 = lambda o: {"y": gnp.tanh(o["a"]), "z": (w - s, 3.0)}  # noqa: E731
        return lax.switch(k, [b0, b1, b2], ops)

    def ref(x, w, k):
        s = w.sum()
        return [
            {"y": x * s, "z": (w, 1.0)},
            {"y": x + 2.0, "z": (w * x[0], s)},
            {"y": np.tanh(x), "z": (w - s, 3.0)},
        ][min(max(k, 0), 2)]

    jf = gradc.jit(f)
    x, w = rng.normal(size=3), rng.normal(size=(2, 2))
    for k in (-1, 0, 1, 2, 3):
        got, want = jf(x, w, k), ref(x, w, k)
        assert set(got) == {"y", "z"} and isinstance(got["z"], tuple)
        np.testing.assert_allclose(got["y"], want["y"], rtol=1e-14)
        np.testing.assert_allclose(got["z"][0], want["z"][0], rtol=1e-14)
        np.testing.assert_allclose(got["z"][1], want["z"][1], rtol=1e-14)


def test_python_numbers_returned_by_branches_are_weak():
    """A Python number a branch returns takes the dtype of the other
    branches' leaf (JAX promotes weakly typed branch outputs): float32
    stays float32; Python numbers in every branch give a float64."""

    def f(x, k):
        return (lax.switch(k, [lambda v: 3, lambda v: 2.5, lambda v: v[0] * 2], x),
                lax.switch(k, [lambda v: 3, lambda v: 2.5, lambda v: -1], x))

    jf = gradc.jit(f)
    x = np.array([1.5, -2.0], np.float32)
    for k, want in ((0, (3.0, 3.0)), (1, (2.5, 2.5)), (2, (3.0, -1.0))):
        a, b = jf(x, k)
        assert (a.dtype, b.dtype) == (np.float32, np.float64)
        assert (a, b) == want


def test_cond_in_loops_and_loops_in_cond():
    """A piecewise update per iteration of a fori_loop, a scan inside a
    branch, and a branch closing over the loop's index."""

    def f(x, xs):
        def body(i, c):
            return lax.cond(gnp.sum(c) > 1.0, lambda v: v * 0.5 - i, lambda v: v + gnp.cos(v) + i * 0.1, c)

        y = gradc.fori_loop(0, 6, body, x)

        def scanned(v):
            return gradc.scan(lambda c, r: (c * r + 1.0, c), v, xs)[0]

        z = lax.cond(y[0] > 0, scanned, lambda v: v - 1.0, y)
        return y, z

    def ref(x, xs):
        c = x.copy()
        for i in range(6):
            c = c * 0.5 - i if c.sum() > 1.0 else c + np.cos(c) + i * 0.1
        v = c.copy()
        if c[0] > 0:
            for r in xs:
                v = v * r + 1.0
        else:
            v = v - 1.0
        return c, v

    jf = gradc.jit(f)
    xs = rng.normal(size=(4, 2))
    seen = set()
    for x in (np.array([0.2, 0.1]), np.array([3.0, 1.0]), np.array([-1.0, -6.0]), np.array([5.0, -0.1])):
        got, want = jf(x, xs), ref(x, xs)
        seen.add(bool(want[0][0] > 0))
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    assert seen == {True, False}
    # Reverse mode through both: a taped scan inside a branch's VJP, a
    # switch of VJPs inside the fori_loop's reverse loop.
    grad = gradc.grad(lambda x, xs: gnp.sum(f(x, xs)[1] ** 2), argnums=(0, 1))
    for x in (np.array([0.2, 0.1]), np.array([-1.0, -6.0])):
        gx, gxs = grad(x, xs)
        np.testing.assert_allclose(gx, central(lambda z: np.sum(ref(z, xs)[1] ** 2), x), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gxs, central(lambda z: np.sum(ref(x, z)[1] ** 2), xs), rtol=1e-6, atol=1e-8)


def test_eager_calls():
    """Outside any trace, cond and switch compile and run (the predicate
    and the index become arguments)."""
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(lax.cond(True, gnp.sin, gnp.cos, x), np.sin(x), rtol=1e-14)
    np.testing.assert_allclose(lax.cond(np.float64(0.0), gnp.sin, gnp.cos, x), np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(lax.switch(5, [gnp.sin, gnp.cos, gnp.tanh], x), np.tanh(x), rtol=1e-14)
    np.testing.assert_allclose(lax.switch(-1, [gnp.sin, gnp.cos, gnp.tanh], x), np.sin(x), rtol=1e-14)


# ---------------------------------------------------------------------------
# Only the taken branch runs
# ---------------------------------------------------------------------------


def test_only_the_taken_branch_runs():
    """Gradients through a branch whose other branch is NaN there: a select
    computing both would give 0 * NaN = NaN (the gnp.where trap), a real
    branch gives the taken branch's derivative. And the time of a call
    follows the branch taken: a cheap one does not pay for a long loop."""

    def f(x):
        return lax.cond(x > 0, lambda v: gnp.sqrt(v) * gnp.log(v), lambda v: -v * v, x)

    g = gradc.grad(f)
    for x in (-4.0, -0.5):
        assert g(x) == pytest.approx(-2 * x, rel=1e-14)
    assert g(4.0) == pytest.approx((np.log(4.0) + 2) / (2 * 2.0), rel=1e-14)
    assert gradc.jit(f)(-4.0) == -16.0

    def slow_or_fast(x, pred):
        slow = lambda v: gradc.fori_loop(0, 3_000_000, lambda i, c: c * 0.999999 + 1e-7, v)  # noqa: E731
        return lax.cond(pred, slow, lambda v: v + 1.0, x)

    jf = gradc.jit(slow_or_fast)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(jf(x, np.bool_(False)), x + 1.0)

    def best(pred):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            jf(x, np.bool_(pred))
            times.append(time.perf_counter() - start)
        return min(times)

    assert best(False) * 20 < best(True)


# ---------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------


def piecewise(x, k):
    """A switch inside a cond inside a loop: smooth away from the switch
    points, each piece differentiable twice."""
    three = [lambda v: gnp.sin(v) * v, lambda v: gnp.exp(0.3 * v) + v @ v, lambda v: gnp.tanh(v) * x[0]]
    y = lax.switch(k, three, x)

    def body(i, c):
        return lax.cond(gnp.sum(c) > 0.5, lambda v: v * gnp.cos(v), lambda v: v + 0.1 * v * v, c)

    return gnp.sum(gradc.fori_loop(0, 3, body, y) ** 2)


def piecewise_numpy(x, k):
    three = [np.sin(x) * x, np.exp(0.3 * x) + x @ x, np.tanh(x) * x[0]]
    c = three[min(max(k, 0), 2)]
    for _ in range(3):
        c = c * np.cos(c) if c.sum() > 0.5 else c + 0.1 * c * c
    return np.sum(c**2)


DERIVATIVES = (gradc.grad(piecewise), gradc.jacfwd(piecewise), gradc.jacrev(gradc.grad(piecewise)),
               gradc.hessian(piecewise), gradc.grad(piecewise, checkpoint="binomial(snapshots=1)"))
JIT_PIECEWISE = gradc.jit(piecewise)
"""Built once for the module (each compiles on its first call)."""
POINTS = [np.array([0.3, 0.7, -0.2]), np.array([-0.9, 0.2, -0.4]), np.array([1.1, -0.6, 0.8])]


@pytest.mark.parametrize("k", [0, 1, 2])
def test_first_and_second_derivatives(k):
    """grad (also with the loop's steps recomputed from one snapshot),
    jacfwd, jacrev and hessian (reverse over forward over the branches)
    against central differences of the NumPy program; the branches chosen
    differ over the points."""
    grad, fwd, rev, hess, checkpointed = DERIVATIVES
    for x in POINTS:
        f = lambda z: piecewise_numpy(z, k)  # noqa: E731
        g = central(f, x)
        h = central(lambda z: central(f, z, 1e-4), x, 1e-4)
        assert JIT_PIECEWISE(x, k) == pytest.approx(f(x), rel=1e-13)
        np.testing.assert_allclose(grad(x, k), g, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(fwd(x, k), g, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(checkpointed(x, k), g, rtol=1e-6, atol=1e-8)  # switches in recomputed steps
        np.testing.assert_allclose(rev(x, k), h, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(hess(x, k), h, rtol=1e-4, atol=1e-6)


def test_derivative_at_the_switch_point_is_the_chosen_branch():
    """docs/derivative-conventions.md: at x = 0, `x > 0` is false, so the
    derivative is the false branch's (-3), in every mode and order."""

    def f(x):
        return lax.cond(x > 0, lambda v: 2.0 * v + v * v, lambda v: -3.0 * v, x)

    assert gradc.grad(f)(0.0) == -3.0
    assert gradc.jacfwd(f)(0.0) == -3.0
    assert gradc.grad(gradc.grad(f))(0.0) == 0.0
    assert gradc.grad(gradc.grad(f))(1e-300) == 2.0


def test_derivative_with_respect_to_closed_over_values_and_operands():
    """Cotangents reach values a branch closes over and operands, with
    zeros for a branch that does not use them."""

    def f(x, w):
        return gnp.sum(lax.cond(x[0] > 0, lambda v: gnp.tanh(w @ v), lambda v: v * 3.0, x))

    def ref(x, w):
        return np.sum(np.tanh(w @ x)) if x[0] > 0 else np.sum(x * 3.0)

    w = rng.normal(size=(2, 2))
    both = gradc.grad(f, argnums=(0, 1))
    for x in (np.array([0.4, -0.3]), np.array([-0.4, 0.3])):
        gx, gw = both(x, w)
        np.testing.assert_allclose(gx, central(lambda z: ref(z, w), x), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(gw, central(lambda z: ref(x, z), w), rtol=1e-7, atol=1e-9)


@gradc.custom_jvp
def soft(x):
    return gnp.log1p(gnp.exp(x))


@soft.defjvp
def _soft_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return soft(x), dx * gnp.sigmoid(x)


def test_nested_conds_and_a_custom_rule_in_a_branch():
    """A cond in a branch of a cond, a custom_jvp function in the inner
    branch: gradient and Hessian against central differences on each
    path."""

    def f(x):
        inner = lambda v: lax.cond(v[1] > 0, lambda u: soft(u) * u, gnp.sin, v)  # noqa: E731
        return gnp.sum(lax.cond(x[0] > 0, inner, lambda v: v**3, x))

    def ref(x):
        v = (np.log1p(np.exp(x)) * x if x[1] > 0 else np.sin(x)) if x[0] > 0 else x**3
        return v.sum()

    grad, hess = gradc.grad(f), gradc.hessian(f)
    for x in (np.array([0.5, 0.3]), np.array([0.5, -0.3]), np.array([-0.5, 0.3])):
        np.testing.assert_allclose(grad(x), central(ref, x), rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(hess(x), central(lambda z: central(ref, z, 1e-4), x, 1e-4), rtol=1e-6, atol=1e-7)


def test_pipeline_options_matmul_in_a_branch():
    """A tiled matmul and large temporaries inside a branch, with and
    without memory planning and with threads: the same numbers, against
    NumPy, and the gradient through it."""
    a = rng.normal(size=(48, 40))
    b = rng.normal(size=(40, 36))

    def f(a, b, t):
        return lax.cond(t > 0, lambda p, q: gnp.tanh(p @ q) @ q.T, lambda p, q: p * 2.0, a, b)

    want_pos = np.tanh(a @ b) @ b.T
    for options in ({}, {"plan_memory": False, "tile": False}, {"threads": 2}):
        jf = gradc.jit(f, **options)
        np.testing.assert_allclose(jf(a, b, 1.0), want_pos, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(jf(a, b, -1.0), a * 2.0, rtol=1e-14)
    g = gradc.grad(lambda a, b: gnp.sum(f(a, b, 1.0)), argnums=1)(a, b)
    h = 1e-6
    for i, j in ((0, 0), (7, 3), (39, 35)):
        e = np.zeros_like(b)
        e[i, j] = h
        fd = (np.sum(np.tanh(a @ (b + e)) @ (b + e).T) - np.sum(np.tanh(a @ (b - e)) @ (b - e).T)) / (2 * h)
        assert g[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-6)


# ---------------------------------------------------------------------------
# Batching (vmap's rule), on the IR: a batched index becomes selects
# ---------------------------------------------------------------------------

SWITCH_IR = """
func.func @f(%k : tensor<i32>, %x : tensor<3xf64>, %s : tensor<f64>) -> tensor<3xf64> {
  %r = array.switch %k (%x, %s) : (tensor<i32>, tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>) {
  ^bb0(%a : tensor<3xf64>, %b : tensor<f64>):
    %y = array.sin %a : tensor<3xf64>
    array.yield %y : tensor<3xf64>
  }, {
  ^bb0(%a : tensor<3xf64>, %b : tensor<f64>):
    %c = array.broadcast %b dims [] : tensor<f64> -> tensor<3xf64>
    %y = array.mul %a, %c : tensor<3xf64>
    array.yield %y : tensor<3xf64>
  }, {
  ^bb0(%a : tensor<3xf64>, %b : tensor<f64>):
    %y = array.sqrt %a : tensor<3xf64>
    array.yield %y : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}
"""


@pytest.mark.parametrize("batched", [(True, True, False), (False, True, True), (True, False, True)])
def test_batching_rule(batched):
    """Row s of the batched function is the function on row s, for a
    batched index (selects over every branch) and an unbatched one (a
    switch of batched branches)."""
    from gradc.passes.autodiff.batching import batch_function
    from gradc.pipeline import make_context
    from xdsl.parser import Parser

    module = Parser(make_context(), SWITCH_IR).parse_module()
    fn = next(iter(module.ops))
    batch_function(module, fn, list(batched), 5, "f_batched")
    module.verify()
    ks = np.array([-2, 0, 1, 2, 9], np.int32)
    xs = np.abs(rng.normal(size=(5, 3))) + 0.1
    ss = rng.normal(size=5)
    args = [ks if batched[0] else ks[2], xs if batched[1] else xs[0], ss if batched[2] else ss[0]]
    got = run_function(module, "f_batched", *args)[0]
    for s in range(5):
        row = [a[s] if bat else a for a, bat in zip(args, batched)]
        want = run_function(module, "f", *row)[0]
        np.testing.assert_allclose(got[s], want, rtol=1e-15)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

X = np.array([1.0, 2.0])


def traced_error(fn, *args):
    with pytest.raises(GradcError) as err:
        gradc.jit(fn)(*args)
    return err


def test_python_if_names_cond_switch_and_while_loop():
    def f(x):
        if gnp.sum(x) > 0:
            return x
        return -x

    err = traced_error(f, X)
    assert isinstance(err.value, TraceTypeError)
    for name in ("gnp.where", "gradc.lax.cond", "gradc.lax.switch", "gradc.lax.while_loop"):
        assert name in str(err.value)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda x: lax.cond(x > 0, gnp.sin, gnp.cos, x), ["pred must be a scalar", "(2,)"]),
        (lambda x: lax.cond("yes", gnp.sin, gnp.cos, x), ["pred must be a bool or a number", "str"]),
        (lambda x: lax.cond(x[0] > 0, gnp.sin, 3.0, x), ["false_fun must be callable"]),
        (lambda x: lax.switch(x[0], [gnp.sin, gnp.cos], x), ["index must be an integer", "float64"]),
        (lambda x: lax.switch(1.5, [gnp.sin, gnp.cos], x), ["index must be an integer", "float"]),
        (lambda x: lax.switch(x[0] > 0, [gnp.sin, gnp.cos], x), ["index must be an integer", "bool"]),
        (lambda x: lax.switch(0, [], x), ["non-empty sequence"]),
        (lambda x: lax.cond(x[0] > 0, lambda v: v, lambda v: (v, v), x), ["false_fun", "true_fun", "structure"]),
        (lambda x: lax.cond(x[0] > 0, lambda v: v, lambda v: v[0], x), ["output", "float64[]", "float64[2]"]),
        (lambda x: lax.switch(x.astype(np.int32)[0], [lambda v: v, lambda v: v.astype(np.float32)], x),
         ["branches[1]", "float32[2]", "branches[0]"]),
        (lambda x: lax.cond(x[0] > 0, lambda v, w: v, lambda v: v, x), ["cannot take the 1 operands", "true_fun"]),
        (lambda x: lax.cond(x[0] > 0, lambda v: v[0].astype(np.int32), lambda v: 1.5, x), ["int32[]", "float64[]"]),
        (lambda x: lax.cond(x[0] > 0, lambda v: v, lambda v: 1.5, x), ["float64[2]", "float64[]"]),
    ],
)
def test_errors_are_located(make, words):
    line = make.__code__.co_firstlineno
    err = traced_error(make, X)
    assert isinstance(err.value, TraceTypeError), err.value
    for word in words:
        assert word in str(err.value), str(err.value)
    assert err.value.location == f"{__file__}:{line}", err.value.location
