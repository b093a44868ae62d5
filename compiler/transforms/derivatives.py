"""Function transformations, named and shaped as in JAX: `grad`,
`value_and_grad`, `jvp`, `vjp`, `jacfwd`, `jacrev`, `jacobian`, `hessian`.

Expects: a Python function over `gradc.numpy` and JAX's arguments
(`argnums`, `has_aux`, tangents, cotangents, `mode`, `checkpoint`).

Guarantees: `f` is traced into a private `func.func` and the matching
`autodiff` request (`autodiff.grad`, `.jvp`, ...) is emitted where the
transformation is called, for the `differentiate` pass to replace; inside
a trace it only emits (transformations compose to any depth, each
composition one C function), at top level it compiles once per signature
and calls the C. Traced values `f` closes over become non-differentiated
arguments. Results have JAX's structure. User mistakes (a non-scalar
function under `grad`, an integer or bool argument differentiated,
`argnums` out of range or repeated, `has_aux=True` without a pair,
mismatched tangents or cotangents) are `GradcError`s at the user's
file:line.

Examples, the result structures, and how callees are traced: docs/frontend.md.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from xdsl.dialects.builtin import StringAttr

from gradc.dialects import autodiff
from gradc.errors import GradcError, TraceError, TraceTypeError
from gradc.frontend import pytree
from gradc.frontend.operands import _coerce, _constant
from gradc.frontend.tracer import Trace, TracedArray, current_trace
from gradc.frontend.pytree import PyTreeDef
from gradc.frontend.tracing import ArgSpec, TracedBody, function_name, parameter_names, trace_callee
from gradc.transforms.api import JitFunction, _for_user

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_F64 = np.dtype(np.float64)

Argnums = int | Sequence[int]


# ---------------------------------------------------------------------------
# Describing leaves and checking arguments
# ---------------------------------------------------------------------------


def _py_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _describe(leaf: Any) -> str:
    """A leaf as an error message shows it: `float32[3, 4]`, `a Python float`."""
    if isinstance(leaf, TracedArray):
        if leaf.weak:
            return "a Python int" if leaf.dtype.kind == "i" else "a Python float"
        return f"{leaf.dtype.name}{list(leaf.shape)}"
    if isinstance(leaf, np.ndarray | np.generic):
        return f"{leaf.dtype.name}{list(leaf.shape)}"
    if isinstance(leaf, bool | int | float):
        return f"a Python {type(leaf).__name__}"
    return f"a {type(leaf).__name__}"


def _structure(tree: PyTreeDef) -> str:
    """`(*, {'a': *})`: a pytree's nesting, leaves as `*`."""
    return repr(tree).removeprefix("PyTreeDef(").removesuffix(")")


def _leaf_spec(leaf: Any) -> tuple[tuple[int, ...], np.dtype | None]:
    """(shape, dtype) of an argument or result leaf; dtype None for a Python
    number (weakly typed)."""
    if isinstance(leaf, TracedArray):
        return leaf.shape, None if leaf.weak else leaf.dtype
    if isinstance(leaf, np.ndarray | np.generic):
        return tuple(leaf.shape), leaf.dtype
    return (), None


def _is_differentiable(leaf: Any) -> bool:
    if isinstance(leaf, TracedArray | np.ndarray | np.generic):
        return leaf.dtype in _FLOATS
    return isinstance(leaf, float)


def _check_differentiable(label: str, leaf: Any, where: str, hint: str) -> None:
    if not _is_differentiable(leaf):
        kind = _leaf_kind(leaf)
        if kind == "b":
            hint += "; a bool has no derivative"
        elif kind == "i":
            hint += "; to differentiate an integer's value, pass it as a float (.astype(np.float64), or 3.0 for 3)"
        raise TraceTypeError(
            f"{label}: cannot differentiate with respect to {where}, which is "
            f"{_describe(leaf)}; only float32/float64 arrays and Python floats "
            f"are differentiable ({hint})"
        )


def _leaf_kind(leaf: Any) -> str:
    """NumPy's dtype kind of a leaf ('b' for bools, 'i' for integers of
    either sign, 'f' for floats), '' for anything else."""
    if isinstance(leaf, bool | np.bool_):
        return "b"
    if isinstance(leaf, int):
        return "i"
    kind = getattr(getattr(leaf, "dtype", None), "kind", "")
    return "i" if kind == "u" else kind


