"""PKCS#12 files for nodes whose distribution profile asks for one (`pkcs12-path`, certlib.distribution.spec).

The file is built where the private key already is: the step that stores the certificate's bundle in Secrets Manager
(store_certificate, export_certificate) adds it to that same secret, which the nodes of the profile's access group
read with their own role (nothing new to grant). The node only decodes and writes it (ssm/distribute-certificate.yaml):
the key is never handed to a process on the node, and no password is ever a command line argument or a document
parameter. The bundle's fields:

    pkcs12            the file, base64
    pkcs12_password   its password: 48 hex characters, made once per certificate and kept across renewals, so a
                      Java or Windows service configured with it goes on reading each renewed file
    pkcs12_algorithm  "pbes2-aes-256-cbc" (PBES2, PBKDF2-SHA-256, AES-256-CBC, HMAC-SHA-256) or, for `pkcs12-legacy`,
                      "pbes1-3des-sha1" (what Java before 8u301 and Windows Server 2016 can read)
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certlib.distribution.bundle_fields import ALGORITHM_FIELD, PASSWORD_FIELD, PKCS12_FIELD
from certlib.distribution.spec import DistributionProfile
from certlib.keys import load_private_key, split_pem_chain
from certlib.observability import logger
from certlib.services import Services

MODERN = "pbes2-aes-256-cbc"
LEGACY = "pbes1-3des-sha1"
MODERN_KDF_ROUNDS = 100_000  # PBKDF2-SHA-256: about 0.1 s to open, once per service start
LEGACY_KDF_ROUNDS = 2048  # what openssl and Windows write for 3DES files


def algorithm_of(profile: DistributionProfile) -> str:
    return LEGACY if profile.pkcs12_legacy else MODERN


def build_pkcs12(friendly_name: str, certificate_pem: str, chain_pem: str, key_pem: str, password: str,
                 algorithm: str = MODERN) -> bytes:  # fmt: skip
    """The PKCS#12 file of a certificate, its chain and its key, encrypted with `password`.

    Raises ValueError for an unknown algorithm or PEM text that does not parse (never with the key or password in it).
    """
    if algorithm == MODERN:
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(MODERN_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password.encode())
        )
    elif algorithm == LEGACY:
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(LEGACY_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # noqa: S303 - the MAC those old readers check
            .build(password.encode())
        )
    else:
        raise ValueError(f"unknown PKCS#12 algorithm {algorithm!r}; known: {MODERN}, {LEGACY}")
    certificate, *rest = split_pem_chain(certificate_pem)
    chain = [*rest, *(split_pem_chain(chain_pem) if chain_pem.strip() else [])]
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(), load_private_key(key_pem), certificate, chain or None, encryption
    )


def with_pkcs12(
    name: str, bundle: Mapping[str, Any], previous: Mapping[str, Any] | None, profile: DistributionProfile | None
) -> dict[str, Any]:
    """`bundle` (certificate, chain, private_key, serial, ...) with the PKCS#12 fields the profile asks for.

    The password is the one `previous` (the bundle stored before) holds, else a new one; it is kept even when no
    file is asked for, so turning `pkcs12-path` off and on again does not change it. The file of `previous` is kept
    when it is for the same serial and algorithm (a repeated step writes the same bytes: the node sees no change).
    """
    previous = previous or {}
    result = {key: value for key, value in bundle.items() if key not in (PKCS12_FIELD, ALGORITHM_FIELD)}
    password = str(previous.get(PASSWORD_FIELD) or "")
    if profile is None or not profile.pkcs12_path:
        if password:
            result[PASSWORD_FIELD] = password
        return result
    password = password or secrets.token_hex(24)
    algorithm = algorithm_of(profile)
    same = previous.get("serial") == bundle.get("serial") and previous.get(ALGORITHM_FIELD) == algorithm
    if same and previous.get(PKCS12_FIELD):
        data = str(previous[PKCS12_FIELD])
    else:
        built = build_pkcs12(
            name, str(bundle["certificate"]), str(bundle.get("chain") or ""), str(bundle["private_key"]), password,
            algorithm,
        )  # fmt: skip
        data = base64.b64encode(built).decode()
    return {**result, PKCS12_FIELD: data, PASSWORD_FIELD: password, ALGORITHM_FIELD: algorithm}


def profile_for_bundle(services: Services, choice: Any, name: str) -> DistributionProfile | None:
    """The deployed profile of a certificate's distribution choice ({"profile": NAME}), None when there is none or it
    is not deployed (send_distribution reports that; storing the certificate goes on)."""
    profile_name = choice.get("profile") if isinstance(choice, Mapping) else None
    if not isinstance(profile_name, str):
        return None
    profile = services.config_with_profile(choice).distribution_profiles.get(profile_name)
    if profile is None:
        logger.warning("distribution profile not deployed", extra={"certificate": name, "profile": profile_name})
        return None
    return profile.for_certificate(name)
