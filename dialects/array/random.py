"""`array.threefry2x32`: the Threefry-2x32 block cipher (20 rounds), the
counter-based generator behind `gradc.random` (as JAX's).

Elementwise over four i32 tensors of one shape: key words k0, k1 and
counter words x0, x1, read as uint32 bit patterns (i32 addition wraps, so
the bits are those of uint32 arithmetic). The one result is the first
(`x0`) or second (`x1`) output word of the cipher, or their xor (`xor`,
what JAX's 32-bit random bits are). One result keeps the op an ordinary
elementwise op for fusion, batching and the element-rule lowering; a
caller wanting both words emits two ops (docs/random.md).

`threefry2x32` is the op's meaning on NumPy uint32 arrays (the interpreter
runs it; gradc.random computes with it outside tracing): arrays or scalars
that broadcast together, int32 bit patterns reinterpreted, not converted;
uint32 results bit-identical to the generated C.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from xdsl.dialects.builtin import IntegerType, StringAttr, TensorType
from xdsl.ir import SSAValue, Operation
from xdsl.irdl import IRDLOperation, VarConstraint, base, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _expect_type, static_shape
from gradc.dialects.deferred_format import op_definition

THREEFRY_OUTPUTS = ("x0", "x1", "xor")
THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
"""Rotation counts of Threefry-2x32's rounds, four per group, the groups
alternating (Salmon et al. 2011, table 4)."""
THREEFRY_PARITY = 0x1BD11BDA
"""The key schedule's parity constant: ks2 = k0 ^ k1 ^ THREEFRY_PARITY."""


@op_definition
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


def as_uint32(x: Any) -> np.ndarray:
    """`x` as uint32 bits: int32 arrays are viewed, Python ints taken mod 2**32."""
    arr = np.asarray(x)
    if arr.dtype == np.int32:
        return arr.view(np.uint32)
    if arr.dtype == np.uint32:
        return arr
    return (arr.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0: Any, k1: Any, x0: Any, x1: Any) -> tuple[np.ndarray, np.ndarray]:
    k0, k1, x0, x1 = np.broadcast_arrays(*(as_uint32(v) for v in (k0, k1, x0, x1)))
    ks = (k0, k1, k0 ^ k1 ^ np.uint32(THREEFRY_PARITY))
    with np.errstate(over="ignore"):
        y0, y1 = x0 + ks[0], x1 + ks[1]
        for group in range(5):
            for r in THREEFRY_ROTATIONS[group % 2]:
                y0 = y0 + y1
                y1 = _rotl(y1, r) ^ y0
            i = group + 1
            y0 = y0 + ks[i % 3]
            y1 = y1 + ks[(i + 1) % 3] + np.uint32(i)
    return np.asarray(y0, np.uint32), np.asarray(y1, np.uint32)


def threefry_output(output: str, k0: Any, k1: Any, x0: Any, x1: Any) -> np.ndarray:
    """The word `output` ("x0", "x1" or "xor") of `threefry2x32`, as uint32."""
    y0, y1 = threefry2x32(k0, k1, x0, x1)
    return {"x0": y0, "x1": y1, "xor": y0 ^ y1}[output]


__all__ = [
    "THREEFRY_OUTPUTS", "THREEFRY_PARITY", "THREEFRY_ROTATIONS", "Threefry2x32Op", "as_uint32", "threefry2x32",
    "threefry_output",
]
