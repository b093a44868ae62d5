"""plan-memory: workspace buffers whose lifetimes do not overlap share storage.

Expects: loops-level functions of one block (after lower-array-to-loops,
and after tile-matmul and stack-alloc when they run).

Guarantees: every `loops.alloc "workspace"` gets a 64-byte aligned byte
offset (`loops.alloc "workspace" at 128`), which lower-loops-to-c uses
instead of laying the buffers out one after the other; two buffers share
bytes only if their lifetimes (in top-level ops) are disjoint, or if one
is written in place over the other in the nest where that one dies and
the other is born (`in_place`). Each function records
`loops.workspace_bytes`, `loops.buffer_bytes`, `loops.live_bytes` and
`loops.stack_bytes`. `check_plan(module)` verifies a plan independently
and raises `PlanError`.

Options: none.

Liveness, the in-place conditions, the placement order and the figures:
docs/memory.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from math import prod

import numpy as np

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import loops
from gradc.passes.lower_loops_to_c import element_bytes

PASS_NAME = "plan-memory"
WORKSPACE_BYTES_ATTR = "loops.workspace_bytes"
BUFFER_BYTES_ATTR = "loops.buffer_bytes"
LIVE_BYTES_ATTR = "loops.live_bytes"
STACK_BYTES_ATTR = "loops.stack_bytes"
FIGURES = {
    "workspace_bytes": WORKSPACE_BYTES_ATTR,
    "stack_bytes": STACK_BYTES_ATTR,
    "buffer_bytes": BUFFER_BYTES_ATTR,
    "live_bytes": LIVE_BYTES_ATTR,
}
"""The memory figures a planned function carries, by `Lowered.memory` key."""


class PlanError(Exception):
    """A planned layout in which two buffers could overwrite each other."""


def align(n: int) -> int:
    return -(-n // loops.WORKSPACE_ALIGN) * loops.WORKSPACE_ALIGN


def buffer_bytes(alloc: loops.AllocOp) -> int:
    """Bytes of the buffer (an empty one counts as one element, as in C)."""
    typ = alloc.result.type
    assert isinstance(typ, MemRefType)
    return max(1, prod(typ.get_shape())) * element_bytes(typ.get_element_type())


def stack_bytes(f: func.FuncOp) -> int:
    return sum(buffer_bytes(a) for a in f.walk() if isinstance(a, loops.AllocOp) and a.placement.data == "stack")


def workspace_allocs(f: func.FuncOp) -> list[loops.AllocOp]:
    return [a for a in f.walk() if isinstance(a, loops.AllocOp) and a.placement.data == "workspace"]


def top_level(f: func.FuncOp, op: Operation) -> Operation:
    """The op of the function body that is or contains `op`."""
    while op.parent_op() is not f:
        parent = op.parent_op()
        assert parent is not None, "op outside the function"
        op = parent
    return op


def in_place(nest: Operation, a_views: set[SSAValue], b_views: set[SSAValue]) -> bool:
    """Whether the loop nest `nest` may write B (viewed as `b_views`) over A
    (`a_views`): the conditions in docs/memory.md ("In place"). The caller checks
    the sizes, the element types and that A dies and B is born in `nest`."""
    if not isinstance(nest, loops.ForOp):
        return False
    a_uses, b_uses = [], []
    for op in nest.walk():
        if any(v in b_views for v in op.operands):
            b_uses.append(op)
        if any(v in a_views for v in op.operands):
            a_uses.append(op)
    if len(b_uses) != 1 or not isinstance(store := b_uses[0], loops.StoreOp) or not a_uses:
        return False
    if store.value in a_views or store.value in b_views:
        return False
    shape = tuple(store.memref.type.get_shape())
    if not _writes_each_element_once(nest, store):
        return False
    block = store.parent_block()
    assert block is not None
    before_store = set()
    for op in block.ops:
        if op is store:
            break
        before_store.add(op)
    for load in a_uses:
        if not isinstance(load, loops.LoadOp) or load not in before_store:
            return False
        if tuple(load.memref.type.get_shape()) != shape or tuple(load.indices) != tuple(store.indices):
            return False
    return True


def same_storage_kind(a: loops.AllocOp, b: loops.AllocOp) -> bool:
    ta, tb = a.result.type, b.result.type
    assert isinstance(ta, MemRefType) and isinstance(tb, MemRefType)
    return ta.get_element_type() == tb.get_element_type() and prod(ta.get_shape()) == prod(tb.get_shape())


@dataclass
class Buffer:
    """One workspace buffer: its alloc, every value viewing it, its size and
    its lifetime [start, end] in top-level op positions."""

    alloc: loops.AllocOp
    views: set[SSAValue]
    size: int
    start: int
    end: int

    def overlaps(self, other: Buffer) -> bool:
        return self.start <= other.end and other.start <= self.end


def lifetimes(f: func.FuncOp) -> list[Buffer]:
    """Every workspace buffer of `f` with its lifetime (program order)."""
    owner: dict[SSAValue, Buffer] = {}
    buffers: list[Buffer] = []
    for here, top in enumerate(f.body.block.ops):
        for op in top.walk():
            if isinstance(op, loops.AllocOp) and op.placement.data == "workspace":
                buffer = Buffer(op, {op.result}, buffer_bytes(op), start=-1, end=-1)  # no access yet
                owner[op.result] = buffer
                buffers.append(buffer)
            elif isinstance(op, loops.ReshapeOp) and op.source in owner:
                owner[op.result] = owner[op.source]
                owner[op.source].views.add(op.result)
            else:
                for buffer in {owner[v].alloc: owner[v] for v in op.operands if v in owner}.values():
                    buffer.start = here if buffer.start < 0 else buffer.start
                    buffer.end = here
    position = {op: k for k, op in enumerate(f.body.block.ops)}
    for buffer in buffers:
        if buffer.start < 0:  # never accessed: a point where it is allocated
            buffer.start = buffer.end = position[top_level(f, buffer.alloc)]
    return buffers


def live_bytes(buffers: Iterable[Buffer], points: int) -> int:
    """The largest total size of buffers live at one program point."""
    change = [0] * (max(points, 1) + 1)
    for b in buffers:
        change[b.start] += b.size
        change[b.end + 1] -= b.size
    return max(accumulate(change[:-1]))


def in_place_groups(f: func.FuncOp, buffers: list[Buffer]) -> list[list[Buffer]]:
    """Buffers sharing storage in place, as chains A, B, C, ... (each born
    where the one before dies); every other buffer is a group of one.

    Each B in program order takes the first A (in program order, without a
    successor yet) that it may be written over (`in_place`). The candidates
    are found by index, not by trying every pair: A must die in the nest
    where B is born, with every use there a load at the very indices of B's
    one store, so A and B meet under the key (nest, block, indices, shape,
    storage kind); one walk of the function finds every key."""
    ops = list(f.body.block.ops)
    uses = _uses_by_nest(f, buffers)
    positions = _BlockPositions()
    readers: dict[tuple, list[tuple[Buffer, int]]] = {}
    for k, a in enumerate(buffers):
        reads = _reads_in_place(ops[a.end], uses.get((k, a.end), []))
        if reads is not None:
            block, indices, shape = reads
            last = max(positions.of(load) for load in uses[(k, a.end)])
            readers.setdefault((a.end, id(block), indices, shape, _storage_kind(a.alloc)), []).append((a, last))
    successor: dict[int, Buffer] = {}
    taken: set[int] = set()
    for k, b in enumerate(buffers):
        store = _sole_store(ops[b.start], uses.get((k, b.start), []), b.views)
        if store is None:
            continue
        block = store.parent_block()
        key = (b.start, id(block), tuple(store.indices), _memref_shape(store.memref), _storage_kind(b.alloc))
        here = positions.of(store)
        for a, last in readers.get(key, []):
            if a is not b and id(a) not in successor and last < here and store.value not in a.views:
                successor[id(a)] = b
                taken.add(id(b))
                break
    groups = []
    for b in buffers:
        if id(b) in taken:
            continue
        chain = [b]
        while id(chain[-1]) in successor:
            chain.append(successor[id(chain[-1])])
        groups.append(chain)
    return groups


def _uses_by_nest(f: func.FuncOp, buffers: list[Buffer]) -> dict[tuple[int, int], list[Operation]]:
    """(buffer index, top-level position) -> the ops there (at any depth, in
    walk order) with an operand that views the buffer; one walk of `f`."""
    owner = {view: k for k, b in enumerate(buffers) for view in b.views}
    uses: dict[tuple[int, int], list[Operation]] = {}
    for here, top in enumerate(f.body.block.ops):
        for op in top.walk():
            for k in dict.fromkeys(owner[v] for v in op.operands if v in owner):
                uses.setdefault((k, here), []).append(op)
    return uses


def _reads_in_place(nest: Operation, uses: list[Operation]) -> tuple[Block, tuple[SSAValue, ...], tuple[int, ...]] | None:
    """The A side of `in_place`: when every use of A in `nest` is a load in
    one block at the same indices through views of one shape, that block,
    those indices and that shape."""
    if not isinstance(nest, loops.ForOp) or not uses or not all(isinstance(u, loops.LoadOp) for u in uses):
        return None
    first = uses[0]
    assert isinstance(first, loops.LoadOp)
    block, indices, shape = first.parent_block(), tuple(first.indices), _memref_shape(first.memref)
    for load in uses:
        assert isinstance(load, loops.LoadOp)
        if load.parent_block() is not block or tuple(load.indices) != indices or _memref_shape(load.memref) != shape:
            return None
    assert block is not None
    return block, indices, shape


def _sole_store(nest: Operation, uses: list[Operation], views: set[SSAValue]) -> loops.StoreOp | None:
    """The B side of `in_place`: B's only use in `nest`, a store that writes
    each element once, indexed by exactly the loops around it in `nest`."""
    if not isinstance(nest, loops.ForOp) or len(uses) != 1 or not isinstance(store := uses[0], loops.StoreOp):
        return None
    if store.value in views or not _writes_each_element_once(nest, store):
        return None
    return store


def _writes_each_element_once(nest: Operation, store: loops.StoreOp) -> bool:
    """Whether `store` sits in loops only, inside `nest`, and its indices
    (leaving out dimensions of extent 1) are those loops' induction
    variables, each once."""
    loops_around: list[SSAValue] = []
    op: Operation | None = store
    while op is not nest:
        op = op.parent_op()
        assert op is not None
        if not isinstance(op, loops.ForOp):
            return False
        loops_around.append(op.induction_var)
    varying = [i for i, extent in zip(store.indices, _memref_shape(store.memref), strict=True) if extent != 1]
    return len(varying) == len(loops_around) and set(varying) == set(loops_around)


class _BlockPositions:
    """Position of an op in its block, each block numbered once on first use."""

    def __init__(self) -> None:
        self.known: dict[Operation, int] = {}
        self.numbered: set[int] = set()

    def of(self, op: Operation) -> int:
        block = op.parent_block()
        assert block is not None
        if id(block) not in self.numbered:
            self.numbered.add(id(block))
            self.known.update((o, k) for k, o in enumerate(block.ops))
        return self.known[op]


def _memref_shape(value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    assert isinstance(typ, MemRefType)
    return tuple(typ.get_shape())


def _storage_kind(alloc: loops.AllocOp) -> tuple[Attribute, int]:
    """What `same_storage_kind` compares: element type and element count."""
    typ = alloc.result.type
    assert isinstance(typ, MemRefType)
    return typ.get_element_type(), prod(typ.get_shape())


def first_fit(size: int, lows: np.ndarray, highs: np.ndarray) -> int:
    """The lowest aligned offset where `size` bytes miss every [lo, hi) of
    the busy ranges `lows`, `highs`: going up through them by start, the
    offset is the highest aligned end seen so far, until `size` bytes fit
    below the next start (vectorized; one pass over them)."""
    if not len(lows):
        return 0
    order = np.lexsort((highs, lows))
    ends = -(-highs[order] // loops.WORKSPACE_ALIGN) * loops.WORKSPACE_ALIGN
    before = np.maximum.accumulate(np.concatenate(([0], ends)))  # the offset before each range, then after all
    fits = before[:-1] + size <= lows[order]
    return int(before[int(np.argmax(fits)) if fits.any() else len(lows)])


def plan_function(f: func.FuncOp) -> None:
    """Give every workspace buffer of `f` its offset; record the figures.
    Each group meets the placed groups whose lifetimes overlap its own in
    one vectorized test."""
    buffers = lifetimes(f)
    groups = in_place_groups(f, buffers)
    order = sorted(range(len(groups)), key=lambda g: (-max(b.size for b in groups[g]), g))
    # The placed groups so far: byte range [low, high) and lifetime [start, end].
    low, high, starts, ends = (np.zeros(len(groups), dtype=np.int64) for _ in range(4))
    workspace = 0
    for placed, g in enumerate(order):
        group = groups[g]
        size = max(b.size for b in group)
        start, end = group[0].start, group[-1].end
        live = (starts[:placed] <= end) & (start <= ends[:placed])
        offset = first_fit(size, low[:placed][live], high[:placed][live])
        low[placed], high[placed], starts[placed], ends[placed] = offset, offset + size, start, end
        workspace = max(workspace, offset + size)
        for b in group:
            b.alloc.offset = IntegerAttr(offset, 64)
    figures = {
        WORKSPACE_BYTES_ATTR: align(workspace),
        BUFFER_BYTES_ATTR: sum(b.size for b in buffers),
        LIVE_BYTES_ATTR: live_bytes(buffers, len(f.body.block.ops)) if buffers else 0,
        STACK_BYTES_ATTR: stack_bytes(f),
    }
    for name, value in figures.items():
        f.attributes[name] = IntegerAttr(value, 64)


def loops_functions(module: ModuleOp, pass_name: str) -> list[func.FuncOp]:
    """The module's functions, each checked to be loops-level, with a body
    of one block (a declaration crashed both passes; found by gradc.tools.fuzz)."""
    funcs = [f for f in module.ops if isinstance(f, func.FuncOp)]
    for f in funcs:
        if loops.NUM_INPUTS_ATTR not in f.attributes:
            raise PassFailedException(
                f"{pass_name}: func.func @{f.sym_name.data} is not at the loops level; "
                "run lower-array-to-loops first"
            )
        if len(f.body.blocks) != 1:
            raise PassFailedException(
                f"{pass_name}: func.func @{f.sym_name.data} has {len(f.body.blocks)} blocks; "
                "a loops-level function has a body of one block"
            )
    return funcs


@dataclass(frozen=True)
class PlanMemory(ModulePass):
    """Share workspace storage between buffers whose lifetimes do not overlap."""

    name = PASS_NAME

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for f in loops_functions(op, PASS_NAME):
            plan_function(f)


# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------


def _views(alloc: loops.AllocOp) -> set[SSAValue]:
    """The alloc's result and every reshape of it, following uses forward."""
    views, todo = set(), [alloc.result]
    while todo:
        value = todo.pop()
        views.add(value)
        todo += [use.operation.result for use in value.uses if isinstance(use.operation, loops.ReshapeOp)]
    return views