def _argnums(kind: str, fn: Callable[..., Any], argnums: Any) -> tuple[int, ...]:
    """`argnums` as a tuple of ints, checked where the transformation is made."""
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple | list) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in nums
    ):
        raise TraceTypeError(
            f"{kind} of {_py_name(fn)}: argnums must be an int or a tuple of ints, got {argnums!r:.60}"
        )
    if not nums:
        raise TraceError(f"{kind} of {_py_name(fn)}: argnums is empty; nothing to differentiate")
    repeated = sorted({n for n in nums if list(nums).count(n) > 1})
    if repeated:
        raise TraceError(
            f"{kind} of {_py_name(fn)}: argnums {tuple(nums)} repeats {', '.join(map(str, repeated))}; "
            "each argument can be differentiated once"
        )
    return tuple(nums)


def _resolve_argnums(label: str, fn: Callable[..., Any], nums: tuple[int, ...], args: tuple) -> tuple[int, ...]:
    """`nums` as positions in `args` (negative ones from the end), each a
    differentiable argument of `fn`."""
    n = len(args)
    resolved = []
    for num in nums:
        if not -n <= num < n:
            raise TraceError(
                f"{label}: argnums {num} is out of range: the function was called with "
                f"{n} positional argument{'s' if n != 1 else ''}"
            )
        resolved.append(num % n)
    if len(set(resolved)) != len(resolved):
        raise TraceError(f"{label}: argnums {nums} name the same argument twice")
    names = parameter_names(fn, n)
    for num in resolved:
        leaves, tree = pytree.flatten(args[num])
        if not leaves:
            raise TraceError(f"{label}: argument {num} ({names[num]}) holds no arrays; nothing to differentiate")
        for keys, leaf in zip(pytree.leaf_keys(tree), leaves):
            _check_differentiable(label, leaf, pytree.format_path(names[num], keys), "leave it out of argnums")
    return tuple(resolved)


# ---------------------------------------------------------------------------
# The callee: f traced into a private function of the running trace
# ---------------------------------------------------------------------------


class _Callee(NamedTuple):
    """`f` traced into a private function, and what to pass to it in the
    trace that asks for its derivatives: one value per argument leaf, then
    one per captured value."""

    function: Any  # func.FuncOp
    body: TracedBody
    primals: list[TracedArray]
    arg_starts: tuple[int, ...]  # first leaf position of each positional argument

    def leaf_positions(self, argnum: int) -> range:
        return range(self.arg_starts[argnum], self.arg_starts[argnum + 1])

    @property
    def values(self) -> list[Any]:
        return [p.value for p in self.primals]


def _trace_callee(
    parent: Trace, fn: Callable[..., Any], args: tuple, kwargs: dict | None, name: str
) -> _Callee:
    callee, body = trace_callee(parent, fn, args, kwargs or None, name=name)
    leaves, _ = pytree.flatten((args, kwargs) if kwargs else args)
    primals = [_in_trace(parent, leaf, spec) for leaf, spec in zip(leaves, body.in_specs)]
    primals += [parent.adopt(c) for c in body.captures]
    starts = [0]
    for arg in args:
        starts.append(starts[-1] + pytree.flatten(arg)[1].num_leaves)
    return _Callee(callee, body, primals, tuple(starts))


def _in_trace(trace: Trace, leaf: Any, spec: ArgSpec) -> TracedArray:
    """An argument leaf as a value of `trace` (constants for NumPy arrays and
    Python numbers, which stay weakly typed)."""
    if isinstance(leaf, TracedArray):
        return trace.adopt(leaf)
    value = _constant(trace, np.asarray(leaf), spec.dtype, spec.shape)
    return TracedArray(value.value, trace, True) if spec.weak else value


