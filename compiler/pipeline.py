"""Pass pipelines: the default one in named stages, the `Options` that
choose its loops- and C-level passes, and running any pipeline by its CLI
spelling.

    run_pipeline(module, "canonicalize,cse,lower-array-to-loops")
    compile_module(module, "f")(x, y) -> [out0, ...]

Expects: for the default pipeline, a module of traced `array` and
`autodiff` ops; pass names as `gradc-opt -p` spells them, looked up in
gradc's registry and xDSL's (`canonicalize`, `cse`, `dce` are xDSL's own),
so any pipeline here can be replayed on the command line.

Guarantees: the sizes in the IR are checked before the first pass and
after each (`gradc.support.limits`); a bad pipeline, a size over the
limits, or (under `compile_for_user`) a failing pass is a `PipelineError`;
every combination of `Options` computes the same numbers (up to float
reassociation where documented).

Options: `Options` (`tile`, `plan_memory`, `threads`, `tuned`, `math`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from xdsl.context import Context
from xdsl.dialects import get_all_dialects as xdsl_dialects
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute
from xdsl.passes import ModulePass, PassPipeline
from xdsl.transforms import get_all_passes as xdsl_passes
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import get_all_dialects as gradc_dialects
from gradc.errors import PipelineError, op_location, user_location
from gradc.passes import MATH_CHOICES
from gradc.passes import get_all_passes as gradc_passes
from gradc.support.limits import SizeLimitError, check_sizes
from gradc.support.timings import Timings, timed_callback

if TYPE_CHECKING:
    import numpy as np

    from gradc.backend.runtime import CompiledFunction
    from gradc.passes.autodiff.sparsity import Pattern

DIFFERENTIATE: tuple[str, ...] = ("differentiate",)
"""Expands the `autodiff` requests (callees first), inlines calls into the
public functions and drops the private ones: call-free array code."""

ARRAY_PASSES: tuple[str, ...] = ("array-simplify", "factor-broadcasts", "canonicalize", "cse", "dce")
"""Clean-up at the array level: simplify, run chains of elementwise ops on
one tensor scaled by broadcast vectors on the vectors (batched tangents;
reassociates, see passes/factor_broadcasts.py), skip the zeros of constant
matrices in products (`gradc.specialize` makes those), then drop duplicates
and dead ops."""

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("differentiated", DIFFERENTIATE),
    ("simplified", ARRAY_PASSES),
    ("loops", ("lower-array-to-loops", "tile-matmul", "stack-alloc", "plan-memory")),
    ("c", ("lower-loops-to-c", "outline-nests")),
)
"""The default pipeline in named stages; `gradc.lower` shows the IR after
each (`Lowered.stages`)."""

DEFAULT_PIPELINE: tuple[str, ...] = tuple(name for _, passes in STAGES for name in passes)
"""From traced `array` + `autodiff` ops to the `c` dialect, ready for the `c` target."""

TO_LOOPS: tuple[str, ...] = DEFAULT_PIPELINE[: DEFAULT_PIPELINE.index("lower-array-to-loops") + 1]
"""The prefix of the default pipeline that ends at the loops level."""


@dataclass(frozen=True)
class Options:
    """What the default pipeline does at the loops level; every combination
    computes the same numbers (up to float reassociation where documented).
    The array stage itself reassociates in one place, for every choice of
    options: `factor-broadcasts` computes (t*a)*b as t*(a*b) and
    (t + a) + b as t + (a + b) on batched tangents (last bits; infinities
    and NaNs where they were; docs/lowering.md, "Factored broadcasts").

    - `tile`: BLIS-style blocking of matrix products (`tile-matmul`); off,
      each product is a plain triple loop.
    - `plan_memory`: buffers whose lifetimes do not overlap share storage,
      small ones go on the stack (`plan-memory`, `stack-alloc`); off, every
      temporary gets its own workspace slot.
    - `threads`: above 1, large independent loops run on that many OpenMP
      threads (`parallelize{threads=N}`, after tile-matmul; the C is built
      with -fopenmp). Only loops whose iterations provably touch disjoint
      memory run in parallel, never a reduction, so the results are bitwise
      those of `threads=1`.
    - `tuned`: products that `gradc.tune` has timed on this machine use the
      remembered block sizes (`tile-matmul{tuned=true}`).
    - `math`: "gradc" computes exp, log and tanh with gradc's vectorizable C
      (within 3 ulp); "libm" calls libm, one element at a time
      (`lower-loops-to-c{math=...}`).
    - `outline`: loop nests that occur more than once (the layers of a deep
      network) become one C function each (`outline-nests`), so gcc
      optimizes each distinct nest once; off, every copy stays inline.
      Bitwise the same results either way.
    - `sparse`: products with a constant, mostly-zero matrix run over its
      nonzeros (`sparse-products`, after canonicalize). Off by default: a
      skipped zero never meets an infinity or NaN of the other operand, so
      results can differ from NumPy's there; `gradc.specialize` turns it on.
    """

    tile: bool = True
    plan_memory: bool = True
    threads: int = 1
    tuned: bool = False
    math: str = "gradc"
    outline: bool = True
    sparse: bool = False

    def __post_init__(self) -> None:
        for name in ("tile", "plan_memory", "tuned", "outline", "sparse"):
            if not isinstance(getattr(self, name), bool):
                raise PipelineError(f"option {name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.threads, int) or isinstance(self.threads, bool) or self.threads < 1:
            raise PipelineError(f"option threads must be an integer >= 1, got {self.threads!r}")
        if self.math not in MATH_CHOICES:
            raise PipelineError(f"option math must be one of {', '.join(MATH_CHOICES)}, got {self.math!r}")

    @classmethod
    def make(cls, options: Options | dict[str, Any] | None = None, **values: Any) -> Options:
        """`options` (an Options or a dict of its fields) updated by `values`;
        an unknown name is a PipelineError that lists the known ones."""
        merged = dict(options.as_dict() if isinstance(options, Options) else options or {})
        merged.update(values)
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(merged) - set(known))
        if unknown:
            raise PipelineError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}")
        return cls(**merged)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def loop_passes(self) -> tuple[str, ...]:
        """The passes of the `loops` stage for these options."""
        passes = ["lower-array-to-loops"]
        if self.tile:
            passes.append("tile-matmul{tuned=true}" if self.tuned else "tile-matmul")
        if self.threads > 1:
            passes.append(f"parallelize{{threads={self.threads}}}")
        if self.plan_memory:
            # After tiling, which adds the packed panels, and parallelize,
            # which widens per-thread scratch; stack first, so that
            # plan-memory lays out only what stays in the workspace.
            passes += ["stack-alloc", "plan-memory"]
        return tuple(passes)

    def c_passes(self) -> tuple[str, ...]:
        """The passes of the `c` stage for these options."""
        lower = "lower-loops-to-c" if self.math == "gradc" else f"lower-loops-to-c{{math={self.math}}}"
        return (lower, "outline-nests") if self.outline else (lower,)

    def array_passes(self) -> tuple[str, ...]:
        """The passes of the `simplified` stage for these options."""
        if not self.sparse:
            return ARRAY_PASSES
        at = ARRAY_PASSES.index("canonicalize") + 1
        return (*ARRAY_PASSES[:at], "sparse-products", *ARRAY_PASSES[at:])

    def stages(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        chosen = {"simplified": self.array_passes(), "loops": self.loop_passes(), "c": self.c_passes()}
        return tuple((name, chosen.get(name, passes)) for name, passes in STAGES)

    def pipeline(self) -> tuple[str, ...]:
        return tuple(name for _, passes in self.stages() for name in passes)


DEFAULT_OPTIONS = Options()


def available_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass by CLI name: xDSL's, then gradc's (which win a clash)."""
    return {**xdsl_passes(), **gradc_passes()}


