"""ECDSA P-521 (`ec521`): the Sectigo KeyType/KeySize that ask for it, its key and CSR, the checks ACM makes, and
ACM's name for it (EC_secp521r1) on import, on a retried import and on re-import."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from certlib.adapters.acm import ACM_KEY_ALGORITHMS, Acm
from certlib.config import parse_accounts
from certlib.exceptions import CertificateCheckFailed, ConfigError, ImportRefused
from certlib.key_types import KEY_TYPES
from certlib.keys import (
    PrivateKey,
    check_bundle,
    csr_pem,
    facts_of,
    generate_private_key,
    key_type_of,
    private_key_to_pem,
    to_pem,
)
from tests.certificates import issued

REGION = "us-east-1"
DEPLOYMENT = "acme-certs"


def account_with(key_type: object, key_size: object) -> dict[str, Any]:
    return {
        "accounts": {
            "scm_demo": [
                {"acme-endpoint": "https://acme.sectigo.com/v2/OV", "KeyType": key_type, "KeySize": key_size},
            ]
        }
    }


@pytest.mark.parametrize("key_type", ["ECDSA", "EC", "ecdsa", "ECC"])
@pytest.mark.parametrize("key_size", [521, "521", "P-521", "secp521r1"])
def test_sectigo_key_type_and_size_for_p521_give_ec521(key_type: str, key_size: object) -> None:
    # Given / When an account asks for ECDSA with a P-521 size, in any of the ways the connector's users write it
    account = parse_accounts(account_with(key_type, key_size)).config.account("scm_demo")
    # Then its certificates get P-521 keys
    assert account.key_type == "ec521"


def test_521_is_refused_for_rsa_with_the_sizes_that_fit() -> None:
    with pytest.raises(ConfigError, match="field 'KeySize' 521 does not fit KeyType RSA: use 2048, 3072 or 4096"):
        parse_accounts(account_with("RSA", 521))


def test_a_p521_key_signs_its_csr_with_sha512() -> None:
    # Given a key of type ec521
    key = generate_private_key("ec521")
    # When its CSR is made
    request = x509.load_pem_x509_csr(csr_pem(key, ["p521.example.test"]))
    # Then the key is on P-521, and the CSR is ECDSA with SHA-512 (RFC 5480), validly signed
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP521R1)
    assert key_type_of(key) == key_type_of(request.public_key()) == "ec521"
    assert isinstance(request.signature_hash_algorithm, hashes.SHA512)
    assert request.is_signature_valid
    # And the other key types keep SHA-256
    other = x509.load_pem_x509_csr(csr_pem(generate_private_key("ec256"), ["p256.example.test"]))
    assert isinstance(other.signature_hash_algorithm, hashes.SHA256)


def test_every_key_type_has_its_acm_key_algorithm() -> None:
    assert set(ACM_KEY_ALGORITHMS) == set(KEY_TYPES)
    assert ACM_KEY_ALGORITHMS["ec521"] == "EC_secp521r1"


def p521_bundle(days: int = 30) -> tuple[x509.Certificate, x509.Certificate, PrivateKey]:
    """A P-521 leaf for p521.example.test, issued by a P-256 CA (as Pebble's intermediate is), and its key."""
    ca_key, key = generate_private_key("ec256"), generate_private_key("ec521")
    ca = issued("test ca", ca_key, "test ca", ca_key, ca=True, days=days, backdated_days=1)
    leaf = issued("p521.example.test", key, "test ca", ca_key, ca=False, days=days, backdated_days=1)
    return leaf, ca, key


def test_the_import_checks_pass_a_p521_bundle_and_refuse_another_key() -> None:
    # Given a P-521 certificate with its chain
    leaf, ca, key = p521_bundle()
    # When / Then key, chain and facts check out
    check_bundle(leaf, [ca], key)
    facts = facts_of(leaf)
    assert (facts.key_type, facts.domains) == ("ec521", ["p521.example.test"])
    # And another P-521 key, or a P-384 one, is refused, naming its type
    with pytest.raises(CertificateCheckFailed, match=r"the private key \(ec521\) does not match"):
        check_bundle(leaf, [ca], generate_private_key("ec521"))
    with pytest.raises(CertificateCheckFailed, match=r"the private key \(ec384\) does not match"):
        check_bundle(leaf, [ca], generate_private_key("ec384"))


@pytest.fixture
def acm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("acm", region_name=REGION)


def import_arguments(leaf: x509.Certificate, ca: x509.Certificate, key: PrivateKey) -> dict[str, str]:
    return {"certificate_pem": to_pem([leaf]), "chain_pem": to_pem([ca]), "private_key_pem": private_key_to_pem(key)}


def p384_arguments() -> dict[str, str]:
    ca_key, key = generate_private_key("ec256"), generate_private_key("ec384")
    ca = issued("test ca", ca_key, "test ca", ca_key, ca=True, days=30, backdated_days=1)
    leaf = issued("p521.example.test", key, "test ca", ca_key, ca=False, days=30, backdated_days=1)
    return import_arguments(leaf, ca, key)


def test_acm_imports_p521_as_ec_secp521r1_finds_an_unrecorded_import_and_reimports_into_it(acm: Any) -> None:
    # Given a first import of a P-521 certificate
    ours = Acm(acm, DEPLOYMENT)
    first = ours.import_certificate("p521", **import_arguments(*p521_bundle()), existing_arn=None)
    assert acm.describe_certificate(CertificateArn=first)["Certificate"]["KeyAlgorithm"] == "EC_secp521r1"
    # When a P-384 certificate is imported to its ARN / Then refused: ACM cannot change the key type on re-import
    with pytest.raises(ImportRefused, match="holds a EC_secp521r1 key and the new certificate has EC_secp384r1"):
        ours.import_certificate("p521", **p384_arguments(), existing_arn=first)
    # When the step runs again with a new P-521 certificate and the first ARN never recorded (it died before that)
    again = ours.import_certificate("p521", **import_arguments(*p521_bundle()), existing_arn=None)
    # Then it found the first among ACM's EC_secp521r1 certificates and re-imported into it
    assert again == first
    assert len(acm.list_certificates(Includes={"keyTypes": ["EC_secp521r1"]})["CertificateSummaryList"]) == 1
    assert acm.describe_certificate(CertificateArn=first)["Certificate"]["KeyAlgorithm"] == "EC_secp521r1"
