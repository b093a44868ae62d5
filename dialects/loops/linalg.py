"""`loops.linalg`: one factorization or solve of (batched) matrices over
whole buffers, what lower-array-to-loops makes of the `array` linear-algebra
ops; and its properties (LinalgParameters), which `c.linalg` shares.

    loops.linalg "solve" (%a, %b, %x, %scratch) : memref<2x8x8xf64>, memref<2x8x3xf64>, memref<2x8x3xf64>, memref<8x8xf64>

Buffers by kind (KINDS): the inputs, the output, then a scratch buffer
where the kind needs one (`scratch_shape`: [n, n], eigh [n + 3, n];
reused for every matrix of the batch).
Guarantees (the verifier): the shapes fit the kind; one float element type.
The algorithms, blocking and bad-input results: docs/linalg.md.
"""

from __future__ import annotations

import abc
from math import prod
from typing import ClassVar

from xdsl.dialects.builtin import MemRefType, StringAttr, UnitAttr
from xdsl.irdl import (
    IRDLOperation,
    opt_prop_def,
    prop_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.deferred_format import op_definition
from gradc.dialects.loops.nests import _float_element, memref_shape

KINDS: dict[str, tuple[int, bool]] = {
    "cholesky": (1, False),
    "triangular_solve": (2, False),
    "solve": (2, True),
    "slogdet": (1, True),
    "eigh": (1, True),
}
"""kind -> (number of inputs, whether a scratch buffer follows the output)."""

SCRATCH_ROWS = {"eigh": 3}
"""Rows a kind's scratch has beyond n (eigh: a Householder vector, its
product and the subdiagonal)."""


def scratch_shape(kind: str, n: int) -> tuple[int, int]:
    """The shape of a kind's scratch buffer: [n + extra rows, n]."""
    return n + SCRATCH_ROWS.get(kind, 0), n

FLAGS = ("lower", "transpose_a", "unit_diagonal")


class LinalgParameters(IRDLOperation, abc.ABC):
    """The kind of a `loops.linalg` / `c.linalg` and its flags."""

    kind = prop_def(StringAttr)
    lower = opt_prop_def(UnitAttr)
    transpose_a = opt_prop_def(UnitAttr)
    unit_diagonal = opt_prop_def(UnitAttr)

    FLAGS: ClassVar[tuple[str, ...]] = FLAGS

    @property
    def kind_name(self) -> str:
        return self.kind.data

    def flag(self, name: str) -> bool:
        return self.properties.get(name) is not None

    def flags(self) -> dict[str, bool]:
        return {name: self.flag(name) for name in FLAGS}

    def verify_kind(self) -> None:
        if self.kind_name not in KINDS:
            raise VerifyException(f"{self.name}: unknown kind {self.kind_name!r} (one of {', '.join(KINDS)})")
        allowed = {"triangular_solve": FLAGS, "solve": ("transpose_a",)}.get(self.kind_name, ())
        for name in FLAGS:
            if self.flag(name) and name not in allowed:
                raise VerifyException(f"{self.name}: {self.kind_name} takes no {name} flag")


@op_definition
class LinalgOp(LinalgParameters):
    """A linear-algebra kernel over whole buffers (see the module docstring)."""

    name = "loops.linalg"
    buffers = var_operand_def(MemRefType)
    assembly_format = (
        "$kind `(` $buffers `)` (`lower` $lower^)? (`transpose_a` $transpose_a^)? "
        "(`unit_diagonal` $unit_diagonal^)? attr-dict `:` type($buffers)"
    )
    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    def __init__(self, kind: str, buffers, **flags: bool):
        assert set(flags) <= set(FLAGS), flags
        props: dict = {"kind": StringAttr(kind)}
        props.update({name: UnitAttr() for name, on in flags.items() if on})
        super().__init__(operands=[list(buffers)], properties=props)

    @property
    def inputs(self):
        return self.buffers[: KINDS[self.kind_name][0]]

    @property
    def out(self):
        return self.buffers[KINDS[self.kind_name][0]]

    @property
    def scratch(self):
        inputs, has_scratch = KINDS[self.kind_name]
        return self.buffers[inputs + 1] if has_scratch else None

    def dims(self) -> tuple[int, int, int]:
        """(batch count, n, m): m the right-hand side's columns (else n)."""
        a = memref_shape(self, self.buffers[0])
        out = memref_shape(self, self.out)
        return prod(a[:-2]), a[-1], out[-1]

    def verify_(self) -> None:
        self.verify_kind()
        inputs, has_scratch = KINDS[self.kind_name]
        if len(self.buffers) != inputs + 1 + has_scratch:
            raise VerifyException(
                f"{self.name}: {self.kind_name} takes {inputs} input(s), the output"
                f"{' and a scratch buffer' if has_scratch else ''}; got {len(self.buffers)} buffers"
            )
        _float_element(self, *self.buffers)
        a = memref_shape(self, self.buffers[0])
        if len(a) < 2 or a[-1] != a[-2]:
            raise VerifyException(f"{self.name}: expected [..., n, n] matrices, got {self.buffers[0].type}")
        batch, n = a[:-2], a[-1]
        rhs = memref_shape(self, self.buffers[1]) if inputs == 2 else None
        want = {
            "cholesky": a,
            "triangular_solve": rhs,
            "solve": rhs,
            "slogdet": (*batch, 2),
            "eigh": (*batch, n + 1, n),
        }[self.kind_name]
        if rhs is not None and (rhs[:-2] != batch or rhs[-2] != n or len(rhs) != len(a)):
            raise VerifyException(f"{self.name}: right-hand side {self.buffers[1].type} does not fit {self.buffers[0].type}")
        if memref_shape(self, self.out) != want:
            raise VerifyException(f"{self.name}: the output must have shape {list(want)}, got {self.out.type}")
        if has_scratch and memref_shape(self, self.scratch) != scratch_shape(self.kind_name, n):
            raise VerifyException(
                f"{self.name}: the scratch buffer must have shape {list(scratch_shape(self.kind_name, n))}, "
                f"got {self.scratch.type}"
            )
