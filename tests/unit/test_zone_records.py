"""The sandbox's DNS server reads Route 53 in its own process (sandbox.zone_records.InProcessRoute53Records): it must
see exactly what Route 53's API shows, for every account it serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.moto_fixes import apply_moto_fixes
from sandbox.zone_records import InProcessRoute53Records, Route53Records

OTHER_ACCOUNT = "111111111111"


@pytest.fixture
def route53() -> Iterator[Any]:
    with mock_aws():
        apply_moto_fixes()
        yield boto3.client("route53", region_name="us-east-1")


def change(client: Any, zone_id: str, action: str, name: str, record_type: str, values: list[str]) -> None:
    record_set = {"Name": name, "Type": record_type, "TTL": 60, "ResourceRecords": [{"Value": v} for v in values]}
    client.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": record_set}]}
    )


def other_account_client() -> Any:
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/operator", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(
        "route53",
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_the_in_process_reader_sees_what_the_api_shows_in_every_account(route53: Any) -> None:
    # Given public zones in two accounts, a private zone, and records written in every way Route 53 takes them
    public = route53.create_hosted_zone(Name="example.test", CallerReference="a")["HostedZone"]["Id"]
    route53.create_hosted_zone(
        Name="internal.test",
        CallerReference="b",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"},
    )
    change(route53, public, "UPSERT", "_acme-challenge.www.example.test", "TXT", ['"one"', '"two"'])
    change(route53, public, "CREATE", "\\052.example.test", "A", ["192.0.2.1"])
    other = other_account_client()
    dns_zone = other.create_hosted_zone(Name="dns.example.org", CallerReference="c")["HostedZone"]["Id"]
    change(other, dns_zone, "UPSERT", "_acme-challenge.x.dns.example.org", "TXT", ['"three"'])
    account_id = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    through_api = Route53Records(route53)
    through_api.add_account(other)

    # When the in-process reader reads the same accounts
    in_process = InProcessRoute53Records(account_id)
    in_process.add_account_id(OTHER_ACCOUNT)

    # Then it lists the same public zones, and the same record sets in each
    zones = sorted(in_process.public_zones(), key=lambda zone: zone.name)
    assert zones == sorted(through_api.public_zones(), key=lambda zone: zone.name)
    assert [zone.name for zone in zones] == ["dns.example.org.", "example.test."]
    for zone in zones:
        # (moto's API prints the SOA it made as a Python dict; the in-process reader takes its value)
        read = sorted((r for r in in_process.record_sets(zone) if r.record_type != "SOA"), key=repr)
        assert read == sorted((r for r in through_api.record_sets(zone) if r.record_type != "SOA"), key=repr)
        (soa,) = [r for r in in_process.record_sets(zone) if r.record_type == "SOA"]
        assert soa.values[0].startswith("ns-")
    assert in_process.zone_for("_acme-challenge.www.example.test") == through_api.zone_for(
        "_acme-challenge.www.example.test"
    )
    txt = [r for r in in_process.record_sets(zones[1]) if r.record_type == "TXT"]
    assert [r.values for r in txt] == [('"one"', '"two"')]


def test_a_zone_deleted_after_it_was_listed_has_no_records(route53: Any) -> None:
    # Given a zone the reader listed
    zone_id = route53.create_hosted_zone(Name="gone.test", CallerReference="d")["HostedZone"]["Id"]
    account_id = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    reader = InProcessRoute53Records(account_id)
    (zone,) = [zone for zone in reader.public_zones() if zone.name == "gone.test."]

    # When the zone is deleted before its records are read
    route53.delete_hosted_zone(Id=zone_id)

    # Then the reader answers with nothing rather than failing the DNS query
    assert reader.record_sets(zone) == []
