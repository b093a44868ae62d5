"""Data-parallel training over MPI (mpi4py): `gradc.distributed`.

    import gradc
    import gradc.distributed as dist

    world = dist.init()                       # MPI.COMM_WORLD; rank, size
    params = dist.broadcast(params)           # rank 0's values on every rank
    step_grad = dist.data_parallel(gradc.jit(gradc.value_and_grad(loss)))
    for x, y in batches:                      # the same global batches everywhere
        value, grads = step_grad(params, *dist.shard(x, y))
        params = update(params, grads)        # every rank applies the same update
    dist.save_checkpoint("ckpt.npz", {"params": params, "step": k})

`init` wraps a communicator in a `World` and makes an uncaught exception on
any rank abort the whole job (MPI_Abort) instead of leaving the other ranks
waiting in a collective. `data_parallel` wraps a compiled `value_and_grad`
function: each rank calls it on its shard of the batch, and ONE in-place
Allreduce per step sums the shard-size-weighted gradients and loss, packed in
a fixed order (pytree order: dicts by sorted key) into one flat float64
buffer; the result is the mean over the global batch, whatever the number
of ranks or the sizes of the shards, up to float64 rounding.
`shard` splits a global batch into per-rank row blocks (views),
`broadcast` copies rank 0's pytree to every rank, `save_checkpoint` writes a
pytree to .npz from rank 0 only, `load_checkpoint` reads it on rank 0 and
broadcasts it. mpi4py is imported by `init` (or the first function that
needs a world), never by `import gradc`; without it, `DistributedError`
says what to install. Design notes, cluster use and costs: docs/scaling.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradc.errors import _Located
from gradc.frontend.pytree import PyTreeDef, flatten, leaf_keys, unflatten


class DistributedError(_Located, RuntimeError):
    """gradc.distributed cannot do what was asked: MPI is missing, ranks
    disagree on a structure, a checkpoint does not match."""


class World:
    """The processes of one MPI job: `comm` (an mpi4py communicator), this
    process's `rank` and the number of processes `size`; `is_root` is rank 0."""

    def __init__(self, comm: Any):
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()
        self.is_root = self.rank == 0

    def __repr__(self) -> str:
        return f"World(rank={self.rank}, size={self.size})"


ABORT_GRACE_S = 0.5
"""Between printing why a rank stops and MPI_Abort: the launcher forwards
a rank's output through pipes, and the abort kills them (the message was
lost in about one run in ten without the pause, on a loaded machine)."""

_WORLDS: dict[int, World] = {}
_HOOKED = False


