"""Part 4b: the renewal sweep (certlib/renewal/, its own state machine) over large inventories.

For each size: a dry run (the index query only) and a real sweep, with the same number of certificates due.
DynamoDB read units are computed from what the query reads (moto does not account them).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from typing import Any

from bench import inventory_load
from bench.lifecycle import ExecutionRun, run_execution, wait_for_end
from bench.results import PartResult
from bench.sandbox import BenchSandbox, running_sandbox
from certlib.renewal.timing import iso
from certlib.resources import RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET, RENEWAL_BUCKET_ATTRIBUTE, RENEWAL_INDEX

SWEEP_MODULE = "certlib.renewal.sweep"


def sweep_available(info: dict[str, Any] | None = None) -> bool:
    """Whether the sweep exists in this checkout (and, given a sandbox's info, is deployed on it)."""
    if importlib.util.find_spec(SWEEP_MODULE) is None:
        return False
    return info is None or bool(info.get("sweep_state_machine_arn"))


def run(sizes: list[int], due: int = 100) -> PartResult:
    result = PartResult("sweep", f"Renewal sweep over large inventories ({due} certificates due each time)")
    if not sweep_available():
        print("sweep: not available yet", file=sys.stderr)
        result.add("sweep", "not available yet", note=f"{SWEEP_MODULE} is not in this checkout")
        return result
    with running_sandbox("sweep") as sandbox:
        if not sweep_available(sandbox.info):
            print("sweep: not available yet", file=sys.stderr)
            result.add("sweep", "not available yet", note="the sandbox deploys no sweep state machine")
            return result
        _sweep(sandbox, iso(inventory_load.FIRST_RENEW_AFTER), dry_run=True)  # warm-up: the handlers' first import
        loaded, load_seconds = 0, 0.0
        for size in sorted(sizes):
            load_seconds += inventory_load.load(sandbox, range(loaded, size))
            loaded = size
            _measure(result, sandbox, size, due)
        result.add(
            "loading the inventory into moto",
            f"{loaded:,} in {load_seconds:.0f} s",
            note=f"{loaded / load_seconds:,.0f} items/s with batch_write_item: what the sandbox costs, not DynamoDB",
        )
    return result


def _measure(result: PartResult, sandbox: BenchSandbox, size: int, due: int) -> None:
    now = iso(inventory_load.renew_after(due - 1) + dt.timedelta(seconds=30))
    dry = _sweep(sandbox, now, dry_run=True)
    real = _sweep(sandbox, now, dry_run=False)
    outcomes = _outcomes(real)
    renewals = [entry["execution_arn"] for entry in real.output.get("results", []) if entry.get("execution_arn")]
    ended = [_end_of(wait_for_end(sandbox, arn)) for arn in renewals]
    _unqueue(sandbox, [str(entry["name"]) for entry in dry.output.get("results", [])])
    query_units, query_bytes = _query_read_units(sandbox, now)
    scan_units = inventory_load.read_units(size * inventory_load.item_size(inventory_load.make_item(0, "us-east-1")))
    for label, run in (("dry run", dry), ("sweep", real)):
        if not run.succeeded:
            result.failures.append(f"{size:,} items: {label} {run.describe_failure()}")
    result.add(
        f"{size:,} items: dry run (index query)",
        f"{dry.seconds:.2f} s",
        "",
        f"{dry.output.get('due')} due",
        f"query reads {query_bytes:,} B = {query_units:g} RCU; a Scan would read {scan_units:,.0f} RCU",
    )
    result.add(
        f"{size:,} items: sweep",
        f"{real.seconds:.2f} s",
        "",
        ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())),
        f"+ 1 strongly consistent GetItem (1 RCU) per due item; the renewals it started ended: {_tally(ended)} "
        "(by design: fleet names are in no hosted zone)",
    )
    result.figures[str(size)] = {
        "dry_run_seconds": dry.seconds,
        "sweep_seconds": real.seconds,
        "due": dry.output.get("due"),
        "outcomes": outcomes,
        "query_read_units": query_units,
        "scan_read_units": scan_units,
    }


def _sweep(sandbox: BenchSandbox, now: str, dry_run: bool) -> ExecutionRun:
    arn = str(sandbox.info["sweep_state_machine_arn"])
    return run_execution(sandbox, arn, {"now": now, "dry_run": dry_run}, "sweep")


def _outcomes(run: ExecutionRun) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    for entry in run.output.get("results", []):
        outcome = str(entry.get("outcome", "unknown"))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _end_of(description: dict[str, Any]) -> str:
    return f"{description['status']} {description.get('error') or ''}".strip()


def _tally(statuses: list[str]) -> str:
    return ", ".join(f"{statuses.count(status)} {status}" for status in sorted(set(statuses))) or "none"


def _unqueue(sandbox: BenchSandbox, names: list[str]) -> None:
    """Clear the queue marks the sweep set, so the next size's sweep finds the same certificates startable."""
    table = f"{sandbox.prefix}-inventory"
    for name in names:
        sandbox.dynamodb.update_item(
            TableName=table, Key={"name": {"S": name}}, UpdateExpression="REMOVE queued_at, queued_execution"
        )


def _query_read_units(sandbox: BenchSandbox, now: str) -> tuple[float, int]:
    """The sweep's query, made again: its read units (index entries are read eventually consistent) and bytes."""
    arguments: dict[str, Any] = {
        "TableName": f"{sandbox.prefix}-inventory",
        "IndexName": RENEWAL_INDEX,
        "KeyConditionExpression": "#bucket = :bucket AND #after <= :now",
        "ExpressionAttributeNames": {"#bucket": RENEWAL_BUCKET_ATTRIBUTE, "#after": RENEW_AFTER_ATTRIBUTE},
        "ExpressionAttributeValues": {":bucket": {"S": RENEWAL_BUCKET}, ":now": {"S": now}},
    }
    units, total_bytes = 0.0, 0
    while True:
        page = sandbox.dynamodb.query(**arguments)
        page_bytes = sum(inventory_load.item_size(dict(item)) for item in page.get("Items", []))
        units += inventory_load.read_units(page_bytes)
        total_bytes += page_bytes
        if "LastEvaluatedKey" not in page:
            return units, total_bytes
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
