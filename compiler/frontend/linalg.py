"""Matrix products: matmul (operator @), dot, and the composites outer,
inner, vdot, kron, trace, einsum, tensordot, `gnp.linalg.norm` (`norm`
here) and `gnp.linalg.multi_dot` (`multi_dot`).

Expects: operands of at least one dimension for matmul; dot also takes
scalars, as NumPy's does.

Guarantees: one `array.matmul` on 2-D or batched operands: 1-D operands
become row or column vectors and lose that dimension again, batch
dimensions broadcast; N-D dot is a matmul over reshaped operands.
Misaligned shapes are a `GradcError` naming both shapes. norm's
derivative at 0 is NaN, as in JAX; norms that need a singular value
decomposition (matrix ord 2, -2, 'nuc') are a `GradcError`. einsum and
tensordot contract operands pairwise, each pair as one batched matmul
(`_contract`); bad subscripts or axes are a `GradcError` naming them.
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceError, TraceTypeError
from gradc.frontend.elementwise import abs, astype, multiply, not_equal, power, sqrt, where
from gradc.frontend.operands import (
    _array_like,
    _broadcast,
    _dtype_arg,
    _FLOATS,
    _lift,
    _normalize_axis,
    _operand,
    _promotion_key,
    _require_float,
    _reshape,
    _resolve,
    _shape_of,
    _strong,
    broadcast_shapes,
)
from gradc.frontend.reductions import max, min, sum
from gradc.frontend.shapes import _strong_operand, diagonal, moveaxis, ravel, reshape, transpose
from gradc.frontend.tracer import TracedArray, _trace_of

def _matmul(name: str, x: Any, y: Any) -> Any:
    trace = _trace_of(name, (x, y))
    if trace is None:
        return np.matmul(x, y)
    x, y = _operand(name, x), _operand(name, y)
    x_dtype, y_dtype, out_dtype = _resolve(name, np.matmul, (x, y))
    _require_float(name, out_dtype, (x, y))
    a, b = _lift(trace, x, x_dtype), _lift(trace, y, y_dtype)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise TraceError(
            f"{name}: operands must have at least one dimension, got shapes {sa} and {sb} "
            "(use * to multiply by a scalar)"
        )
    a2 = a if a.ndim >= 2 else _reshape(a, (1, sa[0]))
    b2 = b if b.ndim >= 2 else _reshape(b, (sb[0], 1))
    if a2.shape[-1] != b2.shape[-2]:
        raise TraceError(
            f"{name}: shapes {sa} and {sb} are not aligned: {sa[-1]} (last dimension of "
            f"the first) != {b2.shape[-2]} ({'only' if b.ndim == 1 else 'second-to-last'} "
            "dimension of the second)"
        )
    batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2], name=f"{name} (batch dimensions of {sa} and {sb})")
    a2 = _broadcast(a2, batch + a2.shape[-2:])
    b2 = _broadcast(b2, batch + b2.shape[-2:])
    result = trace.emit(array.MatmulOp(a2.value, b2.value))
    out_shape = batch + ((sa[-2],) if a.ndim >= 2 else ()) + ((sb[-1],) if b.ndim >= 2 else ())
    return _reshape(result, out_shape)


def matmul(x: Any, y: Any) -> Any:
    """NumPy's matmul: 1-D operands act as row/column vectors, leading
    (batch) dimensions broadcast."""
    return _matmul("matmul", x, y)


def dot(x: Any, y: Any) -> Any:
    """NumPy's dot: products with scalars, matmul up to 2-D, and for N-D a sum
    over the last axis of x and the second-to-last of y."""
    x, y = _array_like(x), _array_like(y)
    trace = _trace_of("dot", (x, y))
    if trace is None:
        return np.dot(x, y)
    sx, sy = _shape_of(_operand("dot", x)), _shape_of(_operand("dot", y))
    if not sx or not sy:
        # np.dot takes a Python number as a (strong) array, unlike a ufunc.
        return multiply(_strong_operand("dot", x), _strong_operand("dot", y))
    if (len(sx) <= 2 and len(sy) <= 2) or len(sy) == 1:
        return _matmul("dot", x, y)
    x, y = _operand("dot", x), _operand("dot", y)
    x_dtype, y_dtype, out_dtype = _resolve("dot", np.matmul, (x, y))
    _require_float("dot", out_dtype, (x, y))
    a, b = _lift(trace, x, x_dtype), _lift(trace, y, y_dtype)
    k = sx[-1]
    if sy[-2] != k:
        raise TraceError(
            f"dot: shapes {sx} and {sy} are not aligned: {k} (last dimension of the first) "
            f"!= {sy[-2]} (second-to-last dimension of the second)"
        )
    perm = (b.ndim - 2, *(d for d in range(b.ndim) if d != b.ndim - 2))
    b2 = _reshape(transpose(b, perm), (k, b.size // k if k else 0))
    a2 = _reshape(a, (a.size // k if k else 0, k))
    return _reshape(matmul(a2, b2), sx[:-1] + sy[:-2] + sy[-1:])


def outer(a: Any, b: Any) -> Any:
    """a.ravel()[:, None] * b.ravel()[None, :]."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("outer", (a, b)) is None:
        return np.outer(a, b)
    a, b = ravel(_strong_operand("outer", a)), ravel(_strong_operand("outer", b))
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def inner(a: Any, b: Any) -> Any:
    """Sum of products over the last axes of a and b (scalars multiply)."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("inner", (a, b)) is None:
        return np.inner(a, b)
    a, b = _strong_operand("inner", a), _strong_operand("inner", b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise TraceError(f"inner: shapes {a.shape} and {b.shape} differ in their last dimension")
    if b.ndim == 1:
        return _matmul("inner", a, b)
    return dot(a, moveaxis(b, -1, -2))


def vdot(a: Any, b: Any) -> Any:
    """Sum of products of the flattened a and b (real arrays: no conjugate)."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("vdot", (a, b)) is None:
        return np.vdot(a, b)
    a, b = ravel(_strong_operand("vdot", a)), ravel(_strong_operand("vdot", b))
    if a.shape != b.shape:
        raise TraceError(f"vdot: sizes {a.shape[0]} and {b.shape[0]} of the flattened arrays differ")
    return _matmul("vdot", a, b)