class _Wrt(NamedTuple):
    """The differentiated leaves: `positions` (sorted, as the request takes
    them), and how to put per-leaf results back into the structure of the
    differentiated arguments (`trees`, one per argnum in the user's order;
    a tuple of them unless argnums was an int)."""

    positions: tuple[int, ...]
    user_order: tuple[int, ...]  # index into positions of each leaf, user's order
    trees: tuple[PyTreeDef, ...]
    single: bool

    @staticmethod
    def of(callee: _Callee, args: tuple, nums: tuple[int, ...], single: bool) -> _Wrt:
        leaves = [p for num in nums for p in callee.leaf_positions(num)]
        positions = tuple(sorted(leaves))
        index = {p: k for k, p in enumerate(positions)}
        trees = tuple(pytree.flatten(args[num])[1] for num in nums)
        return _Wrt(positions, tuple(index[p] for p in leaves), trees, single)

    def build(self, values: Sequence[Any]) -> Any:
        """The argument structure holding `values[k]` for `positions[k]`."""
        ordered = iter([values[k] for k in self.user_order])
        parts = [pytree.unflatten(t, [next(ordered) for _ in range(t.num_leaves)]) for t in self.trees]
        return parts[0] if self.single else tuple(parts)


def _check_scalar(label: str, name: str, body: TracedBody, first_only: bool) -> None:
    """The (first) output of `body` is one float scalar."""
    if first_only:
        tree, spec = body.out_tree.children[0], body.out_specs[0] if body.out_specs else None
    else:
        tree, spec = body.out_tree, body.out_specs[0] if len(body.out_specs) == 1 else None
    if tree == pytree.LEAF and spec is not None and spec.shape == () and spec.dtype in _FLOATS:
        return
    if tree != pytree.LEAF:
        got = f"a {tree.kind.__name__} of {tree.num_leaves} arrays {_structure(tree)}"
        hint = "" if first_only else "; to return auxiliary values too, use has_aux=True"
    else:
        got = f"{spec.describe()} (shape {spec.shape})" if spec.shape else f"a {spec.dtype.name} scalar"
        hint = "; for non-scalar functions use jacrev or jacobian"
    raise TraceError(
        f"{label}: {name} must return a scalar (a 0-d float32/float64 array or a Python "
        f"float){' as the first element of its pair' if first_only else ''}, got {got}{hint}"
    )


def _with_aux(label: str, fn: Callable[..., Any], keep_aux: bool = True) -> Callable[..., Any]:
    """`fn`, checked to return a pair (output, aux); only the output when not
    `keep_aux`."""

    @functools.wraps(fn)
    def pair(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        if not isinstance(out, tuple | list) or len(out) != 2:
            got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, tuple | list) else _describe(out)
            raise TraceTypeError(
                f"{label} with has_aux=True: {_py_name(fn)} must return a pair "
                f"(output, aux), got {got}"
            )
        return (out[0], out[1]) if keep_aux else out[0]

    return pair


def _check_float_outputs(label: str, name: str, body: TracedBody, what: str) -> None:
    paths = [pytree.format_path("output", k) for k in pytree.leaf_keys(body.out_tree)]
    for path, spec in zip(paths, body.out_specs):
        if spec.dtype not in _FLOATS:
            raise TraceTypeError(
                f"{label}: {path} of {name} is {spec.describe()}; {what} differentiates "
                "every output, and only float outputs have derivatives (return it from "
                "another function)"
            )


# ---------------------------------------------------------------------------
# Transformed functions
# ---------------------------------------------------------------------------


class Transformed(JitFunction):
    """A transformation of `fn` (what `gradc.grad(fn)` returns): called
    inside a trace it emits into it; called on NumPy arrays and Python
    floats it compiles once per argument signature, like `gradc.jit`."""

    def __init__(
        self,
        kind: str,
        fn: Callable[..., Any],
        emit: Callable[[tuple, dict], Any],
        check: Callable[[tuple, dict], Any],
    ):
        def body(*args: Any, **kwargs: Any) -> Any:
            check(args, kwargs)
            return emit(args, kwargs)

        body.__name__ = body.__qualname__ = f"{kind}_{_py_name(fn)}"
        body.__doc__ = f"gradc.{kind} of {_py_name(fn)}"
        body.__wrapped__ = fn  # type: ignore[attr-defined]  # its signature names the arguments
        super().__init__(body)
        self.kind = kind
        self.transformed = fn
        self._check = check

    def _compile(self, args: tuple, kwargs: dict, key: tuple) -> Any:
        # Before tracing, so the error says what the transformation needs.
        self._check(args, kwargs)
        return super()._compile(args, kwargs, key)

    def __repr__(self) -> str:
        return f"gradc.{self.kind}({_py_name(self.transformed)})"


