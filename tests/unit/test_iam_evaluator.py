"""The IAM policy evaluator against the IAM User Guide: each test names the page (awsdocs/iam-user-guide, doc_source/)
whose rule or example it checks; policies are the guide's examples where it has one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.iam import evaluator
from sandbox.iam.evaluator import (
    SUPPORTED_CONDITION_KEYS,
    ContextValue,
    Decision,
    Request,
    Undecidable,
    evaluate,
    evaluate_trust,
    is_supported_key,
)

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = Decision.ALLOWED, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service/app-renewer"
# Keys the guide's examples use that the sandbox does not supply (so SUPPORTED_CONDITION_KEYS leaves them out).
DOC_EXAMPLE_KEYS = (
    "s3:max-keys",
    "aws:TokenIssueTime",
    "aws:SourceIp",
    "aws:SourceArn",
    "ec2:InstanceType",
    "aws:MultiFactorAuthPresent",
)


@pytest.fixture
def doc_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Supports the guide's example keys, for the tests that quote those examples."""
    monkeypatch.setattr(evaluator, "SUPPORTED_CONDITION_KEYS", SUPPORTED_CONDITION_KEYS + DOC_EXAMPLE_KEYS)


def allow(action: Any = "*", resource: Any = "*", condition: Mapping[str, Any] | None = None, **extra: Any) -> Any:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    return statement | ({"Condition": condition} if condition else {})


def deny(action: Any = "*", resource: Any = "*", condition: Mapping[str, Any] | None = None, **extra: Any) -> Any:
    return allow(action, resource, condition, **extra) | {"Effect": "Deny"}


