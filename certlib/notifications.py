"""Our events (EventBridge) and notifications (SNS): what they say, and what an operator should do about a failure.

Every outcome becomes one event with source `acme.certificates` on the deployment's bus:

    Certificate Issued                a first certificate for a name is in ACM
    Certificate Renewed               a new certificate replaced the one in ACM (same ARN)
    Certificate Renewal Failed        an execution to issue or to renew failed (`operation` says which)
    Certificate Revoked               a certificate was revoked (by `certctl revoke`, or found revoked)
    Certificate Distribution Failed   pushing a certificate to servers (SSM) failed
    Certificate Replacement Accepted  a request with "replace": true changes a certificate's domains or ACME account

The failures, the revocations and the accepted replacements are also published to the SNS topic, as a message people
read: a subject naming the certificate, and a body with what happened (for a failure: the step, the error, the CA's
problem and what to do). docs/events.md documents
the detail of each type, and docs/event-schema.json is its JSON Schema. No event carries key material: details are
built from names, serials, dates and ARNs, and any PEM block in an error message is cut out.

Delivery is at least once: a step that is retried after emitting may emit again. `event_id` is the same for the
same outcome of the same execution, so a consumer can drop duplicates.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from certlib.adapters.events import EventBus
from certlib.adapters.sns import NotificationTopic
from certlib.exceptions import ERRORS, AcmeProblem, ConfigError, problem_of
from certlib.resources import DEFAULT_EXPIRY_ALARM_DAYS, EVENT_SOURCE

SCHEMA_VERSION = "1"
ISSUED = "Certificate Issued"
RENEWED = "Certificate Renewed"
RENEWAL_FAILED = "Certificate Renewal Failed"
REVOKED = "Certificate Revoked"
DISTRIBUTION_FAILED = "Certificate Distribution Failed"
REPLACEMENT_ACCEPTED = "Certificate Replacement Accepted"
ACCOUNT_SWITCHED = "Certificate Account Switched"  # built by certlib.lifecycle.fallback
DETAIL_TYPES = (ISSUED, RENEWED, RENEWAL_FAILED, REVOKED, DISTRIBUTION_FAILED, REPLACEMENT_ACCEPTED, ACCOUNT_SWITCHED)
# What also goes to the SNS topic: what someone has to act on, or must know about.
NOTIFIED = frozenset({RENEWAL_FAILED, REVOKED, DISTRIBUTION_FAILED, REPLACEMENT_ACCEPTED, ACCOUNT_SWITCHED})
MAX_MESSAGE_CHARACTERS = 2000
_EVENT_ID_NAMESPACE = uuid.UUID("6f1f5a4e-5b7c-4a55-9d0e-acde00000001")

# --- the CA's problem --------------------------------------------------------------------------------------------
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.DOTALL)


def problem_type_of(error: str, message: str) -> str | None:
    """The CA's problem type (e.g. "unauthorized") of a failure, or None when the error is not the CA's problem
    (certlib.exceptions.problem_of reads it back from the error the step raised)."""
    problem = problem_of(error, message)
    return problem.problem_type if problem is not None else None


def safe_text(text: str, limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    """An error message fit for an event or an e-mail: any PEM block cut out, at most `limit` characters."""
    cleaned = _PEM_BLOCK.sub("[PEM block removed]", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


# --- what to do --------------------------------------------------------------------------------------------------
_CHECK_DNS = (
    "The CA did not see the DNS-01 TXT value. Check that the names are delegated to the Route 53 hosted zone the "
    "pipeline writes to (the NS records at the registrar or parent zone match the zone's), that nothing else answers "
    "for {challenges} (no CNAME, no other zone, no split-horizon view), and that `dig TXT {first_challenge}` from "
    "outside shows our value while an issuance runs. Then retry: certctl renew --name {name} --force --wait"
)
REMEDIES: dict[str, str] = {
    "ChallengeInvalid": _CHECK_DNS,
    "OrderInvalid": (
        "The CA declared the order invalid: read the CA's problem above. A new execution makes a new order: "
        "certctl renew --name {name} --force --wait"
    ),
    "AcmeProblem": (
        "The CA refused a request: the problem type and detail above are the CA's own words (RFC 8555 section 6.7). "
        "Fix what they name, then retry: certctl renew --name {name} --force --wait"
    ),
    "AccountSecretMissing": (
        "The ACME account's EAB HMAC key is not in Secrets Manager (or the account is not registered yet). Store it "
        "with: certctl accounts push --file acme-accounts.yaml, then retry: certctl renew --name {name} --force --wait"
    ),
    "AcmeRateLimited": (
        "The CA rate-limited this ACME account and every retry was spent. Wait for the CA's window to pass (Let's "
        "Encrypt: 300 new orders per account per 3 hours, 5 certificates per identical set of names per week); "
        "renewals that use ARI are exempt. Do not force renewals meanwhile: the next sweep retries once the "
        "certificate's renew_after has passed."
    ),
    "InvalidRequest": (
        "The request was refused before anything was written or asked of the CA: fix the input as the message says "
        "(names, key type, regions, account alias) and start again."
    ),
    "ZoneNotFound": (
        "No public Route 53 hosted zone of this account holds the name. Create (and delegate) the zone, or map the "
        "name's suffix to a zone with `hosted-zones:` in acme-accounts.yaml (and allow it in the hostedZoneIds "
        "context), then deploy and retry."
    ),
    "NotPrevalidated": (
        "The account declares the name pre-validated (`prevalidated-domains`), but the CA still asks for a challenge: "
        "its validation is missing or has expired. Validate the name in the CA's portal (Sectigo: Domains in SCM), or "
        "give it a Route 53 hosted zone and take it out of `prevalidated-domains`, then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "CertificateLocked": (
        "Another execution holds this certificate's lock and is doing the work; see certctl status --name {name}. "
        "The lock of an execution that crashed expires on its own after the execution timeout."
    ),
    "ImportRefused": (
        "The import was refused, and nothing was imported. When the ARN recorded for a region is not a certificate "
        "this deployment imported for the name (it lacks our managed-by and certificate-name tags), check who put it "
        "in the inventory and remove it from the item's certificate_arns; one an earlier version imported (tagged "
        "managed-by=acme-certificates) is retagged by certctl migrate-acm-tags --apply. Otherwise, a certificate "
        "re-imported to the same ARN must keep its key type and key usages: ask for the key type it has, or issue "
        "under a new name and move the resources that use it."
    ),
    "CertificateCheckFailed": (
        "The certificate the CA returned did not match its key, the requested names or its chain. Retry once: "
        "certctl renew --name {name} --force --wait; if it happens again, check `preferred-chain` and ask the CA."
    ),
    "CertificateNotYetValid": (
        "The CA's certificate starts later than AWS's clock says it is now (the CA's clock runs ahead), and ACM "
        "refused it through every retry (about 30 minutes). Ask the CA to check its clock, then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "TransientError": (
        "A network error, throttling or a 5xx answer (from the CA or AWS) lasted through every retry. Check the CA's "
        "status page and the AWS Health Dashboard, then retry: certctl renew --name {name} --force --wait"
    ),
    "ConfigError": (
        "The deployed configuration is wrong or missing: fix acme-accounts.yaml (the CLI and the stack read it the "
        "same way), deploy again, then retry."
    ),
    "AwsError": (
        "An AWS API refused the call for good (often AccessDenied: a role without a permission, a KMS key policy, "
        "or a region that is not enabled). The message names the call; fix the permission or region and retry."
    ),
    "DnsChangePending": (
        "Route 53 did not report the TXT records INSYNC through every poll. Check the AWS Health Dashboard for "
        "Route 53 and the zone's change status, then retry: certctl renew --name {name} --force --wait"
    ),
    "OrderPending": (
        "The CA was still validating the names when every poll was spent. Check that `dig TXT {first_challenge}` from "
        "outside shows our value and the CA's status page, then retry: certctl renew --name {name} --force --wait"
    ),
    "CertificatePending": (
        "The CA accepted the order but had not issued the certificate when every poll was spent. Check the CA's status "
        "page, then retry: certctl renew --name {name} --force --wait"
    ),
    "PrivateCaCertificatePending": (
        "AWS Private CA had not issued the certificate when every poll was spent. Check that the CA is ACTIVE and not "
        "over its quotas (aws acm-pca describe-certificate-authority), then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "DistributionPending": (
        "Some nodes had not finished installing the certificate when every poll was spent: see which in "
        "certctl status --name {name}, check their SSM agent, then retry: certctl renew --name {name} --force --wait"
    ),
    "ImportFailed": (
        "ACM refused the certificate in every region; the message gives each region's error (a permission, a "
        "region that is not enabled, a quota of imported certificates). Fix it, then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "ExportRefused": (
        "ACM will not export this certificate: only private certificates requested with export enabled can be "
        "exported, not imported ones or Amazon-issued public ones. Request it again with export enabled."
    ),
    "States.Timeout": (
        "The execution ran out of time (a CA that never validated, or DNS that never became INSYNC). Look at its "
        "last states in the Step Functions console, then retry: certctl renew --name {name} --force --wait"
    ),
}
# For the CA's problems whose remedy does not depend on our error name.
PROBLEM_REMEDIES: dict[str, str] = {
    "caa": (
        'A CAA record of the name (or a parent) does not allow this CA. Add `CAA 0 issue "<the CA\'s domain>"` '
        "(for example letsencrypt.org, sectigo.com) to the zone, then retry: certctl renew --name {name} --force --wait"
    ),
    "dns": (
        "The CA's DNS lookup failed (SERVFAIL, timeout, or a broken DNSSEC chain). Check the zone's delegation and "
        "DNSSEC from outside (dig +dnssec), then retry: certctl renew --name {name} --force --wait"
    ),
    "rejectedIdentifier": (
        "The CA will not issue for one of the names (its policy, e.g. a blocked or high-risk name). Remove that name "
        "or ask the CA."
    ),
    "externalAccountRequired": (
        "The CA needs External Account Binding: add `eab-key` and `eab-hmac-key` to the account in "
        "acme-accounts.yaml, deploy, and run certctl accounts push --file acme-accounts.yaml."
    ),
    "userActionRequired": "The CA needs a person to act (e.g. accept new terms of service): read the CA's detail.",
    "badCSR": "The CA refused the CSR (often a key type or size it does not take): ask for a key type the CA accepts.",
    "unauthorized": _CHECK_DNS,
    "incorrectResponse": _CHECK_DNS,
}
DEFAULT_REMEDY = (
    "Read the error message, fix its cause, then retry: certctl renew --name {name} --force --wait. "
    "docs/operations.md lists what to do for each error."
)


def _remedy_template(error: str, problem_type: str | None) -> str:
    """The CA's problem decides for an AcmeProblem (and its subclasses) when it has a remedy of its own; otherwise
    the error's remedy, or that of the nearest class it derives from (AcmeUnavailable: TransientError's)."""
    error_class = ERRORS.get(error)
    if error_class is not None and issubclass(error_class, AcmeProblem) and problem_type in PROBLEM_REMEDIES:
        return PROBLEM_REMEDIES[problem_type]
    names = [kind.__name__ for kind in error_class.__mro__] if error_class is not None else [error]
    return next((REMEDIES[name] for name in names if name in REMEDIES), DEFAULT_REMEDY)


def remedy_for(
    error: str, problem_type: str | None, name: str | None, domains: Sequence[str] = (), message: str = ""
) -> str:
    """One paragraph: what to do about this failure, with the certificate's own names in it (the name the CA could
    not validate first, when the message says which)."""
    problem = problem_of(error, message)
    if problem is not None and problem.identifier:
        domains = [problem.identifier, *(domain for domain in domains if domain != problem.identifier)]
    template = _remedy_template(error, problem_type)
    challenges = [f"_acme-challenge.{domain.removeprefix('*.')}" for domain in domains] or ["_acme-challenge.<name>"]
    return template.format(
        name=name or "<name>",
        challenges=", ".join(dict.fromkeys(challenges)),
        first_challenge=challenges[0],
    )


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


def utc_iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def days_until(moment_iso: str | None, now: dt.datetime | None = None) -> float | None:
    """Days (with a fraction) from now to an ISO 8601 time; negative once it has passed; None without a time."""
    if not moment_iso:
        return None
    moment = dt.datetime.fromisoformat(str(moment_iso).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round((moment - (now or dt.datetime.now(dt.UTC))).total_seconds() / 86400, 2)


def execution_console_url(execution_arn: str | None) -> str | None:
    """The Step Functions console page of an execution (commercial partition only; None otherwise)."""
    parts = (execution_arn or "").split(":")
    if len(parts) < 7 or parts[1] != "aws" or parts[2] != "states" or parts[5] != "execution":
        return None
    region = parts[3]
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def closing_lines(execution: str | None, name: str) -> list[str]:
    """The lines that end every message: the execution, its console page when there is one, and the status command."""
    console_url = execution_console_url(execution)
    return [
        f"Execution:     {execution or '-'}",
        *([f"Console:       {console_url}"] if console_url else []),
        f"Status:        certctl status --name {name}",
    ]


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
    """`Certificate Renewal Failed`: an execution to issue (`renewal` False) or renew a certificate failed.

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
    detail = {
        **common_detail(RENEWAL_FAILED, deployment, {**certificate, "domains": domains}, execution, None, occurred_at),
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
    body = _failure_body(detail)
    return CertificateEvent(RENEWAL_FAILED, detail, tuple(arns.values()), subject, body)


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


def _failure_body(detail: Mapping[str, Any]) -> str:
    name = detail["name"]
    operation = "renewed" if detail["operation"] == "renew" else "issued"
    if detail["current_not_after"]:
        days = detail["days_left"]
        left = f"{int(days // 1)} days" if days is not None else "unknown"
        still = f"The certificate in ACM stays valid until {detail['current_not_after']} ({left} left)."
    else:
        still = "No certificate of this name is in ACM yet."
    lines = [
        f"The certificate {name!r} could not be {operation}.",
        "",
        f"Names:         {', '.join(detail['domains']) or '-'}",
        f"ACME account:  {detail['account'] or '-'}",
        f"Failed step:   {detail['step'] or '-'}",
        f"Error:         {detail['error']}",
        f"ACME problem:  {detail['problem_type'] or '-'}",
        f"Message:       {detail['message']}",
        "",
        still,
        "",
        "What to do:",
        f"  {detail['remedy']}",
        "",
        *closing_lines(detail["execution"], name),
    ]
    return "\n".join(lines) + "\n"


# --- sending -----------------------------------------------------------------------------------------------------
class CertificateEvents:
    """Puts our events on the bus, and publishes the ones people must hear about to the topic.

    The topic is built on first use, so steps that only emit events do not need its ARN.
    """

    def __init__(self, bus: EventBus, topic: Callable[[], NotificationTopic], deployment: str) -> None:
        self._bus = bus
        self._topic = topic
        self.deployment = deployment

    def emit(self, event: CertificateEvent) -> None:
        """Put the event on the bus, then (for failures, revocations and replacements) publish it to the topic.

        Raises TransientError when EventBridge or SNS is briefly unavailable: the state machine retries the step,
        because a lost failure notification is worse than a step run twice. AwsError when either refuses for good.
        """
        self._bus.put(EVENT_SOURCE, event.detail_type, event.detail, event.resources)
        if event.notified:
            self._topic().publish(
                event.subject,
                event.body,
                {
                    "detail_type": event.detail_type,
                    "name": str(event.detail["name"]),
                    "event_id": event.detail["event_id"],
                },
            )


# --- the `notifications:` section of acme-accounts.yaml ---------------------------------------------------------
NOTIFICATION_FIELDS = ("emails", "expiry-alarm-days")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class NotificationSettings:
    """Deploy-time settings: who the SNS topic e-mails, and the expiry alarm's threshold in days."""

    emails: tuple[str, ...] = ()
    expiry_alarm_days: int = DEFAULT_EXPIRY_ALARM_DAYS


def parse_notifications(value: Any, source: str) -> NotificationSettings:
    """The optional top-level `notifications:` mapping; raises ConfigError naming the field."""
    if value is None:
        return NotificationSettings()
    where = f"{source}: notifications"
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping with {', '.join(NOTIFICATION_FIELDS)}")
    unknown = sorted(set(map(str, value)) - set(NOTIFICATION_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; known fields: {', '.join(NOTIFICATION_FIELDS)}"
        )
    emails = value.get("emails") or []
    if isinstance(emails, str) or not isinstance(emails, list):
        raise ConfigError(f"{where}: field 'emails' must be a list of e-mail addresses")
    for email in emails:
        if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
            raise ConfigError(f"{where}: field 'emails' has {email!r}, which is not an e-mail address")
    days = value.get("expiry-alarm-days", DEFAULT_EXPIRY_ALARM_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ConfigError(
            f"{where}: field 'expiry-alarm-days' must be a whole number of days from 1 to 365, got {days!r}"
        )
    return NotificationSettings(emails=tuple(dict.fromkeys(email.strip() for email in emails)), expiry_alarm_days=days)
