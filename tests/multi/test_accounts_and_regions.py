"""Many accounts, many regions, delegated DNS, on the sandbox (moto keeps separate state per account and region)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from certlib.dns_account_roles import dns_read_role_arn
from certlib.keys import generate_private_key, private_key_to_pem
from deploy.dns_roles import DNS_READ_STEPS, DNS_WRITE_STEPS, dns_function_role_arn
from sandbox.iam.stack_roles import DNS_EXTERNAL_ID
from tests.certificates import certificate_pem, self_signed
from tests.lifecycle.helpers import challenge_records, inventory_item, issue, session_of, target_of


def record_sets_of_own_account(info: dict[str, Any]) -> dict[str, Any]:
    route53 = target_of(info).client("route53")
    return {
        zone["Name"]: route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        for zone in route53.list_hosted_zones()["HostedZones"]
    }


def dns_account_session(info: dict[str, Any]) -> boto3.Session:
    """The DNS account's administrator (the sandbox's operator there), to look at what that account holds."""
    credentials = (
        target_of(info)
        .client("sts")
        .assume_role(RoleArn=info["dns_account"]["operator_role_arn"], RoleSessionName="test-inspection")["Credentials"]
    )
    return session_of(credentials, info["region"])


def test_zone_in_another_account_is_reached_by_assuming_its_role(sandbox: dict[str, Any]) -> None:
    # Given a name whose zone lives in the DNS account, and the workload account's records as they are
    before = record_sets_of_own_account(sandbox)
    # When a certificate is issued for it
    result = issue(sandbox, name="partner", domains=["www.partner.test", "*.partner.test"])
    # Then it issued; the workload account's Route 53 is untouched; nothing is left in the DNS account
    assert result["status"] == "issued", result
    assert record_sets_of_own_account(sandbox) == before
    dns_route53 = dns_account_session(sandbox).client("route53", endpoint_url=sandbox["aws_endpoint_url"])
    records = dns_route53.list_resource_record_sets(HostedZoneId=sandbox["dns_account"]["zone_id"])
    assert [r["Name"] for r in records["ResourceRecordSets"] if "_acme-challenge" in r["Name"]] == []


def test_the_dns_accounts_role_allows_only_challenge_txt_records(sandbox: dict[str, Any]) -> None:
    iam = dns_account_session(sandbox).client("iam", endpoint_url=sandbox["aws_endpoint_url"])
    role_name = sandbox["dns_account"]["role_arn"].rsplit("/", 1)[-1]
    [policy_name] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    policy = document if isinstance(document, dict) else json.loads(document)
    writes = [s for s in policy["Statement"] if "route53:ChangeResourceRecordSets" in str(s["Action"])]
    assert len(writes) == 1
    [write] = writes
    resources = write["Resource"] if isinstance(write["Resource"], list) else [write["Resource"]]
    assert resources == [f"arn:aws:route53:::hostedzone/{sandbox['dns_account']['zone_id']}"]
    assert write["Condition"]["ForAllValues:StringLike"] == {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"]
    }
    assert write["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"] == ["TXT"]
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
        "route53:GetHostedZone",
        "route53:GetChange",
        "route53:ChangeResourceRecordSets",
    }
    # and only the record-writing steps' roles may assume it (exact ARNs), with the external ID
    assert trust_statement(iam, role_name) == expected_trust(sandbox, DNS_WRITE_STEPS)


def test_the_dns_accounts_read_role_only_reads_and_trusts_only_the_reading_steps(sandbox: dict[str, Any]) -> None:
    # Given the DNS account's read role (the write role's name with -read)
    iam = dns_account_session(sandbox).client("iam", endpoint_url=sandbox["aws_endpoint_url"])
    role_name = dns_read_role_arn(sandbox["dns_account"]["role_arn"]).rsplit("/", 1)[-1]

    # When its permissions and trust are read
    [policy_name] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    policy = document if isinstance(document, dict) else json.loads(document)
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}

    # Then it may only find zones, read records and follow changes; validate_request and check_dns_change may assume
    # it, with the external ID
    assert actions == {
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
        "route53:GetHostedZone",
        "route53:GetChange",
    }
    assert trust_statement(iam, role_name) == expected_trust(sandbox, DNS_READ_STEPS)


def trust_statement(iam: Any, role_name: str) -> dict[str, Any]:
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    [statement] = trust["Statement"]
    return dict(statement)


def expected_trust(info: dict[str, Any], steps: tuple[str, ...]) -> dict[str, Any]:
    """The workload account as principal, exactly the steps' role ARNs in the sandbox's one deployment, and the
    sandbox's external ID."""
    arns = [dns_function_role_arn(info["resource_prefix"], info["account_id"], info["region"], step) for step in steps]
    return {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{info['account_id']}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": arns}, "StringEquals": {"sts:ExternalId": DNS_EXTERNAL_ID}},
    }


def test_cname_delegated_challenge_is_written_at_the_target(sandbox: dict[str, Any]) -> None:
    # Given _acme-challenge.app.example.test delegated by CNAME into the validation-only zone
    route53 = target_of(sandbox).client("route53")
    change = {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": "_acme-challenge.app.example.test",
            "Type": "CNAME",
            "TTL": 60,
            "ResourceRecords": [{"Value": "app.validation.example.net"}],
        },
    }
    route53.change_resource_record_sets(
        HostedZoneId=sandbox["hosted_zones"]["example.test"], ChangeBatch={"Changes": [change]}
    )
    try:
        # When the certificate is issued, Pebble validating through the CNAME
        result = issue(sandbox, name="delegated", domains=["app.example.test"])
        # Then it issued, and no TXT is left at the target (nor anywhere)
        assert result["status"] == "issued", result
        target_records = route53.list_resource_record_sets(
            HostedZoneId=sandbox["hosted_zones"]["validation.example.net"]
        )
        assert [r for r in target_records["ResourceRecordSets"] if r["Type"] == "TXT"] == []
    finally:
        route53.change_resource_record_sets(
            HostedZoneId=sandbox["hosted_zones"]["example.test"],
            ChangeBatch={"Changes": [{**change, "Action": "DELETE"}]},
        )
    assert challenge_records(sandbox) == []


