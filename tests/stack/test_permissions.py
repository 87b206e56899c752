"""Least privilege: what each function's role may do, and where a wildcard is allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import App, Stack

from certlib.resources import LIFECYCLE_STEPS, ResourceNames
from stacks.nag import flatten_cfn_reference as flat
from stacks.permissions import grants_for
from stacks.permissions.common import AccessTargets
from stacks.permissions.lifecycle import STEP_GRANTS

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()
TABLE = {"dynamodb:GetItem", "dynamodb:UpdateItem"}
ENCRYPT = {"kms:Encrypt", "kms:GenerateDataKey"}
ACCOUNT_READ = {"secretsmanager:GetSecretValue"}
SECRET_WRITE = {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"}
CHALLENGE_RECORDS = {"route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"}
EVENTS = {"events:PutEvents"}
# Publishing to the KMS-encrypted topic needs a data key (kms:Decrypt is among the basics).
NOTIFICATIONS = EVENTS | {"sns:Publish", "kms:GenerateDataKey"}
# What each step may do beyond the basics every function has (logs, X-Ray, the config parameter, kms:Decrypt).
EXPECTED_ACTIONS = {
    "validate_request": TABLE
    | ENCRYPT
    | {"route53:ListHostedZones", "route53:ListHostedZonesByName", "route53:GetHostedZone"}
    | {"route53:ListResourceRecordSets"}  # `_acme-challenge` CNAMEs (delegation)
    | {"secretsmanager:GetSecretValue"}
    | NOTIFICATIONS,  # an accepted "replace": true is announced
    "ensure_account": TABLE | ENCRYPT | ACCOUNT_READ | SECRET_WRITE,
    "create_order": TABLE | ACCOUNT_READ,
    "publish_challenges": CHALLENGE_RECORDS,
    "check_dns_change": {"route53:GetChange"},
    "answer_challenges": TABLE | ACCOUNT_READ,
    "check_order": TABLE | ACCOUNT_READ,
    "remove_challenges": CHALLENGE_RECORDS,
    "finalize_order": TABLE | ENCRYPT | ACCOUNT_READ | SECRET_WRITE,
    "store_certificate": TABLE | ENCRYPT | ACCOUNT_READ | SECRET_WRITE,
    # the certificate's secret (GetSecretValue on it), and the accounts file's Private CAs (no ACME account key)
    "issue_from_private_ca": ENCRYPT | ACCOUNT_READ | SECRET_WRITE | {"acm-pca:IssueCertificate"},
    "check_private_ca_certificate": ENCRYPT | ACCOUNT_READ | SECRET_WRITE | {"acm-pca:GetCertificate"},
    "import_certificate": TABLE
    | {"dynamodb:PutItem"}
    | {"secretsmanager:GetSecretValue", "acm:ImportCertificate", "acm:DescribeCertificate", "acm:AddTagsToCertificate"}
    | {"acm:ListCertificates", "acm:ListTagsForCertificate"},
    "send_distribution": TABLE
    | {"secretsmanager:TagResource", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"}
    | {"ssm:SendCommand"},
    "check_distribution": {"ssm:ListCommands", "ssm:ListCommandInvocations"},
    "record_result": TABLE | NOTIFICATIONS,
    "clean_up_failure": TABLE
    | CHALLENGE_RECORDS
    | {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}
    | NOTIFICATIONS,
    # records the switch to a fallback account and announces it; the failed attempt's TXT values are remove_challenges'
    "switch_to_fallback_account": TABLE | NOTIFICATIONS,
}
BASICS = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
BASICS |= {"ssm:GetParameters", "kms:Decrypt"}
# The only actions granted on "*": APIs without resource-level permissions.
ACTIONS_ALLOWED_ON_ANY_RESOURCE = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "route53:ListHostedZones",
    "route53:ListHostedZonesByName",
    "acm:ListCertificates",
    "ssm:ListCommands",
    "ssm:ListCommandInvocations",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("step", LIFECYCLE_STEPS)
def test_each_step_may_do_exactly_its_job(synthesized: Synthesized, step: str) -> None:
    # Given the statements of the step's role
    statements = synthesized.statements_by_step()[step]

    # When its actions are collected
    actions = {action for statement in statements for action in as_list(statement["Action"])}

    # Then they are the basics plus what the step needs, nothing more
    assert actions - BASICS == EXPECTED_ACTIONS[step]
    assert actions >= BASICS


def test_every_function_reads_the_config_and_decrypts_only_through_the_services(synthesized: Synthesized) -> None:
    # Given the stack key and the config parameter
    key_arn = {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}
    parameter = synthesized.only_id("AWS::SSM::Parameter")

    for step, statements in synthesized.statements_by_step().items():
        # When the parameter and key statements of a step are picked out
        by_sid = {statement.get("Sid"): statement for statement in statements}

        # Then the parameters are the deployed one and the pushed accounts', and KMS is usable only via Secrets
        # Manager and DynamoDB
        read = by_sid["ReadConfiguration"]
        assert as_list(read["Action"]) == ["ssm:GetParameters"], step
        assert [flat(resource) for resource in read["Resource"]] == [
            f"arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter<{parameter}>",
            f"arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter{NAMES.accounts_parameter}",
        ], step
        for sid in ("DecryptWithStackKey", "EncryptWithStackKey"):
            if sid in by_sid:
                assert by_sid[sid]["Resource"] == key_arn, step
                services = [flat(s) for s in by_sid[sid]["Condition"]["StringEquals"]["kms:ViaService"]]
                assert services == [f"{name}.<AWS::Region>.amazonaws.com" for name in ("secretsmanager", "dynamodb")]


def test_route53_changes_are_limited_to_acme_challenge_txt_records(synthesized: Synthesized) -> None:
    # Given every statement that allows changing Route 53 records
    changing = {
        step: statement
        for step, statements in synthesized.statements_by_step().items()
        for statement in statements
        if "route53:ChangeResourceRecordSets" in as_list(statement["Action"])
    }

    # When / Then only the three DNS steps have one, and each carries the three conditions
    assert set(changing) == {"publish_challenges", "remove_challenges", "clean_up_failure"}
    for statement in changing.values():
        assert as_list(statement["Action"]) == ["route53:ChangeResourceRecordSets"]
        assert statement["Condition"] == {
            "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"]},
            "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                "route53:ChangeResourceRecordSetsActions": ["CREATE", "UPSERT", "DELETE"],
            },
        }
        # without hostedZoneIds in the context: any zone of this account's partition
        assert [flat(r) for r in as_list(statement["Resource"])] == ["arn:<AWS::Partition>:route53:::hostedzone/*"]


def test_no_identity_policy_has_a_wildcard_action(synthesized: Synthesized) -> None:
    # Given every statement of every role
    statements = synthesized.identity_statements()

    # When the actions with a "*" are collected
    wildcards = [action for statement in statements for action in as_list(statement["Action"]) if "*" in action]

    # Then there are none
    assert statements
    assert wildcards == []


def test_key_policy_gives_wildcard_actions_only_to_the_account(synthesized: Synthesized) -> None:
    # Given the key policy (its default statement lets IAM policies of the account decide)
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    # When the statements with a wildcard action are picked out
    wildcard = [s for s in statements if any("*" in action for action in as_list(s["Action"]))]

    # Then the only one is the account root's, and CloudWatch Logs gets named actions for this account's log groups
    assert [flat(s["Principal"]["AWS"]) for s in wildcard] == ["arn:<AWS::Partition>:iam::<AWS::AccountId>:root"]
    logs = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount")
    assert flat(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]).endswith(":log-group:*")


def test_resource_star_only_where_iam_has_no_resource_level_permissions(synthesized: Synthesized) -> None:
    # Given every statement of every role
    statements = synthesized.identity_statements()

    # When the actions granted on "*" are collected
    on_any_resource = {
        action
        for statement in statements
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }

    # Then they are all in the allowed list: not ImportCertificate (a new certificate is authorized on certificate/*)
    assert on_any_resource <= ACTIONS_ALLOWED_ON_ANY_RESOURCE
    assert "acm:ListCertificates" in on_any_resource


def test_secrets_are_reached_by_name_prefix_and_eab_keys_only_by_their_readers(synthesized: Synthesized) -> None:
    # Given the secret statements of every step
    secret_prefix = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"
    allowed = {f"{secret_prefix}acme-certs/acme-account/*", f"{secret_prefix}acme-certs/certificate/*"}
    eab_secrets = f"{secret_prefix}acme-certs/acme-eab/*"

    for step, statements in synthesized.statements_by_step().items():
        # When the resources of its Secrets Manager statements are collected
        resources = {
            flat(resource)
            for statement in statements
            if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"]))
            for resource in as_list(statement["Resource"])
        }

        # Then they are the account-key and certificate prefixes, and the EAB prefix (accounts of the deployed file
        # and accounts pushed since) only for the two steps that need an HMAC key: registering, and refusing early an
        # unregistered account whose key was never pushed; they only read it
        readers_of_eab_keys = ("ensure_account", "validate_request")
        assert resources <= allowed | ({eab_secrets} if step in readers_of_eab_keys else set()), step
    for step in ("ensure_account", "validate_request"):
        [read] = [s for s in synthesized.statements_by_step()[step] if s.get("Sid") == "ReadEabHmacKeys"]
        assert (as_list(read["Action"]), flat(read["Resource"])) == (["secretsmanager:GetSecretValue"], eab_secrets)


def test_acm_grants_cover_this_account_only(synthesized: Synthesized) -> None:
    # Given the import step's ACM statements
    statements = synthesized.statements_by_step()["import_certificate"]
    described = next(s for s in statements if "acm:DescribeCertificate" in as_list(s["Action"]))

    # When / Then describing is on this account's certificates (any region: imports go to several)
    assert flat(described["Resource"]) == "arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*"


def test_import_reimports_only_into_this_deployments_certificates(synthesized: Synthesized) -> None:
    # Given the import step's statements that allow acm:ImportCertificate
    statements = synthesized.statements_by_step()["import_certificate"]
    importing = {s["Sid"]: s for s in statements if "acm:ImportCertificate" in as_list(s["Action"])}

    # When / Then two, both on this account's certificates: a re-import only into one tagged with this deployment's
    # prefix; a new import (and the tagging it needs) only with exactly our two tags, never onto an owned certificate
    assert set(importing) == {"ReimportOwnCertificates", "ImportNewCertificates"}
    for statement in importing.values():
        assert flat(statement["Resource"]) == "arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*"
    assert as_list(importing["ReimportOwnCertificates"]["Action"]) == ["acm:ImportCertificate"]
    assert importing["ReimportOwnCertificates"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/managed-by": ["acme-certs"]}
    }
    assert sorted(as_list(importing["ImportNewCertificates"]["Action"])) == [
        "acm:AddTagsToCertificate",
        "acm:ImportCertificate",
    ]
    assert importing["ImportNewCertificates"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/managed-by": ["acme-certs"]},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["managed-by", "certificate-name"]},
        "Null": {"aws:RequestTag/certificate-name": "false", "aws:ResourceTag/managed-by": "true"},
    }
    # and no other statement of any role tags or imports ACM certificates
    for step, step_statements in synthesized.statements_by_step().items():
        for statement in step_statements:
            actions = set(as_list(statement["Action"])) & {"acm:ImportCertificate", "acm:AddTagsToCertificate"}
            assert not actions or statement["Sid"] in importing, (step, statement["Sid"])


def test_import_may_put_only_the_arn_owner_items(synthesized: Synthesized) -> None:
    # Given the import step's statements
    statements = synthesized.statements_by_step()["import_certificate"]

    # When the one that allows PutItem is picked out
    (put,) = (s for s in statements if "dynamodb:PutItem" in as_list(s["Action"]))

    # Then it is PutItem alone, on the inventory, for `#arn/<ACM ARN>` keys only (never a certificate's own item), of
    # the owner's name alone (stacks/inventory_writes.py)
    assert as_list(put["Action"]) == ["dynamodb:PutItem"]
    assert put["Resource"] == {"Fn::GetAtt": [synthesized.only_id("AWS::DynamoDB::Table"), "Arn"]}
    assert put["Condition"] == {
        "Null": {"dynamodb:Attributes": "false", "dynamodb:LeadingKeys": "false"},
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["certificate_name", "name"]},
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["#arn/*"]},
    }


# The steps that talk to the CA: each reads the account's Retry-After pause and records a new one.
ACME_STEPS = (
    "ensure_account",
    "create_order",
    "answer_challenges",
    "check_order",
    "finalize_order",
    "store_certificate",
)


@pytest.mark.parametrize("step", ACME_STEPS)
def test_every_acme_step_can_read_and_record_the_accounts_pause(synthesized: Synthesized, step: str) -> None:
    # Given the statements of a step that talks to the CA (Inventory.acme_pause_until and pause_acme)
    statements = synthesized.statements_by_step()[step]
    table = {"Fn::GetAtt": [synthesized.only_id("AWS::DynamoDB::Table"), "Arn"]}

    # When / Then it may read inventory items, and update the `#acme-account/` ones with the pause
    on_table = {action for s in statements if s["Resource"] == table for action in as_list(s["Action"])}
    assert on_table >= TABLE
    (pause,) = (s for s in statements if s.get("Sid") == "WriteAcmeAccountItems")
    assert pause["Condition"]["ForAllValues:StringLike"] == {"dynamodb:LeadingKeys": ["#acme-account/*"]}
    assert "paused_until" in pause["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]


def test_named_hosted_zones_replace_the_any_zone_grant() -> None:
    # Given access targets built with two hosted zone IDs (a bare stack: no synthesis needed)
    stack = Stack(App(), "Probe")
    targets = AccessTargets.build(
        stack,
        NAMES,
        table_arn="arn:aws:dynamodb:eu-west-1:111122223333:table/t",
        config_parameter_arn="arn:aws:ssm:eu-west-1:111122223333:parameter/p",
        key_arn="arn:aws:kms:eu-west-1:111122223333:key/k",
        hosted_zone_ids=["Z1EXAMPLE", "Z2EXAMPLE"],
    )

    # When the DNS steps' grants are made
    zone_grants = [
        grant
        for step in ("publish_challenges", "remove_challenges", "clean_up_failure", "validate_request")
        for grant in grants_for(step, targets)
        if any(action.startswith("route53:") and "HostedZones" not in action for action in grant.statement.actions)
    ]

    # Then they name exactly those zones, and need no wildcard reason any more
    assert zone_grants
    for grant in zone_grants:
        resources = [flat(stack.resolve(resource)) for resource in grant.statement.resources]
        assert resources == [
            "arn:<AWS::Partition>:route53:::hostedzone/Z1EXAMPLE",
            "arn:<AWS::Partition>:route53:::hostedzone/Z2EXAMPLE",
        ]
        assert grant.wildcard_reason is None


def test_every_lifecycle_step_has_grants() -> None:
    # Given / When / Then the grant table covers exactly the lifecycle steps
    assert sorted(STEP_GRANTS) == sorted(LIFECYCLE_STEPS)
