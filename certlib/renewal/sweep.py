"""The renewal sweep's two steps: find what is due (one index query), and start one renewal per certificate.

Starting is safe to repeat: a renewal is queued on its item before its execution starts, and an item that is
queued or locked is left alone, so a second sweep while executions are in flight starts nothing twice. Each ACME
account's new orders are counted against its budget per 3 hours (Let's Encrypt: 300); a certificate over budget
waits for the next sweep.

The due names go to the Map in batches of START_BATCH_SIZE. Each StartRenewal invocation reads its batch's items in
one strongly consistent BatchGetItem, counts each account's new orders for the batch in one conditional write, then
queues and starts each renewal, START_THREADS at once: two round trips per certificate (its queue mark and its
StartExecution) instead of four (issue 16, goal 6). A batch reports counts per outcome and at most RESULTS_PER_BATCH
results by name, so the sweep's output stays within Step Functions' 256 KB however many are due.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from certlib.adapters.inventory import Inventory
from certlib.observability import logger
from certlib.renewal.start import begin_renewal
from certlib.renewal.state import BatchOutcome, DueCertificates, FindDueInput, OneRenewal, RenewalBatch, RenewalResult
from certlib.services import Services
from certlib.utc import parse_utc_iso, utc_iso

START_BATCH_SIZE = 100  # names per StartRenewal invocation: one BatchGetItem (at most 100 keys) reads them all
START_THREADS = 16  # queue marks and StartExecution calls at once in one invocation; botocore retries a throttled one
RESULTS_PER_BATCH = 10  # results a batch names (errors first, then started); the others are only counted
SHOWN_FIRST = ("error", "started")


def find_due_certificates(step: FindDueInput, services: Services) -> DueCertificates:
    """The due names as of the operator's time (else the execution's start), at most the step's batch size."""
    now = utc_iso(parse_utc_iso(step.now or utc_iso()))
    names, more = services.inventory.due_for_renewal(now, step.batch_size)
    return DueCertificates.found(now, step.dry_run, names, more, START_BATCH_SIZE)


def start_renewals(batch: RenewalBatch, services: Services) -> BatchOutcome:
    """Start each name's renewal; returns how many had each outcome, and a few results by name.

    Outcomes: started, in_progress (queued or locked), deferred (its account's budget is spent), not_due, gone, and
    error: one certificate's error does not stop the others, and it stays due for the next sweep (or queued, when the
    error came after its queue mark, until the mark is stale: a lock's lifetime). Raises what the batch read raises
    (TransientError, AwsError): the Map retries the batch or reports it as one error.
    """
    return summarize(start_batch(list(batch.names), batch.now, services))


def start_renewal(one: OneRenewal, services: Services) -> RenewalResult:
    """One certificate's start_renewals result (the input of a sweep started before batches)."""
    return start_batch([one.name], one.now, services)[0]


def summarize(results: list[RenewalResult]) -> BatchOutcome:
    """Counts per outcome, and the first RESULTS_PER_BATCH results with errors, then started ones, first."""
    shown = sorted(results, key=lambda result: _rank(result.outcome))[:RESULTS_PER_BATCH]
    return BatchOutcome(dict(Counter(result.outcome for result in results)), tuple(shown))


def outcome_totals(output: dict[str, Any]) -> dict[str, int]:
    """A sweep's output: how many certificates had each outcome. A sweep's batches' counts added up, or, for a dry
    run (every due name listed, outcome "due"), its results counted."""
    if "counts" not in output:
        listed = "due" if output.get("dry_run") else "unknown"
        return dict(Counter(str(entry.get("outcome", listed)) for entry in output.get("results", [])))
    totals: Counter[str] = Counter()
    for counts in output["counts"]:
        totals.update({str(outcome): int(count) for outcome, count in counts.items()})
    return dict(totals)


def _rank(outcome: str) -> int:
    return SHOWN_FIRST.index(outcome) if outcome in SHOWN_FIRST else len(SHOWN_FIRST)


def start_batch(names: list[str], now: str, services: Services) -> list[RenewalResult]:
    """Each name's result, in the order given: not due, running or gone by one consistent read of them all; then each
    account's startable names, oldest first, as many as its budget has left (one write an account), are queued and
    started; a name found running by its queue mark gives its new order back.

    Raises what Inventory.get_many raises (TransientError, AwsError); every later error is its certificate's result.
    """
    # Built here, before the threads: creating botocore clients from one session in several threads at once is not safe.
    inventory, _, _ = services.inventory, services.lifecycle, services.config()
    items = inventory.get_many(names)
    clock = int(time.time())
    stale_before = clock - services.settings.lock_ttl_seconds
    results: dict[str, RenewalResult] = {}
    by_account: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        item = items.get(name)
        if item is None:
            results[name] = RenewalResult(name, "gone")
        elif str(item.get("renew_after", "")) > now:
            results[name] = RenewalResult(name, "not_due")
        elif Inventory.renewal_running(item, clock, stale_before):
            results[name] = RenewalResult(name, "in_progress")
        else:
            by_account.setdefault(str(item.get("account") or ""), []).append(item)
    to_start: list[tuple[str, dict[str, Any]]] = []
    for account_name, group in by_account.items():
        try:
            account = services.account(account_name or None)
            granted = inventory.take_order_slots(account.alias, account.new_orders_per_3_hours, len(group))
        except Exception as exc:  # reported per certificate; the sweep goes on with the other accounts
            results.update((str(item["name"]), _error(str(item["name"]), exc)) for item in group)
            continue
        results.update((str(item["name"]), RenewalResult(str(item["name"]), "deferred")) for item in group[granted:])
        to_start.extend((account.alias, item) for item in group[:granted])

    def start_one(item: dict[str, Any]) -> RenewalResult:
        try:
            return RenewalResult.from_dict(begin_renewal(services, item, "renew", count_order=False))
        except Exception as exc:  # reported per certificate; the sweep goes on with the others
            return _error(str(item["name"]), exc)

    unused: Counter[str] = Counter()  # orders counted for names another trigger started since the read: not placed
    with ThreadPoolExecutor(max_workers=START_THREADS) as pool:
        for (alias, _), result in zip(to_start, pool.map(start_one, [item for _, item in to_start]), strict=True):
            results[result.name] = result
            unused[alias] += result.outcome == "in_progress"
    for alias, count in unused.items():
        if not count:
            continue
        try:
            inventory.return_order_slots(alias, count)
        except Exception as exc:  # the budget stays counted: a later sweep may start fewer, never more
            logger.warning("new orders not given back", extra={"account": alias, "error": type(exc).__name__})
    return [results[name] for name in names]


def _error(name: str, exc: Exception) -> RenewalResult:
    logger.warning("renewal not started", extra={"certificate": name, "error": type(exc).__name__})
    return RenewalResult(name, "error", error=type(exc).__name__)
