"""The Sectigo connector's sample accounts file, as docs/migrating-from-sectigo.md shows it, loads exactly as written:
two aliases, no default account, ECDSA 521; and the refusal the page quotes is the one a request without an account
gets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from certlib.config import Config, load_accounts_file, parse_accounts
from certlib.exceptions import ConfigError, InvalidRequest
from certlib.lifecycle.request import parse_request
from tests.docs.markdown import DOCS, Block, blocks

PAGE = DOCS / "migrating-from-sectigo.md"
OV = "https://acme.sectigo.com/v2/OV"


def sample_block() -> Block:
    [found] = [block for block in blocks(PAGE, "yaml") if "scm_demo:" in block.body and "scm_demo2:" in block.body]
    return found


def test_the_sample_loads_as_written_with_two_aliases_and_no_default(tmp_path: Path) -> None:
    # Given the page's block, byte for byte, as a file
    block = sample_block()
    assert block.refused is None
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(block.body)
    # When it is loaded as `certctl accounts push` and the CDK app load it
    loaded = load_accounts_file(path)
    # Then both aliases are there, as the connector reads them, and none is the default
    config = loaded.config
    assert config.default_account is None
    assert sorted(config.accounts) == ["scm_demo", "scm_demo2"]
    first, second = config.account("scm_demo"), config.account("scm_demo2")
    assert (first.key_type, first.renew_before_days, first.directory_url) == ("rsa2048", 30, OV)
    assert (second.key_type, second.directory_url) == ("ec521", "https://acme.sectigo.com/v2/DV")
    assert sorted(loaded.eab_hmac_keys) == ["scm_demo", "scm_demo2"]
    # And the deployed form keeps that, without the EAB HMAC keys
    deployed = config.to_json()
    assert Config.from_json(deployed) == config
    assert not any(hmac_key in deployed for hmac_key in loaded.eab_hmac_keys.values())


def test_a_request_without_an_account_gets_the_refusal_the_page_quotes() -> None:
    # Given the sample, deployed
    config = Config.from_json(parse_accounts(yaml.safe_load(sample_block().body), source="sample").config.to_json())
    # When a request names no account
    with pytest.raises(InvalidRequest) as refused:
        parse_request({"name": "web", "domains": ["www.example.com"]}, config, "eu-west-1")
    # Then it is refused with the aliases and both ways out, word for word as the page shows it
    message = str(refused.value)
    assert "aliases scm_demo, scm_demo2" in message
    quoted = [" ".join(block.body.split()) for block in blocks(PAGE, "text") if "no ACME account named" in block.body]
    assert quoted == [f"certctl: {message}"]
    # And naming one is accepted, with that account's key type
    named = {"name": "web", "domains": ["www.example.com"], "account": "scm_demo2"}
    accepted = parse_request(named, config, "eu-west-1")
    assert (accepted["account"], accepted["key_type"]) == ("scm_demo2", "ec521")
    with pytest.raises(ConfigError, match="aliases scm_demo, scm_demo2"):
        config.account(None)
