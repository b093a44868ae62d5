"""Graph colorings that compress sparse Jacobians and Hessians, and the
indices that read each nonzero back out of the compressed product.

Expects: a sparsity pattern as (rows, cols, shape) with int64 index arrays
in row-major (CSR) order, unique entries; for Hessians a symmetric n x n
pattern (both triangles, diagonal optional).

Guarantees: `color_columns` gives columns that share a row different colors
(partial distance-2 coloring), so every nonzero J[i, j] is alone in its
color group of row i of B = J @ S; `color_rows` the same for rows and
B = S^T @ J; `star_coloring` a distance-1 coloring in which every path on
four vertices has at least three colors, so every H[i, j] stands alone in
B[i, colors[j]] or in B[j, colors[i]] of B = H @ S; `acyclic_coloring`
one in which any two colors induce a forest, often with fewer colors, read
back by substitution. The direct recovery functions give, per nonzero in
pattern order, its flat (row-major) index into B; `acyclic_recovery` a
static substitution plan.

Colors are 0 .. C-1, deterministic for a given pattern: each coloring is a
greedy one, run under a few vertex orderings (natural, largest-first,
smallest-last, and for columns and rows also DSATUR), keeping the first
with the fewest colors; it stops early when a cheap lower bound is met.
Pure NumPy and Python, no IR.

Cost: the column (row) coloring builds the column (row) intersection graph,
the sum over rows (columns) of their squared length; the star and acyclic
colorings visit, per vertex, the colors around each neighbour. Step-count
guards (GRAPH_PAIRS, WORK) bound memory and time on near-dense patterns,
falling back to cheaper, still valid colorings. Background, choices and
measured times: docs/coloring.md.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import numpy as np

Adjacency = tuple[list[int], list[int]]  # CSR indptr, indices; no self loops


def color_columns(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Colors of the columns of an M x N pattern such that two columns with
    a nonzero in the same row differ (CPR compression, B = J @ S)."""
    rows, cols = _indices(rows, cols, shape)
    return _color_intersection(rows, cols, shape[0], shape[1])


