"""Names a user controls reach the C only as plain identifiers, and the same
input gives byte-identical C in every process.

User text reaches the C (or the generated Python) through function names
(Python's `__name__`, an MLIR symbol `@"..."`, `export_c(name=)`), SSA value
names in textual IR, and `c`-level attributes (pragmas, callees; see
lit/dialects/c/hostile-text.mlir). Python argument names and pytree keys do
not reach the C at all (parameters are `in0`, ...) and reach the generated
Python only as values bound to labels (`K0`). Each hostile name below must
give C that compiles in strict C99, and the right numbers, or a clear error.
"""

from __future__ import annotations

import linecache
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradc
from gradc.backend.runtime import load
from gradc.dialects.c import c_identifier, is_c_identifier
import gradc.numpy as gnp

GRADC_OPT = str(Path(sys.executable).parent / "gradc-opt")
ROOT = Path(__file__).resolve().parent.parent
HOSTILE = 'f"; int evil; /* x */\n#define y 1\n// \u00e9\u2603'
HOSTILE_PIECES = ('"; int', "int evil;", "/* x */", "#define y", "\u00e9", "\u2603")
DECLARATION = re.compile(r"^int ([A-Za-z_][A-Za-z0-9_]*)\(const (?:float|double) \*restrict", re.M)
STRICT_C99 = ("-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror")

DANGEROUS = [
    # C keywords and reserved words (C99, C11, C23, GNU)
    "int", "for", "restrict", "inline", "_Bool", "bool", "asm", "typeof", "static_assert",
    # reserved identifiers
    "__x", "_Upper", "_",
    # what generated code and its headers use: libm, macros, objects, typedefs
    "exp", "sqrt", "fabs", "expf", "NULL", "INFINITY", "NAN", "errno", "assert", "stdin",
    "EOF", "M_PI", "linux", "st_atime", "Py_None", "size_t", "int64_t", "memcpy",
    # gradc's own helpers, types and value names
    "gradc_f32x16", "gradc_tanhf", "gradc_select_f32", "gradc_thread_num", "work", "i", "v0", "in0",
    # entry point, and POSIX functions declared by Python.h in a cffi build
    "main", "mkdir", "stat", "getline", "timezone",
    # valid Python identifiers that are not ASCII, and plain odd text
    "\u00e9", "\u03bb_x", "f-1", "a b", "x\\y", "g_int",
]
FUNCTION_NAMES = [HOSTILE, *DANGEROUS]
VALUE_NAMES = [n for n in DANGEROUS if re.fullmatch(r"[A-Za-z_][\w$.-]*", n, re.ASCII)]
"""The names textual IR can spell as SSA values (`%int`, `%__x`)."""


@pytest.mark.parametrize("name", FUNCTION_NAMES, ids=ascii)
def test_sanitized_names_are_usable(name: str) -> None:
    assert is_c_identifier(c_identifier(name))
    assert is_c_identifier(name) == (c_identifier(name) == name)


