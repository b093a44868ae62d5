"""Sanitized builds (GRADC_SANITIZE, `python -m gradc.sanitize`).

`make test` runs the numeric end-to-end tests a second time under
`python -m gradc.sanitize` (the Makefile's `test-sanitize`); these tests
check that such a run would catch what it is there for: the launcher's
builds really are instrumented (an out-of-bounds read, a signed overflow
and a float-to-int overflow in C each abort the process with the
sanitizer's report), compiled gradc functions run clean and right under
it, and misuse gives clear messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradc.backend.build import SANITIZE_ENV, BuildError, sanitize_flags, sanitizers

# Builds a C function from the source in argv[1] and calls it on a NumPy
# array of 4 doubles; prints what it returned.
CALL_C = """
import sys
import numpy as np
from gradc.backend.build import build
source = sys.argv[1]
header = "double probe(const double *restrict x, int n);\\n"
module = build(source, header, ["probe"])
x = np.arange(4.0)
print("returned", module.lib.probe(module.ffi.from_buffer("double[]", x), int(sys.argv[2])))
"""

BUGS = {
    "heap-buffer-overflow": (
        "double probe(const double *restrict x, int n) { double s = 0; "
        "for (int i = 0; i <= n; ++i) s += x[i]; return s; }",
        "4", "AddressSanitizer: heap-buffer-overflow",
    ),
    "signed-overflow": (
        "double probe(const double *restrict x, int n) { int k = 2147483647 - 1; "
        "return x[0] + (double)(k + n); }",
        "4", "runtime error: signed integer overflow",
    ),
    "float-cast-overflow": (
        "double probe(const double *restrict x, int n) { return (double)(int)(x[3] * 1e30 * n); }",
        "4", "is outside the range of representable values",
    ),
}


def run_sanitized(tmp_path: Path, *command: str, env: dict[str, str] | None = None,
                  sanitize: str = "address,undefined") -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "GRADC_CACHE_DIR": str(tmp_path / "cache"), **(env or {})}
    for name in ("LD_PRELOAD", SANITIZE_ENV):
        base.pop(name, None)  # as a user's shell would have it
    return subprocess.run([sys.executable, "-m", "gradc.sanitize", "--sanitize", sanitize, *command],
                          env=base, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("bug", BUGS)
def test_sanitized_builds_catch_bugs(bug: str, tmp_path: Path) -> None:
    source, n, report = BUGS[bug]
    proc = run_sanitized(tmp_path, sys.executable, "-c", CALL_C, source, n)
    assert proc.returncode != 0, proc.stdout
    assert report in proc.stderr
    assert "returned" not in proc.stdout


def test_the_same_code_without_the_bug_runs(tmp_path: Path) -> None:
    source = "double probe(const double *restrict x, int n) { double s = 0; " \
             "for (int i = 0; i < n; ++i) s += x[i]; return s; }"
    proc = run_sanitized(tmp_path, sys.executable, "-c", CALL_C, source, "4")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["returned", "6.0"]


GRADIENT = """
import numpy as np
import gradc, gradc.numpy as gnp
from gradc.backend.build import sanitizers
assert sanitizers() == ("address", "undefined")
def loss(w, x):
    return gnp.sum(gnp.tanh(x @ w) ** 2)
rng = np.random.default_rng(0)
w, x = rng.standard_normal((16, 8)), rng.standard_normal((5, 16))
g = gradc.jit(gradc.grad(loss))(w, x)
t = np.tanh(x @ w)
np.testing.assert_allclose(g, x.T @ (2 * t * (1 - t ** 2)), rtol=1e-10, atol=1e-12)
"""


def test_a_gradient_runs_clean_and_right_under_the_sanitizers(tmp_path: Path) -> None:
    proc = run_sanitized(tmp_path, sys.executable, "-c", GRADIENT)
    assert proc.returncode == 0, proc.stderr
    kernel, entry = [(tmp_path / "cache").glob(f"{folder}/_gradc_*.so") for folder in ("[!.]*", ".callpath-*")]
    libraries = [*kernel, *entry]
    assert len(libraries) == 2  # the kernel's build and the C call path (gradc.backend.callpath)
    for library in libraries:
        needed = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True).stdout
        assert "libasan" in needed and "libubsan" in needed  # the build really is instrumented


def test_address_sanitizer_without_its_runtime_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, SANITIZE_ENV: "address", "GRADC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("LD_PRELOAD", None)
    proc = subprocess.run([sys.executable, "-c", CALL_C, BUGS["heap-buffer-overflow"][0], "3"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode != 0
    assert "BuildError: GRADC_SANITIZE=address needs the ASan runtime loaded first" in proc.stderr
    assert "LD_PRELOAD=" in proc.stderr and "python -m gradc.sanitize" in proc.stderr


def test_sanitize_flags_drop_what_hides_undefined_behaviour() -> None:
    flags = ("-O3", "-march=native", "-ffast-math", "-fno-math-errno", "-Ofast")
    assert sanitize_flags(flags, ()) == flags
    sanitized = sanitize_flags(flags, ("undefined",))
    assert "-O3" not in sanitized and "-Ofast" not in sanitized and "-ffast-math" not in sanitized
    assert sanitized[:2] == ("-march=native", "-fno-math-errno")
    assert sanitized[-1] == "-fsanitize=undefined,float-cast-overflow"
    assert "-O0" in sanitized and "-fno-sanitize-recover=all" in sanitized


def test_unknown_sanitizer_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SANITIZE_ENV, "address,thread")
    with pytest.raises(BuildError, match="GRADC_SANITIZE='address,thread': unknown sanitizer 'thread'"):
        sanitizers()
    proc = run_sanitized(tmp_path, "true", sanitize="memory")
    assert proc.returncode == 2
    assert "--sanitize: expected a comma-separated subset of address,undefined, got 'memory'" in proc.stderr
