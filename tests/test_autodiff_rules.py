"""Every derivative rule against central finite differences.

Each case is a small f64 function around one `array` op (built with the
op's Python constructor), evaluated at a random point away from kinks.
For each case: the JVP function's tangent equals the finite-difference
directional derivative, the VJP function's cotangent equals the
finite-difference gradient of <u, f>, and, because derivative code is
differentiable again, the JVP of the VJP function (second order) and the
VJP of the VJP function equal finite differences of the VJP function.
All at the array level in the interpreter; a subset also compiled to C.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import Float32Type, Float64Type, ModuleOp, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue

from gradc.dialects import array
from gradc.interpreter import run_function
from gradc.passes.autodiff.transform import jvp_function, vjp_function
from gradc.pipeline import compile_module
from gradc.support.dense import numpy_to_dense

F64 = Float64Type()
RTOL = 1e-6
STEP = 1e-6


def tensor(shape: Sequence[int], element=F64) -> TensorType:
    return TensorType(element, list(shape))


class B:
    """Inserts ops into a block: `b(op)` gives the op's result."""

    def __init__(self, block: Block):
        self.block = block

    def __call__(self, op: Operation) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def const(self, value: np.ndarray) -> SSAValue:
        return self(array.ConstantOp(numpy_to_dense(np.asarray(value))))


def make_module(shapes: Sequence[Sequence[int]], build: Callable[..., SSAValue]) -> ModuleOp:
    block = Block(arg_types=[tensor(s) for s in shapes])
    result = build(B(block), *block.args)
    block.add_op(func.ReturnOp(result))
    fn = func.FuncOp("f", ([a.type for a in block.args], [result.type]), Region([block]))
    return ModuleOp([fn])


def function(module: ModuleOp, name: str) -> func.FuncOp:
    return next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name)


