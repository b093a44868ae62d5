"""Mutation fuzzing of `gradc-opt`: bad input must give a diagnostic, never a crash.

    python -m gradc.tools.fuzz [--count N | --seconds T] [--seed S] [--save DIR]

Seeds are the .mlir inputs of lit/ (one per `// -----` chunk); each input
is a seed with one to three mutations (`MUTATORS`), run through
`gradc-opt -p gradc-default -t c` in this process (`gradc.tools.cli.main`:
no interpreter start-up per input) and classified:

- accepted: exit status 0; the C of every Nth accepted input
  (`--compile-every`) must compile in strict C99 with -Wall -Wextra -Werror;
- rejected: exit status 1 with a located `...: error: ...` diagnostic;
- failure: anything else (a traceback, an "internal error" or a pass or
  target that "crashed", another exit status, over `--timeout`, a
  MemoryError under `--memory`, C that does not compile).

Every Nth input (`--subprocess-every`) also runs through the installed
`gradc-opt`. Failing inputs are saved to `--save` (default
tests/fuzz/regressions/ of the checkout); the run ends with one line of
counts and exits 1 when anything failed.

The mutations, the figures and the bugs found: docs/reliability.md
(Parser and CLI fuzzing).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIT = REPO / "lit"

PIPELINE = ("-p", "gradc-default", "-t", "c")

# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------


def seeds(root: Path = LIT) -> list[str]:
    """Every `// -----` chunk of every .mlir file under `root`, without its
    comment lines (RUN and CHECK lines are not input), in a stable order."""
    found = []
    for path in sorted(root.rglob("*.mlir")):
        for chunk in path.read_text().split("// -----"):
            text = "".join(
                line for line in chunk.splitlines(True) if not line.lstrip().startswith("//")
            ).strip()
            if text:
                found.append(text + "\n")
    return found


# ---------------------------------------------------------------------------
# Mutations: each takes the random source, the text and all seeds
# ---------------------------------------------------------------------------

Mutator = Callable[[random.Random, str, list[str]], str]

TOKEN = re.compile(r"%[\w.$-]+|@[\w.$-]+|[\w.]+|\S")
SHAPED = re.compile(r"(tensor|memref)<([^<>]*)>")
ELEMENT_TYPES = ("f32", "f64", "f16", "i1", "i32", "i64", "index", "bf16", "i0")
ABSURD_DIMS = ("0", "1", "99999999999", "1000000", "4294967296", "9223372036854775807",
               "18446744073709551616", "-1", "?")


def _tokens(text: str) -> list[re.Match[str]]:
    return list(TOKEN.finditer(text))


def flip_byte(rng: random.Random, text: str, _: list[str]) -> str:
    data = bytearray(text.encode("utf-8", errors="surrogateescape"))
    if data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return data.decode("utf-8", errors="surrogateescape")


def delete_token(rng: random.Random, text: str, _: list[str]) -> str:
    tokens = _tokens(text)
    if not tokens:
        return text
    t = rng.choice(tokens)
    return text[: t.start()] + text[t.end():]


def duplicate_token(rng: random.Random, text: str, _: list[str]) -> str:
    tokens = _tokens(text)
    if not tokens:
        return text
    t = rng.choice(tokens)
    return text[: t.end()] + " " + t.group() + text[t.end():]


def truncate(rng: random.Random, text: str, _: list[str]) -> str:
    return text[: rng.randrange(len(text) + 1)]


def swap_element_type(rng: random.Random, text: str, _: list[str]) -> str:
    found = [m for m in re.finditer(r"\b(f16|f32|f64|bf16|i1|i32|i64|index)\b", text)]
    if not found:
        return text
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(ELEMENT_TYPES) + text[m.end():]


def _replace_shape(rng: random.Random, text: str, make: Callable[[list[str]], list[str]]) -> str:
    found = list(SHAPED.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    parts = m.group(2).split("x")
    new = "x".join(make(parts))
    return text[: m.start(2)] + new + text[m.end(2):]


def change_dim(rng: random.Random, text: str, _: list[str]) -> str:
    """One dimension of one shaped type becomes another small size."""
    def make(parts: list[str]) -> list[str]:
        if len(parts) > 1:
            parts[rng.randrange(len(parts) - 1)] = str(rng.choice((1, 2, 3, 5, 7, 16)))
        return parts
    return _replace_shape(rng, text, make)


def absurd_dim(rng: random.Random, text: str, all_seeds: list[str]) -> str:
    """A dimension of one shaped type, or of every type of the same shape
    (so the program still verifies and reaches the lowering), becomes huge,
    zero or negative."""
    found = list(SHAPED.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    parts = m.group(2).split("x")
    if len(parts) < 2:
        return text
    parts[rng.randrange(len(parts) - 1)] = rng.choice(ABSURD_DIMS)
    new = f"{m.group(1)}<{'x'.join(parts)}>"
    if rng.random() < 0.7:
        return text.replace(m.group(0), new)
    return text[: m.start()] + new + text[m.end():]


def high_rank(rng: random.Random, text: str, _: list[str]) -> str:
    """Every type of one shape gets many leading unit (or huge) dimensions."""
    found = list(SHAPED.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    rank = rng.choice((40, 1000, 100000))
    dim = rng.choice(("1", "2", "1000000"))
    new = f"{m.group(1)}<{'x'.join([dim] * rank)}x{m.group(2)}>"
    return text.replace(m.group(0), new)


def deep_nesting(rng: random.Random, text: str, _: list[str]) -> str:
    """Deeply nested types, regions or attributes at a random place."""
    depth = rng.choice((50, 1000, 100000))
    piece = rng.choice((
        "tensor<" * depth + "f32" + ">" * depth,
        "[" * depth + "]" * depth,
        '"test.op"() ({\n' * depth + "})\n" * depth,
        "(" * depth + ")" * depth,
    ))
    tokens = _tokens(text)
    at = rng.choice(tokens).start() if tokens else 0
    return text[:at] + piece + text[at:]


def splice_line(rng: random.Random, text: str, all_seeds: list[str]) -> str:
    """A line of another seed inserted here (ops from another program)."""
    other = rng.choice(all_seeds).splitlines(True)
    lines = text.splitlines(True)
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(other) if other else "")
    return "".join(lines)


def swap_lines(rng: random.Random, text: str, _: list[str]) -> str:
    lines = text.splitlines(True)
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


MUTATORS: tuple[Mutator, ...] = (
    flip_byte, delete_token, duplicate_token, truncate, swap_element_type,
    change_dim, absurd_dim, high_rank, deep_nesting, splice_line, swap_lines,
)


def mutate(rng: random.Random, text: str, all_seeds: list[str]) -> tuple[str, list[str]]:
    """`text` after one to three random mutations, and their names."""
    names = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        mutator = rng.choice(MUTATORS)
        text = mutator(rng, text, all_seeds)
        names.append(mutator.__name__)
    return text, names


def inputs(seed: int, all_seeds: list[str]) -> Iterator[tuple[str, list[str]]]:
    """The endless, reproducible stream of fuzzed inputs for `seed`."""
    rng = random.Random(seed)
    arrays = [s for s in all_seeds if "array." in s] or all_seeds
    while True:
        # Array-level programs are what the default pipeline takes, so most
        # mutations start from one and some get as far as the C.
        start = rng.choice(arrays if rng.random() < 0.7 else all_seeds)
        yield mutate(rng, start, all_seeds)


# ---------------------------------------------------------------------------
# Running one input
# ---------------------------------------------------------------------------


class TimeLimit(BaseException):
    """Raised by SIGALRM inside a run that took too long. A BaseException,
    so gradc-opt's own `except Exception` does not report it as an error."""


