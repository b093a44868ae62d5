"""lit configuration for the example plugin's tests.

RUN lines call `gradc-opt`, `xdsl-opt` and `filecheck` from the environment
that runs lit (the directory of its Python comes first on PATH); the plugin
must be installed there (`pip install -e examples/gradc-plugin-example`).
"""

import importlib.metadata
import os
import shutil
import sys

import lit.formats

config.name = "gradc-plugin-example"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]

config.test_source_root = os.path.dirname(os.path.abspath(__file__))
# Output/ directories go under the plugin's build/ (git-ignored).
config.test_exec_root = os.path.join(
    os.path.dirname(config.test_source_root), "build", "lit"
)

tool_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join(
    [tool_dir, config.environment.get("PATH", os.environ.get("PATH", ""))]
)
for tool in ("gradc-opt", "xdsl-opt", "filecheck"):
    if shutil.which(tool, path=config.environment["PATH"]) is None:
        lit_config.fatal(f"'{tool}' not found next to {sys.executable}")

if not any(
    ep.name == "gradc_plugin_example"
    for ep in importlib.metadata.entry_points(group="xdsl.universe")
):
    lit_config.fatal(
        "the plugin is not installed in this environment; run "
        "`pip install -e examples/gradc-plugin-example` first"
    )
