"""gradc's user-facing functions: `jit`, `lower`, `export_c`.

    fast = gradc.jit(f)          # compiles on the first call per signature
    fast(x, w)                   # later calls: flatten, one dict lookup, the C call
    gradc.lower(f, x, w).c_source
    gradc.export_c(f, x, w, path_stem="build/f")   # build/f.c, build/f.h

A signature is the pytree structure of the arguments plus the shape and dtype
of each leaf (a Python float is "a Python float", whatever its value: its
value is an argument of the compiled code).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from gradc import pytree
from gradc.errors import GradcError, without_gradc_frames
from gradc.numpy import TracedArray, current_trace
from gradc.pipeline import DEFAULT_PIPELINE, STAGES, build_c, function_specs, run_pipeline
from gradc.tracing import ArgSpec, TracedFunction, trace

_PYTHON_NUMBER = "Python number"
"""The signature of a Python float or int leaf: one compiled function serves
every value."""


def _leaf_signature(leaf: Any) -> Any:
    kind = type(leaf)
    if kind is np.ndarray:
        return (leaf.shape, leaf.dtype)
    if kind is float or kind is int:
        return _PYTHON_NUMBER
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


class Compiled:
    """One compiled function on pytrees of NumPy arrays: the leaves go to the
    C function in order (Python numbers as 0-d float64 arrays), its results
    come back in `out_tree`'s structure."""

    __slots__ = ("function", "out_tree", "name", "_numbers", "_flat_out")

    def __init__(
        self,
        function: Callable[..., list[np.ndarray]],
        out_tree: pytree.PyTreeDef,
        name: str,
        in_specs: Sequence[ArgSpec],
    ):
        self.function = function
        self.out_tree = out_tree
        self.name = name
        self._numbers = tuple(k for k, spec in enumerate(in_specs) if spec.weak)
        # The common result structures, rebuilt without walking the tree.
        self._flat_out = (
            "leaf"
            if out_tree == pytree.LEAF
            else "tuple"
            if out_tree.kind is tuple and all(c == pytree.LEAF for c in out_tree.children)
            else None
        )

    def run(self, leaves: Sequence[Any]) -> Any:
        if self._numbers:
            leaves = list(leaves)
            for k in self._numbers:
                leaves[k] = np.array(leaves[k], _F64)
        try:
            results = self.function(*leaves)
        except (TypeError, ValueError):
            # The C function takes dense row-major arrays; a strided view of
            # the right shape and dtype gets copied (the slow path only).
            results = self.function(*map(_contiguous, leaves))
        flat = self._flat_out
        if flat == "leaf":
            return results[0]
        if flat == "tuple":
            return tuple(results)
        return pytree.unflatten(self.out_tree, results)


_F64 = np.dtype(np.float64)


def _contiguous(leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray) and not leaf.flags.c_contiguous:
        return leaf.copy(order="C")
    return leaf


class JitFunction:
    """`gradc.jit(f)`: compiles `f` once per argument signature and caches
    the build; calls with traced arrays (inside another traced function)
    trace through `f` instead, so jitted functions compose."""

    def __init__(self, fn: Callable[..., Any], cflags: Sequence[str] | None = None):
        self.fn = fn
        self.cflags = None if cflags is None else tuple(cflags)
        self._cache: dict[tuple, Compiled] = {}
        self._array_cache: dict[tuple, Compiled] = {}
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            # Fast path: positional NumPy arrays and Python floats, keyed by
            # shapes and dtypes.
            signature = []
            for arg in args:
                kind = type(arg)
                if kind is np.ndarray:
                    signature.append((arg.shape, arg.dtype))
                elif kind is float:
                    signature.append(_PYTHON_NUMBER)
                else:
                    break
            else:
                compiled = self._array_cache.get(tuple(signature))
                if compiled is not None:
                    return compiled.run(args)
        leaves, key = _signature(args, kwargs)
        compiled = self._cache.get(key)
        if compiled is None:
            if current_trace() is not None or any(isinstance(leaf, TracedArray) for leaf in leaves):
                # Inside a function being traced: trace through, so that the
                # whole composition becomes one C function.
                return self.fn(*args, **kwargs)
            try:
                compiled = self._compile(args, kwargs)
            except GradcError as err:
                raise _for_user(err) from None
            self._cache[key] = compiled
            if not kwargs and all(type(arg) is np.ndarray or type(arg) is float for arg in args):
                self._array_cache[key[1:]] = compiled
        return compiled.run(leaves)

    def _compile(self, args: tuple, kwargs: dict) -> Compiled:
        lowered = Lowered(trace(self.fn, args, kwargs or None), self.cflags)
        return lowered.compiled

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """`gradc.lower` of the wrapped function, with this jit's cflags."""
        return lower(self.fn, *args, cflags=self.cflags, **kwargs)

    @property
    def cache_size(self) -> int:
        """How many signatures have been compiled."""
        return len(self._cache)

    def __repr__(self) -> str:
        return f"gradc.jit({getattr(self.fn, '__qualname__', self.fn)!r})"


