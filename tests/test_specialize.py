"""`gradc.specialize`: a training step with its weights baked into the C.
Values are checked against the same step written in NumPy (backward pass
by hand) and against the unspecialized `gradc.jit` build; the pruned step's
products must run over the nonzeros only (`sparse-products`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc.dialects import array
from gradc.errors import GradcError

pytestmark = pytest.mark.usefixtures("private_cache")

HERE = Path(__file__).name
RATE = 0.1


def loss(p, x, y):
    h = gnp.tanh(x @ p["w1"] + p["b1"])
    return gnp.sum((h @ p["w2"] + p["b2"] - y) ** 2)


def step(p, x, y):
    value, grads = gradc.value_and_grad(loss)(p, x, y)
    return value, {k: p[k] - RATE * grads[k] for k in p}


def numpy_step(p, x, y):
    h = np.tanh(x @ p["w1"] + p["b1"])
    r = h @ p["w2"] + p["b2"] - y
    dout = 2 * r
    dpre = (dout @ p["w2"].T) * (1 - h * h)
    grads = {"w2": h.T @ dout, "b2": dout.sum(0), "w1": x.T @ dpre, "b1": dpre.sum(0)}
    return np.sum(r * r), {k: p[k] - RATE * grads[k] for k in p}


def problem(pruned: float) -> tuple[dict, np.ndarray, np.ndarray]:
    """A 24-32-16 MLP, batch 6, float64; `pruned` of each weight matrix
    zeroed by magnitude."""
    rng = np.random.default_rng(3)
    p = {"w1": rng.standard_normal((24, 32)), "b1": rng.standard_normal(32),
         "w2": rng.standard_normal((32, 16)), "b2": rng.standard_normal(16)}
    for k in ("w1", "w2"):
        w = p[k]
        w[np.abs(w) < np.quantile(np.abs(w), pruned)] = 0.0
    return p, rng.standard_normal((6, 24)), rng.standard_normal((6, 16))


def assert_close(got, want) -> None:
    assert abs(got[0] - want[0]) <= 1e-12 * max(1.0, abs(want[0]))
    for k in want[1]:
        np.testing.assert_allclose(got[1][k], want[1][k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pruned", [0.0, 0.9], ids=["dense", "pruned90"])
def test_specialized_step_matches_numpy_and_jit(pruned: float) -> None:
    p, x, y = problem(pruned)
    specialized = gradc.specialize(step, p, x, y, constants="p")
    want = numpy_step(p, x, y)
    assert_close(specialized(x, y), want)
    assert_close(JITTED(p, x, y), want)


JITTED = gradc.jit(step)


def test_masked_gradient_is_one_dot_product_per_kept_weight() -> None:
    """A pruned weight's masked gradient, (x^T @ dpre) * mask, with the mask
    baked in: the product is sampled at the mask's nonzeros only."""
    p, x, y = problem(0.9)
    mask = (p["w1"] != 0).astype(np.float64)

    def masked_gradient(p, mask, x, y):
        return gradc.grad(loss)(p, x, y)["w1"] * mask

    specialized = gradc.specialize(masked_gradient, p, mask, x, y, constants=("p", "mask"))
    module = specialized.lower()._module_after("simplified")
    assert not any(isinstance(op, array.MatmulOp) for op in module.walk())
    h = np.tanh(x @ p["w1"] + p["b1"])
    dpre = (2 * (h @ p["w2"] + p["b2"] - y) @ p["w2"].T) * (1 - h * h)
    np.testing.assert_allclose(specialized(x, y), (x.T @ dpre) * mask, rtol=1e-12, atol=1e-12)


def test_pruned_products_run_over_the_nonzeros_only() -> None:
    p, x, y = problem(0.9)
    lowered = gradc.specialize(step, p, x, y, constants=0).lower()
    module = lowered._module_after("simplified")
    ops = list(module.walk())
    # No dense product with a baked weight matrix is left ...
    for op in ops:
        if isinstance(op, array.MatmulOp):
            for operand in op.operands:
                source = operand.owner
                if isinstance(source, array.TransposeOp):
                    source = source.input.owner
                assert not isinstance(source, array.ConstantOp), op
    # ... each is a scatter-add of one term per nonzero: w1's forward
    # product, w2's forward and backward ones.
    terms = sorted(op.updates.type.get_shape()[0] for op in ops if isinstance(op, array.ScatterOp))
    nnz1, nnz2 = np.count_nonzero(p["w1"]), np.count_nonzero(p["w2"])
    assert terms == sorted([nnz1, nnz2, nnz2])
    # In C the values are static const tables of exactly the nonzeros.
    tables = [int(n) for n in re.findall(r"static const double \w+\[(\d+)\]", lowered.c_source)]
    assert nnz1 in tables and nnz2 in tables


