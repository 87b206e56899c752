"""Read hosted zones and record sets from Route 53 (moto's, in the sandbox) in the shape a DNS server needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.route53.models import route53_backends

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

TXT_STRING_MAX_BYTES = 255
GLOBAL = "global"  # moto keeps Route 53, a global service, under this region name
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Zone:
    zone_id: str
    name: str  # lowercase, with the trailing dot
    account: int = 0  # which of the Route53Records' accounts holds it


@dataclass(frozen=True)
class RecordSet:
    name: str  # lowercase, with the trailing dot, escapes decoded
    record_type: str
    ttl: int
    values: tuple[str, ...]


def normalize_name(name: str) -> str:
    """Lowercase, trailing dot, and Route 53's octal escapes (`\\052` is `*`) decoded."""
    decoded = _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), name.strip())
    return decoded.lower().rstrip(".") + "."


class Route53Records:
    """Public hosted zones and their record sets, read fresh on every call (tests change them at any time).

    The zones of every account added (the workload account, then e.g. a central DNS account) are one namespace,
    as the public DNS makes them.
    """

    def __init__(self, client: Route53Client) -> None:
        self._clients = [client]

    def add_account(self, client: Route53Client) -> None:
        self._clients.append(client)

    def zone_for(self, name: str) -> Zone | None:
        """The public zone with the longest name that `name` is in or under; None when none is."""
        name = normalize_name(name)
        candidates = [zone for zone in self.public_zones() if name == zone.name or name.endswith("." + zone.name)]
        return max(candidates, key=lambda zone: len(zone.name), default=None)

    def public_zones(self) -> list[Zone]:
        zones = []
        for account, client in enumerate(self._clients):
            for page in client.get_paginator("list_hosted_zones").paginate():
                for zone in page["HostedZones"]:
                    if not zone.get("Config", {}).get("PrivateZone", False):
                        zone_id = zone["Id"].removeprefix("/hostedzone/")
                        zones.append(Zone(zone_id=zone_id, name=normalize_name(zone["Name"]), account=account))
        return zones

    def record_sets(self, zone: Zone) -> list[RecordSet]:
        """Every record set of the zone that has values (alias records have none and are left out)."""
        record_sets = []
        client = self._clients[zone.account]
        for page in client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone.zone_id):
            for record_set in page["ResourceRecordSets"]:
                values = tuple(record["Value"] for record in record_set.get("ResourceRecords", []))
                if values:
                    record_sets.append(
                        RecordSet(
                            name=normalize_name(record_set["Name"]),
                            record_type=record_set["Type"],
                            ttl=int(record_set.get("TTL", 300)),
                            values=values,
                        )
                    )
        return record_sets


class InProcessRoute53Records(Route53Records):
    """The same zones and record sets, read from moto's Route 53 in this process (the sandbox's DNS server runs beside
    its moto server). Pebble waits a few seconds for a DNS answer and does not ask again: answering through moto's
    HTTP endpoint (two or three requests per query, each through the IAM layer) took longer than that on a loaded
    machine, and the CA then failed a challenge whose TXT value was in place (issue 19). A batch of changes replaces a
    zone's record sets in one assignment (sandbox.moto_fixes), so a reader sees it whole or not at all.
    """

    def __init__(self, account_id: str) -> None:
        self._accounts = [account_id]

    def add_account_id(self, account_id: str) -> None:
        self._accounts.append(account_id)

    def public_zones(self) -> list[Zone]:
        zones = []
        for index, account_id in enumerate(self._accounts):
            for zone in list(route53_backends[account_id][GLOBAL].zones.values()):
                if not zone.private_zone:
                    zones.append(Zone(zone_id=zone.resource_id, name=normalize_name(zone.name), account=index))
        return zones

    def record_sets(self, zone: Zone) -> list[RecordSet]:
        hosted_zone = route53_backends[self._accounts[zone.account]][GLOBAL].zones.get(zone.zone_id)
        if hosted_zone is None:  # deleted since it was listed
            return []
        record_sets = []
        for record_set in list(hosted_zone.rrsets):
            values = tuple(_value_of(record) for record in record_set.records or [])
            if values:
                record_sets.append(
                    RecordSet(
                        name=normalize_name(record_set.name),
                        record_type=str(record_set.type),
                        ttl=int(record_set.ttl or 300),
                        values=values,
                    )
                )
        return record_sets


def _value_of(record: Any) -> str:
    """moto keeps a record's value as the string, or as Route 53's {"Value": ...}, depending on how it was written."""
    return str(record["Value"]) if isinstance(record, dict) else str(record)


def txt_strings(value: str) -> list[bytes]:
    """The character-strings of one Route 53 TXT value, each at most 255 bytes.

    Route 53 stores a TXT value as one or more double-quoted strings (`"abc" "def"`), with `\\"`, `\\\\` and
    octal `\\ddd` escapes inside; an unquoted word is a string of its own. A string longer than 255 bytes is
    split into consecutive 255-byte strings, as Route 53 serves it.
    """
    strings: list[bytes] = []
    position = 0
    while position < len(value):
        if value[position].isspace():
            position += 1
            continue
        if value[position] == '"':
            text, position = _quoted(value, position + 1)
        else:
            end = position
            while end < len(value) and not value[end].isspace():
                end += 1
            text, position = _unescape(value[position:end]), end
        strings.extend(_split(text))
    return strings or [b""]


def _quoted(value: str, position: int) -> tuple[bytes, int]:
    """The bytes of a quoted string starting after its opening quote, and the position after its closing one."""
    parts: list[bytes] = []
    while position < len(value) and value[position] != '"':
        octal = _OCTAL_ESCAPE.match(value, position)
        if octal is not None:
            parts.append(bytes([int(octal.group(1), 8) & 0xFF]))
            position = octal.end()
        elif value[position] == "\\" and position + 1 < len(value):
            parts.append(value[position + 1].encode())
            position += 2
        else:
            parts.append(value[position].encode())
            position += 1
    return b"".join(parts), position + 1


def _unescape(text: str) -> bytes:
    """Decode octal escapes to the bytes they stand for; everything else is UTF-8."""
    parts: list[bytes] = []
    last = 0
    for match in _OCTAL_ESCAPE.finditer(text):
        parts.append(text[last : match.start()].encode())
        parts.append(bytes([int(match.group(1), 8) & 0xFF]))
        last = match.end()
    parts.append(text[last:].encode())
    return b"".join(parts)


def _split(text: bytes) -> list[bytes]:
    if not text:
        return [b""]
    return [text[start : start + TXT_STRING_MAX_BYTES] for start in range(0, len(text), TXT_STRING_MAX_BYTES)]
