"""Wall-time breakdowns of a compilation: where the seconds went, stage by
stage, for `gradc-opt --timing` and `gradc.lower(...).timings`.

    timings = Timings()
    with timings.measure("trace"):
        ...
    callback = timed_callback(timings, check)   # for an xDSL PassPipeline
    timings.totals()                            # {"trace": 0.01, "cse": ...}
    timings.table(total)                        # mlir-opt's --mlir-timing style

Expects: `time.perf_counter` seconds; a pass pipeline that calls its
callback before the first pass, between passes and after the last (xDSL's
`PassPipeline`).

Guarantees: every figure is a non-negative wall time of a disjoint stretch
of the run, so the figures of one run add up to at most its wall time; the
records keep the order they were made in, a repeated name once per time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

PipelineCallback = Callable[[ModulePass | None, ModuleOp, ModulePass | None], None]

class Timings:
    """Named wall times in seconds, in the order they were recorded."""

    def __init__(self) -> None:
        self.records: list[tuple[str, float]] = []

    def add(self, name: str, seconds: float) -> None:
        """A new record (a name recorded twice is listed twice)."""
        self.records.append((name, max(0.0, seconds)))

    def accumulate(self, name: str, seconds: float) -> None:
        """`seconds` added to the one record `name`, which moves to the end
        (so a total of many short steps is listed after the last of them)."""
        before = sum(known_seconds for known, known_seconds in self.records if known == name)
        self.records = [record for record in self.records if record[0] != name]
        self.add(name, before + seconds)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        """Records the wall time of the `with` body as `name`, also when it raises."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def totals(self) -> dict[str, float]:
        """Seconds per name, summed over repeats, in order of first record."""
        out: dict[str, float] = {}
        for name, seconds in self.records:
            out[name] = out.get(name, 0.0) + seconds
        return out

    def table(self, total: float) -> str:
        """The records as mlir-opt's `--mlir-timing` prints them: wall time
        and share of `total` per record, then what the records leave out of
        `total` (if anything measurable) and the total itself."""
        rows = list(self.records)
        rest = total - sum(seconds for _, seconds in rows)
        if rest >= 0.00005:
            rows.append(("(rest)", rest))
        rule = "===" + "-" * 73 + "==="
        lines = [
            rule,
            "Execution time report".center(len(rule)).rstrip(),
            rule,
            f"  Total Execution Time: {total:.4f} seconds",
            "",
            "  ----Wall Time----  ----Name----",
        ]
        for name, seconds in [*rows, ("Total", total)]:
            share = 100.0 * seconds / total if total > 0 else 0.0
            lines.append(f"  {seconds:8.4f} ({share:5.1f}%)  {name}")
        return "\n".join(lines) + "\n"


def timed_callback(
    timings: Timings, callback: PipelineCallback | None = None, checks: str = "(between passes)"
) -> PipelineCallback:
    """A pipeline callback that records each pass's wall time in `timings`
    under the pass's CLI name (from the callback's return before the pass to
    its call after it), then runs `callback`, whose own time accumulates
    in the one record named `checks`."""
    started = time.perf_counter()

    def between(previous: ModulePass | None, module: ModuleOp, following: ModulePass | None) -> None:
        nonlocal started
        now = time.perf_counter()
        if previous is not None:
            timings.add(previous.name, now - started)
        try:
            if callback is not None:
                callback(previous, module, following)
        finally:
            started = time.perf_counter()
            if callback is not None:
                timings.accumulate(checks, started - now)

    return between


__all__ = ["Timings", "timed_callback"]
