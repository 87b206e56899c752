"""The acme-accounts.yaml loader: the Sectigo format unchanged, our keys, and one clear message per mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from certlib.config import Config, load_accounts_file, parse_accounts
from certlib.exceptions import ConfigError

HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


def sectigo(**overrides: object) -> dict[str, object]:
    account: dict[str, object] = {
        "acme-endpoint": "https://acme.sectigo.com/v2/OV",
        "eab-key": "kid-1",
        "eab-hmac-key": HMAC,
        "email": "pki@example.com",
        "RenewBeforeDays": 30,
        "KeyType": "RSA",
        "KeySize": 2048,
    }
    account.update(overrides)
    return {"accounts": {"sectigo-ov": [account]}}


def test_sectigo_file_loads_unchanged(tmp_path: Path) -> None:
    # Given the connector's file, as its users have it
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            accounts:
              sectigo-ov:
                - acme-endpoint: https://acme.sectigo.com/v2/OV
                  eab-key: kid-1
                  eab-hmac-key: {HMAC}
                  email: pki@example.com
                  RenewBeforeDays: 30
                  KeyType: RSA
                  KeySize: 4096
            """
        )
    )
    # When it is loaded
    loaded = load_accounts_file(path)
    # Then the account is there, the HMAC key is apart, and the deployable JSON holds no secret
    account = loaded.config.account(None)
    assert (account.alias, account.key_type, account.renew_before_days) == ("sectigo-ov", "rsa4096", 30)
    assert account.eab_key_id == "kid-1"
    assert loaded.eab_hmac_keys == {"sectigo-ov": HMAC}
    assert HMAC not in loaded.config.to_json()
    assert HMAC not in repr(loaded)
    assert Config.from_json(loaded.config.to_json()) == loaded.config


def test_one_setting_per_list_item_is_accepted() -> None:
    # Given the alias's settings as a list of one-key mappings
    document = {
        "accounts": {"le": [{"acme-endpoint": "https://acme-v02.api.letsencrypt.org/directory"}, {"KeyType": "EC"}]}
    }
    # When / Then
    assert parse_accounts(document).config.account("le").key_type == "ec256"


def test_our_optional_keys() -> None:
    # Given preferred chain and zone overrides
    document = sectigo(**{"preferred-chain": "ISRG Root X1", "hosted-zones": {"Example.COM.": "/hostedzone/Z123ABC"}})
    # When
    account = parse_accounts(document).config.account(None)
    # Then
    assert account.preferred_chain == "ISRG Root X1"
    assert account.hosted_zones == {"example.com": "Z123ABC"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"KeyType": "DSA"}, "account 'sectigo-ov': field 'KeyType' 'DSA' is not supported"),
        ({"KeySize": 1024}, "account 'sectigo-ov': field 'KeySize' 1024 does not fit KeyType RSA"),
        ({"KeyType": "EC", "KeySize": 521}, "field 'KeySize' 521 does not fit KeyType EC"),
        ({"acme-endpoint": None}, "account 'sectigo-ov': field 'acme-endpoint' is missing"),
        ({"acme-endpoint": "http://plain.example/dir"}, "field 'acme-endpoint' must be an https:// directory URL"),
        ({"eab-hmac-key": "not base64 !!"}, "account 'sectigo-ov': field 'eab-hmac-key' is malformed"),
        ({"eab-hmac-key": "c2hvcnQ"}, "field 'eab-hmac-key' is malformed"),
        ({"eab-hmac-key": None}, "field 'eab-hmac-key' is missing"),
        ({"eab-key": None}, "field 'eab-key' is missing"),
        ({"email": "nobody"}, "field 'email' is not an e-mail address"),
        ({"RenewBeforeDays": "soon"}, "field 'RenewBeforeDays' must be a whole number of days"),
        ({"RenewBeforeDays": 0}, "field 'RenewBeforeDays' must be between 1 and 365"),
        ({"colour": "blue"}, "unknown field(s) 'colour'"),
        ({"hosted-zones": {"example.com": "not a zone"}}, "field 'hosted-zones' has 'not a zone'"),
    ],
)
def test_each_mistake_gives_one_clear_message(overrides: dict[str, object], message: str) -> None:
    # Given a file with one mistake / When it is parsed / Then the message names alias and field
    with pytest.raises(ConfigError) as raised:
        parse_accounts(sectigo(**overrides))
    assert message in str(raised.value)
    assert "zWNDZM6e" not in str(raised.value)


def test_several_accounts_need_a_default() -> None:
    # Given two accounts and no default
    document = sectigo()
    document["accounts"]["other"] = [{"acme-endpoint": "https://ca.example/dir"}]  # type: ignore[index]
    # When / Then
    with pytest.raises(ConfigError, match="name one with 'default-account:'"):
        parse_accounts(document)
    document["default-account"] = "other"
    assert parse_accounts(document).config.default_account == "other"


def test_unknown_alias_names_the_known_ones() -> None:
    config = parse_accounts(sectigo()).config
    with pytest.raises(ConfigError, match="unknown ACME account alias 'nope'; configured aliases: sectigo-ov"):
        config.account("nope")


def test_broken_yaml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("accounts:\n  a: [\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: not valid YAML at line \d"):
        load_accounts_file(path)


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the account file"):
        load_accounts_file(tmp_path / "absent.yaml")
