"""Part 4b: the renewal sweep (certlib/renewal/, its own state machine) over large inventories.

For each size: a dry run (the index query only) and a real sweep, with the same number of certificates due.
DynamoDB read units are computed from what the query reads (moto does not account them). Then, at the largest size,
a sweep with `budget_due` certificates due (1,000) on one ACME account: it starts what the account's new-order budget
allows in the current 3 hours and defers the rest to the next sweep (issue 16, goal 6).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import time
from typing import Any

from bench import inventory_load
from bench.cost import work_of
from bench.lifecycle import ExecutionRun, execution_history, run_execution, wait_for_end
from bench.results import PartResult
from bench.sandbox import BenchSandbox, running_sandbox
from certlib.adapters.inventory import ORDER_SLOT_PREFIX, ORDER_WINDOW_SECONDS
from certlib.config import Config
from certlib.renewal.sweep import outcome_totals
from certlib.resources import (
    INVENTORY_PARTITION_KEY,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_INDEX,
    ResourceNames,
)
from certlib.utc import utc_iso

SWEEP_MODULE = "certlib.renewal.sweep"
START_GOAL_SECONDS = 5.0  # issue 16: 100 due renewals started out of 50,000 items
PASS_ONLY = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
RENEWAL_EXECUTION_PREFIX = "renew-"  # certlib.adapters.stepfunctions.execution_name("renew", ...): the sweep's starts


def sweep_available(info: dict[str, Any] | None = None) -> bool:
    """Whether the sweep exists in this checkout (and, given a sandbox's info, is deployed on it)."""
    if importlib.util.find_spec(SWEEP_MODULE) is None:
        return False
    return info is None or bool(info.get("sweep_state_machine_arn"))


def run(sizes: list[int], due: int = 100, budget_due: int = 1000) -> PartResult:
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
        _sweep(sandbox, utc_iso(inventory_load.FIRST_RENEW_AFTER), dry_run=True)  # warm-up: the handlers' first import
        loaded, load_seconds = 0, 0.0
        for size in sorted(sizes):
            load_seconds += inventory_load.load(sandbox, range(loaded, size))
            loaded = size
            _measure(result, sandbox, size, due)
        if loaded:
            _measure_without_renewal_work(result, sandbox, loaded, due)
        if budget_due and loaded >= budget_due:
            _measure_budget(result, sandbox, loaded, budget_due)
        result.add(
            "loading the inventory into moto",
            f"{loaded:,} in {load_seconds:.0f} s",
            note=f"{loaded / load_seconds:,.0f} items/s with batch_write_item: what the sandbox costs, not DynamoDB",
        )
    return result


def _measure(result: PartResult, sandbox: BenchSandbox, size: int, due: int) -> None:
    now = utc_iso(inventory_load.renew_after(due - 1) + dt.timedelta(seconds=30))
    dry = _sweep(sandbox, now, dry_run=True)
    _clear_order_budget(sandbox)  # each size starts with the account's whole budget
    real = _sweep(sandbox, now, dry_run=False)
    outcomes = outcome_totals(real.output)
    started = started_executions(sandbox, real)
    renewals = [str(execution["executionArn"]) for execution in started]
    last_start = _last_start_seconds(sandbox, real, started)
    ended = [_end_of(wait_for_end(sandbox, arn)) for arn in renewals]
    work = work_of(execution_history(sandbox, real.execution_arn), ResourceNames(sandbox.prefix))
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
        f"+ 1 RCU per due item (strongly consistent BatchGetItem, 100 a call); the renewals it started ended: "
        f"{_tally(ended)} "
        "(by design: fleet names are in no hosted zone)",
    )
    _add_last_start(
        result,
        f"{size:,} items: last of {len(renewals)} renewals started",
        last_start,
        f"from the sweep's start to the last renewal's startDate; {work.invocation_count} Lambda invocations, "
        f"{work.transitions} state transitions",
    )
    result.figures[str(size)] = {
        "last_start_seconds": last_start,
        "work": {
            "transitions": work.transitions,
            "gb_seconds": work.gb_seconds,
            "invocations": work.invocation_count,
            "due": dry.output.get("due"),
        },
        "dry_run_seconds": dry.seconds,
        "sweep_seconds": real.seconds,
        "due": dry.output.get("due"),
        "outcomes": outcomes,
        "query_read_units": query_units,
        "scan_read_units": scan_units,
    }


def _measure_without_renewal_work(result: PartResult, sandbox: BenchSandbox, size: int, due: int) -> None:
    """The same sweep with the lifecycle made one Pass state for the time of it: what is left is the sweep's own
    work (and moto's per-start cost); the difference is the sandbox running the renewals it started in its own
    process, as AWS does not."""
    lifecycle_arn = str(sandbox.info["state_machine_arn"])
    definition = sandbox.stepfunctions.describe_state_machine(stateMachineArn=lifecycle_arn)["definition"]
    now = utc_iso(inventory_load.renew_after(due - 1) + dt.timedelta(seconds=30))
    _clear_order_budget(sandbox)
    sandbox.stepfunctions.update_state_machine(stateMachineArn=lifecycle_arn, definition=json.dumps(PASS_ONLY))
    try:
        run = _sweep(sandbox, now, dry_run=False)
        started = started_executions(sandbox, run)
        for execution in started:
            wait_for_end(sandbox, str(execution["executionArn"]))
    finally:
        sandbox.stepfunctions.update_state_machine(stateMachineArn=lifecycle_arn, definition=definition)
    _unqueue(sandbox, [inventory_load.item_name(index) for index in range(due)])
    last_start = _last_start_seconds(sandbox, run, started)
    if not run.succeeded:
        result.failures.append(f"{size:,} items, lifecycle a Pass state: sweep {run.describe_failure()}")
    _add_last_start(
        result,
        f"{size:,} items: last of {len(started)} started, renewals doing nothing",
        last_start,
        "the lifecycle made one Pass state for this sweep: the sweep's own calls and moto's per-start cost; the "
        "rest of the row above is the sandbox running the started renewals in its own process (on AWS they run "
        "elsewhere)",
    )
    result.figures[f"{size}-renewals-idle"] = {"last_start_seconds": last_start, "started": len(started)}


