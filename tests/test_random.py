"""gradc.random: the Threefry-2x32 op against its published known-answer
vectors, keys and draws against an independent Python implementation of
JAX's algorithms (written here), the same numbers compiled, interpreted
and under every pipeline option, statistics of every sampler with fixed
seeds, keys through jit arguments, loop carries and results, dropout
inside grad (first and second order against central differences), the
batching rule, and the located errors. (The cross-check with JAX itself
is bench/random_jax_check.py; its figures are in docs/random.md.)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import gradc
import gradc.numpy as gnp
import gradc.random as gr
from gradc.errors import TraceTypeError
from gradc.frontend import pytree
from gradc.interpreter import run_function
from gradc.passes.autodiff.batching import batch_function
from gradc.pipeline import DIFFERENTIATE, compile_module, run_pipeline
from xdsl.context import Context
from xdsl.dialects import builtin, func
from xdsl.parser import Parser

from gradc.dialects.array import Array

HERE = Path(__file__).name
M32 = 0xFFFFFFFF

# ---------------------------------------------------------------------------
# The reference: Threefry-2x32-20 and JAX's key/draw algorithms, on Python
# ints, one element at a time (Salmon et al. 2011; jax/_src/random).
# ---------------------------------------------------------------------------

ROT = (13, 15, 26, 6, 17, 29, 16, 24)


def ref_threefry(k0: int, k1: int, x0: int, x1: int) -> tuple[int, int]:
    ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]
    x = [(x0 + ks[0]) & M32, (x1 + ks[1]) & M32]
    for rnd in range(20):
        r = ROT[rnd % 8]
        x[0] = (x[0] + x[1]) & M32
        x[1] = ((x[1] << r) | (x[1] >> (32 - r))) & M32
        x[1] ^= x[0]
        if rnd % 4 == 3:
            i = rnd // 4 + 1
            x[0] = (x[0] + ks[i % 3]) & M32
            x[1] = (x[1] + ks[(i + 1) % 3] + i) & M32
    return x[0], x[1]


def ref_key(seed: int) -> list[int]:
    return [0 if -(2**31) <= seed < 2**31 else (seed >> 32) & M32, seed & M32]


def ref_split(key, n: int) -> np.ndarray:
    return np.array([ref_threefry(*key, 0, i) for i in range(n)], dtype=np.uint32)


def ref_fold_in(key, data: int) -> np.ndarray:
    return np.array(ref_threefry(*key, 0, data & M32), dtype=np.uint32)


def ref_uniform(key, n: int, dtype) -> np.ndarray:
    out = []
    for i in range(n):
        y0, y1 = ref_threefry(*key, 0, i)
        if dtype == np.float32:
            out.append(((y0 ^ y1) >> 9) / 2.0**23)
        else:
            out.append((((y0 << 32) | y1) >> 12) / 2.0**52)
    return np.array(out, dtype=dtype)


# ---------------------------------------------------------------------------
# The op: known answers, interpreter and C
# ---------------------------------------------------------------------------

KAT = [  # (key, counter, result): Random123's kat_vectors, threefry2x32_20
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]

OP_MODULE = """
func.func @cipher(%k0: tensor<3xi32>, %k1: tensor<3xi32>, %x0: tensor<3xi32>, %x1: tensor<3xi32>)
    -> (tensor<3xi32>, tensor<3xi32>, tensor<3xi32>) {
  %a = array.threefry2x32 "x0" %k0, %k1, %x0, %x1 : tensor<3xi32>
  %b = array.threefry2x32 "x1" %k0, %k1, %x0, %x1 : tensor<3xi32>
  %c = array.threefry2x32 "xor" %k0, %k1, %x0, %x1 : tensor<3xi32>
  func.return %a, %b, %c : tensor<3xi32>, tensor<3xi32>, tensor<3xi32>
}
"""


def _parse(text: str):
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, Array):
        ctx.load_dialect(dialect)
    return Parser(ctx, text).parse_module()


def _words(column: int) -> list[np.ndarray]:
    return [np.array([row[column][j] for row in KAT], dtype=np.uint32).view(np.int32) for j in (0, 1)]


def test_known_answer_vectors_in_the_interpreter_and_in_c() -> None:
    inputs = [*_words(0), *_words(1)]
    y0, y1 = (np.array([row[2][j] for row in KAT], dtype=np.uint32) for j in (0, 1))
    assert [ref_threefry(*k, *x) for k, x, _ in KAT] == [r for _, _, r in KAT]  # the reference itself
    interpreted = run_function(_parse(OP_MODULE), "cipher", *inputs)
    compiled = compile_module(_parse(OP_MODULE), "cipher")(*inputs)
    for got in (interpreted, compiled):
        a, b, c = (np.asarray(g).view(np.uint32) for g in got)
        np.testing.assert_array_equal(a, y0)
        np.testing.assert_array_equal(b, y1)
        np.testing.assert_array_equal(c, y0 ^ y1)


# ---------------------------------------------------------------------------
# Keys and draws: eager, compiled, interpreted, every option
# ---------------------------------------------------------------------------

SEEDS = [0, 1, 42, 2**31 - 1, -5, 2**40 + 7]


def _draws(seed_key):
    """What the determinism tests compare: keys and the samplers at default ranges."""
    k = seed_key
    return (
        gr.split(k, 3),
        gr.split(k, (2, 2)),
        gr.fold_in(k, 123456789),
        gr.uniform(k, (4, 5), np.float32),
        gr.uniform(k, (7,)),
        gr.bernoulli(k, 0.25, (9,)),
        gr.randint(k, (6,), -3, 11),
        gr.permutation(k, 7),
        gr.categorical(k, np.log(np.array([0.2, 0.3, 0.5])), shape=(5,)),
    )


@pytest.fixture(scope="module")
def compiled_draws():
    return gradc.jit(_draws)


@pytest.mark.parametrize("seed", SEEDS)
def test_keys_and_uniform_match_the_reference(seed: int, compiled_draws) -> None:
    key = gr.key(seed)
    assert key.dtype == np.uint32 and key.tolist() == ref_key(seed)
    assert gr.PRNGKey(seed).tolist() == ref_key(seed)
    expected = {
        "split3": ref_split(key.tolist(), 3),
        "split22": ref_split(key.tolist(), 4).reshape(2, 2, 2),
        "fold": ref_fold_in(key.tolist(), 123456789),
        "u32": ref_uniform(key.tolist(), 20, np.float32).reshape(4, 5),
        "u64": ref_uniform(key.tolist(), 7, np.float64),
    }
    for draws in (_draws(key), compiled_draws(key)):
        for got, (name, want) in zip(draws, expected.items()):
            assert got.dtype == want.dtype, name
            np.testing.assert_array_equal(got, want, err_msg=name)


def _core(k):
    return gr.split(k, 3), gr.uniform(k, (40, 50), np.float32), gr.uniform(k, (7,)), gr.bernoulli(k, 0.25, (64, 9))


def test_the_same_numbers_compiled_interpreted_and_under_every_option(compiled_draws) -> None:
    key = gr.key(7)
    lowered = gradc.lower(_draws, key)
    module = run_pipeline(lowered.traced.module.clone(), DIFFERENTIATE)
    interpreted = run_function(module, lowered.name, key.view(np.int32))
    for got, want in zip([compiled_draws(key), compiled_draws(key), interpreted], [_draws(key)] * 3):
        for g, e in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.view(e.dtype) if e.dtype == np.uint32 else g, e)
    assert gradc.lower(_draws, key).c_source == lowered.c_source  # the same C text every time
    eager = _core(key)
    for options in ({}, {"tile": False, "plan_memory": False}, {"threads": 2}, {"math": "libm"}):
        for g, e in zip(gradc.jit(_core, options=options)(key), eager, strict=True):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g, e, err_msg=str(options))


@pytest.mark.parametrize("fuse", ["true", "false"])
def test_the_loops_level_interpreter_with_and_without_fusion(fuse: str) -> None:
    # the element rule itself, run scalar by scalar, with the fusion of
    # consumers on and off (tiny shapes: this interpreter is slow)
    key = gr.key(99)
    draw = lambda k: (gr.split(k), gr.uniform(k, (2, 3), np.float32), gr.bernoulli(k, 0.5, (3,)))  # noqa: E731
    lowered = gradc.lower(draw, key)
    passes = (*DIFFERENTIATE, "array-simplify", "canonicalize", "cse", "dce",
              f"lower-array-to-loops{{fuse-epilogues={fuse} fuse-reductions={fuse}}}", "plan-memory")
    module = run_pipeline(lowered.traced.module.clone(), passes)
    got = run_function(module, lowered.name, key.view(np.int32))
    for g, e in zip(got, draw(key), strict=True):
        np.testing.assert_array_equal(g.view(e.dtype) if e.dtype == np.uint32 else g, e)


# ---------------------------------------------------------------------------
# Statistics (fixed seeds)
# ---------------------------------------------------------------------------

N = 10000
LOGITS = np.log(np.array([0.1, 0.2, 0.3, 0.4]))


def _samples(key):
    ks = gr.split(key, 8)
    return (
        gr.uniform(ks[0], (N,)),
        gr.normal(ks[1], (N,)),
        gr.truncated_normal(ks[2], -1.0, 2.0, (N,)),
        gr.bernoulli(ks[3], 0.3, (N,)),
        gr.categorical(ks[4], LOGITS, shape=(N,)),
        gr.randint(ks[5], (N,), 3, 13),
        gr.uniform(ks[6], (N,), np.float32, -2.0, 5.0),
        gr.normal(ks[7], (N,), np.float32),
    )


@pytest.fixture(scope="module")
def samples():
    key = gr.key(2024)
    return gradc.jit(_samples)(key), _samples(key)


def test_statistics_of_every_sampler(samples) -> None:
    (u, z, t, b, c, r, u32, z32), eager = samples
    assert (u >= 0).all() and (u < 1).all()
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / N) and abs(u.var() - 1 / 12) < 0.004
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert (u32 >= -2).all() and (u32 < 5).all() and stats.kstest(u32, "uniform", args=(-2, 7)).pvalue > 1e-3
    assert abs(z.mean()) < 4 / math.sqrt(N) and abs(z.std() - 1) < 0.02
    assert stats.kstest(z, "norm").pvalue > 1e-3 and stats.kstest(z32, "norm").pvalue > 1e-3
    assert (t > -1).all() and (t < 2).all()
    truncated = stats.truncnorm(-1.0, 2.0)
    assert abs(t.mean() - truncated.mean()) < 4 * truncated.std() / math.sqrt(N)
    assert stats.kstest(t, truncated.cdf).pvalue > 1e-3
    assert b.dtype == np.bool_ and abs(b.mean() - 0.3) < 4 * math.sqrt(0.21 / N)
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum()
    counts = np.bincount(c, minlength=4)
    assert stats.chisquare(counts, softmax * N).pvalue > 1e-3
    assert r.dtype == np.int32 and r.min() == 3 and r.max() == 12
    assert stats.chisquare(np.bincount(r - 3, minlength=10)).pvalue > 1e-3
    # compiled and eager: the bits agree; normal goes through erfinv (C vs NumPy libm)
    for k, (got, want) in enumerate(zip(samples[0], eager)):
        if k in (1, 2, 7):
            np.testing.assert_allclose(got, want, rtol=1e-5 if k == 7 else 1e-12, atol=1e-6 if k == 7 else 1e-13)
        elif k == 6:  # floats * (maxval - minval) + minval: gcc contracts it into an fma (as XLA), NumPy not
            np.testing.assert_allclose(got, want, rtol=0, atol=float(np.spacing(np.float32(7.0))))
        else:
            np.testing.assert_array_equal(got, want)


def test_permutation_is_a_permutation() -> None:
    key = gr.key(5)
    f = gradc.jit(lambda k, x: (gr.permutation(k, 40), gr.permutation(k, x), gr.permutation(k, x.reshape(8, 5), axis=1)))
    x = np.arange(40.0) * 1.5
    p, q, m = f(key, x)
    assert sorted(p.tolist()) == list(range(40)) and p.tolist() != list(range(40))
    np.testing.assert_array_equal(q, x[p])  # the same order: the same keys sort the same
    assert all(sorted(row.tolist()) == sorted(orig.tolist()) for row, orig in zip(m, x.reshape(8, 5)))
    np.testing.assert_array_equal(m, x.reshape(8, 5)[:, gr.permutation(key, 5)])
    np.testing.assert_array_equal(p, gr.permutation(key, 40))


# ---------------------------------------------------------------------------
# Keys through programs; derivatives
# ---------------------------------------------------------------------------


def test_keys_as_arguments_carries_and_results() -> None:
    def walk(key, steps_x):
        def body(i, carry):
            key, total = carry
            key, sub = gr.split(key)
            return key, total + gr.normal(sub, (3,))
        over_keys = gradc.scan(lambda c, k: (c + gr.uniform(k, ()), gr.fold_in(k, 1)), 0.0, gr.split(key, 3))
        return gradc.fori_loop(0, 5, body, (key, steps_x)), over_keys

    key = gr.key(11)
    (out_key, total), (summed, folded) = gradc.jit(walk)(key, np.zeros(3))
    keys = gr.split(key, 3)  # scanned over as xs, folded keys stacked as ys
    assert summed == sum(float(gr.uniform(k, ())) for k in keys)
    assert folded.dtype == np.uint32
    np.testing.assert_array_equal(folded, np.stack([gr.fold_in(k, 1) for k in keys]))
    k, expected = key, np.zeros(3)
    for _ in range(5):
        k, sub = gr.split(k)
        expected = expected + gr.normal(sub, (3,))
    assert out_key.dtype == np.uint32 and out_key.shape == (2,)
    np.testing.assert_array_equal(out_key, k)
    np.testing.assert_allclose(total, expected, rtol=1e-12, atol=1e-13)


def _dropout_loss(w, x, key):
    h = gnp.tanh(x @ w)
    keep = gr.bernoulli(key, 0.5, h.shape)
    return gnp.sum(gnp.where(keep, h / 0.5, 0.0) ** 2)


def test_dropout_gradient_first_and_second_order() -> None:
    rng = np.random.default_rng(0)
    w, x, key = rng.normal(size=(4, 3)), rng.normal(size=(5, 4)), gr.key(3)
    grad = gradc.jit(gradc.grad(_dropout_loss))
    hess = gradc.jit(gradc.hessian(_dropout_loss))
    g, h = grad(w, x, key), hess(w, x, key)
    eps = 1e-5
    for i in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[i] = eps
        fd = (_dropout_loss(w + e, x, key) - _dropout_loss(w - e, x, key)) / (2 * eps)
        np.testing.assert_allclose(g[i], fd, rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(h[i], (grad(w + e, x, key) - grad(w - e, x, key)) / (2 * eps), rtol=1e-6, atol=1e-7)
    # the same key drops the same units: some gradient columns are zero
    keep = gr.bernoulli(key, 0.5, (5, 3))
    assert 0 < keep.sum() < keep.size


def test_jacfwd_through_draws_with_a_fixed_key() -> None:
    key = gr.key(9)
    jac = gradc.jit(gradc.jacfwd(lambda x, k: x * gr.normal(k, (3,)) + gr.uniform(k, (3,))))(np.ones(3), key)
    np.testing.assert_allclose(jac, np.diag(gr.normal(key, (3,))), rtol=1e-12, atol=0)


def test_batching_rule_draws_per_key() -> None:
    key = gr.key(4)
    lowered = gradc.lower(lambda k: (gr.uniform(k, (3,)), gr.split(k)), key)
    module = lowered.traced.module.clone()
    fn = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == lowered.name)
    batch_function(module, fn, [True], 4, "f_batched")
    keys = gr.split(key, 4)
    got = run_function(module, "f_batched", keys.view(np.int32))
    np.testing.assert_array_equal(got[0], np.stack([gr.uniform(k, (3,)) for k in keys]))
    np.testing.assert_array_equal(got[1].view(np.uint32), np.stack([gr.split(k) for k in keys]))


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

ERRORS = [
    (lambda k, x: gr.uniform(k[:1], (3,)), "the key must be a uint32 array of shape (2,)"),
    (lambda k, x: gr.uniform(np.zeros(2, np.int32), (3,)), "got a int32 array of shape (2,)"),
    (lambda k, x: gr.normal(k, x.shape[0] * x), "the shape must be static"),
    (lambda k, x: gr.uniform(k, (3,), minval="a"), "minval must be a number"),
    (lambda k, x: gr.uniform(k, (3,), np.int32), "dtype must be float32 or float64"),
    (lambda k, x: gr.uniform(k, (2,), maxval=np.ones(3)), "does not broadcast"),
    (lambda k, x: gr.fold_in(k, x[0]), "data must be a scalar integer"),
    (lambda k, x: gr.randint(k, (3,), 0.5, 4), "minval must be an integer"),
    (lambda k, x: gr.categorical(k, x, axis=2), "out of range"),
    (lambda k, x: k + 1, "only gradc.random's functions take keys"),
    (lambda k, x: x[k], "keys are not indices"),
]


@pytest.mark.parametrize("fn,message", ERRORS, ids=[m for _, m in ERRORS])
def test_located_errors(fn, message: str) -> None:
    with pytest.raises(TraceTypeError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        gradc.jit(fn)(gr.key(0), np.ones(3))
    assert HERE in str(err.value)
    assert isinstance(err.value, gradc.GradcError)


def test_eager_errors() -> None:
    with pytest.raises(TraceTypeError, match="the seed must be a scalar integer"):
        gr.key(1.5)
    with pytest.raises(TraceTypeError, match="draws int32"):
        gr.randint(gr.key(0), (2,), 0, 3, dtype=np.int64)
    np.testing.assert_array_equal(gr.wrap_key_data(gr.key_data(gr.key(3))), gr.key(3))


def test_pytree_flattening_of_keys_is_plain() -> None:
    # a key is one leaf, as any array
    assert len(pytree.flatten((gr.key(0), gr.split(gr.key(0))))[0]) == 2
