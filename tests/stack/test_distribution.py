"""Distribution in the stack: the SSM document as kept in the repo, the nodes' managed policy (attribute-based), the
least-privilege roles of the distribution functions, the distribution machine and ACM's Certificate Available rule."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from certlib.distribution.spec import DOCUMENT_PATTERNS
from certlib.resources import (
    ACCESS_GROUP_TAG,
    DISTRIBUTION_FUNCTIONS,
    DISTRIBUTION_OPT_IN_TAG,
    DISTRIBUTION_STEPS,
    Env,
    ResourceNames,
)
from deploy.paths import DISTRIBUTION_DOCUMENT
from stacks.nag import flatten_cfn_reference as flat

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()
SECRETS = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"
TABLE = {"dynamodb:GetItem", "dynamodb:UpdateItem"}
BASICS = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
BASICS |= {"ssm:GetParameters", "kms:Decrypt"}
SECRET_WRITES = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:CreateSecret",
    "secretsmanager:TagResource",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in statements if "Sid" in statement}


def test_the_document_is_the_file_in_the_repository(synthesized: Synthesized) -> None:
    # Given the SSM document resource
    (document,) = synthesized.resources("AWS::SSM::Document").values()
    properties = document["Properties"]

    # When / Then it is the repository's YAML, a Command document of schema 2.2 running a shell script
    assert properties["Name"] == NAMES.distribution_document
    assert (properties["DocumentType"], properties["DocumentFormat"]) == ("Command", "YAML")
    assert properties["Content"] == yaml.safe_load(DISTRIBUTION_DOCUMENT.read_text())
    assert properties["Content"]["schemaVersion"] == "2.2"
    assert [step["action"] for step in properties["Content"]["mainSteps"]] == ["aws:runShellScript"]


def test_every_document_parameter_has_the_pattern_the_sender_checks() -> None:
    # Given the document's parameters
    parameters = yaml.safe_load(DISTRIBUTION_DOCUMENT.read_text())["parameters"]

    # When / Then each has an allowedPattern, equal to the one certlib checks before sending, and no parameter
    # could carry the private key (nothing is named like it, and none takes PEM's newlines)
    assert {name: p["allowedPattern"] for name, p in parameters.items()} == DOCUMENT_PATTERNS
    assert not any("key" in name.lower() and name != "keyPath" for name in parameters)
    pem = (
        "-----BEGIN "
        + "PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END "
        + "PRIVATE KEY-----"
    )
    assert not any(re.search(p["allowedPattern"], pem) for p in parameters.values())


def test_nodes_read_only_the_bundles_of_their_access_group(synthesized: Synthesized) -> None:
    # Given the nodes' managed policy
    (policy,) = (
        resource
        for resource in synthesized.resources("AWS::IAM::ManagedPolicy").values()
        if resource["Properties"].get("ManagedPolicyName") == NAMES.certificate_nodes_policy
    )
    statements = by_sid(policy["Properties"]["PolicyDocument"]["Statement"])
    key_arn = {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}

    # When / Then it reads certificate bundles (only) whose tag equals the node's principal tag, and decrypts only
    # through Secrets Manager for those secrets
    read = statements["ReadCertificatesOfMyAccessGroup"]
    assert as_list(read["Action"]) == ["secretsmanager:GetSecretValue"]
    assert flat(read["Resource"]) == f"{SECRETS}acme-certs/certificate/*"
    assert read["Condition"]["StringEquals"] == {
        f"secretsmanager:ResourceTag/{ACCESS_GROUP_TAG}": f"${{aws:PrincipalTag/{ACCESS_GROUP_TAG}}}"
    }
    assert read["Condition"]["Null"] == {f"aws:PrincipalTag/{ACCESS_GROUP_TAG}": "false"}
    decrypt = statements["DecryptCertificatesThroughSecretsManager"]
    assert (as_list(decrypt["Action"]), decrypt["Resource"]) == (["kms:Decrypt"], key_arn)
    assert flat(decrypt["Condition"]["StringEquals"]["kms:ViaService"]) == "secretsmanager.<AWS::Region>.amazonaws.com"
    assert flat(decrypt["Condition"]["StringLike"]["kms:EncryptionContext:SecretARN"]).endswith("certificate/*")
    assert len(statements) == 2


def test_send_may_send_only_the_document_and_set_only_the_access_tag(synthesized: Synthesized) -> None:
    # Given the send step's statements
    statements = synthesized.statements_by_step(["send_distribution"])["send_distribution"]
    sids = by_sid(statements)

    # When / Then it sends only the distribution document, only to this region's instances that opted in by tag, and
    # tags only the access tag
    policies = {"secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"}
    assert actions(statements) - BASICS == TABLE | {"ssm:SendCommand", "secretsmanager:TagResource"} | policies
    document = sids["SendOnlyTheDistributionDocument"]
    assert flat(document["Resource"]) == (
        f"arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:document/{NAMES.distribution_document}"
    )
    assert "Condition" not in document
    nodes = sids["SendToNodesThatOptedIn"]
    assert [flat(r) for r in nodes["Resource"]] == [
        "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*",
        "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*",
    ]
    assert nodes["Condition"] == {"StringEquals": {f"ssm:resourceTag/{DISTRIBUTION_OPT_IN_TAG}": NAMES.prefix}}
    send_statements = [s for s in statements if "ssm:SendCommand" in as_list(s["Action"])]
    assert len(send_statements) == 2
    tag = sids["TagCertificatesForNodes"]
    assert tag["Condition"] == {"ForAllValues:StringEquals": {"aws:TagKeys": [ACCESS_GROUP_TAG]}}
    assert flat(tag["Resource"]) == f"{SECRETS}acme-certs/certificate/*"
    # the node accounts' resource policy: only on certificate secrets, never a public one (BlockPublicPolicy)
    put_policy = sids["LetNodeAccountsReadTheirBundles"]
    assert as_list(put_policy["Action"]) == ["secretsmanager:PutResourcePolicy"]
    assert put_policy["Condition"] == {"Bool": {"secretsmanager:BlockPublicPolicy": "true"}}
    assert flat(put_policy["Resource"]) == flat(sids["RevokeNodeAccountsReads"]["Resource"]) == flat(tag["Resource"])
    # and no distribution step ever reads a certificate bundle: the nodes do that with their own role
    for step in ("send_distribution", "check_distribution"):
        assert "secretsmanager:GetSecretValue" not in actions(synthesized.statements_by_step([step])[step])


def test_check_only_reads_commands(synthesized: Synthesized) -> None:
    statements = synthesized.statements_by_step(["check_distribution"])["check_distribution"]
    assert actions(statements) - BASICS == {"ssm:ListCommands", "ssm:ListCommandInvocations"}


def test_export_and_event_functions_do_exactly_their_job(synthesized: Synthesized) -> None:
    # Given the statements of the distribution machine's own functions and the event handler
    statements = synthesized.statements_by_step(DISTRIBUTION_FUNCTIONS)
    machine_id, _ = synthesized.state_machine(NAMES.distribution_state_machine)

    # When / Then export exports (this region's certificates only) and keeps bundle and passphrase; record records;
    # the event handler reads the inventory and starts the distribution machine, and nothing else
    export = statements["export_certificate"]
    assert actions(export) - BASICS == TABLE | SECRET_WRITES | {
        "dynamodb:PutItem",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "acm:ExportCertificate",
    }
    sids = by_sid(export)
    assert flat(sids["ExportCertificates"]["Resource"]) == (
        "arn:<AWS::Partition>:acm:<AWS::Region>:<AWS::AccountId>:certificate/*"
    )
    # only certificates their owner tagged for this deployment (issue 13, item 4)
    assert sids["ExportCertificates"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/acme-certificates-export": ["acme-certs"]}
    }
    assert flat(sids["KeepExportPassphrases"]["Resource"]) == f"{SECRETS}acme-certs/export-passphrase/*"
    assert actions(statements["record_distribution"]) - BASICS == TABLE
    handler = statements["handle_certificate_available"]
    assert actions(handler) - BASICS == {"dynamodb:GetItem", "states:StartExecution"}  # it writes nothing
    assert by_sid(handler)["StartDistribution"]["Resource"] == {"Ref": machine_id}


def test_the_distribution_machine_invokes_exactly_its_four_functions(synthesized: Synthesized) -> None:
    # Given the distribution machine's role policy
    machine_id, machine = synthesized.state_machine(NAMES.distribution_state_machine)
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    functions = synthesized.functions_by_step(DISTRIBUTION_STEPS)

    # When / Then it invokes export, send, check and record, and no other function
    (invoke,) = (s for s in statements if "lambda:InvokeFunction" in as_list(s["Action"]))
    assert invoke["Resource"] == [{"Fn::GetAtt": [functions[step][0], "Arn"]} for step in DISTRIBUTION_STEPS]
    environment = synthesized.functions_by_step(["handle_certificate_available"])["handle_certificate_available"]
    assert environment[1]["Properties"]["Environment"]["Variables"][Env.DISTRIBUTION_STATE_MACHINE_ARN] == {
        "Ref": machine_id
    }


def test_acm_renewals_reach_the_event_handler(synthesized: Synthesized) -> None:
    # Given the rule for ACM's Certificate Available event
    handler_id, _ = synthesized.functions_by_step(["handle_certificate_available"])["handle_certificate_available"]
    (rule,) = (
        resource
        for resource in synthesized.resources("AWS::Events::Rule").values()
        if resource["Properties"].get("EventPattern", {}).get("detail-type") == ["ACM Certificate Available"]
    )

    # When / Then it matches ACM's renewals only and targets the handler, which lets only that rule invoke it
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.acm"],
        "detail-type": ["ACM Certificate Available"],
        "detail": {"Action": ["RENEWAL"]},
    }
    assert [target["Arn"] for target in rule["Properties"]["Targets"]] == [{"Fn::GetAtt": [handler_id, "Arn"]}]
    permissions = [
        resource["Properties"]
        for resource in synthesized.resources("AWS::Lambda::Permission").values()
        if resource["Properties"]["FunctionName"] == {"Fn::GetAtt": [handler_id, "Arn"]}
    ]
    assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"]