@dataclass
class Case:
    name: str
    shapes: list[tuple[int, ...]]
    build: Callable[..., SSAValue]
    low: float = -2.0
    high: float = 2.0
    sample: Callable[[np.random.Generator], list[np.ndarray]] | None = field(default=None)

    def point(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        if self.sample is not None:
            return self.sample(rng)
        return [rng.uniform(self.low, self.high, s) for s in self.shapes]


def _unary(cls, low=-2.0, high=2.0, shape=(2, 3)):
    return Case(cls.name.split(".")[1], [shape], lambda b, x: b(cls(x)), low, high)


def _binary(cls, low=-2.0, high=2.0, shape=(3, 2)):
    return Case(cls.name.split(".")[1], [shape, shape], lambda b, x, y: b(cls(x, y)), low, high)


def _distinct(rng: np.random.Generator, *shapes) -> list[np.ndarray]:
    """Values at least 0.1 apart (no ties: max/min are smooth there)."""
    total = sum(int(np.prod(s)) for s in shapes)
    values = rng.permutation(np.arange(total)) * 0.25 - total * 0.1
    out, offset = [], 0
    for s in shapes:
        n = int(np.prod(s))
        out.append(values[offset : offset + n].reshape(s) + rng.uniform(-0.05, 0.05, s))
        offset += n
    return out


def _away_from_zero(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _spd(rng: np.random.Generator, batch, n) -> np.ndarray:
    m = rng.uniform(-1, 1, (*batch, n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _off_integers(rng: np.random.Generator, shape) -> np.ndarray:
    """Values at least 0.1 from every integer and half-integer (the
    rounding ops are constant around them)."""
    return rng.integers(-3, 3, shape) + rng.choice([0.25, 0.75], shape) + rng.uniform(-0.1, 0.1, shape)


def _off_multiples(rng: np.random.Generator, shape) -> list[np.ndarray]:
    """(x, y) with x / y at least 0.2 from every integer (fmod jumps there)."""
    y = _away_from_zero(rng, shape)
    return [y * (rng.integers(-3, 3, shape) + rng.uniform(0.2, 0.8, shape)), y]


CASES = [
    _unary(array.NegOp),
    _unary(array.ExpOp),
    _unary(array.LogOp, 0.3, 3.0),
    _unary(array.TanhOp),
    _unary(array.SinOp, -3.0, 3.0),
    _unary(array.CosOp, -3.0, 3.0),
    _unary(array.SqrtOp, 0.3, 3.0),
    _unary(array.SinhOp, -3.0, 3.0),
    _unary(array.CoshOp, -3.0, 3.0),
    _unary(array.TanOp, -1.2, 1.2),
    _unary(array.AsinOp, -0.9, 0.9),
    _unary(array.AcosOp, -0.9, 0.9),
    _unary(array.AtanOp, -3.0, 3.0),
    _unary(array.AsinhOp, -3.0, 3.0),
    Case("asinh_large", [(2, 3)], lambda b, x: b(array.AsinhOp(x)),
         sample=lambda r: [_away_from_zero(r, (2, 3)) * 30.0]),
    _unary(array.AcoshOp, 1.2, 4.0),
    _unary(array.AtanhOp, -0.9, 0.9),
    _unary(array.Log1pOp, -0.7, 3.0),
    _unary(array.Expm1Op),
    _unary(array.Log2Op, 0.3, 3.0),
    _unary(array.Log10Op, 0.3, 3.0),
    _unary(array.Exp2Op),
    _unary(array.ErfOp),
    _unary(array.ErfcOp),
    *(Case(cls.name.split(".")[1], [(2, 3)], lambda b, x, cls=cls: b(array.MulOp(x, b(cls(x)))),
           sample=lambda r: [_off_integers(r, (2, 3))])
      for cls in (array.FloorOp, array.CeilOp, array.RoundEvenOp, array.TruncOp)),
    Case("abs", [(2, 3)], lambda b, x: b(array.AbsOp(x)), sample=lambda r: [_away_from_zero(r, (2, 3))]),
    _binary(array.AddOp),
    _binary(array.SubOp),
    _binary(array.MulOp),
    Case("div", [(3, 2), (3, 2)], lambda b, x, y: b(array.DivOp(x, y)),
         sample=lambda r: [r.uniform(-2, 2, (3, 2)), _away_from_zero(r, (3, 2))]),
    Case("max", [(3, 2), (3, 2)], lambda b, x, y: b(array.MaxOp(x, y)),
         sample=lambda r: _distinct(r, (3, 2), (3, 2))),
    Case("min", [(3, 2), (3, 2)], lambda b, x, y: b(array.MinOp(x, y)),
         sample=lambda r: _distinct(r, (3, 2), (3, 2))),
    _binary(array.PowOp, 0.3, 2.0),
    _binary(array.Atan2Op, -3.0, 3.0),
    Case("copysign", [(3, 2), (3, 2)], lambda b, x, y: b(array.CopySignOp(x, y)),
         sample=lambda r: [_away_from_zero(r, (3, 2)), _away_from_zero(r, (3, 2))]),
    *(
        Case(f"pow_const_{c}", [(4,)],
             lambda b, x, c=c: b(array.PowOp(x, b.const(np.full(4, c)))), 0.3 if c % 1 else -2.0, 2.0)
        for c in (0.0, 1.0, 2.0, 3.0, 2.5)
    ),
    Case("fmod", [(3, 2), (3, 2)], lambda b, x, y: b(array.MulOp(b(array.FmodOp(x, y)), y)),
         sample=lambda r: _off_multiples(r, (3, 2))),
    Case("constant", [(4,)], lambda b, x: b(array.MulOp(x, b.const(np.arange(4.0) - 1.5)))),
    Case("compare_select", [(5,), (5,)],
         lambda b, x, y: b(array.SelectOp(b(array.CompareOp("lt", x, y)), b(array.MulOp(x, x)), y)),
         sample=lambda r: _distinct(r, (5,), (5,))),
    Case("convert_from_i1", [(5,)],
         lambda b, x: b(array.MulOp(x, b(array.ConvertOp(b(array.CompareOp("gt", x, b.const(np.zeros(5)))), F64)))),
         sample=lambda r: [_away_from_zero(r, (5,))]),
    Case("broadcast", [(3, 1)],
         lambda b, x: b(array.MulOp(b(array.BroadcastOp(x, [1, 2], (2, 3, 4))), b.const(np.arange(24.0).reshape(2, 3, 4))))),
    Case("broadcast_scalar", [()], lambda b, x: b(array.BroadcastOp(x, [], (2, 2)))),
    Case("reshape", [(2, 6)], lambda b, x: b(array.ReshapeOp(x, (3, 2, 2)))),
    Case("transpose", [(2, 3, 4)], lambda b, x: b(array.TransposeOp(x, [2, 0, 1]))),
    Case("slice", [(7, 5)], lambda b, x: b(array.SliceOp(x, [1, 0], [7, 4], [2, 3]))),
    Case("slice_tail", [(6,)], lambda b, x: b(array.SliceOp(x, [2], [6], [1]))),
    Case("slice_reverse", [(7, 5)], lambda b, x: b(array.SliceOp(x, [6, 4], [1, -1], [-2, -3]))),
    Case("gather", [(3, 4)], lambda b, x: b(array.GatherOp(x, [1, 0], np.array([[[3, 0], [1, 2]], [[3, 0], [0, 1]]])))),
    *(Case(f"dynamic_gather_{mode}", [(3, 4)], lambda b, x, mode=mode: b(array.DynamicGatherOp(
        x, b.const(np.array([[[3, 0], [1, 2]], [[-1, 7], [3, 1]]], np.int32)), [1, 0], mode))) for mode in ("clip", "fill")),
    *(Case(f"scatter_{kind}_{mode}", [(3, 4), (5, 4)], lambda b, x, v, kind=kind, mode=mode: b(array.ScatterOp(
        x, b.const(np.array([[2], [0], [2], [5], [-1]], np.int64)), v, [0], kind, mode)))
      for kind, mode in (("add", "drop"), ("add", "clip"), ("set", "drop"), ("set", "clip"))),
    Case("dynamic_slice", [(5, 4)],
         lambda b, x: b(array.DynamicSliceOp(x, [b.const(np.array(2.0)), b.const(np.array(-1.0))], [2, 3]))),
    Case("dynamic_update_slice", [(5, 4), (2, 2)],
         lambda b, x, u: b(array.DynamicUpdateSliceOp(x, u, [b.const(np.array(7.0)), b.const(np.array(1.0))]))),
    Case("concatenate", [(2, 1), (2, 3), (2, 2)],
         lambda b, x, y, z: b(array.ConcatenateOp([x, y, z], 1))),
    Case("matmul", [(3, 4), (4, 2)], lambda b, x, y: b(array.MatmulOp(x, y))),
    Case("matmul_batched", [(2, 3, 4), (2, 4, 2)], lambda b, x, y: b(array.MatmulOp(x, y))),
    Case("reduce_sum", [(2, 3, 4)], lambda b, x: b(array.ReduceSumOp(x, [0, 2]))),
    Case("reduce_sum_all", [(2, 3)], lambda b, x: b(array.ReduceSumOp(x, [0, 1]))),
    Case("reduce_max", [(3, 4)], lambda b, x: b(array.ReduceMaxOp(x, [1])),
         sample=lambda r: _distinct(r, (3, 4))),
    *(Case(f"cholesky{tag}", [(*batch, 4, 4)], lambda b, x: b(array.CholeskyOp(x)),
           sample=lambda r, batch=batch: [_spd(r, batch, 4)])
      for tag, batch in (("", ()), ("_batched", (2,)))),
    *(Case(f"triangular_solve_{''.join(k[0] for k, on in flags.items() if on)}", [(2, 3, 3), (2, 3, 2)],
           lambda b, a, y, flags=flags: b(array.TriangularSolveOp(a, y, **flags)),
           sample=lambda r: [r.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3), r.uniform(-2, 2, (2, 3, 2))])
      for flags in ({"lower": True}, {"lower": True, "transpose_a": True}, {"transpose_a": True},
                    {"lower": True, "unit_diagonal": True}, {"unit_diagonal": True, "transpose_a": True})),
    *(Case(f"solve{'_t' if t else ''}", [(2, 3, 3), (2, 3, 2)],
           lambda b, a, y, t=t: b(array.SolveOp(a, y, transpose_a=t)),
           sample=lambda r: [r.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3), r.uniform(-2, 2, (2, 3, 2))])
      for t in (False, True)),
    Case("slogdet", [(2, 3, 3)], lambda b, x: b(array.SlogdetOp(x)),
         sample=lambda r: [r.uniform(-1, 1, (2, 3, 3)) + np.array([3, -3]).reshape(2, 1, 1) * np.eye(3)]),
    Case("eigh", [(2, 3, 3)], lambda b, x: b(array.EighOp(x)),
         sample=lambda r: [r.uniform(-0.3, 0.3, (2, 3, 3)) + np.diag([-1.0, 0.5, 2.0])]),
    Case("fan_out", [(3,)],
         lambda b, x: b(array.MulOp(b(array.SinOp(x)), b(array.AddOp(x, b(array.ExpOp(x))))))),
]

RULE_OPS = {
    array.NegOp, array.ExpOp, array.LogOp, array.TanhOp, array.SinOp, array.CosOp,
    array.SqrtOp, array.AbsOp, array.SinhOp, array.CoshOp, array.TanOp, array.AsinOp,
    array.AcosOp, array.AtanOp, array.AsinhOp, array.AcoshOp, array.AtanhOp, array.Log1pOp,
    array.Expm1Op, array.Log2Op, array.Log10Op, array.Exp2Op, array.ErfOp, array.FloorOp,
    array.CeilOp, array.RoundEvenOp, array.TruncOp, array.AddOp, array.SubOp, array.MulOp, array.DivOp,
    array.MaxOp, array.MinOp, array.PowOp, array.ErfcOp, array.Atan2Op, array.CopySignOp, array.FmodOp,
    array.SelectOp, array.ConvertOp,
    array.BroadcastOp, array.ReshapeOp, array.TransposeOp, array.SliceOp,
    array.ConcatenateOp, array.MatmulOp, array.ReduceSumOp, array.ReduceMaxOp,
    *array.LINALG_OPS,
    array.GatherOp, array.DynamicSliceOp, array.DynamicUpdateSliceOp,
    array.DynamicGatherOp, array.ScatterOp,
}


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(float(np.linalg.norm(want)), 1e-3)
    return float(np.linalg.norm(got - want)) / scale


def directional_fd(f: Callable[..., list[np.ndarray]], xs, vs, outputs=slice(None)):
    """Central difference of every output of f along (vs)."""
    plus = f(*[x + STEP * v for x, v in zip(xs, vs)])
    minus = f(*[x - STEP * v for x, v in zip(xs, vs)])
    return [(p - m) / (2 * STEP) for p, m in zip(plus[outputs], minus[outputs])]


def gradient_fd(scalar: Callable[..., float], xs) -> list[np.ndarray]:
    grads = []
    for k, x in enumerate(xs):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[i] = STEP
            up = [*xs[:k], x + step, *xs[k + 1 :]]
            down = [*xs[:k], x - step, *xs[k + 1 :]]
            g[i] = (scalar(*up) - scalar(*down)) / (2 * STEP)
        grads.append(g)
    return grads


def test_every_op_with_a_rule_has_a_case():
    covered: set[type] = set()
    for case in CASES:
        module = make_module(case.shapes, case.build)
        covered |= {type(op) for op in function(module, "f").walk()}
    assert RULE_OPS <= covered


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_jvp(case: Case):
    module = make_module(case.shapes, case.build)
    fn = function(module, "f")
    wrt = list(range(len(case.shapes)))
    jvp = jvp_function(module, fn, wrt)
    module.verify()
    xs = case.point()
    vs = [np.random.default_rng(1).normal(size=x.shape) for x in xs]
    y, dy = run_function(module, jvp.sym_name.data, *xs, *vs)
    (want_y,) = run_function(module, "f", *xs)
    np.testing.assert_array_equal(y, want_y)
    (want,) = directional_fd(lambda *a: run_function(module, "f", *a), xs, vs)
    assert rel_err(dy, want) < RTOL


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_vjp(case: Case):
    module = make_module(case.shapes, case.build)
    fn = function(module, "f")
    wrt = list(range(len(case.shapes)))
    vjp = vjp_function(module, fn, wrt)
    module.verify()
    xs = case.point()
    (y,) = run_function(module, "f", *xs)
    u = np.random.default_rng(2).normal(size=y.shape)
    y2, *grads = run_function(module, vjp.sym_name.data, *xs, u)
    np.testing.assert_array_equal(y2, y)
    want = gradient_fd(lambda *a: float(np.sum(u * run_function(module, "f", *a)[0])), xs)
    for got, w in zip(grads, want):
        assert rel_err(got, w) < RTOL


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_second_order(case: Case):
    """jvp(vjp(f)) and vjp(vjp(f)) against finite differences of vjp(f)."""
    module = make_module(case.shapes, case.build)
    fn = function(module, "f")
    n = len(case.shapes)
    vjp = vjp_function(module, fn, list(range(n)))
    hvp = jvp_function(module, vjp, list(range(n)))
    vjp2 = vjp_function(module, vjp, list(range(n)))
    module.verify()
    xs = case.point()
    (y,) = run_function(module, "f", *xs)
    rng = np.random.default_rng(3)
    u = rng.normal(size=y.shape)
    vs = [rng.normal(size=x.shape) for x in xs]

    def vjp_at(*a):
        return run_function(module, vjp.sym_name.data, *a, u)

    got = run_function(module, hvp.sym_name.data, *xs, u, *vs)[n + 1 + 1 :]
    want = directional_fd(vjp_at, xs, vs, slice(1, None))
    for g, w in zip(got, want):
        assert rel_err(g, w) < 1e-5

    ws = [rng.normal(size=x.shape) for x in xs]
    got2 = run_function(module, vjp2.sym_name.data, *xs, u, y * 0, *ws)[n + 1 :]
    want2 = gradient_fd(
        lambda *a: sum(float(np.sum(w * g)) for w, g in zip(ws, vjp_at(*a)[1:])), xs
    )
    for g, w in zip(got2, want2):
        assert rel_err(g, w) < 1e-5


COMPILED = ["tanh", "pow", "max", "slice", "concatenate", "matmul_batched", "reduce_max", "broadcast"]


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_matches_interpreter(name: str):
    case = next(c for c in CASES if c.name == name)
    module = make_module(case.shapes, case.build)
    n = len(case.shapes)
    vjp = vjp_function(module, function(module, "f"), list(range(n)))
    jvp = jvp_function(module, function(module, "f"), list(range(n)))
    xs = case.point()
    (y,) = run_function(module, "f", *xs)
    u = np.random.default_rng(4).normal(size=y.shape)
    vs = [np.random.default_rng(5).normal(size=x.shape) for x in xs]
    want_vjp = run_function(module, vjp.sym_name.data, *xs, u)
    want_jvp = run_function(module, jvp.sym_name.data, *xs, *vs)
    for fn in (vjp, jvp):
        fn.sym_visibility = None
    both = ModuleOp([vjp.clone(), jvp.clone()])
    got_vjp = compile_module(both, vjp.sym_name.data)(*xs, u)
    for g, w in zip(got_vjp, want_vjp):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    both = ModuleOp([jvp.clone()])
    got_jvp = compile_module(both, jvp.sym_name.data)(*xs, *vs)
    for g, w in zip(got_jvp, want_jvp):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------
# Conventions at non-smooth points (JAX's), and convert
# --------------------------------------------------------------------------


def _grads(shapes, build, xs, u=None):
    module = make_module(shapes, build)
    vjp = vjp_function(module, function(module, "f"), list(range(len(shapes))))
    jvp = jvp_function(module, function(module, "f"), list(range(len(shapes))))
    (y,) = run_function(module, "f", *xs)
    u = np.ones_like(y) if u is None else u
    grads = run_function(module, vjp.sym_name.data, *xs, u)[1:]
    return module, jvp, grads


def test_abs_at_zero_is_one():
    """JAX's abs'(x): 1 where x >= 0 (so at 0 and -0.0), else -1 (NaN too)."""
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan])
    module, jvp, (g,) = _grads([(5,)], lambda b, x: b(array.AbsOp(x)), [x])
    np.testing.assert_array_equal(g, [-1.0, 1.0, 1.0, 1.0, -1.0])
    _, dy = run_function(module, jvp.sym_name.data, x, np.ones(5))
    np.testing.assert_array_equal(dy, g)


