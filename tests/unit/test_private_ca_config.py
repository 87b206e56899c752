"""AWS Private CA accounts in acme-accounts.yaml: their fields, their defaults, and one clear message per mistake."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.config import Config, parse_accounts
from certlib.exceptions import ConfigError
from certlib.private_ca import DEFAULT_TEMPLATE_ARN, revocation_reason, signing_algorithm_for

CA_ARN = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11223344-5566-7788-99aa-bbccddeeff00"


def document(**fields: Any) -> dict[str, Any]:
    return {"accounts": {"internal": [{"private-ca-arn": CA_ARN, **fields}]}}


def test_a_private_ca_account_loads_with_its_defaults() -> None:
    # Given an entry with the CA's ARN only
    # When it is loaded
    account = parse_accounts(document()).config.account("internal")
    # Then it is a Private CA account with the default template, validity and key, and no ACME part
    assert account.kind == "private-ca"
    assert (account.private_ca_arn, account.template_arn) == (CA_ARN, DEFAULT_TEMPLATE_ARN)
    assert (account.validity_days, account.signing_algorithm, account.key_type) == (90, None, "ec256")
    assert (account.directory_url, account.eab_key_id, account.uses_eab) == ("", None, False)


def test_every_field_is_read_and_survives_the_deployed_json() -> None:
    # Given every field of the kind
    loaded = parse_accounts(
        document(
            **{
                "template-arn": "arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1",
                "signing-algorithm": "sha384withrsa",
                "validity-days": 30,
                "RenewBeforeDays": 10,
                "KeyType": "RSA",
                "KeySize": 3072,
            }
        )
    )
    # When the configuration goes through its deployed form
    account = Config.from_json(loaded.config.to_json()).account("internal")
    # Then nothing is lost, and there is no EAB key to keep
    assert account.template_arn == "arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1"
    assert (account.signing_algorithm, account.validity_days, account.renew_before_days) == ("SHA384WITHRSA", 30, 10)
    assert account.key_type == "rsa3072"
    assert loaded.eab_hmac_keys == {}


def test_acme_and_private_ca_accounts_live_side_by_side() -> None:
    # Given an ACME account and a Private CA account
    raw = {
        "accounts": {
            "public": {"acme-endpoint": "https://acme.example/directory"},
            "internal": {"private-ca-arn": CA_ARN},
        },
        "default-account": "public",
    }
    # When loaded
    config = parse_accounts(raw).config
    # Then each has its kind
    assert (config.account(None).kind, config.account("internal").kind) == ("acme", "private-ca")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"acme-endpoint": "https://acme.example/directory"}, "takes no ACME field, but has 'acme-endpoint'"),
        ({"eab-key": "kid", "eab-hmac-key": "x" * 30}, "'eab-hmac-key', 'eab-key'"),
        ({"ca-bundle": "x"}, "takes no ACME field"),
        ({"private-ca-arn": "arn:aws:acm:eu-west-1:111122223333:certificate/abc"}, "must be a Private CA ARN"),
        ({"private-ca-arn": ""}, "must be a Private CA ARN"),
        ({"template-arn": "EndEntityCertificate"}, "field 'template-arn' must be a Private CA template ARN"),
        ({"signing-algorithm": "MD5WITHRSA"}, "'signing-algorithm' 'MD5WITHRSA' is not one of"),
        ({"validity-days": 0}, "'validity-days' must be between 1 and 3650"),
        ({"validity-days": "ninety"}, "'validity-days' must be a whole number of days"),
        ({"validity-days": 30, "RenewBeforeDays": 30}, "'RenewBeforeDays' (30) must be less than 'validity-days'"),
        ({"KeyType": "DSA"}, "'KeyType' 'DSA' is not supported"),
        ({"colour": "blue"}, "unknown field(s) 'colour'; a Private CA account takes private-ca-arn"),
    ],
)
def test_a_wrong_entry_gets_one_clear_error(fields: dict[str, Any], message: str) -> None:
    # Given a Private CA entry with a mistake
    # When it is loaded
    with pytest.raises(ConfigError) as raised:
        parse_accounts(document(**fields))
    # Then the error names the account, and says what is wrong
    assert "account 'internal'" in str(raised.value)
    assert message in str(raised.value)


def test_an_eab_key_given_by_mistake_is_not_echoed() -> None:
    # Given a Private CA entry that also carries an EAB HMAC key
    secret = "c2VjcmV0LWhtYWMta2V5LW5vdC10by1iZS1zaG93bg"
    # When it is loaded
    with pytest.raises(ConfigError) as raised:
        parse_accounts(document(**{"eab-hmac-key": secret}))
    # Then the message names the field, never its value
    assert "'eab-hmac-key'" in str(raised.value)
    assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("configured", "key_type", "expected"),
    [
        (None, "ec256", "SHA256WITHECDSA"),
        (None, "rsa2048", "SHA256WITHRSA"),
        ("SHA512WITHRSA", "ec384", "SHA512WITHRSA"),
    ],
)
def test_the_signing_algorithm_is_the_configured_one_or_follows_the_key(
    configured: str | None, key_type: str, expected: str
) -> None:
    assert signing_algorithm_for(configured, key_type) == expected


def test_revocation_reasons_map_to_acm_pca_names() -> None:
    assert revocation_reason("keyCompromise") == "KEY_COMPROMISE"
    assert revocation_reason("cessationOfOperation") == "CESSATION_OF_OPERATION"
    with pytest.raises(ValueError, match="is not one of"):
        revocation_reason("bored")
