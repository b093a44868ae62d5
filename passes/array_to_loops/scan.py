"""Scans of lower-array-to-loops, and a scan's VJP as a taped loop.

An `array.scan` becomes one `loops.for` over its trip count (never
unrolled) around its body, lowered by the pass's block lowering: carries
live in the buffers of the final carries, each step computes the new ones
into temporaries and copies them back, per-step outputs go straight into
slice i of the stacked results.

A forward scan tagged `autodiff.tape = N` and the reverse scan that reads
its tape (tape_partner) are lowered together per the forward scan's
`autodiff.checkpoint` (default none): with none, a loop pushing each step's
residuals (`autodiff.push`) and a reversed loop popping them
(`autodiff.pop`); otherwise one `autodiff.schedule` per phase, which
recomputes states from snapshots. Any other tagged scan is an ordinary
scan, its tape stacked in full.

Guarantees: the tape holds the schedule's peak number of entries (T with
none); the function records its tape bytes, snapshot bytes and recomputed
steps (CHECKPOINT_FIGURES); a bad checkpoint mode fails the pass at the
scan. How and why: docs/lowering.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects import arith
from xdsl.dialects.builtin import Float64Type, IntegerAttr, MemRefType, StringAttr, i64
from xdsl.ir import SSAValue
from xdsl.rewriter import InsertPoint

from gradc.dialects import array, autodiff, loops
from gradc.dialects.autodiff.checkpointing import Checkpoint, simulate
from gradc.passes.array_to_loops import fail
from gradc.passes.array_to_loops.affine import ZERO, Affine, Index
from gradc.passes.array_to_loops.elementwise import (
    FunctionLowering,
    element_bytes,
    element_type_of,
    memref_of,
    shape_of,
)
from gradc.passes.array_to_loops.fusion import SAME_INDEX_OPS, users_of


CHECKPOINT_FIGURES = {
    "tape_bytes": "autodiff.tape_bytes",
    "snapshot_bytes": "autodiff.snapshot_bytes",
    "recomputed_steps": "autodiff.recomputed_steps",
}
"""Function attributes: tape bytes (capacity x entry bytes), snapshot bytes
(slots x state bytes) and recomputed step evaluations (`simulate`: advanced
+ taped - steps), summed over the function's taped loops. A taped loop
inside another loop's body counts once per lowered copy of that body (a
checkpointed outer loop lowers its body into several schedule regions, each
with buffers of its own), and its recomputed steps once per run of it, not
times the outer trip count."""


# ---------------------------------------------------------------------------
# A scan: one loop around its body
# ---------------------------------------------------------------------------


def _accumulated_carries(op: array.ScanOp) -> set[int]:
    """Carries k whose new value is `carry_k + product` (either order), with
    the product a matmul used only there and carry_k used only there: the
    product can accumulate straight into the carry's buffer (nothing else
    reads the old value, and C += A B reads each element before writing it).
    A reverse scan's cotangent of an invariant matrix is such a carry."""
    _, carries, _, _ = op.body_args()
    new_carries, _ = op.yielded()
    found = set()
    for k, (carry, new) in enumerate(zip(carries, new_carries, strict=True)):
        add = new.owner
        if not isinstance(add, array.AddOp) or len(users_of(carry)) != 1 or carry not in add.operands:
            continue
        others = [v for v in add.operands if v is not carry]
        if len(others) != 1 or new in op.yielded()[1]:
            continue
        product = others[0].owner
        if isinstance(product, array.MatmulOp) and len(users_of(product.result)) == 1:
            found.add(k)
    return found


def _updated_in_place(op: array.ScanOp) -> set[int]:
    """Carries k whose new value is `dynamic_update_slice(carry_k, u, s)`,
    used only as that carry, with carry_k read nowhere else but by dynamic
    slices of the same window (same starts, the update's sizes) that reach
    u through same-index ops only: each element of the window is then read
    before it is written, and nothing else reads the old carry, so the
    update can be written straight into the carry's buffer (no copy of the
    whole carry per step: a loop writing out.at[i] is O(n), not O(n^2))."""
    _, carries, _, _ = op.body_args()
    new_carries, outs = op.yielded()
    found = set()
    for k, (carry, new) in enumerate(zip(carries, new_carries, strict=True)):
        update = new.owner
        if not isinstance(update, array.DynamicUpdateSliceOp) or update.input is not carry:
            continue
        if users_of(new) or new in outs or update.update is carry or carry in update.starts:
            continue
        window = (list(update.starts), shape_of(update.update))
        if all(u is update or _reads_window(u, window, update) for u in users_of(carry)):
            found.add(k)
    return found


