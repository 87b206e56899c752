"""The fleet's expiry, for the expiry alarm and the dashboard; and how long an issuance took.

`report_expiry` runs on a schedule (hourly): it reads the inventory and writes, as EMF metrics, each certificate's
days to expiry, the lowest of them, and how many certificates are under the alarm's threshold (0 included, so the
alarm can treat a missing report as a problem: the reporter itself stopped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from certlib.notifications.events import days_until
from certlib.observability import record_days_to_expiry, record_fleet_expiry
from certlib.services import Services
from certlib.utc import parse_utc_iso


@dataclass(frozen=True)
class ExpiryReport:
    certificates: int
    expiring_soon: list[str]
    min_days: float | None
    days_by_name: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "certificates": self.certificates,
            "expiring_soon": self.expiring_soon,
            "min_days": self.min_days,
            "days_by_name": self.days_by_name,
        }


def expiry_of(items: Iterable[Mapping[str, Any]], threshold_days: int, now: dt.datetime | None = None) -> ExpiryReport:
    """Days to expiry of every certificate that has one (never issued: not counted), and which are under threshold."""
    days_by_name: dict[str, float] = {}
    for item in items:
        days = days_until(item.get("not_after"), now)
        if days is not None:
            days_by_name[str(item["name"])] = days
    soon = sorted(name for name, days in days_by_name.items() if days < threshold_days)
    return ExpiryReport(
        certificates=len(days_by_name),
        expiring_soon=soon,
        min_days=min(days_by_name.values()) if days_by_name else None,
        days_by_name=days_by_name,
    )


def report_expiry(services: Services, now: dt.datetime | None = None) -> dict[str, Any]:
    """Write the fleet's expiry metrics; returns what it wrote. Raises TransientError when the inventory is unread."""
    report = expiry_of(services.inventory.all(), services.settings.expiry_alarm_days, now)
    deployment = services.settings.resource_prefix
    for name, days in sorted(report.days_by_name.items()):
        record_days_to_expiry(deployment, name, days)
    record_fleet_expiry(deployment, report.certificates, len(report.expiring_soon), report.min_days)
    return report.to_dict()


def request_started_at(item: Mapping[str, Any], lock_ttl_seconds: int) -> dt.datetime | None:
    """When the current request began: the item's `requested_at` when it has one, else when its lock was taken.

    validate_request takes the lock for lock_ttl_seconds, so the lock's expiry minus that TTL is the request time.
    """
    requested = item.get("requested_at")
    if requested:
        return parse_utc_iso(str(requested))
    expires = item.get("lock_expires_at")
    if expires is None:
        return None
    return dt.datetime.fromtimestamp(int(expires) - lock_ttl_seconds, dt.UTC)