@pytest.mark.parametrize("cls", [array.MaxOp, array.MinOp])
def test_max_min_ties_split_evenly(cls):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    module, jvp, (gx, gy) = _grads([(3,), (3,)], lambda b, a, c: b(cls(a, c)), [x, y])
    first = 1.0 if cls is array.MaxOp else 0.0
    np.testing.assert_array_equal(gx, [0.5, first, 1 - first])
    np.testing.assert_array_equal(gy, [0.5, 1 - first, first])
    _, dy = run_function(module, jvp.sym_name.data, x, y, np.ones(3), np.zeros(3))
    np.testing.assert_array_equal(dy, gx)


def test_reduce_max_divides_among_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    module, jvp, (g,) = _grads([(2, 3)], lambda b, a: b(array.ReduceMaxOp(a, [1])), [x])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3] * 3])
    _, dy = run_function(module, jvp.sym_name.data, x, np.ones((2, 3)))
    np.testing.assert_allclose(dy, [1.0, 1.0])


def test_pow_at_zero_base_and_zero_exponent():
    x, p = np.array([0.0, 0.0, 2.0]), np.array([2.0, 0.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):  # 0^-1 in the unchosen branch
        _, _, (gx, gp) = _grads([(3,), (3,)], lambda b, a, c: b(array.PowOp(a, c)), [x, p])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(gp, [0.0, 0.0, np.log(2.0)])
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gp))


def test_convert_between_float_types():
    def build(b, x):
        return b(array.ConvertOp(b(array.MulOp(x, x)), Float32Type()))

    x = np.array([0.5, -1.25])
    module, jvp, (g,) = _grads([(2,)], build, [x], u=np.array([1.0, 2.0], np.float32))
    np.testing.assert_array_equal(g, 2 * x * [1.0, 2.0])
    assert g.dtype == np.float64
    _, dy = run_function(module, jvp.sym_name.data, x, np.ones(2))
    assert dy.dtype == np.float32
    np.testing.assert_array_equal(dy, (2 * x).astype(np.float32))
