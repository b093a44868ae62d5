"""`gradc-opt`: xdsl-opt with gradc's dialects, passes and `c` target.

    gradc-opt [FILE|-] -p PASS,PASS{opt=val} -t mlir|c -o OUT

Everything xdsl-opt offers comes along, and so does every other
`xdsl.universe` plugin installed next to gradc. `-p gradc-default` is the
default pipeline of `gradc.jit` (`gradc.pipeline.DEFAULT_PIPELINE`).

Guarantees: input that is malformed, fails to verify, uses a value before
defining it, exceeds the size limits or is rejected by a pass gives a
`file:line:col: error: ...` diagnostic (an error with no place in the
input: `gradc-opt: error: ...`) on stderr and exit status 1, with no
Python traceback unless `--traceback`; argparse usage errors exit with 2.
`--timing` prints, after a run, the wall time of each step (setup, reading,
parsing, each pass in pipeline order, the checks between passes, the
target's output) on stderr; stdout stays the same.

The diagnostics with an example: docs/tools.md.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO, StringIO
from typing import IO, Any, NoReturn

from xdsl.context import Context
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.parser import Parser
from xdsl.passes import ModulePass, PassPipeline
from xdsl.printer import Printer
from xdsl.universe import Universe
from xdsl.utils.arg_spec import ArgSpec, parse_pipeline
from xdsl.utils.exceptions import (
    ArgSpecParseError,
    DiagnosticException,
    MultipleSpansParseError,
    ParseError,
    ShrinkException,
    VerifyException,
)
from xdsl.utils.lexer import Span
from xdsl.utils.mlir_lexer import MLIRLexer
from xdsl.utils.target import Target
from xdsl.xdsl_opt_main import xDSLOptMain

from gradc.pipeline import DEFAULT_PIPELINE
from gradc.support.dominance import first_nested_function, first_use_before_definition
from gradc.support.limits import MAX_CONSTANT_ELEMENTS, MAX_ELEMENTS, MAX_RANK, SizeLimitError, check_sizes, type_problem
from gradc.support.timings import Timings, timed_callback
from gradc.tools.universe import GRADC_UNIVERSE

PROG = "gradc-opt"

NAMED_PIPELINES: dict[str, tuple[str, ...]] = {"gradc-default": DEFAULT_PIPELINE}
"""Pipeline names `-p` expands. They are not passes (xdsl-opt does not know
them), so they cannot clash with a pass name from any plugin."""


def _gradc_version() -> str:
    try:
        return version("gradc")
    except PackageNotFoundError:
        return "(not installed)"


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@dataclass
class CliError(Exception):
    """An error reported to the user: where, what, and optionally the source
    line under it and notes (xDSL's IR dump marking the offending op)."""

    message: str
    location: str | None = None
    context: str = ""
    notes: list[str] = field(default_factory=list[str])
    stage: str = ""
    """"parse" for a syntax error, "verify" for an xDSL DiagnosticException (a
    verifier, a pass or a target rejecting the IR), "" for anything else.
    --parsing-diagnostics and --verify-diagnostics print the first two on
    stdout and carry on, as in xdsl-opt."""
    internal: bool = False
    """A bug in gradc or a plugin rather than in the input: --traceback shows
    the Python traceback of `__cause__`."""

    def __str__(self) -> str:
        return self.message

    def render(self, show_traceback_hint: bool = True) -> str:
        where = self.location or PROG
        text = f"{where}: error: {self.message}\n{self.context}"
        if self.internal and show_traceback_hint:
            text += "note: this is a bug; rerun with --traceback to see where\n"
        return text + "".join(n if n.endswith("\n") else n + "\n" for n in self.notes)


def _parse_error(e: ParseError) -> CliError:
    where = str(e.span.get_location())
    if isinstance(e, MultipleSpansParseError):
        context = str(e).split("\n", 1)[1]
    else:
        context = e.span.print_with_context().split("\n", 1)[1]
    cause = e.__cause__
    internal = cause is not None and not isinstance(cause, DiagnosticException)
    return CliError(e.msg, where, context, stage="parse", internal=internal)


def _op_location(op: Operation | None) -> FileLineColLoc | None:
    """The location of `op`, else of its nearest located ancestor (ops created
    by a pass usually have none)."""
    while op is not None:
        if isinstance(op.location, FileLineColLoc):
            return op.location
        op = op.parent_op()
    return None


def _failing_op(module: ModuleOp) -> Operation | None:
    """The op whose verifier fails, in the order `Operation.verify` visits
    them: xDSL's VerifyException does not say which op it came from."""
    for op in module.walk(region_first=True):
        try:
            op.verify(verify_nested_ops=False)
        except Exception:
            return op
    return None


def _op_from_traceback(e: BaseException) -> Operation | None:
    """The op a pass reported an error on with `op.emit_error(...)`, found
    in the traceback because the exception does not carry it."""
    tb = e.__traceback__
    found: Operation | None = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "emit_error":
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, Operation):
                found = candidate
        tb = tb.tb_next
    return found