def kron(a: Any, b: Any) -> Any:
    """Kronecker product: blocks a[i, j] * b."""
    a, b = _array_like(a), _array_like(b)
    if _trace_of("kron", (a, b)) is None:
        return np.kron(a, b)
    a, b = _strong_operand("kron", a), _strong_operand("kron", b)
    d = builtins.max(a.ndim, b.ndim)
    sa, sb = (1,) * (d - a.ndim) + a.shape, (1,) * (d - b.ndim) + b.shape
    a2 = reshape(a, tuple(n for m in sa for n in (m, 1)))
    b2 = reshape(b, tuple(n for m in sb for n in (1, m)))
    return reshape(multiply(a2, b2), tuple(m * n for m, n in zip(sa, sb)))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None) -> Any:
    """Sum of the diagonal `offset` of the (axis1, axis2) planes."""
    a = _array_like(a)
    if _trace_of("trace", (a,)) is None:
        return np.trace(a, offset, axis1, axis2, dtype=dtype)
    d = diagonal(a, offset, axis1, axis2)
    if dtype is not None:
        d = astype(d, dtype)
    return sum(d, axis=-1)


# ---------------------------------------------------------------------------
# einsum and tensordot: labelled operands contracted pairwise by matmul
# ---------------------------------------------------------------------------

Label = Any
"""A dimension's name in a contraction: a subscript letter, a tensordot axis
number, or ("...", k) for the k-th broadcast dimension of an ellipsis."""


def _show(label: Label) -> str:
    if isinstance(label, tuple):
        return "a dimension under '...'"
    return f"index {label!r}"


def _contraction_operands(
    name: str, operands: tuple[Any, ...], dtype: Any = None, casting: str = "safe"
) -> list[TracedArray] | None:
    """The operands as traced arrays of NumPy's common dtype, or of `dtype`
    if they cast to it (Python numbers count as arrays, as np.einsum
    converts them); None if none is traced."""
    operands = tuple(_array_like(x) for x in operands)
    trace = _trace_of(name, operands)
    if trace is None:
        return None
    xs = [_strong_operand(name, x) for x in operands]
    common = np.result_type(*map(_promotion_key, xs))
    if dtype is not None:
        wanted = _dtype_arg(name, dtype)
        if not np.can_cast(common, wanted, casting):
            raise TraceTypeError(
                f"{name}: cannot compute {common.name} operands in dtype={wanted.name} with casting={casting!r}"
            )
        common = wanted
    _require_float(name, common, xs)
    return [_lift(trace, x, common) for x in xs]


