"""The C backend end to end: `c` dialect, lower-loops-to-c, target c, cffi build
and cache, runtime calls. Each program is loops-level IR written by hand, run
through the backend and compared with NumPy."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, math
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.utils.exceptions import PassFailedException, VerifyException

import gradc
from gradc.backend import build as build_mod
import gradc.numpy as gnp
from gradc.backend.build import (
    DEFAULT_FLAGS, SANITIZE_ENV, WORKAROUND_FLAGS, BuildError, build, build_flags, cache_key, resolve_flags,
)
from gradc.backend.runtime import CompiledFunction
from gradc.backend.target_c import CTarget, print_c_header, print_c_source
from gradc.dialects import loops
from gradc.dialects.c import C, c_identifier
from gradc.dialects.loops import Loops
from gradc.passes.lower_loops_to_c import LowerLoopsToC, abi_signature

F32_RTOL = 1e-6
F64_RTOL = 1e-12
PEDANTIC = ("-std=c99", "-O3", "-Wall", "-Wextra", "-Werror", "-pedantic")


pytestmark = pytest.mark.usefixtures("private_cache")

def make_context() -> Context:
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, arith.Arith, math.Math, Loops, C):
        ctx.load_dialect(dialect)
    return ctx


def parse(text: str) -> ModuleOp:
    module = Parser(make_context(), text).parse_module()
    module.verify()
    return module


def lower(text: str) -> ModuleOp:
    module = parse(text)
    LowerLoopsToC().apply(make_context(), module)
    module.verify()
    return module


def compile_ir(text: str) -> dict[str, CompiledFunction]:
    """loops IR -> C -> built module -> one CompiledFunction per function."""
    module = parse(text)
    signatures = {
        c_identifier(f.sym_name.data): abi_signature(f)
        for f in module.ops
        if isinstance(f, func.FuncOp)
    }
    LowerLoopsToC().apply(make_context(), module)
    module.verify()
    source, header = print_c_source(module), print_c_header(module)
    built = build(source, header, list(signatures))
    return {
        name: CompiledFunction(built, name, ins, outs)
        for name, (ins, outs) in signatures.items()
    }


def gcc_pedantic(source: str, tmp_path: Path, name: str = "kernel.c") -> None:
    path = tmp_path / name
    path.write_text(source)
    proc = subprocess.run(
        ["gcc", *PEDANTIC, "-c", str(path), "-o", str(tmp_path / "out.o")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr


RNG = np.random.default_rng(0)

# ---------------------------------------------------------------------------
# Programs

EXP_2D = """
func.func @exp2d(%x: memref<8x16xf32>, %y: memref<8x16xf32>) attributes {loops.num_inputs = 1 : i64} {
  loops.for %i = 0 to 8 step 1 {
    loops.for %j = 0 to 16 step 1 {
      %v = loops.load %x[%i, %j] : memref<8x16xf32>
      %e = math.exp %v : f32
      loops.store %e, %y[%i, %j] : memref<8x16xf32>
    }
  }
  func.return
}
"""


def matmul_ikj(dtype: str, m: int, k: int, n: int) -> str:
    """C = A @ B with the i-k-j nest accumulating into a workspace temp."""
    a, b, c = f"memref<{m}x{k}x{dtype}>", f"memref<{k}x{n}x{dtype}>", f"memref<{m}x{n}x{dtype}>"
    return f"""
