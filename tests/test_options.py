"""Pipeline options (`gradc.Options`: tiling, memory planning, threads): every
combination computes the numbers of the untiled pipeline and of the
interpreter at the array level, on programs whose sizes hit the edges of the
tiles (1, 7, 33, 257) and on a full MLP training step (gradients included)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradc
from gradc.frontend import pytree
from gradc.interpreter import run_function
import gradc.numpy as gnp
from gradc.pipeline import DIFFERENTIATE, Options, run_pipeline

pytestmark = pytest.mark.usefixtures("private_cache")

COMBINATIONS = [
    Options(tile=tile, plan_memory=plan, threads=threads)
    for tile, plan, threads in itertools.product((True, False), (True, False), (1, 2))
]
IDS = [f"tile={o.tile}-plan={o.plan_memory}-threads={o.threads}" for o in COMBINATIONS]


def _mlp_step(p, x, y):
    def loss(p):
        h = gnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        logp = logits - gnp.logsumexp(logits, axis=1, keepdims=True)
        return -gnp.sum(y * logp) / x.shape[0]

    value, grads = gradc.value_and_grad(loss)(p)
    return value, {k: p[k] - 0.1 * grads[k] for k in p}


def _mlp_args(n_in: int, hidden: int, n_out: int, batch: int, dtype: type) -> tuple:
    rng = np.random.default_rng(n_in * 1000 + hidden)
    p = {
        "w1": rng.standard_normal((n_in, hidden)).astype(dtype) / np.sqrt(n_in),
        "b1": rng.standard_normal(hidden).astype(dtype) * 0.1,
        "w2": rng.standard_normal((hidden, n_out)).astype(dtype) / np.sqrt(hidden),
        "b2": rng.standard_normal(n_out).astype(dtype) * 0.1,
    }
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, batch)]
    return p, x, y


def _products(a, b, c):
    """Products with every transpose the backward pass makes, a reduction
    and an elementwise epilogue: the edges of every tile."""
    return gnp.tanh(a @ b + 1.0), a.T @ c, c @ b.T, gnp.sum(gnp.exp(a @ b), axis=0)


def _product_args(m: int, k: int, n: int, dtype: type) -> tuple:
    rng = np.random.default_rng(m * 10_000 + k * 100 + n)
    a = rng.standard_normal((m, k)).astype(dtype) / np.sqrt(k)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    return a, b, c


CASES = {
    "products 1x1x1": (_products, lambda dt: _product_args(1, 1, 1, dt)),
    "products 7x33x257": (_products, lambda dt: _product_args(7, 33, 257, dt)),
    "products 257x7x33": (_products, lambda dt: _product_args(257, 7, 33, dt)),
    "products 33x257x7": (_products, lambda dt: _product_args(33, 257, 7, dt)),
    "mlp step 33-7-257 b7": (_mlp_step, lambda dt: _mlp_args(33, 7, 257, 7, dt)),
    "mlp step 64-128-10 b32": (_mlp_step, lambda dt: _mlp_args(64, 128, 10, 32, dt)),
}


def _reference(fn, args) -> list[np.ndarray]:
    """The array-level interpreter on the differentiated program (f64 in, the
    program's own dtypes throughout): independent of every loops-level pass."""
    lowered = gradc.lower(fn, *args)
    module = run_pipeline(lowered.traced.module.clone(), DIFFERENTIATE)
    flat = pytree.flatten(args)[0]
    return run_function(module, lowered.name, *flat)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_option_combination_matches_the_interpreter(case: str, dtype: type) -> None:
    fn, make_args = CASES[case]
    args = make_args(dtype)
    expected = _reference(fn, args)
    rtol, atol = (2e-4, 2e-5) if dtype == np.float32 else (1e-11, 1e-12)
    for options, name in zip(COMBINATIONS, IDS, strict=True):
        got = pytree.flatten(gradc.jit(fn, options=options)(*args))[0]
        assert len(got) == len(expected), name
        for g, e in zip(got, expected, strict=True):
            assert np.asarray(g).dtype == e.dtype, name
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"{case} with {name}")


