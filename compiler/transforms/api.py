"""gradc's user-facing functions: `jit`, `lower`, `export_c`.

    fast = gradc.jit(f)          # compiles on the first call per signature
    gradc.lower(f, x, w).c_source
    gradc.export_c(f, x, w, path_stem="build/f")   # build/f.c, build/f.h

Expects: a Python function over `gradc.numpy`; arguments as
`gradc.frontend.tracing` takes them.

Guarantees: one build per signature (the pytree structure plus each leaf's
shape and dtype; a Python float is one signature and a Python int another,
whatever the value) and per distinct value of the static arguments; a
call checks each argument's type, dtype and shape; results are NumPy
arrays, or NumPy scalars when every argument is a 0-d float or int and
every result a 0-d float, or the caller's arrays (`out=`: see JitFunction).

The call path (generated callers per number of arguments, `_dispatch`,
passing 0-d floats by value): docs/frontend.md.
"""

from __future__ import annotations

import functools
import inspect
import operator
import shlex
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from gradc.backend import callpath
from gradc.backend.runtime import CompiledFunction, Outputs, generate_function, load
from gradc.dialects import autodiff
from gradc.dialects.c import c_identifier, is_c_identifier
from gradc.errors import GradcError, OutError, TraceError, TraceTypeError, user_location, without_gradc_frames
from gradc.frontend import pytree
from gradc.frontend.tracer import TracedArray, current_trace
from gradc.frontend.tracing import ArgSpec, TracedFunction, trace
from gradc.pipeline import (
    DEFAULT_OPTIONS,
    Options,
    compile_for_user,
    function_specs,
    jacobian_strategies,
    memory_figures,
)
from gradc.support.timings import Timings

_PYTHON_NUMBER = "Python float"
"""The signature of a Python float leaf: one compiled function serves every
value."""
_PYTHON_INT = "Python int"
"""The signature of a Python int leaf (a weak int64, not a weak float)."""

_NUMPY_SCALARS = {t: ((), np.dtype(t)) for t in (np.float64, np.float32)}
"""NumPy scalar types the fast path takes, with their signature (that of a
0-d array: the same compiled function)."""
_FAST_SCALARS = frozenset({float, int, *_NUMPY_SCALARS})


def _leaf_signature(leaf: Any) -> Any:
    kind = type(leaf)
    if kind is np.ndarray:
        return (leaf.shape, leaf.dtype)
    if kind is float:
        return _PYTHON_NUMBER
    if kind is int:
        return _PYTHON_INT
    if isinstance(leaf, np.ndarray | np.generic):
        return (leaf.shape, leaf.dtype)
    return kind  # not an argument gradc takes: tracing says why


def _signature(args: tuple, kwargs: dict) -> tuple[list[Any], tuple]:
    """The leaves of `(args, kwargs)` and the signature that keys the cache."""
    leaves, treedef = pytree.flatten((args, kwargs) if kwargs else args)
    return leaves, (treedef, *map(_leaf_signature, leaves))


def _for_user(err: GradcError) -> GradcError:
    """`err` without gradc's frames in its traceback, to raise again: it then
    points at the user's code, not at the machinery in between."""
    return err.with_traceback(without_gradc_frames(err.__traceback__))


def _flag_list(name: str, flags: Any) -> tuple[str, ...] | None:
    """`cflags=` or `extra_cflags=` as a tuple of flags: a sequence of
    strings, or one string split as a shell would (like `$GRADC_CFLAGS`)."""
    if flags is None:
        return None
    if isinstance(flags, str):
        return tuple(shlex.split(flags))
    if not isinstance(flags, Sequence) or not all(isinstance(flag, str) for flag in flags):
        raise GradcError(f"{name}= takes a list of C compiler flags (strings), got {flags!r:.80}",
                         location=user_location())
    return tuple(flags)


def _index_tuple(name: str, value: Any) -> tuple[int, ...]:
    """`static_argnums=` and kin: None, an int, or a sequence of ints."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, int) else value
    try:
        out = tuple(operator.index(i) for i in items)
    except TypeError:
        raise TraceError(f"{name}= takes an int or a sequence of ints, got {value!r:.80}") from None
    return out


def _name_tuple(name: str, value: Any) -> tuple[str, ...]:
    """`static_argnames=` and kin: None, a string, or a sequence of strings."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(k, str) for k in items):
        raise TraceError(f"{name}= takes a parameter name or a sequence of names, got {value!r:.80}")
    return tuple(items)


def _static_kind(value: Any) -> Any:
    """What, besides equality, tells static values apart in the cache key:
    the type, and the types inside a tuple."""
    if type(value) is tuple:
        return (tuple, tuple(map(_static_kind, value)))
    return type(value)


