"""Where a certificate's revocation status can be asked (OCSP, CRL), kept on its inventory item at issuance.

With the issuer's hashes, the issuer itself and the certificate stored too (all public), the revocation check builds
an OCSP request and verifies the answer's signature, and `certctl revoke` names the certificate to the CA, without
reading the bundle's secret: the roles of those functions cannot read any private key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID


def revocation_sources(certificate: x509.Certificate, issuer: x509.Certificate) -> dict[str, Any]:
    """The REVOCATION_FIELDS (certlib.adapters.inventory) of a certificate issued by `issuer`."""
    pem = serialization.Encoding.PEM
    return {
        "certificate_pem": certificate.public_bytes(pem).decode(),
        "issuer_pem": issuer.public_bytes(pem).decode(),
        "ocsp_url": _ocsp_url(certificate),
        "crl_urls": _crl_urls(certificate),
        "issuer_name_hash": hashlib.sha1(issuer.subject.public_bytes()).hexdigest(),  # noqa: S324 - RFC 6960 CertID
        "issuer_key_hash": hashlib.sha1(_public_key_bits(issuer)).hexdigest(),  # noqa: S324 - RFC 6960 CertID
    }


def _ocsp_url(certificate: x509.Certificate) -> str | None:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for description in access:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)
    return None


def _crl_urls(certificate: x509.Certificate) -> list[str]:
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        str(name.value)
        for point in points
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


def _public_key_bits(issuer: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's contents, which RFC 6960 hashes (not the whole SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = issuer.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    raise ValueError(f"unsupported issuer key {type(key).__name__}")
