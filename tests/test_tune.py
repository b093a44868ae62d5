"""gradc.tune: candidates are checked against NumPy and timed, the winner is
remembered per machine and product shape, and `tuned=True` builds use it
(with the defaults for shapes never tuned); a broken tuning file is
ignored with a warning, never a crash or a wrong number."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
import gradc.tune as tune
from gradc.support import tuning


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tuning.json"
    monkeypatch.setattr(tuning, "store_path", lambda: path)
    return path


def _layer(x, w, b):
    return gnp.tanh(x @ w + b)


def _args(dtype=np.float32):
    rng = np.random.default_rng(3)
    return (
        rng.standard_normal((33, 70)).astype(dtype),
        rng.standard_normal((70, 257)).astype(dtype) / 8,
        rng.standard_normal(257).astype(dtype),
    )


def test_the_winner_is_remembered_and_used(store: Path) -> None:
    record = tune.tune_matmul(33, 257, 70, "float32", options=[{"kc": 8, "direct_bytes": 0}], budget=0.01)
    assert record["options"] == {"kc": 8, "direct_bytes": 0} and record["seconds"] > 0
    assert tune.lookup(tune.Product(33, 257, 70, "float32")) == {"kc": 8, "direct_bytes": 0}
    assert tune.lookup(tune.Product(33, 257, 71, "float32")) is None
    x, w, b = _args()
    tuned = gradc.lower(_layer, x, w, b, options={"tuned": True}).c_source
    untuned = gradc.lower(_layer, x, w, b).c_source
    assert tuned != untuned and "gradc_pack" in tuned  # packed with depth blocks of 8
    want = np.tanh(x.astype(np.float64) @ w + b)
    np.testing.assert_allclose(gradc.jit(_layer, tuned=True)(x, w, b), want, rtol=2e-5, atol=2e-6)


def test_tune_finds_every_product_of_a_gradient(store: Path) -> None:
    x, w, b = _args(np.float64)
    loss = gradc.grad(lambda x, w, b: gnp.sum(_layer(x, w, b) ** 2), argnums=(1, 2))
    records = tune.tune(loss, x, w, b, options=[{}, {"mr": 4}], budget=0.01)
    # Forward x @ w and the backward x^T @ dz (the only products).
    assert sorted(records) == [
        "float64 batch=- m=33 n=257 k=70 ta=0 tb=0",
        "float64 batch=- m=70 n=257 k=33 ta=1 tb=0",
    ]
    assert all(r["options"] in ({}, {"mr": 4}) for r in records.values())
    got = gradc.jit(loss, tuned=True)(x, w, b)
    z = np.tanh(x @ w + b)
    dz = 2 * z * (1 - z * z)
    np.testing.assert_allclose(got[0], x.T @ dz, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], dz.sum(axis=0), rtol=1e-12, atol=1e-12)


def test_a_broken_tuning_file_is_ignored_with_a_warning(store: Path) -> None:
    store.write_text("{not json")
    with pytest.warns(UserWarning, match="ignoring unreadable tuning file"):
        assert tune.lookup(tune.Product(4, 4, 4)) is None
    store.write_text('{"float32 batch=- m=4 n=4 k=4 ta=0 tb=0": {"options": {"kc": -3}}}')
    assert tune.lookup(tune.Product(4, 4, 4)) is None  # an impossible option: not used
    a = np.arange(16.0, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(gradc.jit(lambda a: a @ a, tuned=True)(a), a @ a, rtol=1e-6)


def test_bad_requests() -> None:
    with pytest.raises(gradc.GradcError, match="float32 or float64, got int32"):
        tune.tune_matmul(4, 4, 4, "int32")
    with pytest.raises(gradc.GradcError, match="tuned must be True or False"):
        gradc.jit(lambda a: a, tuned="yes")