def make_context() -> Context:
    """A context that knows xDSL's dialects and gradc's (loaded on use)."""
    ctx = Context()
    for name, factory in {**xdsl_dialects(), **gradc_dialects()}.items():
        ctx.register_dialect(name, factory)
    return ctx


def parse_pipeline(passes: str | Sequence[str], timings: Timings | None = None) -> PassPipeline:
    """`"a,b{opt=1},c"` (or a list of such specs) as an xDSL PassPipeline
    that checks the sizes in the IR before the first pass and after each
    (`gradc.support.limits`); with `timings`, it records there the wall
    time of each pass by name, and of those checks as `check-sizes`."""
    spec = passes if isinstance(passes, str) else ",".join(passes)
    callback = _check_sizes if timings is None else timed_callback(timings, _check_sizes, "check-sizes")
    try:
        return PassPipeline.parse_spec(available_passes(), spec, callback)
    except Exception as err:  # xDSL: ValueError for unknown passes, others for bad options
        raise PipelineError(f"bad pass pipeline '{spec}': {err}") from None


def _check_sizes(previous: ModulePass | None, module: ModuleOp, following: ModulePass | None) -> None:
    try:
        check_sizes(module)
    except SizeLimitError as err:
        where = f" (after pass {previous.name})" if previous is not None else ""
        raise PipelineError(f"{err}{where}") from None