def compile_strictly(c_source: str, tmp_path: Path) -> None:
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc is not None, "no C compiler"
    path = tmp_path / "hostile.c"
    path.write_text(c_source)
    proc = subprocess.run([cc, *STRICT_C99, "-c", str(path), "-o", str(tmp_path / "hostile.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def assert_clean(c_source: str, tmp_path: Path) -> str:
    """The one public function's C name (a usable identifier); no hostile
    text in the C; the C compiles in strict C99."""
    (name,) = DECLARATION.findall(c_source)
    assert is_c_identifier(name), name
    for piece in HOSTILE_PIECES:
        assert piece not in c_source
    compile_strictly(c_source, tmp_path)
    return name


def named(name: str):
    def f(x):
        return gnp.tanh(x) * 2.0 + x

    f.__name__ = f.__qualname__ = name
    return f


@pytest.mark.parametrize("name", FUNCTION_NAMES, ids=ascii)
def test_function_name_through_the_api(name: str, tmp_path: Path) -> None:
    f = named(name)
    x = np.linspace(-2, 2, 5)
    assert_clean(gradc.lower(f, x).c_source, tmp_path)
    np.testing.assert_allclose(gradc.jit(f)(x), np.tanh(x) * 2 + x, rtol=1e-13)


@pytest.mark.parametrize("name", [HOSTILE, "main", "stat", "timezone", "gradc_tanhf", "\u00e9"], ids=ascii)
def test_function_name_through_the_scalar_entry(name: str) -> None:
    """A 0-d signature goes through the C entry (gradc.backend.callpath) and returns NumPy scalars."""
    f = named(name)
    assert gradc.jit(f)(0.5) == pytest.approx(np.tanh(0.5) * 2 + 0.5, rel=1e-14)
    assert gradc.grad(f)(0.5) == pytest.approx(2 / np.cosh(0.5) ** 2 + 1, rel=1e-13)


def mlir_symbol(name: str) -> str:
    """`@"..."` with MLIR's string escapes (\\22 for a quote, \\0A for a newline)."""
    escaped = "".join(ch if ch.isprintable() and ch not in '"\\' else
                      "".join(f"\\{b:02X}" for b in ch.encode()) for ch in name)
    return f'@"{escaped}"'


def cli(program: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GRADC_OPT, "-", *args], input=program, capture_output=True, text=True,
                          timeout=120)


CLI_NAMES = [n for n in FUNCTION_NAMES if n not in VALUE_NAMES] + [
    "int", "restrict", "NAN", "int64_t", "gradc_tanhf", "work", "in0", "main", "f-1"]
"""Names through gradc-opt (a process each, ~2 s): every name textual IR
must quote and escape, and one of each kind of reserved name (keyword,
macro, typedef, gradc's own C names and argument names, `main`, a name to
sanitize); the C spelling is shared with the API path, which takes all
FUNCTION_NAMES."""


@pytest.mark.parametrize("name", CLI_NAMES, ids=ascii)
def test_function_name_through_the_cli(name: str, tmp_path: Path) -> None:
    program = f"""\
func.func {mlir_symbol(name)}(%x: tensor<5xf64>) -> tensor<5xf64> {{
  %0 = array.tanh %x : tensor<5xf64>
  func.return %0 : tensor<5xf64>
}}
"""
    proc = cli(program, "-p", "gradc-default", "-t", "c")
    assert proc.returncode == 0, proc.stderr
    symbol = assert_clean(proc.stdout, tmp_path)
    header = cli(program, "-p", "gradc-default", "-t", "c{header=true}")
    assert header.returncode == 0, header.stderr
    compiled = load(proc.stdout, header.stdout, symbol, ([((5,), np.float64)], [((5,), np.float64)]))
    x = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(compiled(x)[0], np.tanh(x), rtol=1e-13)


@pytest.mark.parametrize("first,second", [("f-1", "f_1"), ("\u00e9", "_"), ("int", "g_int"),
                                          ("f", "f_work_size")], ids=ascii)
def test_function_names_that_print_alike_are_an_error(first: str, second: str) -> None:
    program = "".join(f"""\
func.func {mlir_symbol(name)}(%x: tensor<2xf32>) -> tensor<2xf32> {{
  func.return %x : tensor<2xf32>
}}
""" for name in (first, second))
    proc = cli(program, "-p", "gradc-default", "-t", "c")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "both become the C function" in proc.stderr and "rename one" in proc.stderr


def test_value_names_in_textual_ir(tmp_path: Path) -> None:
    """Arguments named like keywords, macros and helpers become C parameters;
    the function sums them with distinct weights (so swapped names show)."""
    n = len(VALUE_NAMES)
    args = ", ".join(f"%{v}: tensor<3xf64>" for v in VALUE_NAMES)
    lines = []
    total = f"%{VALUE_NAMES[0]}"
    for k, v in enumerate(VALUE_NAMES[1:], start=1):
        lines.append(f"  %w{k} = array.constant dense<{k + 1}.0> : tensor<3xf64>")
        lines.append(f"  %s{k} = array.mul %{v}, %w{k} : tensor<3xf64>")
        lines.append(f"  %t{k} = array.add {total}, %s{k} : tensor<3xf64>")
        total = f"%t{k}"
    body = "\n".join(lines)
    program = f"func.func @f({args}) -> tensor<3xf64> {{\n{body}\n  func.return {total} : tensor<3xf64>\n}}\n"
    proc = cli(program, "-p", "gradc-default", "-t", "c")
    assert proc.returncode == 0, proc.stderr
    compile_strictly(proc.stdout, tmp_path)
    (params,) = re.findall(r"^int f\((.*)\) \{$", proc.stdout, re.M)
    for v in VALUE_NAMES:
        if not is_c_identifier(v):
            assert not re.search(rf"\*restrict {re.escape(v)}[,)]", params + ")"), v
    header = cli(program, "-p", "gradc-default", "-t", "c{header=true}")
    specs = ([((3,), np.float64)] * n, [((3,), np.float64)])
    compiled = load(proc.stdout, header.stdout, "f", specs)
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal(3) for _ in range(n)]
    expected = xs[0] + sum((k + 1) * x for k, x in enumerate(xs[1:], start=1))
    np.testing.assert_allclose(compiled(*xs)[0], expected, rtol=1e-13)


def test_value_names_in_c_ir(tmp_path: Path) -> None:
    """Hand-written `c` IR: SSA names are sanitized where the printer binds them."""
    program = """\
c.func @f(%EOF: !c.ptr<const f64 restrict>, %stdin: !c.ptr<f64 restrict>, %work: !c.ptr<void restrict>) -> i32 {
  c.for %i = 0 to 4 step 1 {
    %linux = c.load %EOF[%i] : !c.ptr<const f64 restrict>
    %asm = c.mul %linux, %linux : f64
    %gradc_tanh = c.math "tanh"(%asm) : f64
    %exp = c.call @exp(%gradc_tanh) : (f64) -> f64
    %int = c.add %exp, %exp : f64
    c.store %int, %stdin[%i] : !c.ptr<f64 restrict>
  }
  %0 = c.literal 0 : i32
  c.return %0 : i32
}
"""
    proc = cli(program, "-t", "c")
    assert proc.returncode == 0, proc.stderr
    for name in ("EOF", "stdin", "linux", "asm", "int"):
        assert not re.search(rf"\b{name}\b", proc.stdout.split("int f(", 1)[1]), name
    compile_strictly(proc.stdout, tmp_path)


def generated_python() -> dict[str, str]:
    return {k: "".join(v[2]) for k, v in linecache.cache.items() if "<generated call" in k}


def test_python_argument_names_and_pytree_keys(tmp_path: Path) -> None:
    """Non-ASCII and C-reserved argument names, hostile dict keys: right
    numbers, nothing of them in the C or in the generated Python."""
    def f(é, _x, work, i, params):
        return gnp.tanh(é) * _x + work * i + params[HOSTILE] - params["int"] * params["é"]

    rng = np.random.default_rng(7)
    a, b, c, d = (rng.standard_normal(4) for _ in range(4))
    params = {HOSTILE: rng.standard_normal(4), "int": rng.standard_normal(4), "é": rng.standard_normal(4)}
    expected = np.tanh(a) * b + c * d + params[HOSTILE] - params["int"] * params["é"]
    before = set(generated_python())
    assert_clean(gradc.lower(f, a, b, c, d, params).c_source, tmp_path)
    jitted = gradc.jit(f)
    np.testing.assert_allclose(jitted(a, b, c, d, params), expected, rtol=1e-13)
    np.testing.assert_allclose(jitted(a, b, c, d, params), expected, rtol=1e-13)  # the fast path
    grads = gradc.grad(lambda p: gnp.sum(f(a, b, c, d, p)))(params)
    np.testing.assert_allclose(grads[HOSTILE], np.ones(4))
    np.testing.assert_allclose(grads["int"], -params["é"], rtol=1e-13)
    sources = {k: v for k, v in generated_python().items() if k not in before}
    assert sources, "no generated Python to check"
    for text in sources.values():
        compile(text, "<check>", "exec")
        for piece in (*HOSTILE_PIECES, "\u00e9", "'int'"):
            assert piece not in text


@pytest.mark.parametrize("name", ["int", "f-1", HOSTILE, "exp", "_Upper", "gradc_tanhf"], ids=ascii)
def test_export_c_refuses_a_name_it_cannot_use(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a C identifier gradc can use"):
        gradc.export_c(lambda x: x * 2.0, np.ones(3), path_stem=tmp_path / "k", name=name)
    assert not list(tmp_path.iterdir())


def test_export_c_keeps_an_explicit_name(tmp_path: Path) -> None:
    c_path, h_path = gradc.export_c(named(HOSTILE), np.ones(3), path_stem=tmp_path / "k", name="kernel")
    assert assert_clean(c_path.read_text(), tmp_path) == "kernel"
    assert "int kernel(" in h_path.read_text()


def test_headers_of_names_differing_in_case_can_be_included_together(tmp_path: Path) -> None:
    for name in ("ab", "aB"):
        gradc.export_c(lambda x: x * 2.0, np.ones(3), path_stem=tmp_path / name, name=name)
    (tmp_path / "both.c").write_text(
        '#include "ab.h"\n#include "aB.h"\n'
        "int both(const double *x, double *y) { return ab(x, y, 0) + aB(x, y, 0); }\n")
    compile_strictly((tmp_path / "both.c").read_text(), tmp_path)


# ---------------------------------------------------------------------------
# Determinism: hash randomization differs per process; the C must not.


def c_in_two_processes(command: list[str]) -> set[str]:
    outputs = set()
    for seed in ("1", "2"):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    return outputs


@pytest.mark.parametrize("path", ["cli/default-pipeline.mlir", "passes/differentiate/nested.mlir",
                                  "passes/autodiff-reverse/scan.mlir"])
def test_cli_c_is_identical_across_processes(path: str) -> None:
    assert len(c_in_two_processes([GRADC_OPT, str(ROOT / "lit" / path), "-p", "gradc-default", "-t", "c"])) == 1


PROGRAMS = {
    # a checkpointed (binomial) reverse scan
    "binomial-scan-gradient": (
        "from tests.test_scan_reverse import loop_loss\n"
        "w, x0 = np.full((5, 5), 0.1), np.linspace(-1, 1, 5)\n"
        "fn = gradc.grad(lambda w, x0: loop_loss(w, x0, 9), argnums=(0, 1), checkpoint='binomial(snapshots=2)')\n"
        "source = gradc.lower(fn, w, x0).c_source\n"
        "assert 'schedule' in source\n"
    ),
    "threads-2": (
        "a, b = np.ones((64, 48)), np.ones((48, 40))\n"
        "source = gradc.lower(lambda a, b: gnp.tanh(a @ b), a, b, options={'threads': 2}).c_source\n"
        "assert 'omp parallel' in source\n"
    ),
    "tiled-mlp-step": (
        "from tests.test_options import _mlp_args, _mlp_step\n"
        "args = _mlp_args(64, 48, 10, 32, np.float32)\n"
        "source = gradc.lower(_mlp_step, *args, options={'tile': True}).c_source\n"
        "assert 'gradc_microkernel' in source\n"
    ),
}


@pytest.mark.parametrize("program", PROGRAMS)
def test_api_c_is_identical_across_processes(program: str) -> None:
    script = "import numpy as np, gradc, gradc.numpy as gnp\n" + PROGRAMS[program] + "print(source)\n"
    outputs = c_in_two_processes([sys.executable, "-c", script])
    assert len(outputs) == 1
    assert "int " in outputs.pop()
