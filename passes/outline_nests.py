"""outline-nests: loop nests that occur more than once become one C function.

A k-layer network repeats the same loop nests k times with other buffers:
the same product, the same activation, the same gradient. gcc optimizes each
copy from scratch, so its time grows with k times the cost of a layer at
-O3. This pass finds `c.for` nests that are identical up to the pointers and
scalars they use from outside, writes each such nest once as a `static
noinline` function of those values, and replaces every copy by a
`c.invoke` of it: gcc then optimizes each distinct nest once.

Expects: the `c` dialect (after lower-loops-to-c).

Guarantees: the same statements run in the same order on the same memory,
so results are bitwise those without the pass. A nest is outlined only if
it occurs at least twice (a nest inside an outlined one is not looked at
again), has at least `min_ops` operations (a microkernel or packing call
counting as many, see _WEIGHT), uses from outside only C scalars
and pointers (each parameter keeps its pointer's `const` and `restrict`,
which the caller already promised for the whole enclosing scope; one
pointer used twice stays one parameter), and contains nothing tied to its
function or its place: no `c.return`, `c.fail_if`, `c.break_unless`,
OpenMP pragma or thread number, no checkpoint schedule, and no pragma right
before it. Literals the nest uses are copied into the function, so they
stay constants for gcc. Functions are named `gradc_nest0`, `gradc_nest1`,
... in order of first occurrence; identical input gives identical output.

Options: `min_ops` (16): smaller nests are left inline (they compile fast
and a call would cost more than it saves).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass

from gradc.dialects import c
from gradc.dialects.c.types import PtrType, is_scalar_type

PASS_NAME = "outline-nests"
NAME_PREFIX = "gradc_nest"

_TIED = (c.ReturnOp, c.FailIfOp, c.BreakUnlessOp, c.PragmaOp, c.ThreadNumOp, c.ScheduleOp)
"""Ops that belong to their function or their place in it."""


_WEIGHT = {c.MicrokernelOp: 32, c.PackOp: 16, c.LinalgOp: 32}
"""The size of an op that prints as a call of a large helper gcc inlines."""


@dataclass(frozen=True)
class _Nest:
    """A candidate: its structural key, the outside values it uses (in order
    of first use; literals excluded) and its size (ops, weighted by _WEIGHT)."""

    key: tuple[Any, ...]
    free: tuple[SSAValue, ...]
    size: int


def _describe(nest: c.ForOp) -> _Nest | None:
    """The nest's key (ops, properties, types, and which value each operand
    is: one defined inside, the n-th outside value, or a literal), or None
    if it cannot be outlined."""
    inside: dict[SSAValue, int] = {}
    free: dict[SSAValue, int] = {}
    parts: list[Any] = []
    size = 0

    def ref(value: SSAValue) -> Any:
        if value in inside:
            return inside[value]
        owner = value.owner
        if isinstance(owner, c.LiteralOp):
            return ("literal", owner.value, value.type)
        if value not in free:
            free[value] = len(free)
        return ("free", free[value])

    for op in nest.walk():
        if isinstance(op, _TIED):
            return None
        size += _WEIGHT.get(type(op), 1)
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    inside[arg] = len(inside)
                    parts.append(arg.type)
        parts.append((op.name, tuple(sorted(op.properties.items())), tuple(ref(v) for v in op.operands),
                      tuple(r.type for r in op.results), len(op.regions)))
        for result in op.results:
            inside[result] = len(inside)
    for value in free:
        if not (isinstance(value.type, PtrType) or is_scalar_type(value.type)):
            return None
    return _Nest((tuple(parts), tuple(v.type for v in free)), tuple(free), size)


def _nests(block: Block) -> Iterator[c.ForOp]:
    """The outermost `c.for` ops under `block` that may be outlined where
    they stand (not after a pragma; inside a `c.while` or `c.switch` too,
    never inside a checkpoint schedule)."""
    previous: Operation | None = None
    for op in block.ops:
        if isinstance(op, c.ForOp):
            if not isinstance(previous, c.PragmaOp):
                yield op
        elif not isinstance(op, c.ScheduleOp):
            for region in op.regions:
                for inner in region.blocks:
                    yield from _nests(inner)
        previous = op


def _outlined(name: str, nest: c.ForOp, described: _Nest) -> c.FuncOp:
    """`static noinline void name(free values...) { nest }`."""
    function = c.FuncOp(name, [v.type for v in described.free], None, static=True, noinline=True)
    body = function.body.block
    mapping: dict[SSAValue, SSAValue] = dict(zip(described.free, body.args))
    for value, arg in mapping.items():
        arg.name_hint = value.name_hint
    for op in nest.walk():
        for operand in op.operands:
            owner = operand.owner
            if isinstance(owner, c.LiteralOp) and operand not in mapping and not nest.is_ancestor(owner):
                literal = owner.clone()
                body.add_op(literal)
                mapping[operand] = literal.results[0]
    body.add_op(nest.clone(value_mapper=mapping))
    return function


@dataclass(frozen=True)
class OutlineNests(ModulePass):
    """See the module docstring."""

    name = PASS_NAME
    min_ops: int = 16

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        funcs = [f for f in op.ops if isinstance(f, c.FuncOp) and not f.is_gradc_helper]
        chosen: dict[tuple[Any, ...], list[tuple[c.FuncOp, c.ForOp, _Nest]]] = {}
        # Outer nests first: a nest that repeats is taken whole; only the
        # insides of nests that do not repeat are looked at again, so each
        # op is keyed once per level of unique nests above it.
        level = [(f, f.body.block) for f in funcs]
        while level:
            found: list[tuple[c.FuncOp, c.ForOp, _Nest | None]] = []
            for f, block in level:
                found += [(f, nest, _describe(nest)) for nest in _nests(block)]
            counts: dict[tuple[Any, ...], int] = {}
            for _, _, info in found:
                if info is not None and info.size >= self.min_ops:
                    counts[info.key] = counts.get(info.key, 0) + 1
            level = []
            for f, nest, info in found:
                if info is not None and counts.get(info.key, 0) >= 2:
                    chosen.setdefault(info.key, []).append((f, nest, info))
                else:
                    level += [(f, b) for region in nest.regions for b in region.blocks]
        for k, places in enumerate(chosen.values()):
            name = f"{NAME_PREFIX}{k}"
            first_func, first, info = places[0]
            op.body.block.insert_op_before(_outlined(name, first, info), first_func)
            for _, nest, info in places:
                nest.parent_block().insert_op_before(c.InvokeOp(name, info.free), nest)  # type: ignore[union-attr]
                nest.detach()
                nest.erase()