func.func @matmul(%a: {a}, %b: {b}, %c: {c}) attributes {{loops.num_inputs = 2 : i64}} {{
  %acc = loops.alloc "workspace" : {c}
  %zero = arith.constant 0.0 : {dtype}
  loops.for %i = 0 to {m} step 1 {{
    loops.for %j = 0 to {n} step 1 {{
      loops.store %zero, %acc[%i, %j] : {c}
    }}
  }}
  loops.for %i = 0 to {m} step 1 {{
    loops.for %p = 0 to {k} step 1 {{
      %aik = loops.load %a[%i, %p] : {a}
      loops.for %j = 0 to {n} step 1 {{
        %bkj = loops.load %b[%p, %j] : {b}
        %old = loops.load %acc[%i, %j] : {c}
        %prod = arith.mulf %aik, %bkj : {dtype}
        %new = arith.addf %old, %prod : {dtype}
        loops.store %new, %acc[%i, %j] : {c}
      }}
    }}
  }}
  loops.for %i = 0 to {m} step 1 {{
    loops.for %j = 0 to {n} step 1 {{
      %v = loops.load %acc[%i, %j] : {c}
      loops.store %v, %c[%i, %j] : {c}
    }}
  }}
  func.return
}}
"""


ROW_SUM_F64 = """
func.func @row_sum(%x: memref<5x64xf64>, %s: memref<5xf64>) attributes {loops.num_inputs = 1 : i64} {
  %acc = loops.alloc "stack" : memref<1xf64>
  %zero = arith.constant 0.0 : f64
  %c0 = arith.constant 0 : index
  loops.for %i = 0 to 5 step 1 {
    loops.store %zero, %acc[%c0] : memref<1xf64>
    loops.for %j = 0 to 64 step 1 {
      %v = loops.load %x[%i, %j] : memref<5x64xf64>
      %a = loops.load %acc[%c0] : memref<1xf64>
      %b = arith.addf %a, %v : f64
      loops.store %b, %acc[%c0] : memref<1xf64>
    }
    %total = loops.load %acc[%c0] : memref<1xf64>
    loops.store %total, %s[%i] : memref<5xf64>
  }
  func.return
}
"""

RESHAPE = """
func.func @flatten_scale(%x: memref<4x6xf32>, %y: memref<2x12xf32>) attributes {loops.num_inputs = 1 : i64} {
  %xf = loops.reshape %x : memref<4x6xf32> -> memref<24xf32>
  %yf = loops.reshape %y : memref<2x12xf32> -> memref<24xf32>
  %two = arith.constant 2.0 : f32
  loops.for %i = 0 to 24 step 1 {
    %v = loops.load %xf[%i] : memref<24xf32>
    %w = arith.mulf %v, %two : f32
    loops.store %w, %yf[%i] : memref<24xf32>
  }
  func.return
}
"""

STACK_TEMP = """
func.func @shifted(%x: memref<16xf32>, %y: memref<16xf32>) attributes {loops.num_inputs = 1 : i64} {
  %t = loops.alloc "stack" : memref<16xf32>
  %c15 = arith.constant 15 : index
  %c1 = arith.constant 1 : index
  loops.for %i = 0 to 16 step 1 {
    %v = loops.load %x[%i] : memref<16xf32>
    %n = arith.negf %v : f32
    loops.store %n, %t[%i] : memref<16xf32>
  }
  loops.for %i = 0 to 16 step 1 {
    %r = arith.subi %c15, %i : index
    %v = loops.load %t[%r] : memref<16xf32>
    loops.store %v, %y[%i] : memref<16xf32>
  }
  func.return
}
"""

BOOL_MASK = """
func.func @mask(%x: memref<32xf32>, %m: memref<32xi1>, %lt: memref<32xi1>, %y: memref<32xf32>) attributes {loops.num_inputs = 2 : i64} {
  %half = arith.constant 0.5 : f32
  loops.for %i = 0 to 32 step 1 {
    %v = loops.load %x[%i] : memref<32xf32>
    %b = loops.load %m[%i] : memref<32xi1>
    %c = arith.cmpf olt, %v, %half : f32
    loops.store %c, %lt[%i] : memref<32xi1>
    %both = arith.andi %b, %c : i1
    %f = arith.uitofp %both : i1 to f32
    %s = arith.select %b, %v, %f : f32
    loops.store %s, %y[%i] : memref<32xf32>
  }
  func.return
}
"""

SCALAR = """
func.func @axpy(%a: memref<f32>, %x: memref<8xf32>, %y: memref<8xf32>, %s: memref<f32>) attributes {loops.num_inputs = 2 : i64} {
  %av = loops.load %a[] : memref<f32>
  %zero = arith.constant 0.0 : f32
  loops.store %zero, %s[] : memref<f32>
  loops.for %i = 0 to 8 step 1 {
    %v = loops.load %x[%i] : memref<8xf32>
    %w = arith.mulf %av, %v : f32
    loops.store %w, %y[%i] : memref<8xf32>
    %old = loops.load %s[] : memref<f32>
    %new = arith.addf %old, %w : f32
    loops.store %new, %s[] : memref<f32>
  }
  func.return
}
"""

NO_OUTPUTS = """
func.func @nothing(%x: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  func.return
}
func.func @empty() attributes {loops.num_inputs = 0 : i64} {
  func.return
}
"""


# ---------------------------------------------------------------------------
# Numerics against NumPy


def test_elementwise_exp_f32() -> None:
    f = compile_ir(EXP_2D)["exp2d"]
    x = RNG.standard_normal((8, 16)).astype(np.float32)
    (y,) = f(x)
    assert y.dtype == np.float32 and y.shape == (8, 16)
    np.testing.assert_allclose(y, np.exp(x), rtol=F32_RTOL)


@pytest.mark.parametrize("dtype,rtol", [("f32", F32_RTOL), ("f64", F64_RTOL)])
def test_matmul_ikj_with_workspace(dtype: str, rtol: float) -> None:
    f = compile_ir(matmul_ikj(dtype, 16, 8, 12))["matmul"]
    np_dtype = {"f32": np.float32, "f64": np.float64}[dtype]
    itemsize = np.dtype(np_dtype).itemsize
    assert f.work_size == -(-16 * 12 * itemsize // 64) * 64
    a = RNG.random((16, 8)).astype(np_dtype)
    b = RNG.random((8, 12)).astype(np_dtype)
    (c,) = f(a, b)
    np.testing.assert_allclose(c, a @ b, rtol=rtol)
    (c2,) = f(a, b)  # the workspace is reused across calls
    np.testing.assert_array_equal(c, c2)


def test_reduction_with_stack_accumulator_f64() -> None:
    f = compile_ir(ROW_SUM_F64)["row_sum"]
    x = RNG.standard_normal((5, 64))
    (s,) = f(x)
    np.testing.assert_allclose(s, x.sum(axis=1), rtol=F64_RTOL)


def test_reshape_is_a_view() -> None:
    module = lower(RESHAPE)
    source = print_c_source(module)
    assert "const float v = x[i];\n        y[i] = v * 2.0f;" in source
    f = compile_ir(RESHAPE)["flatten_scale"]
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    (y,) = f(x)
    np.testing.assert_array_equal(y, (x * 2).reshape(2, 12))


def test_stack_buffer_and_index_math() -> None:
    source = print_c_source(lower(STACK_TEMP))
    assert "float t[16] GRADC_LOCAL_ALIGN;" in source and "#define GRADC_LOCAL_ALIGN __attribute__((aligned(64)))" in source
    f = compile_ir(STACK_TEMP)["shifted"]
    x = RNG.standard_normal(16).astype(np.float32)
    (y,) = f(x)
    np.testing.assert_array_equal(y, -x[::-1])


def with_constants(text: str, *values: builtin.DenseIntOrFPElementsAttr) -> ModuleOp:
    """Parse `text`, then give its loops.constant ops `values`. (xDSL's parser
    reads inf/nan inside dense lists as integers, so they cannot go in text.)"""
    module = parse(text)
    consts = [op for op in module.walk() if isinstance(op, loops.ConstantOp)]
    for op, value in zip(consts, values, strict=True):
        op.properties["value"] = value
    module.verify()
    return module


def test_constant_buffers_round_trip_exactly() -> None:
    f32_values = np.array(
        [0.1, 1 / 3, 1e-30, 3.4028235e38, -0.0, 1.0, 1e-45, 123456.7, np.inf, -np.inf, np.nan],
        dtype=np.float32,
    )
    f64_values = np.array([0.1, 1 / 3, 1e-300, 1.7976931348623157e308, -2.5, np.pi, np.nan])
    n32, n64 = len(f32_values), len(f64_values)
    text = f"""
