"""A derivative request inside a loop body (gradient descent steps in a
fori_loop), alone and differentiated again: the values of the same loop
run by NumPy with the analytic gradient, and the outer gradient within
finite differences. (Found by the random-program fuzzer: the call that the
inner request becomes stayed in the scan body; see
lit/regressions/found-derivative-in-loop-body.py for the programs it found.)"""

import numpy as np

import gradc
import gradc.numpy as gnp

W = np.array([0.5, -1.0, 2.0])
X = np.array([0.3, 0.1, -0.2])


def descend(c):
    return c - 0.1 * gradc.grad(lambda z: gnp.sum(gnp.tanh(z * W)))(c)


def loop(x):
    return gradc.fori_loop(0, 2, lambda i, c: descend(c), x)


def numpy_loop(x):
    for _ in range(2):
        x = x - 0.1 * W * (1 - np.tanh(x * W) ** 2)
    return x


def test_grad_inside_a_loop_body() -> None:
    np.testing.assert_allclose(gradc.jit(loop)(X), numpy_loop(X), rtol=1e-14)


def test_grad_of_a_loop_with_a_grad_inside() -> None:
    got = gradc.jit(gradc.grad(lambda x: gnp.sum(loop(x) ** 2)))(X)
    h = 1e-6
    fd = [(np.sum(numpy_loop(X + h * e) ** 2) - np.sum(numpy_loop(X - h * e) ** 2)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(got, fd, rtol=1e-7)


def test_jvp_of_a_loop_with_a_grad_inside() -> None:
    v = np.array([1.0, -2.0, 0.5])
    _, tangent = gradc.jit(lambda x, v: gradc.jvp(loop, (x,), (v,)))(X, v)
    h = 1e-6
    np.testing.assert_allclose(tangent, (numpy_loop(X + h * v) - numpy_loop(X - h * v)) / (2 * h), rtol=1e-7)