def jit(fn: Callable[..., Any] | None = None, *, cflags: Sequence[str] | None = None) -> Any:
    """Compile `fn` to C on its first call per argument signature.

    `cflags` replaces the C compiler flags (default `-O3 -march=native`, or
    `GRADC_CFLAGS`). Usable as `@gradc.jit` and `@gradc.jit(cflags=[...])`."""
    if fn is None:
        return functools.partial(jit, cflags=cflags)
    return JitFunction(fn, cflags)


class Lowered:
    """A traced function and every level below it, computed on first access:
    `.array_ir` (as traced, with its `autodiff` requests),
    `.differentiated_ir` (requests expanded into array code),
    `.simplified_ir` (after the array clean-up passes), `.loops_ir` (after
    lower-array-to-loops), `.c_source`, `.c_header`; `.stages` maps each
    stage's name to its IR; `.compile()` builds it."""

    def __init__(self, traced: TracedFunction, cflags: Sequence[str] | None = None):
        self.traced = traced
        self.cflags = cflags
        self.name = traced.name
        self._modules: dict[str, ModuleOp] = {}

    @cached_property
    def array_ir(self) -> str:
        return str(self.traced.module)

    def _module_after(self, stage: str) -> ModuleOp:
        """The module after `stage` of `STAGES` (computed once, from the
        stage before it)."""
        module = self._modules.get(stage)
        if module is None:
            names = [name for name, _ in STAGES]
            k = names.index(stage)
            before = self.traced.module if k == 0 else self._module_after(names[k - 1])
            module = run_pipeline(before.clone(), STAGES[k][1]) if STAGES[k][1] else before
            self._modules[stage] = module
        return module

    @cached_property
    def differentiated_ir(self) -> str:
        return str(self._module_after("differentiated"))

    @cached_property
    def simplified_ir(self) -> str:
        return str(self._module_after("simplified"))

    @cached_property
    def loops_ir(self) -> str:
        return str(self._module_after("loops"))

    @cached_property
    def _c_module(self) -> ModuleOp:
        if "loops" in self._modules:
            return self._module_after("c")
        # Straight through, without keeping the stages in between.
        return run_pipeline(self.traced.module.clone(), DEFAULT_PIPELINE)

    @property
    def stages(self) -> dict[str, str]:
        """The IR after each stage, in order: `traced` (with its requests),
        `differentiated`, `simplified`, `loops`, and `c` (the C source)."""
        out = {"traced": self.array_ir}
        for name, _ in STAGES[:-1]:
            out[name] = str(self._module_after(name))
        out["c"] = self.c_source
        return out

    @cached_property
    def c_source(self) -> str:
        from gradc.target_c import print_c_source

        return print_c_source(self._c_module)

    @cached_property
    def c_header(self) -> str:
        from gradc.target_c import print_c_header

        return print_c_header(self._c_module)

    @cached_property
    def compiled(self) -> Compiled:
        specs = function_specs(self.traced.module, self.name)
        function = build_c(self.c_source, self.c_header, self.name, specs, self.cflags)
        return Compiled(function, self.traced.out_tree, self.name, self.traced.in_specs)

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


def _matches(leaf: Any, spec: Any) -> bool:
    if spec.weak:
        return type(leaf) is float or type(leaf) is int
    return isinstance(leaf, np.ndarray | np.generic) and leaf.shape == spec.shape and leaf.dtype == spec.dtype


def _show_signature(tree: pytree.PyTreeDef, specs: Sequence[Any]) -> str:
    return f"{tree} with leaves [{', '.join(s.describe() for s in specs)}]"


def _show_leaves(tree: pytree.PyTreeDef, leaves: Sequence[Any]) -> str:
    def show(leaf: Any) -> str:
        if isinstance(leaf, np.ndarray | np.generic):
            return f"{leaf.dtype.name}{list(leaf.shape)}"
        return type(leaf).__name__

    return f"{tree} with leaves [{', '.join(map(show, leaves))}]"


def lower(fn: Callable[..., Any], *args: Any, cflags: Sequence[str] | None = None, **kwargs: Any) -> Lowered:
    """Trace `fn` on `args` and expose each level of its compilation."""
    if isinstance(fn, JitFunction):
        cflags = cflags if cflags is not None else fn.cflags
        fn = fn.fn
    try:
        return Lowered(trace(fn, args, kwargs or None), cflags)
    except GradcError as err:
        raise _for_user(err) from None


def export_c(
    fn: Callable[..., Any], *args: Any, path_stem: str | Path, name: str | None = None
) -> tuple[Path, Path]:
    """Write `fn` compiled for `args` as a standalone `path_stem.c` and
    `path_stem.h` (C function `name`, default `fn`'s name); returns both paths."""
    if isinstance(fn, JitFunction):
        fn = fn.fn
    try:
        lowered = Lowered(trace(fn, args, name=name))
    except GradcError as err:
        raise _for_user(err) from None
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    c_path, h_path = stem.with_name(stem.name + ".c"), stem.with_name(stem.name + ".h")
    c_path.write_text(lowered.c_source)
    h_path.write_text(lowered.c_header)
    return c_path, h_path


__all__ = ["jit", "lower", "export_c", "JitFunction", "Lowered", "Compiled"]