def test_cname_delegation_from_a_domain_whose_dns_is_elsewhere(sandbox: dict[str, Any]) -> None:
    # Given a domain in no Route 53 zone, whose DNS (another provider: the sandbox DNS server's overrides) delegates
    # its _acme-challenge name by CNAME into the validation-only zone
    overrides = Path(sandbox["dns_overrides_file"])
    overrides.write_text(
        json.dumps({"_acme-challenge.www.elsewhere.test": {"CNAME": ["www-elsewhere-test.validation.example.net."]}})
    )
    try:
        # When the certificate is issued
        result = issue(sandbox, name="elsewhere", domains=["www.elsewhere.test"])
    finally:
        overrides.write_text("{}")

    # Then Pebble validated it through the CNAME into Route 53, and no TXT is left at the target
    assert result["status"] == "issued", result
    route53 = target_of(sandbox).client("route53")
    records = route53.list_resource_record_sets(HostedZoneId=sandbox["hosted_zones"]["validation.example.net"])
    assert [r["Name"] for r in records["ResourceRecordSets"] if r["Type"] == "TXT"] == []
    assert challenge_records(sandbox) == []


def test_cname_loop_is_refused_before_anything_happens(sandbox: dict[str, Any]) -> None:
    route53 = target_of(sandbox).client("route53")
    zone = sandbox["hosted_zones"]["example.test"]
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {"Name": a, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": b}]},
        }
        for a, b in (
            ("_acme-challenge.ping.example.test", "pong.example.test"),
            ("pong.example.test", "_acme-challenge.ping.example.test"),
        )
    ]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    try:
        result = issue(sandbox, name="looped", domains=["ping.example.test"])
    finally:
        route53.change_resource_record_sets(
            HostedZoneId=zone, ChangeBatch={"Changes": [{**c, "Action": "DELETE"} for c in changes]}
        )
    assert (result["status"], result["error"]) == ("failed", "InvalidRequest")
    assert "delegated in a CNAME loop" in result["message"]


def acm_in(info: dict[str, Any], region: str) -> Any:
    return target_of(info).session.client("acm", region_name=region, endpoint_url=info["aws_endpoint_url"])


def test_two_regions_and_renewal_keeps_both_arns(sandbox: dict[str, Any]) -> None:
    regions = ["us-east-1", "eu-west-1"]
    first = issue(sandbox, name="two-regions", domains=["global.example.test"], regions=regions)
    assert first["status"] == "issued", first
    assert sorted(first["certificate_arns"]) == sorted(regions)
    assert first["certificate_arns"]["eu-west-1"].startswith("arn:aws:acm:eu-west-1:")
    second = issue(sandbox, name="two-regions", domains=["global.example.test"], regions=regions)
    assert second["status"] == "renewed", second
    assert second["certificate_arns"] == first["certificate_arns"]
    for region, arn in second["certificate_arns"].items():
        serial = acm_in(sandbox, region).describe_certificate(CertificateArn=arn)["Certificate"]["Serial"]
        assert int(str(serial).replace(":", ""), 16 if ":" in str(serial) else 10) == int(second["serial"], 16)


def rsa_certificate_in(info: dict[str, Any], region: str) -> str:
    """An unrelated RSA certificate in ACM: re-importing our EC certificate onto its ARN must be refused."""
    key = generate_private_key("rsa2048")
    certificate, _ = self_signed("stranger.example.test", key=key)
    return str(
        acm_in(info, region).import_certificate(
            Certificate=certificate_pem(certificate).encode(),
            PrivateKey=private_key_to_pem(key).encode(),
        )["CertificateArn"]
    )


def test_a_region_that_fails_is_reported_and_the_others_kept(sandbox: dict[str, Any]) -> None:
    # Given a certificate in us-east-1, and an eu-west-1 ARN that cannot take its key type
    first = issue(sandbox, name="half", domains=["half.example.test"], regions=["us-east-1"])
    assert first["status"] == "issued", first
    stranger = rsa_certificate_in(sandbox, "eu-west-1")
    target_of(sandbox).client("dynamodb").update_item(
        TableName=target_of(sandbox).names.inventory_table,
        Key={"name": {"S": "half"}},
        UpdateExpression="SET certificate_arns.#r = :arn",
        ExpressionAttributeNames={"#r": "eu-west-1"},
        ExpressionAttributeValues={":arn": {"S": stranger}},
    )
    # When it is renewed into both regions
    second = issue(sandbox, name="half", domains=["half.example.test"], regions=["us-east-1", "eu-west-1"])
    # Then us-east-1 is renewed in place, and eu-west-1's refusal is reported, not hidden
    assert second["status"] == "renewed", second
    assert second["certificate_arns"] == {"us-east-1": first["certificate_arn"]}
    assert list(second["failed_regions"]) == ["eu-west-1"]
    assert second["failed_regions"]["eu-west-1"].startswith("ImportRefused: ")
    item = inventory_item(sandbox, "half")
    assert item["import_failures"] == second["failed_regions"]
    assert item["serial"] == second["serial"]