def policy(*statements: Mapping[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    return {"Statement": list(statements)} | ({"Version": version} if version else {})


def decide(
    statements: Mapping[str, Any] | list[Mapping[str, Any]],
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::bucket/key",
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    """`evaluate` of one policy holding `statements`."""
    statement_list = statements if isinstance(statements, list) else [statements]
    return evaluate([policy(*statement_list)], Request(action, resource, context or {}))


def condition_holds(condition: Mapping[str, Any], context: Mapping[str, ContextValue]) -> bool:
    """Whether an Allow with `condition` (and everything else matching) allows."""
    return decide(allow(condition=condition), context=context) is ALLOWED


# reference_policies_evaluation-logic.md


def test_evaluation_logic_explicit_deny_beats_allow() -> None:
    # Given the guide's Carlos example: AllowS3Self and DenyS3Logs, and a second policy allowing all of S3
    carlos = policy(
        allow("s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"], Sid="AllowS3Self"),
        deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"),
    )
    everything = policy(allow("s3:*", "*"))

    # When / Then a log bucket is explicitly denied although two statements allow it; his own bucket is allowed
    logs = Request("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/today", {})
    assert evaluate([carlos, everything], logs) is EXPLICIT_DENY
    assert evaluate([carlos], Request("s3:PutObject", "arn:aws:s3:::carlossalazar/notes", {})) is ALLOWED


def test_evaluation_logic_nothing_allows_is_an_implicit_deny() -> None:
    # Given / When / Then no policy, and a policy for another service, both deny implicitly
    assert evaluate([], Request("s3:GetObject", "arn:aws:s3:::bucket/key", {})) is IMPLICIT_DENY
    assert decide(allow("sqs:SendMessage")) is IMPLICIT_DENY


def test_evaluation_logic_allow_whose_condition_fails_is_implicit_not_explicit_deny() -> None:
    # Given reference_policies_elements_condition_operators.md's iamuser-admin example
    statement = allow(
        "iam:*AccessKey*",
        f"arn:aws:iam::{ACCOUNT}:user/*",
        {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}},
    )

    # When a principal with another tag, or none, asks; Then "the request is implicitly denied by this statement"
    for context in ({"aws:PrincipalTag/job-category": "auditor"}, {}):
        assert decide(statement, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/bob", context) is IMPLICIT_DENY
    tagged = {"aws:PrincipalTag/job-category": "iamuser-admin"}
    assert decide(statement, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/bob", tagged) is ALLOWED


def test_evaluation_logic_deny_applies_only_when_its_conditions_hold() -> None:
    # Given the BooleanExample deny (reference_policies_elements_condition_operators.md) and an allow
    statements = [
        allow("s3:*"),
        deny("s3:*", ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"], {"Bool": {"aws:SecureTransport": "false"}}),
    ]

    # When / Then only a request without TLS is explicitly denied
    assert decide(statements, context={"aws:SecureTransport": False}) is EXPLICIT_DENY
    assert decide(statements, context={"aws:SecureTransport": True}) is ALLOWED


def test_policy_grammar_statement_action_and_resource_may_be_a_string_or_a_list() -> None:
    # Given the same statement written with single values and with lists, and a Statement that is one dict
    single = {"Version": "2012-10-17", "Statement": allow("s3:GetObject", "arn:aws:s3:::bucket/key")}
    listed = policy(allow(["s3:PutObject", "s3:GetObject"], ["arn:aws:s3:::other", "arn:aws:s3:::bucket/key"]))

    # When / Then both allow
    for document in (single, listed):
        assert evaluate([document], Request("s3:GetObject", "arn:aws:s3:::bucket/key", {})) is ALLOWED


# reference_policies_elements_action.md and reference_policies_elements_notaction.md


def test_elements_action_prefix_and_name_are_case_insensitive() -> None:
    # Given "iam:ListAccessKeys is the same as IAM:listaccesskeys"
    # When / Then
    assert decide(allow("IAM:listaccesskeys"), "iam:ListAccessKeys") is ALLOWED
    assert decide(allow("iam:ListAccessKeys"), "IAM:LISTACCESSKEYS") is ALLOWED


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("iam:*AccessKey*", "iam:CreateAccessKey", ALLOWED),
        ("iam:*AccessKey*", "iam:ListAccessKeys", ALLOWED),
        ("iam:*AccessKey*", "iam:GetUser", IMPLICIT_DENY),
        ("s3:*", "s3:GetObject", ALLOWED),
        ("s3:*", "sqs:GetQueueUrl", IMPLICIT_DENY),
        ("*", "kms:Decrypt", ALLOWED),
        ("iam:?etUser", "iam:GetUser", ALLOWED),
        ("iam:?etUser", "iam:SetUser", ALLOWED),
        ("iam:?etUser", "iam:GettUser", IMPLICIT_DENY),
        ("s3:Get", "s3:GetObject", IMPLICIT_DENY),
    ],
)
def test_elements_action_wildcards(pattern: str, action: str, expected: Decision) -> None:
    # Given an Allow for `pattern`; When `action` is asked; Then
    assert decide(allow(pattern), action) is expected


def test_elements_notaction_with_allow_allows_everything_but_the_listed_actions() -> None:
    # Given "allows users to access every action in every AWS service except for IAM"
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}

    # When / Then
    assert decide(statement, "s3:GetObject") is ALLOWED
    assert decide(statement, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x") is IMPLICIT_DENY


def test_elements_notaction_scoped_by_resource_does_not_allow_actions_needing_star() -> None:
    # Given NotAction s3:DeleteBucket on arn:aws:s3:::* ("does not allow ... ListAllMyBuckets ... requires "*"")
    statement = {"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}

    # When / Then
    assert decide(statement, "s3:GetObject", "arn:aws:s3:::bucket/key") is ALLOWED
    assert decide(statement, "s3:DeleteBucket", "arn:aws:s3:::bucket") is IMPLICIT_DENY
    assert decide(statement, "s3:ListAllMyBuckets", "*") is IMPLICIT_DENY


@pytest.mark.usefixtures("doc_keys")
def test_elements_notaction_with_deny_denies_all_other_actions() -> None:
    # Given DenyAllUsersNotUsingMFA, with an allow-all
    statements = [
        allow(),
        {
            "Sid": "DenyAllUsersNotUsingMFA",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ]

    # When / Then non-IAM actions without MFA are denied; IAM actions, and requests with MFA, are not
    assert decide(statements, "s3:GetObject", context={"aws:MultiFactorAuthPresent": False}) is EXPLICIT_DENY
    assert decide(statements, "s3:GetObject") is EXPLICIT_DENY  # BoolIfExists: a missing key is true
    assert decide(statements, "iam:ListUsers", context={"aws:MultiFactorAuthPresent": False}) is ALLOWED
    assert decide(statements, "s3:GetObject", context={"aws:MultiFactorAuthPresent": True}) is ALLOWED


# reference_policies_elements_resource.md and reference_policies_elements_notresource.md


@pytest.mark.parametrize(
    "key",
    [
        "1/test/object.jpg",
        "1/2/test/object.jpg",
        "1/2/test/3/object.jpg",
        "1/2/3/test/4/object.jpg",
        "1///test///object.jpg",
        "1/test/.jpg",
        "/test/object.jpg",
        "1/test/",
    ],
)
def test_elements_resource_star_spans_slashes(key: str) -> None:
    # Given the guide's "DOC-EXAMPLE-BUCKET/*/test/*"; When an object it lists is asked; Then it matches
    statement = allow("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*")
    assert decide(statement, resource=f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}") is ALLOWED


@pytest.mark.parametrize("key", ["1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"])
def test_elements_resource_star_does_not_match_the_guides_counterexamples(key: str) -> None:
    # Given the same pattern; When an object the guide says it "would not match" is asked; Then it does not
    statement = allow("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*")
    assert decide(statement, resource=f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}") is IMPLICIT_DENY


def test_elements_resource_matching_is_case_sensitive_with_question_mark_and_colon_spanning_star() -> None:
    # Given / When / Then
    assert decide(allow("s3:*", "arn:aws:s3:::Bucket/*")) is IMPLICIT_DENY
    assert decide(allow("s3:*", "arn:aws:s3:::bucke?/key")) is ALLOWED
    assert decide(allow("s3:*", "arn:aws:s3:::bucke?/key"), resource="arn:aws:s3:::buckets/key") is IMPLICIT_DENY
    log_stream = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/fn:log-stream:abc"
    assert decide(allow("logs:*", "arn:aws:logs:*"), "logs:PutLogEvents", log_stream) is ALLOWED


def test_elements_resource_star_matches_an_action_without_resource_level_permissions() -> None:
    # Given an action whose resource is "*"; When / Then only a "*" resource covers it
    assert decide(allow("s3:ListAllMyBuckets", "*"), "s3:ListAllMyBuckets", "*") is ALLOWED
    assert decide(allow("s3:ListAllMyBuckets", "arn:aws:s3:::*"), "s3:ListAllMyBuckets", "*") is IMPLICIT_DENY


def test_elements_notresource_with_deny_denies_every_other_resource() -> None:
    # Given the HRPayroll example, with an allow-all
    statements = [
        allow(),
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        },
    ]

    # When / Then S3 outside Payroll is denied; Payroll, and other services, are not
    assert decide(statements, "s3:GetObject", "arn:aws:s3:::HRBucket/Other/x") is EXPLICIT_DENY
    assert decide(statements, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/march.csv") is ALLOWED
    assert decide(statements, "ec2:StartInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-1") is ALLOWED


# reference_policies_multi-value-conditions.md: operators and keys AND-ed, values OR-ed, NOR when negated


def test_multi_value_conditions_operators_and_keys_are_anded_values_ored() -> None:
    # Given the guide's block: department in (finance, hr, legal), role in (audit, security), one account
    condition = {
        "StringEqualsIgnoreCase": {
            "aws:PrincipalTag/department": ["finance", "hr", "legal"],
            "aws:PrincipalTag/role": ["audit", "security"],
        },
        "StringEquals": {"aws:PrincipalAccount": "123456789012"},
    }
    everything = {
        "aws:PrincipalTag/department": "HR",
        "aws:PrincipalTag/role": "audit",
        "aws:PrincipalAccount": "123456789012",
    }

    # When / Then every key must hold; one value per key suffices
    assert condition_holds(condition, everything)
    assert not condition_holds(condition, everything | {"aws:PrincipalTag/role": "admin"})
    assert not condition_holds(condition, everything | {"aws:PrincipalAccount": "999999999999"})
    assert not condition_holds(condition, {k: v for k, v in everything.items() if k != "aws:PrincipalTag/role"})


def test_multi_value_conditions_negated_operator_must_match_none_of_the_values() -> None:
    # Given StringNotEquals with two accounts
    condition = {"StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222"]}}

    # When / Then
    assert condition_holds(condition, {"aws:PrincipalAccount": "333333333333"})
    assert not condition_holds(condition, {"aws:PrincipalAccount": "222222222222"})


def test_condition_key_names_are_case_insensitive_values_case_sensitive() -> None:
    # Given reference_policies_variables.md: "aws:CurrentTime is equivalent to AWS:currenttime"
    condition = {"StringEquals": {"AWS:principalaccount": "123456789012"}}

    # When / Then
    assert condition_holds(condition, {"aws:PrincipalAccount": "123456789012"})
    assert condition_holds({"StringEquals": {"aws:PrincipalTag/Team": "Blue"}}, {"AWS:PRINCIPALTAG/TEAM": "Blue"})
    assert not condition_holds({"StringEquals": {"aws:PrincipalTag/team": "Blue"}}, {"aws:PrincipalTag/team": "blue"})


# reference_policies_elements_condition_operators.md: string operators


@pytest.mark.parametrize(
    ("operator", "policy_value", "value", "holds"),
    [
        ("StringEquals", "blue", "blue", True),
        ("StringEquals", "blue", "Blue", False),
        ("StringEquals", "bl*", "blue", False),  # no wildcards
        ("StringEquals", "bl*", "bl*", True),
        ("StringNotEquals", "blue", "red", True),
        ("StringNotEquals", "blue", "blue", False),
        ("StringEqualsIgnoreCase", "blue", "BLUE", True),
        ("StringNotEqualsIgnoreCase", "blue", "BLUE", False),
        ("StringNotEqualsIgnoreCase", "blue", "red", True),
        ("StringLike", "bl*", "blue", True),
        ("StringLike", "b?ue", "blue", True),
        ("StringLike", "b?ue", "bloue", False),
        ("StringLike", "Bl*", "blue", False),
        ("StringLike", "", "", True),
        ("StringNotLike", "bl*", "blue", False),
        ("StringNotLike", "bl*", "red", True),
    ],
)
def test_condition_operators_string(operator: str, policy_value: str, value: str, holds: bool) -> None:
    # Given `operator` on a principal tag; When the tag is `value`; Then
    condition = {operator: {"aws:PrincipalTag/team": policy_value}}
    assert condition_holds(condition, {"aws:PrincipalTag/team": value}) is holds


@pytest.mark.parametrize(
    "operator",
    ["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike", "NumericNotEquals",
     "DateNotEquals", "NotIpAddress"],
)  # fmt: skip
def test_condition_operators_negated_operator_with_absent_key_is_true(operator: str) -> None:
    # Given "If the policy condition requires that the key is not matched ... and the right key is not present, the
    # condition is true"; When the key is absent; Then
    assert condition_holds({operator: {"aws:PrincipalTag/x": "arn:aws:iam::1:role/x"}}, {})


@pytest.mark.parametrize(
    ("operator", "policy_value"),
    [
        ("StringEquals", "x"),
        ("StringEqualsIgnoreCase", "x"),
        ("StringLike", "*"),
        ("ArnLike", "arn:*:*:*:*:*"),
        ("ArnEquals", "arn:aws:iam::1:role/x"),
        ("Bool", "false"),
        ("NumericLessThan", "10"),
        ("DateGreaterThan", "2020-01-01T00:00:00Z"),
        ("IpAddress", "0.0.0.0/0"),
    ],
)
def test_condition_operators_absent_key_is_false(operator: str, policy_value: str) -> None:
    # Given "If the key ... is not present in the request context, the values do not match and the condition is false"
    # When / Then even a match-anything value does not hold
    assert not condition_holds({operator: {"aws:PrincipalTag/x": policy_value}}, {})


@pytest.mark.usefixtures("doc_keys")
def test_condition_operators_ifexists_is_true_for_an_absent_key_and_checks_a_present_one() -> None:
    # Given the RunInstance statement's StringLikeIfExists on ec2:InstanceType
    condition = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}

    # When / Then
    assert condition_holds(condition, {})
    assert condition_holds(condition, {"ec2:InstanceType": "t2.micro"})
    assert not condition_holds(condition, {"ec2:InstanceType": "p4d.24xlarge"})
    assert not condition_holds({"StringLike": {"ec2:InstanceType": ["t1.*"]}}, {})  # THISPOLICYDOESNOTWORK


def test_condition_operators_deny_with_negated_ifexists_still_denies_a_missing_tag() -> None:
    # Given "If you are using an "Effect": "Deny" element with a negated condition operator like
    # StringNotEqualsIfExists, the request is still denied even if the tag is missing."
    statements = [allow(), deny(condition={"StringNotEqualsIfExists": {"aws:ResourceTag/team": "blue"}})]

    # When / Then
    assert decide(statements) is EXPLICIT_DENY
    assert decide(statements, context={"aws:ResourceTag/team": "red"}) is EXPLICIT_DENY
    assert decide(statements, context={"aws:ResourceTag/team": "blue"}) is ALLOWED


@pytest.mark.usefixtures("doc_keys")
@pytest.mark.parametrize(
    ("null", "context", "holds"),
    [
        ("true", {}, True),
        ("true", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, False),
        ("false", {}, False),
        ("false", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, True),
        (True, {}, True),
        (False, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, True),
    ],
)
def test_condition_operators_null_checks_presence(null: Any, context: Mapping[str, ContextValue], holds: bool) -> None:
    # Given the guide's {"Null": {"aws:TokenIssueTime": "true"}}: true means the key is absent, false present
    # When / Then
    assert condition_holds({"Null": {"aws:TokenIssueTime": null}}, context) is holds


@pytest.mark.usefixtures("doc_keys")
@pytest.mark.parametrize(
    ("operator", "policy_value", "max_keys", "holds"),
    [
        ("NumericLessThanEquals", "10", 10, True),
        ("NumericLessThanEquals", "10", "11", False),
        ("NumericLessThanEquals", 10, "9", True),
        ("NumericLessThan", "10", 10, False),
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", ["5", "10"], 10, True),
        ("NumericNotEquals", ["5", "10"], 10, False),
        ("NumericNotEquals", ["5", "10"], 7, True),
        ("NumericGreaterThan", "10", 10.5, True),
        ("NumericGreaterThanEquals", "10", 9, False),
    ],
)
def test_condition_operators_numeric(operator: str, policy_value: Any, max_keys: ContextValue, holds: bool) -> None:
    # Given the guide's NumericLessThanEquals s3:max-keys "10" and its siblings; When / Then
    assert condition_holds({operator: {"s3:max-keys": policy_value}}, {"s3:max-keys": max_keys}) is holds


@pytest.mark.usefixtures("doc_keys")
@pytest.mark.parametrize(
    ("operator", "issued", "holds"),
    [
        ("DateGreaterThan", datetime(2020, 6, 1, tzinfo=UTC), True),
        ("DateGreaterThan", datetime(2019, 12, 31, tzinfo=UTC), False),
        ("DateGreaterThan", "2020-01-01T00:00:01Z", False),
        ("DateGreaterThanEquals", "2020-01-01T00:00:01Z", True),
        ("DateGreaterThan", "2020-01-01T01:00:01+01:00", False),  # the same instant
        ("DateEquals", 1577836801, True),  # epoch seconds
        ("DateNotEquals", "1577836801", False),
        ("DateLessThan", datetime(2019, 1, 1), True),  # naive: UTC
        ("DateLessThanEquals", "2020-01-01T00:00:02Z", False),
    ],
)
def test_condition_operators_date(operator: str, issued: ContextValue, holds: bool) -> None:
    # Given the guide's DateGreaterThan aws:TokenIssueTime "2020-01-01T00:00:01Z" and its siblings; When / Then
    condition = {operator: {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
    assert condition_holds(condition, {"aws:TokenIssueTime": issued}) is holds


@pytest.mark.parametrize(
    ("policy_value", "secure", "holds"),
    [("true", True, True), (True, True, True), ("true", "true", True), ("TRUE", True, True), (True, False, False),
     ("false", False, True), (False, "false", True), ("false", True, False), (["true", "false"], False, True)],
)  # fmt: skip
def test_condition_operators_bool(policy_value: Any, secure: ContextValue, holds: bool) -> None:
    # Given Bool on aws:SecureTransport, the policy value a string (as CloudFormation writes it) or a JSON boolean
    # When / Then
    assert condition_holds({"Bool": {"aws:SecureTransport": policy_value}}, {"aws:SecureTransport": secure}) is holds


@pytest.mark.usefixtures("doc_keys")
@pytest.mark.parametrize(
    ("operator", "source_ip", "holds"),
    [
        ("IpAddress", "203.0.113.7", True),
        ("IpAddress", "198.51.100.7", False),
        ("IpAddress", "2001:db8:1234:5678::1", True),
        ("IpAddress", "192.0.2.1", True),  # an address without a prefix is a /32
        ("IpAddress", "192.0.2.2", False),
        ("NotIpAddress", "203.0.113.7", False),
        ("NotIpAddress", "198.51.100.7", True),
    ],
)
def test_condition_operators_ip_address(operator: str, source_ip: str, holds: bool) -> None:
    # Given the guide's IPv4 and IPv6 ranges for aws:SourceIp; When / Then
    condition = {operator: {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64", "192.0.2.1"]}}
    assert condition_holds(condition, {"aws:SourceIp": source_ip}) is holds


@pytest.mark.usefixtures("doc_keys")
def test_condition_operators_arn_like_checks_each_colon_part_where_string_like_does_not() -> None:
    # Given the guide's pattern and request value, where "With an ArnLike condition ... the match fails"
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"

    # When / Then
    assert condition_holds({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    for operator in ("ArnLike", "ArnEquals"):
        assert not condition_holds({operator: {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
        assert condition_holds(
            {operator: {"aws:SourceArn": pattern}},
            {"aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/q1/x:y"},
        )
    assert not condition_holds({"ArnLike": {"aws:SourceArn": "arn:aws:SomeService:*:*:*"}}, {"aws:SourceArn": value})


def test_condition_operators_arn_value_that_is_not_an_arn_is_undecidable() -> None:
    # Given an ARN operator with a value of fewer than six parts; When / Then
    with pytest.raises(Undecidable, match="not an ARN"):
        condition_holds({"ArnLike": {"aws:PrincipalArn": "*"}}, {"aws:PrincipalArn": ROLE_ARN})


# reference_policies_multi-value-conditions.md and reference_policies_single-vs-multi-valued-condition-keys.md


@pytest.mark.parametrize(
    ("context", "holds"),
    [
        ({}, True),  # "It also returns true if there are no keys in the request"
        ({"aws:TagKeys": []}, True),  # "an empty list ... ForAllValues returns true"
        ({"aws:TagKeys": ""}, True),  # "a null data set, such as an empty string"
        ({"aws:TagKeys": ["team", "cost-center"]}, True),
        ({"aws:TagKeys": ["team", "owner"]}, False),
    ],
)
def test_multi_value_conditions_for_all_values(context: Mapping[str, ContextValue], holds: bool) -> None:
    # Given ForAllValues:StringLike on aws:TagKeys; When / Then
    assert condition_holds({"ForAllValues:StringLike": {"aws:TagKeys": ["team", "cost-*"]}}, context) is holds


def test_multi_value_conditions_for_all_values_dynamodb_attributes_example() -> None:
    # Given the guide's GetItem policy allowing only ID, Message and Tags
    statement = allow(
        "dynamodb:GetItem",
        "arn:aws:dynamodb:*:*:table/Thread",
        {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["ID", "Message", "Tags"]}},
    )
    table = "arn:aws:dynamodb:us-east-1:111122223333:table/Thread"

    # When / Then Message and Tags are allowed; adding UserName "the request fails"
    assert decide(statement, "dynamodb:GetItem", table, {"dynamodb:Attributes": ["Message", "Tags"]}) is ALLOWED
    fails = {"dynamodb:Attributes": ["Message", "UserName"]}
    assert decide(statement, "dynamodb:GetItem", table, fails) is IMPLICIT_DENY


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (["PostDateTime", "Message"], EXPLICIT_DENY),
        (["UserName"], ALLOWED),
        ([], ALLOWED),  # "A condition operator modified by ForAnyValue returns false" for an empty list
        ("", ALLOWED),  # "For no matching key or a null dataset, the condition returns false"
        (None, ALLOWED),  # "For no matching key ... the condition returns false"
    ],
)
def test_multi_value_conditions_for_any_value_dynamodb_example(
    attributes: ContextValue | None, expected: Decision
) -> None:
    # Given the guide's PutItem Deny on ID or PostDateTime, next to an allow
    statements = [
        allow(),
        deny(
            "dynamodb:PutItem",
            "arn:aws:dynamodb:*:*:table/Thread",
            {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}},
        ),
    ]
    context: dict[str, ContextValue] = {} if attributes is None else {"dynamodb:Attributes": attributes}

    # When / Then
    table = "arn:aws:dynamodb:us-east-1:111122223333:table/Thread"
    assert decide(statements, "dynamodb:PutItem", table, context) is expected


def test_multi_value_conditions_set_operators_with_negated_operators() -> None:
    # Given negated operators under ForAllValues (no value listed) and ForAnyValue (one value not listed)
    tags = {"aws:TagKeys": ["team", "owner"]}

    # When / Then
    assert not condition_holds({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner"]}}, tags)
    assert condition_holds({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["admin"]}}, tags)
    assert condition_holds({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["owner"]}}, tags)
    assert not condition_holds({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["owner", "team"]}}, tags)
    assert not condition_holds({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["owner"]}}, {})


def test_single_vs_multi_valued_keys_a_list_without_set_operator_is_undecidable() -> None:
    # Given "Multivalued condition keys require condition set operators"; When a list meets plain StringEquals
    # Then the evaluator does not guess
    with pytest.raises(Undecidable, match="ForAllValues"):
        condition_holds({"StringEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["team"]})


# reference_policies_variables.md


@pytest.mark.parametrize(
    ("principal_team", "expected"),
    [("blue", ALLOWED), ("red", IMPLICIT_DENY), (None, IMPLICIT_DENY)],
)
def test_variables_principal_tag_in_string_equals(principal_team: str | None, expected: Decision) -> None:
    # Given an allow for resources tagged like the principal's team
    statement = allow(condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})
    context: dict[str, ContextValue] = {"aws:ResourceTag/team": "blue"}
    if principal_team is not None:
        context["aws:PrincipalTag/team"] = principal_team

    # When the principal's tag is the same, different, or absent ("StringEquals ... do not match"); Then
    assert decide(statement, context=context) is expected


def test_variables_with_no_value_match_under_negated_operators() -> None:
    # Given the guide's "Policy variables with no value" Deny: "Access is explicitly denied when aws:principaltag/Team
    # is not set"
    statements = [allow(), deny(condition={"StringNotEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}})]

    # When / Then
    assert decide(statements, context={"aws:ResourceTag/Team": "blue"}) is EXPLICIT_DENY
    assert decide(statements, context={"aws:ResourceTag/Team": "blue", "aws:PrincipalTag/Team": "red"}) is EXPLICIT_DENY
    assert decide(statements, context={"aws:ResourceTag/Team": "blue", "aws:PrincipalTag/Team": "blue"}) is ALLOWED


def test_variables_in_resource() -> None:
    # Given the guide's AllowOnlyDeptS3Prefix
    statement = allow(
        "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/dept}/*", Sid="AllowOnlyDeptS3Prefix"
    )
    bucket = "arn:aws:s3:::amzn-s3-demo-bucket"

    # When / Then the own department's prefix is allowed, another's is not, and without the tag nothing matches
    assert decide(statement, resource=f"{bucket}/hr/x", context={"aws:PrincipalTag/dept": "hr"}) is ALLOWED
    assert decide(statement, resource=f"{bucket}/it/x", context={"aws:PrincipalTag/dept": "hr"}) is IMPLICIT_DENY
    assert decide(statement, resource=f"{bucket}/${{aws:PrincipalTag/dept}}/x") is IMPLICIT_DENY


def test_variables_with_no_value_in_notresource_match_no_resource() -> None:
    # Given "the resource that includes a policy variable with no value will not match any resource" in NotResource
    statements = [allow(), {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::${aws:PrincipalTag/dept}"}]

    # When / Then the exception excludes nothing without the tag
    assert decide(statements, resource="arn:aws:s3:::hr") is EXPLICIT_DENY
    assert decide(statements, resource="arn:aws:s3:::hr", context={"aws:PrincipalTag/dept": "hr"}) is ALLOWED


def test_variables_default_value() -> None:
    # Given the guide's "${aws:PrincipalTag/team, 'company-wide'}"
    statement = allow("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}")

    # When / Then
    assert decide(statement, resource="arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide") is ALLOWED
    assert decide(statement, resource="arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow") is IMPLICIT_DENY
    yellow = {"aws:PrincipalTag/team": "yellow"}
    assert decide(statement, resource="arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", context=yellow) is ALLOWED


@pytest.mark.parametrize(
    ("policy_value", "value", "holds"),
    [
        ("a${*}b", "a*b", True),
        ("a${*}b", "axb", False),
        ("a${?}", "a?", True),
        ("a${?}", "ab", False),
        ("${$}{x}", "${x}", True),
        ("${aws:PrincipalTag/team}", "*", True),  # the tag's value is "*"
        ("${aws:PrincipalTag/team}", "x", False),
    ],
)
def test_variables_special_characters_are_literal(policy_value: str, value: str, holds: bool) -> None:
    # Given StringLike with ${*}, ${?}, ${$}, and a variable whose value is "*"; When / Then they match literally
    context: dict[str, ContextValue] = {"aws:ResourceTag/name": value, "aws:PrincipalTag/team": "*"}
    assert condition_holds({"StringLike": {"aws:ResourceTag/name": policy_value}}, context) is holds


def test_variables_need_policy_version_2012_10_17() -> None:
    # Given "If you don't include the Version element ... variables ... are treated as literal strings"
    statement = allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}")
    context = {"aws:PrincipalTag/team": "blue"}

    # When / Then
    for version in (None, "2008-10-17"):
        document = policy(statement, version=version)
        assert evaluate([document], Request("s3:GetObject", "arn:aws:s3:::bucket/blue", context)) is IMPLICIT_DENY
        literal = Request("s3:GetObject", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}", context)
        assert evaluate([document], literal) is ALLOWED


def test_variables_of_unsupported_or_multivalued_keys_are_undecidable() -> None:
    # Given a variable for a key the sandbox does not supply, and one for a multivalued key
    # When / Then
    with pytest.raises(Undecidable, match=r"aws:username"):
        decide(allow("s3:*", "arn:aws:s3:::bucket/${aws:username}/*"))
    with pytest.raises(Undecidable, match="multivalued"):
        decide(allow("s3:*", "arn:aws:s3:::bucket/${aws:TagKeys}"), context={"aws:TagKeys": ["a"]})


# Fail loudly


def test_unsupported_condition_key_is_undecidable_naming_key_and_sid() -> None:
    # Given a condition on a key outside SUPPORTED_CONDITION_KEYS
    statement = allow(condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, Sid="OfficeOnly")

    # When / Then
    with pytest.raises(Undecidable, match=r"OfficeOnly.*aws:SourceIp"):
        decide(statement, context={"aws:SourceIp": "203.0.113.1"})


@pytest.mark.parametrize("operator", ["BinaryEquals", "StringStartsWith", "ForEachValue:StringEquals", "NullIfExists"])
def test_unsupported_condition_operator_is_undecidable_naming_operator_and_sid(operator: str) -> None:
    # Given an operator the evaluator does not implement; When / Then
    statement = deny(condition={operator: {"aws:PrincipalTag/team": "blue"}}, Sid="Odd")
    with pytest.raises(Undecidable, match=rf"Odd.*{operator}"):
        decide(statement, context={"aws:PrincipalTag/team": "blue"})


def test_undecidable_statement_raises_only_when_the_decision_depends_on_it() -> None:
    # Given an undecidable allow next to a deny that applies, and next to an allow that applies
    odd = allow(condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})

    # When / Then the decision is made without it; alone it cannot be
    assert decide([odd, deny()]) is EXPLICIT_DENY
    assert decide([odd, allow()]) is ALLOWED
    with pytest.raises(Undecidable):
        decide([odd, allow("sqs:*")])


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "s3:*", "Resource": "*"},
        {"Effect": "allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": "x"}},
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"NumericEquals": {"aws:PrincipalTag/n": "x"}},
        },
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "yes"}}},
    ],
)
def test_malformed_statement_is_undecidable(statement: Mapping[str, Any]) -> None:
    # Given / When / Then
    with pytest.raises(Undecidable):
        decide(statement, context={"aws:PrincipalTag/n": "1", "aws:SecureTransport": True})


