"""factor-broadcasts: chains of elementwise ops on one tensor scaled by
broadcast vectors run on the vectors, with one full-size scaling at the end.

Expects: array-level functions (after array-simplify). Batched tangents
(forward-over-reverse Hessians) are the typical input: the 50x1000
tangent of X^T goes through neg, mul/div by broadcast 1000-vectors,
add/sub and selects with broadcast masks.

Guarantees: every float value V of shape S that such a chain computes from
one base value T of shape S is tracked in the form

    V = select(bcast(k), bcast(c) * T + bcast(e), bcast(z))

with k (a mask), c, e, z small tensors, all broadcast to S by the same
`array.broadcast` dims ("the key"). Rules: T itself is (k=1, c=1, e=0);
a broadcast of the key or a splat is (k=0, z=it); neg; mul and div by a
form without base, when e is 0; add and sub of forms of the same base
where at most one of them holds a multiple of T at each position (a
broadcast added goes into e; a*T + b*T is never (a+b)*T); select with a
mask without base. Where a chain leaves the family (its value is used by
any other op or returned), `select(bcast(k), bcast(c) * T + bcast(e),
bcast(z))` is built once (the parts that are 1, 0 or all-true left out);
the k, c, e, z arithmetic runs on the small shape. A connected chain is
rewritten only when it saves elementwise work (full-size ops times S's
elements against the small ops times the small shape's elements plus the
full-size ops of the materializations; broadcasts counted free; ops no
exit needs count nothing), so a single op is left alone. Nothing is
erased: run `dce` afterwards.

Numbers: where k is false (positions a select zeroed or replaced) the
value is z, computed by the same float ops in the same order: identical up
to the sign of a zero. Elsewhere products are reassociated, (t*a)*b as
t*(a*b), and sums (t + a) + b as t + (a + b): results can differ in the
last bits, and where a product or sum of the vectors overflows or
underflows. Infinities and NaNs come out where they did, with the same
signs: a product's NaN-or-inf class and sign do not depend on the order of
its factors, nor a sum's on the order of its terms, and the rules that
would break this ((a-b)*inf is inf where a*inf - b*inf is NaN; (t+e)*inf
against t*inf + e*inf) are not applied.
Why: docs/lowering.md ("Factored broadcasts").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import array
from gradc.dialects.array.base import is_float
from gradc.support.dense import dense_to_numpy, numpy_dtype, splat_dense, splat_element
from gradc.support.limits import MAX_CONSTANT_ELEMENTS


def _splat(op: array.ConstantOp) -> np.generic | None:
    """The one value of a constant whose elements are all equal (bitwise),
    else None."""
    if (element := splat_element(op.value)) is not None:
        return element
    if not 0 < prod(op.value.type.get_shape()) <= MAX_CONSTANT_ELEMENTS:
        return None
    flat = dense_to_numpy(op.value).reshape(-1)
    same = flat.view(np.uint8).reshape(flat.size, -1) == flat[:1].view(np.uint8)
    return flat[0] if np.all(same) else None


class _Node:
    """An interned expression on small tensors: a leaf value, a constant,
    "don't care" (a part of a form no position reads), or an op."""

    __slots__ = ("op", "args", "const", "value")

    def __init__(self, op: str, args: tuple[_Node, ...] = (), const: object = None, value: SSAValue | None = None):
        self.op, self.args, self.const, self.value = op, args, const, value


class _Exprs:
    """Builds interned nodes, folding constants, selects and neutral
    elements (never 0 * x, which is NaN for an infinite x)."""

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype
        self.table: dict[tuple, _Node] = {}
        self.dc = self._intern(("dc",), lambda: _Node("dc"))
        self.true = self.boolean(True)
        self.false = self.boolean(False)
        self.one = self.number(1.0)
        self.zero = self.number(0.0)

    def _intern(self, key: tuple, make) -> _Node:
        node = self.table.get(key)
        if node is None:
            node = self.table[key] = make()
        return node

    def leaf(self, value: SSAValue) -> _Node:
        return self._intern(("leaf", id(value)), lambda: _Node("leaf", value=value))

    def boolean(self, flag: bool) -> _Node:
        return self._intern(("bool", bool(flag)), lambda: _Node("bool", const=bool(flag)))

    def number(self, x: object) -> _Node:
        scalar = self.dtype.type(x)
        return self._intern(("num", scalar.tobytes()), lambda: _Node("num", const=scalar))

    def is_zero(self, node: _Node) -> bool:
        return node.op == "num" and node.const == 0

    def is_one(self, node: _Node) -> bool:
        return node.op == "num" and node.const == 1

    def op(self, name: str, *args: _Node) -> _Node:
        return self._intern((name, *map(id, args)), lambda: _Node(name, args))

    def neg(self, x: _Node) -> _Node:
        if x.op == "dc":
            return x
        if x.op == "num":
            return self.number(-x.const)
        if x.op == "neg":
            return x.args[0]
        return self.op("neg", x)

    def arith(self, name: str, a: _Node, b: _Node) -> _Node:
        """`a name b` for name in add, sub, mul, div."""
        if a.op == "dc" or b.op == "dc":
            return self.dc
        if a.op == "num" and b.op == "num":
            with np.errstate(all="ignore"):
                x, y = a.const, b.const
                return self.number({"add": x + y, "sub": x - y, "mul": x * y, "div": x / y}[name])
        if name in ("add", "sub") and self.is_zero(b):
            return a  # x - 0 is x; x + 0 is x up to the sign of a zero
        if name == "add" and self.is_zero(a):
            return b
        if name == "sub" and self.is_zero(a):
            return self.neg(b)
        if name == "mul" and self.is_one(a):
            return b
        if name in ("mul", "div") and self.is_one(b):
            return a
        return self.op(name, a, b)

    def select(self, m: _Node, a: _Node, b: _Node) -> _Node:
        if m.op == "bool":
            return a if m.const else b
        if a.op == "sel" and a.args[0] is m:
            a = a.args[1]
        if b.op == "sel" and b.args[0] is m:
            b = b.args[2]
        if a is b or b.op == "dc":
            return a
        if a.op == "dc":
            return b
        if a is self.true and b is self.false:
            return m
        return self.op("sel", m, a, b)

    def implied(self, k: _Node, flag: bool) -> dict[_Node, bool]:
        """Facts that hold where mask `k` is `flag`."""
        if k.op == "sel":
            m, a, b = k.args
            other = self.false if flag else self.true
            if b is other:
                return {m: True, **self.implied(a, flag)}
            if a is other:
                return {m: False, **self.implied(b, flag)}
        return {} if k.op == "bool" else {k: flag}

    def under(self, node: _Node, facts: dict[_Node, bool] | None) -> _Node:
        """`node` simplified where `facts` hold (None: they contradict,
        so no position reads it)."""
        if facts is None:
            return self.dc
        if not facts:
            return node
        memo: dict[int, _Node] = {}

        def walk(n: _Node) -> _Node:
            if n in facts:
                return self.boolean(facts[n])
            if not n.args:
                return n
            if id(n) in memo:
                return memo[id(n)]
            if n.op == "sel":
                m = walk(n.args[0])
                if m.op == "bool":
                    out = walk(n.args[1] if m.const else n.args[2])
                else:
                    out = self.select(m, walk(n.args[1]), walk(n.args[2]))
            elif n.op == "neg":
                out = self.neg(walk(n.args[0]))
            else:
                out = self.arith(n.op, walk(n.args[0]), walk(n.args[1]))
            memo[id(n)] = out
            return out

        return walk(node)


def _merge(*parts: dict[_Node, bool]) -> dict[_Node, bool] | None:
    facts: dict[_Node, bool] = {}
    for part in parts:
        for node, flag in part.items():
            if facts.setdefault(node, flag) != flag:
                return None
    return facts


@dataclass(frozen=True)
class _Form:
    """select(bcast(k), bcast(c) * base + bcast(e), bcast(z)); base None
    means k is false everywhere."""

    base: SSAValue | None
    key: tuple | None
    k: _Node
    c: _Node
    e: _Node
    z: _Node


class _Block:
    """The analysis and rewrite of one block."""

    def __init__(self, block: Block):
        self.block = block
        self.exprs: dict[Attribute, _Exprs] = {}
        self.forms: dict[SSAValue, _Form] = {}
        self.family: list[Operation] = []
        self.parent: dict[Operation, Operation] = {}

    def ex(self, typ: TensorType) -> _Exprs:
        element = typ.get_element_type()
        if element not in self.exprs:
            self.exprs[element] = _Exprs(numpy_dtype(element))
        return self.exprs[element]

    def form(self, value: SSAValue, x: _Exprs) -> _Form:
        if value in self.forms:
            return self.forms[value]
        op = value.owner
        if isinstance(op, array.BroadcastOp):
            in_type = op.input.type
            assert isinstance(in_type, TensorType)
            key = (tuple(in_type.get_shape()), op.dim_map)
            return _Form(None, key, x.false, x.dc, x.dc, x.leaf(op.input))
        if isinstance(op, array.ConstantOp) and (element := _splat(op)) is not None:
            z = x.boolean(bool(element)) if isinstance(element, np.bool_) else x.number(element)
            return _Form(None, None, x.false, x.dc, x.dc, z)
        return _Form(value, None, x.true, x.one, x.zero, x.dc)

    def step(self, op: Operation) -> _Form | None:
        """The form of `op`'s result if a rule applies, else None."""
        if not isinstance(op, (array.NegOp, array.AddOp, array.SubOp, array.MulOp, array.DivOp, array.SelectOp)):
            return None
        typ = op.results[0].type
        if not isinstance(typ, TensorType) or not is_float(typ.get_element_type()):
            return None
        x = self.ex(typ)
        if isinstance(op, array.SelectOp):
            forms = [self.form(v, x) for v in (op.cond, op.true_value, op.false_value)]
        else:
            forms = [self.form(v, x) for v in op.operands]
        keys = {f.key for f in forms} - {None}
        bases = {f.base for f in forms} - {None}
        if len(keys) > 1 or len(bases) != 1:
            return None
        key, base = (keys.pop() if keys else None), bases.pop()
        if isinstance(op, array.NegOp):
            (a,) = forms
            return _Form(base, key, a.k, x.neg(a.c), x.neg(a.e), x.neg(a.z))
        if isinstance(op, array.SelectOp):
            mask, a, b = forms
            if mask.base is not None:
                return None
            facts_a, facts_b = x.implied(mask.z, True), x.implied(mask.z, False)

            def pick(pa: _Node, pb: _Node) -> _Node:
                return x.select(mask.z, x.under(pa, facts_a), x.under(pb, facts_b))

            return _Form(base, key, pick(a.k, b.k), pick(a.c, b.c), pick(a.e, b.e), pick(a.z, b.z))
        a, b = forms
        name = type(op).name.split(".")[1]
        if isinstance(op, (array.MulOp, array.DivOp)):
            if isinstance(op, array.MulOp) and a.base is None:
                a, b = b, a
            if a.base is None or b.base is not None or not (x.is_zero(a.e) or a.e.op == "dc"):
                return None  # (c*T + e) * d is not c*d*T + e*d for an infinite d
            return _Form(base, key, a.k, x.arith(name, a.c, b.z), a.e, x.arith(name, a.z, b.z))
        return self.add(x, name, base, key, a, b)

    def add(self, x: _Exprs, name: str, base: SSAValue, key: tuple | None, a: _Form, b: _Form) -> _Form:
        """a + b or a - b (name "add" or "sub")."""
        z = x.arith(name, a.z, b.z)

        def signed(n: _Node) -> _Node:
            return x.neg(n) if name == "sub" else n

        if b.k is x.false:
            return _Form(base, key, a.k, a.c, x.arith(name, a.e, b.z), z)
        if a.k is x.false:
            return _Form(base, key, b.k, signed(b.c), x.arith(name, a.z, b.e), z)
        ta, fa, tb, fb = (x.implied(a.k, True), x.implied(a.k, False), x.implied(b.k, True), x.implied(b.k, False))
        if _merge(ta, tb) is not None:
            # a*T + b*T is not (a+b)*T where T is infinite (NaN against
            # inf): only sums where at most one side holds T factor
            return None
        only_a, only_b, neither = _merge(ta, fb), _merge(fa, tb), _merge(fa, fb)

        def regions(p_a: _Node, p_b: _Node) -> _Node:
            return x.select(a.k, x.under(p_a, only_a), x.under(p_b, only_b))

        c = regions(a.c, signed(b.c))
        e = regions(x.arith(name, a.e, b.z), x.arith(name, a.z, b.e))
        k = x.true if neither is None else x.select(a.k, x.true, b.k)  # kA or kB
        return _Form(base, key, k, c, e, x.under(z, neither))

    def find(self, op: Operation) -> Operation:
        while self.parent[op] is not op:
            self.parent[op] = self.parent[self.parent[op]]
            op = self.parent[op]
        return op

    def analyze(self) -> None:
        for op in self.block.ops:
            form = self.step(op)
            if form is None or _too_large(form):
                continue
            self.forms[op.results[0]] = form
            self.family.append(op)
            self.parent[op] = op
            for operand in op.operands:
                if operand in self.forms:
                    self.parent[self.find(operand.owner)] = self.find(op)

    def run(self) -> None:
        self.analyze()
        groups: dict[Operation, list[Operation]] = {}
        for op in self.family:
            groups.setdefault(self.find(op), []).append(op)
        for ops in groups.values():
            self.rewrite(ops)

    def rewrite(self, ops: list[Operation]) -> None:
        """Materialize the exits of one connected chain if that saves work."""
        members = set(ops)
        exits = [op for op in ops if any(use.operation not in members for use in op.results[0].uses)]
        keys = {self.forms[op.results[0]].key for op in ops} - {None}
        if not exits or len(keys) != 1:
            return
        (key,) = keys
        typ = ops[0].results[0].type
        assert isinstance(typ, TensorType)
        x = self.ex(typ)
        big = prod(typ.get_shape())
        small = prod(key[0])
        full = 0
        roots: list[_Node] = []
        settled = [_settled(self.forms[op.results[0]], x) for op in exits]
        if any(f is None for f in settled):
            return
        for op, f in zip(exits, settled, strict=True):
            assert f is not None
            self.forms[op.results[0]] = f
            if f.k is x.false:
                roots.append(f.z)
                continue
            full += (not x.is_one(f.c)) + (not x.is_zero(f.e)) + (f.k is not x.true)
            roots += [f.c, f.e] if f.k is x.true else [f.c, f.e, f.k, f.z]
        live = set(exits)
        for op in reversed(ops):  # ops no exit needs are dead anyway: no saving
            if op in live:
                live.update(v.owner for v in op.operands if isinstance(v.owner, Operation) and v.owner in members)
        if len(_ops_below(roots)) * small + full * big >= len(live) * big:
            return
        emitted: dict[_Node, SSAValue] = {}
        for op in exits:
            value = op.results[0]
            out = _Emitter(x, key, typ, emitted, InsertPoint.after(op)).materialize(self.forms[value])
            value.replace_uses_with_if(out, lambda use: use.operation not in members)


