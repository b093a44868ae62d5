"""CasADi's generated C for one single-input, single-output `ca.Function`,
compiled with `gcc -O3 -march=native` into a shared library next to a small
C entry point `<name>_entry(x, out)` (a separate translation unit, so
nothing is inlined into the caller), called through ctypes on fixed input
and output buffers. Shared by the workloads that bench CasADi.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from timing import Skip, seconds

_ENTRY_POINT = """\
#include "%(name)s.h"
int %(name)s_entry(const casadi_real *x, casadi_real *out) {
    const casadi_real *arg[%(sz_arg)d] = {x};
    casadi_real *res[%(sz_res)d] = {out};
    casadi_int iw[%(sz_iw)d];
    casadi_real w[%(sz_w)d];
    return %(name)s(arg, res, iw, w, 0);
}
"""


def compiled_call(function: Any, x: np.ndarray, symbolic_s: float) -> tuple[Callable[[], np.ndarray], list[str]]:
    """A zero-argument callable evaluating `function` at `x` into a fixed
    buffer of its output's nonzeros (CasADi's column-major order; all n*m
    of them for a dense output), and notes with the one-off costs
    (`symbolic_s`: building the expression graph and its derivative)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise Skip("no C compiler for CasADi's generated code")
    import casadi as ca

    name = function.name()
    workdir = Path(tempfile.mkdtemp(prefix="bench-casadi-"))
    try:
        start = time.perf_counter()
        generator = ca.CodeGenerator(f"{name}.c", {"with_header": True})
        generator.add(function)
        generator.generate(str(workdir) + "/")
        codegen_s = time.perf_counter() - start
        sizes = {
            "name": name,
            "sz_arg": max(1, function.sz_arg()),
            "sz_res": max(1, function.sz_res()),
            "sz_iw": max(1, function.sz_iw()),
            "sz_w": max(1, function.sz_w()),
        }
        (workdir / "entry.c").write_text(_ENTRY_POINT % sizes)
        library = workdir / f"lib{name}.so"
        command = [cc, "-O3", "-march=native", "-shared", "-fPIC", f"{name}.c", "entry.c", "-o", library.name]
        start = time.perf_counter()
        subprocess.run(command, cwd=workdir, check=True, capture_output=True)
        compile_s = time.perf_counter() - start
        c_kib = (workdir / f"{name}.c").stat().st_size / 1024
        entry = getattr(ctypes.CDLL(str(library)), f"{name}_entry")
    finally:
        shutil.rmtree(workdir)
    entry.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    entry.restype = ctypes.c_int
    x_in = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(function.nnz_out(0))
    x_ptr, out_ptr = x_in.ctypes.data, out.ctypes.data

    def call() -> np.ndarray:
        entry(x_ptr, out_ptr)
        return out

    call.buffers = (x_in, out)  # type: ignore[attr-defined]  # alive as long as the pointers are

    notes = [
        f"setup: SX build + derivative {seconds(symbolic_s)}, codegen {seconds(codegen_s)} "
        f"({c_kib:.0f} KiB C), gcc -O3 {seconds(compile_s)}",
        "ctypes call on fixed buffers",
    ]
    return call, notes
