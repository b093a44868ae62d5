"""What gradc knows about the machine it runs on: data cache sizes and vector
width (for tile-matmul's defaults and the tuner's store key), and the folder
it caches builds and tuning results in."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path


SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")
FALLBACK_CACHES = {1: 32 * 1024, 2: 1024 * 1024, 3: 8 * 1024 * 1024}
"""Used for levels sysfs does not report (bytes)."""


def _parse_size(text: str) -> int:
    """`48K` -> 49152 (sysfs spells sizes with K, M or G)."""
    match = re.fullmatch(r"(\d+)\s*([KMG]?)", text.strip())
    if match is None:
        raise ValueError(f"cannot read cache size {text!r}")
    return int(match.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2)]


@lru_cache(maxsize=1)
def cache_sizes() -> dict[int, int]:
    """Bytes of the data (or unified) cache at each level, for cpu0."""
    sizes = dict(FALLBACK_CACHES)
    for index in sorted(SYSFS_CACHE.glob("index*")):
        try:
            kind = (index / "type").read_text().strip()
            level = int((index / "level").read_text())
            size = _parse_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        if kind in ("Data", "Unified"):
            sizes[level] = size
    return sizes


@lru_cache(maxsize=1)
def vector_bytes() -> int:
    """The widest vector register the CPU reports (/proc/cpuinfo flags)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return 16
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    if "avx512f" in flags:
        return 64
    if "avx" in flags:
        return 32
    return 16


@lru_cache(maxsize=1)
def cpu_identity() -> str:
    """The CPU's model name and feature flags (/proc/cpuinfo's first
    processor), else the machine type: part of the cache key of builds for
    `-march=native`, so a cache shared by machines with different CPUs
    (a home directory on a cluster) never hands one of them code it cannot
    run."""
    import platform

    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor only
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = " ".join(sorted(fields.get("flags", fields.get("Features", "")).split()))
    return f"{platform.machine()}|{fields.get('model name', fields.get('CPU part', ''))}|{flags}"


def cache_root() -> Path:
    """`$GRADC_CACHE_DIR`, else `$XDG_CACHE_HOME/gradc`, else `~/.cache/gradc`."""
    if env := os.environ.get("GRADC_CACHE_DIR"):
        return Path(env)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "gradc"
    return Path.home() / ".cache" / "gradc"
