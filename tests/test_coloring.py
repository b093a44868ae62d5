"""gradc.support.coloring: every coloring is checked by a validator written
here with plain loops over the pattern, and every recovery by compressing a
random matrix with that pattern in NumPy and reading each entry back.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradc.support.coloring import (
    acyclic_coloring,
    acyclic_recovery,
    color_columns,
    color_rows,
    column_recovery,
    row_recovery,
    seed_matrix,
    star_coloring,
    star_recovery,
)


def csr(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(mask)  # row-major order
    return rows.astype(np.int64), cols.astype(np.int64)


def random_mask(seed: int, m: int, n: int, density: float) -> np.ndarray:
    return np.random.default_rng(seed).random((m, n)) < density


def random_symmetric_mask(seed: int, n: int, density: float, diagonal: bool) -> np.ndarray:
    upper = np.triu(random_mask(seed, n, n, density), 1)
    mask = upper | upper.T
    np.fill_diagonal(mask, diagonal)
    return mask


def banded_mask(n: int, half: int) -> np.ndarray:
    i, j = np.indices((n, n))
    return np.abs(i - j) <= half


def arrow_mask(n: int) -> np.ndarray:
    mask = np.eye(n, dtype=bool)
    mask[0, :] = mask[:, 0] = True
    return mask


# Independent validators: plain loops over the pattern.


def valid_column_coloring(mask: np.ndarray, colors: np.ndarray) -> bool:
    m, n = mask.shape
    if colors.shape != (n,) or (n and (colors.min() < 0 or set(colors.tolist()) != set(range(colors.max() + 1)))):
        return False
    for i in range(m):
        seen = set()
        for j in range(n):
            if mask[i, j]:
                if colors[j] in seen:
                    return False
                seen.add(colors[j])
    return True


def valid_star_coloring(mask: np.ndarray, colors: np.ndarray) -> bool:
    n = mask.shape[0]
    neighbours = [[j for j in range(n) if j != i and (mask[i, j] or mask[j, i])] for i in range(n)]
    for i in range(n):
        for j in neighbours[i]:
            if colors[i] == colors[j]:
                return False
    for a in range(n):  # every path a-b-c-d on four distinct vertices
        for b in neighbours[a]:
            for c in neighbours[b]:
                if c == a:
                    continue
                for d in neighbours[c]:
                    if d in (a, b):
                        continue
                    if len({colors[a], colors[b], colors[c], colors[d]}) < 3:
                        return False
    return True


def valid_acyclic_coloring(mask: np.ndarray, colors: np.ndarray) -> bool:
    """Distance-1 valid, and the edges between any two colors have no cycle
    (union-find per pair of colors: an edge joining one tree is a cycle)."""
    n = mask.shape[0]
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if mask[i, j] or mask[j, i]]
    if any(colors[i] == colors[j] for i, j in edges):
        return False
    for a, b in itertools.combinations(sorted(set(colors.tolist())), 2):
        parent = list(range(n))

        def root(x: int) -> int:
            while parent[x] != x:
                x = parent[x]
            return x

        for i, j in edges:
            if {colors[i], colors[j]} == {a, b}:
                ri, rj = root(i), root(j)
                if ri == rj:
                    return False
                parent[ri] = rj
    return True


def random_symmetric_matrix(mask: np.ndarray, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).standard_normal(mask.shape)
    return np.where(mask, values + values.T, 0.0)


def check_column_compression(mask: np.ndarray, seed: int) -> int:
    rows, cols = csr(mask)
    colors = color_columns(rows, cols, mask.shape)
    assert valid_column_coloring(mask, colors)
    jac = np.where(mask, np.random.default_rng(seed).standard_normal(mask.shape), 0.0)
    compressed = jac @ seed_matrix(colors, mask.shape[1])
    recovered = compressed.reshape(-1)[column_recovery(rows, cols, mask.shape, colors)]
    assert np.array_equal(recovered, jac[rows, cols])
    return int(colors.max()) + 1 if colors.size else 0


def check_row_compression(mask: np.ndarray, seed: int) -> int:
    rows, cols = csr(mask)
    colors = color_rows(rows, cols, mask.shape)
    assert valid_column_coloring(mask.T, colors)
    jac = np.where(mask, np.random.default_rng(seed).standard_normal(mask.shape), 0.0)
    compressed = seed_matrix(colors, mask.shape[0]).T @ jac
    recovered = compressed.reshape(-1)[row_recovery(rows, cols, mask.shape, colors)]
    assert np.array_equal(recovered, jac[rows, cols])
    return int(colors.max()) + 1 if colors.size else 0


def check_star_compression(mask: np.ndarray, seed: int) -> int:
    n = mask.shape[0]
    rows, cols = csr(mask)
    colors = star_coloring(rows, cols, n)
    assert colors.shape == (n,)
    assert valid_star_coloring(mask, colors)
    hess = random_symmetric_matrix(mask, seed)
    compressed = hess @ seed_matrix(colors, n)
    recovered = compressed.reshape(-1)[star_recovery(rows, cols, n, colors)]
    assert np.array_equal(recovered, hess[rows, cols])
    return int(colors.max()) + 1 if colors.size else 0


def check_acyclic_compression(mask: np.ndarray, seed: int) -> int:
    n = mask.shape[0]
    rows, cols = csr(mask)
    colors = acyclic_coloring(rows, cols, n)
    assert colors.shape == (n,)
    assert valid_acyclic_coloring(mask, colors)
    hess = random_symmetric_matrix(mask, seed)
    compressed = (hess @ seed_matrix(colors, n)).reshape(-1)
    order, source, dep_ptr, deps = acyclic_recovery(rows, cols, n, colors)
    assert sorted(order.tolist()) == list(range(rows.size))
    recovered = np.full(rows.size, np.nan)
    for k in order:
        recovered[k] = compressed[source[k]] - sum(recovered[q] for q in deps[dep_ptr[k] : dep_ptr[k + 1]])
    np.testing.assert_allclose(recovered, hess[rows, cols], rtol=0, atol=1e-12 * max(1.0, np.abs(hess).sum()))
    return int(colors.max()) + 1 if colors.size else 0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.sampled_from([0.0, 0.1, 0.3, 0.6, 1.0]),
    st.integers(0, 2**32 - 1),
)
def test_random_jacobian_patterns_compress_and_recover(m: int, n: int, density: float, seed: int) -> None:
    mask = random_mask(seed, m, n, density)
    check_column_compression(mask, seed)
    check_row_compression(mask, seed)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_random_hessian_patterns_star_color_and_recover(n: int, density: float, diagonal: bool, seed: int) -> None:
    mask = random_symmetric_mask(seed, n, density, diagonal)
    check_star_compression(mask, seed)
    check_acyclic_compression(mask, seed)


@pytest.mark.parametrize("n", [1, 2, 5, 12, 40])
def test_dense_patterns_need_one_color_per_column(n: int) -> None:
    mask = np.ones((n, n), dtype=bool)
    assert check_column_compression(mask, n) == n
    assert check_row_compression(mask, n) == n
    if n <= 12:  # the path validator is quartic
        assert check_star_compression(mask, n) == n
        assert check_acyclic_compression(mask, n) == n


@pytest.mark.parametrize("n", [1, 7, 30])
def test_diagonal_needs_one_color(n: int) -> None:
    mask = np.eye(n, dtype=bool)
    assert check_column_compression(mask, 0) == 1
    assert check_row_compression(mask, 0) == 1
    assert check_star_compression(mask, 0) == 1
    assert check_acyclic_compression(mask, 0) == 1


@pytest.mark.parametrize("n", [4, 9, 50])
def test_tridiagonal_needs_three_colors(n: int) -> None:
    mask = banded_mask(n, 1)
    assert check_column_compression(mask, n) == 3
    assert check_row_compression(mask, n) == 3
    assert check_star_compression(mask, n) == 3
    assert check_acyclic_compression(mask, n) == 2  # a path: two colors, no cycle


@pytest.mark.parametrize(("n", "half"), [(12, 2), (30, 3), (40, 5)])
def test_banded_needs_two_b_plus_one_column_colors(n: int, half: int) -> None:
    mask = banded_mask(n, half)
    assert check_column_compression(mask, n) == 2 * half + 1
    assert check_row_compression(mask, n) == 2 * half + 1
    check_star_compression(mask, n)


@pytest.mark.parametrize("n", [3, 8, 25])
def test_arrow_needs_n_column_colors_and_two_star_colors(n: int) -> None:
    mask = arrow_mask(n)
    assert check_column_compression(mask, n) == n
    assert check_star_compression(mask, n) == 2


@pytest.mark.parametrize("seed", range(6))
def test_sparse_random_hessians_of_forty_vertices(seed: int) -> None:
    check_star_compression(random_symmetric_mask(seed, 40, 0.08, seed % 2 == 0), seed)
    check_acyclic_compression(random_symmetric_mask(seed, 40, 0.08, seed % 2 == 0), seed)
    check_column_compression(random_mask(seed, 40, 50, 0.06), seed)


def five_point_mask(side: int) -> np.ndarray:
    """The 2-D five-point Laplacian's pattern on a side x side grid."""
    n = side * side
    mask = np.eye(n, dtype=bool)
    for k in range(n):
        i, j = divmod(k, side)
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            if 0 <= i + di < side and 0 <= j + dj < side:
                mask[k, (i + di) * side + j + dj] = True
    return mask


