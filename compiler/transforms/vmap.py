"""`vmap`: a function mapped over a batch axis of its arguments, as in JAX.

    per_example = gradc.vmap(gradc.grad(loss), in_axes=(None, 0, 0))

Expects: a Python function over `gradc.numpy`; `in_axes` an int, None, or
a pytree prefix of the positional arguments (tuples, lists, dicts; a None
leaf: not batched), keyword arguments mapped along axis 0; `out_axes` an
int, None or a prefix of the results; `axis_size` when no argument is
batched.

Guarantees: `f` is traced once, on one row, into a private function, and
an `autodiff.vmap` request for it is emitted (the differentiate pass
batches it with passes/autodiff/batching.py, after and before the other
requests it nests with, so vmap composes with grad, jacfwd, hessian, jit,
scan, custom_jvp and itself). A batch axis other than 0 is a transpose
before the request, an out_axes other than 0 one after it; an out_axes
None result is row 0 of the batched one (allowed only for results that
do not depend on a batched argument). Outside any trace it compiles once
per signature, like `gradc.jit`. Wrong in_axes or out_axes structures,
axes out of range, sizes that disagree, no batched argument without
axis_size, a None out_axes on a batched result: `GradcError`s at the
user's file:line.

How vmap expands, and the batching rules: docs/differentiation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from xdsl.ir import SSAValue

from gradc.dialects import autodiff
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend import pytree
from gradc.frontend.operands import _constant
from gradc.frontend.pytree import PyTreeDef
from gradc.frontend.shapes import moveaxis
from gradc.frontend.tracer import TracedArray
from gradc.frontend.tracing import argument_paths, function_name, trace_callee
from gradc.transforms.derivatives import Transformed, _describe, _in_trace, _py_name, _running

Axis = int | None


def _is_axis(value: Any) -> bool:
    return value is None or (isinstance(value, int | np.integer) and not isinstance(value, bool))


def _check_axes_spec(label: str, what: str, spec: Any) -> None:
    """`spec` is an int, None, or tuples, lists and dicts of those."""
    if _is_axis(spec):
        return
    if isinstance(spec, tuple | list):
        for item in spec:
            _check_axes_spec(label, what, item)
        return
    if isinstance(spec, dict):
        for item in spec.values():
            _check_axes_spec(label, what, item)
        return
    raise TraceTypeError(
        f"{label}: {what} must be an int, None, or a tuple, list or dict of those, "
        f"got {type(spec).__name__} {spec!r:.60}"
    )


def _axes_per_leaf(label: str, what: str, spec: Any, tree: PyTreeDef, path: str) -> list[Axis]:
    """The axis of each leaf of `tree`, from `spec`, a prefix of it (an
    axis stands for every leaf below it)."""
    if _is_axis(spec):
        return [None if spec is None else int(spec)] * tree.num_leaves
    if tree.kind is None or tree.kind is type(None):
        shown = "a leaf" if tree.kind is None else "None"
        raise TraceError(
            f"{label}: {path} is {shown}, but {what} gives it the container {spec!r:.60}; "
            f"{what} must be a prefix of the structure it maps"
        )
    if isinstance(spec, dict):
        if tree.kind is not dict or tuple(sorted(spec)) != tree.keys:
            got = f"a dict with keys {list(tree.keys)}" if tree.kind is dict else _kind(tree)
            raise TraceError(
                f"{label}: {what} has a dict with keys {sorted(spec)} for {path}, which is {got}"
            )
        keys = tree.keys
        items = [spec[k] for k in keys]
    else:
        if tree.kind is dict or len(spec) != len(tree.children):
            raise TraceError(
                f"{label}: {what} has a {type(spec).__name__} of {len(spec)} entries for {path}, "
                f"which is {_kind(tree)}"
            )
        keys = range(len(spec))
        items = list(spec)
    axes: list[Axis] = []
    for key, item, child in zip(keys, items, tree.children):
        axes += _axes_per_leaf(label, what, item, child, f"{path}[{key!r}]")
    return axes


def _kind(tree: PyTreeDef) -> str:
    if tree.kind is dict:
        return f"a dict with keys {list(tree.keys)}"
    return f"a {tree.kind.__name__} of {len(tree.children)} entries"


class _Plan(NamedTuple):
    """Each argument leaf's batch axis (normalized, or None) and the size."""

    axes: tuple[Axis, ...]
    size: int


