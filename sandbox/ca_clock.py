"""A CA whose clock runs ahead, for the fault plan's `clock-ahead` ACME fault (sandbox.faults).

Pebble's clock cannot be moved, so the certificate it sent is signed again, by a CA of the sandbox's own, with its
notBefore moved `seconds` later: the same key, names, serial and extensions, a chain that links up, and not valid
yet for that long by this machine's clock (which moto's ACM uses to refuse it, as ACM does).
"""

from __future__ import annotations

import datetime as dt
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sandbox.tls import self_signed_ca

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox CA with its clock ahead")])


@functools.cache
def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    now = dt.datetime.now(dt.UTC)
    return self_signed_ca(CA_NAME, now - dt.timedelta(days=1), now + dt.timedelta(days=3650), path_length=None)


def ahead(fullchain_pem: bytes, seconds: int) -> bytes:
    """The chain's first certificate signed again with its notBefore `seconds` later, followed by the sandbox CA."""
    leaf = x509.load_pem_x509_certificates(fullchain_pem)[0]
    key, ca = _ca()
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(CA_NAME)
        .public_key(leaf.public_key())
        .serial_number(leaf.serial_number)
        .not_valid_before(leaf.not_valid_before_utc + dt.timedelta(seconds=seconds))
        .not_valid_after(leaf.not_valid_after_utc)
    )
    for extension in leaf.extensions:
        if not isinstance(extension.value, x509.AuthorityKeyIdentifier):
            builder = builder.add_extension(extension.value, extension.critical)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
    )
    signed = builder.sign(key, hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
