"""ACME accounts pushed at run time: changed without `cdk deploy`, as the Sectigo connector's users edit their file.

`certctl accounts push --file acme-accounts.yaml` stores the EAB HMAC keys in Secrets Manager and the file's
accounts (without any secret) in the SSM parameter /<prefix>/accounts (ResourceNames.accounts_parameter), which the
stack does not manage: a later deploy never overwrites it. The functions read it next to the deployed configuration
(one GetParameters call) and take from it the accounts and the default account only; DNS zones, distribution profiles
and notifications shape IAM grants, trust and targets, so they change with a deploy, never with a push. Without the
parameter (nothing pushed yet), the deployed configuration is used as it is.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from certlib.config import AccountConfig, Config
from certlib.exceptions import ConfigError

# Sections of the accounts file that only a deploy changes (a push reports them when they differ).
DEPLOY_ONLY_SECTIONS = ("dns_zones", "distribution_profiles")
FORMAT_VERSION = 1


def pushed_value(config: Config) -> str:
    """The parameter's value for an accounts file's configuration: its accounts and default account, no secret."""
    return json.dumps(
        {
            "version": FORMAT_VERSION,
            "default_account": config.default_account,
            "accounts": {alias: dataclasses.asdict(account) for alias, account in config.accounts.items()},
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def with_pushed_accounts(deployed: Config, pushed: str | None) -> Config:
    """The deployed configuration with the pushed accounts in place of the deployed ones (none pushed: unchanged).
    Raises ConfigError when the parameter holds something `pushed_value` did not write."""
    if pushed is None:
        return deployed
    try:
        data: dict[str, Any] = json.loads(pushed)
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {FORMAT_VERSION}")
        accounts = {str(alias): AccountConfig(**values) for alias, values in data["accounts"].items()}
        default = data.get("default_account")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"the pushed accounts parameter is not valid ({exc}): push the accounts file again with "
            f"certctl accounts push --file acme-accounts.yaml"
        ) from None
    if not accounts or (default is not None and default not in accounts):
        raise ConfigError(
            "the pushed accounts parameter names no account, or a default that is not one of them: push the accounts "
            "file again with certctl accounts push --file acme-accounts.yaml"
        )
    return dataclasses.replace(deployed, accounts=accounts, default_account=default)


def load_configuration(ssm: Any, config_parameter: str, accounts_parameter: str) -> Config:
    """The configuration in effect: the deployed one with the pushed accounts, read in one GetParameters call.
    Raises ConfigError (no deployed configuration, or a malformed one); botocore's ClientError for the caller to
    classify."""
    answer = ssm.get_parameters(Names=[config_parameter, accounts_parameter])
    values = {str(parameter["Name"]): str(parameter["Value"]) for parameter in answer.get("Parameters", [])}
    if config_parameter not in values:
        raise ConfigError(
            f"the configuration parameter {config_parameter} does not exist: is the stack deployed in this region "
            f"(or the sandbox up), with this resource prefix?"
        )
    return with_pushed_accounts(Config.from_json(values[config_parameter]), values.get(accounts_parameter))


def deploy_only_differences(deployed: Config, pushed: Config) -> list[str]:
    """The accounts file's sections that differ from the deployed ones but take effect only with `cdk deploy`."""
    names = {"dns_zones": "dns-zones", "distribution_profiles": "distribution-profiles"}
    return [
        names[section] for section in DEPLOY_ONLY_SECTIONS if getattr(deployed, section) != getattr(pushed, section)
    ]
