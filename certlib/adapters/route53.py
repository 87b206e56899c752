"""Route 53: find the hosted zone of a name, publish and remove DNS-01 TXT values, check a change.

Writes are idempotent the way lego's Present/CleanUp are: read what is at the name, merge our values in (or
take exactly ours out), and write the result in one change per zone. Removing values that are already gone
is success.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

CHALLENGE_TTL_SECONDS = 60
TXT_CHUNK = 255


@dataclass(frozen=True)
class HostedZone:
    zone_id: str
    name: str  # without the trailing dot, lowercase
    private: bool = False


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
    def hosted_zones(self) -> list[HostedZone]:
        """Every hosted zone of the account (public and private), read once per instance."""
        if self._zones is None:
            zones: list[HostedZone] = []
            try:
                for page in self._client.get_paginator("list_hosted_zones").paginate():
                    for zone in page["HostedZones"]:
                        private = bool(zone.get("Config", {}).get("PrivateZone", False))
                        zones.append(HostedZone(zone["Id"].rsplit("/", 1)[-1], normalize(zone["Name"]), private))
            except ClientError as exc:
                raise_classified(exc, "listing hosted zones")
            self._zones = zones
        return self._zones

    def public_zones(self) -> list[HostedZone]:
        return [zone for zone in self.hosted_zones() if not zone.private]

    def cname_at(self, zone_id: str, record_name: str) -> str | None:
        """The CNAME target at a name (without the trailing dot), or None when the name has no CNAME."""
        record_set = self._record_set(zone_id, record_name, "CNAME")
        values = record_set.get("ResourceRecords", []) if record_set else []
        return normalize(values[0]["Value"]) if values else None

    # --- TXT records ---------------------------------------------------------------------------------------
    def txt_values(self, zone_id: str, record_name: str) -> tuple[list[str], int | None]:
        """The TXT values (unquoted) at a name, and their TTL; ([], None) when there is no TXT record."""
        record_set = self._record_set(zone_id, record_name, "TXT")
        if record_set is None:
            return [], None
        return [unquote_txt(r["Value"]) for r in record_set.get("ResourceRecords", [])], record_set.get("TTL")

    def _record_set(self, zone_id: str, record_name: str, record_type: Literal["TXT", "CNAME"]) -> Any:
        """The record set of that type at exactly that name, or None."""
        wanted = normalize(record_name)
        try:
            response = self._client.list_resource_record_sets(
                HostedZoneId=zone_id,
                StartRecordName=wanted,
                StartRecordType=record_type,
                MaxItems="1",
            )
        except ClientError as exc:
            raise_classified(exc, f"reading the {record_type} record of {wanted}")
        for record_set in response["ResourceRecordSets"]:
            if normalize(record_set["Name"]) == wanted and record_set["Type"] == record_type:
                return record_set
        return None

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


def longest_suffix(name: str, suffixes: Iterable[str]) -> str | None:
    matches = [s for s in suffixes if name == s or name.endswith("." + s)]
    return max(matches, key=len) if matches else None


@dataclass(frozen=True)
class ZoneAccess:
    """A hosted zone and how to reach it: our own account (no role), or a role to assume in the DNS account."""

    zone_id: str
    role_arn: str | None = None
    external_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"zone_id": self.zone_id, "role_arn": self.role_arn, "external_id": self.external_id}

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ZoneAccess:
        return cls(str(values["zone_id"]), values.get("role_arn"), values.get("external_id"))


def group_by_zone(challenges: Iterable[Mapping[str, Any]]) -> dict[ZoneAccess, dict[str, list[str]]]:
    """{zone: {record_name: [values]}} from challenge dicts carrying zone_id (+ role_arn), record_name and value."""
    grouped: dict[ZoneAccess, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for challenge in challenges:
        grouped[ZoneAccess.of(challenge)][normalize(challenge["record_name"])].append(challenge["value"])
    return {zone: dict(names) for zone, names in grouped.items()}