def grad(
    fn: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, checkpoint: str | None = None
) -> Transformed:
    """The gradient of scalar-valued `fn` with respect to argument `argnums`
    (an int, or a tuple: then a tuple of gradients), each in the structure of
    its argument. With `has_aux`, `fn` returns `(value, aux)` and the result
    is `(gradient, aux)`. `checkpoint` chooses how the reverse sweep gets the
    states of the loops in `fn` back: "none" (keep every step's tape, the
    default), "every=K", "binomial(snapshots=S)" or "budget=BYTES" (see
    `gradc.scan`, which can also set it per loop)."""
    return _gradient("grad", fn, argnums, has_aux, with_value=False, checkpoint=checkpoint)


def value_and_grad(
    fn: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, checkpoint: str | None = None
) -> Transformed:
    """`(value, gradient)` of scalar-valued `fn`, see `grad`; with `has_aux`,
    `((value, aux), gradient)`."""
    return _gradient("value_and_grad", fn, argnums, has_aux, with_value=True, checkpoint=checkpoint)


def _request(
    kind: str, fn: Callable[..., Any], argnums: Argnums
) -> tuple[bool, str, str, Callable[[tuple, dict], tuple[int, ...]]]:
    """What every derivative request starts from: whether `argnums` is a
    single int, `fn`'s name, the label errors use, and the check that
    resolves `argnums` against the arguments of a call."""
    nums = _argnums(kind, fn, argnums)
    name = _py_name(fn)
    label = f"{kind} of {name}"

    def check(args: tuple, kwargs: dict) -> tuple[int, ...]:
        return _resolve_argnums(label, fn, nums, args)

    return isinstance(argnums, int), name, label, check


def _gradient(
    kind: str, fn: Callable[..., Any], argnums: Argnums, has_aux: bool, with_value: bool, checkpoint: str | None
) -> Transformed:
    single, name, label, check = _request(kind, fn, argnums)
    mode = checkpoint_mode(label, checkpoint)
    traced_fn = _with_aux(label, fn) if has_aux else fn

    def emit(args: tuple, kwargs: dict) -> Any:
        parent = _running(label)
        callee = _trace_callee(parent, traced_fn, args, kwargs, function_name(fn))
        body = callee.body
        _check_scalar(label, name, body, first_only=has_aux)
        wrt = _Wrt.of(callee, args, check(args, kwargs), single)
        op = _checkpointed(autodiff.GradOp(callee.function, callee.values, wrt.positions), mode)
        weak = [s.weak for s in body.out_specs] + [body.in_specs[p].weak for p in wrt.positions]
        results = parent.emit_all(op, weak)
        n_out = len(body.out_specs)
        gradient = wrt.build(results[n_out:])
        outputs = pytree.unflatten(body.out_tree, results[:n_out])
        if has_aux:
            value, aux = outputs
            return ((value, aux), gradient) if with_value else (gradient, aux)
        return (outputs, gradient) if with_value else gradient

    return Transformed(kind, fn, emit, check)


def jacobian(
    fn: Callable[..., Any],
    argnums: Argnums = 0,
    mode: str = "auto",
    checkpoint: str | None = None,
    *,
    sparse: bool = False,
    compress: bool | None = None,
) -> Transformed:
    """The Jacobian of `fn` with respect to `argnums`: for each output leaf
    (shape O), the differentiated arguments' structure with leaves of shape
    O + I. `mode` "fwd" pushes all input directions through at once
    (vector-mode JVP), "rev" pulls all output directions back at once;
    "auto" lets the compiler pick the strategy with the fewest
    multiplications (fwd, rev, a split or an elimination;
    docs/differentiation.md), or for `sparse=True` fwd when the
    differentiated inputs have fewer elements than the outputs, else rev.
    `checkpoint` as for `grad` (reverse mode only).

    Sparsity: with `compress=None` (the default) a Jacobian whose
    structural pattern needs few enough colors is computed with one sweep
    per color instead of one per direction (structural zeros come out as
    exact zeros); `compress=True` always colors, `compress=False` never.
    `sparse=True` returns only the nonzeros, a 1-d array in the CSR order of
    `gradc.jacobian_sparsity(fn, *args, argnums=argnums)` (rows: the output
    leaves flattened in order; columns: the differentiated leaves flattened
    in argument order). docs/sparsity.md."""
    return _jacobian("jacobian", fn, argnums, mode, checkpoint, sparse, compress)


