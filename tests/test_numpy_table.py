"""docs/numpy-api.md lists every name gradc.numpy has, and nothing else: a
function added without its row (NumPy equivalent, how it is built, its
derivative) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import gradc.numpy as gnp

TABLE = Path(__file__).resolve().parent.parent / "docs" / "numpy-api.md"
INTERNAL = {"TracedArray", "Trace", "current_trace"}
"""In gradc.numpy's namespace for type checks and transformations, not
NumPy functions."""


def documented() -> list[str]:
    """The names in the first column of the tables' rows (`gnp.name`)."""
    return re.findall(r"^\| `(?:gnp\.)?([A-Za-z_][\w.]*)`", TABLE.read_text(), re.M)


def test_every_gnp_name_has_a_row() -> None:
    rows = documented()
    assert len(rows) == len(set(rows)), [n for n in rows if rows.count(n) > 1]
    names = set(gnp.__all__) - INTERNAL
    listed = {n for n in rows if "." not in n}
    assert names - listed == set(), "gradc.numpy names missing from docs/numpy-api.md"
    assert listed - names == set(), "docs/numpy-api.md lists names gradc.numpy lacks"


def test_sub_namespace_rows_exist() -> None:
    for name in (n for n in documented() if "." in n):
        obj = gnp
        for part in name.split("."):
            obj = getattr(obj, part)
        assert callable(obj), name
