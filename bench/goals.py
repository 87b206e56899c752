"""Issue 16's seven goals, each beside the figure the parts of this run measured: met, not met, or not measured."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench import stats
from bench.results import PartResult

IMPORT_MEDIAN_GOAL_SECONDS = 0.150
IMPORT_MAX_GOAL_SECONDS = 0.200
ROUTE53_CALLS_PER_ZONE = 3
DYNAMODB_CALLS = 8
LATENCY_RATIO = 0.5
SWEEP_START_SECONDS = 5.0
SWEEP_SIZE = 50_000

Verdict = tuple[str, str, str]  # figure, goal, met / not met / not measured


def run(results: list[PartResult]) -> PartResult:
    parts = {result.part: result.figures for result in results}
    summary = PartResult("goals", "Issue 16: each goal beside this run's figure")
    checks: list[tuple[str, Callable[[dict[str, dict[str, Any]]], Verdict]]] = [
        ("1. ACME requests per issuance", _acme_requests),
        ("2. Route 53 calls per issuance (one zone)", _route53_calls),
        ("3. DynamoDB calls per issuance", _dynamodb_calls),
        ("4. issuance latency vs certbot", _latency),
        ("5. handler import (cold start)", _cold_start),
        ("6. sweep: 100 due of 50,000 started; 1,000 due paced", _sweep),
        ("7. AWS cost per 1,000 certificates a year", _cost),
    ]
    for name, check in checks:
        try:
            figure, goal, verdict = check(parts)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            figure, goal, verdict = "n/a", "", "not measured"
        summary.add(name, figure, "", verdict, goal)
    return summary


def _ours(parts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    runs = [run for run in parts["issuance"]["runs"] if run["tool"] == "ours" and run["succeeded"]]
    if not runs:
        raise ValueError("no successful issuance of ours")
    return runs


def _met(passed: bool) -> str:
    return "met" if passed else "NOT MET"


def _acme_requests(parts: dict[str, dict[str, Any]]) -> Verdict:
    minimum = int(parts["issuance"]["protocol_minimum"])
    counted = stats.median([sum(n for kind, n in run["acme"].items() if kind != "directory") for run in _ours(parts)])
    return stats.count(counted), f"= protocol minimum {minimum} (directory GET not counted)", _met(counted <= minimum)


def _route53_calls(parts: dict[str, dict[str, Any]]) -> Verdict:
    calls = stats.median([sum(run["route53"].values()) for run in _ours(parts)])
    return stats.count(calls), f"<= {ROUTE53_CALLS_PER_ZONE} per zone", _met(calls <= ROUTE53_CALLS_PER_ZONE)


def _dynamodb_calls(parts: dict[str, dict[str, Any]]) -> Verdict:
    calls = stats.median([run["other_aws"].get("dynamodb", 0) for run in _ours(parts)])
    return stats.count(calls), f"<= {DYNAMODB_CALLS}", _met(calls <= DYNAMODB_CALLS)


def _latency(parts: dict[str, dict[str, Any]]) -> Verdict:
    """Judged on both as processes (`certctl issue --wait` beside certbot); the execution's own time beside it."""
    runs = parts["issuance"]["runs"]
    ours = stats.median([run["seconds"] for run in runs if run["tool"] == "ours" and run["succeeded"]])
    ours_runs = [run for run in runs if run["tool"] == "ours" and run["succeeded"]]
    process = stats.median([run["process_seconds"] for run in ours_runs if run.get("process_seconds")])
    certbot = stats.median([run["seconds"] for run in runs if run["tool"] == "certbot" and run["succeeded"]])
    if math.isnan(ours) or math.isnan(certbot) or math.isnan(process):
        raise ValueError("no successful runs")
    ratio = process / certbot
    return (
        f"{ratio:.2f}x as processes ({process:.2f} s vs {certbot:.2f} s); "
        f"execution {ours / certbot:.2f}x ({ours:.2f} s)",
        f"<= {LATENCY_RATIO}x certbot",
        _met(ratio <= LATENCY_RATIO),
    )


def _cold_start(parts: dict[str, dict[str, Any]]) -> Verdict:
    imports = {step: figures["with_bytecode"] for step, figures in parts["coldstart"]["import_seconds"].items()}
    median = stats.median(list(imports.values()))
    slowest = max(imports, key=lambda step: imports[step])
    passed = median <= IMPORT_MEDIAN_GOAL_SECONDS and imports[slowest] <= IMPORT_MAX_GOAL_SECONDS
    return (
        f"median {stats.milliseconds(median)}, max {stats.milliseconds(imports[slowest])} ({slowest})",
        f"median <= {stats.milliseconds(IMPORT_MEDIAN_GOAL_SECONDS)}, "
        f"none > {stats.milliseconds(IMPORT_MAX_GOAL_SECONDS)}",
        _met(passed),
    )


def _sweep(parts: dict[str, dict[str, Any]]) -> Verdict:
    sweep = parts["sweep"]
    measured = sweep[str(SWEEP_SIZE)]
    seconds = float(measured["last_start_seconds"])
    budget = sweep["budget"]
    started, deferred = budget["outcomes"].get("started", 0), budget["outcomes"].get("deferred", 0)
    paced = started == min(started + deferred, budget["budget"])  # in_progress ones are not startable
    query_flat = all(
        figures["query_read_units"] == measured["query_read_units"]
        for key, figures in sweep.items()
        if key.isdigit() and isinstance(figures, dict)
    )
    return (
        f"{seconds:.2f} s; {budget['due']:,} due: {started} started, {deferred} deferred (budget {budget['budget']})",
        f"< {SWEEP_START_SECONDS:g} s, query read units flat in the size, starts within the budget",
        _met(seconds < SWEEP_START_SECONDS and paced and query_flat),
    )


def _cost(parts: dict[str, dict[str, Any]]) -> Verdict:
    cost = parts["cost"]
    return (
        f"${cost['per_year_usd']:,.0f} a year (${cost['first_year_usd']:,.0f} the first)",
        f"shown beside ACM exportable: ${cost['acm_exportable_usd']:,.0f} a year",
        "shown",
    )
