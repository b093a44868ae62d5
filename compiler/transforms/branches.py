"""Branches on traced values: `cond` and `switch` (JAX's `lax.cond` and
`lax.switch`), traced into one `array.switch`.

Expects: branch functions over `gradc.numpy` taking the operands (pytrees);
a scalar predicate (bool, or a number: nonzero is true, as in JAX) or a
scalar integer index.

Guarantees: every branch is traced once, as a nested trace; values a
branch closes over from enclosing traces become operands of the switch
(shared by all branches); the branches' outputs must have one pytree
structure, shapes and dtypes, else a located TraceTypeError names the
branch and the leaf (a Python number a branch returns is weakly typed and
takes the dtype of the other branches' leaf, as in JAX). The index is clamped into [0, len(branches) - 1] (in
the op's semantics, so at every level); a concrete (Python or NumPy)
predicate or index inside a trace just calls its branch, as does a
switch with one branch. Outside any trace, each runs through `gradc.jit`
(the predicate or index becomes an argument).

How a switch is differentiated, batched and lowered: docs/differentiation.md
and docs/lowering.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.ir import Attribute, Block, Region

from gradc.dialects import array
from gradc.errors import TraceTypeError
from gradc.frontend import pytree
from gradc.frontend.tracer import Trace, TracedArray, current_trace
from gradc.frontend.tracing import ArgSpec, TracedBody, _trace_body, arg_spec, function_name
from gradc.support.dense import element_type
from gradc.transforms.control_flow import _eager, _flags_as_arrays, _named
from gradc.transforms.derivatives import _in_trace

_INT32 = np.dtype(np.int32)


def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], *operands: Any) -> Any:
    """JAX's `lax.cond`: `true_fun(*operands)` if `pred` else
    `false_fun(*operands)`; only the chosen branch runs. `pred` is a scalar
    bool, or a scalar number (nonzero is true); both branches must return
    the same structure, shapes and dtypes."""
    for name, fn in (("true_fun", true_fun), ("false_fun", false_fun)):
        if not callable(fn):
            raise TraceTypeError(f"cond: {name} must be callable, got {type(fn).__name__} ({fn!r:.60})")
    branches = (false_fun, true_fun)
    operands = _flags_as_arrays(operands)
    trace = current_trace()
    if trace is None:
        pred = _concrete_scalar("cond", "pred", pred, "biuf")
        key = ("cond", false_fun)
        return _eager(true_fun, key, lambda: _named(lambda p, ops: cond(p, true_fun, false_fun, *ops), true_fun))(
            np.asarray(pred), operands
        )
    if not isinstance(pred, TracedArray):
        taken = bool(_concrete_scalar("cond", "pred", pred, "biuf"))
        return branches[int(taken)](*operands)
    _check_scalar("cond", "pred", pred, "biuf")
    pred = trace.adopt(pred)
    flag = pred if pred.dtype == np.bool_ else trace.emit(array.ConvertOp(pred.value, element_type(np.dtype(np.bool_))))
    index = trace.emit(array.ConvertOp(flag.value, element_type(_INT32)))
    return _switch(trace, "cond", index, branches, ("false_fun", "true_fun"), operands)


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """JAX's `lax.switch`: `branches[index](*operands)`, with `index` (a
    scalar integer) clamped into [0, len(branches) - 1]; only the chosen
    branch runs. All branches must return the same structure, shapes and
    dtypes."""
    if isinstance(branches, str) or not isinstance(branches, Sequence) or not branches:
        raise TraceTypeError(
            f"switch: branches must be a non-empty sequence of functions, got {type(branches).__name__} "
            f"({branches!r:.60})"
        )
    branches = tuple(branches)
    for k, fn in enumerate(branches):
        if not callable(fn):
            raise TraceTypeError(f"switch: branches[{k}] must be callable, got {type(fn).__name__} ({fn!r:.60})")
    operands = _flags_as_arrays(operands)
    trace = current_trace()
    if trace is None:
        index = _concrete_scalar("switch", "index", index, "iu")
        key = ("switch", branches[1:])
        return _eager(branches[0], key, lambda: _named(lambda i, ops: switch(i, branches, *ops), branches[0]))(
            np.asarray(index, np.int64), operands
        )
    if not isinstance(index, TracedArray):
        k = int(_concrete_scalar("switch", "index", index, "iu"))
        return branches[min(max(k, 0), len(branches) - 1)](*operands)
    _check_scalar("switch", "index", index, "iu")
    if len(branches) == 1:
        return branches[0](*operands)
    index = trace.adopt(index)
    return _switch(trace, "switch", index, branches, [f"branches[{k}]" for k in range(len(branches))], operands)


def _kinds(kinds: str) -> str:
    return "a bool or a number" if "b" in kinds else "an integer"


def _concrete_scalar(label: str, name: str, value: Any, kinds: str) -> Any:
    """A Python or NumPy predicate/index, checked: 0-d, of one of `kinds`."""
    if isinstance(value, bool | int | float) and not (isinstance(value, bool | float) and "b" not in kinds):
        return value
    try:
        arr = np.asarray(value) if isinstance(value, np.ndarray | np.generic) else None
    except Exception:  # noqa: BLE001
        arr = None
    if arr is None:
        raise TraceTypeError(f"{label}: {name} must be {_kinds(kinds)} scalar, got {type(value).__name__} ({value!r:.60})")
    if arr.ndim != 0:
        raise TraceTypeError(f"{label}: {name} must be a scalar, got an array of shape {arr.shape}")
    if arr.dtype.kind not in kinds:
        raise TraceTypeError(f"{label}: {name} must be {_kinds(kinds)} scalar, got {arr.dtype.name}")
    return arr[()]


def _check_scalar(label: str, name: str, value: TracedArray, kinds: str) -> None:
    if value.shape:
        raise TraceTypeError(
            f"{label}: {name} must be a scalar, got a traced array of shape {value.shape} "
            f"(reduce it first, or use gnp.where to choose elementwise)"
        )
    if value.dtype.kind not in kinds:
        raise TraceTypeError(f"{label}: {name} must be {_kinds(kinds)} scalar, got a traced {value.dtype.name}")


def _switch(
    trace: Trace, label: str, index: TracedArray, branches: Sequence[Callable[..., Any]], names: Sequence[str],
    operands: tuple,
) -> Any:
    """Trace each branch on the operands and emit the switch."""
    leaves, tree = pytree.flatten(operands)
    specs = [arg_spec(leaf, f"{label}: operand " + pytree.format_path("operands", key)) for leaf, key in zip(leaves, pytree.leaf_keys(tree))]
    bodies: list[TracedBody] = []
    for fn, name in zip(branches, names):
        child = Trace(Block(), parent=trace)
        bodies.append(_trace_body(child, _labelled(label, name, fn), operands, None))
    targets = _output_specs(label, names, bodies)
    captures: list[TracedArray] = []
    for body in bodies:
        for c in body.captures:
            if all(c.value is not d.value for d in captures):
                captures.append(c)
    inputs = [_in_trace(trace, leaf, s) for leaf, s in zip(leaves, specs)] + [trace.adopt(c) for c in captures]
    result_types = [array.tensor_of(t.shape, element_type(t.dtype)) for t in targets]
    regions = [Region(_region_block(body, len(leaves), captures, inputs, result_types)) for body in bodies]
    op = array.SwitchOp(index.value, [v.value for v in inputs], result_types, regions)
    results = trace.emit_all(op, [t.weak for t in targets])
    return pytree.unflatten(bodies[0].out_tree, results)


def _labelled(label: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, whose wrong number of operands is a located error naming it."""

    def call(*args: Any) -> Any:
        try:
            inspect.signature(fn).bind(*args)
        except TypeError as err:
            raise TraceTypeError(f"{label}: {name} ({function_name(fn)}) cannot take the {len(args)} operands: {err}") from None
        except ValueError:
            pass  # no signature to check (a builtin): the call says
        out_leaves, out_tree = pytree.flatten(fn(*args))
        trace = current_trace()
        assert trace is not None
        # A Python number a branch returns stays weakly typed (see _output_specs).
        return pytree.unflatten(out_tree, [
            _in_trace(trace, leaf, arg_spec(leaf, "output")) if isinstance(leaf, int | float) and not isinstance(leaf, bool)
            else leaf for leaf in out_leaves
        ])

    return call


