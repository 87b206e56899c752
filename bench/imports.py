"""How long `import functions.<step>.handler` takes in a fresh process, as `python -X importtime` reports it.

Two ways: in this checkout (bytecode caches as the venv has them: the figure issue #8 asks for), and "as
deployed": the layer's packages and the function code copied without bytecode, as `make layer` (--no-compile)
and CDK's asset (no __pycache__) ship them to Lambda's read-only /opt and /var/task, where Python compiles them
again at every cold start. boto3 and botocore stay precompiled there, as in the Lambda runtime.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from bench.paths import FUNCTIONS_DIR, LAYER_DIR
from certlib.resources import (
    LAMBDA_PYTHON_VERSION,
    REPO_ROOT,
    ResourceNames,
    function_environment,
    renewal_environment,
)

_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")
DUMMY_ACCOUNT = "123456789012"
REGION = "us-east-1"


def handler_environment(step: str) -> dict[str, str]:
    """What the stack gives a function, with dummy values, plus what the Lambda runtime sets."""
    names = ResourceNames()
    base = function_environment(
        names, f"arn:aws:kms:{REGION}:{DUMMY_ACCOUNT}:key/dummy", 3600, f"arn:aws:sns:{REGION}:{DUMMY_ACCOUNT}:dummy"
    )
    lifecycle_arn = f"arn:aws:states:{REGION}:{DUMMY_ACCOUNT}:stateMachine:{names.lifecycle_state_machine}"
    return {
        **renewal_environment(base, lifecycle_arn),
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "dummy",
        "AWS_SECRET_ACCESS_KEY": "dummy",
        "AWS_LAMBDA_FUNCTION_NAME": names.function(step),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{LAMBDA_PYTHON_VERSION}",
    }


def import_seconds(step: str, deployed_root: Path | None = None) -> float:
    """Cumulative import time of the handler module in a fresh interpreter.

    With `deployed_root` (from as_deployed_tree) the code comes from there, without writing bytecode.
    Raises RuntimeError when the import fails.
    """
    module = f"functions.{step}.handler"
    environment = handler_environment(step)
    if deployed_root is not None:
        environment.update({"PYTHONPATH": str(deployed_root), "PYTHONDONTWRITEBYTECODE": "1"})
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=deployed_root or REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"import {module} failed: {completed.stderr.strip().splitlines()[-1:]}")
    for line in reversed(completed.stderr.splitlines()):
        match = _IMPORT_LINE.match(line)
        if match and match.group(2) == module:
            return int(match.group(1)) / 1_000_000
    raise RuntimeError(f"python -X importtime printed no line for {module}")


def as_deployed_tree(root: Path) -> Path:
    """Copy, without bytecode, this venv's copy of every package the layer holds, certlib, and functions/."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for entry in sorted(LAYER_DIR.joinpath("python").iterdir()):
        if entry.name.endswith(".dist-info") or entry.name == "bin":
            continue
        if entry.name == "certlib":
            shutil.copytree(REPO_ROOT / "certlib", root / "certlib", ignore=ignore)
            continue
        stem = entry.name.split(".", 1)[0]  # _cffi_backend.cpython-313-aarch64-linux-gnu.so -> _cffi_backend
        for source in site_packages.glob(f"{stem}*"):
            if source.name.endswith(".dist-info") or not _same_module(source.name, stem):
                continue
            if source.is_dir():
                shutil.copytree(source, root / source.name, ignore=ignore)
            else:
                shutil.copy2(source, root / source.name)
    shutil.copytree(FUNCTIONS_DIR, root / "functions", ignore=ignore)
    return root


def _same_module(name: str, stem: str) -> bool:
    return name == stem or name.startswith(f"{stem}.")
