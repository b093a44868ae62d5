"""Derivative rules of `array.while`: `MULTI_JVP_RULES`, `MULTI_VJP_RULES`
(the interfaces of scan_rules.py).

Expects: called by the sweeps of transform.py on a while copied into the
derivative function, with at least one non-zero tangent or active operand.

Guarantees: the JVP is one new while carrying the tangents beside the
primal values, with the same condition (on the primal carries) and
max_steps. The VJP needs max_steps = N (else the pass fails at the loop,
saying so): a forward while that also counts its steps n and stores each
step's input carries at slot i of a tape of static capacity N (carried,
updated in place), then a while over k = n-1, ..., 0 that reads step k's
carries from the tape, recomputes that step and runs its reverse sweep.
Both emit only ops that have rules themselves (so derivatives of any order
work; the reverse while gets max_steps N too). The condition's inputs get
no derivative. Why and how: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import IntegerType, StringAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import array
from gradc.dialects.autodiff import CHECKPOINT_ATTR
from gradc.passes.autodiff.emitter import Emitter, Value, element_of, is_differentiable, shape_of
from gradc.passes.autodiff.scan_rules import _carried_tangents

COUNT_TYPE = array.tensor_of([], IntegerType(64))
"""The step counter of a taped while: a 0-d i64."""


def _clone_into(block: Block, ops: Sequence[Operation] | Block, mapping: dict[SSAValue, SSAValue]) -> None:
    for o in ops.ops if isinstance(ops, Block) else ops:
        block.add_op(o.clone(value_mapper=mapping))


def _cond_region(op: array.WhileOp, types: Sequence, carries: Sequence[int], invariants: Sequence[int]) -> Region:
    """op's condition over a block of arguments `types`, whose positions
    `carries` and `invariants` hold op's carries and invariants."""
    block = Block(arg_types=types)
    old_carries, old_invariants = op.cond_args()
    mapping = dict(zip(old_carries, [block.args[k] for k in carries], strict=True))
    mapping.update(zip(old_invariants, [block.args[k] for k in invariants], strict=True))
    _clone_into(block, op.cond_block, mapping)
    return Region(block)


def _new_while(e: Emitter, op: array.WhileOp, initials, invariants, cond: Region, body: Block, bound) -> array.WhileOp:
    new = array.WhileOp(initials, invariants, cond, Region(body), bound)
    new.location = e.location
    Rewriter.insert_op(new, e.point)
    return new


# --------------------------------------------------------------------------
# Forward mode: the tangents become extra carries
# --------------------------------------------------------------------------


def _while_jvp(e: Emitter, op: array.WhileOp, *tangents: Value) -> tuple[list[SSAValue], list[Value]]:
    """Tangents become extra carries and invariants of one new while whose
    body is the JVP of the old one and whose condition is the old one's on
    the primal carries. Returns (its values of op's results, their tangents)."""
    from gradc.passes.autodiff.transform import jvp_block

    c = len(op.initials)
    active = _carried_tangents(op, tangents)
    dinit = [e.materialize(t, v) for t, v, on in zip(tangents[:c], op.initials, active) if on]
    dinv = [(k, t) for k, t in enumerate(tangents[c:]) if t is not None]
    _, carries, _, invariants = op.body_args()
    groups = [list(carries), [a for a, on in zip(carries, active) if on], list(invariants), [invariants[k] for k, _ in dinv]]
    types = [a.type for group in groups for a in group]
    block = Block(arg_types=types)
    new_args = iter(block.args)
    new_groups = [[next(new_args) for _ in group] for group in groups]
    mapping = dict(zip(groups[0], new_groups[0])) | dict(zip(groups[2], new_groups[2]))
    tangent: dict[SSAValue, Value] = {}
    for k in (1, 3):
        tangent.update((mapping[old], new) for old, new in zip(groups[k], new_groups[k]))
    values, dvalues, inner = jvp_block(op.block, block, mapping, tangent)
    d_carries = [inner.materialize(t, v) for t, v, on in zip(dvalues, values, active) if on]
    Rewriter.insert_op(array.YieldOp([*values, *d_carries]), inner.point)
    n_carries = c + len(dinit)
    cond = _cond_region(op, types, range(c), range(n_carries, n_carries + len(invariants)))
    new = _new_while(e, op, [*op.initials, *dinit], [*op.invariants, *(t for _, t in dinv)], cond, block, op.bound)
    if CHECKPOINT_ATTR in op.attributes:
        new.attributes[CHECKPOINT_ATTR] = op.attributes[CHECKPOINT_ATTR]
    finals = iter(new.finals[c:])
    return list(new.finals[:c]), [next(finals) if on else None for on in active]


