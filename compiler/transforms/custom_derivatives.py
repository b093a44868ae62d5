"""User-defined derivatives, as in JAX: `custom_jvp` (`f.defjvp`,
`f.defjvps`) and `custom_vjp` (`f.defvjp(fwd, bwd)`).

Expects: a Python function over `gradc.numpy` taking pytrees of arrays and
returning float arrays; rules with JAX's signatures (with `nondiff_argnums`,
those arguments come first: `jvp(*nondiff, primals, tangents)`,
`bwd(*nondiff, residuals, g)`; `fwd` takes the arguments as `fun` does).

Guarantees: a call inside a trace traces `fun` and its rules into private
functions and emits one `autodiff.custom_jvp` / `autodiff.custom_vjp`
(dialects/autodiff/custom.py), whose derivatives the passes take from the
rules; without differentiation it runs `fun`. Outside any trace a call runs
`fun` compiled, like `jit`. At trace time, rule outputs are checked against
`fun`'s (structure, shapes, dtypes; Python scalars take the output's
dtype), and `bwd` must return one cotangent (or None) per differentiable
argument: a `GradcError` at the user's line otherwise. Arguments in
`nondiff_argnums` (Python values: functions, shapes, flags) and values
the functions close over get no derivative; differentiating through one is
a located error when the function is compiled.

How the rules are used in each mode: docs/differentiation.md.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import FileLineColLoc, FunctionType, IntAttr, StringAttr

from gradc.dialects import autodiff
from gradc.errors import TraceError, TraceTypeError, user_location
from gradc.frontend import pytree
from gradc.frontend.operands import _coerce
from gradc.frontend.tracer import Trace, TracedArray, current_trace
from gradc.frontend.tracing import ArgSpec, TracedBody, function_name, trace_callee
from gradc.transforms.api import JitFunction
from gradc.transforms.derivatives import _build_for, _call_for_user, _in_trace, _is_differentiable, _py_name

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class _Custom:
    """What custom_jvp and custom_vjp share: the primal, nondiff_argnums,
    and calling (traced, or compiled outside a trace)."""

    kind = ""

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._active: list[_Recursion] = []
        try:
            self.nondiff_argnums = tuple(operator.index(i) for i in nondiff_argnums)
        except TypeError:
            raise TraceTypeError(
                f"{self.kind} of {_py_name(fun)}: nondiff_argnums must be a sequence of ints, "
                f"got {nondiff_argnums!r:.60}"
            ) from None

    @property
    def name(self) -> str:
        return _py_name(self.fun)

    def _rules_missing(self) -> bool:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._rules_missing():
            define = "defjvp" if self.kind == "custom_jvp" else "defvjp"
            raise TraceTypeError(
                f"{self.kind} function {self.name} has no rule: define one with {self.name}.{define} "
                "before calling it"
            )
        args = self._positional(args, kwargs)
        trace = current_trace()
        if trace is None:
            return self._eager(args)
        nondiff = self._nondiff(len(args))
        diff_pos = [i for i in range(len(args)) if i not in nondiff]
        diff_args = tuple(args[i] for i in diff_pos)
        leaves, in_tree = pytree.flatten(diff_args)
        if not any(_is_differentiable(leaf) for leaf in leaves):
            return self.fun(*args)  # nothing to differentiate: the rules could never run
        key = (in_tree, tuple(_leaf_key(leaf) for leaf in leaves), tuple(id(args[i]) for i in sorted(nondiff)))
        outer = next((r for r in self._active if r.key == key), None)
        if outer is not None:
            # `fun` called from its own rule (`return f(x), ...`), with the
            # same signature: an op naming the rules being traced, completed
            # once they are; in a loop body or a nested transformation
            # inside the rule, `fun`'s own code.
            if trace in outer.traces:
                return self._emit_pending(trace, outer, leaves)
            return self.fun(*args)
        return self._emit(trace, args, diff_pos, key)

    def _emit_pending(self, trace: Trace, outer: _Recursion, leaves: list[Any]) -> Any:
        operands = [_in_trace(trace, leaf, spec) for leaf, spec in zip(leaves, outer.body.in_specs)]
        op_class = autodiff.CustomJvpOp if self.kind == "custom_jvp" else autodiff.CustomVjpOp
        op = op_class.create(
            operands=[v.value for v in operands],
            result_types=list(outer.function.function_type.outputs.data),
        )
        outer.pending.append((op, trace))
        results = trace.emit_all(op, [s.weak for s in outer.body.out_specs])
        return pytree.unflatten(outer.body.out_tree, results)

    def _positional(self, args: tuple, kwargs: dict) -> tuple:
        """Keyword arguments mapped to positions and defaults filled in, as
        JAX does (the rules see every argument)."""
        try:
            signature = inspect.signature(self.fun)
        except (TypeError, ValueError):
            if kwargs:
                raise TraceTypeError(f"{self.kind} function {self.name}: pass its arguments by position") from None
            return args
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TraceTypeError(f"{self.kind} function {self.name}: {error}") from None
        bound.apply_defaults()
        if bound.kwargs:
            raise TraceTypeError(
                f"{self.kind} function {self.name}: keyword-only arguments "
                f"({', '.join(bound.kwargs)}) cannot be passed to a custom derivative function"
            )
        return tuple(bound.args)

    def _nondiff(self, count: int) -> set[int]:
        resolved = set()
        for i in self.nondiff_argnums:
            if not -count <= i < count:
                raise TraceError(
                    f"{self.kind} function {self.name}: nondiff_argnums entry {i} is out of range "
                    f"for a call with {count} positional argument{'s' if count != 1 else ''}"
                )
            resolved.add(i % count)
        return resolved

    def _eager(self, args: tuple) -> Any:
        """Outside a trace: `fun` compiled (once per signature when every
        argument is an array, as with jit)."""
        if self.nondiff_argnums:
            nondiff = self._nondiff(len(args))
            pos = [i for i in range(len(args)) if i not in nondiff]

            def bound(*diff: Any) -> Any:
                full = list(args)
                for i, v in zip(pos, diff):
                    full[i] = v
                return self(*full)

            bound.__name__ = bound.__qualname__ = function_name(self.fun)
            return _call_for_user(JitFunction(bound), *(args[i] for i in pos))

        def make() -> Callable[..., Any]:
            def call(*a: Any) -> Any:
                return self(*a)

            call.__name__ = call.__qualname__ = function_name(self.fun)
            return call

        return _call_for_user(_build_for(self, (self.kind,), make), *args)

    def _emit(self, trace: Trace, args: tuple, diff_pos: list[int], key: tuple) -> Any:
        """Trace `fun`, then its rules (`_emit_rules`), and emit the op."""
        fn, body = self._trace_primal(trace, args, diff_pos)
        recursion = _Recursion(key, fn, body)
        self._active.append(recursion)
        try:
            return self._emit_rules(trace, args, diff_pos, fn, body, recursion)
        finally:
            self._active.remove(recursion)

    def _emit_rules(
        self, trace: Trace, args: tuple, diff_pos: list[int], fn: func.FuncOp, body: TracedBody, recursion: _Recursion
    ) -> Any:
        raise NotImplementedError

    # -- shared pieces of _emit -------------------------------------------------

    def _bind(self, args: tuple, diff_pos: list[int], diff: Sequence[Any]) -> list[Any]:
        full = list(args)
        for i, v in zip(diff_pos, diff, strict=True):
            full[i] = v
        return full

    def _trace_primal(self, trace: Trace, args: tuple, diff_pos: list[int]) -> tuple[func.FuncOp, TracedBody]:
        diff_args = tuple(args[i] for i in diff_pos)

        def primal(*diff: Any) -> Any:
            return self.fun(*self._bind(args, diff_pos, diff))

        _rename(primal, self.fun)
        fn, body = trace_callee(trace, primal, diff_args, name=function_name(self.fun))
        for key, spec in zip(pytree.leaf_keys(body.out_tree), body.out_specs):
            if spec.dtype not in _FLOATS:
                raise TraceTypeError(
                    f"{self.kind} function {self.name}: {pytree.format_path('output', key)} is "
                    f"{spec.describe()}; a function with custom derivatives returns float arrays "
                    "(return the others from another function)"
                )
        return fn, body

    def _outputs(self, rule: str, what: str, out: Any, body: TracedBody) -> list[TracedArray]:
        """`out` checked to have `fun`'s output structure, shapes and dtypes
        (Python scalars and weak values take the output's dtype)."""
        leaves, tree = pytree.flatten(out)
        if tree != body.out_tree:
            raise TraceTypeError(
                f"{self.kind} rule {rule} of {self.name}: its {what} has structure {_show(tree)}, "
                f"but {self.name} returns {_show(body.out_tree)}"
            )
        trace = current_trace()
        assert trace is not None
        values = []
        for key, leaf, spec in zip(pytree.leaf_keys(tree), leaves, body.out_specs):
            shape, dtype, weak = _leaf_spec(leaf)
            if shape != spec.shape or (not weak and dtype != spec.dtype) or not (weak or dtype in _FLOATS):
                got = f"{dtype.name if dtype is not None else 'float'}{list(shape)}"
                raise TraceTypeError(
                    f"{self.kind} rule {rule} of {self.name}: its {what}{pytree.format_path('', key)} "
                    f"is {got}, but {self.name} returns "
                    f"{spec.dtype.name}{list(spec.shape)} there; a rule's outputs have the shapes and "
                    "dtypes of the function's"
                )
            values.append(_coerce(trace, leaf, spec.dtype, spec.shape))
        return values

    def _finish(
        self,
        trace: Trace,
        leaves: list[Any],
        in_specs: Sequence[ArgSpec],
        functions: list[tuple[func.FuncOp, TracedBody, int]],
        make_op: Callable[[list[Any]], Any],
        body: TracedBody,
        recursion: _Recursion,
    ) -> Any:
        """Give every function the operand list (leaves, then the union of
        all captures), then its own other arguments: `functions` holds
        (function, body, how many leaf arguments it starts with). Then
        emit the op."""
        operands = [_in_trace(trace, leaf, spec) for leaf, spec in zip(leaves, in_specs)]
        captures: list[TracedArray] = []
        index: dict[int, int] = {}
        for _, b, _ in functions:
            for c in b.captures:
                if id(c.value) not in index:
                    index[id(c.value)] = len(captures)
                    captures.append(trace.adopt(c))
        n = len(operands)
        types = [v.value.type for v in operands] + [c.value.type for c in captures]
        for fn, b, leading in functions:
            block = fn.body.block
            own = len(block.args) - len(b.captures)
            rest = [a.type for a in block.args[leading:own]]
            where = list(range(leading)) + [n + len(captures) + k for k in range(own - leading)]
            where += [n + index[id(c.value)] for c in b.captures]
            _relayout(fn, [*types, *rest], where)
        op = make_op([v.value for v in operands] + [c.value for c in captures])
        for inner, _ in recursion.pending:
            # Inside a rule's function, whose arguments n.. are the captures.
            owner = inner.parent_op()
            assert isinstance(owner, func.FuncOp)
            caps = owner.body.block.args[n : n + len(captures)]
            inner.operands = [*inner.operands[:n], *caps]
            inner.properties.update(op.properties)
            inner.location = op.location
        location = user_location()
        if location is not None:
            filename, _, line = location.rpartition(":")
            op.location = FileLineColLoc(StringAttr(filename), IntAttr(int(line)), IntAttr(0))
        results = trace.emit_all(op, [s.weak for s in body.out_specs])
        return pytree.unflatten(body.out_tree, results)


class custom_jvp(_Custom):
    """JAX's `jax.custom_jvp`: `fun` with a forward-mode rule given by
    `@f.defjvp` (`jvp(primals, tangents) -> (primal_out, tangent_out)`,
    linear in the tangents) or `f.defjvps(*per-argument rules)`. Reverse
    mode transposes the rule; derivatives of derivatives differentiate it."""

    kind = "custom_jvp"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()):
        super().__init__(fun, nondiff_argnums)
        self.jvp: Callable[..., Any] | None = None

    def _rules_missing(self) -> bool:
        return self.jvp is None

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the rule; returns it (so it works as a decorator)."""
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable[..., Any] | None) -> None:
        """One rule per argument, `rule(tangent, primal_out, *primals)`, or
        None where the argument has no derivative; the tangent out is their
        sum."""
        if self.nondiff_argnums:
            raise TraceTypeError(f"custom_jvp function {self.name}: defjvps cannot be used with nondiff_argnums; use defjvp")

        def jvp(primals: tuple, tangents: tuple) -> tuple[Any, Any]:
            if len(jvps) != len(primals):
                raise TraceTypeError(
                    f"custom_jvp function {self.name}: defjvps was given {len(jvps)} rules for a call "
                    f"with {len(primals)} arguments"
                )
            out = self(*primals)
            out_leaves, out_tree = pytree.flatten(out)
            total: list[Any] = [None] * len(out_leaves)
            for rule, t in zip(jvps, tangents):
                if rule is None:
                    continue
                leaves, tree = pytree.flatten(rule(t, out, *primals))
                if tree != out_tree:
                    raise TraceTypeError(
                        f"custom_jvp function {self.name}: a defjvps rule returned structure "
                        f"{_show(tree)}, but {self.name} returns {_show(out_tree)}"
                    )
                total = [v if s is None else s + v for s, v in zip(total, leaves)]
            zeros = [o * 0.0 if s is None else s for s, o in zip(total, out_leaves)]
            return out, pytree.unflatten(out_tree, zeros)

        jvp.__name__ = jvp.__qualname__ = f"{function_name(self.fun)}_jvps"
        self.jvp = jvp

    def _emit_rules(
        self, trace: Trace, args: tuple, diff_pos: list[int], fn: func.FuncOp, body: TracedBody, recursion: _Recursion
    ) -> Any:
        nondiff = [args[i] for i in range(len(args)) if i not in diff_pos]
        diff_args = tuple(args[i] for i in diff_pos)
        leaves, in_tree = pytree.flatten(diff_args)
        floats = [_is_differentiable(leaf) for leaf in leaves]
        n = len(leaves)
        rule_name = _py_name(self.jvp)

        def rule(*flat: Any) -> list[TracedArray]:
            recursion.traces.append(current_trace())
            tangents = iter(flat[n:])
            primals = pytree.unflatten(in_tree, flat[:n])
            tangent_args = pytree.unflatten(in_tree, [next(tangents) if f else None for f in floats])
            out = self.jvp(*nondiff, primals, tangent_args)
            if not isinstance(out, tuple | list) or len(out) != 2:
                raise TraceTypeError(
                    f"custom_jvp rule {rule_name} of {self.name} must return a pair "
                    f"(primal_out, tangent_out), got {type(out).__name__}"
                )
            return [*self._outputs(rule_name, "primal output", out[0], body),
                    *self._outputs(rule_name, "tangent output", out[1], body)]

        _rename(rule, self.jvp)
        tangent_leaves = [leaf for leaf, f in zip(leaves, floats) if f]
        rule_fn, rule_body = trace_callee(trace, rule, [*leaves, *tangent_leaves], name=f"{function_name(self.fun)}_jvp")
        diff = [k for k, f in enumerate(floats) if f]
        return self._finish(
            trace, leaves, body.in_specs[:n],
            [(fn, body, n), (rule_fn, rule_body, n)],
            lambda ops: autodiff.CustomJvpOp(fn, rule_fn, ops, diff),
            body,
            recursion,
        )


class custom_vjp(_Custom):
    """JAX's `jax.custom_vjp`: `fun` with a reverse-mode rule given by
    `f.defvjp(fwd, bwd)`: `fwd(*args) -> (out, residuals)`,
    `bwd(residuals, g) -> (one cotangent per argument, or None)`. Forward
    mode (jvp, jacfwd, hessian) through it is an error, as in JAX."""

    kind = "custom_vjp"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()):
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def _rules_missing(self) -> bool:
        return self.fwd is None or self.bwd is None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the forward and backward functions."""
        self.fwd, self.bwd = fwd, bwd

    def _emit_rules(
        self, trace: Trace, args: tuple, diff_pos: list[int], fn: func.FuncOp, body: TracedBody, recursion: _Recursion
    ) -> Any:
        nondiff = [args[i] for i in range(len(args)) if i not in diff_pos]
        diff_args = tuple(args[i] for i in diff_pos)
        leaves, in_tree = pytree.flatten(diff_args)
        n = len(leaves)
        fwd_name, bwd_name = _py_name(self.fwd), _py_name(self.bwd)
        residual_tree: list[pytree.PyTreeDef] = []

        def fwd(*diff: Any) -> list[Any]:
            recursion.traces.append(current_trace())
            out = self.fwd(*self._bind(args, diff_pos, diff))
            if not isinstance(out, tuple | list) or len(out) != 2:
                raise TraceTypeError(
                    f"custom_vjp rule {fwd_name} of {self.name} must return a pair "
                    f"(output, residuals), got {type(out).__name__}"
                )
            res_leaves, tree = pytree.flatten(out[1])
            residual_tree.append(tree)
            return [*self._outputs(fwd_name, "output", out[0], body), *res_leaves]

        _rename(fwd, self.fwd)
        fwd_fn, fwd_body = trace_callee(trace, fwd, diff_args, name=f"{function_name(self.fun)}_fwd")
        k = body.out_tree.num_leaves
        res_specs = fwd_body.out_specs[k:]
        res_examples = [_example(s) for s in res_specs]
        g_examples = [_example(s) for s in body.out_specs]
        arg_trees = [pytree.flatten(a)[1] for a in diff_args]

        def bwd(*flat: Any) -> list[Any]:
            recursion.traces.append(current_trace())
            residuals = pytree.unflatten(residual_tree[0], flat[: len(res_examples)])
            g = pytree.unflatten(body.out_tree, flat[len(res_examples) :])
            cts = self.bwd(*nondiff, residuals, g)
            return self._cotangents(bwd_name, cts, diff_args, arg_trees)

        _rename(bwd, self.bwd)
        bwd_fn, bwd_body = trace_callee(trace, bwd, [*res_examples, *g_examples], name=f"{function_name(self.fun)}_bwd")
        floats = [_is_differentiable(leaf) for leaf in leaves]
        diff = [j for j, f in enumerate(floats) if f]
        return self._finish(
            trace, leaves, body.in_specs[:n],
            [(fn, body, n), (fwd_fn, fwd_body, n), (bwd_fn, bwd_body, 0)],
            lambda ops: autodiff.CustomVjpOp(fn, fwd_fn, bwd_fn, ops, diff),
            body,
            recursion,
        )

    def _cotangents(self, rule: str, cts: Any, diff_args: tuple, arg_trees: list[pytree.PyTreeDef]) -> list[Any]:
        """The float leaves' cotangents from `bwd`'s tuple, checked."""
        count = len(diff_args)
        if not isinstance(cts, tuple | list) or len(cts) != count:
            got = f"a {type(cts).__name__} of length {len(cts)}" if isinstance(cts, tuple | list) else type(cts).__name__
            raise TraceTypeError(
                f"custom_vjp rule {rule} of {self.name} must return a tuple with one cotangent (or None) "
                f"per differentiable argument ({count}), got {got}"
            )
        trace = current_trace()
        assert trace is not None
        names = _argument_names(self.fun, len(diff_args) + len(self.nondiff_argnums), set(self.nondiff_argnums))
        out: list[Any] = []
        for j, (ct, arg, tree) in enumerate(zip(cts, diff_args, arg_trees)):
            arg_leaves = pytree.flatten(arg)[0]
            if ct is None:
                ct_leaves = [None] * len(arg_leaves)
            else:
                ct_leaves, ct_tree = pytree.flatten(ct)
                if ct_tree != tree:
                    raise TraceTypeError(
                        f"custom_vjp rule {rule} of {self.name}: the cotangent of {names[j]} has structure "
                        f"{_show(ct_tree)}, but the argument has {_show(tree)}"
                    )
            for key, leaf, c in zip(pytree.leaf_keys(tree), arg_leaves, ct_leaves):
                if not _is_differentiable(leaf):
                    continue
                shape, dtype = _arg_spec(leaf)
                if c is None:
                    out.append(_coerce(trace, 0.0, dtype, shape))
                    continue
                c_shape, c_dtype, weak = _leaf_spec(c)
                if c_shape != shape or not (weak or c_dtype in _FLOATS):
                    got = f"{c_dtype.name if c_dtype is not None else 'float'}{list(c_shape)}"
                    raise TraceTypeError(
                        f"custom_vjp rule {rule} of {self.name}: the cotangent of "
                        f"{pytree.format_path(names[j], key)} is {got}, but the argument is "
                        f"{dtype.name}{list(shape)}; a cotangent has its argument's shape"
                    )
                out.append(_coerce(trace, c, dtype, shape))
        return out


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


