"""The autodiff passes on whole modules: requests in, array code out.

Modules are written as text with `autodiff` requests in a public `@main`,
run through `differentiate` and the array clean-up (what the default
pipeline does), and executed in the interpreter:
- random compositions of array ops (hypothesis): <vjp(u), v> equals
  <u, jvp(v)>, and forward- and reverse-mode Jacobians agree with each other
  and with finite differences;
- Hessians equal finite differences of the gradient and are symmetric;
- grad nested three times gives the closed-form third derivative;
- after the clean-up a gradient computes no primal work that only the
  function's value needed;
- errors are located at the op and name the function and the op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import Float64Type, ModuleOp, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.parser import Parser
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array
from gradc.interpreter import run_function
from gradc.passes.autodiff.transform import grad_function
from gradc.pipeline import ARRAY_PASSES, make_context, run_pipeline
from gradc.support.dense import numpy_to_dense

F64 = Float64Type()
CLEANUP = ",".join(ARRAY_PASSES)
STEP = 1e-6


def parse(text: str) -> ModuleOp:
    return Parser(make_context(), text).parse_module()


def differentiate(text: str, cleanup: bool = True) -> ModuleOp:
    module = parse(text)
    run_pipeline(module, "differentiate" + ("," + CLEANUP if cleanup else ""))
    module.verify()
    return module


def ty(shape: Sequence[int]) -> str:
    return f"tensor<{'x'.join(map(str, shape))}{'x' if shape else ''}f64>"


def types(shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(ty(s) for s in shapes)


def names(prefix: str, n: int) -> str:
    return ", ".join(f"%{prefix}{i}" for i in range(n))


def typed_args(prefix: str, shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(f"%{prefix}{i}: {ty(s)}" for i, s in enumerate(shapes))


def signature(module: ModuleOp, name: str) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    fn = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name)
    t = fn.function_type
    return [tuple(x.get_shape()) for x in t.inputs.data], [tuple(x.get_shape()) for x in t.outputs.data]


def count_ops(module: ModuleOp, cls: type | None = None) -> int:
    return sum(
        1 for op in module.walk()
        if op.dialect_name() == "array" and (cls is None or isinstance(op, cls))
    )


# --------------------------------------------------------------------------
# Random compositions
# --------------------------------------------------------------------------

N = 3
SQUARE = (N, N)


class Program:
    """Builds a function of two (3, 3) arguments op by op."""

    def __init__(self) -> None:
        self.block = Block(arg_types=[TensorType(F64, SQUARE)] * 2)
        self.pool: list[SSAValue] = list(self.block.args)

    def __call__(self, op: Operation) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def const(self, value: float, shape=SQUARE) -> SSAValue:
        return self(array.ConstantOp(numpy_to_dense(np.full(shape, value))))

    def positive(self, x: SSAValue) -> SSAValue:
        """1 + x^2: a safe argument for log, sqrt, a denominator, a base."""
        return self(array.AddOp(self.const(1.0), self(array.MulOp(x, x))))

    def function(self, outputs: Sequence[SSAValue]) -> str:
        self.block.add_op(func.ReturnOp(*outputs))
        fn = func.FuncOp(
            "f",
            ([a.type for a in self.block.args], [o.type for o in outputs]),
            Region([self.block]),
            visibility="private",
        )
        return str(ModuleOp([fn]).body.block.first_op)


def _reduce_back(p: Program, cls, a: SSAValue, axis: int) -> SSAValue:
    reduced = p(cls(a, [axis]))
    return p(array.BroadcastOp(reduced, [1 - axis], SQUARE))


def _reshape_round_trip(p: Program, a: SSAValue) -> SSAValue:
    """A transpose spelled with reshapes through a size-1 dimension."""
    r = p(array.ReshapeOp(a, (N, 1, N)))
    return p(array.ReshapeOp(p(array.TransposeOp(r, [2, 1, 0])), SQUARE))


def _slice_broadcast(p: Program, a: SSAValue, b: SSAValue) -> SSAValue:
    """A strided slice, a broadcast of a size-1 dimension, a concatenation."""
    column = p(array.SliceOp(a, [0, 1], [N, 2], [2, 1]))  # (2, 1)
    wide = p(array.BroadcastOp(column, [0, 1], (2, N)))
    row = p(array.SliceOp(b, [1, 0], [2, N], [1, 1]))  # (1, N)
    return p(array.ConcatenateOp([wide, row], 0))


STEPS: dict[str, Callable[[Program, SSAValue, SSAValue], SSAValue]] = {
    "neg": lambda p, a, b: p(array.NegOp(a)),
    "exp": lambda p, a, b: p(array.ExpOp(p(array.TanhOp(a)))),
    "log": lambda p, a, b: p(array.LogOp(p.positive(a))),
    "tanh": lambda p, a, b: p(array.TanhOp(a)),
    "sin": lambda p, a, b: p(array.SinOp(a)),
    "cos": lambda p, a, b: p(array.CosOp(a)),
    "sqrt": lambda p, a, b: p(array.SqrtOp(p.positive(a))),
    "abs": lambda p, a, b: p(array.AbsOp(a)),
    "add": lambda p, a, b: p(array.AddOp(a, b)),
    "sub": lambda p, a, b: p(array.SubOp(a, b)),
    "mul": lambda p, a, b: p(array.MulOp(a, b)),
    "div": lambda p, a, b: p(array.DivOp(a, p.positive(b))),
    "max": lambda p, a, b: p(array.MaxOp(a, b)),
    "min": lambda p, a, b: p(array.MinOp(a, b)),
    "pow": lambda p, a, b: p(array.PowOp(p.positive(p(array.TanhOp(a))), p(array.TanhOp(b)))),
    "select": lambda p, a, b: p(array.SelectOp(p(array.CompareOp("lt", a, b)), a, b)),
    "matmul": lambda p, a, b: p(array.MatmulOp(a, b)),
    "matmul_batched": lambda p, a, b: p(array.ReshapeOp(p(array.MatmulOp(
        p(array.ReshapeOp(a, (1, N, N))), p(array.ReshapeOp(b, (1, N, N))))), SQUARE)),
    "transpose": lambda p, a, b: p(array.TransposeOp(a, [1, 0])),
    "reshape": lambda p, a, b: _reshape_round_trip(p, a),
    "reduce_sum": lambda p, a, b: _reduce_back(p, array.ReduceSumOp, a, 0),
    "reduce_max": lambda p, a, b: _reduce_back(p, array.ReduceMaxOp, a, 1),
    "slice_broadcast": lambda p, a, b: _slice_broadcast(p, a, b),
    "concatenate": lambda p, a, b: p(array.ConcatenateOp(
        [p(array.SliceOp(a, [0, 0], [N, 1], [1, 1])), p(array.SliceOp(b, [0, 1], [N, N], [1, 1]))], 1)),
}


@st.composite
def programs(draw) -> str:
    """Text of a private @f(%x, %y) -> (one or two 3x3 results)."""
    p = Program()
    for _ in range(draw(st.integers(1, 6))):
        step = draw(st.sampled_from(sorted(STEPS)))
        a = draw(st.sampled_from(p.pool))
        b = draw(st.sampled_from(p.pool))
        p.pool.append(STEPS[step](p, a, b))
    outputs = [p.pool[-1]] if draw(st.booleans()) else [p.pool[-1], p.pool[-2]]
    return p.function(outputs)


def _point(seed: int, shapes) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s) for s in shapes]


def _dot(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> tuple[float, float]:
    """<xs, ys> and the Cauchy-Schwarz bound |xs| |ys| (the scale of its
    rounding error)."""
    dot = sum(float(np.sum(x * y)) for x, y in zip(xs, ys))
    norm = np.sqrt(sum(float(np.sum(x * x)) for x in xs) * sum(float(np.sum(y * y)) for y in ys))
    return dot, norm


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(programs(), st.integers(0, 2**32 - 1))
def test_vjp_is_the_transpose_of_jvp(f: str, seed: int):
    fn = parse(f)
    ins, outs = signature(fn, "f")
    text = f"""{f}
