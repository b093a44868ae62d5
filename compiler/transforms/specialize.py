"""`gradc.specialize`: a function compiled with chosen arguments baked in.

    step_now = gradc.specialize(step, params, x, y, constants="params")
    new_params, loss = step_now(x, y)     # params are constants in the C

Expects: `fn` as `gradc.jit` takes it, example arguments for all of its
parameters, and `constants=` naming whole arguments: a position among the
positional arguments given (negative counts from the end), or a parameter
or keyword name; an argument may be a pytree (the params dict), all of
whose leaves are then baked in.

Guarantees: the result computes `fn` with the baked values, as
`gradc.jit(fn)` does given them, from the remaining arguments (in their
order, without the baked ones); it is a `gradc.jit` of those (one build per
signature, `.lower(...)` with no arguments lowers the example's). The
function is traced with every argument, then the baked leaves' arguments
become `array.constant`s, so the array passes fold what they can and
`sparse-products` skips the zeros of constant matrices. Inside a traced
function it traces through with the values as NumPy constants; it has no
parameter for a baked argument, so a derivative with respect to one is an
`argnums` error. A wrong `constants=` is a located `TraceError`. Why and
what it costs: docs/frontend.md ("Specialization").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.errors import GradcError, TraceError
from gradc.frontend import pytree
from gradc.frontend.tracer import UINT32
from gradc.frontend.tracing import TracedFunction, trace
from gradc.pipeline import DEFAULT_OPTIONS, Options
from gradc.support.dense import numpy_to_dense, splat_dense
from gradc.transforms.api import JitFunction, Lowered, _flag_list, _for_user, _StaticArguments


def _chosen(fn: Callable[..., Any], args: tuple, kwargs: dict, constants: Any) -> tuple[set[int], set[str]]:
    """The positions (into `args`) and keyword names (into `kwargs`) that
    `constants=` names, or a TraceError saying which choice is wrong."""
    items = (constants,) if isinstance(constants, int | str) else constants
    if not isinstance(items, Sequence) or not items or not all(
        isinstance(c, int | str) and not isinstance(c, bool) for c in items
    ):
        raise TraceError(
            "specialize: constants= takes an argument position, a parameter name, or a "
            f"non-empty sequence of them, got {constants!r:.80}"
        )
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    n = len(args)
    positions: set[int] = set()
    names: set[str] = set()
    for c in items:
        if isinstance(c, int):
            if not -n <= c < n:
                raise TraceError(
                    f"specialize: constants= names argument {c}, but the call gives "
                    f"{n} positional argument{'s' if n != 1 else ''}"
                )
            positions.add(c % n)
        elif c in kwargs:
            names.add(c)
        elif c in positional[:n]:
            positions.add(positional.index(c))
        else:
            given = [*positional[:n], *sorted(kwargs)]
            raise TraceError(
                f"specialize: constants= names {c!r}, which is not an argument of this call "
                f"(the arguments given are {', '.join(given) or 'none'})"
            )
    return positions, names


def _bake(traced: TracedFunction, baked: Sequence[int], leaves: Sequence[Any], dynamic: tuple) -> TracedFunction:
    """`traced` with the arguments at leaf indices `baked` (of the values
    `leaves`) replaced by `array.constant`s; `dynamic` is the pytree of
    the arguments left."""
    module = traced.module
    main = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == traced.name)
    block = main.body.block
    for k in baked:
        spec = traced.in_specs[k]
        value = np.asarray(leaves[k], dtype=spec.dtype)
        if spec.dtype == UINT32:  # a key: its bits as i32, as tracing passes it
            value = value.view(np.int32)
        flat = value.reshape(-1)
        if flat.size and bool((flat == flat[0]).all()) and value.dtype != np.bool_:
            dense = splat_dense(flat[0], value.dtype, value.shape)
        else:
            dense = numpy_to_dense(value)
        constant = array.ConstantOp(dense)
        Rewriter.insert_op(constant, InsertPoint.at_start(block))
        block.args[k].replace_all_uses_with(constant.result)
    for k in sorted(baked, reverse=True):
        block.erase_arg(block.args[k])
    outputs = main.function_type.outputs.data
    main.function_type = FunctionType.from_lists([a.type for a in block.args], list(outputs))
    module.verify()
    kept = [k for k in range(len(traced.in_specs)) if k not in set(baked)]
    return traced._replace(in_tree=pytree.flatten(dynamic)[1], in_specs=tuple(traced.in_specs[k] for k in kept),
                           in_paths=tuple(traced.in_paths[k] for k in kept))


class SpecializedFunction(JitFunction):
    """`gradc.specialize(fn, ...)`: a `gradc.jit` of `fn`'s remaining
    arguments whose builds trace `fn` with every argument and bake the
    chosen ones into the IR as constants."""

    def __init__(
        self,
        fn: Callable[..., Any],
        key: tuple,
        example: tuple[tuple, dict],
        cflags: Sequence[str] | None = None,
        options: Options = DEFAULT_OPTIONS,
        extra_cflags: Sequence[str] = (),
    ):
        _, positional, keywords = key
        static = _StaticArguments(fn, tuple(i for i, _ in positional), tuple(k for k, _ in keywords),
                                  what="constant")
        super().__init__(static.bind(fn, key), cflags, options, extra_cflags)
        self.original = fn
        self.key = key
        self.example = example

    def _full(self, args: tuple, kwargs: dict) -> tuple[tuple, dict, list[int], list[Any]]:
        """The whole call of `fn` for the remaining `args`, `kwargs`: its
        arguments, keyword arguments, the leaf indices of the baked values
        and every leaf."""
        _, positional, keywords = self.key
        merged = list(args)
        for i, value in positional:
            merged.insert(i, value)
        full_kwargs = {**kwargs, **dict(keywords)}
        baked_args = {i for i, _ in positional}
        baked_names = {k for k, _ in keywords}
        baked: list[int] = []
        leaves: list[Any] = []
        for i, arg in enumerate(merged):
            sub = pytree.flatten(arg)[0]
            if i in baked_args:
                baked += range(len(leaves), len(leaves) + len(sub))
            leaves += sub
        for name in sorted(full_kwargs):
            sub = pytree.flatten(full_kwargs[name])[0]
            if name in baked_names:
                baked += range(len(leaves), len(leaves) + len(sub))
            leaves += sub
        return tuple(merged), full_kwargs, baked, leaves

    def _lowered(self, args: tuple, kwargs: dict) -> Lowered:
        full_args, full_kwargs, baked, leaves = self._full(args, kwargs)
        traced = trace(self.original, full_args, full_kwargs or None)
        dynamic = (tuple(args), kwargs) if kwargs else tuple(args)
        traced = _bake(traced, baked, leaves, dynamic)
        return Lowered(traced, self.cflags, self.options, self.extra_cflags)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """The stages of the build for these remaining arguments (the
        example's when none are given)."""
        if not args and not kwargs:
            args, kwargs = self.example
        try:
            return self._lowered(args, kwargs)
        except GradcError as err:
            raise _for_user(err) from None

    def __repr__(self) -> str:
        return f"gradc.specialize({getattr(self.original, '__qualname__', self.original)!r})"


def specialize(
    fn: Callable[..., Any],
    *args: Any,
    constants: int | str | Sequence[int | str],
    cflags: Sequence[str] | None = None,
    extra_cflags: Sequence[str] | None = None,
    options: Options | dict[str, Any] | None = None,
    **kwargs: Any,
) -> SpecializedFunction:
    """`fn` compiled with the arguments `constants=` names baked in as the
    values given here (copied now: later changes to those arrays do not
    reach it), callable on the other arguments. `args`/`kwargs` are a full
    example call of `fn`; nothing is built until the first call. Flags and
    pipeline options as in `gradc.jit` (a jitted `fn` brings its own), with
    `sparse=True` unless `options` says otherwise: products with a baked,
    mostly-zero matrix run over its nonzeros."""
    try:
        if isinstance(fn, JitFunction):
            cflags = cflags if cflags is not None else fn.cflags
            extra_cflags = extra_cflags if extra_cflags is not None else fn.extra_cflags
            options = options if options is not None else fn.options
            fn = fn.fn
        if not callable(fn):
            raise TraceError(f"specialize takes a function, got a {type(fn).__name__} ({fn!r:.60})")
        positions, names = _chosen(fn, args, kwargs, constants)
        key = (
            len(args),
            tuple((i, pytree_copy(args[i])) for i in sorted(positions)),
            tuple(sorted((k, pytree_copy(kwargs[k])) for k in names)),
        )
        example = (
            tuple(a for i, a in enumerate(args) if i not in positions),
            {k: v for k, v in kwargs.items() if k not in names},
        )
        flags, extra = _flag_list("cflags", cflags), _flag_list("extra_cflags", extra_cflags)
        resolved = Options.make(options)
        if not (isinstance(options, dict) and "sparse" in options):
            resolved = Options.make(resolved, sparse=True)  # baked weights: skip their zeros
        return SpecializedFunction(fn, key, example, flags, resolved, extra or ())
    except GradcError as err:
        raise _for_user(err) from None


def pytree_copy(tree: Any) -> Any:
    """`tree` with every NumPy array leaf copied."""
    leaves, treedef = pytree.flatten(tree)
    return pytree.unflatten(treedef, [leaf.copy() if isinstance(leaf, np.ndarray) else leaf for leaf in leaves])


__all__ = ["specialize", "SpecializedFunction"]
