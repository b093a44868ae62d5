"""Cross-check of gradc.random against jax.random (not part of make test,
which has no JAX): `python bench/random_jax_check.py 0` compares with JAX's
default float32 (x64 off), `... 1` with jax_enable_x64 (float64). Prints,
per function, how many of five seeds gave bit-identical arrays and the
largest difference; the figures are recorded in docs/random.md."""
import sys
import numpy as np
import jax
x64 = sys.argv[1] == "1"
jax.config.update("jax_enable_x64", x64)
import jax.random as jr, jax.numpy as jnp
import gradc, gradc.random as gr
dt = np.float64 if x64 else np.float32
res = {}
for seed in (0, 1, 42, 2**31 - 1, 2**40 + 7):
    kj = jr.PRNGKey(seed); kg = gr.key(seed)
    assert np.array_equal(np.asarray(kj), kg), (seed, kj, kg)
    def cmp(name, a, b, exact=True):
        a, b = np.asarray(a), np.asarray(b)
        ok = a.shape == b.shape and (np.array_equal(a, b) if exact else np.allclose(a, b, rtol=0, atol=0))
        diff = 0.0 if a.dtype.kind in "biu" else float(np.max(np.abs(a.astype(float) - b.astype(float)))) if a.size else 0
        ulps = 0
        if a.dtype.kind == "f" and a.size:
            ulps = int(np.max(np.abs(a.astype(float) - b.astype(float)) / np.spacing(np.abs(b).astype(b.dtype)).astype(float)))
        res.setdefault(name, []).append((np.array_equal(a, b), diff, ulps))
    cmp("split", jr.split(kj, (3, 2)), gr.split(kg, (3, 2)))
    cmp("fold_in", jr.fold_in(kj, 12345), gr.fold_in(kg, 12345))
    cmp("uniform", jr.uniform(kj, (64, 33), dt), gr.uniform(kg, (64, 33), dt))
    cmp("uniform_range", jr.uniform(kj, (100,), dt, -2.5, 3.0), gr.uniform(kg, (100,), dt, -2.5, 3.0))
    cmp("normal", jr.normal(kj, (1000,), dt), gr.normal(kg, (1000,), dt))
    cmp("truncated_normal", jr.truncated_normal(kj, -1.5, 2.0, (1000,), dt), gr.truncated_normal(kg, -1.5, 2.0, (1000,), dt))
    cmp("bernoulli", jr.bernoulli(kj, dt(0.3), (1000,)), gr.bernoulli(kg, np.asarray(0.3, dt), (1000,)))
    cmp("randint", jr.randint(kj, (1000,), -7, 1000, jnp.int32), gr.randint(kg, (1000,), -7, 1000))
    cmp("randint_full", jr.randint(kj, (100,), -2**31, 2**31 - 1, jnp.int32), gr.randint(kg, (100,), -2**31, 2**31 - 1))
    lg = np.log(np.array([0.1, 0.2, 0.3, 0.4], dt))
    cmp("categorical", jr.categorical(kj, lg, shape=(1000,)), gr.categorical(kg, lg, shape=(1000,)))
    cmp("permutation", jr.permutation(kj, 50), gr.permutation(kg, 50))
    cmp("permutation_2d", jr.permutation(kj, jnp.arange(12.).reshape(4, 3), axis=1), gr.permutation(kg, np.arange(12.).reshape(4, 3), axis=1))
print("jax", jax.__version__, "x64" if x64 else "x32", dt.__name__)
for name, rows in res.items():
    print(f"{name:18s} identical {sum(r[0] for r in rows)}/{len(rows)}  max |diff| {max(r[1] for r in rows):.3g}  max ulps {max(r[2] for r in rows)}")
