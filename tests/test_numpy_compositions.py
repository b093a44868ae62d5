"""Every composition gradc's messages suggest for a NumPy function that
gradc.numpy lacks (gradc.frontend.compositions.COMPOSITIONS) runs in gradc, as
the message spells it, and gives NumPy's values."""

from __future__ import annotations

import numpy as np
import pytest

import gradc
from gradc.frontend.compositions import COMPOSITIONS
import gradc.numpy as gnp

rng = np.random.default_rng(20261201)
X = rng.normal(size=(4, 3))
V = rng.normal(size=4)

# name -> one (traced arguments, constants, NumPy's result) per expression
EXAMPLES = {
    "fabs": [({"x": V}, {}, lambda x: np.fabs(x))],
    "copy": [({"x": X}, {}, lambda x: np.copy(x))],
    "count_nonzero": [({"x": np.where(X > 0, X, 0.0)}, {}, lambda x: np.count_nonzero(x))],
}

CASES = [(name, k) for name, ways in COMPOSITIONS.items() for k in range(len(ways))]


def test_every_composition_has_an_example():
    assert set(EXAMPLES) == set(COMPOSITIONS)
    assert all(len(EXAMPLES[name]) == len(COMPOSITIONS[name]) for name in COMPOSITIONS)


@pytest.mark.parametrize("name, k", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_composition_gives_numpys_values(name, k):
    expression = COMPOSITIONS[name][k][0]
    traced, constants, numpy_fn = EXAMPLES[name][k]
    scope = {"gnp": gnp, "np": np, "gradc": gradc, **constants}

    def composed(**arrays):
        return eval(expression, {**scope, **arrays})  # noqa: S307 - the message's own text

    got = gradc.jit(composed)(**traced)
    want = numpy_fn(**traced)
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
    for g, w in zip(got if isinstance(want, list) else [got], want if isinstance(want, list) else [want]):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape
        if w.dtype == np.bool_:
            assert g.dtype == np.bool_
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, equal_nan=True)
            assert np.array_equal(np.signbit(g), np.signbit(w))  # -0.0 where NumPy has it, only there
            if w.dtype != np.int64:
                assert g.dtype == w.dtype
