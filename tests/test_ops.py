"""Every `array` op, end to end: the compiled C equals NumPy, and so do the
interpreter at the array level and at the loops level.

Each case builds a one-op function with the op's Python constructor, feeds
random inputs, and checks four results against a NumPy reference computed
here (in float64, then rounded, for float32 cases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import zlib
from math import prod

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IntegerType,
    ModuleOp,
    TensorType,
)
from xdsl.ir import Block, Operation, Region

from gradc.dialects import array
from gradc.interpreter import run_function
from gradc.passes.lower_array_to_loops import LowerArrayToLoops
from gradc.pipeline import compile_module
from gradc.support import special

ELEMENT = {np.float32: Float32Type(), np.float64: Float64Type(), np.bool_: IntegerType(1)}
RTOL = {np.float32: 1e-6, np.float64: 1e-12}


@dataclass
class Case:
    name: str
    build: Callable[..., array.IRDLOperation]  # SSA inputs -> op
    reference: Callable[..., np.ndarray]  # NumPy inputs -> result
    shapes: list[tuple[int, ...]]
    low: float = -2.0
    high: float = 2.0
    bool_inputs: tuple[int, ...] = ()
    magnitude: Callable[..., np.ndarray] | None = None
    """For sums of products: the size of the terms, which bounds the rounding
    error (|got - exact| <= rtol * magnitude), where cancellation makes an
    element-relative bound meaningless."""


def _pos(build, reference, shapes):
    return dict(build=build, reference=reference, shapes=shapes, low=0.5, high=2.0)


def _abs_matmul(a, b):
    return np.matmul(np.abs(a), np.abs(b))


def _broadcast_ref(x, dims, shape):
    aligned = [1] * len(shape)
    for k, d in enumerate(dims):
        aligned[d] = x.shape[k]
    return np.broadcast_to(x.reshape(aligned), shape)


def _start(value, size, window):
    """JAX's clamped start of a dynamic slice (a float start truncated)."""
    return int(min(max(np.trunc(float(value)), 0), size - window))


def _placed(x, u, i, j):
    out = x.copy()
    out[i : i + u.shape[0], j : j + u.shape[1]] = u
    return out


