"""`gradc-opt` on mutated inputs: a diagnostic or success, never a crash.

The campaign itself is `gradc.tools.fuzz` (`make fuzz` runs 100k inputs); CI runs
two fixed-seed slices of it in subprocesses, each under the address space
limit and the per-input time limit that `gradc.tools.fuzz` sets. Every input that
ever failed is kept in tests/fuzz/regressions/ and must now be rejected with
the diagnostic its first line names (`// expect: ...`), or be accepted
(`// expect: accepted`), quickly.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc.support.limits import MAX_ELEMENTS
from gradc.tools import fuzz

REGRESSIONS = sorted((Path(__file__).parent / "fuzz" / "regressions").glob("*.mlir"))

CI_INPUTS = 1500
"""Inputs per slice; two slices run in parallel, ~8 s each on an idle core."""


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression_is_rejected_with_a_diagnostic(path: Path) -> None:
    text = path.read_text()
    started = time.monotonic()
    outcome = fuzz.run_in_process(text, timeout=20)
    took = time.monotonic() - started
    m = re.match(r"// expect: (.*)\n", text)
    if m and m.group(1) == "accepted":
        assert outcome.kind == "accepted", outcome.reason
    else:
        assert outcome.kind == "rejected", outcome.reason
        assert m is None or m.group(1) in outcome.errors
    assert took < 5, f"took {took:.1f} s"


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_campaign_slice(seed: int, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gradc.tools.fuzz", "--count", str(CI_INPUTS), "--seed", str(seed),
         "--subprocess-every", "250", "--compile-every", "10", "--save", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    saved = "".join(p.read_text(errors="replace")[:2000] for p in tmp_path.glob("*.mlir"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + saved
    m = re.search(r"(\d+) inputs: (\d+) accepted \((\d+) of them compiled by cc\), (\d+) rejected "
                  r"with a diagnostic, (\d+) failures; (\d+) also run as a subprocess", proc.stdout)
    assert m, proc.stdout
    inputs, accepted, compiled, rejected, failures, sub = map(int, m.groups())
    assert (inputs, failures) == (CI_INPUTS, 0)
    assert accepted + rejected == inputs
    assert accepted > 0 and compiled > 0 and sub == CI_INPUTS // 250


def test_classify() -> None:
    located = "in.mlir:3:8: error: array.add: shapes differ\n"
    assert fuzz.classify(1, "", located).kind == "rejected"
    assert fuzz.classify(0, "int f(void);", "").kind == "accepted"
    assert fuzz.classify(1, "", "gradc-opt: internal error: KeyError: 'x'\n").kind == "failure"
    assert fuzz.classify(1, "", located + "Traceback (most recent call last):\n").kind == "failure"
    assert fuzz.classify(2, "", located).kind == "failure"
    assert fuzz.classify(None, "", "").kind == "failure"


def test_mutations_are_reproducible() -> None:
    seeds = fuzz.seeds()
    first = [text for (text, _), _ in zip(fuzz.inputs(7, seeds), range(50))]
    again = [text for (text, _), _ in zip(fuzz.inputs(7, seeds), range(50))]
    assert first == again
    assert len(set(first)) > 40  # and they differ from each other


def test_python_api_rejects_an_absurd_intermediate() -> None:
    """An outer product of two 70000-vectors (4.9e9 elements) is over the
    limit; the error names the shape instead of allocating 20 GB."""
    f = gradc.jit(lambda x, y: gnp.sum(x[:, None] * y[None, :]))
    x = np.ones(70000, np.float32)
    with pytest.raises(gradc.GradcError, match=f"70000x70000 has 4900000000 elements, over gradc's limit of {MAX_ELEMENTS}"):
        f(x, x)
