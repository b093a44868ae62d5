"""Errors a user can cause, and where in the user's code they happened.

Every error that bad input can trigger (mismatched shapes, an axis out of
range, an argument of the wrong type, an unknown pass) is a `GradcError`, so
`except gradc.GradcError` catches exactly those; anything else escaping gradc
is a bug in gradc. Tracing errors also derive from the builtin exception a
NumPy user expects (`ValueError`, `TypeError`, `IndexError`) and carry the
file:line of the user's code that called the failing operation: the first
stack frame outside gradc's own folders.
"""

from __future__ import annotations

from typing import Any

import sys
import sysconfig
import types
from pathlib import Path

# compiler/, dialects/ and passes/ (the folders behind gradc, gradc.dialects
# and gradc.passes); a frame whose file lies in one of them is gradc's own.
_GRADC_DIRS: tuple[str, ...] = tuple(
    str(Path(__file__).resolve().parent.parent / folder) + "/"
    for folder in ("compiler", "dialects", "passes")
)


def _is_gradc_file(filename: str) -> bool:
    return filename.startswith(_GRADC_DIRS) or (
        not filename.startswith("/") and str(Path(filename).resolve()).startswith(_GRADC_DIRS)
    )


# Python's own library and installed packages (xDSL, NumPy, cffi): frames
# there between gradc's are not the user's either.
_LIBRARY_DIRS: tuple[str, ...] = tuple(
    {str(Path(p).resolve()) + "/" for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"])}
)


def user_location() -> str | None:
    """`file:line` of the innermost stack frame outside gradc and outside
    Python's library and installed packages (the user's call into gradc),
    or None if there is none."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_gradc_file(filename) and not filename.startswith(_LIBRARY_DIRS) and not filename.startswith("<frozen"):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def without_gradc_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback `tb` with gradc's own frames left out, so an error shows
    the user's code rather than the tracing machinery between it and gradc."""
    kept = []
    while tb is not None:
        if not _is_gradc_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    result = None
    for entry in reversed(kept):
        result = types.TracebackType(result, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return result


class GradcError(Exception):
    """An error the user caused; the message says what and, when known, where
    (`location` is `file:line` in the user's code)."""

    def __init__(self, message: str, *, location: str | None = None):
        super().__init__(f"{location}: {message}" if location else message)
        self.message = message
        self.location = location


class _Located(GradcError):
    """A GradcError that finds the user's file:line itself when not given."""

    def __init__(self, message: str, *, location: str | None = None):
        super().__init__(message, location=location or user_location())


class TraceError(_Located, ValueError):
    """A traced operation got values it cannot accept: shapes that do not
    broadcast or compose, an axis out of range, an impossible reshape."""


class TraceTypeError(_Located, TypeError):
    """A traced operation got an argument of the wrong kind: an integer array,
    a string, a NumPy function gradc does not trace, control flow on a traced
    value."""


class TraceIndexError(_Located, IndexError):
    """An index gradc cannot trace or that is out of bounds."""


class TraceAttributeError(_Located, AttributeError):
    """A name gradc.numpy or traced arrays do not have (yet): an
    AttributeError, so `hasattr` still answers False."""


class PipelineError(GradcError, ValueError):
    """A pass pipeline names an unknown pass or gives a pass bad options, or
    a pass cannot compile the program as asked (e.g. a checkpoint budget
    that does not hold one state of the loop it is for)."""


class LoopLimitError(GradcError, RuntimeError):
    """A compiled `while_loop` would have run more than its `max_steps`
    iterations: the C function stopped and returned a nonzero status; the
    message names the loop (its file:line) and the bound."""


class OutError(_Located, TypeError, ValueError):
    """A call's preallocated outputs (`out=`) that it cannot write into: not
    nested as the result, a leaf that is not exactly its result's array
    (dtype, shape, C-contiguous, aligned, writeable), or a leaf sharing
    memory with an argument or another leaf. The message names the leaf
    (`out[1]['w1']`)."""


def op_location(op: Any) -> str | None:
    """`file:line` of an op traced from the user's code (a FileLineColLoc),
    else None."""
    from xdsl.dialects.builtin import FileLineColLoc

    loc = getattr(op, "location", None)
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}"
    return None


__all__ = [
    "GradcError",
    "TraceError",
    "TraceTypeError",
    "TraceIndexError",
    "TraceAttributeError",
    "PipelineError",
    "LoopLimitError",
    "OutError",
    "op_location",
    "user_location",
    "without_gradc_frames",
]
