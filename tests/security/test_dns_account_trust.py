"""Issue 13, item 3: the DNS account's roles trust exactly the role ARNs of our DNS steps, require the configured
external ID, and the steps that only read zones get a read-only role. Each test performs the attack on the sandbox,
whose DNS account (111111111111) has the roles the app synthesizes and whose IAM decides as AWS does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from certlib.dns_account_roles import dns_read_role_arn
from sandbox.iam.stack_roles import DNS_EXTERNAL_ID
from tests.lifecycle.helpers import challenge_records, issue, session_of, target_of
from tests.security.test_iam_enforcement import as_role, challenge_change, client, error_code, role_of

ACCESS_DENIED = "AccessDenied"


def write_role(info: dict[str, Any]) -> str:
    return str(info["dns_account"]["role_arn"])


def read_role(info: dict[str, Any]) -> str:
    return dns_read_role_arn(write_role(info))


def assume_from(
    info: dict[str, Any], session: boto3.Session, role_arn: str, external_id: str | None = DNS_EXTERNAL_ID
) -> boto3.Session:
    """Assume `role_arn` with `session`'s credentials, giving `external_id` (a role chain, as the DNS steps do)."""
    arguments: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "attack"}
    if external_id is not None:
        arguments["ExternalId"] = external_id
    credentials = client(info, session, "sts").assume_role(**arguments)["Credentials"]
    return session_of(credentials, info["region"])


def refused(info: dict[str, Any], session: boto3.Session, role_arn: str, external_id: str | None) -> str:
    """The error code of assuming `role_arn` from `session` (what the sandbox's STS answers)."""
    return error_code(lambda: assume_from(info, session, role_arn, external_id))


@pytest.fixture
def look_alike_role(sandbox: dict[str, Any]) -> Iterator[str]:
    """A role the operator creates in the workload account, named like the DNS steps' roles
    (`<prefix>-dns-<region>-...`, which the old `ArnLike` pattern trusted), that may assume any role; removed after."""
    iam = target_of(sandbox).client("iam")
    name = f"{sandbox['resource_prefix']}-dns-{sandbox['region']}-anything-{uuid.uuid4().hex[:6]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{sandbox['account_id']}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    anything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="assume-anything", PolicyDocument=json.dumps(anything))
    try:
        yield str(arn)
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName="assume-anything")
        iam.delete_role(RoleName=name)


def test_a_role_named_like_the_dns_steps_cannot_assume_the_dns_accounts_roles(
    sandbox: dict[str, Any], look_alike_role: str
) -> None:
    # Given a role in the workload account named `<prefix>-dns-<region>-anything-...`, whose own policy lets it
    # assume any role
    attacker = as_role(sandbox, look_alike_role)

    # When it assumes the DNS account's write role and its read role, with the right external ID
    write = refused(sandbox, attacker, write_role(sandbox), DNS_EXTERNAL_ID)
    read = refused(sandbox, attacker, read_role(sandbox), DNS_EXTERNAL_ID)

    # Then both trusts refuse it: they name exact role ARNs, not a name pattern
    assert (write, read) == (ACCESS_DENIED, ACCESS_DENIED)


@pytest.mark.parametrize("external_id", [None, "acme-certificates-wrong", DNS_EXTERNAL_ID.upper()])
def test_the_write_step_cannot_assume_the_write_role_without_the_external_id(
    sandbox: dict[str, Any], external_id: str | None
) -> None:
    # Given publish_challenges' role, which the write role trusts
    publisher = as_role(sandbox, role_of(sandbox, "publish_challenges"))

    # When it assumes the write role without the external ID, or with a wrong one
    code = refused(sandbox, publisher, write_role(sandbox), external_id)

    # Then the trust refuses it (sts:ExternalId is compared exactly, case included)
    assert code == ACCESS_DENIED


def test_the_write_step_assumes_the_write_role_with_the_external_id_and_writes_challenge_records(
    sandbox: dict[str, Any],
) -> None:
    # Given publish_challenges' role
    publisher = as_role(sandbox, role_of(sandbox, "publish_challenges"))

    # When it assumes the write role with the configured external ID
    route53 = client(sandbox, assume_from(sandbox, publisher, write_role(sandbox)), "route53")

    # Then it may write and remove an _acme-challenge TXT record in the DNS account's zone
    zone = sandbox["dns_account"]["zone_id"]
    name = f"_acme-challenge.trust-{uuid.uuid4().hex[:8]}.partner.test"
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(name))
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(name, action="DELETE"))
    # and it may not assume the read role (its own policy names only the write role)
    assert refused(sandbox, publisher, read_role(sandbox), DNS_EXTERNAL_ID) == ACCESS_DENIED


@pytest.mark.parametrize("step", ["validate_request", "check_dns_change"])
def test_a_reading_step_cannot_assume_the_write_role(sandbox: dict[str, Any], step: str) -> None:
    # Given the role of a step that only reads zones
    reader = as_role(sandbox, role_of(sandbox, step))

    # When it assumes the write role, with the right external ID
    code = refused(sandbox, reader, write_role(sandbox), DNS_EXTERNAL_ID)

    # Then it is refused
    assert code == ACCESS_DENIED


def test_the_read_role_reads_zones_and_changes_nothing(sandbox: dict[str, Any]) -> None:
    # Given validate_request's role in the DNS account's read role (with the external ID; without it, refused)
    validator = as_role(sandbox, role_of(sandbox, "validate_request"))
    assert refused(sandbox, validator, read_role(sandbox), None) == ACCESS_DENIED
    route53 = client(sandbox, assume_from(sandbox, validator, read_role(sandbox)), "route53")
    zone = sandbox["dns_account"]["zone_id"]

    # When it lists the zones, reads the records, and tries to write a challenge record
    zones = [z["Name"] for z in route53.list_hosted_zones()["HostedZones"]]
    route53.list_resource_record_sets(HostedZoneId=zone)
    name = f"_acme-challenge.read-{uuid.uuid4().hex[:8]}.partner.test"
    write = error_code(
        lambda: route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=challenge_change(name))
    )

    # Then it sees the DNS account's zone, and the write is denied
    assert "partner.test." in zones
    assert write == ACCESS_DENIED


def test_issuance_through_the_dns_account_uses_both_roles_and_still_works(sandbox: dict[str, Any]) -> None:
    # Given a name whose zone is in the DNS account (reached with the external ID the configuration carries)
    name = f"trust-{uuid.uuid4().hex[:8]}"

    # When it is issued end to end
    result = issue(sandbox, name=name, domains=[f"{name}.partner.test"])

    # Then it issued: validate_request and check_dns_change went through the read role (the only DNS role their own
    # policies may assume), publish_challenges and remove_challenges through the write role; no challenge record is
    # left, in the DNS account or ours
    assert result["status"] == "issued", result
    assert dns_account_challenge_records(sandbox) == []
    assert challenge_records(sandbox) == []


def dns_account_challenge_records(info: dict[str, Any]) -> list[str]:
    """The `_acme-challenge` records of the DNS account's zone, read by that account's administrator."""
    administrator = as_role(info, info["dns_account"]["operator_role_arn"], "test-inspection")
    route53 = client(info, administrator, "route53")
    records = route53.list_resource_record_sets(HostedZoneId=info["dns_account"]["zone_id"])["ResourceRecordSets"]
    return [record["Name"] for record in records if "_acme-challenge" in record["Name"]]
