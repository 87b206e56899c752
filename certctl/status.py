"""How `certctl status` classifies the fleet (certctl.output renders it).

`certctl status` is the fleet at a glance: one row per certificate, the most urgent first, coloured when stdout is a
terminal (and NO_COLOR is not set; certctl.terminal says how rich decides). Its urgency levels, most urgent first:

    expired   the certificate in ACM has expired, or was revoked and nothing replaces it yet
    expiring  fewer than EXPIRY_WARNING_DAYS left (the expiry alarm's default threshold) and not renewed
    failed    the last execution failed (a first issuance, or a renewal while the old certificate still serves),
              or the certificate is in ACM but its distribution to servers (SSM) failed
    overdue   renew_after has passed and no renewal is running (the next sweep starts one)
    working   an execution holds the certificate's lock (issuing or renewing now)
    ok        valid, with its renewal planned
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from certlib.notifications.events import days_until
from certlib.notifications.remedies import remedy_for
from certlib.resources import DEFAULT_EXPIRY_ALARM_DAYS

EXPIRY_WARNING_DAYS = DEFAULT_EXPIRY_ALARM_DAYS
LEVELS = ("expired", "expiring", "failed", "overdue", "working", "ok")
FAILED_STATUSES = ("failed", "renewal_failed")
WORKING_STATUSES = ("issuing", "renewing")


def json_default(value: Any) -> Any:
    """json.dumps's `default`: a Decimal as int or float, a set as a sorted list; raises TypeError for anything else."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def plain(value: Any) -> Any:
    """An inventory value (Decimals, sets) as plain JSON-able Python."""
    return json.loads(json.dumps(value, default=json_default))


