"""array-simplify keeps the meaning (interpreter before == after) and
removes what it promises to remove."""

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func
from xdsl.parser import Parser
from xdsl.transforms.dead_code_elimination import DeadCodeElimination

from gradc.dialects.array import Array
from gradc.interpreter import run_function
from gradc.passes.array_simplify import ArraySimplify

SOURCE = """
func.func @f(%a: tensor<4xf64>, %m: tensor<3x4xf64>) -> (tensor<3x4xf64>, tensor<4x3xf64>, tensor<2xf64>, tensor<12xf64>) {
  %0 = array.broadcast %a dims [1] : tensor<4xf64> -> tensor<3x4xf64>
  %one = array.constant dense<1.0> : tensor<3x4xf64>
  %zero = array.constant dense<0.0> : tensor<3x4xf64>
  %1 = array.mul %0, %one : tensor<3x4xf64>
  %2 = array.add %zero, %1 : tensor<3x4xf64>
  %3 = array.neg %2 : tensor<3x4xf64>
  %4 = array.neg %3 : tensor<3x4xf64>
  %t = array.transpose %m perm [1, 0] : tensor<3x4xf64> -> tensor<4x3xf64>
  %t2 = array.transpose %t perm [1, 0] : tensor<4x3xf64> -> tensor<3x4xf64>
  %5 = array.sub %4, %t2 : tensor<3x4xf64>
  %6 = array.div %5, %one : tensor<3x4xf64>
  %k = array.constant dense<[1.0, 4.0]> : tensor<2xf64>
  %s = array.sqrt %k : tensor<2xf64>
  %e = array.exp %zero : tensor<3x4xf64>
  %7 = array.mul %e, %6 : tensor<3x4xf64>
  %8 = array.transpose %7 perm [1, 0] : tensor<3x4xf64> -> tensor<4x3xf64>
  %r1 = array.reshape %7 : tensor<3x4xf64> -> tensor<2x6xf64>
  %r2 = array.reshape %r1 : tensor<2x6xf64> -> tensor<12xf64>
  %id = array.slice %m [0:3:1, 0:4:1] : tensor<3x4xf64> -> tensor<3x4xf64>
  %9 = array.add %7, %id : tensor<3x4xf64>
  func.return %9, %8, %s, %r2 : tensor<3x4xf64>, tensor<4x3xf64>, tensor<2xf64>, tensor<12xf64>
}
"""


def parse(text):
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, arith.Arith, Array):
        ctx.load_dialect(dialect)
    return Parser(ctx, text).parse_module()


def test_simplify_preserves_values_and_removes_ops():
    module = parse(SOURCE)
    rng = np.random.default_rng(0)
    a, m = rng.standard_normal(4), rng.standard_normal((3, 4))
    before = run_function(module, "f", a, m)

    ArraySimplify().apply(Context(), module)
    DeadCodeElimination().apply(Context(), module)
    module.verify()
    after = run_function(module, "f", a, m)
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)

    names = [op.name for op in module.walk() if op.name.startswith("array.")]
    # left: broadcast, sub, add(result 9), transpose(8), reshape(one), constant(sqrt folded)
    assert names.count("array.neg") == 0
    assert names.count("array.mul") == 0 and names.count("array.div") == 0
    assert names.count("array.exp") == 0 and names.count("array.sqrt") == 0
    assert names.count("array.slice") == 0
    assert names.count("array.transpose") == 1  # only the one of a computed value
    assert names.count("array.reshape") == 1
    folded = [op for op in module.walk() if op.name == "array.constant"]
    assert len(folded) == 1 and "2.0" in str(folded[0])


def test_large_non_splat_constants_are_not_folded():
    module = parse("""
func.func @f() -> tensor<64x64xf64> {
  %k = array.constant dense<[1.0, 2.0]> : tensor<2xf64>
  %b = array.broadcast %k dims [1] : tensor<2xf64> -> tensor<2048x2xf64>
  %r = array.reshape %b : tensor<2048x2xf64> -> tensor<64x64xf64>
  func.return %r : tensor<64x64xf64>
}
""")
    expected = run_function(module, "f")[0]
    ArraySimplify(fold_limit=100).apply(Context(), module)
    assert any(op.name == "array.broadcast" for op in module.walk())
    np.testing.assert_array_equal(run_function(module, "f")[0], expected)


