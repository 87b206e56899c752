"""Self-signed certificates for tests: one builder instead of a copy per test file."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def self_signed(
    common_name: str,
    *,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    serial: int | None = None,
    days: int = 30,
    backdated_days: int = 0,
    dns_name: bool = False,
) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
    """A certificate for `common_name` signed by its own key (a new P-256 key unless `key` is given), valid from
    `backdated_days` ago for `days`; with `dns_name`, the name as its subject alternative name too."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=backdated_days))
        .not_valid_after(now + dt.timedelta(days=days))
    )
    if dns_name:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    return builder.sign(key, hashes.SHA256()), key


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: CertificateIssuerPrivateKeyTypes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def issued(
    subject: str,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: str,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    *,
    ca: bool,
    days: int = 1,
    backdated_days: int = 0,
) -> x509.Certificate:
    """A certificate for `subject` (its key's public part) signed by `issuer`'s key: a CA (BasicConstraints ca) or a
    leaf with `subject` as its DNS name, valid from `backdated_days` ago for `days`."""
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=backdated_days))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())
