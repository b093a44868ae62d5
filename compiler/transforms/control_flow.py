"""Structured loops: `scan` and `fori_loop`, traced into one `array.scan`;
`while_loop`, traced into one `array.while`; and `checkpoint`, a function
recomputed rather than taped in reverse mode.

Expects: a body of Python functions over `gradc.numpy`, static trip
counts (Python ints; a while_loop's is data dependent, bounded by its
optional `max_steps`), carries whose structure, shapes and dtypes the body
keeps, a while_loop condition that returns a scalar bool.

Guarantees: the body is traced once, as a nested trace (never unrolled);
its closed-over values of enclosing traces become the scan's
loop-invariant operands; the index fori_loop's body sees is a weakly
typed 0-d int64 (the scan's own index stays an f64 in the IR).
Outside any trace, each runs through `gradc.jit`.

Options: `checkpoint=` (`none`, `every=K`, `binomial(snapshots=S)`,
`budget=BYTES`; `Checkpoint` in dialects/autodiff/checkpointing.py): how
reverse mode gets this loop's states back; default: the derivative
request's, else the whole tape.

How the body is traced, and what the index is: docs/frontend.md.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, StringAttr
from xdsl.ir import Block, Operation, Region

from gradc.dialects import array
from gradc.dialects.autodiff import CHECKPOINT_ATTR
from gradc.errors import TraceError, TraceTypeError, user_location
from gradc.frontend import pytree
from gradc.frontend.creation import asarray
from gradc.frontend.shapes import expand_dims
from gradc.frontend.tracer import Trace, TracedArray, current_trace
from gradc.frontend.tracing import ArgSpec, _trace_body, arg_spec, argument_paths, function_name
from gradc.support.dense import element_type
from gradc.transforms.derivatives import _build_for, _call_for_user, _in_trace, checkpoint_mode


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    checkpoint: str | None = None,
) -> tuple[Any, Any]:
    """JAX's `lax.scan`: `carry, y = f(carry, x)` for each leading slice `x` of
    `xs`; returns the final carry and the `y`s stacked along a new leading
    axis. `init`, `xs` and the `y`s are pytrees; `length` is the trip count
    (needed when `xs` is None). `reverse=True` visits the slices last to
    first and stacks each `y` where its `x` was. `checkpoint` sets how reverse
    mode gets this loop's states back (see the module docstring)."""
    mode = checkpoint_mode("scan", checkpoint)
    init, xs = _flags_as_arrays(init), _flags_as_arrays(xs)
    trace = current_trace()
    if trace is None:
        key = ("scan", length, bool(reverse), mode)
        return _eager(f, key, lambda: _named(lambda init, xs: scan(f, init, xs, length, reverse, mode), f))(init, xs)
    return _scan(trace, "scan", lambda i, c, x: f(c, x), init, xs, length, bool(reverse), mode)


def fori_loop(
    lower: int, upper: int, body_fun: Callable[[Any, Any], Any], init_val: Any, checkpoint: str | None = None
) -> Any:
    """JAX's `lax.fori_loop`: `val = body_fun(i, val)` for i in
    range(lower, upper), with static Python int bounds. `i` is a weak 0-d
    int64 traced array, as a Python int (see the module docstring);
    `checkpoint` as for `scan`."""
    mode = checkpoint_mode("fori_loop", checkpoint)
    bounds = []
    for name, bound in (("lower", lower), ("upper", upper)):
        try:
            bounds.append(operator.index(bound))
        except TypeError:
            raise TraceTypeError(
                f"fori_loop: {name} must be a Python int (gradc loops have static "
                f"trip counts), got {type(bound).__name__} ({bound!r:.60})"
            ) from None
    lo, hi = bounds
    if hi <= lo:
        return init_val
    init_val = _flags_as_arrays(init_val)
    trace = current_trace()
    if trace is None:
        key = ("fori_loop", lo, hi, mode)
        return _eager(body_fun, key, lambda: _named(lambda init_val: fori_loop(lo, hi, body_fun, init_val, mode), body_fun))(init_val)
    carry, _ = _scan(
        trace, "fori_loop", lambda i, c, x: (body_fun(_integer_index(i) + lo, c), None), init_val, None, hi - lo,
        False, mode,
    )
    return carry