def color_rows(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Colors of the rows of an M x N pattern such that two rows with a
    nonzero in the same column differ (B = S^T @ J)."""
    rows, cols = _indices(rows, cols, shape)
    return _color_intersection(cols, rows, shape[1], shape[0])


def star_coloring(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Star coloring of the n-vertex graph of a symmetric n x n pattern
    (diagonal entries ignored; the pattern is symmetrized defensively)."""
    return _color_symmetric(rows, cols, n, _star_greedy, _star_lower_bound)


def acyclic_coloring(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Acyclic coloring of the graph of a symmetric n x n pattern: a
    distance-1 coloring in which every two colors induce a forest. Every
    star coloring is acyclic, so the optimum is never larger; the greedy
    one here usually is smaller (a path: 2 against 3), but the entries come
    out by substitution (`acyclic_recovery`)."""
    return _color_symmetric(rows, cols, n, _acyclic_greedy, _forest_lower_bound)


def column_recovery(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], colors: np.ndarray
) -> np.ndarray:
    """Per nonzero k, its flat index rows[k] * C + colors[cols[k]] into the
    row-major M x C matrix B = J @ S."""
    rows, cols = _indices(rows, cols, shape)
    return rows * _count(colors) + np.asarray(colors, dtype=np.int64)[cols]


def row_recovery(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], colors: np.ndarray
) -> np.ndarray:
    """Per nonzero k, its flat index colors[rows[k]] * N + cols[k] into the
    row-major C x N matrix B = S^T @ J."""
    rows, cols = _indices(rows, cols, shape)
    return np.asarray(colors, dtype=np.int64)[rows] * shape[1] + cols


def star_recovery(rows: np.ndarray, cols: np.ndarray, n: int, colors: np.ndarray) -> np.ndarray:
    """Per nonzero k = (i, j), its flat index into the row-major n x C
    matrix B = H @ S; with (l, h) = (min, max)(i, j): l * C + colors[h] when
    colors[h] occurs once in the closed neighbourhood of l, else
    h * C + colors[l] (a star coloring guarantees that one of the two holds;
    ValueError if neither does). (i, j) and (j, i) get the same index."""
    rows, cols = _indices(rows, cols, (n, n))
    colors = np.asarray(colors, dtype=np.int64)
    width = _count(colors)
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    # How often each color occurs around each vertex, itself included.
    off = rows != cols
    edges = _sorted_unique(np.concatenate([rows[off] * n + cols[off], cols[off] * n + rows[off]]))
    heads, tails = np.divmod(edges, n)
    keys, counts = np.unique(
        np.concatenate([heads * width + colors[tails], np.arange(n) * width + colors]), return_counts=True
    )
    # Each pair {i, j} is decided once, from (min, max), so H[i, j] and
    # H[j, i] are read from one entry: the result is exactly symmetric.
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    alone_in_lo = counts[np.searchsorted(keys, lo * width + colors[hi])] == 1
    alone_in_hi = counts[np.searchsorted(keys, hi * width + colors[lo])] == 1
    if not np.all(alone_in_lo | alone_in_hi):
        raise ValueError("star_recovery: the colors are not a star coloring of the pattern")
    return np.where(alone_in_lo, lo * width + colors[hi], hi * width + colors[lo])


def acyclic_recovery(
    rows: np.ndarray, cols: np.ndarray, n: int, colors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A substitution plan reading H's nonzeros out of the row-major n x C
    matrix B = H @ S: (order, source, dep_ptr, deps). Taking the nonzeros k
    in `order`, value[k] = B.flat[source[k]] - sum(value[q] for q in
    deps[dep_ptr[k]:dep_ptr[k + 1]]); every such q comes earlier in `order`.
    Each tree of two colors is peeled from its leaves: a leaf u with its
    last neighbour p left gives H[u, p] = B[u, colors[p]] minus the entries
    of u's other neighbours in the tree, all recovered before. ValueError
    if the colors are not an acyclic coloring of the pattern."""
    rows, cols = _indices(rows, cols, (n, n))
    colors = np.asarray(colors, dtype=np.int64)
    width = _count(colors)
    keys = rows * n + cols
    if keys.size > 1 and np.any(keys[1:] <= keys[:-1]):
        raise ValueError("acyclic_recovery: the pattern is not in CSR order with unique entries")
    where = dict(zip(keys.tolist(), range(keys.size)))
    source = np.full(keys.size, -1, dtype=np.int64)
    deps: list[list[int]] = [[] for _ in range(keys.size)]
    order: list[int] = []
    for k in np.flatnonzero(rows == cols).tolist():
        source[k] = rows[k] * width + colors[rows[k]]
        order.append(k)
    off = rows != cols
    edges = _sorted_unique(np.minimum(rows[off], cols[off]) * n + np.maximum(rows[off], cols[off]))
    low, high = np.divmod(edges, max(n, 1))
    if np.any(colors[low] == colors[high]):
        raise ValueError("acyclic_recovery: two neighbours share a color")
    pair = np.minimum(colors[low], colors[high]) * width + np.maximum(colors[low], colors[high])
    by_pair = np.argsort(pair, kind="stable")
    bounds = np.flatnonzero(np.diff(pair[by_pair])) + 1
    color_list = colors.tolist()

    def entries(u: int, w: int) -> list[int]:
        return [k for k in (where.get(u * n + w), where.get(w * n + u)) if k is not None]

    for group in np.split(by_pair, bounds) if edges.size else []:
        tree: dict[int, list[int]] = {}
        for u, w in zip(low[group].tolist(), high[group].tolist()):
            tree.setdefault(u, []).append(w)
            tree.setdefault(w, []).append(u)
        left = {u: len(ws) for u, ws in tree.items()}
        done: set[tuple[int, int]] = set()
        leaves = sorted(u for u, d in left.items() if d == 1)
        while leaves:
            u = leaves.pop()
            if left[u] != 1:
                continue
            p = next(w for w in tree[u] if (min(u, w), max(u, w)) not in done)
            others = [q for w in tree[u] if w != p for q in entries(u, w)[:1]]
            for k in entries(u, p):
                source[k] = u * width + color_list[p]
                deps[k] = others
                order.append(k)
            done.add((min(u, p), max(u, p)))
            left[u] = 0
            left[p] -= 1
            if left[p] == 1:
                leaves.append(p)
        if len(done) != len(group):
            raise ValueError("acyclic_recovery: two colors form a cycle, the colors are not acyclic")
    dep_ptr = np.zeros(keys.size + 1, dtype=np.int64)
    np.cumsum([len(d) for d in deps], out=dep_ptr[1:])
    flat = np.asarray([q for d in deps for q in d], dtype=np.int64)
    return np.asarray(order, dtype=np.int64), source, dep_ptr, flat


def seed_matrix(colors: np.ndarray, n: int) -> np.ndarray:
    """The n x C seed matrix S with S[j, colors[j]] = 1, zero elsewhere."""
    colors = np.asarray(colors, dtype=np.int64)
    seed = np.zeros((n, _count(colors)))
    seed[np.arange(n), colors] = 1.0
    return seed


def _symmetric_graph(rows: np.ndarray, cols: np.ndarray, n: int) -> tuple[Adjacency, np.ndarray]:
    """The adjacency (no self loops, both directions) of a square pattern,
    and its degrees."""
    rows, cols = _indices(rows, cols, (n, n))
    off = rows != cols
    graph = _adjacency(np.concatenate([rows[off], cols[off]]), np.concatenate([cols[off], rows[off]]), n)
    return graph, np.diff(np.asarray(graph[0], dtype=np.int64))


def _color_symmetric(
    rows: np.ndarray,
    cols: np.ndarray,
    n: int,
    greedy: Callable[[Adjacency, list[int], int, list[int]], list[int]],
    lower_bound: Callable[[Adjacency, np.ndarray], int],
) -> np.ndarray:
    graph, degrees = _symmetric_graph(rows, cols, n)
    if n and int(degrees.min()) == n - 1:
        return np.arange(n, dtype=np.int64)  # a complete graph
    spent = [0]  # steps, shared by the orderings
    orders = (_natural, _largest_first, _smallest_last)
    candidates = [lambda order=order: greedy(graph, order(degrees, graph), n, spent) for order in orders]
    return _best(candidates, lower_bound(graph, degrees), n)


def _indices(rows: np.ndarray, cols: np.ndarray, shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    cols = np.asarray(cols, dtype=np.int64).reshape(-1)
    if rows.shape != cols.shape:
        raise ValueError(f"pattern: {rows.size} row indices but {cols.size} column indices")
    if rows.size and (rows.min() < 0 or rows.max() >= shape[0] or cols.min() < 0 or cols.max() >= shape[1]):
        raise ValueError(f"pattern: an index lies outside the shape {tuple(shape)}")
    return rows, cols


def _count(colors: np.ndarray) -> int:
    colors = np.asarray(colors)
    return int(colors.max()) + 1 if colors.size else 0


GRAPH_PAIRS = 4_000_000
"""Above this many (member, member) pairs the column (row) coloring does
not build the intersection graph (memory) and colors in natural order only."""
WORK = 20_000_000
"""Above this many steps of its greedy loops (a few seconds of Python) a
coloring keeps the best it has finished, or returns one color per vertex
(always valid)."""


class _OverBudget(Exception):
    """A greedy coloring passed WORK steps."""


def _color_intersection(groups: np.ndarray, members: np.ndarray, n_groups: int, n: int) -> np.ndarray:
    """Distance-1 coloring of the graph on `members` (0 .. n-1) joining two
    members that appear in the same group: one row (column) of the pattern."""
    order = np.lexsort((members, groups))
    groups, members = groups[order], members[order]
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=starts[1:])
    lengths = starts[1:] - starts[:-1]
    bound = int(lengths.max()) if lengths.size else 0
    pairs = int(np.sum(lengths * lengths))
    if bound >= n or pairs > WORK:
        return np.arange(n, dtype=np.int64)  # optimal when a group holds every member
    if pairs > GRAPH_PAIRS:
        return np.asarray(_group_greedy(groups, members, starts, n), dtype=np.int64)
    # Every ordered pair (member, other member of its group).
    repeats = lengths[groups]
    first = np.repeat(members, repeats)
    offsets = np.arange(first.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    second = members[np.repeat(starts[groups], repeats) + offsets]
    keep = first != second
    graph = _adjacency(first[keep], second[keep], n)
    degrees = np.diff(np.asarray(graph[0], dtype=np.int64))
    candidates = [
        lambda: _greedy(graph, _natural(degrees, graph), n),
        lambda: _saturation_greedy(graph, degrees),
        lambda: _greedy(graph, _largest_first(degrees, graph), n),
        lambda: _greedy(graph, _smallest_last(degrees, graph), n),
    ]
    return _best(candidates, max(bound, 1 if n else 0), n)


def _group_greedy(groups: np.ndarray, members: np.ndarray, starts: np.ndarray, n: int) -> list[int]:
    """First-fit in natural order straight from the groups, without the
    intersection graph: memory of the pattern, time of the pairs."""
    by_member = np.lexsort((groups, members))
    member_starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(members, minlength=n), out=member_starts[1:])
    groups_of = groups[by_member].tolist()
    member_list, start_list, member_start_list = members.tolist(), starts.tolist(), member_starts.tolist()
    color = [-1] * n
    forbidden = [-1] * (n + 1)
    for v in range(n):
        for g in groups_of[member_start_list[v] : member_start_list[v + 1]]:
            _forbid_neighbours(member_list[start_list[g] : start_list[g + 1]], v, color, forbidden)
        color[v] = _least_allowed(v, forbidden)
    return color


def _adjacency(first: np.ndarray, second: np.ndarray, n: int) -> Adjacency:
    """CSR adjacency of the edges first[k] -> second[k], duplicates merged."""
    keys = _sorted_unique(first * max(n, 1) + second)
    heads, tails = np.divmod(keys, max(n, 1))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(heads, minlength=n), out=indptr[1:])
    return indptr.tolist(), tails.tolist()


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """np.unique by sorting (NumPy 2's hash-based np.unique is several
    times slower on the million-key arrays a pattern of 10^5 rows gives)."""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def _best(candidates: Sequence[Callable[[], list[int]]], bound: int, n: int) -> np.ndarray:
    """The coloring with the fewest colors over the candidates, the first
    such; stops as soon as one meets the lower bound, or when one passes
    the work budget (one color per vertex if none finished)."""
    best: list[int] | None = None
    for candidate in candidates:
        try:
            colors = candidate()
        except _OverBudget:
            break
        if best is None or max(colors, default=-1) < max(best, default=-1):
            best = colors
        if max(best, default=-1) + 1 <= bound:
            break
    return np.arange(n, dtype=np.int64) if best is None else np.asarray(best, dtype=np.int64)


def _natural(degrees: np.ndarray, graph: Adjacency) -> list[int]:
    return list(range(degrees.size))


def _largest_first(degrees: np.ndarray, graph: Adjacency) -> list[int]:
    return np.argsort(-degrees, kind="stable").tolist()


def _smallest_last(degrees: np.ndarray, graph: Adjacency) -> list[int]:
    """Repeatedly remove a vertex of least remaining degree (lowest index on
    ties); color in the reverse order of removal."""
    indptr, indices = graph
    remaining = degrees.tolist()
    heap = [(d, v) for v, d in enumerate(remaining)]
    heapq.heapify(heap)
    removed = [False] * len(remaining)
    order: list[int] = []
    while heap:
        d, v = heapq.heappop(heap)
        if removed[v] or d != remaining[v]:
            continue
        removed[v] = True
        order.append(v)
        for w in indices[indptr[v] : indptr[v + 1]]:
            if not removed[w]:
                remaining[w] -= 1
                heapq.heappush(heap, (remaining[w], w))
    order.reverse()
    return order


def _greedy(graph: Adjacency, order: list[int], n: int) -> list[int]:
    """First-fit distance-1 coloring in the given order."""
    indptr, indices = graph
    color = [-1] * n
    forbidden = [-1] * (n + 1)
    for v in order:
        color[v] = _first_fit(indices[indptr[v] : indptr[v + 1]], v, color, forbidden)
    return color


def _first_fit(neighbours: list[int], v: int, color: list[int], forbidden: list[int]) -> int:
    """The least color no colored neighbour of v has (`forbidden[c] == v`
    marks color c as taken for v)."""
    _forbid_neighbours(neighbours, v, color, forbidden)
    return _least_allowed(v, forbidden)


def _forbid_neighbours(neighbours: list[int], v: int, color: list[int], forbidden: list[int]) -> None:
    for w in neighbours:
        c = color[w]
        if c >= 0:
            forbidden[c] = v


def _least_allowed(v: int, forbidden: list[int]) -> int:
    c = 0
    while forbidden[c] == v:
        c += 1
    return c


def _saturation_greedy(graph: Adjacency, degrees: np.ndarray) -> list[int]:
    """First-fit distance-1 coloring in DSATUR order: next the uncolored
    vertex with the most distinct colors around it, then the highest
    degree, then the lowest index."""
    indptr, indices = graph
    n = degrees.size
    degree = degrees.tolist()
    color = [-1] * n
    forbidden = [-1] * (n + 1)
    saturation = [0] * n
    seen: set[int] = set()  # w * n + c: w has a neighbour colored c
    heap = [(0, -d, v) for v, d in enumerate(degree)]
    heapq.heapify(heap)
    while heap:
        minus_saturation, _, v = heapq.heappop(heap)
        if color[v] >= 0 or -minus_saturation != saturation[v]:
            continue
        neighbours = indices[indptr[v] : indptr[v + 1]]
        c = color[v] = _first_fit(neighbours, v, color, forbidden)
        for w in neighbours:
            key = w * n + c
            if color[w] < 0 and key not in seen:
                seen.add(key)
                saturation[w] += 1
                heapq.heappush(heap, (-saturation[w], -degree[w], w))
    return color


def _star_greedy(graph: Adjacency, order: list[int], n: int, spent: list[int]) -> list[int]:
    """First-fit star coloring in the given order.

    Coloring v with c must not close a two-colored path on four vertices
    among colored ones: v-w-x-y (v an end: c = color x, and x has a second
    neighbour y colored like w) or a-v-w-x (v inside: v has two neighbours
    a, w of w's color, and c = color x). Checking every new vertex this way
    checks every path when its last vertex is colored. Per vertex w the
    colors around it are kept with their count and the sum of the vertices
    carrying them (the vertex itself when the count is one): a color met
    twice around w makes w the center of a star, so no path runs through it.
    """
    indptr, indices = graph
    color = [-1] * n
    forbidden = [-1] * (n + 1)
    count: dict[int, int] = {}  # w * n + a -> colored neighbours of w with color a
    carrier: dict[int, int] = {}  # w * n + a -> sum of those neighbours
    palette: list[list[int]] = [[] for _ in range(n)]  # colors around w
    for v in order:
        neighbours = indices[indptr[v] : indptr[v + 1]]
        _forbid_neighbours(neighbours, v, color, forbidden)
        spent[0] += len(neighbours)
        for w in neighbours:
            b = color[w]
            if b < 0:
                continue
            spent[0] += len(palette[w])
            inside = count.get(v * n + b, 0) >= 2
            base = w * n
            for a in palette[w]:
                if forbidden[a] == v:
                    continue
                if inside:
                    forbidden[a] = v
                elif count[base + a] == 1 and count.get(carrier[base + a] * n + b, 0) >= 2:
                    forbidden[a] = v
        if spent[0] > WORK:
            raise _OverBudget
        c = color[v] = _least_allowed(v, forbidden)
        for w in neighbours:
            key = w * n + c
            if key in count:
                count[key] += 1
                carrier[key] += v
            else:
                count[key] = 1
                carrier[key] = v
                palette[w].append(c)
    return color


def _acyclic_greedy(graph: Adjacency, order: list[int], n: int, spent: list[int]) -> list[int]:
    """First-fit acyclic coloring in the given order.

    Coloring v with c closes a two-colored cycle exactly when two
    neighbours of v share a color b and lie in one tree of the {b, c}
    subgraph. The trees are kept in a union-find over the keys x * n + b
    (vertex x inside the subgraph of its own color and b); the colors
    around each vertex are kept so that only trees with an edge are asked.
    """
    indptr, indices = graph
    color = [-1] * n
    forbidden = [-1] * (n + 1)
    parent: dict[int, int] = {}
    around: set[int] = set()  # w * n + c: w has a neighbour colored c
    palette: list[list[int]] = [[] for _ in range(n)]

    def find(key: int) -> int:
        root = key
        while parent.get(root, root) != root:
            root = parent[root]
        while key != root:
            parent[key], key = root, parent[key]
        return root

    for v in order:
        neighbours = indices[indptr[v] : indptr[v + 1]]
        _forbid_neighbours(neighbours, v, color, forbidden)
        groups: dict[int, list[int]] = {}
        for w in neighbours:
            if color[w] >= 0:
                groups.setdefault(color[w], []).append(w)
        spent[0] += len(neighbours)
        for members in groups.values():
            if len(members) < 2:
                continue
            roots: set[int] = set()
            for w in members:
                spent[0] += 4 * len(palette[w])  # a union-find look-up each
                for c in palette[w]:
                    if forbidden[c] == v:
                        continue
                    root = find(w * n + c)
                    if root in roots:
                        forbidden[c] = v
                    roots.add(root)
        if spent[0] > WORK:
            raise _OverBudget
        c = color[v] = _least_allowed(v, forbidden)
        for w in neighbours:
            b = color[w]
            if b >= 0:
                first, second = find(v * n + b), find(w * n + c)
                if first != second:
                    parent[first] = second
            if w * n + c not in around:
                around.add(w * n + c)
                palette[w].append(c)
            if b >= 0 and v * n + b not in around:
                around.add(v * n + b)
                palette[v].append(b)
    return color


def _forest_lower_bound(graph: Adjacency, degrees: np.ndarray) -> int:
    """0 without vertices, 1 without edges, else 2."""
    return 0 if degrees.size == 0 else 1 if not graph[1] else 2


def _star_lower_bound(graph: Adjacency, degrees: np.ndarray) -> int:
    """1 without edges, 2 with edges, 3 once some path on four vertices or
    a triangle exists (an edge whose two ends both have other neighbours)."""
    indptr, indices = graph
    if degrees.size == 0:
        return 0
    if not len(indices):
        return 1
    heads = np.repeat(np.arange(degrees.size), degrees)
    tails = np.asarray(indices, dtype=np.int64)
    return 3 if np.any((degrees[heads] >= 2) & (degrees[tails] >= 2)) else 2
