"""Bool and integer leaves in every position under every public
transformation: the result is right (against NumPy and finite differences)
or the call raises a located GradcError; never another exception.

Leaves: a Python bool, a Python int (a weakly typed float in gradc, as a
Python number in NumPy), a NumPy bool array, NumPy int32 and int64 arrays
(values without a derivative, as bools).
Positions: an argument (closed over by a loop body too), a differentiated
argument (never differentiable), a loop carry, a scan's xs, an output.
Each program is written once with `gradc.numpy` and once as plain NumPy
(loops as Python loops), the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import gradc
from gradc.errors import GradcError
import gradc.numpy as gnp

KINDS = {
    "py_bool": True,
    "py_int": 3,
    "np_bool": np.array([True, False, True]),
    "np_int32": np.array([1, 0, 2], np.int32),
    "np_int64": np.array([2, 0, 1], np.int64),
}
X = np.array([0.5, -1.0, 2.0])
T = np.array([1.0, 0.5, -2.0])
H = 1e-6


def is_bool(leaf: Any) -> bool:
    return (leaf.dtype if hasattr(leaf, "dtype") else np.asarray(leaf).dtype) == np.bool_


def is_int_array(leaf: Any) -> bool:
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind in "iu"


def step(leaf: Any, m: Any) -> Any:
    """One update of a carried leaf that keeps its kind."""
    return m.logical_not(leaf) if is_bool(leaf) else leaf - 1


# ---------------------------------------------------------------------------
# The programs: (gradc version, NumPy version), both functions of x (and of
# the leaf in the argument position), returning (float scalar, leaf-like).
# ---------------------------------------------------------------------------


def argument(leaf: Any) -> tuple[Callable, Callable]:
    def f(x, l, m=gnp):
        return m.sum(m.where(l, m.sin(x), x * x)), m.where(l, x, -x)

    return f, lambda x, l: f(x, l, np)


def carry(leaf: Any) -> tuple[Callable, Callable]:
    def f(x):
        def body(i, c):
            v, l = c
            return gnp.where(l, v * 0.5, v + gnp.sin(v)), step(l, gnp)

        v, l = gradc.fori_loop(0, 3, body, (x, leaf))
        return gnp.sum(v * v), l

    def ref(x):
        v, l = x, leaf
        for _ in range(3):
            v, l = np.where(l, v * 0.5, v + np.sin(v)), step(l, np)
        return np.sum(v * v), l

    return f, ref


def xs(leaf: Any) -> tuple[Callable, Callable]:
    def f(x):
        c, ys = gradc.scan(lambda c, l: (gnp.where(l, c * 0.5, c + gnp.sin(c)), l), x, leaf)
        return gnp.sum(c * c), ys

    def ref(x):
        c = x
        for l in leaf:
            c = np.where(l, c * 0.5, c + np.sin(c))
        return np.sum(c * c), np.asarray(leaf)

    return f, ref


def output(leaf: Any) -> tuple[Callable, Callable]:
    def f(x, m=gnp):
        return m.sum(x * x), leaf

    return f, lambda x: f(x, np)


# ---------------------------------------------------------------------------
# References by finite differences of the NumPy version
# ---------------------------------------------------------------------------


def jacobian_fd(fn: Callable, x: np.ndarray, h: float = H) -> np.ndarray:
    """d fn / d x, shape fn(x).shape + x.shape."""
    columns = [(np.asarray(fn(x + h * e), float) - np.asarray(fn(x - h * e), float)) / (2 * h) for e in np.eye(x.size)]
    return np.moveaxis(np.array(columns), 0, -1)


def hessian_fd(fn: Callable, x: np.ndarray) -> np.ndarray:
    return jacobian_fd(lambda y: jacobian_fd(fn, y, 1e-4), x, 1e-4)


def assert_matches(got: Any, want: Any, rtol: float = 1e-6) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            assert_matches(g, w, rtol)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype == np.bool_:
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-7)


# ---------------------------------------------------------------------------
# The cases: one per (position, transformation); each says what it computes
# with gradc and what NumPy says it must be
# ---------------------------------------------------------------------------


class Case(NamedTuple):
    run: Callable[[], Any]
    want: Callable[[], Any]
    rtol: float = 1e-6


def argument_cases(leaf: Any, tmp_path: Any) -> dict[str, Case]:
    f, ref = argument(leaf)
    s = lambda x, l: f(x, l)[0]  # noqa: E731
    g = lambda: jacobian_fd(lambda x: ref(x, leaf)[0], X)  # noqa: E731

    def loop(x, l):
        return gradc.fori_loop(0, 2, lambda i, v: gnp.where(l, v * 0.5, v + 1.0), x)

    def loop_ref(x, l):
        for _ in range(2):
            x = np.where(l, x * 0.5, x + 1.0)
        return x

    return {
        "jit": Case(lambda: gradc.jit(f)(X, leaf), lambda: ref(X, leaf)),
        "lower": Case(lambda: gradc.lower(f, X, leaf).compile()(X, leaf), lambda: ref(X, leaf)),
        "export_c": Case(lambda: gradc.export_c(f, X, leaf, path_stem=tmp_path / "f")[0].exists(), lambda: True),
        "grad": Case(lambda: gradc.grad(s)(X, leaf), g),
        "value_and_grad": Case(lambda: gradc.value_and_grad(f, has_aux=True)(X, leaf), lambda: (ref(X, leaf), g())),
        "jacfwd": Case(lambda: gradc.jacfwd(s)(X, leaf), g),
        "jacrev": Case(lambda: gradc.jacrev(s)(X, leaf), g),
        "jacobian": Case(lambda: gradc.jacobian(f)(X, leaf), lambda: (g(), jacobian_fd(lambda x: ref(x, leaf)[1], X))),
        "hessian": Case(lambda: gradc.hessian(s)(X, leaf), lambda: hessian_fd(lambda x: ref(x, leaf)[0], X), 1e-4),
        "checkpoint": Case(lambda: gradc.grad(lambda x, l: gradc.checkpoint(s)(x, l))(X, leaf), g),
        "fori_loop": Case(lambda: gradc.jit(loop)(X, leaf), lambda: loop_ref(X, leaf)),
        "scan": Case(
            lambda: gradc.jit(lambda x, l: gradc.scan(lambda c, _: (gnp.where(l, c * 0.5, c + 1.0), None), x, length=2)[0])(X, leaf),
            lambda: loop_ref(X, leaf),
        ),
    }


def differentiated_cases(leaf: Any) -> dict[str, Case]:
    f, _ = argument(leaf)
    s = lambda x, l: f(x, l)[0]  # noqa: E731
    never = lambda: None  # noqa: E731  (a result would be wrong: the test fails on it)
    return {
        "grad": Case(lambda: gradc.grad(s, argnums=1)(X, leaf), never),
        "value_and_grad": Case(lambda: gradc.value_and_grad(s, argnums=(0, 1))(X, leaf), never),
        "jacfwd": Case(lambda: gradc.jacfwd(f, argnums=1)(X, leaf), never),
        "jacrev": Case(lambda: gradc.jacrev(f, argnums=1)(X, leaf), never),
        "jacobian": Case(lambda: gradc.jacobian(f, argnums=(0, 1))(X, leaf), never),
        "hessian": Case(lambda: gradc.hessian(s, argnums=1)(X, leaf), never),
        "jvp": Case(lambda: gradc.jvp(s, (X, leaf), (T, leaf)), never),
        "vjp": Case(lambda: gradc.vjp(s, X, leaf)[1](1.0), never),
    }


def loop_cases(program: Callable, leaf: Any, tmp_path: Any) -> dict[str, Case]:
    """A program whose leaf is carried by (or scanned by) a loop; the
    derivative transformations see its float output."""
    f, ref = program(leaf)
    s = lambda x: f(x)[0]  # noqa: E731
    g = lambda: jacobian_fd(lambda x: ref(x)[0], X)  # noqa: E731
    cases = {
        "jit": Case(lambda: gradc.jit(f)(X), lambda: ref(X)),
        "lower": Case(lambda: gradc.lower(f, X).compile()(X), lambda: ref(X)),
        "export_c": Case(lambda: gradc.export_c(f, X, path_stem=tmp_path / "f")[0].exists(), lambda: True),
        "grad": Case(lambda: gradc.grad(f, has_aux=True)(X), lambda: (g(), ref(X)[1])),
        "value_and_grad": Case(lambda: gradc.value_and_grad(f, has_aux=True)(X), lambda: (ref(X), g())),
        "jvp": Case(lambda: gradc.jvp(s, (X,), (T,)), lambda: (ref(X)[0], g() @ T)),
        "vjp": Case(lambda: gradc.vjp(s, X)[1](1.0), lambda: (g(),)),
        "jacfwd": Case(lambda: gradc.jacfwd(s)(X), g),
        "jacrev": Case(lambda: gradc.jacrev(s)(X), g),
        "jacobian": Case(lambda: gradc.jacobian(s, mode="rev")(X), g),
        "hessian": Case(lambda: gradc.hessian(s)(X), lambda: hessian_fd(lambda x: ref(x)[0], X), 1e-4),
        "checkpoint": Case(lambda: gradc.value_and_grad(gradc.checkpoint(f), has_aux=True)(X), lambda: (ref(X), g())),
    }
    if program is carry:
        body = lambda i, c: (gnp.where(c[1], c[0] * 0.5, c[0] + gnp.sin(c[0])), step(c[1], gnp))  # noqa: E731

        def carry_ref():
            v, l = X, leaf
            for _ in range(3):
                v, l = np.where(l, v * 0.5, v + np.sin(v)), step(l, np)
            return v, l

        cases["fori_loop"] = Case(lambda: gradc.fori_loop(0, 3, body, (X, leaf)), carry_ref)
        cases["scan"] = Case(lambda: gradc.scan(lambda c, _: (body(0, c), None), (X, leaf), length=3)[0], carry_ref)
    else:

        def xs_ref():
            c = X
            for l in leaf:
                c = np.where(l, c * 0.5, c + np.sin(c))
            return c, np.asarray(leaf)

        cases["scan"] = Case(lambda: gradc.scan(lambda c, l: (gnp.where(l, c * 0.5, c + gnp.sin(c)), l), X, leaf), xs_ref)
    return cases


def output_cases(leaf: Any, tmp_path: Any) -> dict[str, Case]:
    """The leaf is an output next to a float one; derivative
    transformations see both (a bool output has no derivative)."""
    f, ref = output(leaf)
    g = 2 * X
    zero = np.zeros_like(X)
    return {
        "jit": Case(lambda: gradc.jit(f)(X), lambda: ref(X)),
        "lower": Case(lambda: gradc.lower(f, X).compile()(X), lambda: ref(X)),
        "export_c": Case(lambda: gradc.export_c(f, X, path_stem=tmp_path / "f")[0].exists(), lambda: True),
        "grad": Case(lambda: gradc.grad(f, has_aux=True)(X), lambda: (g, ref(X)[1])),
        "value_and_grad": Case(lambda: gradc.value_and_grad(f, has_aux=True)(X), lambda: (ref(X), g)),
        "jvp": Case(lambda: gradc.jvp(f, (X,), (T,)), lambda: (ref(X), (g @ T, 0.0))),
        "vjp": Case(lambda: gradc.vjp(f, X)[1]((1.0, 1.0)), lambda: (g,)),
        "jacfwd": Case(lambda: gradc.jacfwd(f)(X), lambda: (g, zero)),
        "jacrev": Case(lambda: gradc.jacrev(f)(X), lambda: (g, zero)),
        "jacobian": Case(lambda: gradc.jacobian(f)(X), lambda: (g, zero)),
        "hessian": Case(lambda: gradc.hessian(f)(X), lambda: None),
        "checkpoint": Case(lambda: gradc.jit(gradc.checkpoint(f))(X), lambda: ref(X)),
        "fori_loop": Case(lambda: gradc.fori_loop(0, 2, lambda i, c: c, (X, leaf)), lambda: (X, leaf)),
        "scan": Case(lambda: gradc.scan(lambda c, _: (c, leaf), X, length=2)[1], lambda: np.stack([leaf, leaf])),
    }


def cases(position: str, leaf: Any, tmp_path: Any) -> dict[str, Case]:
    if position == "argument":
        return argument_cases(leaf, tmp_path)
    if position == "differentiated":
        return differentiated_cases(leaf)
    if position == "output":
        return output_cases(leaf, tmp_path)
    return loop_cases({"carry": carry, "xs": xs}[position], leaf, tmp_path)


POSITIONS = ("argument", "differentiated", "carry", "xs", "output")
TRANSFORMS = (
    "jit", "lower", "export_c", "grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev",
    "jacobian", "hessian", "checkpoint", "fori_loop", "scan",
)


def expect_error(kind: str, position: str, transform: str) -> bool:
    """Where gradc must refuse, with a located GradcError."""
    leaf = KINDS[kind]
    if position == "differentiated":
        return True  # bools and ints have no derivative
    if position == "argument":
        return kind == "py_bool"  # a flag to close over, not an argument
    if position == "xs":
        return not isinstance(leaf, np.ndarray)  # a Python scalar has no axis to scan over
    if position == "output":
        # Derivatives of a bool or int output do not exist; Python ints are floats.
        differentiates_it = transform in ("jvp", "vjp", "jacfwd", "jacrev", "jacobian")
        return transform == "hessian" or ((is_bool(leaf) or is_int_array(leaf)) and differentiates_it)
    return False


PARAMS = [
    (kind, position, transform)
    for position in POSITIONS
    for transform in TRANSFORMS
    for kind in KINDS
    if transform in cases(position, KINDS[kind], None)
]


@pytest.mark.parametrize("kind, position, transform", PARAMS, ids=["-".join(p) for p in PARAMS])
def test_leaf_kind_gives_a_right_result_or_a_located_gradc_error(kind, position, transform, tmp_path):
    case = cases(position, KINDS[kind], tmp_path)[transform]
    if expect_error(kind, position, transform):
        with pytest.raises(GradcError) as info:
            case.run()
        assert info.value.message and info.value.location is not None, str(info.value)
        assert info.value.location.startswith(__file__), info.value.location
    else:
        assert_matches(case.run(), case.want(), case.rtol)


def test_every_position_meets_every_transformation_it_can():
    """The sweep is complete: each transformation in each position it makes
    sense in (fori_loop carries, scan takes xs; jvp and vjp differentiate
    every primal, so an argument of theirs is a differentiated one)."""
    for position in ("carry", "output"):
        assert set(cases(position, True, None)) == set(TRANSFORMS)
    assert set(cases("argument", True, None)) == set(TRANSFORMS) - {"jvp", "vjp"}
    assert set(cases("xs", True, None)) == set(TRANSFORMS) - {"fori_loop"}
    assert set(cases("differentiated", True, None)) == {"grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian"}
    assert len(PARAMS) > 250