class _StaticArguments:
    """Which arguments of `fn` are static (`static_argnums`,
    `static_argnames`), as JAX's jit reads them: a positional index and the
    name of its parameter mark the same argument, whichever way a call
    passes it; a negative index counts from the end of a call's positional
    arguments. `split` takes a call apart into the static values (a
    hashable key: values and their types, so 2 and 2.0 build apart) and a
    function of the other arguments."""

    def __init__(self, fn: Callable[..., Any], argnums: tuple[int, ...], argnames: tuple[str, ...],
                 what: str = "static"):
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None
        params = list(self.signature.parameters.values()) if self.signature else []
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
        var_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
        fn_name = getattr(fn, "__qualname__", None) or type(fn).__name__
        if self.signature is not None and not var_positional:
            for i in argnums:
                if not -len(positional) <= i < len(positional):
                    raise TraceError(
                        f"jit: {what}_argnums={argnums!r} names argument {i}, but {fn_name} takes "
                        f"{len(positional)} positional argument{'s' if len(positional) != 1 else ''}"
                    )
        keyword_names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if self.signature is not None and not var_keyword:
            unknown = [k for k in argnames if k not in keyword_names]
            if unknown:
                raise TraceError(
                    f"jit: {what}_argnames names {', '.join(map(repr, unknown))}, which "
                    f"{fn_name} has no parameter for (it has {', '.join(p.name for p in params) or 'none'})"
                )
        # Each marks the other too, as in JAX (positional-or-keyword parameters).
        by_name = {p.name: k for k, p in enumerate(positional) if p.kind is p.POSITIONAL_OR_KEYWORD}
        self.argnums = frozenset(argnums) | {by_name[k] for k in argnames if k in by_name}
        self.argnames = frozenset(argnames) | {
            p.name for k, p in enumerate(positional) if k in argnums and p.kind is p.POSITIONAL_OR_KEYWORD
        }
        self.params = params

    def __bool__(self) -> bool:
        return bool(self.argnums or self.argnames)

    def split(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[tuple, tuple, dict]:
        """`(key, dynamic args, dynamic kwargs)` of the call `fn(*args,
        **kwargs)`: the key holds the static values (with where they go)
        and is hashable, or this raises the located error JAX's ValueError
        is."""
        n = len(args)
        positions = sorted({i + n if i < 0 else i for i in self.argnums} & set(range(n)))
        static_args = tuple((i, args[i]) for i in positions)
        static_kwargs = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.argnames))
        # The types too: 2 == 2.0 == True, but `x * n` differs between them.
        kinds = tuple(_static_kind(v) for _, v in (*static_args, *static_kwargs))
        key = (n, static_args, static_kwargs, kinds)
        try:
            hash(key)
        except TypeError:
            for where, value in [*((f"argument {i}", v) for i, v in static_args),
                                 *((f"argument {k!r}", v) for k, v in static_kwargs)]:
                try:
                    hash(value)
                except TypeError:
                    raise TraceError(
                        f"static {where} of {getattr(fn, '__qualname__', fn)!r} is a "
                        f"{type(value).__name__}, which is not hashable; static arguments key the "
                        "compile cache, so pass a hashable value (a tuple rather than a list, "
                        "a tuple of tuples rather than an array), or make the argument dynamic"
                    ) from None
            raise
        dyn_args = tuple(a for i, a in enumerate(args) if i not in positions)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.argnames}
        return key, dyn_args, dyn_kwargs

    def bind(self, fn: Callable[..., Any], key: tuple) -> Callable[..., Any]:
        """`fn` of its dynamic arguments, with the static values of `key`
        filled in; named and signed as `fn` without the static parameters
        (so C names and argument paths in messages stay `fn`'s)."""
        _, static_args, static_kwargs, *_ = key
        fixed = dict(static_kwargs)

        def call(*args: Any, **kwargs: Any) -> Any:
            merged = list(args)
            for i, value in static_args:
                merged.insert(i, value)
            return fn(*merged, **kwargs, **fixed)

        call.__name__ = getattr(fn, "__name__", None) or type(fn).__name__
        call.__qualname__ = getattr(fn, "__qualname__", call.__name__)
        if self.signature is not None:
            static_names = {self.params[i].name for i, _ in static_args if i < len(self.params)
                            and self.params[i].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                        inspect.Parameter.POSITIONAL_OR_KEYWORD)}
            static_names |= set(fixed)
            call.__signature__ = self.signature.replace(  # type: ignore[attr-defined]
                parameters=[p for p in self.params if p.name not in static_names]
            )
        return call


class Compiled:
    """One compiled function on pytrees of NumPy arrays: the leaves go to the
    C function in order, its results come back in `out_tree`'s structure.

    `run(leaves)` takes any leaves that match the signature (ints for Python
    floats, strided views, which get copied); `fast_call(mismatch)` makes
    the generated call of `gradc.jit`'s positional fast path. Every call
    also takes `out=`, a tree of `out_tree`'s structure to write the
    results into (`_outputs`)."""

    __slots__ = ("function", "out_tree", "name", "path", "_numbers", "_number_dtypes", "_result", "_names",
                 "_call", "_finish", "_outputs")

    def __init__(
        self,
        function: CompiledFunction,
        out_tree: pytree.PyTreeDef,
        name: str,
        in_specs: Sequence[ArgSpec],
        in_paths: Sequence[str] = (),
    ):
        self.function = function
        self.out_tree = out_tree
        self.name = name
        self._numbers = tuple(k for k, spec in enumerate(in_specs) if spec.weak)
        self._number_dtypes = tuple(in_specs[k].dtype for k in self._numbers)
        self.path = "scalar" if function.scalar else "array"
        """What the calls return for 0-d results: `scalar` (NumPy scalars, a
        scalar signature: runtime.is_scalar_signature) or `array` (arrays)."""
        self._result, self._names = _tree_expression(out_tree)
        self._finish = _finisher(out_tree)
        self._outputs = _outputs(out_tree, name, in_paths or [f"argument {k}" for k in range(len(in_specs))])
        self._call = function.caller(self._result, names=self._names, mismatch=self._retry, fallback=self._retry,
                                     outputs=self._outputs)

    def run(self, leaves: Sequence[Any], out: Any = None) -> Any:
        """The results of the call on `leaves`, written into `out` when given."""
        if self._numbers:
            leaves = list(leaves)
            for k, dtype in zip(self._numbers, self._number_dtypes):
                leaves[k] = np.array(leaves[k], dtype)
        if out is None:
            return self._call(*leaves)
        return self._call(*leaves, out=out)

    def fast_call(self, mismatch: Callable[..., Any]) -> Callable[..., Any]:
        """The call for positional arguments: Python floats and ints where
        the signature has them, arrays or NumPy scalars elsewhere.
        Arguments of another signature go to `mismatch(*args)`."""
        return self.function.caller(
            self._result, names=self._names, numbers=self._numbers, mismatch=mismatch,
            fallback=self._run_args, outputs=self._outputs,
        )

    def tree_call(self, in_tree: pytree.PyTreeDef, mismatch: Callable[..., Any]) -> Callable[..., Any] | None:
        """The call for positional arguments in `in_tree`'s structure (dicts,
        lists and tuples of leaves): the C entry taking the leaves out of the
        containers with the structure checked on the way (exact types,
        lengths, the dict keys), or without it one generated function that
        does so and hands them to `fast_call`; any difference, down to a
        leaf's shape, goes to `mismatch(*args)` (`mismatch(*args,
        out=out)` with `out=`). None for structures neither takes (the
        generated function: named tuples, None leaves)."""
        native = self.function.tree_caller(
            tuple(map(_nesting, in_tree.children)), self._result, names=self._names, numbers=self._numbers,
            mismatch=mismatch, outputs=self._outputs,
        )
        if native is not None:
            return native
        destructure = _tree_destructuring(in_tree)
        if destructure is None:
            return None
        params, body, leaves, names = destructure

        def different(*_: Any, **__: Any) -> Any:
            raise _Different

        env = {**names, "leaf_call": self.fast_call(different), "mismatch": mismatch, "_Different": _Different}
        args = ", ".join(params)
        return generate_function(
            f"{self.name} (tree)",
            [*params, "out=None"],
            [
                "try:",
                *(f"    {line}" for line in body),
                "    if out is None:",
                f"        return leaf_call({', '.join(leaves)})",
                f"    return leaf_call({', '.join(leaves)}, out=out)",
                "except (_Different, KeyError):",
                f"    return mismatch({args}, out=out)",
                "except GradcError as err:  # from out=: raised again here, one frame above the caller",
                "    raise err.with_traceback(None) from None",
            ],
            {**env, "GradcError": GradcError},
        )

    def _run_args(self, *leaves: Any, out: Any = None) -> Any:
        return self.run(leaves, out)

    def _retry(self, *leaves: Any, out: Any = None) -> Any:
        """The checked call; a strided view of the right shape and dtype
        gets copied (the C function takes dense row-major arrays). With
        `out`, the checked call into it (an OutError says what is wrong)."""
        if out is not None:
            return self.function.call_into(leaves, out, self._outputs)
        try:
            results = self.function(*leaves)
        except (TypeError, ValueError):
            results = self.function(*map(_contiguous, leaves))
        if self.path == "scalar":
            results = [out[()] for out in results]
        return self._finish(results)