def run_pipeline(module: ModuleOp, passes: str | Sequence[str], timings: Timings | None = None) -> ModuleOp:
    """Apply `passes` to `module` in place and return it (`timings`: see
    `parse_pipeline`, plus `pipeline-setup`: making the passes, which
    imports their modules on first use). A pass that fails raises xDSL's
    PassFailedException, whose notes show the module with the failing op
    marked (what a pass writer wants to see)."""
    if timings is None:
        parse_pipeline(passes).apply(make_context(), module)
        return module
    with timings.measure("pipeline-setup"):
        pipeline, ctx = parse_pipeline(passes, timings), make_context()
    pipeline.apply(ctx, module)
    return module


def compile_for_user(module: ModuleOp, passes: str | Sequence[str], timings: Timings | None = None) -> ModuleOp:
    """`run_pipeline` for gradc.jit / gradc.lower: a pass that fails raises
    a PipelineError with its message (not the module dump), located at the
    op it failed on when the pass says which (`error.op`) and that op has a
    source location, else at the user's line that asked for the compilation
    (e.g. a checkpoint budget that does not hold one state of its loop).
    `timings`: see `parse_pipeline`."""
    try:
        return run_pipeline(module, passes, timings)
    except PassFailedException as err:
        message = str(err.args[0] if err.args else err).splitlines()[0]
        where = op_location(getattr(err, "op", None)) or user_location()
        raise PipelineError(message, location=where) from None


def derivative_pattern(
    fn: func.FuncOp, functions: Sequence[func.FuncOp], wrt: Sequence[int], hessian: bool = False
) -> Pattern:
    """The structural pattern of the Jacobian (or, with `hessian`, the
    Hessian) of `fn` with respect to its arguments `wrt`
    (passes/autodiff/sparsity.py), computed on a copy of `fn` and the
    `functions` it reaches (while tracing, the trace's function table),
    their derivative requests expanded first (as autodiff-jacobian sees
    them); the originals are left as they are. A request that cannot be
    expanded is a PipelineError located as compile_for_user's."""
    from gradc.dialects.autodiff import REQUEST_OPS
    from gradc.passes.autodiff.requests import expand_requests, referenced_symbols
    from gradc.passes.autodiff.sparsity import hessian_pattern, jacobian_pattern

    table = {f.sym_name.data: f for f in functions}
    table[fn.sym_name.data] = fn
    reached: dict[str, func.FuncOp] = {}
    todo = [fn]
    while todo:
        f = todo.pop()
        if f.sym_name.data in reached:
            continue
        reached[f.sym_name.data] = f
        todo += [table[name] for op in f.walk() for name in referenced_symbols(op) if name in table]
    copies = {name: f.clone() for name, f in reached.items()}
    target = copies[fn.sym_name.data]
    copy = ModuleOp(list(copies.values()))
    if any(isinstance(op, REQUEST_OPS) for op in copy.walk()):
        # Only the requests, as autodiff-jacobian sees the callee when it
        # expands the sparse request: custom rules and stop_gradient stay.
        try:
            expand_requests(copy, REQUEST_OPS, "differentiate")
        except PassFailedException as err:
            message = str(err.args[0] if err.args else err).splitlines()[0]
            raise PipelineError(message, location=op_location(getattr(err, "op", None)) or user_location()) from None
    return (hessian_pattern if hessian else jacobian_pattern)(copy, target, wrt)


