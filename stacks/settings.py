"""What a deployment is configured with: the CDK context keys of cdk.json (or `-c key=value`), validated once.

Context keys:
    accountsFile     the acme-accounts.yaml to deploy (default config/acme-accounts.example.yaml)
    resourcePrefix   prefix of every physical name (default certlib.resources.DEFAULT_PREFIX)
    hostedZoneIds    Route 53 zones the functions may change; a list or a comma-separated string.
                     Empty: any zone in the account, still only `_acme-challenge` TXT records.
    layerDirectory   the layer folder `make layer` builds (default build/layer)
    stackName        the CloudFormation stack name (default AcmeCertificates-<region>)
    renewalSweepSchedule     when the renewal sweep runs: an EventBridge Scheduler rate() or cron()
                             expression (default rate(1 day))
    revocationCheckSchedule  when check_revocations runs (default rate(12 hours))
    validationZoneIds  zones of this account kept only for CNAME-delegated DNS-01 records: the functions may
                       CREATE/UPSERT/DELETE TXT records at any name there (a list or comma-separated string; none by
                       default). The accounts file's own-account `dns-zones` entries with `validation-only: true`
                       must be here.
    deployments      one certificate stack per account and region, e.g.
                     [{"account": "111111111111", "region": "us-east-1"}] (a list, or that JSON as a string);
                     default: one environment-agnostic stack (stacks.deployments)
    dnsAccounts      one DNS-account role stack per account (a write and a read role), trusting exactly the DNS
                     steps' roles of every deployment, e.g. [{"account": "333333333333", "zoneIds": ["Z1"],
                     "validationZoneIds": ["Z2"], "externalId": "acme-certificates", "organizationId": "o-a1b2c3d4e5"}];
                     its externalId must be the accounts file's `external-id` for that account's role

Relative paths are resolved against the repository root, where cdk.json lives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from certlib.config import ZONE_ID_PATTERN, Config, load_accounts_file
from certlib.dns_account_roles import DNS_ROLE_NAME
from certlib.dns_zone_config import dns_read_role_arns, dns_role_arns, own_validation_zone_ids
from certlib.notifications.settings import NotificationSettings
from certlib.resources import DEFAULT_PREFIX, ResourceNames
from deploy.dns_roles import dns_function_role_pattern
from deploy.paths import REPO_ROOT
from stacks.schedule_expressions import check_schedule_expression

DEFAULT_ACCOUNTS_FILE = "config/acme-accounts.example.yaml"
DEFAULT_LAYER_DIRECTORY = "build/layer"
STACK_NAME_BASE = "AcmeCertificates"
DEFAULT_RENEWAL_SWEEP_SCHEDULE = "rate(1 day)"
DEFAULT_REVOCATION_CHECK_SCHEDULE = "rate(12 hours)"
CONTEXT_KEYS = (
    "accountsFile",
    "resourcePrefix",
    "hostedZoneIds",
    "layerDirectory",
    "stackName",
    "renewalSweepSchedule",
    "revocationCheckSchedule",
    "validationZoneIds",
    "deployments",
    "dnsAccounts",
    "nodeAccounts",
)
_STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
T = TypeVar("T")


class SettingsError(ValueError):
    """A context value is missing or malformed; the message names the context key."""


def checked(check: Callable[[str], T], value: str, where: str) -> T:
    """`check(value)`; the ValueError it raises becomes a SettingsError that starts with `where` (the context key)."""
    try:
        return check(value)
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class StackSettings:
    """Only the secret-free part of the accounts file is kept: the EAB HMAC keys are dropped as it is read."""

    config: Config
    names: ResourceNames
    hosted_zone_ids: tuple[str, ...]
    layer_directory: Path
    stack_name: str | None
    notifications: NotificationSettings = field(default_factory=NotificationSettings)  # e-mails, expiry alarm days
    renewal_sweep_schedule: str = DEFAULT_RENEWAL_SWEEP_SCHEDULE
    revocation_check_schedule: str = DEFAULT_REVOCATION_CHECK_SCHEDULE
    validation_zone_ids: tuple[str, ...] = ()  # delegation targets in this account: TXT at any name

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> StackSettings:
        """Validate the context values; raises SettingsError (or ConfigError for the accounts file)."""
        loaded = load_accounts_file(_path(context.get("accountsFile") or DEFAULT_ACCOUNTS_FILE))
        config = loaded.config
        prefix = str(context.get("resourcePrefix") or DEFAULT_PREFIX)
        names = checked(ResourceNames, prefix, "context resourcePrefix")
        zone_ids = _zone_ids(context.get("hostedZoneIds"))
        validation_zone_ids = zone_id_list(context.get("validationZoneIds"), "validationZoneIds")
        _check_validation_zones(config, zone_ids, validation_zone_ids)
        _check_configured_zones_allowed(config, (*zone_ids, *validation_zone_ids) if zone_ids else ())
        _check_own_dns_zones_allowed(config, (*zone_ids, *validation_zone_ids) if zone_ids else ())
        stack_name = context.get("stackName") or None
        if stack_name is not None and not _STACK_NAME_PATTERN.fullmatch(str(stack_name)):
            raise SettingsError(f"context stackName {stack_name!r} is not a valid CloudFormation stack name")
        _check_stack_name_is_not_trusted(stack_name, prefix)
        _check_dns_accounts_match(config, context, stack_name)
        return cls(
            config=config,
            names=names,
            hosted_zone_ids=zone_ids,
            layer_directory=_path(context.get("layerDirectory") or DEFAULT_LAYER_DIRECTORY),
            stack_name=str(stack_name) if stack_name else None,
            notifications=loaded.notifications,
            renewal_sweep_schedule=_schedule(context, "renewalSweepSchedule", DEFAULT_RENEWAL_SWEEP_SCHEDULE),
            revocation_check_schedule=_schedule(context, "revocationCheckSchedule", DEFAULT_REVOCATION_CHECK_SCHEDULE),
            validation_zone_ids=validation_zone_ids,
        )

    @property
    def writable_zone_ids(self) -> tuple[str, ...]:
        """The zones of this account the functions may write (hostedZoneIds, then validationZoneIds), for their
        environment (HOSTED_ZONE_IDS: certlib.lifecycle.zone_directory lists no zone when the accounts file maps each
        by name); () when no hostedZoneIds were given: any zone."""
        return (*self.hosted_zone_ids, *self.validation_zone_ids) if self.hosted_zone_ids else ()

    @property
    def dns_role_arns(self) -> tuple[str, ...]:
        """The DNS accounts' write roles the accounts file names (`dns-zones`): the record-writing steps may assume
        exactly these (and the reading steps exactly their read roles, dns_read_role_arns)."""
        return dns_role_arns(self.config.dns_zones)

    @property
    def dns_read_role_arns(self) -> tuple[str, ...]:
        """The read roles of those DNS accounts (certlib.dns_account_roles.dns_read_role_arn of each write role)."""
        return dns_read_role_arns(self.config.dns_zones)

    def stack_name_for(self, region: str | None) -> str:
        """The explicit stackName, else AcmeCertificates-<region> (AcmeCertificates for a region-agnostic stack)."""
        if self.stack_name:
            return self.stack_name
        return f"{STACK_NAME_BASE}-{region}" if region else STACK_NAME_BASE


def _schedule(context: dict[str, Any], key: str, default: str) -> str:
    value = context.get(key) or default
    if not isinstance(value, str):
        raise SettingsError(f"context {key} must be a string such as {default!r}, got {value!r}")
    return checked(check_schedule_expression, value, f"context {key}")


def _path(value: Any) -> Path:
    path = Path(str(value))
    return path if path.is_absolute() else REPO_ROOT / path


def _zone_ids(value: Any) -> tuple[str, ...]:
    return zone_id_list(value, "hostedZoneIds")


def zone_id_list(value: Any, key: str) -> tuple[str, ...]:
    """Hosted zone IDs from a list or a comma-separated string (`/hostedzone/` stripped, once each); raises
    SettingsError naming `key` (e.g. "hostedZoneIds", or "dnsAccounts[0].zoneIds")."""
    if value in (None, "", []):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise SettingsError(f"context {key} must be a list of hosted zone IDs or a comma-separated string")
    zone_ids = []
    for item in items:
        zone_id = str(item).strip().removeprefix("/hostedzone/")
        if not ZONE_ID_PATTERN.fullmatch(zone_id):
            raise SettingsError(f"context {key}: {item!r} is not a Route 53 hosted zone ID")
        zone_ids.append(zone_id)
    return tuple(dict.fromkeys(zone_ids))


def _check_validation_zones(config: Config, zone_ids: tuple[str, ...], validation_zone_ids: tuple[str, ...]) -> None:
    """A zone is either a certificate zone or a delegation target; our own validation-only zones are granted here."""
    both = sorted(set(zone_ids) & set(validation_zone_ids))
    if both:
        raise SettingsError(
            f"context hostedZoneIds and validationZoneIds both name {', '.join(both)}: a validation zone takes TXT "
            f"records at any name, a hosted zone only _acme-challenge ones; list each zone once"
        )
    for zone_id in own_validation_zone_ids(config.dns_zones):
        if zone_id not in validation_zone_ids:
            suffix = next(s for s, z in config.dns_zones.items() if z.hosted_zone_id == zone_id and z.validation_only)
            raise SettingsError(
                f"dns-zones {suffix!r} is validation-only in hosted zone {zone_id} of this account, which is not in "
                f"the context validationZoneIds: add it there so the functions may write its TXT records"
            )


def _check_own_dns_zones_allowed(config: Config, zone_ids: tuple[str, ...]) -> None:
    """`dns-zones` entries of our own account (no role-arn) with a hosted-zone-id: like `hosted-zones` above."""
    if not zone_ids:
        return
    for suffix, zone in config.dns_zones.items():
        if not zone.role_arn and zone.hosted_zone_id and zone.hosted_zone_id not in zone_ids:
            raise SettingsError(
                f"dns-zones {suffix!r} uses hosted zone {zone.hosted_zone_id} of this account, which is not in the "
                f"context hostedZoneIds or validationZoneIds: add it there, or leave hostedZoneIds empty"
            )


def _check_stack_name_is_not_trusted(stack_name: Any, prefix: str) -> None:
    """CloudFormation names a stack's unnamed roles `<stack name>-...`: such a name must not fall under the names kept
    for the DNS steps' roles, the only roles a DNS account's roles trust (by exact ARN)."""
    trusted = dns_function_role_pattern(prefix).removesuffix("*")
    if stack_name is not None and str(stack_name).startswith(trusted):
        raise SettingsError(
            f"context stackName {stack_name!r} starts with {trusted!r}: the stack's other roles would be named like "
            f"the DNS steps' roles, which the DNS accounts' roles trust (that name is kept for them); choose another "
            f"stack name"
        )


def _check_dns_accounts_match(config: Config, context: dict[str, Any], stack_name: Any) -> None:
    """A `dns-zones` role in an account of the context dnsAccounts is that account's stack's role: the accounts file
    must name it (acme-dns-01) and give the external ID its trust requires (the same `external-id` as the entry's
    `externalId`, or none on both sides), or every assumption would be refused at run time."""
    from stacks.deployments import dns_account_of, parse_deployments, parse_dns_accounts  # imports this module

    deployments = parse_deployments(context.get("deployments"), str(stack_name) if stack_name else None)
    dns_accounts = parse_dns_accounts(context.get("dnsAccounts"), deployments)
    for suffix, zone in sorted(config.dns_zones.items()):
        if not zone.role_arn:
            continue
        account, _, role = zone.role_arn.split(":", 4)[4].partition(":role/")
        entry = dns_account_of(dns_accounts, account)
        if entry is None:
            continue  # a DNS account this app does not deploy: its roles are its owner's
        where = f"dns-zones {suffix!r}"
        if role != DNS_ROLE_NAME:
            raise SettingsError(
                f"{where}: role-arn names role {role!r} in account {account}, whose stack (context dnsAccounts) makes "
                f"the role {DNS_ROLE_NAME!r}: use arn:...:iam::{account}:role/{DNS_ROLE_NAME}"
            )
        if zone.external_id != entry.external_id:
            given = f"external-id {zone.external_id!r}" if zone.external_id else "no external-id"
            required = f"externalId {entry.external_id!r}" if entry.external_id else "no externalId"
            raise SettingsError(
                f"{where}: the accounts file gives {given} for account {account}'s role, but its context dnsAccounts "
                f"entry has {required}: the role's trust would refuse the steps; make them the same"
            )


def _check_configured_zones_allowed(config: Config, zone_ids: tuple[str, ...]) -> None:
    """A zone named in the accounts file must be one the functions may change, or issuance fails at run time."""
    if not zone_ids:
        return
    for alias, account in config.accounts.items():
        for suffix, zone_id in account.hosted_zones.items():
            if zone_id not in zone_ids:
                raise SettingsError(
                    f"account {alias!r} uses hosted zone {zone_id} for {suffix!r}, which is not in the context "
                    f"hostedZoneIds: add it there, or leave hostedZoneIds empty to allow every zone"
                )