def _reads_window(
    op: object, window: tuple[list[SSAValue], tuple[int, ...]], update: array.DynamicUpdateSliceOp
) -> bool:
    """`op` is a dynamic slice of `window` whose value reaches `update`'s
    update operand through same-index ops, and nothing else."""
    if not isinstance(op, array.DynamicSliceOp) or (list(op.starts), op.size_list) != window:
        return False

    def feeds_update(value: SSAValue) -> bool:
        users = [use.operation for use in value.uses]
        return bool(users) and all(
            (u is update and value is update.update and value not in update.starts)
            or (isinstance(u, SAME_INDEX_OPS) and feeds_update(u.results[0]))
            for u in users
        )

    return feeds_update(op.result)


def buffer_of(lw: FunctionLowering, value: SSAValue) -> SSAValue:
    """`value`'s buffer; a value computed inline (a free remap, a splat) is
    first copied into a temporary."""
    if value not in lw.buffers:
        buffer = lw.alloc(memref_of(value.type))
        lw.copy(value, buffer)
        lw.buffers[value] = buffer
    return lw.buffers[value]


def lower_scan(lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue]) -> None:
    """One `loops.for` over the trip count (never unrolled) around the body.

    Carries live in the buffers of the final carries (the outputs when they
    are results), initialized from `initials` before the loop. Each step
    computes the new carries into temporaries and copies them back at its
    end: a new carry may read the old one at other indices (a transpose, a
    matmul, a reduction), so it cannot be written in place, and C has no
    pointer swap without indirection. The exceptions: a carry whose new
    value is `carry + A @ B`, read nowhere else, is updated in place by an
    accumulating matmul (see _accumulated_carries), and one whose new value
    is a dynamic update of it, by writing the window only (_updated_in_place). Slice i of each xs is read in place
    through the body's element loads (loads of xs's buffer at (i, ...), or
    of the enclosing scan's xs in a nested scan; a matmul or reshape of a
    slice copies it); per-step outputs are computed inline straight into slice i of the
    stacked results, before the carries are overwritten. A reverse scan
    runs the same loop with step = length-1-iv."""
    finals, temps, invariants = _scan_state(lw, op, dest)
    stacked = _stacked(lw, op.ys, dest)
    with _loop(lw, op.trip_count) as iv:
        _lower_step(lw, op, _step_index(op, iv), finals, temps, invariants, stacked)
    lw.buffers.update((r, b) for r, b in zip(op.ys, stacked, strict=True) if b is not None)


def _stacked(
    lw: FunctionLowering, ys: Sequence[SSAValue], dest: dict[SSAValue, SSAValue]
) -> list[SSAValue | None]:
    """Buffers for a scan's stacked per-step outputs; None for one nothing
    reads (not stored at all: a buffer written and never read is dead work,
    and a C warning)."""
    return [dest[r] if r in dest else lw.alloc(memref_of(r.type)) if list(r.uses) else None for r in ys]


def _scan_state(
    lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue]
) -> tuple[list[SSAValue], list[SSAValue], list[SSAValue]]:
    """A scan's carry buffers (initialized, and the buffers of its final
    carries), the temporaries a step computes the new carries into, and the
    buffers of its invariants."""
    new_carries, _ = op.yielded()
    finals = [dest[r] if r in dest else lw.alloc(memref_of(r.type)) for r in op.finals]
    in_place = _accumulated_carries(op) | _updated_in_place(op)
    temps = [finals[k] if k in in_place else lw.alloc(memref_of(v.type)) for k, v in enumerate(new_carries)]
    for init, buffer in zip(op.initials, finals, strict=True):
        lw.copy(init, buffer)
    invariants = [buffer_of(lw, v) for v in op.invariants]
    lw.buffers.update(zip(op.finals, finals, strict=True))
    return finals, temps, invariants