def jacfwd(fn: Callable[..., Any], argnums: Argnums = 0, *, sparse: bool = False,
           compress: bool | None = None) -> Transformed:
    """`jacobian(fn, argnums, mode="fwd")`."""
    return _jacobian("jacfwd", fn, argnums, "fwd", None, sparse, compress)


def jacrev(fn: Callable[..., Any], argnums: Argnums = 0, checkpoint: str | None = None, *,
           sparse: bool = False, compress: bool | None = None) -> Transformed:
    """`jacobian(fn, argnums, mode="rev")`."""
    return _jacobian("jacrev", fn, argnums, "rev", checkpoint, sparse, compress)


def checkpoint_mode(label: str, spec: str | None) -> str | None:
    """`spec` in its canonical spelling, or a TraceError naming the known ones."""
    from gradc.dialects.autodiff.checkpointing import Checkpoint

    if spec is None:
        return None
    try:
        return str(Checkpoint.parse(spec))
    except ValueError as error:
        raise TraceError(f"{label}: {error}") from None


def _checkpointed(op: autodiff.DerivativeRequestOp, mode: str | None) -> autodiff.DerivativeRequestOp:
    """`op` with its `checkpoint` option, if one was given."""
    if mode is not None:
        op.attributes["checkpoint"] = StringAttr(mode)
    return op


def _compression(kind: str, fn: Callable[..., Any], sparse: Any, compress: Any) -> str | None:
    """`compress` as the request spells it (None: "auto"), checked."""
    if not isinstance(sparse, bool | np.bool_):
        raise TraceTypeError(f"{kind} of {_py_name(fn)}: sparse must be True or False, got {sparse!r:.40}")
    if compress is not None and not isinstance(compress, bool | np.bool_):
        raise TraceTypeError(
            f"{kind} of {_py_name(fn)}: compress must be None (decide by the pattern), True or False, "
            f"got {compress!r:.40}"
        )
    if sparse and compress is False:
        raise TraceError(
            f"{kind} of {_py_name(fn)}: sparse=True computes the nonzeros by coloring; compress=False "
            "contradicts it (leave compress out)"
        )
    return None if compress is None else ("always" if compress else "never")


def _nnz(trace: Trace, callee: _Callee, wrt: _Wrt, hessian: bool) -> int:
    """The number of structural nonzeros of the derivative a sparse request
    returns (computed again, identically, by the pass)."""
    from gradc.pipeline import derivative_pattern

    return int(derivative_pattern(callee.function, trace.functions.functions, wrt.positions, hessian).rows.size)


def _jacobian(
    kind: str,
    fn: Callable[..., Any],
    argnums: Argnums,
    mode: str,
    checkpoint: str | None = None,
    sparse: bool = False,
    compress: bool | None = None,
) -> Transformed:
    if mode not in ("fwd", "rev", "auto"):
        raise TraceError(f"{kind} of {_py_name(fn)}: mode must be 'fwd', 'rev' or 'auto', got {mode!r:.40}")
    compression = _compression(kind, fn, sparse, compress)
    single, name, label, check = _request(kind, fn, argnums)
    spec = checkpoint_mode(label, checkpoint)

    def emit(args: tuple, kwargs: dict) -> Any:
        parent = _running(label)
        callee = _trace_callee(parent, fn, args, kwargs, function_name(fn))
        body = callee.body
        _check_float_outputs(label, name, body, kind)
        wrt = _Wrt.of(callee, args, check(args, kwargs), single)
        chosen = mode
        if mode == "auto" and sparse:
            n_in = sum(math.prod(body.in_specs[p].shape) for p in wrt.positions)
            n_out = sum(math.prod(s.shape) for s in body.out_specs)
            chosen = "fwd" if n_in < n_out else "rev"
        nnz = _nnz(parent, callee, wrt, hessian=False) if sparse else None
        op = _checkpointed(
            autodiff.JacobianOp(callee.function, callee.values, wrt.positions, chosen, compression, nnz), spec
        )
        if sparse:
            return parent.emit_all(op, [False])[0]
        n = len(wrt.positions)
        blocks = parent.emit_all(op, [False] * len(op.results))
        per_output = [wrt.build(blocks[o * n : (o + 1) * n]) for o in range(len(body.out_specs))]
        return pytree.unflatten(body.out_tree, per_output)

    return Transformed(kind, fn, emit, check)


