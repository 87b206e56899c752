"""sandbox.iam.requests: the SigV4 scope and operation of a raw request, the caller's global keys, what is not
mapped, the contexts against sandbox.iam.evaluator, and the AccessDenied answers botocore reads as AWS's.

The service-by-service mappings are in test_iam_requests_data.py and test_iam_requests_ops.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from moto import mock_aws

from sandbox.iam.evaluator import Decision, evaluate
from sandbox.iam.requests import (
    Caller,
    HttpRequest,
    Unmapped,
    access_denied,
    access_key_id,
    authorizations,
    operation_of,
    signing_service,
)
from sandbox.iam.resource_state import ResourceState
from sandbox.iam.wire import service_model, signing_region
from tests.unit.iam_request_capture import (
    ACCESS_KEY_ID,
    ACCOUNT,
    CALLER,
    REGION,
    ROLE_ARN,
    SESSION_ARN,
    authorize,
    canned_response,
    captured_request,
    client,
    only,
    to_http_request,
)

MESSAGE = (
    f"User: {SESSION_ARN} is not authorized to perform: dynamodb:GetItem on resource: "
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t because no identity-based policy allows the dynamodb:GetItem action"
)


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


# --- the credential scope and the operation -------------------------------------------------------------------------
def test_the_signing_service_and_key_come_from_the_authorization_header() -> None:
    # Given a request botocore signed
    request = captured_request("dynamodb", "get_item", TableName="t", Key={"pk": {"S": "a"}})
    # When its credential scope is read
    # Then the service, region and access key of the scope
    assert (signing_service(request), signing_region(request), access_key_id(request)) == (
        "dynamodb",
        REGION,
        ACCESS_KEY_ID,
    )


def test_a_presigned_url_carries_its_scope_in_the_query() -> None:
    # Given a presigned URL
    url = urlsplit(client("sts").generate_presigned_url("get_caller_identity"))
    request = HttpRequest("GET", url.path or "/", url.query, {}, b"")
    # When its credential scope is read
    # Then from X-Amz-Credential
    assert (signing_service(request), access_key_id(request)) == ("sts", ACCESS_KEY_ID)


def test_an_unsigned_request_has_no_scope_and_is_unmapped(moto: None) -> None:
    # Given a request without signature
    request = HttpRequest("GET", "/", "", {"Host": "localhost"}, b"")
    # When it is read and mapped
    # Then no service, no key, and Unmapped
    assert (signing_service(request), access_key_id(request)) == (None, None)
    with pytest.raises(Unmapped, match="not SigV4-signed"):
        authorizations(request, CALLER, REGION, ResourceState(ACCOUNT, REGION))


def test_headers_are_looked_up_case_insensitively() -> None:
    # Given headers in mixed case
    request = HttpRequest("POST", "/", "", {"X-Amz-Target": "DynamoDB_20120810.GetItem"}, b"{}")
    # When they are looked up in any case
    # Then found; their keys are kept lower-cased
    assert request.headers["x-amz-target"] == request.headers["X-AMZ-TARGET"] == "DynamoDB_20120810.GetItem"
    assert list(request.headers) == ["x-amz-target"]


@pytest.mark.parametrize(
    ("service", "operation", "params", "signing_name", "expected"),
    [
        ("dynamodb", "update_item", {"TableName": "t", "Key": {"pk": {"S": "a"}}}, "dynamodb", "UpdateItem"),
        ("stepfunctions", "list_executions", {"stateMachineArn": "arn:x"}, "states", "ListExecutions"),
        ("sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "m"}, "sns", "Publish"),
        ("route53", "list_hosted_zones", {}, "route53", "ListHostedZones"),
        ("route53", "get_hosted_zone", {"Id": "Z1"}, "route53", "GetHostedZone"),
        (
            "route53",
            "change_resource_record_sets",
            {
                "HostedZoneId": "Z1",
                "ChangeBatch": {"Changes": [{"Action": "DELETE", "ResourceRecordSet": {"Name": "a", "Type": "A"}}]},
            },
            "route53",
            "ChangeResourceRecordSets",
        ),
        ("lambda", "invoke", {"FunctionName": "f"}, "lambda", "Invoke"),
    ],
)
def test_operation_of_every_protocol(
    service: str, operation: str, params: dict[str, Any], signing_name: str, expected: str
) -> None:
    # Given a request of a JSON, query, REST-XML or REST-JSON service
    request = captured_request(service, operation, **params)
    # When its operation is read
    # Then the operation's name
    assert signing_service(request) == signing_name
    assert operation_of(request, signing_name) == expected


def test_an_unknown_target_is_unmapped() -> None:
    # Given a DynamoDB request naming no operation of DynamoDB
    request = HttpRequest("POST", "/", "", {"X-Amz-Target": "DynamoDB_20120810.Nonsense"}, b"{}")
    # When its operation is read
    # Then Unmapped
    with pytest.raises(Unmapped, match="Nonsense"):
        operation_of(request, "dynamodb")


# --- dispatch and the caller's keys ---------------------------------------------------------------------------------
def test_every_authorization_holds_the_callers_global_keys(moto: None) -> None:
    # Given the caller (an assumed role tagged AccessGroup=web)
    # When any request is mapped
    request = only(authorize("route53", "list_hosted_zones"))
    # Then the role's ARN, account and tags, and plain HTTP; no organization when the caller has none
    assert request.context["aws:PrincipalArn"] == ROLE_ARN
    assert request.context["aws:PrincipalAccount"] == ACCOUNT
    assert request.context["aws:PrincipalTag/AccessGroup"] == "web"
    assert request.context["aws:SecureTransport"] is False
    assert "aws:PrincipalOrgID" not in request.context


def test_the_organization_is_a_global_key_when_known(moto: None) -> None:
    # Given a caller in an organization
    caller = Caller(ROLE_ARN, SESSION_ARN, ACCOUNT, {}, org_id="o-abc123")
    http = captured_request("route53", "list_hosted_zones")
    # When a request is mapped
    request = only(authorizations(http, caller, REGION, ResourceState(ACCOUNT, REGION)))
    # Then aws:PrincipalOrgID
    assert request.context["aws:PrincipalOrgID"] == "o-abc123"


@pytest.mark.parametrize(
    ("service", "operation", "params", "named"),
    [
        ("dynamodb", "delete_table", {"TableName": "t"}, "dynamodb: DeleteTable"),
        ("s3", "list_buckets", {}, "s3: ListBuckets"),
        ("iam", "list_roles", {}, "iam: ListRoles"),
        ("secretsmanager", "rotate_secret", {"SecretId": "s"}, "secretsmanager: RotateSecret"),
        ("sts", "get_session_token", {}, "sts: GetSessionToken"),
    ],
)
def test_what_is_not_mapped_raises_unmapped_naming_service_and_operation(
    moto: None, service: str, operation: str, params: dict[str, Any], named: str
) -> None:
    # Given an operation this module does not map
    # When it is mapped
    # Then Unmapped, naming the service and the operation
    with pytest.raises(Unmapped, match=named):
        authorize(service, operation, **params)


def test_contexts_decide_with_the_evaluator_as_the_stack_policies_expect(moto: None) -> None:
    # Given statements like the stack's: TXT changes to _acme-challenge names, our events, owner items only
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": "arn:aws:route53:::hostedzone/Z1",
                "Condition": {
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"]
                    },
                    "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]},
                },
            },
            {
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": "*",
                "Condition": {"StringEquals": {"events:source": ["acme.certificates"]}},
            },
            {
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": "*",
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["#arn/*"]}},
            },
        ],
    }

    def change(name: str, kind: str) -> Any:
        record = {"Name": name, "Type": kind, "TTL": 60, "ResourceRecords": [{"Value": '"v"'}]}
        batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
        return only(authorize("route53", "change_resource_record_sets", HostedZoneId="Z1", ChangeBatch=batch))

    def event(source: str) -> Any:
        return only(authorize("events", "put_events", Entries=[{"Source": source, "DetailType": "d", "Detail": "{}"}]))

    def put(name: str) -> Any:
        return authorize("dynamodb", "put_item", TableName="t", Item={"name": {"S": name}})[0]

    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # When the requests are evaluated
    # Then what the statements allow is allowed, and the rest denied
    assert evaluate([policy], change("_ACME-challenge.www.example.com.", "TXT")) is Decision.ALLOWED
    assert evaluate([policy], change("www.example.com", "TXT")) is Decision.IMPLICIT_DENY
    assert evaluate([policy], change("_acme-challenge.example.com", "A")) is Decision.IMPLICIT_DENY
    assert evaluate([policy], event("acme.certificates")) is Decision.ALLOWED
    assert evaluate([policy], event("other")) is Decision.IMPLICIT_DENY
    assert evaluate([policy], put("#arn/arn:aws:acm:x")) is Decision.ALLOWED
    assert evaluate([policy], put("www.example.com")) is Decision.IMPLICIT_DENY


# --- denials --------------------------------------------------------------------------------------------------------
# service (botocore's name), signing name, an operation and its parameters, the code botocore must read
DENIALS: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("dynamodb", "dynamodb", "get_item", {"TableName": "t", "Key": {"pk": {"S": "a"}}}, "AccessDeniedException"),
    ("secretsmanager", "secretsmanager", "get_secret_value", {"SecretId": "s"}, "AccessDeniedException"),
    ("kms", "kms", "describe_key", {"KeyId": "k"}, "AccessDeniedException"),
    ("acm", "acm", "list_certificates", {}, "AccessDeniedException"),
    ("ssm", "ssm", "describe_instance_information", {}, "AccessDeniedException"),
    (
        "events",
        "events",
        "put_events",
        {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]},
        "AccessDeniedException",
    ),
    ("stepfunctions", "states", "list_executions", {"stateMachineArn": "arn:x"}, "AccessDeniedException"),
    ("lambda", "lambda", "invoke", {"FunctionName": "f"}, "AccessDeniedException"),
    ("route53", "route53", "list_hosted_zones", {}, "AccessDenied"),
    ("sts", "sts", "assume_role", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "session"}, "AccessDenied"),
    ("iam", "iam", "list_roles", {}, "AccessDenied"),
    ("sns", "sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "m"}, "AuthorizationError"),
    ("ec2", "ec2", "describe_instances", {}, "UnauthorizedOperation"),
]
IDS = [denial[0] for denial in DENIALS]


@pytest.mark.parametrize(("service", "signing_name", "operation", "params", "code"), DENIALS, ids=IDS)
def test_the_denial_parses_as_the_services_error(
    service: str, signing_name: str, operation: str, params: dict[str, Any], code: str
) -> None:
    # Given the service's denial of one of its requests
    request = captured_request(service, operation, **params)
    status, headers, body = access_denied(signing_name, request, MESSAGE)
    # When botocore's parser for the service's protocol reads it
    model = service_model(signing_name)
    operation_model = model.operation_model(operation_of(request, signing_name))
    response = {"status_code": status, "headers": HTTPHeaders.from_pairs(headers), "body": body}
    assert operation_model.output_shape is not None
    parsed = create_parser(model.protocol).parse(response, operation_model.output_shape)
    # Then the code AWS uses, the message, and a request ID
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == MESSAGE
    assert parsed["ResponseMetadata"]["RequestId"]
    assert status == (400 if model.protocol == "json" else 403)


@pytest.mark.parametrize(("service", "signing_name", "operation", "params", "code"), DENIALS, ids=IDS)
def test_a_client_raises_the_services_client_error(
    service: str, signing_name: str, operation: str, params: dict[str, Any], code: str
) -> None:
    # Given a client whose requests are denied by access_denied
    denied = boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url="http://localhost:1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key="not-a-secret",
        config=Config(retries={"max_attempts": 1}),
    )

    def deny(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        status, headers, body = access_denied(signing_name, to_http_request(request), MESSAGE)
        return canned_response(request.url, status, dict(headers), body)

    denied.meta.events.register("before-send", deny)
    # When it calls the service
    with pytest.raises(ClientError) as raised:
        getattr(denied, operation)(**params)
    # Then botocore raises the ClientError AWS's answer gives
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["Error"]["Message"] == MESSAGE
