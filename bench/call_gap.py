"""What a call of the MLP step (a) costs from Python beyond its C time
(issue 18's target: within 0.5 us), measured paired in one pinned process.

The bench rows `gradc out=` and `gradc-C` of mlp_step come from separate
processes, whose medians differ by more than the target from run to run
(cache and frequency state). Here each round times, back to back in this
process: the generated C step in a C loop (mlp_step's `gradc-C`), the
double-buffered `out=` loop (mlp_step's `gradc out=`), `out=` into one
fixed set, and the allocating call (mlp_step's `gradc`); each as the
minimum of timing.per_call's repetitions. It prints each round and the
medians over rounds of the times and of the gaps to the C loop.

    taskset -c 1 python bench/call_gap.py [rounds]   (default 9)
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import mlp_step  # noqa: E402
from timing import per_call  # noqa: E402

CONFIG = "(a) 64-128-10 b32"


def main(rounds: int) -> None:
    import gradc

    params, x, y = mlp_step.problem(CONFIG)
    double, _ = mlp_step._gradc_out(params, x, y)
    allocating, _ = mlp_step._gradc(params, x, y, {})
    step = gradc.jit(mlp_step._gradc_step())
    fixed = (np.empty((), np.float32), {k: np.empty_like(v) for k, v in params.items()})

    def one_set() -> object:
        return step(params, x, y, out=fixed)[0]

    names = ("out= double-buffered", "out= one set", "allocating")
    rows = []
    for _ in range(rounds):
        c = mlp_step._c_loop(CONFIG)["min_s"] * 1e6
        times = [per_call(f).min_s * 1e6 for f in (double, one_set, allocating)]
        rows.append((c, *times))
        print(f"C {c:.2f} us | " + ", ".join(f"{n} {t:.2f} ({t - c:+.2f})" for n, t in zip(names, times)),
              flush=True)
    c_median = statistics.median(r[0] for r in rows)
    print(f"medians over {rounds} rounds: C loop {c_median:.2f} us; " + "; ".join(
        f"{n} {statistics.median(r[k + 1] for r in rows):.2f} us "
        f"(gap {statistics.median(r[k + 1] - r[0] for r in rows):+.2f} us)" for k, n in enumerate(names)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
