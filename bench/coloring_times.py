"""Compile-time cost of gradc.support.coloring (not a `make bench` workload:
no peer, a one-off per compilation): `python bench/coloring_times.py`
prints, per pattern, the seconds (minimum of three) and colors of each
coloring and of the acyclic substitution plan. The figures are in
docs/coloring.md."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from gradc.support import coloring


def banded(n: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(n), 2 * half + 1)
    cols = rows + np.tile(np.arange(-half, half + 1), n)
    inside = (cols >= 0) & (cols < n)
    return rows[inside], cols[inside]


def arrow(n: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.r_[np.zeros(n, np.int64), np.arange(1, n), np.arange(1, n)]
    cols = np.r_[np.arange(n), np.zeros(n - 1, np.int64), np.arange(1, n)]
    order = np.lexsort((cols, rows))
    return rows[order], cols[order]


def fastest(run: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(3):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    patterns = [(f"banded n={n} b={b}", n, banded(n, b)) for n, b in ((10_000, 1), (10_000, 2), (100_000, 1), (100_000, 2))]
    patterns.append(("arrow n=10000", 10_000, arrow(10_000)))
    for name, n, (rows, cols) in patterns:
        line = [name]
        for label, color in (
            ("columns", lambda: coloring.color_columns(rows, cols, (n, n))),
            ("star", lambda: coloring.star_coloring(rows, cols, n)),
            ("acyclic", lambda: coloring.acyclic_coloring(rows, cols, n)),
        ):
            seconds, colors = fastest(color)
            line.append(f"{label} {seconds:.3f} s, {int(colors.max()) + 1} colors")
            if label == "acyclic":
                plan_seconds, _ = fastest(lambda: coloring.acyclic_recovery(rows, cols, n, colors))
                line.append(f"plan {plan_seconds:.3f} s")
        print("; ".join(line), flush=True)


if __name__ == "__main__":
    main()