def _add_last_start(result: PartResult, metric: str, last_start: float, note: str) -> None:
    """A row of the seconds from the sweep's start to the last renewal's start, against START_GOAL_SECONDS."""
    verdict = f"{'PASS' if last_start < START_GOAL_SECONDS else 'MISS'} < {START_GOAL_SECONDS:g} s"
    result.add(metric, f"{last_start:.2f} s", verdict=verdict, note=note)


def _measure_budget(result: PartResult, sandbox: BenchSandbox, size: int, due: int) -> None:
    """`due` certificates due at once on the sandbox account: what its order budget lets the sweep start."""
    budget = _order_budget(sandbox, "sandbox")
    now = utc_iso(inventory_load.renew_after(due - 1) + dt.timedelta(seconds=30))
    _clear_order_budget(sandbox)
    run = _sweep(sandbox, now, dry_run=False)
    outcomes = outcome_totals(run.output)
    for execution in started_executions(sandbox, run):
        wait_for_end(sandbox, str(execution["executionArn"]))
    _unqueue(sandbox, [inventory_load.item_name(index) for index in range(due)])
    _clear_order_budget(sandbox)
    if not run.succeeded:
        result.failures.append(f"{size:,} items, {due:,} due: sweep {run.describe_failure()}")
    # Startable: not already queued or locked (in_progress), still due: all of them but the budget's start
    startable = outcomes.get("started", 0) + outcomes.get("deferred", 0)
    paced = outcomes.get("started", 0) == min(startable, budget)
    result.add(
        f"{due:,} due at once, one ACME account",
        f"{outcomes.get('started', 0):,} started",
        "",
        f"{'PASS' if paced else 'MISS'}: {outcomes.get('deferred', 0):,} deferred"
        + "".join(
            f", {n} {outcome}" for outcome, n in sorted(outcomes.items()) if outcome not in ("started", "deferred")
        ),
        f"budget new-orders-per-3-hours = {budget} (Let's Encrypt: 300 new orders per account per 3 hours); the "
        f"deferred stay due for the next sweep; sweep {run.seconds:.1f} s",
    )
    result.figures["budget"] = {"due": due, "budget": budget, "outcomes": outcomes, "seconds": run.seconds}


def _order_budget(sandbox: BenchSandbox, alias: str) -> int:
    """The account's new orders per 3 hours, from the deployed configuration parameter."""
    names = ResourceNames(sandbox.prefix)
    value = sandbox.ssm.get_parameter(Name=names.config_parameter)["Parameter"]["Value"]
    return Config.from_json(value).account(alias).new_orders_per_3_hours


def _clear_order_budget(sandbox: BenchSandbox) -> None:
    """Forget the new orders counted in this window and the next (each measurement starts with a whole budget)."""
    window = int(time.time()) // ORDER_WINDOW_SECONDS
    for key in (f"{ORDER_SLOT_PREFIX}sandbox/{window}", f"{ORDER_SLOT_PREFIX}sandbox/{window + 1}"):
        sandbox.dynamodb.delete_item(TableName=f"{sandbox.prefix}-inventory", Key={INVENTORY_PARTITION_KEY: {"S": key}})


def started_executions(sandbox: BenchSandbox, run: ExecutionRun) -> list[dict[str, Any]]:
    """The lifecycle executions the sweep started (list_executions: renewals started between the sweep's start and
    stop); the sweep's output names only a few a batch. Nothing else may start renewals meanwhile."""
    sweep = sandbox.stepfunctions.describe_execution(executionArn=run.execution_arn)
    started: list[dict[str, Any]] = []
    paginator = sandbox.stepfunctions.get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=str(sandbox.info["state_machine_arn"])):
        started.extend(
            dict(execution)
            for execution in page["executions"]
            if execution["name"].startswith(RENEWAL_EXECUTION_PREFIX)
            and sweep["startDate"] <= execution["startDate"] <= sweep["stopDate"]
        )
    return started


def _last_start_seconds(sandbox: BenchSandbox, run: ExecutionRun, started: list[dict[str, Any]]) -> float:
    """Seconds from the sweep's start to the startDate of the last renewal it started (moto's clock)."""
    sweep_start = sandbox.stepfunctions.describe_execution(executionArn=run.execution_arn)["startDate"]
    starts = [execution["startDate"] for execution in started]
    return max((start - sweep_start).total_seconds() for start in starts) if starts else float("nan")


def _sweep(sandbox: BenchSandbox, now: str, dry_run: bool) -> ExecutionRun:
    arn = str(sandbox.info["sweep_state_machine_arn"])
    return run_execution(sandbox, arn, {"now": now, "dry_run": dry_run}, "sweep")


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
