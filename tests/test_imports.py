"""Importing gradc is cheap: `import gradc` loads none of the machinery
behind its names, `gradc.numpy` none of the compiler. Checked on `sys.modules` in a fresh
interpreter, never by timing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import gradc


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
