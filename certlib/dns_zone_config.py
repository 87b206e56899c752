"""The `dns-zones:` section of acme-accounts.yaml: where DNS-01 records may be written beyond our own account.

    dns-zones:
      example.com:                      # a domain suffix
        role-arn: arn:aws:iam::111111111111:role/acme-dns-01   # the DNS account's write role for its zones
        external-id: acme-certificates  # optional: the external ID both of that account's roles require
        hosted-zone-id: Z0123456789ABC  # optional: this exact zone, no lookup
      corp.internal:
        private: true                   # private zones are skipped unless a suffix asks for them
      validation.example.net:
        hosted-zone-id: Z0VALIDATION    # required with validation-only
        validation-only: true           # holds only CNAME-delegated DNS-01 records (_acme-challenge.x CNAME
                                        # x.validation.example.net): TXT records at any name may be written here

Zones are found by the longest matching suffix across every zone we may use: our own account's, and those
each role can list.

`role-arn` names the DNS account's write role: the steps that write or remove challenge records assume it. The steps
that only read (validate_request, check_dns_change) assume that account's read role, whose ARN is `role-arn` with
`-read` appended (certlib.dns_account_roles.dns_read_role_arn: `acme-dns-01` -> `acme-dns-01-read`, what the DNS
account's stack makes); the same `external-id` goes with both.

A `validation-only` zone of our own account (no role-arn) must also be in the stack's context `validationZoneIds`:
that is what lets the functions write TXT records at names other than `_acme-challenge.*` there. One in a DNS
account must be among that account's `validationZoneIds` (the role's policy, deploy.dns_roles).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from certlib.dns_account_roles import check_external_id, dns_read_role_arn
from certlib.exceptions import ConfigError

ROLE_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
ZONE_ID_PATTERN = re.compile(r"[A-Z0-9]{1,32}")
FIELDS = ("role-arn", "external-id", "hosted-zone-id", "private", "validation-only")


@dataclass(frozen=True)
class DnsZone:
    suffix: str
    role_arn: str | None = None
    external_id: str | None = None
    hosted_zone_id: str | None = None
    private: bool = False
    validation_only: bool = False  # a delegation target: only CNAME'd `_acme-challenge` records point here

    @property
    def access(self) -> tuple[str | None, str | None]:
        """How the zone is reached: (role ARN, external ID); (None, None) is our own account."""
        return self.role_arn, self.external_id


def parse_dns_zones(value: Any, source: str) -> dict[str, DnsZone]:
    """Raises ConfigError naming the suffix and field."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: 'dns-zones' must map a domain suffix to its settings")
    zones: dict[str, DnsZone] = {}
    for raw_suffix, settings in value.items():
        suffix = str(raw_suffix).strip().lower().rstrip(".")
        where = f"{source}: dns-zones {suffix!r}"
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: expected {', '.join(FIELDS)}")
        unknown = sorted(set(settings) - set(FIELDS))
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(FIELDS)}")
        role_arn = settings.get("role-arn")
        if role_arn is not None and not ROLE_ARN_PATTERN.fullmatch(str(role_arn)):
            raise ConfigError(f"{where}: field 'role-arn' {role_arn!r} is not an IAM role ARN")
        if role_arn is not None:
            _check_field(dns_read_role_arn, role_arn, where, "role-arn")
        zone_id = settings.get("hosted-zone-id")
        if zone_id is not None:
            zone_id = str(zone_id).removeprefix("/hostedzone/")
            if not ZONE_ID_PATTERN.fullmatch(zone_id):
                raise ConfigError(f"{where}: field 'hosted-zone-id' {zone_id!r} is not a hosted zone ID")
        external_id = settings.get("external-id")
        if external_id is not None and role_arn is None:
            raise ConfigError(f"{where}: field 'external-id' needs 'role-arn'")
        if external_id is not None:
            _check_field(check_external_id, external_id, where, "external-id")
        private = _flag(settings, "private", where)
        validation_only = _flag(settings, "validation-only", where)
        if validation_only and zone_id is None:
            raise ConfigError(f"{where}: field 'validation-only' needs 'hosted-zone-id' (the zone the grants name)")
        zones[suffix] = DnsZone(
            suffix=suffix,
            role_arn=str(role_arn) if role_arn else None,
            external_id=str(external_id) if external_id is not None else None,
            hosted_zone_id=zone_id,
            private=private,
            validation_only=validation_only,
        )
    return zones


def _check_field(check: Callable[[str], object], value: object, where: str, field: str) -> None:
    """Raises ConfigError naming the field when `check` (raising ValueError) refuses the value."""
    try:
        check(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: field {field!r}: {exc}") from None


def _flag(settings: dict[str, Any], field: str, where: str) -> bool:
    """The optional true/false `field` (false when left out). Raises ConfigError for anything else."""
    value = settings.get(field, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: field {field!r} must be true or false")
    return value


def dns_role_arns(zones: dict[str, DnsZone]) -> tuple[str, ...]:
    """Every DNS account's write role the record-writing steps may assume (sorted, once each); none without role-arn
    entries."""
    return tuple(sorted({zone.role_arn for zone in zones.values() if zone.role_arn}))


def dns_read_role_arns(zones: dict[str, DnsZone]) -> tuple[str, ...]:
    """Every DNS account's read role the reading steps may assume (sorted, once each): each write role's read role."""
    return tuple(sorted({dns_read_role_arn(role_arn) for role_arn in dns_role_arns(zones)}))


def own_validation_zone_ids(zones: dict[str, DnsZone]) -> tuple[str, ...]:
    """The hosted zone IDs of our own account's validation-only zones (entries without role-arn)."""
    return tuple(
        sorted({z.hosted_zone_id for z in zones.values() if z.validation_only and not z.role_arn and z.hosted_zone_id})
    )