def while_loop(
    cond_fun: Callable[[Any], Any],
    body_fun: Callable[[Any], Any],
    init_val: Any,
    max_steps: int | None = None,
    checkpoint: str | None = None,
) -> Any:
    """JAX's `lax.while_loop`: `val = body_fun(val)` while `cond_fun(val)`
    (a scalar bool) holds; returns the last `val`. `init_val` is a pytree
    the body must return with the same structure, shapes and dtypes.

    `max_steps` (a Python int, optional; not in JAX): the loop must stop
    within that many iterations, else the compiled function raises a
    `gradc.LoopLimitError` naming the loop rather than run more. Reverse
    mode (grad, vjp, jacrev) needs it: it bounds the tape of the loop's
    states. `checkpoint` as for `scan`, but for `budget=`
    (docs/checkpointing.md, "While loops")."""
    mode = checkpoint_mode("while_loop", checkpoint)
    if max_steps is not None:
        try:
            max_steps = operator.index(max_steps)
        except TypeError:
            raise TraceTypeError(
                f"while_loop: max_steps must be a Python int or None, got {type(max_steps).__name__} "
                f"({max_steps!r:.60})"
            ) from None
        if max_steps < 0:
            raise TraceError(f"while_loop: max_steps must be >= 0, got {max_steps}")
    init_val = _flags_as_arrays(init_val)
    trace = current_trace()
    if trace is None:
        key = ("while_loop", cond_fun, max_steps, mode)
        return _eager(
            body_fun, key,
            lambda: _named(lambda init_val: while_loop(cond_fun, body_fun, init_val, max_steps, mode), body_fun),
        )(init_val)
    return _while(trace, cond_fun, body_fun, init_val, max_steps, mode)


def _while(
    trace: Trace,
    cond_fun: Callable[[Any], Any],
    body_fun: Callable[[Any], Any],
    init: Any,
    max_steps: int | None,
    checkpoint: str | None,
) -> Any:
    """Trace `cond_fun` and `body_fun` on the carry and emit the while."""
    label = "while_loop"
    leaves, tree = pytree.flatten(init)
    specs = [arg_spec(leaf, f"{label}: " + pytree.format_path("init_val", k)) for leaf, k in zip(leaves, pytree.leaf_keys(tree))]

    cond_trace = Trace(Block(), parent=trace)
    cond = _trace_body(cond_trace, lambda val: cond_fun(val), (init,), None)
    out = cond.out_specs
    if cond.out_tree != pytree.flatten(0.0)[1] or out[0].shape != () or out[0].dtype != np.bool_:
        got = f"{out[0].dtype.name}{list(out[0].shape)}" if cond.out_tree == pytree.flatten(0.0)[1] else f"a structure {cond.out_tree}"
        raise TraceTypeError(
            f"{label}: cond_fun must return a scalar bool (e.g. `x < tol`, `gnp.all(...)` for an "
            f"array), got {got}"
        )
    body_trace = Trace(Block(), parent=trace)
    body = _trace_body(body_trace, lambda val: body_fun(val), (init,), None)
    _check_carry(label, tree, specs, body.out_tree, body.out_specs, "init_val")

    invariants: list[TracedArray] = list(cond.captures)
    for c in body.captures:
        if all(c.value is not v.value for v in invariants):
            invariants.append(c)
    carry_types = [a.type for a in cond.block.args[: len(leaves)]]
    inv_types = [v.value.type for v in invariants]
    cond_block = _rebase(cond.block, len(leaves), cond.captures, invariants, carry_types + inv_types)
    body_block = _rebase(body.block, len(leaves), body.captures, invariants, carry_types + inv_types)
    ret = cond_block.last_op
    assert ret is not None
    flag = ret.operands[0]
    cond_block.erase_op(ret)
    cond_block.add_op(array.ConditionOp(flag))
    ret = body_block.last_op
    assert ret is not None
    values = list(ret.operands)
    body_block.erase_op(ret)
    body_block.add_op(array.YieldOp(values))

    initials = [_in_trace(trace, leaf, s) for leaf, s in zip(leaves, specs)]
    outer = [trace.adopt(c) for c in invariants]
    op = array.WhileOp([v.value for v in initials], [v.value for v in outer], Region(cond_block), Region(body_block), max_steps)
    _locate(op)
    if checkpoint is not None:
        op.attributes[CHECKPOINT_ATTR] = StringAttr(checkpoint)
    weak = [s.weak and o.weak for s, o in zip(specs, body.out_specs)]
    return pytree.unflatten(tree, trace.emit_all(op, weak))


def _rebase(
    block: Block, carries: int, captures: tuple[TracedArray, ...], invariants: list[TracedArray], types: list
) -> Block:
    """`block` (arguments: carries, then its own captures) moved into a new
    block whose arguments are the carries, then all the loop's invariants."""
    new = Block(arg_types=types)
    for old, arg in zip(block.args[:carries], new.args):
        old.replace_all_uses_with(arg)
    for old, c in zip(block.args[carries:], captures):
        k = next(k for k, v in enumerate(invariants) if v.value is c.value)
        old.replace_all_uses_with(new.args[carries + k])
    for op in list(block.ops):
        op.detach()
        new.add_op(op)
    return new


