"""lit configuration for gradc's FileCheck tests (one folder per dialect,
pass and tool; see docs/writing-a-pass.md).

RUN lines name the tools plainly (`gradc-opt`, `xdsl-opt`, `filecheck`): the
directory of the Python running lit (the venv's bin/) is put first on PATH,
so they are the venv's. `not CMD` (lit's built-in) succeeds when CMD fails;
pipe its stderr into filecheck and start with `CHECK-NOT: Traceback` to also
insist that the failure is a diagnostic rather than a crash. (The Python
filecheck has no --implicit-check-not; its options go before the file name.)

Tests that compile the generated C say `REQUIRES: c-compiler` and use
`%cc -c FILE.c`, which is the system C compiler in strict C99 with warnings
as errors.
"""

import os
import shutil
import sys

import lit.formats

config.name = "gradc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.excludes = ["Inputs"]

config.test_source_root = os.path.dirname(os.path.abspath(__file__))
# Output/ directories go under build/ (git-ignored), not into the source tree.
config.test_exec_root = os.path.join(
    os.path.dirname(config.test_source_root), "build", "lit"
)

tool_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join(
    [tool_dir, config.environment.get("PATH", os.environ.get("PATH", ""))]
)
for tool in ("gradc-opt", "xdsl-opt", "filecheck"):
    if shutil.which(tool, path=config.environment["PATH"]) is None:
        lit_config.fatal(
            f"'{tool}' not found next to {sys.executable}; "
            "run `pip install -e '.[test]'` in the venv that runs lit"
        )

# gradc's settings (the build cache, GRADC_SANITIZE) and a sanitized run's
# runtime preload reach the tests.
for name, value in os.environ.items():
    if name.startswith("GRADC_") or name in ("HOME", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        config.environment[name] = value

# `%python FILE.py` runs a Python script with lit's own interpreter (the
# venv's): lit/regressions/ holds the programs the fuzzer found as scripts.
config.substitutions.append(("%python", sys.executable))

c_compiler = shutil.which("gcc") or shutil.which("cc")
if c_compiler is not None:
    config.available_features.add("c-compiler")
    config.substitutions.append(
        ("%cc", f"{c_compiler} -std=c99 -Wall -Wextra -Werror")
    )