class _loop:
    """`with _loop(lw, n) as iv:` emits a `loops.for` over n steps and puts
    the insertion point in its body (the induction variable's number in
    lw.ivs is `iv`)."""

    def __init__(self, lw: FunctionLowering, count: int):
        self.lw, self.count = lw, count

    def __enter__(self) -> int:
        lw = self.lw
        loop = loops.ForOp(0, self.count)
        lw.insert(loop)
        loop.induction_var.name_hint = "step"
        self.saved, lw.insertion_point = lw.insertion_point, InsertPoint.before(loop.body.block.last_op)
        return _push_iv(lw, loop.induction_var)

    def __exit__(self, *exc: object) -> None:
        self.lw.insertion_point = self.saved


def _push_iv(lw: FunctionLowering, value: SSAValue) -> int:
    lw.ivs.append(value)
    return len(lw.ivs) - 1


def _step_index(op: array.ScanOp, iv: int) -> Affine:
    """The data index step `iv` of the loop works on (reversed for a reverse scan)."""
    if op.is_reverse:
        return Affine(op.trip_count - 1, ((iv, -1),))
    return Affine(0, ((iv, 1),))


Tape = tuple[Sequence[SSAValue], Affine]
"""Tape buffers and the slot a step pushes to or pops from."""


def _lower_step(
    lw: FunctionLowering, op: array.ScanOp, step: Affine, state: Sequence[SSAValue],
    temps: Sequence[SSAValue], invariants: Sequence[SSAValue], stacked: Sequence[SSAValue | None],
    push: Tape | None = None, pop: Tape | None = None,
) -> None:
    """One step of scan `op` (data index `step`) at the insertion point: read
    the carries from `state`, compute the new ones into `temps` and copy them
    back; store each per-step output into its `stacked` buffer at `step`
    (None: not stored). With `push`, the last outputs are the tape (one
    buffer each) and are pushed at its slot; with `pop`, the first xs are
    popped from the tape at its slot. The body may be lowered several
    times (the regions of a checkpoint schedule): the buffers and views of
    its values are set for this lowering only."""
    index, carries, slices, invariant_args = op.body_args()
    new_carries, outs = op.yielded()
    saved = dict(lw.buffers), dict(lw.views)
    lw.buffers.update(zip(invariant_args, invariants, strict=True))
    lw.buffers.update(zip(carries, state, strict=True))

    def index_value(idx: Index) -> SSAValue:
        count = lw.emit(arith.IndexCastOp(lw.index(step), i64))
        return lw.emit(arith.SIToFPOp(count, Float64Type()))

    lw.views[index] = index_value
    popped = pop[0] if pop is not None else ()
    for k, (arg, stacked_input) in enumerate(zip(slices, op.xs, strict=True)):
        if k < len(popped):
            assert pop is not None
            entry = lw.alloc(memref_of(arg.type))
            lw.insert(autodiff.PopOp(entry, popped[k], lw.index(pop[1])))
            lw.buffers[arg] = entry
            continue
        lw.views[arg] = lambda idx, v=stacked_input: lw.element(v, (step, *idx))
        if any(isinstance(u, array.ReshapeOp) for u in users_of(arg)):
            buffer = lw.alloc(memref_of(arg.type))
            lw.copy(arg, buffer)
            lw.buffers[arg] = buffer
    lw.lower_block(op.block, new_carries, temps)
    pushed = push[0] if push is not None else ()
    first_pushed = len(outs) - len(pushed)
    for k, (value, buffer) in enumerate(zip(outs, stacked, strict=True)):
        if k >= first_pushed:
            assert push is not None
            lw.insert(autodiff.PushOp(buffer_of(lw, value), pushed[k - first_pushed], lw.index(push[1])))
        elif buffer is not None:
            lw.for_each(shape_of(value), lambda idx, v=value, b=buffer: lw.store(lw.element(v, idx), b, (step, *idx)))
    for temp, buffer in zip(temps, state, strict=True):
        if temp is not buffer:
            lw.for_each(shape_of(temp), lambda idx, t=temp, b=buffer: lw.store(lw.load(t, idx), b, idx))
    lw.buffers, lw.views = saved


