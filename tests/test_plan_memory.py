"""plan-memory and stack-alloc: planned layouts never let two live buffers
share bytes (a checker over the planned IR, and runs with the workspace
filled with NaN before each call against the interpreter), and they shrink
the workspace of the MLP step to its simultaneously live bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_options import CASES, _mlp_args, _mlp_step, _reference
from test_property import programs
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.parser import Parser

import gradc
import gradc.lax
import gradc.numpy as gnp
from gradc.backend.runtime import DEBUG_WORKSPACE_ENV
from gradc.backend.target_c import print_c_header, print_c_source
from gradc.dialects import loops
from gradc.frontend import pytree
from gradc.interpreter import run_function
from gradc.passes.plan_memory import PlanError, check_plan, in_place, in_place_groups, lifetimes, same_storage_kind
from gradc.pipeline import TO_LOOPS, Options, build_c, function_specs, make_context, run_pipeline

DTYPES = [np.float32, np.float64]


def _planned_loops(fn, args, **options) -> ModuleOp:
    """The loops-level IR of `fn`, printed and parsed back (so the offsets
    survive the text form)."""
    text = gradc.lower(fn, *args, options=options).loops_ir
    return Parser(make_context(), text).parse_module()


def _function(module: ModuleOp) -> func.FuncOp:
    (f,) = [op for op in module.ops if isinstance(op, func.FuncOp)]
    return f


def _figure(f: func.FuncOp, name: str) -> int:
    attr = f.attributes[f"loops.{name}"]
    assert isinstance(attr, IntegerAttr)
    return attr.value.data


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tile", [True, False])
def test_plans_pass_the_checker(case: str, dtype: type, tile: bool) -> None:
    fn, make_args = CASES[case]
    module = _planned_loops(fn, make_args(dtype), tile=tile)
    f = _function(module)
    allocs = [a for a in f.body.walk() if isinstance(a, loops.AllocOp) and a.placement.data == "workspace"]
    assert check_plan(module) == len(allocs)
    assert all(a.byte_offset is not None for a in allocs)
    assert _figure(f, "workspace_bytes") <= max(_figure(f, "buffer_bytes"), 64) + 64 * len(allocs)
    assert _figure(f, "live_bytes") <= _figure(f, "buffer_bytes")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_programs_planned_all_in_workspace(program, seed) -> None:
    """Nothing on the stack, so every temporary is planned; the plan passes
    the checker, and the C run with a NaN-filled workspace gives the
    interpreter's numbers."""
    module, in_shapes = program
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-2, 2, s) for s in in_shapes]
    expected = run_function(module, "chain", *inputs)
    specs = function_specs(module, "chain")
    lowered = run_pipeline(module.clone(), [*TO_LOOPS, "tile-matmul", "stack-alloc{threshold=0}", "plan-memory"])
    check_plan(lowered)
    run_pipeline(lowered, ["lower-loops-to-c"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DEBUG_WORKSPACE_ENV, "nan")
        compiled = build_c(print_c_source(lowered), print_c_header(lowered), "chain", specs)
    got = compiled(*inputs)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)


def _pairwise_groups(f: func.FuncOp, buffers: list) -> list[list]:
    """The in-place chains by their definition (docs/memory.md): each B in
    program order takes the first A in program order, without a successor
    yet, that dies where B is born and that `in_place` lets B overwrite;
    every pair is tried."""
    ops = list(f.body.block.ops)
    successor: dict[int, object] = {}
    taken: set[int] = set()
    for b in buffers:
        for a in buffers:
            if (a.end == b.start and a is not b and id(a) not in successor and id(b) not in taken
                    and same_storage_kind(a.alloc, b.alloc) and in_place(ops[a.end], a.views, b.views)):
                successor[id(a)] = b
                taken.add(id(b))
                break
    groups = []
    for b in (b for b in buffers if id(b) not in taken):
        groups.append([b])
        while id(groups[-1][-1]) in successor:
            groups[-1].append(successor[id(groups[-1][-1])])
    return groups


def _rolls(x):
    """A fori_loop body of concatenate-rolls: many buffers in one nest."""
    def body(i, x):
        for _ in range(3):
            x = gnp.concatenate([x[1:], x[:1]])
        return gnp.tanh(x)

    return gnp.sum(gradc.lax.fori_loop(0, 3, body, x) ** 2)


def _scanned(w, xs):
    def body(h, x):
        h = gnp.tanh(h @ w + x)
        return h, gnp.sum(h)

    h, ys = gradc.lax.scan(body, gnp.zeros(4), xs)
    return gnp.sum(h * h) + gnp.sum(ys)


