"""How long a function's handler module takes to import at a cold start, as Lambda would run it.

`python3.13 -X importtime -c "import handler"` in a fresh process, as the Lambda runtime lays it out:
- the function's code folder is the working directory and first on the path (Lambda's /var/task);
- then the layer (/opt/python): `build/layer-host`, the same packages as `build/layer` and the same bytecode, built
  for this machine's CPU, with the runtime's SDK (boto3, botocore) compiled as the runtime ships it;
- the interpreter is the runtime's Python version, and writes no bytecode (/opt and /var/task are read-only);
- the environment is the stack's (dummy values) plus what the Lambda runtime sets (LAMBDA_TASK_ROOT among them:
  without it the X-Ray SDK thinks it is on a server and builds two botocore clients at import).

`layer_without_bytecode` gives the same layer with the bytecode of our packages taken out: what a cold start costs
when the layer ships none, so that the gain of shipping it is measured side by side.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bench.paths import FUNCTIONS_DIR, HOST_LAYER_DIR, LAYER_DIR
from certlib.resources import ResourceNames
from deploy.functions import LAMBDA_PYTHON_VERSION, function_environment, renewal_environment
from stacks.layer_build import runtime_python

_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")
DUMMY_ACCOUNT = "123456789012"
REGION = "us-east-1"
HANDLER_MODULE = "handler"


class ImportFailed(Exception):
    """The handler did not import, or the runtime's Python is missing."""


def lambda_environment(step: str, task_root: Path, layer_python: Path) -> dict[str, str]:
    """What the stack gives a function, with dummy values, plus what the Lambda runtime sets."""
    names = ResourceNames()
    base = function_environment(
        names, f"arn:aws:kms:{REGION}:{DUMMY_ACCOUNT}:key/dummy", 3600, f"arn:aws:sns:{REGION}:{DUMMY_ACCOUNT}:dummy"
    )
    lifecycle_arn = f"arn:aws:states:{REGION}:{DUMMY_ACCOUNT}:stateMachine:{names.lifecycle_state_machine}"
    function_name = names.function(step)
    return {
        **renewal_environment(base, lifecycle_arn),
        "PATH": "/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": f"{task_root}:{layer_python}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": f"{HANDLER_MODULE}.handler",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "dummy",
        "AWS_SECRET_ACCESS_KEY": "dummy",
        "AWS_SESSION_TOKEN": "dummy",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{LAMBDA_PYTHON_VERSION}",
    }


def require_runtime_python() -> str:
    """Raises ImportFailed when there is no local Python of the runtime's version."""
    interpreter = runtime_python()
    if interpreter is None:
        raise ImportFailed(
            f"no Python {LAMBDA_PYTHON_VERSION} here (RUNTIME_PYTHON, python{LAMBDA_PYTHON_VERSION} on PATH, pyenv): "
            "the handlers cannot be imported as Lambda runs them"
        )
    return interpreter


def import_seconds(step: str, layer_python: Path = HOST_LAYER_DIR / "python", interpreter: str | None = None) -> float:
    """Cumulative import time of the function's handler module in a fresh interpreter, laid out as on Lambda.

    Raises ImportFailed when the import fails.
    """
    interpreter = interpreter or require_runtime_python()
    task_root = FUNCTIONS_DIR / step
    completed = subprocess.run(
        [interpreter, "-s", "-X", "importtime", "-c", f"import {HANDLER_MODULE}"],
        cwd=task_root,
        env=lambda_environment(step, task_root, layer_python),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ImportFailed(f"{step}: import {HANDLER_MODULE} failed: {completed.stderr.strip().splitlines()[-1:]}")
    for line in reversed(completed.stderr.splitlines()):
        match = _IMPORT_LINE.match(line)
        if match and match.group(2) == HANDLER_MODULE:
            return int(match.group(1)) / 1_000_000
    raise ImportFailed(f"{step}: python -X importtime printed no line for {HANDLER_MODULE}")


def layer_without_bytecode(root: Path) -> Path:
    """A copy of build/layer-host without the bytecode of what build/layer ships (the runtime's SDK keeps its own,
    as on Lambda). Returns the copy's python folder."""
    shipped = {_top_level(entry) for entry in LAYER_DIR.joinpath("python").iterdir()}
    target = root / "python"
    shutil.copytree(HOST_LAYER_DIR / "python", target)
    for entry in target.iterdir():
        if entry.is_dir() and _top_level(entry) in shipped:
            for cache in list(entry.rglob("__pycache__")):
                shutil.rmtree(cache, ignore_errors=True)
    for bytecode in target.glob("__pycache__/*.pyc"):  # single-file modules: typing_extensions.py, ...
        if _top_level(bytecode) in shipped:
            bytecode.unlink()
    return target


def _top_level(path: Path) -> str:
    """typing_extensions.cpython-313.pyc, typing_extensions.py, cryptography-50.0.2.dist-info -> the module name."""
    return path.name.split(".", 1)[0].split("-", 1)[0]
