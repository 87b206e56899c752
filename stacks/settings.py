"""What a deployment is configured with: the CDK context keys of cdk.json (or `-c key=value`), validated once.

Context keys:
    accountsFile     the acme-accounts.yaml to deploy (default config/acme-accounts.example.yaml)
    resourcePrefix   prefix of every physical name (default certlib.resources.DEFAULT_PREFIX)
    hostedZoneIds    Route 53 zones the functions may change; a list or a comma-separated string.
                     Empty: any zone in the account, still only `_acme-challenge` TXT records.
    layerDirectory   the layer folder `make layer` builds (default build/layer)
    stackName        the CloudFormation stack name (default AcmeCertificates-<region>)

Relative paths are resolved against the repository root, where cdk.json lives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certlib.config import ZONE_ID_PATTERN, Config, load_accounts_file
from certlib.resources import DEFAULT_PREFIX, REPO_ROOT, ResourceNames

DEFAULT_ACCOUNTS_FILE = "config/acme-accounts.example.yaml"
DEFAULT_LAYER_DIRECTORY = "build/layer"
STACK_NAME_BASE = "AcmeCertificates"
CONTEXT_KEYS = ("accountsFile", "resourcePrefix", "hostedZoneIds", "layerDirectory", "stackName")
_STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


class SettingsError(ValueError):
    """A context value is missing or malformed; the message names the context key."""


@dataclass(frozen=True)
class StackSettings:
    """Only the secret-free part of the accounts file is kept: the EAB HMAC keys are dropped as it is read."""

    config: Config
    names: ResourceNames
    hosted_zone_ids: tuple[str, ...]
    layer_directory: Path
    stack_name: str | None

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> StackSettings:
        """Validate the context values; raises SettingsError (or ConfigError for the accounts file)."""
        config = load_accounts_file(_path(context.get("accountsFile") or DEFAULT_ACCOUNTS_FILE)).config
        prefix = str(context.get("resourcePrefix") or DEFAULT_PREFIX)
        try:
            names = ResourceNames(prefix)
        except ValueError as exc:
            raise SettingsError(f"context resourcePrefix: {exc}") from None
        zone_ids = _zone_ids(context.get("hostedZoneIds"))
        _check_configured_zones_allowed(config, zone_ids)
        stack_name = context.get("stackName") or None
        if stack_name is not None and not _STACK_NAME_PATTERN.fullmatch(str(stack_name)):
            raise SettingsError(f"context stackName {stack_name!r} is not a valid CloudFormation stack name")
        return cls(
            config=config,
            names=names,
            hosted_zone_ids=zone_ids,
            layer_directory=_path(context.get("layerDirectory") or DEFAULT_LAYER_DIRECTORY),
            stack_name=str(stack_name) if stack_name else None,
        )

    def stack_name_for(self, region: str | None) -> str:
        """The explicit stackName, else AcmeCertificates-<region> (AcmeCertificates for a region-agnostic stack)."""
        if self.stack_name:
            return self.stack_name
        return f"{STACK_NAME_BASE}-{region}" if region else STACK_NAME_BASE


def _path(value: Any) -> Path:
    path = Path(str(value))
    return path if path.is_absolute() else REPO_ROOT / path


def _zone_ids(value: Any) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise SettingsError("context hostedZoneIds must be a list of hosted zone IDs or a comma-separated string")
    zone_ids = []
    for item in items:
        zone_id = str(item).strip().removeprefix("/hostedzone/")
        if not ZONE_ID_PATTERN.fullmatch(zone_id):
            raise SettingsError(f"context hostedZoneIds: {item!r} is not a Route 53 hosted zone ID")
        zone_ids.append(zone_id)
    return tuple(dict.fromkeys(zone_ids))


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
