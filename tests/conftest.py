"""Shared test set-up: one compile cache for the whole run (workers of
pytest-xdist share it safely: entries are written atomically)."""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh, empty build cache for one test module (for tests about the
    cache itself, or that must see cold builds)."""
    path = tmp_path_factory.mktemp("gradc-cache")
    old = os.environ.get("GRADC_CACHE_DIR")
    os.environ["GRADC_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        del os.environ["GRADC_CACHE_DIR"]
    else:
        os.environ["GRADC_CACHE_DIR"] = old


def run_in_threads(work: Callable[[int], None], count: int = 4) -> None:
    """Run `work(k)` on threads k = 0 .. count-1 at once; raise the first
    error any of them hit (an assertion in a thread would otherwise only be
    printed)."""
    errors: list[BaseException] = []

    def guarded(k: int) -> None:
        try:
            work(k)
        except BaseException as err:  # noqa: BLE001 - re-raised below
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def pytest_report_header() -> str | None:
    """Say when the generated code is built under sanitizers (make test-sanitize)."""
    from gradc.backend.build import sanitizers

    active = sanitizers()
    return f"gradc: generated code built with -fsanitize for {', '.join(active)}" if active else None


@pytest.fixture(autouse=True)
def _reseed_module_rng(request: pytest.FixtureRequest) -> None:
    """A test module's shared `rng` restarts from a seed of the test's own
    name before each test, so its draws do not depend on which tests ran
    before it in the same worker (pytest-xdist distributes them differently
    from run to run)."""
    import zlib

    import numpy as np

    if isinstance(getattr(request.module, "rng", None), np.random.Generator):
        request.module.rng = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
