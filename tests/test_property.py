"""Property: for random well-typed chains of array ops, the compiled C gives
what the array-level interpreter gives."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import Float64Type, ModuleOp, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue

from gradc.dialects import array
from gradc.interpreter import run_function
from gradc.pipeline import compile_module

F64 = Float64Type()
SHAPES = [(3,), (2, 3), (3, 2), (2, 2, 3)]
UNARY = [array.NegOp, array.TanhOp, array.SinOp, array.CosOp, array.AbsOp]
BINARY = [array.AddOp, array.SubOp, array.MulOp, array.MaxOp, array.MinOp]


def shape_of(v: SSAValue) -> tuple[int, ...]:
    return tuple(v.type.get_shape())


@st.composite
def programs(draw):
    """A function built by drawing 2-8 ops over 1-2 inputs; returns the
    module and the input shapes."""
    in_shapes = draw(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=2))
    block = Block(arg_types=[TensorType(F64, list(s)) for s in in_shapes])
    values: list[SSAValue] = list(block.args)

    def add(*ops: Operation) -> SSAValue:
        block.add_ops(ops)
        values.append(ops[-1].results[0])
        return ops[-1].results[0]

    for _ in range(draw(st.integers(2, 8))):
        v = draw(st.sampled_from(values))
        same = [w for w in values if shape_of(w) == shape_of(v)]
        kind = draw(st.sampled_from(
            ["unary", "exp", "binary", "select", "transpose", "reduce", "broadcast", "matmul"]
        ))
        if kind == "unary":
            add(draw(st.sampled_from(UNARY))(v))
        elif kind == "exp":  # bounded argument: exp(tanh(v))
            t = array.TanhOp(v)
            add(t, array.ExpOp(t))
        elif kind == "binary":
            add(draw(st.sampled_from(BINARY))(v, draw(st.sampled_from(same))))
        elif kind == "select":
            w = draw(st.sampled_from(same))
            c = array.CompareOp(draw(st.sampled_from(["lt", "ge", "ne"])), v, w)
            add(c, array.SelectOp(c, v, w))
        elif kind == "transpose" and len(shape_of(v)) >= 2:
            perm = draw(st.permutations(range(len(shape_of(v)))))
            add(array.TransposeOp(v, perm))
        elif kind == "reduce" and len(shape_of(v)) >= 2:
            axis = draw(st.integers(0, len(shape_of(v)) - 1))
            add(draw(st.sampled_from([array.ReduceSumOp, array.ReduceMaxOp]))(v, [axis]))
        elif kind == "broadcast":
            add(array.BroadcastOp(v, list(range(1, len(shape_of(v)) + 1)), [2, *shape_of(v)]))
        elif kind == "matmul" and len(shape_of(v)) == 2:
            t = array.TransposeOp(v, [1, 0])
            add(t, array.MatmulOp(v, t))
    results = [values[-1]]
    if draw(st.booleans()) and len(values) > 2:
        results.append(values[len(values) // 2])
    block.add_op(func.ReturnOp(*results))
    fn = func.FuncOp(
        "chain", ([a.type for a in block.args], [r.type for r in results]), Region(block)
    )
    module = ModuleOp([fn])
    module.verify()
    return module, in_shapes


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1))
def test_compiled_chain_matches_interpreter(program, seed):
    module, in_shapes = program
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-2, 2, s) for s in in_shapes]
    expected = run_function(module, "chain", *inputs)
    got = compile_module(module.clone(), "chain")(*inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)
