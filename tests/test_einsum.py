"""gnp.einsum, gnp.tensordot and gnp.linalg.multi_dot (issue #14): the subscripts people write,
values against np.einsum / np.tensordot / np.linalg.multi_dot in float32 and float64 (one build
per dtype), first derivatives against central differences of the NumPy
expression and second derivatives of multilinear forms likewise (one build
each), contractions lowered to loops.matmul rather than elementwise loops,
and bad subscripts or axes as a located GradcError at trace time.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradc
from gradc.errors import GradcError, TraceError, TraceTypeError
import gradc.numpy as gnp
from tests.test_numpy_surface import check_first_derivatives, check_second_derivatives

rng = np.random.default_rng(1414_14)
OPERANDS = {
    "A": rng.normal(size=(3, 4)),
    "B": rng.normal(size=(4, 5)),
    "C": rng.normal(size=(5, 2)),
    "S": rng.normal(size=(4, 4)),
    "S3": rng.normal(size=(2, 4, 4)),
    "BA": rng.normal(size=(2, 3, 4)),
    "BB": rng.normal(size=(2, 4, 5)),
    "Q": rng.normal(size=(2, 3, 4, 6)),
    "K": rng.normal(size=(2, 3, 5, 6)),
    "E": rng.normal(size=(2, 1, 3, 4)),
    "R1": rng.normal(size=(3, 1)),
    "u": rng.normal(size=3),
    "v": rng.normal(size=4),
    "w": rng.normal(size=5),
}
NAMES = list(OPERANDS)
PATH = np.einsum_path("ij,jk,k->i", OPERANDS["A"], OPERANDS["B"], OPERANDS["w"], optimize="greedy")[0]

# Each case is called as fn(xp, o) with o the operands by name, xp =
# gradc.numpy (traced) and xp = numpy (the reference); cases spelled np.<f>
# run NumPy's dispatch to gnp on the traced side.
VALUE_CASES = {
    "matmul": lambda xp, o: xp.einsum("ij,jk->ik", o["A"], o["B"]),
    "batched": lambda xp, o: xp.einsum("bij,bjk->bik", o["BA"], o["BB"]),
    "batched_shared_rhs": lambda xp, o: xp.einsum("bij,jk->bik", o["BA"], o["B"]),
    "attention": lambda xp, o: xp.einsum("bhqd,bhkd->bhqk", o["Q"], o["K"]),
    "attention_values": lambda xp, o: xp.einsum("bhqk,bhkd->bqhd", xp.einsum("bhqd,bhkd->bhqk", o["Q"], o["K"]), o["K"]),
    "outer": lambda xp, o: xp.einsum("i,j->ij", o["u"], o["v"]),
    "dot": lambda xp, o: xp.einsum("i,i->", o["v"], o["v"]),
    "batched_dot": lambda xp, o: xp.einsum("bi,bi->b", o["A"], o["A"]),
    "matvec": lambda xp, o: xp.einsum("ij,j->i", o["A"], o["v"]),
    "vecmat": lambda xp, o: xp.einsum("i,ij->j", o["u"], o["A"]),
    "trace": lambda xp, o: xp.einsum("ii->", o["S"]),
    "diagonal": lambda xp, o: xp.einsum("ii->i", o["S"]),
    "batched_diagonal": lambda xp, o: xp.einsum("...ii->...i", o["S3"]),
    "batched_trace": lambda xp, o: xp.einsum("bii->b", o["S3"]),
    "diagonal_times_matrix": lambda xp, o: xp.einsum("ii,ij->j", o["S"], o["B"]),
    "transpose": lambda xp, o: xp.einsum("ij->ji", o["A"]),
    "transpose_3d": lambda xp, o: xp.einsum("ijk->kij", o["BA"]),
    "sum_all": lambda xp, o: xp.einsum("ij->", o["A"]),
    "sum_rows": lambda xp, o: xp.einsum("ij->j", o["A"]),
    "sum_and_transpose": lambda xp, o: xp.einsum("ijk->ki", o["BA"]),
    "identity": lambda xp, o: xp.einsum("ij->ij", o["A"]),
    "bilinear": lambda xp, o: xp.einsum("i,ij,j->", o["u"], o["A"], o["v"]),
    "ellipsis_matmul": lambda xp, o: xp.einsum("...ij,...jk->...ik", o["BA"], o["BB"]),
    "ellipsis_broadcast": lambda xp, o: xp.einsum("...ij,...jk->...ik", o["E"], o["BB"]),
    "ellipsis_right": lambda xp, o: xp.einsum("ij...,jk->ik...", xp.transpose(o["BA"], (1, 2, 0)), o["B"]),
    "ellipsis_no_dims": lambda xp, o: xp.einsum("...ij,jk->...ik", o["A"], o["B"]),
    "ellipsis_sum": lambda xp, o: xp.einsum("...i->...", o["BA"]),
    "implicit": lambda xp, o: xp.einsum("ij,jk", o["A"], o["B"]),
    "implicit_transpose": lambda xp, o: xp.einsum("ba", o["A"]),
    "implicit_trace": lambda xp, o: xp.einsum("ii", o["S"]),
    "implicit_upper_first": lambda xp, o: xp.einsum("bA,c", o["A"], o["w"]),
    "implicit_ellipsis": lambda xp, o: xp.einsum("...j,j", o["BA"], o["v"]),
    "broadcast_size1_contracted": lambda xp, o: xp.einsum("ij,jk->ik", o["R1"], o["B"]),
    "broadcast_size1_kept": lambda xp, o: xp.einsum("ij,ij->ij", o["R1"], o["A"]),
    "broadcast_size1_sum": lambda xp, o: xp.einsum("ij,ij->", o["R1"], o["A"]),
    "three_operands": lambda xp, o: xp.einsum("ij,jk,kl->il", o["A"], o["B"], o["C"]),
    "three_batched": lambda xp, o: xp.einsum("bij,bjk,k->bi", o["BA"], o["BB"], o["w"]),
    "four_operands": lambda xp, o: xp.einsum("i,ij,jk,k->", o["u"], o["A"], o["B"], o["w"]),
    "elementwise": lambda xp, o: xp.einsum("bij,bij->bij", o["BA"], o["BA"]),
    "batched_outer": lambda xp, o: xp.einsum("bi,bj->bij", o["A"], o["A"]),
    "uppercase": lambda xp, o: xp.einsum("Ij,jK->KI", o["A"], o["B"]),
    "spaces": lambda xp, o: xp.einsum(" ij , jk -> ki ", o["A"], o["B"]),
    "sublists": lambda xp, o: xp.einsum(o["A"], [0, 1], o["B"], [1, 2], [2, 0]),
    "sublists_ellipsis": lambda xp, o: xp.einsum(o["BA"], [Ellipsis, 1], o["v"], [1]),
    "scalar_operand": lambda xp, o: xp.einsum("i,->i", o["v"], 2.0),
    "traced_scalar_operand": lambda xp, o: xp.einsum(",ij->ji", o["u"][1], o["A"]),
    "dtype_float64": lambda xp, o: xp.einsum("i,i->", o["v"], o["v"], dtype=np.float64),
    "dtype_unsafe_float32": lambda xp, o: xp.einsum("ij,j->i", o["A"], o["v"].astype(np.float64), dtype=np.float32, casting="unsafe"),
    "optimize_greedy": lambda xp, o: xp.einsum("ij,jk,kl->il", o["A"], o["B"], o["C"], optimize="greedy"),
    "optimize_true": lambda xp, o: xp.einsum("ij,jk,k->i", o["A"], o["B"], o["w"], optimize=True),
    "optimize_path": lambda xp, o: xp.einsum("ij,jk,k->i", o["A"], o["B"], o["w"], optimize=PATH),
    "np_dispatch": lambda xp, o: np.einsum("bij,bjk->bik", o["BA"], o["BB"], optimize=True),
    "np_dispatch_mixed": lambda xp, o: np.einsum("ij,jk->ik", o["A"], OPERANDS["B"]),
    "tensordot_default": lambda xp, o: xp.tensordot(o["BA"], o["Q"][0], axes=2),
    "tensordot_int": lambda xp, o: xp.tensordot(o["A"], o["B"], 1),
    "tensordot_outer": lambda xp, o: xp.tensordot(o["u"], o["v"], axes=0),
    "tensordot_pairs": lambda xp, o: xp.tensordot(o["BA"], o["BB"], axes=([0, 2], [0, 1])),
    "tensordot_pairs_unordered": lambda xp, o: xp.tensordot(o["Q"], o["K"], axes=([3, 0], [3, 0])),
    "tensordot_single_axes": lambda xp, o: xp.tensordot(o["A"], o["BA"], axes=(1, -1)),
    "tensordot_all": lambda xp, o: xp.tensordot(o["A"], o["A"], axes=((0, 1), (0, 1))),
    "tensordot_array_axes": lambda xp, o: xp.tensordot(o["BA"], o["B"], axes=np.array([[2], [0]])),
    "tensordot_np_dispatch": lambda xp, o: np.tensordot(o["S"], o["B"], axes=[[1], [0]]),
    "multi_dot": lambda xp, o: xp.linalg.multi_dot([o["A"], o["B"], o["C"]]),
    "multi_dot_vectors": lambda xp, o: xp.linalg.multi_dot([o["u"], o["A"], o["B"], o["w"]]),
    "multi_dot_np_dispatch": lambda xp, o: np.linalg.multi_dot([o["A"].T, o["A"], o["S"], o["v"]]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_numpy(dtype):
    ops = {k: v.astype(dtype) for k, v in OPERANDS.items()}
    names = list(VALUE_CASES)
    got = gradc.jit(lambda *arrays: tuple(VALUE_CASES[n](gnp, dict(zip(NAMES, arrays))) for n in names))(
        *(ops[k] for k in NAMES)
    )
    for name, g in zip(names, got, strict=True):
        want = np.asarray(VALUE_CASES[name](np, ops))
        g = np.asarray(g)
        assert g.shape == want.shape, (name, g.shape, want.shape)
        assert g.dtype == want.dtype, (name, g.dtype, want.dtype)
        rtol = atol = 2e-5 if want.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------------------
# Derivatives (float64): gradc.grad of sum(f(a) * W) against central
# differences of the NumPy expression; operands are pieces of one argument,
# so products of the same variable are differentiated too.
# ---------------------------------------------------------------------------

A45 = rng.normal(size=(4, 5))
A234 = rng.normal(size=(2, 3, 4))
A44 = rng.normal(size=(4, 4))

GRAD_CASES = {  # name: (fn(xp, a), a)
    "matmul": (lambda xp, a: xp.einsum("ij,jk->ik", a[:3, :4], a[:, 1:]), A45),
    "attention": (lambda xp, a: xp.einsum("bqd,bkd->bqk", a, a * a), A234),
    "diagonal": (lambda xp, a: xp.einsum("ii->i", a) ** 2, A44),
    "trace_product": (lambda xp, a: xp.einsum("ij,ji->", a, a), A44),
    "bilinear": (lambda xp, a: xp.einsum("i,ij,j->", a[:, 0], a, a[0]), A45),
    "ellipsis": (lambda xp, a: xp.einsum("...ij,jk->...ik", a, a[0].T ** 2), A234),
    "broadcast_size1": (lambda xp, a: xp.einsum("ij,ij->i", a[:, :1], a * a), A45),
    "three_operands": (lambda xp, a: xp.einsum("ij,jk,kl->il", a, a.T, a), A45),
    "transpose_sum": (lambda xp, a: xp.einsum("ijk->kj", a ** 3), A234),
    "implicit": (lambda xp, a: xp.einsum("bij,bjk", a, xp.transpose(a, (0, 2, 1))), A234),
    "tensordot": (lambda xp, a: xp.tensordot(a, a ** 2, axes=([0, 2], [0, 2])), A234),
    "tensordot_int": (lambda xp, a: xp.tensordot(a, a.T, 1), A45),
    "multi_dot": (lambda xp, a: xp.linalg.multi_dot([a[0], a.T, a, a.T[:, :2]]), A45),
}


def test_first_derivatives_match_central_differences():
    check_first_derivatives(GRAD_CASES)


W34 = rng.normal(size=(3, 4))
W33 = rng.normal(size=(3, 3))
SECOND_CASES = {  # name: (fn(xp, a) -> scalar, a)
    "bilinear": (lambda xp, a: xp.einsum("i,ij,j->", a[:3], W34, a[3:]), rng.normal(size=7)),
    "quadratic_form": (lambda xp, a: xp.einsum("i,ij,j", a, W33, a), rng.normal(size=3)),
    "bilinear_traced_matrix": (lambda xp, a: xp.einsum("i,ij,j->", a[0, :3], a[1:, :] * a[1:, :], a[0]), rng.normal(size=(4, 4))),
    "cubic": (lambda xp, a: xp.einsum("i,i,i->", a, a, a), rng.normal(size=4)),
    "tensordot": (lambda xp, a: xp.tensordot(a, a, axes=2) * xp.tensordot(a[0], a[1], 1), rng.normal(size=(3, 3))),
}


def test_second_derivatives_match_central_differences():
    check_second_derivatives(SECOND_CASES)


# ---------------------------------------------------------------------------
# Contractions run on gradc's matmul
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subscripts, shapes",
    [
        ("ij,jk->ik", [(16, 24), (24, 8)]),
        ("bij,bjk->bik", [(3, 16, 24), (3, 24, 8)]),
        ("bhqd,bhkd->bhqk", [(2, 3, 16, 8), (2, 3, 12, 8)]),
    ],
    ids=["matmul", "batched", "attention"],
)
def test_contractions_lower_to_a_matmul(subscripts, shapes):
    """One loops.matmul (without tiling; with it, tile-matmul's blocked
    microkernel), and no product written as elementwise loops."""
    args = [rng.normal(size=s) for s in shapes]
    lowered = gradc.lower(lambda a, b: gnp.einsum(subscripts, a, b), *args, options={"tile": False})
    assert lowered.loops_ir.count("loops.matmul") == 1, lowered.loops_ir
    assert "arith.mulf" not in lowered.loops_ir, lowered.loops_ir
    tiled = gradc.lower(lambda a, b: gnp.einsum(subscripts, a, b), *args).loops_ir
    assert "loops.microkernel" in tiled and "arith.mulf" not in tiled, tiled


def test_optimize_orders_the_contractions():
    """optimize=False contracts left to right (as NumPy), making the 16x16
    product of the first two; greedy and a path from np.einsum_path take
    the matrix-vector products."""
    a, w = rng.normal(size=(16, 16)), rng.normal(size=16)
    for optimize, squares in ((False, 1), ("greedy", 0), (True, 0), (["einsum_path", (1, 2), (0, 1)], 0)):
        ir = gradc.lower(lambda a, b, c: gnp.einsum("ij,jk,k->i", a, b, c, optimize=optimize), a, a, w).array_ir
        matmuls = [line for line in ir.splitlines() if "array.matmul" in line]
        assert len(matmuls) == 2, ir
        assert sum(line.endswith("-> tensor<16x16xf64>") for line in matmuls) == squares, (optimize, ir)


# ---------------------------------------------------------------------------
# Bad subscripts and axes
# ---------------------------------------------------------------------------

M = OPERANDS["A"]  # (3, 4)
V = OPERANDS["v"]  # (4,)

ERRORS = [
    (lambda m, v: gnp.einsum("ij,jk->ik", m), TraceError, r"einsum: subscripts 'ij,jk->ik' name 2 operands, but 1 was given"),
    (lambda m, v: gnp.einsum("ij->ij", m, v), TraceError, r"einsum: subscripts 'ij->ij' name 1 operand, but 2 were given"),
    (lambda m, v: gnp.einsum("ij,jk->ik", m, m), TraceError, r"einsum: index 'j' has size 4 in operand 0 \(shape \(3, 4\)\) but 3 in operand 1"),
    (lambda m, v: gnp.einsum("ij,j->i", m.T, v), TraceError, r"index 'j' has size 3 in operand 0 .* but 4 in operand 1"),
    (lambda m, v: gnp.einsum("ij->ik", m), TraceError, r"einsum: output subscript 'k' appears in no operand's subscripts"),
    (lambda m, v: gnp.einsum("ij->ii", m), TraceError, r"einsum: output subscript 'i' repeats"),
    (lambda m, v: gnp.einsum("ijk->i", m), TraceError, r"einsum: operand 0 has 2 dimensions \(shape \(3, 4\)\) but its subscripts 'ijk' name 3"),
    (lambda m, v: gnp.einsum("i...jk->i", m), TraceError, r"einsum: operand 0 has 2 dimensions .* name 3 besides '...'"),
    (lambda m, v: gnp.einsum("i1->i", m), TraceError, r"einsum: invalid subscript '1' in the subscripts of operand 0"),
    (lambda m, v: gnp.einsum("i->i->i", v), TraceError, r"einsum: subscripts 'i->i->i' have more than one '->'"),
    (lambda m, v: gnp.einsum("..i->i", v), TraceError, r"einsum: the subscripts of operand 0 .* has a '.' that is not part of an ellipsis"),
    (lambda m, v: gnp.einsum("...i...->i", m), TraceError, r"more than one ellipsis"),
    (lambda m, v: gnp.einsum("...j->j", m), TraceError, r"einsum: the operands have 1 broadcast dimension under '...' but the output subscripts 'j' have no '...'"),
    (lambda m, v: gnp.einsum("ii->i", m), TraceError, r"einsum: index 'i' repeats in operand 0 \(shape \(3, 4\)\) over dimensions of sizes 3 and 4"),
    (lambda m, v: gnp.einsum("...i,...i->...", m, m[:2]), TraceError, r"einsum: a dimension under '...' has size 3 in operand 0 .* but 2 in operand 1"),
    (lambda m, v: gnp.einsum("i->", v > 0), TraceTypeError, r"einsum: NumPy computes this in bool"),
    (lambda m, v: gnp.einsum("i,i->", v, v, dtype=np.float32), TraceTypeError, r"einsum: cannot compute float64 operands in dtype=float32 with casting='safe'"),
    (lambda m, v: gnp.einsum("i->i", v, out=np.empty(4)), TraceTypeError, r"einsum: out= is not supported"),
    (lambda m, v: gnp.einsum(v, [0, 60]), TraceError, r"einsum: sublist index 60 is out of range"),
    (lambda m, v: gnp.einsum("i,i,i->", v, v, v, optimize=["einsum_path", (0, 1)]), TraceError, r"einsum: optimize=\['einsum_path', \(0, 1\)\] is not a path for 3 operands"),
    (lambda m, v: gnp.einsum("i,i,i->", v, v, v, optimize=["einsum_path", (0, 0), (0, 1)]), TraceError, r"is not a path that contracts the operands two at a time"),
    (lambda m, v: np.einsum("ij,jk->ik", m, m), TraceError, r"einsum: index 'j' has size 4"),
    (lambda m, v: gnp.tensordot(m, m, axes=3), TraceError, r"tensordot: axes=3 must be in \[0, 2\] for shapes \(3, 4\) and \(3, 4\)"),
    (lambda m, v: gnp.tensordot(m, m, axes=-1), TraceError, r"tensordot: axes=-1 must be in \[0, 2\]"),
    (lambda m, v: gnp.tensordot(m, m, axes=1), TraceError, r"tensordot: axis 1 of a \(shape \(3, 4\)\) has size 4 but axis 0 of b \(shape \(3, 4\)\) has 3"),
    (lambda m, v: gnp.tensordot(m, v[:1], axes=([1], [0])), TraceError, r"tensordot: axis 1 of a .* has size 4 but axis 0 of b .* has 1"),
    (lambda m, v: gnp.tensordot(m, m, axes=([0, 1], [0])), TraceError, r"tensordot: axes .* pair 2 axes of a with 1 of b"),
    (lambda m, v: gnp.tensordot(m, m, axes=([0, 0], [0, 0])), TraceError, r"tensordot: axes .* repeat an axis of a"),
    (lambda m, v: gnp.tensordot(m, v, axes=([2], [0])), TraceError, r"tensordot: axis 2 is out of range"),
    (lambda m, v: gnp.tensordot(m, v, axes=[1]), TraceTypeError, r"tensordot: axes is an int or a pair of axis sequences"),
    (lambda m, v: np.tensordot(m, m, axes=1), TraceError, r"tensordot: axis 1 of a"),
    (lambda m, v: gnp.linalg.multi_dot([m, m]), TraceError, r"linalg.multi_dot: arrays 0 and 1 are not aligned: shapes \(3, 4\) and \(3, 4\)"),
    (lambda m, v: gnp.linalg.multi_dot([v, m[None], v]), TraceError, r"linalg.multi_dot: array 1 has 3 dimensions"),
    (lambda m, v: gnp.linalg.multi_dot([m]), TraceError, r"linalg.multi_dot: needs at least two arrays, got 1"),
]


@pytest.mark.parametrize("fn, error, pattern", ERRORS, ids=[p for _, _, p in ERRORS])
def test_bad_input_is_a_located_error(fn, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        gradc.lower(fn, M, V)
    assert isinstance(info.value, GradcError)
    assert info.value.location == f"{__file__}:{fn.__code__.co_firstlineno}", info.value.location