@pytest.mark.parametrize(
    ("name", "supported"),
    [
        ("aws:PrincipalTag/team", True),
        ("AWS:principaltag/Team", True),
        ("aws:PrincipalTag/", False),
        ("kms:EncryptionContext:aws:pi", True),
        ("kms:ViaService", True),
        ("secretsmanager:ResourceTag/owner", True),
        ("ssm:ResourceTag/x", True),
        ("sts:ExternalId", True),
        ("aws:SourceIp", False),
        ("aws:PrincipalTagX", False),
        ("acm:CertificateArn", False),
    ],
)
def test_is_supported_key(name: str, supported: bool) -> None:
    # Given / When / Then
    assert is_supported_key(name) is supported


def test_request_context_with_a_key_twice_in_different_cases_is_undecidable() -> None:
    # Given key names are case-insensitive (reference_policies_variables.md); When a context holds one key twice
    # Then which value counts cannot be told
    with pytest.raises(Undecidable, match="different cases"):
        decide(allow(), context={"aws:PrincipalTag/team": "a", "aws:principaltag/team": "b"})


# evaluate_trust: reference_policies_elements_principal.md


def trust(principal: Any, condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return policy(statement | ({"Condition": condition} if condition else {}))


def assume(
    document: Mapping[str, Any],
    context: Mapping[str, ContextValue] | None = None,
    account: str = ACCOUNT,
    role_arn: str = ROLE_ARN,
) -> Decision:
    """`evaluate_trust` of `document` for the role `role_arn` of `account`, assuming a role in another account."""
    target = f"arn:aws:iam::{OTHER_ACCOUNT}:role/target"
    return evaluate_trust(document, role_arn, account, Request("sts:AssumeRole", target, context or {}))


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, ALLOWED),
        ({"AWS": ACCOUNT}, ALLOWED),
        ({"AWS": ROLE_ARN}, ALLOWED),
        ({"AWS": ["999999999999", ROLE_ARN]}, ALLOWED),
        ("*", ALLOWED),
        ({"AWS": "*"}, ALLOWED),
        ({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, IMPLICIT_DENY),
        ({"AWS": OTHER_ACCOUNT}, IMPLICIT_DENY),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-renewer"}, IMPLICIT_DENY),  # the path is part of the ARN
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/app-renewer"}, IMPLICIT_DENY),
        ({"Service": "lambda.amazonaws.com"}, IMPLICIT_DENY),
        ({"Federated": "cognito-identity.amazonaws.com"}, IMPLICIT_DENY),
        ({"Service": "states.amazonaws.com", "AWS": ACCOUNT}, ALLOWED),
    ],
)
def test_trust_principal(principal: Any, expected: Decision) -> None:
    # Given a trust policy for `principal`; When the role asks to assume; Then
    assert assume(trust(principal)) is expected


