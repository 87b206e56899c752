"""Where the stacks go, from the CDK context: `deployments` and `dnsAccounts`, validated once.

    deployments: [{"account": "111111111111", "region": "us-east-1"},
                  {"account": "222222222222", "region": "eu-west-1"}]
        One CertificateStack per entry, named AcmeCertificates-<account>-<region> (<stackName>-<account>-<region>
        with the context stackName) and bound to that account and region. An account listed in several regions gets
        the names an account holds once (the nodes' IAM policy, the dashboard) with -<region> (regions_of). Without
        it: today's single stack, environment-agnostic unless the CDK CLI sets CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION.
    dnsAccounts: [{"account": "333333333333", "zoneIds": ["Z1..."], "validationZoneIds": ["Z2..."],
                   "region": "us-east-1", "externalId": "acme-certificates", "organizationId": "o-a1b2c3d4e5"}]
        One DnsAccountStack per entry, named AcmeDnsAccess-<account>: the write role
        certlib.dns_account_roles.DNS_ROLE_NAME, trusting exactly the record-writing steps' roles of every deployment,
        and the read role certlib.dns_account_roles.DNS_READ_ROLE_NAME, trusting exactly the reading steps' roles.
        `region` is optional (IAM is global: it only says where the stack is deployed). `externalId` (optional) is
        required of every caller (sts:ExternalId): the accounts file's `dns-zones` entries for this account's role must
        carry the same `external-id` (stacks.settings checks). `organizationId` (optional) requires the callers to be
        in that AWS Organizations organization (aws:PrincipalOrgID).

Both take a list, or the same JSON as a string (what `-c deployments='[...]'` passes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from certlib.dns_account_roles import check_external_id, check_organization_id
from deploy.dns_roles import DNS_READ_STEPS, DNS_WRITE_STEPS, check_region, trusted_role_arns
from stacks.settings import STACK_NAME_BASE, SettingsError, checked, zone_id_list

DNS_STACK_NAME_BASE = "AcmeDnsAccess"
ACCOUNT_PATTERN = re.compile(r"\d{12}")
MAX_STACK_NAME_LENGTH = 128
DEPLOYMENT_FIELDS = ("account", "region")
DNS_ACCOUNT_FIELDS = ("account", "zoneIds", "validationZoneIds", "region", "externalId", "organizationId")


@dataclass(frozen=True)
class Deployment:
    """One certificate stack: an account and a region."""

    account: str
    region: str

    def stack_name(self, base: str | None = None) -> str:
        return f"{base or STACK_NAME_BASE}-{self.account}-{self.region}"


@dataclass(frozen=True)
class DnsAccount:
    """One DNS account's role stack: the zones its roles may reach, where the stack is deployed, and what its roles'
    trust requires beyond the callers' role ARNs (an external ID, an organization)."""

    account: str
    zone_ids: tuple[str, ...]
    validation_zone_ids: tuple[str, ...] = ()
    region: str | None = None
    external_id: str | None = None
    organization_id: str | None = None

    @property
    def stack_name(self) -> str:
        return f"{DNS_STACK_NAME_BASE}-{self.account}"


@dataclass(frozen=True)
class TrustedRoles:
    """Whom a DNS account's roles trust: the exact role ARNs of the steps that write records (the write role) and of
    those that only read (the read role), in every deployment."""

    write: tuple[str, ...]
    read: tuple[str, ...]

    @classmethod
    def of(cls, prefix: str, deployments: tuple[Deployment, ...], partition: str = "aws") -> TrustedRoles:
        """Raises ValueError without deployments (nothing to trust) or for a bad prefix."""
        if not deployments:
            raise ValueError("a DNS account's roles trust the DNS steps' roles of the deployments, and there are none")
        pairs = [(deployment.account, deployment.region) for deployment in deployments]
        return cls(
            write=tuple(trusted_role_arns(prefix, pairs, DNS_WRITE_STEPS, partition)),
            read=tuple(trusted_role_arns(prefix, pairs, DNS_READ_STEPS, partition)),
        )


def parse_deployments(value: Any, stack_name: str | None = None) -> tuple[Deployment, ...]:
    """The `deployments` context value; () without one. Raises SettingsError naming the entry and field."""
    deployments: list[Deployment] = []
    for index, entry in enumerate(context_entries(value, "deployments", DEPLOYMENT_FIELDS)):
        where = f"context deployments[{index}]"
        account = context_account(entry, where)
        region = _region(entry.get("region"), where)
        deployment = Deployment(account, region)
        if deployment in deployments:
            raise SettingsError(f"{where}: account {account} in {region} is listed twice")
        if len(deployment.stack_name(stack_name)) > MAX_STACK_NAME_LENGTH:
            raise SettingsError(
                f"{where}: the stack name {deployment.stack_name(stack_name)!r} is longer than {MAX_STACK_NAME_LENGTH} "
                f"characters: shorten the context stackName"
            )
        deployments.append(deployment)
    return tuple(deployments)


