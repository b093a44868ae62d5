"""lower-array-to-loops: each array op, lowered, computes what the array level
computes (and what NumPy computes); elementwise chains fuse into one loop nest;
random op chains keep their meaning."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func
from xdsl.dialects import math as xmath
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, Float64Type, ModuleOp, TensorType
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array, loops
from gradc.interpreter import run_function
from gradc.passes.lower_array_to_loops import LowerArrayToLoops


def make_context() -> Context:
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, arith.Arith, xmath.Math, array.Array, loops.Loops):
        ctx.load_dialect(dialect)
    return ctx


CTX = make_context()
RNG_SEED = 1234


def ty(shape: Sequence[int], dtype: str) -> str:
    return "tensor<" + "".join(f"{n}x" for n in shape) + dtype + ">"


def np_dtype(dtype: str) -> type:
    return {"f32": np.float32, "f64": np.float64, "i1": np.bool_}[dtype]


def function(params: Sequence[tuple[str, str]], body: str, results: Sequence[tuple[str, str]]) -> str:
    """`func.func @f` from (name, type) params, body lines and (name, type) results."""
    args = ", ".join(f"%{n}: {t}" for n, t in params)
    outs = ", ".join(t for _, t in results)
    ret = ", ".join(f"%{n}" for n, _ in results)
    return (
        f"func.func @f({args}) -> ({outs}) {{\n{body}\n"
        f"  func.return {ret} : {outs}\n}}"
    )


def parse(src: str) -> ModuleOp:
    module = Parser(CTX, src).parse_module()
    module.verify()
    return module


def lower(module: ModuleOp, **options: int) -> ModuleOp:
    lowered = module.clone()
    LowerArrayToLoops(**options).apply(CTX, lowered)
    lowered.verify()
    return lowered


def assert_close(got: np.ndarray, want: np.ndarray, sums: bool = False) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype == np.bool_:
        np.testing.assert_array_equal(got, want)
    elif got.dtype == np.float64:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 if sums else 0, equal_nan=True)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5 if sums else 0, equal_nan=True)


def check(src: str, inputs: Sequence[np.ndarray], expected: Sequence[np.ndarray], sums: bool = False) -> ModuleOp:
    """Lower `src`; the array level, the loops level and NumPy must agree."""
    module = parse(src)
    lowered = lower(module)
    with np.errstate(all="ignore"):
        before = run_function(module, "f", *inputs)
        after = run_function(lowered, "f", *inputs)
    assert len(after) == len(before) == len(expected)
    for a, b, e in zip(after, before, expected, strict=True):
        assert_close(a, b, sums)
        assert_close(a, np.asarray(e, dtype=b.dtype), sums)
    return lowered


def rand(shape: Sequence[int], dtype: str, low: float = -2.0, high: float = 2.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED + seed)
    return np.asarray(rng.uniform(low, high, size=tuple(shape)), dtype=np_dtype(dtype))


def ops_named(module: Operation, cls: type[Operation]) -> list[Operation]:
    return [op for op in module.walk() if isinstance(op, cls)]


def loop_nests(module: ModuleOp) -> list[loops.ForOp]:
    """Outermost loops: one per loop nest."""
    return [op for op in ops_named(module, loops.ForOp) if not isinstance(op.parent_op(), loops.ForOp)]


DTYPES = ("f32", "f64")
SHAPES = ((), (3,), (2, 3, 2))

# ---------------------------------------------------------------------------
# Elementwise
# ---------------------------------------------------------------------------

UNARY = {
    "neg": np.negative, "exp": np.exp, "log": np.log, "tanh": np.tanh,
    "sin": np.sin, "cos": np.cos, "sqrt": np.sqrt, "abs": np.abs,
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name: str, dtype: str, shape: tuple[int, ...]) -> None:
    t = ty(shape, dtype)
    x = rand(shape, dtype, 0.1, 2.0) if name in ("log", "sqrt") else rand(shape, dtype)
    src = function([("x", t)], f"  %r = array.{name} %x : {t}", [("r", t)])
    check(src, [x], [UNARY[name](x)])


BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "max": np.maximum, "min": np.minimum, "pow": np.power,
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", BINARY)
def test_binary(name: str, dtype: str, shape: tuple[int, ...]) -> None:
    t = ty(shape, dtype)
    x = rand(shape, dtype, 0.1, 2.0) if name == "pow" else rand(shape, dtype)
    y = rand(shape, dtype, seed=1)
    src = function([("x", t), ("y", t)], f"  %r = array.{name} %x, %y : {t}", [("r", t)])
    check(src, [x, y], [BINARY[name](x, y)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_min_propagate_nan(dtype: str) -> None:
    t = ty((4,), dtype)
    x = np.array([np.nan, 1.0, np.nan, 2.0], dtype=np_dtype(dtype))
    y = np.array([0.0, np.nan, np.nan, 3.0], dtype=np_dtype(dtype))
    body = f"  %a = array.max %x, %y : {t}\n  %b = array.min %x, %y : {t}"
    check(function([("x", t), ("y", t)], body, [("a", t), ("b", t)]), [x, y],
          [np.maximum(x, y), np.minimum(x, y)])


COMPARE = {
    "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("predicate", COMPARE)
def test_compare_with_nan(predicate: str, dtype: str) -> None:
    t, b = ty((2, 3), dtype), ty((2, 3), "i1")
    x = np.array([[1.0, 2.0, np.nan], [3.0, np.nan, -1.0]], dtype=np_dtype(dtype))
    y = np.array([[1.0, 1.0, 0.0], [4.0, np.nan, -1.0]], dtype=np_dtype(dtype))
    src = function([("x", t), ("y", t)], f"  %r = array.compare {predicate} %x, %y : {t}", [("r", b)])
    check(src, [x, y], [COMPARE[predicate](x, y)])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_select(dtype: str, shape: tuple[int, ...]) -> None:
    t, b = ty(shape, dtype), ty(shape, "i1")
    x, y = rand(shape, dtype), rand(shape, dtype, seed=1)
    body = f"  %c = array.compare lt %x, %y : {t}\n  %r = array.select %c, %x, %y : {b}, {t}"
    check(function([("x", t), ("y", t)], body, [("r", t)]), [x, y], [np.where(x < y, x, y)])


@pytest.mark.parametrize(("source", "target"), [("f32", "f64"), ("f64", "f32"), ("f32", "i1"), ("f64", "i1")])
def test_convert(source: str, target: str) -> None:
    x = np.array([[0.0, -0.0, 1.5], [np.nan, -2.25, 1e-30]], dtype=np_dtype(source))
    src = function([("x", ty((2, 3), source))],
                   f"  %r = array.convert %x : {ty((2, 3), source)} -> {ty((2, 3), target)}",
                   [("r", ty((2, 3), target))])
    want = (x != 0) if target == "i1" else x.astype(np_dtype(target))
    check(src, [x], [want])


@pytest.mark.parametrize("dtype", DTYPES)
def test_convert_bool_to_float(dtype: str) -> None:
    t, b = ty((5,), dtype), ty((5,), "i1")
    x = rand((5,), dtype)
    body = (f"  %c = array.compare gt %x, %x0 : {t}\n"
            f"  %r = array.convert %c : {b} -> {t}")
    zero = np.zeros(5, dtype=np_dtype(dtype))
    check(function([("x", t), ("x0", t)], body, [("r", t)]), [x, zero], [(x > 0).astype(np_dtype(dtype))])


@pytest.mark.parametrize("dtype", ("f32", "f64", "i1"))
def test_splat_constants(dtype: str) -> None:
    t = ty((2, 2), dtype)
    value = "true" if dtype == "i1" else "2.5"
    body = f"  %c = array.constant dense<{value}> : {t}"
    want = np.full((2, 2), True if dtype == "i1" else 2.5, dtype=np_dtype(dtype))
    lowered = check(function([], body, [("c", t)]), [], [want])
    assert not ops_named(lowered, loops.ConstantOp)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_constant_is_a_constant_buffer(dtype: str) -> None:
    t = ty((2, 2), dtype)
    x = rand((2, 2), dtype)
    body = (f"  %c = array.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : {t}\n"
            f"  %r = array.mul %x, %c : {t}")
    c = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np_dtype(dtype))
    lowered = check(function([("x", t)], body, [("r", t), ("c", t)]), [x], [x * c, c])
    assert len(ops_named(lowered, loops.ConstantOp)) == 1


# ---------------------------------------------------------------------------
# Shape ops
# ---------------------------------------------------------------------------

BROADCASTS = [  # (input shape, dims, result shape)
    ((3,), (1,), (2, 3)),
    ((2,), (0,), (2, 3)),
    ((1, 3), (0, 1), (4, 3)),
    ((), (), (2, 2)),
    ((2, 1, 3), (0, 1, 2), (2, 2, 3)),
    ((1,), (1,), (2, 3, 2)),
    ((3,), (0,), (3, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("in_shape", "dims", "out_shape"), BROADCASTS)
def test_broadcast(in_shape: tuple, dims: tuple, out_shape: tuple, dtype: str) -> None:
    x = rand(in_shape, dtype)
    src = function(
        [("x", ty(in_shape, dtype))],
        f"  %r = array.broadcast %x dims {list(dims)} : {ty(in_shape, dtype)} -> {ty(out_shape, dtype)}",
        [("r", ty(out_shape, dtype))],
    )
    aligned = [1] * len(out_shape)
    for k, d in enumerate(dims):
        aligned[d] = in_shape[k]
    check(src, [x], [np.broadcast_to(x.reshape(aligned), out_shape)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("in_shape", "out_shape"), [((2, 3), (6,)), ((6,), (3, 2)), ((1,), ()), ((2, 3, 2), (4, 3))])
def test_reshape_of_computed_value_is_a_view_of_the_output(in_shape: tuple, out_shape: tuple, dtype: str) -> None:
    tin, tout = ty(in_shape, dtype), ty(out_shape, dtype)
    x = rand(in_shape, dtype)
    body = f"  %e = array.exp %x : {tin}\n  %r = array.reshape %e : {tin} -> {tout}"
    lowered = check(function([("x", tin)], body, [("r", tout)]), [x], [np.exp(x).reshape(out_shape)])
    assert not ops_named(lowered, loops.AllocOp)
    assert len(loop_nests(lowered)) <= 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_of_input_is_copied_to_the_output(dtype: str) -> None:
    x = rand((2, 3), dtype)
    body = f"  %r = array.reshape %x : {ty((2, 3), dtype)} -> {ty((3, 2), dtype)}"
    lowered = check(function([("x", ty((2, 3), dtype))], body, [("r", ty((3, 2), dtype))]), [x], [x.reshape(3, 2)])
    assert len(ops_named(lowered, loops.ReshapeOp)) == 1


def test_reshape_feeding_elementwise_reads_a_view() -> None:
    x = rand((2, 3), "f64")
    body = (f"  %e = array.exp %x : {ty((2, 3), 'f64')}\n"
            f"  %r = array.reshape %e : {ty((2, 3), 'f64')} -> {ty((6,), 'f64')}\n"
            f"  %s = array.sin %r : {ty((6,), 'f64')}")
    lowered = check(function([("x", ty((2, 3), "f64"))], body, [("s", ty((6,), "f64"))]), [x],
                    [np.sin(np.exp(x).reshape(6))])
    assert len(ops_named(lowered, loops.AllocOp)) == 1
    assert len(ops_named(lowered, loops.ReshapeOp)) == 1


TRANSPOSES = [((2, 3), (1, 0)), ((2, 3, 2), (2, 0, 1)), ((2, 3, 2), (1, 0, 2)), ((3,), (0,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "perm"), TRANSPOSES)
def test_transpose(shape: tuple, perm: tuple, dtype: str) -> None:
    x = rand(shape, dtype)
    out = tuple(shape[p] for p in perm)
    src = function([("x", ty(shape, dtype))],
                   f"  %r = array.transpose %x perm {list(perm)} : {ty(shape, dtype)} -> {ty(out, dtype)}",
                   [("r", ty(out, dtype))])
    check(src, [x], [np.transpose(x, perm)])


SLICES = [  # (shape, [(start, limit, stride)])
    ((5, 6), [(1, 4, 1), (0, 6, 2)]),
    ((7,), [(1, 7, 3)]),
    ((3, 4, 5), [(0, 3, 2), (1, 3, 1), (4, 5, 1)]),
    ((4,), [(2, 2, 1)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "bounds"), SLICES)
def test_slice(shape: tuple, bounds: list, dtype: str) -> None:
    x = rand(shape, dtype)
    want = x[tuple(slice(*b) for b in bounds)]
    ranges = ", ".join(f"{s}:{l}:{st}" for s, l, st in bounds)
    src = function([("x", ty(shape, dtype))],
                   f"  %r = array.slice %x [{ranges}] : {ty(shape, dtype)} -> {ty(want.shape, dtype)}",
                   [("r", ty(want.shape, dtype))])
    check(src, [x], [want])


def test_slice_of_inline_producer_computes_only_the_slice() -> None:
    t = ty((6,), "f64")
    x = rand((6,), "f64")
    body = f"  %e = array.exp %x : {t}\n  %r = array.slice %e [1:6:2] : {t} -> {ty((3,), 'f64')}"
    lowered = check(function([("x", t)], body, [("r", ty((3,), "f64"))]), [x], [np.exp(x)[1:6:2]])
    assert not ops_named(lowered, loops.AllocOp)
    (loop,) = loop_nests(lowered)
    assert loop.upper.data == 3
    # index math folds into one multiply and one add
    assert len(ops_named(lowered, arith.MuliOp)) == 1 and len(ops_named(lowered, arith.AddiOp)) == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", (0, 1, 2))
def test_concatenate(axis: int, dtype: str) -> None:
    a_shape, b_shape = [2, 2, 2], [2, 2, 2]
    b_shape[axis] = 1
    ta, tb = ty(a_shape, dtype), ty(b_shape, dtype)
    out = list(a_shape)
    out[axis] = a_shape[axis] + 2 * b_shape[axis]
    x, y = rand(a_shape, dtype), rand(b_shape, dtype, seed=1)
    body = (f"  %e = array.exp %y : {tb}\n"
            f"  %r = array.concatenate axis {axis} %x, %e, %y : {ta}, {tb}, {tb} -> {ty(out, dtype)}")
    lowered = check(function([("x", ta), ("y", tb)], body, [("r", ty(out, dtype))]), [x, y],
                    [np.concatenate([x, np.exp(y), y], axis=axis)])
    assert not ops_named(lowered, loops.AllocOp)  # exp(y) is computed inline
    assert len(loop_nests(lowered)) == 3


# ---------------------------------------------------------------------------
# Contractions and reductions
# ---------------------------------------------------------------------------

MATMULS = [((3, 4), (4, 2)), ((1, 3), (3, 1)), ((2, 2, 3), (2, 3, 2)), ((2, 1, 2, 3), (2, 1, 3, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("a_shape", "b_shape"), MATMULS)
def test_matmul(a_shape: tuple, b_shape: tuple, dtype: str) -> None:
    x, y = rand(a_shape, dtype), rand(b_shape, dtype, seed=1)
    want = np.matmul(x, y)
    src = function([("x", ty(a_shape, dtype)), ("y", ty(b_shape, dtype))],
                   f"  %r = array.matmul %x, %y : {ty(a_shape, dtype)}, {ty(b_shape, dtype)} -> {ty(want.shape, dtype)}",
                   [("r", ty(want.shape, dtype))])
    check(src, [x, y], [want], sums=True)


def test_matmul_is_one_structured_op() -> None:
    """No loops of its own: tile-matmul or lower-loops-to-c expand it."""
    src = function([("x", ty((3, 4), "f64")), ("y", ty((4, 5), "f64"))],
                   f"  %r = array.matmul %x, %y : {ty((3, 4), 'f64')}, {ty((4, 5), 'f64')} -> {ty((3, 5), 'f64')}",
                   [("r", ty((3, 5), "f64"))])
    lowered = lower(parse(src))
    (matmul,) = ops_named(lowered, loops.MatmulOp)
    fn = lowered.body.block.first_op
    assert list(matmul.operands) == list(fn.args)  # x, y, straight into the output
    assert not ops_named(lowered, loops.ForOp)
    assert matmul.transpose_a is matmul.transpose_b is matmul.accumulate is None


def test_matmul_reads_transposed_operand_without_copy() -> None:
    t = ty((3, 2), "f64")
    x, y = rand((3, 2), "f64"), rand((3, 2), "f64", seed=1)
    body = (f"  %xt = array.transpose %x perm [1, 0] : {t} -> {ty((2, 3), 'f64')}\n"
            f"  %r = array.matmul %xt, %y : {ty((2, 3), 'f64')}, {t} -> {ty((2, 2), 'f64')}")
    lowered = check(function([("x", t), ("y", t)], body, [("r", ty((2, 2), "f64"))]), [x, y], [x.T @ y], sums=True)
    assert not ops_named(lowered, loops.AllocOp)
    (matmul,) = ops_named(lowered, loops.MatmulOp)
    assert matmul.transpose_a is not None and matmul.transpose_b is None


def test_matmul_copies_other_remaps_of_its_operands() -> None:
    """A broadcast operand is copied once into a temporary the matmul reads."""
    x, y = rand((4,), "f64"), rand((4, 3), "f64", seed=1)
    body = (f"  %xb = array.broadcast %x dims [1] : {ty((4,), 'f64')} -> {ty((2, 4), 'f64')}\n"
            f"  %r = array.matmul %xb, %y : {ty((2, 4), 'f64')}, {ty((4, 3), 'f64')} -> {ty((2, 3), 'f64')}")
    lowered = check(function([("x", ty((4,), "f64")), ("y", ty((4, 3), "f64"))], body, [("r", ty((2, 3), "f64"))]),
                    [x, y], [np.broadcast_to(x, (2, 4)) @ y], sums=True)
    (alloc,) = ops_named(lowered, loops.AllocOp)
    assert alloc.result.type.get_shape() == (2, 4)


def test_matmul_operand_computed_once() -> None:
    t = ty((2, 3), "f64")
    x, y = rand((2, 3), "f64"), rand((3, 2), "f64", seed=1)
    body = (f"  %e = array.exp %x : {t}\n"
            f"  %r = array.matmul %e, %y : {t}, {ty((3, 2), 'f64')} -> {ty((2, 2), 'f64')}")
    lowered = check(function([("x", t), ("y", ty((3, 2), "f64"))], body, [("r", ty((2, 2), "f64"))]),
                    [x, y], [np.exp(x) @ y], sums=True)
    (alloc,) = ops_named(lowered, loops.AllocOp)
    assert alloc.result.type.get_shape() == (2, 3)


REDUCTIONS = [((2, 3, 2), (0,)), ((2, 3, 2), (1,)), ((2, 3, 2), (2,)), ((2, 3, 2), (0, 1, 2)),
              ((2, 3, 2), (0, 2)), ((4,), (0,)), ((3, 1), (1,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "axes"), REDUCTIONS)
@pytest.mark.parametrize("kind", ("reduce_sum", "reduce_max"))
def test_reduce(kind: str, shape: tuple, axes: tuple, dtype: str) -> None:
    x = rand(shape, dtype)
    want = (np.sum if kind == "reduce_sum" else np.max)(x, axis=axes)
    src = function([("x", ty(shape, dtype))],
                   f"  %r = array.{kind} %x axes {list(axes)} : {ty(shape, dtype)} -> {ty(want.shape, dtype)}",
                   [("r", ty(want.shape, dtype))])
    check(src, [x], [want], sums=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduce_max_propagates_nan_and_handles_minus_infinity(dtype: str) -> None:
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, -np.inf, -np.inf]], dtype=np_dtype(dtype))
    src = function([("x", ty((2, 3), dtype))],
                   f"  %r = array.reduce_max %x axes [1] : {ty((2, 3), dtype)} -> {ty((2,), dtype)}",
                   [("r", ty((2,), dtype))])
    check(src, [x], [np.max(x, axis=1)])


def test_reduction_of_transpose_walks_memory_in_order() -> None:
    t = ty((2, 3), "f64")
    x = rand((2, 3), "f64")
    body = (f"  %xt = array.transpose %x perm [1, 0] : {t} -> {ty((3, 2), 'f64')}\n"
            f"  %r = array.reduce_sum %xt axes [1] : {ty((3, 2), 'f64')} -> {ty((3,), 'f64')}")
    lowered = check(function([("x", t)], body, [("r", ty((3,), "f64"))]), [x], [x.sum(axis=0)], sums=True)
    init, outer = loop_nests(lowered)
    (inner,) = [op for op in outer.body.block.ops if isinstance(op, loops.ForOp)]
    (load_x,) = [op for op in ops_named(inner, loops.LoadOp) if op.memref.name_hint == "x"]
    assert load_x.indices[-1] is inner.induction_var


# ---------------------------------------------------------------------------
# Fusion
# ---------------------------------------------------------------------------


def test_elementwise_chain_is_one_loop_nest_without_temporaries() -> None:
    t = ty((4, 8), "f32")
    a, b, c = (rand((4, 8), "f32", seed=s) for s in range(3))
    body = (f"  %m = array.mul %a, %b : {t}\n"
            f"  %s = array.add %m, %c : {t}\n"
            f"  %r = array.tanh %s : {t}")
    lowered = check(function([("a", t), ("b", t), ("c", t)], body, [("r", t)]), [a, b, c], [np.tanh(a * b + c)])
    assert len(loop_nests(lowered)) == 1
    assert not ops_named(lowered, loops.AllocOp)
    assert len(ops_named(lowered, loops.StoreOp)) == 1


def test_value_used_twice_is_materialized_once() -> None:
    t = ty((3, 2), "f64")
    x, y = rand((3, 2), "f64"), rand((3, 2), "f64", seed=1)
    body = (f"  %e = array.exp %x : {t}\n"
            f"  %p = array.add %e, %y : {t}\n"
            f"  %q = array.mul %e, %y : {t}")
    lowered = check(function([("x", t), ("y", t)], body, [("p", t), ("q", t)]), [x, y],
                    [np.exp(x) + y, np.exp(x) * y])
    assert len(ops_named(lowered, loops.AllocOp)) == 1
    assert len(ops_named(lowered, xmath.ExpOp)) == 1


def test_square_of_inline_value_computes_it_once() -> None:
    t = ty((3,), "f64")
    x = rand((3,), "f64")
    body = f"  %e = array.exp %x : {t}\n  %r = array.mul %e, %e : {t}"
    lowered = check(function([("x", t)], body, [("r", t)]), [x], [np.exp(x) ** 2])
    assert not ops_named(lowered, loops.AllocOp)
    assert len(ops_named(lowered, xmath.ExpOp)) == 1


def test_reduction_of_elementwise_chain_has_no_temporary() -> None:
    t = ty((3, 4), "f32")
    x, y = rand((3, 4), "f32"), rand((3, 4), "f32", seed=1)
    body = (f"  %m = array.mul %x, %y : {t}\n"
            f"  %e = array.tanh %m : {t}\n"
            f"  %r = array.reduce_sum %e axes [0, 1] : {t} -> {ty((), 'f32')}")
    lowered = check(function([("x", t), ("y", t)], body, [("r", ty((), "f32"))]), [x, y],
                    [np.sum(np.tanh(x * y))], sums=True)
    assert not ops_named(lowered, loops.AllocOp)


def test_broadcast_of_exp_materializes_exp_once_at_small_size() -> None:
    small, big = ty((4,), "f64"), ty((3, 4), "f64")
    x, y = rand((4,), "f64"), rand((3, 4), "f64", seed=1)
    body = (f"  %e = array.exp %x : {small}\n"
            f"  %b = array.broadcast %e dims [1] : {small} -> {big}\n"
            f"  %r = array.add %b, %y : {big}")
    lowered = check(function([("x", small), ("y", big)], body, [("r", big)]), [x, y], [np.exp(x) + y])
    (alloc,) = ops_named(lowered, loops.AllocOp)
    assert alloc.result.type.get_shape() == (4,)
    assert len(ops_named(lowered, xmath.ExpOp)) == 1


def test_free_remaps_of_a_buffer_are_loads_in_every_user() -> None:
    t = ty((2, 3), "f64")
    x, y = rand((2, 3), "f64"), rand((3, 2), "f64", seed=1)
    body = (f"  %xt = array.transpose %x perm [1, 0] : {t} -> {ty((3, 2), 'f64')}\n"
            f"  %p = array.add %xt, %y : {ty((3, 2), 'f64')}\n"
            f"  %q = array.sub %xt, %y : {ty((3, 2), 'f64')}")
    lowered = check(function([("x", t), ("y", ty((3, 2), "f64"))], body,
                             [("p", ty((3, 2), "f64")), ("q", ty((3, 2), "f64"))]),
                    [x, y], [x.T + y, x.T - y])
    assert not ops_named(lowered, loops.AllocOp)


def test_long_chains_are_cut_into_bounded_loop_bodies() -> None:
    t = ty((2,), "f64")
    x = rand((2,), "f64")
    lines = [f"  %v0 = array.sin %x : {t}"]
    lines += [f"  %v{k} = array.sin %v{k - 1} : {t}" for k in range(1, 200)]
    want = x
    for _ in range(200):
        want = np.sin(want)
    lowered = check(function([("x", t)], "\n".join(lines), [("v199", t)]), [x], [want])
    assert 2 <= len(ops_named(lowered, loops.AllocOp)) <= 4


def test_nan_and_negative_zero_splats() -> None:
    t = ty((2,), "f64")
    nan = array.ConstantOp(DenseIntOrFPElementsAttr.from_list(TensorType(Float64Type(), [2]), [np.nan, np.nan]))
    src = function([], f"  %z = array.constant dense<-0.0> : {t}\n  %p = array.constant dense<0.0> : {t}",
                   [("z", t), ("z", t), ("p", t)])
    module = parse(src)
    fn = ops_named(module, func.FuncOp)[0]
    fn.body.block.insert_op_before(nan, fn.body.block.first_op)
    ret = fn.body.block.last_op
    ret.operands = [nan.result, *ret.operands[1:]]
    lowered = lower(module)
    n, z, p = run_function(lowered, "f")
    assert np.isnan(n).all()
    assert np.signbit(z).all() and not np.signbit(p).any()
    assert not ops_named(lowered, loops.ConstantOp)


# ---------------------------------------------------------------------------
# Results, options, errors
# ---------------------------------------------------------------------------


def test_value_returned_twice_and_input_returned() -> None:
    t = ty((2, 2), "f64")
    x = rand((2, 2), "f64")
    body = f"  %e = array.exp %x : {t}"
    lowered = check(function([("x", t)], body, [("e", t), ("e", t), ("x", t)]), [x], [np.exp(x), np.exp(x), x])
    fn = ops_named(lowered, func.FuncOp)[0]
    assert fn.attributes[loops.NUM_INPUTS_ATTR].value.data == 1
    assert len(fn.function_type.inputs.data) == 4 and not fn.function_type.outputs.data
    assert not ops_named(lowered, loops.AllocOp)
    assert len(ops_named(lowered, xmath.ExpOp)) == 1


def test_rank0_function() -> None:
    t = ty((), "f32")
    x, y = rand((), "f32"), rand((), "f32", seed=1)
    body = f"  %s = array.add %x, %y : {t}\n  %r = array.sqrt %s : {t}"
    lowered = check(function([("x", t), ("y", t)], body, [("r", t), ("s", t)]), [x, y],
                    [np.sqrt(x + y), x + y])
    assert not ops_named(lowered, loops.ForOp)


def test_stack_threshold_places_small_temporaries_on_the_stack() -> None:
    small, big = ty((4,), "f64"), ty((3, 4), "f64")
    body = (f"  %e = array.exp %x : {small}\n"
            f"  %b = array.broadcast %e dims [1] : {small} -> {big}\n"
            f"  %r = array.add %b, %y : {big}")
    module = parse(function([("x", small), ("y", big)], body, [("r", big)]))
    (default,) = ops_named(lower(module), loops.AllocOp)
    assert default.placement.data == "workspace"
    (stack,) = ops_named(lower(module, stack_threshold=33), loops.AllocOp)
    assert stack.placement.data == "stack"
    (workspace,) = ops_named(lower(module, stack_threshold=32), loops.AllocOp)
    assert workspace.placement.data == "workspace"


def test_output_is_deterministic() -> None:
    t = ty((2, 3), "f32")
    body = (f"  %e = array.exp %x : {t}\n"
            f"  %s = array.add %e, %e : {t}\n"
            f"  %m = array.reduce_max %s axes [0] : {t} -> {ty((3,), 'f32')}\n"
            f"  %b = array.broadcast %m dims [1] : {ty((3,), 'f32')} -> {t}\n"
            f"  %r = array.sub %s, %b : {t}")
    src = function([("x", t)], body, [("r", t), ("m", ty((3,), "f32"))])
    assert str(lower(parse(src))) == str(lower(parse(src)))


def test_calls_are_rejected() -> None:
    t = ty((2,), "f32")
    src = (f"func.func @g(%x: {t}) -> {t} {{\n  func.return %x : {t}\n}}\n"
           f"func.func @f(%x: {t}) -> {t} {{\n  %r = func.call @g(%x) : ({t}) -> {t}\n  func.return %r : {t}\n}}")
    with pytest.raises(PassFailedException, match="func.call"):
        lower(parse(src))


def test_non_tensor_arguments_are_rejected() -> None:
    src = "func.func @f(%x: f32) -> f32 {\n  func.return %x : f32\n}"
    with pytest.raises(PassFailedException, match="tensors"):
        lower(parse(src))


def test_leftover_array_op_fails_the_legality_check() -> None:
    src = f"%c = array.constant dense<1.0> : {ty((2,), 'f32')}"
    with pytest.raises(PassFailedException, match="'array.constant' was left unlowered"):
        lower(parse(src))


def test_stack_threshold_is_a_pass_option() -> None:
    (spec,) = parse_pipeline("lower-array-to-loops{stack-threshold=64}")
    assert LowerArrayToLoops.from_spec(spec) == LowerArrayToLoops(stack_threshold=64)


# ---------------------------------------------------------------------------
# Property: random well-typed chains keep their meaning
# ---------------------------------------------------------------------------

MAX_ELEMENTS = 24


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, list[np.ndarray]]:
    """A function of 3-8 random array ops over small f64 tensors."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    params = [("x", shape), ("y", shape)]
    values: list[tuple[str, tuple[int, ...]]] = list(params)
    lines: list[str] = []

    def new(shape_: tuple[int, ...], text: str, f64: bool = True) -> None:
        """Add a line; only f64 values join the pool that later ops draw from."""
        name = f"v{len(lines)}"
        lines.append(f"  %{name} = {text}")
        if f64:
            values.append((name, shape_))

    def t(s: tuple[int, ...], d: str = "f64") -> str:
        return ty(s, d)

    for _ in range(draw(st.integers(3, 8))):
        name, s = draw(st.sampled_from(values))
        same = [n for n, s2 in values if s2 == s]
        other = draw(st.sampled_from(same))
        kind = draw(st.sampled_from(
            ["unary", "binary", "binary", "splat", "select", "convert", "broadcast",
             "transpose", "slice", "reduce", "reshape", "concat", "matmul"]))
        if not s and kind in ("reduce", "concat"):
            kind = "unary"
        if kind == "unary":
            op = draw(st.sampled_from(sorted(UNARY)))
            new(s, f"array.{op} %{name} : {t(s)}")
        elif kind == "binary":
            op = draw(st.sampled_from(sorted(BINARY)))
            new(s, f"array.{op} %{name}, %{other} : {t(s)}")
        elif kind == "splat":
            new(s, f"array.constant dense<{draw(st.sampled_from(['0.5', '-1.5', '2.0']))}> : {t(s)}")
            new(s, f"array.mul %{name}, %v{len(lines) - 1} : {t(s)}")
        elif kind == "select":
            pred = draw(st.sampled_from(sorted(COMPARE)))
            new(s, f"array.compare {pred} %{name}, %{other} : {t(s)}", f64=False)
            cond = f"v{len(lines) - 1}"
            new(s, f"array.select %{cond}, %{name}, %{other} : {t(s, 'i1')}, {t(s)}")
            if draw(st.booleans()):
                new(s, f"array.convert %{cond} : {t(s, 'i1')} -> {t(s)}")
        elif kind == "convert":
            new(s, f"array.convert %{name} : {t(s)} -> {t(s, 'f32')}", f64=False)
            new(s, f"array.convert %v{len(lines) - 1} : {t(s, 'f32')} -> {t(s)}")
        elif kind == "broadcast":
            out = (2, *[draw(st.sampled_from([1, 2])) if n == 1 else n for n in s])
            if np.prod(out) <= MAX_ELEMENTS:
                dims = list(range(1, len(s) + 1))
                new(out, f"array.broadcast %{name} dims {dims} : {t(s)} -> {t(out)}")
        elif kind == "transpose" and len(s) >= 2:
            perm = draw(st.permutations(range(len(s))))
            out = tuple(s[p] for p in perm)
            new(out, f"array.transpose %{name} perm {list(perm)} : {t(s)} -> {t(out)}")
        elif kind == "slice":
            bounds = []
            for n in s:
                start = draw(st.integers(0, n - 1))
                bounds.append((start, n, draw(st.integers(1, 2))))
            out = tuple(len(range(*b)) for b in bounds)
            ranges = ", ".join(f"{a}:{b}:{c}" for a, b, c in bounds)
            new(out, f"array.slice %{name} [{ranges}] : {t(s)} -> {t(out)}")
        elif kind == "reduce":
            axes = sorted(draw(st.sets(st.integers(0, len(s) - 1), min_size=1)))
            out = tuple(n for d, n in enumerate(s) if d not in axes)
            op = draw(st.sampled_from(["reduce_sum", "reduce_max"]))
            new(out, f"array.{op} %{name} axes {axes} : {t(s)} -> {t(out)}")
        elif kind == "reshape":
            out = (int(np.prod(s)),) if len(s) != 1 else (1, s[0])
            new(out, f"array.reshape %{name} : {t(s)} -> {t(out)}")
        elif kind == "concat":
            axis = draw(st.integers(0, len(s) - 1))
            out = tuple(2 * n if d == axis else n for d, n in enumerate(s))
            if np.prod(out) <= MAX_ELEMENTS:
                new(out, f"array.concatenate axis {axis} %{name}, %{other} : {t(s)}, {t(s)} -> {t(out)}")
        elif kind == "matmul" and len(s) >= 2:
            perm = [*range(len(s) - 2), len(s) - 1, len(s) - 2]
            st_ = tuple(s[p] for p in perm)
            new(st_, f"array.transpose %{name} perm {perm} : {t(s)} -> {t(st_)}")
            out = (*s[:-1], s[-2])
            new(out, f"array.matmul %{other}, %v{len(lines) - 1} : {t(s)}, {t(st_)} -> {t(out)}")
    if not lines:
        new(shape, f"array.neg %x : {t(shape)}")
    results = [values[-1]]
    if draw(st.booleans()):
        results.append(draw(st.sampled_from(values)))
    src = function([(n, t(s)) for n, s in params], "\n".join(lines), [(n, t(s)) for n, s in results])
    seed = draw(st.integers(0, 1000))
    inputs = [rand(shape, "f64", seed=seed), rand(shape, "f64", seed=seed + 1)]
    return src, inputs


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_chains_keep_their_meaning(case: tuple[str, list[np.ndarray]]) -> None:
    src, inputs = case
    module = parse(src)
    lowered = lower(module)
    with np.errstate(all="ignore"):
        before = run_function(module, "f", *inputs)
        after = run_function(lowered, "f", *inputs)
    for a, b in zip(after, before, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=src)
