"""The runtime and the build cache under misuse, races and damage.

- Calls with the wrong arguments fail with a clear error before C runs;
  read-only and repeated inputs give the right numbers, and outputs are
  always fresh arrays (gradc allocates them, so a caller cannot hand in a
  read-only, strided or overlapping output).
- 8 processes building the same function at once leave one valid entry.
- A truncated or corrupted library is caught by its checksum and rebuilt.
- An unwritable cache folder falls back to a private one, with one warning.
- A failing C compile names the command and the compiler's first error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradc
from gradc.backend import build as build_mod
from gradc.backend.build import CHECKSUM_FILE, BuildError, build
import gradc.numpy as gnp

SOURCE = "int twice(const double *restrict x, double *restrict y, void *restrict work) {\n" \
         "    (void)work;\n    for (int i = 0; i < 4; ++i) y[i] = 2.0 * x[i];\n    return 0;\n}\n"
HEADER = "int twice(const double *restrict x, double *restrict y, void *restrict work);\n"


def f(x, y):
    return gnp.tanh(x) * y + x


def reference(x, y):
    return np.tanh(x) * y + x


@pytest.fixture()
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for one test, with the in-process memo cleared
    so builds go through the disk cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GRADC_CACHE_DIR", str(cache))
    build_mod.forget_loaded()
    yield cache
    build_mod.forget_loaded()


def _twice(module) -> np.ndarray:
    x = np.arange(4.0)
    y = np.empty(4)
    status = module.lib.twice(module.ffi.from_buffer("double[]", x),
                              module.ffi.from_buffer("double[]", y, True), module.ffi.NULL)
    assert status == 0
    return y


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.iterdir() if not p.name.startswith(".")]


# ---------------------------------------------------------------------------
# Arguments


@pytest.fixture(scope="module")
def compiled():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    return gradc.lower(f, x, x).compiled.function


def test_wrong_arguments_are_refused_before_c_runs(compiled) -> None:
    good = np.ones((3, 4))
    with pytest.raises(TypeError, match=r"argument 1: expected float64\[3,4\], got float32\[3,4\]"):
        compiled(good, good.astype(np.float32))
    with pytest.raises(ValueError, match=r"argument 0: expected float64\[3,4\], got float64\[4,3\]"):
        compiled(good.T.copy(), good)
    with pytest.raises(ValueError, match="C-contiguous"):
        compiled(np.ones((3, 8))[:, ::2], good)
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        compiled(good)
    with pytest.raises(TypeError, match="expected a NumPy array float64\\[3,4\\], got list"):
        compiled(good.tolist(), good)


def test_read_only_and_repeated_inputs(compiled) -> None:
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    x.setflags(write=False)
    (out,) = compiled(x, x)
    np.testing.assert_allclose(out, reference(x, x), rtol=1e-13)
    assert out.flags.writeable and out.flags.c_contiguous
    assert not np.shares_memory(out, x)
    (again,) = compiled(x, x)
    assert not np.shares_memory(out, again)  # a fresh output on every call


def test_jit_copies_strided_inputs_and_checks_signatures() -> None:
    x = np.linspace(-1, 1, 24).reshape(3, 8)
    strided = x[:, ::2]
    np.testing.assert_allclose(gradc.jit(f)(strided, strided), reference(strided, strided), rtol=1e-13)
    fixed = gradc.lower(f, strided.copy(), strided.copy()).compile()
    with pytest.raises(gradc.GradcError, match="was compiled for arguments"):
        fixed(x, x)


# ---------------------------------------------------------------------------
# Concurrency


RACE = """
import sys
import numpy as np
import gradc, gradc.numpy as gnp
x = np.linspace(-1, 1, 12).reshape(3, 4)
out = gradc.jit(lambda x, y: gnp.tanh(x) * y + x)(x, x + 1)
np.testing.assert_allclose(out, np.tanh(x) * (x + 1) + x, rtol=1e-13)
print("ok")
"""


def test_eight_processes_build_one_entry(fresh_cache: Path) -> None:
    env = {**os.environ, "GRADC_CACHE_DIR": str(fresh_cache)}
    procs = [subprocess.Popen([sys.executable, "-c", RACE], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out == "ok\n", err
    (entry,) = _entries(fresh_cache)
    library = next(entry.glob("*.so"))
    import hashlib
    assert (entry / CHECKSUM_FILE).read_text() == hashlib.sha256(library.read_bytes()).hexdigest()
    assert not list(fresh_cache.glob(".tmp-*"))


# ---------------------------------------------------------------------------
# Damage


@pytest.mark.parametrize("damage", ["truncate", "flip", "checksum", "delete"])
def test_damaged_entry_is_rebuilt(fresh_cache: Path, damage: str) -> None:
    # Built by another process: this one must not have the library mapped
    # while the test damages it in place.
    subprocess.run([sys.executable, "-c", "import sys; from gradc.backend.build import build; "
                    "build(sys.argv[1], sys.argv[2], ['twice'])", SOURCE, HEADER],
                   env={**os.environ, "GRADC_CACHE_DIR": str(fresh_cache)}, check=True, timeout=120)
    (entry,) = _entries(fresh_cache)
    library = next(entry.glob("*.so"))
    good = library.read_bytes()
    if damage == "truncate":
        library.write_bytes(good[: len(good) // 3])
    elif damage == "flip":
        library.write_bytes(good[:1000] + bytes([good[1000] ^ 0xFF]) + good[1001:])
    elif damage == "checksum":
        (entry / CHECKSUM_FILE).write_text("0" * 64)
    else:
        library.unlink()
    build_mod.forget_loaded()
    calls = []
    real = build_mod._run_compiler
    with pytest.MonkeyPatch.context() as m:
        m.setattr(build_mod, "_run_compiler", lambda cmd, cwd: calls.append(cmd) or real(cmd, cwd))
        module = build(SOURCE, HEADER, ["twice"])
    assert len(calls) == 1  # rebuilt, not loaded
    np.testing.assert_array_equal(_twice(module), 2 * np.arange(4.0))
    assert library.read_bytes() == good if damage != "checksum" else library.exists()
    assert [p.name for p in _entries(fresh_cache)] == [entry.name]


# ---------------------------------------------------------------------------
# An unwritable cache


def test_unwritable_cache_falls_back_with_one_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # A folder under a regular file cannot be made, not even by root.
    monkeypatch.setenv("GRADC_CACHE_DIR", str(blocker / "cache"))
    build_mod.forget_loaded()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = build(SOURCE, HEADER, ["twice"])
        other = build(SOURCE.replace("2.0", "3.0"), HEADER, ["twice"])
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and f"cannot write the build cache {blocker / 'cache'}" in messages[0]
    np.testing.assert_array_equal(_twice(first), 2 * np.arange(4.0))
    np.testing.assert_array_equal(_twice(other), 3 * np.arange(4.0))
    build_mod.forget_loaded()


# ---------------------------------------------------------------------------
# A failing compiler


def test_missing_compiler_names_the_command(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "/nonexistent/bin/gcc-13")
    with pytest.raises(BuildError, match="cannot run the C compiler '/nonexistent/bin/gcc-13'"):
        build(SOURCE, HEADER, ["twice"])
    monkeypatch.setenv("CC", "cc")
    monkeypatch.setenv("PATH", str(fresh_cache))  # no compiler on it
    with pytest.raises(BuildError, match="cannot run the C compiler 'cc'.*set \\$CC"):
        build(SOURCE, HEADER, ["twice"])


def test_bad_march_shows_the_command_and_first_error(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADC_CFLAGS", "-O2 -march=no-such-cpu")
    with pytest.raises(BuildError) as info:
        build(SOURCE, HEADER, ["twice"])
    first, command = str(info.value).splitlines()[:2]
    assert first.startswith("C compiler failed (exit 1): ")
    assert "error" in first and "no-such-cpu" in first
    assert command.startswith("command: ") and "-march=no-such-cpu" in command


def test_jit_reports_a_compile_failure(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADC_CFLAGS", "-march=no-such-cpu")
    with pytest.raises(BuildError, match="C compiler failed.*no-such-cpu"):
        gradc.jit(f)(np.ones(3), np.ones(3))


def test_native_builds_are_keyed_by_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache shared by machines with different CPUs (a cluster's home
    directory) must not hand a `-march=native` build to a CPU it was not
    built for; builds for a named target are shared."""
    native, generic = ("-O2", "-march=native"), ("-O2", "-march=x86-64")
    command = build_mod.compiler_command()
    keys = {}
    for cpu in ("cpu A|avx2", "cpu B|avx512f"):
        monkeypatch.setattr(build_mod, "cpu_identity", lambda cpu=cpu: cpu)
        keys[cpu] = (build_mod.cache_key("int f(void);", "", native, command),
                     build_mod.cache_key("int f(void);", "", generic, command))
    (native_a, generic_a), (native_b, generic_b) = keys.values()
    assert native_a != native_b and generic_a == generic_b