def _checked_lifetime(f: func.FuncOp, ops: list[Operation], views: set[SSAValue]) -> tuple[int, int] | None:
    """[first, last] top-level positions of ops (other than reshapes) using `views`."""
    points = [
        ops.index(top_level(f, use.operation))
        for value in views
        for use in value.uses
        if not isinstance(use.operation, loops.ReshapeOp)
    ]
    return (min(points), max(points)) if points else None


def check_plan(module: ModuleOp) -> int:
    """Raise PlanError if a planned function's workspace buffers could
    overwrite each other; return how many planned buffers were checked.
    Lifetimes are recomputed here from the uses of each alloc."""
    checked = 0
    for f in (o for o in module.ops if isinstance(o, func.FuncOp)):
        allocs = workspace_allocs(f)
        planned = [a for a in allocs if a.byte_offset is not None]
        if not planned:
            continue
        name = f"@{f.sym_name.data}"
        if len(planned) != len(allocs):
            raise PlanError(f"{name}: some workspace buffers have no offset")
        ops = list(f.body.block.ops)
        info = []
        for a in allocs:
            views = _views(a)
            info.append((a, views, a.byte_offset, a.byte_offset + buffer_bytes(a), _checked_lifetime(f, ops, views)))
        declared = f.attributes.get(WORKSPACE_BYTES_ATTR)
        need = max(hi for _, _, _, hi, _ in info)
        if not isinstance(declared, IntegerAttr) or declared.value.data < need:
            raise PlanError(f"{name}: {WORKSPACE_BYTES_ATTR} is below the {need} bytes the buffers reach")
        for k, (a, a_views, a_lo, a_hi, a_life) in enumerate(info):
            for b, b_views, b_lo, b_hi, b_life in info[k + 1 :]:
                if a_hi <= b_lo or b_hi <= a_lo or a_life is None or b_life is None:
                    continue
                if a_life[1] < b_life[0] or b_life[1] < a_life[0]:
                    continue
                if a_lo == b_lo and _checked_in_place(ops, (a, a_views, a_life), (b, b_views, b_life)):
                    continue
                raise PlanError(
                    f"{name}: buffers %{a.result.name_hint or '?'} (bytes {a_lo}-{a_hi}, ops {a_life}) and "
                    f"%{b.result.name_hint or '?'} (bytes {b_lo}-{b_hi}, ops {b_life}) share storage "
                    "while both are live"
                )
        checked += len(allocs)
    return checked