def lower_to_c(module: ModuleOp) -> ModuleOp:
    """Run the default pipeline: array level in, `c` dialect out (in place)."""
    return run_pipeline(module, DEFAULT_PIPELINE)


ArraySpec = tuple[tuple[int, ...], "np.dtype"]


def function_specs(module: ModuleOp, fn_name: str) -> tuple[list[ArraySpec], list[ArraySpec]]:
    """(shape, dtype) of each argument and result of the array-level
    `func.func @fn_name` (what the C function takes and fills)."""
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == fn_name:
            fn_type = op.function_type
            return [_spec(t) for t in fn_type.inputs.data], [_spec(t) for t in fn_type.outputs.data]
    raise KeyError(f"no function @{fn_name} in the module")


def memory_figures(fn: func.FuncOp) -> dict[str, int]:
    """The memory figures of a loops-level function, as plan-memory and
    lower-array-to-loops recorded them (see plan_memory.memory_figures)."""
    from gradc.passes.plan_memory import memory_figures as figures

    return figures(fn)


def _spec(typ: Attribute) -> ArraySpec:
    from gradc.support.dense import numpy_dtype  # NumPy: not needed to name passes (gradc-opt --help)

    assert isinstance(typ, TensorType), typ
    return tuple(typ.get_shape()), numpy_dtype(typ.get_element_type())


def build_c(
    source: str,
    header: str,
    fn_name: str,
    specs: tuple[Sequence[ArraySpec], Sequence[ArraySpec]],
    cflags: Sequence[str] | None = None,
) -> CompiledFunction:
    """Compile printed C (through the content-hash cache) and wrap `fn_name`,
    whose inputs and outputs are `specs`."""
    from gradc.backend.build import build
    from gradc.backend.runtime import CompiledFunction
    from gradc.passes.autodiff.sparsity import Pattern

    library = build(source, header, [fn_name], None if cflags is None else tuple(cflags))
    inputs, outputs = specs
    return CompiledFunction(library, fn_name, inputs, outputs)


def compile_module(
    module: ModuleOp, fn_name: str, cflags: Sequence[str] | None = None
) -> CompiledFunction:
    """Lower an array-level module (in place), print and build its C, and
    return `fn_name` as a callable on NumPy arrays giving a list of results."""
    from gradc.dialects.c import c_identifier
    from gradc.backend.target_c import print_c_header, print_c_source

    specs = function_specs(module, fn_name)
    lower_to_c(module)
    symbol = c_identifier(fn_name)
    return build_c(print_c_source(module), print_c_header(module), symbol, specs, cflags)


def jacobian_strategies(module: ModuleOp) -> list[dict[str, Any]]:
    """What each mode-"auto" Jacobian request of `module` chose, and every
    candidate's multiplication count (passes/autodiff/elimination.py;
    imported on first use, off the import path of `gradc.jit`)."""
    from gradc.passes.autodiff.elimination import jacobian_strategies as strategies

    return strategies(module)


__all__ = [
    "jacobian_strategies",
    "DEFAULT_PIPELINE",
    "DEFAULT_OPTIONS",
    "Options",
    "DIFFERENTIATE",
    "STAGES",
    "ARRAY_PASSES",
    "TO_LOOPS",
    "available_passes",
    "make_context",
    "parse_pipeline",
    "run_pipeline",
    "compile_for_user",
    "lower_to_c",
    "function_specs",
    "build_c",
    "compile_module",
]
