"""The per-machine store of tuned matrix-product block sizes: `gradc.tune`
writes winners, `tile-matmul{tuned=true}` reads them.

Winners live in `<cache>/tuning/<machine>.json` (the machine: CPU model,
cache sizes and vector width, so a copied cache folder does not mislead
another machine), keyed by element type, batch, m, n, k and transposes.
A missing or unreadable file means no winners (a warning names an
unreadable one); the file is replaced atomically, so concurrent tuners
never leave half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradc.support.dense import numpy_dtype
from gradc.support.host import cache_root, cache_sizes, vector_bytes

TUNED_OPTIONS = ("mr", "nr", "kc", "mc", "nc", "direct_bytes")
"""The tile-matmul options a tuning result may set."""


@dataclass(frozen=True)
class Product:
    """One matrix product shape: C[batch..., m, n] = op(A) op(B)."""

    m: int
    n: int
    k: int
    dtype: str = "float32"
    batch: tuple[int, ...] = ()
    transpose_a: bool = False
    transpose_b: bool = False

    @property
    def key(self) -> str:
        batch = "x".join(map(str, self.batch)) or "-"
        return (
            f"{self.dtype} batch={batch} m={self.m} n={self.n} k={self.k} "
            f"ta={int(self.transpose_a)} tb={int(self.transpose_b)}"
        )

    def operands(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        a = (self.k, self.m) if self.transpose_a else (self.m, self.k)
        b = (self.n, self.k) if self.transpose_b else (self.k, self.n)
        return (*self.batch, *a), (*self.batch, *b)


def product_of(matmul: Any) -> Product:
    """The Product of a `loops.matmul` op."""
    batch, m, n, k = matmul.dims
    return Product(
        m, n, k, numpy_dtype(matmul.out.type.get_element_type()).name, tuple(batch),
        matmul.transpose_a is not None, matmul.transpose_b is not None,
    )


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------


def machine_id() -> str:
    """What the winners depend on: CPU model, cache sizes, vector width."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{model}|{sorted(cache_sizes().items())}|{vector_bytes()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def store_path() -> Path:
    return cache_root() / "tuning" / f"{machine_id()}.json"


_loaded: dict[Path, tuple[float, dict[str, Any]]] = {}
"""Path -> (mtime, winners) of the last read: one read per change."""


def winners() -> dict[str, Any]:
    """Every remembered winner of this machine, by Product key."""
    path = store_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _loaded.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        warnings.warn(f"gradc: ignoring unreadable tuning file {path} ({err})", stacklevel=2)
        data = {}
    _loaded[path] = (mtime, data)
    return data


def lookup(product: Product) -> dict[str, int] | None:
    """The tile-matmul options remembered for `product`, or None."""
    entry = winners().get(product.key)
    if not isinstance(entry, dict):
        return None
    options = entry.get("options")
    if not isinstance(options, dict) or not all(
        name in TUNED_OPTIONS and isinstance(value, int) and value >= 0 for name, value in options.items()
    ):
        return None
    return options


def remember(product: Product, result: dict[str, Any]) -> None:
    """Store `result` for `product` (read, update, atomic replace)."""
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(winners())
    data[product.key] = result
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tuning-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)
    _loaded.pop(path, None)
