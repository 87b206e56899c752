"""moto runs the real state machine, and its Lambda invocations reach the real handlers in the sandbox process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from certlib.resources import LIFECYCLE_STEPS, Env, ResourceNames
from deploy.paths import REPO_ROOT
from sandbox.lambda_routing import LambdaContext
from tests.conftest import SandboxAws

EXECUTION_TIMEOUT_SECONDS = 30


def wait_for_execution(aws: SandboxAws, execution_arn: str) -> dict[str, Any]:
    stepfunctions = aws.client("stepfunctions")
    deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
    while True:
        execution: dict[str, Any] = stepfunctions.describe_execution(executionArn=execution_arn)
        if execution["status"] != "RUNNING":
            return execution
        assert time.monotonic() < deadline, f"{execution_arn} still running after {EXECUTION_TIMEOUT_SECONDS} s"
        time.sleep(0.1)


def test_the_lifecycle_state_machine_and_its_functions_exist(sandbox: dict[str, Any], aws: SandboxAws) -> None:
    # Given
    names = ResourceNames(sandbox["resource_prefix"])

    # When
    state_machine = aws.client("stepfunctions").describe_state_machine(stateMachineArn=sandbox["state_machine_arn"])
    functions = {step: aws.client("lambda").get_function(FunctionName=names.function(step)) for step in LIFECYCLE_STEPS}

    # Then
    assert state_machine["name"] == names.lifecycle_state_machine
    assert "${" not in state_machine["definition"]
    for function in functions.values():
        environment = function["Configuration"]["Environment"]["Variables"]
        assert environment[Env.INVENTORY_TABLE] == names.inventory_table
        assert environment[Env.KMS_KEY_ID].startswith("arn:aws:kms:")


@pytest.mark.skipif(
    not (REPO_ROOT / "functions" / "validate_request" / "handler.py").exists(),
    reason="functions/validate_request/handler.py is not written yet",
)
def test_an_empty_request_reaches_validate_request_and_is_rejected(sandbox: dict[str, Any], aws: SandboxAws) -> None:
    # When
    started = aws.client("stepfunctions").start_execution(stateMachineArn=sandbox["state_machine_arn"], input="{}")
    execution = wait_for_execution(aws, started["executionArn"])

    # Then
    assert execution["status"] == "FAILED"
    assert execution["error"] == "InvalidRequest"


@pytest.fixture
def foreign_function(aws: SandboxAws) -> Iterator[str]:
    """A function in moto that is no lifecycle step; deleted after the test (the session's sandbox is shared)."""
    name = "not-a-lifecycle-step"
    iam, lambda_client = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},  # an empty zip
    )
    yield name
    lambda_client.delete_function(FunctionName=name)
    iam.delete_role(RoleName=name)


def test_executions_started_without_a_name_get_one_each(sandbox: dict[str, Any], aws: SandboxAws) -> None:
    # Given
    stepfunctions = aws.client("stepfunctions")
    request = json.dumps({"name": "nameless-execution", "domains": []})

    # When
    first = stepfunctions.start_execution(stateMachineArn=sandbox["state_machine_arn"], input=request)
    second = stepfunctions.start_execution(stateMachineArn=sandbox["state_machine_arn"], input=request)

    # Then
    assert first["executionArn"] != second["executionArn"]
    assert not first["executionArn"].endswith(":None")
    for started in (first, second):
        wait_for_execution(aws, started["executionArn"])


def test_a_function_that_is_no_lifecycle_step_answers_an_error(aws: SandboxAws, foreign_function: str) -> None:
    # When
    response = aws.client("lambda").invoke(FunctionName=foreign_function, Payload=b"{}")

    # Then
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Sandbox.UnknownFunction"
    assert foreign_function in error["errorMessage"]


def test_the_lambda_context_satisfies_powertools() -> None:
    # Given
    logger = Logger(service="sandbox-test")
    context = LambdaContext(
        function_name="acme-certs-validate-request",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:acme-certs-validate-request",
        memory_limit_in_mb=512,
        timeout_seconds=120,
    )

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> int:
        return int(context.get_remaining_time_in_millis())

    # When
    remaining = handler({}, context)

    # Then
    assert 0 < remaining <= 120_000
    assert context.log_group_name == "/aws/lambda/acme-certs-validate-request"