func.func @consts(%a: memref<{n32}xf32>, %b: memref<{n64}xf64>) attributes {{loops.num_inputs = 0 : i64}} {{
  %k = loops.constant dense<0.0> : tensor<{n32}xf32> -> memref<{n32}xf32>
  %l = loops.constant dense<0.0> : tensor<{n64}xf64> -> memref<{n64}xf64>
  loops.for %i = 0 to {n32} step 1 {{
    %v = loops.load %k[%i] : memref<{n32}xf32>
    loops.store %v, %a[%i] : memref<{n32}xf32>
  }}
  loops.for %i = 0 to {n64} step 1 {{
    %v = loops.load %l[%i] : memref<{n64}xf64>
    loops.store %v, %b[%i] : memref<{n64}xf64>
  }}
  func.return
}}
"""
    module = with_constants(
        text,
        builtin.DenseIntOrFPElementsAttr.from_list(
            builtin.TensorType(builtin.f32, [n32]), f32_values.tolist()
        ),
        builtin.DenseIntOrFPElementsAttr.from_list(
            builtin.TensorType(builtin.f64, [n64]), f64_values.tolist()
        ),
    )
    signature = abi_signature(next(op for op in module.ops if isinstance(op, func.FuncOp)))
    LowerLoopsToC().apply(make_context(), module)
    source, header = print_c_source(module), print_c_header(module)
    assert f"static const float k[{n32}] = {{" in source
    assert "INFINITY" in source and "NAN" in source and "0.1f" in source
    a, b = CompiledFunction(build(source, header, ["consts"]), "consts", *signature)()
    np.testing.assert_array_equal(a.view(np.uint32)[:-1], f32_values.view(np.uint32)[:-1])
    assert np.isnan(a[-1])
    np.testing.assert_array_equal(b[:-1], f64_values[:-1])
    assert np.isnan(b[-1])


def test_i1_buffers_compare_select_uitofp() -> None:
    f = compile_ir(BOOL_MASK)["mask"]
    x = RNG.random(32).astype(np.float32)
    m = RNG.random(32) < 0.5
    lt, y = f(x, m)
    assert lt.dtype == np.bool_
    np.testing.assert_array_equal(lt, x < 0.5)
    np.testing.assert_array_equal(y, np.where(m, x, (m & (x < 0.5)).astype(np.float32)))


CMPF_REFERENCE = {
    "false": lambda x, y: np.zeros_like(x, dtype=bool),
    "oeq": lambda x, y: x == y,
    "ogt": lambda x, y: x > y,
    "oge": lambda x, y: x >= y,
    "olt": lambda x, y: x < y,
    "ole": lambda x, y: x <= y,
    "one": lambda x, y: (x < y) | (x > y),
    "ord": lambda x, y: ~np.isnan(x) & ~np.isnan(y),
    "ueq": lambda x, y: (x == y) | np.isnan(x) | np.isnan(y),
    "ugt": lambda x, y: ~(x <= y),
    "uge": lambda x, y: ~(x < y),
    "ult": lambda x, y: ~(x >= y),
    "ule": lambda x, y: ~(x > y),
    "une": lambda x, y: x != y,
    "uno": lambda x, y: np.isnan(x) | np.isnan(y),
    "true": lambda x, y: np.ones_like(x, dtype=bool),
}


def test_cmpf_predicates_follow_nan_rules() -> None:
    n = 12
    outs = ", ".join(f"%{p}: memref<{n}xi1>" for p in CMPF_REFERENCE)
    body = "\n".join(
        f"    %r_{p} = arith.cmpf {p}, %a, %b : f64\n"
        f"    loops.store %r_{p}, %{p}[%i] : memref<{n}xi1>"
        for p in CMPF_REFERENCE
    )
    text = f"""
func.func @cmp(%x: memref<{n}xf64>, %y: memref<{n}xf64>, {outs}) attributes {{loops.num_inputs = 2 : i64}} {{
  loops.for %i = 0 to {n} step 1 {{
    %a = loops.load %x[%i] : memref<{n}xf64>
    %b = loops.load %y[%i] : memref<{n}xf64>
{body}
  }}
  func.return
}}
"""
    x = np.array([1, 2, 3, np.nan, 1, np.nan, -0.0, 0.0, np.inf, 5, 5, -np.inf])
    y = np.array([2, 2, 1, 1, np.nan, np.nan, 0.0, -0.0, np.inf, 4, 6, 0])
    results = compile_ir(text)["cmp"](x, y)
    for predicate, got in zip(CMPF_REFERENCE, results):
        np.testing.assert_array_equal(got, CMPF_REFERENCE[predicate](x, y), err_msg=predicate)


def test_maximum_minimum_propagate_nan_like_numpy() -> None:
    """NaN wins; equal operands give the second, as numpy's do (which zero
    comes out of maximum(-0.0, 0.0) and minimum(0.0, -0.0))."""
    text = """
