"""The import checks ACM makes: key matches certificate, chain links up, key types."""

from __future__ import annotations

import pytest
from cryptography import x509

from certlib.exceptions import CertificateCheckFailed
from certlib.key_types import KEY_TYPES
from certlib.keys import (
    PrivateKey,
    check_bundle,
    csr_pem,
    facts_of,
    generate_private_key,
    key_type_of,
    load_private_key,
    private_key_to_pem,
)
from tests.certificates import issued


def certificate(subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey, ca: bool) -> x509.Certificate:
    return issued(subject, key, issuer, issuer_key, ca=ca)


@pytest.fixture(scope="module")
def chain() -> tuple[x509.Certificate, x509.Certificate, PrivateKey, PrivateKey]:
    root_key = generate_private_key("ec256")
    intermediate_key = generate_private_key("ec256")
    leaf_key = generate_private_key("ec256")
    intermediate = certificate("intermediate", intermediate_key, "root", root_key, ca=True)
    leaf = certificate("www.example.test", leaf_key, "intermediate", intermediate_key, ca=False)
    return leaf, intermediate, leaf_key, root_key


def test_good_bundle_passes(chain: tuple[x509.Certificate, x509.Certificate, PrivateKey, PrivateKey]) -> None:
    leaf, intermediate, leaf_key, _ = chain
    check_bundle(leaf, [intermediate], leaf_key)
    facts = facts_of(leaf)
    assert facts.domains == ["www.example.test"]
    assert facts.key_type == "ec256"
    assert int(facts.serial, 16) == leaf.serial_number


def test_wrong_key_is_refused(chain: tuple[x509.Certificate, x509.Certificate, PrivateKey, PrivateKey]) -> None:
    leaf, intermediate, _, other_key = chain
    with pytest.raises(CertificateCheckFailed, match="does not match the certificate"):
        check_bundle(leaf, [intermediate], other_key)


def test_chain_that_does_not_link_is_refused(
    chain: tuple[x509.Certificate, x509.Certificate, PrivateKey, PrivateKey],
) -> None:
    leaf, _, leaf_key, root_key = chain
    stranger = certificate("stranger", root_key, "root", root_key, ca=True)
    with pytest.raises(CertificateCheckFailed, match="the chain does not link up"):
        check_bundle(leaf, [stranger], leaf_key)
    forged = certificate("intermediate", root_key, "root", root_key, ca=True)
    with pytest.raises(CertificateCheckFailed, match="is not signed by"):
        check_bundle(leaf, [forged], leaf_key)
    with pytest.raises(CertificateCheckFailed, match="without its intermediate chain"):
        check_bundle(leaf, [], leaf_key)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_every_key_type_round_trips(key_type: str) -> None:
    key = generate_private_key(key_type)
    assert key_type_of(load_private_key(private_key_to_pem(key))) == key_type
    request = x509.load_pem_x509_csr(csr_pem(key, ["a.example.test", "*.a.example.test"]))
    assert request.is_signature_valid


def test_unknown_key_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported key type 'dsa1024'"):
        generate_private_key("dsa1024")