IN_PLACE_PROGRAMS = {
    **{case: (fn, make_args(np.float64)) for case, (fn, make_args) in CASES.items() if case.startswith("mlp")},
    "fori rolls": (gradc.grad(_rolls), (np.linspace(0.1, 0.9, 8),)),
    "scan grad": (gradc.grad(_scanned), (np.eye(4) / 2, np.ones((3, 4)))),
}


@pytest.mark.parametrize("case", IN_PLACE_PROGRAMS)
def test_in_place_groups_are_the_pairwise_definition(case: str) -> None:
    """plan-memory finds its in-place candidates by index; it forms the very
    chains that trying every pair with `in_place` forms (all buffers in the
    workspace, so that every temporary is a candidate)."""
    fn, args = IN_PLACE_PROGRAMS[case]
    traced = gradc.lower(fn, *args).traced.module.clone()
    f = _function(run_pipeline(traced, [*TO_LOOPS, "tile-matmul", "stack-alloc{threshold=0}"]))
    buffers = lifetimes(f)
    expected = _pairwise_groups(f, buffers)
    assert any(len(group) > 1 for group in expected), "no in-place chain to compare"
    got = in_place_groups(f, buffers)
    assert [[id(b) for b in group] for group in got] == [[id(b) for b in group] for group in expected]


CHAIN = """
func.func @chain(%x: memref<4x4xf32>, %out: memref<4x4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %t0 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %x[%i, %j] : memref<4x4xf32>
      loops.store %v, %t0[%i, %j] : memref<4x4xf32>
    }
  }
  %t1 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t0[%j, %i] : memref<4x4xf32>
      loops.store %v, %t1[%i, %j] : memref<4x4xf32>
    }
  }
  %t2 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t1[%i, %j] : memref<4x4xf32>
      %e = math.exp %v : f32
      loops.store %e, %t2[%i, %j] : memref<4x4xf32>
    }
  }
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t2[%i, %j] : memref<4x4xf32>
      loops.store %v, %out[%i, %j] : memref<4x4xf32>
    }
  }
  func.return
}
"""


def _chain_allocs(offsets: tuple[int, int, int]) -> ModuleOp:
    """CHAIN with the given offsets for t0, t1, t2 (t1 transposes t0, t2 =
    exp(t1) elementwise)."""
    module = run_pipeline(Parser(make_context(), CHAIN).parse_module(), ["plan-memory"])
    allocs = [a for a in module.walk() if isinstance(a, loops.AllocOp)]
    for alloc, offset in zip(allocs, offsets, strict=True):
        alloc.offset = IntegerAttr(offset, 64)
    return module


def test_checker_accepts_in_place_and_rejects_a_transpose_over_its_input() -> None:
    assert check_plan(_chain_allocs((0, 64, 64))) == 3  # what plan-memory chose
    assert check_plan(_chain_allocs((0, 64, 0))) == 3  # t0 died before t2 is born
    with pytest.raises(PlanError, match="%t0 .* and %t1 .* share storage while both are live"):
        check_plan(_chain_allocs((0, 0, 64)))  # the transpose reads t0 at other indices
    with pytest.raises(PlanError, match="share storage"):
        check_plan(_chain_allocs((0, 32, 64)))  # overlapping bytes, not the same offset


def test_checker_rejects_every_live_pair_of_the_mlp_step_forced_together() -> None:
    module = _planned_loops(_mlp_step, _mlp_args(64, 128, 10, 32, np.float32))
    f = _function(module)
    buffers = lifetimes(f)
    pairs = [(a, b) for k, a in enumerate(buffers) for b in buffers[k + 1 :]
             if a.overlaps(b) and a.alloc.byte_offset != b.alloc.byte_offset]
    assert pairs
    declared = f.attributes["loops.workspace_bytes"]
    f.attributes["loops.workspace_bytes"] = IntegerAttr(1 << 30, 64)  # moved buffers may reach further
    for a, b in pairs:
        saved = b.alloc.offset
        b.alloc.offset = a.alloc.offset
        with pytest.raises(PlanError, match="share storage while both are live"):
            check_plan(module)
        b.alloc.offset = saved
    f.attributes["loops.workspace_bytes"] = declared
    assert check_plan(module) == len(buffers)


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("mlp") or c == "products 7x33x257"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tile", [True, False])
def test_nan_filled_workspace_gives_the_interpreters_numbers(
    case: str, dtype: type, tile: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEBUG_WORKSPACE_ENV, "nan")
    fn, make_args = CASES[case]
    args = make_args(dtype)
    expected = _reference(fn, args)
    jitted = gradc.jit(fn, options=Options(tile=tile, plan_memory=True))
    compiled = jitted.lower(*args).compiled.function
    assert compiled.work_size == 0 or compiled.fills_workspace
    rtol, atol = (2e-4, 2e-5) if dtype == np.float32 else (1e-11, 1e-12)
    for _ in range(2):  # the second call sees the first call's leftovers replaced by NaN again
        got = pytree.flatten(jitted(*args))[0]
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=case)