def _settled(form: _Form, x: _Exprs) -> _Form | None:
    """`form` with k false where no position reads c and e, true where none
    reads z; None if a part that positions read is missing (never seen:
    the chain is then left alone rather than guessed)."""
    if form.c.op == "dc" and form.e.op == "dc":
        return None if form.z.op == "dc" else _Form(form.base, form.key, x.false, form.c, form.e, form.z)
    if form.c.op == "dc" or form.e.op == "dc":
        return None
    if form.z.op == "dc":
        return _Form(form.base, form.key, x.true, form.c, form.e, form.z)
    return form


MAX_FORM_NODES = 64
"""A form's parts hold at most this many ops; a longer chain ends there
(its value becomes the base of the next), so that the pass stays linear
in the length of the chain."""


def _too_large(form: _Form) -> bool:
    seen: set[_Node] = set()
    stack = [form.k, form.c, form.e, form.z]
    while stack:
        n = stack.pop()
        if n.args and n not in seen:
            if len(seen) == MAX_FORM_NODES:
                return True
            seen.add(n)
            stack.extend(n.args)
    return False


def _ops_below(roots: Iterable[_Node]) -> set[_Node]:
    seen: set[_Node] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n.args and n not in seen:
            seen.add(n)
            stack.extend(n.args)
    return seen