def _plan(label: str, fn: Callable[..., Any], in_axes: Any, axis_size: int | None, args: tuple, kwargs: dict) -> _Plan:
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)  # a top-level list reads as a tuple, as in JAX
    if not _is_axis(in_axes) and not isinstance(in_axes, tuple):
        raise TraceTypeError(
            f"{label}: in_axes must be an int, None, or a tuple with one entry per positional "
            f"argument, got {type(in_axes).__name__} {in_axes!r:.60}"
        )
    if isinstance(in_axes, tuple) and len(in_axes) != len(args):
        raise TraceError(
            f"{label}: in_axes {in_axes!r:.60} has {len(in_axes)} entries, but {_py_name(fn)} was "
            f"called with {len(args)} positional argument{'s' if len(args) != 1 else ''}"
        )
    axes = _axes_per_leaf(label, "in_axes", in_axes, pytree.flatten(tuple(args))[1], "args")
    kw_leaves, _ = pytree.flatten(kwargs) if kwargs else ([], None)
    axes += [0] * len(kw_leaves)  # keyword arguments are mapped along axis 0, as in JAX
    leaves, _ = pytree.flatten((args, kwargs) if kwargs else args)
    paths = argument_paths(fn, args, kwargs or None)
    normalized: list[Axis] = []
    sizes: list[tuple[str, int, int, Any]] = []
    for leaf, axis, path in zip(leaves, axes, paths):
        if axis is None:
            normalized.append(None)
            continue
        shape = tuple(getattr(leaf, "shape", ()))
        if not -len(shape) <= axis < len(shape):
            raise TraceError(
                f"{label}: in_axes maps argument {path} along axis {axis}, but it is "
                f"{_describe(leaf)} (rank {len(shape)}); the axis must be in "
                f"[{-len(shape)}, {len(shape)})" + (" (give it in_axes None to pass it unbatched)" if not shape else "")
            )
        normalized.append(axis % len(shape))
        sizes.append((path, axis, shape[axis % len(shape)], leaf))
    found = {s for _, _, s, _ in sizes}
    if axis_size is not None:
        if isinstance(axis_size, bool) or not isinstance(axis_size, int | np.integer) or axis_size < 1:
            raise TraceTypeError(f"{label}: axis_size must be a positive int, got {axis_size!r:.40}")
        found.add(int(axis_size))
    if len(found) > 1:
        listed = "; ".join(f"argument {p} ({_describe(leaf)}) has size {s} along axis {a}" for p, a, s, leaf in sizes)
        given = f"; axis_size is {axis_size}" if axis_size is not None else ""
        raise TraceError(f"{label}: the mapped axes have different sizes: {listed}{given}")
    if not found:
        raise TraceError(
            f"{label}: no argument is mapped (every in_axes entry is None); give axis_size "
            "to say how many rows the result has"
        )
    size = found.pop()
    if size == 0:
        path, axis, _, leaf = sizes[0]
        raise TraceError(f"{label}: argument {path} ({_describe(leaf)}) has no rows along axis {axis}; "
                         "gradc maps at least one")
    return _Plan(tuple(normalized), size)


def _depends_on(body_block: Any, batched: Sequence[SSAValue]) -> set[SSAValue]:
    """The values of the traced function's block that depend on a batched
    argument (an op's results depend on it when any operand does)."""
    dependent = set(batched)
    for op in body_block.ops:
        if any(v in dependent for v in op.operands):
            dependent.update(op.results)
    return dependent


def vmap(
    fn: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0, axis_size: int | None = None
) -> Transformed:
    """`fn` mapped over a batch axis, JAX's `vmap`: argument leaves are
    mapped along their `in_axes` axis (an int, None: not mapped, or a pytree
    prefix of the positional arguments; keyword arguments along axis 0),
    results gain the batch axis at `out_axes` (likewise; None only for
    results that do not depend on a mapped argument). `axis_size` gives
    the size when no argument is mapped. Compiled into one C function; the
    batch dimension stays a tensor dimension of the ops (a matmul of a
    batch of vectors by unbatched weights is one matrix product)."""
    name = _py_name(fn)
    label = f"vmap of {name}"
    _check_axes_spec(label, "in_axes", in_axes)
    _check_axes_spec(label, "out_axes", out_axes)

    def check(args: tuple, kwargs: dict) -> _Plan:
        return _plan(label, fn, in_axes, axis_size, args, kwargs)

    def emit(args: tuple, kwargs: dict) -> Any:
        parent = _running(label)
        plan = check(args, kwargs)
        leaves, tree = pytree.flatten((args, kwargs) if kwargs else args)
        rows, values = [], []
        for leaf, axis in zip(leaves, plan.axes):
            if axis is None:
                rows.append(leaf)
                continue
            value = parent.adopt(leaf) if isinstance(leaf, TracedArray) else _constant(
                parent, np.asarray(leaf), np.asarray(leaf).dtype, np.shape(leaf)
            )
            value = moveaxis(value, axis, 0) if axis else value
            values.append(value)
            rows.append(np.broadcast_to(np.zeros((), value.dtype), value.shape[1:]))
        row_args = pytree.unflatten(tree, rows)
        row_pos, row_kw = row_args if kwargs else (row_args, None)
        callee, body = trace_callee(parent, fn, row_pos, row_kw, name=function_name(fn))
        moved = iter(values)
        primals = [
            next(moved).value if axis is not None else _in_trace(parent, leaf, spec).value
            for leaf, axis, spec in zip(leaves, plan.axes, body.in_specs)
        ] + [parent.adopt(c).value for c in body.captures]
        batched = [k for k, axis in enumerate(plan.axes) if axis is not None]
        op = autodiff.VmapOp(callee, primals, batched, plan.size)
        results = parent.emit_all(op, [s.weak for s in body.out_specs])
        out_axes_leaves = _axes_per_leaf(label, "out_axes", out_axes, body.out_tree, "output")
        dependent = _depends_on(body.block, [body.block.args[k] for k in batched])
        paths = [pytree.format_path("output", k) for k in pytree.leaf_keys(body.out_tree)]
        outs = []
        for result, axis, returned, spec, path in zip(
            results, out_axes_leaves, body.block.last_op.operands, body.out_specs, paths
        ):
            rank = len(spec.shape)
            if axis is None:
                if returned in dependent:
                    raise TraceError(
                        f"{label}: out_axes is None for {path}, but it depends on the mapped "
                        "arguments (it has one value per row); give it an int out_axes"
                    )
                outs.append(result[0])
                continue
            if not -(rank + 1) <= axis <= rank:
                raise TraceError(
                    f"{label}: out_axes {axis} for {path} is out of range: it has rank {rank}, "
                    f"so the batch axis goes in [{-(rank + 1)}, {rank}]"
                )
            axis %= rank + 1
            outs.append(moveaxis(result, 0, axis) if axis else result)
        return pytree.unflatten(body.out_tree, outs)

    return Transformed("vmap", fn, emit, check)


__all__ = ["vmap"]
