"""What starts renewals: the two EventBridge Scheduler schedules and the rule for ACM's expiry event."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certlib.resources import ALL_FUNCTIONS, RENEWAL_FUNCTIONS, ResourceNames
from stacks.application import cdk_json_context
from stacks.nag import flatten_cfn_reference as flat
from tests.stack.conftest import EXAMPLE_ACCOUNTS
from tests.stack.test_permissions import as_list

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()
ACM_EXPIRY_PATTERN = {"source": ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"]}


def schedules(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["Name"]: resource
        for resource in synthesized.resources("AWS::Scheduler::Schedule").values()
    }


def function_arn(synthesized: Synthesized, step: str) -> dict[str, Any]:
    logical_id, _ = synthesized.functions_by_step(ALL_FUNCTIONS)[step]
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def sweep_ref(synthesized: Synthesized) -> dict[str, str]:
    return {"Ref": synthesized.state_machine(NAMES.renewal_sweep_state_machine)[0]}


@pytest.fixture
def expected_schedules(synthesized: Synthesized) -> dict[str, tuple[str, dict[str, Any], str]]:
    """{schedule name: (cdk.json's expression, target ARN, the one action its role may do)}."""
    context = cdk_json_context()
    return {
        f"{NAMES.prefix}-renewal-sweep": (
            context["renewalSweepSchedule"],
            sweep_ref(synthesized),
            "states:StartExecution",
        ),
        f"{NAMES.prefix}-revocation-check": (
            context["revocationCheckSchedule"],
            function_arn(synthesized, "check_revocations"),
            "lambda:InvokeFunction",
        ),
    }


def test_cdk_json_sets_the_documented_defaults() -> None:
    # Given / When / Then cdk.json names both schedules, with the defaults of stacks.settings
    context = cdk_json_context()
    assert (context["renewalSweepSchedule"], context["revocationCheckSchedule"]) == ("rate(1 day)", "rate(12 hours)")


def test_two_schedules_start_the_sweep_and_the_revocation_check(
    synthesized: Synthesized, expected_schedules: dict[str, tuple[str, dict[str, Any], str]]
) -> None:
    # Given the stack's schedules
    found = schedules(synthesized)

    # When each is compared with its expression and target
    actual = {
        name: (
            resource["Properties"]["ScheduleExpression"],
            resource["Properties"]["Target"]["Arn"],
            resource["Properties"]["Target"]["Input"],
        )
        for name, resource in found.items()
    }

    # Then they run at the context's times, on exactly the sweep and check_revocations, with an empty input
    assert actual == {name: (expression, target, "{}") for name, (expression, target, _) in expected_schedules.items()}
    for resource in found.values():
        properties = resource["Properties"]
        assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert properties["State"] == "ENABLED"
        assert "GroupName" not in properties  # the default group
        retry = properties["Target"]["RetryPolicy"]
        assert retry["MaximumRetryAttempts"] >= 1
        assert retry["MaximumEventAgeInSeconds"] >= 60


def test_each_schedule_role_may_do_one_action_on_its_target(
    synthesized: Synthesized, expected_schedules: dict[str, tuple[str, dict[str, Any], str]]
) -> None:
    roles = synthesized.resources("AWS::IAM::Role")
    role_ids = set()
    for name, resource in schedules(synthesized).items():
        # Given the role a schedule runs as
        role_id = resource["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
        role_ids.add(role_id)
        properties = roles[role_id]["Properties"]
        _, target, action = expected_schedules[name]

        # When its trust and its policies are read
        (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
        statements = [s for policy in properties["Policies"] for s in policy["PolicyDocument"]["Statement"]]
        attached = [
            p
            for p in synthesized.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in p["Properties"]["Roles"]
        ]

        # Then only Scheduler of this account assumes it, and it may do exactly one action on exactly the target
        assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [("Allow", action, target)], name
        assert attached == []
        assert "ManagedPolicyArns" not in properties
    assert len(role_ids) == 2


def test_schedule_expressions_come_from_the_context(layer_directory: Path, tmp_path: Path) -> None:
    # Given an app whose context names other times for both schedules
    from aws_cdk.assertions import Template

    from stacks.application import build_app

    _, stack = build_app(
        {
            "accountsFile": str(EXAMPLE_ACCOUNTS),
            "layerDirectory": str(layer_directory),
            "renewalSweepSchedule": "cron(0 3 * * ? *)",
            "revocationCheckSchedule": "rate(6 hours)",
        },
        outdir=str(tmp_path),
    )

    # When its template is made
    resources = Template.from_stack(stack).find_resources("AWS::Scheduler::Schedule")

    # Then the schedules use them
    expressions = {r["Properties"]["Name"]: r["Properties"]["ScheduleExpression"] for r in resources.values()}
    assert expressions == {
        f"{NAMES.prefix}-renewal-sweep": "cron(0 3 * * ? *)",
        f"{NAMES.prefix}-revocation-check": "rate(6 hours)",
    }


# --- ACM's "Approaching Expiration" event ---------------------------------------------------------------------------
def rule_named(synthesized: Synthesized, name: str) -> tuple[str, dict[str, Any]]:
    (found,) = (
        (logical_id, resource)
        for logical_id, resource in synthesized.resources("AWS::Events::Rule").items()
        if resource["Properties"].get("Name") == name
    )
    return found


def expiry_rule(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return rule_named(synthesized, f"{NAMES.prefix}-acm-expiry")


# The rules on ACM's events, whose loss nothing would make up for: (rule name, its function, its key-policy Sid).
ACM_EVENT_RULES = [
    pytest.param("acm-expiry", "handle_expiry_event", "AllowEventBridgeDeadLettersOfTheExpiryRule", id="expiry"),
    pytest.param(
        "acm-certificate-available",
        "handle_certificate_available",
        "AllowEventBridgeDeadLettersOfTheCertificateAvailableRule",
        id="certificate-available",
    ),
]


def test_the_acm_expiry_rule_matches_exactly_acms_event_on_the_default_bus(synthesized: Synthesized) -> None:
    # Given / When the rule
    _, rule = expiry_rule(synthesized)
    properties = rule["Properties"]

    # Then it matches ACM's expiry event and nothing else, on the default bus
    assert properties["EventPattern"] == ACM_EXPIRY_PATTERN
    assert "EventBusName" not in properties
    assert properties["State"] == "ENABLED"


@pytest.mark.parametrize(("rule_name", "step", "sid"), ACM_EVENT_RULES)
def test_the_acm_event_rules_invoke_their_function_with_retries_and_a_dead_letter_queue(
    synthesized: Synthesized, rule_name: str, step: str, sid: str
) -> None:
    # Given the rule's one target, and the queues of the stack
    _, rule = rule_named(synthesized, f"{NAMES.prefix}-{rule_name}")
    (target,) = rule["Properties"]["Targets"]
    queues = synthesized.resources("AWS::SQS::Queue")

    # When its dead-letter queue is looked up
    queue_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queue = queues[queue_id]["Properties"]

    # Then it calls its function, retries, and keeps what it could not deliver, encrypted with the stack key
    assert target["Arn"] == function_arn(synthesized, step)
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 3600
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_only_the_expiry_rule_may_invoke_handle_expiry_event(synthesized: Synthesized) -> None:
    # Given the Lambda permissions of the stack
    permissions = synthesized.resources("AWS::Lambda::Permission").values()
    rule_id, _ = expiry_rule(synthesized)
    handler = function_arn(synthesized, "handle_expiry_event")

    # When those on the renewal functions are picked out
    renewal_arns = [function_arn(synthesized, step) for step in RENEWAL_FUNCTIONS]
    on_renewal = [p["Properties"] for p in permissions if p["Properties"]["FunctionName"] in renewal_arns]

    # Then there is one: EventBridge, from the rule's ARN, on handle_expiry_event (the schedules use their roles)
    assert on_renewal == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": handler,
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
        }
    ]


@pytest.mark.parametrize(("rule_name", "step", "sid"), ACM_EVENT_RULES)
def test_only_the_rule_may_send_to_its_dead_letter_queue_and_only_over_tls(
    synthesized: Synthesized, rule_name: str, step: str, sid: str
) -> None:
    # Given the dead-letter queue's policy and the rule
    rule_id, rule = rule_named(synthesized, f"{NAMES.prefix}-{rule_name}")
    queue_id = rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    (policy,) = (
        p["Properties"]
        for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    )
    statements = policy["PolicyDocument"]["Statement"]

    # When the allow and deny statements are split
    allows = [s for s in statements if s["Effect"] == "Allow"]
    denies = [s for s in statements if s["Effect"] == "Deny"]

    # Then EventBridge may send from this rule only, and any request without TLS is refused
    assert [(s["Principal"], s["Action"], s["Condition"]) for s in allows] == [
        (
            {"Service": "events.amazonaws.com"},
            "sqs:SendMessage",
            {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
        )
    ]
    assert [s["Condition"] for s in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


@pytest.mark.parametrize(("rule_name", "step", "sid"), ACM_EVENT_RULES)
def test_the_key_lets_eventbridge_encrypt_dead_letters_for_each_rule_only(
    synthesized: Synthesized, rule_name: str, step: str, sid: str
) -> None:
    # Given the stack key's policy
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    # When the statement for the expiry rule is picked out
    (statement,) = (s for s in statements if s.get("Sid") == sid)

    # Then EventBridge gets data keys only on behalf of the rule, whose ARN is built from its name
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    source = flat(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    assert source == f"arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/{NAMES.prefix}-{rule_name}"
