"""The Python side of checkpointing: `checkpoint=` on gradc.grad /
value_and_grad / vjp / jacrev / jacobian, on gradc.scan / fori_loop (per
loop), and `gradc.checkpoint(f)`. Values are checked against NumPy
references and finite differences, and each mode must reach the loop it
names (the forward scan carries it into lowering); bad spellings are
TraceErrors naming the accepted ones.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
from gradc.errors import GradcError, TraceError
import gradc.numpy as gnp
from tests.test_scan_reverse import directional_fd, loop_loss, numpy_adjoint

rng = np.random.default_rng(20261126)
MODES = ["none", "every=3", "binomial(snapshots=2)", "budget=1024", "recompute"]


def forward_scan_marks(ir: str) -> list[str]:
    """The attribute dictionaries of the scans that carry a tape mark."""
    return [line.strip() for line in ir.splitlines() if "autodiff.tape" in line]


@pytest.mark.parametrize("mode", MODES)
def test_grad_checkpoint_reaches_the_loop_and_keeps_the_gradient(mode):
    n, steps = 5, 7
    w, x0 = rng.normal(size=(n, n)) * 0.5, rng.normal(size=n)
    fn = gradc.grad(lambda w, x0: loop_loss(w, x0, steps), argnums=(0, 1), checkpoint=mode)
    marks = forward_scan_marks(gradc.lower(fn, w, x0).simplified_ir)
    assert len(marks) == 1 and f'autodiff.checkpoint = "{mode}"' in marks[0]
    gw, gx = fn(w, x0)
    ew, ex = numpy_adjoint(w, x0, steps)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)


def test_spellings_are_normalized():
    w, x0 = rng.normal(size=(3, 3)), rng.normal(size=3)
    fn = gradc.grad(lambda w, x0: loop_loss(w, x0, 4), checkpoint=" binomial( snapshots = 3 ) ")
    (mark,) = forward_scan_marks(gradc.lower(fn, w, x0).simplified_ir)
    assert 'autodiff.checkpoint = "binomial(snapshots=3)"' in mark


def test_per_loop_mode_wins_over_the_request():
    """Two loops: the first names its own mode, the second takes the request's."""
    w, x0 = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)

    def loss(w, x):
        x = gradc.fori_loop(0, 5, lambda i, x: x + 0.1 * gnp.tanh(w @ x), x, checkpoint="every=2")
        x = gradc.fori_loop(0, 6, lambda i, x: x + 0.1 * gnp.sin(w @ x), x)
        return gnp.sum(x * x)

    def numpy_loss(w, x):
        for _ in range(5):
            x = x + 0.1 * np.tanh(w @ x)
        for _ in range(6):
            x = x + 0.1 * np.sin(w @ x)
        return float(np.sum(x * x))

    fn = gradc.grad(loss, checkpoint="binomial(snapshots=2)")
    marks = forward_scan_marks(gradc.lower(fn, w, x0).simplified_ir)
    assert len(marks) == 2
    assert sorted('"every=2"' in m for m in marks) == [False, True]
    assert sum('"binomial(snapshots=2)"' in m for m in marks) == 1
    d = rng.normal(size=w.shape)
    fd = directional_fd(lambda w: numpy_loss(w, x0), (w,), (d,))
    assert abs(np.sum(fn(w, x0) * d) - fd) <= 1e-6 * max(1.0, abs(fd))


def test_scan_with_xs_and_outputs_under_every_mode():
    w, xs = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(9, 4))

    def loss(w, xs):
        def body(c, x):
            c = c + 0.1 * gnp.tanh(w @ c + x)
            return c, gnp.sum(c * x)

        c, ys = gradc.scan(body, xs[0], xs)
        return gnp.sum(c * c) + gnp.sum(ys * ys)

    def numpy_loss(w, xs):
        c, total = xs[0], 0.0
        for x in xs:
            c = c + 0.1 * np.tanh(w @ c + x)
            total += float(np.sum(c * x)) ** 2
        return float(np.sum(c * c)) + total

    reference = gradc.grad(loss, argnums=(0, 1))(w, xs)
    dw, dx = rng.normal(size=w.shape), rng.normal(size=xs.shape)
    fd = directional_fd(numpy_loss, (w, xs), (dw, dx))
    assert abs(np.sum(reference[0] * dw) + np.sum(reference[1] * dx) - fd) <= 1e-6 * max(1.0, abs(fd))
    for mode in MODES[1:]:
        got = gradc.grad(loss, argnums=(0, 1), checkpoint=mode)(w, xs)
        for g, r in zip(got, reference):
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-14)


