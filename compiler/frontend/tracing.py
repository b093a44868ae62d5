"""Tracing: a Python function over `gradc.numpy` becomes one `func.func`.

Expects: `trace(fn, example_args)`: a function and example arguments, a
pytree (`gradc.frontend.pytree`) whose leaves are NumPy float32/float64
arrays and scalars, int32/int64 and bool arrays, Python floats and ints.

Guarantees: `fn` is called once, on `TracedArray`s for the array leaves;
the function's arguments are the flattened leaves (Python floats and ints
as weakly typed 0-d float64 and int64, their values arguments rather than
constants),
its results the flattened outputs (NumPy arrays and Python numbers
returned become `array.constant`s); an array of another integer dtype
(int8, uint8, ...) is a `TraceTypeError` saying how to convert.

Which leaves become which arguments, and why: docs/frontend.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Block, Region

from gradc.dialects.c import c_identifier
from gradc.errors import TraceTypeError
from gradc.frontend.compositions import COMPLEX
from gradc.frontend import pytree
from gradc.frontend.operands import _constant
from gradc.frontend.tracer import UINT32, Trace, TracedArray
from gradc.frontend.pytree import PyTreeDef
from gradc.support.dense import element_type

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ARG_DTYPES = (*_FLOATS, np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.bool_), UINT32)


class ArgSpec(NamedTuple):
    """What one flattened argument is: shape, dtype, and whether it was a
    Python number (weakly typed: a Python float passed as a 0-d float64, a
    Python int as a 0-d int64)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    weak: bool = False

    def describe(self) -> str:
        if self.weak:
            return "Python int" if self.dtype.kind == "i" else "Python float"
        return f"{self.dtype.name}{list(self.shape)}"


class TracedFunction(NamedTuple):
    module: ModuleOp
    in_tree: PyTreeDef
    out_tree: PyTreeDef
    name: str
    in_specs: tuple[ArgSpec, ...]
    out_specs: tuple[ArgSpec, ...]
    in_paths: tuple[str, ...] = ()
    """Each argument leaf as `fn`'s code names it (`argument_paths`)."""


def arg_spec(leaf: Any, where: str) -> ArgSpec:
    """The ArgSpec of one argument leaf, or a TraceTypeError saying why it
    cannot be one (`where` names it as the message should: `argument
    w['b']`, `scan: init[1]`)."""
    if isinstance(leaf, np.ndarray | np.generic):
        dtype = leaf.dtype
        if dtype in _ARG_DTYPES:
            return ArgSpec(tuple(leaf.shape), dtype)
        if dtype.kind == "c":
            raise TraceTypeError(f"{where} is a {dtype.name} array (shape {leaf.shape}): {COMPLEX}")
        if dtype.kind in "iu":
            raise TraceTypeError(
                f"{where} is an {dtype.name} array (shape {leaf.shape}); gradc's integer "
                "arrays are int32 and int64 (uint32 only as gradc.random keys): convert it "
                "with .astype(np.int32) or .astype(np.int64)"
            )
        raise TraceTypeError(
            f"{where} has dtype {dtype.name} (shape {leaf.shape}); gradc takes float32, "
            "float64, int32, int64 and bool arrays"
        )
    if isinstance(leaf, bool):
        raise TraceTypeError(
            f"{where}: a Python bool; arguments are arrays and numbers (make a flag "
            "static, gradc.jit(f, static_argnames=...), or pass np.bool_(flag) for a traced bool)"
        )
    if isinstance(leaf, int):
        return ArgSpec((), np.dtype(np.int64), weak=True)
    if isinstance(leaf, float):
        return ArgSpec((), np.dtype(np.float64), weak=True)
    if isinstance(leaf, complex):
        raise TraceTypeError(f"{where}: a Python complex ({leaf!r}): {COMPLEX}")
    if isinstance(leaf, TracedArray):
        return ArgSpec(leaf.shape, leaf.dtype, leaf.weak)
    raise TraceTypeError(
        f"{where}: a {type(leaf).__name__} ({leaf!r:.60}); gradc takes NumPy "
        "float32/float64/int32/int64/bool arrays and Python floats, nested in tuples, lists and dicts"
    )


