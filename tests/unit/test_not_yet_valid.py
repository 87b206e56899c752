"""The import step's check that a certificate is valid already (ACM refuses one before its notBefore)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certlib.exceptions import CertificateNotYetValid
from certlib.lifecycle.certificate import check_valid_now

NOT_BEFORE = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


def certificate_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web.example.test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_BEFORE + dt.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_a_certificate_from_a_ca_clock_five_minutes_ahead_is_not_valid_yet() -> None:
    with pytest.raises(CertificateNotYetValid, match=r"valid only from 2027-03-01T12:00:00\+00:00 \(301 s from now"):
        check_valid_now(certificate_pem(), now=NOT_BEFORE - dt.timedelta(minutes=5))


def test_a_certificate_valid_from_now_is_imported() -> None:
    check_valid_now(certificate_pem(), now=NOT_BEFORE)
