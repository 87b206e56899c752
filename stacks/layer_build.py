"""Build the Lambda layer (`make layer`): the functions' dependencies and certlib, with bytecode for the runtime.

Lambda's /opt is read-only, so a layer without bytecode is compiled again at every cold start (about 200 ms for
ours). The bytecode must come from the runtime's own Python version (a `.pyc` names the interpreter that wrote it),
so it is compiled with a local CPython of that version, `python3.13` for our runtime: `RUNTIME_PYTHON` when set,
else `python3.13` on PATH, else pyenv's newest 3.13. The `.pyc` files are unchecked-hash based: CDK zips assets
with a fixed timestamp, which would make timestamp-based ones stale on arrival.

Without such an interpreter the layer is still built, without bytecode, and a warning says what it costs.

The packages come from requirements-lambda.lock with `--require-hashes`: exact versions, and each wheel pip takes
must match one of the sha256 the lock records for that release (it records every file's, arm64 and x86_64 alike).
The host variant adds the runtime's SDK with the pins and hashes of requirements.lock (`make lock` writes both).

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
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from deploy.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION
from deploy.paths import REPO_ROOT

REQUIREMENTS = REPO_ROOT / "requirements-lambda.lock"
# The CLI's and CDK app's lock: the runtime SDK's pins and hashes for the host variant (the venv has the same versions).
SDK_LOCK = REPO_ROOT / "requirements.lock"
# The Lambda Python runtime has these; the layer would only carry a second copy (30 MB of botocore). The functions
# import botocore (and jmespath under it), never boto3 or s3transfer (certlib.services: cold start); those are listed
# so that no dependency that brings them puts them in the layer.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
# What the runtime provides, at the versions SDK_LOCK pins, for a layer that stands in for the runtime too.
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
    """Install requirements-lambda.lock (hashes required) for the runtime's Python and `wheel_platform` into
    `directory`/python, add certlib, and compile bytecode with the runtime's Python when there is one.

    `with_runtime_sdk` keeps boto3 and the rest of what Lambda's runtime provides (for running the layer here).
    Raises LayerBuildError when pip or the compiler fails, or a lock lacks what the build needs.
    """
    target = directory / "python"
    shutil.rmtree(directory, ignore_errors=True)
    target.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(target)]
    wheels = ["--platform", wheel_platform, "--implementation", "cp", "--python-version", LAMBDA_PYTHON_VERSION]
    with tempfile.TemporaryDirectory(prefix="layer-requirements-") as scratch:
        requirements = REQUIREMENTS
        if with_runtime_sdk:
            requirements = Path(scratch) / "requirements-host.lock"
            requirements.write_text(_with_runtime_sdk(REQUIREMENTS.read_text(), SDK_LOCK.read_text()))
        _run(
            [*pip, *wheels, "--only-binary=:all:", "--require-hashes", "-r", str(requirements)],
            "pip could not install the layer's requirements",
        )
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


def lock_entries(text: str) -> dict[str, list[str]]:
    """The requirements of a hash-pinned lock file by normalized package name, each as one line with its markers and
    `--hash` options (a name has several entries when the lock pins it per Python version)."""
    entries: dict[str, list[str]] = {}
    logical = ""
    for line in text.splitlines():
        if not logical and (not line.strip() or line.lstrip().startswith("#")):
            continue
        logical += line.strip().removesuffix("\\").strip() + " "
        if line.rstrip().endswith("\\"):
            continue
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", logical)
        if name is None:
            raise LayerBuildError(f"unexpected line in a lock file: {logical.strip()[:80]!r}")
        entries.setdefault(canonical_name(name.group()), []).append(logical.strip())
        logical = ""
    return entries


def canonical_name(name: str) -> str:
    """A distribution's name as the package index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _with_runtime_sdk(layer_lock: str, sdk_lock: str) -> str:
    """The layer's lock plus the runtime SDK's entries (hashes included) that `sdk_lock` has and it lacks."""
    layer = lock_entries(layer_lock)
    sdk = lock_entries(sdk_lock)
    missing = [name for name in RUNTIME_SDK_REQUIREMENTS if canonical_name(name) not in sdk]
    if missing:
        raise LayerBuildError(f"{SDK_LOCK.name} has no entry for {', '.join(missing)}: run `make lock`")
    added = [
        entry
        for name in RUNTIME_SDK_REQUIREMENTS
        if canonical_name(name) not in layer
        for entry in sdk[canonical_name(name)]
    ]
    return layer_lock.rstrip("\n") + "\n# The runtime's SDK, from " + SDK_LOCK.name + "\n" + "\n".join(added) + "\n"


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
