"""`certctl accounts push --file`: an account added to the accounts file is used by the next execution, without a
deploy, as the Sectigo connector's users change their file in S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from certlib.adapters.secrets import SecretStore
from tests.distribution.helpers import unique
from tests.lifecycle.helpers import certctl, issue, target_of


@pytest.fixture
def restored_accounts(sandbox: dict[str, Any]) -> Iterator[None]:
    """The session's sandbox goes back to its deployed accounts afterwards (no pushed accounts parameter)."""
    yield
    ssm = target_of(sandbox).client("ssm")
    ssm.delete_parameter(Name=target_of(sandbox).names.accounts_parameter)


def accounts_file(info: dict[str, Any], path: Path, new_alias: str) -> Path:
    """The sandbox's accounts file as an operator keeps it, plus `new_alias`: another ACME account at the same CA
    with the same EAB credentials."""
    target = target_of(info)
    deployed = target.deployed_config()
    account = deployed.account(None)
    names = target.names
    store = SecretStore(target.client("secretsmanager"), names.secret_prefix, names.kms_alias)
    entry = {
        "acme-endpoint": account.directory_url,
        "eab-key": account.eab_key_id,
        "eab-hmac-key": store.eab_hmac_key(account.alias),
        "email": account.email,
        "ca-bundle": account.ca_bundle,
    }
    document = {"accounts": {account.alias: entry, new_alias: entry}, "default-account": account.alias}
    path.write_text(yaml.safe_dump(document))
    return path


def test_an_account_pushed_without_a_deploy_issues_at_once(
    sandbox: dict[str, Any], tmp_path: Path, restored_accounts: None
) -> None:
    # Given an accounts file with an account the deployed configuration does not have
    alias = unique("pushed")
    path = accounts_file(sandbox, tmp_path / "acme-accounts.yaml", alias)
    deployed_before = target_of(sandbox).deployed_config()

    # When the operator pushes it (no deploy)
    pushed = certctl(sandbox, "accounts", "push", "--file", str(path), "--json")

    # Then it says what is in effect, and that the file's missing dns-zones only a deploy would change
    assert pushed.returncode == 0, pushed.stderr
    summary = json.loads(pushed.stdout)
    assert alias in summary["accounts"]
    assert summary["deploy_only"] == ["dns-zones", "distribution-profiles"]
    # and the next execution naming the new account issues with it
    name = unique("pushed-cert")
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], account=alias)
    assert result["status"] == "issued", result
    assert target_of(sandbox).inventory.get(name)["account"] == alias  # type: ignore[index]
    # while the deployed configuration itself is unchanged (a later deploy would not undo the push either)
    assert target_of(sandbox).deployed_config() == deployed_before
    assert alias in target_of(sandbox).config().accounts