def _locate(op: Operation) -> None:
    """Give `op` the user's file:line (a loop's errors name it)."""
    location = user_location()
    if location is not None:
        filename, _, line = location.rpartition(":")
        op.location = FileLineColLoc(StringAttr(filename), IntAttr(int(line)), IntAttr(0))


def _integer_index(i: TracedArray) -> TracedArray:
    """The scan's f64 index (`array.INDEX_TYPE`) as what fori_loop's body
    sees: a weak int64, as a Python int (JAX gives an int32), so `xs[i]`
    indexes with an integer, `a_i32 + i` stays int32 and `i * x_f32` float32."""
    return i.trace.emit(array.ConvertOp(i.value, element_type(np.dtype(np.int64))), weak=True)


def checkpoint(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, whose intermediates reverse mode recomputes from its arguments
    when its adjoint runs instead of keeping them from the forward sweep
    (JAX's `jax.checkpoint`): memory for time, e.g. on each layer of a deep
    network or the body of a long loop. Values are unchanged; only what a
    gradient through it keeps differs (see `gradc.lower(...).memory`).

    A call traces `fn` as the body of a one-step loop over its arguments
    (each with a leading axis of 1, so that `fn`'s ops belong to the body
    rather than being hoisted out of it as loop-invariant), with the
    `recompute` schedule: the forward sweep runs `fn` keeping nothing, the
    reverse sweep runs it again, taping, then its adjoint."""
    label = f"checkpoint of {function_name(fn)}"

    def recomputed(*args: Any, **kwargs: Any) -> Any:
        trace = current_trace()
        if trace is None:
            return _eager(fn, ("checkpoint",), lambda: _named(recomputed, fn))(*args, **kwargs)

        leaves, tree = pytree.flatten((args, kwargs))
        # Python numbers and weakly typed traced scalars reach fn as they
        # are (constants, or invariants of the loop): stacked, they would
        # become strong float64 arrays (or int64 ones) and change dtypes.
        stack_at = [k for k, leaf in enumerate(leaves) if not _weak_scalar(leaf)]
        paths = argument_paths(fn, args, kwargs)
        for k in stack_at:
            arg_spec(leaves[k], f"{label}: argument {paths[k]}")
        stacked = [expand_dims(asarray(leaves[k]), 0) for k in stack_at]

        def body(i: Any, c: Any, x: Any) -> tuple[Any, Any]:
            given = list(leaves)
            for k, leaf in zip(stack_at, x):
                given[k] = leaf
            a, kw = pytree.unflatten(tree, given)
            return (), fn(*a, **kw)

        _, ys = _scan(trace, label, body, (), stacked, 1, False, "recompute")
        y_leaves, y_tree = pytree.flatten(ys)
        return pytree.unflatten(y_tree, [y.reshape(y.shape[1:]) for y in y_leaves])

    recomputed.__name__ = recomputed.__qualname__ = function_name(fn)
    recomputed.__doc__ = fn.__doc__
    return recomputed



def _weak_scalar(leaf: Any) -> bool:
    """A Python number, or a traced array standing for one."""
    return isinstance(leaf, bool | int | float) or (isinstance(leaf, TracedArray) and leaf.weak)


def _flags_as_arrays(tree: Any) -> Any:
    """`tree` with its Python bools as 0-d NumPy bools: a flag carried by a
    loop is a value of the loop (a function argument that is a Python bool
    is refused instead, as a flag to close over)."""
    leaves, treedef = pytree.flatten(tree)
    if not any(isinstance(leaf, bool) for leaf in leaves):
        return tree
    return pytree.unflatten(treedef, [np.bool_(leaf) if isinstance(leaf, bool) else leaf for leaf in leaves])


def _eager(fn: Callable[..., Any], key: tuple, make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """The compiled function a call outside any trace runs: built once per
    body function and `key` (the static arguments), then reused, so calling
    `scan` in a Python loop compiles once per signature, like `jax.jit`."""
    jitted = _build_for(fn, key, make)
    return lambda *args, **kwargs: _call_for_user(jitted, *args, **kwargs)


def _named(wrapper: Callable[..., Any], fn: Callable[..., Any]) -> Callable[..., Any]:
    """`wrapper` named after the body `fn`, so its C function is too."""
    wrapper.__name__ = wrapper.__qualname__ = f"loop_{function_name(fn)}"
    return wrapper


def _scan(
    trace: Trace,
    label: str,
    body_fn: Callable[[Any, Any, Any], Any],
    init: Any,
    xs: Any,
    length: int | None,
    reverse: bool = False,
    checkpoint: str | None = None,
) -> tuple[Any, Any]:
    """Trace `body_fn(index, carry, x) -> (carry, y)` and emit the scan."""
    carry_leaves, carry_tree = pytree.flatten(init)
    x_leaves, x_tree = pytree.flatten(xs)
    init_name = "init_val" if label == "fori_loop" else "init"
    carry_specs = [arg_spec(leaf, f"{label}: " + pytree.format_path(init_name, k)) for leaf, k in zip(carry_leaves, pytree.leaf_keys(carry_tree))]
    x_specs = [arg_spec(leaf, f"{label}: " + pytree.format_path("xs", k)) for leaf, k in zip(x_leaves, pytree.leaf_keys(x_tree))]
    n = _trip_count(label, x_specs, [pytree.format_path("xs", k) for k in pytree.leaf_keys(x_tree)], length)

    slices = [np.zeros(s.shape[1:], s.dtype) for s in x_specs]
    child = Trace(Block(), parent=trace)
    child.loop = label
    body = _trace_body(child, lambda i, c, x: _pair(label, body_fn(i, c, x)), (0.0, init, pytree.unflatten(x_tree, slices)), None)
    new_tree, y_tree = body.out_tree.children
    _check_carry(label, carry_tree, carry_specs, new_tree, body.out_specs[: carry_tree.num_leaves])

    block = body.block
    ret = block.last_op
    assert ret is not None
    values = list(ret.operands)
    block.erase_op(ret)
    block.add_op(array.YieldOp(values))
    y_specs = body.out_specs[carry_tree.num_leaves :]
    ys_types = [array.tensor_of([n, *s.shape], v.type.get_element_type()) for s, v in zip(y_specs, values[carry_tree.num_leaves :])]
    initials = [_in_trace(trace, leaf, s) for leaf, s in zip(carry_leaves, carry_specs)]
    stacked = [_in_trace(trace, leaf, s) for leaf, s in zip(x_leaves, x_specs)]
    invariants = [trace.adopt(c) for c in body.captures]
    op = array.ScanOp(n, [v.value for v in initials], [v.value for v in stacked], [v.value for v in invariants], ys_types, Region(block), reverse)
    if checkpoint is not None:
        op.attributes[CHECKPOINT_ATTR] = StringAttr(checkpoint)
    weak = [s.weak and o.weak for s, o in zip(carry_specs, body.out_specs)] + [False] * len(ys_types)
    results = trace.emit_all(op, weak, [s.dtype for s in (*carry_specs, *y_specs)])
    finals, ys = results[: carry_tree.num_leaves], results[carry_tree.num_leaves :]
    return pytree.unflatten(carry_tree, finals), pytree.unflatten(y_tree, ys)


def _pair(label: str, out: Any) -> tuple[Any, Any]:
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TraceTypeError(
            f"{label}: the body must return a pair (new carry, per-step output), "
            f"got {type(out).__name__}"
        )
    return out


def _trip_count(label: str, x_specs: list[ArgSpec], paths: list[str], length: int | None) -> int:
    sizes = {p: s.shape[0] for s, p in zip(x_specs, paths) if s.shape}
    scalars = [p for s, p in zip(x_specs, paths) if not s.shape]
    if scalars:
        raise TraceTypeError(f"{label}: {scalars[0]} is a scalar; xs leaves need a leading axis to scan over")
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{p} has {k}" for p, k in sizes.items())
        raise TraceError(f"{label}: xs leaves have different leading sizes ({listed})")
    if length is not None:
        try:
            length = operator.index(length)
        except TypeError:
            raise TraceTypeError(f"{label}: length must be a Python int, got {type(length).__name__}") from None
        if sizes and length != next(iter(sizes.values())):
            raise TraceError(f"{label}: length={length} but the xs leaves have leading size {next(iter(sizes.values()))}")
    elif not sizes:
        raise TraceError(f"{label}: pass length= when xs is None (or has no leaves)")
    n = length if length is not None else next(iter(sizes.values()))
    if n < 1:
        raise TraceError(f"{label}: the trip count must be >= 1, got {n}")
    return n


def _check_carry(
    label: str, tree: pytree.PyTreeDef, specs: list[ArgSpec], new_tree: pytree.PyTreeDef, new_specs: tuple[ArgSpec, ...],
    init: str = "init",
) -> None:
    """The body's new carry has the structure, shapes and dtypes of `init`."""
    if new_tree != tree:
        raise TraceTypeError(
            f"{label}: the body returns a carry with structure {new_tree}, but {init} has structure {tree}"
        )
    for key, old, new in zip(pytree.leaf_keys(tree), specs, new_specs):
        if (old.shape, old.dtype) != (new.shape, new.dtype):
            raise TraceTypeError(
                f"{label}: carry {pytree.format_path(init, key)} is {old.describe()} in {init} "
                f"but the body returns {new.describe()}; the carry must keep its shape and dtype"
            )


__all__ = ["checkpoint", "fori_loop", "scan", "while_loop"]