func.func @minmax(%x: memref<8xf32>, %y: memref<8xf32>, %hi: memref<8xf32>, %lo: memref<8xf32>) attributes {loops.num_inputs = 2 : i64} {
  loops.for %i = 0 to 8 step 1 {
    %a = loops.load %x[%i] : memref<8xf32>
    %b = loops.load %y[%i] : memref<8xf32>
    %m = arith.maximumf %a, %b : f32
    %n = arith.minimumf %a, %b : f32
    loops.store %m, %hi[%i] : memref<8xf32>
    loops.store %n, %lo[%i] : memref<8xf32>
  }
  func.return
}
"""
    source = print_c_source(lower(text))
    assert "static inline float gradc_maximum_f32(float a, float b)" in source
    x = np.array([1, np.nan, 3, np.nan, -1, 2, -0.0, 0.0], dtype=np.float32)
    y = np.array([2, 1, np.nan, np.nan, -2, 2, 0.0, -0.0], dtype=np.float32)
    hi, lo = compile_ir(text)["minmax"](x, y)
    np.testing.assert_array_equal(hi, np.maximum(x, y))
    np.testing.assert_array_equal(lo, np.minimum(x, y))
    np.testing.assert_array_equal(np.signbit(hi), [0, 0, 0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(np.signbit(lo), [0, 0, 0, 0, 1, 0, 0, 1])


UNARY_MATH = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin,
    "cos": np.cos, "sqrt": np.sqrt, "absf": np.abs,
}


@pytest.mark.parametrize("dtype,rtol", [("f32", F32_RTOL), ("f64", F64_RTOL)])
def test_libm_calls(dtype: str, rtol: float) -> None:
    n = 64
    outs = ", ".join(f"%{op}_out: memref<{n}x{dtype}>" for op in [*UNARY_MATH, "powf"])
    body = "\n".join(
        f"    %{op}_v = math.{op} %v : {dtype}\n"
        f"    loops.store %{op}_v, %{op}_out[%i] : memref<{n}x{dtype}>"
        for op in UNARY_MATH
    )
    text = f"""
func.func @mathy(%x: memref<{n}x{dtype}>, {outs}) attributes {{loops.num_inputs = 1 : i64}} {{
  %half = arith.constant 1.5 : {dtype}
  loops.for %i = 0 to {n} step 1 {{
    %v = loops.load %x[%i] : memref<{n}x{dtype}>
{body}
    %p = math.powf %v, %half : {dtype}
    loops.store %p, %powf_out[%i] : memref<{n}x{dtype}>
  }}
  func.return
}}
"""
    source = print_c_source(lower(text))
    assert ("expf(" in source) == (dtype == "f32")
    np_dtype = np.float32 if dtype == "f32" else np.float64
    x = (RNG.random(n) * 3 + 0.1).astype(np_dtype)
    results = compile_ir(text)["mathy"](x)
    for (name, ref), got in zip([*UNARY_MATH.items(), ("powf", lambda v: v**1.5)], results):
        np.testing.assert_allclose(got, ref(x), rtol=rtol, err_msg=name)


def test_index_buffers_gather() -> None:
    text = """
func.func @gather(%x: memref<5xf64>, %idx: memref<3xindex>, %y: memref<3xf64>) attributes {loops.num_inputs = 2 : i64} {
  %inf = arith.constant 0x7FF0000000000000 : f64
  loops.for %i = 0 to 3 step 1 {
    %j = loops.load %idx[%i] : memref<3xindex>
    %v = loops.load %x[%j] : memref<5xf64>
    %m = arith.minimumf %v, %inf : f64
    loops.store %m, %y[%i] : memref<3xf64>
  }
  func.return
}
"""
    source = print_c_source(lower(text))
    assert "const int64_t j = idx[i];" in source
    assert "gradc_minimum_f64(v, INFINITY)" in source
    x = RNG.standard_normal(5)
    idx = np.array([4, 0, 2], dtype=np.int64)
    np.testing.assert_array_equal(compile_ir(text)["gather"](x, idx)[0], x[idx])


def test_scalar_arguments_accept_python_floats_and_0d_arrays() -> None:
    f = compile_ir(SCALAR)["axpy"]
    x = RNG.standard_normal(8).astype(np.float32)
    for a in (2.5, np.float32(2.5), np.array(2.5, dtype=np.float32), np.array(2.5)):
        y, s = f(a, x)
        np.testing.assert_allclose(y, 2.5 * x, rtol=F32_RTOL)
        assert s.shape == ()
        np.testing.assert_allclose(s, np.float32(2.5) * x.sum(), rtol=1e-5)


def test_functions_without_outputs_or_body() -> None:
    fs = compile_ir(NO_OUTPUTS)
    assert fs["nothing"](np.zeros(4, np.float32)) == []
    assert fs["empty"]() == []
    source = print_c_source(lower(NO_OUTPUTS))
    assert "int empty(void *restrict work) {\n    (void)work;\n    return 0;\n}" in source
    assert "(void)x;" in source


def test_workspace_buffers_get_aligned_offsets() -> None:
    text = """
