"""When to renew a certificate, and why.

The configured time comes first: RenewBeforeDays days before expiry (30 when the account gives none, the Sectigo
connector's default), or, when those days would take more than half of the lifetime, when a third of the lifetime
is left (half, under 10 days). The CA's ARI window may only bring that time forward: when the window starts before
the configured time, a random time inside the window, never later than the configured time.

A small random jitter keeps a fleet issued together from renewing together; ARI's random point inside the CA's
window is that jitter already.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from certlib.utc import utc_iso

DEFAULT_RENEW_BEFORE_DAYS = 30  # Sectigo: "The default expiry window is 30 days."
SHORT_LIFETIME = dt.timedelta(days=10)
MAX_JITTER = dt.timedelta(hours=12)
JITTER_SHARE = 0.02  # of the lifetime, at most MAX_JITTER
# Which rule decided, as recorded in renew_reason (and in the events' schema, docs/event-schema.json).
REASONS = ("ari", "renew_before_days", "default_renew_before_days", "lifetime_fraction")


@dataclass(frozen=True)
class RenewalPlan:
    renew_after: dt.datetime
    reason: str  # one of REASONS
    detail: str  # for people: where the time comes from

    def to_item(self) -> dict[str, str]:
        return {"renew_after": utc_iso(self.renew_after), "renew_reason": self.reason, "renew_detail": self.detail}


@dataclass(frozen=True)
class AriWindow:
    """The CA's suggested renewal window for one certificate (RFC 9773)."""

    start: dt.datetime
    end: dt.datetime


def plan_renewal(
    not_before: dt.datetime,
    not_after: dt.datetime,
    renew_before_days: int | None,
    ari_window: AriWindow | None,
    rng: random.Random | None = None,
) -> RenewalPlan:
    """The configured time (module docstring), brought forward by the CA's ARI window when it starts earlier."""
    rng = rng or random.Random()  # noqa: S311 - spreading renewals, not security
    configured = configured_plan(not_before, not_after, renew_before_days, rng)
    if ari_window is None:
        return configured
    if ari_window.start >= configured.renew_after:
        detail = f"{configured.detail}; the CA's ARI window starts later ({utc_iso(ari_window.start)})"
        return RenewalPlan(configured.renew_after, configured.reason, detail)
    end = min(ari_window.end, configured.renew_after)
    when = ari_window.start + (end - ari_window.start) * rng.random()
    detail = (
        f"the CA asks for an earlier renewal: its ARI window starts {utc_iso(ari_window.start)}, before the configured "
        f"time {utc_iso(configured.renew_after)}, {configured.detail}"
    )
    return RenewalPlan(when, "ari", detail)


def configured_plan(
    not_before: dt.datetime, not_after: dt.datetime, renew_before_days: int | None, rng: random.Random
) -> RenewalPlan:
    """RenewBeforeDays (default 30) days before expiry while that is at most half of the lifetime, else 1/3 (1/2
    under 10 days) of the lifetime before expiry; minus the jitter. The lifetime is counted in whole hours, so a
    CA's "90 days minus one second" counts as 90 days."""
    lifetime = dt.timedelta(hours=round((not_after - not_before) / dt.timedelta(hours=1)))
    jitter = dt.timedelta(seconds=rng.uniform(0, min(lifetime * JITTER_SHARE, MAX_JITTER).total_seconds()))
    days = DEFAULT_RENEW_BEFORE_DAYS if renew_before_days is None else renew_before_days
    source = "RenewBeforeDays" if renew_before_days is not None else "default: the account sets no RenewBeforeDays"
    window = dt.timedelta(days=days)
    if window <= lifetime / 2:
        reason = "renew_before_days" if renew_before_days is not None else "default_renew_before_days"
        return RenewalPlan(not_after - window - jitter, reason, f"{_days(days)} before expiry ({source})")
    share = 2 if lifetime < SHORT_LIFETIME else 3
    detail = (
        f"when 1/{share} of the {_duration(lifetime)} lifetime is left: {_days(days)} before expiry ({source}) "
        f"would be more than half of it"
    )
    return RenewalPlan(not_after - lifetime / share - jitter, "lifetime_fraction", detail)


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _duration(lifetime: dt.timedelta) -> str:
    hours = round(lifetime / dt.timedelta(hours=1))
    return f"{hours}-hour" if hours < 48 else f"{round(hours / 24)}-day"
