"""The Route 53 adapter against moto: zone lookup, merged TXT writes, exact removal; and the zone directory, which
reads CNAMEs outside Route 53 from DNS (here the sandbox's DNS server, answering from moto's Route 53 and from
overrides that play a DNS provider elsewhere)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

from certlib.adapters.public_dns import PublicDns
from certlib.adapters.route53 import Route53, quote_txt, unquote_txt
from certlib.config import parse_accounts
from certlib.exceptions import TransientError, ZoneNotFound
from certlib.lifecycle.zone_directory import ZoneDirectory
from certlib.resources import Env
from certlib.services import Services, aws_session
from certlib.settings import Settings
from sandbox.dns_overrides import OVERRIDES_FILE_NAME, DnsOverrides
from sandbox.dns_server import DnsServer, Route53Resolver
from sandbox.moto_fixes import route53_as_aws
from sandbox.zone_records import Route53Records


@pytest.fixture
def route53(tmp_path: Path) -> Iterator[tuple[Route53, Any, dict[str, str]]]:
    # moto's change batches refused as Route 53 refuses them (as the sandbox runs it): the adapter's first batch is
    # built on what a name presumably holds, and relies on Route 53 refusing it when that is not so
    with (
        mock_aws(),
        route53_as_aws(),
    ):
        client = boto3.client("route53", region_name="us-east-1")
        zones = {}
        for name, private in (("example.test", False), ("sub.example.test", False), ("internal.test", True)):
            extra: dict[str, Any] = {"VPC": {"VPCRegion": "us-east-1", "VPCId": "vpc-1"}} if private else {}
            zone = client.create_hosted_zone(
                Name=name, CallerReference=name, HostedZoneConfig={"PrivateZone": private}, **extra
            )
            zones[name] = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        dns = DnsServer(Route53Resolver(Route53Records(client), DnsOverrides(tmp_path / OVERRIDES_FILE_NAME)))
        dns.start()
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv(Env.DNS_RESOLVER, dns.address)
                yield Route53(client), client, zones
        finally:
            dns.stop()


def txt_at(client: Any, zone_id: str, name: str) -> list[str]:
    records = client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [
        unquote_txt(r["Value"])
        for record in records
        if record["Type"] == "TXT" and record["Name"].rstrip(".") == name
        for r in record["ResourceRecords"]
    ]


def directory(
    account_zones: dict[str, str] | None = None,
    dns_zones: dict[str, Any] | None = None,
    public_dns: PublicDns | None = None,
    session: botocore.session.Session | None = None,
    hosted_zone_ids: tuple[str, ...] = (),
) -> ZoneDirectory:
    """The zone directory of a deployment whose Route 53 is moto's (inside the fixture's mock_aws); its DNS is the
    fixture's DNS server unless `public_dns` is given; its AWS calls go through `session` when given; it may write
    the zones `hosted_zone_ids` (none: any)."""
    document = {
        "accounts": {"a": [{"acme-endpoint": "https://ca.example/dir", "hosted-zones": account_zones or {}}]},
        "dns-zones": dns_zones or {},
    }
    config = parse_accounts(document).config
    settings = Settings(
        "inventory",
        "/p/config",
        "p/",
        "key",
        600,
        dns_resolver=os.environ[Env.DNS_RESOLVER],
        hosted_zone_ids=hosted_zone_ids,
    )
    services = Services(settings, session or aws_session("us-east-1"))
    if public_dns is not None:
        services.public_dns = public_dns
    return ZoneDirectory(services, config, config.account(None))


def test_longest_public_zone_wins_and_private_zones_are_skipped(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    _, _, zones = route53
    zone_directory = directory()
    assert zone_directory.challenge_target("a.sub.example.test")["zone_id"] == zones["sub.example.test"]
    assert zone_directory.challenge_target("*.example.test")["zone_id"] == zones["example.test"]
    with pytest.raises(ZoneNotFound, match=r"no Route 53 hosted zone we may use holds 'db\.internal\.test'"):
        zone_directory.challenge_target("db.internal.test")


def test_private_zones_are_used_when_asked_for(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    _, _, zones = route53
    target = directory(dns_zones={"internal.test": {"private": True}}).challenge_target("db.internal.test")
    assert target["zone_id"] == zones["internal.test"]


def test_explicit_zone_overrides_win(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    _, _, zones = route53
    overridden = directory({"example.test": zones["sub.example.test"]}).challenge_target("www.example.test")
    assert overridden["zone_id"] == zones["sub.example.test"]


def test_a_deployment_that_maps_every_zone_it_may_write_lists_none(
    route53: tuple[Route53, Any, dict[str, str]],
) -> None:
    # Given a deployment that may write example.test and sub.example.test, and a count of the zone listings
    _, _, zones = route53
    allowed = (zones["example.test"], zones["sub.example.test"])
    session = aws_session("us-east-1")
    listings: list[str] = []
    session.register(
        "before-parameter-build.route53.ListHostedZones", lambda event_name, **_: listings.append(event_name)
    )
    mapped = directory(
        {"example.test": zones["example.test"], "sub.example.test": zones["sub.example.test"]},
        session=session,
        hosted_zone_ids=allowed,
    )

    # When its accounts file maps both by name, Then names under each go to their longest zone, and none is listed
    assert mapped.challenge_target("a.sub.example.test")["zone_id"] == zones["sub.example.test"]
    assert mapped.challenge_target("www.example.test")["zone_id"] == zones["example.test"]
    assert listings == []
    # And a name in none of them still lists the zones (once), as a deployment that maps not all of them does
    with pytest.raises(ZoneNotFound, match=r"holds 'db\.internal\.test'"):
        mapped.challenge_target("db.internal.test")
    assert len(listings) == 1
    partly = directory({"example.test": zones["example.test"]}, session=session, hosted_zone_ids=allowed)
    assert partly.challenge_target("a.sub.example.test")["zone_id"] == zones["sub.example.test"]
    assert partly.challenge_target("www.example.test")["zone_id"] == zones["example.test"]
    assert len(listings) == 2


def test_cname_delegation_is_followed_and_loops_are_refused(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    # Given _acme-challenge of one name delegated into another zone, and two names pointing at each other
    _, client, zones = route53

    def cname(name: str, target: str) -> None:
        change = {
            "Action": "UPSERT",
            "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": target}]},
        }
        client.change_resource_record_sets(HostedZoneId=zones["example.test"], ChangeBatch={"Changes": [change]})

    cname("_acme-challenge.app.example.test", "app.sub.example.test")
    cname("_acme-challenge.loop.example.test", "_acme-challenge.loop2.example.test")
    cname("_acme-challenge.loop2.example.test", "_acme-challenge.loop.example.test")
    cname("_acme-challenge.away.example.test", "elsewhere.invalid")
    zone_directory = directory()
    # Then the record goes to the target's zone, and a loop or a target in no zone is a clear error
    assert zone_directory.challenge_target("app.example.test") == {
        "record_name": "app.sub.example.test",
        "zone_id": zones["sub.example.test"],
        "role_arn": None,
        "external_id": None,
    }
    with pytest.raises(ZoneNotFound, match="delegated in a CNAME loop"):
        zone_directory.challenge_target("loop.example.test")
    with pytest.raises(
        ZoneNotFound,
        match=r"by the CNAME at '_acme-challenge\.away\.example\.test' to 'elsewhere\.invalid', which is in no zone "
        r"configured for validation",
    ):
        zone_directory.challenge_target("away.example.test")


def test_route53_is_read_for_a_cname_only_where_dns_reports_one_or_dns_cannot_see(
    route53: tuple[Route53, Any, dict[str, str]], tmp_path: Path
) -> None:
    # Given a name delegated by CNAME within our zones, a name whose DNS answers a CNAME its zone does not hold (what
    # DNS answers for a wildcard CNAME, played by an override), and the record sets each ListResourceRecordSets asks
    _, client, zones = route53
    delegation = {
        "Action": "CREATE",
        "ResourceRecordSet": {
            "Name": "_acme-challenge.app.example.test",
            "Type": "CNAME",
            "TTL": 60,
            "ResourceRecords": [{"Value": "app.sub.example.test"}],
        },
    }
    client.change_resource_record_sets(HostedZoneId=zones["example.test"], ChangeBatch={"Changes": [delegation]})
    (tmp_path / OVERRIDES_FILE_NAME).write_text(
        json.dumps({"_acme-challenge.web.example.test": {"CNAME": ["lb.elsewhere.invalid."]}})
    )
    session = aws_session("us-east-1")
    reads: list[str] = []
    session.register(
        "before-parameter-build.route53.ListResourceRecordSets",
        lambda params, **_: reads.append(params["StartRecordName"]),
    )
    zone_directory = directory(dns_zones={"internal.test": {"private": True}}, session=session)

    # When a name without CNAME is looked up, Then Route 53 is not read (DNS said there is none)
    assert zone_directory.challenge_target("www.example.test") == {
        "record_name": "_acme-challenge.www.example.test",
        "zone_id": zones["example.test"],
        "role_arn": None,
        "external_id": None,
    }
    assert reads == []
    # When DNS reports a CNAME the zone does not hold, Then the zone is read once, and the record stays at the name
    assert zone_directory.challenge_target("web.example.test")["record_name"] == "_acme-challenge.web.example.test"
    assert reads == ["_acme-challenge.web.example.test"]
    # When the name is delegated in the zone, Then the delegating name is read once, and the record goes to the target
    assert zone_directory.challenge_target("app.example.test")["record_name"] == "app.sub.example.test"
    assert reads == ["_acme-challenge.web.example.test", "_acme-challenge.app.example.test"]
    # When a name is in a private zone, which DNS outside its VPCs does not see, Then its zone is read
    assert zone_directory.challenge_target("db.internal.test")["zone_id"] == zones["internal.test"]
    assert reads[2:] == ["_acme-challenge.db.internal.test"]


def test_cname_delegation_from_dns_outside_route53_is_followed(
    route53: tuple[Route53, Any, dict[str, str]], tmp_path: Path
) -> None:
    # Given a domain whose DNS is elsewhere, delegating its DNS-01 name by CNAME into one of our zones
    _, _, zones = route53
    (tmp_path / OVERRIDES_FILE_NAME).write_text(
        json.dumps({"_acme-challenge.www.elsewhere.test": {"CNAME": ["www.validation.sub.example.test."]}})
    )
    zone_directory = directory()

    # When / Then the record goes to the CNAME's target, in our zone
    assert zone_directory.challenge_target("*.www.elsewhere.test") == {
        "record_name": "www.validation.sub.example.test",
        "zone_id": zones["sub.example.test"],
        "role_arn": None,
        "external_id": None,
    }
    # And a name outside Route 53 without such a CNAME is refused with what to do
    with pytest.raises(ZoneNotFound, match=r"DNS has no CNAME at '_acme-challenge\.other\.elsewhere\.test'"):
        zone_directory.challenge_target("other.elsewhere.test")


def test_a_cname_target_outside_the_zones_we_may_use_is_refused(
    route53: tuple[Route53, Any, dict[str, str]], tmp_path: Path
) -> None:
    # Given a domain whose DNS is elsewhere, delegating its DNS-01 name by CNAME to a name in another provider's zone,
    # which itself delegates into one of our zones (what used to be followed hop by hop through public DNS)
    (tmp_path / OVERRIDES_FILE_NAME).write_text(
        json.dumps(
            {
                "_acme-challenge.www.elsewhere.test": {"CNAME": ["www.acme-delegation.other-provider.test."]},
                "www.acme-delegation.other-provider.test": {"CNAME": ["www.validation.sub.example.test."]},
            }
        )
    )
    zone_directory = directory()

    # When / Then it is refused at the first target outside our zones, naming the CNAME and its target
    with pytest.raises(
        ZoneNotFound,
        match=r"delegated by the CNAME at '_acme-challenge\.www\.elsewhere\.test' to "
        r"'www\.acme-delegation\.other-provider\.test', which is in no zone configured for validation \(zones: "
        r"example\.test, sub\.example\.test\)",
    ):
        zone_directory.challenge_target("www.elsewhere.test")


def test_dns_that_does_not_answer_is_a_transient_error(route53: tuple[Route53, Any, dict[str, str]]) -> None:
    # Given a resolver address where nothing answers (1 s: the test need not wait the 5 s a function does)
    zone_directory = directory(public_dns=PublicDns("127.0.0.1:9", timeout_seconds=1.0))

    # When / Then the lookup of a name outside Route 53 says DNS did not answer (the step is retried)
    with pytest.raises(
        TransientError, match=r"no answer from DNS \(127\.0\.0\.1:9\) for the CNAME at _acme-challenge\.x\.away\.test"
    ):
        zone_directory.challenge_target("x.away.test")


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