func.func @two_temps(%x: memref<3xf32>, %y: memref<3xf32>) attributes {loops.num_inputs = 1 : i64} {
  %t = loops.alloc "workspace" : memref<3xf32>
  %u = loops.alloc "workspace" : memref<10xf64>
  loops.for %i = 0 to 3 step 1 {
    %v = loops.load %x[%i] : memref<3xf32>
    loops.store %v, %t[%i] : memref<3xf32>
    %w = loops.load %t[%i] : memref<3xf32>
    %d = arith.extf %w : f32 to f64
    loops.store %d, %u[%i] : memref<10xf64>
    %e = loops.load %u[%i] : memref<10xf64>
    %g = arith.truncf %e : f64 to f32
    loops.store %g, %y[%i] : memref<3xf32>
  }
  func.return
}
"""
    source = print_c_source(lower(text))
    assert "float *restrict t = (float *)work;" in source
    assert "double *restrict u = (double *)((char *)work + 64);" in source
    assert "return (size_t)192;" in source
    f = compile_ir(text)["two_temps"]
    assert f.work_size == 192
    x = RNG.standard_normal(3).astype(np.float32)
    np.testing.assert_array_equal(f(x)[0], x)


# ---------------------------------------------------------------------------
# Generated C


def all_features_module() -> ModuleOp:
    return lower(
        matmul_ikj("f32", 4, 3, 5) + ROW_SUM_F64 + RESHAPE + STACK_TEMP + BOOL_MASK + NO_OUTPUTS
    )


def test_generated_c_is_pedantic_c99(tmp_path: Path) -> None:
    module = all_features_module()
    gcc_pedantic(print_c_source(module), tmp_path)
    header = print_c_header(module)
    (tmp_path / "kernel.h").write_text(header)
    gcc_pedantic('#include "kernel.h"\n#include "kernel.h"\n', tmp_path, "user.c")


def test_generated_c_has_no_heap_or_mutable_globals() -> None:
    source = print_c_source(all_features_module())
    for word in ("malloc", "calloc", "realloc", "free("):
        assert word not in source
    includes = {line for line in source.splitlines() if line.startswith("#include")}
    assert includes <= {f"#include <{h}>" for h in ("math.h", "stddef.h", "stdint.h", "stdbool.h")}
    top_level = [
        line for line in source.splitlines()
        if line and not line.startswith((" ", "#", "}", "/*")) and not line.endswith("{")
    ]
    assert top_level == []  # only function definitions at file scope


def test_printing_is_deterministic() -> None:
    first = all_features_module()
    second = all_features_module()
    assert print_c_source(first) == print_c_source(first)
    assert print_c_source(first) == print_c_source(second)
    assert print_c_header(first) == print_c_header(second)


def test_index_math_is_folded_and_inlined() -> None:
    source = print_c_source(lower(EXP_2D))
    assert "const float v = x[i * 16 + j];" in source
    assert "y[i * 16 + j] = gradc_expf(v);" in source
    text = """
func.func @corner(%x: memref<4x8xf32>, %y: memref<8xf32>) attributes {loops.num_inputs = 1 : i64} {
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  loops.for %j = 0 to 8 step 1 {
    %r = arith.addi %c2, %c1 : index
    %v = loops.load %x[%r, %j] : memref<4x8xf32>
    loops.store %v, %y[%j] : memref<8xf32>
  }
  func.return
}
"""
    assert "x[j + 24]" in print_c_source(lower(text))


def test_ctarget_emits_source_and_header() -> None:
    module = lower(EXP_2D)
    out = io.StringIO()
    CTarget().emit(make_context(), module, out)
    assert out.getvalue() == print_c_source(module)
    out = io.StringIO()
    CTarget(header=True).emit(make_context(), module, out)
    header = out.getvalue()
    assert header == print_c_header(module)
    assert "#ifndef GRADC_exp2d_H" in header and "#include <stddef.h>" in header
    assert "int exp2d(const float *restrict x, float *restrict y, void *restrict work);" in header
    assert "size_t exp2d_work_size(void);" in header


# ---------------------------------------------------------------------------
# Identifiers


@pytest.mark.parametrize(
    "name,expected",
    [("my-func", "my_func"), ("int", "g_int"), ("2x", "g_2x"), ("_hidden", "g__hidden"),
     ("exp", "g_exp"), ("expf", "g_expf"), ("y0", "g_y0"), ("ok_name", "ok_name"),
     ("a.b", "a_b"), ("self", "self")],
)
def test_c_identifier(name: str, expected: str) -> None:
    assert c_identifier(name) == expected


def test_function_and_value_names_are_sanitized(tmp_path: Path) -> None:
    text = """
func.func @"my-func"(%int: memref<2xf32>, %for: memref<2xf32>) attributes {loops.num_inputs = 1 : i64} {
  loops.for %while = 0 to 2 step 1 {
    %float = loops.load %int[%while] : memref<2xf32>
    loops.store %float, %for[%while] : memref<2xf32>
  }
  func.return
}
func.func @int() attributes {loops.num_inputs = 0 : i64} {
  func.return
}
func.func @"2x"() attributes {loops.num_inputs = 0 : i64} {
  func.return
}
"""
    source = print_c_source(lower(text))
    # `g_int` is taken by the function @int, so the parameter becomes `g_int_1`
    assert "int my_func(const float *restrict g_int_1, float *restrict g_for, void *restrict work)" in source
    assert "for (int64_t g_while = 0; g_while < 2; ++g_while)" in source
    assert "int g_int(void *restrict work)" in source
    assert "int g_2x(void *restrict work)" in source
    gcc_pedantic(source, tmp_path)
    fs = compile_ir(text)
    x = np.array([1.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(fs["my_func"](x)[0], x)


def test_colliding_c_names_are_an_error() -> None:
    text = NO_OUTPUTS.replace("@nothing", '@"my-func"').replace("@empty", "@my_func")
    with pytest.raises(PassFailedException, match="both become the C function 'my_func'"):
        lower(text)


# ---------------------------------------------------------------------------
# Pass failures


def test_unsupported_op_fails_naming_it() -> None:
    text = """
func.func @rem(%x: memref<4xf32>, %y: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %x[%i] : memref<4xf32>
    %r = math.rsqrt %v : f32
    loops.store %r, %y[%i] : memref<4xf32>
  }
  func.return
}
"""
    with pytest.raises(PassFailedException, match="cannot lower 'math.rsqrt'"):
        lower(text)


def test_missing_num_inputs_fails() -> None:
    with pytest.raises(PassFailedException, match="loops.num_inputs"):
        lower("func.func @f(%x: memref<4xf32>) {\n  func.return\n}")


def test_store_into_input_fails() -> None:
    text = """
