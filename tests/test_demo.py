"""The demo's MLP: its generated C is standalone (no heap, warning-free C99)
and the compiled function matches NumPy."""

import importlib.util
import re
import subprocess
from pathlib import Path

import numpy as np

import gradc

DEMO = Path(__file__).resolve().parent.parent / "examples" / "mlp_demo.py"


def load_demo():
    spec = importlib.util.spec_from_file_location("mlp_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def demo_args(rng):
    f32 = np.float32
    return (
        rng.standard_normal((64, 784)).astype(f32),
        (rng.standard_normal((784, 256)) / 28).astype(f32),
        (0.1 * rng.standard_normal(256)).astype(f32),
        (rng.standard_normal((256, 10)) / 16).astype(f32),
        (0.1 * rng.standard_normal(10)).astype(f32),
    )


def test_demo_c_is_standalone_and_warning_free(tmp_path):
    demo = load_demo()
    lowered = gradc.lower(demo.mlp, *demo_args(np.random.default_rng(1)))
    source = lowered.c_source
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)
    (tmp_path / "mlp.c").write_text(source)
    (tmp_path / "mlp.h").write_text(lowered.c_header)
    (tmp_path / "use.c").write_text('#include "mlp.h"\n#include "mlp.h"\nint main(void) { return (int)mlp_work_size() < 0; }\n')
    for unit in ("mlp.c", "use.c"):
        done = subprocess.run(
            ["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", "-c", unit],
            cwd=tmp_path, capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""


def test_demo_matches_numpy():
    demo = load_demo()
    args = demo_args(np.random.default_rng(2))
    got = gradc.jit(demo.mlp)(*args)
    expected = demo.mlp_numpy(*[a.astype(np.float64) for a in args])
    assert got.shape == (64, 10) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
