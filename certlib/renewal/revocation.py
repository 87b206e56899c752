"""Revocation: find revoked certificates (OCSP, else CRL; ARI's window moving into the past) and replace them,
and revoke one on an operator's request (`certctl revoke`).

A "revoked" answer is acted on only after its signature is checked against the certificate's issuer (kept in
the certificate's secret); a "good" or unreachable answer changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from certlib.exceptions import CertificateCheckFailed, CertificateError, InvalidRequest
from certlib.keys import verify_signature, verify_signed_by
from certlib.notifications import revoked_event
from certlib.observability import logger
from certlib.renewal.start import begin_renewal
from certlib.runtime import Services

HTTP_TIMEOUT_SECONDS = 10
CHECKED_STATUSES = ("issued", "renewing", "renewal_failed")
# RFC 5280 CRLReason codes that ACME's revokeCert accepts (RFC 8555 7.6).
REASON_CODES = {
    "unspecified": 0,
    "keyCompromise": 1,
    "affiliationChanged": 3,
    "superseded": 4,
    "cessationOfOperation": 5,
}


def check_revocations(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """Scheduled: ask for every active certificate's status; replace the revoked ones at once."""
    checked, unknown, revoked, started, ari_due = 0, 0, [], [], []
    crl_cache: dict[str, x509.CertificateRevocationList | None] = {}
    for item in services.inventory.all():
        if item.get("status") not in CHECKED_STATUSES or not item.get("serial"):
            continue
        checked += 1
        if ari_says_renew_now(services, item):
            ari_due.append(item["name"])
            started.append(begin_renewal(services, item, "ari", count_order=False))
            continue
        status, source = certificate_status(item, crl_cache)
        if status == "unknown":
            unknown += 1
            continue
        if status == "revoked" and revocation_is_genuine(services, item, source):
            revoked.append(item["name"])
            record_revocation(services, item, f"found revoked through {source['kind']}", None)
            replacement = begin_renewal(services, item, "revoked", count_order=False)
            started.append(replacement)
            announce_revocation(services, item, "unspecified", replacement, detected_by=source["kind"].lower())
    return {"checked": checked, "unknown": unknown, "revoked": revoked, "ari_due": ari_due, "renewals": started}


def ari_says_renew_now(services: Services, item: dict[str, Any]) -> bool:
    """The CA's ARI window has moved into the past (how CAs signal a revocation to come, RFC 9773 4.2).

    A CA without ARI, or one that does not answer now, says nothing: the OCSP/CRL check goes on.
    """
    certificate_id = item.get("ari_certificate_id")
    if not certificate_id:
        return False
    try:
        account = services.config().account(str(item.get("issued_account") or item.get("account")))
        info = services.acme_public(account).renewal_info_by_id(str(certificate_id))  # no account key: an open GET
    except CertificateError as exc:
        logger.warning("no renewal information from the CA", extra={"name": item["name"], "reason": str(exc)})
        return False
    return info is not None and info.window_start <= dt.datetime.now(dt.UTC)


def certificate_status(
    item: dict[str, Any], crl_cache: dict[str, x509.CertificateRevocationList | None]
) -> tuple[str, dict[str, Any]]:
    """("good" | "revoked" | "unknown", where the answer came from, with what is needed to verify it)."""
    sources = item.get("revocation") or {}
    serial = int(str(item["serial"]), 16)
    if sources.get("ocsp_url") and sources.get("issuer_name_hash") and sources.get("issuer_key_hash"):
        answer = _ask_ocsp(sources, serial)
        if answer is not None:
            status = "revoked" if answer.certificate_status == ocsp.OCSPCertStatus.REVOKED else "good"
            if answer.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
                status = "unknown"
            return status, {"kind": "OCSP", "response": answer}
    for url in sources.get("crl_urls") or []:
        if url not in crl_cache:
            crl_cache[url] = _fetch_crl(url)
        crl = crl_cache[url]
        if crl is not None:
            entry = crl.get_revoked_certificate_by_serial_number(serial)
            return ("revoked" if entry is not None else "good"), {"kind": "CRL", "crl": crl}
    return "unknown", {"kind": "none"}


