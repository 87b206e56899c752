"""The Route 53 adapter against moto: zone lookup, merged TXT writes, exact removal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from certlib.adapters.route53 import Route53, quote_txt, unquote_txt
from certlib.exceptions import ZoneNotFound


@pytest.fixture
def route53() -> Iterator[tuple[Route53, Any, dict[str, str]]]:
    with mock_aws():
        client = boto3.client("route53", region_name="us-east-1")
        zones = {}
        for name, private in (("example.test", False), ("sub.example.test", False), ("internal.test", True)):
            extra: dict[str, Any] = {"VPC": {"VPCRegion": "us-east-1", "VPCId": "vpc-1"}} if private else {}
            zone = client.create_hosted_zone(
                Name=name, CallerReference=name, HostedZoneConfig={"PrivateZone": private}, **extra
            )
            zones[name] = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        yield Route53(client), client, zones


def txt_at(client: Any, zone_id: str, name: str) -> list[str]:
    records = client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [
        unquote_txt(r["Value"])
        for record in records
        if record["Type"] == "TXT" and record["Name"].rstrip(".") == name
        for r in record["ResourceRecords"]
    ]


def test_longest_public_zone_wins_and_private_zones_are_skipped(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    adapter, _, zones = route53
    assert adapter.zone_for("a.sub.example.test", {}) == zones["sub.example.test"]
    assert adapter.zone_for("*.example.test", {}) == zones["example.test"]
    with pytest.raises(ZoneNotFound, match=r"no public Route 53 hosted zone holds 'db\.internal\.test'"):
        adapter.zone_for("db.internal.test", {})


def test_explicit_zone_overrides_win(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    adapter, _, _ = route53
    assert adapter.zone_for("www.example.test", {"example.test": "ZOVERRIDE"}) == "ZOVERRIDE"


def test_apex_and_wildcard_values_share_one_name_and_merge(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    # Given a value someone else put there
    adapter, client, zones = route53
    zone = zones["example.test"]
    name = "_acme-challenge.example.test"
    adapter.add_txt_values(zone, {name: ["theirs"]})
    # When we publish the apex and the wildcard values, twice (a retried step)
    first = adapter.add_txt_values(zone, {name: ["apex", "wildcard"]})
    second = adapter.add_txt_values(zone, {name: ["apex", "wildcard"]})
    # Then all three are there once, and the repeat changed nothing
    assert sorted(txt_at(client, zone, name)) == ["apex", "theirs", "wildcard"]
    assert first is not None
    assert second is None
    assert adapter.change_in_sync(first)


def test_removal_takes_exactly_ours_and_twice_is_fine(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    adapter, client, zones = route53
    zone = zones["example.test"]
    name = "_acme-challenge.www.example.test"
    adapter.add_txt_values(zone, {name: ["theirs", "ours"]})
    adapter.remove_txt_values(zone, {name: ["ours"]})
    assert txt_at(client, zone, name) == ["theirs"]
    adapter.remove_txt_values(zone, {name: ["theirs"]})
    assert txt_at(client, zone, name) == []
    assert adapter.remove_txt_values(zone, {name: ["theirs"]}) is None


@pytest.mark.parametrize("value", ["simple", 'with "quotes" and \\ backslash', "x" * 600, ""])
def test_txt_quoting_round_trips(value: str) -> None:
    assert unquote_txt(quote_txt(value)) == value
    assert all(len(chunk) <= 257 for chunk in quote_txt("y" * 600).split(" "))