CASES = [
    Case("neg", array.NegOp, np.negative, [(3, 5)]),
    Case("exp", array.ExpOp, np.exp, [(4, 7)]),
    Case("log", array.LogOp, np.log, [(4, 7)], 0.1, 3.0),
    Case("tanh", array.TanhOp, np.tanh, [(2, 3, 4)]),
    Case("sin", array.SinOp, np.sin, [(17,)], -4.0, 4.0),
    Case("cos", array.CosOp, np.cos, [(17,)], -4.0, 4.0),
    Case("sqrt", array.SqrtOp, np.sqrt, [(5, 5)], 0.0, 4.0),
    Case("abs", array.AbsOp, np.abs, [(5, 5)]),
    Case("sinh", array.SinhOp, np.sinh, [(3, 5)], -4.0, 4.0),
    Case("neg_rank0", array.NegOp, np.negative, [()]),
    Case("add", array.AddOp, np.add, [(3, 4), (3, 4)]),
    Case("sub", array.SubOp, np.subtract, [(3, 4), (3, 4)]),
    Case("mul", array.MulOp, np.multiply, [(2, 3, 4), (2, 3, 4)]),
    Case("div", array.DivOp, np.divide, [(3, 4), (3, 4)], 0.5, 2.0),
    Case("max", array.MaxOp, np.maximum, [(3, 4), (3, 4)]),
    Case("min", array.MinOp, np.minimum, [(3, 4), (3, 4)]),
    Case("pow", array.PowOp, np.power, [(3, 4), (3, 4)], 0.5, 2.0),
    Case("fmod", array.FmodOp, np.fmod, [(3, 4), (3, 4)], -5.0, 5.0),
    *[
        Case(
            f"compare_{p}",
            lambda a, b, p=p: array.CompareOp(p, a, b),
            lambda a, b, name=name: getattr(np, name)(a, b),
            [(4, 5), (4, 5)],
        )
        for p, name in [
            ("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
            ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal"),
        ]
    ],
    Case("select", array.SelectOp, np.where, [(3, 4), (3, 4), (3, 4)], bool_inputs=(0,)),
    Case(
        "broadcast_row",
        lambda x: array.BroadcastOp(x, [1], [3, 4]),
        lambda x: _broadcast_ref(x, [1], (3, 4)),
        [(4,)],
    ),
    Case(
        "broadcast_expand",
        lambda x: array.BroadcastOp(x, [0, 2], [3, 2, 5]),
        lambda x: _broadcast_ref(x, [0, 2], (3, 2, 5)),
        [(3, 1)],
    ),
    Case(
        "broadcast_scalar",
        lambda x: array.BroadcastOp(x, [], [2, 3]),
        lambda x: _broadcast_ref(x, [], (2, 3)),
        [()],
    ),
    Case("reshape", lambda x: array.ReshapeOp(x, [6, 2]), lambda x: x.reshape(6, 2), [(3, 4)]),
    Case(
        "transpose",
        lambda x: array.TransposeOp(x, [2, 0, 1]),
        lambda x: np.transpose(x, (2, 0, 1)),
        [(2, 3, 4)],
    ),
    Case(
        "slice",
        lambda x: array.SliceOp(x, [1, 0], [4, 6], [1, 2]),
        lambda x: x[1:4, 0:6:2],
        [(5, 6)],
    ),
    Case(
        "slice_reverse",
        lambda x: array.SliceOp(x, [4, 5], [-1, 0], [-2, -1]),
        lambda x: x[4::-2, 5:0:-1],
        [(5, 6)],
    ),
    Case(
        "gather",
        lambda x: array.GatherOp(x, [2, 0], np.array([[[3, 1], [0, 0]], [[3, 1], [2, 4]]])),
        lambda x: np.transpose(x, (2, 0, 1))[np.array([[3, 0], [3, 2]]), np.array([[1, 0], [1, 4]])],
        [(5, 2, 4)],
    ),
    Case(
        "dynamic_slice",
        lambda x, i, j: array.DynamicSliceOp(x, [i, j], [2, 3]),
        lambda x, i, j: x[_start(i, 5, 2) :][:2, _start(j, 6, 3) :][:, :3],
        [(5, 6), (), ()], -1.5, 7.5,
    ),
    Case(
        "dynamic_update_slice",
        lambda x, u, i: array.DynamicUpdateSliceOp(x, u, [i, i]),
        lambda x, u, i: _placed(x, u, _start(i, 5, 2), _start(i, 6, 3)),
        [(5, 6), (2, 3), ()], -1.5, 7.5,
    ),
    Case(
        "concatenate0",
        lambda a, b: array.ConcatenateOp([a, b], 0),
        lambda a, b: np.concatenate([a, b], 0),
        [(2, 3), (4, 3)],
    ),
    Case(
        "concatenate1",
        lambda a, b, c: array.ConcatenateOp([a, b, c], 1),
        lambda a, b, c: np.concatenate([a, b, c], 1),
        [(2, 1), (2, 3), (2, 2)],
    ),
    Case("matmul", array.MatmulOp, np.matmul, [(5, 7), (7, 3)], magnitude=_abs_matmul),
    Case(
        "matmul_batched", array.MatmulOp, np.matmul, [(2, 3, 4), (2, 4, 5)],
        magnitude=_abs_matmul,
    ),
    Case(
        "reduce_sum_last",
        lambda x: array.ReduceSumOp(x, [1]),
        lambda x: np.sum(x, axis=1),
        [(4, 9)],
        **{"low": 0.5, "high": 2.0},
    ),
    Case(
        "reduce_sum_first_and_last",
        lambda x: array.ReduceSumOp(x, [0, 2]),
        lambda x: np.sum(x, axis=(0, 2)),
        [(3, 4, 5)],
        **{"low": 0.5, "high": 2.0},
    ),
    Case(
        "reduce_sum_all",
        lambda x: array.ReduceSumOp(x, [0, 1]),
        lambda x: np.sum(x),
        [(4, 4)],
        **{"low": 0.5, "high": 2.0},
    ),
    Case(
        "reduce_sum_no_axes",
        lambda x: array.ReduceSumOp(x, []),
        lambda x: x + 0.0,
        [(3, 4)],
    ),
    Case(  # 150 in lanes of 64 (32 for f64) and a tail, per row
        "reduce_sum_laned",
        lambda x: array.ReduceSumOp(x, [1]),
        lambda x: np.sum(x, axis=1),
        [(3, 150)],
        **{"low": 0.5, "high": 2.0},
    ),
    Case(  # 70 rows: chunks of 16 into a fresh row, then 6 into the result
        "reduce_sum_blocked_columns",
        lambda x: array.ReduceSumOp(x, [0]),
        lambda x: np.sum(x, axis=0),
        [(70, 5)],
        **{"low": 0.5, "high": 2.0},
    ),
    Case(
        "reduce_max_no_axes",
        lambda x: array.ReduceMaxOp(x, []),
        lambda x: x + 0.0,
        [(2, 3)],
    ),
    Case(
        "reduce_max_laned",
        lambda x: array.ReduceMaxOp(x, [1]),
        lambda x: np.max(x, axis=1),
        [(2, 130)],
    ),
    Case(
        "reduce_max_middle",
        lambda x: array.ReduceMaxOp(x, [1]),
        lambda x: np.max(x, axis=1),
        [(3, 6, 2)],
    ),
    Case(
        "reduce_max_all",
        lambda x: array.ReduceMaxOp(x, [0]),
        lambda x: np.max(x, axis=0),
        [(11,)],
    ),
]

CONVERT_CASES = [
    (np.float32, np.float64),
    (np.float64, np.float32),
    (np.bool_, np.float32),
    (np.float64, np.bool_),
]


def one_op_module(build: Callable[..., object], in_types: list[TensorType]) -> ModuleOp:
    block = Block(arg_types=in_types)
    op = build(*block.args)
    block.add_op(op)
    block.add_op(func.ReturnOp(op.results[0]))
    fn = func.FuncOp("f", (in_types, [op.results[0].type]), Region(block))
    module = ModuleOp([fn])
    module.verify()
    return module


def random_input(rng, shape, dtype, low, high):
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    return rng.uniform(low, high, shape).astype(dtype)


def check_all_levels(
    module: ModuleOp,
    inputs: list[np.ndarray],
    expected: np.ndarray,
    magnitude: np.ndarray | None = None,
):
    """Array interpreter, loops interpreter and compiled C against `expected`
    (elementwise relative tolerance, or relative to `magnitude` if given)."""
    dtype = expected.dtype.type
    rtol = RTOL.get(dtype, 0.0)
    atol = 0.0 if magnitude is None else rtol * magnitude

    def close(got, level):
        got = np.asarray(got)
        assert got.shape == expected.shape, f"{level}: shape {got.shape}"
        assert got.dtype == expected.dtype, f"{level}: dtype {got.dtype}"
        if dtype == np.bool_:
            np.testing.assert_array_equal(got, expected, err_msg=level)
        else:
            if magnitude is None:
                np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=level)
            else:
                err = np.abs(got.astype(np.float64) - expected.astype(np.float64))
                assert np.all(err <= atol), f"{level}: error {err.max()} above {rtol} x terms"

    close(run_function(module, "f", *inputs)[0], "array interpreter")

    loops_module = module.clone()
    LowerArrayToLoops().apply(Context(), loops_module)
    loops_module.verify()
    close(run_function(loops_module, "f", *inputs)[0], "loops interpreter")

    compiled = compile_module(module.clone(), "f")
    close(compiled(*inputs)[0], "compiled C")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case: Case, dtype):
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    inputs = [
        random_input(rng, s, np.bool_ if k in case.bool_inputs else dtype, case.low, case.high)
        for k, s in enumerate(case.shapes)
    ]
    if case.name.startswith("compare"):
        inputs[1][0] = inputs[0][0]  # exercise equality
    in_types = [TensorType(ELEMENT[x.dtype.type], list(x.shape)) for x in inputs]
    module = one_op_module(case.build, in_types)
    # Reference in float64, rounded once to the result type.
    wide = [x.astype(np.float64) if x.dtype != np.bool_ else x for x in inputs]
    exact = np.asarray(case.reference(*wide))
    expected = exact if exact.dtype == np.bool_ else exact.astype(dtype)
    magnitude = None if case.magnitude is None else case.magnitude(*wide)
    check_all_levels(module, inputs, expected, magnitude)


