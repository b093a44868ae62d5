"""Block sizes for tile-matmul: options and machine defaults resolved into a
`Tiling`, and dimensions split into balanced blocks.

Expects: the pass's options (None for "the machine's default") and an f32
or f64 element type.

Guarantees: `resolve_tiling` returns sizes in elements that depend only on
the options, the cache sizes (sysfs) and the vector width (/proc/cpuinfo);
`nr` is a multiple of the lanes, `mc` of `mr`, `nc` of `nr`. A bad option
raises ValueError with the message tile-matmul reports.

Why these defaults (the L1/L2 fractions, L2 / 8 for the direct path, the
stream depth): docs/tiling.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import Float64Type
from xdsl.ir import Attribute

from gradc.support.host import cache_sizes, vector_bytes

PAGE_BYTES = 4096
STREAM_DEPTH = 16
"""Depth blocks of a single row tile over rows of B a page or longer: a few
pages at a time, each walked along."""


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def round_up(a: int, b: int) -> int:
    return ceil_div(a, b) * b


@dataclass(frozen=True)
class Tiling:
    """Resolved sizes, in elements, for one element type."""

    lanes: int
    mr: int
    nr: int
    kc: int
    mc: int
    nc: int
    direct_bytes: int
    stack_bytes: int
    l1_bytes: int


def split(total: int, limit: int, quantum: int) -> list[tuple[int, int]]:
    """(offset, size) blocks covering `total`: as few as `limit` allows, all
    but the last of one size, a multiple of `quantum`."""
    if total == 0:
        return []
    count = ceil_div(total, limit)
    size = min(round_up(ceil_div(total, count), quantum), round_up(total, quantum))
    blocks = []
    for start in range(0, total, size):
        blocks.append((start, min(size, total - start)))
    return blocks


def resolve_tiling(
    element: Attribute,
    *,
    mr: int,
    nr: int | None,
    kc: int | None,
    mc: int | None,
    nc: int | None,
    vector_width: int | None,
    direct_bytes: int | None,
    stack_bytes: int,
) -> Tiling:
    """The sizes for one element type, options checked and defaults filled
    in (the fields of TileMatmul, `vector_width` being `vector-bytes`)."""
    size = 8 if isinstance(element, Float64Type) else 4
    width = vector_width if vector_width is not None else vector_bytes()
    if width < size or width & (width - 1):
        raise ValueError(f"vector-bytes must be a power of two >= {size}, got {width}")
    lanes = width // size
    caches = cache_sizes()
    for name, value in (("mr", mr), ("nr", nr), ("kc", kc), ("mc", mc), ("nc", nc)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    for name, value in (("direct-bytes", direct_bytes), ("stack-bytes", stack_bytes)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    nr = nr if nr is not None else 2 * lanes
    if nr % lanes:
        raise ValueError(f"nr must be a multiple of the vector width ({lanes} elements), got {nr}")
    kc = kc if kc is not None else max(8, caches[1] * 2 // 3 // (nr * size) // 8 * 8)
    # A given mc or nc is rounded up to whole tiles, a default one down.
    mc = round_up(mc, mr) if mc is not None else caches[2] // 16 // (kc * size) // mr * mr
    nc = round_up(nc, nr) if nc is not None else caches[2] // 2 // (kc * size) // nr * nr
    return Tiling(
        lanes=lanes,
        mr=mr,
        nr=nr,
        kc=kc,
        mc=max(mr, mc),
        nc=max(nr, nc),
        direct_bytes=direct_bytes if direct_bytes is not None else caches[2] // 8,
        stack_bytes=stack_bytes,
        l1_bytes=caches[1],
    )