def test_planned_transpose_and_in_place_chain_runs_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHAIN planned and run with a NaN-filled workspace: exp(x^T), although
    t2 is written over t1 (in place) and a plan writing t1 over t0 (a
    transpose) would scramble it."""
    module = run_pipeline(Parser(make_context(), CHAIN).parse_module(), ["plan-memory"])
    offsets = [a.byte_offset for a in module.walk() if isinstance(a, loops.AllocOp)]
    assert offsets[1] == offsets[2] != offsets[0]
    run_pipeline(module, ["lower-loops-to-c"])
    monkeypatch.setenv(DEBUG_WORKSPACE_ENV, "nan")
    specs = ([((4, 4), np.float32)], [((4, 4), np.float32)])
    compiled = build_c(print_c_source(module), print_c_header(module), "chain", specs)
    x = np.arange(16, dtype=np.float32).reshape(4, 4) / 8
    np.testing.assert_allclose(compiled(x)[0], np.exp(x.T), rtol=1e-6)


UNWRITTEN = """
func.func @f(%x: memref<4xf64>, %out: memref<4xf64>) attributes {loops.num_inputs = 1 : i64} {
  %t = loops.alloc "workspace" : memref<4xf64>
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %t[%i] : memref<4xf64>
    %u = loops.load %x[%i] : memref<4xf64>
    %w = arith.mulf %v, %u : f64
    loops.store %w, %t[%i] : memref<4xf64>
    loops.store %w, %out[%i] : memref<4xf64>
  }
  func.return
}
"""


def test_nan_fill_exposes_a_read_before_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """A buffer read before it is written gives NaN with the fill, and the
    fill happens before every call, not only the first."""
    module = run_pipeline(Parser(make_context(), UNWRITTEN).parse_module(), ["plan-memory", "lower-loops-to-c"])
    source, header = print_c_source(module), print_c_header(module)
    specs = ([((4,), np.float64)], [((4,), np.float64)])
    x = np.ones(4)
    monkeypatch.setenv(DEBUG_WORKSPACE_ENV, "nan")
    filled = build_c(source, header, "f", specs)
    for _ in range(2):
        assert np.isnan(filled(x)[0]).all()
    monkeypatch.setenv(DEBUG_WORKSPACE_ENV, "zero")
    with pytest.raises(ValueError, match="GRADC_DEBUG_WORKSPACE must be 'nan' or unset, got 'zero'"):
        build_c(source, header, "f", specs)
    monkeypatch.delenv(DEBUG_WORKSPACE_ENV)
    plain = build_c(source, header, "f", specs)
    plain._work_memory[:] = 0
    assert not plain.fills_workspace
    np.testing.assert_array_equal(plain(x)[0], np.zeros(4))


@pytest.mark.parametrize("dtype", DTYPES)
def test_memory_figures_of_the_mlp_step(dtype: type) -> None:
    args = _mlp_args(64, 128, 10, 32, dtype)
    planned = gradc.lower(_mlp_step, *args)
    unplanned = gradc.lower(_mlp_step, *args, options={"plan_memory": False})
    on, off = planned.memory, unplanned.memory
    assert set(on) == set(off) == {"workspace_bytes", "stack_bytes", "buffer_bytes", "live_bytes"}
    assert on["workspace_bytes"] == planned.compiled.function.work_size
    assert off["workspace_bytes"] == unplanned.compiled.function.work_size
    assert on["workspace_bytes"] <= 1.25 * on["live_bytes"]
    assert on["workspace_bytes"] + on["stack_bytes"] < off["workspace_bytes"] + off["stack_bytes"]
    assert off["workspace_bytes"] >= off["buffer_bytes"] >= off["live_bytes"]
    assert 0 < on["stack_bytes"] <= 32768 + off["stack_bytes"]
