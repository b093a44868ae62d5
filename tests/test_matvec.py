"""tile-matmul on matrix-vector (n = 1, m = 1) and rank-1 (k = 1) products:
NumPy's numbers through the compiled C for many sizes (1 to 300, odd ones),
every combination of transposed operands, overwriting, accumulating and with
an epilogue, in f32 and f64, with this machine's vectors and narrower ones;
and the loops IR shows which kernels hold dot products along k."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from xdsl.parser import Parser

from gradc.backend.build import build
from gradc.backend.runtime import CompiledFunction
from gradc.backend.target_c import print_c_header, print_c_source
from gradc.dialects import loops
from gradc.passes.lower_loops_to_c import abi_signature
from gradc.pipeline import make_context, run_pipeline

pytestmark = pytest.mark.usefixtures("private_cache")

RTOL = {"f32": 2e-5, "f64": 1e-12}
SIZES = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 129, 300]
"""Around every vector width (2 to 16 lanes) and past it, up to 300."""
MODES = ("overwrite", "accumulate", "epilogue")
TILINGS = {
    "default": "tile-matmul",
    "narrow": "tile-matmul{vector-bytes=16 mr=4 nr=8}",
    "avx2": "tile-matmul{vector-bytes=32 mr=3 nr=16}",
}


@dataclass(frozen=True)
class Product:
    """C (+)= op(A) op(B) (mode `accumulate`), or C = 2 op(A) op(B) + C0
    through the matmul's epilogue (mode `epilogue`)."""

    m: int
    n: int
    k: int
    transpose_a: bool
    transpose_b: bool
    mode: str

    @property
    def name(self) -> str:
        flags = ("t" if self.transpose_a else "n") + ("t" if self.transpose_b else "n")
        return f"p{self.m}x{self.n}x{self.k}_{flags}_{self.mode}"

    def shapes(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        a = (self.k, self.m) if self.transpose_a else (self.m, self.k)
        b = (self.n, self.k) if self.transpose_b else (self.k, self.n)
        return a, b, (self.m, self.n)

    def function(self, dtype: str) -> str:
        a, b, c = ("x".join(map(str, s)) + f"x{dtype}" for s in self.shapes())
        flags = " ".join(flag for flag, on in (("transpose_a", self.transpose_a),
                                               ("transpose_b", self.transpose_b),
                                               ("accumulate", self.mode == "accumulate")) if on)
        copy = ""
        if self.mode == "accumulate":
            copy = (f"  loops.for %i = 0 to {self.m} {{\n    loops.for %j = 0 to {self.n} {{\n"
                    f"      %v = loops.load %c0[%i, %j] : memref<{c}>\n"
                    f"      loops.store %v, %out[%i, %j] : memref<{c}>\n    }}\n  }}\n")
        epilogue = ""
        if self.mode == "epilogue":
            epilogue = (f" epilogue {{\n  ^bb0(%p: {dtype}, %i: index, %j: index):\n"
                        f"    %two = arith.constant 2.0 : {dtype}\n"
                        f"    %w = loops.load %c0[%i, %j] : memref<{c}>\n"
                        f"    %t = arith.mulf %p, %two : {dtype}\n"
                        f"    %s = arith.addf %t, %w : {dtype}\n"
                        f"    loops.yield %s : {dtype}\n  }}")
        return (f"func.func @{self.name}(%a: memref<{a}>, %b: memref<{b}>, %c0: memref<{c}>, "
                f"%out: memref<{c}>) attributes {{loops.num_inputs = 3 : i64}} {{\n{copy}"
                f"  loops.matmul %a, %b into %out {flags}{epilogue} : "
                f"memref<{a}>, memref<{b}> into memref<{c}>\n  func.return\n}}\n")

    def inputs(self, dtype: str) -> list[np.ndarray]:
        rng = np.random.default_rng(self.m * 1000003 + self.n * 1009 + self.k)
        np_type = np.float32 if dtype == "f32" else np.float64
        return [rng.standard_normal(s).astype(np_type) for s in self.shapes()]

    def expected(self, a: np.ndarray, b: np.ndarray, c0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The float64 NumPy result, and a scale for the rounding error."""
        def op(x: np.ndarray, flag: bool) -> np.ndarray:
            return (x.T if flag else x).astype(np.float64)

        prod_ = op(a, self.transpose_a) @ op(b, self.transpose_b)
        scale = np.abs(op(a, self.transpose_a)) @ np.abs(op(b, self.transpose_b))
        c0 = c0.astype(np.float64)
        if self.mode == "accumulate":
            return c0 + prod_, scale + np.abs(c0)
        if self.mode == "epilogue":
            return 2 * prod_ + c0, 2 * scale + np.abs(c0)
        return prod_, scale


def products() -> list[Product]:
    """Matrix-vector (n = 1), vector-matrix (m = 1) and rank-1 (k = 1)
    products, the two other sizes from SIZES in pairs (a size against its
    neighbour and against one further on); the shapes take the twelve
    combinations of transposes and modes in turn."""
    pairs = {(x, y) for i, x in enumerate(SIZES) for y in (SIZES[i - 1], SIZES[(i + 5) % len(SIZES)])}
    shapes = {(1, 1, 1)}
    for x, y in pairs:
        shapes |= {(x, 1, y), (1, x, y), (x, y, 1)}
    combinations = list(product((False, True), (False, True), MODES))
    return [Product(m, n, k, *combinations[index % len(combinations)])
            for index, (m, n, k) in enumerate(sorted(shapes))]


PRODUCTS = products()


def compile_products(cases: list[Product], dtype: str, tiling: str) -> dict[str, CompiledFunction]:
    """Every case as one function of a single C module (one compiler run)."""
    module = Parser(make_context(), "".join(p.function(dtype) for p in cases)).parse_module()
    run_pipeline(module, tiling)
    signatures = {f.sym_name.data: abi_signature(f) for f in module.body.block.ops}
    run_pipeline(module, "lower-loops-to-c")
    module.verify()
    library = build(print_c_source(module), print_c_header(module), list(signatures))
    return {name: CompiledFunction(library, name, *signature) for name, signature in signatures.items()}


@pytest.mark.parametrize("tiling", TILINGS)
@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_vector_products_match_numpy(dtype: str, tiling: str) -> None:
    functions = compile_products(PRODUCTS, dtype, TILINGS[tiling])
    for case in PRODUCTS:
        a, b, c0 = case.inputs(dtype)
        (got,) = functions[case.name](a, b, c0)
        want, scale = case.expected(a, b, c0)
        assert np.all(np.abs(got - want) <= RTOL[dtype] * (scale + 1e-30)), case.name


def kernels(case: Product, tiling: str) -> list[loops.MicrokernelOp]:
    module = Parser(make_context(), case.function("f64")).parse_module()
    run_pipeline(module, tiling)
    return [op for op in module.walk() if isinstance(op, loops.MicrokernelOp)]


def test_matrix_vector_products_hold_dot_products_along_k() -> None:
    """y = A x with A's rows along k: tiles of 8 rows whose lanes run along
    k; A^T x (A's columns along k) keeps its lanes along the rows of C^T;
    a depth shorter than a vector stays scalar."""
    tiling = "tile-matmul{vector-bytes=64 mr=8 nr=16}"
    tiles = kernels(Product(64, 1, 64, False, False, "overwrite"), tiling)
    assert [(op.value_of("m"), op.value_of("k"), op.dot is not None) for op in tiles] == [(8, 64, True)]
    tiles = kernels(Product(64, 1, 64, True, False, "overwrite"), tiling)
    assert {(op.value_of("m"), op.value_of("n"), op.dot is None) for op in tiles} == {(1, 16, True)}
    tiles = kernels(Product(64, 1, 7, False, False, "overwrite"), tiling)
    assert {op.dot is None for op in tiles} == {True}


def test_vector_matrix_product_with_b_transposed_is_dots_over_b_rows() -> None:
    """x^T B^T (B stored [n, k]): computed as B x, rows of B read in place
    in dot tiles, no packed copy of B^T."""
    tiles = kernels(Product(1, 40, 33, False, True, "overwrite"), "tile-matmul{vector-bytes=64 mr=8 nr=16}")
    assert {(op.value_of("m"), op.value_of("k"), op.dot is not None) for op in tiles} == {(8, 33, True)}


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_dot_kernels_are_warning_free(tmp_path: Path, dtype: str) -> None:
    """Dot tiles with a k tail, row groups of 8 + 4 + 1, one row with
    several accumulator sets, accumulating: clean under -std=c99 -pedantic
    -Wall -Wextra."""
    cases = [Product(13, 1, 37, False, False, "accumulate"), Product(1, 40, 33, False, True, "overwrite"),
             Product(64, 1, 64, False, False, "overwrite")]
    module = Parser(make_context(), "".join(p.function(dtype) for p in cases)).parse_module()
    run_pipeline(module, "tile-matmul{vector-bytes=64},lower-loops-to-c")
    source = print_c_source(module)
    assert source.count("_dot(const") >= 3 and "tail4" in source
    (tmp_path / "k.c").write_text(source)
    done = subprocess.run(["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", "-c", "k.c"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