def run_at_three_levels(module: ModuleOp, inputs: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """The results of @f at the array level, the loops level and in C."""
    loops_module = module.clone()
    LowerArrayToLoops().apply(Context(), loops_module)
    loops_module.verify()
    with np.errstate(all="ignore"):
        return {
            "array interpreter": run_function(module, "f", *inputs),
            "loops interpreter": run_function(loops_module, "f", *inputs),
            "compiled C": compile_module(module.clone(), "f")(*inputs),
        }


INF, NAN = np.inf, np.nan
_EDGES = (0.0, -0.0, INF, -INF, NAN)
UNARY_MATH = [
    # (op, NumPy reference, random range, edge values: domain boundaries, poles, outside)
    (array.CoshOp, np.cosh, (-4.0, 4.0), (710.0, -710.0, 89.0, 712.0)),
    (array.TanOp, np.tan, (-1.5, 1.5), (1.0, -1.0)),
    (array.AsinOp, np.arcsin, (-1.0, 1.0), (1.0, -1.0, 1.5, -1.5)),
    (array.AcosOp, np.arccos, (-1.0, 1.0), (1.0, -1.0, 1.5, -1.5)),
    (array.AtanOp, np.arctan, (-5.0, 5.0), (1e30, -1e30)),
    (array.AsinhOp, np.arcsinh, (-5.0, 5.0), (1e30, -1e-30)),
    (array.AcoshOp, np.arccosh, (1.0, 5.0), (1.0, 0.5, -1.0, 1e30)),
    (array.AtanhOp, np.arctanh, (-1.0, 1.0), (1.0, -1.0, 1.5, 1e-30)),
    (array.Log1pOp, np.log1p, (-0.9, 3.0), (-1.0, -1.5, 1e-30, -1e-10)),
    (array.Expm1Op, np.expm1, (-3.0, 3.0), (1e-30, -1e-10, -50.0, 800.0)),
    (array.Log2Op, np.log2, (0.1, 5.0), (1.0, 8.0, -1.0)),
    (array.Log10Op, np.log10, (0.1, 5.0), (1.0, 1000.0, -1.0)),
    (array.Exp2Op, np.exp2, (-3.0, 3.0), (10.0, -1100.0, 1100.0)),
    (array.ErfOp, special.erf, (-3.0, 3.0), (6.0, -6.0, 1e-30)),
    (array.FloorOp, np.floor, (-4.0, 4.0), (-0.5, 0.5, 2.5, -2.0, 1e30)),
    (array.CeilOp, np.ceil, (-4.0, 4.0), (-0.5, 0.5, 2.5, -2.0, 1e30)),
    (array.RoundEvenOp, np.rint, (-4.0, 4.0), (-0.5, 0.5, 1.5, 2.5, -2.5, 0.49999997, 1e30)),
    (array.TruncOp, np.trunc, (-4.0, 4.0), (-0.5, 0.5, 2.5, -2.7, 1e30)),
    # erfc's tail: 1 - erf(x) would be 0 from x = 6 (f64); erfc(9) is a normal float32.
    (array.ErfcOp, special.erfc, (-3.0, 3.0), (6.0, 9.0, 26.0, 30.0, -6.0, 1e-30)),
]


def _unary_math_inputs(dtype) -> list[np.ndarray]:
    rng = np.random.default_rng(14)
    inputs = []
    for _, _, (low, high), edges in UNARY_MATH:
        x = np.concatenate([rng.uniform(low, high, 9), _EDGES, edges])
        with np.errstate(over="ignore"):
            inputs.append(x.astype(dtype))
    return inputs


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_unary_math_ops_with_domain_edges(dtype):
    """Each of these ops on random values and on 0, -0, +-inf, NaN, domain
    boundaries, poles and values outside the domain: NumPy's values (NaN,
    inf, signed zeros included) at the array level, the loops level and in
    C, in one function per dtype."""
    inputs = _unary_math_inputs(dtype)
    types = [TensorType(ELEMENT[dtype], list(x.shape)) for x in inputs]
    block = Block(arg_types=types)
    ops = [cls(arg) for (cls, *_), arg in zip(UNARY_MATH, block.args)]
    block.add_ops([*ops, func.ReturnOp(*(op.results[0] for op in ops))])
    module = ModuleOp([func.FuncOp("f", (types, [op.results[0].type for op in ops]), Region(block))])
    module.verify()
    with np.errstate(all="ignore"):
        expected = [np.asarray(ref(x.astype(np.float64))).astype(dtype) for (_, ref, *_), x in zip(UNARY_MATH, inputs)]
    levels = run_at_three_levels(module, inputs)
    for level, results in levels.items():
        for (cls, *_), x, got, want in zip(UNARY_MATH, inputs, results, expected):
            what = f"{cls.name} at {level} on {x}"
            assert got.dtype == dtype, what
            np.testing.assert_allclose(got, want, rtol=2 * RTOL[dtype], atol=0, err_msg=what)
            zeros = want == 0
            np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]), err_msg=what)