def _output_specs(label: str, names: Sequence[str], bodies: Sequence[TracedBody]) -> list[ArgSpec]:
    """What each output leaf of the switch is: the branches' common
    structure, shapes and dtypes (else a TraceTypeError naming the first
    branch that differs from the first branch, and the leaf). A weakly
    typed leaf (a Python number) takes the dtype of the others, as JAX
    promotes weakly typed branch outputs: an int to any dtype, a float
    to a float one; the result is weak only when every branch's is."""
    first = bodies[0]
    for k, body in enumerate(bodies):
        if body.out_tree != first.out_tree:
            raise TraceTypeError(
                f"{label}: {names[k]} returns a value of structure {body.out_tree}, but {names[0]} "
                f"returns {first.out_tree}; all branches must return the same structure"
            )
    targets = []
    for n, key in enumerate(pytree.leaf_keys(first.out_tree)):
        specs = [body.out_specs[n] for body in bodies]
        strong = [s for s in specs if not s.weak] or sorted(specs, key=lambda s: s.dtype.kind != "f")[:1]
        target = ArgSpec(strong[0].shape, strong[0].dtype, all(s.weak for s in specs))
        for k, s in enumerate(specs):
            promotes = s.weak and s.shape == target.shape and (s.dtype.kind == "i" or target.dtype.kind == "f")
            if (s.shape, s.dtype) != (target.shape, target.dtype) and not promotes:
                other = next(j for j, t in enumerate(specs) if (t.shape, t.dtype) != (s.shape, s.dtype))
                k, other = max(k, other), min(k, other)
                raise TraceTypeError(
                    f"{label}: {pytree.format_path('output', key)} is {_describe(specs[k])} in {names[k]} but "
                    f"{_describe(specs[other])} in {names[other]}; all branches must return the same shapes "
                    "and dtypes"
                )
        targets.append(target)
    return targets


