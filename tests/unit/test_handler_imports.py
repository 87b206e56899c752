"""Each function imports only what its step needs (issue 16, cold start): a step that never speaks ACME does not load
`acme`/`josepy`, a step that touches no key does not load the key code.

Each handler is imported in a fresh interpreter laid out as on Lambda (bench/imports.py), and the heavy modules
are computed from the table of what each step needs below: a new top-level import that drags one of them into a
step that does not need it fails here. No handler loads the deploy-time code (deploy/, stacks/, sandbox/): the
layer does not ship it (issue 15). (cryptography's x509 and asymmetric modules are not checked: botocore imports
them itself through urllib3's pyOpenSSL support, which the layer has because `acme` depends on pyOpenSSL.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.imports import lambda_environment
from bench.paths import FUNCTIONS_DIR
from certlib.resources import ALL_FUNCTIONS
from deploy.paths import REPO_ROOT
from tests.unit.test_layer_boundary import DEPLOY_TIME_PACKAGES

ACME, KEYS = "acme", "keys"
# What loads each need: the ACME library, and our key code (with the PKCS#12 support built on it).
HEAVY_MODULES = {ACME: ("acme", "josepy", "certlib.adapters.acme_client"), KEYS: ("certlib.keys",)}
# What each step needs at run time (a step may load it lazily, on first use).
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
    "store_certificate": frozenset({ACME, KEYS}),
    "import_certificate": frozenset({KEYS}),  # ACM's checks: key matches certificate, chain
    "send_distribution": frozenset(),
    "check_distribution": frozenset(),
    "record_result": frozenset({KEYS}),  # the PKCS#12 bundle of a distribution profile that asks for one
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
    "export_certificate": frozenset({KEYS}),
    "record_distribution": frozenset({KEYS}),  # certlib.distribution.export, shared with export_certificate
    "handle_certificate_available": frozenset({KEYS}),  # the same module
}


def modules_after_import(step: str) -> set[str]:
    """The modules loaded once `import handler` has run in a fresh interpreter, laid out as on Lambda."""
    task_root = FUNCTIONS_DIR / step
    environment = lambda_environment(step, task_root, REPO_ROOT)
    code = "import json, sys, handler; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=task_root, env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, f"{step}: import handler failed: {completed.stderr[-2000:]}"
    return set(json.loads(completed.stdout.splitlines()[-1]))


def test_every_function_is_declared() -> None:
    # Given the functions the stack deploys / Then each says what it needs
    assert set(ALL_FUNCTIONS) == set(STEP_NEEDS), "declare what each new step needs in STEP_NEEDS"


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_a_handler_imports_no_heavy_module_its_step_does_not_need(step: str) -> None:
    # Given what the step needs
    assert step in STEP_NEEDS, f"declare what {step} needs in STEP_NEEDS"
    unneeded = [module for need, modules in HEAVY_MODULES.items() if need not in STEP_NEEDS[step] for module in modules]
    # When its handler is imported as Lambda imports it
    loaded = modules_after_import(step)
    # Then nothing it does not need came with it
    assert not loaded.intersection(unneeded), f"{step} imports {sorted(loaded.intersection(unneeded))} at cold start"


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_a_handler_imports_no_deploy_time_code(step: str) -> None:
    # When a handler is imported as Lambda imports it (the repository on its path, so such an import would succeed)
    loaded = modules_after_import(step)
    # Then no module of a package the layer does not ship came with it
    deploy_time = sorted(module for module in loaded if module.split(".")[0] in DEPLOY_TIME_PACKAGES)
    assert not deploy_time, f"{step} imports deploy-time code the layer does not ship: {deploy_time}"


def test_the_check_sees_a_heavy_import() -> None:
    # Given a step that speaks ACME / When its handler is imported / Then the check sees acme (it can fail)
    assert {"acme", "josepy"} <= modules_after_import("create_order")
