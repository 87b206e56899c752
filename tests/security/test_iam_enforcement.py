"""The sandbox denies what AWS would deny: each function runs as its own role with the synthesized template's
policies, and a missing grant, a change outside `_acme-challenge` TXT records or a node of another access group
fails as it would on AWS (AccessDenied), not only after deployment."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from certctl import sandbox_commands
from certlib.resources import ACCESS_GROUP_TAG, ResourceNames, certificate_secret_name
from sandbox.iam.stack_roles import DNS_EXTERNAL_ID
from sandbox.nodes import node_instance_profile
from tests.conftest import UNDECIDABLE_ON_PURPOSE
from tests.lifecycle.helpers import issue, session_of, target_of

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


def role_of(info: dict[str, Any], step: str) -> str:
    """The role ARN the sandbox's function of `step` runs as (the template's)."""
    function = (
        target_of(info)
        .client("lambda")
        .get_function(FunctionName=ResourceNames(info["resource_prefix"]).function(step))
    )
    return str(function["Configuration"]["Role"])


def as_role(info: dict[str, Any], role_arn: str, session_name: str = "test") -> boto3.Session:
    """A session with the role's credentials, from the sandbox's STS (what the sandbox gives the function)."""
    credentials = (
        target_of(info).client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    )
    return session_of(credentials, info["region"])


def client(info: dict[str, Any], session: boto3.Session, service: str) -> Any:
    return session.client(service, endpoint_url=info["aws_endpoint_url"], config=NO_RETRIES)  # type: ignore[call-overload]


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


@contextmanager
def without_statement(info: dict[str, Any], role_arn: str, sid: str) -> Iterator[None]:
    """The role's inline policy (as the sandbox made it from the template) without one statement, then restored."""
    iam = target_of(info).client("iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    original = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    statements = [statement for statement in original["Statement"] if statement.get("Sid") != sid]
    assert len(statements) == len(original["Statement"]) - 1, f"{role_name} has no statement {sid}"
    reduced = {**original, "Statement": statements}
    iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(reduced))
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(original))


def challenge_change(name: str, record_type: str = "TXT", action: str = "UPSERT", text: str = "test") -> dict[str, Any]:
    """A change batch of one record: a TXT record of `text`, or any other type with a documentation address."""
    value = f'"{text}"' if record_type == "TXT" else "192.0.2.1"
    return {
        "Changes": [
            {
                "Action": action,
                "ResourceRecordSet": {
                    "Name": name,
                    "Type": record_type,
                    "TTL": 60,
                    "ResourceRecords": [{"Value": value}],
                },
            }
        ]
    }


def test_each_function_runs_as_its_own_role_from_the_template(sandbox: dict[str, Any]) -> None:
    # Given the sandbox's functions
    lambda_ = target_of(sandbox).client("lambda")
    names = ResourceNames(sandbox["resource_prefix"])
    # When their roles are read
    roles = {step: role_of(sandbox, step) for step in ("validate_request", "ensure_account", "publish_challenges")}
    # Then each has its own, named as the template names it (the DNS steps' names are what the DNS account trusts)
    assert len(set(roles.values())) == len(roles)
    assert roles["publish_challenges"].endswith(f":role/{names.prefix}-dns-{sandbox['region']}-publish-challenges")
    assert (
        lambda_.get_function(FunctionName=names.function("ensure_account"))["Configuration"]["Role"]
        == roles["ensure_account"]
    )
    assert sandbox["iam_enforced"] is True


def test_removing_one_grant_fails_the_lifecycle_at_that_step_with_access_denied(sandbox: dict[str, Any]) -> None:
    # Given publish_challenges' synthesized policy without its grant to change challenge records
    name = f"no-grant-{uuid.uuid4().hex[:8]}"
    with without_statement(sandbox, role_of(sandbox, "publish_challenges"), "ChangeChallengeRecords"):
        # When a certificate is issued
        result = issue(sandbox, name=name, domains=[f"{name}.example.test"])
    # Then the execution fails in that step, with the AccessDenied AWS would answer
    assert (result["status"], result["step"]) == ("failed", "publish_challenges"), result
    assert "AccessDenied" in result["message"], result
    assert "route53:ChangeResourceRecordSets" in result["message"], result
    # And with the grant back, the same name issues
    assert issue(sandbox, name=name, domains=[f"{name}.example.test"])["status"] == "issued"


def test_dns_steps_change_only_acme_challenge_txt_records(sandbox: dict[str, Any]) -> None:
    # Given publish_challenges' role, in our account's zone
    route53 = client(sandbox, as_role(sandbox, role_of(sandbox, "publish_challenges")), "route53")
    zone = sandbox["hosted_zones"]["example.test"]
    label = uuid.uuid4().hex[:8]
    # When it changes anything but an _acme-challenge TXT record, Then AWS's AccessDenied
    for name, record_type in ((f"www-{label}.example.test", "A"), (f"www-{label}.example.test", "TXT")):
        change = challenge_change(name, record_type)
        assert error_code(lambda c=change: route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=c)) == (
            "AccessDenied"
        )
    assert (
        error_code(
            lambda: route53.change_resource_record_sets(
                HostedZoneId=zone, ChangeBatch=challenge_change(f"_acme-challenge.{label}.example.test", "CNAME")
            )
        )
        == "AccessDenied"
    )
    # And an _acme-challenge TXT record it may write and remove
    challenge = f"_acme-challenge.{label}.example.test"
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(challenge))
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(challenge, action="DELETE"))