# ---------------------------------------------------------------------------
# A scan's VJP: the forward scan with its tape and the reverse scan, together
# ---------------------------------------------------------------------------


def tape_partner(op: array.ScanOp) -> array.ScanOp | None:
    """The reverse scan that reads the tape of forward scan `op` (tagged
    autodiff.tape = N), if the pair can be lowered together: its N tape ys
    are used only by that scan, as its leading N xs, in the same block, with
    the same trip count and the opposite direction."""
    attr = op.attributes.get(autodiff.TAPE_ATTR)
    if not isinstance(attr, IntegerAttr) or not 0 < attr.value.data <= len(op.ys) or op.trip_count < 1:
        return None
    tape = list(op.ys)[-attr.value.data :]
    users = {use.operation for value in tape for use in value.uses}
    if len(users) != 1 or any(len(list(value.uses)) != 1 for value in tape):
        return None
    (partner,) = users
    if (
        not isinstance(partner, array.ScanOp) or partner.parent_block() is not op.parent_block()
        or list(partner.xs)[: len(tape)] != tape or partner.trip_count != op.trip_count
        or partner.is_reverse == op.is_reverse
    ):
        return None
    return partner


def _checkpoint(op: array.ScanOp) -> Checkpoint:
    """The scan's checkpoint mode (none without the attribute); a bad one
    fails the pass at the scan."""
    attr = op.attributes.get(autodiff.CHECKPOINT_ATTR)
    if attr is None:
        return Checkpoint("none")
    try:
        if not isinstance(attr, StringAttr):
            raise ValueError(f"{autodiff.CHECKPOINT_ATTR} must be a string, got {attr}")
        return Checkpoint.parse(attr.data)
    except ValueError as error:
        fail(str(error), at=op)


def _bytes(values: Sequence[SSAValue]) -> int:
    return sum(prod(shape_of(v)) * element_bytes(element_type_of(v)) for v in values)


@dataclass
class TapedLoop:
    """What the forward half of a pair leaves for the reverse half."""

    forward: array.ScanOp
    checkpoint: str
    state_bytes: int
    entry_bytes: int
    temps: list[SSAValue]
    invariants: list[SSAValue]
    tapes: list[SSAValue]
    snapshots: list[SSAValue]


def lower_forward_half(lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue]) -> TapedLoop:
    """The forward scan of a pair: in mode none a loop pushing each step's
    residuals at tape slot i; otherwise the schedule's forward phase, with
    the tape and the snapshots in buffers the reverse phase reads."""
    checkpoint = _checkpoint(op)
    spec = str(checkpoint)
    _, outs = op.yielded()
    count = op.attributes[autodiff.TAPE_ATTR].value.data
    entries = list(outs)[-count:]
    steps = op.trip_count
    state_bytes, entry_bytes = _bytes(op.finals), _bytes(entries)
    try:
        schedule = checkpoint.schedule(steps, state_bytes, entry_bytes)
    except ValueError as error:
        fail(f"checkpoint {spec}: {error}", at=op)
    counts = simulate(schedule)  # also checks it
    capacity = steps if spec == "none" else counts.peak_tape
    finals, temps, invariants = _scan_state(lw, op, dest)
    stacked = _stacked(lw, list(op.ys)[:-count], dest)
    tapes = [lw.alloc(MemRefType(element_type_of(v), [capacity, *shape_of(v)])) for v in entries]
    snapshots = [lw.alloc(MemRefType(element_type_of(v), [schedule.snapshots, *shape_of(v)]))
                 for v in op.finals] if schedule.snapshots else []
    lw.taped_loops += 1
    lw.checkpoint_figures["tape_bytes"] += capacity * entry_bytes
    lw.checkpoint_figures["snapshot_bytes"] += schedule.snapshots * state_bytes
    lw.checkpoint_figures["recomputed_steps"] += counts.advanced + counts.taped - steps
    outputs = [*stacked, *[None] * count]
    if spec == "none":
        with _loop(lw, steps) as iv:
            slot = Affine(0, ((iv, 1),))
            _lower_step(lw, op, _step_index(op, iv), finals, temps, invariants, outputs, push=(tapes, slot))
    else:
        _schedule(lw, op, spec, "forward", state_bytes, entry_bytes, finals, snapshots, {
            "advance": lambda step, slot: _lower_step(lw, op, step, finals, temps, invariants, outputs),
            "taped": lambda step, slot: _lower_step(
                lw, op, step, finals, temps, invariants, outputs, push=(tapes, slot)),
        })
    lw.buffers.update((r, b) for r, b in zip(op.ys, stacked, strict=False) if b is not None)
    return TapedLoop(op, spec, state_bytes, entry_bytes, temps, invariants, tapes, snapshots)


