"""tile-matmul: blocked matrix products give NumPy's numbers, through the
compiled C (f32, f64; edges, 1xN, Nx1, transposed operands, batches,
accumulation; direct and packed loop nests) and at the loops level in the
interpreter; the pass options are spelled as on the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import f32
from xdsl.parser import Parser

from gradc.backend.build import build
from gradc.backend.runtime import CompiledFunction
from gradc.backend.target_c import print_c_header, print_c_source
from gradc.dialects import loops
from gradc.interpreter import run_function
from gradc.passes.lower_loops_to_c import abi_signature
from gradc.passes.tile_matmul import TileMatmul
from gradc.support import host
from gradc.pipeline import make_context, parse_pipeline, run_pipeline

GRADC_OPT = str(Path(sys.executable).parent / "gradc-opt")
RTOL = {"f32": 2e-5, "f64": 1e-12}


pytestmark = pytest.mark.usefixtures("private_cache")

@dataclass(frozen=True)
class Case:
    """C[batch..., m, n] = op(A) op(B), op a transpose when flagged."""

    name: str
    m: int
    n: int
    k: int
    batch: tuple[int, ...] = ()
    transpose_a: bool = False
    transpose_b: bool = False

    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        a = (self.k, self.m) if self.transpose_a else (self.m, self.k)
        b = (self.n, self.k) if self.transpose_b else (self.k, self.n)
        return (*self.batch, *a), (*self.batch, *b), (*self.batch, self.m, self.n)

    def function(self, dtype: str) -> str:
        """The array-level function: transposes feed the matmul."""
        a, b, c = self.shapes()
        rank = len(a)
        perm = [*range(rank - 2), rank - 1, rank - 2]
        a_op = (*self.batch, self.m, self.k)
        b_op = (*self.batch, self.k, self.n)
        lines, x, y = [], "%x", "%y"
        if self.transpose_a:
            lines.append(f"%xt = array.transpose %x perm {perm} : {ty(a, dtype)} -> {ty(a_op, dtype)}")
            x = "%xt"
        if self.transpose_b:
            lines.append(f"%yt = array.transpose %y perm {perm} : {ty(b, dtype)} -> {ty(b_op, dtype)}")
            y = "%yt"
        lines.append(f"%r = array.matmul {x}, {y} : {ty(a_op, dtype)}, {ty(b_op, dtype)} -> {ty(c, dtype)}")
        body = "".join(f"  {line}\n" for line in lines)
        return (f"func.func @{self.name}(%x: {ty(a, dtype)}, %y: {ty(b, dtype)}) -> {ty(c, dtype)} {{\n"
                f"{body}  func.return %r : {ty(c, dtype)}\n}}\n")

    def inputs(self, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        a, b, _ = self.shapes()
        np_type = np.float32 if dtype == "f32" else np.float64
        return rng.standard_normal(a).astype(np_type), rng.standard_normal(b).astype(np_type)

    def expected(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        op_a = np.swapaxes(x, -1, -2) if self.transpose_a else x
        op_b = np.swapaxes(y, -1, -2) if self.transpose_b else y
        return np.matmul(op_a.astype(np.float64), op_b.astype(np.float64))


def ty(shape: tuple[int, ...], dtype: str) -> str:
    return "tensor<" + "".join(f"{d}x" for d in shape) + dtype + ">"


CASES = [
    Case("one", 1, 1, 1),
    Case("row_1xn", 1, 45, 9),
    Case("column_nx1", 37, 1, 12),
    Case("odd", 19, 45, 23),
    Case("tall_thin", 70, 5, 3),
    Case("wide_deep", 6, 70, 50),
    Case("square_33", 33, 33, 33),
    Case("depth_1", 9, 18, 1),
    Case("at_b", 21, 35, 13, transpose_a=True),
    Case("a_bt", 21, 35, 13, transpose_b=True),
    Case("at_bt", 17, 9, 40, transpose_a=True, transpose_b=True),
    Case("batched", 9, 20, 6, batch=(3,)),
    Case("batched_at_bt", 5, 7, 4, batch=(2, 2), transpose_a=True, transpose_b=True),
    Case("narrow_at_b", 40, 3, 9, transpose_a=True),
    Case("batched_column_at_b", 33, 1, 7, batch=(2,), transpose_a=True),
    Case("matvec", 70, 1, 35),
    Case("row_long", 2, 300, 40),
    Case("empty_depth", 4, 3, 0),
]

OPTIONS = {
    # This machine's defaults: these shapes all take the direct path.
    "default": "tile-matmul",
    # Packed, with blocks small enough that every dimension has several
    # blocks, uneven ones, and edge tiles (8-element vectors, as on AVX2).
    "packed": "tile-matmul{direct-bytes=0 vector-bytes=32 mr=3 nr=16 kc=7 mc=8 nc=40}",
    # Packed with this machine's tile shape: panels of 8 rows of A and 32
    # columns of B, moved through registers in 8x8 (f32) or 4x4 (f64)
    # transposes when the source runs along the depth; depths that are not
    # whole tiles.
    "packed_wide": "tile-matmul{direct-bytes=0 vector-bytes=64 mr=8 nr=32 kc=21 mc=16 nc=64}",
    # Direct, with narrow vectors: more edge panels.
    "direct_narrow": "tile-matmul{vector-bytes=16 mr=4 nr=8}",
}


def compile_cases(cases: list[Case], dtype: str, tiling: str) -> dict[str, CompiledFunction]:
    """Every case as one function of a single C module (one compiler run)."""
    module = Parser(make_context(), "".join(case.function(dtype) for case in cases)).parse_module()
    run_pipeline(module, f"lower-array-to-loops,{tiling},lower-loops-to-c")
    module.verify()
    source, header = print_c_source(module), print_c_header(module)
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)
    library = build(source, header, [case.name for case in cases])
    functions = {}
    for case in cases:
        a, b, c = case.shapes()
        np_type = np.float32 if dtype == "f32" else np.float64
        functions[case.name] = CompiledFunction(library, case.name, [(a, np_type), (b, np_type)], [(c, np_type)])
    return functions


@pytest.mark.parametrize("tiling", OPTIONS)
@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_compiled_matmul_matches_numpy(dtype: str, tiling: str) -> None:
    functions = compile_cases(CASES, dtype, OPTIONS[tiling])
    for case in CASES:
        x, y = case.inputs(dtype)
        (got,) = functions[case.name](x, y)
        want = case.expected(x, y)
        scale = np.abs(case.expected(np.abs(x), np.abs(y))) + 1e-30
        assert np.all(np.abs(got - want) <= RTOL[dtype] * scale), case.name


def lower_to_loops(case: Case, dtype: str, tiling: str | None) -> tuple[object, object]:
    """(array-level module, loops-level module after lowering and `tiling`)."""
    module = Parser(make_context(), case.function(dtype)).parse_module()
    lowered = module.clone()
    run_pipeline(lowered, "lower-array-to-loops" + (f",{tiling}" if tiling else ""))
    lowered.verify()
    return module, lowered


SMALL = [c for c in CASES if np.prod([*c.batch, c.m, c.n, c.k]) <= 2000]


@pytest.mark.parametrize("tiling", ["packed", "direct_narrow"])
@pytest.mark.parametrize("case", SMALL, ids=lambda c: c.name)
def test_tiled_loops_match_the_interpreter(case: Case, tiling: str) -> None:
    """The tiled loops level computes what the array level computes."""
    module, tiled = lower_to_loops(case, "f64", OPTIONS[tiling])
    assert not [op for op in tiled.walk() if isinstance(op, loops.MatmulOp)]
    x, y = case.inputs("f64")
    (want,) = run_function(module, case.name, x, y)
    (got,) = run_function(tiled, case.name, x, y)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


ACCUMULATE = """
func.func @acc(%a: memref<{a}xf64>, %b: memref<{b}xf64>, %c0: memref<{c}xf64>, %out: memref<{c}xf64>) attributes {{loops.num_inputs = 3 : i64}} {{
  loops.for %i = 0 to {m} {{
    loops.for %j = 0 to {n} {{
      %v = loops.load %c0[%i, %j] : memref<{c}xf64>
      loops.store %v, %out[%i, %j] : memref<{c}xf64>
    }}
  }}
  loops.matmul %a, %b into %out {flags} accumulate : memref<{a}xf64>, memref<{b}xf64> into memref<{c}xf64>
  func.return
}}
"""


@pytest.mark.parametrize("tiling", [None, "default", "packed"])
@pytest.mark.parametrize(("m", "n", "k", "flag"), [
    (11, 19, 16, "transpose_b"),
    (40, 3, 9, "transpose_a"),  # narrow and tall: computed as C^T, added into C
])
def test_accumulate_adds_to_c(tiling: str | None, m: int, n: int, k: int, flag: str) -> None:
    a_shape = (k, m) if flag == "transpose_a" else (m, k)
    b_shape = (n, k) if flag == "transpose_b" else (k, n)
    text = ACCUMULATE.format(a="x".join(map(str, a_shape)), b="x".join(map(str, b_shape)),
                             c=f"{m}x{n}", m=m, n=n, flags=flag)
    module = Parser(make_context(), text).parse_module()
    rng = np.random.default_rng(3)
    a, b, c0 = rng.standard_normal(a_shape), rng.standard_normal(b_shape), rng.standard_normal((m, n))
    want = c0 + (a.T if flag == "transpose_a" else a) @ (b.T if flag == "transpose_b" else b)
    (interpreted,) = run_function(module, "acc", a, b, c0)
    np.testing.assert_allclose(interpreted, want, rtol=1e-12)
    if tiling is not None:
        run_pipeline(module, OPTIONS[tiling])
        (tiled,) = run_function(module, "acc", a, b, c0)
        np.testing.assert_allclose(tiled, want, rtol=1e-12)
    inputs, outputs = abi_signature(module.body.block.first_op)
    run_pipeline(module, "lower-loops-to-c")
    library = build(print_c_source(module), print_c_header(module), ["acc"])
    (compiled,) = CompiledFunction(library, "acc", inputs, outputs)(a, b, c0)
    np.testing.assert_allclose(compiled, want, rtol=1e-12)


def ops_of(module: object, cls: type) -> list:
    return [op for op in module.walk() if isinstance(op, cls)]


def test_direct_path_reads_operands_in_place() -> None:
    """Small products: register tiles straight over A and B; A^T costs nothing,
    B^T one packed copy; no cache blocks."""
    for case, allocs in ((Case("at_b", 21, 32, 13, transpose_a=True), []),
                         (Case("a_bt", 21, 32, 13, transpose_b=True), ["b_panels"])):
        _, tiled = lower_to_loops(case, "f32", "tile-matmul{vector-bytes=64 mr=8 nr=32}")
        assert [op.result.name_hint for op in ops_of(tiled, loops.AllocOp)] == allocs
        kernels = ops_of(tiled, loops.MicrokernelOp)
        assert {op.value_of("k") for op in kernels} == {13}
        assert {(op.value_of("m"), op.value_of("n")) for op in kernels} == {(8, 32), (5, 32)}


def test_packed_path_blocks_and_packs() -> None:
    case = Case("at_bt", 40, 72, 50, transpose_a=True, transpose_b=True)
    _, tiled = lower_to_loops(case, "f32", "tile-matmul{direct-bytes=0 vector-bytes=64 mr=8 nr=32 kc=16 mc=16 nc=64}")
    allocs = {op.result.name_hint: op for op in ops_of(tiled, loops.AllocOp)}
    assert set(allocs) == {"a_panels", "b_panels"}
    assert all(op.placement.data == "workspace" for op in allocs.values())
    kernels = ops_of(tiled, loops.MicrokernelOp)
    # K = 50 in 4 balanced blocks of 13, 13, 13, 11; the first one overwrites C.
    assert {op.value_of("k") for op in kernels} == {13, 11}
    assert {op.accumulate is None for op in kernels if op.value_of("k") == 11} == {False}
    assert all(op.value_of("a_row_stride") == 1 and op.value_of("a_k_stride") == 8 for op in kernels)
    assert all(op.value_of("b_k_stride") == 32 for op in kernels)
    # N = 72: blocks of 40 and 32 columns (whole tiles), so tiles of 32 and 8.
    assert {op.value_of("n") for op in kernels} == {32, 8}


def test_options_through_the_cli_spelling() -> None:
    (pass_,) = parse_pipeline("tile-matmul{mr=4 nr=16 kc=24 mc=10 nc=33 vector-bytes=32 direct-bytes=0}").passes
    assert isinstance(pass_, TileMatmul)
    tiling = pass_.tiling(f32)
    assert (tiling.lanes, tiling.mr, tiling.nr, tiling.kc, tiling.mc, tiling.nc, tiling.direct_bytes) == (
        8, 4, 16, 24, 12, 48, 0)  # mc and nc rounded up to whole tiles
    case = Case("odd", 19, 45, 23)
    source = case.function("f32")
    done = subprocess.run(
        [GRADC_OPT, "-p", "lower-array-to-loops,tile-matmul{mr=4 nr=16 vector-bytes=32}"],
        input=source, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "loops.microkernel" in done.stdout and "loops.matmul" not in done.stdout
    assert "m = 4 : i64, n = 16 : i64, k = 23 : i64, lanes = 8 : i64" in done.stdout


@pytest.mark.parametrize(("options", "message"), [
    ("nr=12 vector-bytes=32", "nr must be a multiple of the vector width (8 elements), got 12"),
    ("mr=0", "mr must be >= 1, got 0"),
    ("vector-bytes=24", "vector-bytes must be a power of two >= 4, got 24"),
    ("direct-bytes=-1", "direct-bytes must be >= 0, got -1"),
])
def test_bad_options_are_user_errors(options: str, message: str) -> None:
    done = subprocess.run(
        [GRADC_OPT, "-p", f"lower-array-to-loops,tile-matmul{{{options}}}"],
        input=Case("odd", 3, 4, 5).function("f32"), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert f"error: pass 'tile-matmul' failed: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_defaults_come_from_sysfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index, (level, kind, size) in enumerate([(1, "Data", "32K"), (1, "Instruction", "32K"),
                                                  (2, "Unified", "1024K"), (3, "Unified", "16M")]):
        entry = tmp_path / f"index{index}"
        entry.mkdir()
        (entry / "level").write_text(f"{level}\n")
        (entry / "type").write_text(f"{kind}\n")
        (entry / "size").write_text(f"{size}\n")
    monkeypatch.setattr(host, "SYSFS_CACHE", tmp_path)
    host.cache_sizes.cache_clear()
    try:
        assert host.cache_sizes() == {1: 32 << 10, 2: 1 << 20, 3: 16 << 20}
        tiling = TileMatmul(vector_bytes=64).tiling(f32)
    finally:
        host.cache_sizes.cache_clear()
    # A KC x NR panel of B in 2/3 of L1d, MC x KC of A in 1/16 of L2, KC x NC of B in half of L2.
    assert (tiling.lanes, tiling.nr, tiling.kc) == (16, 32, 168)
    assert tiling.mc == (1 << 20) // 16 // (168 * 4) // 8 * 8
    assert tiling.nc == (1 << 20) // 2 // (168 * 4) // 32 * 32
    assert tiling.direct_bytes == (1 << 20) // 8


@pytest.mark.parametrize("std", ["-std=c99", "-std=gnu99"])
def test_generated_c_is_warning_free(tmp_path: Path, std: str) -> None:
    """GNU vector extensions, __builtin_shuffle and __builtin_memcpy are
    accepted in strict ISO mode too (only FMA contraction needs GNU mode), so
    the usual -std=c99 checks hold."""
    cases = [Case("odd", 19, 45, 23), Case("a_bt", 21, 35, 13, transpose_b=True)]
    module = Parser(make_context(), "".join(c.function("f32") for c in cases)).parse_module()
    run_pipeline(module, f"lower-array-to-loops,{OPTIONS['packed_wide']},lower-loops-to-c")
    source = print_c_source(module)
    assert "__builtin_shuffle" in source  # the transposing packs are in it
    (tmp_path / "k.c").write_text(source)
    done = subprocess.run(["cc", std, "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", "-c", "k.c"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


SAME_SHAPES = """
func.func @three(%a: memref<21x13xf64>, %b: memref<13x32xf64>, %c: memref<21x13xf64>, %d: memref<9x5xf64>, %e: memref<5x7xf64>, %o1: memref<21x32xf64>, %o2: memref<21x32xf64>, %o3: memref<9x7xf64>) attributes {loops.num_inputs = 5 : i64} {
  loops.matmul %a, %b into %o1 : memref<21x13xf64>, memref<13x32xf64> into memref<21x32xf64>
  loops.matmul %c, %b into %o2 : memref<21x13xf64>, memref<13x32xf64> into memref<21x32xf64>
  loops.matmul %d, %e into %o3 : memref<9x5xf64>, memref<5x7xf64> into memref<9x7xf64>
  func.return
}
"""


def test_same_shape_products_share_their_tiles_and_kernels() -> None:
    """Two products of one shape and one of another: the second is tiled
    like the first (tile-matmul builds that nest once and copies it), the C
    defines each micro-kernel variant once however many tiles call it, and
    all three products are NumPy's."""
    module = Parser(make_context(), SAME_SHAPES).parse_module()
    inputs, outputs = abi_signature(module.body.block.first_op)
    run_pipeline(module, "tile-matmul{vector-bytes=32 mr=8 nr=8}")
    assert not ops_of(module, loops.MatmulOp)
    tiles: dict[str, list] = {}
    for kernel in ops_of(module, loops.MicrokernelOp):  # by the C it writes (a flat view of an output)
        out = kernel.operands[4].owner.source
        tiles.setdefault(out.name_hint, []).append(tuple(kernel.value_of(p) for p in kernel.PARAMETERS))
    assert len(tiles) == 3 and tiles["o1"] == tiles["o2"] != tiles["o3"]
    rng = np.random.default_rng(5)
    args = [rng.standard_normal(shape) for shape, _ in inputs]
    a, b, c, d, e = args
    want = [a @ b, c @ b, d @ e]
    for got, expected in zip(run_function(module, "three", *args), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    run_pipeline(module, "lower-loops-to-c")
    source = print_c_source(module)
    defined = re.findall(r"^static (?:inline|__attribute__\(\(noinline\)\)) void (gradc_microkernel_\w+)\(",
                         source, flags=re.MULTILINE)
    called = re.findall(r"^\s+(gradc_microkernel_\w+)\(", source, flags=re.MULTILINE)
    assert len(defined) == len(set(defined)) == len(set(called)) and set(called) == set(defined)
    assert len(called) > len(defined)
    library = build(source, print_c_header(module), ["three"])
    for got, expected in zip(CompiledFunction(library, "three", inputs, outputs)(*args), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