def test_select_of_winner_folds_to_max_and_min_with_their_values():
    """select(x > c, x, max(c, x)) -> max(c, x), min likewise: the same
    values at ties, signed zeros, NaN and infinities (NumPy's maximum and
    minimum, which the interpreter runs, give the second operand at ties)."""
    module = parse("""
func.func @f(%x: tensor<8xf64>, %c: tensor<8xf64>) -> (tensor<8xf64>, tensor<8xf64>) {
  %m = array.max %c, %x : tensor<8xf64>
  %gt = array.compare gt %x, %c : tensor<8xf64>
  %0 = array.select %gt, %x, %m : tensor<8xi1>, tensor<8xf64>
  %n = array.min %x, %c : tensor<8xf64>
  %lt = array.compare lt %x, %c : tensor<8xf64>
  %1 = array.select %lt, %x, %n : tensor<8xi1>, tensor<8xf64>
  func.return %0, %1 : tensor<8xf64>, tensor<8xf64>
}
""")
    x = np.array([1.0, -1.0, 0.0, -0.0, 0.0, np.nan, 2.0, np.inf])
    c = np.array([0.0, 0.0, -0.0, 0.0, 0.0, 1.0, np.nan, -np.inf])
    ArraySimplify().apply(Context(), module)
    DeadCodeElimination().apply(Context(), module)
    assert not any(op.name == "array.select" for op in module.walk())
    hi, lo = run_function(module, "f", x, c)
    for got, expected in [(hi, np.where(x > c, x, np.maximum(c, x))), (lo, np.where(x < c, x, np.minimum(x, c)))]:
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def test_sum_of_a_diagonal_matrix_folds_to_its_diagonal():
    """reduce_sum over either axis of select(I, broadcast(v), 0) is v
    (broadcast along either axis); with another mask or a nonzero
    otherwise-value it stays. Values: the interpreter before and after,
    and NumPy."""
    eye = "dense<[[true, false, false], [false, true, false], [false, false, true]]>"
    band = "dense<[[true, true, false], [false, true, false], [false, false, true]]>"
    module = parse(f"""
func.func @f(%v: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) {{
  %eye = array.constant {eye} : tensor<3x3xi1>
  %band = array.constant {band} : tensor<3x3xi1>
  %zero = array.constant dense<0.0> : tensor<3x3xf64>
  %one = array.constant dense<1.0> : tensor<3x3xf64>
  %rows = array.broadcast %v dims [0] : tensor<3xf64> -> tensor<3x3xf64>
  %cols = array.broadcast %v dims [1] : tensor<3xf64> -> tensor<3x3xf64>
  %d0 = array.select %eye, %rows, %zero : tensor<3x3xi1>, tensor<3x3xf64>
  %d1 = array.select %eye, %cols, %zero : tensor<3x3xi1>, tensor<3x3xf64>
  %b = array.select %band, %rows, %zero : tensor<3x3xi1>, tensor<3x3xf64>
  %o = array.select %eye, %rows, %one : tensor<3x3xi1>, tensor<3x3xf64>
  %s0 = array.reduce_sum %d0 axes [1] : tensor<3x3xf64> -> tensor<3xf64>
  %s1 = array.reduce_sum %d1 axes [0] : tensor<3x3xf64> -> tensor<3xf64>
  %s2 = array.reduce_sum %b axes [1] : tensor<3x3xf64> -> tensor<3xf64>
  %s3 = array.reduce_sum %o axes [1] : tensor<3x3xf64> -> tensor<3xf64>
  func.return %s0, %s1, %s2, %s3 : tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>
}}
""")
    v = np.array([1.5, -2.0, np.inf])
    before = run_function(module, "f", v)
    ArraySimplify().apply(Context(), module)
    DeadCodeElimination().apply(Context(), module)
    module.verify()
    assert sum(op.name == "array.reduce_sum" for op in module.walk()) == 2
    after = run_function(module, "f", v)
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(after[0], v)
    np.testing.assert_array_equal(after[1], v)
    np.testing.assert_array_equal(after[2], [2 * v[0], v[1], v[2]])  # row 0 holds v[0] twice
    np.testing.assert_array_equal(after[3], v + 2.0)
