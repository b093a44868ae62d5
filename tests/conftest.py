"""Shared test set-up: one compile cache for the whole run (workers of
pytest-xdist share it safely: entries are written atomically)."""

import os
from pathlib import Path

os.environ.setdefault(
    "GRADC_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "gradc")
)

# Property tests draw the same examples on every run (CI must not turn red on
# a new random draw of an old commit); set GRADC_HYPOTHESIS_EXPLORE=1 to
# explore fresh examples locally.
from hypothesis import settings  # noqa: E402

settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile("explore" if os.environ.get("GRADC_HYPOTHESIS_EXPLORE") else "deterministic")
