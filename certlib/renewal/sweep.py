"""The renewal sweep's two steps: find what is due (one index query), and start one renewal per certificate.

Starting is safe to repeat: a renewal is queued on its item before its execution starts, and an item that is
queued or locked is left alone, so a second sweep while executions are in flight starts nothing twice. Each ACME
account's new orders are counted against its budget per 3 hours (Let's Encrypt: 300); a certificate over budget
waits for the next sweep.

The due names go to the Map in batches of START_BATCH_SIZE, and each StartRenewal invocation starts its batch with
START_THREADS at once (issue 16: one Lambda invocation and one Map iteration per certificate made a sweep of 100
take 12 s on the sandbox). Once an account's budget is spent, the rest of its batch is deferred without a write.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from certlib.observability import logger
from certlib.renewal.start import begin_renewal
from certlib.renewal.timing import iso, parse_iso
from certlib.runtime import Services

START_BATCH_SIZE = 25  # names per StartRenewal invocation (the Map runs SweepConcurrency of them at once)
START_THREADS = 8  # StartExecution calls at once in one invocation; botocore retries a throttled one


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
        "batches": [names[start : start + START_BATCH_SIZE] for start in range(0, len(names), START_BATCH_SIZE)],
    }


def start_renewals(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """Map item {"names": [...], "now"}: start_renewal for each name, START_THREADS at once; returns {"results"}.

    One certificate's error does not stop the others: it is its result ({"outcome": "error", "error"}), and the
    certificate stays due for the next sweep (or queued, when the error came after its queue mark, until the mark
    is stale: a lock's lifetime).
    """
    # Built here, before the threads: creating boto3 clients from one session in several threads at once is not safe.
    services.inventory, services.lifecycle, services.config()
    spent: set[str] = set()  # accounts whose budget ran out in this batch: their other names wait without a write
    lock = threading.Lock()

    def start_one(name: str) -> dict[str, Any]:
        try:
            return start_renewal({"name": name, "now": event["now"]}, services, spent, lock)
        except Exception as exc:  # reported per certificate; the sweep goes on with the others
            logger.warning("renewal not started", extra={"certificate": name, "error": type(exc).__name__})
            return {"name": name, "outcome": "error", "error": type(exc).__name__}

    with ThreadPoolExecutor(max_workers=START_THREADS) as pool:
        return {"results": list(pool.map(start_one, [str(name) for name in event["names"]]))}


def start_renewal(
    event: dict[str, Any], services: Services, spent: set[str] | None = None, lock: threading.Lock | None = None
) -> dict[str, Any]:
    """{"name", "now"}: start the certificate's renewal unless it is not due, running, or over budget.

    The strongly consistent read re-checks what the index (eventually consistent, keys only) said. `spent`: the
    accounts already found over budget (their certificates are deferred at once), kept under `lock`.
    """
    name = str(event["name"])
    item = services.inventory.get(name)
    if item is None:
        return {"name": name, "outcome": "gone"}
    if str(item.get("renew_after", "")) > str(event["now"]):
        return {"name": name, "outcome": "not_due"}
    account = str(item.get("account") or "")
    if spent is not None and account in spent:
        return {"name": name, "outcome": "deferred"}
    result = begin_renewal(services, item, "renew")
    if spent is not None and lock is not None and result["outcome"] == "deferred":
        with lock:
            spent.add(account)
    return result