def _sum_out(x: TracedArray, labels: list[Label], drop: Any) -> tuple[TracedArray, list[Label]]:
    axes = tuple(d for d, label in enumerate(labels) if drop(label))
    if not axes:
        return x, labels
    return sum(x, axis=axes), [label for label in labels if not drop(label)]


def _arrange(x: TracedArray, labels: list[Label], order: list[Label]) -> TracedArray:
    """`x` with its dimensions permuted into `order` (the same labels)."""
    return transpose(x, tuple(labels.index(label) for label in order))


def _contract(
    a: TracedArray, la: list[Label], b: TracedArray, lb: list[Label], keep: set[Label]
) -> tuple[TracedArray, list[Label]]:
    """Sum of products of a and b over their common labels not in `keep`:
    one batched matmul (batch: common labels kept; M, K, N: a's own labels,
    the summed ones, b's own), or a broadcast product when none is summed.
    Result labels: batch, a's own, b's own."""
    a, la = _sum_out(a, la, lambda label: label not in lb and label not in keep)
    b, lb = _sum_out(b, lb, lambda label: label not in la and label not in keep)
    batch = [label for label in la if label in lb and label in keep]
    summed = [label for label in la if label in lb and label not in keep]
    a_own = [label for label in la if label not in lb]
    b_own = [label for label in lb if label not in la]
    size = {**dict(zip(la, a.shape)), **dict(zip(lb, b.shape))}
    sizes = lambda labels: tuple(size[label] for label in labels)  # noqa: E731
    out_labels = batch + a_own + b_own
    if not summed:
        a2 = _reshape(_arrange(a, la, batch + a_own), sizes(batch + a_own) + (1,) * len(b_own))
        b2 = _reshape(_arrange(b, lb, batch + b_own), sizes(batch) + (1,) * len(a_own) + sizes(b_own))
        return multiply(a2, b2), out_labels
    lead = (math.prod(sizes(batch)),) if batch else ()
    m, k, n = math.prod(sizes(a_own)), math.prod(sizes(summed)), math.prod(sizes(b_own))
    a2 = _reshape(_arrange(a, la, batch + a_own + summed), lead + (m, k))
    b2 = _reshape(_arrange(b, lb, batch + summed + b_own), lead + (k, n))
    return _reshape(matmul(a2, b2), sizes(out_labels)), out_labels


def _contract_all(
    name: str, xs: list[TracedArray], terms: list[list[Label]], out: list[Label], optimize: Any = False
) -> TracedArray:
    """The sum over every label not in `out` of the product of the operands
    (each dimension named by its term's label), with dimensions `out`:
    diagonals of labels repeated in one operand, size-1 dimensions
    broadcast, then operands contracted pairwise in `_order(optimize)`."""
    xs, terms = list(xs), [list(t) for t in terms]
    for i, (x, labels) in enumerate(zip(xs, terms)):
        while len(set(labels)) < len(labels):
            label = next(lab for lab in labels if labels.count(lab) > 1)
            p = labels.index(label)
            q = labels.index(label, p + 1)
            if x.shape[p] != x.shape[q]:
                raise TraceError(
                    f"{name}: {_show(label)} repeats in operand {i} (shape {x.shape}) over "
                    f"dimensions of sizes {x.shape[p]} and {x.shape[q]}"
                )
            x = diagonal(x, 0, p, q)
            labels = [lab for d, lab in enumerate(labels) if d not in (p, q)] + [label]
        xs[i], terms[i] = x, labels
    size: dict[Label, tuple[int, int]] = {}  # label -> (size, operand that has it)
    for i, (x, labels) in enumerate(zip(xs, terms)):
        for label, n in zip(labels, x.shape):
            seen = size.get(label)
            if seen is None or seen[0] == 1:
                size[label] = (n, i)
            elif n not in (1, seen[0]):
                raise TraceError(
                    f"{name}: {_show(label)} has size {seen[0]} in operand {seen[1]} (shape "
                    f"{xs[seen[1]].shape}) but {n} in operand {i} (shape {x.shape}); sizes must "
                    "be equal or 1"
                )
    for i, (x, labels) in enumerate(zip(xs, terms)):
        # A size-1 dimension broadcast against a larger one: the operand does
        # not depend on that label.
        kept = [d for d, label in enumerate(labels) if not (x.shape[d] == 1 and size[label][0] > 1)]
        x, labels = _reshape(x, tuple(x.shape[d] for d in kept)), [labels[d] for d in kept]
        others = {lab for j, t in enumerate(terms) if j != i for lab in t} | set(out)
        xs[i], terms[i] = _sum_out(x, labels, lambda label: label not in others)
    pending = list(zip(xs, terms))
    if _is_path(optimize) and len(pending) > 1 and len(optimize) != len(pending):
        raise TraceError(f"{name}: optimize={list(optimize)!r} is not a path for {len(pending)} operands")
    while len(pending) > 1:
        i, j = _next_pair(name, pending, out, optimize)
        rest = [p for k, p in enumerate(pending) if k not in (i, j)]
        keep = set(out) | {lab for _, t in rest for lab in t}
        pending = [*rest, _contract(*pending[i], *pending[j], keep)]
    acc, labels = pending[0]
    acc, labels = _sum_out(acc, labels, lambda label: label not in out)
    return _arrange(acc, labels, list(out))