class _Recursion:
    """A custom function whose rules are being traced: calls of it with the
    same signature from a rule (`key`) become `pending` ops, completed when
    the rules are done (`traces`: the rules' own traces)."""

    def __init__(self, key: tuple, function: func.FuncOp, body: TracedBody):
        self.key, self.function, self.body = key, function, body
        self.traces: list[Trace | None] = []
        self.pending: list[tuple[Any, Trace]] = []


def _leaf_key(leaf: Any) -> tuple:
    if isinstance(leaf, TracedArray):
        return (leaf.shape, leaf.dtype.str, leaf.weak)
    if isinstance(leaf, np.ndarray | np.generic):
        return (tuple(leaf.shape), leaf.dtype.str, False)
    return ((), type(leaf).__name__, True)


def _rename(wrapper: Callable[..., Any], fn: Callable[..., Any]) -> None:
    wrapper.__name__ = wrapper.__qualname__ = function_name(fn)


def _show(tree: pytree.PyTreeDef) -> str:
    return repr(tree).removeprefix("PyTreeDef(").removesuffix(")")


def _leaf_spec(leaf: Any) -> tuple[tuple[int, ...], np.dtype | None, bool]:
    """(shape, dtype, weak) of a rule's output leaf."""
    if isinstance(leaf, TracedArray):
        return leaf.shape, leaf.dtype, leaf.weak
    if isinstance(leaf, np.ndarray | np.generic):
        return tuple(leaf.shape), leaf.dtype, False
    if isinstance(leaf, bool):
        return (), np.dtype(np.bool_), False
    if isinstance(leaf, int | float):
        return (), None, True
    raise TraceTypeError(f"a custom derivative rule returned a {type(leaf).__name__}; rules return arrays")


