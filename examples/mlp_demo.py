"""`make demo`: a 2-layer MLP forward pass (784 -> 256 tanh -> 10 softmax,
batch 64, float32) compiled by gradc.jit, checked against NumPy, timed.

Both sides run single-threaded (BLAS threads pinned to 1 before NumPy loads),
medians over many calls after warm-up.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import gradc  # noqa: E402
import gradc.numpy as gnp  # noqa: E402


def mlp(x, w1, b1, w2, b2):
    h = gnp.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    z = logits - gnp.max(logits, axis=1, keepdims=True)
    e = gnp.exp(z)
    return e / gnp.sum(e, axis=1, keepdims=True)


def mlp_numpy(x, w1, b1, w2, b2):
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    z = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def median_time(fn, *args, repeats: int = 31) -> float:
    """Median seconds per call: warm up, then time batches of ~10 ms."""
    for _ in range(5):
        fn(*args)
    start = time.perf_counter()
    fn(*args)
    per_call = max(time.perf_counter() - start, 1e-7)
    inner = max(1, int(0.01 / per_call))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn(*args)
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def main() -> None:
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = rng.standard_normal((64, 784)).astype(f32)
    w1 = (rng.standard_normal((784, 256)) / np.sqrt(784)).astype(f32)
    b1 = (0.1 * rng.standard_normal(256)).astype(f32)
    w2 = (rng.standard_normal((256, 10)) / np.sqrt(256)).astype(f32)
    b2 = (0.1 * rng.standard_normal(10)).astype(f32)
    args = (x, w1, b1, w2, b2)

    lowered = gradc.lower(mlp, *args)
    start = time.perf_counter()
    compiled = gradc.jit(mlp)
    probs = compiled(*args)
    compile_s = time.perf_counter() - start

    reference = mlp_numpy(*[a.astype(np.float64) for a in args])
    err = float(np.max(np.abs(probs - reference)))
    assert probs.shape == (64, 10) and probs.dtype == np.float32
    assert np.allclose(probs, reference, rtol=1e-4, atol=1e-6), f"max abs error {err}"

    t_gradc = median_time(compiled, *args)
    t_numpy = median_time(mlp_numpy, *args)
    source = lowered.c_source
    for word in ("malloc", "calloc", "free("):
        assert word not in source, f"generated C calls {word}"

    print("gradc demo: MLP forward 784 -> 256 tanh -> 10 softmax, batch 64, float32")
    print(f"  matches NumPy (float64 reference): max abs error {err:.2e}")
    print(f"  first call (trace + lower + C compile + load): {compile_s * 1e3:.0f} ms")
    print(f"  per call, gradc : {t_gradc * 1e6:8.1f} us")
    print(f"  per call, NumPy : {t_numpy * 1e6:8.1f} us   (gradc/NumPy = {t_gradc / t_numpy:.2f}x)")
    print(f"  generated C: {len(source.encode())} bytes, {source.count(chr(10))} lines")
    out = Path(os.environ.get("GRADC_DEMO_OUT", "build/demo"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "mlp.c").write_text(source)
    (out / "mlp.h").write_text(lowered.c_header)
    print(f"  C written to {out}/mlp.c and {out}/mlp.h")


if __name__ == "__main__":
    main()
