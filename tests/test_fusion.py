"""Fusion across buffers (lower-array-to-loops): an elementwise consumer of a
matmul becomes the matmul's epilogue (applied per register tile by
tile-matmul), and a reduction runs in the loop nest of the buffered producer
it reads. Each program is compared against NumPy and the array-level
interpreter, with and without tiling, and the fusion is checked in the loops
IR: the epilogue is on the matmul, the intermediate buffer is gone, the
reduction accumulates in the producer's innermost loop; near misses do not
fuse."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from gradc.backend.build import build
from gradc.backend.runtime import CompiledFunction
from gradc.backend.target_c import print_c_header, print_c_source
from gradc.dialects import loops
from gradc.interpreter import run_function
from gradc.pipeline import make_context, run_pipeline

TILINGS = {
    "untiled": "",
    "default": ",tile-matmul",
    # Several depth blocks (the epilogue waits for the last), uneven blocks, edges.
    "packed": ",tile-matmul{direct-bytes=0 vector-bytes=32 mr=3 nr=16 kc=7 mc=8 nc=40}",
    "direct_narrow": ",tile-matmul{vector-bytes=16 mr=4 nr=8}",
}


def ty(shape: tuple[int, ...], dtype: str) -> str:
    return "tensor<" + "".join(f"{d}x" for d in shape) + dtype + ">"


@dataclass(frozen=True)
class Program:
    """An array-level function `@f` over inputs of the given shapes, with the
    NumPy function it should compute."""

    name: str
    inputs: tuple[tuple[int, ...], ...]
    body: Callable[[str], str]  # dtype -> the lines of the body, ending in func.return
    reference: Callable[..., tuple[np.ndarray, ...]]

    def source(self, dtype: str, name: str = "f") -> str:
        args = ", ".join(f"%a{n}: {ty(s, dtype)}" for n, s in enumerate(self.inputs))
        body = self.body(dtype)
        results = re.search(r"func\.return .* : (.*)", body).group(1)
        return f"func.func @{name}({args}) -> ({results}) {{\n{body}\n}}\n"

    def arguments(self, dtype: str, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        np_type = np.float32 if dtype == "f32" else np.float64
        return [rng.standard_normal(s).astype(np_type) for s in self.inputs]


def dense_layer(m: int, k: int, n: int) -> Program:
    """tanh(x @ w + b), b broadcast along the rows."""
    def body(t: str) -> str:
        return f"""
  %z = array.matmul %a0, %a1 : {ty((m, k), t)}, {ty((k, n), t)} -> {ty((m, n), t)}
  %b = array.broadcast %a2 dims [1] : {ty((n,), t)} -> {ty((m, n), t)}
  %s = array.add %z, %b : {ty((m, n), t)}
  %h = array.tanh %s : {ty((m, n), t)}
  func.return %h : {ty((m, n), t)}"""
    return Program(f"dense_{m}x{k}x{n}", ((m, k), (k, n), (n,)), body,
                   lambda x, w, b: (np.tanh(x @ w + b),))


def scaled_relu_t(m: int, k: int, n: int) -> Program:
    """max(2 * (x^T @ w) + c, 0), x stored transposed, c broadcast along the
    columns; the result also feeds a second elementwise output."""
    def body(t: str) -> str:
        return f"""
  %xt = array.transpose %a0 perm [1, 0] : {ty((k, m), t)} -> {ty((m, k), t)}
  %z = array.matmul %xt, %a1 : {ty((m, k), t)}, {ty((k, n), t)} -> {ty((m, n), t)}
  %two = array.constant dense<2.0> : {ty((m, n), t)}
  %c = array.broadcast %a2 dims [0] : {ty((m,), t)} -> {ty((m, n), t)}
  %p = array.mul %z, %two : {ty((m, n), t)}
  %s = array.add %p, %c : {ty((m, n), t)}
  %zero = array.constant dense<0.0> : {ty((m, n), t)}
  %r = array.max %s, %zero : {ty((m, n), t)}
  %e = array.exp %r : {ty((m, n), t)}
  %o = array.neg %r : {ty((m, n), t)}
  func.return %e, %o : {ty((m, n), t)}, {ty((m, n), t)}"""

    def reference(x: np.ndarray, w: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
        r = np.maximum(2 * (x.T @ w) + c[:, None], 0)
        return np.exp(r), -r
    return Program(f"relu_t_{m}x{k}x{n}", ((k, m), (k, n), (m,)), body, reference)


def batched_add(batch: int, m: int, k: int, n: int) -> Program:
    """x @ w + y over a batch (tile-matmul applies the epilogue over C at the end)."""
    def body(t: str) -> str:
        c = (batch, m, n)
        return f"""
  %z = array.matmul %a0, %a1 : {ty((batch, m, k), t)}, {ty((batch, k, n), t)} -> {ty(c, t)}
  %s = array.add %z, %a2 : {ty(c, t)}
  func.return %s : {ty(c, t)}"""
    return Program(f"batched_{batch}x{m}x{k}x{n}", ((batch, m, k), (batch, k, n), (batch, m, n)),
                   body, lambda x, w, y: (x @ w + y,))


def softmax(m: int, n: int) -> Program:
    """exp(x - max) / sum: the sum runs in the exp nest (e is still needed)."""
    def body(t: str) -> str:
        x, r = ty((m, n), t), ty((m,), t)
        return f"""
  %mx = array.reduce_max %a0 axes [1] : {x} -> {r}
  %mb = array.broadcast %mx dims [0] : {r} -> {x}
  %d = array.sub %a0, %mb : {x}
  %e = array.exp %d : {x}
  %s = array.reduce_sum %e axes [1] : {x} -> {r}
  %sb = array.broadcast %s dims [0] : {r} -> {x}
  %q = array.div %e, %sb : {x}
  func.return %q : {x}"""

    def reference(x: np.ndarray) -> tuple[np.ndarray]:
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True),)
    return Program(f"softmax_{m}x{n}", ((m, n),), body, reference)


def column_sum(m: int, n: int) -> Program:
    """d = x * y, returned, and -d summed over rows (a leading axis)."""
    def body(t: str) -> str:
        x, r = ty((m, n), t), ty((n,), t)
        return f"""
  %d = array.mul %a0, %a1 : {x}
  %nd = array.neg %d : {x}
  %s = array.reduce_sum %nd axes [0] : {x} -> {r}
  func.return %d, %s : {x}, {r}"""
    return Program(f"column_sum_{m}x{n}", ((m, n), (m, n)), body,
                   lambda x, y: (x * y, -(x * y).sum(axis=0)))


SIZES = [(1, 1, 1), (7, 33, 1), (33, 7, 257), (257, 33, 7)]
PROGRAMS = [
    *(dense_layer(*s) for s in SIZES),
    # (40, 9, 3) and (37, 5, 1) are narrow and tall with A stored transposed:
    # tile-matmul computes C^T, and applies the epilogue as it transposes it
    # into C, or (one column, C^T is C) in a pass over C.
    *(scaled_relu_t(*s) for s in [(1, 1, 1), (40, 9, 3), (37, 5, 1), (33, 257, 7)]),
    batched_add(3, 7, 5, 33),
    *(softmax(m, n) for m, n in [(1, 1), (7, 33), (257, 7)]),
    *(column_sum(m, n) for m, n in [(1, 7), (33, 257)]),
]
RTOL = {"f32": 2e-5, "f64": 1e-12}


def lowered(source: str, tiling: str) -> ModuleOp:
    module = Parser(make_context(), source).parse_module()
    run_pipeline(module, "lower-array-to-loops" + TILINGS[tiling])
    module.verify()
    return module


def compile_programs(dtype: str, tiling: str) -> dict[str, CompiledFunction]:
    """Every program as one function of a single C module (one compiler run)."""
    module = lowered("".join(p.source(dtype, p.name) for p in PROGRAMS), tiling)
    run_pipeline(module, "lower-loops-to-c")
    source = print_c_source(module)
    assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", source)
    library = build(source, print_c_header(module), [p.name for p in PROGRAMS])
    np_type = np.float32 if dtype == "f32" else np.float64
    functions = {}
    for p in PROGRAMS:
        outputs = [tuple(r.shape) for r in p.reference(*p.arguments("f64"))]
        functions[p.name] = CompiledFunction(
            library, p.name, [(s, np_type) for s in p.inputs], [(s, np_type) for s in outputs])
    return functions


@pytest.mark.parametrize("tiling", TILINGS)
@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_fused_programs_match_numpy_and_the_interpreter(dtype: str, tiling: str) -> None:
    functions = compile_programs(dtype, tiling)
    for program in PROGRAMS:
        args = program.arguments(dtype)
        got = functions[program.name](*args)
        array_module = Parser(make_context(), program.source(dtype)).parse_module()
        interpreted = run_function(array_module, "f", *args)
        want = program.reference(*(a.astype(np.float64) for a in args))
        for g, i, w in zip(got, interpreted, want, strict=True):
            scale = np.abs(w).max() + 1
            np.testing.assert_allclose(g, w, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                                       err_msg=program.name)
            np.testing.assert_allclose(g, i, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                                       err_msg=program.name)


# ---------------------------------------------------------------------------
# The fusion happened (or, for near misses, did not)
# ---------------------------------------------------------------------------


def ops(module: ModuleOp, cls: type) -> list:
    return [op for op in module.walk() if isinstance(op, cls)]


def test_dense_layer_is_one_matmul_with_an_epilogue_into_the_output() -> None:
    module = lowered(dense_layer(33, 7, 257).source("f32"), "untiled")
    (matmul,) = ops(module, loops.MatmulOp)
    assert matmul.epilogue_block is not None
    assert not ops(module, loops.AllocOp)  # no buffer for x @ w
    assert matmul.out is module.body.block.first_op.body.block.args[-1]  # the output itself
    assert [op.name for op in matmul.epilogue_block.ops] == [
        "loops.load", "arith.addf", "math.tanh", "loops.yield"]


def test_the_epilogue_runs_on_each_tile_after_the_last_depth_block() -> None:
    """Several depth blocks (kc=7 of 21), edge tiles: each tile shape has its
    epilogue nest, right after the microkernel of the last depth block."""
    module = lowered(dense_layer(33, 21, 40).source("f32"), "packed")
    assert not ops(module, loops.MatmulOp)
    tanhs = [op for op in module.walk() if op.name == "math.tanh"]
    kernels = ops(module, loops.MicrokernelOp)
    assert 1 < len(tanhs) < len(kernels)
    for tanh in tanhs:
        nest = tanh.parent_op()  # the loop over the tile's columns ...
        if nest.parent_op().induction_var.name_hint == "r":
            nest = nest.parent_op()  # ... in the loop over its rows
        kernel = nest.prev_op
        assert isinstance(kernel, loops.MicrokernelOp) and kernel.accumulate is not None
        assert kernel.c is tanh.parent_block().last_op.prev_op.memref  # it stores into that tile's C


def test_softmax_sums_in_the_exp_nest() -> None:
    module = lowered(softmax(7, 33).source("f64"), "untiled")
    exps = [op for op in module.walk() if op.name == "math.exp"]
    # A row of 33 is summed in two blocks of 16 and the last element (see
    # _Reduction): each of those loops computes e, stores it and accumulates it.
    assert len(exps) == 2
    for exp in exps:  # e stored, and accumulated into the sum
        users = sorted(type(use.operation).__name__ for use in exp.results[0].uses)
        assert users == ["AddfOp", "StoreOp"]
    # The sum's initialization shares the nest: only the max, the exp+sum and
    # the division are nests at the top level.
    function = module.body.block.first_op
    assert len([op for op in function.body.block.ops if isinstance(op, loops.ForOp)]) == 3


def test_a_matmul_result_used_twice_is_not_fused() -> None:
    def body(t: str) -> str:
        s = ty((4, 5), t)
        return f"""
  %z = array.matmul %a0, %a1 : {ty((4, 3), t)}, {ty((3, 5), t)} -> {s}
  %h = array.tanh %z : {s}
  %q = array.mul %z, %h : {s}
  %e = array.exp %z : {s}
  func.return %q, %e : {s}, {s}"""
    program = Program("twice", ((4, 3), (3, 5)), body,
                      lambda x, w: ((x @ w) * np.tanh(x @ w), np.exp(x @ w)))
    module = lowered(program.source("f64"), "untiled")
    (matmul,) = ops(module, loops.MatmulOp)
    assert matmul.epilogue_block is None


def test_a_reduction_reading_its_producer_elsewhere_is_not_fused() -> None:
    def body(t: str) -> str:
        s = ty((6, 6), t)
        return f"""
  %p = array.exp %a0 : {s}
  %pt = array.transpose %p perm [1, 0] : {s} -> {s}
  %q = array.mul %p, %pt : {s}
  %r = array.reduce_sum %q axes [1] : {s} -> {ty((6,), t)}
  func.return %p, %r : {s}, {ty((6,), t)}"""
    program = Program("transposed_read", ((6, 6),), body,
                      lambda x: (np.exp(x), (np.exp(x) * np.exp(x).T).sum(axis=1)))
    module = lowered(program.source("f64"), "untiled")
    (exp,) = [op for op in module.walk() if op.name == "math.exp"]
    assert not [op for op in exp.parent_block().ops if isinstance(op, arith.AddfOp)]
    x = program.arguments("f64")[0]
    for got, want in zip(run_function(module, "f", x), program.reference(x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_fusion_options_turn_it_off() -> None:
    module = Parser(make_context(), dense_layer(7, 5, 9).source("f32")).parse_module()
    run_pipeline(module, "lower-array-to-loops{fuse-epilogues=false fuse-reductions=false}")
    (matmul,) = ops(module, loops.MatmulOp)
    assert matmul.epilogue_block is None and len(ops(module, loops.AllocOp)) == 1
