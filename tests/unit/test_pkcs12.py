"""The PKCS#12 builder (certlib.distribution.pkcs12) and the profile keys that ask for a PKCS#12 file
(certlib.distribution.spec)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from certlib.distribution.pkcs12 import (
    ALGORITHM_FIELD,
    LEGACY,
    MODERN,
    PASSWORD_FIELD,
    PKCS12_FIELD,
    build_pkcs12,
    with_pkcs12,
)
from certlib.distribution.spec import DistributionProfile, ProfileError, parse_profiles
from certlib.keys import key_matches_certificate
from tests.certificates import certificate_pem, key_pem, self_signed

OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def bundle() -> dict[str, str]:
    intermediate, _ = self_signed("intermediate")
    certificate, key = self_signed("www.example.test", serial=0xABC, dns_name=True)
    return {
        "certificate": certificate_pem(certificate),
        "chain": certificate_pem(intermediate),
        "private_key": key_pem(key),
        "serial": "abc",
    }


def profile(**settings: Any) -> DistributionProfile:
    return parse_profiles({"web": {"tags": {"role": ["web"]}, **settings}})["web"]


def openssl_info(data: bytes, password: str, tmp_path: Any) -> str:
    """`openssl pkcs12 -info -noout` of a file, the password through a file (never an argument)."""
    assert OPENSSL is not None
    (tmp_path / "store.p12").write_bytes(data)
    (tmp_path / "password").write_text(password)
    completed = subprocess.run(
        [OPENSSL, "pkcs12", "-info", "-noout", "-in", tmp_path / "store.p12", "-passin", f"file:{tmp_path}/password"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout + completed.stderr


# --- the builder ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [MODERN, LEGACY])
def test_the_file_loads_back_with_its_password_and_holds_certificate_chain_and_key(
    bundle: dict[str, str], algorithm: str
) -> None:
    # When a file is built
    data = build_pkcs12("shop", bundle["certificate"], bundle["chain"], bundle["private_key"], "s3cret", algorithm)

    # Then it opens with the password only, with the certificate, its key, the chain and the friendly name
    key, certificate, chain = pkcs12.load_key_and_certificates(data, b"s3cret")
    assert certificate is not None
    assert key is not None
    assert format(certificate.serial_number, "x") == "abc"
    assert key_matches_certificate(certificate, key)  # type: ignore[arg-type]
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=intermediate"]
    assert pkcs12.load_pkcs12(data, b"s3cret").cert.friendly_name == b"shop"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="Invalid password"):
        pkcs12.load_key_and_certificates(data, b"wrong")


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed on this machine")
@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (MODERN, ["PBES2", "AES-256-CBC", "hmacWithSHA256", "MAC: sha256"]),
        (LEGACY, ["pbeWithSHA1And3-KeyTripleDES-CBC", "MAC: sha1"]),
    ],
)
def test_openssl_reads_the_algorithm_asked_for(
    bundle: dict[str, str], algorithm: str, expected: list[str], tmp_path: Any
) -> None:
    data = build_pkcs12("shop", bundle["certificate"], bundle["chain"], bundle["private_key"], "s3cret", algorithm)

    info = openssl_info(data, "s3cret", tmp_path)

    assert [part for part in expected if part not in info] == [], info


def test_an_unknown_algorithm_is_refused(bundle: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="unknown PKCS#12 algorithm 'rc2'"):
        build_pkcs12("shop", bundle["certificate"], bundle["chain"], bundle["private_key"], "s3cret", "rc2")


# --- the bundle's fields --------------------------------------------------------------------------------------------


def test_a_profile_with_a_pkcs12_path_adds_file_password_and_algorithm(bundle: dict[str, str]) -> None:
    # When the bundle of a certificate whose profile asks for a PKCS#12 file is made, with no earlier bundle
    result = with_pkcs12("shop", bundle, None, profile(**{"pkcs12-path": "/etc/ssl/{name}.p12"}))

    # Then the file opens with the stored password (48 hex characters), and the PEM fields are as they were
    password = result[PASSWORD_FIELD]
    assert len(password) == 48
    assert int(password, 16) >= 0
    key, certificate, _ = pkcs12.load_key_and_certificates(base64.b64decode(result[PKCS12_FIELD]), password.encode())
    assert certificate is not None
    assert key is not None
    assert key_matches_certificate(certificate, key)  # type: ignore[arg-type]
    assert result[ALGORITHM_FIELD] == MODERN
    assert {k: result[k] for k in bundle} == bundle


def test_the_password_is_kept_across_renewals_and_a_repeat_keeps_the_file(bundle: dict[str, str]) -> None:
    # Given a first bundle with its file
    asks = profile(**{"pkcs12-path": "/etc/ssl/{name}.p12"})
    first = with_pkcs12("shop", bundle, None, asks)

    # When the same serial is stored again (a repeated step), then a renewal (another serial)
    repeated = with_pkcs12("shop", bundle, first, asks)
    renewed = with_pkcs12("shop", {**bundle, "serial": "def"}, first, asks)

    # Then the repeat writes the same bytes, and the renewal a new file under the same password
    assert repeated == first
    assert renewed[PASSWORD_FIELD] == first[PASSWORD_FIELD]
    assert renewed[PKCS12_FIELD] != first[PKCS12_FIELD]
    pkcs12.load_key_and_certificates(base64.b64decode(renewed[PKCS12_FIELD]), first[PASSWORD_FIELD].encode())


def test_switching_to_legacy_rebuilds_the_file_under_the_same_password(bundle: dict[str, str]) -> None:
    first = with_pkcs12("shop", bundle, None, profile(**{"pkcs12-path": "/p/x.p12"}))

    legacy = with_pkcs12("shop", bundle, first, profile(**{"pkcs12-path": "/p/x.p12", "pkcs12-legacy": True}))

    assert legacy[ALGORITHM_FIELD] == LEGACY
    assert legacy[PKCS12_FIELD] != first[PKCS12_FIELD]
    assert legacy[PASSWORD_FIELD] == first[PASSWORD_FIELD]


def test_without_a_pkcs12_path_there_is_no_file_but_the_password_stays(bundle: dict[str, str]) -> None:
    first = with_pkcs12("shop", bundle, None, profile(**{"pkcs12-path": "/p/x.p12"}))

    for later in (None, profile()):
        result = with_pkcs12("shop", bundle, first, later)

        assert PKCS12_FIELD not in result
        assert ALGORITHM_FIELD not in result
        assert result[PASSWORD_FIELD] == first[PASSWORD_FIELD]
    assert with_pkcs12("shop", bundle, None, profile()) == bundle


# --- the profile keys -----------------------------------------------------------------------------------------------


def test_profile_keys_and_the_document_parameters_they_give() -> None:
    # Given profiles with a PKCS#12 file beside the PEM files, and one with the PKCS#12 file only
    both = profile(**{"pkcs12-path": "/etc/ssl/acme/{name}.p12"}).for_certificate("shop")
    only = profile(**{"pkcs12-path": "/opt/app/{name}.pfx", "pem": False, "pkcs12-legacy": True})

    # Then the document gets the path and whether to install the PEM files
    parameters = both.document_parameters("arn:secret", "eu-west-1", "abc")
    assert parameters["pkcs12Path"] == ["/etc/ssl/acme/shop.p12"]
    assert parameters["installPem"] == ["true"]
    parameters = only.for_certificate("shop").document_parameters("arn:secret", "eu-west-1", "abc")
    assert parameters["pkcs12Path"] == ["/opt/app/shop.pfx"]
    assert parameters["installPem"] == ["false"]
    assert (only.pem, only.pkcs12_legacy) == (False, True)
    # and a profile without them sends an empty path, and round-trips the deployed JSON
    plain = profile()
    assert plain.for_certificate("shop").document_parameters("arn:secret", "eu-west-1", "abc")["pkcs12Path"] == [""]
    assert DistributionProfile.from_dict(only.to_dict()) == only
    legacy_json = {k: v for k, v in plain.to_dict().items() if k not in ("pkcs12_path", "pem", "pkcs12_legacy")}
    assert DistributionProfile.from_dict(legacy_json) == plain  # a configuration deployed before these keys


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"pem": False}, "'pem: false' installs no PEM file: it needs 'pkcs12-path'"),
        ({"pkcs12-legacy": True}, "'pkcs12-legacy' chooses how a PKCS#12 file is encrypted: give 'pkcs12-path' too"),
        ({"pkcs12-path": "relative.p12"}, "'pkcs12-path' must be a path"),
        ({"pkcs12-path": "/etc/ssl/x'.p12"}, "'pkcs12-path' must be a path"),
        ({"pkcs12-path": "/etc/ssl/acme/{name}/privkey.pem"}, "'pkcs12-path' '/etc/ssl/acme/{name}/privkey.pem' must"),
        ({"pkcs12-path": "/x.p12", "pem": "no"}, "'pem' must be true or false, got 'no'"),
        ({"pkcs12-path": "/x.p12", "pkcs12-legacy": 1}, "'pkcs12-legacy' must be true or false, got 1"),
        ({"pkcs12-path": "/x.p12", "pem": False, "key-path": "/k.pem"}, "installs no PEM file: remove 'key-path'"),
    ],
)
def test_settings_that_do_not_fit_are_refused_with_what_to_do(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError) as raised:
        profile(**settings)

    assert str(raised.value).startswith("distribution profile 'web': ")
    assert message in str(raised.value)
