"""Our events: their detail types and the builders of each (detail, and for the notified types the SNS subject and
body), from the lifecycle's request and result or an inventory item.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from certlib.notifications.messages import closing_lines, failure_body
from certlib.notifications.problems import problem_type_of, safe_text
from certlib.notifications.remedies import remedy_for
from certlib.utc import parse_utc_iso, utc_iso

SCHEMA_VERSION = "1"
ISSUED = "Certificate Issued"
RENEWED = "Certificate Renewed"
ISSUANCE_FAILED = "Certificate Issuance Failed"  # a first issuance (nothing of the name in ACM yet)
RENEWAL_FAILED = "Certificate Renewal Failed"
REVOKED = "Certificate Revoked"
DISTRIBUTION_FAILED = "Certificate Distribution Failed"
REPLACEMENT_ACCEPTED = "Certificate Replacement Accepted"
ACCOUNT_SWITCHED = "Certificate Account Switched"  # built by certlib.lifecycle.fallback
DETAIL_TYPES = (
    ISSUED,
    RENEWED,
    ISSUANCE_FAILED,
    RENEWAL_FAILED,
    REVOKED,
    DISTRIBUTION_FAILED,
    REPLACEMENT_ACCEPTED,
    ACCOUNT_SWITCHED,
)
# What also goes to the SNS topic: what someone has to act on, or must know about.
NOTIFIED = frozenset(
    {ISSUANCE_FAILED, RENEWAL_FAILED, REVOKED, DISTRIBUTION_FAILED, REPLACEMENT_ACCEPTED, ACCOUNT_SWITCHED}
)
_EVENT_ID_NAMESPACE = uuid.UUID("6f1f5a4e-5b7c-4a55-9d0e-acde00000001")


# --- the events --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificateEvent:
    detail_type: str
    detail: dict[str, Any]
    resources: tuple[str, ...] = ()
    subject: str = ""  # for the SNS topic: only the NOTIFIED types have one
    body: str = field(default="", repr=False)

    @property
    def notified(self) -> bool:
        return self.detail_type in NOTIFIED


def days_until(moment_iso: str | None, now: dt.datetime | None = None) -> float | None:
    """Days (with a fraction) from now to an ISO 8601 time; negative once it has passed; None without a time."""
    if not moment_iso:
        return None
    moment = parse_utc_iso(str(moment_iso))
    return round((moment - (now or dt.datetime.now(dt.UTC))).total_seconds() / 86400, 2)


def _event_id(detail_type: str, execution: str | None, name: str, serial: str | None) -> str:
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, "|".join((detail_type, execution or "", name, serial or ""))))


def common_detail(
    detail_type: str,
    deployment: str,
    certificate: Mapping[str, Any],
    execution: str | None,
    serial: str | None,
    occurred_at: str | None,
) -> dict[str, Any]:
    name = str(certificate["name"])
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": _event_id(detail_type, execution, name, serial),
        "deployment": deployment,
        "name": name,
        "domains": [str(domain) for domain in certificate.get("domains") or []],
        "account": _text_or_none(certificate.get("account")),
        "key_type": _text_or_none(certificate.get("key_type")),
        "execution": execution,
        "occurred_at": occurred_at or utc_iso(),
    }


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _arns(value: Any) -> dict[str, str]:
    return {str(region): str(arn) for region, arn in dict(value or {}).items()}


def issued_event(
    deployment: str,
    request: Mapping[str, Any],
    result: Mapping[str, Any],
    duration_seconds: float | None,
    occurred_at: str | None = None,
) -> CertificateEvent:
    """`Certificate Issued` or `Certificate Renewed` from the lifecycle's request and RecordResult's result."""
    detail_type = RENEWED if request.get("renewal") else ISSUED
    arns = _arns(result.get("certificate_arns"))
    detail = {
        **common_detail(
            detail_type, deployment, request, request.get("execution_id"), str(result["serial"]), occurred_at
        ),
        "serial": str(result["serial"]),
        "not_before": str(result["not_before"]),
        "not_after": str(result["not_after"]),
        "issuer": _text_or_none(result.get("issuer")),
        "certificate_arns": arns,
        "renew_after": _text_or_none(result.get("renew_after")),
        "renew_reason": _text_or_none(result.get("renew_reason")),
        "duration_seconds": None if duration_seconds is None else round(duration_seconds, 1),
        "failed_regions": {str(k): safe_text(str(v), 500) for k, v in dict(result.get("failed_regions") or {}).items()},
    }
    return CertificateEvent(detail_type, detail, tuple(arns.values()))


def failure_event(
    deployment: str,
    certificate: Mapping[str, Any],
    failure: Mapping[str, str],
    renewal: bool,
    execution: str | None,
    current: Mapping[str, Any] | None = None,
    occurred_at: str | None = None,
) -> CertificateEvent:
    """`Certificate Issuance Failed` (`renewal` False: a first issuance) or `Certificate Renewal Failed`: an execution
    to get a certificate failed.

    `failure` is certlib.lifecycle.failure.describe_error's {error, message, step, problem}; `current` the inventory
    item as it is now (the certificate still in ACM, if any).
    """
    current = current or {}
    name = str(certificate["name"])
    domains = [str(d) for d in certificate.get("domains") or current.get("domains") or []]
    error = failure.get("error") or "Unknown"
    problem = failure.get("problem") or problem_type_of(error, failure.get("message", ""))
    current_not_after = _text_or_none(current.get("not_after"))
    arns = _arns(current.get("certificate_arns"))
    detail_type = RENEWAL_FAILED if renewal else ISSUANCE_FAILED
    detail = {
        **common_detail(detail_type, deployment, {**certificate, "domains": domains}, execution, None, occurred_at),
        "operation": "renew" if renewal else "issue",
        "step": failure.get("step") or None,
        "error": error,
        "problem_type": problem,
        "message": safe_text(failure.get("message", "")),
        "remedy": remedy_for(error, problem, name, domains, failure.get("message", "")),
        "current_serial": _text_or_none(current.get("serial")),
        "current_not_after": current_not_after,
        "days_left": days_until(current_not_after),
        "certificate_arns": arns,
    }
    subject = f"Certificate {name}: {'renewal' if renewal else 'issuance'} failed ({error})"
    body = failure_body(detail)
    return CertificateEvent(detail_type, detail, tuple(arns.values()), subject, body)


def revoked_event(
    deployment: str,
    item: Mapping[str, Any],
    serial: str,
    reason: str,
    execution: str | None = None,
    replacement_execution: str | None = None,
    detected_by: str = "certctl revoke",
    occurred_at: str | None = None,
) -> CertificateEvent:
    """`Certificate Revoked`: call it once the CA has revoked `serial` of the inventory item `item`.

    `reason` is the RFC 5280 reason name (e.g. "keyCompromise"); `detected_by` says who found out ("certctl revoke",
    "ocsp", "crl"); `replacement_execution` is the lifecycle execution started to replace it, if any.
    """
    arns = _arns(item.get("certificate_arns"))
    detail = {
        **common_detail(REVOKED, deployment, item, execution, serial, occurred_at),
        "serial": serial,
        "reason": reason,
        "detected_by": detected_by,
        "replacement_execution": replacement_execution,
        "certificate_arns": arns,
    }
    name = str(item["name"])
    replacing = (
        f"A replacement is being issued: execution {replacement_execution}"
        if replacement_execution
        else f"Nothing replaces it yet: certctl renew --name {name} --force --wait"
    )
    lines = [
        f"The certificate {name!r} (serial {serial}) was revoked: {reason} (found by {detected_by}).",
        "",
        f"Names:    {', '.join(detail['domains'])}",
        *(f"ACM {region}: {arn}" for region, arn in sorted(arns.items())),
        "",
        replacing,
        "Clients that check revocation will refuse the revoked certificate until the replacement is in place.",
    ]
    subject = f"Certificate {name}: revoked ({reason})"
    return CertificateEvent(REVOKED, detail, tuple(arns.values()), subject, "\n".join(lines) + "\n")


def distribution_failed_event(
    deployment: str,
    item: Mapping[str, Any],
    failure: Mapping[str, str],
    targets: Sequence[str],
    execution: str | None,
    occurred_at: str | None = None,
) -> CertificateEvent:
    """`Certificate Distribution Failed`: pushing the certificate to servers (SSM Run Command) failed on `targets`."""
    name = str(item["name"])
    error = failure.get("error") or "Unknown"
    serial = _text_or_none(item.get("serial"))
    detail = {
        **common_detail(DISTRIBUTION_FAILED, deployment, item, execution, serial, occurred_at),
        "serial": serial,
        "step": failure.get("step") or None,
        "error": error,
        "message": safe_text(failure.get("message", "")),
        "targets": [str(target) for target in targets],
        "remedy": (
            "The certificate is in ACM, but these servers did not get it. Check that they are managed by SSM "
            "(online, agent running) and the command's output in the SSM console, then distribute again."
        ),
    }
    lines = [
        f"The certificate {name!r} is in ACM, but distributing it to servers failed.",
        "",
        f"Step:     {detail['step'] or '-'}",
        f"Error:    {error}",
        f"Message:  {detail['message']}",
        f"Targets:  {', '.join(detail['targets']) or '-'}",
        "",
        "What to do:",
        f"  {detail['remedy']}",
    ]
    subject = f"Certificate {name}: distribution failed ({error})"
    return CertificateEvent(DISTRIBUTION_FAILED, detail, (), subject, "\n".join(lines) + "\n")


def replacement_event(
    deployment: str,
    current: Mapping[str, Any],
    request: Mapping[str, Any],
    changed: Sequence[str],
    execution: str | None,
    occurred_at: str | None = None,
) -> CertificateEvent:
    """`Certificate Replacement Accepted`: a request with `"replace": true` changes the domains or the ACME account
    (`changed`: "domains", "account") that the inventory item `current` records to those of `request` (the validated
    request fields). ValidateRequest emits it when it accepts the request, before the inventory records the new ones.
    """
    name = str(request["name"])
    previous_domains = [str(domain) for domain in current.get("domains") or []]
    domains = [str(domain) for domain in request.get("domains") or []]
    previous_account = _text_or_none(current.get("account"))
    account = _text_or_none(request.get("account"))
    changed = [what for what in ("domains", "account") if what in changed]
    arns = _arns(current.get("certificate_arns"))
    detail = {
        **common_detail(REPLACEMENT_ACCEPTED, deployment, request, execution, None, occurred_at),
        "changed": changed,
        "previous_domains": previous_domains,
        "previous_account": previous_account,
        "added_domains": [domain for domain in domains if domain not in previous_domains],
        "removed_domains": [domain for domain in previous_domains if domain not in domains],
        "current_serial": _text_or_none(current.get("serial")),
        "certificate_arns": arns,
    }
    what = " and ".join("ACME account" if item == "account" else item for item in changed) or "binding"
    unchanged = "" if "account" in changed else " (unchanged)"
    in_acm = (
        [f"The new certificate replaces serial {detail['current_serial']} in ACM, at the same ARNs:"]
        if detail["current_serial"]
        else ["No certificate of this name is in ACM yet."]
    )
    lines = [
        f'An execution with "replace": true changes the {what} of the certificate {name!r}.',
        "",
        f"Names before:  {', '.join(previous_domains) or '-'}",
        f"Names now:     {', '.join(domains) or '-'}",
        f"  added:       {', '.join(detail['added_domains']) or '-'}",
        f"  removed:     {', '.join(detail['removed_domains']) or '-'}",
        f"ACME account:  {previous_account or '-'} -> {account or '-'}{unchanged}",
        "",
        *in_acm,
        *(f"  ACM {region}: {arn}" for region, arn in sorted(arns.items())),
        "",
        "If nobody meant to change this certificate, stop the execution before it imports the new certificate (Step "
        "Functions console), then issue it again with its former names and account and --replace.",
        "",
        *closing_lines(execution, name),
    ]
    subject = f"Certificate {name}: {what} changed (replace accepted)"
    return CertificateEvent(REPLACEMENT_ACCEPTED, detail, tuple(arns.values()), subject, "\n".join(lines) + "\n")