def test_the_dns_account_role_writes_only_challenge_records_and_trusts_only_the_dns_steps(
    sandbox: dict[str, Any],
) -> None:
    # Given the DNS account's role, assumed by publish_challenges as the functions do
    step = as_role(sandbox, role_of(sandbox, "publish_challenges"))
    dns_role = sandbox["dns_account"]["role_arn"]
    dns = as_role_from(sandbox, step, dns_role, external_id=DNS_EXTERNAL_ID)
    route53 = client(sandbox, dns, "route53")
    zone = sandbox["dns_account"]["zone_id"]
    label = uuid.uuid4().hex[:8]
    # When it changes a record outside _acme-challenge, Then denied; a challenge TXT record is allowed
    assert (
        error_code(
            lambda: route53.change_resource_record_sets(
                HostedZoneId=zone, ChangeBatch=challenge_change(f"www-{label}.partner.test", "A")
            )
        )
        == "AccessDenied"
    )
    challenge = f"_acme-challenge.{label}.partner.test"
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(challenge))
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(challenge, action="DELETE"))
    # And a function that is not a DNS step cannot assume it (its own policy grants no sts:AssumeRole there)
    other = as_role(sandbox, role_of(sandbox, "ensure_account"))
    sts = client(sandbox, other, "sts")
    assert error_code(lambda: sts.assume_role(RoleArn=dns_role, RoleSessionName="not-a-dns-step")) == "AccessDenied"


def as_role_from(
    info: dict[str, Any], session: boto3.Session, role_arn: str, external_id: str | None = None
) -> boto3.Session:
    """Assume `role_arn` with `session`'s credentials (a role chain, as the DNS steps do), giving `external_id`."""
    extra = {"ExternalId": external_id} if external_id is not None else {}
    credentials = client(info, session, "sts").assume_role(RoleArn=role_arn, RoleSessionName="chain", **extra)[
        "Credentials"
    ]
    return session_of(credentials, info["region"])


def test_a_node_reads_only_the_bundles_of_its_access_group(sandbox: dict[str, Any]) -> None:
    # Given a certificate bundle tagged for the access group "alpha-<label>"
    target = target_of(sandbox)
    names = ResourceNames(sandbox["resource_prefix"])
    label = uuid.uuid4().hex[:8]
    secret = target.client("secretsmanager").create_secret(
        Name=certificate_secret_name(names.secret_prefix, f"nodes-{label}"),
        SecretString=json.dumps({"certificate": "public part only in this test"}),
        KmsKeyId=names.kms_alias,
        Tags=[{"Key": ACCESS_GROUP_TAG, "Value": f"alpha-{label}"}],
    )["ARN"]
    iam = target.client("iam")
    # When a node of another access group reads it, Then AccessDenied; a node of that group reads it
    for group, allowed in ((f"beta-{label}", False), (f"alpha-{label}", True)):
        profile = node_instance_profile(iam, group, names.prefix)
        node = client(sandbox, as_role(sandbox, iam.get_role(RoleName=profile)["Role"]["Arn"]), "secretsmanager")
        if allowed:
            assert "public part" in node.get_secret_value(SecretId=secret)["SecretString"]
        else:
            assert error_code(lambda n=node: n.get_secret_value(SecretId=secret)) == "AccessDeniedException"


def test_requests_the_sandbox_cannot_decide_fail_loudly(sandbox: dict[str, Any]) -> None:
    # Given a function's role (a session the session's sandbox expects to be undecidable: tests/conftest.py)
    ec2 = client(sandbox, as_role(sandbox, role_of(sandbox, "ensure_account"), UNDECIDABLE_ON_PURPOSE), "ec2")
    # When it calls an API the sandbox's IAM has no mapping for (EC2's DescribeInstances)
    # Then it fails, naming why: never a silent allow (and any other such request fails the test session)
    with pytest.raises(ClientError) as raised:
        ec2.describe_instances()
    assert raised.value.response["Error"]["Code"] == "Sandbox.IamUndecidable"
    assert "DescribeInstances is not mapped" in raised.value.response["Error"]["Message"]


@pytest.mark.sandbox  # starts a sandbox of its own
def test_no_iam_lets_everything_through(tmp_path: Path) -> None:
    # Given a sandbox started with `sandbox up --no-iam` (for debugging only)
    relaxed = sandbox_commands.up(tmp_path, iam=False)
    try:
        # When a function's role does what it may not (read an ACME account key it is not granted)
        ec2 = client(relaxed, as_role(relaxed, role_of(relaxed, "publish_challenges")), "secretsmanager")
        # Then moto answers (here: the secret does not exist), where IAM would have denied it
        assert error_code(lambda: ec2.get_secret_value(SecretId="acme-certs/acme-account/sandbox")) == (
            "ResourceNotFoundException"
        )
        assert relaxed["iam_enforced"] is False
    finally:
        sandbox_commands.down(tmp_path)