def _checked_in_place(ops: list[Operation], *pair: tuple[loops.AllocOp, set[SSAValue], tuple[int, int]]) -> bool:
    """Whether one of the two buffers dies where the other is born, in a nest
    that writes the second in place over the first."""
    for (a, a_views, a_life), (b, b_views, b_life) in (pair, pair[::-1]):
        if (a_life[1] == b_life[0] and same_storage_kind(a, b)
                and in_place(ops[a_life[1]], a_views, b_views)):
            return True
    return False


def memory_figures(f: func.FuncOp) -> dict[str, int]:
    """The function's memory figures (see `_layout_figures`) and, for a
    function with taped loops (a scan's VJP), what lower-array-to-loops
    recorded about them: `tape_bytes`, `snapshot_bytes`, `recomputed_steps`."""
    from gradc.passes.array_to_loops.scan import CHECKPOINT_FIGURES

    figures = _layout_figures(f)
    for key, name in CHECKPOINT_FIGURES.items():
        attr = f.attributes.get(name)
        if isinstance(attr, IntegerAttr):
            figures[key] = attr.value.data
    return figures


def _layout_figures(f: func.FuncOp) -> dict[str, int]:
    """The workspace figures as plan-memory recorded them, or, for an
    unplanned function, with the workspace laid out one buffer after the
    other (as lower-loops-to-c does then)."""
    if all(attr in f.attributes for attr in FIGURES.values()):
        figures = {}
        for key, attr in FIGURES.items():
            value = f.attributes[attr]
            assert isinstance(value, IntegerAttr)
            figures[key] = value.value.data
        return figures
    buffers = lifetimes(f)
    end = 0
    for b in buffers:
        end = align(end) + b.size
    return {
        "workspace_bytes": align(end),
        "stack_bytes": stack_bytes(f),
        "buffer_bytes": sum(b.size for b in buffers),
        "live_bytes": live_bytes(buffers, len(f.body.block.ops)) if buffers else 0,
    }
