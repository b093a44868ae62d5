"""The source tree keeps the shape docs/architecture.md describes: imports
point down the pipeline, every package is installed, and every pass lives in
the module named after its CLI name.

The import rules are checked on the source text (every `import`, at module
level or inside a function), so a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"gradc": ROOT / "compiler", "gradc.dialects": ROOT / "dialects", "gradc.passes": ROOT / "passes"}

PUBLIC = {"gradc", "gradc.numpy", "gradc.tune", "gradc.distributed", "gradc.stack_usage", "gradc.sanitize", "gradc.nn", "gradc.lax", "gradc.random",
          "gradc.scipy", "gradc.scipy.linalg", "gradc.scipy.special",
          "gradc.scipy.stats", "gradc.scipy.stats.norm"}
"""The top-level public modules: entry points for users, free to import
anything, importable by nothing of gradc's but tools and each other."""

ALLOWED: dict[str, set[str]] = {
    "dialects": {"dialects"},
    "errors": set(),
    "support": {"support", "errors"},
    "interpreter": {"interpreter", "dialects", "support", "errors"},
    "passes": {"passes", "interpreter", "dialects", "support", "errors"},
    "backend": {"backend", "dialects", "support", "errors"},
    "pipeline": {"pipeline", "passes", "backend", "dialects", "support", "errors"},
    "frontend": {"frontend", "dialects", "support", "errors"},
    "transforms": {"transforms", "frontend", "pipeline", "backend", "dialects", "support", "errors"},
    "tools": {"tools", "transforms", "frontend", "pipeline", "backend", "passes", "interpreter", "dialects",
              "support", "errors", "public"},
    "public": {"public", "tools", "transforms", "frontend", "pipeline", "backend", "passes", "interpreter",
               "dialects", "support", "errors"},
}
"""Which layers each layer may import: the pipeline read top to bottom."""


def layer(module: str) -> str:
    """The layer a gradc module belongs to."""
    if module in PUBLIC:
        return "public"
    parts = module.split(".")
    assert parts[0] == "gradc" and len(parts) > 1, module
    if parts[1] in ("errors", "pipeline"):
        return parts[1]
    if parts[1] in ALLOWED:
        return parts[1]
    raise AssertionError(f"{module}: not in any layer of docs/architecture.md")


def module_files() -> dict[str, Path]:
    """Every gradc module by import name, from the folders pyproject maps."""
    files: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            files[".".join((package, *rel))] = path
    return files


MODULES = module_files()


def imported_modules(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, gradc module) for every import of gradc in the file; `from X
    import y` counts as importing X.y when that is a module."""
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "gradc"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "gradc":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in MODULES else base))
    return found


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 40
    for name in MODULES:
        layer(name)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_pipeline(module: str) -> None:
    own = layer(module)
    bad = []
    for line, target in imported_modules(module, MODULES[module]):
        if target not in MODULES:
            bad.append(f"line {line}: imports {target}, which does not exist")
        elif layer(target) not in ALLOWED[own] and target != module:
            bad.append(f"line {line}: {own} may not import {target} ({layer(target)})")
    assert not bad, f"{MODULES[module].relative_to(ROOT)}:\n  " + "\n  ".join(bad)


def test_the_rules_catch_an_upward_import(tmp_path: Path) -> None:
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from gradc.passes.plan_memory import memory_figures\n")
    found = imported_modules("gradc.dialects.x", path)
    assert found == [(2, "gradc.passes.plan_memory")]
    assert layer(found[0][1]) not in ALLOWED[layer("gradc.dialects.x")]


def test_every_package_is_installed() -> None:
    """pyproject's `packages` lists every package folder (an editable
    install finds unlisted ones; a wheel would leave them out)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert listed == packages
    assert config["package-dir"] == {name: folder.name for name, folder in FOLDERS.items()}


def test_every_pass_lives_in_the_module_named_after_it() -> None:
    from gradc.passes import get_all_passes

    for cli_name, load in get_all_passes().items():
        cls = load()
        assert cls.name == cli_name
        assert cls.__module__ == "gradc.passes." + cli_name.replace("-", "_")