def test_five_point_grid_needs_five_column_colors() -> None:
    # No greedy order among natural, largest-first and smallest-last finds
    # the optimum (5, the longest row) on this grid; the saturation order does.
    assert check_column_compression(five_point_mask(12), 12) == 5


def test_empty_rows_and_columns_and_empty_pattern() -> None:
    mask = np.zeros((4, 6), dtype=bool)
    mask[1, [0, 3]] = mask[3, [3, 5]] = True
    assert check_column_compression(mask, 1) == 2
    assert check_row_compression(mask, 1) == 2
    empty = np.zeros((3, 5), dtype=bool)
    assert check_column_compression(empty, 0) == 1
    assert check_row_compression(empty, 0) == 1
    assert check_star_compression(np.zeros((4, 4), dtype=bool), 0) == 1


def test_patterns_past_the_graph_size_color_from_the_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradc.support import coloring

    monkeypatch.setattr(coloring, "GRAPH_PAIRS", 10)
    for seed in range(4):
        check_column_compression(random_mask(seed, 20, 25, 0.15), seed)
        check_row_compression(random_mask(seed, 20, 25, 0.15), seed)
    assert check_column_compression(banded_mask(30, 2), 0) == 5


def test_colorings_past_the_work_budget_fall_back_to_one_color_each(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradc.support import coloring

    monkeypatch.setattr(coloring, "WORK", 30)
    mask = random_symmetric_mask(5, 25, 0.3, True)
    assert check_column_compression(mask, 5) == 25
    assert check_star_compression(mask, 5) == 25
    assert check_acyclic_compression(mask, 5) == 25


def test_colorings_are_deterministic() -> None:
    mask = random_mask(3, 30, 30, 0.15)
    rows, cols = csr(mask)
    symmetric = csr(random_symmetric_mask(3, 30, 0.15, True))
    for coloring in (
        lambda: color_columns(rows, cols, (30, 30)),
        lambda: color_rows(rows, cols, (30, 30)),
        lambda: star_coloring(*symmetric, 30),
        lambda: acyclic_coloring(*symmetric, 30),
    ):
        assert np.array_equal(coloring(), coloring())


def test_acyclic_recovery_rejects_a_two_colored_cycle() -> None:
    cycle = np.zeros((4, 4), dtype=bool)
    for i in range(4):
        cycle[i, (i + 1) % 4] = cycle[(i + 1) % 4, i] = True
    rows, cols = csr(cycle)
    with pytest.raises(ValueError, match="cycle"):
        acyclic_recovery(rows, cols, 4, np.array([0, 1, 0, 1]))
    assert check_acyclic_compression(cycle, 4) == 3


def test_star_recovery_rejects_a_distance_one_coloring_that_is_not_star() -> None:
    mask = banded_mask(4, 1)  # the path 0-1-2-3 with colors 0 1 0 1
    rows, cols = csr(mask)
    with pytest.raises(ValueError, match="not a star coloring"):
        star_recovery(rows, cols, 4, np.array([0, 1, 0, 1]))


def test_large_banded_patterns_color_like_small_ones() -> None:
    n = 20_000
    i = np.arange(n)
    rows = np.repeat(i, 3)[1:-1]
    cols = (np.repeat(i, 3) + np.tile([-1, 0, 1], n))[1:-1]
    colors = color_columns(rows, cols, (n, n))
    assert colors.max() + 1 == 3
    expected = list(itertools.islice(itertools.cycle([0, 1, 2]), n))
    assert colors.tolist() == expected  # natural order meets the bound: j mod 3
    assert star_coloring(rows, cols, n).max() + 1 == 3