def _describe(spec: ArgSpec) -> str:
    return f"{spec.dtype.name}{list(spec.shape)}"


def _region_block(
    body: TracedBody, n: int, captures: Sequence[TracedArray], inputs: Sequence[TracedArray],
    result_types: Sequence[Attribute],
) -> Block:
    """`body`'s block as a region of the switch: arguments (operand leaves,
    then every branch's captures in `captures` order), ending in
    `array.yield` of `result_types` (a weakly typed output converted)."""
    block = Block(arg_types=[v.value.type for v in inputs])
    old = body.block
    for old_arg, new_arg in zip(old.args[:n], block.args[:n]):
        old_arg.replace_all_uses_with(new_arg)
    for old_arg, c in zip(old.args[n:], body.captures):
        position = next(k for k, d in enumerate(captures) if d.value is c.value)
        old_arg.replace_all_uses_with(block.args[n + position])
    ret = old.last_op
    assert isinstance(ret, func.ReturnOp)
    values = list(ret.operands)
    old.erase_op(ret)
    for op in list(old.ops):
        op.detach()
        block.add_op(op)
    for k, (v, typ) in enumerate(zip(values, result_types, strict=True)):
        if v.type != typ:
            convert = array.ConvertOp(v, typ.get_element_type())
            block.add_op(convert)
            values[k] = convert.result
    block.add_op(array.YieldOp(values))
    return block


__all__ = ["cond", "switch"]
