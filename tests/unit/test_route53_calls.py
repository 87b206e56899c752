"""Route 53 calls per write (issue 16): one change per zone when the names are as presumed (nothing there before we
publish, exactly our values when we remove them), and a read only after Route 53 refused the batch built on that
presumption. The concurrency guarantees themselves are in test_route53_concurrency.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from certlib.adapters.route53 import Route53, quote_txt, unquote_txt
from sandbox.moto_fixes import route53_as_aws

FIRST = "_acme-challenge.calls.example.test"
SECOND = "_acme-challenge.n1.calls.example.test"


@pytest.fixture
def zone() -> Iterator[str]:
    """A hosted zone in moto as the sandbox runs it (its change batches refused as Route 53 refuses them)."""
    with (
        mock_aws(),
        route53_as_aws(),
    ):
        created = boto3.client("route53", region_name="us-east-1").create_hosted_zone(
            Name="example.test", CallerReference="example.test"
        )
        yield created["HostedZone"]["Id"].rsplit("/", 1)[-1]


def counted_adapter() -> tuple[Route53, list[str]]:
    """Our adapter, and the Route 53 operations it calls, in order."""
    calls: list[str] = []
    client = boto3.client("route53", region_name="us-east-1")
    client.meta.events.register("before-call.route53", lambda model, **_: calls.append(model.name))
    return Route53(client), calls


def txt_at(zone_id: str, name: str) -> list[str]:
    records = boto3.client("route53", region_name="us-east-1").list_resource_record_sets(HostedZoneId=zone_id)
    return sorted(
        unquote_txt(value["Value"])
        for record in records["ResourceRecordSets"]
        if record["Type"] == "TXT" and record["Name"].rstrip(".") == name
        for value in record["ResourceRecords"]
    )


def put(zone_id: str, name: str, values: list[str], ttl: int = 300) -> None:
    record_set: Any = {
        "Name": name,
        "Type": "TXT",
        "TTL": ttl,
        "ResourceRecords": [{"Value": quote_txt(v)} for v in values],
    }
    boto3.client("route53", region_name="us-east-1").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record_set}]}
    )


def test_publishing_and_removing_every_value_of_a_zone_is_one_change_each_without_a_read(zone: str) -> None:
    # Given two names of one certificate in one zone, with no record yet
    adapter, calls = counted_adapter()

    # When we publish their values, then remove them
    change_id = adapter.add_txt_values(zone, {FIRST: ["first-value"], SECOND: ["second-value", "wildcard-value"]})
    published = (txt_at(zone, FIRST), txt_at(zone, SECOND))
    adapter.remove_txt_values(zone, {FIRST: ["first-value"], SECOND: ["second-value", "wildcard-value"]})

    # Then each was one change batch, and no ListResourceRecordSets
    assert change_id is not None
    assert published == (["first-value"], ["second-value", "wildcard-value"])
    assert calls == ["ChangeResourceRecordSets", "ChangeResourceRecordSets"]
    assert (txt_at(zone, FIRST), txt_at(zone, SECOND)) == ([], [])


def test_a_name_that_already_has_values_is_read_after_the_refusal_and_merged(zone: str) -> None:
    # Given another writer's value at one of the names (with its own TTL)
    put(zone, FIRST, ["theirs"])
    adapter, calls = counted_adapter()

    # When we publish ours
    adapter.add_txt_values(zone, {FIRST: ["ours"], SECOND: ["second"]})

    # Then the CREATE was refused, both names read, and the merged batch written: theirs kept
    assert calls == [
        "ChangeResourceRecordSets",
        "ListResourceRecordSets",
        "ListResourceRecordSets",
        "ChangeResourceRecordSets",
    ]
    assert txt_at(zone, FIRST) == ["ours", "theirs"]
    assert txt_at(zone, SECOND) == ["second"]

    # And removing ours (the record holds theirs too) is refused, read, and leaves exactly theirs
    calls.clear()
    adapter.remove_txt_values(zone, {FIRST: ["ours"], SECOND: ["second"]})
    assert calls[0] == "ChangeResourceRecordSets"
    assert calls.count("ListResourceRecordSets") == 2
    assert txt_at(zone, FIRST) == ["theirs"]
    assert txt_at(zone, SECOND) == []


def test_removing_values_already_gone_reads_once_after_the_refusal_and_changes_nothing(zone: str) -> None:
    # Given no record at the name (a removal that ran before: the step is retried)
    adapter, calls = counted_adapter()

    # When we remove our value again / Then nothing is changed, after one refused batch and one read
    assert adapter.remove_txt_values(zone, {FIRST: ["ours"]}) is None
    assert calls == ["ChangeResourceRecordSets", "ListResourceRecordSets"]
