"""`gradc-opt` as a user meets it: a subprocess given files, flags and stdin.

Every user error must end with exit status 1 and a located message on
stderr, never a Python traceback; see compiler/tools/cli.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import DenseArrayBase, i64
from xdsl.passes import ModulePass
from xdsl.universe import Universe
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array
from gradc.tools import cli

GRADC_OPT = str(Path(sys.executable).parent / "gradc-opt")

PROGRAM = """\
func.func @f(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.mul %x, %y : tensor<4xf32>
  %1 = array.tanh %0 : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
"""

MALFORMED = """\
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.add %x, : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
"""

INVALID = """\
func.func @f(%x: tensor<4x3xf32>) -> tensor<3x4xf32> {
  %0 = array.transpose %x perm [0, 0] : tensor<4x3xf32> -> tensor<3x4xf32>
  func.return %0 : tensor<3x4xf32>
}
"""


def gradc_opt(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GRADC_OPT, *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def write(tmp_path: Path, text: str, name: str = "input.mlir") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_user_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_round_trip_is_a_fixed_point(tmp_path: Path) -> None:
    first = gradc_opt(str(write(tmp_path, PROGRAM)))
    assert first.returncode == 0, first.stderr
    assert "array.tanh %0 : tensor<4xf32>" in first.stdout
    second = gradc_opt(stdin=first.stdout)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_generic_form_round_trips(tmp_path: Path) -> None:
    custom = gradc_opt(str(write(tmp_path, PROGRAM)))
    generic = gradc_opt(str(write(tmp_path, PROGRAM)), "--print-op-generic")
    assert '"array.mul"' in generic.stdout
    assert gradc_opt(stdin=generic.stdout).stdout == custom.stdout


def test_malformed_input_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, MALFORMED)
    result = gradc_opt(str(path))
    assert_user_error(result, f"{path}:2:22: error: operand expected")
    assert "  %0 = array.add %x, : tensor<4xf32>\n" in result.stderr
    assert result.stdout == ""


def test_malformed_stdin_is_located() -> None:
    result = gradc_opt("-", stdin=MALFORMED)
    assert_user_error(result, "<stdin>:2:22: error: operand expected")


def test_verifier_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, INVALID)
    result = gradc_opt(str(path))
    assert_user_error(
        result,
        f"{path}:2:3: error: array.transpose: [0, 0] is not a permutation of [0, 1]",
    )


def test_verify_diagnostics_reports_on_stdout_and_succeeds(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM + "\n// -----\n\n" + INVALID)
    result = gradc_opt(str(path), "--split-input-file", "--verify-diagnostics")
    assert result.returncode == 0, result.stderr
    assert "array.tanh" in result.stdout
    # Lines count from the top of the whole file, not of the chunk.
    assert f"{path}:10:3: error: array.transpose:" in result.stdout


def test_unknown_pass_suggests_names(tmp_path: Path) -> None:
    result = gradc_opt(str(write(tmp_path, PROGRAM)), "-p", "cse,canonicalise")
    assert_user_error(
        result, "gradc-opt: error: unknown pass 'canonicalise'; did you mean canonicalize"
    )


def test_bad_pass_option(tmp_path: Path) -> None:
    result = gradc_opt(str(write(tmp_path, PROGRAM)), "-p", "canonicalize{bogus=1}")
    assert_user_error(result, "gradc-opt: error: bad options for pass 'canonicalize'")
    assert "bogus" in result.stderr


def test_bad_pipeline_syntax(tmp_path: Path) -> None:
    result = gradc_opt(str(write(tmp_path, PROGRAM)), "-p", "canonicalize{")
    assert_user_error(result, "gradc-opt: error: cannot parse the pass pipeline (-p)")


def test_missing_input_file(tmp_path: Path) -> None:
    result = gradc_opt(str(tmp_path / "nope.mlir"))
    assert_user_error(result, "cannot read")
    assert "No such file or directory" in result.stderr


def test_input_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "binary.mlir"
    path.write_bytes(b"func.func @f() {\n  \xff\xfe\n}\n")
    assert_user_error(gradc_opt(str(path)), "input is not valid UTF-8")


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    result = gradc_opt(str(write(tmp_path, PROGRAM)), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "array.mul %x, %y : tensor<4xf32>" in out.read_text()


def test_output_file_is_not_written_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    result = gradc_opt(str(write(tmp_path, INVALID)), "-o", str(out))
    assert result.returncode == 1
    assert not out.exists()


def test_passes_from_xdsl_and_gradc_run(tmp_path: Path) -> None:
    twice = """\
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = array.transpose %x perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = array.transpose %0 perm [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  %2 = array.neg %x : tensor<2x3xf32>
  func.return %1 : tensor<2x3xf32>
}
"""
    result = gradc_opt(str(write(tmp_path, twice)), "-p", "array-simplify,dce")
    assert result.returncode == 0, result.stderr
    assert "array." not in result.stdout


LAYER = """\
func.func @layer(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = array.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %1 = array.broadcast %b dims [1] : tensor<4xf32> -> tensor<2x4xf32>
  %2 = array.add %0, %1 : tensor<2x4xf32>
  %3 = array.tanh %2 : tensor<2x4xf32>
  func.return %3 : tensor<2x4xf32>
}
"""

C_COMPILER = shutil.which("cc") or "cc"  # gradc needs a C compiler; no skipping


def test_default_pipeline_prints_c(tmp_path: Path) -> None:
    result = gradc_opt(str(write(tmp_path, LAYER)), "-p", "gradc-default", "-t", "c")
    assert result.returncode == 0, result.stderr
    assert (
        "int layer(const float *restrict x, const float *restrict w, "
        "const float *restrict b, float *restrict out, void *restrict work)"
    ) in result.stdout
    assert "size_t layer_work_size(void)" in result.stdout
    assert "tanhf(" in result.stdout


@pytest.mark.parametrize("program", [PROGRAM, LAYER], ids=["elementwise", "layer"])
def test_c_output_compiles_as_strict_c99(tmp_path: Path, program: str) -> None:
    source = tmp_path / "out.c"
    result = gradc_opt(
        str(write(tmp_path, program)), "-p", "gradc-default", "-t", "c", "-o", str(source)
    )
    assert result.returncode == 0, result.stderr
    build = subprocess.run(
        [C_COMPILER, "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(source),
         "-o", str(tmp_path / "out.o")],
        capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stderr


def test_c_target_on_array_level_ir_says_what_to_run(tmp_path: Path) -> None:
    result = gradc_opt(str(write(tmp_path, PROGRAM)), "-t", "c")
    assert_user_error(result, "error: target 'c' failed:")
    assert "lower-loops-to-c" in result.stderr


def test_usage_errors_exit_with_2(tmp_path: Path) -> None:
    result = gradc_opt(str(write(tmp_path, PROGRAM)), "-t", "fortran")
    assert result.returncode == 2
    assert "invalid choice: 'fortran'" in result.stderr


# ---------------------------------------------------------------------------
# Registration: gradc's names come from the entry point, or from gradc itself
# when it runs uninstalled; never twice.
# ---------------------------------------------------------------------------


def test_gradc_is_registered_once() -> None:
    main = cli.GradcOptMain(args=[])
    names = list(main.ctx.registered_dialect_names)
    assert names.count("array") == names.count("loops") == 1
    assert "lower-array-to-loops" in main.available_passes
    assert "c" in main.available_targets


def test_gradc_registers_itself_without_the_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xdsl.universe import XDSL_UNIVERSE

    monkeypatch.setattr(Universe, "get_multiverse", staticmethod(lambda: XDSL_UNIVERSE))
    main = cli.GradcOptMain(args=[])
    assert "array" in main.ctx.registered_dialect_names
    assert "array-simplify" in main.available_passes
    assert "canonicalize" in main.available_passes


def test_named_pipeline_expands() -> None:
    specs = cli._expand_named(list(cli.parse_pipeline("cse,gradc-default")))
    assert [s.name for s in specs] == ["cse", *cli.DEFAULT_PIPELINE]


# ---------------------------------------------------------------------------
# Pass failures, in process: a test pass registered on the driver.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectTanh(ModulePass):
    name = "test-reject-tanh"

    def apply(self, ctx: Context, op) -> None:
        for inner in op.walk():
            if isinstance(inner, array.TanhOp):
                inner.emit_error(
                    "tanh is not supported", PassFailedException("tanh is not supported")
                )


@dataclass(frozen=True)
class BreakTypes(ModulePass):
    """Leaves IR that does not verify: a bug in a pass, not in the input."""

    name = "test-break-types"

    def apply(self, ctx: Context, op) -> None:
        for inner in list(op.walk()):
            if isinstance(inner, array.TanhOp):
                bad = array.TransposeOp.create(
                    operands=[inner.input],
                    result_types=[inner.result.type],
                    properties={"permutation": DenseArrayBase.from_list(i64, [0, 0])},
                )
                inner.parent.insert_op_before(bad, inner)


@dataclass(frozen=True)
class Crash(ModulePass):
    name = "test-crash"

    def apply(self, ctx: Context, op) -> None:
        raise KeyError("oops")


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    base = cli.GradcOptMain

    class WithTestPasses(base):
        def register_all_passes(self) -> None:
            super().register_all_passes()
            for p in (RejectTanh, BreakTypes, Crash):
                self.register_pass(p.name, lambda p=p: p)

    monkeypatch.setattr(cli, "GradcOptMain", WithTestPasses)

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(list(args))
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run


def test_pass_failure_is_located_at_the_op(run_main, tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM)
    code, out, err = run_main(str(path), "-p", "test-reject-tanh")
    assert code == 1
    assert f"{path}:3:3: error: pass 'test-reject-tanh' failed: tanh is not supported" in err
    assert "Traceback" not in err


def test_ir_broken_by_a_pass_names_the_pass(run_main, tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM)
    code, _, err = run_main(str(path), "-p", "test-break-types")
    assert code == 1
    assert "the IR after pass 'test-break-types' does not verify" in err
    # The new op has no location: the enclosing function's is given, and
    # xDSL's IR dump marks the op.
    assert f"{path}:1:1: error:" in err
    assert "Operation does not verify" in err


def test_pass_crash_is_reported_without_traceback(run_main, tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM)
    code, _, err = run_main(str(path), "-p", "test-crash")
    assert code == 1
    assert "gradc-opt: error: pass 'test-crash' crashed: KeyError: 'oops'" in err
    assert "--traceback" in err
    assert "Traceback (most recent call last)" not in err


def test_traceback_flag_shows_the_crash(run_main, tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM)
    code, _, err = run_main(str(path), "-p", "test-crash", "--traceback")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "KeyError: 'oops'" in err
