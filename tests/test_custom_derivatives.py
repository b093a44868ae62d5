"""gradc.custom_jvp and gradc.custom_vjp: the programs a JAX user writes
with custom derivative rules (stable derivatives, safe norms, clipped
gradients, implicit functions), checked against analytic derivatives and
central finite differences, in every mode and inside loops; and the
errors a wrong rule gives."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp


def central(f, x, h=1e-6):
    """Central finite differences of scalar f at array x (float64)."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------
# custom_jvp: a stable derivative
# ---------------------------------------------------------------------------


@gradc.custom_jvp
def log1pexp(x):
    return gnp.log(1.0 + gnp.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return log1pexp(x), x_dot * (1.0 - 1.0 / (1.0 + gnp.exp(x)))


def plain_log1pexp(x):
    return gnp.log(1.0 + gnp.exp(x))


def test_log1pexp_stable_gradient_where_the_plain_one_overflows():
    x = np.array([-3.0, 0.5, 100.0], np.float32)

    @gradc.jit
    def both(x):
        custom = gradc.grad(lambda x: gnp.sum(log1pexp(x)))(x)
        plain = gradc.grad(lambda x: gnp.sum(plain_log1pexp(x)))(x)
        return log1pexp(x), custom, plain

    value, custom, plain = both(x)
    assert value.dtype == np.float32 and custom.dtype == np.float32
    np.testing.assert_allclose(value[:2], np.log1p(np.exp(x[:2].astype(np.float64))), rtol=1e-6)
    # exp(100) overflows float32: the plain derivative is inf/inf, the rule's is 1.
    assert np.isnan(plain[2])
    assert np.all(np.isfinite(custom))
    np.testing.assert_allclose(custom, sigmoid(x.astype(np.float64)), rtol=1e-6)


def test_log1pexp_every_mode_and_second_order():
    x = np.array([-2.0, 0.3, 1.5, 40.0])
    v = np.array([0.5, -1.0, 2.0, 1.0])
    loss = lambda x: gnp.sum(log1pexp(x))

    @gradc.jit
    def everything(x, v):
        y, t = gradc.jvp(log1pexp, (x,), (v,))
        return (
            t,
            gradc.jacfwd(log1pexp)(x),
            gradc.jacrev(log1pexp)(x),
            gradc.hessian(loss)(x),
            gradc.grad(gradc.grad(lambda s: log1pexp(s)))(x[1]),
            gradc.jacfwd(gradc.jacfwd(lambda s: log1pexp(s)))(x[2]),
        )

    t, jf, jr, h, gg, ff = everything(x, v)
    s = sigmoid(x)
    ds = np.exp(-x) / (1 + np.exp(-x)) ** 2  # s (1 - s), without cancellation at x = 40
    np.testing.assert_allclose(t, v * s, rtol=1e-12)
    np.testing.assert_allclose(jf, np.diag(s), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(jr, np.diag(s), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(h, np.diag(ds), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(gg, ds[1], rtol=1e-12)
    np.testing.assert_allclose(ff, ds[2], rtol=1e-12)


# ---------------------------------------------------------------------------
# custom_jvp: a safe norm, defjvps, nondiff_argnums, pytrees
# ---------------------------------------------------------------------------


@gradc.custom_jvp
def safe_norm(x):
    return gnp.sqrt(gnp.sum(x * x))


@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = safe_norm(x)
    at_zero = y == 0.0
    return y, gnp.where(at_zero, 0.0, gnp.sum(x * t) / gnp.where(at_zero, 1.0, y))


def test_safe_norm_is_zero_at_the_origin():
    @gradc.jit
    def grads(x, z):
        g = gradc.grad(safe_norm)
        plain = gradc.grad(lambda x: gnp.sqrt(gnp.sum(x * x)))
        return g(x), g(z), plain(z), gradc.jacfwd(safe_norm)(z)

    gx, gz, plain_z, jz = grads(np.array([3.0, 4.0]), np.zeros(2))
    np.testing.assert_allclose(gx, [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(gz, [0.0, 0.0])
    np.testing.assert_array_equal(jz, [0.0, 0.0])
    assert np.all(np.isnan(plain_z))  # what the rule is for


def test_defjvps_nondiff_argnums_and_pytrees():
    @gradc.custom_jvp
    def f(x, y):
        return x * gnp.sin(y)

    f.defjvps(lambda x_dot, ans, x, y: x_dot * gnp.sin(y), lambda y_dot, ans, x, y: x * gnp.cos(y) * y_dot)

    @partial(gradc.custom_jvp, nondiff_argnums=(0,))
    def apply(fn, x, scale=1.0):
        return fn(x) * scale

    @apply.defjvp
    def apply_jvp(fn, primals, tangents):
        (x, scale), (t, t_scale) = primals, tangents  # the default is an argument too, as in JAX
        return apply(fn, x, scale), 2.0 * t + 10.0 * t_scale  # not fn's derivative: the rule is used

    @gradc.custom_jvp
    def affine(p, x):
        return {"y": p["w"] * x + p["b"]}

    @affine.defjvp
    def affine_jvp(primals, tangents):
        (p, x), (dp, dx) = primals, tangents
        return affine(p, x), {"y": dp["w"] * x + p["w"] * dx + dp["b"]}

    @gradc.jit
    def run(x, y, p):
        return (
            gradc.grad(f, argnums=(0, 1))(x, y),
            gradc.grad(lambda x: apply(gnp.sin, x))(x),
            gradc.grad(lambda s: apply(gnp.sin, x, scale=s))(y),
            gradc.grad(lambda p, x: gnp.sum(affine(p, x)["y"] ** 2), argnums=(0, 1))(p, y),
        )

    p = {"w": np.array([1.5, -2.0]), "b": np.array([0.25, 0.5])}
    (gx, gy), ga, g_scale, (gp, gpx) = run(0.7, 1.3, p)
    np.testing.assert_allclose([gx, gy], [math.sin(1.3), 0.7 * math.cos(1.3)], rtol=1e-15)
    assert ga == 2.0 and g_scale == 10.0
    r = p["w"] * 1.3 + p["b"]
    np.testing.assert_allclose(gp["w"], 2 * r * 1.3, rtol=1e-15)
    np.testing.assert_allclose(gp["b"], 2 * r, rtol=1e-15)
    np.testing.assert_allclose(gpx, np.sum(2 * r * p["w"]), rtol=1e-15)


# ---------------------------------------------------------------------------
# custom_vjp: clip_gradient, second order, an implicit function
# ---------------------------------------------------------------------------


@gradc.custom_vjp
def clip_gradient(lo, hi, x):
    return x


def clip_gradient_fwd(lo, hi, x):
    return x, (lo, hi)


def clip_gradient_bwd(res, g):
    lo, hi = res
    return (None, None, gnp.clip(g, lo, hi))


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def test_clip_gradient_and_grad_of_grad():
    @gradc.jit
    def run(x, s):
        loss = lambda x: gnp.sum(clip_gradient(-0.5, 0.5, 3.0 * x) ** 2 / 2)
        once = lambda s: clip_gradient(-0.5, 0.5, gnp.sin(s))
        return (
            clip_gradient(-0.5, 0.5, x),
            gradc.grad(loss)(x),
            gradc.grad(once)(s),
            gradc.grad(gradc.grad(once))(s),
            gradc.jacrev(lambda x: clip_gradient(-1.0, 1.0, x * x))(x),
        )

    x = np.array([0.05, -0.1, 2.0])
    value, g, g1, g2, jr = run(x, 1.0)
    np.testing.assert_array_equal(value, x)
    # cotangent 3x reaches the clip, which bounds it to [-0.5, 0.5], then * 3
    np.testing.assert_allclose(g, 3 * np.clip(3 * x, -0.5, 0.5), rtol=1e-15)
    assert g1 == pytest.approx(0.5 * math.cos(1.0), rel=1e-15)
    # reverse over reverse differentiates bwd as ordinary code: d/ds (0.5 cos s)
    assert g2 == pytest.approx(-0.5 * math.sin(1.0), rel=1e-15)
    np.testing.assert_allclose(jr, np.diag(np.clip(np.ones(3), -1, 1) * 2 * x), rtol=1e-15)


def newton_sqrt_step(a, x):
    return 0.5 * (x + a / x)


@partial(gradc.custom_vjp, nondiff_argnums=(0,))
def fixed_point(step, a, x0):
    return gradc.fori_loop(0, 40, lambda i, x: step(a, x), x0)


def fixed_point_fwd(step, a, x0):
    z = fixed_point(step, a, x0)
    return z, (a, z)


def fixed_point_bwd(step, res, z_bar):
    # Implicit function theorem for z = step(a, z), elementwise:
    # dz/da = (d step/da) / (1 - d step/dz).
    a, z = res
    dstep_dz = gradc.grad(lambda z: gnp.sum(step(a, z)))(z)
    dstep_da = gradc.grad(lambda a: gnp.sum(step(a, z)))(a)
    return z_bar * dstep_da / (1.0 - dstep_dz), None


fixed_point.defvjp(fixed_point_fwd, fixed_point_bwd)


def test_implicit_function_derivative_against_the_unrolled_solver():
    a = np.array([2.0, 9.0, 0.3])
    w = np.array([1.0, -0.5, 2.0])

    @gradc.jit
    def run(a):
        loss = lambda a: gnp.sum(w * fixed_point(newton_sqrt_step, a, gnp.ones_like(a)))
        return loss(a), gradc.grad(loss)(a)

    unrolled = gradc.jit(lambda a: gnp.sum(w * gradc.fori_loop(0, 40, lambda i, x: newton_sqrt_step(a, x), gnp.ones_like(a))))
    value, g = run(a)
    assert value == pytest.approx(np.sum(w * np.sqrt(a)), rel=1e-14)
    np.testing.assert_allclose(g, central(lambda a: float(unrolled(a)), a), rtol=1e-7)
    np.testing.assert_allclose(g, w / (2 * np.sqrt(a)), rtol=1e-12)


# ---------------------------------------------------------------------------
# Inside loops and checkpoints
# ---------------------------------------------------------------------------


def test_custom_functions_in_scan_fori_loop_and_checkpoint():
    xs = np.array([0.3, -1.2, 0.8, 2.0])

    def rnn(w):
        def body(h, x):
            h = log1pexp(w * h + x) - 1.0
            return h, clip_gradient(-10.0, 10.0, h * h)

        h, ys = gradc.scan(body, 0.2, xs)
        return h + gnp.sum(ys)

    def looped(w):
        return gradc.fori_loop(0, 3, lambda i, c: safe_norm(c * w) * gnp.ones(2) + 0.1, gnp.array([0.5, -0.25]))[0]

    def remat(w):
        return gnp.sum(gradc.checkpoint(lambda v: log1pexp(v) * gnp.cos(v))(w * xs))

    @gradc.jit
    def run(w):
        return tuple(gradc.value_and_grad(f)(w) for f in (rnn, looped, remat))

    @gradc.jit
    def forward(w):  # forward mode through the loops, forward over reverse through the checkpoint
        return gradc.jacfwd(looped)(w), gradc.hessian(remat)(w)  # (rnn holds a custom_vjp)

    w = 0.7
    d_looped, h_remat = forward(w)
    assert d_looped == pytest.approx(central(lambda w: _np_looped(float(w)), np.array(w)), rel=1e-7)
    assert h_remat == pytest.approx(central(lambda w: _np_remat_grad(float(w), xs), np.array(w)), rel=1e-7)
    plain = {
        "rnn": lambda w: _np_rnn(w, xs),
        "looped": lambda w: _np_looped(w),
        "remat": lambda w: float(np.sum(np.log1p(np.exp(w * xs)) * np.cos(w * xs))),
    }
    for (value, grad), (name, f) in zip(run(w), plain.items()):
        assert value == pytest.approx(f(w), rel=1e-13), name
        assert grad == pytest.approx(central(lambda w: f(float(w)), np.array(w)), rel=1e-7), name


def _np_rnn(w, xs):
    h, total = 0.2, 0.0
    for x in xs:
        h = math.log1p(math.exp(w * h + x)) - 1.0
        total += h * h
    return h + total


def _np_remat_grad(w, xs):
    u = w * xs
    return float(np.sum(xs * (sigmoid(u) * np.cos(u) - np.log1p(np.exp(u)) * np.sin(u))))


def _np_looped(w):
    c = np.array([0.5, -0.25])
    for _ in range(3):
        c = np.linalg.norm(c * w) * np.ones(2) + 0.1
    return float(c[0])


def test_called_outside_any_trace_runs_the_primal():
    x = np.array([0.5, -3.0])
    np.testing.assert_allclose(log1pexp(x), np.log1p(np.exp(x)), rtol=1e-14)
    np.testing.assert_array_equal(clip_gradient(-1.0, 1.0, x), x)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_forward_mode_through_custom_vjp_is_a_located_error():
    with pytest.raises(gradc.GradcError, match=r"forward-mode autodiff \(jvp\).*custom_vjp.*custom_jvp") as info:
        gradc.jacfwd(lambda x: clip_gradient(-1.0, 1.0, x) * 2.0)(np.ones(2))
    assert info.value.location is not None and info.value.location.startswith(__file__)


def test_bwd_returning_the_wrong_number_or_shapes_of_cotangents():
    @gradc.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(TypeError, match=r"custom_vjp rule <lambda> of f must return a tuple with one cotangent.*\(2\), got a tuple of length 1") as info:
        gradc.grad(lambda x: gnp.sum(f(x, 2.0 * x)))(np.ones(3))
    assert info.value.location.startswith(__file__)

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1], gnp.sum(g)))
    with pytest.raises(TypeError, match=r"the cotangent of y is float64\[\], but the argument is float64\[3\]"):
        gradc.grad(lambda x: gnp.sum(f(x, 2.0 * x)))(np.ones(3))


def test_jvp_rule_outputs_must_match_the_function():
    @gradc.custom_jvp
    def f(x):
        return gnp.sin(x)

    @f.defjvp
    def bad_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return gnp.sin(x), (t * gnp.cos(x)).astype(np.float32)

    with pytest.raises(TypeError, match=r"custom_jvp rule bad_jvp of f: its tangent output is float32\[3\], but f returns float64\[3\]") as info:
        gradc.grad(lambda x: gnp.sum(f(x)))(np.ones(3))
    assert info.value.location.startswith(__file__)

    f.defjvp(lambda primals, tangents: (gnp.sin(primals[0]), tangents[0][:2]))
    with pytest.raises(TypeError, match=r"float64\[2\], but f returns float64\[3\]"):
        gradc.grad(lambda x: gnp.sum(f(x)))(np.ones(3))


def test_differentiating_a_closed_over_value_is_an_error():
    def loss(w, x):
        @gradc.custom_jvp
        def scaled(x):
            return w * x

        scaled.defjvp(lambda p, t: (scaled(p[0]), w * t[0]))
        return gnp.sum(scaled(x))

    assert gradc.grad(loss, argnums=1)(2.0, np.ones(2)) == pytest.approx([2.0, 2.0])
    with pytest.raises(gradc.GradcError, match=r"closes over a value that is being differentiated"):
        gradc.grad(loss)(2.0, np.ones(2))


def test_calling_without_a_rule():
    @gradc.custom_vjp
    def f(x):
        return x

    with pytest.raises(TypeError, match=r"custom_vjp function f has no rule: define one with f.defvjp"):
        f(np.ones(2))


# ---------------------------------------------------------------------------
# The IR: batching keeps the rules, the interpreter runs the primal
# ---------------------------------------------------------------------------

_BATCH_IR = """
func.func private @sq(%x: tensor<2xf64>, %c: tensor<f64>) -> tensor<2xf64> {
  %y = array.mul %x, %x : tensor<2xf64>
  func.return %y : tensor<2xf64>
}
func.func private @sq_jvp(%x: tensor<2xf64>, %c: tensor<f64>, %dx: tensor<2xf64>) -> (tensor<2xf64>, tensor<2xf64>) {
  %y = array.mul %x, %x : tensor<2xf64>
  %cb = array.broadcast %c dims [] : tensor<f64> -> tensor<2xf64>
  %t = array.mul %dx, %cb : tensor<2xf64>
  func.return %y, %t : tensor<2xf64>, tensor<2xf64>
}
func.func private @sq_fwd(%x: tensor<2xf64>, %c: tensor<f64>) -> (tensor<2xf64>, tensor<2xf64>) {
  %y = array.mul %x, %x : tensor<2xf64>
  func.return %y, %x : tensor<2xf64>, tensor<2xf64>
}
func.func private @sq_bwd(%x: tensor<2xf64>, %c: tensor<f64>, %r: tensor<2xf64>, %g: tensor<2xf64>) -> tensor<2xf64> {
  %cb = array.broadcast %c dims [] : tensor<f64> -> tensor<2xf64>
  %t = array.mul %g, %cb : tensor<2xf64>
  func.return %t : tensor<2xf64>
}
func.func @f(%x: tensor<2xf64>, %c: tensor<f64>) -> (tensor<2xf64>, tensor<2xf64>) {
  %a = autodiff.custom_jvp @sq(%x, %c) jvp @sq_jvp diff [0] : (tensor<2xf64>, tensor<f64>) -> (tensor<2xf64>)
  %b = autodiff.custom_vjp @sq(%a, %c) fwd @sq_fwd bwd @sq_bwd diff [0] : (tensor<2xf64>, tensor<f64>) -> (tensor<2xf64>)
  func.return %a, %b : tensor<2xf64>, tensor<2xf64>
}
"""


def test_batched_custom_ops_keep_their_rules():
    from xdsl.parser import Parser

    from gradc.dialects import autodiff
    from gradc.interpreter import run_function
    from gradc.passes.autodiff.batching import batch_function
    from gradc.pipeline import make_context, run_pipeline

    module = Parser(make_context(), _BATCH_IR).parse_module()
    f = next(op for op in module.ops if op.sym_name.data == "f")
    batch_function(module, f, [True, True], 3, "f_batched")
    module.verify()
    batched = next(op for op in module.ops if op.sym_name.data == "f_batched")
    kinds = [type(op) for op in batched.body.block.ops]
    assert autodiff.CustomJvpOp in kinds and autodiff.CustomVjpOp in kinds
    x = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
    c = np.array([2.0, -1.0, 0.5])
    a, b = run_function(module, "f_batched", x, c)
    np.testing.assert_array_equal(a, x**2)
    np.testing.assert_array_equal(b, x**4)
    # The batched ops still differentiate with their (batched) rules: the
    # transposed rule of a gives g * c (not 2 x g), the bwd of b g * c.
    text = _BATCH_IR + """
func.func @d(%x: tensor<3x2xf64>, %c: tensor<3xf64>, %v: tensor<3x2xf64>) -> tensor<3x2xf64> {
  %z:2, %g = autodiff.vjp @f_batched_again(%x, %c) cotangents(%v, %v) wrt [0] : (tensor<3x2xf64>, tensor<3xf64>), (tensor<3x2xf64>, tensor<3x2xf64>) -> (tensor<3x2xf64>, tensor<3x2xf64>), (tensor<3x2xf64>)
  func.return %g : tensor<3x2xf64>
}
"""
    module = Parser(make_context(), text).parse_module()
    f = next(op for op in module.ops if op.sym_name.data == "f")
    batch_function(module, f, [True, True], 3, "f_batched_again")
    run_pipeline(module, "differentiate")
    v = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (g,) = run_function(module, "d", x, c, v)
    # g = v * c (through b's bwd) + (v * c) * c (through a's transposed rule)
    np.testing.assert_array_equal(g, v * c[:, None] + v * c[:, None] ** 2)