func.func @bad(%x: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  loops.store %z, %x[%c0] : memref<4xf32>
  func.return
}
"""
    with pytest.raises(PassFailedException, match="read-only buffer"):
        lower(text)


# ---------------------------------------------------------------------------
# The c dialect


C_MODULE = """builtin.module {
  c.func static inline @gradc_maximum_f64(%a: f64, %b: f64) -> f64 {
    %0 = c.ge %a, %b : f64
    %1 = c.ne %a, %a : f64
    %2 = c.or %0, %1 : i1
    %3 = c.select %2, %a, %b : f64
    c.return %3 : f64
  }
  c.func @f(%in0: !c.ptr<const f32 restrict>, %out0: !c.ptr<f32 restrict>, %work: !c.ptr<void restrict>) -> i32 {
    %t = c.byte_offset %work + 128 : !c.ptr<void restrict> -> !c.ptr<f32 restrict>
    %s = c.array 16 : !c.ptr<f32>
    %k = c.static_array dense<[1.000000e+00, 0.333333343]> : tensor<2xf32> -> !c.ptr<const f32>
    c.pragma "GCC ivdep"
    c.for %i = 0 to 16 step 2 {
      %x = c.load %in0[%i] : !c.ptr<const f32 restrict>
      %y = c.call @expf(%x) : (f32) -> f32
      %z = c.neg %y : f32
      %w = c.cast %z : f32 to f64
      %b = c.lt %x, %y : f32
      %n = c.not %b : i1
      %q = c.div %x, %y : f32
      %inf = c.literal 0x7f800000 : f32
      %one = c.literal 1 : index
      %j = c.sub %i, %one : index
      c.store %q, %out0[%j] : !c.ptr<f32 restrict>
    }
    %r = c.literal 0 : i32
    c.return %r : i32
  }
  c.func @f_work_size() -> !c.size_t {
    %0 = c.literal 256 : index
    %1 = c.cast %0 : index to !c.size_t
    c.return %1 : !c.size_t
  }
}"""


def test_c_dialect_round_trips() -> None:
    printed = str(parse(C_MODULE))
    assert printed == C_MODULE
    assert str(parse(printed)) == printed


def test_lowered_module_round_trips() -> None:
    printed = str(all_features_module())
    assert str(parse(printed)) == printed


@pytest.mark.parametrize(
    "body,message",
    [
        ('c.pragma "omp simd"\n  %r = c.literal 0 : i32\n  c.return %r : i32',
         "must be followed by a c.for"),
        ("%r = c.literal 0 : f32\n  c.return %r : f32", "returns i32, got f32"),
        ("%c = c.literal 0 : index\n  %z = c.literal 0.0 : f32\n"
         "  c.store %z, %p[%c] : !c.ptr<const f32>\n  %r = c.literal 0 : i32\n  c.return %r : i32",
         "cannot store through"),
        ("%r = c.literal 0 : i32", "must end with c.return"),
    ],
)
def test_c_verifier_messages(body: str, message: str) -> None:
    text = f"c.func @g(%p: !c.ptr<const f32>) -> i32 {{\n  {body}\n}}"
    with pytest.raises(VerifyException, match=message):
        parse(text)


def test_c_func_name_must_be_an_identifier() -> None:
    with pytest.raises(VerifyException, match="not a valid C identifier"):
        parse('c.func @"my-func"() {\n  c.return\n}')


# ---------------------------------------------------------------------------
# Build and cache


def test_cache_reuses_builds(monkeypatch: pytest.MonkeyPatch, private_cache: Path) -> None:
    module = lower(EXP_2D.replace("@exp2d", "@cached_exp"))
    source, header = print_c_source(module), print_c_header(module)
    calls = []
    real = build_mod._run_compiler

    def counting(command, cwd):
        calls.append(command)
        return real(command, cwd)

    monkeypatch.setattr(build_mod, "_run_compiler", counting)
    first = build(source, header, ["cached_exp"])
    assert len(calls) == 1
    assert build(source, header, ["cached_exp"]) is first  # memoized in process
    build_mod.forget_loaded()
    again = build(source, header, ["cached_exp"])  # from the disk cache
    assert len(calls) == 1
    assert again.lib.cached_exp_work_size() == 0
    key = cache_key(source, header, build_flags(None, source), build_mod.compiler_command())
    entry = private_cache / key
    assert (entry / "kernel.c").read_text() == source
    assert (entry / "kernel.h").read_text() == header
    assert not [p for p in private_cache.iterdir() if p.name.startswith(".tmp-")]


RACE_SCRIPT = """
import sys
from gradc.backend.build import build
module = build(sys.argv[1], sys.argv[2], ["race"])
assert module.lib.race(module.ffi.NULL) == 7
"""


def test_concurrent_builds_share_one_entry(private_cache: Path) -> None:
    source = "int race(void *restrict work) { (void)work; return 7; }\n"
    header = "int race(void *restrict work);\n"
    env = {**os.environ, "GRADC_CACHE_DIR": str(private_cache)}
    procs = [
        subprocess.Popen([sys.executable, "-c", RACE_SCRIPT, source, header], env=env,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    key = cache_key(source, header, build_flags(None, source), build_mod.compiler_command())
    assert (private_cache / key / "kernel.c").read_text() == source
    assert not [p for p in private_cache.iterdir() if p.name.startswith(".tmp-")]


def test_flags_change_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_flags(None) == DEFAULT_FLAGS
    monkeypatch.setenv("GRADC_CFLAGS", "-O2 -g")
    assert resolve_flags(None) == ("-O2", "-g", *WORKAROUND_FLAGS)
    assert resolve_flags(("-O1",)) == ("-O1", *WORKAROUND_FLAGS)
    cmd = build_mod.compiler_command()
    assert cache_key("s", "h", ("-O2",), cmd) != cache_key("s", "h", ("-O3",), cmd)


GCC12_WORKAROUNDS = ("-fno-tree-slp-vectorize", "-fno-tree-loop-distribute-patterns")
"""The two flags without which gcc 12 gives wrong numbers (issue 12, item 5)."""


def test_user_flags_keep_the_gcc_workarounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """cflags and $GRADC_CFLAGS replace the defaults, not the workarounds,
    which come last (gcc takes the last of -fX and -fno-X); extra flags add
    to the defaults; flags that name the optimization themselves (the
    explicit override) keep it as they say."""
    assert set(GCC12_WORKAROUNDS) <= set(DEFAULT_FLAGS) and set(WORKAROUND_FLAGS) == set(GCC12_WORKAROUNDS)
    assert resolve_flags(("-O2",)) == ("-O2", *WORKAROUND_FLAGS)
    assert resolve_flags(["-O3", "-march=native"]) == ("-O3", "-march=native", *WORKAROUND_FLAGS)
    assert resolve_flags(None, ("-g",)) == (*DEFAULT_FLAGS, "-g")
    assert resolve_flags(("-O2",), ("-g",)) == ("-O2", "-g", *WORKAROUND_FLAGS)
    assert resolve_flags((*DEFAULT_FLAGS, "-fno-openmp")) == (*DEFAULT_FLAGS, "-fno-openmp")
    assert resolve_flags(("-O3", "-ftree-slp-vectorize")) == (
        "-O3", "-ftree-slp-vectorize", "-fno-tree-loop-distribute-patterns")
    monkeypatch.setenv("GRADC_CFLAGS", "-O1 -ftree-loop-distribute-patterns")
    assert resolve_flags(None) == ("-O1", "-ftree-loop-distribute-patterns", "-fno-tree-slp-vectorize")
    monkeypatch.setenv(SANITIZE_ENV, "undefined")  # sanitized builds keep them too
    sanitized = build_flags(("-O3", "-march=native"), "int f(void);\n")
    assert set(GCC12_WORKAROUNDS) <= set(sanitized) and "-O0" in sanitized and "-O3" not in sanitized


def test_the_compiler_gets_the_workarounds_after_user_flags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The command lines gradc.jit runs for cflags=, extra_cflags= and
    $GRADC_CFLAGS; equal final flags share one cache entry, other final
    flags (an explicit override) get their own."""
    monkeypatch.setenv("GRADC_CACHE_DIR", str(tmp_path))
    build_mod.forget_loaded()
    commands: list[list[str]] = []
    real = build_mod._run_compiler
    monkeypatch.setattr(build_mod, "_run_compiler", lambda command, cwd: commands.append(command) or real(command, cwd))
    x = np.linspace(0.1, 1.0, 5)

    def f(x):
        return gnp.sin(x) * 2.0

    def flags_of(command: list[str], first: str, count: int) -> list[str]:
        start = command.index(first)
        return command[start : start + count]

    runs = [({"cflags": ["-O2"]}, ["-O2", *WORKAROUND_FLAGS]),
            ({"cflags": "-O3 -march=native"}, ["-O3", "-march=native", *WORKAROUND_FLAGS]),
            ({"extra_cflags": ["-g"]}, [*DEFAULT_FLAGS, "-g"]),
            ({"cflags": ["-O2", "-ftree-slp-vectorize"]}, ["-O2", "-ftree-slp-vectorize", "-fno-tree-loop-distribute-patterns"])]
    for kwargs, expected in runs:
        np.testing.assert_allclose(gradc.jit(f, **kwargs)(x), np.sin(x) * 2.0, rtol=1e-15)
        assert flags_of(commands[-1], expected[0], len(expected) + 1) == [*expected, "-fPIC"], kwargs
    assert len(commands) == len(runs)
    assert not any("-fno-tree-slp-vectorize" in c for c in commands[-1])
    gradc.jit(f, cflags=["-O2", *WORKAROUND_FLAGS])(x)  # the same final flags: built already
    assert len(commands) == len(runs)
    monkeypatch.setenv("GRADC_CFLAGS", "-O1")
    gradc.jit(f)(x)
    assert flags_of(commands[-1], "-O1", 4) == ["-O1", *WORKAROUND_FLAGS, "-fPIC"]
    build_mod.forget_loaded()


