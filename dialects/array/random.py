"""`array.threefry2x32`: the Threefry-2x32 block cipher (20 rounds), the
counter-based generator behind `gradc.random` (as JAX's).

Elementwise over four i32 tensors of one shape: key words k0, k1 and
counter words x0, x1, read as uint32 bit patterns (i32 addition wraps, so
the bits are those of uint32 arithmetic). The one result is the first
(`x0`) or second (`x1`) output word of the cipher, or their xor (`xor`,
what JAX's 32-bit random bits are). One result keeps the op an ordinary
elementwise op for fusion, batching and the element-rule lowering; a
caller wanting both words emits two ops (docs/random.md).
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import IntegerType, StringAttr, TensorType
from xdsl.ir import SSAValue, Operation
from xdsl.irdl import IRDLOperation, VarConstraint, base, irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, static_shape

THREEFRY_OUTPUTS = ("x0", "x1", "xor")
THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
"""Rotation counts of Threefry-2x32's rounds, four per group, the groups
alternating (Salmon et al. 2011, table 4)."""
THREEFRY_PARITY = 0x1BD11BDA
"""The key schedule's parity constant: ks2 = k0 ^ k1 ^ THREEFRY_PARITY."""


@irdl_op_definition
class Threefry2x32Op(IRDLOperation):
    """`array.threefry2x32 "xor" %k0, %k1, %x0, %x1 : tensor<8xi32>`: word
    `output` of Threefry-2x32-20 of counter (x0, x1) under key (k0, k1),
    element by element."""

    name = "array.threefry2x32"
    output = prop_def(StringAttr)
    T: ClassVar = VarConstraint("T", base(TensorType))
    k0 = operand_def(T)
    k1 = operand_def(T)
    x0 = operand_def(T)
    x1 = operand_def(T)
    result = result_def(T)
    assembly_format = "$output $k0 `,` $k1 `,` $x0 `,` $x1 attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(
        self,
        output: str,
        k0: SSAValue | Operation,
        k1: SSAValue | Operation,
        x0: SSAValue | Operation,
        x1: SSAValue | Operation,
    ):
        x0 = SSAValue.get(x0)
        super().__init__(
            operands=[k0, k1, x0, x1],
            properties={"output": StringAttr(output)},
            result_types=[x0.type],
        )

    def verify_(self) -> None:
        if self.output.data not in THREEFRY_OUTPUTS:
            raise VerifyException(
                f"{self.name}: output must be one of {', '.join(THREEFRY_OUTPUTS)}, got {self.output.data!r}"
            )
        shape = static_shape(self, self.x0)
        want = TensorType(IntegerType(32), list(shape))
        for name, value in (("k0", self.k0), ("k1", self.k1), ("x0", self.x0), ("x1", self.x1)):
            if value.type != want:
                raise VerifyException(f"{self.name}: {name} must be {want} (like x0), got {value.type}")
        _expect_type(self, self.result.type, want)


__all__ = ["THREEFRY_OUTPUTS", "THREEFRY_PARITY", "THREEFRY_ROTATIONS", "Threefry2x32Op"]