def lower_reverse_half(
    lw: FunctionLowering, op: array.ScanOp, dest: dict[SSAValue, SSAValue], taped: TapedLoop
) -> None:
    """The reverse scan of a pair: in mode none a reversed loop popping tape
    slot i; otherwise the schedule's reverse phase, which recomputes the
    forward scan's states into a state of its own (the forward scan's final
    carries stay as they are) and runs this scan's steps as its adjoints."""
    fwd = taped.forward
    finals, temps, invariants = _scan_state(lw, op, dest)
    stacked = _stacked(lw, op.ys, dest)
    if taped.checkpoint == "none":
        with _loop(lw, op.trip_count) as iv:
            step = _step_index(op, iv)
            slot = step.scaled(-1).shifted(op.trip_count - 1) if fwd.is_reverse else step  # where it was pushed
            _lower_step(lw, op, step, finals, temps, invariants, stacked, pop=(taped.tapes, slot))
    else:
        state = [lw.alloc(memref_of(v.type)) for v in fwd.finals]
        fwd_outputs = [None] * len(fwd.ys)
        _schedule(lw, fwd, taped.checkpoint, "reverse", taped.state_bytes, taped.entry_bytes,
                  state, taped.snapshots, {
            "advance": lambda step, slot: _lower_step(
                lw, fwd, step, state, taped.temps, taped.invariants, fwd_outputs),
            "taped": lambda step, slot: _lower_step(
                lw, fwd, step, state, taped.temps, taped.invariants, fwd_outputs, push=(taped.tapes, slot)),
            "adjoint": lambda step, slot: _lower_step(
                lw, op, step, finals, temps, invariants, stacked, pop=(taped.tapes, slot)),
        })
    lw.buffers.update((r, b) for r, b in zip(op.ys, stacked, strict=True) if b is not None)


def _schedule(
    lw: FunctionLowering, fwd: array.ScanOp, spec: str, phase: str, state_bytes: int, entry_bytes: int,
    state: Sequence[SSAValue], snapshots: Sequence[SSAValue],
    steps: dict[str, Callable[[Affine, Affine], None]],
) -> None:
    """An `autodiff.schedule` for one phase: `steps[name](data index, tape
    slot)` lowers the advance, taped and adjoint regions; the store and
    restore regions copy `state` to and from `snapshots`."""
    op = autodiff.ScheduleOp(spec, phase, fwd.trip_count, state_bytes, entry_bytes)
    lw.insert(op)
    saved = lw.insertion_point
    kinds = {row[0] for row in op.table()}
    for kind, ((name, _), region) in enumerate(zip(autodiff.SCHEDULE_REGIONS, op.regions, strict=True)):
        if kind not in kinds:
            continue  # never run in this phase: left empty, so what only it used is dead
        block = region.block
        lw.insertion_point = InsertPoint.before(block.last_op)
        ivs = [_push_iv(lw, arg) for arg in block.args]
        for arg, hint in zip(block.args, ("slot",) if name in ("store", "restore") else ("step", "slot")):
            arg.name_hint = hint
        if name in ("store", "restore") and snapshots:
            slot = Affine(0, ((ivs[0], 1),))
            for buffer, snapshot in zip(state, snapshots, strict=True):
                source, target = (buffer, snapshot) if name == "store" else (snapshot, buffer)
                lw.for_each(shape_of(buffer), lambda idx, s=source, t=target: lw.store(
                    lw.load(s, (slot, *idx) if s is snapshot else idx), t, (slot, *idx) if t is snapshot else idx))
        elif name in steps:
            steps[name](_step_index(fwd, ivs[0]), Affine(0, ((ivs[1], 1),)) if len(ivs) == 2 else ZERO)
    lw.insertion_point = saved