def _is_path(optimize: Any) -> bool:
    return isinstance(optimize, list | tuple) and bool(optimize) and optimize[0] == "einsum_path"


def _next_pair(
    name: str, pending: list[tuple[TracedArray, list[Label]]], out: list[Label], optimize: Any
) -> tuple[int, int]:
    """Which two of the `pending` operands to contract next (the result goes
    last): the first two (optimize False: NumPy's order, left to right),
    the next step of an explicit path (['einsum_path', (i, j), ...], as
    np.einsum_path gives), or greedily the pair with the smallest result,
    then the fewest multiplications (any other optimize)."""
    if _is_path(optimize):
        # A path for n operands has n - 1 pairs after its 'einsum_path' tag.
        step = len(optimize) - len(pending) + 1
        pair = optimize[step]
        if not (isinstance(pair, tuple | list) and len(pair) == 2 and all(0 <= k < len(pending) for k in pair)
                and pair[0] != pair[1]):
            raise TraceError(
                f"{name}: optimize={list(optimize)!r} is not a path that contracts the operands two at a time"
            )
        return (pair[0], pair[1]) if pair[0] < pair[1] else (pair[1], pair[0])
    if optimize is False or optimize is None or len(pending) == 2:
        return 0, 1
    size = {lab: n for x, labels in pending for lab, n in zip(labels, x.shape)}
    best = None
    for i in range(len(pending)):
        for j in range(i + 1, len(pending)):
            both = set(pending[i][1]) | set(pending[j][1])
            others = set(out) | {lab for k, (_, t) in enumerate(pending) if k not in (i, j) for lab in t}
            cost = (math.prod(size[lab] for lab in both & others), math.prod(size[lab] for lab in both))
            if best is None or cost < best[0]:
                best = (cost, (i, j))
    assert best is not None
    return best[1]


def _subscript_letters(name: str, text: str, where: str) -> tuple[str, str | None]:
    """The letters of one term before and after its ellipsis (None: none)."""
    if text.count("...") > 1:
        raise TraceError(f"{name}: {where} has more than one ellipsis ('...')")
    head, dots, tail = text.partition("...")
    for c in head + tail:
        if c == ".":
            raise TraceError(f"{name}: {where} has a '.' that is not part of an ellipsis ('...')")
        if not (c.isascii() and c.isalpha()):
            raise TraceError(f"{name}: invalid subscript {c!r} in {where}; subscripts are letters a-z, A-Z")
    return (head, tail) if dots else (head, None)  # type: ignore[return-value]