MULTI_JVP_RULES: dict[type, Callable[..., tuple[list[SSAValue], list[Value]]]] = {
    array.WhileOp: _while_jvp,
}


# --------------------------------------------------------------------------
# Reverse mode: a forward while taping its carries, then a while over the
# steps backwards
# --------------------------------------------------------------------------


@dataclass
class _WhileTranspose:
    """What the forward part of a while's VJP leaves for its reverse part."""

    op: array.WhileOp
    carried: list[bool]
    """Carries that can have a cotangent."""
    active_invariants: list[int]
    """Invariants whose cotangents the reverse while sums."""
    count: SSAValue
    """The number of steps the forward while ran."""
    tapes: list[SSAValue]
    """Per carry: its value at the start of each step, by step."""


def _fail(op: Operation, message: str) -> None:
    error = PassFailedException(message)
    error.op = op  # for gradc.pipeline.compile_for_user's location
    op.emit_error(message, error)


def _index(e: Emitter, value: int) -> SSAValue:
    return e.constant(np.asarray(value, np.int64))


def _while_vjp_forward(
    e: Emitter, op: array.WhileOp, active: list[bool]
) -> tuple[list[SSAValue], list[bool], _WhileTranspose]:
    """The forward while: op's carries, then a step counter, then one tape
    per carry ([max_steps, *shape]) whose slot i receives the carry at the
    start of step i."""
    bound = op.bound
    if bound is None:
        _fail(op, (
            "while_loop: reverse-mode differentiation (grad, vjp, jacrev, hessian) of a while_loop "
            "needs a bound on its trip count: pass max_steps=N (a Python int at least the number of "
            "iterations the loop runs; the tape holds N states); forward mode (jvp, jacfwd) needs none"
        ))
    mode = op.attributes.get(CHECKPOINT_ATTR)
    if isinstance(mode, StringAttr) and mode.data != "none":
        _fail(op, f"while_loop: checkpoint={mode.data!r} is not supported for while_loop yet; "
                  "its reverse mode keeps every state (checkpoint=None)")
    c = len(op.initials)
    carried = _carried_tangents(op, [True if on else None for on in active])
    capacity = max(bound, 1)
    _, carries, _, invariants = op.body_args()
    tape_types = [array.tensor_of([capacity, *shape_of(v)], element_of(v)) for v in op.initials]
    types = [*(a.type for a in carries), COUNT_TYPE, *tape_types, *(a.type for a in invariants)]
    block = Block(arg_types=types)
    args = block.args
    mapping = dict(zip(carries, args[:c])) | dict(zip(invariants, args[2 * c + 1 :]))
    _clone_into(block, [o for o in op.block.ops if o is not op.block.last_op], mapping)
    inner = Emitter(InsertPoint.at_end(block), e.location)
    count = args[c]
    zero = _index(inner, 0)
    new_tapes = [
        inner.dynamic_update_slice(tape, inner.reshape(carry, [1, *shape_of(carry)]), [count, *[zero] * len(shape_of(carry))])
        for carry, tape in zip(args[:c], args[c + 1 : 2 * c + 1])
    ]
    next_count = inner.add(count, _index(inner, 1))
    new_carries = [mapping.get(v, v) for v in op.yielded()[0]]
    block.add_op(array.YieldOp([*new_carries, next_count, *new_tapes]))
    cond = _cond_region(op, types, range(c), range(2 * c + 1, len(types)))
    initials = [*op.initials, _index(e, 0), *(e.full(t, 0.0) for t in tape_types)]
    fwd = _new_while(e, op, initials, op.invariants, cond, block, bound)
    acc = [k for k, (v, on) in enumerate(zip(op.invariants, active[c:])) if on and is_differentiable(v)]
    state = _WhileTranspose(op, carried, acc, fwd.finals[c], list(fwd.finals[c + 1 :]))
    return list(fwd.finals[:c]), list(carried), state


