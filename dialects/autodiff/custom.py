"""User-defined derivative rules: `autodiff.custom_jvp` and
`autodiff.custom_vjp` (JAX's `custom_jvp`, `custom_vjp`).

Each applies a primal function (`@f`) to its operands and names the
functions that the derivative passes use instead of differentiating
`@f`'s ops; `diff` lists the operand positions the rules give derivatives
for (the others, closed-over values and bools, have none). With n
operands `x`, outputs `y`, residuals `r`:

    custom_jvp  jvp @r:  (x..., dx_diff...)    -> (y..., dy...)
    custom_vjp  fwd @fw: (x...)                -> (y..., r...)
                bwd @bw: (x..., r..., dy...)   -> (dx_diff...)

Guarantees (the verifiers): every named symbol is a `func.func` of the
module with exactly these types; `diff` is sorted, unique, and names float
operands; outputs are float tensors. Without differentiation the op is a
call of `@f` (the interpreter runs it so; `differentiate` inlines it).

Spellings and how the passes use the rules: docs/differentiation.md.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, FlatSymbolRefAttrConstr, SymbolRefAttr, TensorType, i64
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, prop_def, traits_def, var_operand_def, var_result_def
from xdsl.traits import Pure, SymbolTable
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array import is_float
from gradc.dialects.deferred_format import op_definition


class CustomDerivativeOp(IRDLOperation, abc.ABC):
    """Common parts: the primal `callee`, its operands, `diff`, outputs."""

    callee = prop_def(FlatSymbolRefAttrConstr)
    diff = prop_def(DenseArrayBase.constr(i64))
    args = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    traits = traits_def(Pure())

    RULES: ClassVar[tuple[str, ...]] = ()
    """The names of the properties holding the rule functions."""

    @property
    def diff_indices(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.diff.get_values())

    def symbols(self) -> list[str]:
        """The functions this op names: the primal, then its rules."""
        return [self.callee.string_value(), *(self.properties[r].string_value() for r in self.RULES)]

    def function(self, name: str) -> func.FuncOp:
        found = SymbolTable.lookup_symbol(self, name)
        if not isinstance(found, func.FuncOp):
            raise VerifyException(f"{self.name}: '{name}' is not a func.func in the enclosing module")
        return found

    def verify_(self) -> None:
        types = [v.type for v in self.args]
        outs = [r.type for r in self.outputs]
        label = f"{self.name} @{self.callee.string_value()}"
        diff = self.diff_indices
        if list(diff) != sorted(set(diff)) or not all(0 <= i < len(types) for i in diff):
            raise VerifyException(f"{label}: diff must be sorted, unique operand positions, got {list(diff)}")
        for i in diff:
            if not is_float(types[i].get_element_type()):
                raise VerifyException(f"{label}: operand {i} ({types[i]}) is in diff but is not a float tensor")
        for o in outs:
            if not is_float(o.get_element_type()):
                raise VerifyException(f"{label}: output {o} is not a float tensor")
        _expect(label, self.function(self.callee.string_value()), types, outs)
        self.verify_rules(label, types, outs, [types[i] for i in diff])

    @abc.abstractmethod
    def verify_rules(
        self, label: str, types: list[Attribute], outs: list[Attribute], diff_types: list[Attribute]
    ) -> None: ...


def _expect(
    label: str, fn: func.FuncOp, inputs: Sequence[Attribute], outputs: Sequence[Attribute] | None
) -> None:
    got_in, got_out = list(fn.function_type.inputs.data), list(fn.function_type.outputs.data)
    if got_in != list(inputs) or (outputs is not None and got_out != list(outputs)):
        want_out = "..." if outputs is None else ", ".join(map(str, outputs))
        raise VerifyException(
            f"{label}: @{fn.sym_name.data} must have type ({', '.join(map(str, inputs))}) -> ({want_out}), "
            f"got ({', '.join(map(str, got_in))}) -> ({', '.join(map(str, got_out))})"
        )


def _props(callee: func.FuncOp, diff: Sequence[int], **rules: func.FuncOp) -> dict[str, Attribute]:
    return {
        "callee": SymbolRefAttr(callee.sym_name.data),
        "diff": DenseArrayBase.from_list(i64, list(diff)),
        **{k: SymbolRefAttr(fn.sym_name.data) for k, fn in rules.items()},
    }


@op_definition
class CustomJvpOp(CustomDerivativeOp):
    """`@f` with a forward-mode rule `@r`; reverse mode transposes the rule
    (it is linear in its tangents).

        %y = autodiff.custom_jvp @f(%x, %c) jvp @f_jvp diff [0]
               : (tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>)
    """

    name = "autodiff.custom_jvp"
    jvp = prop_def(FlatSymbolRefAttrConstr)
    RULES: ClassVar[tuple[str, ...]] = ("jvp",)
    assembly_format = (
        "$callee `(` $args `)` `jvp` $jvp `diff` $diff attr-dict "
        "`:` `(` type($args) `)` `->` `(` type($outputs) `)`"
    )

    def __init__(self, fn: func.FuncOp, rule: func.FuncOp, args: Sequence[SSAValue], diff: Sequence[int]):
        super().__init__(
            operands=[list(args)],
            result_types=[list(fn.function_type.outputs.data)],
            properties=_props(fn, diff, jvp=rule),
        )

    def verify_rules(self, label, types, outs, diff_types) -> None:
        _expect(label, self.function(self.jvp.string_value()), [*types, *diff_types], [*outs, *outs])


@op_definition
class CustomVjpOp(CustomDerivativeOp):
    """`@f` with a reverse-mode rule: `@fw` computes the outputs and
    residuals, `@bw` the cotangents of the `diff` operands. Forward mode
    has no rule to use.

        %y = autodiff.custom_vjp @f(%x) fwd @f_fwd bwd @f_bwd diff [0]
               : (tensor<3xf64>) -> (tensor<3xf64>)
    """

    name = "autodiff.custom_vjp"
    fwd = prop_def(FlatSymbolRefAttrConstr)
    bwd = prop_def(FlatSymbolRefAttrConstr)
    RULES: ClassVar[tuple[str, ...]] = ("fwd", "bwd")
    assembly_format = (
        "$callee `(` $args `)` `fwd` $fwd `bwd` $bwd `diff` $diff attr-dict "
        "`:` `(` type($args) `)` `->` `(` type($outputs) `)`"
    )

    def __init__(
        self, fn: func.FuncOp, fwd: func.FuncOp, bwd: func.FuncOp, args: Sequence[SSAValue], diff: Sequence[int]
    ):
        super().__init__(
            operands=[list(args)],
            result_types=[list(fn.function_type.outputs.data)],
            properties=_props(fn, diff, fwd=fwd, bwd=bwd),
        )

    def residual_types(self) -> list[Attribute]:
        return list(self.function(self.fwd.string_value()).function_type.outputs.data)[len(self.outputs) :]

    def verify_rules(self, label, types, outs, diff_types) -> None:
        fwd = self.function(self.fwd.string_value())
        _expect(label, fwd, types, None)
        fwd_outs = list(fwd.function_type.outputs.data)
        if fwd_outs[: len(outs)] != list(outs):
            raise VerifyException(
                f"{label}: @{fwd.sym_name.data} must return the outputs ({', '.join(map(str, outs))}) "
                f"first, got ({', '.join(map(str, fwd_outs))})"
            )
        residuals = fwd_outs[len(outs) :]
        _expect(label, self.function(self.bwd.string_value()), [*types, *residuals, *outs], diff_types)


CUSTOM_OPS = (CustomJvpOp, CustomVjpOp)

__all__ = ["CUSTOM_OPS", "CustomDerivativeOp", "CustomJvpOp", "CustomVjpOp"]