def _parse_subscripts(name: str, subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[list[Label]], list[Label]]:
    """Each operand's labels and the output's, from NumPy's subscripts
    ('ij,jk->ik', implicit output, '...' for broadcast dimensions)."""
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    if arrow and "->" in output:
        raise TraceError(f"{name}: subscripts {subscripts!r} have more than one '->'")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise TraceError(
            f"{name}: subscripts {subscripts!r} name {len(terms)} operand{'s' if len(terms) != 1 else ''}, "
            f"but {len(shapes)} {'were' if len(shapes) != 1 else 'was'} given"
        )
    parts = [_subscript_letters(name, t, f"the subscripts of operand {i} ({t!r})") for i, t in enumerate(terms)]
    spans = []
    for i, ((head, tail), shape) in enumerate(zip(parts, shapes)):
        named = len(head) + len(tail or "")
        if tail is None and named != len(shape):
            raise TraceError(
                f"{name}: operand {i} has {len(shape)} dimension{'s' if len(shape) != 1 else ''} "
                f"(shape {shape}) but its subscripts {terms[i]!r} name {named}"
            )
        if tail is not None and named > len(shape):
            raise TraceError(
                f"{name}: operand {i} has {len(shape)} dimension{'s' if len(shape) != 1 else ''} "
                f"(shape {shape}) but its subscripts {terms[i]!r} name {named} besides '...'"
            )
        spans.append(len(shape) - named if tail is not None else 0)
    width = builtins.max(spans, default=0)
    broadcast = [("...", k) for k in range(width)]
    labels: list[list[Label]] = [
        [*head, *broadcast[width - span:], *(tail or "")] for (head, tail), span in zip(parts, spans)
    ]
    letters = [c for head, tail in parts for c in head + (tail or "")]
    if not arrow:
        return labels, broadcast + sorted(c for c in set(letters) if letters.count(c) == 1)
    head, tail = _subscript_letters(name, output, f"the output subscripts ({output!r})")
    for c in head + (tail or ""):
        if c not in letters:
            raise TraceError(f"{name}: output subscript {c!r} appears in no operand's subscripts ({subscripts!r})")
        if (head + (tail or "")).count(c) > 1:
            raise TraceError(f"{name}: output subscript {c!r} repeats in {subscripts!r}")
    if tail is None and width:
        raise TraceError(
            f"{name}: the operands have {width} broadcast dimension{'s' if width != 1 else ''} "
            f"under '...' but the output subscripts {output!r} have no '...' to put them"
        )
    return labels, [*head, *(broadcast if tail is not None else []), *(tail or "")]


def _sublist_subscripts(name: str, args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]) as a
    subscripts string and the operands (0-25 are 'A'-'Z', 26-51 'a'-'z')."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    def spell(sub: Any) -> str:
        if isinstance(sub, str) or not hasattr(sub, "__iter__"):
            raise TraceTypeError(f"{name}: a sublist is a list of ints and Ellipsis, got {sub!r}")
        text = ""
        for v in sub:
            if v is Ellipsis:
                text += "..."
                continue
            try:
                k = operator.index(v)
            except TypeError:
                raise TraceTypeError(f"{name}: a sublist holds ints and Ellipsis, got {v!r}") from None
            if not 0 <= k < len(letters):
                raise TraceError(f"{name}: sublist index {k} is out of range [0, {len(letters)})")
            text += letters[k]
        return text

    operands = args[0::2]
    terms = ",".join(spell(s) for s in args[1::2][: len(operands)])
    if len(args) % 2:
        return terms + "->" + spell(args[-1]), operands[:-1]
    return terms, operands