def _mpi() -> Any:
    """mpi4py's MPI module (importing it initializes MPI)."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise DistributedError(
            "gradc.distributed needs mpi4py and an MPI library: pip install 'gradc[mpi]' "
            "(mpi4py and MPICH from PyPI; docs/scaling.md)"
        ) from None
    return MPI


def init(comm: Any = None, *, abort_on_error: bool = True) -> World:
    """The `World` of communicator `comm` (default MPI.COMM_WORLD); the same
    object on every call with the same communicator. With `abort_on_error`
    (the default), an exception that reaches the top level of any rank prints
    its traceback and calls MPI_Abort, so the job ends instead of the other
    ranks waiting forever in their next collective."""
    global _HOOKED
    MPI = _mpi()
    comm = MPI.COMM_WORLD if comm is None else comm
    world = _WORLDS.get(id(comm))
    if world is None or world.comm is not comm:
        world = _WORLDS[id(comm)] = World(comm)
    if abort_on_error and not _HOOKED and MPI.COMM_WORLD.Get_size() > 1:
        _install_abort_hook(MPI)
        _HOOKED = True
    return world


def _install_abort_hook(MPI: Any) -> None:
    previous = sys.excepthook

    def abort(kind: type, value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)
        rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
        print(
            f"gradc.distributed: rank {rank} of {size} stopped on {kind.__name__}: {value}; "
            "aborting every rank (MPI_Abort)",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(ABORT_GRACE_S)
        MPI.COMM_WORLD.Abort(1)

    sys.excepthook = abort


def _world(world: World | None) -> World:
    return init() if world is None else world


# --------------------------------------------------------------------------
# Sharding
# --------------------------------------------------------------------------


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """Rows [start, stop) of `rank` when `n` rows are split over `size`
    ranks in contiguous blocks whose sizes differ by at most one (the first
    n % size ranks get one more), as np.array_split splits."""
    q, r = divmod(n, size)
    start = rank * q + min(rank, r)
    return start, start + q + (rank < r)


def shard(*arrays: Any, world: World | None = None) -> Any:
    """This rank's rows (leading axis) of each array: views, no copies; one
    array in, one out; several in, a tuple out. Every array must have the
    same number of rows."""
    w = _world(world)
    lengths = {np.shape(a)[0] if np.ndim(a) else None for a in arrays}
    if len(lengths) != 1 or None in lengths:
        raise DistributedError(f"shard: arrays need the same leading length, got {sorted(map(str, lengths))}")
    start, stop = shard_bounds(lengths.pop(), w.rank, w.size)
    out = tuple(np.asarray(a)[start:stop] for a in arrays)
    return out[0] if len(out) == 1 else out


# --------------------------------------------------------------------------
# Gradients averaged over the global batch
# --------------------------------------------------------------------------


class _Layout:
    """Where each gradient leaf lives in the flat float64 buffer (the first
    `n` entries; then the weighted loss, then the row count), plus buffers
    of the gradients' own dtype when it is not float64."""

    def __init__(self, treedef: PyTreeDef, leaves: list[Any]):
        self.treedef = treedef
        self.shapes = [np.shape(leaf) for leaf in leaves]
        self.dtypes = [np.result_type(leaf) for leaf in leaves]
        for dtype in self.dtypes:
            if dtype.kind != "f":
                raise DistributedError(f"data_parallel: gradients must be floating point, got a {dtype} leaf")
        sizes = [int(np.prod(shape)) for shape in self.shapes]
        offsets = np.cumsum([0, *sizes])
        self.n = int(offsets[-1])
        self.buffer = np.zeros(self.n + 2)
        self.sums = [self.buffer[a:b].reshape(s) for a, b, s in zip(offsets[:-1], offsets[1:], self.shapes)]
        # Results: float64 leaves are views of the buffer itself; the others
        # views of one flat buffer per dtype. `divisions` pairs each
        # reduced sum with where its mean goes: one pass per leaf.
        self.results: list[np.ndarray] = list(self.sums)
        for dtype in sorted({d for d in self.dtypes if d != np.float64}, key=str):
            members = [i for i, d in enumerate(self.dtypes) if d == dtype]
            flat = np.zeros(sum(sizes[i] for i in members), dtype)
            start = 0
            for i in members:
                self.results[i] = flat[start : start + sizes[i]].reshape(self.shapes[i])
                start += sizes[i]
        self.divisions = list(zip(self.sums, self.results))

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes


