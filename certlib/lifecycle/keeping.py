"""The certificate's key and bundle, shared by the ACME and the AWS Private CA branches of the lifecycle: the pending
key made for an issuance and kept in the certificate's secret, and the checks and store of what was issued for it.
Nothing here speaks ACME (the Private CA steps do not load it: tests/unit/test_handler_imports.py).
"""

from __future__ import annotations

from dataclasses import asdict

from cryptography import x509

from certlib.distribution.pkcs12 import profile_for_bundle, with_pkcs12
from certlib.exceptions import CertificateCheckFailed
from certlib.keys import (
    PrivateKey,
    check_bundle,
    facts_of,
    generate_private_key,
    load_private_key,
    names_of,
    private_key_to_pem,
    to_pem,
)
from certlib.lifecycle.request import Request
from certlib.lifecycle.state import StoredCertificate
from certlib.renewal.revocation_sources import revocation_sources
from certlib.renewal.timing import RenewalPlan
from certlib.services import Services


def pending_private_key(request: Request, services: Services, reference: str) -> PrivateKey:
    """The certificate's pending key for `reference` (an ACME order URL, or a Private CA issuance of one execution),
    kept in the certificate's secret: the one stored for it, or a fresh one stored now. Safe to repeat."""
    stored = services.secrets.certificate(request.name)
    bundle = dict(stored.value) if stored is not None else {}
    if bundle.get("pending_order_url") == reference and bundle.get("pending_private_key"):
        return load_private_key(bundle["pending_private_key"])
    key = generate_private_key(request.key_type)
    bundle.update(pending_private_key=private_key_to_pem(key), pending_order_url=reference)
    services.secrets.put_certificate(request.name, bundle)
    return key


def keep_certificate(
    request: Request,
    services: Services,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    reference: str,
    plan: RenewalPlan,
) -> StoredCertificate:
    """Check an issued certificate against its pending key (kept for `reference`: the ACME order URL, or the Private
    CA issuance), the requested names and its chain, and store the bundle; returns the step's result (no secret;
    `ari_certificate_id` None: an ACME caller sets it).

    Raises CertificateCheckFailed. Safe to repeat: a bundle already stored for this certificate is checked and kept.
    """
    facts = facts_of(certificate)
    stored = services.secrets.certificate(request.name)
    bundle = dict(stored.value) if stored is not None else {}
    if bundle.get("pending_order_url") == reference and bundle.get("pending_private_key"):
        key_pem = str(bundle["pending_private_key"])
    elif bundle.get("serial") == facts.serial and bundle.get("private_key"):
        key_pem = str(bundle["private_key"])  # stored by an earlier try of this step
    else:
        raise CertificateCheckFailed(f"no private key is kept for {reference}: issue it again")
    check_bundle(certificate, chain, load_private_key(key_pem))
    if sorted(names_of(certificate)) != sorted(request.domains):
        raise CertificateCheckFailed(
            f"the certificate names {sorted(names_of(certificate))} differ from the requested {sorted(request.domains)}"
        )
    fresh = {
        "certificate": to_pem([certificate]),
        "chain": to_pem(chain),
        "private_key": key_pem,
        "serial": facts.serial,
        "order_url": reference,
    }
    profile = profile_for_bundle(services, request.distribution, request.name)
    secret_arn = services.secrets.put_certificate(request.name, with_pkcs12(request.name, fresh, bundle, profile))
    planned = plan.to_item()
    return StoredCertificate(
        **asdict(facts),
        secret_arn=secret_arn,
        renew_after=planned["renew_after"],
        renew_reason=planned["renew_reason"],
        renew_detail=planned["renew_detail"],
        ari_certificate_id=None,
        revocation=revocation_sources(certificate, chain[0]),
    )