def test_options_are_checked() -> None:
    with pytest.raises(gradc.GradcError, match="unknown option.*tiles.*known: tile"):
        gradc.jit(lambda x: x, tiles=False)
    with pytest.raises(gradc.GradcError, match="threads must be an integer >= 1"):
        gradc.jit(lambda x: x, threads=0)
    with pytest.raises(gradc.GradcError, match="tile must be True or False"):
        gradc.Options(tile=1)


def test_options_choose_the_loop_passes() -> None:
    a, b, _ = _product_args(40, 40, 40, np.float32)
    tiled = gradc.lower(lambda a, b: a @ b, a, b).c_source
    untiled = gradc.lower(lambda a, b: a @ b, a, b, options={"tile": False}).c_source
    assert "microkernel" in tiled and "microkernel" not in untiled
    jitted = gradc.jit(lambda a, b: a @ b, tile=False)
    assert "microkernel" not in jitted.lower(a, b).c_source


@pytest.mark.parametrize("options", COMBINATIONS, ids=IDS)
def test_every_combination_gives_standalone_warning_free_c(options: Options, tmp_path) -> None:
    """No heap, no warnings under -Wall -Wextra -Werror (with -fopenmp where
    the code has OpenMP pragmas, without it otherwise: they must then be
    the only thing the compiler ignores), for the MLP training step."""
    import re
    import subprocess

    args = _mlp_args(64, 128, 10, 32, np.float32)
    lowered = gradc.lower(_mlp_step, *args, options=options)
    source = lowered.c_source
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)
    (tmp_path / "step.c").write_text(source)
    (tmp_path / "step.h").write_text(lowered.c_header)
    openmp = ["-fopenmp"] if "#pragma omp" in source else []
    done = subprocess.run(
        ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", *openmp, "-c", "step.c"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_plan_memory_option_plans_the_workspace() -> None:
    """With plan_memory the loops level carries planned offsets and the
    figures, and the built function's workspace is the planned one; without,
    neither (the buffers lie one after the other)."""
    fn, make_args = CASES["mlp step 64-128-10 b32"]
    args = make_args(np.float32)
    for options, name in zip(COMBINATIONS, IDS, strict=True):
        lowered = gradc.jit(fn, options=options).lower(*args)
        planned = "loops.workspace_bytes" in lowered.loops_ir
        assert planned == options.plan_memory, name
        assert (' "workspace" at ' in lowered.loops_ir) == options.plan_memory, name
        memory = lowered.memory
        assert lowered.compiled.function.work_size == memory["workspace_bytes"], name
        if options.plan_memory:
            # (Fusion leaves few workspace buffers in this step; those left
            # may all be live at once, so sharing need not shrink it.)
            assert memory["workspace_bytes"] <= memory["buffer_bytes"], name
            assert memory["workspace_bytes"] <= 1.25 * memory["live_bytes"], name


def test_outlined_layers_give_the_numbers_of_inline_ones() -> None:
    """outline-nests writes a deep network's repeated layers once as C
    functions: the gradient is bitwise the one of the inline code, and both
    match backpropagation written by hand in NumPy."""
    rng = np.random.default_rng(7)
    ws = [rng.standard_normal((16, 16)) / 4.0 for _ in range(6)]
    x = rng.standard_normal((4, 16))

    def loss(ws, x):
        h = x
        for w in ws:
            h = gnp.tanh(h @ w)
        return gnp.sum(h * h)

    hs = [x]
    for w in ws:
        hs.append(np.tanh(hs[-1] @ w))
    g, expected = 2.0 * hs[-1], []
    for w, h_in, h_out in zip(reversed(ws), reversed(hs[:-1]), reversed(hs[1:])):
        g = g * (1.0 - h_out**2)
        expected.append(h_in.T @ g)
        g = g @ w.T
    expected.reverse()

    outlined = gradc.lower(gradc.grad(loss), ws, x)
    assert outlined.c_source.count("gradc_nest0(") >= 3  # defined once, called at least twice
    inline = gradc.lower(gradc.grad(loss), ws, x, options={"outline": False})
    assert "gradc_nest" not in inline.c_source
    got, got_inline = outlined.compile()(ws, x), inline.compile()(ws, x)
    for a, b, e in zip(got, got_inline, expected, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)