class DataParallel:
    """`fn` (a compiled value_and_grad function) run on this rank's shard,
    its gradients and value averaged over every rank's rows: see
    `data_parallel`. `bytes_per_step` is the size of the Allreduce buffer
    (None before the first call)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        world: World,
        *,
        has_aux: bool,
        batch_argnums: Sequence[int] | None,
        reduction: str,
        timeout: float | None,
    ):
        if reduction not in ("mean", "sum"):
            raise DistributedError(f"data_parallel: reduction must be 'mean' or 'sum', got {reduction!r}")
        self.fn = fn
        self.world = world
        self.has_aux = has_aux
        self.batch_argnums = None if batch_argnums is None else tuple(batch_argnums)
        self.reduction = reduction
        self.timeout = timeout
        self.steps = 0
        self._layout: _Layout | None = None
        self._mpi = _mpi()

    @property
    def bytes_per_step(self) -> int | None:
        return None if self._layout is None else self._layout.nbytes

    def _rows(self, args: tuple[Any, ...]) -> int:
        argnums = self.batch_argnums if self.batch_argnums is not None else range(1, len(args))
        lengths = set()
        for i in argnums:
            leaves, _ = flatten(args[i])
            lengths |= {np.shape(leaf)[0] for leaf in leaves if np.ndim(leaf)}
        if len(lengths) != 1:
            raise DistributedError(
                "data_parallel: the batch arguments (positions "
                f"{list(argnums)}) need one common leading length (the shard's rows), got {sorted(lengths)}; "
                "pass batch_argnums= to name them"
            )
        return lengths.pop()

    def _allreduce(self, buffer: np.ndarray) -> None:
        MPI = self._mpi
        if self.timeout is None:
            self.world.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            return
        request = self.world.comm.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        deadline = time.monotonic() + self.timeout
        pause = 1e-5
        while not request.Test():
            if time.monotonic() > deadline:
                raise DistributedError(
                    f"data_parallel: rank {self.world.rank} waited more than {self.timeout:g} s in the Allreduce "
                    f"of call {self.steps + 1}: another rank failed, stalled or made fewer calls"
                )
            time.sleep(pause)
            pause = min(2 * pause, 1e-3)

    def __call__(self, *args: Any) -> Any:
        rows = self._rows(args)
        weight = float(rows) if self.reduction == "mean" else 1.0
        layout = self._layout
        aux = None
        if rows > 0 or layout is None:  # the first call learns the gradients' layout
            value, grads = self.fn(*args)
            if self.has_aux:
                value, aux = value
            leaves, treedef = flatten(grads)
            if layout is None:
                layout = self._layout = _Layout(treedef, leaves)
            elif treedef != layout.treedef:
                raise DistributedError(f"data_parallel: the gradients changed structure: {treedef} after {layout.treedef}")
        if rows == 0:
            layout.buffer[:] = 0.0  # an empty shard adds nothing (its mean would be 0/0)
        else:
            for leaf, view in zip(leaves, layout.sums):
                np.multiply(leaf, weight, out=view)
            layout.buffer[-2] = float(value) * weight
        layout.buffer[-1] = rows
        self._allreduce(layout.buffer)
        self.steps += 1
        total = layout.buffer[-1] if self.reduction == "mean" else 1.0
        if total == 0:
            raise DistributedError("data_parallel: the global batch is empty (every shard has 0 rows)")
        for source, result in layout.divisions:
            np.divide(source, total, out=result, casting="same_kind")
        grads = unflatten(layout.treedef, layout.results)
        value = layout.buffer[-2] / total
        return ((value, aux) if self.has_aux else value), grads


def data_parallel(
    fn: Callable[..., Any],
    world: World | None = None,
    *,
    has_aux: bool = False,
    batch_argnums: Sequence[int] | None = None,
    reduction: str = "mean",
    timeout: float | None = None,
) -> DataParallel:
    """Wrap `fn`, a (compiled) `value_and_grad` function returning
    `(value, grads)` (`((value, aux), grads)` with `has_aux`), for data
    parallelism: every rank calls the wrapper with the same parameters and
    its own shard of the batch, and gets the same `(value, grads)`: with
    reduction "mean" (for a loss that is a mean over the shard's rows) the
    mean over the global batch, each rank weighted by its number of rows,
    so unequal shards are exact; with "sum" (a loss summed over rows) the
    plain sum; the value comes back as a float64 NumPy scalar, the
    gradients in their own dtype. One in-place Allreduce of one float64
    buffer per call. `aux` stays this rank's own (None from an empty shard,
    which adds nothing; only the first call runs `fn` on it, to learn the
    gradients' layout). The rows are the leading length of the
    positional arguments `batch_argnums` (default: all but the first).
    The gradients returned are views of buffers the next call overwrites
    (copy them to keep them); every rank must call the wrapper the same
    number of times. With `timeout` (seconds), a rank that waits longer
    than that in the Allreduce raises DistributedError (then, uncaught,
    the job aborts: see `init`) instead of waiting for ever; without it the
    Allreduce blocks (the fastest)."""
    return DataParallel(
        fn, _world(world), has_aux=has_aux, batch_argnums=batch_argnums, reduction=reduction, timeout=timeout
    )


# --------------------------------------------------------------------------
# Broadcast, checkpoints
# --------------------------------------------------------------------------


def _signature(leaves: list[Any]) -> list[tuple[tuple[int, ...], str]]:
    return [(np.shape(leaf), np.result_type(leaf).str) for leaf in leaves]


def _pack(leaves: list[Any]) -> np.ndarray:
    """The leaves' bytes, concatenated in order."""
    parts = [np.ascontiguousarray(leaf).reshape(-1).view(np.uint8) for leaf in leaves]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


def _unpack(data: np.ndarray, like: list[Any]) -> list[Any]:
    """Leaves shaped and typed as `like` from the bytes `_pack` made; Python
    scalars come back as their own type, NumPy scalars as NumPy scalars."""
    out, offset = [], 0
    for leaf in like:
        dtype, shape = np.result_type(leaf), np.shape(leaf)
        size = int(np.prod(shape)) * dtype.itemsize
        array = data[offset : offset + size].view(dtype).reshape(shape).copy()
        offset += size
        if isinstance(leaf, (bool, int, float, complex)):
            out.append(type(leaf)(array.item()))
        elif isinstance(leaf, np.generic):
            out.append(array[()])
        else:
            out.append(array)
    return out


def _agree(world: World, problem: str | None, what: str) -> None:
    """Raise DistributedError on every rank if any rank found a problem."""
    problems = world.comm.allgather(problem)
    found = [f"rank {rank}: {p}" for rank, p in enumerate(problems) if p]
    if found:
        raise DistributedError(f"{what}: " + "; ".join(found))


def broadcast(tree: Any, world: World | None = None, *, root: int = 0) -> Any:
    """A copy of rank `root`'s `tree` on every rank (arrays and scalars;
    every rank passes a tree of the same structure, shapes and dtypes, for
    example its own initialization, which is then replaced)."""
    w = _world(world)
    leaves, treedef = flatten(tree)
    mine = (repr(treedef), _signature(leaves))  # a PyTreeDef's hash differs between processes
    theirs = w.comm.bcast(mine if w.rank == root else None, root=root)
    problem = None if theirs == mine else f"{mine[0]} {mine[1]} differs from rank {root}'s {theirs[0]} {theirs[1]}"
    _agree(w, problem, "broadcast: the ranks' trees differ")
    data = _pack(leaves)
    w.comm.Bcast(data, root=root)
    return unflatten(treedef, _unpack(data, leaves))


def in_sync(tree: Any, world: World | None = None) -> bool:
    """Whether every rank holds bit-identical values of `tree` (a check for
    tests and debugging: it sends the whole tree)."""
    w = _world(world)
    leaves, _ = flatten(tree)
    data = _pack(leaves)
    root = w.comm.bcast(data if w.is_root else None, root=0)
    same = root.shape == data.shape and bool(np.array_equal(root, data))
    return bool(w.comm.allreduce(int(same), op=_mpi().MIN))


def _names(treedef: PyTreeDef) -> list[str]:
    names = ["/".join(map(str, keys)) or "value" for keys in leaf_keys(treedef)]
    if len(set(names)) != len(names):
        raise DistributedError(f"checkpoint: two leaves of {treedef} get the same name")
    return names


def save_checkpoint(path: str | os.PathLike, state: Any, world: World | None = None) -> None:
    """Write the pytree `state` (parameters, optimizer state, step count...)
    to the .npz file `path`, one array per leaf named by its keys
    (`params/w1`), from rank 0 only, atomically (a temporary file renamed);
    a collective: every rank calls it, and returns once the file is there."""
    w = _world(world)
    leaves, treedef = flatten(state)
    names = _names(treedef)
    problem = None
    if w.is_root:
        folder = os.path.dirname(os.path.abspath(path))
        temporary = None
        try:
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as f:
                temporary = f.name
                np.savez(f, **{name: np.asarray(leaf) for name, leaf in zip(names, leaves)})
            os.replace(temporary, path)
        except OSError as error:
            problem = f"cannot write {path}: {error}"
            if temporary is not None and os.path.exists(temporary):
                os.unlink(temporary)
    _agree(w, problem, "save_checkpoint")


def load_checkpoint(path: str | os.PathLike, like: Any, world: World | None = None) -> Any:
    """The state `save_checkpoint` wrote to `path`, shaped as `like` (a tree
    of the same structure, shapes and dtypes: the freshly initialized
    state): rank 0 reads the file and broadcasts it, so only rank 0 needs to
    see the file. Every rank calls it."""
    w = _world(world)
    leaves, treedef = flatten(like)
    names = _names(treedef)
    data, problem = np.zeros(0, np.uint8), None
    if w.is_root:
        try:
            with np.load(path) as saved:
                missing = sorted(set(names) - set(saved.files))
                extra = sorted(set(saved.files) - set(names))
                if missing or extra:
                    problem = f"{path} has arrays {sorted(saved.files)}, expected {names}"
                else:
                    arrays = [saved[name] for name in names]
                    bad = [
                        f"{name}: {a.shape} {a.dtype}, expected {np.shape(leaf)} {np.result_type(leaf)}"
                        for name, a, leaf in zip(names, arrays, leaves)
                        if a.shape != np.shape(leaf) or a.dtype != np.result_type(leaf)
                    ]
                    problem = f"{path} does not match: " + "; ".join(bad) if bad else None
                    data = _pack(arrays)
        except OSError as error:
            problem = f"cannot read {path}: {error}"
    problems = w.comm.bcast(problem, root=0)
    if problems:
        raise DistributedError(f"load_checkpoint: {problems}")
    if not w.is_root:
        data = np.empty(sum(int(np.prod(s)) * np.dtype(d).itemsize for s, d in _signature(leaves)), np.uint8)
    w.comm.Bcast(data, root=0)
    return unflatten(treedef, _unpack(data, leaves))


__all__ = [
    "World",
    "DistributedError",
    "DataParallel",
    "init",
    "shard",
    "shard_bounds",
    "data_parallel",
    "broadcast",
    "in_sync",
    "save_checkpoint",
    "load_checkpoint",
]
