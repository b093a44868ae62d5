"""The `autodiff` dialect: requests for derivatives of a `func.func`.

Each op names a function by symbol and the argument positions to
differentiate with respect to (`wrt`); the autodiff passes replace it by a
call to a generated function made of ordinary `array` ops, so derivative
code is differentiable again and the requests compose (a request may name a
function that itself contains requests).

    %y, %dy = autodiff.jvp @f(%x, %w) tangents(%dx) wrt [0]
        : (tensor<4xf64>, tensor<4xf64>), (tensor<4xf64>) -> (tensor<f64>), (tensor<f64>)
    %y, %gx = autodiff.vjp @f(%x, %w) cotangents(%dy) wrt [0]
        : (tensor<4xf64>, tensor<4xf64>), (tensor<f64>) -> (tensor<f64>), (tensor<4xf64>)
    %loss, %gw = autodiff.grad @loss(%w, %x) wrt [0]
        : (tensor<4x3xf32>, tensor<8x4xf32>) -> (tensor<f32>), (tensor<4x3xf32>)
    %jac = autodiff.jacobian @f(%x) wrt [0] mode rev : (tensor<3xf64>) -> (tensor<2x3xf64>)
    %hess = autodiff.hessian @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<3x3xf64>)

Shapes: a tangent has the shape of its primal; the Jacobian of output i
(shape O_i) with respect to argument j (shape I_j) has shape O_i + I_j and
results are ordered output-major; the Hessian block (j, k) has shape
I_j + I_k, ordered row-major over the `wrt` pairs. `grad` returns all of the
callee's outputs (the first is the scalar being differentiated, the rest are
auxiliary values passed through) followed by one gradient per `wrt` entry.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import (
    DenseArrayBase,
    FlatSymbolRefAttrConstr,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    AttrSizedResultSegments,
    IRDLOperation,
    irdl_op_definition,
    prop_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import Pure, SymbolTable
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array import is_float

MODES = ("fwd", "rev")

CHECKPOINT_ATTR = "autodiff.checkpoint"
"""How a loop's reverse sweep gets its states (a string in the spelling of
`Checkpoint.parse`, passes/autodiff/checkpointing.py): on a derivative
request it is the default for every loop the request differentiates; on an
`array.scan` (`gradc.scan(..., checkpoint=...)`) it is that loop's own."""

TAPE_ATTR = "autodiff.tape"
"""On the forward scan of a scan's VJP: how many of its last per-step
outputs are the tape (the residuals of each step), read only by the reverse
scan of the same VJP as its leading xs. lower-array-to-loops lowers the two
scans together, storing or recomputing those per the checkpoint mode."""


def tangent_type(typ: Attribute) -> Attribute:
    """Tangents and cotangents have their primal's type."""
    return typ


def jacobian_type(out: Attribute, arg: Attribute) -> TensorType:
    assert isinstance(out, TensorType) and isinstance(arg, TensorType)
    return TensorType(
        out.get_element_type(), [*out.get_shape(), *arg.get_shape()]
    )


class DerivativeRequestOp(IRDLOperation, abc.ABC):
    """Common parts: the callee, its primal arguments, and `wrt`."""

    callee = prop_def(FlatSymbolRefAttrConstr)
    wrt = prop_def(DenseArrayBase.constr(i64))
    primals = var_operand_def(TensorType)

    @property
    def wrt_indices(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.wrt.get_values())

    def callee_function(self) -> func.FuncOp:
        found = SymbolTable.lookup_symbol(self, self.callee)
        if not isinstance(found, func.FuncOp):
            raise VerifyException(
                f"{self.name}: '{self.callee.string_value()}' is not a func.func "
                "in the enclosing module"
            )
        return found

    def verify_(self) -> None:
        fn = self.callee_function()
        name = f"{self.name} @{fn.sym_name.data}"
        verify_checkpoint(self, name)
        inputs = fn.function_type.inputs.data
        if len(inputs) != len(self.primals) or any(
            a != v.type for a, v in zip(inputs, self.primals)
        ):
            raise VerifyException(
                f"{name}: arguments ({', '.join(str(v.type) for v in self.primals)}) "
                f"do not match the function's ({', '.join(str(t) for t in inputs)})"
            )
        wrt = self.wrt_indices
        if not wrt or list(wrt) != sorted(set(wrt)) or not all(0 <= i < len(inputs) for i in wrt):
            raise VerifyException(
                f"{name}: wrt must be sorted, unique argument positions in "
                f"[0, {len(inputs)}), got {list(wrt)}"
            )
        for i in wrt:
            typ = inputs[i]
            if not isinstance(typ, TensorType) or not is_float(typ.get_element_type()):
                raise VerifyException(
                    f"{name}: argument {i} has type {typ}; only f32 and f64 "
                    "arguments can be differentiated"
                )
        self.verify_results(fn, name)

    @abc.abstractmethod
    def verify_results(self, fn: func.FuncOp, name: str) -> None: ...

    def _expect(self, name: str, what: str, got: Sequence[Attribute], want: Sequence[Attribute]) -> None:
        if list(got) != list(want):
            raise VerifyException(
                f"{name}: {what} must be ({', '.join(map(str, want))}), "
                f"got ({', '.join(map(str, got))})"
            )