def test_zero_rows_and_columns_are_skipped() -> None:
    """A dense weight matrix with zero rows and columns: the product runs
    on the rest (one smaller matmul), checked against NumPy."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((20, 24))
    w[[1, 4, 5, 9, 13], :] = 0.0
    w[:, [0, 2, 3, 17, 20]] = 0.0
    x = rng.standard_normal((7, 20))

    def layer(w, x):
        return gnp.tanh(x @ w)

    specialized = gradc.specialize(layer, w, x, constants="w")
    shapes = [tuple(op.operands[0].type.get_shape()) for op in specialized.lower()._module_after("simplified").walk()
              if isinstance(op, array.MatmulOp)]
    assert shapes == [(19, 15)]  # W^T without its 5 zero columns and 5 zero rows
    np.testing.assert_allclose(specialized(x), np.tanh(x @ w), rtol=1e-13, atol=1e-14)


def test_wrong_constants_are_located_errors() -> None:
    p, x, y = problem(0.0)
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: specialize: constants= names 'params', which is not"):
        gradc.specialize(step, p, x, y, constants="params")
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: specialize: constants= names argument 3, but the call gives 3"):
        gradc.specialize(step, p, x, y, constants=3)
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: specialize: constants= takes an argument position"):
        gradc.specialize(step, p, x, y, constants=[])
    baked = gradc.specialize(loss, p, x, y, constants="p")
    # The specialized function has no parameter for p: asking for its
    # derivative is an argnums error at the user's line.
    with pytest.raises(GradcError, match=rf"{HERE}:\d+: .*argnums"):
        gradc.grad(baked, argnums=2)(x, y)


def test_large_baked_tables_are_bit_exact() -> None:
    """A table past BYTES_TABLE_ELEMENTS is printed as a string of its bytes
    (one past HEX_TABLE_ELEMENTS as hexadecimal floats): every value comes
    back bit for bit, specials included."""
    rng = np.random.default_rng(7)
    big = rng.standard_normal((80, 64)).astype(np.float32) * np.float32(1e-3)
    big.flat[:6] = [np.inf, -np.inf, np.nan, -0.0, np.float32(1e-45), np.finfo(np.float32).max]
    small = rng.standard_normal((2, 64)).astype(np.float32)
    small[0, :3] = [np.float32(1e-45), -np.inf, 3.0e38]
    x = np.ones((80, 64), np.float32)

    def shift(big, small, x):
        return x + big, x[:2] * small

    specialized = gradc.specialize(shift, big, small, x, constants=("big", "small"))
    source = specialized.lower().c_source
    assert "bytes[20481]" in source  # 80 * 64 floats as bytes
    assert re.search(r"static const float \w+\[128\] = \{\n\s+0x", source)  # 2 * 64 as hexadecimal floats
    shifted, scaled = specialized(x)
    np.testing.assert_array_equal((x + big).view(np.uint32), shifted.view(np.uint32))
    np.testing.assert_array_equal((x[:2] * small).view(np.uint32), scaled.view(np.uint32))


def test_constants_by_keyword_and_negative_position_and_traced_through() -> None:
    """Keyword arguments and negative positions bake as positional names do;
    inside a trace the specialized function traces through, so its
    gradient with respect to what it still takes is available."""
    rng = np.random.default_rng(11)
    w, x, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 5)), rng.standard_normal(3)

    def f(x, w, *, b):
        return gnp.sum(gnp.tanh(x @ w + b))

    by_name = gradc.specialize(f, x, w, b=b, constants=("w", "b"))
    assert "func.func @f(%0: tensor<4x5xf64>) -> tensor<f64>" in by_name.lower().array_ir
    by_position = gradc.specialize(f, x, w, b=b, constants=-1)
    assert "func.func @f(%0: tensor<4x5xf64>, %1: tensor<3xf64>) -> tensor<f64>" in by_position.lower(x, b=b).array_ir
    np.testing.assert_allclose(gradc.grad(by_name)(x), (1 - np.tanh(x @ w + b) ** 2) @ w.T, rtol=1e-13, atol=1e-15)