class _Emitter:
    """Builds nodes as small-shape ops at one insertion point (sharing
    those an earlier exit built) and the full-size materialization."""

    def __init__(self, x: _Exprs, key: tuple, typ: TensorType, emitted: dict[_Node, SSAValue], at: InsertPoint):
        self.x, self.key, self.typ, self.emitted, self.at = x, key, typ, emitted, at

    def insert(self, op: Operation) -> SSAValue:
        Rewriter.insert_op(op, self.at)
        self.at = InsertPoint.after(op)
        return op.results[0]

    def build(self, n: _Node) -> SSAValue:
        if n in self.emitted:
            return self.emitted[n]
        assert n.op != "dc", "a don't-care part is never read"
        if n.op == "leaf":
            assert n.value is not None
            return n.value
        if n.op in ("num", "bool"):
            dtype = np.dtype(np.bool_) if n.op == "bool" else self.x.dtype
            out = self.insert(array.ConstantOp(splat_dense(n.const, dtype, self.key[0])))
        elif n.op == "neg":
            out = self.insert(array.NegOp(self.build(n.args[0])))
        elif n.op == "sel":
            out = self.insert(array.SelectOp(*map(self.build, n.args)))
        else:
            cls = {"add": array.AddOp, "sub": array.SubOp, "mul": array.MulOp, "div": array.DivOp}[n.op]
            out = self.insert(cls(self.build(n.args[0]), self.build(n.args[1])))
        self.emitted[n] = out
        return out

    def spread(self, n: _Node) -> SSAValue:
        small = self.build(n)
        return self.insert(array.BroadcastOp(small, self.key[1], self.typ.get_shape()))

    def materialize(self, f: _Form) -> SSAValue:
        x = self.x
        if f.k is x.false:
            return self.spread(f.z)
        assert f.base is not None
        value = f.base
        if not x.is_one(f.c):
            value = self.insert(array.MulOp(value, self.spread(f.c)))
        if not x.is_zero(f.e):
            value = self.insert(array.AddOp(value, self.spread(f.e)))
        if f.k is not x.true:
            value = self.insert(array.SelectOp(self.spread(f.k), value, self.spread(f.z)))
        return value


@dataclass(frozen=True)
class FactorBroadcasts(ModulePass):
    name = "factor-broadcasts"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocks = [block for inner in op.walk() if not isinstance(inner, ModuleOp)
                  for region in inner.regions for block in region.blocks]
        for block in blocks:
            _Block(block).run()
