"""`loops.special`: one scalar special function that upstream `math` lacks
(`%y = loops.special "erfc"(%x) : f64`).

Guarantees (the verifier): the function is one of SPECIAL_FUNCTIONS and the
operand and result are one f32 or f64 type. lower-loops-to-c makes it a
libm call (`erfc`, `erfcf`).
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import Float32Type, Float64Type, StringAttr
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import AnyAttr, IRDLOperation, VarConstraint, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.deferred_format import op_definition

SPECIAL_FUNCTIONS = ("erfc",)
"""The functions `loops.special` computes, each a C99 libm function."""


@op_definition
class SpecialOp(IRDLOperation):
    """A special function of one float scalar."""

    name = "loops.special"
    T: ClassVar = VarConstraint("T", AnyAttr())
    function = prop_def(StringAttr)
    x = operand_def(T)
    result = result_def(T)
    assembly_format = "$function `(` $x `)` attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, function: str, x: SSAValue | Operation):
        x = SSAValue.get(x)
        super().__init__(operands=[x], properties={"function": StringAttr(function)}, result_types=[x.type])

    def verify_(self) -> None:
        if self.function.data not in SPECIAL_FUNCTIONS:
            raise VerifyException(
                f"loops.special: unknown function \"{self.function.data}\"; expected one of "
                + ", ".join(SPECIAL_FUNCTIONS)
            )
        if not isinstance(self.result.type, Float32Type | Float64Type):
            raise VerifyException(f"loops.special: expected f32 or f64, got {self.result.type}")
