"""Accounts pushed at run time replace the deployed accounts and default, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.config import parse_accounts
from certlib.exceptions import ConfigError
from certlib.pushed_accounts import deploy_only_differences, pushed_value, with_pushed_accounts

DEPLOYED = {
    "accounts": {"letsencrypt": {"acme-endpoint": "https://acme.example/directory"}},
    "dns-zones": {"partner.example": {"role-arn": "arn:aws:iam::111111111111:role/acme-dns-01"}},
    "distribution-profiles": {"web": {"tags": {"role": ["web"]}}},
}
PUSHED = {
    "accounts": {
        "sectigo": {"acme-endpoint": "https://acme.sectigo.example/v2/OV", "KeyType": "EC", "KeySize": 521},
        "letsencrypt": {"acme-endpoint": "https://acme.example/directory", "RenewBeforeDays": 20},
    },
    "default-account": "sectigo",
    "distribution-profiles": {"web": {"tags": {"role": ["anything"]}, "reload-command": "id"}},
}


def config_of(document: dict[str, Any]) -> Any:
    return parse_accounts(document).config


def test_the_pushed_accounts_and_default_replace_the_deployed_ones_and_nothing_else() -> None:
    # Given the deployed configuration and a pushed file that also changes a deploy-only section
    deployed, pushed = config_of(DEPLOYED), config_of(PUSHED)

    # When the pushed accounts are laid over the deployed configuration
    effective = with_pushed_accounts(deployed, pushed_value(pushed))

    # Then the accounts and the default are the pushed ones; DNS zones and distribution profiles stay deployed
    assert effective.accounts == pushed.accounts
    assert effective.account(None).alias == "sectigo"
    assert effective.account("sectigo").key_type == "ec521"
    assert effective.dns_zones == deployed.dns_zones
    assert effective.distribution_profiles == deployed.distribution_profiles
    # and a push says which deploy-only sections it did not apply
    assert deploy_only_differences(deployed, pushed) == ["dns-zones", "distribution-profiles"]
    # and nothing pushed: the deployed configuration as it is
    assert with_pushed_accounts(deployed, None) is deployed


def test_the_pushed_value_holds_no_secret() -> None:
    document = {
        "accounts": {
            "sectigo": {
                "acme-endpoint": "https://acme.sectigo.example/v2/OV",
                "eab-key": "key-id-0123",
                "eab-hmac-key": "bWFkZS11cC1lYWItaG1hYy1rZXktcmVwbGFjZS1tZSE",
            }
        }
    }
    value = pushed_value(config_of(document))
    assert "key-id-0123" in value
    assert "bWFkZS11cC1lYWItaG1hYy1rZXktcmVwbGFjZS1tZSE" not in value


@pytest.mark.parametrize(
    "value",
    ["not json", '{"version": 2, "accounts": {}}', '{"version": 1, "accounts": {}}', '{"version": 1}'],
)
def test_a_malformed_parameter_is_refused_with_the_way_out(value: str) -> None:
    with pytest.raises(ConfigError, match="certctl accounts push --file"):
        with_pushed_accounts(config_of(DEPLOYED), value)