_BINARY_EDGES = (0.0, -0.0, 1.0, -1.0, 2.5, -1e-30, 1e30, INF, -INF, NAN, float(np.copysign(NAN, -1.0)))
BINARY_MATH = [(array.Atan2Op, np.arctan2), (array.CopySignOp, np.copysign)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_binary_math_ops_at_signed_zeros_infinities_and_nans(dtype):
    """atan2 and copysign on random pairs and on every pair of edge values
    (both zeros, both infinities, NaNs of both signs): NumPy's values and
    signs of zeros at the array level, the loops level and in C, one build
    per dtype."""
    rng = np.random.default_rng(15)
    a, b = np.meshgrid(_BINARY_EDGES, _BINARY_EDGES)
    x = np.concatenate([rng.uniform(-3.0, 3.0, 12), a.ravel()]).astype(dtype)
    y = np.concatenate([rng.uniform(-3.0, 3.0, 12), b.ravel()]).astype(dtype)
    typ = TensorType(ELEMENT[dtype], list(x.shape))
    block = Block(arg_types=[typ, typ])
    ops = [cls(*block.args) for cls, _ in BINARY_MATH]
    block.add_ops([*ops, func.ReturnOp(*(op.results[0] for op in ops))])
    module = ModuleOp([func.FuncOp("f", ([typ, typ], [typ] * len(ops)), Region(block))])
    module.verify()
    expected = [ref(x.astype(np.float64), y.astype(np.float64)).astype(dtype) for _, ref in BINARY_MATH]
    loops_module = module.clone()
    LowerArrayToLoops().apply(Context(), loops_module)
    with np.errstate(all="ignore"):
        levels = {
            "array interpreter": run_function(module, "f", x, y),
            "loops interpreter": run_function(loops_module, "f", x, y),
            "compiled C": compile_module(module.clone(), "f")(x, y),
        }
    for level, results in levels.items():
        for (cls, _), got, want in zip(BINARY_MATH, results, expected):
            what = f"{cls.name} at {level} on {x}, {y}"
            assert got.dtype == dtype, what
            np.testing.assert_allclose(got, want, rtol=2 * RTOL[dtype], atol=0, err_msg=what)
            # copysign sets the sign of a NaN too; a NaN from atan2 has none to match.
            signed = np.ones_like(want, bool) if cls is array.CopySignOp else ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(got[signed]), np.signbit(want[signed]), err_msg=what)


