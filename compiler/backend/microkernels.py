"""The C helper functions a printed module defines before its first function:
one per distinct `c.microkernel` tile and `c.pack`, and what `c.thread_num` calls.

Expects: `c.microkernel` and `c.pack` ops with the static parameters
tile-matmul chose (element type f32 or f64).

Guarantees: each helper is `static inline` (`static noinline` when called
from more than INLINE_SITES places), named after every parameter
that shapes its code (so equal names are equal definitions); loads and
stores are `__builtin_memcpy` of exactly the tile, so any alignment works
and no vector crosses a function boundary; the order of every addition is
fixed by the shape, so results repeat from call to call. GNU C vector types
and `__builtin_shuffle` are used; gcc contracts `acc += a * b` into FMAs in
GNU mode, and a strict `-std=c99` build still compiles, with separate
multiplies and adds.

How the kernels hold their tiles, split the k loop and sum across lanes:
docs/backend.md.
"""

from __future__ import annotations

from xdsl.dialects.builtin import Float64Type
from xdsl.ir import Attribute

from gradc.backend.c_spelling import INDENT, c_type_name
from gradc.backend.linalg_kernels import dot_definition, dot_name, linalg_definition, linalg_name
from gradc.dialects import c
from gradc.dialects.loops import vector_widths

THREAD_NUM = "gradc_thread_num"
INLINE_SITES = 1
"""A micro-kernel or packing helper called from more places than this is
defined `NOINLINE` rather than `static inline`: each inlined copy of a
kernel costs gcc as much as the kernel itself (its k loop unrolled and
scheduled again), which made compile time grow with the number of products
(a 16-layer MLP gradient: 1.2 s of gcc with inlined kernels, 0.5 s
without), while a call costs a few cycles against the hundreds a tile takes."""
NOINLINE = "static __attribute__((noinline))"


def thread_num_definition() -> list[str]:
    """What `c.thread_num` calls: OpenMP's thread number, 0 without OpenMP
    (then every parallel loop is a serial one)."""
    return [
        "#ifdef _OPENMP",
        "#include <omp.h>",
        "#endif",
        f"static inline int64_t {THREAD_NUM}(void) {{",
        "#ifdef _OPENMP",
        f"{INDENT}return omp_get_thread_num();",
        "#else",
        f"{INDENT}return 0;",
        "#endif",
        "}",
    ]


def vector_type_name(element: Attribute, lanes: int) -> str:
    return f"gradc_{element}x{lanes}"


def microkernel_name(op: c.MicrokernelOp) -> str:
    """`gradc_microkernel_f32x16_8x32x256_a1_8_b32_c512[_acc]`: element type
    and lanes, m x n x k, then the A, B and C strides."""
    v = op.value_of
    return (
        f"gradc_microkernel_{op.element_type}x{v('lanes')}_"
        f"{v('m')}x{v('n')}x{v('k')}_a{v('a_row_stride')}_{v('a_k_stride')}_"
        f"b{v('b_k_stride')}_c{v('c_row_stride')}" + ("_acc" if op.accumulate is not None else "")
        + ("_dot" if op.dot is not None else "")
    )


def dot_width(op: c.MicrokernelOp) -> int:
    """Lanes of a dot tile's vectors: `lanes`, or the widest power of two
    that fits in k when k is shorter."""
    k, width = op.value_of("k"), op.value_of("lanes")
    while width > k:
        width //= 2
    return width


def kernel_vector_widths(op: c.MicrokernelOp) -> list[int]:
    """The vector widths (> 1) a micro-kernel's definition declares, widest first."""
    if op.dot is not None:
        return [1 << e for e in range(dot_width(op).bit_length() - 1, 0, -1)]
    return sorted(set(vector_widths(op.value_of("n"), op.value_of("lanes"))) - {1}, reverse=True)


MIN_ACCUMULATORS = 8
"""FMA latency x FMA ports: tiles with fewer accumulators than this split
the k loop over several accumulator sets, so the adds do not wait on each
other (summed at the end, in a fixed order)."""


