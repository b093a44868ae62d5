"""Build generated C into a Python extension with cffi, cached by content hash.

Expects: a C source and its header (as target `c` prints them) and the
names of the functions to expose.

Guarantees: per build (keyed by the source, flags, compiler and, for
`-march=native`, the CPU), the kernel compiled with the build's flags and
linked with cffi's glue, which is the same for every kernel of the same
signatures and so compiled once per machine (in parallel with the first
such kernel, at GLUE_OPT, over a precompiled Python.h when the compiler is
gcc); each build lands in
`<cache>/<sha256>/` next to readable `kernel.c` and `kernel.h`, exactly the
public ABI that `export_c` writes; entries
are written atomically, so concurrent processes never see half-built ones,
and one whose checksum does not match is rebuilt; a failing compile is a
`BuildError` naming the first error and the command.

Flags (`resolve_flags`): DEFAULT_FLAGS, or the caller's, or
`$GRADC_CFLAGS`; then any extra ones; then WORKAROUND_FLAGS, always.
`GRADC_SANITIZE=address,undefined` builds with sanitizers instead of the
optimized flags (`sanitize_flags`; `python -m gradc.sanitize` sets it up).

Why cffi without setuptools, the cache key and the ABI details:
docs/backend.md; damaged entries, unwritable caches, sanitizers:
docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import cffi

from gradc.support.host import cache_root, cpu_identity

WORKAROUND_FLAGS: tuple[str, ...] = (
    # gcc 12's SLP vectorizer drops the rounding of `(double)(float)x` in
    # unrolled straight-line code (wrong numbers; see
    # tests/test_ops.py::test_f64_f32_f64_round_trip_is_rounded).
    "-fno-tree-slp-vectorize",
    # gcc 12 at -O3 -march=native (AVX-512) with the flag above turns the
    # copy loops of a reverse scan over `restrict` workspace pointers into
    # memcpy/memset and then reads stale values (wrong numbers; see
    # tests/regressions/test_gcc_loop_patterns.py, found by the program
    # fuzzer). The loops stay loops, and vectorized.
    "-fno-tree-loop-distribute-patterns",
)
"""Flags that avoid gcc 12 miscompilations of generated code: every build
gets them after its other flags, whatever those are (`resolve_flags`)."""
DEFAULT_FLAGS: tuple[str, ...] = (
    "-O3",
    "-march=native",
    # errno is never read by generated code; without it gcc inlines sqrt and
    # vectorizes loops that call it. Results are unchanged.
    "-fno-math-errno",
    *WORKAROUND_FLAGS,
    # The loop vectorizer's own choice on AVX-512 machines is 256-bit
    # vectors; the microkernels use 512-bit ones anyway, and the elementwise
    # loops (exp, log, tanh) run ~10-25% faster at full width. No effect on
    # machines without 512-bit vectors.
    "-mprefer-vector-width=512",
)
OPENMP_PRAGMA = "#pragma omp "
OPENMP_FLAG = "-fopenmp"
NO_OPENMP_FLAG = "-fno-openmp"
"""OPENMP_FLAG is added to the flags (compile and link: libgomp) only for
sources with OpenMP pragmas, so serial kernels build exactly as before;
flags that already say NO_OPENMP_FLAG build the same source serially (the
pragmas are behind `#ifdef _OPENMP`)."""
CACHE_FORMAT = "gradc-build-5"
"""Bump when the layout of a cache entry changes."""

_loaded: dict[str, Any] = {}
"""Extension modules already loaded in this process, by cache key."""
_build_lock = threading.Lock()
_fallback_roots: dict[Path, Path] = {}
"""The private temporary cache used instead of each cache root that could
not be written."""

CHECKSUM_FILE = "library.sha256"

SANITIZE_ENV = "GRADC_SANITIZE"
SANITIZERS: dict[str, tuple[str, ...]] = {
    "address": ("address",),
    # gcc's `undefined` leaves out float-to-int conversions that overflow,
    # which are UB in C as well.
    "undefined": ("undefined", "float-cast-overflow"),
}
"""What `GRADC_SANITIZE=address,undefined` may name, and the -fsanitize
checks each turns on."""
SANITIZE_FLAGS: tuple[str, ...] = ("-O0", "-g", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all")
"""Added to sanitized builds: -O0, so no transformation folds UB away and
the build is quick (gcc at -O1 took 35% longer on the sanitized tests; the
checks cost little at run time on test sizes); every finding aborts the
process."""
_UNSAFE_FLAGS = ("-O", "-ffast-math", "-funsafe-math-optimizations", "-ffinite-math-only",
                 "-fno-trapping-math", "-fassociative-math", "-freciprocal-math")
"""Dropped from sanitized builds: optimization levels (replaced by -O0) and
fast-math options, which let the compiler assume away what the sanitizers
look for."""


class BuildError(Exception):
    """The C compiler rejected generated code (or could not be run)."""


def compiler_command() -> tuple[str, ...]:
    """`$CC` split like a shell would (so `ccache gcc` works), else `cc`."""
    return tuple(shlex.split(os.environ.get("CC") or "cc"))


@lru_cache(maxsize=None)
def compiler_version(command: tuple[str, ...]) -> str:
    """First line of `cc --version`; part of the cache key, computed once."""
    try:
        proc = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, check=False
        )
    except OSError as err:
        raise BuildError(
            f"cannot run the C compiler {' '.join(command)!r} ({err}); set $CC"
        ) from err
    lines = (proc.stdout or proc.stderr).splitlines()
    return lines[0] if lines else ""


def sanitizers() -> tuple[str, ...]:
    """The sanitizers `$GRADC_SANITIZE` asks for (comma-separated), checked."""
    names = tuple(n.strip() for n in os.environ.get(SANITIZE_ENV, "").split(",") if n.strip())
    unknown = [n for n in names if n not in SANITIZERS]
    if unknown:
        raise BuildError(
            f"{SANITIZE_ENV}={os.environ[SANITIZE_ENV]!r}: unknown sanitizer {unknown[0]!r} "
            f"(expected a comma-separated subset of {', '.join(SANITIZERS)})"
        )
    return names


def sanitize_flags(flags: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """`flags` for a build under the sanitizers `names` (unchanged if none)."""
    if not names:
        return tuple(flags)
    checks = ",".join(check for name in names for check in SANITIZERS[name])
    kept = tuple(f for f in flags if not f.startswith(_UNSAFE_FLAGS))
    return (*kept, *SANITIZE_FLAGS, f"-fsanitize={checks}")


def asan_runtime() -> str:
    """Path of the compiler's ASan runtime, for LD_PRELOAD."""
    proc = subprocess.run([*compiler_command(), "-print-file-name=libasan.so"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "libasan.so"


def _check_asan_loaded() -> None:
    """An ASan-built extension loaded into a process without the ASan
    runtime makes the runtime kill the process; say what to do instead."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return  # not Linux: let the loader decide
    if "libasan" not in maps:
        raise BuildError(
            f"{SANITIZE_ENV}=address needs the ASan runtime loaded first: run Python as "
            f"`LD_PRELOAD={asan_runtime()} ASAN_OPTIONS=detect_leaks=0 python ...`, "
            f"or use `python -m gradc.sanitize COMMAND...`"
        )


def resolve_flags(flags: Sequence[str] | None, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The compiler flags of a build: `flags` if given, else `$GRADC_CFLAGS`,
    else DEFAULT_FLAGS; then `extra`; then each of WORKAROUND_FLAGS whose
    optimization those flags do not name themselves (gcc takes the last of
    `-fX` and `-fno-X`, so a user's `-ftree-slp-vectorize` stays in force)."""
    if flags is not None:
        chosen = (*flags, *extra)
    elif env := os.environ.get("GRADC_CFLAGS"):
        chosen = (*shlex.split(env), *extra)
    else:
        chosen = (*DEFAULT_FLAGS, *extra)
    named = {_optimization(flag) for flag in chosen}
    return (*chosen, *(flag for flag in WORKAROUND_FLAGS if _optimization(flag) not in named))


def _optimization(flag: str) -> str | None:
    """What `-fX` or `-fno-X` turns on or off: X."""
    if flag.startswith("-fno-"):
        return flag[len("-fno-"):]
    return flag[len("-f"):] if flag.startswith("-f") else None


def native_target(flags: Sequence[str]) -> str:
    """The CPU's identity when `flags` build for the host CPU (`-march=native`,
    `-mcpu=native`, ...), else "": a cache key part."""
    return cpu_identity() if any(flag.endswith("=native") for flag in flags) else ""


def cache_key(source: str, header: str, flags: Sequence[str], command: Sequence[str]) -> str:
    """sha256 of everything that changes the built file (the CPU too, for
    `-march=native` builds)."""
    parts = [
        CACHE_FORMAT,
        native_target(flags),
        source,
        header,
        "\0".join(flags),
        "\0".join(command),
        compiler_version(tuple(command)),
        sysconfig.get_config_var("EXT_SUFFIX") or "",
        cffi.__version__,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def module_name(key: str) -> str:
    return f"_gradc_{key[:16]}"


def _cdef(header: str) -> str:
    """The header without preprocessor lines, which cffi's parser does not take."""
    return "\n".join(line for line in header.splitlines() if not line.lstrip().startswith("#"))


KERNEL_PREFIX = "gradc_kernel"


def _declared(header: str) -> list[str]:
    """The names of the functions `header` declares, in order."""
    return re.findall(r"^[^#\n]*?\b([A-Za-z_]\w*)\(", header, re.M)


def _renames(names: Sequence[str]) -> str:
    """`#define NAME gradc_kernelK` for the K-th declared function.

    The kernel is compiled under these names and the cffi glue calls them:
    a name no header uses (cffi's glue includes Python.h, which declares
    much of POSIX: `mkdir`, `stat`, `getline`, `timezone`; a kernel named
    like one of them would conflict), and the same for every function of
    the same signature, so one glue object serves them all (`_Glue`). The
    module's `lib` still offers each function under NAME (`_Lib`)."""
    return "".join(f"#define {n} {KERNEL_PREFIX}{k}\n" for k, n in enumerate(names))


def _canonical_names(names: Sequence[str]) -> Callable[[str], str]:
    """Text with each declared NAME replaced by `gradc_kernelK`."""
    if not names:
        return lambda text: text
    index = {n: k for k, n in enumerate(names)}
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    pattern = re.compile(rf"\b({alternatives})\b")
    return lambda text: pattern.sub(lambda m: f"{KERNEL_PREFIX}{index[m.group(1)]}", text)


@dataclass(frozen=True)
class _Glue:
    """cffi's glue for a module: the same for every module whose functions
    have the same signatures once renamed (`_renames`), so it
    is compiled once per machine into `<cache>/.glue-<key>/glue.o` and
    linked into each of them."""

    names: tuple[str, ...]
    source: str
    cdef: str
    key: str

    @property
    def module(self) -> str:
        """The extension module's name (its `PyInit_` symbol)."""
        return f"_gradc_glue_{self.key[:16]}"


def _glue(header: str, flags: Sequence[str], command: Sequence[str]) -> _Glue:
    names = tuple(_declared(header))
    canonical = _canonical_names(names)
    prototypes = canonical(re.sub(r"/\*.*?\*/", "", _cdef(header), flags=re.S))
    includes = "".join(f"{line.strip()}\n" for line in header.splitlines() if line.lstrip().startswith("#include"))
    source, cdef = includes + prototypes, prototypes
    parts = [CACHE_FORMAT, native_target(flags), source, cdef, *_glue_flags(flags), *command,
             compiler_version(tuple(command)),
             sysconfig.get_paths()["include"], sysconfig.get_config_var("EXT_SUFFIX") or "", cffi.__version__]
    return _Glue(names, source, cdef, hashlib.sha256("\x1f".join(parts).encode()).hexdigest())


class _Lib:
    """A module's `lib` under the functions' own names (see `_renames`)."""

    def __init__(self, lib: Any, names: Sequence[str]):
        self._lib = lib
        self._canonical = _canonical_names(names)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, self._canonical(name))


def _first_error(stderr: str) -> str:
    """The compiler's first `error:` line (else its first line): what a user
    needs to see first among pages of notes."""
    lines = stderr.strip().splitlines()
    return next((line for line in lines if "error" in line), lines[0] if lines else "(no message)")


def _run_compiler(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the compile of the kernel (the one call per build that compiles
    generated code; tests count them)."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _check(proc: subprocess.CompletedProcess[str], command: list[str], what: str) -> None:
    returncode, stderr = proc.returncode, proc.stderr
    if returncode != 0:
        raise BuildError(
            f"C compiler failed{what} (exit {returncode}): {_first_error(stderr)}\n"
            f"command: {shlex.join(command)}\n{stderr.strip()}"
        )


GLUE_OPT = "-O1"
"""Optimization level of the cffi glue (argument conversion around the
kernel): its compile time is paid by every build, its code is a few
conversions per call; -O1 compiles ~20% faster than -O3 and calls as fast."""

PYTHON_PRELUDE = "gradc_python.h"
"""The part of cffi's glue up to and including `#include <Python.h>`, the
same text for every build: compiled once per machine into a gcc
precompiled header in the cache (`_prelude_dir`), it saves most of the
~0.1 s that parsing Python.h costs each build."""


def _glue_flags(flags: Sequence[str]) -> tuple[str, ...]:
    """The kernel's flags with the optimization level replaced by GLUE_OPT."""
    return (*(f for f in flags if not f.startswith("-O")), GLUE_OPT)


def _split_prelude(glue: str) -> tuple[str, str] | None:
    """cffi's glue as (prelude through `#include <Python.h>`, the rest)."""
    marker = "#include <Python.h>\n"
    at = glue.find(marker)
    return None if at < 0 else (glue[: at + len(marker)], glue[at + len(marker):])


def _is_gcc(command: Sequence[str]) -> bool:
    """Whether the compiler reads gcc's precompiled headers (`cc` here is
    gcc but does not say so in its version line; clang does say clang)."""
    return "clang" not in compiler_version(tuple(command)).lower()


_prelude_dirs: dict[str, Path | None] = {}


def _prelude_dir(root: Path, prelude: str, flags: Sequence[str], command: Sequence[str], include: str) -> Path | None:
    """A cache folder holding PYTHON_PRELUDE and its precompiled `.gch` for
    `flags`, built on first use (atomically, like entries); None when the
    compiler is not gcc or the header does not precompile (the glue then
    carries the prelude itself). gcc ignores a `.gch` whose options do not
    match and reads the header instead, so a stale one is slow, not wrong."""
    key = hashlib.sha256("\x1f".join([CACHE_FORMAT, native_target(flags), prelude, *flags, *command, include,
                                       compiler_version(tuple(command))]).encode()).hexdigest()
    folder = root / f".pch-{key[:16]}"
    if str(folder) in _prelude_dirs and (_prelude_dirs[str(folder)] is None or folder.exists()):
        return _prelude_dirs[str(folder)]
    found: Path | None = None
    if _is_gcc(command):
        if not (folder / f"{PYTHON_PRELUDE}.gch").exists():
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-pch-{key[:16]}-", dir=root))
            (tmp / PYTHON_PRELUDE).write_text(prelude)
            cmd = [*command, *flags, "-fPIC", f"-I{include}", "-x", "c-header", PYTHON_PRELUDE,
                   "-o", f"{PYTHON_PRELUDE}.gch"]
            try:
                built = subprocess.run(cmd, cwd=tmp, capture_output=True, check=False).returncode == 0
            except OSError:
                built = False  # no compiler: the glue's compile says so
            if built:
                try:
                    os.rename(tmp, folder)
                except OSError:
                    pass  # another process finished first; its header is identical
            shutil.rmtree(tmp, ignore_errors=True)
        if (folder / f"{PYTHON_PRELUDE}.gch").exists():
            found = folder
    _prelude_dirs[str(folder)] = found
    return found


def _compile(entry: Path, name: str, source: str, header: str, flags: Sequence[str],
             command: Sequence[str], final: Path | None = None) -> None:
    """Build in `entry`; `final` is where the entry will be renamed to.

    The kernel (`kernel.c` as printed, with `flags`, under the names of
    `_renames`) is compiled while the glue is (when the cache does not
    have it yet, see `_glue_object`), then the two are linked."""
    (entry / "kernel.c").write_text(source)
    (entry / "kernel.h").write_text(header)
    glue = _glue(header, flags, command)
    (entry / "renames.h").write_text(_renames(glue.names))
    library = _library_path(entry, name)
    prefix_map = []
    if final is not None and any(f.startswith("-g") for f in flags):
        # Debug info names the entry's final folder (where a debugger finds
        # kernel.c), not the temporary one: the same build gives the same bytes.
        prefix_map = [f"-ffile-prefix-map={entry}={final}"]
    # Hidden visibility: the kernel's symbols stay inside the module, so a
    # generated function named like a libc export (`step`) cannot be
    # interposed by it; only the module's init function is exported.
    kernel_cmd = [*command, *prefix_map, *flags, "-fPIC", "-fvisibility=hidden", "-include", "renames.h",
                  "-c", "kernel.c", "-o", "kernel.o"]
    # The kernel compiles on a thread while this one makes the glue (and, the
    # first time on a machine, the precompiled Python.h) if the cache lacks it.
    kernel: dict[str, Any] = {}

    def compile_kernel() -> None:
        try:
            kernel["done"] = _run_compiler(kernel_cmd, entry)
        except OSError as err:
            kernel["error"] = BuildError(f"cannot run the C compiler {command[0]!r} ({err}); set $CC")

    thread = threading.Thread(target=compile_kernel, name="gradc kernel compile")
    thread.start()
    glue_error: BuildError | None = None
    try:
        glue_object = _glue_object(glue, flags, command)
    except BuildError as err:
        glue_error = err
    finally:
        thread.join()
    if "error" in kernel:
        raise kernel["error"]
    _check(kernel["done"], kernel_cmd, "")  # the kernel's error first: the glue's is usually the same
    if glue_error is not None:
        raise glue_error
    link_cmd = [*command, *flags, "-shared", "-fvisibility=hidden", "kernel.o", str(glue_object),
                "-o", library.name, "-lm"]
    _check(subprocess.run(link_cmd, cwd=entry, capture_output=True, text=True, check=False), link_cmd,
           " to link")
    (entry / CHECKSUM_FILE).write_text(_digest(library))


def _glue_object(glue: _Glue, flags: Sequence[str], command: Sequence[str]) -> Path:
    """The glue's object in the cache, compiled first if it is not there
    (into a temp folder renamed into place: atomic, like entries)."""
    root = _writable_root()
    folder = root / f".glue-{glue.key[:16]}"
    if (folder / "glue.o").exists():
        return folder / "glue.o"
    ffi = cffi.FFI()
    try:
        ffi.cdef(glue.cdef)
    except cffi.CDefError as err:
        raise BuildError(f"cffi cannot parse the declarations of the header: {err}") from err
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-glue-{glue.key[:16]}-", dir=root))
    try:
        ffi.set_source(glue.module, glue.source, compiler_verbose=False)
        wrapper = tmp / f"{glue.module}.c"
        ffi.emit_c_code(str(wrapper))
        include = sysconfig.get_paths()["include"]
        glue_flags = _glue_flags(flags)
        includes = [f"-I{include}"]
        split = _split_prelude(wrapper.read_text())
        prelude = split and _prelude_dir(root, split[0], glue_flags, command, include)
        if split and prelude:
            wrapper.write_text(f'#include "{PYTHON_PRELUDE}"\n{split[1]}')
            includes.insert(0, f"-I{prelude}")
        glue_cmd = [*command, *glue_flags, "-fPIC", "-fvisibility=hidden", *includes, "-c", wrapper.name,
                    "-o", "glue.o"]
        try:
            proc = subprocess.run(glue_cmd, cwd=tmp, capture_output=True, text=True, check=False)
        except OSError as err:
            raise BuildError(f"cannot run the C compiler {command[0]!r} ({err}); set $CC") from err
        _check(proc, glue_cmd, " on the cffi glue")
        try:
            os.rename(tmp, folder)
        except OSError:
            pass  # another process or thread finished first; its object is identical
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / "glue.o"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _valid(entry: Path, name: str) -> bool:
    """Whether `entry` holds a library whose checksum matches."""
    try:
        return (entry / CHECKSUM_FILE).read_text().strip() == _digest(_library_path(entry, name))
    except OSError:
        return False


def _library_path(entry: Path, name: str) -> Path:
    return entry / (name + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot load the built extension {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_flags(flags: Sequence[str] | None, source: str, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The flags `build` compiles `source` with: `resolve_flags`, changed for
    the sanitizers `$GRADC_SANITIZE` asks for, plus OpenMP when the source
    has pragmas (see OPENMP_FLAG). Part of the cache key."""
    return with_openmp(sanitize_flags(resolve_flags(flags, extra), sanitizers()), source)


def with_openmp(flags: tuple[str, ...], source: str) -> tuple[str, ...]:
    """`flags` plus OPENMP_FLAG when `source` has OpenMP pragmas and the
    flags do not already say whether to use OpenMP."""
    if OPENMP_PRAGMA in source and not {OPENMP_FLAG, NO_OPENMP_FLAG} & set(flags):
        return (*flags, OPENMP_FLAG)
    return flags


def build(
    source: str,
    header: str,
    function_names: Iterable[str],
    flags: tuple[str, ...] | None = None,
    extra_flags: tuple[str, ...] = (),
) -> Any:
    """Compile (or fetch from the cache) and load C source; returns the cffi
    extension module as `.extension`, its functions under their own names
    in `.lib` and its FFI in `.ffi`.
    `flags` and `extra_flags` as in `resolve_flags`."""
    names = list(function_names)
    missing = [n for n in names if f" {n}(" not in header]
    if missing:
        raise BuildError(f"functions {missing} are not declared in the header")
    active = sanitizers()
    flags = build_flags(flags, source, extra_flags)
    command = compiler_command()
    key = cache_key(source, header, flags, command)
    with _build_lock:
        if key in _loaded:
            return _loaded[key]
        root = _writable_root()
    # The compile runs outside the lock, so threads build different sources
    # at once (gradc.jit's compile budget builds two variants); two builds of
    # one key race like two processes do: one rename wins, both are valid.
    name = module_name(key)
    entry = root / key
    if not _valid(entry, name):
        _build_entry(root, entry, key, name, source, header, flags, command)
    glue = _glue(header, flags, command)
    with _build_lock:
        if key in _loaded:
            return _loaded[key]
        if "address" in active:
            _check_asan_loaded()
        extension = _load(_library_path(entry, name), glue.module)
        module = SimpleNamespace(ffi=extension.ffi, lib=_Lib(extension.lib, glue.names), extension=extension)
        _loaded[key] = module
        return module


def _build_entry(root: Path, entry: Path, key: str, name: str, source: str, header: str,
                 flags: Sequence[str], command: Sequence[str]) -> None:
    """Build into a temp dir in the cache, then rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-", dir=root))
    try:
        _compile(tmp, name, source, header, flags, command, final=entry)
    except BuildError as err:
        kept = root / f"failed-{key[:16]}"
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(tmp, kept)
        raise BuildError(f"{err}\nsource kept at {kept / 'kernel.c'}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if entry.exists() and not _valid(entry, name):
        # A damaged entry: move it aside (atomically, so a process that is
        # checking it sees it whole or not at all), then replace it.
        aside = Path(tempfile.mkdtemp(prefix=f".damaged-{key[:16]}-", dir=root))
        try:
            os.rename(entry, aside / "entry")
        except OSError:
            pass  # another process moved it first
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.rename(tmp, entry)
    except OSError:
        # Another process finished first; its entry is identical, use it.
        shutil.rmtree(tmp, ignore_errors=True)
        if not _valid(entry, name):
            raise


def _writable_root() -> Path:
    """`cache_root()`, created if needed; if it cannot be written, a private
    temporary folder for the rest of the process (one warning)."""
    root = cache_root()
    if root in _fallback_roots:
        return _fallback_roots[root]
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=".probe-", dir=root))
        probe.rmdir()
        return root
    except OSError as err:
        fallback = _fallback_roots[root] = Path(tempfile.mkdtemp(prefix="gradc-cache-"))
        warnings.warn(
            f"gradc: cannot write the build cache {root} ({err.strerror or err}); "
            f"using {fallback} for this process (set GRADC_CACHE_DIR)",
            RuntimeWarning, stacklevel=4,
        )
        return fallback


def forget_loaded() -> None:
    """Drop the in-process memo (the disk cache stays): for tests."""
    with _build_lock:
        _loaded.clear()

