"""The renewal sweep on its own sandbox: exactly the due certificates start, twice starts nothing twice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from certctl.aws import Target
from certlib.renewal.sweep import START_BATCH_SIZE
from certlib.renewal.timing import DEFAULT_RENEW_BEFORE_DAYS, MAX_JITTER
from certlib.resources import RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET, RENEWAL_BUCKET_ATTRIBUTE
from certlib.utc import parse_utc_iso, utc_iso
from tests.lifecycle.helpers import acm_view, certctl, issue, target_of

INVENTORY_SIZE = 300
# two StartRenewal batches: the Map's wiring (the batching itself: tests/unit/test_sweep_start.py)
DUE = START_BATCH_SIZE + 10
FIRST_RENEW_AFTER = dt.datetime(2090, 1, 1, tzinfo=dt.UTC)  # after any real certificate's window


@pytest.fixture
def sweep_sandbox(renewal_sandbox: dict[str, Any]) -> dict[str, Any]:
    return renewal_sandbox


def load_inventory(target: Target) -> None:
    """INVENTORY_SIZE items with renew_after one minute apart; their names are in no hosted zone, so their
    renewals end in the first state (quickly, writing nothing)."""
    client = target.client("dynamodb")
    table = target.names.inventory_table
    items = [
        {
            "name": {"S": f"fleet-{i:04d}"},
            "domains": {"L": [{"S": f"fleet-{i:04d}.fleet.invalid"}]},
            "account": {"S": "sandbox"},
            "key_type": {"S": "ec256"},
            "regions": {"L": [{"S": target.session.region_name}]},
            "status": {"S": "issued"},
            RENEWAL_BUCKET_ATTRIBUTE: {"S": RENEWAL_BUCKET},
            RENEW_AFTER_ATTRIBUTE: {"S": utc_iso(FIRST_RENEW_AFTER + dt.timedelta(minutes=i))},
        }
        for i in range(INVENTORY_SIZE)
    ]
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        client.batch_write_item(RequestItems={table: batch})


def sweep(info: dict[str, Any], now: dt.datetime, *extra: str) -> dict[str, Any]:
    completed = certctl(info, "sweep", "--now", utc_iso(now), "--json", *extra)
    assert completed.returncode == 0, completed.stderr
    return dict(json.loads(completed.stdout))


def started_renewals(target: Target) -> set[str]:
    names = set()
    paginator = target.stepfunctions.get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=target.lifecycle_arn):
        for execution in page["executions"]:
            if execution["name"].startswith("renew-fleet-"):
                names.add(execution["name"].split("-")[1] + "-" + execution["name"].split("-")[2])
    return names


def test_sweep_starts_exactly_the_due_ones_and_twice_starts_none_again(sweep_sandbox: dict[str, Any]) -> None:
    # Given INVENTORY_SIZE certificates whose renew_after are a minute apart
    target = target_of(sweep_sandbox)
    load_inventory(target)
    now = FIRST_RENEW_AFTER + dt.timedelta(minutes=DUE - 1, seconds=30)
    # When a dry run, then the sweep, run as of a time when the first DUE are due
    dry = sweep(sweep_sandbox, now, "--dry-run")
    first = sweep(sweep_sandbox, now)
    # Then the dry run listed them and started nothing; the sweep started exactly them
    assert (dry["due"], dry["outcomes"]) == (DUE, {"due": DUE})
    assert first["due"] == DUE
    assert first["outcomes"] == {"started": DUE}
    assert started_renewals(target) == {f"fleet-{i:04d}" for i in range(DUE)}
    # When it runs again while those renewals are queued or running
    second = sweep(sweep_sandbox, now)
    # Then it starts none of them again
    assert second["due"] == DUE
    assert "started" not in second["outcomes"]
    assert len(started_renewals(target)) == DUE


def test_a_sweep_that_finds_nothing_due_succeeds_with_no_result(sweep_sandbox: dict[str, Any]) -> None:
    # Given a time before any certificate of the sandbox is due
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    # When the daily sweep runs as of then (its Map would have no batch)
    nothing = sweep(sweep_sandbox, long_ago)
    # Then it succeeds and says nothing was due
    assert (nothing["due"], nothing["outcomes"], nothing["results"]) == (0, {}, [])


def test_time_past_the_window_renews_to_the_same_arn(sweep_sandbox: dict[str, Any]) -> None:
    # Given an issued certificate
    first = issue(sweep_sandbox, name="due-soon", domains=["due-soon.example.test"])
    assert first["status"] == "issued", first
    item = target_of(sweep_sandbox).inventory.get("due-soon") or {}
    renew_after = parse_utc_iso(str(item["renew_after"]))
    assert item["renew_reason"] == "default_renew_before_days"  # no ARI in Pebble 2.4, no RenewBeforeDays
    # When the sweep runs as of just after its renew_after (and before the fleet's)
    result = sweep(sweep_sandbox, renew_after + dt.timedelta(seconds=1))
    assert [r["name"] for r in result["results"] if r["outcome"] == "started"] == ["due-soon"]
    execution_arn = next(r["execution_arn"] for r in result["results"] if r["name"] == "due-soon")
    from certctl.executions import result_of, wait

    renewed = result_of(wait(target_of(sweep_sandbox), execution_arn, 120, None))
    # Then it was renewed: same ACM ARN, new serial, and a new renew_after planned from the new certificate
    assert renewed["status"] == "renewed", renewed
    assert renewed["certificate_arn"] == first["certificate_arn"]
    assert renewed["serial"] != first["serial"]
    assert acm_view(sweep_sandbox, renewed["certificate_arn"])["facts"].serial == renewed["serial"]
    not_before, not_after = parse_utc_iso(renewed["not_before"]), parse_utc_iso(renewed["not_after"])
    planned = not_after - dt.timedelta(days=DEFAULT_RENEW_BEFORE_DAYS)  # Pebble's 5 years: 30 days is far from half
    assert not_after - not_before > 2 * dt.timedelta(days=DEFAULT_RENEW_BEFORE_DAYS)
    assert renewed["renew_after"] != utc_iso(renew_after)
    assert planned - MAX_JITTER <= parse_utc_iso(renewed["renew_after"]) <= planned
    assert (target_of(sweep_sandbox).inventory.get("due-soon") or {})["renew_after"] == renewed["renew_after"]