def _ask_ocsp(sources: dict[str, Any], serial: int) -> ocsp.OCSPResponse | None:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            bytes.fromhex(sources["issuer_name_hash"]),
            bytes.fromhex(sources["issuer_key_hash"]),
            serial,
            hashes.SHA1(),  # noqa: S303 - RFC 6960's CertID hash, what responders expect
        )
        .build()
    )
    try:
        response = requests.post(
            sources["ocsp_url"],
            data=request.public_bytes(serialization.Encoding.DER),
            headers={"Content-Type": "application/ocsp-request"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        answer = ocsp.load_der_ocsp_response(response.content)
    except (requests.RequestException, ValueError) as exc:
        logger.warning("OCSP did not answer", extra={"url": sources["ocsp_url"], "reason": str(exc)})
        return None
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL or answer.serial_number != serial:
        return None
    return answer


def _fetch_crl(url: str) -> x509.CertificateRevocationList | None:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        content = response.content
        if content.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(content)
        return x509.load_der_x509_crl(content)
    except (requests.RequestException, ValueError) as exc:
        logger.warning("CRL could not be read", extra={"url": url, "reason": str(exc)})
        return None


def revocation_is_genuine(services: Services, item: dict[str, Any], source: dict[str, Any]) -> bool:
    """Check the answer's signature against the certificate's issuer (kept on the item) before acting on it."""
    issuer_pem = (item.get("revocation") or {}).get("issuer_pem")
    if not issuer_pem:
        logger.warning(
            "no issuer kept to verify a revocation answer: the certificate predates it; its next renewal keeps one",
            extra={"name": item["name"]},
        )
        return False
    issuer = x509.load_pem_x509_certificate(str(issuer_pem).encode())
    try:
        if source["kind"] == "OCSP":
            _verify_ocsp(source["response"], issuer)
        else:
            crl: x509.CertificateRevocationList = source["crl"]
            verify_signature(
                issuer, crl.signature, crl.tbs_certlist_bytes, crl.signature_hash_algorithm, what="the CRL"
            )
    except CertificateCheckFailed as exc:
        logger.warning(
            "a revocation answer failed its signature check", extra={"name": item["name"], "reason": str(exc)}
        )
        return False
    return True


def _verify_ocsp(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
    """RFC 6960 4.2.2.2: signed by the issuer itself, or by a responder certificate the issuer gave OCSPSigning."""
    signer = issuer
    for delegate in answer.certificates:
        uses = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.OCSP_SIGNING in uses:
            verify_signed_by(delegate, issuer)
            signer = delegate
    verify_signature(
        signer, answer.signature, answer.tbs_response_bytes, answer.signature_hash_algorithm, what="the OCSP response"
    )


def record_revocation(services: Services, item: dict[str, Any], how: str, reason: str | None) -> None:
    services.inventory.update(
        str(item["name"]),
        None,
        {"status": "revoked", "revoked": {"serial": item["serial"], "how": how, "reason": reason or "unspecified"}},
        event={"event": "revoked", "serial": item["serial"], "how": how},
    )


def revoke_certificate(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """`certctl revoke`: {"name", "reason", "replace"}: revoke through ACME, record it, and start a replacement.

    Raises InvalidRequest for an unknown name or reason.
    """
    name = str(event.get("name") or "")
    reason = str(event.get("reason") or "unspecified")
    if reason not in REASON_CODES:
        raise InvalidRequest(f"unknown revocation reason {reason!r}; use one of {', '.join(REASON_CODES)}")
    item = services.inventory.get(name)
    if item is None or not item.get("serial"):
        raise InvalidRequest(f"no issued certificate named {name!r} in the inventory")
    certificate_pem = (item.get("revocation") or {}).get("certificate_pem")
    if not certificate_pem:
        raise InvalidRequest(
            f"certificate {name!r} was issued before the inventory kept certificates: renew it "
            f"(certctl renew --name {name} --force --wait), then revoke the old one at the CA if it must be"
        )
    account = services.config().account(str(item.get("issued_account") or item.get("account")))
    services.acme(account).revoke(str(certificate_pem), REASON_CODES[reason])
    record_revocation(services, item, "revoked on request (certctl revoke)", reason)
    result: dict[str, Any] = {"name": name, "revoked_serial": item["serial"], "reason": reason}
    if event.get("replace", True):
        result["replacement"] = begin_renewal(services, item, "revoked", count_order=False)
    announce_revocation(services, item, reason, result.get("replacement"), detected_by="certctl revoke")
    return result


def announce_revocation(
    services: Services, item: dict[str, Any], reason: str, replacement: dict[str, Any] | None, detected_by: str
) -> None:
    """`Certificate Revoked` on EventBridge and to the notification topic (retried as TransientError if down)."""
    event = revoked_event(
        services.settings.resource_prefix,
        item,
        str(item["serial"]),
        reason,
        replacement_execution=(replacement or {}).get("execution_arn"),
        detected_by=detected_by,
    )
    services.events.emit(event)
