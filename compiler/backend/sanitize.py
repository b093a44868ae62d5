"""Run a command with gradc's generated code built under sanitizers.

    python -m gradc.sanitize [--sanitize address,undefined] COMMAND [ARGS...]

e.g. `python -m gradc.sanitize python -m pytest tests/test_ops.py`.

Guarantees: COMMAND runs with `GRADC_SANITIZE` set (default
`address,undefined`), so every function gradc builds in it is compiled
with -fsanitize and without -O3 or fast-math
(`gradc.backend.build.sanitize_flags`; separate cache entries); with the
compiler's ASan runtime in `LD_PRELOAD` when `address` is on; with
`ASAN_OPTIONS=detect_leaks=0` and `UBSAN_OPTIONS=print_stacktrace=1`. Any
finding prints a report and aborts the process.

Why each setting, and what runs under it: docs/reliability.md
(Sanitizers).
"""

from __future__ import annotations

import argparse
import os
import sys

from gradc.backend.build import SANITIZE_ENV, SANITIZERS, asan_runtime


def environment(names: list[str], base: dict[str, str]) -> dict[str, str]:
    """`base` with what a sanitized run needs (see the module docstring)."""
    env = {**base, SANITIZE_ENV: ",".join(names)}
    if "address" in names:
        preload = [p for p in env.get("LD_PRELOAD", "").split(":") if p]
        env["LD_PRELOAD"] = ":".join([asan_runtime(), *preload])
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    if "undefined" in names:
        env["UBSAN_OPTIONS"] = ":".join(filter(None, [env.get("UBSAN_OPTIONS", ""), "print_stacktrace=1"]))
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gradc.sanitize",
        description="Run COMMAND with gradc's generated code built under sanitizers.",
    )
    parser.add_argument("--sanitize", default="address,undefined",
                        help=f"comma-separated subset of {','.join(SANITIZERS)} (default: all)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.sanitize.split(",") if n.strip()]
    unknown = [n for n in names if n not in SANITIZERS]
    if unknown or not names:
        parser.error(f"--sanitize: expected a comma-separated subset of {','.join(SANITIZERS)}, "
                     f"got {args.sanitize!r}")
    if not args.command:
        parser.error("no COMMAND given")
    try:
        os.execvpe(args.command[0], args.command, environment(names, dict(os.environ)))
    except OSError as err:
        sys.exit(f"python -m gradc.sanitize: cannot run {args.command[0]!r}: {err.strerror}")

