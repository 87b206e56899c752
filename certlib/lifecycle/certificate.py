"""Steps after finalization: fetch and store the certificate, import it into ACM, record the result."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from certlib.adapters.inventory import (
    ARI_CERTIFICATE_ID,
    CERTIFICATE_ARNS,
    IMPORT_FAILURES,
    ISSUED_ACCOUNT,
    ISSUED_AT,
    ISSUED_BY,
    ISSUER,
    LAST_ERROR,
    LOCK_FIELDS,
    NOT_AFTER,
    NOT_BEFORE,
    ORDER_FIELDS,
    RENEW_DETAIL,
    RENEW_REASON,
    REVOCATION,
    REVOCATION_FIELDS,
    SECRET_ARN,
    SERIAL,
    STATUS,
)
from certlib.distribution.steps import distribution_record
from certlib.exceptions import (
    AcmeProblem,
    CertificateCheckFailed,
    CertificateNotYetValid,
    CertificatePending,
    ImportFailed,
    OrderInvalid,
    TransientError,
)
from certlib.lifecycle.failure import describe_error
from certlib.lifecycle.request import LOCKED_AT, Request
from certlib.lifecycle.state import ImportStepInput, OrderStepInput, RecordStepInput, StoredCertificate
from certlib.monitoring import request_started_at
from certlib.notifications.events import days_until, distribution_failed_event, issued_event
from certlib.observability import logger, record_days_to_expiry, record_issuance_duration
from certlib.renewal.timing import AriWindow, RenewalPlan, plan_renewal
from certlib.resources import RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET, RENEWAL_BUCKET_ATTRIBUTE
from certlib.services import Services

if TYPE_CHECKING:
    from cryptography import x509

    from certlib.adapters.acme_client import AcmeSession


def store_certificate(step: OrderStepInput, services: Services) -> StoredCertificate:
    """Download the issued certificate, check it against its key, names and chain, and store the bundle.

    Raises CertificatePending while the CA is issuing, OrderInvalid, CertificateCheckFailed. Safe to repeat: a
    bundle already stored for this order's certificate is checked and kept.
    """
    # acme, josepy and the key code (cryptography): only here, not in import_certificate and record_result (cold start)
    from certlib.adapters.acme_client import ari_certificate_id, order_status
    from certlib.keys import split_pem_chain
    from certlib.lifecycle.keeping import keep_certificate
    from certlib.lifecycle.ordering import session_for

    request = step.request
    session = session_for(step, services)
    order = session.order(step.order.url)
    if order_status(order) == "processing":
        raise CertificatePending("the CA is issuing the certificate")
    if order_status(order) != "valid" or not order.body.certificate:
        raise OrderInvalid("orderInvalid", f"the order is {order_status(order)} instead of valid: {order.body.error}")
    account = services.account(request.account)
    certificate, *chain = split_pem_chain(session.download(order.body.certificate, account.preferred_chain))
    plan = _renewal_plan(certificate, account.renew_before_days, session)
    kept = keep_certificate(request, services, certificate, chain, str(order.uri), plan)
    return replace(kept, ari_certificate_id=ari_certificate_id(certificate))


def _renewal_plan(certificate: x509.Certificate, renew_before_days: int | None, session: AcmeSession) -> RenewalPlan:
    """The configured time, brought forward by the CA's ARI window when it starts earlier; a CA that fails to answer
    ARI does not fail the issuance (the configured time applies)."""
    try:
        info = session.renewal_info(certificate)
    except (TransientError, AcmeProblem) as exc:
        logger.warning("no renewal information from the CA; the configured time applies", extra={"reason": str(exc)})
        info = None
    return plan_renewal(
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
        renew_before_days,
        AriWindow(info.window_start, info.window_end) if info is not None else None,
    )


def import_certificate(step: ImportStepInput, services: Services) -> dict[str, str]:
    """Map item {region, request, certificate}: import into one region's ACM (same ARN on renewal).

    Raises CertificateNotYetValid (retried) while the certificate's notBefore is ahead: ACM refuses it until then.
    """
    request, region = step.request, step.region
    stored = services.secrets.certificate(request.name)
    if stored is None or stored.value.get("serial") != step.certificate.serial:
        raise CertificateCheckFailed(f"the stored bundle of {request.name!r} is not the certificate just issued")
    check_valid_now(stored.value["certificate"])
    # the ARNs as this execution's lock found them (only it records ARNs while it holds the lock); an import a crash
    # or a lost answer left unrecorded is found by its tags (Acm.earlier_import)
    item = request.recorded if request.recorded is not None else services.inventory.get(request.name) or {}
    recorded = item.get(CERTIFICATE_ARNS)
    current = recorded or {}
    arn = services.acm(region).import_certificate(
        request.name,
        stored.value["certificate"],
        stored.value["chain"],
        stored.value["private_key"],
        current.get(region),
    )
    services.inventory.set_certificate_arn(
        request.name, request.execution_id, region, arn, has_arns=recorded is not None
    )
    return {"region": region, "certificate_arn": arn}


def check_valid_now(certificate_pem: str, now: dt.datetime | None = None) -> None:
    """Raises CertificateNotYetValid when the certificate's notBefore is after `now` (default: this clock's now)."""
    from cryptography import x509  # the X.509 code: in import_certificate, not in record_result (cold start)

    not_before = x509.load_pem_x509_certificate(certificate_pem.encode()).not_valid_before_utc
    now = now or dt.datetime.now(dt.UTC)
    if not_before > now:
        ahead = int((not_before - now).total_seconds()) + 1
        raise CertificateNotYetValid(
            f"the certificate is valid only from {not_before.isoformat()} ({ahead} s from now: the CA's clock runs "
            "ahead); ACM refuses it until then, so the import is retried"
        )


def split_imports(imports: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """The Map's results: ({region: ARN} imported, {region: "Error: message"} that failed after retries)."""
    arns: dict[str, str] = {}
    failures: dict[str, str] = {}
    for entry in imports:
        if entry.get("certificate_arn"):
            arns[entry["region"]] = entry["certificate_arn"]
        else:
            described = describe_error({"Error": entry.get("error"), "Cause": entry.get("cause")})
            failures[entry["region"]] = f"{described['error']}: {described['message']}"
    return arns, failures


