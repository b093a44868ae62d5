"""Stack frames of generated C (issue #6, item 3): the promise stack-alloc
documents holds for what gcc really builds.

Every program here is compiled once by `gradc.stack_usage.measure` at the
default flags (`DEFAULT_FLAGS`, so `$GRADC_CFLAGS` does not change what is
checked) with `-Wall -Wextra -Werror -fstack-usage -fcallgraph-info=su`,
and checked: every frame is `static` (no VLA, no alloca), and the deepest
call chain of every public function is at most its reported `stack_bytes`
plus RESERVE (so within stack-alloc's `budget` + RESERVE). A few are also
built at -O0, where the looser O0_RESERVE holds. Frames are measured by gcc,
independently of gradc's own count.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

import gradc
import gradc.numpy as gnp
from fuzz.programs import batch_function, batches, make_args
from gradc.backend.build import DEFAULT_FLAGS
from gradc.passes.plan_memory import STACK_BYTES_ATTR
from gradc.passes.stack_alloc import O0_RESERVE, RESERVE
from gradc.pipeline import DEFAULT_OPTIONS, compile_for_user
from gradc.stack_usage import RED_ZONE, StackUsageError, measure

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import mlp_step  # noqa: E402


def _mlp(config: str, **options):
    p, x, y = mlp_step.problem(config)
    return gradc.lower(mlp_step._gradc_step(), p, x, y, options=options)


def _matmul(n: int, dtype):
    a = np.ones((n, n), dtype)
    return gradc.lower(lambda a, b: a @ b, a, a)


def _rosenbrock_hessian():
    def rosenbrock(x):
        return gnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return gradc.lower(gradc.hessian(rosenbrock), np.linspace(-1, 1, 16))


def _scan_grad(checkpoint: str | None):
    def loss(w, x0):
        x = gradc.fori_loop(0, 64, lambda i, x: x + 0.1 * gnp.tanh(w @ x), x0)
        return gnp.sum(x * x)

    w, x0 = np.eye(16) * 0.5, np.linspace(-1, 1, 16)
    return gradc.lower(gradc.grad(loss, checkpoint=checkpoint), w, x0)


PROGRAMS = {
    "mlp 64-128-10 b32": lambda: _mlp("(a) 64-128-10 b32"),
    "mlp 784-512-10 b128": lambda: _mlp("(b) 784-512-10 b128"),
    "mlp 64-128-10 b32 threads=2": lambda: _mlp("(a) 64-128-10 b32", threads=2),
    "mlp 784-512-10 b128 threads=2": lambda: _mlp("(b) 784-512-10 b128", threads=2),
    **{f"matmul {n} {t.__name__}": (lambda n=n, t=t: _matmul(n, t))
       for n in (8, 32, 64, 256, 512) for t in (np.float32, np.float64)},
    "hessian rosenbrock 16": _rosenbrock_hessian,
    "scan grad checkpoint=none": lambda: _scan_grad(None),
    "scan grad checkpoint=binomial(snapshots=4)": lambda: _scan_grad("binomial(snapshots=4)"),
}


@cache
def _lowered(name: str):
    return PROGRAMS[name]()


def _stack_bytes(lowered) -> dict[str, int]:
    return {lowered.name: lowered.memory["stack_bytes"]}


@pytest.mark.parametrize("name", PROGRAMS)
def test_frames_within_promise(name: str) -> None:
    lowered = _lowered(name)
    report = measure(lowered.c_source, DEFAULT_FLAGS)
    chain = report.chain(lowered.name)[1]
    print(f"FIGURE {name}: stack_bytes {lowered.memory['stack_bytes']} frame {report.frames[lowered.name].bytes} "
          f"needs {report.needs(lowered.name)} ({' -> '.join(chain)}) "
          f"external {sorted(report.externals_reached(lowered.name))}")
    assert report.violations(_stack_bytes(lowered), RESERVE) == []


def _with_budget(lowered, budget: int):
    """`lowered` with its C made by the default pipeline with
    `stack-alloc{budget=...}` (set before its C is first asked for), and
    the stack bytes per function."""
    passes = [f"stack-alloc{{budget={budget}}}" if p == "stack-alloc" else p for p in DEFAULT_OPTIONS.pipeline()]
    loops = compile_for_user(lowered.traced.module.clone(), passes[:-len(DEFAULT_OPTIONS.c_passes())])
    stack = {f.sym_name.data: f.attributes[STACK_BYTES_ATTR].value.data
             for f in loops.ops if STACK_BYTES_ATTR in f.attributes}
    lowered.__dict__["_c_module"] = compile_for_user(loops, DEFAULT_OPTIONS.c_passes())
    return lowered, stack


def _mlp_step_numpy(p, x, y):
    """The training step of bench/mlp_step.py by hand, in float64."""
    p = {k: v.astype(np.float64) for k, v in p.items()}
    h = np.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.sum(y * logp) / x.shape[0]
    dlogits = (np.exp(logp) - y) / x.shape[0]
    dh = dlogits @ p["w2"].T * (1 - h * h)
    grads = {"w2": h.T @ dlogits, "b2": dlogits.sum(0), "w1": x.T @ dh, "b1": dh.sum(0)}
    return loss, {k: p[k] - mlp_step.LEARNING_RATE * grads[k] for k in p}


@pytest.mark.parametrize("budget", [0, 1024, 12288])
def test_small_budgets_within_promise(budget: int) -> None:
    """Within the budget, tile-matmul's packed panels (10240 bytes on the
    stack at the default budget here) included; the step still computes
    what NumPy does."""
    lowered, stack = _with_budget(_mlp("(a) 64-128-10 b32"), budget)
    assert stack["sgd_step"] <= budget
    report = measure(lowered.c_source, DEFAULT_FLAGS)
    print(f"FIGURE budget {budget}: stack_bytes {stack['sgd_step']} needs {report.needs('sgd_step')}")
    assert report.violations(stack, RESERVE) == []
    p, x, y = mlp_step.problem("(a) 64-128-10 b32")
    loss, params = lowered.compile()(p, x, y)
    want_loss, want = _mlp_step_numpy(p, x, y)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    for k in want:
        np.testing.assert_allclose(params[k], want[k], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp 64-128-10 b32", "mlp 784-512-10 b128 threads=2",
                                  "scan grad checkpoint=binomial(snapshots=4)"])
def test_frames_at_O0_within_looser_promise(name: str) -> None:
    lowered = _lowered(name)
    report = measure(lowered.c_source, ("-O0",))
    chain = report.chain(lowered.name)[1]
    print(f"FIGURE -O0 {name}: stack_bytes {lowered.memory['stack_bytes']} needs {report.needs(lowered.name)} "
          f"({' -> '.join(chain)})")
    assert report.violations(_stack_bytes(lowered), O0_RESERVE) == []


@seed(6)
@settings(max_examples=3, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(batches(size=10))
def test_random_programs_within_promise(batch: list[dict]) -> None:
    """3 batches of 10 programs from the fuzz generator, each one function
    (the first is Hypothesis's smallest, the other two are random)."""
    fn, _ = batch_function(batch)
    args = [a for k, program in enumerate(batch) for a in make_args(program, k)]
    lowered = gradc.lower(fn, *args)
    report = measure(lowered.c_source, DEFAULT_FLAGS)
    print(f"FIGURE random batch: stack_bytes {lowered.memory['stack_bytes']} needs {report.needs(lowered.name)}")
    assert report.violations(_stack_bytes(lowered), RESERVE) == []


UNUSED_SCAN_BUFFER = {
    "dtype": "float32", "inputs": [(), (), (1,)],
    "steps": [("reshape", 0, (1,)), ("rscan", 0, 2), ("minimum", 4, 0)],
    "outputs": [5, 4, 5], "request": "jacrev", "input_dtypes": ["float32", "float32", "float32"],
}


def test_unused_scan_buffer_compiles_without_warnings() -> None:
    """Found by test_random_programs_within_promise: the adjoint of a scan
    step popped a tape entry it does not read into a local array that
    nothing read (-Wunused-but-set-variable); lower-array-to-loops now
    removes buffers that are only written (remove_dead_buffers)."""
    fn, _ = batch_function([UNUSED_SCAN_BUFFER])
    measure(gradc.lower(fn, *make_args(UNUSED_SCAN_BUFFER, 0)).c_source, DEFAULT_FLAGS)


BIG_LOCAL = """
static void leaf(double *x) { volatile double big[4096]; big[7] = *x; *x = big[7]; }
int f(double *x, int n) { volatile double vla[n]; vla[0] = *x; leaf(x); return (int)vla[0]; }
"""


def test_checker_catches_big_frames_and_vlas() -> None:
    """The check can fail: a 32 KiB local array two calls down, and a VLA."""
    report = measure(BIG_LOCAL, ("-O2",))
    depth, chain = report.chain("f")
    assert chain == ["f", "leaf"] and depth > 4096 * 8 - RED_ZONE
    problems = report.violations({"f": 0}, RESERVE)
    assert any("f: dynamic" in p for p in problems)
    assert any(p.startswith("f: chain f -> leaf needs") for p in problems)


def test_compile_errors_are_reported() -> None:
    with pytest.raises(StackUsageError, match="failed"):
        measure("int f(void) { return undeclared; }")