def microkernel_definition(op: c.MicrokernelOp) -> list[str]:
    """The function a `c.microkernel` calls. Each row of the tile is held in
    vectors of `vector_widths(n, lanes)` (`acc{set}_{row}_{vector}`) through
    the k loop; each step loads one row of B in the same vectors and
    multiplies it by each element of A's column (a scalar times a vector
    broadcasts). An accumulating tile adds C to the finished sum, so that C
    takes one addition per depth block, not one per k step. Every load and store is exactly the tile, through
    `__builtin_memcpy` (any alignment; no vector crosses a function
    boundary, so the ABI never depends on the target's vector registers)."""
    if op.dot is not None:
        return dot_microkernel_definition(op)
    v = op.value_of
    m, n, k, lanes = v("m"), v("n"), v("k"), v("lanes")
    ars, aks, bks, crs = v("a_row_stride"), v("a_k_stride"), v("b_k_stride"), v("c_row_stride")
    scalar = c_type_name(op.element_type)
    widths = vector_widths(n, lanes)
    starts = [sum(widths[:q]) for q in range(len(widths))]
    sets = max(1, min(k, -(-MIN_ACCUMULATORS // (m * len(widths)))))

    def vec(q: int) -> str:
        """A width-1 slot is a plain scalar (gcc keeps 1-element vectors in memory)."""
        return scalar if widths[q] == 1 else vector_type_name(op.element_type, widths[q])

    def index(p: str | None, p_offset: int, p_stride: int, offset: int) -> str:
        """`p * p_stride + constant`, folded (`p` None: a constant step)."""
        terms = []
        if p is not None and p_stride:
            terms.append(p if p_stride == 1 else f"{p} * {p_stride}")
        constant = p_offset * p_stride + offset
        if constant or not terms:
            terms.append(str(constant))
        return " + ".join(terms)

    def pointer(base: str, at: str) -> str:
        return base if at == "0" else f"{base} + {at}"

    def load(q: int, name: str, base: str, at: str, declare: bool) -> str:
        if widths[q] == 1:
            return f"{vec(q) + ' ' if declare else ''}{name} = {base}[{at}];"
        declaration = f"{vec(q)} {name}; " if declare else ""
        return f"{declaration}__builtin_memcpy(&{name}, {pointer(base, at)}, sizeof {name});"

    def store(q: int, name: str, at: str) -> str:
        if widths[q] == 1:
            return f"c[{at}] = {name};"
        return f"__builtin_memcpy({pointer('c', at)}, &{name}, sizeof {name});"

    def acc(s: int, r: int, q: int) -> str:
        return f"acc{s}_{r}_{q}" if sets > 1 else f"acc{r}_{q}"

    def step(p: str | None, p_offset: int, s: int, depth: int) -> list[str]:
        """One k step (p + p_offset) into accumulator set s."""
        pad = INDENT * depth
        lines = [pad + load(q, f"b{q}", "b", index(p, p_offset, bks, starts[q]), True)
                 for q in range(len(widths))]
        for r in range(m):
            lines.append(f"{pad}const {scalar} a{r} = a[{index(p, p_offset, aks, r * ars)}];")
            lines += [f"{pad}{acc(s, r, q)} += a{r} * b{q};" for q in range(len(widths))]
        return lines

    sign = "+" if op.accumulate is not None else ""
    lines = [
        f"/* C[{m} x {n}] {sign}= A[{m} x {k}] B[{k} x {n}]: A strides (row {ars}, k {aks}), "
        f"B row stride {bks}, C row stride {crs}; rows in vectors of {widths}. */",
        f"static inline void {microkernel_name(op)}(const {scalar} *restrict a, "
        f"const {scalar} *restrict b, {scalar} *restrict c) {{",
    ]
    for s in range(sets):
        for r in range(m):
            for q in range(len(widths)):
                lines.append(f"{INDENT}{vec(q)} {acc(s, r, q)} = {'0' if widths[q] == 1 else '{0}'};")
    main = k - k % sets
    if main == sets:  # one round: no loop
        for s in range(sets):
            lines.append(f"{INDENT}{{")
            lines += step(None, s, s, 2)
            lines.append(f"{INDENT}}}")
    elif sets == 1:
        lines.append(f"{INDENT}for (int64_t p = 0; p < {k}; ++p) {{")
        lines += step("p", 0, 0, 2)
        lines.append(f"{INDENT}}}")
    else:
        lines.append(f"{INDENT}for (int64_t p = 0; p < {main}; p += {sets}) {{")
        for s in range(sets):
            lines.append(f"{INDENT * 2}{{")
            lines += step("p", s, s, 3)
            lines.append(f"{INDENT * 2}}}")
        lines.append(f"{INDENT}}}")
    for p in range(main, k):
        lines.append(f"{INDENT}{{")
        lines += step(None, p, 0, 2)
        lines.append(f"{INDENT}}}")
    if sets > 1:
        for r in range(m):
            for q in range(len(widths)):
                total = " + ".join(acc(s, r, q) for s in range(1, sets))
                lines.append(f"{INDENT}{acc(0, r, q)} += {total};")
    if op.accumulate is not None:  # C + (this depth block): C takes one add per block
        for r in range(m):
            for q in range(len(widths)):
                lines.append(INDENT + load(q, f"c{r}_{q}", "c", str(r * crs + starts[q]), True))
                lines.append(f"{INDENT}{acc(0, r, q)} = c{r}_{q} + {acc(0, r, q)};")
    for r in range(m):
        for q in range(len(widths)):
            lines.append(INDENT + store(q, acc(0, r, q), str(r * crs + starts[q])))
    lines.append("}")
    return lines


def dot_microkernel_definition(op: c.MicrokernelOp) -> list[str]:
    """The function a `dot` `c.microkernel` (n = 1, A and B along k) calls.
    Row r accumulates A's row times B's column in vectors of `dot_width`
    lanes (`acc{set}_{r}`; several sets when there are fewer rows than
    MIN_ACCUMULATORS), and the k % width elements left over in a scalar
    (`tail{r}`). Rows are then summed across lanes in groups of
    `vector_widths(m, width)`: log2(group) rounds of two-vector shuffles add
    neighbouring lanes of two rows' vectors into one (after the rounds, lane
    l holds a part of row l % group), then halving folds the vector down to
    the group's width, lane i the sum of row i. One vector store (or add)
    per group when C's rows are contiguous. The order of every addition is
    fixed by the shape, so results are the same on every call."""
    v = op.value_of
    m, k, ars, crs = v("m"), v("k"), v("a_row_stride"), v("c_row_stride")
    width = dot_width(op)
    scalar = c_type_name(op.element_type)
    vector = scalar if width == 1 else vector_type_name(op.element_type, width)
    chunks = k // width
    main = chunks * width
    sets = max(1, min(chunks, -(-MIN_ACCUMULATORS // m)))
    accumulate = op.accumulate is not None

    def acc(s: int, r: int) -> str:
        return f"acc{s}_{r}" if sets > 1 else f"acc{r}"

    def load(name: str, base: str, p: str | None, constant: int) -> str:
        """`name` = the `width` elements at base[p + constant]."""
        index = " + ".join(([p] if p is not None else []) + ([str(constant)] if constant or p is None else []))
        if width == 1:
            return f"const {scalar} {name} = {base}[{index}];"
        pointer = base if index == "0" else f"{base} + {index}"
        return f"{vector} {name}; __builtin_memcpy(&{name}, {pointer}, sizeof {name});"

    def chunk(p: str | None, p_offset: int, s: int, depth: int) -> list[str]:
        pad = INDENT * depth
        lines = [pad + load("b0", "b", p, p_offset)]
        for r in range(m):
            lines.append(pad + load(f"a{r}", "a", p, p_offset + r * ars))
            lines.append(f"{pad}{acc(s, r)} += a{r} * b0;")
        return lines

    lines = [
        f"/* C[{m} x 1] {'+' if accumulate else ''}= A[{m} x {k}] B[{k} x 1]: A row stride {ars}, "
        f"C row stride {crs}; dot products in vectors of {width} along k. */",
        f"static inline void {microkernel_name(op)}(const {scalar} *restrict a, "
        f"const {scalar} *restrict b, {scalar} *restrict c) {{",
    ]
    groups = vector_widths(m, width)
    if max(groups) > 1:  # the shuffle masks of _sum_rows
        index = "int64_t" if isinstance(op.element_type, Float64Type) else "int32_t"
        size = width * (8 if isinstance(op.element_type, Float64Type) else 4)
        lines.append(f"{INDENT}typedef {index} mask __attribute__((vector_size({size})));")
    for s in range(sets):
        lines += [f"{INDENT}{vector} {acc(s, r)} = {'0' if width == 1 else '{0}'};" for r in range(m)]
    rounds = chunks - chunks % sets
    if rounds > sets:
        lines.append(f"{INDENT}for (int64_t p = 0; p < {rounds * width}; p += {sets * width}) {{")
        for s in range(sets):
            lines += [f"{INDENT * 2}{{", *chunk("p", s * width, s, 3), f"{INDENT * 2}}}"]
        lines.append(f"{INDENT}}}")
    else:
        rounds = 0
    for j in range(rounds, chunks):
        lines += [f"{INDENT}{{", *chunk(None, j * width, j % sets, 2), f"{INDENT}}}"]
    for r in range(m):
        if sets > 1:
            lines.append(f"{INDENT}{acc(0, r)} += {' + '.join(acc(s, r) for s in range(1, sets))};")
    if main < k:
        lines += [f"{INDENT}{scalar} tail{r} = 0;" for r in range(m)]
        lines.append(f"{INDENT}for (int64_t p = {main}; p < {k}; ++p) {{")
        lines += [f"{INDENT * 2}tail{r} += a[p{f' + {r * ars}' if r * ars else ''}] * b[p];" for r in range(m)]
        lines.append(f"{INDENT}}}")
    first = 0
    for group in groups:
        lines += _sum_rows(op, [acc(0, first + i) for i in range(group)], width, f"g{first}")
        total = f"g{first}"
        for i in range(group):
            row = first + i
            lane = total if group == 1 else f"{total}[{i}]"
            value = f"{lane} + tail{row}" if main < k else lane
            if group > 1 and main == k and crs == 1:
                continue
            lines.append(f"{INDENT}c[{row * crs}] {'+' if accumulate else ''}= {value};")
        if group > 1 and main == k and crs == 1:
            target = f"c + {first}" if first else "c"
            if accumulate:
                lines.append(f"{INDENT}{{ {vector_type_name(op.element_type, group)} old; "
                             f"__builtin_memcpy(&old, {target}, sizeof old); {total} += old; }}")
            lines.append(f"{INDENT}__builtin_memcpy({target}, &{total}, sizeof {total});")
        first += group
    lines.append("}")
    return lines


def _sum_rows(op: c.MicrokernelOp, rows: list[str], width: int, result: str) -> list[str]:
    """Declares `result`, a vector of len(rows) lanes (a scalar for one row)
    whose lane i is the sum of the lanes of the `width`-lane vector rows[i]:
    shuffle rounds over pairs of rows while there are several, then halving."""
    lines, current, block, name = [], list(rows), 1, 0
    while len(current) > 1:
        lo = [(lane // (2 * block)) * 2 * block + lane % block + (width if lane % (2 * block) >= block else 0)
              for lane in range(width)]
        hi = [x + block for x in lo]
        vector = vector_type_name(op.element_type, width)
        lines.append(f"{INDENT}const mask {result}_lo{block} = {{{', '.join(map(str, lo))}}}, "
                     f"{result}_hi{block} = {{{', '.join(map(str, hi))}}};")
        following = []
        for a, b in zip(current[::2], current[1::2]):
            name += 1
            lines.append(f"{INDENT}const {vector} {result}_{name} = "
                         f"__builtin_shuffle({a}, {b}, {result}_lo{block}) + "
                         f"__builtin_shuffle({a}, {b}, {result}_hi{block});")
            following.append(f"{result}_{name}")
        current, block = following, 2 * block
    total, lanes = current[0], width
    while lanes > len(rows):
        lanes //= 2
        half = c_type_name(op.element_type) if lanes == 1 else vector_type_name(op.element_type, lanes)
        name += 1
        lines.append(f"{INDENT}{half} {result}_{name}_lo, {result}_{name}_hi; "
                     f"__builtin_memcpy(&{result}_{name}_lo, &{total}, sizeof {result}_{name}_lo); "
                     f"__builtin_memcpy(&{result}_{name}_hi, (const char *)&{total} + sizeof {result}_{name}_lo, "
                     f"sizeof {result}_{name}_hi);")
        lines.append(f"{INDENT}const {half} {result}_{name} = {result}_{name}_lo + {result}_{name}_hi;")
        total = f"{result}_{name}"
    kind = c_type_name(op.element_type) if len(rows) == 1 else vector_type_name(op.element_type, len(rows))
    lines.append(f"{INDENT}{kind} {result} = {total};")
    return lines


def pack_name(op: c.PackOp) -> str:
    """`gradc_pack_f32_256x128_p8_d1_l1024`: element type, depth x width,
    panel, then the depth and lane strides of the source."""
    v = op.value_of
    return (f"gradc_pack_{op.element_type}_{v('depth')}x{v('width')}_p{v('panel')}_"
            f"d{v('depth_stride')}_l{v('lane_stride')}")


TRANSPOSE_TILE = {"f32": 8, "f64": 4}
"""Edge of the square tile a transposing pack moves through registers."""


def transpose_definition(element: Attribute) -> list[str]:
    """`gradc_transpose_T(src, lds, dst, ldd)`: dst[j * ldd + i] = src[i * lds + j]
    for a T x T tile (8 floats or 4 doubles: one 32-byte vector per row),
    in log2(T) rounds of two-vector shuffles."""
    scalar = c_type_name(element)
    tile = TRANSPOSE_TILE[str(element)]
    vector = vector_type_name(element, tile)
    mask = f"gradc_mask_{element}x{tile}"
    index = "int32_t" if tile == 8 else "int64_t"
    lines = [
        f"typedef {index} {mask} __attribute__((vector_size(32)));",
        f"static inline void gradc_transpose_{element}(const {scalar} *restrict src, int64_t lds, "
        f"{scalar} *restrict dst, int64_t ldd) {{",
    ]
    names = [f"r{i}" for i in range(tile)]
    for i, name in enumerate(names):
        lines.append(f"{INDENT}{vector} {name}; __builtin_memcpy(&{name}, src + {i} * lds, sizeof {name});")
    # Round with distance d: pair rows (i, i + d) and interleave blocks of d
    # elements, so that after all rounds row j holds column j.
    rounds, distance, current = 0, 1, names
    while distance < tile:
        lo = [x for block in range(0, tile, 2 * distance) for x in
              (*range(block, block + distance), *range(tile + block, tile + block + distance))]
        hi = [x + distance for x in lo]
        lines.append(f"{INDENT}const {mask} lo{rounds} = {{{', '.join(map(str, lo))}}}, "
                     f"hi{rounds} = {{{', '.join(map(str, hi))}}};")
        following = [""] * tile
        for group in range(0, tile, 2 * distance):
            for i in range(group, group + distance):
                a, b = current[i], current[i + distance]
                following[i], following[i + distance] = f"t{rounds}_{i}", f"t{rounds}_{i + distance}"
                lines.append(f"{INDENT}const {vector} {following[i]} = __builtin_shuffle({a}, {b}, lo{rounds});")
                lines.append(f"{INDENT}const {vector} {following[i + distance]} = "
                             f"__builtin_shuffle({a}, {b}, hi{rounds});")
        current, distance, rounds = following, 2 * distance, rounds + 1
    for j, name in enumerate(current):
        lines.append(f"{INDENT}__builtin_memcpy(dst + {j} * ldd, &{name}, sizeof {name});")
    lines.append("}")
    return lines


def pack_definition(op: c.PackOp) -> list[str]:
    """The function a `c.pack` calls. Full panels and the narrower last one
    are separate loops. A source that runs along the depth (a transposing
    copy) moves through registers in square tiles (`gradc_transpose_*`),
    each lane a source row read along; a source that runs along the lanes
    is copied row by row, depth outermost, so every source row is read
    along once (gcc vectorizes the copy)."""
    v = op.value_of
    depth, width, panel, ds, ls = (v(x) for x in c.PackOp.PARAMETERS)
    scalar = c_type_name(op.element_type)
    tile = TRANSPOSE_TILE[str(op.element_type)]
    full = width - width % panel
    edge = width - full
    lines = [
        f"/* Panels of {panel} lanes from a {depth} x {width} block (depth stride {ds}, lane stride {ls}): "
        f"dst[(l / {panel}) * {depth * panel} + p * {panel} + l % {panel}] = src[p * {ds} + l * {ls}]. */",
        f"static inline void {pack_name(op)}(const {scalar} *restrict src, {scalar} *restrict dst) {{",
    ]

    def scalar_loops(first_lane: str, lanes: int, depth_outer: bool, pad: str) -> list[str]:
        at_dst = f"dst[{first_lane} * {depth} + p * {panel} + l]"
        at_src = f"src[p * {ds} + ({first_lane} + l) * {ls}]"
        p_loop, l_loop = f"for (int64_t p = 0; p < {depth}; ++p) {{", f"for (int64_t l = 0; l < {lanes}; ++l) {{"
        outer, inner = (p_loop, l_loop) if depth_outer else (l_loop, p_loop)
        return [f"{pad}{outer}", f"{pad}{INDENT}{inner}", f"{pad}{INDENT * 2}{at_dst} = {at_src};",
                f"{pad}{INDENT}}}", f"{pad}}}"]

    transposing = ds == 1 and panel % tile == 0 and depth >= tile
    if full and transposing:
        blocked = depth - depth % tile
        lines += [
            f"{INDENT}for (int64_t q = 0; q < {full}; q += {panel}) {{",
            f"{INDENT * 2}for (int64_t p = 0; p < {blocked}; p += {tile}) {{",
            f"{INDENT * 3}for (int64_t l = 0; l < {panel}; l += {tile}) {{",
            f"{INDENT * 4}gradc_transpose_{op.element_type}(src + (q + l) * {ls} + p, {ls}, "
            f"dst + q * {depth} + p * {panel} + l, {panel});",
            f"{INDENT * 3}}}",
            f"{INDENT * 2}}}",
        ]
        if blocked < depth:
            lines += [
                f"{INDENT * 2}for (int64_t p = {blocked}; p < {depth}; ++p) {{",
                f"{INDENT * 3}for (int64_t l = 0; l < {panel}; ++l) {{",
                f"{INDENT * 4}dst[q * {depth} + p * {panel} + l] = src[p + (q + l) * {ls}];",
                f"{INDENT * 3}}}",
                f"{INDENT * 2}}}",
            ]
        lines.append(f"{INDENT}}}")
    elif full:
        depth_outer = ls == 1
        if depth_outer:  # every source row is read along once, across all panels
            lines += [
                f"{INDENT}for (int64_t p = 0; p < {depth}; ++p) {{",
                f"{INDENT * 2}for (int64_t q = 0; q < {full}; q += {panel}) {{",
                f"{INDENT * 3}for (int64_t l = 0; l < {panel}; ++l) {{",
                f"{INDENT * 4}dst[q * {depth} + p * {panel} + l] = src[p * {ds} + q + l];",
                f"{INDENT * 3}}}",
                f"{INDENT * 2}}}",
                f"{INDENT}}}",
            ]
        else:
            lines.append(f"{INDENT}for (int64_t q = 0; q < {full}; q += {panel}) {{")
            lines += scalar_loops("q", panel, False, INDENT * 2)
            lines.append(f"{INDENT}}}")
    if edge:
        lines += scalar_loops(str(full), edge, ls == 1, INDENT)
    lines.append("}")
    return lines


def vector_type_definition(element: Attribute, lanes: int) -> list[str]:
    scalar, vector = c_type_name(element), vector_type_name(element, lanes)
    size = lanes * (8 if isinstance(element, Float64Type) else 4)
    return [f"typedef {scalar} {vector} __attribute__((vector_size({size})));"]



def helper_definitions(funcs: list[c.FuncOp]) -> tuple[list[str], set[str]]:
    """Definitions of every vector type and micro-kernel the functions use,
    in order of first use, and their names."""
    types: dict[str, list[str]] = {}
    kernels: dict[str, list[str]] = {}
    sites: dict[str, int] = {}
    for func in funcs:
        for op in func.walk():
            if isinstance(op, c.PackOp):
                tile = TRANSPOSE_TILE[str(op.element_type)]
                types.setdefault(vector_type_name(op.element_type, tile),
                                 vector_type_definition(op.element_type, tile))
                kernels.setdefault(f"gradc_transpose_{op.element_type}", transpose_definition(op.element_type))
                kernels.setdefault(pack_name(op), pack_definition(op))
                sites[pack_name(op)] = sites.get(pack_name(op), 0) + 1
            if isinstance(op, c.MicrokernelOp):
                for width in kernel_vector_widths(op):
                    types.setdefault(vector_type_name(op.element_type, width),
                                     vector_type_definition(op.element_type, width))
                kernels.setdefault(microkernel_name(op), microkernel_definition(op))
                sites[microkernel_name(op)] = sites.get(microkernel_name(op), 0) + 1
            if isinstance(op, c.LinalgOp):
                kernels.setdefault(dot_name(op.element_type), dot_definition(op.element_type))
                kernels.setdefault(linalg_name(op), linalg_definition(op))
            if isinstance(op, c.ThreadNumOp):
                kernels.setdefault(THREAD_NUM, thread_num_definition())
    lines: list[str] = []
    if types:
        lines += ["", *(line for definition in types.values() for line in definition)]
    for name, definition in kernels.items():
        if sites.get(name, 0) > INLINE_SITES:
            definition = [line.replace(f"static inline void {name}(", f"{NOINLINE} void {name}(", 1)
                          for line in definition]
        lines += ["", *definition]
    masks = {f"gradc_mask_{name.split('_', 1)[1]}" for name in types}
    return lines, {*types, *kernels, *masks}
