"""The `autodiff` dialect: requests for derivatives of a `func.func`, and the
stack tape and checkpoint schedules of a loop's reverse sweep.

The requests (`autodiff.jvp`, `vjp`, `grad`, `jacobian`, `hessian`) each
name a function by symbol and the argument positions to differentiate with
respect to (`wrt`); the autodiff passes replace each by a call to a
generated function made of ordinary `array` ops, so derivative code is
differentiable again and the requests compose (a request may name a
function that itself contains requests). `autodiff.vmap` (batching, JAX's
vmap) is a request of the same kind: it names a function, which operands
carry a leading batch dimension, and the batch size.

Guarantees (the verifiers): a tangent has the shape of its primal; the
Jacobian of output i (shape O_i) with respect to argument j (shape I_j) has
shape O_i + I_j and results are ordered output-major; the Hessian block
(j, k) has shape I_j + I_k, ordered row-major over the `wrt` pairs. `grad`
returns all of the callee's outputs (the first is the scalar being
differentiated, the rest are auxiliary values passed through) followed by
one gradient per `wrt` entry.

`autodiff.custom_jvp` and `autodiff.custom_vjp` (custom.py) apply a
function with user-given derivative rules, which the autodiff passes use
instead of differentiating its ops.

At the loops level (what lower-array-to-loops makes of a scan's VJP) the
dialect holds the stack tape (PushOp, PopOp) and the checkpoint schedules
(ScheduleOp; the schedules themselves are in checkpointing.py).

Spellings with examples, and the `autodiff.checkpoint` and `autodiff.tape`
attributes: docs/dialects.md. Schedules: docs/checkpointing.md.
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
    I64,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.dialects.builtin import IndexType, IntegerAttr, MemRefType
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    AttrSizedResultSegments,
    IRDLOperation,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    MemoryReadEffect,
    MemoryWriteEffect,
    Pure,
    SingleBlockImplicitTerminator,
    SymbolTable,
)
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array import is_float
from gradc.dialects.autodiff.custom import CUSTOM_OPS, CustomDerivativeOp, CustomJvpOp, CustomVjpOp
from gradc.dialects.deferred_format import op_definition

MODES = ("fwd", "rev", "auto")
HESSIAN_MODES = ("fwd-over-rev", "rev-over-rev", "rev-over-fwd", "edge-pushing", "auto")
"""A Hessian request's `mode`: absent means fwd-over-rev."""

SPARSE_ATTR = "sparse"
"""A unit attribute on `autodiff.jacobian` and `autodiff.hessian`: the one
result is the vector of the structural nonzeros (CSR order of the flattened
outputs by the flattened `wrt` arguments), not the dense blocks."""

COMPRESS_ATTR = "compress"
"""On `autodiff.jacobian` and `autodiff.hessian`: "auto" (the default:
compress by coloring when the pattern saves enough sweeps), "always" or
"never" (plain vector mode)."""

COMPRESS_CHOICES = ("auto", "always", "never")

SEED_ATTR = "autodiff.seed"
"""On an `array.constant` made by a Jacobian or Hessian request: a 0/1 seed
(basis) matrix, direction-major. Products with it stand for gathers and sums
of the other operand; array-simplify rewrites them so."""