def test_vjp_and_jacrev_take_checkpoint():
    w, x0 = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)

    def states(w, x0):
        return gradc.fori_loop(0, 6, lambda i, x: x + 0.1 * gnp.tanh(w @ x), x0)

    def numpy_states(w, x0):
        x = x0
        for _ in range(6):
            x = x + 0.1 * np.tanh(w @ x)
        return x

    out, vjp_fn = gradc.vjp(states, w, x0, checkpoint="every=2")
    np.testing.assert_allclose(out, numpy_states(w, x0), rtol=1e-13)
    g = rng.normal(size=4)
    gw, gx = vjp_fn(g)
    dw, dx = rng.normal(size=w.shape), rng.normal(size=4)
    fd = directional_fd(lambda w, x: float(g @ numpy_states(w, x)), (w, x0), (dw, dx))
    assert abs(np.sum(gw * dw) + gx @ dx - fd) <= 1e-6 * max(1.0, abs(fd))

    jac = gradc.jacrev(states, argnums=1, checkpoint="binomial(snapshots=2)")(w, x0)
    h = 1e-6
    fd_jac = np.stack([(numpy_states(w, x0 + h * e) - numpy_states(w, x0 - h * e)) / (2 * h) for e in np.eye(4)], 1)
    np.testing.assert_allclose(jac, fd_jac, rtol=1e-6, atol=1e-8)
    ir = gradc.lower(gradc.jacrev(states, argnums=1, checkpoint="every=2"), w, x0).simplified_ir
    assert forward_scan_marks(ir) and all('"every=2"' in m for m in forward_scan_marks(ir))


def layer_stack(w, x):
    return gnp.tanh(w @ gnp.tanh(w @ x))


def numpy_layer_stack(w, x):
    return np.tanh(w @ np.tanh(w @ x))


def test_checkpoint_function_values_and_gradients():
    w, x = rng.normal(size=(5, 5)) * 0.5, rng.normal(size=5)
    stacked = gradc.checkpoint(layer_stack)
    np.testing.assert_allclose(stacked(w, x), numpy_layer_stack(w, x), rtol=1e-13)

    def loss(w, x):
        return gnp.sum(stacked(w, x) ** 2)

    fn = gradc.grad(loss, argnums=(0, 1))
    (mark,) = forward_scan_marks(gradc.lower(fn, w, x).simplified_ir)
    assert '"recompute"' in mark
    gw, gx = fn(w, x)
    dw, dx = rng.normal(size=w.shape), rng.normal(size=5)
    fd = directional_fd(lambda w, x: float(np.sum(numpy_layer_stack(w, x) ** 2)), (w, x), (dw, dx))
    assert abs(np.sum(gw * dw) + gx @ dx - fd) <= 1e-6 * max(1.0, abs(fd))
    plain = gradc.grad(lambda w, x: gnp.sum(layer_stack(w, x) ** 2), argnums=(0, 1))(w, x)
    np.testing.assert_allclose(gw, plain[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gx, plain[1], rtol=1e-12, atol=1e-15)


def test_checkpoint_function_with_pytree_args_inside_a_loop_and_twice_differentiated():
    w, x = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3)
    cell = gradc.checkpoint(lambda p, x: gnp.tanh(p["w"] @ x + p["b"]))

    def loss(w, x):
        p = {"w": w, "b": 0.5}
        x = gradc.fori_loop(0, 4, lambda i, x: cell(p, x), x)
        return gnp.sum(x * x)

    def numpy_loss(w, x):
        for _ in range(4):
            x = np.tanh(w @ x + 0.5)
        return float(np.sum(x * x))

    g = gradc.grad(loss)(w, x)
    d = rng.normal(size=w.shape)
    fd = directional_fd(lambda w: numpy_loss(w, x), (w,), (d,))
    assert abs(np.sum(g * d) - fd) <= 1e-6 * max(1.0, abs(fd))
    hess = gradc.hessian(loss, argnums=1)(w, x)
    h = 1e-4
    fd_h = np.stack([
        (gradc.grad(loss, argnums=1)(w, x + h * e) - gradc.grad(loss, argnums=1)(w, x - h * e)) / (2 * h)
        for e in np.eye(3)
    ], 1)
    np.testing.assert_allclose(hess, fd_h, rtol=1e-6, atol=1e-8)