def parse_dns_accounts(value: Any, deployments: tuple[Deployment, ...]) -> tuple[DnsAccount, ...]:
    """The `dnsAccounts` context value; () without one. Raises SettingsError naming the entry and field."""
    accounts: list[DnsAccount] = []
    for index, entry in enumerate(context_entries(value, "dnsAccounts", DNS_ACCOUNT_FIELDS)):
        where = f"context dnsAccounts[{index}]"
        if not deployments:
            raise SettingsError(
                f"{where}: a DNS account trusts the workload accounts of the context deployments, and there are none: "
                f"list the accounts and regions of the certificate stacks under deployments"
            )
        account = context_account(entry, where)
        if any(known.account == account for known in accounts):
            raise SettingsError(f"{where}: DNS account {account} is listed twice (one role per account)")
        zone_ids = zone_id_list(entry.get("zoneIds"), f"dnsAccounts[{index}].zoneIds")
        validation_zone_ids = zone_id_list(entry.get("validationZoneIds"), f"dnsAccounts[{index}].validationZoneIds")
        if not zone_ids and not validation_zone_ids:
            raise SettingsError(f"{where}: name the zones the role may write to in zoneIds or validationZoneIds")
        both = sorted(set(zone_ids) & set(validation_zone_ids))
        if both:
            raise SettingsError(f"{where}: zoneIds and validationZoneIds both name {', '.join(both)}; list each once")
        region = _region(entry["region"], where) if entry.get("region") is not None else None
        external_id = _optional(entry, "externalId", check_external_id, where)
        organization_id = _optional(entry, "organizationId", check_organization_id, where)
        accounts.append(DnsAccount(account, zone_ids, validation_zone_ids, region, external_id, organization_id))
    return tuple(accounts)


def dns_account_of(dns_accounts: tuple[DnsAccount, ...], account: str) -> DnsAccount | None:
    """The entry of `account`, if it is a DNS account."""
    return next((dns_account for dns_account in dns_accounts if dns_account.account == account), None)


def regions_of(deployments: tuple[Deployment, ...], account: str) -> list[str]:
    """The regions `deployments` put a stack of `account` in, sorted."""
    return sorted(deployment.region for deployment in deployments if deployment.account == account)


def workload_accounts(deployments: tuple[Deployment, ...]) -> list[str]:
    """The accounts a DNS account's role trusts: every deployment's, once each, sorted."""
    return sorted({deployment.account for deployment in deployments})


def context_entries(value: Any, key: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """The context list `key` (a list of objects, or its JSON; [] when unset), each entry holding only `fields`.

    Raises SettingsError naming the key, the entry and what is wrong.
    """
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SettingsError(f"context {key} is not valid JSON: {exc}") from None
    if not isinstance(value, list):
        raise SettingsError(f"context {key} must be a list of objects with {', '.join(fields)}, got {value!r}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise SettingsError(f"context {key}[{index}] must be an object with {', '.join(fields)}, got {entry!r}")
        unknown = sorted(set(entry) - set(fields))
        if unknown:
            raise SettingsError(
                f"context {key}[{index}]: unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(fields)}"
            )
    return value


def context_account(entry: dict[str, Any], where: str) -> str:
    """The entry's 12-digit `account`. Raises SettingsError naming `where`."""
    account = entry.get("account")
    if account is None:
        raise SettingsError(f"{where}: field 'account' is missing")
    if isinstance(account, bool) or not ACCOUNT_PATTERN.fullmatch(str(account)):
        raise SettingsError(f"{where}: account {account!r} is not a 12-digit AWS account ID (write it as a string)")
    return str(account)


def _optional(entry: dict[str, Any], field: str, check: Callable[[str], str], where: str) -> str | None:
    value = entry.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}: field {field!r} must be a string, got {value!r}")
    return checked(check, value, f"{where}: field {field!r}")


def _region(region: Any, where: str) -> str:
    if region is None:
        raise SettingsError(f"{where}: field 'region' is missing")
    return checked(check_region, region if isinstance(region, str) else repr(region), where)