def _require_scalar_output(fn: func.FuncOp, name: str) -> None:
    outputs = fn.function_type.outputs.data
    first = outputs[0] if outputs else None
    if (
        not isinstance(first, TensorType)
        or first.get_shape() != ()
        or not is_float(first.get_element_type())
    ):
        raise VerifyException(
            f"{name}: the function must return a scalar (a 0-d f32 or f64 tensor) "
            f"first, got ({', '.join(map(str, outputs))})"
        )


@irdl_op_definition
class JvpOp(DerivativeRequestOp):
    """Forward mode: outputs and their tangents along `tangents` (one per
    `wrt` entry)."""

    name = "autodiff.jvp"
    primals = var_operand_def(TensorType)
    tangents = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    tangent_outputs = var_result_def(TensorType)
    irdl_options = (AttrSizedOperandSegments(as_property=True), AttrSizedResultSegments(as_property=True))
    assembly_format = (
        "$callee `(` $primals `)` `tangents` `(` $tangents `)` `wrt` $wrt attr-dict "
        "`:` `(` type($primals) `)` `,` `(` type($tangents) `)` `->` "
        "`(` type($outputs) `)` `,` `(` type($tangent_outputs) `)`"
    )
    traits = traits_def(Pure())

    def __init__(self, fn: func.FuncOp, primals: Sequence[SSAValue], tangents: Sequence[SSAValue], wrt: Sequence[int]):
        outs = list(fn.function_type.outputs.data)
        super().__init__(
            operands=[list(primals), list(tangents)],
            result_types=[outs, [tangent_type(t) for t in outs]],
            properties=_request_props(fn, wrt),
        )

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        inputs = fn.function_type.inputs.data
        outs = fn.function_type.outputs.data
        self._expect(name, "tangents", [t.type for t in self.tangents], [inputs[i] for i in self.wrt_indices])
        self._expect(name, "outputs", [r.type for r in self.outputs], outs)
        self._expect(name, "tangent outputs", [r.type for r in self.tangent_outputs], outs)


@irdl_op_definition
class VjpOp(DerivativeRequestOp):
    """Reverse mode: outputs, and the cotangents of the `wrt` arguments given
    `cotangents` (one per output)."""

    name = "autodiff.vjp"
    primals = var_operand_def(TensorType)
    cotangents = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    gradients = var_result_def(TensorType)
    irdl_options = (AttrSizedOperandSegments(as_property=True), AttrSizedResultSegments(as_property=True))
    assembly_format = (
        "$callee `(` $primals `)` `cotangents` `(` $cotangents `)` `wrt` $wrt attr-dict "
        "`:` `(` type($primals) `)` `,` `(` type($cotangents) `)` `->` "
        "`(` type($outputs) `)` `,` `(` type($gradients) `)`"
    )
    traits = traits_def(Pure())

    def __init__(self, fn: func.FuncOp, primals: Sequence[SSAValue], cotangents: Sequence[SSAValue], wrt: Sequence[int]):
        inputs = fn.function_type.inputs.data
        super().__init__(
            operands=[list(primals), list(cotangents)],
            result_types=[list(fn.function_type.outputs.data), [inputs[i] for i in wrt]],
            properties=_request_props(fn, wrt),
        )

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        inputs = fn.function_type.inputs.data
        outs = fn.function_type.outputs.data
        self._expect(name, "cotangents", [t.type for t in self.cotangents], outs)
        self._expect(name, "outputs", [r.type for r in self.outputs], outs)
        self._expect(name, "gradients", [r.type for r in self.gradients], [inputs[i] for i in self.wrt_indices])


@irdl_op_definition
class GradOp(DerivativeRequestOp):
    """Gradient of the function's first output, a scalar; the function's other
    outputs are auxiliary values, returned unchanged before the gradients."""

    name = "autodiff.grad"
    outputs = var_result_def(TensorType)
    gradients = var_result_def(TensorType)
    irdl_options = (AttrSizedResultSegments(as_property=True),)
    assembly_format = (
        "$callee `(` $primals `)` `wrt` $wrt attr-dict `:` `(` type($primals) `)` "
        "`->` `(` type($outputs) `)` `,` `(` type($gradients) `)`"
    )
    traits = traits_def(Pure())

    def __init__(self, fn: func.FuncOp, primals: Sequence[SSAValue], wrt: Sequence[int]):
        inputs = fn.function_type.inputs.data
        super().__init__(
            operands=[list(primals)],
            result_types=[list(fn.function_type.outputs.data), [inputs[i] for i in wrt]],
            properties=_request_props(fn, wrt),
        )

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        _require_scalar_output(fn, name)
        inputs = fn.function_type.inputs.data
        self._expect(name, "outputs", [r.type for r in self.outputs], fn.function_type.outputs.data)
        self._expect(name, "gradients", [r.type for r in self.gradients], [inputs[i] for i in self.wrt_indices])