CHECKPOINT_ATTR = "autodiff.checkpoint"
"""How a loop's reverse sweep gets its states (a string in the spelling of
`Checkpoint.parse`, dialects/autodiff/checkpointing.py): on a derivative
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


@op_definition
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


@op_definition
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


@op_definition
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


@op_definition
class JacobianOp(DerivativeRequestOp):
    """Jacobians of every output with respect to every `wrt` argument, in
    forward (`fwd`: one batched JVP over all input directions) or reverse
    (`rev`: one batched VJP over all output directions) mode, or `auto`:
    the cheapest strategy by a multiplication count, which the pass picks."""

    name = "autodiff.jacobian"
    mode = prop_def(StringAttr)
    jacobians = var_result_def(TensorType)
    traits = traits_def(Pure())

    assembly_format = (
        "$callee `(` $primals `)` `wrt` $wrt `mode` $mode attr-dict `:` "
        "`(` type($primals) `)` `->` `(` type($jacobians) `)`"
    )

    def __init__(
        self,
        fn: func.FuncOp,
        primals: Sequence[SSAValue],
        wrt: Sequence[int],
        mode: str,
        compress: str | None = None,
        nnz: int | None = None,
    ):
        inputs = fn.function_type.inputs.data
        types = [jacobian_type(o, inputs[i]) for o in fn.function_type.outputs.data for i in wrt]
        super().__init__(
            operands=[list(primals)],
            result_types=[sparse_types(types, nnz)],
            properties={**_request_props(fn, wrt), "mode": StringAttr(mode)},
            attributes=_compression_attrs(compress, nnz),
        )

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        if self.mode.data not in MODES:
            raise VerifyException(f"{name}: mode must be fwd, rev or auto, got '{self.mode.data}'")
        inputs = fn.function_type.inputs.data
        outs = fn.function_type.outputs.data
        for o in outs:
            if not isinstance(o, TensorType) or not is_float(o.get_element_type()):
                raise VerifyException(f"{name}: output {o} is not a float tensor")
        want = [jacobian_type(o, inputs[i]) for o in outs for i in self.wrt_indices]
        verify_compression(self, name, want)
        if SPARSE_ATTR not in self.attributes:
            self._expect(name, "results", [r.type for r in self.jacobians], want)


@op_definition
class HessianOp(DerivativeRequestOp):
    """Second derivatives of a scalar function: `mode` "fwd-over-rev" (the
    default when absent: the forward-mode Jacobian of the gradient),
    "rev-over-rev" (its reverse-mode Jacobian), "rev-over-fwd" (the
    reverse-mode Jacobian of the forward-mode gradient), "edge-pushing"
    (one reverse sweep carrying second-order blocks) or "auto" (the one
    with the fewest multiplications, which the pass picks)."""

    name = "autodiff.hessian"
    mode = opt_prop_def(StringAttr)
    hessians = var_result_def(TensorType)
    traits = traits_def(Pure())

    assembly_format = (
        "$callee `(` $primals `)` `wrt` $wrt (`mode` $mode^)? attr-dict `:` "
        "`(` type($primals) `)` `->` `(` type($hessians) `)`"
    )

    def __init__(
        self,
        fn: func.FuncOp,
        primals: Sequence[SSAValue],
        wrt: Sequence[int],
        compress: str | None = None,
        nnz: int | None = None,
        mode: str | None = None,
    ):
        inputs = fn.function_type.inputs.data
        types = [jacobian_type(inputs[i], inputs[j]) for i in wrt for j in wrt]
        props = _request_props(fn, wrt)
        if mode is not None:
            props["mode"] = StringAttr(mode)
        super().__init__(
            operands=[list(primals)],
            result_types=[sparse_types(types, nnz)],
            properties=props,
            attributes=_compression_attrs(compress, nnz),
        )

    @property
    def strategy(self) -> str:
        """The requested mode, fwd-over-rev when absent."""
        return self.mode.data if self.mode is not None else "fwd-over-rev"

    def verify_results(self, fn: func.FuncOp, name: str) -> None:
        if self.strategy not in HESSIAN_MODES:
            raise VerifyException(f"{name}: mode must be one of {', '.join(HESSIAN_MODES)}, got '{self.strategy}'")
        _require_scalar_output(fn, name)
        if len(fn.function_type.outputs.data) != 1:
            raise VerifyException(f"{name}: the function must return exactly one scalar")
        inputs = fn.function_type.inputs.data
        want = [jacobian_type(inputs[i], inputs[j]) for i in self.wrt_indices for j in self.wrt_indices]
        verify_compression(self, name, want)
        if SPARSE_ATTR not in self.attributes:
            self._expect(name, "results", [r.type for r in self.hessians], want)


def sparse_types(dense: Sequence[TensorType], nnz: int | None) -> list[TensorType]:
    """The dense blocks' types, or with `nnz` the one vector of nonzeros
    (of the widest output element type)."""
    if nnz is None:
        return list(dense)
    widest = max((t.get_element_type() for t in dense), key=lambda el: el.bitwidth)
    return [TensorType(widest, [nnz])]


def _compression_attrs(compress: str | None, nnz: int | None) -> dict[str, Attribute]:
    attrs: dict[str, Attribute] = {}
    if compress is not None:
        attrs[COMPRESS_ATTR] = StringAttr(compress)
    if nnz is not None:
        attrs[SPARSE_ATTR] = UnitAttr()
    return attrs


def verify_compression(op: IRDLOperation, name: str, dense: Sequence[Attribute]) -> None:
    """The `sparse` and `compress` attributes of a Jacobian or Hessian
    request; with `sparse`, one 1-d float result in place of `dense`."""
    compress = op.attributes.get(COMPRESS_ATTR)
    if compress is not None and (not isinstance(compress, StringAttr) or compress.data not in COMPRESS_CHOICES):
        raise VerifyException(f"{name}: compress must be one of {', '.join(COMPRESS_CHOICES)}, got {compress}")
    if SPARSE_ATTR not in op.attributes:
        return
    if not isinstance(op.attributes[SPARSE_ATTR], UnitAttr):
        raise VerifyException(f"{name}: sparse must be a unit attribute")
    if compress is not None and compress.data == "never":
        raise VerifyException(f"{name}: a sparse request is always compressed (compress = \"never\" contradicts it)")
    types = [r.type for r in op.results]
    if len(types) != 1 or not isinstance(types[0], TensorType) or len(types[0].get_shape()) != 1:
        raise VerifyException(f"{name}: a sparse request has one 1-d result (the nonzeros), got {len(types)} results")
    want = {d.get_element_type() for d in dense if isinstance(d, TensorType)}
    if types[0].get_element_type() not in want:
        raise VerifyException(f"{name}: the nonzeros' element type {types[0].get_element_type()} is not an output's")


def verify_checkpoint(op: IRDLOperation, name: str) -> None:
    """A `checkpoint` attribute, if any, must be a known spelling."""
    from gradc.dialects.autodiff.checkpointing import Checkpoint

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


@op_definition
class VmapOp(IRDLOperation):
    """Batching (JAX's vmap): the callee applied to `size` rows at once.
    Operand i is batched when i is in `batched`: it has the callee's
    argument type with a leading dimension `size`, and row s of every
    result (each the callee's result type with a leading `size`) is the
    callee on row s of the batched operands (the others as they are).

        %ys = autodiff.vmap @f(%xs, %w) batched [0] size 8
            : (tensor<8x3xf64>, tensor<3x4xf64>) -> (tensor<8x4xf64>)
    """

    name = "autodiff.vmap"
    callee = prop_def(FlatSymbolRefAttrConstr)
    batched = prop_def(DenseArrayBase.constr(i64))
    size = prop_def(IntegerAttr.constr(type=i64))
    primals = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    traits = traits_def(Pure())

    assembly_format = (
        "$callee `(` $primals `)` `batched` $batched `size` $size attr-dict `:` "
        "`(` type($primals) `)` `->` `(` type($outputs) `)`"
    )

    def __init__(self, fn: func.FuncOp, primals: Sequence[SSAValue], batched: Sequence[int], size: int):
        outs = [batched_type(t, size) for t in fn.function_type.outputs.data]
        super().__init__(
            operands=[list(primals)],
            result_types=[outs],
            properties={
                "callee": SymbolRefAttr(fn.sym_name.data),
                "batched": DenseArrayBase.from_list(i64, list(batched)),
                "size": IntegerAttr(size, i64),
            },
        )

    @property
    def batched_indices(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.batched.get_values())

    @property
    def batch_size(self) -> int:
        return self.size.value.data

    callee_function = DerivativeRequestOp.callee_function

    def verify_(self) -> None:
        fn = self.callee_function()
        name = f"{self.name} @{fn.sym_name.data}"
        inputs, outs = fn.function_type.inputs.data, fn.function_type.outputs.data
        size, batched = self.batch_size, self.batched_indices
        if size < 1:
            raise VerifyException(f"{name}: size must be positive, got {size}")
        if list(batched) != sorted(set(batched)) or not all(0 <= i < len(inputs) for i in batched):
            raise VerifyException(
                f"{name}: batched must be sorted, unique argument positions in "
                f"[0, {len(inputs)}), got {list(batched)}"
            )
        want = [batched_type(t, size) if i in batched else t for i, t in enumerate(inputs)]
        got = [v.type for v in self.primals]
        if got != want:
            raise VerifyException(
                f"{name}: arguments ({', '.join(map(str, got))}) do not match the function's "
                f"with a leading {size} on the batched ones ({', '.join(map(str, want))})"
            )
        want = [batched_type(t, size) for t in outs]
        got = [r.type for r in self.outputs]
        if got != want:
            raise VerifyException(
                f"{name}: results must be ({', '.join(map(str, want))}), got ({', '.join(map(str, got))})"
            )


def batched_type(typ: Attribute, size: int) -> TensorType:
    """`typ` with a leading batch dimension `size`."""
    assert isinstance(typ, TensorType)
    return TensorType(typ.get_element_type(), [size, *typ.get_shape()])


REQUEST_OPS = (JvpOp, VjpOp, GradOp, JacobianOp, HessianOp, VmapOp)
"""Ops that ask for a transformation of a function: expanded by the
differentiate pass (passes/autodiff/requests.py), inner ones first."""


# ---------------------------------------------------------------------------
# Loop level: the stack tape and checkpoint schedules
# ---------------------------------------------------------------------------


def _check_entry(op: Operation, entry: SSAValue, tape: SSAValue) -> None:
    """A tape is a buffer of entries: [capacity, *entry shape], one element type."""
    e, t = entry.type, tape.type
    assert isinstance(e, MemRefType) and isinstance(t, MemRefType)
    if tuple(t.get_shape())[1:] != tuple(e.get_shape()) or t.get_element_type() != e.get_element_type():
        raise VerifyException(
            f"{op.name}: tape {t} does not hold entries of {e} (expected a leading capacity dimension)"
        )


class TapeCopyOp(IRDLOperation, abc.ABC):
    """A push or a pop: a copy between one tape entry (`entry`) and slot
    `slot` of a tape, a buffer whose leading (static) dimension is its
    capacity."""

    entry = operand_def(MemRefType)
    tape = operand_def(MemRefType)
    slot = operand_def(IndexType)
    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    def __init__(self, entry: SSAValue | Operation, tape: SSAValue | Operation, slot: SSAValue | Operation):
        super().__init__(operands=[entry, tape, slot])

    def verify_(self) -> None:
        _check_entry(self, self.entry, self.tape)


@op_definition
class PushOp(TapeCopyOp):
    """Copy one step's residual into a tape slot:

        autodiff.push %r, %tape[%slot] : memref<64xf64> into memref<100x64xf64>
    """

    name = "autodiff.push"
    assembly_format = "$entry `,` $tape `[` $slot `]` attr-dict `:` type($entry) `into` type($tape)"


@op_definition
class PopOp(TapeCopyOp):
    """Copy a tape slot into the residual a step's adjoint reads (the
    reverse of `autodiff.push`):

        autodiff.pop %tape[%slot] into %r : memref<100x64xf64> into memref<64xf64>
    """

    name = "autodiff.pop"
    assembly_format = "$tape `[` $slot `]` `into` $entry attr-dict `:` type($tape) `into` type($entry)"


SCHEDULE_REGIONS = (("advance", 1), ("store", 1), ("restore", 1), ("taped", 2), ("adjoint", 2))
"""The regions of a schedule op, in the order of the action kinds they run
(checkpointing.ADVANCE .. REVERSE), and how many `index` arguments each
takes: (step), (snapshot slot), (snapshot slot), (step, tape slot), (step,
tape slot)."""

PHASES = ("forward", "reverse")


class ScheduleSpec(IRDLOperation, abc.ABC):
    """What names one phase of a checkpoint schedule: the checkpoint
    spelling, the loop's steps, the phase, and the state and tape entry
    sizes in bytes (a budget derives its snapshots from them). The table of
    actions is regenerated from these (`table`), so the IR stays small for
    any number of steps. Shared by `autodiff.schedule` and `c.schedule`."""

    checkpoint = prop_def(StringAttr)
    phase = prop_def(StringAttr)
    steps = prop_def(IntegerAttr[I64])
    state_bytes = prop_def(IntegerAttr[I64])
    entry_bytes = prop_def(IntegerAttr[I64])
    advance = region_def("single_block")
    store = region_def("single_block")
    restore = region_def("single_block")
    taped = region_def("single_block")
    adjoint = region_def("single_block")

    @staticmethod
    def spec_properties(checkpoint: str, phase: str, steps: int, state_bytes: int, entry_bytes: int) -> dict[str, Attribute]:
        return {
            "checkpoint": StringAttr(checkpoint), "phase": StringAttr(phase),
            "steps": IntegerAttr(steps, i64), "state_bytes": IntegerAttr(state_bytes, i64),
            "entry_bytes": IntegerAttr(entry_bytes, i64),
        }

    @property
    def spec(self) -> tuple[str, str, int, int, int]:
        return (self.checkpoint.data, self.phase.data, self.steps.value.data,
                self.state_bytes.value.data, self.entry_bytes.value.data)

    def table(self) -> list[list[int]]:
        """This phase's rows [kind, first, stop, slot]: see checkpointing.tables."""
        from gradc.dialects.autodiff.checkpointing import phase_tables

        checkpoint, phase, steps, state, entry = self.spec
        return phase_tables(checkpoint, steps, state, entry)[phase].tolist()

    def verify_spec(self) -> None:
        from gradc.dialects.autodiff.checkpointing import phase_tables

        checkpoint, phase, steps, state, entry = self.spec
        if phase not in PHASES:
            raise VerifyException(f"{self.name}: phase must be forward or reverse, got '{phase}'")
        if not 1 <= steps < 2**31 or state < 0 or entry < 0:
            raise VerifyException(
                f"{self.name}: steps must be in [1, 2^31) and byte sizes >= 0, got steps {steps}, "
                f"state {state}, entry {entry}"
            )
        try:
            phase_tables(checkpoint, steps, state, entry)  # builds (and checks) the schedule once per loop
        except ValueError as error:
            raise VerifyException(f"{self.name}: {error}") from None
        for (name, count), region in zip(SCHEDULE_REGIONS, self.regions, strict=True):
            args = region.block.args
            if len(args) != count or any(not isinstance(a.type, IndexType) for a in args):
                raise VerifyException(f"{self.name}: region {name} takes {count} `index` argument(s)")

    def print_spec(self, printer: Printer) -> None:
        checkpoint, phase, steps, state, entry = self.spec
        printer.print_string(" ")
        printer.print_string_literal(checkpoint)
        printer.print_string(f" {phase} steps {steps} state {state} entry {entry}")
        printer.print_op_attributes(self.attributes, print_keyword=True)
        for (name, _), region in zip(SCHEDULE_REGIONS, self.regions, strict=True):
            printer.print_string(f" {name}(")
            printer.print_list(region.block.args, printer.print_operand)
            printer.print_string(") ")
            printer.print_region(region, print_entry_block_args=False, print_empty_block=False,
                                 print_block_terminators=False)

    @classmethod
    def parse_spec(cls, parser: Parser) -> tuple[dict[str, Attribute], dict[str, Attribute], list[Region]]:
        checkpoint = parser.parse_str_literal()
        phase = parser.parse_identifier()
        values = []
        for word in ("steps", "state", "entry"):
            parser.parse_keyword(word)
            values.append(parser.parse_integer(allow_boolean=False))
        attrs = parser.parse_optional_attr_dict_with_keyword()
        regions = []
        for name, _ in SCHEDULE_REGIONS:
            parser.parse_keyword(name)
            args = parser.parse_comma_separated_list(
                parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=False)
            )
            regions.append(parser.parse_region([a.resolve(IndexType()) for a in args]))
        props = cls.spec_properties(checkpoint, phase, *values)
        return props, (attrs.data if attrs is not None else {}), regions


