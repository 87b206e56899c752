"""Each function imports only what its step needs (issue 16, cold start): a step that never speaks ACME does not load
`acme`/`josepy`, a step that touches no key does not load the key code.

Each handler is imported in a fresh interpreter laid out as on Lambda (bench/imports.py), and the heavy modules
are computed from the table of what each step needs (bench.imports.STEP_NEEDS, which the cold-start bench also
counts): a new top-level import that drags one of them into a step that does not need it fails here. No handler
loads the deploy-time code (deploy/, stacks/, sandbox/): the layer does not ship it (issue 15). No step loads boto3
(bench.imports.NEEDED_BY_NO_STEP): certlib calls AWS through botocore alone, also on a step's first invocation.
"""

from __future__ import annotations

import functools
import json
import sys

import pytest

from bench.imports import STEP_NEEDS, loaded_modules, run_as_lambda, unneeded_modules
from certlib.resources import ALL_FUNCTIONS
from deploy.paths import REPO_ROOT
from tests.unit.test_layer_boundary import DEPLOY_TIME_PACKAGES


@functools.cache
def modules_after_import(step: str) -> frozenset[str]:
    """The modules loaded once `import handler` has run in a fresh interpreter, laid out as on Lambda (this venv's
    Python and packages, the repository's certlib); one interpreter per step and test process."""
    return frozenset(loaded_modules(step, REPO_ROOT, sys.executable))


def test_every_function_is_declared() -> None:
    # Given the functions the stack deploys / Then each says what it needs
    assert set(ALL_FUNCTIONS) == set(STEP_NEEDS), "declare what each new step needs in STEP_NEEDS"


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_a_handler_imports_no_heavy_module_its_step_does_not_need(step: str) -> None:
    # Given what the step needs
    assert step in STEP_NEEDS, f"declare what {step} needs in STEP_NEEDS"
    unneeded = unneeded_modules(step)
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


def test_a_steps_first_invocation_builds_traced_clients_without_boto3() -> None:
    # Given a handler imported as Lambda imports it
    code = (
        "import json, sys, botocore.client, handler; from certlib.services import services; "
        "services().inventory, services().route53; "
        "print(json.dumps({'traced': hasattr(botocore.client.BaseClient._make_api_call, '__wrapped__'), "
        "'boto3': 'boto3' in sys.modules}))"
    )
    # When its Services builds the inventory and a client, as its first invocation does
    completed = run_as_lambda("record_result", code, REPO_ROOT, sys.executable)
    # Then botocore's calls are traced by X-Ray, and boto3 is still not loaded (no resource model either)
    assert json.loads(completed.stdout.splitlines()[-1]) == {"traced": True, "boto3": False}


def test_the_check_sees_a_heavy_import() -> None:
    # Given a step that speaks ACME / When its handler is imported / Then the check sees acme (it can fail)
    assert {"acme", "josepy"} <= modules_after_import("create_order")


def test_the_check_sees_the_key_code() -> None:
    # Given a step that makes a key and a CSR / When its handler is imported / Then the check sees the key code
    assert {"certlib.keys", "cryptography.x509"} <= modules_after_import("issue_from_private_ca")
