"""The sandbox's moto parses each distinct state machine definition once (sandbox.moto_asl_cache), and executions of one
definition still share nothing they change: each gets its own evaluation components, its own Retry attempts and its
own Map items, even when they run at once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.component import Component

from certlib.resources import DISTRIBUTION_STEPS, LIFECYCLE_STEPS, SWEEP_STEPS
from deploy.paths import DISTRIBUTION_ASL, LIFECYCLE_ASL, RENEWAL_SWEEP_ASL
from deploy.state_machines import (
    Timings,
    distribution_substitutions,
    lifecycle_substitutions,
    render_definition,
    sweep_substitutions,
)
from sandbox.aws import MOTO_CONFIG
from sandbox.moto_asl_cache import asl_parsed_once, parse_with_kept_tree, parsed
from tests.faults.helpers import wait_until

ROLE_ARN = "arn:aws:iam::123456789012:role/state-machine"
MAX_ATTEMPTS = 1  # one retry: every execution's failing Task runs twice


def definition() -> str:
    """A definition no other test parses (the kept trees outlive a test): a Map over the input's items, then a Task
    that always fails (no such bucket), retried once and caught, so the execution succeeds with what it did."""
    return json.dumps(
        {
            "Comment": f"parse cache test {uuid.uuid4()}",
            "StartAt": "EachItem",
            "States": {
                "EachItem": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}},
                    "ResultPath": "$.echoed",
                    "Next": "Fetch",
                },
                "Fetch": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                    "Parameters": {"Bucket": "no-such-bucket", "Key": "k"},
                    "Retry": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "IntervalSeconds": 1,
                            "MaxAttempts": MAX_ATTEMPTS,
                            "BackoffRate": 1,
                        }
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )


@pytest.fixture
def stepfunctions() -> Iterator[Any]:
    """In-process moto with its interpreter on and the sandbox's parse cache."""
    with mock_aws(config=MOTO_CONFIG), asl_parsed_once():
        yield boto3.client("stepfunctions", region_name="us-east-1")


@pytest.fixture
def antlr_parses() -> Iterator[mock.MagicMock]:
    """moto's ANTLR parser, counted: one call of its entry rule per parse of a definition."""
    with mock.patch.object(ASLParser, "state_machine", autospec=True, side_effect=ASLParser.state_machine) as entry:
        yield entry


def run_at_once(stepfunctions: Any, state_machine_arn: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start one execution per input, all before any ends; their descriptions once all have ended."""
    arns = [
        stepfunctions.start_execution(
            stateMachineArn=state_machine_arn, name=str(uuid.uuid4()), input=json.dumps(given)
        )["executionArn"]
        for given in inputs
    ]

    def all_ended() -> bool:
        return all(stepfunctions.describe_execution(executionArn=arn)["status"] != "RUNNING" for arn in arns)

    wait_until(all_ended, "every execution ended", timeout=60)
    return [stepfunctions.describe_execution(executionArn=arn) for arn in arns]


def task_attempts(stepfunctions: Any, execution_arn: str) -> int:
    events = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return sum(1 for event in events if event["type"] == "TaskFailed")


def test_a_definition_is_parsed_once_and_another_again(stepfunctions: Any, antlr_parses: mock.MagicMock) -> None:
    # Given a state machine (its creation parses the definition, to validate it)
    first = definition()
    arn = stepfunctions.create_state_machine(name="first", definition=first, roleArn=ROLE_ARN)["stateMachineArn"]
    assert antlr_parses.call_count == 1

    # When it runs twice, and a second state machine of the same definition is created
    run_at_once(stepfunctions, arn, [{"items": [1]}, {"items": [2]}])
    stepfunctions.create_state_machine(name="same", definition=first, roleArn=ROLE_ARN)

    # Then nothing was parsed again
    assert antlr_parses.call_count == 1

    # And another definition is parsed, once, however often it runs
    other = stepfunctions.create_state_machine(name="other", definition=definition(), roleArn=ROLE_ARN)
    run_at_once(stepfunctions, other["stateMachineArn"], [{"items": []}])
    assert antlr_parses.call_count == 2


def test_each_parse_builds_its_own_components_from_one_tree() -> None:
    # Given one definition parsed twice
    text = definition()
    first_program, first_tree = parse_with_kept_tree(text)
    second_program, second_tree = parse_with_kept_tree(text)

    # Then the parse tree is the one kept, and no component (states, retriers, Map, literals) is in both programs
    assert first_tree is second_tree
    first_components, second_components = components_of(first_program), components_of(second_program)
    assert len(first_components) == len(second_components) > 20
    assert first_components.keys().isdisjoint(second_components.keys())


def test_our_state_machines_are_kept_as_programs() -> None:
    # Given the three state machines, rendered as the sandbox renders them
    arns = {
        step: f"arn:aws:lambda:us-east-1:123456789012:function:p-{step}"
        for step in {*LIFECYCLE_STEPS, *SWEEP_STEPS, *DISTRIBUTION_STEPS}
    }
    timings = Timings()
    rendered = [
        render_definition(LIFECYCLE_ASL, lifecycle_substitutions(arns, timings)),
        render_definition(RENEWAL_SWEEP_ASL, sweep_substitutions(arns, timings)),
        render_definition(DISTRIBUTION_ASL, distribution_substitutions(arns, timings)),
    ]

    # Then each is kept as its built program (a StartExecution unpickles it; the preprocessor does not run again)
    for text in rendered:
        assert parsed(text).program is not None
        with mock.patch("sandbox.moto_asl_cache.Preprocessor") as preprocessor:
            parse_with_kept_tree(text)
        preprocessor.assert_not_called()


def test_executions_at_once_keep_their_own_retries_and_map_items(stepfunctions: Any) -> None:
    # Given a state machine whose Task is retried once
    arn = stepfunctions.create_state_machine(name="retrying", definition=definition(), roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]
    inputs = [{"items": [n, n * 10]} for n in range(1, 5)]

    # When four executions run at once, then one more after them
    descriptions = run_at_once(stepfunctions, arn, inputs)
    [later] = run_at_once(stepfunctions, arn, [{"items": ["later"]}])

    # Then each mapped its own items, and retried its own Task once: no execution used or left another's attempts
    for given, description in zip([*inputs, {"items": ["later"]}], [*descriptions, later], strict=True):
        assert description["status"] == "SUCCEEDED", description
        output = json.loads(description["output"])
        assert output["echoed"] == given["items"]
        assert "NoSuchBucket" in output["error"]["Error"]
        assert task_attempts(stepfunctions, description["executionArn"]) == 1 + MAX_ATTEMPTS


def components_of(root: Component) -> dict[int, Component]:
    """Every component reachable from `root` through attributes, lists, tuples and dicts, by id."""
    found: dict[int, Component] = {}
    pending: list[Any] = [root]
    while pending:
        value = pending.pop()
        if isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, Component) and id(value) not in found:
            found[id(value)] = value
            pending.extend(vars(value).values())
    return found