# ---------------------------------------------------------------------------
# Parsing with locations
# ---------------------------------------------------------------------------


STRING_LITERAL = re.compile(r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')
"""xDSL 0.74's string literal regex with `[^"...]+` inside `(...)*`: an
unterminated `"` made it try every split of the rest of the line (minutes
for a 40-character line, found by gradc.tools.fuzz). One character per repetition
matches the same strings in linear time. Set on xDSL's lexer class, since
the parser lexes its first token while it is being constructed."""
MLIRLexer._unescaped_characters_regex = STRING_LITERAL


class LocatingParser(Parser):
    """An MLIR parser that gives every op without an explicit `loc(...)` its
    `file:line:col`, and reports anything that goes wrong while an op is
    parsed (an attribute that does not verify, a custom parser that raises)
    as a ParseError at that op."""

    def __init__(
        self, ctx: Context, input: str | bytes, name: str, line_offset: int = 0
    ):
        super().__init__(ctx, input, name)
        self.line_offset = line_offset

    _dimensions: int | None = None
    """Dimensions parsed so far in the current shape (None outside one)."""

    def parse_dimension_list(self) -> list[int]:
        self._dimensions = 0
        try:
            return super().parse_dimension_list()
        finally:
            self._dimensions = None

    def parse_shape_dimension(self, allow_dynamic: bool = True) -> int:
        """Stops a shape at MAX_RANK dimensions: past that, each dimension
        costs xDSL's lexer a scan of the rest of the shape (`x1x1x...` is
        one identifier token), so a shape of 10^5 dimensions took a minute."""
        if self._dimensions is not None:
            self._dimensions += 1
            if self._dimensions > MAX_RANK:
                self.raise_error(f"a shape of over {MAX_RANK} dimensions (gradc's limit)")
        return super().parse_shape_dimension(allow_dynamic)

    _max_elements: int = MAX_ELEMENTS
    """MAX_CONSTANT_ELEMENTS while the type of a dense literal is parsed."""

    def parse_dense_int_or_fp_elements_attr(self, type: Any) -> Any:
        if type is not None and (problem := type_problem(type, MAX_CONSTANT_ELEMENTS)):
            self.raise_error(problem)  # the type came first (a custom format)
        self._max_elements = MAX_CONSTANT_ELEMENTS
        start = self.pos
        try:
            return super().parse_dense_int_or_fp_elements_attr(type)
        except NotImplementedError as e:
            # xDSL stores dense literals packed: integer widths it cannot pack
            # (i72) raised from deep inside it (found by gradc.tools.fuzz).
            self.raise_error(f"dense literals of this element type are not supported ({e})", start, self.pos)
        finally:
            self._max_elements = MAX_ELEMENTS

    def parse_shape(self) -> tuple[list[int] | None, Attribute]:
        """Rejects a shape too large to compile before anything allocates it
        (xDSL's parser expands a splat `dense<1.0>` to one Python float per
        element: hence the lower limit in a dense literal)."""
        start = self.pos
        dims, element = super().parse_shape()
        if dims is not None:
            limit, self._max_elements = self._max_elements, MAX_ELEMENTS
            if problem := type_problem(TensorType(element, dims), limit):
                self.raise_error(problem, start, self.pos)
        return dims, element

    def parse_operation(self) -> Operation:
        start = self.pos
        try:
            op = super().parse_operation()
        except ParseError:
            raise
        except RecursionError:
            span = Span(start, start, self.lexer.input)
            raise ParseError(span, "the input is nested too deeply to parse") from None
        except Exception as e:
            line_end = self.lexer.input.get_end_of_line(start)
            span = Span(start, max(start, min(self.pos, line_end)), self.lexer.input)
            message = str(e) if isinstance(e, DiagnosticException) else (
                f"could not parse this operation: {type(e).__name__}: {e}"
            )
            raise ParseError(span, message) from e
        if not isinstance(op.location, FileLineColLoc):
            loc = Span(start, start, self.lexer.input, self.line_offset).get_location()
            op.location = FileLineColLoc(
                StringAttr(loc.file), IntAttr(loc.line), IntAttr(loc.col)
            )
        return op


# ---------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------


class GradcOptMain(xDSLOptMain):
    version_format = (
        f"{PROG} {_gradc_version()}, built on xDSL version {{xdsl_version}}"
    )

    _universe: Universe | None = None
    _source_lines: list[str]
    _line_offset: int = 0
    _running: ModulePass | None = None
    _pass_started: float = 0.0

    def __init__(self, args: Sequence[str] | None = None):
        self._started = time.perf_counter()
        self._timings = Timings()
        self._source_lines = []
        super().__init__(
            description="gradc's modular optimizer driver: array programs to C",
            args=args,
        )
        self._timings.add("setup (dialects, passes, options)", time.perf_counter() - self._started)
        for name in ("input_file", "output_file"):
            if getattr(self.args, name) == "-":
                setattr(self.args, name, None)

    # -- registration -------------------------------------------------------

    def universe(self) -> Universe:
        """Every installed `xdsl.universe` plugin (xDSL, gradc and others),
        plus gradc's own registry in case gradc runs uninstalled."""
        if self._universe is None:
            try:
                found = Universe.get_multiverse()
            except ValueError as e:
                raise CliError(f"conflicting xdsl.universe plugins: {e}") from e
            merged: dict[str, dict[str, Callable[[], object]]] = {}
            for kind in ("all_dialects", "all_passes", "all_targets"):
                have = dict(getattr(found, kind))
                for name, factory in getattr(GRADC_UNIVERSE, kind).items():
                    if have.setdefault(name, factory) is not factory:
                        raise CliError(
                            f"'{name}' is defined both by gradc and by another "
                            "xdsl.universe plugin"
                        )
                merged[kind] = have
            self._universe = Universe(**merged)  # type: ignore[arg-type]
        return self._universe

    def register_all_dialects(self) -> None:
        for name, factory in self.universe().all_dialects.items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        for name, factory in self.universe().all_passes.items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        targets: dict[str, Callable[[], type[Target]]] = self.universe().all_targets
        self.available_targets.update(targets)

    def register_all_frontends(self) -> None:
        def parse_mlir(io: IO[bytes]) -> ModuleOp:
            parser = LocatingParser(
                self.ctx, io.read(), self.get_input_name(), self._line_offset
            )
            return parser.parse_module(not self.args.no_implicit_module)

        self.available_frontends["mlir"] = parse_mlir

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.prog = PROG
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--traceback",
            default=False,
            action="store_true",
            help="on an internal error (a bug in gradc or a plugin), print the "
            "Python traceback",
        )
        arg_parser.add_argument(
            "--timing",
            default=False,
            action="store_true",
            help="after the run, print on stderr the wall time of each step: "
            "parsing, each pass, the checks between passes, the output (like "
            "mlir-opt's --mlir-timing)",
        )
        arg_parser.formatter_class = argparse.RawDescriptionHelpFormatter
        arg_parser.epilog = "named pipelines for -p:\n" + "".join(
            f"  {name}  {','.join(passes)}\n" for name, passes in NAMED_PIPELINES.items()
        )

    # -- the pipeline -------------------------------------------------------

    def setup_pipeline(self) -> None:
        try:
            specs = list(parse_pipeline(self.args.passes))
        except ArgSpecParseError as e:
            # xDSL's message: a title line, `pass-pipeline:1:COL`, then the
            # spec with a caret and what was expected there.
            context = "".join(line + "\n" for line in str(e).split("\n")[2:])
            raise CliError("cannot parse the pass pipeline (-p)", context=context) from None
        passes = [self._make_pass(spec) for spec in _expand_named(specs)]
        checks = "(checks between passes)" if self.args.disable_verify else "(verify and checks between passes)"
        self.pipeline = PassPipeline(tuple(passes), timed_callback(self._timings, self._between_passes, checks))

    def _make_pass(self, spec: ArgSpec) -> ModulePass:
        if spec.name not in self.available_passes:
            close = difflib.get_close_matches(spec.name, self.available_passes, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CliError(
                f"unknown pass '{spec.name}'{hint} (`{PROG} --help` lists them)"
            )
        try:
            pass_class = self.available_passes[spec.name]()
        except Exception as e:
            raise CliError(
                f"pass '{spec.name}' could not be loaded: {type(e).__name__}: {e}",
                internal=True,
            ) from e
        try:
            return pass_class.from_pass_spec(spec)
        except (ValueError, TypeError) as e:
            raise CliError(f"bad options for pass '{spec.name}': {e}") from None

    def _between_passes(
        self,
        previous: ModulePass | None,
        module: ModuleOp,
        following: ModulePass | None,
    ) -> None:
        if self.args.time_passes and previous is not None:
            took = time.perf_counter() - self._pass_started
            print(f"Pass {previous.name} took {took} seconds")
        if not self.args.disable_verify:
            self._verify(module, previous)
        if self.pipeline.passes:
            try:
                check_sizes(module)
            except SizeLimitError as e:
                raise self._at_op(str(e), e.op, e) from None
            if previous is None and (nested := first_nested_function(module)):
                from gradc.dialects.c import show_symbol  # the c dialect loads only when used

                raise self._at_op(
                    f"func.func {show_symbol(nested.sym_name.data)} is inside another op; functions belong "
                    "at the top level of the module",
                    nested, ValueError(),
                )
            if previous is None and (found := first_use_before_definition(module)):
                op, value = found
                raise self._at_op(
                    f"{op.name} uses {_value_name(value)} before (or outside) its definition",
                    op, ValueError(),
                )
        if previous and following and self.args.print_between_passes:
            print(f"IR after {previous.name}:")
            Printer(stream=sys.stdout).print_op(module)
            print("\n\n\n")
        self._running = following
        self._pass_started = time.perf_counter()

    def _verify(self, module: ModuleOp, after: ModulePass | None) -> None:
        try:
            module.verify()
        except VerifyException as e:
            message = str(e)
            if after is not None:
                message = f"the IR after pass '{after.name}' does not verify: {message}"
            raise self._at_op(message, _failing_op(module), e) from e

    def _at_op(
        self, message: str, op: Operation | None, e: BaseException
    ) -> CliError:
        """An error located at `op`; without a location of its own, the error
        carries xDSL's IR dump, which marks the op."""
        loc = _op_location(op)
        notes = list(getattr(e, "__notes__", []))
        if loc is None:
            return CliError(
                message, self.get_input_name(), notes=notes, stage="verify"
            )
        line, col = loc.line.data, loc.column.data
        context = ""
        same_file = loc.filename.data == self.get_input_name()
        if same_file and 0 < line <= len(self._source_lines):
            context = f"{self._source_lines[line - 1]}\n{' ' * (col - 1)}^\n"
        if op is None or op.location is not loc:
            notes = [
                "note: the op has no location of its own; shown is the nearest "
                "enclosing op that has one, and the IR below marks the op\n",
                *notes,
            ]
        else:
            notes = []
        return CliError(
            message,
            f"{loc.filename.data}:{line}:{col}",
            context,
            notes=notes,
            stage="verify",
        )

    def apply_passes(self, prog: ModuleOp) -> None:
        self._running = None
        try:
            self.pipeline.apply(self.ctx, prog)
        except (CliError, ShrinkException):
            raise
        except DiagnosticException as e:
            name = self._running.name if self._running else "?"
            reason = str(e).removeprefix(f"{name}: ")
            raise self._at_op(
                f"pass '{name}' failed: {reason}", _op_from_traceback(e), e
            ) from e
        except Exception as e:
            name = self._running.name if self._running else "?"
            raise CliError(
                f"pass '{name}' crashed: {type(e).__name__}: {e}", internal=True
            ) from e

    # -- input and output ---------------------------------------------------

    def get_input_name(self) -> str:
        return self.args.input_file or "<stdin>"

    def get_input_stream(self) -> tuple[IO[bytes], str]:
        try:
            stream, extension = super().get_input_stream()
            with stream:
                data = stream.read()
        except OSError as e:
            raise CliError(
                f"cannot read '{self.get_input_name()}': {e.strerror or e}"
            ) from None
        self._source_lines = data.decode("utf-8", errors="replace").split("\n")
        return BytesIO(data), extension

    def prepare_input(self) -> tuple[list[tuple[IO[bytes], int]], str]:
        try:
            return super().prepare_input()
        except ValueError as e:
            raise CliError(f"{e}; choose the input format with -f mlir") from None

    def parse_chunk(
        self, chunk: IO[bytes], file_extension: str, start_offset: int = 0
    ) -> ModuleOp | None:
        self._line_offset = start_offset
        try:
            return super().parse_chunk(chunk, file_extension, start_offset)
        except ParseError as e:
            e.span = replace(e.span, line_offset=start_offset)
            raise _parse_error(e) from e.__cause__
        except UnicodeDecodeError as e:
            raise CliError(
                f"input is not valid UTF-8 (byte {e.start})", self.get_input_name()
            ) from None

    def output_resulting_program(self, prog: ModuleOp) -> str:
        try:
            return super().output_resulting_program(prog)
        except DiagnosticException as e:
            target = self.args.target
            reason = str(e).removeprefix(f"target {target}: ")
            raise self._at_op(
                f"target '{target}' failed: {reason}", _op_from_traceback(e), e
            ) from e
        except Exception as e:
            raise CliError(
                f"target '{self.args.target}' crashed: {type(e).__name__}: {e}",
                internal=True,
            ) from e

    def run(self) -> None:
        """Like xDSLOptMain.run, with located errors; with -o, the output file
        is written only when everything succeeded; `--timing` adds the table
        of times on stderr."""
        with self._timings.measure("read input"):
            chunks, file_extension = self.prepare_input()
        output = StringIO()
        try:
            for i, (chunk, offset) in enumerate(chunks):
                with chunk:
                    if i > 0:
                        output.write("// -----\n")
                    try:
                        with self._timings.measure("parse"):
                            module = self.parse_chunk(chunk, file_extension, offset)
                        if module is not None:
                            self.apply_passes(module)
                            with self._timings.measure(f"output (-t {self.args.target})"):
                                output.write(self.output_resulting_program(module))
                    except CliError as e:
                        if not self._expected(e):
                            raise
                        diagnostics = sys.stdout if self.args.output_file else output
                        diagnostics.write(e.render())
                    if self.args.output_file is None:
                        sys.stdout.write(output.getvalue())
                        sys.stdout.flush()
                        output = StringIO()
        except ShrinkException:
            print("Success, can shrink")
            sys.exit(0)
        if self.args.output_file is not None:
            try:
                with open(self.args.output_file, "w") as f:
                    f.write(output.getvalue())
            except OSError as e:
                raise CliError(
                    f"cannot write '{self.args.output_file}': {e.strerror or e}"
                ) from None
        if self.args.timing:
            sys.stderr.write(self._timings.table(time.perf_counter() - self._started))
        if self.args.shrink:
            print("Failure, can't shrink")
            sys.exit(1)

    def _expected(self, e: CliError) -> bool:
        """Whether --parsing-diagnostics or --verify-diagnostics asks for `e`
        to be printed on stdout instead of ending the run."""
        if e.stage == "parse":
            return self.args.parsing_diagnostics
        return e.stage == "verify" and self.args.verify_diagnostics


def _value_name(value: SSAValue) -> str:
    return f"%{value.name_hint}" if value.name_hint else "a value"


def _expand_named(specs: list[ArgSpec]) -> list[ArgSpec]:
    expanded: list[ArgSpec] = []
    for spec in specs:
        if spec.name not in NAMED_PIPELINES:
            expanded.append(spec)
        elif spec.parameters:
            raise CliError(f"pipeline '{spec.name}' takes no options")
        else:
            expanded.extend(ArgSpec(name, {}) for name in NAMED_PIPELINES[spec.name])
    return expanded


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The `gradc-opt` console script."""
    warnings.filterwarnings("default", category=DeprecationWarning)
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    try:
        GradcOptMain(args=args).run()
    except CliError as e:
        sys.stdout.flush()
        if e.internal and show_traceback and e.__cause__ is not None:
            traceback.print_exception(e.__cause__)
        sys.stderr.write(e.render(show_traceback_hint=not show_traceback))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:
        if show_traceback:
            raise
        sys.stdout.flush()
        sys.stderr.write(
            f"{PROG}: internal error: {type(e).__name__}: {e}\n"
            "note: this is a bug; rerun with --traceback to see where\n"
        )
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
