"""The layer `make layer` built: every compiled module fits the Lambda runtime (CPython 3.13 on arm64).

These machines run Python 3.11, so the layer cannot be imported here; its wheel tags and ELF headers are checked
instead. Skipped when build/layer does not exist (run `make layer`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from certlib.resources import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, REPO_ROOT

LAYER = REPO_ROOT / "build" / "layer" / "python"
CPYTHON_TAG = "cp" + LAMBDA_PYTHON_VERSION.replace(".", "")  # cp313
EXTENSION_TAG = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")  # cpython-313 in a module's file name
MACHINE = {"arm64": ("aarch64", 183), "x86_64": ("x86_64", 62)}[LAMBDA_ARCHITECTURE]  # (platform tag, ELF e_machine)

pytestmark = pytest.mark.skipif(not LAYER.is_dir(), reason="build/layer is absent: run `make layer` to check it")


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
