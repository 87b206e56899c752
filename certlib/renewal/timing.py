"""When to renew a certificate, and why: the CA's ARI window, else RenewBeforeDays, else a share of the lifetime.

A small random jitter keeps a fleet issued together from renewing together; ARI's random point inside the CA's
window is that jitter already.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

SHORT_LIFETIME = dt.timedelta(days=10)
MAX_JITTER = dt.timedelta(hours=12)
JITTER_SHARE = 0.02  # of the lifetime, at most MAX_JITTER


@dataclass(frozen=True)
class RenewalPlan:
    renew_after: dt.datetime
    reason: str  # "ari", "renew_before_days" or "lifetime_fraction"
    detail: str  # for people: where the time comes from

    def to_item(self) -> dict[str, str]:
        return {"renew_after": iso(self.renew_after), "renew_reason": self.reason, "renew_detail": self.detail}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def plan_renewal(
    not_before: dt.datetime,
    not_after: dt.datetime,
    renew_before_days: int | None,
    ari_time: dt.datetime | None,
    rng: random.Random | None = None,
) -> RenewalPlan:
    """The renewal time: the ARI time when the CA gave one, else RenewBeforeDays, else 1/3 (1/2 under 10 days) left."""
    if ari_time is not None:
        return RenewalPlan(ari_time, "ari", "a random time inside the CA's suggested renewal window (ARI)")
    rng = rng or random.Random()  # noqa: S311 - spreading renewals, not security
    lifetime = not_after - not_before
    jitter = rng.uniform(0, min(lifetime * JITTER_SHARE, MAX_JITTER).total_seconds())
    if renew_before_days is not None and dt.timedelta(days=renew_before_days) < lifetime:
        when = not_after - dt.timedelta(days=renew_before_days) - dt.timedelta(seconds=jitter)
        return RenewalPlan(when, "renew_before_days", f"{renew_before_days} days before expiry (RenewBeforeDays)")
    share = 2 if lifetime < SHORT_LIFETIME else 3
    when = not_after - lifetime / share - dt.timedelta(seconds=jitter)
    detail = f"when 1/{share} of the {lifetime.days}-day lifetime is left"
    if renew_before_days is not None:
        detail += f" (RenewBeforeDays {renew_before_days} is not shorter than the lifetime)"
    return RenewalPlan(when, "lifetime_fraction", detail)
