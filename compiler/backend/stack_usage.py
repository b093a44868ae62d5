"""Stack usage of generated C, as the C compiler reports it (`gradc.stack_usage`).

Expects: a C translation unit and gcc >= 10 (`-fstack-usage`,
`-fcallgraph-info=su`); flags as `gradc.backend.build` resolves them.

Guarantees: `measure(source)` compiles with `-Wall -Wextra -Werror` and
returns a `StackReport`: each function's frame and its kind, the calls
inside the unit (OpenMP outlined functions included, which gcc does not
record as calls) and, per function, the callees outside it (libm,
libgomp: listed in `external`, their frames not counted). `needs(name)` is
the deepest call chain below `name` plus the x86-64 red zone (RED_ZONE);
`unbounded()` lists `dynamic` frames (VLA, alloca); a recursive chain is
a StackUsageError.

How gcc's reports are read, what the numbers include, and the
measurements: docs/reliability.md (Stack usage).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gradc.backend.build import compiler_command, resolve_flags, with_openmp

WARNING_FLAGS = ("-Wall", "-Wextra", "-Werror")
USAGE_FLAGS = ("-fstack-usage", "-fcallgraph-info=su")

RED_ZONE = 128
"""Bytes below the stack pointer the x86-64 SysV ABI lets a leaf function
use without moving it; -fstack-usage does not count them."""
BOUNDED_KINDS = ("static", "dynamic,bounded")

_NODE = re.compile(r'^node: \{ title: "([^"]*)" label: "([^"\\]*)(?:\\n[^"]*)*?"(.*)\}$')
_BYTES = re.compile(r"\\n(\d+) bytes \(([a-z,]+)\)")
_EDGE = re.compile(r'^edge: \{ sourcename: "([^"]*)" targetname: "([^"]*)"')
_OUTLINED = re.compile(r"^(.*)\._omp_fn\.\d+$")


class StackUsageError(Exception):
    """The C compiler failed or wrote no usable stack usage report."""


@dataclass(frozen=True)
class Frame:
    name: str
    bytes: int
    kind: str
    """`static`, `dynamic` or `dynamic,bounded`, as gcc reports it."""
    public: bool
    """Defined without `static`: callable from outside the unit."""


@dataclass
class StackReport:
    """Frames and calls of one translation unit (by C function name)."""

    frames: dict[str, Frame]
    calls: dict[str, set[str]] = field(default_factory=dict)
    """Callees defined in the unit, OpenMP outlined functions included."""
    external: dict[str, set[str]] = field(default_factory=dict)
    """Callees outside the unit (libm, libgomp, ...): frames not counted."""

    def public(self) -> list[str]:
        return sorted(name for name, frame in self.frames.items() if frame.public)

    def unbounded(self) -> list[Frame]:
        """Frames whose size depends on run-time values (VLA, alloca)."""
        return [frame for frame in self.frames.values() if frame.kind not in BOUNDED_KINDS]

    def chain(self, name: str) -> tuple[int, list[str]]:
        """Bytes and functions of the deepest call chain starting at `name`
        (frames summed along calls inside the unit). Generated code never
        recurses; a cycle is reported, not followed."""
        return self._chain(name, ())

    def _chain(self, name: str, active: tuple[str, ...]) -> tuple[int, list[str]]:
        if name in active:
            raise StackUsageError(f"recursive call chain {' -> '.join((*active, name))}: stack unbounded")
        best: tuple[int, list[str]] = (0, [])
        for callee in sorted(self.calls.get(name, ())):
            best = max(best, self._chain(callee, (*active, name)), key=lambda c: c[0])
        return self.frames[name].bytes + best[0], [name, *best[1]]

    def needs(self, name: str) -> int:
        """Stack bytes a call of `name` needs: its deepest chain plus the
        red zone of the leaf at its end (functions outside the unit not
        counted)."""
        return self.chain(name)[0] + RED_ZONE

    def violations(self, stack_bytes: dict[str, int], reserve: int) -> list[str]:
        """What breaks stack-alloc's promise (see passes/stack_alloc.py):
        frames that are not bounded, and public functions whose call needs
        more than their `stack_bytes` (0 if absent) + `reserve`."""
        problems = [f"{f.name}: {f.kind} frame of {f.bytes} bytes" for f in self.unbounded()]
        for name in self.public():
            limit = stack_bytes.get(name, 0) + reserve
            if (need := self.needs(name)) > limit:
                chain = " -> ".join(self.chain(name)[1])
                problems.append(f"{name}: chain {chain} needs {need} bytes > {limit}")
        return problems

    def externals_reached(self, name: str) -> set[str]:
        """Functions outside the unit called anywhere below `name`."""
        seen, todo, out = set(), [name], set()
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                out |= self.external.get(current, set())
                todo.extend(self.calls.get(current, ()))
        return out


def usage_flags(source: str, flags: Sequence[str] | None = None) -> tuple[str, ...]:
    """`resolve_flags(flags)` plus OpenMP when the source has pragmas (as
    gradc.backend.build does), the warnings as errors and the stack usage flags."""
    return (*with_openmp(resolve_flags(flags), source), *WARNING_FLAGS, *USAGE_FLAGS)


def measure(source: str, flags: Sequence[str] | None = None) -> StackReport:
    """Compile `source` (flags as in `usage_flags`) and read gcc's report."""
    with tempfile.TemporaryDirectory(prefix="gradc-stack-") as folder:
        c_file = Path(folder, "unit.c")
        c_file.write_text(source)
        command = [*compiler_command(), *usage_flags(source, flags), "-c", str(c_file),
                   "-o", str(Path(folder, "unit.o"))]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StackUsageError(f"`{' '.join(command)}` failed:\n{proc.stderr.strip()}")
        try:
            return parse_callgraph(Path(folder, "unit.ci").read_text())
        except OSError as err:
            raise StackUsageError(f"the compiler wrote no call graph (gcc >= 10 needed): {err}") from None


def parse_callgraph(text: str) -> StackReport:
    """A StackReport from `-fcallgraph-info=su` text. Titles of static
    functions carry a `file:` prefix, public ones are bare names."""
    frames: dict[str, Frame] = {}
    outside: set[str] = set()
    titles: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in text.splitlines():
        if node := _NODE.match(line):
            title, name = node.group(1), node.group(2)
            titles[title] = name
            if usage := _BYTES.search(line):
                frames[name] = Frame(name, int(usage.group(1)), usage.group(2), ":" not in title)
            else:
                outside.add(name)
        elif edge := _EDGE.match(line):
            edges.append((edge.group(1), edge.group(2)))
    report = StackReport(frames)
    for source, target in edges:
        caller, callee = titles[source], titles[target]
        (report.external if callee in outside else report.calls).setdefault(caller, set()).add(callee)
    for name in frames:
        if (parent := _OUTLINED.match(name)) and parent.group(1) in frames:
            report.calls.setdefault(parent.group(1), set()).add(name)
    return report


__all__ = ["BOUNDED_KINDS", "RED_ZONE", "USAGE_FLAGS", "WARNING_FLAGS", "Frame", "StackReport",
           "StackUsageError", "measure", "parse_callgraph", "usage_flags"]