def test_trust_arn_like_principal_arn_with_star_principal() -> None:
    # Given "a broad-permission policy that uses the aws:PrincipalArn condition key" (Principal "*")
    document = trust({"AWS": "*"}, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/service/app-*"}})

    # When / Then aws:PrincipalArn comes from the role's ARN
    assert assume(document) is ALLOWED
    other = f"arn:aws:iam::{ACCOUNT}:role/service/web"
    assert assume(document, role_arn=other) is IMPLICIT_DENY
    assert assume(trust("*", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})) is ALLOWED


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"sts:ExternalId": "Unique-Id-1234"}, ALLOWED),
        ({"sts:ExternalId": "unique-id-1234"}, IMPLICIT_DENY),
        ({}, IMPLICIT_DENY),
    ],
)
def test_trust_external_id(context: Mapping[str, ContextValue], expected: Decision) -> None:
    # Given a cross-account trust policy requiring an external ID; When / Then
    document = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"StringEquals": {"sts:ExternalId": "Unique-Id-1234"}})
    assert assume(document, context) is expected


def test_trust_deny_wins_and_resource_may_be_absent_or_present() -> None:
    # Given an allow for the account and a deny for one session name
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": f"arn:aws:iam::{OTHER_ACCOUNT}:role/*",
            "Condition": {"StringLike": {"sts:RoleSessionName": "admin-*"}},
        },
    )

    # When / Then
    assert assume(document, {"sts:RoleSessionName": "renewal"}) is ALLOWED
    assert assume(document, {"sts:RoleSessionName": "admin-1"}) is EXPLICIT_DENY


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}, "Action": "sts:AssumeRole"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/app-renewer/s"},
            "Action": "sts:AssumeRole",
        },
        {"Effect": "Allow", "Principal": {"Group": "x"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": ["*"], "Action": "sts:AssumeRole"},
    ],
)
def test_trust_principals_it_cannot_decide_are_undecidable(statement: Mapping[str, Any]) -> None:
    # Given NotPrincipal (not for role trust policies: reference_policies_elements_notprincipal.md), no Principal,
    # a wildcard in an ARN ("You cannot use a wildcard to match part of a principal name or ARN"), a role session
    # (only the role is known), an unknown principal type; When / Then
    with pytest.raises(Undecidable):
        assume(policy(statement))


def test_trust_caller_errors() -> None:
    # Given / When / Then a principal that is not a role in the given account, or a context that contradicts it
    with pytest.raises(ValueError, match="not the ARN of a role"):
        assume(trust("*"), role_arn=f"arn:aws:iam::{ACCOUNT}:user/bob")
    with pytest.raises(ValueError, match="not the ARN of a role"):
        assume(trust("*"), account=OTHER_ACCOUNT)
    with pytest.raises(Undecidable, match="contradicts"):
        assume(trust("*"), {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/other"})
