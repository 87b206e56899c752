"""Private keys, CSRs and the checks ACM makes on import (key matches certificate, chain links up)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from certlib.exceptions import CertificateCheckFailed
from certlib.key_types import KEY_TYPES
from certlib.utc import utc_iso

_CURVES: dict[str, ec.EllipticCurve] = {"ec256": ec.SECP256R1(), "ec384": ec.SECP384R1(), "ec521": ec.SECP521R1()}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def generate_private_key(key_type: str) -> PrivateKey:
    """A fresh key of one of KEY_TYPES; raises ValueError for another type."""
    if key_type in _CURVES:
        return ec.generate_private_key(_CURVES[key_type])
    if key_type.startswith("rsa") and key_type in KEY_TYPES:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    raise ValueError(f"unsupported key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")


def private_key_to_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_private_key(pem: str, password: bytes | None = None) -> PrivateKey:
    """An RSA or EC private key from PEM (encrypted with `password` when given).

    Raises CertificateCheckFailed for another algorithm; ValueError or TypeError for a bad PEM or password.
    """
    key = serialization.load_pem_private_key(pem.encode(), password=password)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateCheckFailed(f"unsupported private key algorithm {type(key).__name__}")
    return key


def key_type_of(public_key: object) -> str:
    """One of KEY_TYPES for an RSA or EC public or private key."""
    if isinstance(public_key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"rsa{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"ec{public_key.curve.key_size}"
    return type(public_key).__name__


def csr_pem(key: PrivateKey, domains: list[str]) -> bytes:
    """A CSR for the names, the first one that fits a CN (64 characters) as the subject CN; an empty subject when
    none fits (RFC 8555 7.4: the names are in the subjectAltName)."""
    builder = x509.CertificateSigningRequestBuilder()
    common_name = next((domain for domain in domains if len(domain) <= 64), None)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    builder = builder.subject_name(x509.Name(attributes))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in domains]), critical=False)
    # ECDSA P-521 signs with SHA-512 (RFC 5480 section 4); every other key type with SHA-256.
    hash_algorithm: hashes.SHA256 | hashes.SHA512 = hashes.SHA512() if key_type_of(key) == "ec521" else hashes.SHA256()
    return builder.sign(key, hash_algorithm).public_bytes(serialization.Encoding.PEM)


def split_pem_chain(fullchain_pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(fullchain_pem.encode())
    except ValueError as exc:
        raise CertificateCheckFailed(f"the CA sent something that is not a PEM certificate chain: {exc}") from exc


def to_pem(certificates: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


@dataclass(frozen=True)
class CertificateFacts:
    """What the inventory and the CLI show of a certificate; nothing secret."""

    serial: str  # lowercase hex, no separators
    not_before: str  # ISO 8601, UTC
    not_after: str
    domains: list[str]
    key_type: str
    issuer: str


def facts_of(certificate: x509.Certificate) -> CertificateFacts:
    return CertificateFacts(
        serial=format(certificate.serial_number, "x"),
        not_before=utc_iso(certificate.not_valid_before_utc),
        not_after=utc_iso(certificate.not_valid_after_utc),
        domains=names_of(certificate),
        key_type=key_type_of(certificate.public_key()),
        issuer=certificate.issuer.rfc4514_string(),
    )


def names_of(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in san.get_values_for_type(x509.DNSName)]


def check_bundle(certificate: x509.Certificate, chain: list[x509.Certificate], key: PrivateKey) -> None:
    """The checks ACM makes on import: the key matches the certificate and each certificate is signed by the next.

    Raises CertificateCheckFailed saying which check failed (never with key material).
    """
    if not key_matches_certificate(certificate, key):
        raise CertificateCheckFailed(
            f"the private key ({key_type_of(key)}) does not match the certificate with serial "
            f"{format(certificate.serial_number, 'x')}"
        )
    if not chain:
        raise CertificateCheckFailed("the certificate came without its intermediate chain")
    links = [certificate, *chain]
    for child, parent in itertools.pairwise(links):
        if child.issuer != parent.subject:
            raise CertificateCheckFailed(
                f"the chain does not link up: {child.subject.rfc4514_string()} is issued by "
                f"{child.issuer.rfc4514_string()}, but the next certificate is {parent.subject.rfc4514_string()}"
            )
        verify_signed_by(child, parent)


def key_matches_certificate(certificate: x509.Certificate, key: PrivateKey) -> bool:
    """Whether `key` is the private half of the certificate's public key."""
    public_key = certificate.public_key()
    if isinstance(public_key, rsa.RSAPublicKey) and isinstance(key, rsa.RSAPrivateKey):
        return public_key.public_numbers() == key.public_key().public_numbers()
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(key, ec.EllipticCurvePrivateKey):
        return public_key.public_numbers() == key.public_key().public_numbers()
    return False


def verify_signed_by(child: x509.Certificate, parent: x509.Certificate) -> None:
    """Raises CertificateCheckFailed unless `parent`'s key signed `child`."""
    verify_signature(
        parent,
        child.signature,
        child.tbs_certificate_bytes,
        child.signature_hash_algorithm,
        what=child.subject.rfc4514_string(),
    )


def verify_signature(
    signer: x509.Certificate,
    signature: bytes,
    signed_bytes: bytes,
    hash_algorithm: hashes.HashAlgorithm | None,
    what: str,
) -> None:
    """Raises CertificateCheckFailed (naming `what` and the signer) unless `signer`'s key made `signature`."""
    public_key = signer.public_key()
    if hash_algorithm is None:
        raise CertificateCheckFailed(f"{what} has an unsupported signature algorithm")
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed_bytes, ec.ECDSA(hash_algorithm))
        else:
            raise CertificateCheckFailed(f"{signer.subject.rfc4514_string()} has an unsupported key algorithm")
    except InvalidSignature:
        raise CertificateCheckFailed(f"{what} is not signed by {signer.subject.rfc4514_string()}") from None