@irdl_op_definition
class JacobianOp(DerivativeRequestOp):
    """Jacobians of every output with respect to every `wrt` argument, in
    forward (`fwd`: one batched JVP over all input directions) or reverse
    (`rev`: one batched VJP over all output directions) mode."""

    name = "autodiff.jacobian"
    mode = prop_def(StringAttr)
    jacobians = var_result_def(TensorType)
    traits = traits_def(Pure())

    assembly_format = (
        "$callee `(` $primals `)` `wrt` $wrt `mode` $mode attr-dict `:` "
        "`(` type($primals) `)` `->` `(` type($jacobians) `)`"
    )

    def __init__(self, fn: func.FuncOp, primals: Sequence[SSAValue], wrt: Sequence[int], mode: str):
        inputs = fn.function_type.inputs.data
        types = [jacobian_type(o, inputs[i]) for o in fn.function_type.outputs.data for i in wrt]
        super().__init__(
            operands=[list(primals)],
            result_types=[types],
            properties={**_request_props(fn, wrt), "mode": StringAttr(mode)},
        )

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        if self.mode.data not in MODES:
            raise VerifyException(f"{name}: mode must be fwd or rev, got '{self.mode.data}'")
        inputs = fn.function_type.inputs.data
        outs = fn.function_type.outputs.data
        for o in outs:
            if not isinstance(o, TensorType) or not is_float(o.get_element_type()):
                raise VerifyException(f"{name}: output {o} is not a float tensor")
        want = [jacobian_type(o, inputs[i]) for o in outs for i in self.wrt_indices]
        self._expect(name, "results", [r.type for r in self.jacobians], want)


@irdl_op_definition
class HessianOp(DerivativeRequestOp):
    """Second derivatives of a scalar function (forward over reverse)."""

    name = "autodiff.hessian"
    hessians = var_result_def(TensorType)
    traits = traits_def(Pure())

    assembly_format = (
        "$callee `(` $primals `)` `wrt` $wrt attr-dict `:` "
        "`(` type($primals) `)` `->` `(` type($hessians) `)`"
    )

    def __init__(self, fn: func.FuncOp, primals: Sequence[SSAValue], wrt: Sequence[int]):
        inputs = fn.function_type.inputs.data
        types = [jacobian_type(inputs[i], inputs[j]) for i in wrt for j in wrt]
        super().__init__(
            operands=[list(primals)], result_types=[types], properties=_request_props(fn, wrt)
        )

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        _require_scalar_output(fn, name)
        if len(fn.function_type.outputs.data) != 1:
            raise VerifyException(f"{name}: the function must return exactly one scalar")
        inputs = fn.function_type.inputs.data
        want = [jacobian_type(inputs[i], inputs[j]) for i in self.wrt_indices for j in self.wrt_indices]
        self._expect(name, "results", [r.type for r in self.hessians], want)


def verify_checkpoint(op: IRDLOperation, name: str) -> None:
    """A `checkpoint` attribute, if any, must be a known spelling."""
    from gradc.passes.autodiff.checkpointing import Checkpoint

    attr = op.attributes.get("checkpoint", op.attributes.get(CHECKPOINT_ATTR))
    if attr is None:
        return
    if not isinstance(attr, StringAttr):
        raise VerifyException(f"{name}: checkpoint must be a string, got {attr}")
    try:
        Checkpoint.parse(attr.data)
    except ValueError as error:
        raise VerifyException(f"{name}: {error}") from None


def _request_props(fn: func.FuncOp, wrt: Sequence[int]) -> dict[str, Attribute]:
    return {
        "callee": SymbolRefAttr(fn.sym_name.data),
        "wrt": DenseArrayBase.from_list(i64, list(wrt)),
    }


REQUEST_OPS = (JvpOp, VjpOp, GradOp, JacobianOp, HessianOp)

Autodiff = Dialect("autodiff", list(REQUEST_OPS))

__all__ = [
    "CHECKPOINT_ATTR",
    "TAPE_ATTR",
    "Autodiff",
    "DerivativeRequestOp",
    "GradOp",
    "HessianOp",
    "JacobianOp",
    "JvpOp",
    "REQUEST_OPS",
    "VjpOp",
    "jacobian_type",
]