def hessian(fn: Callable[..., Any], argnums: Argnums = 0, *, sparse: bool = False,
            compress: bool | None = None, mode: str = "fwd-over-rev") -> Transformed:
    """Second derivatives of scalar-valued `fn` with respect to `argnums`:
    block (j, k) has shape I_j + I_k, nested as the differentiated
    arguments' structure (for j) around it again (for k). `mode`
    "fwd-over-rev" is the forward-mode Jacobian of the gradient,
    "rev-over-rev" its reverse-mode Jacobian, "rev-over-fwd" the
    reverse-mode Jacobian of the forward-mode gradient, "edge-pushing" one
    reverse sweep that carries second-order blocks (straight-line code of
    small values only), "auto" whichever
    has the fewest multiplications in the simplified code
    (`gradc.lower(...).jacobian_strategies` shows the counts).
    `compress` and `sparse` as for `jacobian`: a Hessian with a sparse
    pattern takes one Hessian-vector product per color of a symmetric (star)
    coloring (fwd-over-rev; rev-over-rev colors rows; "auto" counts
    them compressed); `sparse=True` returns the nonzeros in the CSR order
    of `gradc.hessian_sparsity(fn, *args, argnums=argnums)`, forward over
    reverse."""
    kind = "hessian"
    if mode not in autodiff.HESSIAN_MODES:
        known = ", ".join(map(repr, autodiff.HESSIAN_MODES))
        raise TraceError(f"{kind} of {_py_name(fn)}: mode must be one of {known}, got {mode!r:.40}")
    if (mode in ("rev-over-fwd", "edge-pushing") and compress) or (sparse and mode not in ("fwd-over-rev", "auto")):
        raise TraceError(f"{kind} of {_py_name(fn)}: mode {mode!r} cannot be {'sparse' if sparse else 'compressed'}; "
                         "sparse Hessians are forward over reverse (mode 'fwd-over-rev' or 'auto'), compressed ones "
                         "fwd-over-rev or rev-over-rev")
    compression = _compression(kind, fn, sparse, compress)
    single, name, label, check = _request(kind, fn, argnums)

    def emit(args: tuple, kwargs: dict) -> Any:
        parent = _running(label)
        callee = _trace_callee(parent, fn, args, kwargs, function_name(fn))
        _check_scalar(label, name, callee.body, first_only=False)
        wrt = _Wrt.of(callee, args, check(args, kwargs), single)
        nnz = _nnz(parent, callee, wrt, hessian=True) if sparse else None
        op = autodiff.HessianOp(callee.function, callee.values, wrt.positions, compression, nnz,
                                None if mode == "fwd-over-rev" else mode)
        if sparse:
            return parent.emit_all(op, [False])[0]
        n = len(wrt.positions)
        blocks = parent.emit_all(op, [False] * len(op.results))
        return wrt.build([wrt.build(blocks[j * n : (j + 1) * n]) for j in range(n)])

    return Transformed(kind, fn, emit, check)


def _running(label: str) -> Trace:
    trace = current_trace()
    if trace is None:  # only reachable by calling a transformation's body directly
        raise GradcError(f"{label}: no function is being traced")
    return trace


# ---------------------------------------------------------------------------
# jvp and vjp
# ---------------------------------------------------------------------------

_BUILDS: weakref.WeakKeyDictionary[Any, dict[tuple, JitFunction]] = weakref.WeakKeyDictionary()
"""Compiled top-level jvp/vjp helpers per function (a function's jvp keeps
its builds across calls, as `jit` does)."""


def _build_for(fn: Callable[..., Any], key: tuple, make: Callable[[], Callable[..., Any]]) -> JitFunction:
    try:
        builds = _BUILDS.setdefault(fn, {})
    except TypeError:  # not weakly referable: no reuse across calls
        return JitFunction(make())
    jitted = builds.get(key)
    if jitted is None:
        jitted = builds[key] = JitFunction(make())
    return jitted


def _named(body: Callable[..., Any], name: str) -> Callable[..., Any]:
    body.__name__ = body.__qualname__ = name
    return body


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """`(fn(*primals), tangent of the outputs)` along `tangents` (a tangent
    per primal, each with its primal's structure, shapes and dtypes)."""
    label = f"jvp of {_py_name(fn)}"
    primals, tangents = _primals_and_tangents(label, primals, tangents)
    if current_trace() is not None:
        return _emit_jvp(label, fn, primals, tangents)
    jitted = _build_for(
        fn,
        ("jvp",),
        lambda: _named(lambda p, t: _emit_jvp(label, fn, p, t), f"jvp_{_py_name(fn)}"),
    )
    return _call_for_user(jitted, primals, tangents)