def _boundary_specs(specs: tuple[list[Any], list[Any]], traced: TracedFunction) -> tuple[list[Any], list[Any]]:
    """The C function's (shape, dtype) per argument and result, with uint32
    (PRNG keys: i32 in the IR, uint32 bits at the boundary) where the traced
    function's specs say so."""
    inputs, outputs = specs

    def boundary(ir: list[Any], user: Sequence[ArgSpec]) -> list[Any]:
        return [(shape, s.dtype if s.dtype == np.uint32 else dtype) for (shape, dtype), s in zip(ir, user, strict=True)]

    return boundary(inputs, traced.in_specs), boundary(outputs, traced.out_specs)


class _Different(Exception):
    """Raised inside a generated tree call when the arguments are not of its
    signature."""


def _tree_destructuring(
    tree: pytree.PyTreeDef,
) -> tuple[list[str], list[str], list[str], dict[str, Any]] | None:
    """For positional arguments of structure `tree` (a tuple of subtrees):
    the parameter names, the lines that check each container and take its
    children apart (raising _Different or KeyError on any difference), the
    names of the leaves in flattening order, and the dict keys the lines
    use. None when the tree holds something other than dicts, lists, tuples
    and leaves."""
    if tree.kind is not tuple:
        return None
    params = [f"a{k}" for k in range(len(tree.children))]
    body: list[str] = []
    leaves: list[str] = []
    names: dict[str, Any] = {}

    def visit(node: pytree.PyTreeDef, var: str) -> bool:
        kind = node.kind
        if kind is None:
            leaves.append(var)
            return True
        if kind not in (dict, list, tuple):
            return False
        body.append(f"if type({var}) is not {kind.__name__} or len({var}) != {len(node.children)}: raise _Different")
        for k, child in enumerate(node.children):
            if kind is dict:
                label = f"K{len(names)}"
                names[label] = node.keys[k]
                item = f"{var}[{label}]"
            else:
                item = f"{var}[{k}]"
            if child.kind is None:
                leaves.append(f"v{len(leaves)}")
                body.append(f"{leaves[-1]} = {item}")
            else:
                name = f"{var}_{k}"
                body.append(f"{name} = {item}")
                if not visit(child, name):
                    return False
        return True

    for param, child in zip(params, tree.children, strict=True):
        if not visit(child, param):
            return None
    return params, body, leaves, names


def _nesting(tree: pytree.PyTreeDef) -> Any:
    """`tree` as the C entry checks an argument or `out=` (callpath.Nesting)."""
    if tree.kind is None:
        return None
    return (tree.kind, tree.keys, tuple(map(_nesting, tree.children)))


def _outputs(tree: pytree.PyTreeDef, name: str, in_paths: Sequence[str]) -> Outputs:
    """How calls of a build with results nested as `tree` take `out=`: a
    tree of exactly that structure (pytree's: a dict subclass passes for a
    dict), its leaves named `out[...]` in messages."""

    def leaves(out: Any) -> list[Any]:
        try:
            found, got = pytree.flatten(out)
        except GradcError:  # unsortable dict keys
            found, got = [], None
        if got != tree:
            raise OutError(f"{name}: out must be nested as the result, {tree}, got {got or type(out).__name__}")
        return found

    paths = [pytree.format_path("out", keys) for keys in pytree.leaf_keys(tree)]
    return Outputs(_nesting(tree), leaves, paths, in_paths)


def _finisher(tree: pytree.PyTreeDef) -> Callable[[list[Any]], Any]:
    if tree == pytree.LEAF:
        return lambda results: results[0]
    return lambda results: pytree.unflatten(tree, results)


