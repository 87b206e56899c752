"""The acme-accounts.yaml loader: the Sectigo format unchanged, our keys, and one clear message per mistake."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from certlib.config import Config, load_accounts_file, parse_accounts
from certlib.exceptions import ConfigError
from tests.certificates import certificate_pem, key_pem, self_signed

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
        ({"KeyType": "EC", "KeySize": 512}, "field 'KeySize' 512 does not fit KeyType EC: use 256, 384 or 521"),
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


def test_several_accounts_without_a_default_load_and_a_request_must_name_one() -> None:
    # Given two accounts and no default (as Sectigo's own sample has them)
    document = sectigo()
    document["accounts"]["other"] = [{"acme-endpoint": "https://ca.example/dir"}]  # type: ignore[index]
    # When it is loaded, and deployed
    config = parse_accounts(document).config
    deployed = Config.from_json(config.to_json())
    # Then each alias is there, and naming none is refused with the aliases and both ways out
    assert config.default_account is None
    assert deployed == config
    assert deployed.account("other").directory_url == "https://ca.example/dir"
    with pytest.raises(ConfigError) as refused:
        deployed.account(None)
    message = str(refused.value)
    assert "configured aliases other, sectigo-ov" in message
    assert "'account' in the request (certctl issue --account ALIAS)" in message
    assert "add 'default-account: ALIAS' to the accounts file" in message
    # And with a default, that one is used
    document["default-account"] = "other"
    assert parse_accounts(document).config.account(None).alias == "other"


def test_a_default_that_is_not_an_alias_is_refused_at_load_and_in_the_deployed_form() -> None:
    document = {**sectigo(), "default-account": "nope"}
    with pytest.raises(ConfigError, match="default-account 'nope' is not one of the configured aliases"):
        parse_accounts(document)
    deployed = json.loads(parse_accounts(sectigo()).config.to_json())
    with pytest.raises(ConfigError, match="unknown ACME account alias 'nope'"):
        Config.from_json(json.dumps({**deployed, "default_account": "nope"}))


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


def pem_certificate_and_key() -> tuple[str, str]:
    """A self-signed CA certificate and its private key, as PEM text."""
    certificate, key = self_signed("Private ACME CA", days=1)
    return certificate_pem(certificate), key_pem(key)


CERTIFICATE, PRIVATE_KEY = pem_certificate_and_key()
KEY_BODY = PRIVATE_KEY.splitlines()[1]  # a line of the key's base64: must never appear in a message


def test_a_ca_bundle_of_certificates_is_accepted_inline_or_as_a_file(tmp_path: Path) -> None:
    # Given two certificates inline, and the same in a file next to the accounts file
    bundle = CERTIFICATE + "\n" + CERTIFICATE
    (tmp_path / "ca.pem").write_text(bundle)
    # When / Then both are kept as given
    assert parse_accounts(sectigo(**{"ca-bundle": bundle})).config.account(None).ca_bundle == bundle
    loaded = parse_accounts(sectigo(**{"ca-bundle": "ca.pem"}), base_dir=tmp_path)
    assert loaded.config.account(None).ca_bundle == bundle


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        (CERTIFICATE + PRIVATE_KEY, "field 'ca-bundle' holds a private key"),
        (PRIVATE_KEY, "field 'ca-bundle' holds a private key"),
        (PRIVATE_KEY.replace("PRIVATE KEY", "RSA PRIVATE KEY"), "field 'ca-bundle' holds a private key"),
        (PRIVATE_KEY.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), "field 'ca-bundle' holds a private key"),
        (PRIVATE_KEY.rsplit("-----END", 1)[0], "field 'ca-bundle' holds a private key"),  # a key cut short
        (
            CERTIFICATE + CERTIFICATE.replace("CERTIFICATE", "X509 CRL"),
            "field 'ca-bundle' holds PEM blocks other than CERTIFICATE (X509 CRL)",
        ),
        (
            CERTIFICATE.replace("CERTIFICATE", "TRUSTED CERTIFICATE"),
            "holds PEM blocks other than CERTIFICATE (TRUSTED CERTIFICATE)",
        ),
        ("# our CA\n" + CERTIFICATE, "field 'ca-bundle' holds text outside its PEM CERTIFICATE blocks"),
        (CERTIFICATE + KEY_BODY + "\n", "field 'ca-bundle' holds text outside its PEM CERTIFICATE blocks"),
        (CERTIFICATE + "-----BEGIN CERTIFICATE-----\nMIIB\n", "holds text outside its PEM CERTIFICATE blocks"),
        (CERTIFICATE.replace(CERTIFICATE.splitlines()[3], "A" * 64), "certificate 1 of 1 is not a valid X.509"),
    ],
)
def test_a_ca_bundle_with_anything_but_certificates_is_refused(bundle: str, message: str) -> None:
    # Given a ca-bundle holding something besides PEM certificates
    # When it is parsed
    with pytest.raises(ConfigError) as raised:
        parse_accounts(sectigo(**{"ca-bundle": bundle}))
    # Then the message names the alias and what is wrong, and repeats nothing of the content
    assert message in str(raised.value)
    assert str(raised.value).startswith("acme-accounts.yaml: account 'sectigo-ov': field 'ca-bundle'")
    assert KEY_BODY not in str(raised.value)
    assert CERTIFICATE.splitlines()[1] not in str(raised.value)


def test_a_ca_bundle_file_holding_a_key_is_refused_by_name(tmp_path: Path) -> None:
    # Given an accounts file whose ca-bundle names a file that holds a certificate and its key
    (tmp_path / "ca.pem").write_text(CERTIFICATE + PRIVATE_KEY)
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            accounts:
              private-ca:
                - acme-endpoint: https://ca.internal.example/acme/directory
                  ca-bundle: ca.pem
            """
        )
    )
    # When it is loaded / Then the error names the file, the alias and the bundle's file, and not the key
    with pytest.raises(ConfigError) as raised:
        load_accounts_file(path)
    assert f"account 'private-ca': field 'ca-bundle' file '{tmp_path / 'ca.pem'}' holds a private key" in str(
        raised.value
    )
    assert KEY_BODY not in str(raised.value)


def test_real_account_files_are_ignored_by_git_and_the_examples_are_not() -> None:
    # Given the repository's .gitignore (a copy without git or .git cannot be asked)
    import shutil
    import subprocess

    from deploy.paths import REPO_ROOT

    git = shutil.which("git")
    if git is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")

    # When git is asked about account files and the example (--no-index: the rules, whether tracked or not)
    def ignored(path: str) -> bool:
        completed = subprocess.run([git, "check-ignore", "--quiet", "--no-index", path], cwd=REPO_ROOT, check=False)
        assert completed.returncode in (0, 1), f"git check-ignore failed on {path}"
        return completed.returncode == 0

    # Then the account files (which hold EAB HMAC keys) are ignored, the examples are not
    assert ignored("config/acme-accounts.yaml")
    assert ignored("config/prod.yml")
    assert not ignored("config/acme-accounts.example.yaml")