def _primals_and_tangents(label: str, primals: Any, tangents: Any) -> tuple[tuple, tuple]:
    for what, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple | list):
            raise TraceTypeError(
                f"{label}: {what} must be a tuple or list with one entry per argument, "
                f"got {_describe(value)}"
            )
    primals, tangents = tuple(primals), tuple(tangents)
    p_leaves, p_tree = pytree.flatten(primals)
    if not p_leaves:
        raise TraceError(f"{label}: no primals (arrays or floats) to differentiate")
    t_leaves, t_tree = pytree.flatten(tangents)
    if p_tree != t_tree:
        raise TraceError(
            f"{label}: the tangents {_structure(t_tree)} do not have the structure of the "
            f"primals {_structure(p_tree)}"
        )
    for keys, p, t in zip(pytree.leaf_keys(p_tree), p_leaves, t_leaves):
        where = pytree.format_path("primals", keys)
        _check_differentiable(label, p, where, "jvp differentiates every primal")
        if not _tangent_matches(p, t):
            raise TraceError(
                f"{label}: the tangent for {where} is {_describe(t)}, its primal is "
                f"{_describe(p)}; a tangent has its primal's shape and dtype"
            )
    return primals, tangents


def _tangent_matches(primal: Any, tangent: Any) -> bool:
    """A tangent has its primal's shape and dtype; a Python float stands for
    any 0-d float, and a Python float primal takes any 0-d float tangent."""
    (p_shape, p_dtype), (t_shape, t_dtype) = _leaf_spec(primal), _leaf_spec(tangent)
    if p_shape != t_shape:
        return False
    if t_dtype is None:
        return _is_differentiable(tangent)
    return t_dtype in _FLOATS if p_dtype is None else t_dtype == p_dtype


def _emit_jvp(label: str, fn: Callable[..., Any], primals: tuple, tangents: tuple) -> tuple[Any, Any]:
    parent = _running(label)
    callee = _trace_callee(parent, fn, primals, None, function_name(fn))
    body = callee.body
    _check_float_outputs(label, _py_name(fn), body, "jvp")
    t_leaves, _ = pytree.flatten(tangents)
    n = len(t_leaves)
    values = [
        _coerce(parent, t, spec.dtype, spec.shape).value
        for t, spec in zip(t_leaves, body.in_specs[:n])
    ]
    op = autodiff.JvpOp(callee.function, callee.values, values, range(n))
    weak = [s.weak for s in body.out_specs]
    results = parent.emit_all(op, weak + weak)
    k = len(weak)
    return pytree.unflatten(body.out_tree, results[:k]), pytree.unflatten(body.out_tree, results[k:])


def vjp(fn: Callable[..., Any], *primals: Any, has_aux: bool = False, checkpoint: str | None = None) -> tuple[Any, ...]:
    """`(fn(*primals), vjp_fn)`, where `vjp_fn(cotangent)` (cotangent with the
    structure, shapes and dtypes of the output) returns a tuple with one
    cotangent per primal; with `has_aux`, `fn` returns `(output, aux)` and
    the result is `(output, vjp_fn, aux)`. At top level both the output and
    `vjp_fn` are compiled functions. `checkpoint` as for `grad`."""
    name = _py_name(fn)
    label = f"vjp of {name}"
    mode = checkpoint_mode(label, checkpoint)
    p_leaves, p_tree = pytree.flatten(primals)
    if not p_leaves:
        raise TraceError(f"{label}: no primals (arrays or floats) to differentiate")
    for keys, leaf in zip(pytree.leaf_keys(p_tree), p_leaves):
        _check_differentiable(label, leaf, pytree.format_path("primals", keys), "vjp differentiates every primal")
    forward = _with_aux(label, fn) if has_aux else fn
    if current_trace() is not None:
        result = forward(*primals)
    else:
        jitted = _build_for(
            fn, ("vjp-forward", has_aux), lambda: _named(lambda *p: forward(*p), function_name(fn))
        )
        result = _call_for_user(jitted, *primals)
    out, aux = result if has_aux else (result, None)
    out_leaves, out_tree = pytree.flatten(out)
    paths = [pytree.format_path("output", k) for k in pytree.leaf_keys(out_tree)]
    for path, leaf in zip(paths, out_leaves):
        if not _is_differentiable(leaf):
            raise TraceTypeError(
                f"{label}: {path} of {name} is {_describe(leaf)}; vjp needs float outputs "
                "(return it as auxiliary data with has_aux=True)"
            )
    vjp_fn = VjpFunction(fn, primals, has_aux, out_tree, [_leaf_spec(leaf) for leaf in out_leaves], mode)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


