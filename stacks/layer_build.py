"""Build the Lambda layer (`make layer`): the functions' dependencies and certlib, with bytecode for the runtime.

Lambda's /opt is read-only, so a layer without bytecode is compiled again at every cold start (about 200 ms for
ours). The bytecode must come from the runtime's own Python version (a `.pyc` names the interpreter that wrote it),
so it is compiled with a local CPython of that version, `python3.13` for our runtime: `RUNTIME_PYTHON` when set,
else `python3.13` on PATH, else pyenv's newest 3.13. The `.pyc` files are unchecked-hash based: CDK zips assets
with a fixed timestamp, which would make timestamp-based ones stale on arrival.

Without such an interpreter the layer is still built, without bytecode, and a warning says what it costs.

    python -m stacks.layer_build build/layer                      # what `make layer` runs (arm64, as deployed)
    python -m stacks.layer_build build/layer-host --for-this-machine  # same packages for this machine's CPU, with
                                                                  # the runtime's SDK: for import tests and benches
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from certlib.resources import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, REPO_ROOT

REQUIREMENTS = REPO_ROOT / "requirements-lambda.txt"
# The Lambda Python runtime has these; the layer would only carry a second copy (30 MB of botocore).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
# What the runtime provides, at the versions the venv has, for a layer that stands in for the runtime too.
RUNTIME_SDK_REQUIREMENTS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
PLATFORM_OF_ARCHITECTURE = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
STAMP = ".built"


class LayerBuildError(Exception):
    """pip or the bytecode compiler failed."""


@dataclass(frozen=True)
class LayerBuild:
    directory: Path
    platform: str
    runtime_python: str | None
    compiled_modules: int

    @property
    def python_dir(self) -> Path:
        return self.directory / "python"


@functools.cache
def runtime_python(version: str = LAMBDA_PYTHON_VERSION) -> str | None:
    """A local CPython of the Lambda runtime's version (checked by running it), or None. Looked for once per process:
    the layer build, the benchmark and the import tests each ask for it many times."""
    candidates = [os.environ.get("RUNTIME_PYTHON", ""), shutil.which(f"python{version}") or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [
        str(path) for path in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    ]
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in filter(None, candidates):
        if _reports_version(candidate, version):
            return candidate
    return None


def _reports_version(executable: str, version: str) -> bool:
    try:
        completed = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return completed.returncode == 0 and completed.stdout.strip() == version


def host_platform() -> str:
    """The manylinux platform tag of this machine's CPU."""
    machine = platform.machine()
    return PLATFORM_OF_ARCHITECTURE["arm64" if machine in ("aarch64", "arm64") else "x86_64"]


def build(directory: Path, wheel_platform: str, with_runtime_sdk: bool = False) -> LayerBuild:
    """Install requirements-lambda.txt for the runtime's Python and `wheel_platform` into `directory`/python, add
    certlib, and compile bytecode with the runtime's Python when there is one.

    `with_runtime_sdk` keeps boto3 and the rest of what Lambda's runtime provides (for running the layer here).
    Raises LayerBuildError when pip or the compiler fails.
    """
    target = directory / "python"
    shutil.rmtree(directory, ignore_errors=True)
    target.mkdir(parents=True)
    requirements = ["-r", str(REQUIREMENTS)]
    if with_runtime_sdk:
        requirements += _pinned_runtime_sdk()
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(target)]
    wheels = ["--platform", wheel_platform, "--implementation", "cp", "--python-version", LAMBDA_PYTHON_VERSION]
    _run([*pip, *wheels, "--only-binary=:all:", *requirements], "pip could not install the layer's requirements")
    if not with_runtime_sdk:
        for package in RUNTIME_PROVIDED:
            for path in [target / package, *target.glob(f"{package}-*.dist-info")]:
                shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "certlib", target / "certlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    interpreter = runtime_python()
    compiled = _compile(interpreter, target) if interpreter else 0
    result = LayerBuild(directory, wheel_platform, interpreter, compiled)
    (directory / STAMP).write_text(
        json.dumps({"platform": wheel_platform, "runtime_python": interpreter, "compiled_modules": compiled}) + "\n"
    )
    return result


def _pinned_runtime_sdk() -> list[str]:
    """The runtime SDK's packages at this venv's versions (the runtime's own are close to the newest)."""
    from importlib.metadata import PackageNotFoundError, version

    pinned = []
    for name in RUNTIME_SDK_REQUIREMENTS:
        try:
            pinned.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pinned.append(name)
    return pinned


def _compile(interpreter: str, target: Path) -> int:
    """Compile every module with the runtime's Python; return how many .pyc files there are."""
    _run(
        [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)],
        f"{interpreter} -m compileall failed on the layer",
    )
    return sum(1 for _ in target.rglob("*.pyc"))


def _run(command: list[str], failure: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise LayerBuildError(f"{failure}: " + " / ".join(detail))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.layer_build", description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--for-this-machine",
        action="store_true",
        help="wheels for this machine's CPU and the runtime's SDK kept: a layer that runs here under the runtime's "
        "Python, for import tests and benchmarks (never deployed)",
    )
    arguments = parser.parse_args(argv)
    wheel_platform = host_platform() if arguments.for_this_machine else PLATFORM_OF_ARCHITECTURE[LAMBDA_ARCHITECTURE]
    try:
        result = build(arguments.directory, wheel_platform, with_runtime_sdk=arguments.for_this_machine)
    except LayerBuildError as error:
        print(f"layer_build: {error}", file=sys.stderr)
        return 1
    if result.runtime_python is None:
        version = LAMBDA_PYTHON_VERSION
        print(
            f"layer_build: warning: no Python {version} found (RUNTIME_PYTHON, python{version} on PATH, pyenv): "
            "the layer has no bytecode, and every cold start compiles it again (about 300 ms more). "
            f"Install Python {version} or set RUNTIME_PYTHON to one, then run `make layer` again.",
            file=sys.stderr,
        )
    else:
        print(
            f"layer_build: {result.directory} for {wheel_platform}, "
            f"{result.compiled_modules} modules compiled by {result.runtime_python}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