BUG_MARKERS = ("Traceback (most recent call last)", "internal error", "crashed:",
               "this is a bug", "MemoryError", "RecursionError")
DIAGNOSTIC = re.compile(r"^\S.*: error: ", re.M)


@dataclass
class Outcome:
    kind: str
    """"accepted", "rejected" or "failure"."""
    status: int | None
    output: str
    errors: str
    reason: str = ""


def classify(status: int | None, output: str, errors: str) -> Outcome:
    """What a run's exit status and stderr say (see the module docstring)."""
    if status == 0:
        return Outcome("accepted", status, output, errors)
    if status == 1 and DIAGNOSTIC.search(errors) and not any(m in errors for m in BUG_MARKERS):
        return Outcome("rejected", status, output, errors)
    return Outcome("failure", status, output, errors, f"exit {status}: {_first_error(errors)}")


def _first_error(errors: str) -> str:
    """The line of stderr that says what went wrong, shortened."""
    lines = errors.strip().splitlines() or [""]
    line = next((s for s in lines if "error" in s or "Error" in s), lines[-1])
    return line[:300]


def run_in_process(text: str, timeout: float) -> Outcome:
    """`gradc-opt - -p gradc-default -t c` on `text` through `gradc.tools.cli.main`."""
    from gradc.tools import cli

    stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-8", errors="surrogateescape")))
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    status: int | None = None
    try:
        sys.stdin = stdin
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main(["-", *PIPELINE])
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except TimeLimit:
        return Outcome("failure", None, out.getvalue(), err.getvalue(), f"took over {timeout} s")
    except BaseException as e:  # noqa: BLE001 - anything escaping main is a bug
        return Outcome("failure", None, out.getvalue(), err.getvalue(),
                       f"escaped gradc.tools.cli.main: {type(e).__name__}: {str(e)[:300]}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdin = old_stdin
    return classify(status, out.getvalue(), err.getvalue())


def _alarm(signum: int, frame: object) -> None:
    raise TimeLimit


def run_subprocess(text: str, timeout: float) -> Outcome:
    """The same through the installed `gradc-opt` script."""
    script = Path(sys.executable).parent / "gradc-opt"
    try:
        proc = subprocess.run([str(script), "-", *PIPELINE], capture_output=True, timeout=timeout + 10,
                              input=text.encode("utf-8", errors="surrogateescape"))
    except subprocess.TimeoutExpired:
        return Outcome("failure", None, "", "", f"subprocess took over {timeout + 10} s")
    return classify(proc.returncode, proc.stdout.decode(errors="replace"),
                    proc.stderr.decode(errors="replace"))


def compile_c(source: str, timeout: float = 60) -> str | None:
    """None when `source` compiles as strict C99 with warnings as errors,
    else the compiler's complaint (or the compiler's crash)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed.c"
        path.write_text(source)
        try:
            proc = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                   str(path)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"the C compiler took over {timeout} s"
    if proc.returncode != 0:
        return f"the C compiler rejected the output (exit {proc.returncode}): {proc.stderr[:500]}"
    return None


# ---------------------------------------------------------------------------
# A campaign
# ---------------------------------------------------------------------------


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, list[str], str]] = field(default_factory=list)

    def line(self) -> str:
        c = self.counts
        return (f"gradc.tools.fuzz: {c['inputs']} inputs: {c['accepted']} accepted "
                f"({c['compiled']} of them compiled by cc), {c['rejected']} rejected with a "
                f"diagnostic, {c['failure']} failures; {c['subprocess']} also run as a subprocess")


def campaign(seed: int = 0, count: int | None = 1000, seconds: float | None = None,
             timeout: float = 10.0, compile_every: int = 50, subprocess_every: int = 0,
             save: Path | None = None, log: Callable[[str], None] | None = None) -> Report:
    """Run `count` fuzzed inputs (or as many as fit in `seconds`)."""
    report = Report()
    all_seeds = seeds()
    deadline = None if seconds is None else time.monotonic() + seconds
    for n, (text, names) in enumerate(inputs(seed, all_seeds)):
        if count is not None and n >= count:
            break
        if deadline is not None and time.monotonic() > deadline:
            break
        outcome = run_in_process(text, timeout)
        if outcome.kind == "accepted" and compile_every and report.counts["accepted"] % compile_every == 0:
            report.counts["compiled"] += 1
            if problem := compile_c(outcome.output):
                outcome = Outcome("failure", 0, outcome.output, outcome.errors, problem)
        if subprocess_every and n % subprocess_every == 0 and outcome.kind != "failure":
            report.counts["subprocess"] += 1
            again = run_subprocess(text, timeout)
            if again.kind != outcome.kind:
                outcome = Outcome("failure", again.status, again.output, again.errors,
                                  f"in-process {outcome.kind}, subprocess {again.kind}: {again.reason}")
        report.counts["inputs"] += 1
        report.counts[outcome.kind] += 1
        if log and report.counts["inputs"] % 10_000 == 0:
            log(report.line())
        if outcome.kind == "failure":
            report.failures.append((text, names, outcome.reason))
            if log:
                log(f"failure {len(report.failures)} (input {n}, {'+'.join(names)}): {outcome.reason}")
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                path = save / f"seed{seed}-input{n}.mlir"
                path.write_text(f"// {'+'.join(names)}: {outcome.reason.splitlines()[0] if outcome.reason else ''}\n"
                                + text, errors="surrogateescape")
    return report


def limit_memory(gigabytes: float) -> None:
    """Cap this process's address space, so a blow-up is a MemoryError here
    (a failure) rather than the machine swapping."""
    limit = int(gigabytes * 2**30)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradc.tools.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="inputs to run (default 100000)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this many seconds instead (the count still caps)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--memory", type=float, default=4.0, help="address space limit in GiB")
    parser.add_argument("--compile-every", type=int, default=50,
                        help="compile the C of every Nth accepted input (0: never)")
    parser.add_argument("--subprocess-every", type=int, default=1000,
                        help="also run every Nth input through the gradc-opt script (0: never)")
    parser.add_argument("--save", type=Path, default=REPO / "tests" / "fuzz" / "regressions",
                        help="folder for failing inputs")
    args = parser.parse_args(argv)
    limit_memory(args.memory)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    started = time.monotonic()
    report = campaign(args.seed, args.count, args.seconds, args.timeout, args.compile_every,
                      args.subprocess_every, args.save, log=lambda s: print(s, flush=True))
    print(f"{report.line()} ({time.monotonic() - started:.0f} s, seed {args.seed})")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