class VjpFunction:
    """The `vjp_fn` of `gradc.vjp`: output cotangents to primal cotangents.
    Compiled (once per signature of the primals and cotangents) at top level;
    emitted into the running trace inside one."""

    def __init__(
        self,
        fn: Callable[..., Any],
        primals: tuple,
        has_aux: bool,
        out_tree: PyTreeDef,
        out_specs: Sequence[tuple[tuple[int, ...], np.dtype | None]],
        checkpoint: str | None = None,
    ):
        self.fn = fn
        self.primals = primals
        self.has_aux = has_aux
        self.out_tree = out_tree
        self.out_specs = tuple(out_specs)
        self.label = f"vjp of {_py_name(fn)}"
        self.checkpoint = checkpoint

    def __call__(self, cotangent: Any) -> tuple[Any, ...]:
        self._check(cotangent)
        if current_trace() is not None:
            return _emit_vjp(self.label, self.fn, self.has_aux, self.primals, cotangent, self.checkpoint)
        fn, label, has_aux, mode = self.fn, self.label, self.has_aux, self.checkpoint
        jitted = _build_for(
            fn,
            ("vjp", has_aux, mode),
            lambda: _named(lambda p, c: _emit_vjp(label, fn, has_aux, p, c, mode), f"vjp_{_py_name(fn)}"),
        )
        return _call_for_user(jitted, self.primals, cotangent)

    def _check(self, cotangent: Any) -> None:
        leaves, tree = pytree.flatten(cotangent)
        if tree != self.out_tree:
            raise TraceError(
                f"{self.label}: the cotangent {_structure(tree)} does not have the "
                f"structure of the output {_structure(self.out_tree)}"
            )
        paths = [pytree.format_path("cotangent", k) for k in pytree.leaf_keys(tree)]
        for path, leaf, (shape, dtype) in zip(paths, leaves, self.out_specs):
            c_shape, c_dtype = _leaf_spec(leaf)
            ok = c_shape == shape and _is_differentiable(leaf) and (
                c_dtype is None or dtype is None or c_dtype == dtype
            )
            if not ok:
                want = "a Python float" if dtype is None else f"{dtype.name}{list(shape)}"
                raise TraceError(
                    f"{self.label}: {path} is {_describe(leaf)}, the output it stands "
                    f"for is {want}; a cotangent has its output's shape and dtype"
                )

    def __repr__(self) -> str:
        return f"<vjp_fn of {_py_name(self.fn)}>"


def _emit_vjp(
    label: str, fn: Callable[..., Any], has_aux: bool, primals: tuple, cotangent: Any, mode: str | None = None
) -> tuple:
    parent = _running(label)
    traced_fn = _with_aux(label, fn, keep_aux=False) if has_aux else fn
    callee = _trace_callee(parent, traced_fn, tuple(primals), None, function_name(fn))
    body = callee.body
    c_leaves, _ = pytree.flatten(cotangent)
    values = [
        _coerce(parent, c, spec.dtype, spec.shape).value for c, spec in zip(c_leaves, body.out_specs)
    ]
    n = callee.arg_starts[-1]
    op = _checkpointed(autodiff.VjpOp(callee.function, callee.values, values, range(n)), mode)
    weak = [s.weak for s in body.out_specs] + [s.weak for s in body.in_specs[:n]]
    results = parent.emit_all(op, weak)
    grads = results[len(body.out_specs) :]
    return tuple(
        pytree.unflatten(pytree.flatten(p)[1], grads[callee.arg_starts[k] : callee.arg_starts[k + 1]])
        for k, p in enumerate(primals)
    )


def _call_for_user(jitted: JitFunction, *args: Any) -> Any:
    try:
        return jitted(*args)
    except GradcError as err:
        raise _for_user(err) from None


__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "Transformed",
    "VjpFunction",
]
