"""Route 53: find the hosted zone of a name, publish and remove DNS-01 TXT values, check a change.

Writes are idempotent the way lego's Present/CleanUp are: merge our values into what is at the name (or take
exactly ours out), and write the result in one change per zone. Removing values that are already gone is success.
What is at the name is presumed first (nothing before we publish, exactly our values when we remove them) and read
only when Route 53 refuses the batch built on that presumption: one call per zone in the usual case.

Writes are safe when another execution writes the same name at the same time (two certificates sharing a name, or
a name and its wildcard): each change batch is conditional on what was read, with Route 53's atomic batches as
optimistic concurrency. A record set that exists is replaced by DELETE of exactly the values read (and their TTL)
and CREATE of the new set; one that did not exist is written with CREATE, which fails when someone created it
meanwhile. A concurrent writer makes the whole batch fail (InvalidChangeBatch, nothing applied): the values are read
again and the batch rebuilt, at most MAX_WRITE_ATTEMPTS times, then TransientError (the step is retried). An UPSERT
of a merged set would silently drop the values another writer added between our read and our write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import TransientError

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

CHALLENGE_TTL_SECONDS = 60
TXT_CHUNK = 255
# How often a change batch is rebuilt after a concurrent writer changed a record set between our read and our write.
MAX_WRITE_ATTEMPTS = 5
# What Route 53 says (InvalidChangeBatch) when a batch's condition no longer holds: someone else changed the name.
CONFLICT_MESSAGES = (
    "but it already exists",
    "but it was not found",
    "but the values provided do not match the current values",
)


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
        record = self._txt_record(zone_id, record_name)
        if record is None:
            return [], None
        return record.values, record.ttl

    def _txt_record(self, zone_id: str, record_name: str) -> TxtRecord | None:
        record_set = self._record_set(zone_id, record_name, "TXT")
        if record_set is None:
            return None
        raw = [str(r["Value"]) for r in record_set.get("ResourceRecords", [])]
        return TxtRecord(normalize(record_name), raw, record_set.get("TTL"))

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
        """Merge our values into each name's TXT record, in one change; returns its ID (None: nothing to change).

        Keeps every value someone else wrote, even one written between our read and our write. Raises TransientError
        when other writers keep changing the names (MAX_WRITE_ATTEMPTS batches lost in a row), what raise_classified
        raises for any other error.
        """

        def merged(record: TxtRecord | None, ours: list[str]) -> list[str] | None:
            present = record.values if record is not None else []
            added = [quote_txt(value) for value in ours if value not in present]
            if record is None:
                return added or None
            return [*record.raw, *added]

        return self._change_txt(
            zone_id, values_by_name, merged, CHALLENGE_TTL_SECONDS, "publish DNS-01 challenges", presumed=_absent
        )

    def remove_txt_values(self, zone_id: str, values_by_name: Mapping[str, Iterable[str]]) -> str | None:
        """Take exactly our values out of each name's TXT record (deleting it when none stay), in one change.

        Keeps every other value, even one written between our read and our write. Raises as add_txt_values does.
        """

        def remaining(record: TxtRecord | None, ours: list[str]) -> list[str] | None:
            if record is None:
                return None
            return [raw for raw, value in zip(record.raw, record.values, strict=True) if value not in ours]

        return self._change_txt(
            zone_id, values_by_name, remaining, None, "remove DNS-01 challenges", presumed=_only_ours
        )

    def _change_txt(
        self,
        zone_id: str,
        values_by_name: Mapping[str, Iterable[str]],
        wanted: Callable[[TxtRecord | None, list[str]], list[str] | None],
        ttl: int | None,
        comment: str,
        presumed: Callable[[str, list[str]], TxtRecord | None],
    ) -> str | None:
        """Ask `wanted` for each name's new raw TXT values (None: no record) and write the differences in one batch
        conditional on what each record set is. The first batch is built from what it `presumed`ly is (the usual case:
        no record before we publish, exactly our values when we remove them), without reading it: Route 53 refuses
        the batch when that is not so (InvalidChangeBatch, nothing applied). Only then are the names read, and the
        batch rebuilt from what was read, as often as a concurrent writer wins (MAX_WRITE_ATTEMPTS times: the
        presumed batch does not count, so as many writers of one name as before all get their turn)."""
        ours_by_name = {normalize(name): list(dict.fromkeys(ours)) for name, ours in values_by_name.items()}
        for attempt in range(1 + MAX_WRITE_ATTEMPTS):
            changes: list[dict[str, Any]] = []
            for name, ours in sorted(ours_by_name.items()):
                record = presumed(name, ours) if attempt == 0 else self._txt_record(zone_id, name)
                changes.extend(_replacement(name, record, wanted(record, ours), ttl))
            if not changes:
                return None
            try:
                return self._submit(zone_id, changes, comment)
            except ClientError as exc:
                if not lost_race(exc):
                    raise_classified(exc, f"changing records in hosted zone {zone_id}")
        raise TransientError(
            f"another writer changed the TXT records of {', '.join(sorted(ours_by_name))} in hosted zone {zone_id} "
            f"{MAX_WRITE_ATTEMPTS} times while we tried to {comment}; trying again later"
        )

    def change_in_sync(self, change_id: str) -> bool:
        try:
            status = self._client.get_change(Id=change_id)["ChangeInfo"]["Status"]
        except ClientError as exc:
            raise_classified(exc, f"checking Route 53 change {change_id}")
        return status == "INSYNC"

    def _submit(self, zone_id: str, changes: list[dict[str, Any]], comment: str) -> str:
        """Send one change batch; returns its change ID. Raises ClientError as Route 53 answers it."""
        response = self._client.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Comment": comment, "Changes": changes},  # type: ignore[typeddict-item]
        )
        return response["ChangeInfo"]["Id"].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TxtRecord:
    """A TXT record set as read: its values exactly as Route 53 holds them (quoted), and its TTL."""

    name: str
    raw: list[str]
    ttl: int | None

    @property
    def values(self) -> list[str]:
        return [unquote_txt(value) for value in self.raw]


def _absent(name: str, ours: list[str]) -> TxtRecord | None:
    """What a name's TXT record is presumed to be before we publish: none."""
    return None


