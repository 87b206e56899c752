"""The sandbox's DNS server answers from the Route 53 zones held by moto."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from sandbox.zone_records import normalize_name, txt_strings
from tests.conftest import SandboxAws


def query(sandbox: dict[str, Any], name: str, qtype: str, tcp: bool = False) -> DNSRecord:
    host, port = sandbox["dns_server"].rsplit(":", 1)
    return DNSRecord.parse(DNSRecord.question(name, qtype).send(host, int(port), tcp=tcp, timeout=5))


Upsert = Callable[[str, str, str, list[str]], None]


@pytest.fixture
def upsert(sandbox: dict[str, Any], aws: SandboxAws) -> Iterator[Upsert]:
    """`upsert(zone, name, type, values)` writes a record set through Route 53; all are deleted after the test."""
    route53 = aws.client("route53")
    written: list[tuple[str, dict[str, Any]]] = []

    def change(action: str, zone_id: str, record_set: dict[str, Any]) -> None:
        route53.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": record_set}]}
        )

    def write(zone: str, name: str, record_type: str, values: list[str]) -> None:
        record_set = {"Name": name, "Type": record_type, "TTL": 60, "ResourceRecords": [{"Value": v} for v in values]}
        change("UPSERT", sandbox["hosted_zones"][zone], record_set)
        written.append((sandbox["hosted_zones"][zone], record_set))

    yield write
    for zone_id, record_set in written:  # the session's sandbox is shared: leave no record behind
        change("DELETE", zone_id, record_set)


def unique(label: str, zone: str = "example.test") -> str:
    return f"{label}.{uuid.uuid4().hex[:10]}.{zone}"


def txt_answers(reply: DNSRecord) -> list[list[bytes]]:
    return [list(record.rdata.data) for record in reply.rr if record.rtype == QTYPE.TXT]


def test_answers_a_txt_record_upserted_through_route53(sandbox: dict[str, Any], upsert: Upsert) -> None:
    # Given
    name = unique("_acme-challenge")
    upsert("example.test", name, "TXT", ['"token-one"', '"token-two"'])

    # When
    reply = query(sandbox, name, "TXT")

    # Then
    assert reply.header.rcode == RCODE.NOERROR
    assert sorted(txt_answers(reply)) == [[b"token-one"], [b"token-two"]]
    assert all(str(record.rname) == name + "." for record in reply.rr)


def test_splits_a_txt_value_longer_than_255_bytes_into_strings(sandbox: dict[str, Any], upsert: Upsert) -> None:
    # Given
    name = unique("long")
    value = "x" * 300
    upsert("example.test", name, "TXT", [f'"{value}"'])

    # When
    over_udp, over_tcp = query(sandbox, name, "TXT"), query(sandbox, name, "TXT", tcp=True)

    # Then
    assert txt_answers(over_udp) == [[b"x" * 255, b"x" * 45]]
    assert txt_answers(over_tcp) == txt_answers(over_udp)


def test_follows_a_cname_into_another_zone_like_a_resolver(sandbox: dict[str, Any], upsert: Upsert) -> None:
    # Given
    source = unique("_acme-challenge.www")
    target = unique("_acme-challenge", zone="example.org")
    upsert("example.test", source, "CNAME", [target])
    upsert("example.org", target, "TXT", ['"delegated-token"'])

    # When
    reply = query(sandbox, source, "TXT")

    # Then
    assert reply.header.rcode == RCODE.NOERROR
    assert [(str(record.rname), QTYPE[record.rtype]) for record in reply.rr] == [
        (source + ".", "CNAME"),
        (target + ".", "TXT"),
    ]
    assert str(reply.rr[0].rdata) == target + "."
    assert txt_answers(reply) == [[b"delegated-token"]]


def test_a_cname_loop_is_a_server_failure(sandbox: dict[str, Any], upsert: Upsert) -> None:
    # Given
    first, second = unique("loop-a"), unique("loop-b")
    upsert("example.test", first, "CNAME", [second])
    upsert("example.test", second, "CNAME", [first])

    # When
    reply = query(sandbox, first, "TXT")

    # Then
    assert reply.header.rcode == RCODE.SERVFAIL


def test_answers_a_records(sandbox: dict[str, Any], upsert: Upsert) -> None:
    # Given
    name = unique("www")
    upsert("example.test", name, "A", ["192.0.2.10"])

    # When
    reply = query(sandbox, name, "A")

    # Then
    assert [str(record.rdata) for record in reply.rr] == ["192.0.2.10"]


def test_an_absent_name_in_a_known_zone_is_nxdomain(sandbox: dict[str, Any]) -> None:
    # When
    reply = query(sandbox, unique("absent"), "TXT")

    # Then
    assert reply.header.rcode == RCODE.NXDOMAIN
    assert reply.rr == []


def test_a_name_with_records_only_below_it_exists(sandbox: dict[str, Any], upsert: Upsert) -> None:
    # Given
    parent = unique("parent")
    upsert("example.test", f"_acme-challenge.{parent}", "TXT", ['"below"'])

    # When
    reply = query(sandbox, parent, "TXT")

    # Then
    assert reply.header.rcode == RCODE.NOERROR
    assert reply.rr == []


def test_a_name_outside_every_zone_does_not_exist(sandbox: dict[str, Any]) -> None:
    # When
    reply = query(sandbox, "_acme-challenge.example.com", "TXT")

    # Then
    assert reply.header.rcode == RCODE.NXDOMAIN
    assert reply.rr == []


@pytest.mark.parametrize(
    ("value", "strings"),
    [
        ('"plain"', [b"plain"]),
        ('"first" "second"', [b"first", b"second"]),
        ('"with \\"quotes\\" and \\\\ backslash"', [b'with "quotes" and \\ backslash']),
        ('"octal \\052 star"', [b"octal * star"]),
        ('"escaped backslash then digits \\\\101"', [b"escaped backslash then digits \\101"]),
        ("unquoted words", [b"unquoted", b"words"]),
        ('""', [b""]),
        ('"' + "y" * 510 + '"', [b"y" * 255, b"y" * 255]),
    ],
)
def test_txt_values_are_read_as_route53_writes_them(value: str, strings: list[bytes]) -> None:
    # When
    parsed = txt_strings(value)

    # Then
    assert parsed == strings


def test_names_are_compared_in_one_form() -> None:
    # Then
    assert normalize_name("\\052.Example.TEST") == "*.example.test."
    assert normalize_name("example.test.") == "example.test."