def parameter_names(fn: Callable[..., Any], count: int) -> list[str]:
    """What `fn`'s own code calls each of `count` positional arguments: the
    name of its parameter, `rest[k]` for the k-th one that `*rest` collects,
    or `args[k]` when `fn` has no signature to read (a builtin)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    named = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    names = named[:count]
    for k in range(len(names), count):
        names.append(f"{rest}[{k - len(named)}]" if rest is not None else f"args[{k}]")
    return names


def argument_paths(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any] | None) -> list[str]:
    """The name of each leaf of `fn(*args, **kwargs)`'s arguments, in
    flatten order of `(args, kwargs)` (of `args` alone without kwargs), as
    `fn`'s code spells it: `w['b'][0]`, `rest[1]`, `scale`."""
    names = parameter_names(fn, len(args))
    paths = [
        pytree.format_path(name, keys)
        for name, arg in zip(names, args)
        for keys in pytree.leaf_keys(pytree.flatten(arg)[1])
    ]
    for key in sorted(kwargs or ()):
        paths += [pytree.format_path(str(key), keys) for keys in pytree.leaf_keys(pytree.flatten(kwargs[key])[1])]
    return paths


class FunctionTable:
    """The functions of the module one nest of traces builds: the public
    function `trace` returns, plus the private callees that transformations
    called while tracing add (`gradc.grad(f)` traces `f` into one)."""

    def __init__(self) -> None:
        self.functions: list[func.FuncOp] = []
        self._names: set[str] = set()

    def unique_name(self, base: str) -> str:
        """`base`, or `base_1`, `base_2`, ... if taken; reserved from now on."""
        name, k = base, 0
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name


def trace(
    fn: Callable[..., Any],
    example_args: Sequence[Any],
    example_kwargs: dict[str, Any] | None = None,
    *,
    name: str | None = None,
) -> TracedFunction:
    """Trace `fn(*example_args, **example_kwargs)` into a module holding a
    public `func.func` named `name` (default: `fn`'s name, made a C
    identifier) and the private functions of any transformation it calls."""
    table = FunctionTable()
    fn_name = table.unique_name(name or function_name(fn))
    body = _trace_body(Trace(Block(), functions=table), fn, example_args, example_kwargs)
    main = func.FuncOp(fn_name, body.function_type, Region(body.block))
    module = ModuleOp([main, *table.functions])
    module.verify()
    out_specs = tuple(ArgSpec(s.shape, s.dtype) for s in body.out_specs)
    paths = tuple(argument_paths(fn, example_args, example_kwargs))
    return TracedFunction(module, body.in_tree, body.out_tree, fn_name, body.in_specs, out_specs, paths)


class TracedBody(NamedTuple):
    """A function traced into `block` (ending in its `func.return`). The
    block's arguments are the flattened argument leaves, then one per
    captured value (`captures`: the values of the enclosing trace to pass)."""

    block: Block
    in_tree: PyTreeDef
    out_tree: PyTreeDef
    in_specs: tuple[ArgSpec, ...]
    out_specs: tuple[ArgSpec, ...]
    captures: tuple[TracedArray, ...]

    @property
    def function_type(self) -> tuple[list[Attribute], list[Attribute]]:
        return [a.type for a in self.block.args], [v.type for v in self.block.last_op.operands]


