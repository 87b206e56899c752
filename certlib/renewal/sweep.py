"""The renewal sweep's two steps: find what is due (one index query), and start one renewal per certificate.

Starting is safe to repeat: a renewal is queued on its item before its execution starts, and an item that is
queued or locked is left alone, so a second sweep while executions are in flight starts nothing twice. Each ACME
account's new orders are counted against its budget per 3 hours (Let's Encrypt: 300); a certificate over budget
waits for the next sweep.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from certlib.renewal.start import begin_renewal
from certlib.renewal.timing import iso, parse_iso
from certlib.runtime import Services


def find_due_certificates(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """Input {"input": {"now"?: ISO 8601, "dry_run"?: bool}, "started_at": ISO, "batch_size": N}: due names."""
    given = event.get("input") or {}
    batch_size = int(event["batch_size"])
    now = iso(parse_iso(str(given.get("now") or event.get("started_at") or iso(dt.datetime.now(dt.UTC)))))
    names, more = services.inventory.due_for_renewal(now, batch_size)
    return {
        "now": now,
        "dry_run": bool(given.get("dry_run", False)),
        "count": len(names),
        "more": more,
        "certificates": [{"name": name} for name in names],
    }


def start_renewal(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """Map item {"name", "now"}: start the certificate's renewal unless it is not due, running, or over budget."""
    name = str(event["name"])
    item = services.inventory.get(name)
    if item is None:
        return {"name": name, "outcome": "gone"}
    if str(item.get("renew_after", "")) > str(event["now"]):
        return {"name": name, "outcome": "not_due"}
    return begin_renewal(services, item, "renew")
