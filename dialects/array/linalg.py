"""`array` linear algebra over the last two dimensions, with any leading
(batch) dimensions: `array.cholesky`, `array.triangular_solve`,
`array.solve`, `array.slogdet`, `array.eigh`.

Each has one result (the autodiff passes take single-result ops): slogdet
packs (sign, log|det|) along a last dimension of 2, eigh packs the
eigenvalues as row 0 and the eigenvectors (columns) as rows 1..n of an
[..., n + 1, n] result. Meanings at bad inputs (NaN, not inf or an
exception) and why: docs/linalg.md.
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import TensorType, UnitAttr
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    operand_def,
    opt_prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, _require_float, static_shape, tensor_of
from gradc.dialects.deferred_format import op_definition


def _square(op: Operation, value: SSAValue) -> tuple[int, ...]:
    shape = static_shape(op, value)
    _require_float(op, value.type)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise VerifyException(f"{op.name}: expected [..., n, n] matrices, got {value.type}")
    return shape


def _right_hand_side(op: Operation, a: SSAValue, b: SSAValue) -> tuple[int, ...]:
    """Checks b is [..., n, m] for a [..., n, n] of the same element type."""
    sa, sb = _square(op, a), static_shape(op, b)
    if a.type.get_element_type() != b.type.get_element_type():
        raise VerifyException(f"{op.name}: element types differ: {a.type} and {b.type}")
    if len(sb) != len(sa) or sb[:-2] != sa[:-2] or sb[-2] != sa[-1]:
        raise VerifyException(
            f"{op.name}: right-hand side {b.type} does not fit {a.type} "
            "(expected [..., n, m] with the matrix's batch dimensions)"
        )
    return sb


class _Unary(IRDLOperation):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"
    traits = traits_def(Pure())

    def result_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape

    def __init__(self, input: SSAValue | Operation):
        input = SSAValue.get(input)
        assert isinstance(input.type, TensorType)
        shape = self.result_shape(tuple(input.type.get_shape()))
        super().__init__(operands=[input], result_types=[tensor_of(shape, input.type.get_element_type())])

    def verify_(self) -> None:
        shape = _square(self, self.input)
        _expect_type(self, self.result.type, tensor_of(self.result_shape(shape), self.input.type.get_element_type()))


@op_definition
class CholeskyOp(_Unary):
    """L with L L^T = A, lower triangular (upper triangle zero), reading only
    the lower triangle of A. Not positive definite: all NaN (as JAX)."""

    name = "array.cholesky"


@op_definition
class SlogdetOp(_Unary):
    """[..., n, n] -> [..., 2]: (sign, log|det|) of each matrix, by LU with
    partial pivoting; a singular matrix gives (0, -inf) as NumPy."""

    name = "array.slogdet"

    def result_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*shape[:-2], 2)


@op_definition
class EighOp(_Unary):
    """[..., n, n] -> [..., n + 1, n]: row 0 the eigenvalues of the symmetric
    matrix whose lower triangle is A's, ascending; rows 1..n the matrix whose
    columns are the unit eigenvectors, each with its largest-magnitude
    component positive."""

    name = "array.eigh"

    def result_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*shape[:-2], shape[-1] + 1, shape[-1])


class _Solve(IRDLOperation):
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    result = result_def(TensorType)
    transpose_a = opt_prop_def(UnitAttr)
    traits = traits_def(Pure())
    FLAGS: ClassVar[tuple[str, ...]] = ("transpose_a",)

    def __init__(self, a: SSAValue | Operation, b: SSAValue | Operation, **flags: bool):
        a, b = SSAValue.get(a), SSAValue.get(b)
        assert set(flags) <= set(self.FLAGS), flags
        super().__init__(
            operands=[a, b],
            result_types=[b.type],
            properties={name: UnitAttr() for name, on in flags.items() if on},
        )

    def flag(self, name: str) -> bool:
        return self.properties.get(name) is not None

    def flags(self) -> dict[str, bool]:
        return {name: self.flag(name) for name in self.FLAGS}

    def verify_(self) -> None:
        _right_hand_side(self, self.a, self.b)
        _expect_type(self, self.result.type, self.b.type)


@op_definition
class TriangularSolveOp(_Solve):
    """X with op(A) X = B, op(A) = A or (`transpose_a`) A^T; A is read only in
    its lower (`lower`) or upper triangle, and with `unit_diagonal` its
    diagonal is taken to be ones. A right-side solve X op(A) = B is the
    transpose of a left-side one (the frontend and the rules write it so)."""


    name = "array.triangular_solve"
    lower = opt_prop_def(UnitAttr)
    unit_diagonal = opt_prop_def(UnitAttr)
    FLAGS: ClassVar[tuple[str, ...]] = ("lower", "transpose_a", "unit_diagonal")
    assembly_format = (
        "$a `,` $b (`lower` $lower^)? (`transpose_a` $transpose_a^)? "
        "(`unit_diagonal` $unit_diagonal^)? attr-dict `:` type($a) `,` type($b) `->` type($result)"
    )


@op_definition
class SolveOp(_Solve):
    """X with op(A) X = B (op(A) = A, or A^T with `transpose_a`), by LU with
    partial pivoting. A singular A gives inf or NaN (as JAX)."""

    name = "array.solve"
    assembly_format = (
        "$a `,` $b (`transpose_a` $transpose_a^)? attr-dict `:` type($a) `,` type($b) `->` type($result)"
    )


LINALG_OPS = (CholeskyOp, TriangularSolveOp, SolveOp, SlogdetOp, EighOp)