def _tree_expression(tree: pytree.PyTreeDef) -> tuple[Callable[[list[str]], str], dict[str, Any]]:
    """A Python expression that builds `tree` from one expression per leaf
    (what `pytree.unflatten` builds, without walking the tree at run time),
    and the names it uses (dict keys and named-tuple classes)."""
    names: dict[str, Any] = {}

    def name(value: Any) -> str:
        label = f"K{len(names)}"
        names[label] = value
        return label

    labels: list[str] = []

    def collect(node: pytree.PyTreeDef) -> None:
        if node.kind is dict:
            labels.extend(name(key) for key in node.keys or ())
        elif node.kind not in (None, tuple, list, type(None)):
            labels.append(name(node.kind))
        for child in node.children:
            collect(child)

    collect(tree)

    def expression(leaves: list[str]) -> str:
        leaf_it, label_it = iter(leaves), iter(labels)

        def build(node: pytree.PyTreeDef) -> str:
            kind = node.kind
            if kind is None:
                return next(leaf_it)
            if kind is type(None):
                return "None"
            if kind is dict:
                keys = [next(label_it) for _ in node.children]
                return "{" + ", ".join(f"{k}: {build(c)}" for k, c in zip(keys, node.children)) + "}"
            cls = None if kind is tuple or kind is list else next(label_it)
            parts = [build(c) for c in node.children]
            if kind is list:
                return f"[{', '.join(parts)}]"
            if kind is tuple:
                return f"({', '.join(parts)},)" if parts else "()"
            return f"{cls}({', '.join(parts)})"

        return build(tree)

    return expression, names


def _contiguous(leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray) and not leaf.flags.c_contiguous:
        return leaf.copy(order="C")
    return leaf


class JitFunction(callpath.dispatcher_base()):  # type: ignore[misc]
    """`gradc.jit(f)`: compiles `f` once per argument signature and caches
    the build; calls with traced arrays (inside another traced function)
    trace through `f` instead, so jitted functions compose.

    `f(*args, out=tree)` writes the results into `tree`'s arrays instead of
    fresh ones and returns `tree`: nested exactly as the result (a bare
    array, tuple, list, dict ...), each leaf an ndarray of its result's
    dtype and shape, C-contiguous, aligned, writeable, sharing no memory
    with an argument array or another leaf (a training loop writes into a
    second set of parameters and swaps the two); anything else is an
    OutError naming the leaf, before C runs. `out=None` allocates as
    without it. When `f` has a parameter named `out` of its own, `out=`
    goes to `f` as any keyword does and calls take no preallocated
    outputs (a `**kwargs` catch-all is not such a parameter)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        cflags: Sequence[str] | None = None,
        options: Options = DEFAULT_OPTIONS,
        extra_cflags: Sequence[str] = (),
    ):
        self.fn = fn
        self.cflags = None if cflags is None else tuple(cflags)
        self.extra_cflags = tuple(extra_cflags)
        self.options = options
        self._cache: dict[tuple, Compiled] = {}
        self._positional: dict[tuple, tuple[Compiled, Callable[..., Any]]] = {}
        """Positional arrays, Python floats and NumPy float scalars: the
        signature without the tree -> its build and generated call."""
        self._trees: dict[tuple, Callable[..., Any] | None] = {}
        """Signature with containers -> its generated tree call (None when
        the structure has none)."""
        # A function's attributes carry over, but not another jit's state
        # (its caches and cflags would replace this one's).
        updated = () if isinstance(fn, JitFunction) else functools.WRAPPER_UPDATES
        functools.update_wrapper(self, fn, updated=updated)

    # Calls: the base class (gradc.backend.callpath's Dispatcher) sends a
    # call with n positional arguments and no keywords (or only out=, once
    # _call_slow has set _out_fast) straight to the call of the signature
    # last called with n arguments, which checks that the arguments have
    # its signature (type, dtype, shape per argument; out's nesting and
    # leaves), else hands them to _call_slow.

    def _call_slow(self, *args: Any, **kwargs: Any) -> Any:
        try:
            out = None
            if "out" in kwargs and not self._out_is_parameter:
                out = kwargs.pop("out")
                self._out_fast = True  # the base class sends out= to the recent calls too
            if not kwargs:
                return self._dispatch(*args, out=out)
            return self._call_tree(args, kwargs, out)
        except GradcError as err:
            # Raised again here, so the traceback goes from this one frame
            # straight to the user's code.
            raise _for_user(err) from None

    @cached_property
    def _out_is_parameter(self) -> bool:
        """Whether `fn` has a parameter named `out` (then `out=` is `fn`'s)."""
        try:
            parameter = inspect.signature(self.fn).parameters.get("out")
        except (TypeError, ValueError):
            return False
        return parameter is not None and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)

    def _clear_recent(self) -> None:
        for n in range(callpath.MAX_RECENT):
            self._set_recent(n, None)

    def _dispatch(self, *args: Any, out: Any = None) -> Any:
        """Positional arguments: find the build by a signature made in one
        loop (no pytree flattening), and make its call the recent one."""
        signature = []
        for arg in args:
            kind = type(arg)
            if kind is np.ndarray:
                signature.append((arg.shape, arg.dtype))
            elif kind is float:
                signature.append(_PYTHON_NUMBER)
            elif kind is int:
                signature.append(_PYTHON_INT)
            else:
                key = _NUMPY_SCALARS.get(kind)
                if key is None:
                    break
                signature.append(key)
        else:
            found = self._positional.get(tuple(signature))
            if found is not None:
                compiled, call = found
                self._set_recent(len(args), call)
                return compiled.run(args, out)
        return self._call_tree(args, {}, out)

    def _call_tree(self, args: tuple, kwargs: dict, out: Any = None) -> Any:
        leaves, key = _signature(args, kwargs)
        compiled = self._cache.get(key)
        if compiled is None:
            if current_trace() is not None or any(isinstance(leaf, TracedArray) for leaf in leaves):
                if out is not None:
                    raise TraceTypeError(
                        f"{getattr(self.fn, '__qualname__', self.fn)!r} called with out= inside a traced "
                        "function: out= writes a compiled call's results into NumPy arrays; here the "
                        "call is traced into the caller (drop out=, use the value it returns)"
                    )
                # Inside a function being traced: trace through, so that the
                # whole composition becomes one C function.
                return self.fn(*args, **kwargs)
            compiled = self._compile(args, kwargs, key)
            self._cache[key] = compiled
        if not kwargs and all(type(arg) is np.ndarray or type(arg) in _FAST_SCALARS for arg in args):
            found = self._positional.get(key[1:])
            if found is None:
                found = self._positional[key[1:]] = (compiled, compiled.fast_call(self._call_slow))
            self._set_recent(len(args), found[1])
        elif not kwargs:
            # Containers among the positional arguments: a generated call
            # takes them apart (the signature is checked as it goes).
            tree_call = self._trees.get(key)
            if tree_call is None:
                tree_call = self._trees[key] = compiled.tree_call(key[0], self._call_slow)
            if tree_call is not None:
                self._set_recent(len(args), tree_call)
        return compiled.run(leaves, out)

    def _compile(self, args: tuple, kwargs: dict, key: tuple) -> Compiled:
        return self._lowered(args, kwargs).compiled

    def _lowered(self, args: tuple, kwargs: dict) -> Lowered:
        return Lowered(trace(self.fn, args, kwargs or None), self.cflags, self.options, self.extra_cflags)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """`gradc.lower` of the wrapped function, with this jit's flags and options."""
        return lower(self.fn, *args, cflags=self.cflags, extra_cflags=self.extra_cflags,
                     options=self.options, **kwargs)

    @property
    def cache_size(self) -> int:
        """How many signatures have been compiled."""
        return len(self._cache)

    @property
    def pending_builds(self) -> int:
        """Optimized builds still running in the background: none without a
        compile budget (see `BudgetJitFunction`)."""
        return 0

    def wait_for_builds(self, timeout: float | None = None) -> None:
        """Wait for background builds (there are none without a compile budget)."""

    def __repr__(self) -> str:
        return f"gradc.jit({getattr(self.fn, '__qualname__', self.fn)!r})"


