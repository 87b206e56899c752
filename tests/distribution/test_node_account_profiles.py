"""A profile's node accounts (`accounts:`, `external-id:`), checked when the accounts file loads, kept through the
deployed JSON, and the bundle's resource policy built from them (certlib.distribution.node_accounts)."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.config import Config, parse_accounts
from certlib.distribution.node_accounts import bundle_resource_policy
from certlib.exceptions import ConfigError
from certlib.resources import ACCESS_GROUP_TAG

ACCOUNTS = {"letsencrypt": {"acme-endpoint": "https://acme.example/directory"}}


def profile(**entry: Any) -> Any:
    loaded = parse_accounts(
        {"accounts": ACCOUNTS, "distribution-profiles": {"web": {"tags": {"role": "web"}, **entry}}}
    )
    return loaded.config.distribution_profiles["web"]


def test_node_accounts_and_external_id_load_and_survive_the_deployed_json() -> None:
    # Given a profile naming two node accounts (one twice) and an external ID
    web = profile(accounts=["222222222222", "333333333333", "222222222222"], **{"external-id": "acme-nodes"})
    # Then they are kept once each, in order, and the deployed configuration keeps them
    assert (web.accounts, web.external_id) == (["222222222222", "333333333333"], "acme-nodes")
    config = Config(accounts={}, default_account=None, distribution_profiles={"web": web})
    assert Config.from_json(config.to_json()).distribution_profiles["web"] == web


def test_a_profile_without_accounts_reaches_this_account_only() -> None:
    assert (profile().accounts, profile().external_id) == ([], "")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"accounts": [222222222222]}, "222222222222 in 'accounts' is not an AWS account ID: write it as 12 digits"),
        ({"accounts": ["22222222222"]}, "'22222222222' in 'accounts' is not an AWS account ID"),
        ({"accounts": "222222222222"}, "'accounts' must be a list of 1-20 AWS account IDs"),
        ({"accounts": []}, "'accounts' must be a list of 1-20 AWS account IDs"),
        ({"accounts": [f"{n:012d}" for n in range(21)]}, "'accounts' must be a list of 1-20"),
        ({"external-id": "acme-nodes"}, "'external-id' goes with 'accounts'"),
        ({"accounts": ["222222222222"], "external-id": "a"}, "'external-id': external ID 'a' is not one STS accepts"),
        ({"accounts": ["222222222222"], "external-id": 12}, "'external-id' must be a string, got 12"),
    ],
)
def test_bad_node_accounts_are_refused_at_load_naming_the_profile(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="distribution profile 'web': ") as raised:
        profile(**entry)
    assert message in str(raised.value)


def test_the_bundle_policy_names_exactly_the_accounts_and_the_access_group_and_is_not_public() -> None:
    policy = bundle_resource_policy(["333333333333", "222222222222", "333333333333"], "web")
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}
    assert (statement["Effect"], statement["Action"]) == ("Allow", "secretsmanager:GetSecretValue")
    assert statement["Condition"] == {"StringEquals": {f"aws:PrincipalTag/{ACCESS_GROUP_TAG}": "web"}}
    assert "*" not in str(statement["Principal"])  # what BlockPublicPolicy would refuse
    with pytest.raises(ValueError, match="at least one node account"):
        bundle_resource_policy([], "web")
