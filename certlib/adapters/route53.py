"""Route 53: find the hosted zone of a name, publish and remove DNS-01 TXT values, check a change.

Writes are idempotent the way lego's Present/CleanUp are: read what is at the name, merge our values in (or
take exactly ours out), and write the result in one change per zone. Removing values that are already gone
is success.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import ZoneNotFound

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

CHALLENGE_TTL_SECONDS = 60
TXT_CHUNK = 255


@dataclass(frozen=True)
class HostedZone:
    zone_id: str
    name: str  # without the trailing dot, lowercase


def normalize(name: str) -> str:
    return name.rstrip(".").lower()


def quote_txt(value: str) -> str:
    """Route 53's TXT form: one quoted string per 255 characters."""
    chunks = [value[i : i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)


def unquote_txt(value: str) -> str:
    """Inverse of quote_txt: joins the quoted strings of one TXT value."""
    parts: list[str] = []
    inside, escaped, current = False, False, []
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and inside:
            escaped = True
        elif char == '"':
            if inside:
                parts.append("".join(current))
                current = []
            inside = not inside
        elif inside:
            current.append(char)
    if not parts and not inside:
        return value
    return "".join(parts)


class Route53:
    def __init__(self, client: Route53Client) -> None:
        self._client = client
        self._zones: list[HostedZone] | None = None

    # --- zones ---------------------------------------------------------------------------------------------
    def public_zones(self) -> list[HostedZone]:
        """Every public hosted zone of the account (private zones are skipped), read once per instance."""
        if self._zones is None:
            zones: list[HostedZone] = []
            try:
                for page in self._client.get_paginator("list_hosted_zones").paginate():
                    for zone in page["HostedZones"]:
                        if zone.get("Config", {}).get("PrivateZone", False):
                            continue
                        zones.append(HostedZone(zone["Id"].rsplit("/", 1)[-1], normalize(zone["Name"])))
            except ClientError as exc:
                raise_classified(exc, "listing hosted zones")
            self._zones = zones
        return self._zones

    def zone_for(self, domain: str, overrides: Mapping[str, str]) -> str:
        """The zone ID for a name: an explicit override by longest suffix, else the longest matching public zone.

        Raises ZoneNotFound saying which zones were considered.
        """
        name = normalize(domain.removeprefix("*."))
        override = _longest_suffix(name, overrides.keys())
        if override is not None:
            return overrides[override]
        zones = {zone.name: zone.zone_id for zone in self.public_zones()}
        best = _longest_suffix(name, zones.keys())
        if best is None:
            known = ", ".join(sorted(zones)) or "none"
            raise ZoneNotFound(
                f"no public Route 53 hosted zone holds {domain!r} (public zones: {known}); create the zone or map "
                f"the name to a zone ID with 'hosted-zones' in the account configuration"
            )
        return zones[best]

    # --- TXT records ---------------------------------------------------------------------------------------
    def txt_values(self, zone_id: str, record_name: str) -> tuple[list[str], int | None]:
        """The TXT values (unquoted) at a name, and their TTL; ([], None) when there is no TXT record."""
        wanted = normalize(record_name)
        try:
            response = self._client.list_resource_record_sets(
                HostedZoneId=zone_id, StartRecordName=wanted, StartRecordType="TXT", MaxItems="1"
            )
        except ClientError as exc:
            raise_classified(exc, f"reading TXT records of {wanted}")
        for record_set in response["ResourceRecordSets"]:
            if normalize(record_set["Name"]) == wanted and record_set["Type"] == "TXT":
                values = [unquote_txt(r["Value"]) for r in record_set.get("ResourceRecords", [])]
                return values, record_set.get("TTL")
        return [], None

    def add_txt_values(self, zone_id: str, values_by_name: Mapping[str, Iterable[str]]) -> str | None:
        """Merge our values into each name's TXT record, in one change; returns its ID (None: nothing to change)."""
        changes: list[dict[str, Any]] = []
        for name, ours in sorted(values_by_name.items()):
            present, _ = self.txt_values(zone_id, name)
            merged = present + [value for value in dict.fromkeys(ours) if value not in present]
            if merged != present:
                changes.append(_change("UPSERT", name, merged, CHALLENGE_TTL_SECONDS))
        return self._submit(zone_id, changes, "publish DNS-01 challenges")

    def remove_txt_values(self, zone_id: str, values_by_name: Mapping[str, Iterable[str]]) -> str | None:
        """Take exactly our values out of each name's TXT record (deleting it when none stay), in one change."""
        changes: list[dict[str, Any]] = []
        for name, ours in sorted(values_by_name.items()):
            present, ttl = self.txt_values(zone_id, name)
            remaining = [value for value in present if value not in set(ours)]
            if remaining == present:
                continue
            if remaining:
                changes.append(_change("UPSERT", name, remaining, ttl or CHALLENGE_TTL_SECONDS))
            else:
                changes.append(_change("DELETE", name, present, ttl or CHALLENGE_TTL_SECONDS))
        return self._submit(zone_id, changes, "remove DNS-01 challenges")

    def change_in_sync(self, change_id: str) -> bool:
        try:
            status = self._client.get_change(Id=change_id)["ChangeInfo"]["Status"]
        except ClientError as exc:
            raise_classified(exc, f"checking Route 53 change {change_id}")
        return status == "INSYNC"

    def _submit(self, zone_id: str, changes: list[dict[str, Any]], comment: str) -> str | None:
        if not changes:
            return None
        try:
            response = self._client.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={"Comment": comment, "Changes": changes},  # type: ignore[typeddict-item]
            )
        except ClientError as exc:
            raise_classified(exc, f"changing records in hosted zone {zone_id}")
        return response["ChangeInfo"]["Id"].rsplit("/", 1)[-1]


def _change(action: str, name: str, values: list[str], ttl: int) -> dict[str, Any]:
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": normalize(name),
            "Type": "TXT",
            "TTL": ttl,
            "ResourceRecords": [{"Value": quote_txt(value)} for value in values],
        },
    }


def _longest_suffix(name: str, suffixes: Iterable[str]) -> str | None:
    matches = [s for s in suffixes if name == s or name.endswith("." + s)]
    return max(matches, key=len) if matches else None


def group_by_zone(challenges: Iterable[Mapping[str, str]]) -> dict[str, dict[str, list[str]]]:
    """{zone_id: {record_name: [values]}} from challenge dicts carrying zone_id, record_name and value."""
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for challenge in challenges:
        grouped[challenge["zone_id"]][normalize(challenge["record_name"])].append(challenge["value"])
    return {zone: dict(names) for zone, names in grouped.items()}