def test_checkpoint_function_keeps_python_numbers_weak():
    """A Python float argument stays weakly typed (float32 code stays
    float32, as without checkpoint) and a Python int is a number, not an
    int64 array; a traced Python float is differentiated through."""
    x32 = np.array([1.0, 2.0, 3.0], np.float32)
    scaled = gradc.checkpoint(lambda x, s: gnp.sin(x * s) * s)
    for s in (0.5, 3):
        got = gradc.jit(lambda x: scaled(x, s))(x32)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, np.sin(x32 * np.float32(s)) * np.float32(s), rtol=1e-6)
        assert gradc.jit(scaled)(x32, s).dtype == np.float32
    x = x32.astype(np.float64)
    gs = gradc.grad(lambda x, s: gnp.sum(scaled(x, s)), argnums=1)(x, 0.5)
    assert gs == pytest.approx(np.sum(np.cos(x * 0.5) * x * 0.5 + np.sin(x * 0.5)), rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: gradc.grad(np.sum, checkpoint="every=0"), "every=0"),
        (lambda: gradc.grad(np.sum, checkpoint="binomial(16)"), "binomial(snapshots=S)"),
        (lambda: gradc.value_and_grad(np.sum, checkpoint=3), "expected one of"),
        (lambda: gradc.jacrev(np.sum, checkpoint="sometimes"), "expected one of"),
        (lambda: gradc.scan(lambda c, x: (c, x), 0.0, np.ones(3), checkpoint="every"), "expected one of"),
        (lambda: gradc.fori_loop(0, 3, lambda i, x: x, 1.0, checkpoint="budget=-1"), "expected one of"),
        (lambda: gradc.vjp(np.sin, np.ones(2), checkpoint="every=x"), "expected one of"),
    ],
)
def test_bad_checkpoint_spellings(call, message):
    with pytest.raises(TraceError) as info:
        call()
    assert message in str(info.value)
    assert "test_checkpoint_api.py" in str(info.value)  # the user's line


def test_bad_checkpoint_attribute_in_ir_is_a_verifier_error(tmp_path, capsys):
    from gradc.tools.cli import main

    source = tmp_path / "bad.mlir"
    source.write_text(
        'func.func @f(%x: tensor<f64>) -> tensor<f64> {\n'
        '  %y = array.mul %x, %x : tensor<f64>\n'
        '  func.return %y : tensor<f64>\n'
        '}\n'
        'func.func @g(%x: tensor<f64>) -> (tensor<f64>, tensor<f64>) {\n'
        '  %y, %gx = autodiff.grad @f(%x) wrt [0] {checkpoint = "often"} : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)\n'
        '  func.return %y, %gx : tensor<f64>, tensor<f64>\n'
        '}\n'
    )
    code = None
    try:
        code = main([str(source), "-p", "differentiate"])
    except SystemExit as exit_:
        code = exit_.code
    assert code not in (0, None)
    err = capsys.readouterr().err
    assert "bad.mlir:6:3: error: autodiff.grad @f: unknown checkpoint mode 'often'" in err
    assert "Traceback" not in err


def test_a_budget_below_one_state_is_an_error_at_the_users_call():
    w, x0 = np.eye(8), np.ones(8)
    fn = gradc.grad(lambda w, x0: loop_loss(w, x0, 10), checkpoint="budget=32")
    with pytest.raises(GradcError) as info:
        fn(w, x0)
    message = str(info.value)
    assert "a checkpoint budget of 32 bytes does not hold one state of 64 bytes" in message
    assert message.startswith(__file__) and "\n" not in message  # the line of `fn(w, x0)`, no IR dump
    np.testing.assert_allclose(
        gradc.grad(lambda w, x0: loop_loss(w, x0, 10), checkpoint="budget=64")(w, x0),
        numpy_adjoint(w, x0, 10)[0], rtol=1e-12, atol=1e-14,
    )


def test_checkpoint_error_is_a_gradc_error():
    assert issubclass(TraceError, GradcError)
