"""ACM's "ACM Certificate Approaching Expiration" event: a safety net under the schedule and ARI.

ACM sends it daily from 45 days before expiry. A certificate of ours (found by ARN) is renewed unless a renewal
is already queued or running, or the inventory holds a certificate newer than the one the event is about (it
expires later than the event says, or was issued after the event was sent);
certificates that are not ours are left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from certlib.observability import logger
from certlib.renewal.start import begin_renewal
from certlib.services import Services
from certlib.utc import parse_utc_iso

# The event's DaysToExpiry is whole days, counted from its time: allow that rounding and a little clock skew.
SLACK = dt.timedelta(days=2)


def handle_expiry_event(event: dict[str, Any], services: Services) -> dict[str, Any]:
    arns = [str(arn) for arn in event.get("resources") or []]
    if event.get("detail-type") != "ACM Certificate Approaching Expiration" or not arns:
        return {"outcome": "ignored", "reason": "not an ACM expiry event"}
    arn = arns[0]
    name = services.inventory.name_for_arn(arn)
    item = services.inventory.get(name) if name else None
    if item is None:
        logger.info("expiry event for a certificate that is not ours", extra={"certificate_arn": arn})
        return {"outcome": "not_ours", "certificate_arn": arn}
    days = int((event.get("detail") or {}).get("DaysToExpiry", 0))
    sent_at = parse_utc_iso(str(event.get("time")))
    expiry_seen_by_acm = sent_at + dt.timedelta(days=days)
    newer_expiry = item.get("not_after") and parse_utc_iso(str(item["not_after"])) > expiry_seen_by_acm + SLACK
    issued_since = item.get("issued_at") and parse_utc_iso(str(item["issued_at"])) > sent_at
    if newer_expiry or issued_since:
        return {"name": name, "outcome": "already_renewed", "not_after": item["not_after"]}
    return {**begin_renewal(services, item, "expiry", count_order=True), "certificate_arn": arn}