func.func @main({typed_args("x", ins)}, {typed_args("v", ins)}, {typed_args("u", outs)})
    -> ({types(outs)}, {types(ins)}) {{
  {names("y", len(outs))}, {names("t", len(outs))} = autodiff.jvp @f({names("x", len(ins))}) tangents({names("v", len(ins))}) wrt [0, 1]
    : ({types(ins)}), ({types(ins)}) -> ({types(outs)}), ({types(outs)})
  {names("z", len(outs))}, {names("g", len(ins))} = autodiff.vjp @f({names("x", len(ins))}) cotangents({names("u", len(outs))}) wrt [0, 1]
    : ({types(ins)}), ({types(outs)}) -> ({types(outs)}), ({types(ins)})
  func.return {names("t", len(outs))}, {names("g", len(ins))} : {types(outs)}, {types(ins)}
}}
"""
    module = differentiate(text)
    xs, vs, us = _point(seed, ins), _point(seed + 1, ins), _point(seed + 2, outs)
    results = run_function(module, "main", *xs, *vs, *us)
    tangents, grads = results[: len(outs)], results[len(outs) :]
    forward, scale_f = _dot(us, tangents)
    reverse, scale_r = _dot(grads, vs)
    assert abs(forward - reverse) <= 1e-10 * max(scale_f, scale_r, 1e-300)


def _jacobian_fd(module: ModuleOp, xs: list[np.ndarray], n_out: int) -> list[np.ndarray]:
    """Blocks d out_i / d x_j (shape O_i + I_j), output-major."""
    blocks: list[list[np.ndarray]] = [[] for _ in range(n_out)]
    for j, x in enumerate(xs):
        columns: list[list[np.ndarray]] = [[] for _ in range(n_out)]
        for k in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[k] = STEP
            up = run_function(module, "f", *xs[:j], x + step, *xs[j + 1 :])
            down = run_function(module, "f", *xs[:j], x - step, *xs[j + 1 :])
            for i in range(n_out):
                columns[i].append((up[i] - down[i]) / (2 * STEP))
        for i in range(n_out):
            block = np.stack(columns[i], axis=-1)
            blocks[i].append(block.reshape(block.shape[:-1] + x.shape))
    return [b for row in blocks for b in row]


def _jacobian_text(f: str, ins, outs, wrt: Sequence[int], attrs: str = "") -> str:
    """@main returning the forward then the reverse Jacobian of @f (`attrs`,
    e.g. '{compress = "never"}', on both requests)."""
    jac = [(*o, *ins[j]) for o in outs for j in wrt]
    n = len(jac)
    w = ", ".join(map(str, wrt))
    return f"""{f}