def einsum(subscripts: Any, *operands: Any, out: Any = None, dtype: Any = None, order: str = "K",
           casting: str = "safe", optimize: Any = False) -> Any:
    """numpy.einsum: explicit ('ij,jk->ik') or implicit ('ij,jk') output,
    '...' for broadcast dimensions, repeated letters for diagonals, size-1
    dimensions broadcast, and NumPy's sublist form. Each pair of operands
    is contracted by one batched matmul: left to right (optimize=False,
    NumPy's default), along an np.einsum_path path, or else greedily,
    smallest intermediate first (True, 'greedy', 'optimal')."""
    if isinstance(subscripts, str):
        args: tuple[Any, ...] = operands
    else:
        subscripts, args = _sublist_subscripts("einsum", (subscripts, *operands))
    xs = _contraction_operands("einsum", args, dtype, casting)
    if xs is None:
        return np.einsum(subscripts, *args, out=out, dtype=dtype, order=order, casting=casting, optimize=optimize)
    if out is not None:
        raise TraceTypeError("einsum: out= is not supported on traced arrays (they are values, never written in place)")
    terms, output = _parse_subscripts("einsum", subscripts, [x.shape for x in xs])
    return _contract_all("einsum", xs, terms, output, optimize)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """numpy.tensordot: the sum of products over axes[0] of a and axes[1] of
    b (an int N: a's last N with b's first N), a's other axes then b's."""
    xs = _contraction_operands("tensordot", (a, b))
    if xs is None:
        return np.tensordot(a, b, axes)
    x, y = xs
    if isinstance(axes, TracedArray):
        raise TraceTypeError("tensordot: axes is an int or a pair of axis sequences, not a traced array")
    if isinstance(axes, int | np.integer):
        n = operator.index(axes)
        if not 0 <= n <= builtins.min(x.ndim, y.ndim):
            raise TraceError(
                f"tensordot: axes={n} must be in [0, {builtins.min(x.ndim, y.ndim)}] for shapes {x.shape} and {y.shape}"
            )
        pairs = list(zip(range(x.ndim - n, x.ndim), range(n)))
    else:
        try:
            axes_a, axes_b = axes
        except (TypeError, ValueError):
            raise TraceTypeError(f"tensordot: axes is an int or a pair of axis sequences, got {axes!r}") from None
        axes_a = [axes_a] if np.ndim(axes_a) == 0 else list(axes_a)
        axes_b = [axes_b] if np.ndim(axes_b) == 0 else list(axes_b)
        if len(axes_a) != len(axes_b):
            raise TraceError(f"tensordot: axes {axes!r} pair {len(axes_a)} axes of a with {len(axes_b)} of b")
        pairs = [(_normalize_axis("tensordot", p, x.shape), _normalize_axis("tensordot", q, y.shape))
                 for p, q in zip(axes_a, axes_b)]
        for side, picked in (("a", [p for p, _ in pairs]), ("b", [q for _, q in pairs])):
            if len(set(picked)) != len(picked):
                raise TraceError(f"tensordot: axes {axes!r} repeat an axis of {side}")
    for p, q in pairs:
        if x.shape[p] != y.shape[q]:
            raise TraceError(
                f"tensordot: axis {p} of a (shape {x.shape}) has size {x.shape[p]} but axis {q} of b "
                f"(shape {y.shape}) has {y.shape[q]}"
            )
    la: list[Label] = list(range(x.ndim))
    lb: list[Label] = [x.ndim + d for d in range(y.ndim)]
    for p, q in pairs:
        lb[q] = p
    paired = {p for p, _ in pairs}
    out = [d for d in la if d not in paired] + [lab for lab in lb if lab >= x.ndim]
    return _contract_all("tensordot", [x, y], [la, lb], out)


def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """numpy.linalg.multi_dot: the product of 2-D arrays (the first and the
    last may be 1-D), multiplied in the order with the fewest scalar
    multiplications, as NumPy chooses it."""
    arrays = list(arrays)
    if _trace_of("linalg.multi_dot", arrays) is None:
        return np.linalg.multi_dot(arrays, out=out)
    if out is not None:
        raise TraceTypeError("linalg.multi_dot: out= is not supported on traced arrays")
    if len(arrays) < 2:
        raise TraceError(f"linalg.multi_dot: needs at least two arrays, got {len(arrays)}")
    xs = [_strong_operand("linalg.multi_dot", a) for a in arrays]
    ndims = [len(_shape_of(x)) for x in xs]
    first, last = ndims[0] == 1, ndims[-1] == 1
    for i, n in enumerate(ndims):
        if n != 2 and not (n == 1 and i in (0, len(xs) - 1)):
            raise TraceError(
                f"linalg.multi_dot: array {i} has {n} dimensions; the first and last must be 1-D or 2-D, "
                "the others 2-D"
            )
    if first:
        xs[0] = reshape(xs[0], (1, -1))
    if last:
        xs[-1] = reshape(xs[-1], (-1, 1))
    shapes = [_shape_of(x) for x in xs]
    for i in range(len(xs) - 1):
        if shapes[i][1] != shapes[i + 1][0]:
            raise TraceError(
                f"linalg.multi_dot: arrays {i} and {i + 1} are not aligned: shapes {shapes[i]} and {shapes[i + 1]}"
            )
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    n = len(xs)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = builtins.min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k) for k in range(i, j)
            )

    def product(i: int, j: int) -> Any:
        if i == j:
            return xs[i]
        k = split[i][j]
        return _matmul("linalg.multi_dot", product(i, k), product(k + 1, j))

    result = product(0, n - 1)
    shape = _shape_of(result)
    return reshape(result, (() if first else shape[:1]) + (() if last else shape[1:]))


