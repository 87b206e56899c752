"""sandbox.iam.requests for Route 53, Systems Manager, EventBridge, SNS, STS, Step Functions and Lambda: each
operation's action, resource and condition keys; Run Command's nodes resolved by tag; SNS's KMS permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.iam.authz_ops import normalized_record_name
from sandbox.iam.wire import Unmapped
from tests.unit.iam_request_capture import ACCOUNT, REGION, ROLE_ARN, authorize, only

STATE_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:certificate-lifecycle"
COMMAND_ID = "0b5b4b4e-7f7e-4c4d-9d6a-2f3a1c9e8d11"
EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:certificate-lifecycle:run-1"


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


# --- Route 53 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "params", "action", "resource"),
    [
        ("list_hosted_zones", {}, "route53:ListHostedZones", "*"),
        ("list_hosted_zones_by_name", {"DNSName": "example.com"}, "route53:ListHostedZonesByName", "*"),
        ("get_hosted_zone", {"Id": "/hostedzone/Z0123"}, "route53:GetHostedZone", "arn:aws:route53:::hostedzone/Z0123"),
        (
            "list_resource_record_sets",
            {"HostedZoneId": "Z0123", "StartRecordName": "_acme-challenge.example.com", "StartRecordType": "TXT"},
            "route53:ListResourceRecordSets",
            "arn:aws:route53:::hostedzone/Z0123",
        ),
        (
            "get_change",
            {"Id": "/change/C2682N5HXP0BZ4"},
            "route53:GetChange",
            "arn:aws:route53:::change/C2682N5HXP0BZ4",
        ),
    ],
)
def test_route53_reads(moto: None, operation: str, params: dict[str, Any], action: str, resource: str) -> None:
    # Given a Route 53 read (ids as the API returns them, with their /hostedzone/ or /change/ prefix)
    # When it is mapped
    request = only(authorize("route53", operation, **params))
    # Then the action on the zone or change ARN without the prefix, or "*" for the listings
    assert (request.action, request.resource) == (action, resource)


def test_change_resource_record_sets_gives_one_entry_per_change(moto: None) -> None:
    # Given a change batch of an UPSERT and a DELETE, names in mixed case, with and without the trailing dot
    changes = [
        ("UPSERT", "_ACME-Challenge.WWW.Example.com.", "TXT"),
        ("DELETE", "*.example.com", "txt"),
    ]
    batch = {
        "Changes": [
            {
                "Action": action,
                "ResourceRecordSet": {"Name": name, "Type": kind, "TTL": 60, "ResourceRecords": [{"Value": '"v"'}]},
            }
            for action, name, kind in changes
        ]
    }
    # When it is mapped
    change = only(
        authorize("route53", "change_resource_record_sets", HostedZoneId="/hostedzone/Z0123", ChangeBatch=batch)
    )
    # Then on the zone, with the normalized names, the types and the actions, one entry per change
    assert (change.action, change.resource) == (
        "route53:ChangeResourceRecordSets",
        "arn:aws:route53:::hostedzone/Z0123",
    )
    assert change.context["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == [
        "_acme-challenge.www.example.com",
        "\\052.example.com",
    ]
    assert change.context["route53:ChangeResourceRecordSetsRecordTypes"] == ["TXT", "TXT"]
    assert change.context["route53:ChangeResourceRecordSetsActions"] == ["UPSERT", "DELETE"]


def test_record_names_are_normalized_as_route53_documents() -> None:
    # Given names with upper case, a trailing dot, a wildcard, an existing escape and a space
    # When they are normalized
    # Then lower case, no trailing dot, octal escapes for everything but a-z 0-9 - _ .
    assert normalized_record_name("Www.Example.COM.") == "www.example.com"
    assert normalized_record_name("*.example.com") == "\\052.example.com"
    assert normalized_record_name("\\052.a b.example.com") == "\\052.a\\040b.example.com"


# --- Systems Manager ------------------------------------------------------------------------------------------------
@pytest.fixture
def nodes(moto: None) -> list[str]:
    """Two instances tagged for distribution (role=web), one not."""
    ec2 = boto3.client("ec2", region_name=REGION)

    def start(tags: dict[str, str]) -> str:
        reservation = ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )
        return str(reservation["Instances"][0]["InstanceId"])

    web = [start({"role": "web", "AccessGroup": "web"}), start({"role": "web", "AccessGroup": "web"})]
    start({"role": "db"})
    return web


def test_send_command_by_tag_is_authorized_on_the_document_and_each_targeted_node(nodes: list[str]) -> None:
    # Given two nodes tagged role=web (and one that is not)
    # When AWS-RunShellScript is sent to the tag
    requests = authorize(
        "ssm",
        "send_command",
        DocumentName="AWS-RunShellScript",
        Targets=[{"Key": "tag:role", "Values": ["web"]}],
        Parameters={"commands": ["true"]},
    )
    # Then ssm:SendCommand on AWS's document (no account in its ARN) and on each web node, with the node's tags
    assert {r.action for r in requests} == {"ssm:SendCommand"}
    assert requests[0].resource == f"arn:aws:ssm:{REGION}::document/AWS-RunShellScript"
    node_arns = {f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{node}" for node in nodes}
    assert {r.resource for r in requests[1:]} == node_arns
    assert {(r.context["ssm:resourceTag/role"], r.context["aws:ResourceTag/AccessGroup"]) for r in requests[1:]} == {
        ("web", "web")
    }


def test_send_command_by_instance_ids_includes_managed_instances(nodes: list[str]) -> None:
    # Given an instance and a managed instance (mi-), named by ID, and the account's own document
    # When the command is mapped
    requests = authorize(
        "ssm",
        "send_command",
        DocumentName="certificates-distribute",
        InstanceIds=[nodes[0], "mi-0123456789abcdef0"],
        OutputS3BucketName="command-output",
    )
    # Then the document in the account, the instance, the managed instance, and the output bucket
    assert [r.resource for r in requests] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/certificates-distribute",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{nodes[0]}",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/mi-0123456789abcdef0",
        "arn:aws:s3:::command-output",
    ]


def test_send_command_to_a_resource_group_is_unmapped(moto: None) -> None:
    # Given a resource-group target
    # When it is mapped
    # Then Unmapped
    with pytest.raises(Unmapped, match="resource-groups:Name"):
        authorize(
            "ssm",
            "send_command",
            DocumentName="AWS-RunShellScript",
            Targets=[{"Key": "resource-groups:Name", "Values": ["g"]}],
        )


def test_parameters_and_command_reads(moto: None) -> None:
    # Given parameter reads and the command read operations
    # When they are mapped
    one = only(authorize("ssm", "get_parameter", Name="/certificates/config"))
    two = authorize("ssm", "get_parameters", Names=["/certificates/config", "plain"])
    reads = [
        only(authorize("ssm", "list_commands", CommandId=COMMAND_ID)),
        only(authorize("ssm", "list_command_invocations", CommandId=COMMAND_ID, Details=True)),
        only(authorize("ssm", "get_command_invocation", CommandId=COMMAND_ID, InstanceId="i-0123456789abcdef0")),
        only(authorize("ssm", "describe_instance_information")),
    ]
    # Then parameters without their leading slash; the reads, which have no resource type, on "*"
    assert (one.action, one.resource) == (
        "ssm:GetParameter",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/certificates/config",
    )
    assert [r.resource for r in two] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/certificates/config",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain",
    ]
    assert [(r.action, r.resource) for r in reads] == [
        ("ssm:ListCommands", "*"),
        ("ssm:ListCommandInvocations", "*"),
        ("ssm:GetCommandInvocation", "*"),
        ("ssm:DescribeInstanceInformation", "*"),
    ]


# --- EventBridge ----------------------------------------------------------------------------------------------------
def test_put_events_is_authorized_per_entry_on_its_bus(moto: None) -> None:
    # Given three entries: the default bus, a bus by name, a bus by ARN
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/other"
    entries = [
        {"Source": "acme.certificates", "DetailType": "Certificate Issued", "Detail": "{}"},
        {"Source": "acme.certificates", "DetailType": "Renewal Failed", "Detail": "{}", "EventBusName": "certs"},
        {"Source": "other", "DetailType": "X", "Detail": "{}", "EventBusName": bus_arn},
    ]
    # When PutEvents is mapped
    requests = authorize("events", "put_events", Entries=entries)
    # Then one events:PutEvents per entry, with that entry's source and detail type
    assert [(r.action, r.resource) for r in requests] == [
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/certs"),
        ("events:PutEvents", bus_arn),
    ]
    assert [(r.context["events:source"], r.context["events:detail-type"]) for r in requests] == [
        ("acme.certificates", "Certificate Issued"),
        ("acme.certificates", "Renewal Failed"),
        ("other", "X"),
    ]


# --- SNS ------------------------------------------------------------------------------------------------------------
def test_publish_to_an_encrypted_topic_needs_its_key_through_sns(moto: None) -> None:
    # Given a topic encrypted with a customer managed key, and one that is not encrypted
    key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    sns = boto3.client("sns", region_name=REGION)
    encrypted = sns.create_topic(Name="notifications", Attributes={"KmsMasterKeyId": key_arn})["TopicArn"]
    plain = sns.create_topic(Name="plain")["TopicArn"]
    # When a Publish to each is mapped
    publish, generate, decrypt = authorize("sns", "publish", TopicArn=encrypted, Message="m")
    plain_publish = only(authorize("sns", "publish", TopicArn=plain, Message="m"))
    # Then sns:Publish on the topic; for the encrypted one kms:GenerateDataKey and kms:Decrypt via SNS for the topic
    assert (publish.action, publish.resource, plain_publish.resource) == ("sns:Publish", encrypted, plain)
    assert [(r.action, r.resource) for r in (generate, decrypt)] == [
        ("kms:GenerateDataKey", key_arn),
        ("kms:Decrypt", key_arn),
    ]
    assert generate.context["kms:ViaService"] == f"sns.{REGION}.amazonaws.com"
    assert decrypt.context["kms:EncryptionContext:aws:sns:topicArn"] == encrypted


def test_publish_to_a_phone_number_is_unmapped(moto: None) -> None:
    # Given a Publish without TopicArn
    # When it is mapped
    # Then Unmapped
    with pytest.raises(Unmapped, match="TopicArn"):
        authorize("sns", "publish", PhoneNumber="+15555550100", Message="m")


# --- STS ------------------------------------------------------------------------------------------------------------
def test_assume_role_and_get_caller_identity(moto: None) -> None:
    # Given an AssumeRole of a DNS account's role, with an external ID
    dns_role = "arn:aws:iam::210987654321:role/certificates-dns"
    # When it and GetCallerIdentity are mapped
    assume = only(authorize("sts", "assume_role", RoleArn=dns_role, RoleSessionName="renewal", ExternalId="ext-1"))
    identity = authorize("sts", "get_caller_identity")
    # Then sts:AssumeRole on the role with the session name and external ID; GetCallerIdentity needs nothing
    assert (assume.action, assume.resource) == ("sts:AssumeRole", dns_role)
    assert (assume.context["sts:RoleSessionName"], assume.context["sts:ExternalId"]) == ("renewal", "ext-1")
    assert assume.context["aws:PrincipalArn"] == ROLE_ARN
    assert identity == []


# --- Step Functions -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "params", "action", "resource"),
    [
        ("start_execution", {"stateMachineArn": STATE_MACHINE, "input": "{}"}, "states:StartExecution", STATE_MACHINE),
        ("describe_state_machine", {"stateMachineArn": STATE_MACHINE}, "states:DescribeStateMachine", STATE_MACHINE),
        ("list_executions", {"stateMachineArn": STATE_MACHINE}, "states:ListExecutions", STATE_MACHINE),
        ("describe_execution", {"executionArn": EXECUTION}, "states:DescribeExecution", EXECUTION),
        ("get_execution_history", {"executionArn": EXECUTION}, "states:GetExecutionHistory", EXECUTION),
        ("stop_execution", {"executionArn": EXECUTION}, "states:StopExecution", EXECUTION),
    ],
)
def test_step_functions(moto: None, operation: str, params: dict[str, Any], action: str, resource: str) -> None:
    # Given a Step Functions call
    # When it is mapped
    request = only(authorize("stepfunctions", operation, **params))
    # Then the action on the state machine or the execution
    assert (request.action, request.resource) == (action, resource)


# --- Lambda ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "qualifier", "resource"),
    [
        ("certificates-start", None, "function:certificates-start"),
        ("certificates-start", "live", "function:certificates-start:live"),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:certificates-start", None, "function:certificates-start"),
        (f"{ACCOUNT}:function:certificates-start:3", None, "function:certificates-start:3"),
    ],
)
def test_lambda_invoke(moto: None, function: str, qualifier: str | None, resource: str) -> None:
    # Given an Invoke by name, by name and Qualifier, by ARN, by partial ARN with a version
    params = {"Qualifier": qualifier} if qualifier else {}
    # When it is mapped
    request = only(authorize("lambda", "invoke", FunctionName=function, Payload=b"{}", **params))
    # Then lambda:InvokeFunction on the function's ARN, qualified when the request is
    assert (request.action, request.resource) == (
        "lambda:InvokeFunction",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:{resource}",
    )
