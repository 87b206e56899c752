"""How long a function's handler module takes to import at a cold start, as Lambda would run it.

`python3.13 -X importtime -c "import handler"` in a fresh process, as the Lambda runtime lays it out:
- the function's code folder is the working directory and first on the path (Lambda's /var/task);
- then the layer (/opt/python): `build/layer-host`, the same packages as `build/layer` and the same bytecode, built
  for this machine's CPU, with the runtime's SDK (boto3, botocore) compiled as the runtime ships it;
- the interpreter is the runtime's Python version, and writes no bytecode (/opt and /var/task are read-only);
- the environment is the stack's (dummy values) plus what the Lambda runtime sets (LAMBDA_TASK_ROOT among them:
  without it the X-Ray SDK thinks it is on a server and builds two botocore clients at import).
The figure also counts the heavy code the step loads lazily on its first invocation (STEP_NEEDS: the ACME library,
the key code), so that a lazy import lowers it only for the steps that no longer load that code at all.

`layer_without_bytecode` gives the same layer with the bytecode of our packages taken out: what a cold start costs
when the layer ships none, so that the gain of shipping it is measured side by side.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from bench.paths import FUNCTIONS_DIR, HOST_LAYER_DIR, LAYER_DIR
from certlib.resources import ResourceNames
from deploy.functions import LAMBDA_PYTHON_VERSION, function_environment, renewal_environment
from stacks.layer_build import runtime_python

# a top-level import's line (a nested one's name is indented): its cumulative microseconds and its name
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")
DUMMY_ACCOUNT = "123456789012"
REGION = "us-east-1"
HANDLER_MODULE = "handler"

ACME, KEYS = "acme", "keys"
# The heavy code of each need: the ACME library (acme, josepy, and pyOpenSSL under them) through our adapter, and our
# key code (cryptography's X.509 and key modules) through certlib.keys.
NEED_MODULES = {ACME: "certlib.adapters.acme_client", KEYS: "certlib.keys"}
# What must not be loaded in a step that does not have the need: the ACME library (with the pyOpenSSL and X.509 code
# `acme` loads itself), and the key code (certlib.keys, with that same code, which botocore would load in every step
# but for certlib.sdk_imports).
_CRYPTOGRAPHY = ("cryptography.x509", "cryptography.hazmat.primitives.asymmetric.rsa", "OpenSSL")
HEAVY_MODULES = {
    ACME: ("acme", "josepy", "certlib.adapters.acme_client", *_CRYPTOGRAPHY),
    KEYS: ("certlib.keys", *_CRYPTOGRAPHY),
}
# What no step loads: boto3 (certlib calls AWS through botocore alone, certlib.services) and s3transfer, which only
# boto3 imports (with multiprocessing under it): about 20 ms of every cold start.
NEEDED_BY_NO_STEP = ("boto3", "s3transfer")
# What each step needs at run time (it may load it lazily, on first use; tests/unit/test_handler_imports.py checks
# that no step loads what it does not need).
STEP_NEEDS: dict[str, frozenset[str]] = {
    "validate_request": frozenset(),
    "ensure_account": frozenset({ACME}),
    "create_order": frozenset({ACME}),
    "publish_challenges": frozenset(),
    "check_dns_change": frozenset(),
    "answer_challenges": frozenset({ACME}),
    "check_order": frozenset({ACME}),
    "remove_challenges": frozenset(),
    "finalize_order": frozenset({ACME, KEYS}),
    "store_certificate": frozenset({ACME, KEYS}),  # checks the certificate against its key, builds the PKCS#12 file
    "import_certificate": frozenset({KEYS}),  # ACM's checks: key matches certificate, chain
    "send_distribution": frozenset(),
    "check_distribution": frozenset(),
    "record_result": frozenset(),
    "clean_up_failure": frozenset(),
    "switch_to_fallback_account": frozenset(),
    "issue_from_private_ca": frozenset({KEYS}),  # key + CSR, no ACME
    "check_private_ca_certificate": frozenset({KEYS}),  # checks the certificate against its key
    "find_due_certificates": frozenset(),
    "start_renewal": frozenset(),
    "handle_expiry_event": frozenset(),
    "check_revocations": frozenset({ACME, KEYS}),  # ARI; OCSP and CRL signatures
    "revoke_certificate": frozenset({ACME, KEYS}),
    "report_expiry": frozenset(),
    "clean_up_stopped_execution": frozenset(),
    "export_certificate": frozenset({KEYS}),  # ACM's exported key, the PKCS#12 file
    "record_distribution": frozenset(),
    "handle_certificate_available": frozenset(),
}


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


def first_use_modules(step: str) -> list[str]:
    """The modules of the heavy code `step` needs (STEP_NEEDS), which it may load only on its first invocation."""
    return [NEED_MODULES[need] for need in sorted(STEP_NEEDS[step])]


def unneeded_modules(step: str) -> set[str]:
    """The HEAVY_MODULES of the needs `step` does not have (STEP_NEEDS), but for those a need it has loads too, and
    NEEDED_BY_NO_STEP."""
    needs = STEP_NEEDS[step]
    wanted = {module for need in needs for module in HEAVY_MODULES[need]}
    unneeded = {module for need, modules in HEAVY_MODULES.items() if need not in needs for module in modules} - wanted
    return unneeded | set(NEEDED_BY_NO_STEP)


def loaded_modules(
    step: str, layer_python: Path = HOST_LAYER_DIR / "python", interpreter: str | None = None
) -> set[str]:
    """The modules loaded once the function's handler is imported in a fresh interpreter, laid out as on Lambda.

    Raises ImportFailed when the import fails.
    """
    code = f"import json, sys, {HANDLER_MODULE}; print(json.dumps(sorted(sys.modules)))"
    completed = run_as_lambda(step, code, layer_python, interpreter)
    return set(json.loads(completed.stdout.splitlines()[-1]))


def import_seconds(step: str, layer_python: Path = HOST_LAYER_DIR / "python", interpreter: str | None = None) -> float:
    """Cumulative import time of the function's handler module in a fresh interpreter, laid out as on Lambda, plus
    that of the heavy code its step loads later (first_use_modules) when the handler did not load it already.

    Raises ImportFailed when the import fails.
    """
    statements = "; ".join(f"import {module}" for module in [HANDLER_MODULE, *first_use_modules(step)])
    lines = run_as_lambda(step, statements, layer_python, interpreter, "-X", "importtime").stderr.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        match = _IMPORT_LINE.match(lines[index])
        if match and match.group(2) == HANDLER_MODULE:
            # the handler's line closes its import; the top-level lines after it are the first-use modules' imports
            later = [_IMPORT_LINE.match(line) for line in lines[index + 1 :]]
            return sum(int(found.group(1)) for found in [match, *later] if found) / 1_000_000
    raise ImportFailed(f"{step}: python -X importtime printed no line for {HANDLER_MODULE}")


def run_as_lambda(
    step: str, code: str, layer_python: Path, interpreter: str | None, *options: str
) -> subprocess.CompletedProcess[str]:
    """`python -s [options] -c code` in the function's folder with the layer, as Lambda lays it out.

    Raises ImportFailed when it fails.
    """
    task_root = FUNCTIONS_DIR / step
    completed = subprocess.run(
        [interpreter or require_runtime_python(), "-s", *options, "-c", code],
        cwd=task_root,
        env=lambda_environment(step, task_root, layer_python),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ImportFailed(f"{step}: import {HANDLER_MODULE} failed: {completed.stderr.strip().splitlines()[-1:]}")
    return completed


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