def jit(
    fn: Callable[..., Any] | None = None,
    *,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
    donate_argnames: str | Sequence[str] | None = None,
    keep_unused: bool = False,
    inline: bool = False,
    cflags: Sequence[str] | None = None,
    extra_cflags: Sequence[str] | None = None,
    compile_budget_ms: float | None = None,
    options: Options | dict[str, Any] | None = None,
    **option_values: Any,
) -> Any:
    """Compile `fn` to C on its first call per argument signature.

    `static_argnums` / `static_argnames` (JAX's): those arguments reach `fn`
    as the Python values given (ints for `range`, shapes, flags, strings,
    functions) and key the cache with the signature: they must be hashable,
    and equal values share a build. An index counts from the end when
    negative; an index and its parameter's name mark the same argument.
    `donate_argnums` / `donate_argnames`, `keep_unused` and `inline` are
    accepted for JAX's sake and change nothing (docs/frontend.md says why).

    `cflags` replaces the C compiler flags (default `gradc.backend.build.DEFAULT_FLAGS`,
    `-O3 -march=native ...`, or `$GRADC_CFLAGS`); `extra_cflags` adds flags
    after them. Either way the build keeps `gradc.backend.build.WORKAROUND_FLAGS`
    (gcc 12 miscompiles without them) unless the flags name the same
    optimization (`-ftree-slp-vectorize`). Flags are a list of strings or
    one string split as a shell would. Pipeline options (`gradc.Options`
    fields: `tile`, `plan_memory`, `threads`, `tuned`) come as `options=` or
    as keywords: `gradc.jit(f, threads=2)`. Usable as `@gradc.jit`,
    `@gradc.jit(cflags=[...], tile=False)` and
    `@functools.partial(gradc.jit, static_argnames=("n",))`.

    `compile_budget_ms`: how long a first call may wait for the optimized C
    build before it runs a quick `-O1` build instead, switching to the
    optimized one when it is ready (see `BudgetJitFunction`); None (the
    default) always waits for the optimized build."""
    try:
        resolved = Options.make(options, **option_values)
        cflags, extra = _flag_list("cflags", cflags), _flag_list("extra_cflags", extra_cflags)
        argnums = _index_tuple("static_argnums", static_argnums)
        argnames = _name_tuple("static_argnames", static_argnames)
        donated = (_index_tuple("donate_argnums", donate_argnums), _name_tuple("donate_argnames", donate_argnames))
        if fn is None:
            return functools.partial(
                jit, static_argnums=argnums, static_argnames=argnames, donate_argnums=donated[0],
                donate_argnames=donated[1], keep_unused=keep_unused, inline=inline,
                cflags=cflags, extra_cflags=extra, compile_budget_ms=compile_budget_ms, options=resolved,
            )
        if not callable(fn):
            raise TraceError(f"jit takes a function, got a {type(fn).__name__} ({fn!r:.60})")
        # Checked against fn's parameters as the static ones are, then unused.
        _StaticArguments(fn, *donated, what="donate")
        static = _StaticArguments(fn, argnums, argnames)
        budget = _budget(compile_budget_ms)
    except GradcError as err:
        raise _for_user(err) from None
    if static:
        return StaticJitFunction(fn, static, cflags, resolved, extra or (), budget)
    if budget is not None:
        return BudgetJitFunction(fn, budget, cflags, resolved, extra or ())
    return JitFunction(fn, cflags, resolved, extra or ())


def _budget(value: Any) -> float | None:
    """`compile_budget_ms=`: None or a number of milliseconds >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise TraceError(f"compile_budget_ms must be a number of milliseconds >= 0 or None, got {value!r}")
    return float(value)


QUICK_CFLAGS: tuple[str, ...] = ("-O1",)
"""What the compile budget's quick build adds after the usual flags."""