def record_result(step: RecordStepInput, services: Services) -> dict[str, Any]:
    """Record the new certificate, release the lock, and return the execution's result."""
    request, certificate = step.request, step.certificate
    arns, failures = split_imports(list(step.imports))
    if not arns:
        raise ImportFailed(f"the certificate could not be imported into any region: {failures}")
    event = "renewed" if request.renewal else "issued"
    result = {
        "name": request.name,
        "domains": request.domains,
        "status": event,
        "serial": certificate.serial,
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "key_type": request.key_type,
        "certificate_arns": arns,
        "certificate_arn": arns.get(request.regions[0]),
        "renew_after": certificate.renew_after,
        "renew_reason": certificate.renew_reason,
        "failed_regions": failures,
    }
    _announce_result(services, request, {**result, "issuer": certificate.issuer})
    # The nodes' outcome (certlib.distribution): on the result and the item; it never fails an issuance.
    distributed, distribution_values, distribution_remove = distribution_record(
        request.distribution, step.distribution, request.execution_id
    )
    result.update(distributed)
    _announce_distribution_failure(services, request, step.distribution, {**result, "issuer": None})
    services.inventory.update(
        request.name,
        request.execution_id,
        {
            STATUS: "issued",
            SERIAL: certificate.serial,
            NOT_BEFORE: certificate.not_before,
            NOT_AFTER: certificate.not_after,
            ISSUER: certificate.issuer,
            SECRET_ARN: certificate.secret_arn,
            # when we got it (a CA may backdate not_before), to the millisecond: ACM's expiry events carry whole
            # seconds, and an event sent earlier in the same second is still about the certificate before
            ISSUED_AT: dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            ISSUED_ACCOUNT: request.account,
            ISSUED_BY: certificate.issued_by or {"kind": "acme", "account": request.account},
            RENEWAL_BUCKET_ATTRIBUTE: RENEWAL_BUCKET,
            RENEW_AFTER_ATTRIBUTE: certificate.renew_after,
            RENEW_REASON: certificate.renew_reason,
            RENEW_DETAIL: certificate.renew_detail,
            ARI_CERTIFICATE_ID: certificate.ari_certificate_id,
            # .get: a state stored by an earlier version (an execution running through an update) lacks the PEMs
            REVOCATION: {key: certificate.revocation.get(key) for key in REVOCATION_FIELDS},
            IMPORT_FAILURES: failures,
            **distribution_values,
        },
        event={"event": event, "execution": request.execution_id, "serial": certificate.serial, "failed": failures},
        remove=(*LOCK_FIELDS, *ORDER_FIELDS, LAST_ERROR, *distribution_remove),
    )
    return result


def _announce_distribution_failure(
    services: Services, request: Request, outcome: dict[str, Any] | None, result: dict[str, Any]
) -> None:
    """`Certificate Distribution Failed` (and a message to people) when some node did not get the certificate."""
    if not outcome or outcome.get("status") == "succeeded":
        return
    failed = list(outcome.get("failed") or []) or [str(outcome.get("targets") or "the targets")]
    failure = {
        "error": str(outcome.get("error") or "DistributionFailed"),
        "message": str(outcome.get("detail") or f"{len(failed)} node(s) did not take the certificate"),
        "step": "check_distribution",
    }
    item = {**request.to_dict(), "serial": result["serial"], "certificate_arns": result["certificate_arns"]}
    event = distribution_failed_event(
        services.settings.resource_prefix, item, failure, failed, request.execution_id or None
    )
    services.events.emit(event)


def _announce_result(services: Services, request: Request, result: dict[str, Any]) -> None:
    """`Certificate Issued` / `Renewed` on EventBridge, and the issuance metrics.

    Runs while the lock is still held and before the record: when the event cannot be put (TransientError), the
    retried step records and emits again, instead of a recorded certificate whose event was lost.
    """
    locked_at = (request.recorded or {}).get(LOCKED_AT)
    if isinstance(locked_at, int):
        started: dt.datetime | None = dt.datetime.fromtimestamp(locked_at, dt.UTC)
    else:  # a state from before the request carried it
        started = request_started_at(services.inventory.get(request.name) or {}, services.settings.lock_ttl_seconds)
    duration = (dt.datetime.now(dt.UTC) - started).total_seconds() if started is not None else None
    deployment = services.settings.resource_prefix
    services.events.emit(issued_event(deployment, request.to_dict(), result, duration))
    if duration is not None:
        record_issuance_duration(deployment, "renew" if request.renewal else "issue", duration)
    days = days_until(result["not_after"])
    if days is not None:
        record_days_to_expiry(deployment, request.name, days)
