"""Names a user controls reach the C only as plain identifiers, and the same
input gives byte-identical C in every process.

A function name (Python's `__name__`, or an MLIR symbol `@"..."`) may hold
quotes, semicolons, comment markers, newlines, preprocessor lines and
non-ASCII; the C must declare the function under a sanitized identifier, not
contain the hostile text, compile cleanly in strict C99, and compute the
right numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp

GRADC_OPT = str(Path(sys.executable).parent / "gradc-opt")
HOSTILE = 'f"; int evil; /* x */\n#define y 1\n// \u00e9\u2603'
HOSTILE_PIECES = ('"; int', "int evil;", "/* x */", "#define y", "\u00e9", "\u2603")
DECLARATION = re.compile(r"^int ([A-Za-z_][A-Za-z0-9_]*)\(const (?:float|double) \*restrict", re.M)

PROGRAM = """\
func.func @"f\\22; int evil; /* x */\\0A#define y 1\\0A// \u00e9\u2603"(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.tanh %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
"""


def assert_clean(c_source: str, tmp_path: Path) -> None:
    (name,) = DECLARATION.findall(c_source)
    assert name.isascii()
    for piece in HOSTILE_PIECES:
        assert piece not in c_source
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    path = tmp_path / "hostile.c"
    path.write_text(c_source)
    proc = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(path),
                           "-o", str(tmp_path / "hostile.o")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_hostile_python_name(tmp_path: Path) -> None:
    def f(x):
        return gnp.tanh(x)

    f.__name__ = f.__qualname__ = HOSTILE
    x = np.linspace(-2, 2, 4)
    assert_clean(gradc.lower(f, x).c_source, tmp_path)
    np.testing.assert_allclose(gradc.jit(f)(x), np.tanh(x), rtol=1e-13)


def test_hostile_symbol_through_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([GRADC_OPT, "-", "-p", "gradc-default", "-t", "c"], input=PROGRAM,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stdout, tmp_path)


LIT = Path(__file__).resolve().parent.parent / "lit"


@pytest.mark.parametrize("path", ["cli/default-pipeline.mlir", "passes/differentiate/nested.mlir",
                                  "passes/autodiff-reverse/scan.mlir"])
def test_c_is_identical_across_processes(path: str) -> None:
    """Hash randomization differs per process; the C must not."""
    outputs = set()
    for seed in ("1", "2"):
        proc = subprocess.run([GRADC_OPT, str(LIT / path), "-p", "gradc-default", "-t", "c"],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
