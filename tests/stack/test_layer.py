"""The layer `make layer` built: every compiled module fits the Lambda runtime (CPython 3.13 on arm64), every
module has bytecode the runtime will use, and every handler imports under Python 3.13 from the same packages built
for this machine's CPU (build/layer-host), laid out as Lambda lays them out.

The arm64 layer cannot run here: its wheel tags and ELF headers are checked instead. Skipped when build/layer does
not exist (run `make layer`); the bytecode and import checks need a local Python 3.13 and fail without one.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.imports import import_seconds, loaded_modules, require_runtime_python, unneeded_modules
from certlib.resources import ALL_FUNCTIONS
from deploy.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION
from deploy.paths import REPO_ROOT

LAYER = REPO_ROOT / "build" / "layer" / "python"
CPYTHON_TAG = "cp" + LAMBDA_PYTHON_VERSION.replace(".", "")  # cp313
EXTENSION_TAG = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")  # cpython-313 in a module's file name
MACHINE = {"arm64": ("aarch64", 183), "x86_64": ("x86_64", 62)}[LAMBDA_ARCHITECTURE]  # (platform tag, ELF e_machine)

pytestmark = [
    pytest.mark.skipif(not LAYER.is_dir(), reason="build/layer is absent: run `make layer` to check it"),
    pytest.mark.synth,  # checks what `make layer` built
]


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


def test_every_compiled_module_is_for_the_runtime_python_and_architecture() -> None:
    # Given the compiled modules of the layer
    modules = sorted(LAYER.rglob("*.so"))

    # When their file-name tags and ELF headers are read
    wrong = [
        str(path.relative_to(LAYER))
        for path in modules
        if not (
            (f".{EXTENSION_TAG}-{MACHINE[0]}-linux-gnu.so" in path.name or ".abi3.so" in path.name)
            and elf_machine(path) == MACHINE[1]
        )
    ]

    # Then each is built for CPython 3.13 (or the stable ABI) and for aarch64
    assert modules
    assert wrong == []


def test_every_platform_wheel_in_the_layer_has_the_runtime_tags() -> None:
    # Given the wheels installed in the layer that are not pure Python
    tags_by_wheel = {}
    for wheel_file in LAYER.glob("*.dist-info/WHEEL"):
        lines = wheel_file.read_text().splitlines()
        if "Root-Is-Purelib: false" in lines:
            tags = [line.split(": ", 1)[1] for line in lines if line.startswith("Tag:")]
            tags_by_wheel[wheel_file.parent.name] = tags

    # When their tags are checked against the runtime
    wrong = {
        wheel: tags
        for wheel, tags in tags_by_wheel.items()
        if not all((CPYTHON_TAG in tag or "abi3" in tag) and MACHINE[0] in tag for tag in tags)
    }

    # Then every one carries cp313 (or abi3) and aarch64
    assert tags_by_wheel
    assert wrong == {}


def test_the_layer_leaves_out_what_the_runtime_provides() -> None:
    # Given the layer's top-level packages / Then none of the runtime's own SDK is duplicated, and ours is there
    top_level = {path.name for path in LAYER.iterdir()}
    assert not {"boto3", "botocore", "s3transfer", "jmespath", "yaml"} & top_level
    assert {"certlib", "acme", "josepy", "cryptography", "aws_lambda_powertools"} <= top_level


# Run by the runtime's Python over the layer: every module's bytecode must be the kind `make layer` writes, for this
# interpreter's magic number, and hash to the module's source (so the runtime uses it instead of compiling again).
BYTECODE_CHECK = """
import importlib.util, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
problems, checked = [], 0
for source in sorted(root.rglob("*.py")):
    cache = pathlib.Path(importlib.util.cache_from_source(str(source)))
    if not cache.exists():
        problems.append(f"{source.relative_to(root)}: no bytecode")
        continue
    header = cache.read_bytes()[:16]
    flags = int.from_bytes(header[4:8], "little")
    if header[:4] != importlib.util.MAGIC_NUMBER:
        problems.append(f"{source.relative_to(root)}: bytecode for another Python")
    elif flags != 0b01:
        problems.append(f"{source.relative_to(root)}: not unchecked-hash bytecode (flags {flags})")
    elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
        problems.append(f"{source.relative_to(root)}: bytecode of another source")
    checked += 1
print(json.dumps({"checked": checked, "problems": problems[:20], "problem_count": len(problems)}))
"""


def test_every_module_in_the_layer_has_bytecode_the_runtime_python_uses() -> None:
    # Given the layer and a Python of the runtime's version
    interpreter = require_runtime_python()

    # When that Python checks the bytecode next to every module
    completed = subprocess.run(
        [interpreter, "-c", BYTECODE_CHECK, str(LAYER)], capture_output=True, text=True, check=True
    )
    report = json.loads(completed.stdout)

    # Then every module has unchecked-hash bytecode of its own source, for Python 3.13 (hundreds of modules)
    assert report["problems"] == [], f"{report['problem_count']} modules without usable bytecode"
    assert report["checked"] > 500


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_every_handler_imports_under_the_runtime_python_as_lambda_lays_it_out(step: str) -> None:
    # Given the function's code folder as /var/task and the layer's packages for this CPU as /opt/python
    # When Python 3.13 imports its handler module in a fresh process with the runtime's environment
    seconds = import_seconds(step)

    # Then it imports (ImportFailed otherwise), and took a measurable time
    assert seconds > 0


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_a_handler_loads_from_the_layer_no_heavy_module_its_step_does_not_need(step: str) -> None:
    # Given the layer as built for this CPU (the runtime's SDK, pyOpenSSL for acme) and Python 3.13
    # When the step's handler is imported as Lambda imports it
    loaded = loaded_modules(step)

    # Then neither the ACME library nor the key code came with it unless the step needs them, nor boto3 (bench.imports)
    assert not loaded & unneeded_modules(step), f"{step} loads {sorted(loaded & unneeded_modules(step))} at cold start"