def _only_ours(name: str, ours: list[str]) -> TxtRecord | None:
    """What a name's TXT record is presumed to be when we remove our values: exactly them, as we published them."""
    return TxtRecord(name, [quote_txt(value) for value in ours], CHALLENGE_TTL_SECONDS)


def _replacement(
    name: str, record: TxtRecord | None, new_raw: list[str] | None, ttl: int | None
) -> list[dict[str, Any]]:
    """The changes that turn `record` (as read) into `new_raw`, each failing if the record changed since it was read:
    DELETE of exactly what was read, CREATE of what is new."""
    if record is None:
        return [_change("CREATE", name, new_raw, ttl or CHALLENGE_TTL_SECONDS)] if new_raw else []
    if new_raw is not None and sorted(new_raw) == sorted(record.raw):
        return []
    current_ttl = record.ttl if record.ttl is not None else CHALLENGE_TTL_SECONDS
    changes = [_change("DELETE", name, record.raw, current_ttl)]
    if new_raw:
        changes.append(_change("CREATE", name, new_raw, ttl or current_ttl))
    return changes


def lost_race(exc: ClientError) -> bool:
    """Whether Route 53 refused a batch because a record set is no longer what we read (a concurrent writer)."""
    error = exc.response.get("Error", {})
    if error.get("Code") not in ("InvalidChangeBatch", ""):
        return False
    text = f"{error.get('Message', '')} {exc.response.get('Messages', '')}"
    return any(message in text for message in CONFLICT_MESSAGES)


def _change(action: str, name: str, raw_values: list[str], ttl: int) -> dict[str, Any]:
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": normalize(name),
            "Type": "TXT",
            "TTL": ttl,
            "ResourceRecords": [{"Value": value} for value in raw_values],
        },
    }


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