def _while_vjp_reverse(e: Emitter, t: _WhileTranspose, gs: Sequence[Value]) -> list[Value]:
    """The reverse while over k = n-1, ..., 0: carries (k, the carries'
    cotangents, the invariants' cotangent sums); each step reads the carries
    of step k from the tapes, recomputes the step and runs its reverse sweep."""
    from gradc.passes.autodiff.transform import vjp_block

    op, c = t.op, len(t.op.initials)
    _, carries, _, invariants = op.body_args()
    ct_index = [k for k, on in enumerate(t.carried) if on]
    cts = [e.materialize(gs[k], op.finals[k]) for k in ct_index]
    accs = [e.zeros_like(op.invariants[k]) for k in t.active_invariants]
    start = e.sub(t.count, _index(e, 1))
    r_initials = [start, *cts, *accs]
    r_invariants = [*t.tapes, *op.invariants]
    types = [v.type for v in (*r_initials, *r_invariants)]
    block = Block(arg_types=types)
    args = block.args
    k_arg = args[0]
    ct_args = args[1 : 1 + len(cts)]
    acc_args = args[1 + len(cts) : len(r_initials)]
    tape_args = args[len(r_initials) : len(r_initials) + c]
    inv_args = args[len(r_initials) + c :]
    inner = Emitter(InsertPoint.at_end(block), e.location)
    zero = _index(inner, 0)
    states = [
        inner.reshape(inner.dynamic_slice(tape, [k_arg, *[zero] * len(shape_of(v))], [1, *shape_of(v)]), shape_of(v))
        for tape, v in zip(tape_args, op.initials)
    ]
    mapping = dict(zip(carries, states)) | dict(zip(invariants, inv_args))
    live = {states[k] for k in ct_index} | {inv_args[k] for k in t.active_invariants}
    live = {v for v in live if is_differentiable(v)}
    given: list[Value] = [None] * c
    for k, a in zip(ct_index, ct_args):
        given[k] = a
    _, _, adjoint, _ = vjp_block(op.block, block, mapping, live, given)
    inner = Emitter(InsertPoint.at_end(block), e.location)
    new_cts = [inner.materialize(adjoint.get(states[k]), states[k]) for k in ct_index]
    new_accs = [inner.add(a, adjoint.get(inv_args[k])) for a, k in zip(acc_args, t.active_invariants)]
    new_k = inner.sub(k_arg, _index(inner, 1))
    block.add_op(array.YieldOp([new_k, *new_cts, *new_accs]))

    cond_block = Block(arg_types=types)
    ce = Emitter(InsertPoint.at_end(cond_block), e.location)
    flag = ce.emit(array.CompareOp("ge", cond_block.args[0], _index(ce, 0)))
    cond_block.add_op(array.ConditionOp(flag))
    rev = _new_while(e, op, r_initials, r_invariants, Region(cond_block), block, op.bound)
    finals = rev.finals
    result: list[Value] = [None] * len(op.operands)
    for j, k in enumerate(ct_index):
        result[k] = finals[1 + j]
    for j, k in enumerate(t.active_invariants):
        result[c + k] = finals[1 + len(cts) + j]
    return result


MULTI_VJP_RULES: dict[type, tuple[Callable[..., tuple[list[SSAValue], list[bool], object]], Callable[..., list[Value]]]] = {
    array.WhileOp: (_while_vjp_forward, _while_vjp_reverse),
}

__all__ = ["MULTI_JVP_RULES", "MULTI_VJP_RULES"]