def schedule_regions() -> list[Region]:
    """Empty regions with the arguments SCHEDULE_REGIONS asks for."""
    return [Region(Block(arg_types=[IndexType()] * count)) for _, count in SCHEDULE_REGIONS]


@op_definition
class ScheduleYieldOp(IRDLOperation):
    """Ends each region of an `autodiff.schedule` (implicit when printed)."""

    name = "autodiff.yield"
    assembly_format = "attr-dict"
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(ScheduleOp), Pure()))


@op_definition
class ScheduleOp(ScheduleSpec):
    """Run one phase of a checkpointed loop reversal (checkpointing.split):
    for each row of the phase's table, the region of its action.

        advance(%i)          run step %i without taping (state -> next state)
        store(%slot)         copy the current state into snapshot %slot
        restore(%slot)       copy snapshot %slot into the current state
        taped(%i, %slot)     run step %i, pushing its residuals at tape %slot
        adjoint(%i, %slot)   pop tape %slot, run the adjoint of step %i

    The regions work on buffers of the enclosing function (the state, the
    snapshots, the tape); the op only decides the order. In the forward
    phase (where the primal loop stood) each step runs exactly once, so its
    advance and taped regions also write the loop's per-step outputs; the
    reverse phase (where the loop's cotangents are computed) only
    recomputes states and runs adjoints.

        autodiff.schedule "every=3" forward steps 7 state 64 entry 64
            advance(%i) { ... } store(%s) { ... } restore(%s) { }
            taped(%i, %s) { ... } adjoint(%i, %s) { }
    """

    name = "autodiff.schedule"
    traits = traits_def(SingleBlockImplicitTerminator(ScheduleYieldOp))

    def __init__(self, checkpoint: str, phase: str, steps: int, state_bytes: int, entry_bytes: int,
                 regions: Sequence[Region] | None = None):
        regions = list(regions) if regions is not None else schedule_regions()
        super().__init__(
            properties=self.spec_properties(checkpoint, phase, steps, state_bytes, entry_bytes),
            regions=regions,
        )
        for region in regions:
            if not isinstance(region.block.last_op, ScheduleYieldOp):
                region.block.add_op(ScheduleYieldOp())

    def verify_(self) -> None:
        self.verify_spec()

    @classmethod
    def parse(cls, parser: Parser) -> ScheduleOp:
        props, attrs, regions = cls.parse_spec(parser)
        spec = [props[k] for k in ("checkpoint", "phase", "steps", "state_bytes", "entry_bytes")]
        op = cls(*(a.data if isinstance(a, StringAttr) else a.value.data for a in spec), regions=regions)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        self.print_spec(printer)


Autodiff = Dialect("autodiff", [*REQUEST_OPS, *CUSTOM_OPS, PushOp, PopOp, ScheduleOp, ScheduleYieldOp])

__all__ = [
    "CHECKPOINT_ATTR",
    "COMPRESS_ATTR",
    "COMPRESS_CHOICES",
    "HESSIAN_MODES",
    "SEED_ATTR",
    "SPARSE_ATTR",
    "sparse_types",
    "verify_compression",
    "PopOp",
    "PushOp",
    "TapeCopyOp",
    "ScheduleOp",
    "ScheduleSpec",
    "TAPE_ATTR",
    "Autodiff",
    "CUSTOM_OPS",
    "CustomDerivativeOp",
    "CustomJvpOp",
    "CustomVjpOp",
    "DerivativeRequestOp",
    "GradOp",
    "HessianOp",
    "JacobianOp",
    "JvpOp",
    "REQUEST_OPS",
    "VjpOp",
    "VmapOp",
    "batched_type",
    "jacobian_type",
]