func.func @main({typed_args("x", ins)}) -> ({types(jac)}, {types(jac)}) {{
  {names("a", n)} = autodiff.jacobian @f({names("x", len(ins))}) wrt [{w}] mode "fwd" {attrs} : ({types(ins)}) -> ({types(jac)})
  {names("b", n)} = autodiff.jacobian @f({names("x", len(ins))}) wrt [{w}] mode "rev" {attrs} : ({types(ins)}) -> ({types(jac)})
  func.return {names("a", n)}, {names("b", n)} : {types(jac)}, {types(jac)}
}}
"""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1))
def test_jacobian_forward_equals_reverse_equals_finite_differences(f: str, seed: int):
    ins, outs = signature(parse(f), "f")
    module = differentiate(_jacobian_text(f, ins, outs, [0, 1]))
    xs = _point(seed, ins)
    results = run_function(module, "main", *xs)
    fwd, rev = results[: len(results) // 2], results[len(results) // 2 :]
    want = _jacobian_fd(parse(f), xs, len(outs))
    for a, b, w in zip(fwd, rev, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert np.linalg.norm(a - w) <= 1e-6 * max(np.linalg.norm(w), 1.0)


MIXED = """
func.func private @f(%x: tensor<2x3xf64>, %s: tensor<f64>, %c: tensor<3xf64>) -> (tensor<2xf64>, tensor<f64>, tensor<3x1xf64>) {
  %0 = array.broadcast %c dims [1] : tensor<3xf64> -> tensor<2x3xf64>
  %1 = array.mul %x, %0 : tensor<2x3xf64>
  %2 = array.sin %1 : tensor<2x3xf64>
  %3 = array.reduce_sum %2 axes [1] : tensor<2x3xf64> -> tensor<2xf64>
  %4 = array.broadcast %s dims [] : tensor<f64> -> tensor<2xf64>
  %5 = array.mul %3, %4 : tensor<2xf64>
  %6 = array.reduce_max %1 axes [0, 1] : tensor<2x3xf64> -> tensor<f64>
  %7 = array.exp %s : tensor<f64>
  %8 = array.mul %6, %7 : tensor<f64>
  %9 = array.transpose %x perm [1, 0] : tensor<2x3xf64> -> tensor<3x2xf64>
  %10 = array.slice %9 [0:3:1, 1:2:1] : tensor<3x2xf64> -> tensor<3x1xf64>
  func.return %5, %8, %10 : tensor<2xf64>, tensor<f64>, tensor<3x1xf64>
}
"""


def test_jacobians_of_mixed_shapes_and_wrt_subset():
    """Arguments and outputs of different ranks (0-d included), a constant
    argument left out of `wrt`, blocks in the documented layout."""
    ins, outs = signature(parse(MIXED), "f")
    module = differentiate(_jacobian_text(MIXED, ins, outs, [0, 1]))
    xs = _point(7, ins)
    results = run_function(module, "main", *xs)
    fwd, rev = results[:6], results[6:]
    want = _jacobian_fd(parse(MIXED), xs[:2] + [xs[2]], 3)
    want = [w for k, w in enumerate(want) if k % 3 != 2]  # drop the blocks for %c
    for a, b, w, (o, i) in zip(fwd, rev, want, [(o, i) for o in outs for i in ins[:2]]):
        assert a.shape == (*o, *i)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a, w, rtol=1e-6, atol=1e-8)


def test_jacobian_is_one_batched_call_in_vector_mode():
    ins, outs = signature(parse(MIXED), "f")
    module = parse(_jacobian_text(MIXED, ins, outs, [0, 1], '{compress = "never"}'))
    run_pipeline(module, "autodiff-jacobian")
    calls = [op for op in module.walk() if isinstance(op, func.CallOp)]
    batched = [c for c in calls if c.callee.string_value().endswith(("_batch7", "_batch6"))]
    # 6 + 1 input directions for fwd; 2 + 1 + 3 output directions for rev
    assert sorted(c.callee.string_value() for c in batched) == ["f_jvp_w0_1_batch7", "f_vjp_w0_1_batch6"]
    fwd = next(c for c in batched if "jvp" in c.callee.string_value())
    assert [tuple(v.type.get_shape()) for v in fwd.arguments][3:] == [(7, 2, 3), (7,)]


# --------------------------------------------------------------------------
# Hessians and higher order
# --------------------------------------------------------------------------

ROSENBROCK = """
func.func private @f(%x: tensor<4xf64>, %a: tensor<2xf64>) -> tensor<f64> {
  %lo = array.slice %x [0:3:1] : tensor<4xf64> -> tensor<3xf64>
  %hi = array.slice %x [1:4:1] : tensor<4xf64> -> tensor<3xf64>
  %one = array.constant dense<1.0> : tensor<3xf64>
  %hundred = array.constant dense<100.0> : tensor<3xf64>
  %sq = array.mul %lo, %lo : tensor<3xf64>
  %d = array.sub %hi, %sq : tensor<3xf64>
  %d2 = array.mul %d, %d : tensor<3xf64>
  %t1 = array.mul %hundred, %d2 : tensor<3xf64>
  %e = array.sub %one, %lo : tensor<3xf64>
  %t2 = array.mul %e, %e : tensor<3xf64>
  %t = array.add %t1, %t2 : tensor<3xf64>
  %r = array.reduce_sum %t axes [0] : tensor<3xf64> -> tensor<f64>
  %m = array.reduce_sum %a axes [0] : tensor<2xf64> -> tensor<f64>
  %th = array.tanh %m : tensor<f64>
  %p = array.mul %r, %th : tensor<f64>
  func.return %p : tensor<f64>
}
func.func @main(%x: tensor<4xf64>, %a: tensor<2xf64>) -> (tensor<4x4xf64>, tensor<4x2xf64>, tensor<2x4xf64>, tensor<2x2xf64>, tensor<f64>, tensor<4xf64>, tensor<2xf64>) {
  %h00, %h01, %h10, %h11 = autodiff.hessian @f(%x, %a) wrt [0, 1] : (tensor<4xf64>, tensor<2xf64>) -> (tensor<4x4xf64>, tensor<4x2xf64>, tensor<2x4xf64>, tensor<2x2xf64>)
  %y, %gx, %ga = autodiff.grad @f(%x, %a) wrt [0, 1] : (tensor<4xf64>, tensor<2xf64>) -> (tensor<f64>), (tensor<4xf64>, tensor<2xf64>)
  func.return %h00, %h01, %h10, %h11, %y, %gx, %ga : tensor<4x4xf64>, tensor<4x2xf64>, tensor<2x4xf64>, tensor<2x2xf64>, tensor<f64>, tensor<4xf64>, tensor<2xf64>
}
"""


def test_hessian_equals_finite_differences_of_grad_and_is_symmetric():
    module = differentiate(ROSENBROCK)
    x, a = np.array([0.3, -0.8, 1.1, 0.5]), np.array([0.2, -0.7])
    h00, h01, h10, h11, *_ = run_function(module, "main", x, a)
    full = np.block([[h00, h01], [h10, h11]])
    np.testing.assert_allclose(full, full.T, rtol=1e-12, atol=1e-12)

    def grad(z):
        return np.concatenate(run_function(module, "main", z[:4], z[4:])[5:])

    z = np.concatenate([x, a])
    fd = np.stack([(grad(z + STEP * e) - grad(z - STEP * e)) / (2 * STEP) for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(full, fd, rtol=1e-6, atol=1e-6)


THIRD = """
func.func private @f(%x: tensor<f64>) -> tensor<f64> {{
  %0 = array.{op} %x : tensor<f64>
  func.return %0 : tensor<f64>
}}
func.func private @d1(%x: tensor<f64>) -> tensor<f64> {{
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}}
func.func private @d2(%x: tensor<f64>) -> tensor<f64> {{
  %y, %g = autodiff.grad @d1(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}}
func.func @d3(%x: tensor<f64>) -> tensor<f64> {{
  %y, %g = autodiff.grad @d2(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}}
"""


def _tanh3(x):
    t = np.tanh(x)
    return (1 - t * t) * (6 * t * t - 2)


@pytest.mark.parametrize("op, closed_form", [("tanh", _tanh3), ("sin", lambda x: -np.cos(x))])
def test_third_derivative_by_nesting_grad(op: str, closed_form):
    module = differentiate(THIRD.format(op=op))
    assert [o.sym_name.data for o in module.ops] == ["d3"]
    for x in (-1.3, 0.0, 0.4, 2.0):
        (got,) = run_function(module, "d3", np.array(x))
        np.testing.assert_allclose(got, closed_form(x), rtol=1e-12, atol=1e-14)


def test_transforms_compose_jacfwd_of_jacrev_and_jvp_of_grad():
    text = """
func.func private @f(%x: tensor<3xf64>) -> tensor<f64> {
  %0 = array.sin %x : tensor<3xf64>
  %1 = array.mul %0, %x : tensor<3xf64>
  %2 = array.reduce_sum %1 axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %2 : tensor<f64>
}
func.func private @jr(%x: tensor<3xf64>) -> tensor<3xf64> {
  %j = autodiff.jacobian @f(%x) wrt [0] mode "rev" : (tensor<3xf64>) -> (tensor<3xf64>)
  func.return %j : tensor<3xf64>
}
func.func private @g(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g : tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>, %v: tensor<3xf64>) -> (tensor<3x3xf64>, tensor<3xf64>, tensor<3x3xf64>) {
  %h = autodiff.jacobian @jr(%x) wrt [0] mode "fwd" : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %g, %hv = autodiff.jvp @g(%x) tangents(%v) wrt [0] : (tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  %h2 = autodiff.hessian @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<3x3xf64>)
  func.return %h, %hv, %h2 : tensor<3x3xf64>, tensor<3xf64>, tensor<3x3xf64>
}
"""
    module = differentiate(text)
    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 2.0, -0.5])
    h, hv, h2 = run_function(module, "main", x, v)
    want = np.diag(2 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(h, want, atol=1e-14)
    np.testing.assert_allclose(h2, want, atol=1e-14)
    np.testing.assert_allclose(hv, want @ v, atol=1e-14)


# --------------------------------------------------------------------------
# No dead primal work; reuse; structure
# --------------------------------------------------------------------------

LAYER = """
func.func private @loss(%w: tensor<4x3xf64>, %x: tensor<3x5xf64>) -> (tensor<f64>, tensor<4x5xf64>) {
  %z = array.matmul %w, %x : tensor<4x3xf64>, tensor<3x5xf64> -> tensor<4x5xf64>
  %h = array.tanh %z : tensor<4x5xf64>
  %l = array.reduce_sum %h axes [0, 1] : tensor<4x5xf64> -> tensor<f64>
  %aux = array.exp %z : tensor<4x5xf64>
  func.return %l, %aux : tensor<f64>, tensor<4x5xf64>
}
func.func @main(%w: tensor<4x3xf64>, %x: tensor<3x5xf64>) -> tensor<4x3xf64> {
  %l, %aux, %g = autodiff.grad @loss(%w, %x) wrt [0] : (tensor<4x3xf64>, tensor<3x5xf64>) -> (tensor<f64>, tensor<4x5xf64>), (tensor<4x3xf64>)
  func.return %g : tensor<4x3xf64>
}
"""


def test_grad_keeps_no_dead_primal_work():
    """Only the gradient is used: the loss's reduction and the auxiliary
    output are gone, and what remains is the hand-written gradient
    (W x, tanh, 1 - h^2, one matmul with x^T), nothing else."""
    module = differentiate(LAYER)
    assert count_ops(module, array.ReduceSumOp) == 0
    assert count_ops(module, array.ExpOp) == 0
    assert count_ops(module, array.TanhOp) == 1
    assert count_ops(module, array.MatmulOp) == 2
    # matmul, tanh, constant 1, mul, sub, transpose, matmul
    assert count_ops(module) == 7, str(module)
    w = np.random.default_rng(0).normal(size=(4, 3))
    x = np.random.default_rng(1).normal(size=(3, 5))
    (g,) = run_function(module, "main", w, x)
    np.testing.assert_allclose(g, (1 - np.tanh(w @ x) ** 2) @ x.T, rtol=1e-13)


def test_same_request_twice_generates_one_function():
    text = LAYER.replace(
        "  func.return %g",
        "  %l2, %aux2, %g2 = autodiff.grad @loss(%w, %x) wrt [0] : (tensor<4x3xf64>, tensor<3x5xf64>) -> (tensor<f64>, tensor<4x5xf64>), (tensor<4x3xf64>)\n"
        "  %s = array.add %g, %g2 : tensor<4x3xf64>\n  func.return %s",
    )
    module = parse(text)
    run_pipeline(module, "autodiff-reverse")
    generated = [op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)]
    assert generated == ["loss", "main", "loss_value_and_grad_w0"]
    run_pipeline(module, "differentiate," + CLEANUP)
    # @loss was unreferenced before differentiate ran, so it stays; the
    # generated function, inlined, goes.
    assert [op.sym_name.data for op in module.ops] == ["loss", "main"]
    main = next(op for op in module.ops if op.sym_name.data == "main")
    assert sum(isinstance(op, array.MatmulOp) for op in main.walk()) == 2


def test_differentiate_erases_only_what_it_made_unused():
    text = LAYER + """
func.func private @unused(%x: tensor<3xf64>) -> tensor<3xf64> {
  %0 = func.call @helper(%x) : (tensor<3xf64>) -> tensor<3xf64>
  func.return %0 : tensor<3xf64>
}
func.func private @helper(%x: tensor<3xf64>) -> tensor<3xf64> {
  %0 = array.neg %x : tensor<3xf64>
  func.return %0 : tensor<3xf64>
}
"""
    module = differentiate(text, cleanup=False)
    assert [op.sym_name.data for op in module.ops] == ["main", "unused"]
    assert not any(isinstance(op, func.CallOp) for op in module.walk())


def test_inactive_arguments_get_no_adjoint_work():
    """wrt [1] of loss(w, x): no adjoint flows to w, and the auxiliary
    output exp(w x) gets a symbolic zero cotangent: the reverse sweep is one
    matmul (w^T times the adjoint of w x)."""
    module = parse(LAYER)
    fn = next(op for op in module.ops if op.sym_name.data == "loss")
    grad = grad_function(module, fn, [1])
    assert grad.sym_name.data == "loss_value_and_grad_w1"
    matmuls = [op for op in grad.walk() if isinstance(op, array.MatmulOp)]
    assert len(matmuls) == 2  # the forward one, and w^T g for x
    assert count_ops(ModuleOp([grad.clone()]), array.ExpOp) == 1  # aux, forward only


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

ERRORS = {
    "no_rule": (
        """
func.func private @f(%x: tensor<3xf64>) -> tensor<f64> {
  %0 = arith.addf %x, %x : tensor<3xf64>
  %1 = array.reduce_sum %0 axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %1 : tensor<f64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g : tensor<3xf64>
}
""",
        "@f: cannot differentiate 'arith.addf': it has no vjp rule",
        "arith.addf",
    ),
    "recursive_request": (
        """
func.func @f(%x: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
""",
        "@f asks for a derivative of itself: recursion cannot be differentiated",
        "autodiff.grad",
    ),
    "recursive_call": (
        """
func.func @f(%x: tensor<f64>) -> tensor<f64> {
  %0 = func.call @f(%x) : (tensor<f64>) -> tensor<f64>
  func.return %0 : tensor<f64>
}
func.func @main(%x: tensor<f64>, %t: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.jvp @f(%x) tangents(%t) wrt [0] : (tensor<f64>), (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
""",
        "@f: recursive call to @f in @f cannot be inlined",
        "func.call",
    ),
    "declaration": (
        """
func.func private @ext(%x: tensor<f64>) -> tensor<f64>
func.func @f(%x: tensor<f64>) -> tensor<f64> {
  %0 = func.call @ext(%x) : (tensor<f64>) -> tensor<f64>
  func.return %0 : tensor<f64>
}
func.func @main(%x: tensor<f64>, %u: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.vjp @f(%x) cotangents(%u) wrt [0] : (tensor<f64>), (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
""",
        "@f: cannot inline the call to @ext in @f: it is not a function with a body",
        "func.call",
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_name_the_function_and_the_op(name: str):
    text, message, op_name = ERRORS[name]
    module = parse(text)
    with pytest.raises(PassFailedException) as info:
        run_pipeline(module, "differentiate")
    assert message in str(info.value)
    # located: the diagnostic marks the offending op in the printed IR
    notes = "".join(getattr(info.value, "__notes__", []))
    marked = [line for line in notes.splitlines() if op_name in line]
    assert marked and message in notes


def test_pass_that_cannot_expand_an_inner_request_says_so():
    text = """
func.func private @g(%x: tensor<f64>) -> tensor<f64> {
  %0 = array.sin %x : tensor<f64>
  func.return %0 : tensor<f64>
}
func.func private @f(%x: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.grad @g(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
func.func @main(%x: tensor<f64>, %t: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.jvp @f(%x) tangents(%t) wrt [0] : (tensor<f64>), (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
"""
    with pytest.raises(PassFailedException, match="needs 'autodiff.grad' in @f expanded first"):
        run_pipeline(parse(text), "autodiff-forward")
    module = differentiate(text)
    (got,) = run_function(module, "main", np.array(0.5), np.array(2.0))
    np.testing.assert_allclose(got, -np.sin(0.5) * 2.0)

