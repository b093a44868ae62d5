"""Derivative rules of `array.switch`, in the shapes of scan_rules'
`MULTI_JVP_RULES` and `MULTI_VJP_RULES`.

    JVP: one new switch on the same index whose regions are the JVPs of
        the branches (primal and tangent operands in, primal and tangent
        results out); it replaces the op.
    VJP: the op (a copy) in the forward sweep, nothing taped; in the
        reverse sweep, a switch on the same index whose regions are the
        VJPs of the branches: each recomputes its branch's forward sweep
        from the operands, then runs its reverse sweep on the results'
        cotangents, yielding the cotangents of the active operands.

Expects: called by the sweeps of transform.py on a switch copied into the
derivative function, with at least one non-zero tangent or active operand.

Guarantees: the index gets no derivative (it is an integer); a result has
a tangent (a cotangent is propagated for it) when some branch makes it
depend on a differentiated operand, and every branch then yields one
(zeros where its own is); everything emitted is `array` code that has
rules itself, so derivatives of any order follow. Why recompute rather
than tape: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.ir import Block, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.passes.autodiff.emitter import Emitter, Value, is_differentiable


def _switch_jvp(e: Emitter, op: array.SwitchOp, *tangents: Value) -> tuple[list[SSAValue], list[Value]]:
    """The switch of the branches' JVPs. Returns (its values of op's
    results, their tangents)."""
    from gradc.passes.autodiff.transform import erase_dead_block, jvp_block

    n = len(op.inputs)
    given = [(k, t) for k, t in enumerate(tangents[1:]) if t is not None]
    arg_types = [*op.inputs.types, *(op.inputs[k].type for k, _ in given)]
    built = []
    for region in op.branches:
        block = Block(arg_types=arg_types)
        mapping = dict(zip(region.block.args, block.args[:n], strict=True))
        tangent: dict[SSAValue, Value] = {block.args[k]: block.args[n + j] for j, (k, _) in enumerate(given)}
        built.append((block, *jvp_block(region.block, block, mapping, tangent)))
    has = [
        is_differentiable(r) and any(dvalues[i] is not None for _, _, dvalues, _ in built)
        for i, r in enumerate(op.outputs)
    ]
    for block, values, dvalues, inner in built:
        d = [inner.materialize(t, v) for t, v, on in zip(dvalues, values, has, strict=True) if on]
        Rewriter.insert_op(array.YieldOp([*values, *d]), inner.point)
        erase_dead_block(block)
    out_types = [*op.outputs.types, *(r.type for r, on in zip(op.outputs, has, strict=True) if on)]
    new = array.SwitchOp(op.index, [*op.inputs, *(t for _, t in given)], out_types, [Region(b) for b, *_ in built])
    new.location = e.location
    Rewriter.insert_op(new, e.point)
    m = len(op.outputs)
    extra = iter(new.outputs[m:])
    return list(new.outputs[:m]), [next(extra) if on else None for on in has]


@dataclass
class _SwitchTranspose:
    """What the forward part of a switch's VJP leaves for its reverse part."""

    op: array.SwitchOp
    """The copy the forward sweep runs (its operands are the op's)."""
    wrt: list[int]
    """Inputs (after the index) that get a cotangent."""
    active_outputs: list[bool]


def _active_outputs(op: array.SwitchOp, active: Sequence[bool]) -> list[bool]:
    """Results that some branch makes depend on an active float input (a
    nested op's results depend on all its operands)."""
    out = [False] * len(op.outputs)
    for k, region in enumerate(op.branches):
        live = {a for a, on in zip(region.block.args, active, strict=True) if on and is_differentiable(a)}
        for inner in region.block.ops:
            if any(v in live for v in inner.operands):
                live.update(inner.results)
        for i, v in enumerate(op.yielded(k)):
            out[i] = out[i] or (v in live and is_differentiable(v))
    return out


def _switch_vjp_forward(e: Emitter, op: array.SwitchOp, active: list[bool]) -> tuple[list[SSAValue], list[bool], _SwitchTranspose]:
    """The op itself (a copy, replacing it), keeping nothing but its
    operands for the reverse part."""
    new = op.clone()
    Rewriter.insert_op(new, e.point)
    flags = active[1:]
    wrt = [k for k, (on, v) in enumerate(zip(flags, op.inputs, strict=True)) if on and is_differentiable(v)]
    outs = _active_outputs(op, flags)
    return list(new.outputs), outs, _SwitchTranspose(new, wrt, outs)


def _switch_vjp_reverse(e: Emitter, t: _SwitchTranspose, gs: Sequence[Value]) -> list[Value]:
    """The switch of the branches' VJPs (each recomputing its forward
    sweep). Returns the cotangents of op's operands (None for the index)."""
    from gradc.passes.autodiff.transform import erase_dead_block, vjp_block

    op, n = t.op, len(t.op.inputs)
    seeded = [i for i, (g, on) in enumerate(zip(gs, t.active_outputs, strict=True)) if g is not None and on]
    result: list[Value] = [None] * (1 + n)
    if not seeded or not t.wrt:
        return result
    arg_types = [*op.inputs.types, *(op.outputs[i].type for i in seeded)]
    regions = []
    for region in op.branches:
        block = Block(arg_types=arg_types)
        mapping = dict(zip(region.block.args, block.args[:n], strict=True))
        cotangents: list[Value] = [None] * len(op.outputs)
        for j, i in enumerate(seeded):
            cotangents[i] = block.args[n + j]
        live = {block.args[k] for k in t.wrt}
        _, _, adjoint, _ = vjp_block(region.block, block, mapping, live, cotangents)
        inner = Emitter(InsertPoint.at_end(block), e.location)
        yielded = [inner.materialize(adjoint.get(block.args[k]), block.args[k]) for k in t.wrt]
        block.add_op(array.YieldOp(yielded))
        erase_dead_block(block)
        regions.append(Region(block))
    new = array.SwitchOp(op.index, [*op.inputs, *(gs[i] for i in seeded)], [op.inputs[k].type for k in t.wrt], regions)
    new.location = e.location
    Rewriter.insert_op(new, e.point)
    for k, g in zip(t.wrt, new.outputs, strict=True):
        result[1 + k] = g
    return result


SWITCH_JVP_RULES = {array.SwitchOp: _switch_jvp}
SWITCH_VJP_RULES = {array.SwitchOp: (_switch_vjp_forward, _switch_vjp_reverse)}

__all__ = ["SWITCH_JVP_RULES", "SWITCH_VJP_RULES"]