@pytest.mark.parametrize("src,dst", CONVERT_CASES, ids=lambda t: np.dtype(t).name)
def test_convert(src, dst):
    rng = np.random.default_rng(7)
    x = random_input(rng, (3, 5), src, -2.0, 2.0)
    if src != np.bool_:
        x[0, :2] = 0  # float -> bool is x != 0
    module = one_op_module(
        lambda v: array.ConvertOp(v, ELEMENT[dst]), [TensorType(ELEMENT[src], [3, 5])]
    )
    expected = (x != 0) if dst == np.bool_ else x.astype(dst)
    check_all_levels(module, [x], expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_constant(dtype):
    rng = np.random.default_rng(3)
    value = rng.standard_normal((3, 4)).astype(dtype)
    typ = TensorType(ELEMENT[dtype], [3, 4])
    attr = DenseIntOrFPElementsAttr.from_list(typ, value.ravel().tolist())
    block = Block(arg_types=[typ])
    const = array.ConstantOp(attr)
    total = array.AddOp(block.args[0], const)
    block.add_ops([const, total, func.ReturnOp(total)])
    module = ModuleOp([func.FuncOp("f", ([typ], [typ]), Region(block))])
    x = rng.standard_normal((3, 4)).astype(dtype)
    expected = (x.astype(np.float64) + value.astype(np.float64)).astype(dtype)
    check_all_levels(module, [x], expected)


def test_nan_propagation_matches_numpy():
    """max/min and reduce_max propagate NaN as numpy.maximum and numpy.max do."""
    a = np.array([1.0, np.nan, 3.0, -np.inf], dtype=np.float64)
    b = np.array([np.nan, 2.0, 1.0, 0.0], dtype=np.float64)
    typ = TensorType(Float64Type(), [4])
    for build, ref in [(array.MaxOp, np.maximum), (array.MinOp, np.minimum)]:
        module = one_op_module(build, [typ, typ])
        got = compile_module(module, "f")(a, b)[0]
        np.testing.assert_array_equal(got, ref(a, b))
    module = one_op_module(lambda x: array.ReduceMaxOp(x, [0]), [typ])
    reduce_max = compile_module(module, "f")
    assert np.isnan(reduce_max(a)[0])
    assert reduce_max(np.array([-np.inf, -1.0, -3.0, -2.0]))[0] == -1.0


@pytest.mark.parametrize("cflags", [None, ("-O3", "-march=native"), ("-O2",)], ids=["default", "O3-native", "O2"])
def test_f64_f32_f64_round_trip_is_rounded(cflags):
    """f64 -> f32 -> f64 must round to float32, also in short unrolled loops
    (gcc 12's SLP vectorizer drops the rounding there unless turned off,
    which a user's own flags must not undo)."""
    f32, f64 = ELEMENT[np.float32], ELEMENT[np.float64]
    for n in (2, 3, 5, 16):
        typ = TensorType(f64, [n])
        block = Block(arg_types=[typ])
        down = array.ConvertOp(block.args[0], f32)
        up = array.ConvertOp(down, f64)
        sine = array.SinOp(up)
        down2 = array.ConvertOp(sine, f32)
        up2 = array.ConvertOp(down2, f64)
        block.add_ops([down, up, sine, down2, up2, func.ReturnOp(up2)])
        module = ModuleOp([func.FuncOp("f", ([typ], [typ]), Region(block))])
        x = np.linspace(0.3, 2.9, n)
        expected = np.sin(x.astype(np.float32).astype(np.float64)).astype(np.float32)
        got = compile_module(module, "f", cflags)(x)[0]
        np.testing.assert_array_equal(got, expected.astype(np.float64))


INT_ELEMENT = {np.int32: IntegerType(32), np.int64: IntegerType(64)}
INT_OPS = [
    # (name, build from SSA inputs (a, b), NumPy reference)
    ("add", array.AddOp, np.add),
    ("sub", array.SubOp, np.subtract),
    ("mul", array.MulOp, np.multiply),
    ("max", array.MaxOp, np.maximum),
    ("min", array.MinOp, np.minimum),
    ("neg", lambda a, b: array.NegOp(a), lambda a, b: np.negative(a)),
    ("abs", lambda a, b: array.AbsOp(a), lambda a, b: np.abs(a)),
    *[
        (f"compare_{p}", lambda a, b, p=p: array.CompareOp(p, a, b), lambda a, b, n=n: getattr(np, n)(a, b))
        for p, n in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                     ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]
    ],
    ("select", lambda a, b: array.SelectOp(array.CompareOp("lt", a, b), b, a), lambda a, b: np.where(a < b, b, a)),
    ("reduce_sum0", lambda a, b: array.ReduceSumOp(a, [0]), lambda a, b: np.sum(a, axis=0, dtype=a.dtype)),
    ("reduce_sum_all", lambda a, b: array.ReduceSumOp(a, [0, 1]), lambda a, b: np.sum(a, dtype=a.dtype)),
    ("reduce_max1", lambda a, b: array.ReduceMaxOp(a, [1]), lambda a, b: np.max(a, axis=1)),
    ("reduce_max_long", lambda a, b: array.ReduceMaxOp(array.ReshapeOp(a, [a.type.get_shape()[0] * a.type.get_shape()[1]]), [0]),
     lambda a, b: np.max(a)),
    ("div", array.DivOp, lambda a, b: _python_int_division(a, b)[0]),
    ("fmod", array.FmodOp, lambda a, b: _python_int_division(a, b)[1]),
    ("argmax0", lambda a, b: array.ArgMaxOp(a, 0), lambda a, b: np.argmax(a, axis=0)),
    ("and", array.AndOp, np.bitwise_and),
    ("or", array.OrOp, np.bitwise_or),
    ("xor", array.XorOp, np.bitwise_xor),
    ("invert", lambda a, b: array.InvertOp(a), lambda a, b: np.invert(a)),
    # Counts mostly outside [0, width) (NumPy: every bit shifted out), and
    # counts b & 63 (in range, or just past it for i32).
    ("shl", array.ShiftLeftOp, np.left_shift),
    ("shr", array.ShiftRightOp, np.right_shift),
    ("shl_small", lambda a, b: array.ShiftLeftOp(a, _masked(b, 63)), lambda a, b: np.left_shift(a, b & 63)),
    ("shr_small", lambda a, b: array.ShiftRightOp(a, _masked(b, 63)), lambda a, b: np.right_shift(a, b & 63)),
]