class BudgetJitFunction(JitFunction):
    """`gradc.jit(f, compile_budget_ms=B)`: the first call of a signature
    waits at most about B ms for the optimized C build (after tracing and
    the passes, which the budget does not cover). If the build is not done
    by then, gradc builds the same C at `-O1` (QUICK_CFLAGS, several times
    faster to compile on large programs) and runs that, while the optimized
    build goes on in a background thread; the first call after it is ready
    switches to it, with no change to the caller's code. The two builds
    run the same operations in the same order; they may differ in the last
    bits where gcc -O3 fuses a multiply and an add into one FMA and -O1
    does not. `wait_for_builds()` blocks until the background builds are
    done and in use (tests, benchmarks); `pending_builds` counts them."""

    def __init__(self, fn: Callable[..., Any], budget_ms: float, cflags: Sequence[str] | None = None,
                 options: Options = DEFAULT_OPTIONS, extra_cflags: Sequence[str] = ()):
        super().__init__(fn, cflags, options, extra_cflags)
        self.compile_budget_ms = budget_ms
        self._ready: list[tuple[tuple, Compiled]] = []
        """Optimized builds done in the background, to put in use (by the
        calling thread, on its next call)."""
        self._threads: list[threading.Thread] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._ready:
            self._use_ready()
        return super().__call__(*args, **kwargs)

    @property
    def pending_builds(self) -> int:
        """Optimized builds still running in the background."""
        return sum(thread.is_alive() for thread in self._threads)

    def wait_for_builds(self, timeout: float | None = None) -> None:
        """Wait for the background builds, then use them."""
        for thread in self._threads:
            thread.join(timeout)
        self._use_ready()

    def _use_ready(self) -> None:
        while self._ready:
            key, compiled = self._ready.pop()
            self._cache[key] = compiled
            self._positional.pop(key[1:], None)
            self._trees.pop(key, None)
            self._clear_recent()

    def _compile(self, args: tuple, kwargs: dict, key: tuple) -> Compiled:
        lowered = self._lowered(args, kwargs)
        lowered.c_source, lowered.c_header  # the passes run here, outside the budget
        lock = threading.Lock()
        state: dict[str, Any] = {"quick": False}

        def optimized() -> None:
            try:
                done: Compiled | BaseException = lowered.compiled
            except BaseException as err:  # raised by the caller that waits for it
                done = err
            with lock:
                state["done"] = done
                if state["quick"] and isinstance(done, Compiled):
                    self._ready.append((key, done))

        thread = threading.Thread(target=optimized, name=f"gradc build {self.__name__}", daemon=True)
        thread.start()
        thread.join(max(self.compile_budget_ms, 0.0) / 1000.0)
        with lock:
            if "done" in state:
                done = state["done"]
                if isinstance(done, BaseException):
                    raise done
                return done
            state["quick"] = True
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        return lowered.build_with(QUICK_CFLAGS)


