"""Revocation: find revoked certificates (OCSP, else CRL; ARI's window moving into the past) and replace them,
and revoke one on an operator's request (`certctl revoke`).

Every answer is checked before it is believed (revocation_answers: signature by the issuer or its delegated
responder, the certificate's own id, freshness), whatever it says; an answer not believed, or none, changes nothing.
The issuer it is checked against is kept, public, on the inventory item (`revocation.issuer_pem`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from certlib.adapters.inventory import REVOKED, STATUS
from certlib.exceptions import CertificateError, InvalidRequest
from certlib.notifications.events import revoked_event
from certlib.observability import logger
from certlib.private_ca import KIND as PRIVATE_CA_KIND
from certlib.private_ca import revocation_reason as private_ca_reason
from certlib.renewal.revocation_answers import CrlCache, revocation_status
from certlib.renewal.start import begin_renewal
from certlib.services import Services

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
    """Scheduled: ask for every active certificate's status; replace the revoked ones at once.

    Returns {"checked", "unknown" (how many had no believable answer), "revoked", "ari_due", "renewals", "problems"
    ([{"name", "reasons"}]: answers not believed, and errors)}. An error on one certificate (a malformed item, a
    failed renewal start) is reported in "problems" and the others are still checked; raises only when the inventory
    cannot be read.
    """
    report: dict[str, Any] = {"checked": 0, "unknown": 0, "revoked": [], "ari_due": [], "renewals": [], "problems": []}
    crl_cache: CrlCache = {}
    now = dt.datetime.now(dt.UTC)
    for item in services.inventory.all():
        if item.get("status") not in CHECKED_STATUSES or not item.get("serial"):
            continue
        report["checked"] += 1
        try:
            _check_one(services, item, crl_cache, now, report)
        except Exception as exc:  # one certificate's failure must not stop the check of the others
            name = item.get("name")
            logger.exception("the revocation check of a certificate failed", extra={"certificate": name})
            if name not in report["revoked"] and name not in report["ari_due"]:  # it failed before an answer
                report["unknown"] += 1
            report["problems"].append({"name": name, "reasons": [f"{type(exc).__name__}: {exc}"]})
    return report


def _check_one(
    services: Services, item: dict[str, Any], crl_cache: CrlCache, now: dt.datetime, report: dict[str, Any]
) -> None:
    """ARI first, then OCSP or CRL (revocation_answers); adds what it found to `report`. Raises what it meets."""
    if ari_says_renew_now(services, item):
        report["ari_due"].append(item["name"])
        report["renewals"].append(begin_renewal(services, item, "ari", count_order=False))
        return
    verdict = revocation_status(item, crl_cache, now)
    if verdict.reasons:
        logger.warning(
            "a revocation answer was not believed", extra={"certificate": item["name"], "reasons": verdict.reasons}
        )
        report["problems"].append({"name": item["name"], "reasons": verdict.reasons})
    if verdict.status == "unknown":
        report["unknown"] += 1
    if verdict.status != "revoked":
        return
    report["revoked"].append(item["name"])
    record_revocation(services, item, f"found revoked through {verdict.kind}", None)
    replacement = begin_renewal(services, item, "revoked", count_order=False)
    report["renewals"].append(replacement)
    announce_revocation(services, item, "unspecified", replacement, detected_by=verdict.kind.lower())


def ari_says_renew_now(services: Services, item: dict[str, Any]) -> bool:
    """The CA's ARI window has moved into the past (how CAs signal a revocation to come, RFC 9773 4.2).

    A CA without ARI, or one that does not answer now, says nothing: the OCSP/CRL check goes on.
    """
    certificate_id = item.get("ari_certificate_id")
    if not certificate_id:
        return False
    try:
        account = services.account(str(item.get("issued_account") or item.get("account")))
        info = services.acme_public(account).renewal_info_by_id(str(certificate_id))  # no account key: an open GET
    except CertificateError as exc:
        logger.warning("no renewal information from the CA", extra={"certificate": item["name"], "reason": str(exc)})
        return False
    return info is not None and info.window_start <= dt.datetime.now(dt.UTC)


def record_revocation(services: Services, item: dict[str, Any], how: str, reason: str | None) -> None:
    services.inventory.update(
        str(item["name"]),
        None,
        {STATUS: "revoked", REVOKED: {"serial": item["serial"], "how": how, "reason": reason or "unspecified"}},
        event={"event": "revoked", "serial": item["serial"], "how": how},
    )


def revoke_certificate(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """`certctl revoke`: {"name", "reason", "replace"}: revoke through ACME (or at the AWS Private CA that issued it),
    record it, and start a replacement.

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
    issued_by = item.get("issued_by") or {}
    if issued_by.get("kind") == PRIVATE_CA_KIND:  # AWS Private CA: RevokeCertificate by serial, at the CA that issued
        ca_arn = str(issued_by["ca_arn"])
        services.private_ca(ca_arn).revoke(ca_arn, str(item["serial"]), private_ca_reason(reason))
    else:
        account = services.account(str(item.get("issued_account") or item.get("account")))
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