def _arg_spec(leaf: Any) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(leaf, TracedArray | np.ndarray | np.generic):
        return tuple(leaf.shape), np.dtype(leaf.dtype)
    return (), np.dtype(np.float64)


def _example(spec: ArgSpec) -> Any:
    """An argument with `spec`, for tracing a rule."""
    return 0.0 if spec.weak else np.zeros(spec.shape, spec.dtype)


def _argument_names(fn: Callable[..., Any], count: int, nondiff: set[int]) -> list[str]:
    from gradc.frontend.tracing import parameter_names

    names = parameter_names(fn, count)
    return [name for i, name in enumerate(names) if i not in nondiff]


def _relayout(fn: func.FuncOp, types: list[Any], where: list[int]) -> None:
    """Give `fn` the arguments `types`; its old argument k becomes the new
    argument `where[k]`, the others are unused."""
    block = fn.body.block
    old = list(block.args)
    new = [block.insert_arg(t, len(block.args)) for t in types]
    for k, arg in enumerate(old):
        new[where[k]].name_hint = arg.name_hint
        arg.replace_all_uses_with(new[where[k]])
    for arg in old:
        block.erase_arg(arg)
    fn.function_type = FunctionType.from_lists(types, list(fn.function_type.outputs.data))


__all__ = ["custom_jvp", "custom_vjp"]