def trace_callee(
    parent: Trace,
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    name: str | None = None,
) -> tuple[func.FuncOp, TracedBody]:
    """Trace `fn(*args, **kwargs)` inside `parent` into a private function of
    `parent`'s module (named after `fn`, made unique). `args` may hold
    `parent`'s traced arrays, NumPy arrays and Python numbers: each leaf is
    an argument of the new function, in flatten order; values `fn` closes
    over from `parent` (or from traces around it) become further arguments
    (`TracedBody.captures`)."""
    table = parent.functions
    fn_name = table.unique_name(name or function_name(fn))
    body = _trace_body(Trace(Block(), parent=parent), fn, args, kwargs)
    callee = func.FuncOp(fn_name, body.function_type, Region(body.block), visibility="private")
    table.functions.append(callee)
    return callee, body


def _trace_body(
    the_trace: Trace, fn: Callable[..., Any], example_args: Sequence[Any], example_kwargs: dict[str, Any] | None
) -> TracedBody:
    args_tree: Any = (tuple(example_args), example_kwargs) if example_kwargs else tuple(example_args)
    leaves, in_tree = pytree.flatten(args_tree)
    paths = argument_paths(fn, example_args, example_kwargs)
    specs = tuple(arg_spec(leaf, f"argument {path}") for leaf, path in zip(leaves, paths))
    block = the_trace.block
    for s in specs:
        block.insert_arg(TensorType(element_type(np.int32 if s.dtype == UINT32 else s.dtype), list(s.shape)), len(block.args))
    tracers = [TracedArray(arg, the_trace, s.weak, s.dtype) for arg, s in zip(block.args, specs)]
    with the_trace.running():
        if example_kwargs:
            args, kwargs = pytree.unflatten(in_tree, tracers)
            out = fn(*args, **kwargs)
        else:
            out = fn(*pytree.unflatten(in_tree, tracers))
        out_leaves, out_tree = pytree.flatten(out)
        out_paths = [pytree.format_path("output", k) for k in pytree.leaf_keys(out_tree)]
        results = [_result(the_trace, leaf, path) for leaf, path in zip(out_leaves, out_paths)]
    block.add_op(func.ReturnOp(*(r.value for r in results)))
    out_specs = tuple(ArgSpec(r.shape, r.dtype, r.weak) for r in results)
    return TracedBody(block, in_tree, out_tree, specs, out_specs, tuple(the_trace.captures))


def _result(the_trace: Trace, leaf: Any, where: str) -> TracedArray:
    if isinstance(leaf, TracedArray):
        if not leaf.trace.encloses(the_trace):
            raise TraceTypeError(
                f"{where} is a traced array from another trace (it escaped from "
                "another traced function)"
            )
        return the_trace.adopt(leaf)
    if isinstance(leaf, bool | np.ndarray | np.generic):
        value = np.asarray(leaf)
    elif isinstance(leaf, int | float | complex):
        value = np.asarray(leaf if isinstance(leaf, complex) else float(leaf))
    else:
        raise TraceTypeError(
            f"{where} is a {type(leaf).__name__} ({leaf!r:.60}); results are arrays "
            "and numbers, nested in tuples, lists and dicts"
        )
    if value.dtype.kind == "c":
        raise TraceTypeError(f"{where} is a constant {value.dtype.name} array: {COMPLEX}")
    if value.dtype not in _ARG_DTYPES:
        raise TraceTypeError(
            f"{where} is a constant {value.dtype.name} array; results are float32, "
            "float64, int32, int64 or bool, so convert it, e.g. with .astype(np.float64)"
        )
    return _constant(the_trace, value, value.dtype, value.shape)


def function_name(fn: Callable[..., Any]) -> str:
    """`fn`'s name as the C identifier its function will have (`<lambda>`
    becomes `lambda_`, a libm name like `exp` becomes `g_exp`)."""
    raw = getattr(fn, "__name__", None) or type(fn).__name__
    return c_identifier(raw.strip("<>") + ("_" if raw.startswith("<") else ""))


__all__ = [
    "trace",
    "trace_callee",
    "TracedFunction",
    "TracedBody",
    "FunctionTable",
    "ArgSpec",
    "arg_spec",
    "argument_paths",
    "parameter_names",
    "function_name",
]
