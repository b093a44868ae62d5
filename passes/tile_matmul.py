"""tile-matmul: BLIS-style blocking of every `loops.matmul` into register tiles.

Expects: loops-level functions (after lower-array-to-loops). Other ops are
left alone, so the pass is optional: lower-loops-to-c still lowers an
untiled loops.matmul.

Guarantees: no `loops.matmul` is left; each becomes loops over
`loops.microkernel` tiles of at most MR x NR elements of C, either straight
over A and B (the direct path: small products, or one row tile or column
panel) or over NC x KC x MC cache blocks packed by `loops.pack` into
64-byte aligned workspace panels; edges are narrower tiles, never scalar
code or padding; an epilogue is applied once to each element of C; with a
`triangle`, tiles wholly outside it are not computed and tiles across the
diagonal only in the vectors that reach into it. The
result depends only on the input IR, the options, the machine's cache
sizes and vector width (the defaults) and, with `tuned`, the tuning file.

Options (defaults from the machine, at pass time): `mr` (8), `nr` (two
vectors), `kc`, `mc`, `nc` (cache blocks, from sysfs cache sizes),
`vector-bytes` (from /proc/cpuinfo), `direct-bytes` (L2 / 8),
`stack-bytes` (16 KiB); `tuned` (false): products `gradc.tune` has timed
take the remembered winner's options.

The two loop nests, the transposed (C^T) and dot-product tiles, edges,
epilogues, triangles, and why the sizes are what they are: docs/tiling.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from math import prod
from typing import NoReturn

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import Float64Type, IntegerAttr, MemRefType, ModuleOp, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import loops
from gradc.dialects.loops import vector_widths
from gradc.passes.tiling.emitter import Emitter, Lin
from gradc.passes.tiling.sizes import PAGE_BYTES, STREAM_DEPTH, Tiling, resolve_tiling, round_up, split
from gradc.support.tuning import lookup, product_of

PASS_NAME = "tile-matmul"


def _fail(message: str, at: Operation | None = None) -> NoReturn:
    error = PassFailedException(f"{PASS_NAME}: {message}")
    if at is not None:
        at.emit_error(str(error), error)
    raise error


# ---------------------------------------------------------------------------
# One matmul
# ---------------------------------------------------------------------------


@dataclass
class Operand:
    """A flat view of a matrix operand: element (row, col) of the logical
    matrix (op(A) is [m, k], op(B) is [k, n], C is [m, n]) of batch b is
    `buffer[offset + b * batch_stride + row * row_stride + col * col_stride]`."""

    buffer: SSAValue
    row_stride: int
    col_stride: int
    batch_stride: int

    def at(self, batch: Lin, row: Lin | int, col: Lin | int) -> Lin:
        return batch * self.batch_stride + _lin(row) * self.row_stride + _lin(col) * self.col_stride


def _lin(x: Lin | int) -> Lin:
    return Lin(x) if isinstance(x, int) else x


class MatmulTiler:
    """Replaces one loops.matmul with its tiled loop nest."""

    def __init__(self, op: loops.MatmulOp, tiling: Tiling):
        self.op = op
        self.t = tiling
        self.batch, self.m, self.n, self.k = op.dims
        self.element = op.out.type.get_element_type()
        self.element_bytes = 8 if isinstance(self.element, Float64Type) else 4
        self.e = Emitter()
        self.tile_epilogue = False

    def flat(self, value: SSAValue, name: str) -> SSAValue:
        size = prod(memref_shape(value))
        view = self.e.emit(loops.ReshapeOp(value, [size]))
        view.name_hint = name
        return view

    def alloc(self, size: int, name: str, placement: str = "workspace") -> SSAValue:
        buffer = self.e.emit(loops.AllocOp(MemRefType(self.element, [size]), placement))
        buffer.name_hint = name
        return buffer

    def tile(self) -> Block:
        op, m, n, k = self.op, self.m, self.n, self.k
        transpose_a, transpose_b = op.transpose_a is not None, op.transpose_b is not None
        self.a = Operand(self.flat(op.lhs, "a"), *((1, m) if transpose_a else (k, 1)), m * k)
        self.b = Operand(self.flat(op.rhs, "b"), *((1, k) if transpose_b else (n, 1)), k * n)
        self.c = Operand(self.flat(op.out, "c"), n, 1, m * n)
        self.accumulate = op.accumulate is not None
        batches = prod(self.batch)
        if not (m and n and batches):
            return self.e.finish()
        if k == 0:
            if not self.accumulate:
                self.e.loop(0, batches * m * n, 1, "i", self.zero_c)
            self.epilogue_over_c()
            return self.e.finish()
        result, swapped = None, self.swaps()
        if swapped:
            result = self.swap(batches)
        # The epilogue runs on each register tile of C right after its last
        # depth block (while the tile is in L1), or, when C comes out of a
        # transpose, on each element as it is moved into C; a batched or
        # one-column swapped C gets it in one pass over C at the end.
        epilogue = op.epilogue_block is not None and not self.batch
        self.tile_epilogue = epilogue and not swapped
        if self.is_direct():
            self.direct(batches)
        else:
            self.packed(batches)
        if result is not None:
            self.transpose_into(result, batches, epilogue)
        if not self.tile_epilogue and not (epilogue and result is not None):
            self.epilogue_over_c()
        return self.e.finish()

    def epilogue_over_c(self) -> None:
        """The epilogue (if any) in one pass over all of C."""
        out = self.op.out
        if self.op.epilogue_block is None:
            return
        shape = memref_shape(out)

        def nest(indices: list[SSAValue]) -> None:
            if len(indices) < len(shape):
                self.e.loop(0, shape[len(indices)], 1, "i", lambda iv: nest([*indices, self.e.index(iv)]))
                return
            value = self.e.emit(loops.LoadOp(out, indices))
            self.e.emit(loops.StoreOp(self.op.apply_epilogue(value, indices, self.e.at), out, indices))

        nest([])

    def epilogue_on_tile(self, c: Lin, i: Lin, j: Lin, rows: int, cols: int) -> None:
        """The epilogue on the just-finished rows x cols tile of C whose first
        element is C[i, j], at flat offset `c`."""
        e = self.e

        def element(r: Lin, col: Lin) -> None:
            at = c + r * self.c.row_stride + col
            value = e.load(self.c.buffer, at)
            indices = [e.index(i + r), e.index(j + col)]
            e.store(self.op.apply_epilogue(value, indices, e.at), self.c.buffer, at)

        e.loop(0, rows, 1, "r", lambda r: e.loop(0, cols, 1, "col", lambda col: element(r, col)))

    def swaps(self) -> bool:
        """Compute C^T = op(B)^T op(A)^T instead when C is narrower than a
        vector but tall, and A^T's rows are contiguous (A is stored
        transposed): the tall side then fills the vectors, and A^T is read
        in place. Also a row times B^T (B stored [n, k]): C^T = B a^T is
        then one dot product per row of B, read in place (see `microkernel`)."""
        narrow_tall = self.n < self.t.lanes <= self.m and self.a.row_stride == 1
        row_times_bt = self.m == 1 < self.n and self.b.row_stride == 1 and self.k >= self.t.lanes
        return (narrow_tall or row_times_bt) and self.op.triangle is None  # (a triangle's C is square)

    def swap(self, batches: int) -> tuple[SSAValue, bool] | None:
        """Swap the roles of A and B. C^T goes to a temporary (returned with
        the original accumulate flag, for `transpose_into`), unless C has one
        column or one row: then C^T is C."""
        a, b, c, m, n = self.a, self.b, self.c, self.m, self.n
        self.a = Operand(b.buffer, b.col_stride, b.row_stride, b.batch_stride)
        self.b = Operand(a.buffer, a.col_stride, a.row_stride, a.batch_stride)
        self.m, self.n = n, m
        if n == 1 or m == 1:
            self.c = Operand(c.buffer, m if n == 1 else 1, 1, c.batch_stride)
            return None
        size = batches * m * n
        placement = "stack" if size * self.element_bytes <= self.t.stack_bytes else "workspace"
        temporary = self.alloc(size, "c_transposed", placement)
        self.c = Operand(temporary, m, 1, m * n)
        result = (c.buffer, self.accumulate)
        self.accumulate = False
        return result

    def transpose_into(self, result: tuple[SSAValue, bool], batches: int, epilogue: bool) -> None:
        """C[b, i, j] (+)= C^T[b, j, i], along the rows of C (after the swap,
        self.m is C's width and self.n its height), with the `epilogue` on
        each element."""
        c, accumulate = result
        e, width, height = self.e, self.m, self.n

        def element(b: Lin, i: Lin, j: Lin) -> None:
            value = e.load(self.c.buffer, b * (width * height) + j * height + i)
            at = b * (width * height) + i * width + j
            if accumulate:
                value = e.emit(arith.AddfOp(e.load(c, at), value))
            if epilogue:
                value = self.op.apply_epilogue(value, [e.index(i), e.index(j)], e.at)
            e.store(value, c, at)

        e.loop(0, batches, 1, "batch", lambda b: e.loop(0, height, 1, "i", lambda i: e.loop(
            0, width, 1, "j", lambda j: element(b, i, j))))

    def zero_c(self, i: Lin) -> None:
        self.e.store(self.e.constant(0.0, self.element), self.c.buffer, i)

    def is_direct(self) -> bool:
        """No blocking or packing when both operands fit in `direct-bytes`,
        or when a packed panel would be used once (one row tile, or one
        column panel)."""
        t, size = self.t, self.element_bytes
        if self.m <= t.mr or self.n <= t.nr:
            return True
        return self.m * self.k * size <= t.direct_bytes and self.k * self.n * size <= t.direct_bytes

    def microkernel(self, a: tuple[SSAValue, Lin], a_strides: tuple[int, int],
                    b: tuple[SSAValue, Lin], b_k_stride: int, c: Lin,
                    m: int, n: int, k: int, accumulate: bool) -> None:
        """One register tile; a one-column tile whose A and B run along k
        (y = A x with A's rows contiguous) holds its rows' dot products in
        vectors along k (`dot`), when k fills a vector: with lanes along n
        it would be scalar code (64 x 64 f64 on AVX-512, in a C harness:
        1.18 us -> 0.13 us per product)."""
        dot = n == 1 and a_strides[1] == 1 and b_k_stride == 1 and k >= self.t.lanes
        self.e.emit(loops.MicrokernelOp(
            (a[0], self.e.index(a[1])), (b[0], self.e.index(b[1])),
            (self.c.buffer, self.e.index(c)),
            {"m": m, "n": n, "k": k, "lanes": self.t.lanes,
             "a_row_stride": a_strides[0], "a_k_stride": a_strides[1],
             "b_k_stride": b_k_stride, "c_row_stride": self.c.row_stride},
            accumulate,
            dot,
        ))

    # -- packing --------------------------------------------------------------

    def pack_b(self, panels: SSAValue, batch: Lin, k0: Lin | int, kc: int, j0: Lin | int, nc: int) -> None:
        """op(B)[k0 : k0+kc, j0 : j0+nc] into panels of NR columns: element
        (p, c) of panel q at `q * kc * NR + p * NR + c` (the last panel may
        have fewer columns)."""
        b = self.b
        self._pack(b.buffer, b.at(batch, k0, j0), panels, kc, nc, self.t.nr, b.row_stride, b.col_stride)

    def pack_a(self, panels: SSAValue, batch: Lin, i0: Lin | int, mc: int, k0: Lin | int, kc: int) -> None:
        """op(A)[i0 : i0+mc, k0 : k0+kc] into panels of MR rows: element
        (r, p) of panel P at `P * kc * MR + p * MR + r` (the last panel may
        have fewer rows)."""
        a = self.a
        self._pack(a.buffer, a.at(batch, i0, k0), panels, kc, mc, self.t.mr, a.col_stride, a.row_stride)

    def _pack(
        self, source: SSAValue, at: Lin, panels: SSAValue, depth: int, width: int, panel: int,
        depth_stride: int, lane_stride: int,
    ) -> None:
        self.e.emit(loops.PackOp(
            (source, self.e.index(at)), (panels, self.e.index(Lin())),
            {"depth": depth, "width": width, "panel": panel,
             "depth_stride": depth_stride, "lane_stride": lane_stride},
        ))

    # -- the two loop nests ----------------------------------------------------

    def tiles(self, batch: Lin, i0: Lin | int, mc: int, j0: Lin | int, nc: int, k: int,
              a_at: Callable[[Lin, Lin], tuple[tuple[SSAValue, Lin], tuple[int, int]]],
              b_at: Callable[[Lin], tuple[tuple[SSAValue, Lin], int]],
              accumulate: bool, rows_outer: bool = False, last: bool = False) -> None:
        """Register tiles over C[i0 : i0+mc, j0 : j0+nc]. Column panels are
        outer (a panel of B stays in L1 while the row tiles pass), unless
        `rows_outer` (B is in L1 anyway; C is then written row block by row
        block). Rows come in panels of MR (as A is packed; `a_at(panel,
        row)` finds a tile's rows); a narrow last column panel held in more,
        narrower vectors takes fewer rows per tile, so that its accumulators
        fit in as many registers as a full tile's. On the `last` depth block
        each tile gets the epilogue (when it runs on tiles)."""
        t = self.t
        budget = t.mr * len(vector_widths(t.nr, t.lanes))
        row_panels, column_panels = split(mc, t.mr, t.mr), split(nc, t.nr, t.nr)

        def cell(i: Lin, height: int, j: Lin, width: int) -> None:
            b, b_k_stride = b_at(j)
            rows = max(1, min(t.mr, budget // len(vector_widths(width, t.lanes))))

            def tile(row: Lin, rows_here: int, col: int = 0, cols: int = width) -> None:
                # (`col` > 0 only when width > lanes: B's columns are then contiguous)
                a, a_strides = a_at(i, row)
                c = self.c.at(batch, _lin(i0) + i + row, _lin(j0) + j + col)
                self.microkernel(a, a_strides, (b[0], b[1] + col), b_k_stride, c, rows_here, cols, k, accumulate)
                if last and self.tile_epilogue:
                    self.epilogue_on_tile(c, _lin(i0) + i + row, _lin(j0) + j + col, rows_here, cols)

            def tile_in_triangle(row: Lin, rows_here: int) -> None:
                self.in_triangle(_lin(i0) + i + row, rows_here, _lin(j0) + j, width,
                                 lambda r, rows, col, cols: tile(row + r, rows, col, cols))

            if rows >= height:
                tile_in_triangle(Lin(), height)
            else:
                self.e.blocks(split(height, rows, 1), "row", tile_in_triangle)

        if rows_outer:
            self.e.blocks(row_panels, "ir", lambda i, height: self.e.blocks(
                column_panels, "jr", lambda j, width: cell(i, height, j, width)))
        else:
            self.e.blocks(column_panels, "jr", lambda j, width: self.e.blocks(
                row_panels, "ir", lambda i, height: cell(i, height, j, width)))

    def in_triangle(self, i: Lin, height: int, j: Lin, width: int,
                    body: Callable[[int, int, int, int], None]) -> None:
        """The part of the tile of C at rows [i, i + height), columns
        [j, j + width) that meets the triangle the matmul computes, as
        `body(row, rows, col, cols)` (offsets in the tile): the whole tile
        without a triangle; with one, nothing for a tile outside it, and for
        one across the diagonal only the columns (in whole vectors) and
        rows that reach into it, chosen by a `loops.switch` unless the
        tile's place is static."""
        triangle = self.op.triangle_name
        if triangle is None:
            body(0, height, 0, width)
            return
        upper = triangle == "upper"
        # How far the tile reaches into the triangle: the columns (and rows)
        # it needs are min(width, reach) (min(height, reach)), from its
        # top-right corner for "upper" (row <= column), else its bottom-left.
        reach = j + width + i * -1 if upper else i + height + j * -1
        lanes = self.t.lanes
        widths = [min(width, v * lanes) for v in range(1, -(-width // lanes) + 1)]

        def part(cols: int, most: int) -> None:  # reach <= most
            rows = min(height, most)
            body(0 if upper else height - rows, rows, width - cols if upper else 0, cols)

        if not reach.terms:
            if reach.const > 0:
                part(min(width, round_up(reach.const, lanes)), reach.const)
            return
        e = self.e
        k = e.emit(arith.IndexCastOp(e.index(reach + (lanes - 1 if len(widths) > 1 else 0)), i64))
        if len(widths) > 1:  # ceil(reach / lanes) vectors; reach <= 0 gives at most 0
            k = e.emit(arith.DivSIOp(k, e.emit(arith.ConstantOp(IntegerAttr(lanes, i64), i64))))
        switch = loops.SwitchOp(k, 1 + len(widths))
        e.emit(switch)
        saved = e.at
        for region, cols in zip(switch.branches[1:], widths):
            e.at = InsertPoint.before(region.block.last_op)
            part(cols, cols if cols < width else height)  # the last region takes any greater reach
        e.at = saved

    def direct(self, batches: int) -> None:
        """Tiles straight over A and B; only B^T is copied, into panels (on
        the stack when they are small). A single short row tile walks B in
        depth blocks of a few rows, along the rows (over rows a page or longer
        also a full tile: a column strip of all of K would touch a new page
        at every step, which no prefetcher follows)."""
        t, m, n, k = self.t, self.m, self.n, self.k
        panels = None
        if self.b.col_stride != 1 and n > 1:  # B^T: its rows are not along n (one column is contiguous)
            size = round_up(n, t.nr) * k
            placement = "stack" if size * self.element_bytes <= t.stack_bytes else "workspace"
            panels = self.alloc(size, "b_panels", placement)
        long_rows = self.b.row_stride * self.element_bytes >= PAGE_BYTES
        streaming = m <= t.mr and panels is None and n > t.nr and (2 * m <= t.mr or long_rows)
        # Depth blocks bound how many products a register tile sums before
        # it is added to C (see microkernel_definition): kc at most. Dot
        # tiles spread theirs over their lanes and accumulator sets instead.
        dots = n == 1 and self.a.col_stride == 1 and self.b.row_stride == 1 and k >= t.lanes
        depth_blocks = split(k, STREAM_DEPTH if streaming else k if dots else t.kc, 1)
        groups = self.depth_groups(depth_blocks)

        def one(batch: Lin) -> None:
            if panels is not None:
                self.pack_b(panels, batch, 0, k, 0, n)
            for group, adds, last in groups:
                self.e.blocks(group, "pc", lambda k0, kc, adds=adds, last=last: depth_block(
                    batch, k0, kc, adds, last))

        def depth_block(batch: Lin, k0: Lin, kc: int, adds: bool, last: bool) -> None:
            def a_at(panel: Lin, row: Lin) -> tuple[tuple[SSAValue, Lin], tuple[int, int]]:
                return (self.a.buffer, self.a.at(batch, panel + row, k0)), (self.a.row_stride, self.a.col_stride)

            def b_at(j: Lin) -> tuple[tuple[SSAValue, Lin], int]:
                if panels is not None:
                    return (panels, j * k + k0 * t.nr), t.nr
                return (self.b.buffer, self.b.at(batch, k0, j)), self.b.row_stride

            rows_outer = k * n * self.element_bytes <= t.l1_bytes // 2
            self.tiles(batch, 0, m, 0, n, kc, a_at, b_at, adds, rows_outer, last)

        self.e.loop(0, batches, 1, "batch", one)

    def depth_groups(self, blocks: list[tuple[int, int]]) -> list[tuple[list[tuple[int, int]], bool, bool]]:
        """Depth blocks in runs emitted as one loop each: (blocks, whether
        they add to C, whether they end the product). The first block
        overwrites C unless the matmul accumulates, and the last one is apart
        when its tiles get the epilogue; the blocks between stay one loop."""
        cuts = {0, len(blocks)}
        if not self.accumulate:
            cuts.add(1)
        if self.tile_epilogue:
            cuts.add(len(blocks) - 1)
        bounds = sorted(cuts)
        return [
            (blocks[lo:hi], self.accumulate or lo > 0, hi == len(blocks))
            for lo, hi in zip(bounds, bounds[1:]) if hi > lo
        ]

    def packed(self, batches: int) -> None:
        """BLIS: NC column blocks, KC depth blocks (B packed), MC row blocks
        (A packed), then register tiles over the panels."""
        t, m, n, k = self.t, self.m, self.n, self.k
        n_blocks, k_blocks, m_blocks = split(n, t.nc, t.nr), split(k, t.kc, 1), split(m, t.mc, t.mr)
        kc_max = max(size for _, size in k_blocks)
        b_panels = self.alloc(round_up(max(s for _, s in n_blocks), t.nr) * kc_max, "b_panels")
        a_panels = self.alloc(round_up(max(s for _, s in m_blocks), t.mr) * kc_max, "a_panels")
        groups = self.depth_groups(k_blocks)

        def one(batch: Lin) -> None:
            def column_block(j0: Lin, nc: int) -> None:
                for group, adds, last in groups:
                    self.e.blocks(group, "pc", lambda k0, kc, adds=adds, last=last: depth_block(
                        j0, nc, k0, kc, adds, last))

            def depth_block(j0: Lin, nc: int, k0: Lin, kc: int, adds: bool, last: bool) -> None:
                self.pack_b(b_panels, batch, k0, kc, j0, nc)

                def row_block(i0: Lin, mc: int) -> None:
                    self.pack_a(a_panels, batch, i0, mc, k0, kc)
                    self.tiles(
                        batch, i0, mc, j0, nc, kc,
                        lambda panel, row: ((a_panels, panel * kc + row), (1, t.mr)),
                        lambda j: ((b_panels, j * kc), t.nr),
                        adds,
                        last=last,
                    )

                self.e.blocks(m_blocks, "ic", row_block)

            self.e.blocks(n_blocks, "jc", column_block)

        self.e.loop(0, batches, 1, "batch", one)


def _closed_epilogue(matmul: loops.MatmulOp) -> str | None:
    """The product's epilogue as text ("" without one) when it reads only
    values of its own, so that equal texts tile alike; None otherwise."""
    block = matmul.epilogue_block
    if block is None:
        return ""
    own: set[SSAValue] = set(block.args)
    for op in block.walk():
        if any(v not in own for v in op.operands):
            return None
        own.update(op.results)
        own.update(a for region in op.regions for b in region.blocks for a in b.args)
    return str(matmul.epilogue)


def memref_shape(value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    assert isinstance(typ, MemRefType)
    return tuple(typ.get_shape())


# ---------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TileMatmul(ModulePass):
    """Block every loops.matmul into packed panels and register micro-tiles."""

    name = PASS_NAME

    mr: int = 8
    """Rows of a register tile."""
    nr: int | None = None
    """Columns of a register tile, a multiple of the vector width (default two vectors)."""
    kc: int | None = None
    """Depth of a cache block (default: a KC x NR panel of B in 2/3 of L1d)."""
    mc: int | None = None
    """Rows of a cache block of A (default: MC x KC in 1/16 of L2)."""
    nc: int | None = None
    """Columns of a cache block of B (default: KC x NC in half of L2)."""
    vector_bytes: int | None = None
    """Bytes of a vector register (default: what /proc/cpuinfo reports)."""
    direct_bytes: int | None = None
    """Products whose A and B are each at most this many bytes skip the
    blocking and packing (default: L2 / 8; 0 packs every product with more
    than one row tile and more than one column panel)."""
    stack_bytes: int = 16384
    """Panels of B^T on the direct path up to this size are local arrays
    rather than workspace (a function without workspace is cheaper to call)."""
    tuned: bool = False
    """Products whose shape `gradc.tune` has timed take the remembered
    winner's options (for this machine, from the cache folder) instead of
    the ones above; the others keep them."""

    def tiling(self, element: Attribute) -> Tiling:
        """The sizes for one element type, options checked and defaults filled in."""
        try:
            return resolve_tiling(
                element, mr=self.mr, nr=self.nr, kc=self.kc, mc=self.mc, nc=self.nc,
                vector_width=self.vector_bytes, direct_bytes=self.direct_bytes, stack_bytes=self.stack_bytes,
            )
        except ValueError as error:
            _fail(str(error))

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        tilings: dict[Attribute, Tiling] = {}
        templates = _Templates()
        for matmul in [o for o in op.walk() if isinstance(o, loops.MatmulOp)]:
            element = matmul.out.type.get_element_type()
            if element not in tilings:
                tilings[element] = self.tiling(element)
            tiling = tilings[element]
            if self.tuned:
                winner = lookup(product_of(matmul))
                if winner is not None:
                    tiling = replace(self, tuned=False, **winner).tiling(element)
            for new in templates.tiled(matmul, tiling):
                Rewriter.insert_op(new, InsertPoint.before(matmul))
            Rewriter.erase_op(matmul)


class _Templates:
    """The tiled nest of each distinct product, built once per module: a
    product with the same dims, flags, operand types, epilogue and tiling
    as one tiled before gets a copy of that one's nest on its own operands.
    (A product whose epilogue reads values from outside it is tiled afresh.)"""

    def __init__(self) -> None:
        self.known: dict[tuple, tuple[Block, list[Operation]]] = {}

    def tiled(self, matmul: loops.MatmulOp, tiling: Tiling) -> list[Operation]:
        """The ops replacing `matmul` (detached, in order)."""
        operands = (matmul.lhs, matmul.rhs, matmul.out)
        epilogue = _closed_epilogue(matmul)
        key = None if epilogue is None else (
            tiling, tuple(matmul.dims), *(v.type for v in operands), epilogue,
            *(flag is not None for flag in (matmul.transpose_a, matmul.transpose_b, matmul.accumulate)),
            matmul.triangle_name,
        )
        if key is not None and key in self.known:
            placeholders, template = self.known[key]
            mapper: dict[SSAValue, SSAValue] = dict(zip(placeholders.args, operands, strict=True))
            return [t.clone(value_mapper=mapper) for t in template]
        ops = list(MatmulTiler(matmul, tiling).tile().ops)
        for new in ops:
            new.detach()
        if key is not None:
            placeholders = Block(arg_types=[v.type for v in operands])
            mapper = dict(zip(operands, placeholders.args, strict=True))
            self.known[key] = placeholders, [o.clone(value_mapper=mapper) for o in ops]
        return ops