@pytest.mark.parametrize("flags", [{"cflags": ["-O3", "-march=native"]}, {"cflags": ["-O2"]},
                                   {"extra_cflags": ["-ftree-vectorize"]}, {"env": "-O3 -march=native"}],
                         ids=["cflags-O3-native", "cflags-O2", "extra", "GRADC_CFLAGS"])
def test_user_flags_round_float32_through_jit(flags: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers gcc 12 got wrong with a user's flags, before gradc kept
    its workarounds: f64 -> f32 -> f64 lost its rounding in short loops."""
    if "env" in flags:
        monkeypatch.setenv("GRADC_CFLAGS", flags.pop("env"))

    def f(x):
        return gnp.sin(x.astype(np.float32).astype(np.float64)).astype(np.float32).astype(np.float64)

    for n in (2, 3, 5):
        x = np.linspace(0.3, 2.9, n)
        expected = np.sin(x.astype(np.float32).astype(np.float64)).astype(np.float32).astype(np.float64)
        np.testing.assert_array_equal(gradc.jit(f, **flags)(x), expected)


def test_bad_flags_are_located_errors() -> None:
    line = sys._getframe().f_lineno + 2
    with pytest.raises(gradc.GradcError, match=r"cflags= takes a list of C compiler flags \(strings\), got \[1\]") as err:
        gradc.jit(lambda x: x, cflags=[1])
    assert err.value.location == f"{__file__}:{line}"
    with pytest.raises(gradc.GradcError, match="extra_cflags= takes a list"):
        gradc.lower(lambda x: x, np.ones(2), extra_cflags=3)


def test_compiler_errors_keep_the_source() -> None:
    header = "int broken(void *restrict work);\n"
    source = "int broken(void *restrict work) { return not_defined; }\n"
    with pytest.raises(BuildError) as info:
        build(source, header, ["broken"])
    message = str(info.value)
    assert "not_defined" in message
    kept = Path(message.rsplit("source kept at ", 1)[1].strip())
    assert kept.read_text() == source


def test_compiler_missing_is_a_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.raises(BuildError, match="set \\$CC"):
        build("int q(void) { return 0; }\n", "int q(void);\n", ["q"])


# ---------------------------------------------------------------------------
# Runtime argument checks


@pytest.fixture(scope="module")
def exp2d() -> CompiledFunction:
    return compile_ir(EXP_2D)["exp2d"]


def test_wrong_dtype_is_a_type_error(exp2d: CompiledFunction) -> None:
    with pytest.raises(TypeError, match=r"argument 0: expected float32\[8,16\], got float64\[8,16\]"):
        exp2d(np.zeros((8, 16)))


def test_wrong_shape_is_a_value_error(exp2d: CompiledFunction) -> None:
    with pytest.raises(ValueError, match=r"argument 0: expected float32\[8,16\], got float32\[16,8\]"):
        exp2d(np.zeros((16, 8), np.float32))


def test_non_contiguous_is_a_value_error(exp2d: CompiledFunction) -> None:
    x = np.zeros((16, 16), np.float32)[::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        exp2d(x)
    y = np.zeros((16, 8), np.float32).T
    with pytest.raises(ValueError, match="C-contiguous"):
        exp2d(y)


def test_wrong_count_and_non_arrays(exp2d: CompiledFunction) -> None:
    with pytest.raises(TypeError, match="expected 1 arguments, got 2"):
        exp2d(np.zeros((8, 16), np.float32), np.zeros((8, 16), np.float32))
    with pytest.raises(TypeError, match="expected a NumPy array float32\\[8,16\\], got list"):
        exp2d([[0.0] * 16] * 8)
    with pytest.raises(TypeError, match="argument 0"):
        exp2d(1.0)


def test_inputs_are_not_copied_or_modified(exp2d: CompiledFunction) -> None:
    x = np.ascontiguousarray(RNG.standard_normal((8, 16)).astype(np.float32))
    x.flags.writeable = False  # read-only inputs are fine: C sees them as const
    before = x.copy()
    (y,) = exp2d(x)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(x, y)


def test_scalar_argument_rejects_lossy_kinds() -> None:
    f = compile_ir(SCALAR)["axpy"]
    with pytest.raises(TypeError, match="argument 0"):
        f("2.5", np.zeros(8, np.float32))
    with pytest.raises(TypeError, match="argument 0"):
        f(np.array(1 + 2j), np.zeros(8, np.float32))



def test_a_write_only_local_array_prints_warning_free(tmp_path: Path) -> None:
    """A `c.array` that is only stored to (legal `c` input, found by the
    mutation fuzzer) must not trip -Wunused-but-set-variable."""
    module = parse("""builtin.module {
  c.func @kernel(%in: !c.ptr<const f32 restrict>, %out: !c.ptr<f32 restrict>) -> i32 {
    %s = c.array 8 : !c.ptr<f32>
    %zero = c.literal 0 : i32
    c.for %i = 0 to 8 step 1 {
      %x = c.load %in[%i] : !c.ptr<const f32 restrict>
      c.store %x, %out[%i] : !c.ptr<f32 restrict>
      c.store %x, %s[%i] : !c.ptr<f32>
    }
    c.return %zero : i32
  }
}""")
    gcc_pedantic(print_c_source(module), tmp_path)


def test_local_arrays_are_aligned_for_the_vectorizer() -> None:
    """Two Hessians in one function: gcc 12 at -O3 -march=native with
    512-bit vectors preferred stored to a local array with aligned 256-bit
    moves at a 16-byte aligned address (SIGSEGV) until local arrays were
    declared 64-byte aligned (target_c.LOCAL_ALIGNMENT). The numbers are
    checked against the closed forms of both Hessians."""
    import gradc
    import gradc.numpy as gnp

    rng = np.random.default_rng(0)
    X = rng.standard_normal((70, 19))
    y = (rng.random(70) < 0.5) * 1.0
    w = 0.3 * rng.standard_normal(19)
    W, b, v = rng.standard_normal((20, 12)), rng.standard_normal(20), rng.standard_normal(20)
    x = rng.standard_normal(12)

    def logreg(w, X, y):
        z = X @ w
        return gnp.mean(gnp.logaddexp(0.0, z) - y * z)

    def layer(x):
        return gnp.sum(v * gnp.tanh(W @ x + b))

    both = gradc.jit(lambda w, X, y, x: (gradc.jacfwd(gradc.grad(logreg))(w, X, y),
                                         gradc.jacfwd(gradc.grad(layer))(x)))
    h_logreg, h_layer = both(w, X, y, x)
    s = 1 / (1 + np.exp(-(X @ w)))
    np.testing.assert_allclose(h_logreg, X.T @ (X * (s * (1 - s))[:, None]) / len(y), rtol=1e-12, atol=1e-14)
    t = np.tanh(W @ x + b)
    np.testing.assert_allclose(h_layer, W.T @ (W * (v * -2 * t * (1 - t**2))[:, None]), rtol=1e-12, atol=1e-13)