def days_left(not_after: str | None, now: dt.datetime | None = None) -> int | None:
    """Whole days left (rounded down, negative once expired); None without a date."""
    days = days_until(not_after, now)
    return None if days is None else int(days // 1)


# --- status: one row per certificate ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificateStatus:
    """What `certctl status` shows of one inventory item, and what `--json` prints for it."""

    name: str
    level: str
    reason: str
    domains: list[str]
    account: str | None
    key_type: str | None
    regions: list[str]
    status: str | None
    serial: str | None
    not_before: str | None
    not_after: str | None
    days_left: int | None
    renew_after: str | None
    renew_reason: str | None
    renew_detail: str | None
    last_result: dict[str, Any] | None
    last_error: dict[str, Any] | None
    remedy: str | None
    certificate_arns: dict[str, str]
    distribution: Any
    in_progress_by: str | None
    updated_at: str | None
    fallback_accounts: list[str] = field(default_factory=list)  # tried in order when `account` fails at the CA
    issued_account: str | None = None  # the ACME account that issued the current certificate (a fallback's too)
    # who issued the current certificate: {"kind": "acme"|"private-ca", "account": alias, "ca_arn"?}; None: none yet
    issuer: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def rank(self) -> tuple[int, float, str]:
        """Level first; then fewest days left (no certificate in ACM counts as none left); then the name."""
        return (LEVELS.index(self.level), self.days_left if self.days_left is not None else 0, self.name)


def certificate_status(
    item: Mapping[str, Any], now: dt.datetime | None = None, warning_days: int = EXPIRY_WARNING_DAYS
) -> CertificateStatus:
    """One inventory item as a status row: its urgency level and why, and what to show of it."""
    item = plain(dict(item))
    now = now or dt.datetime.now(dt.UTC)
    days = days_left(item.get("not_after"), now)
    renew_after = item.get("renew_after")
    error = item.get("last_error") or None
    status = item.get("status")
    lock_owner = item.get("lock_owner") if _lock_held(item, now) else None
    distribution = _distribution_of(item)
    level, reason = _urgency(status, days, renew_after, error, lock_owner, now, warning_days)
    if level == "ok" and distribution and distribution.get("status") == "distribution_failed":
        level, reason = "failed", "in ACM, but distribution to servers failed"
    name = str(item.get("name", ""))
    domains = [str(domain) for domain in item.get("domains") or []]
    remedy = None
    if error and status in FAILED_STATUSES:
        problem = error.get("problem") or None
        remedy = remedy_for(str(error.get("error", "")), problem, name, domains, str(error.get("message", "")))
    return CertificateStatus(
        name=name,
        level=level,
        reason=reason,
        domains=domains,
        account=item.get("account"),
        key_type=item.get("key_type"),
        regions=[str(region) for region in item.get("regions") or []],
        status=status,
        serial=item.get("serial"),
        not_before=item.get("not_before"),
        not_after=item.get("not_after"),
        days_left=days,
        renew_after=renew_after,
        renew_reason=item.get("renew_reason"),
        renew_detail=item.get("renew_detail"),
        last_result=_last_result(item),
        last_error=error,
        remedy=remedy,
        certificate_arns={str(k): str(v) for k, v in (item.get("certificate_arns") or {}).items()},
        distribution=distribution,
        in_progress_by=lock_owner,
        updated_at=item.get("updated_at"),
        fallback_accounts=[str(alias) for alias in item.get("fallback_accounts") or []],
        issued_account=item.get("issued_account"),
        issuer=_issuer_of(item),
    )


def _issuer_of(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The inventory's `issued_by`; an item recorded before it was kept has an ACME certificate (or none)."""
    if item.get("issued_by"):
        return dict(item["issued_by"])
    if not item.get("serial"):
        return None
    return {"kind": "acme", "account": item.get("issued_account") or item.get("account")}


def _distribution_of(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """SSM distribution, when the certificate has one: its status and the nodes that failed."""
    spec = item.get("distribution")
    status = item.get("distribution_status")
    if not spec and not status:
        return None
    last = item.get("last_distribution") or {}
    return {
        "status": status or "pending",
        "failed": list(last.get("failed") or []),
        "succeeded": list(last.get("succeeded") or []),
        "checked_at": last.get("checked_at"),
        "profile": spec.get("profile", "(inline: run certctl migrate-distribution)")
        if isinstance(spec, Mapping)
        else None,
    }


def _lock_held(item: Mapping[str, Any], now: dt.datetime) -> bool:
    expires = item.get("lock_expires_at")
    return bool(item.get("lock_owner")) and expires is not None and int(expires) > now.timestamp()


def _urgency(
    status: str | None,
    days: int | None,
    renew_after: str | None,
    error: Mapping[str, Any] | None,
    lock_owner: str | None,
    now: dt.datetime,
    warning_days: int,
) -> tuple[str, str]:
    if status == "revoked":
        return "expired", "revoked, and no replacement running"
    if days is not None and days < 0:
        return "expired", f"expired {-days} days ago"
    if days is not None and days < warning_days:
        return "expiring", f"{days} days left, under the {warning_days}-day alarm"
    if status in FAILED_STATUSES:
        what = "renewal" if status == "renewal_failed" or days is not None else "issuance"
        where = f" in {error.get('step')}" if error and error.get("step") else ""
        return "failed", f"{what} failed{where}"
    if lock_owner:
        return "working", f"{status or 'working'} now"
    if renew_after and str(renew_after) <= now.isoformat(timespec="seconds").replace("+00:00", "Z"):
        return "overdue", "renewal due, none running"
    if status in WORKING_STATUSES and days is None:
        return "working", f"{status} (no lock: the execution ended without a result)"
    return "ok", "valid, renewal planned" if renew_after else "valid"


def _last_result(item: Mapping[str, Any]) -> dict[str, Any] | None:
    history = item.get("history") or []
    return dict(history[-1]) if history else None


def status_rows(
    items: Sequence[Mapping[str, Any]], now: dt.datetime | None = None, warning_days: int = EXPIRY_WARNING_DAYS
) -> list[CertificateStatus]:
    """Every certificate, most urgent first (by level, then fewest days left, then name)."""
    now = now or dt.datetime.now(dt.UTC)
    return sorted((certificate_status(item, now, warning_days) for item in items), key=lambda row: row.rank)


def status_document(rows: Sequence[CertificateStatus], now: dt.datetime | None = None) -> dict[str, Any]:
    """`certctl status --json`: the rows (most urgent first) and how many there are of each level."""
    counts = {level: sum(1 for row in rows if row.level == level) for level in LEVELS}
    return {
        "generated_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "summary": {"certificates": len(rows), **counts},
        "certificates": [row.to_dict() for row in rows],
    }
