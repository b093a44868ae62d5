"""batch_function: the batched function equals a loop over the batch.

Each case builds a small function with the ops' Python constructors, batches
it over a subset of its arguments, runs the batched function in the
interpreter on stacked inputs, and compares with the original function called
once per batch element (a subset also through compiled C). Structural tests
check that work not depending on batched arguments stays unbatched.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    FloatAttr,
    IntAttr,
    Float32Type,
    Float64Type,
    IntegerType,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array, autodiff
from gradc.interpreter import run_function
from gradc.passes.autodiff.batching import BATCH_RULES, batch_function
from gradc.pipeline import compile_module
from gradc.support.dense import numpy_dtype, numpy_to_dense

F32, F64, I1, I64 = Float32Type(), Float64Type(), IntegerType(1), IntegerType(64)
ELEMENT = {np.float32: F32, np.float64: F64, np.bool_: I1}
RTOL = {np.float32: 2e-6, np.float64: 1e-13}
SIZE = 3

Built = Operation | tuple[list[Operation], list[SSAValue]]
"""What a case builds from the function's arguments: one op whose result is
returned, or the ops to add and the values to return."""


def shape_of(v: SSAValue) -> tuple[int, ...]:
    return tuple(v.type.get_shape())


def make_module(
    build: Callable[..., Built], in_types: Sequence[TensorType]
) -> tuple[ModuleOp, func.FuncOp]:
    block = Block(arg_types=in_types)
    built = build(*block.args)
    ops, results = ([built], list(built.results)) if isinstance(built, Operation) else built
    block.add_ops([*ops, func.ReturnOp(*results)])
    fn = func.FuncOp("f", (in_types, [r.type for r in results]), Region(block))
    module = ModuleOp([fn])
    module.verify()
    return module, fn


def random_inputs(rng, types: Sequence[TensorType], batched: Sequence[bool]) -> list[np.ndarray]:
    """Values in {0.5, 1, 1.5, 2} (positive for log, sqrt, pow; ties for
    compare eq and max), with a leading batch dimension where batched."""
    inputs = []
    for typ, bat in zip(types, batched):
        shape = ((SIZE,) if bat else ()) + tuple(typ.get_shape())
        if typ.get_element_type() == I64:  # integers, some negative, shift counts in and out of range
            inputs.append(rng.integers(-9, 70, shape, dtype=np.int64))
        elif isinstance(typ.get_element_type(), IntegerType):
            inputs.append(rng.random(shape) < 0.5)
        else:
            dtype = np.float32 if isinstance(typ.get_element_type(), Float32Type) else np.float64
            inputs.append((rng.integers(1, 5, shape) * 0.5).astype(dtype))
    return inputs


def loop_reference(
    module: ModuleOp, inputs: Sequence[np.ndarray], batched: Sequence[bool]
) -> list[np.ndarray]:
    """@f called once per batch element, results stacked."""
    per_element = [
        run_function(module, "f", *[x[s] if bat else x for x, bat in zip(inputs, batched)])
        for s in range(SIZE)
    ]
    return [np.stack(column) for column in zip(*per_element)]


def assert_same(got: Sequence[np.ndarray], expected: Sequence[np.ndarray], what: str) -> None:
    assert len(got) == len(expected), what
    for g, e in zip(got, expected):
        g = np.asarray(g)
        assert (g.shape, g.dtype) == (e.shape, e.dtype), f"{what}: {g.shape} {g.dtype}"
        if e.dtype.kind in "bi":
            np.testing.assert_array_equal(g, e, err_msg=what)
        else:
            rtol = RTOL[e.dtype.type]
            np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol, err_msg=what)


# ---------------------------------------------------------------------------
# One case per op (and a few small multi-op functions)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[..., Built]
    shapes: tuple[tuple[int, ...], ...]
    bool_inputs: tuple[int, ...] = ()
    int_inputs: tuple[int, ...] = ()

    def in_types(self, dtype) -> list[TensorType]:
        return [
            TensorType(I1 if k in self.bool_inputs else I64 if k in self.int_inputs else ELEMENT[dtype], list(s))
            for k, s in enumerate(self.shapes)
        ]


def _other_float(v: SSAValue) -> array.ConvertOp:
    return array.ConvertOp(v, F64 if isinstance(v.type.get_element_type(), Float32Type) else F32)


def _plus_constant(x: SSAValue) -> Built:
    values = [0.25 * (k + 1) for k in range(prod(shape_of(x)))]
    const = array.ConstantOp(DenseIntOrFPElementsAttr.from_list(x.type, values))
    total = array.AddOp(x, const)
    return [const, total], [total.result]


def _tanh_of_square_times(x: SSAValue, w: SSAValue) -> Built:
    """f(x, w) = tanh(w @ w) * x."""
    square = array.MatmulOp(w, w)
    t = array.TanhOp(square)
    product = array.MulOp(t, x)
    return [square, t, product], [product.result]


def _mlp_layer(x: SSAValue, w: SSAValue, bias: SSAValue) -> Built:
    """tanh(x @ w + bias), and sum of squares of w (independent of x)."""
    xw = array.MatmulOp(x, w)
    b = array.BroadcastOp(bias, [1], shape_of(xw.result))
    h = array.TanhOp(z := array.AddOp(xw, b))
    sq = array.MulOp(w, w)
    norm = array.ReduceSumOp(sq, [0, 1])
    return [xw, b, z, h, sq, norm], [h.result, norm.result]


def _where_positive(x: SSAValue, y: SSAValue) -> Built:
    """where(x > y, log(x), y) over a reduction and a transpose."""
    c = array.CompareOp("gt", x, y)
    lx = array.LogOp(x)
    s = array.SelectOp(c, lx, y)
    t = array.TransposeOp(s, [1, 0])
    r = array.ReduceMaxOp(t, [0])
    return [c, lx, s, t, r], [r.result, s.result]


def _scan(init: SSAValue, xs: SSAValue, w: SSAValue) -> Built:
    """4 steps of a = a * w + x_t + t, y_t = tanh(a): a carry, xs, an
    invariant and the step index."""
    elem = init.type.get_element_type()
    body = Block(arg_types=[array.INDEX_TYPE, init.type, TensorType(elem, [3]), w.type])
    i, a, x, v = body.args
    index = array.ConvertOp(i, elem)
    spread = array.BroadcastOp(index, [], [3])
    scaled = array.MulOp(a, v)
    plus_x = array.AddOp(scaled, x)
    new = array.AddOp(plus_x, spread)
    y = array.TanhOp(new)
    body.add_ops([index, spread, scaled, plus_x, new, y, array.YieldOp([new, y])])
    return array.ScanOp(4, [init], [xs], [w], [TensorType(elem, [4, 3])], Region(body))


def _switch(k: SSAValue, x: SSAValue, w: SSAValue) -> Built:
    """A switch over 3 branches (sin(x), x * w, -w) on k mod 4, in
    [-3, 3]: every branch, and indices clamped below and above."""
    four = array.ConstantOp(numpy_to_dense(np.full((), 4, np.int64)))
    index = array.FmodOp(k, four)
    regions = []
    for build in (lambda a, b: array.SinOp(a), lambda a, b: array.MulOp(a, b), lambda a, b: array.NegOp(b)):
        block = Block(arg_types=[x.type, w.type])
        op = build(*block.args)
        block.add_ops([op, array.YieldOp([op.results[0]])])
        regions.append(Region(block))
    switch = array.SwitchOp(index.result, [x, w], [x.type], regions)
    return [four, index, switch], [switch.outputs[0]]

def _while(init: SSAValue, w: SSAValue) -> Built:
    """a <- 0.5 a + 0.01 w while sum(a^2) > 0.01 (1 + sum(w^2)), and a step
    count: a trip count that differs between rows (a batched predicate
    when a is batched), at least 0 and at most ~12 for the random inputs."""
    elem = init.type.get_element_type()
    scalar = TensorType(elem, [])
    count_type = TensorType(I64, [])

    def const(value: float, typ: TensorType) -> array.ConstantOp:
        return array.ConstantOp(numpy_to_dense(np.full(shape_of_type(typ), value, numpy_dtype(typ.get_element_type()))))

    cond = Block(arg_types=[init.type, count_type, w.type])
    a, _, v = cond.args
    sa = array.ReduceSumOp(array.MulOp(a, a), [0])
    sw = array.ReduceSumOp(array.MulOp(v, v), [0])
    one, hundredth = const(1.0, scalar), const(0.01, scalar)
    tol = array.MulOp(hundredth, array.AddOp(one, sw))
    more = array.CompareOp("gt", sa, tol)
    cond.add_ops([sa.input.owner, sa, sw.input.owner, sw, one, hundredth, tol.rhs.owner, tol, more,
                  array.ConditionOp(more)])
    body = Block(arg_types=[init.type, count_type, w.type])
    a, k, v = body.args
    half, step, unit = const(0.5, init.type), const(0.01, init.type), const(1, count_type)
    new = array.AddOp(array.MulOp(a, half), array.MulOp(v, step))
    k1 = array.AddOp(k, unit)
    body.add_ops([half, step, unit, new.lhs.owner, new.rhs.owner, new, k1, array.YieldOp([new, k1])])
    zero = const(0, count_type)
    loop = array.WhileOp([init, zero.result], [w], Region(cond), Region(body))
    return [zero, loop], list(loop.finals)


def shape_of_type(typ: TensorType) -> tuple[int, ...]:
    return tuple(typ.get_shape())


def _cholesky_spd(x: SSAValue) -> Built:
    """cholesky(x x^T + 3 I): positive definite for the random inputs."""
    xt = array.TransposeOp(x, [1, 0])
    gram = array.MatmulOp(x, xt)
    eye = array.ConstantOp(numpy_to_dense(3 * np.eye(3, dtype=numpy_dtype(x.type.get_element_type()))))
    spd = array.AddOp(gram, eye)
    chol = array.CholeskyOp(spd)
    return [xt, gram, eye, spd, chol], [chol.result]


def _solve_shifted(a: SSAValue, b: SSAValue) -> Built:
    """solve(a + 8 I, b): nonsingular for the random inputs (a singular
    matrix gives inf or NaN, which of them is not pinned down)."""
    eye = array.ConstantOp(numpy_to_dense(np.broadcast_to(8 * np.eye(3), (2, 3, 3)).astype(
        numpy_dtype(a.type.get_element_type()))))
    shifted = array.AddOp(a, eye)
    x = array.SolveOp(shifted, b)
    return [eye, shifted, x], [x.result]


def _threefry(a: SSAValue, b: SSAValue) -> Built:
    """Threefry-2x32 of i32 words made from i64 values, key words and
    counters each from both arguments (so every pattern batches some)."""
    i32 = IntegerType(32)
    ca, cb = array.ConvertOp(a, i32), array.ConvertOp(b, i32)
    first = array.Threefry2x32Op("x0", ca, cb, cb, ca)
    mixed = array.Threefry2x32Op("xor", cb, ca, ca, cb)
    return [ca, cb, first, mixed], [first.result, mixed.result]


def _integer_ops(a: SSAValue, b: SSAValue) -> Built:
    """Every op on i64 values: arithmetic, division by counts that include
    0, bitwise ops and shifts (counts in and out of range), a comparison,
    a sum, a conversion and an argmax."""
    ops = [array.AddOp(a, b), array.MulOp(a, b), array.DivOp(a, b), array.FmodOp(a, b), array.MaxOp(a, b),
           array.AndOp(a, b), array.OrOp(a, b), array.XorOp(a, b), array.ShiftLeftOp(a, b),
           array.ShiftRightOp(a, b), array.InvertOp(a), array.NegOp(a), array.AbsOp(a),
           array.CompareOp("lt", a, b), array.ReduceSumOp(a, [1]), array.ConvertOp(a, F64), array.ArgMaxOp(b, 0)]
    return ops, [op.results[0] for op in ops]


def _near_range(i: SSAValue, build: Callable[[SSAValue], Operation]) -> Built:
    """`build` at indices i mod 5 (C's sign: in [-4, 4]), so most rows are
    in range of an axis of 3 or 4 and some are not."""
    five = array.ConstantOp(numpy_to_dense(np.full(shape_of(i), 5, np.int64)))
    j = array.FmodOp(i, five)
    op = build(j.result)
    return [five, j, op], [op.results[0]]


UNARY_RANKS = [(), (3,), (2, 3), (2, 3, 2)]
BINARY_RANKS = [(), (3,), (2, 3), (2, 1, 3)]

CASES = [
    *[
        Case(f"{op.name.split('.')[1]}_rank{k % 4}", op, (UNARY_RANKS[k % 4],))
        for k, op in enumerate(array.UNARY_OPS)
    ],
    *[Case(f"neg_rank{r}", array.NegOp, (s,)) for r, s in enumerate(UNARY_RANKS) if r != 0],
    *[
        Case(f"{op.name.split('.')[1]}_rank{len(s)}", op, (s, s))
        for k, op in enumerate(array.BINARY_OPS)
        for s in [BINARY_RANKS[k % 4]]
    ],
    Case("mul_rank3", array.MulOp, ((2, 1, 3), (2, 1, 3))),
    *[
        Case(f"compare_{p}", lambda a, b, p=p: array.CompareOp(p, a, b), ((2, 3), (2, 3)))
        for p in array.COMPARE_PREDICATES
    ],
    Case("compare_lt_rank0", lambda a, b: array.CompareOp("lt", a, b), ((), ())),
    Case("select", array.SelectOp, ((2, 3), (2, 3), (2, 3)), bool_inputs=(0,)),
    Case("select_rank0", array.SelectOp, ((), (), ()), bool_inputs=(0,)),
    Case("stop_gradient", lambda v: array.StopGradientOp(v), ((2, 3),)),
    Case("convert_float", _other_float, ((2, 3),)),
    Case("convert_to_bool", lambda v: array.ConvertOp(v, I1), ((3,),)),
    Case("convert_from_bool", lambda v: array.ConvertOp(v, F64), ((2, 2),), bool_inputs=(0,)),
    Case("broadcast_scalar", lambda x: array.BroadcastOp(x, [], [2, 3]), ((),)),
    Case("broadcast_row", lambda x: array.BroadcastOp(x, [1], [2, 3]), ((3,),)),
    Case("broadcast_expand", lambda x: array.BroadcastOp(x, [0, 2], [3, 2, 5]), ((3, 1),)),
    Case("broadcast_middle", lambda x: array.BroadcastOp(x, [0, 2], [2, 4, 3]), ((2, 3),)),
    Case("reshape_flatten", lambda x: array.ReshapeOp(x, [6]), ((2, 3),)),
    Case("reshape_scalar", lambda x: array.ReshapeOp(x, [1, 1]), ((),)),
    Case("reshape_3d", lambda x: array.ReshapeOp(x, [3, 4]), ((2, 3, 2),)),
    Case("transpose_2d", lambda x: array.TransposeOp(x, [1, 0]), ((2, 3),)),
    Case("transpose_3d", lambda x: array.TransposeOp(x, [2, 0, 1]), ((2, 3, 4),)),
    Case("slice_1d", lambda x: array.SliceOp(x, [1], [5], [2]), ((5,),)),
    Case("slice_2d", lambda x: array.SliceOp(x, [1, 0], [3, 5], [1, 2]), ((4, 5),)),
    Case("slice_3d", lambda x: array.SliceOp(x, [0, 1, 0], [2, 3, 4], [1, 1, 3]), ((2, 3, 4),)),
    Case("slice_rank0", lambda x: array.SliceOp(x, [], [], []), ((),)),
    Case("slice_reverse", lambda x: array.SliceOp(x, [3, 0], [-1, 5], [-2, 1]), ((4, 5),)),
    Case("gather", lambda x: array.GatherOp(x, [1], np.array([[2], [0], [2]])), ((2, 3),)),
    Case("gather_2axes", lambda x: array.GatherOp(x, [2, 0], np.array([[[1, 0], [0, 1]]])), ((2, 3, 2),)),
    Case("dynamic_gather_clip", lambda x, i: array.DynamicGatherOp(x, i, [1, 0], "clip"), ((3, 4), (2, 2)), int_inputs=(1,)),
    Case("dynamic_gather_fill", lambda x, i: _near_range(i, lambda j: array.DynamicGatherOp(x, j, [1, 0], "fill")),
         ((3, 4), (2, 2)), int_inputs=(1,)),
    Case("scatter_add_drop", lambda x, i, v: _near_range(i, lambda j: array.ScatterOp(x, j, v, [0], "add", "drop")),
         ((4, 3), (5, 1), (5, 3)), int_inputs=(1,)),
    Case("scatter_set_clip", lambda x, i, v: array.ScatterOp(x, i, v, [1], "set", "clip"), ((4, 3), (2, 2, 1), (2, 2, 4)),
         int_inputs=(1,)),
    Case("dynamic_slice", lambda x, i: array.DynamicSliceOp(x, [i, i], [2, 2]), ((4, 3), ())),
    Case("dynamic_update_slice", lambda x, u, i: array.DynamicUpdateSliceOp(x, u, [i, i]), ((4, 3), (2, 2), ())),
    Case("concatenate_axis0", lambda a, b: array.ConcatenateOp([a, b], 0), ((2, 3), (1, 3))),
    Case(
        "concatenate_axis1",
        lambda a, b, c: array.ConcatenateOp([a, b, c], 1),
        ((2, 1), (2, 3), (2, 2)),
    ),
    Case("concatenate_1d", lambda a, b: array.ConcatenateOp([a, b], 0), ((2,), (3,))),
    Case("concatenate_3d", lambda a, b: array.ConcatenateOp([a, b], 2), ((2, 1, 2), (2, 1, 1))),
    Case("mirror_batch_dims", array.MirrorOp, ((2, 3, 3),)),
    Case("matmul_2d", array.MatmulOp, ((3, 4), (4, 2))),
    Case("matmul_column", array.MatmulOp, ((3, 4), (4, 1))),
    Case("matmul_row", array.MatmulOp, ((1, 4), (4, 3))),
    Case("matmul_batch_dims", array.MatmulOp, ((2, 3, 4), (2, 4, 5))),
    Case("matmul_rank4", array.MatmulOp, ((2, 1, 3, 2), (2, 1, 2, 3))),
    Case("reduce_sum_to_scalar", lambda x: array.ReduceSumOp(x, [0]), ((4,),)),
    Case("reduce_sum_last", lambda x: array.ReduceSumOp(x, [1]), ((2, 3),)),
    Case("reduce_sum_02", lambda x: array.ReduceSumOp(x, [0, 2]), ((2, 3, 4),)),
    Case("reduce_sum_all", lambda x: array.ReduceSumOp(x, [0, 1]), ((2, 3),)),
    Case("reduce_max_first", lambda x: array.ReduceMaxOp(x, [0]), ((3, 4),)),
    Case("reduce_max_middle", lambda x: array.ReduceMaxOp(x, [1]), ((2, 3, 2),)),
    Case("constant", _plus_constant, ((2, 3),)),
    Case("tanh_of_square_times", _tanh_of_square_times, ((3, 3), (3, 3))),
    Case("mlp_layer", _mlp_layer, ((2, 3), (3, 4), (4,))),
    Case("where_positive", _where_positive, ((2, 3), (2, 3))),
    Case("scan", _scan, ((3,), (4, 3), (3,))),
    Case("switch", _switch, ((), (2, 3), (2, 3)), int_inputs=(0,)),
    Case("while", _while, ((3,), (3,))),
    Case("cholesky_spd", _cholesky_spd, ((3, 3),)),
    Case("triangular_solve", lambda a, b: array.TriangularSolveOp(a, b, lower=True, transpose_a=True), ((3, 3), (3, 2))),
    Case("solve_batch_dims", _solve_shifted, ((2, 3, 3), (2, 3, 1))),
    Case("slogdet", array.SlogdetOp, ((3, 3),)),
    Case("eigh", array.EighOp, ((2, 3, 3),)),
    Case("argmax_axis1", lambda x: array.ArgMaxOp(x, 1), ((2, 3),)),
    Case("argmax_rank1", lambda x: array.ArgMaxOp(x, 0), ((4,),)),
    Case("integer_ops", _integer_ops, ((2, 3), (2, 3)), int_inputs=(0, 1)),
    Case("threefry", _threefry, ((2, 3), (2, 3)), int_inputs=(0, 1)),
    Case("bool_bitwise", lambda a, b: array.XorOp(a, b), ((2, 3), (2, 3)), bool_inputs=(0, 1)),
]

CASE_BY_NAME = {c.name: c for c in CASES}


def batch_patterns(num_args: int) -> list[tuple[bool, ...]]:
    """Every subset of the arguments, the empty one included (then each
    result is computed once and broadcast)."""
    return list(itertools.product([True, False], repeat=num_args))


PARAMS = [
    pytest.param(case, pattern, id=f"{case.name}-{''.join('B' if b else 'u' for b in pattern)}")
    for case in CASES
    for pattern in batch_patterns(len(case.shapes))
]


def batched_case(case: Case, pattern: tuple[bool, ...], dtype) -> tuple[ModuleOp, list[np.ndarray]]:
    module, fn = make_module(case.build, case.in_types(dtype))
    batch_function(module, fn, pattern, SIZE, "f_batched")
    module.verify()
    rng = np.random.default_rng(zlib.crc32(f"{case.name}{pattern}{dtype}".encode()))
    return module, random_inputs(rng, case.in_types(dtype), pattern)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case,pattern", PARAMS)
def test_batched_equals_loop(case: Case, pattern, dtype):
    module, inputs = batched_case(case, pattern, dtype)
    got = run_function(module, "f_batched", *inputs)
    assert_same(got, loop_reference(module, inputs, pattern), "array interpreter")


COMPILED = [
    ("matmul_2d", (True, False), np.float64),
    ("matmul_2d", (False, True), np.float32),
    ("matmul_column", (False, True), np.float64),
    ("matmul_batch_dims", (True, False), np.float64),
    ("matmul_rank4", (False, True), np.float32),
    ("select", (False, True, False), np.float64),
    ("concatenate_axis1", (True, False, True), np.float32),
    ("broadcast_expand", (True,), np.float64),
    ("reduce_sum_02", (True,), np.float32),
    ("slice_3d", (True,), np.float64),
    ("gather_2axes", (True,), np.float32),
    ("dynamic_gather_fill", (True, True), np.float32),
    ("scatter_add_drop", (False, True, True), np.float64),
    ("scatter_set_clip", (True, True, False), np.float64),
    ("dynamic_update_slice", (True, False, True), np.float64),
    ("convert_from_bool", (True,), np.float32),
    ("mlp_layer", (True, False, False), np.float64),
    ("where_positive", (False, True), np.float32),
    ("scan", (True, False, True), np.float64),
    ("scan", (False, True, False), np.float32),
    ("switch", (True, True, False), np.float64),
    ("switch", (False, True, False), np.float32),
    ("while", (True, False), np.float64),
    ("while", (False, True), np.float32),
    ("solve_batch_dims", (False, True), np.float64),
    ("integer_ops", (True, False), np.float64),
    ("argmax_axis1", (True,), np.float32),
]


@pytest.mark.parametrize(
    "name,pattern,dtype",
    COMPILED,
    ids=[f"{n}-{''.join('B' if b else 'u' for b in p)}-{np.dtype(d).name}" for n, p, d in COMPILED],
)
def test_compiled_batched_equals_loop(name, pattern, dtype):
    module, inputs = batched_case(CASE_BY_NAME[name], pattern, dtype)
    expected = loop_reference(module, inputs, pattern)
    compiled = compile_module(module, "f_batched")
    assert_same(compiled(*inputs), expected, "compiled C")


def test_every_array_op_has_a_rule():
    # and the custom derivative ops, batched with their rules (tests/test_custom_derivatives.py)
    assert set(BATCH_RULES) == set(array.Array.operations) | set(autodiff.CUSTOM_OPS)


def test_every_array_op_is_covered_by_a_case():
    built: set[type] = set()
    for case in CASES:
        module, _ = make_module(case.build, case.in_types(np.float64))
        built.update(type(op) for op in module.walk() if op.dialect_name() == "array")
    assert built == set(array.Array.operations)


# ---------------------------------------------------------------------------
# What stays unbatched, and how matmul is batched
# ---------------------------------------------------------------------------


def ops_of(fn: func.FuncOp, kind: type[Operation]) -> list[Operation]:
    return [op for op in fn.body.block.ops if isinstance(op, kind)]


def test_unbatched_work_stays_unbatched():
    """f(x, w) = tanh(w @ w) * x over x: w @ w and tanh run once, on [3, 3]."""
    square = TensorType(F64, [3, 3])
    module, fn = make_module(_tanh_of_square_times, [square, square])
    new = batch_function(module, fn, [True, False], 5, "f_batched")
    (matmul,) = ops_of(new, array.MatmulOp)
    (tanh,) = ops_of(new, array.TanhOp)
    (mul,) = ops_of(new, array.MulOp)
    (broadcast,) = ops_of(new, array.BroadcastOp)
    assert shape_of(matmul.lhs) == shape_of(matmul.rhs) == shape_of(tanh.result) == (3, 3)
    assert broadcast.input is tanh.result
    assert shape_of(mul.result) == (5, 3, 3)


def test_vjp_style_forward_sweep_runs_once():
    """Batched over the cotangent only: everything computed from x alone is
    computed once; only the ops touching the cotangent get the batch dim."""
    typ = TensorType(F64, [4])

    def build(x, ct):
        e = array.ExpOp(x)
        s = array.SinOp(e)
        m = array.MulOp(s, ct)
        r = array.ReduceSumOp(m, [0])
        return [e, s, m, r], [r.result]

    module, fn = make_module(build, [typ, typ])
    new = batch_function(module, fn, [False, True], 6, "f_batched")
    shapes = {op.name: shape_of(op.results[0]) for op in new.body.block.ops if op.results}
    assert shapes == {
        "array.exp": (4,), "array.sin": (4,), "array.broadcast": (6, 4),
        "array.mul": (6, 4), "array.reduce_sum": (6,),
    }


def test_results_independent_of_batched_arguments_are_broadcast_at_the_end():
    module, fn = make_module(_mlp_layer, CASE_BY_NAME["mlp_layer"].in_types(np.float64))
    new = batch_function(module, fn, [True, False, False], SIZE, "f_batched")
    (norm,) = ops_of(new, array.ReduceSumOp)
    assert shape_of(norm.result) == ()
    ret = new.body.block.last_op
    assert isinstance(ret, func.ReturnOp)
    assert isinstance(ret.arguments[1].owner, array.BroadcastOp)
    assert ret.arguments[1].owner.input is norm.result
    assert [shape_of(v) for v in ret.arguments] == [(SIZE, 2, 4), (SIZE,)]


def test_matmul_batched_lhs_folds_into_rows():
    """x[s] @ w with w 2-D: one [S*m, k] x [k, n] matmul on w itself; no copy of w."""
    module, fn = make_module(array.MatmulOp, CASE_BY_NAME["matmul_2d"].in_types(np.float64))
    new = batch_function(module, fn, [True, False], 5, "f_batched")
    (matmul,) = ops_of(new, array.MatmulOp)
    assert matmul.rhs is new.args[1]
    assert shape_of(matmul.lhs) == (15, 4)
    assert not ops_of(new, array.BroadcastOp) and not ops_of(new, array.TransposeOp)


def test_matmul_batched_column_rhs_moves_no_batched_data():
    """w @ x[s] with x[s] a column: (x^T w^T)^T; the transposes of batched
    values are reshapes, only w is transposed, once."""
    module, fn = make_module(array.MatmulOp, CASE_BY_NAME["matmul_column"].in_types(np.float64))
    new = batch_function(module, fn, [False, True], 5, "f_batched")
    (matmul,) = ops_of(new, array.MatmulOp)
    (transpose,) = ops_of(new, array.TransposeOp)
    assert transpose.input is new.args[0]
    assert shape_of(matmul.lhs) == (5, 4) and shape_of(matmul.rhs) == (4, 3)
    assert not ops_of(new, array.BroadcastOp)


def test_matmul_both_batched_is_one_batched_matmul():
    module, fn = make_module(array.MatmulOp, CASE_BY_NAME["matmul_batch_dims"].in_types(np.float64))
    new = batch_function(module, fn, [True, True], 5, "f_batched")
    assert [op.name for op in new.body.block.ops] == ["array.matmul", "func.return"]


def test_new_function_is_private_right_after_fn_and_fn_is_unchanged():
    module, fn = make_module(_mlp_layer, CASE_BY_NAME["mlp_layer"].in_types(np.float64))
    other = func.FuncOp("g", ([], []), Region(Block([func.ReturnOp()])))
    module.body.block.add_op(other)
    before = str(fn)
    new = batch_function(module, fn, [True, False, True], SIZE, "f_batched")
    assert [op.sym_name.data for op in module.ops] == ["f", "f_batched", "g"]
    assert new.sym_visibility is not None and new.sym_visibility.data == "private"
    assert str(fn) == before
    assert [shape_of(a) for a in new.args] == [(SIZE, 2, 3), (3, 4), (SIZE, 4)]


def test_new_ops_carry_the_location_of_the_op_they_batch():
    module, fn = make_module(array.MatmulOp, CASE_BY_NAME["matmul_batch_dims"].in_types(np.float64))
    matmul = fn.body.block.first_op
    matmul.location = FileLineColLoc(StringAttr("model.py"), IntAttr(12), IntAttr(9))
    new = batch_function(module, fn, [False, True], SIZE, "f_batched")
    batched_ops = list(new.body.block.ops)[:-1]
    assert len(batched_ops) > 1
    assert all(op.location == matmul.location for op in batched_ops)


def test_batching_a_batched_function():
    """Batching composes: batch over x, then batch the result over w."""
    case = CASE_BY_NAME["mlp_layer"]
    module, fn = make_module(case.build, case.in_types(np.float64))
    inner = batch_function(module, fn, [True, False, False], SIZE, "f_x")
    batch_function(module, inner, [False, True, False], 2, "f_xw")
    rng = np.random.default_rng(1)
    x, w, bias = (rng.standard_normal((SIZE,) * (k == 0) + s) for k, s in enumerate(case.shapes))
    ws = rng.standard_normal((2, *w.shape))
    got = run_function(module, "f_xw", x, ws, bias)
    for t in range(2):
        for s in range(SIZE):
            want = run_function(module, "f", x[s], ws[t], bias)
            for g, e in zip(got, want):
                np.testing.assert_allclose(g[t, s], e, rtol=1e-13)


def test_batch_size_one():
    module, inputs = batched_case(CASE_BY_NAME["matmul_batch_dims"], (False, True), np.float64)
    fn = module.ops.first
    batch_function(module, fn, [True, False], 1, "f_one")
    x, w = inputs[0][None], inputs[1][0]
    (got,) = run_function(module, "f_one", x, w)
    np.testing.assert_allclose(got[0], np.matmul(x[0], w), rtol=1e-13)


# ---------------------------------------------------------------------------
# Random op chains
# ---------------------------------------------------------------------------

SHAPES = [(), (3,), (2, 3), (3, 2), (2, 2, 3)]
UNARY = [array.NegOp, array.TanhOp, array.SinOp, array.CosOp, array.AbsOp]
BINARY = [array.AddOp, array.SubOp, array.MulOp, array.MaxOp, array.MinOp]


@st.composite
def programs(draw):
    """A function of 1-3 inputs built from 2-8 drawn ops; returns the
    module, its function, and the argument types."""
    in_shapes = draw(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3))
    in_types = [TensorType(F64, list(s)) for s in in_shapes]
    block = Block(arg_types=in_types)
    values: list[SSAValue] = list(block.args)

    def add(*ops: Operation) -> None:
        block.add_ops(ops)
        values.append(ops[-1].results[0])

    for _ in range(draw(st.integers(2, 8))):
        v = draw(st.sampled_from(values))
        shape = shape_of(v)
        same = [w for w in values if shape_of(w) == shape]
        kind = draw(st.sampled_from([
            "unary", "exp", "binary", "select", "convert", "constant", "transpose",
            "reduce", "broadcast", "reshape", "slice", "concatenate", "matmul",
        ]))
        if kind == "unary":
            add(draw(st.sampled_from(UNARY))(v))
        elif kind == "exp":
            t = array.TanhOp(v)
            add(t, array.ExpOp(t))
        elif kind == "binary":
            add(draw(st.sampled_from(BINARY))(v, draw(st.sampled_from(same))))
        elif kind == "select":
            w = draw(st.sampled_from(same))
            c = array.CompareOp(draw(st.sampled_from(array.COMPARE_PREDICATES)), v, w)
            add(c, array.SelectOp(c, v, w))
        elif kind == "convert":
            c = array.CompareOp("gt", v, draw(st.sampled_from(same)))
            add(c, array.ConvertOp(c, F64))
        elif kind == "constant":
            values_ = [0.5 - 0.25 * k for k in range(prod(shape))]
            const = array.ConstantOp(DenseIntOrFPElementsAttr.from_list(v.type, values_))
            add(const, array.MulOp(v, const.result))
        elif kind == "transpose" and len(shape) >= 2:
            add(array.TransposeOp(v, draw(st.permutations(range(len(shape))))))
        elif kind == "reduce" and shape:
            axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
            add(draw(st.sampled_from(array.REDUCE_OPS))(v, sorted(axes)))
        elif kind == "broadcast" and len(shape) <= 2:
            new_axis = draw(st.integers(0, len(shape)))
            dims = [d if d < new_axis else d + 1 for d in range(len(shape))]
            out = list(shape)
            out.insert(new_axis, 2)
            add(array.BroadcastOp(v, dims, out))
        elif kind == "reshape":
            add(array.ReshapeOp(v, [prod(shape)] if len(shape) != 1 else [1, *shape]))
        elif kind == "slice" and shape:
            starts = [draw(st.integers(0, n - 1)) for n in shape]
            strides = [draw(st.integers(1, 2)) for _ in shape]
            add(array.SliceOp(v, starts, list(shape), strides))
        elif kind == "concatenate" and shape:
            axis = draw(st.integers(0, len(shape) - 1))
            add(array.ConcatenateOp([v, draw(st.sampled_from(same))], axis))
        elif kind == "matmul" and len(shape) >= 2:
            rank = len(shape)
            swap = [*range(rank - 2), rank - 1, rank - 2]
            w = draw(st.sampled_from(same))
            t = array.TransposeOp(w, swap)
            add(t, array.MatmulOp(v, t) if draw(st.booleans()) else array.MatmulOp(t, v))
    results = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))
    block.add_op(func.ReturnOp(*results))
    fn = func.FuncOp("f", (in_types, [r.type for r in results]), Region(block))
    module = ModuleOp([fn])
    module.verify()
    return module, fn, in_types


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.data())
def test_random_programs_batched_equal_loop(program, data):
    module, fn, in_types = program
    n = len(in_types)
    pattern = tuple(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    batch_function(module, fn, pattern, SIZE, "f_batched")
    module.verify()
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    inputs = [
        rng.uniform(-2, 2, ((SIZE,) if bat else ()) + tuple(t.get_shape()))
        for t, bat in zip(in_types, pattern)
    ]
    got = run_function(module, "f_batched", *inputs)
    assert_same(got, loop_reference(module, inputs, pattern), "array interpreter")


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

VEC = TensorType(F64, [3])


def test_calls_are_refused_naming_the_callee():
    module, _ = make_module(array.NegOp, [VEC])
    block = Block(arg_types=[VEC])
    call = func.CallOp("f", [block.args[0]], [VEC])
    block.add_ops([call, func.ReturnOp(call)])
    caller = func.FuncOp("g", ([VEC], [VEC]), Region(block))
    module.body.block.add_op(caller)
    with pytest.raises(PassFailedException, match=r"'func\.call'.*inline") as err:
        batch_function(module, caller, [True], SIZE, "g_batched")
    assert "@f" in str(err.value)
    assert [op.sym_name.data for op in module.ops] == ["f", "g"]


def test_unknown_op_is_refused_naming_it():
    block = Block(arg_types=[VEC])
    block.add_ops([arith.ConstantOp(FloatAttr(1.0, F64)), func.ReturnOp(block.args[0])])
    fn = func.FuncOp("f", ([VEC], [VEC]), Region(block))
    module = ModuleOp([fn])
    with pytest.raises(PassFailedException, match=r"no batching rule for 'arith\.constant'"):
        batch_function(module, fn, [True], SIZE, "f_batched")


def test_non_tensor_arguments_are_refused():
    block = Block(arg_types=[F64])
    block.add_op(func.ReturnOp(block.args[0]))
    fn = func.FuncOp("f", ([F64], [F64]), Region(block))
    with pytest.raises(PassFailedException, match="must be tensors"):
        batch_function(ModuleOp([fn]), fn, [True], SIZE, "f_batched")


@pytest.mark.parametrize(
    "batched,size,name,message",
    [
        ([True, False], SIZE, "f_batched", "takes 1 arguments but batched has 2"),
        ([True], 0, "f_batched", "size must be a positive integer"),
        ([True], SIZE, "f", "already has a symbol @f"),
    ],
    ids=["pattern-length", "size", "name-clash"],
)
def test_bad_requests_are_value_errors(batched, size, name, message):
    module, fn = make_module(array.NegOp, [VEC])
    with pytest.raises(ValueError, match=message):
        batch_function(module, fn, batched, size, name)


def test_function_outside_the_module_is_refused():
    module, _ = make_module(array.NegOp, [VEC])
    _, stray = make_module(array.NegOp, [VEC])
    with pytest.raises(ValueError, match="not a function of the given module"):
        batch_function(module, stray, [True], SIZE, "f_batched")