class StaticJitFunction(JitFunction):
    """`gradc.jit(f, static_argnums=..., static_argnames=...)`: one
    `JitFunction` per distinct tuple of static values, of `f` with those
    values filled in (so each has its own signatures and fast calls)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        static: _StaticArguments,
        cflags: Sequence[str] | None = None,
        options: Options = DEFAULT_OPTIONS,
        extra_cflags: Sequence[str] = (),
        budget_ms: float | None = None,
    ):
        super().__init__(fn, cflags, options, extra_cflags)
        self.static = static
        self.compile_budget_ms = budget_ms
        self._bound: dict[tuple, JitFunction] = {}

    def _for_static(self, args: tuple, kwargs: dict) -> tuple[JitFunction, tuple, dict]:
        key, dyn_args, dyn_kwargs = self.static.split(self.fn, args, kwargs)
        inner = self._bound.get(key)
        if inner is None:
            bound = self.static.bind(self.fn, key)
            inner = (JitFunction(bound, self.cflags, self.options, self.extra_cflags) if self.compile_budget_ms is None
                     else BudgetJitFunction(bound, self.compile_budget_ms, self.cflags, self.options, self.extra_cflags))
            self._bound[key] = inner
        return inner, dyn_args, dyn_kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            inner, dyn_args, dyn_kwargs = self._for_static(args, kwargs)
            return inner(*dyn_args, **dyn_kwargs)
        except GradcError as err:
            raise _for_user(err) from None

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        try:
            inner, dyn_args, dyn_kwargs = self._for_static(args, kwargs)
        except GradcError as err:
            raise _for_user(err) from None
        return inner.lower(*dyn_args, **dyn_kwargs)

    @property
    def cache_size(self) -> int:
        """How many builds there are (signatures times static values)."""
        return sum(inner.cache_size for inner in self._bound.values())

    @property
    def pending_builds(self) -> int:
        """Optimized builds still running in the background (with a compile
        budget; see `BudgetJitFunction`)."""
        return sum(inner.pending_builds for inner in self._bound.values())

    def wait_for_builds(self, timeout: float | None = None) -> None:
        """Wait for the background builds of every static value, then use them."""
        for inner in list(self._bound.values()):
            inner.wait_for_builds(timeout)

class Lowered:
    """A traced function and every level below it, computed on first access:
    `.array_ir` (as traced, with its `autodiff` requests),
    `.differentiated_ir` (requests expanded into array code),
    `.simplified_ir` (after the array clean-up passes), `.loops_ir` (after
    lower-array-to-loops), `.c_source`, `.c_header`; `.stages` maps each
    stage's name to its IR; `.compile()` builds it; `.timings` says how long
    each step took so far."""

    def __init__(
        self,
        traced: TracedFunction,
        cflags: Sequence[str] | None = None,
        options: Options = DEFAULT_OPTIONS,
        extra_cflags: Sequence[str] = (),
        timings: Timings | None = None,
    ):
        self.traced = traced
        self.cflags = cflags
        self.extra_cflags = tuple(extra_cflags)
        self.options = options
        self._stages = options.stages()
        self.name = traced.name
        self._modules: dict[str, ModuleOp] = {}
        self._timings = Timings() if timings is None else timings

    @property
    def timings(self) -> dict[str, float]:
        """Wall seconds of each step run so far, in order: `trace`,
        `pipeline-setup` (making the passes; the first compilation in a
        process imports them), each pass by name (`check-sizes`: the size
        checks between them), `print-c` (C source and header), `cc`
        (building the C, or fetching it from the cache, and loading the
        library; `cc -O1` for the quick build of a compile budget), `load`
        (the Python call around it). A step appears once it has run
        (`.c_source` runs the passes, `.compile()` the rest)."""
        return self._timings.totals()

    @cached_property
    def array_ir(self) -> str:
        return str(self.traced.module)

    def _module_after(self, stage: str) -> ModuleOp:
        """The module after `stage` of the pipeline's stages (computed once,
        from the stage before it)."""
        module = self._modules.get(stage)
        if module is None:
            names = [name for name, _ in self._stages]
            k = names.index(stage)
            before = self.traced.module if k == 0 else self._module_after(names[k - 1])
            passes = self._stages[k][1]
            module = compile_for_user(before.clone(), passes, self._timings) if passes else before
            self._modules[stage] = module
        return module

    @cached_property
    def differentiated_ir(self) -> str:
        return str(self._module_after("differentiated"))

    @cached_property
    def jacobian_strategies(self) -> list[dict[str, Any]]:
        """How each mode-"auto" Jacobian or Hessian is accumulated: dicts of
        "kind" ("jacobian" or "hessian"), "function", "callee", "chosen"
        (the emitted strategy) and "candidates" (multiplications per
        strategy)."""
        return jacobian_strategies(self.traced.module)

    @cached_property
    def simplified_ir(self) -> str:
        return str(self._module_after("simplified"))

    @cached_property
    def loops_ir(self) -> str:
        return str(self._module_after("loops"))

    @cached_property
    def memory(self) -> dict[str, int]:
        """Bytes of memory the compiled function uses besides its arguments:
        `workspace_bytes` (what the caller provides, `NAME_work_size()`),
        `stack_bytes` (local arrays), `buffer_bytes` (all workspace buffers
        together: the workspace without plan-memory) and `live_bytes` (the
        most workspace bytes live at one point of the program)."""
        for op in self._module_after("loops").ops:
            if isinstance(op, func.FuncOp) and op.sym_name.data == self.name:
                return memory_figures(op)
        raise KeyError(f"no function @{self.name} at the loops level")

    @cached_property
    def _c_module(self) -> ModuleOp:
        if "loops" in self._modules:
            return self._module_after("c")
        # Straight through, without keeping the stages in between.
        return compile_for_user(self.traced.module.clone(), self.options.pipeline(), self._timings)

    @property
    def stages(self) -> dict[str, str]:
        """The IR after each stage, in order: `traced` (with its requests),
        `differentiated`, `simplified`, `loops`, and `c` (the C source)."""
        out = {"traced": self.array_ir}
        for name, _ in self._stages[:-1]:
            out[name] = str(self._module_after(name))
        out["c"] = self.c_source
        return out

    @cached_property
    def c_source(self) -> str:
        from gradc.backend.target_c import print_c_source

        module = self._c_module
        with self._timings.measure("print-c"):
            return print_c_source(module)

    @cached_property
    def c_header(self) -> str:
        from gradc.backend.target_c import print_c_header

        module = self._c_module
        with self._timings.measure("print-c"):
            return print_c_header(module)

    @property
    def statuses(self) -> dict[int, str]:
        """What each nonzero status the C function can return means (a
        while_loop past its max_steps; empty when it always succeeds)."""
        from gradc.dialects import c

        return {
            op.status.data: op.message.data
            for op in self._c_module.walk()
            if isinstance(op, c.FailIfOp) and _enclosing_c_function(op) == self.name
        }

    @cached_property
    def compiled(self) -> Compiled:
        return self.build_with(())

    def build_with(self, extra_cflags: Sequence[str]) -> Compiled:
        """The C built with `extra_cflags` after this lowering's own flags
        (the compile budget's quick `-O1` build)."""
        specs = _boundary_specs(function_specs(self.traced.module, self.name), self.traced)
        source, header, statuses = self.c_source, self.c_header, self.statuses
        # The quick build of a compile budget is timed apart (it runs while the
        # optimized one goes on in the background).
        cc = " ".join(("cc", *extra_cflags))
        with self._timings.measure(cc):
            function = load(source, header, self.name, specs, self.cflags, (*self.extra_cflags, *extra_cflags),
                            statuses)
        with self._timings.measure("load"):
            return Compiled(function, self.traced.out_tree, self.name, self.traced.in_specs,
                            [f"argument {path}" for path in self.traced.in_paths])

    def compile(self) -> Callable[..., Any]:
        """The compiled function, called like the original on arguments of
        this signature (others raise a GradcError)."""
        in_tree = self.traced.in_tree
        specs = self.traced.in_specs
        compiled = self.compiled

        def call(*args: Any, **kwargs: Any) -> Any:
            leaves, treedef = pytree.flatten((args, kwargs) if kwargs else args)
            if treedef != in_tree or any(
                not _matches(leaf, spec) for leaf, spec in zip(leaves, specs)
            ):
                raise GradcError(
                    f"{self.name} was compiled for arguments {_show_signature(in_tree, specs)}, "
                    f"called with {_show_leaves(treedef, leaves)}; use gradc.jit to "
                    "compile for each signature"
                )
            return compiled.run(leaves)

        call.__name__ = self.name
        return call

    @cached_property
    def callable(self) -> Callable[..., Any]:
        return self.compile()


def _enclosing_c_function(op: Any) -> str | None:
    """The name of the `c.func` that holds `op`."""
    from gradc.dialects import c

    while op is not None and not isinstance(op, c.FuncOp):
        op = op.parent_op()
    return None if op is None else op.sym_name.data


def _matches(leaf: Any, spec: Any) -> bool:
    if spec.weak:
        return type(leaf) is int if spec.dtype.kind == "i" else type(leaf) in (float, int)
    return isinstance(leaf, np.ndarray | np.generic) and leaf.shape == spec.shape and leaf.dtype == spec.dtype


def _show_signature(tree: pytree.PyTreeDef, specs: Sequence[Any]) -> str:
    return f"{tree} with leaves [{', '.join(s.describe() for s in specs)}]"


def _show_leaves(tree: pytree.PyTreeDef, leaves: Sequence[Any]) -> str:
    def show(leaf: Any) -> str:
        if isinstance(leaf, np.ndarray | np.generic):
            return f"{leaf.dtype.name}{list(leaf.shape)}"
        return type(leaf).__name__

    return f"{tree} with leaves [{', '.join(map(show, leaves))}]"


def _static_call(
    fn: Any, args: tuple, kwargs: dict, static_argnums: Any, static_argnames: Any
) -> tuple[Callable[..., Any], tuple, dict]:
    """The function to trace and its dynamic arguments, for `lower` and
    `export_c` given `static_argnums` / `static_argnames` (or those of a
    jitted `fn`)."""
    if static_argnums is None and static_argnames is None:
        static = fn.static if isinstance(fn, StaticJitFunction) else None
    else:
        inner = fn.fn if isinstance(fn, JitFunction) else fn
        static = _StaticArguments(inner, _index_tuple("static_argnums", static_argnums),
                                  _name_tuple("static_argnames", static_argnames))
    if isinstance(fn, JitFunction):
        fn = fn.fn
    if not static:
        return fn, args, kwargs
    key, dyn_args, dyn_kwargs = static.split(fn, args, kwargs)
    return static.bind(fn, key), dyn_args, dyn_kwargs


def lower(
    fn: Callable[..., Any],
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    cflags: Sequence[str] | None = None,
    extra_cflags: Sequence[str] | None = None,
    options: Options | dict[str, Any] | None = None,
    **kwargs: Any,
) -> Lowered:
    """Trace `fn` on `args` and expose each level of its compilation
    (static arguments, flags and pipeline `options` as in `gradc.jit`; a
    jitted `fn` brings its own)."""
    if isinstance(fn, JitFunction):
        cflags = cflags if cflags is not None else fn.cflags
        extra_cflags = extra_cflags if extra_cflags is not None else fn.extra_cflags
        options = options if options is not None else fn.options
    try:
        fn, args, kwargs = _static_call(fn, args, kwargs, static_argnums, static_argnames)
        cflags, extra = _flag_list("cflags", cflags), _flag_list("extra_cflags", extra_cflags)
        resolved = Options.make(options)
        timings = Timings()
        with timings.measure("trace"):
            traced = trace(fn, args, kwargs or None)
        return Lowered(traced, cflags, resolved, extra or (), timings)
    except GradcError as err:
        raise _for_user(err) from None


def export_c(
    fn: Callable[..., Any],
    *args: Any,
    path_stem: str | Path,
    name: str | None = None,
    options: Options | dict[str, Any] | None = None,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
) -> tuple[Path, Path]:
    """Write `fn` compiled for `args` as a standalone `path_stem.c` and
    `path_stem.h` (C function `name`, default `fn`'s name; static arguments
    and pipeline `options` as in `gradc.jit`); returns both paths."""
    if isinstance(fn, JitFunction):
        options = options if options is not None else fn.options
    if name is not None and not is_c_identifier(name):
        # An explicit name is what C callers will write: use it exactly or refuse.
        raise ValueError(
            f"export_c: name {name!r} is not a C identifier gradc can use (a keyword, "
            f"a library or reserved name, or invalid characters); try {c_identifier(name)!r}"
        )
    try:
        fn, args, kwargs = _static_call(fn, args, {}, static_argnums, static_argnames)
        lowered = Lowered(trace(fn, args, kwargs or None, name=name), None, Options.make(options))
    except GradcError as err:
        raise _for_user(err) from None
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    c_path, h_path = stem.with_name(stem.name + ".c"), stem.with_name(stem.name + ".h")
    source, header = lowered.c_source, lowered.c_header
    tables = _sparsity_tables(lowered)
    if tables:
        source += "\n" + "".join(definition for definition, _ in tables)
        at = header.rindex("#endif")
        header = header[:at] + "".join(declaration for _, declaration in tables) + "\n" + header[at:]
    c_path.write_text(source)
    h_path.write_text(header)
    return c_path, h_path


def _sparsity_tables(lowered: Lowered) -> list[tuple[str, str]]:
    """For each output of the exported function that is a sparse Jacobian or
    Hessian (`sparse=True`): the C definition and the header declaration of
    its pattern, `NAME[_outK]_rows` / `_cols` (int32, CSR order, the entry
    order of the values), `_row_ptr` (the CSR row starts) and
    `NAME[_OUTK]_NNZ`, `_ROWS`, `_COLS`: what a sparse solver's interface
    (IPOPT's triplets, CSR) takes once."""
    from xdsl.dialects import func

    from gradc.pipeline import derivative_pattern

    module = lowered.traced.module
    functions = [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    main = next(f for f in functions if f.sym_name.data == lowered.name)
    returned = list(main.body.block.last_op.operands)
    tables = []
    for k, value in enumerate(returned):
        op = value.owner
        if not isinstance(op, autodiff.JacobianOp | autodiff.HessianOp) or autodiff.SPARSE_ATTR not in op.attributes:
            continue
        rows, cols, (m, n) = derivative_pattern(
            op.callee_function(), functions, op.wrt_indices, isinstance(op, autodiff.HessianOp)
        )
        stem = lowered.name if len(returned) == 1 else f"{lowered.name}_out{k}"
        ptr = np.searchsorted(rows, np.arange(m + 1))
        definition = "".join(_c_table(f"{stem}_{what}", data) for what, data in
                             (("rows", rows), ("cols", cols), ("row_ptr", ptr)))
        big = stem.upper()
        declaration = (
            f"\n/* The pattern of {stem}'s values (CSR order): entry k is at (rows[k], cols[k]). */\n"
            f"#define {big}_NNZ {rows.size}\n#define {big}_ROWS {m}\n#define {big}_COLS {n}\n"
            f"extern const int32_t {stem}_rows[{max(rows.size, 1)}];\n"
            f"extern const int32_t {stem}_cols[{max(rows.size, 1)}];\n"
            f"extern const int32_t {stem}_row_ptr[{m + 1}];\n"
        )
        tables.append((definition, declaration))
    return tables


def _c_table(name: str, data: np.ndarray) -> str:
    values = [str(int(v)) for v in data] or ["0"]
    lines = [", ".join(values[i : i + 16]) for i in range(0, len(values), 16)]
    return f"const int32_t {name}[{len(values)}] = {{\n    " + ",\n    ".join(lines) + "\n};\n"

__all__ = ["jit", "lower", "export_c", "JitFunction", "StaticJitFunction", "Lowered", "Compiled"]