def _masked(value, mask: int) -> array.AndOp:
    typ = value.type
    constant = array.ConstantOp(DenseIntOrFPElementsAttr.from_list(typ, [mask] * prod(typ.get_shape())))
    return array.AndOp(value, constant)


def _python_int_division(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Truncated quotient and remainder in Python's exact ints, wrapped to
    the dtype; by 0 both are 0 (NumPy's values, where C would trap)."""
    bits = 8 * a.dtype.itemsize
    wrap = lambda v: (v + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)  # noqa: E731
    q, r = [], []
    for x, y in zip(a.ravel().tolist(), b.ravel().tolist()):
        quotient = 0 if y == 0 else (abs(x) // abs(y)) * (1 if (x < 0) == (y < 0) else -1)
        q.append(wrap(quotient))
        r.append(0 if y == 0 else x - quotient * y)
    return np.array(q, a.dtype).reshape(a.shape), np.array(r, a.dtype).reshape(a.shape)


def _unattached(op: Operation) -> list[Operation]:
    """`op` after the ops it was built on that are in no block yet."""
    inner = [v.owner for v in op.operands if isinstance(v.owner, Operation) and v.owner.parent is None]
    return [*(o for owner in inner for o in _unattached(owner)), op]


def _int_inputs(dtype) -> tuple[np.ndarray, np.ndarray]:
    """Random values and the edges where arithmetic wraps: min, max, -1, 0, 1."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(32)
    edges = np.array([info.min, info.max, -1, 0, 1, info.min, info.max, 7], dtype)
    a = np.concatenate([rng.integers(info.min, info.max, 40, dtype=dtype, endpoint=True), edges, edges])
    b = np.concatenate([rng.integers(-1000, 1000, 40, dtype=dtype), edges, edges[::-1]])
    return a.reshape(8, 7), b.reshape(8, 7)


@pytest.mark.parametrize("dtype", [np.int32, np.int64], ids=["i32", "i64"])
def test_integer_ops_wrap_as_numpy(dtype):
    """Every op that takes integers, on random values and on the edges where
    signed arithmetic overflows (C leaves that undefined; gradc wraps, as
    NumPy): NumPy's values at the array level, the loops level and in C,
    in one function per dtype."""
    a, b = _int_inputs(dtype)
    typ = TensorType(INT_ELEMENT[dtype], list(a.shape))
    block = Block(arg_types=[typ, typ])
    ops = []
    for _, build, _ in INT_OPS:
        op = build(*block.args)
        block.add_ops(_unattached(op))
        ops.append(op)
    block.add_op(func.ReturnOp(*(op.results[0] for op in ops)))
    module = ModuleOp([func.FuncOp("f", ([typ, typ], [op.results[0].type for op in ops]), Region(block))])
    module.verify()
    with np.errstate(all="ignore"):
        expected = [np.asarray(ref(a, b)) for _, _, ref in INT_OPS]
    levels = run_at_three_levels(module, [a, b])
    for level, results in levels.items():
        for (name, *_), got, want in zip(INT_OPS, results, expected):
            got = np.asarray(got)
            assert got.dtype == want.dtype, f"{name} at {level}: {got.dtype}"
            np.testing.assert_array_equal(got, want, err_msg=f"{name} at {level}")


ALL_DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]


def test_convert_between_every_pair_of_dtypes():
    """array.convert between each pair of f32, f64, i32, i64, i1 as NumPy's
    astype, in one function: float -> int truncates toward zero, and NaN,
    +-inf and out-of-range values give the integer's minimum (what NumPy
    gives on x86-64; C leaves it undefined); i64 -> i32 keeps the low bits."""
    elements = {**ELEMENT, **INT_ELEMENT}
    floats = np.array([0.0, -0.0, 1.5, -1.5, 2.7, -2.7, 1e10, -1e10, 3e9, -2147483648.0, 2147483520.0,
                       2147483647.0, 2147483648.0, 9.3e18, -9.3e18, np.inf, -np.inf, np.nan, 0.4, -7.0])
    ints = np.array([0, 1, -1, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**40 + 5, -2**63, 2**63 - 1,
                     2**53 + 1, -(2**53) - 1, 7, -7, 123456789, 3, 2**24 + 1, -5, 2**62, 42])
    sources = {np.float32: floats.astype(np.float32), np.float64: floats,
               np.int64: ints, np.int32: ints.astype(np.int32), np.bool_: ints % 3 == 0}
    pairs = [(s, d) for s in ALL_DTYPES for d in ALL_DTYPES if s != d]
    types = [TensorType(elements[s], [20]) for s in ALL_DTYPES]
    block = Block(arg_types=types)
    ops = [array.ConvertOp(block.args[ALL_DTYPES.index(s)], elements[d]) for s, d in pairs]
    block.add_ops([*ops, func.ReturnOp(*(op.results[0] for op in ops))])
    module = ModuleOp([func.FuncOp("f", (types, [op.results[0].type for op in ops]), Region(block))])
    module.verify()
    inputs = [sources[s] for s in ALL_DTYPES]

    def reference(x, dst):
        if dst == np.bool_:
            return x != 0
        if np.dtype(dst).kind == "i" and x.dtype.kind == "f":
            info = np.iinfo(dst)
            inside = (x >= info.min) & (x < -float(info.min))  # exact bounds: -2**(w-1), 2**(w-1)
            with np.errstate(invalid="ignore"):
                return np.where(inside, np.trunc(np.where(inside, x, 0)), 0).astype(dst) + np.where(inside, 0, info.min).astype(dst)
        with np.errstate(all="ignore"):
            return x.astype(dst)

    expected = [reference(sources[s], d) for s, d in pairs]
    levels = run_at_three_levels(module, inputs)
    for level, results in levels.items():
        for (s, d), got, want in zip(pairs, results, expected):
            what = f"{np.dtype(s).name} -> {np.dtype(d).name} at {level}"
            assert np.asarray(got).dtype == np.dtype(d), what
            np.testing.assert_array_equal(got, want, err_msg=what)
    # On x86-64 the defined cases are NumPy's astype itself.
    with np.errstate(invalid="ignore"):
        native = floats.astype(np.int32)
    if np.dtype(np.int32).type(native[-5]) == np.iinfo(np.int32).min:  # x86's "integer indefinite"
        np.testing.assert_array_equal(levels["compiled C"][pairs.index((np.float64, np.int32))], native)


def test_bitwise_ops_on_bools_are_logical():
    """and/or/xor/invert on i1 at the three levels, one function."""
    p = np.array([True, False, True, False])
    q = np.array([True, True, False, False])
    typ = TensorType(IntegerType(1), [4])
    block = Block(arg_types=[typ, typ])
    a, b = block.args
    ops = [array.AndOp(a, b), array.OrOp(a, b), array.XorOp(a, b), array.InvertOp(a)]
    block.add_ops([*ops, func.ReturnOp(*(op.results[0] for op in ops))])
    module = ModuleOp([func.FuncOp("f", ([typ, typ], [typ] * 4), Region(block))])
    module.verify()
    expected = [p & q, p | q, p ^ q, ~p]
    for level, results in run_at_three_levels(module, [p, q]).items():
        for got, want in zip(results, expected):
            assert np.asarray(got).dtype == np.bool_, level
            np.testing.assert_array_equal(got, want, err_msg=level)


def _indexed_reference(x, idx, axes):
    """(x with `axes` moved to the front, positions clamped into range per
    axis, rows whose indices are all in range): the reference for
    array.dynamic_gather and array.scatter, written with NumPy."""
    moved = np.moveaxis(x, axes, range(len(axes)))
    ok = np.ones(idx.shape[:-1], bool)
    pos = []
    for k, a in enumerate(axes):
        ok &= (idx[..., k] >= 0) & (idx[..., k] < x.shape[a])
        pos.append(np.clip(idx[..., k], 0, x.shape[a] - 1))
    return moved, tuple(pos), ok


def _scatter_reference(x, idx, v, axes, kind, mode):
    moved, pos, ok = _indexed_reference(x, idx, axes)
    out = moved.copy()
    keep = ok if mode == "drop" else np.ones_like(ok)
    sel = tuple(p[keep] for p in pos)
    if kind == "add":
        np.add.at(out, sel, v[keep])
    else:
        for b in zip(*np.nonzero(keep)):  # row-major: the last write wins
            out[tuple(p[b] for p in pos)] = v[b]
    return np.moveaxis(out, range(len(axes)), axes)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64], ids=["i32", "i64"])
def test_dynamic_gather_and_scatter_clamp_fill_and_drop(index_dtype):
    """array.dynamic_gather (clip, fill) and array.scatter (add/set, clip/drop)
    with indices in range, negative, past the end and duplicated, on one and
    two axes, float and int inputs: NumPy's values (np.add.at for add, the
    last write in row-major order for set) at the array level, the loops
    level and in C; the sanitizers run this too (no access out of bounds)."""
    x = np.random.default_rng(5).uniform(-2, 2, (5, 3, 4))
    xi = np.arange(5 * 3 * 4, dtype=np.int64).reshape(5, 3, 4)
    one = np.array([[2], [0], [2], [-1], [5], [4], [2]], index_dtype)  # axis 1 of size 3
    two = np.array([[[1, 0], [4, 3]], [[1, 0], [-2, 9]], [[4, 3], [1, 0]]], index_dtype)  # axes (2, 0)
    v1 = np.random.default_rng(6).uniform(-2, 2, (7, 5, 4))
    v2 = np.random.default_rng(7).uniform(-2, 2, (3, 2, 3))
    vi = np.arange(7 * 5 * 4, dtype=np.int64).reshape(7, 5, 4) + 1000
    inputs = [x, one, two, v1, v2, xi, vi]
    types = [TensorType({**ELEMENT, **INT_ELEMENT}[a.dtype.type], list(a.shape)) for a in inputs]
    block = Block(arg_types=types)
    X, I1, I2, V1, V2, XI, VI = block.args
    built = [
        (array.DynamicGatherOp(X, I1, [1], "clip"), None),
        (array.DynamicGatherOp(X, I2, [2, 0], "fill"), None),
        (array.ScatterOp(X, I1, V1, [1], "add", "drop"), lambda: _scatter_reference(x, one, v1, [1], "add", "drop")),
        (array.ScatterOp(X, I1, V1, [1], "add", "clip"), lambda: _scatter_reference(x, one, v1, [1], "add", "clip")),
        (array.ScatterOp(X, I1, V1, [1], "set", "drop"), lambda: _scatter_reference(x, one, v1, [1], "set", "drop")),
        (array.ScatterOp(X, I2, V2, [2, 0], "set", "clip"), lambda: _scatter_reference(x, two, v2, [2, 0], "set", "clip")),
        (array.ScatterOp(X, I2, V2, [2, 0], "add", "drop"), lambda: _scatter_reference(x, two, v2, [2, 0], "add", "drop")),
        (array.ScatterOp(XI, I1, VI, [1], "add", "drop"), lambda: _scatter_reference(xi, one, vi, [1], "add", "drop")),
        (array.DynamicGatherOp(XI, I2, [2, 0], "clip"), None),
    ]
    m, p, ok = _indexed_reference(x, two, [2, 0])
    fill = m[p].copy()
    fill[~ok] = 0
    mi, pi, _ = _indexed_reference(xi, two, [2, 0])
    # the first gather: x[:, clip(one[:, 0]), :] with the index rows in front
    refs = {0: np.moveaxis(x[:, np.clip(one[:, 0], 0, 2), :], 1, 0), 1: fill, 8: mi[pi]}
    for op, _ in built:
        block.add_op(op)
    block.add_op(func.ReturnOp(*(op.results[0] for op, _ in built)))
    module = ModuleOp([func.FuncOp("f", (types, [op.results[0].type for op, _ in built]), Region(block))])
    module.verify()
    expected = [refs[k] if k in refs else ref() for k, (_, ref) in enumerate(built)]
    for level, results in run_at_three_levels(module, inputs).items():
        for k, (got, want) in enumerate(zip(results, expected)):
            got = np.asarray(got)
            assert got.dtype == want.dtype and got.shape == want.shape, f"result {k} at {level}"
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=f"result {k} at {level}")
