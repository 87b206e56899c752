"""Every `aws stepfunctions start-execution` line of docs/execution-input.md, run as written with the AWS CLI against
the sandbox (its console example is the same JSON: tests/docs/test_execution_input.py): each passes ValidateRequest
(the distribution machine's first step: ExportCertificate) and ends issued, or exported, with its certificate on the
profile's node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certctl.executions import result_of, wait
from certctl.input_schema import DISTRIBUTION, LIFECYCLE
from certlib.distribution.spec import DEFAULT_DIRECTORY, NAME_PLACEHOLDER
from sandbox.provision import SANDBOX_PROFILE, SANDBOX_PROFILE_TAG
from tests.distribution.helpers import Node, installed, serial_of, start_nodes, states_entered
from tests.distribution.test_acm_export import private_ca_certificate
from tests.docs.execution_input import StartExecution, start_executions
from tests.lifecycle.helpers import EXECUTION_TIMEOUT_SECONDS, inventory_item, target_of

AWS_CLI = Path(sys.executable).parent / "aws"
START_EXECUTIONS = start_executions()
FIRST_STEP = {LIFECYCLE: "ValidateRequest", DISTRIBUTION: "ExportCertificate"}
DONE = {LIFECYCLE: "issued", DISTRIBUTION: "exported"}


@pytest.fixture(scope="module")
def web_node(sandbox: dict[str, Any]) -> Node:
    """One node of the sandbox's distribution profile (`web`: nodes tagged role=web)."""
    key, value = SANDBOX_PROFILE_TAG
    (node,) = start_nodes(sandbox, 1, **{key: value})
    return node


def run_aws_cli(info: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    """The command line as the page shows it, with the venv's AWS CLI, the sandbox's endpoint and the operator's
    credentials; its JSON answer."""
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": info["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": info["aws_secret_access_key"],
        "AWS_PAGER": "",
    }
    environment.pop("AWS_PROFILE", None)
    environment.pop("AWS_SESSION_TOKEN", None)
    completed = subprocess.run(
        [str(AWS_CLI), *argv[1:], "--endpoint-url", info["aws_endpoint_url"], "--region", info["region"]],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, f"`{' '.join(argv[:3])}` failed: {completed.stderr}"
    answer: dict[str, Any] = json.loads(completed.stdout)
    return answer


def as_run_on_the_sandbox(info: dict[str, Any], start: StartExecution) -> list[str]:
    """The line with the page's variables set as its first block sets them (from the stack outputs), and, for the
    distribution machine, a certificate of the sandbox's private CA in place of the page's ARN."""
    target = target_of(info)
    arns = {
        "$LIFECYCLE_ARN": target.lifecycle_arn,
        "$DISTRIBUTION_ARN": target.state_machine_arn(target.names.distribution_state_machine),
    }
    argv = [arns.get(word, word) for word in start.argv]
    if start.machine == DISTRIBUTION:
        exportable = private_ca_certificate(info, "intranet.corp.test")
        execution_input = {**start.execution_input, "certificate_arn": exportable}
        argv[argv.index("--input") + 1] = json.dumps(execution_input)
    return argv


def test_every_line_is_found() -> None:
    # Given / When / Then the page's five lifecycle lines and its distribution line are read (else nothing is run)
    assert sorted(start.machine for start in START_EXECUTIONS) == [DISTRIBUTION, *[LIFECYCLE] * 5]


@pytest.mark.parametrize("start", START_EXECUTIONS, ids=lambda start: start.where)
def test_the_documented_start_execution_passes_the_first_step_and_ends_done(
    sandbox: dict[str, Any], web_node: Node, start: StartExecution
) -> None:
    # Given the page's command line, with the ARN its first block reads from the stack outputs
    argv = as_run_on_the_sandbox(sandbox, start)

    # When it is run with the AWS CLI
    execution_arn = run_aws_cli(sandbox, argv)["executionArn"]
    result = result_of(wait(target_of(sandbox), execution_arn, EXECUTION_TIMEOUT_SECONDS, None))

    # Then the first step accepted the input (no RequestRejected), and the certificate is issued (or exported)
    entered = states_entered(sandbox, execution_arn)
    assert entered[0] == FIRST_STEP[start.machine]
    assert "RequestRejected" not in entered
    assert result["status"] == DONE[start.machine], result
    name = start.execution_input["name"]
    item = inventory_item(sandbox, name)
    if start.machine == LIFECYCLE:
        assert sorted(result["certificate_arns"]) == sorted(start.execution_input.get("regions") or [sandbox["region"]])
        assert item["domains"] == start.execution_input["domains"]
    # and a profile's certificate is on the profile's node
    if (start.execution_input.get("distribution") or {}).get("profile") == SANDBOX_PROFILE:
        assert result["distribution"]["status"] == "succeeded", result["distribution"]
        files = installed(web_node, DEFAULT_DIRECTORY.replace(NAME_PLACEHOLDER, name))
        assert serial_of(files["cert.pem"]["text"]) == item["serial"]
