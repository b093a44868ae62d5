"""Opt-in autotuning of matrix-product block sizes (`gradc.tune`).

    import gradc.tune
    gradc.tune.tune(f, *args)            # every product in f, as jit(f) builds it
    gradc.tune.tune_matmul(512, 512, 512, "float32")
    fast = gradc.jit(f, tuned=True)

Guarantees: each candidate `tile-matmul` option set (`candidates`) is
built, checked against NumPy (AssertionError on wrong numbers) and timed on
the product's shape; the fastest is remembered per machine in the cache
folder (gradc.support.tuning), where `tile-matmul{tuned=true}` finds it
for every product of that shape; other shapes keep the defaults.

Why tune when the defaults come from the machine's cache sizes:
docs/tools.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from gradc.support.tuning import Product, lookup, machine_id, product_of, remember, store_path, winners

# ---------------------------------------------------------------------------
# Timing candidates
# ---------------------------------------------------------------------------


def candidates(product: Product) -> list[dict[str, int]]:
    """A few option sets around the machine's defaults: the defaults, half
    and double the depth block, taller and flatter register tiles, other
    row and column blocks, and (for products that fit) packing off or on."""
    from gradc.passes.tile_matmul import TileMatmul
    from gradc.support.dense import element_type

    base = TileMatmul().tiling(element_type(np.dtype(product.dtype)))
    lanes, kc, mc, nc = base.lanes, base.kc, base.mc, base.nc
    sets = [
        {},
        {"kc": max(8, kc // 2)},
        {"kc": kc * 2},
        {"mr": 6, "nr": 2 * lanes},
        {"mr": 4, "nr": 3 * lanes},
        {"mr": 12, "nr": lanes},
        {"mc": max(base.mr, mc // 2)},
        {"mc": mc * 2},
        {"nc": nc * 2},
        {"direct_bytes": 0},
        {"direct_bytes": 1 << 30},
    ]
    unique: list[dict[str, int]] = []
    for options in sets:
        if options not in unique:
            unique.append(options)
    return unique


def _spec(options: dict[str, int]) -> str:
    if not options:
        return "tile-matmul"
    fields = " ".join(f"{name.replace('_', '-')}={value}" for name, value in sorted(options.items()))
    return f"tile-matmul{{{fields}}}"


def _build(product: Product, options: dict[str, int], a: np.ndarray, b: np.ndarray) -> Callable[..., Any]:
    """The product alone, as `gradc.jit` traces it, tiled with `options`,
    compiled."""
    import gradc.numpy as gnp
    from gradc.backend.target_c import print_c_header, print_c_source
    from gradc.pipeline import TO_LOOPS, build_c, function_specs, run_pipeline
    from gradc.transforms.api import lower

    rank = len(a.shape)
    swap = (*range(rank - 2), rank - 1, rank - 2)

    def product_fn(a: Any, b: Any) -> Any:
        op_a = gnp.transpose(a, swap) if product.transpose_a else a
        op_b = gnp.transpose(b, swap) if product.transpose_b else b
        return op_a @ op_b

    traced = lower(product_fn, a, b).traced
    module = run_pipeline(traced.module.clone(), [*TO_LOOPS, _spec(options), "lower-loops-to-c"])
    specs = function_specs(traced.module, traced.name)
    return build_c(print_c_source(module), print_c_header(module), traced.name, specs)


def _median_seconds(call: Callable[[], Any], budget: float) -> float:
    """Median of repeated calls after warm-up, within about `budget` seconds."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    inner = max(1, int(2e-3 / once))  # batches of >= 2 ms, so the timer does not matter
    rounds = max(5, min(51, int(budget / (once * inner))))
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        samples.append((time.perf_counter() - start) / inner)
    return float(np.median(samples))


def tune_matmul(
    m: int,
    n: int,
    k: int,
    dtype: str | np.dtype = "float32",
    *,
    batch: Sequence[int] = (),
    transpose_a: bool = False,
    transpose_b: bool = False,
    options: Iterable[dict[str, int]] | None = None,
    budget: float = 0.2,
    save: bool = True,
) -> dict[str, Any]:
    """Time each candidate option set (default `candidates(...)`) on this
    product for about `budget` seconds, check its numbers against NumPy,
    and remember the fastest (unless `save=False`). Returns the record:
    `options` (the winner), `seconds`, `gflops`, `default_seconds` and every
    candidate's `timings`."""
    product = Product(m, n, k, np.dtype(dtype).name, tuple(batch), transpose_a, transpose_b)
    if product.dtype not in ("float32", "float64"):
        from gradc.errors import GradcError

        raise GradcError(f"gradc.tune: products are float32 or float64, got {product.dtype}")
    rng = np.random.default_rng(0)
    shape_a, shape_b = product.operands()
    a = rng.standard_normal(shape_a).astype(product.dtype)
    b = rng.standard_normal(shape_b).astype(product.dtype)
    op_a = np.swapaxes(a, -1, -2) if transpose_a else a
    op_b = np.swapaxes(b, -1, -2) if transpose_b else b
    expected = np.matmul(op_a.astype(np.float64), op_b.astype(np.float64))
    rtol = 1e-4 if product.dtype == "float32" else 1e-11
    scale = np.sqrt(k) * (1e-5 if product.dtype == "float32" else 1e-13)
    timings: list[dict[str, Any]] = []
    for choice in options if options is not None else candidates(product):
        function = _build(product, choice, a, b)
        (got,) = function(a, b)
        if not np.allclose(got, expected, rtol=rtol, atol=scale):
            raise AssertionError(f"gradc.tune: {_spec(choice)} gives wrong numbers for {product.key}")
        seconds = _median_seconds(lambda: function(a, b), budget)
        timings.append({"options": choice, "seconds": seconds})
    best = min(timings, key=lambda t: t["seconds"])
    flops = 2.0 * m * n * k * int(np.prod(batch or (1,)))
    default = next((t["seconds"] for t in timings if not t["options"]), None)
    record = {
        "options": best["options"],
        "seconds": best["seconds"],
        "gflops": flops / best["seconds"] / 1e9,
        "default_seconds": default,
        "timings": timings,
    }
    if save:
        remember(product, record)
    return record


def tune(
    fn: Callable[..., Any],
    *args: Any,
    budget: float = 0.2,
    options: Iterable[dict[str, int]] | None = None,
    **kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Tune every distinct matrix product of `fn` on `args` (as `gradc.jit`
    compiles it: derivatives included) over `options` (default each
    product's `candidates`) and remember the winners; returns the records
    by product key."""
    from gradc.dialects import loops
    from gradc.pipeline import TO_LOOPS, run_pipeline
    from gradc.transforms.api import lower

    lowered = lower(fn, *args, **kwargs)
    module = run_pipeline(lowered.traced.module.clone(), TO_LOOPS)
    products = {product_of(op) for op in module.walk() if isinstance(op, loops.MatmulOp)}
    results = {}
    for product in sorted(products, key=lambda p: p.key):
        results[product.key] = tune_matmul(
            product.m, product.n, product.k, product.dtype, batch=product.batch,
            transpose_a=product.transpose_a, transpose_b=product.transpose_b, budget=budget,
            options=None if options is None else list(options),
        )
    return results


__all__ = ["Product", "candidates", "lookup", "machine_id", "product_of", "remember", "store_path",
           "tune", "tune_matmul", "winners"]