def _norm_ord(ord: Any) -> Any:
    return ord.lower() if isinstance(ord, str) else ord


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """numpy.linalg.norm: vector norms (None/2, 1, inf, -inf, 0, any p) and
    matrix norms (None/'fro', 1, -1, inf, -inf) as sums and maxima of |x|.
    Its derivative at x = 0 is NaN where it takes a square root or a power
    (None, 2, 'fro', p), as in JAX."""
    x = _array_like(x)
    if _trace_of("linalg.norm", (x,)) is None:
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    x = _strong(x)
    if x.dtype not in _FLOATS:
        x = astype(x, np.float64)
    if isinstance(ord, TracedArray):
        raise TraceTypeError("linalg.norm: ord is a number or a string, not a traced array")
    if axis is None:
        if ord is None:
            return _keep_all(sqrt(sum(multiply(x, x))), x.ndim, keepdims)
        if x.ndim == 1:
            axes: tuple[int, ...] = (0,)
        elif x.ndim == 2:
            axes = (0, 1)
        else:
            raise TraceError(f"linalg.norm: an array of shape {x.shape} needs axis= for ord={ord!r}")
    else:
        items = axis if isinstance(axis, tuple | list) else (axis,)
        axes = tuple(_normalize_axis("linalg.norm", d, x.shape) for d in items)
        if len(axes) not in (1, 2) or len(set(axes)) != len(axes):
            raise TraceError(f"linalg.norm: axis must be one axis or two different ones, got {axis!r}")
    ord = _norm_ord(ord)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    return _matrix_norm(x, ord, axes, keepdims)


def _keep_all(r: Any, ndim: int, keepdims: bool) -> Any:
    return reshape(r, (1,) * ndim) if keepdims else r


def _vector_norm(x: Any, ord: Any, ax: int, keepdims: bool) -> Any:
    if isinstance(ord, str):
        raise TraceError(f"linalg.norm: ord={ord!r} is a matrix norm; a vector norm takes a number")
    if ord is None or ord == 2:
        return sqrt(sum(multiply(x, x), axis=ax, keepdims=keepdims))
    if ord == np.inf:
        return max(abs(x), axis=ax, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=ax, keepdims=keepdims)
    if ord == 0:
        return sum(where(not_equal(x, 0.0), np.ones((), x.dtype), np.zeros((), x.dtype)), axis=ax, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=ax, keepdims=keepdims)
    p = float(ord)
    return power(sum(power(abs(x), p), axis=ax, keepdims=keepdims), 1.0 / p)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    row, col = axes
    if ord is None or ord == "fro":
        r = sqrt(sum(multiply(x, x), axis=axes, keepdims=keepdims))
    elif ord in (1, -1, np.inf, -np.inf):
        # 1: largest column sum (sum over rows), inf: largest row sum.
        over, then = (row, col) if ord in (1, -1) else (col, row)
        sums = sum(abs(x), axis=over, keepdims=True)
        r = (max if ord > 0 else min)(sums, axis=then, keepdims=True)
        if not keepdims:
            r = reshape(r, tuple(n for d, n in enumerate(r.shape) if d not in axes))
    elif ord in (2, -2, "nuc"):
        raise TraceError(
            f"linalg.norm: the matrix norm ord={ord!r} needs a singular value decomposition, "
            "which gradc.numpy has no composition for; the Frobenius norm (ord=None) or "
            "ord=1/inf are sums and maxima"
        )
    else:
        raise TraceError(f"linalg.norm: invalid norm order {ord!r} for matrices")
    return r


__all__ = [
    "matmul", "dot", "outer", "inner", "vdot", "kron", "trace", "einsum", "tensordot",
]
