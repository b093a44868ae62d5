"""Importing gradc is cheap: `import gradc` loads none of the machinery
behind its names, `gradc.numpy` none of the compiler, and gradc's ops
compile their assembly formats only when first parsed or printed
(docs/architecture.md, "Import time"). Checked on `sys.modules` in a fresh
interpreter, never by timing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from xdsl.irdl import IRDLOperation, operand_def, result_def
from xdsl.utils.exceptions import PyRDLOpDefinitionError

import gradc
from gradc.dialects import get_all_dialects
from gradc.dialects.deferred_format import format_program, op_definition


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def under(modules: set[str], *packages: str) -> set[str]:
    return {m for m in modules if m.split(".")[0] in packages or m.startswith(tuple(p + "." for p in packages))}


def test_import_gradc_loads_only_gradc() -> None:
    loaded = loaded_after("import gradc")
    assert under(loaded, "gradc") == {"gradc"}
    assert not under(loaded, "numpy", "xdsl", "cffi", "pycparser")


def test_gradc_numpy_loads_no_compiler() -> None:
    loaded = loaded_after("import gradc.numpy")
    assert "gradc.frontend.tracer" in loaded
    assert not under(loaded, "gradc.pipeline", "gradc.passes", "gradc.backend", "gradc.transforms", "gradc.interpreter",
                     "gradc.tools", "cffi", "pycparser")
    assert "xdsl.irdl.declarative_assembly_format" not in loaded  # no op's format compiled yet


def test_gradc_opt_help_loads_no_dialect() -> None:
    loaded = loaded_after("import sys\nfrom gradc.tools.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert "gradc.tools.cli" in loaded
    assert not under(loaded, "numpy", "gradc.dialects.array", "gradc.dialects.c", "gradc.dialects.loops",
                     "gradc.dialects.autodiff", "gradc.passes.lower_loops_to_c", "xdsl.dialects.arith", "xdsl.dialects.math")


def test_every_public_name_resolves_to_its_definition() -> None:
    from gradc.errors import GradcError
    from gradc.numpy import sin
    from gradc.transforms.api import jit
    from gradc.transforms.derivatives import grad

    assert (gradc.jit, gradc.grad, gradc.GradcError, gradc.numpy.sin) == (jit, grad, GradcError, sin)
    assert all(getattr(gradc, name) is not None for name in gradc.__all__)
    assert set(gradc.__all__) <= set(dir(gradc))
    with pytest.raises(AttributeError, match="no attribute 'jitt'"):
        gradc.jitt  # noqa: B018


def test_every_assembly_format_compiles() -> None:
    """Every gradc op with a format is defined with op_definition (else
    format_program names it) and its format compiles."""
    formats = 0
    for load in get_all_dialects().values():
        for op in load().operations:
            if op.get_irdl_definition().assembly_format is not None:
                assert format_program(op).stmts, op.name
                formats += 1
    assert formats > 100


def test_a_bad_format_fails_on_first_use() -> None:
    @op_definition
    class Bad(IRDLOperation):
        name = "test.bad"
        x = operand_def()
        y = result_def()
        assembly_format = "$x `:` type($nothing)"

    with pytest.raises(PyRDLOpDefinitionError, match="Bad"):
        format_program(Bad)


def test_an_op_outside_op_definition_is_named() -> None:
    from xdsl.dialects.arith import AddfOp

    with pytest.raises(PyRDLOpDefinitionError, match="AddfOp: not defined with .*op_definition"):
        format_program(AddfOp)


def test_format_and_print_method_conflict() -> None:
    with pytest.raises(PyRDLOpDefinitionError, match="cannot define both"):

        @op_definition
        class Both(IRDLOperation):
            name = "test.both"
            x = operand_def()
            assembly_format = "$x attr-dict"

            def print(self, printer: object) -> None:
                raise AssertionError
