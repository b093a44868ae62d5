"""Shared test set-up: one compile cache for the whole run (workers of
pytest-xdist share it safely: entries are written atomically)."""

import os
from pathlib import Path

os.environ.setdefault(
    "GRADC_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "gradc")
)
