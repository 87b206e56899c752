"""Part 4a: renewals through the sandbox, back to back and several at once, with Pebble rejecting 5% of nonces.

Each certificate's lock allows one execution at a time, so the concurrent run gives each worker its own name.
Every failure is reported, with its error.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.acme_requests import PebbleRequestLog
from bench.lifecycle import ExecutionRun, run_lifecycle
from bench.results import PartResult
from bench.sandbox import BenchSandbox, running_sandbox
from certlib.adapters.inventory import Inventory
from certlib.adapters.stepfunctions import lifecycle_input

PEBBLE_SWITCHES = {"PEBBLE_WFE_NONCEREJECT": "5", "PEBBLE_AUTHZREUSE": "0"}


@dataclass(frozen=True)
class Batch:
    """One run of renewals."""

    runs: list[ExecutionRun]
    wall_seconds: float
    acme_requests: int

    @property
    def failures(self) -> list[ExecutionRun]:
        return [run for run in self.runs if not run.certificate_issued]

    @property
    def throughput_per_minute(self) -> float:
        return 60 * (len(self.runs) - len(self.failures)) / self.wall_seconds if self.wall_seconds else 0.0


class Fleet:
    def __init__(self, sandbox: BenchSandbox, size: int) -> None:
        self.sandbox = sandbox
        self.names = [f"fleet-{index:02d}" for index in range(size)]
        self.inventory = Inventory(sandbox.inventory_table())
        self.pebble = PebbleRequestLog(sandbox.pebble_log_path)

    def issue_all(self) -> Batch:
        """Issue every name of the fleet, all at once."""
        return self._batch(self._issue_input, [[name] for name in self.names])

    def renew(self, count: int, concurrency: int) -> Batch:
        """`count` renewals, spread over the fleet's names; `concurrency` workers, each with names of its own."""
        workers: list[list[str]] = [[] for _ in range(concurrency)]
        for index in range(count):
            workers[index % concurrency].append(self.names[index % len(self.names)])
        return self._batch(self._renewal_input, workers)

    @staticmethod
    def _issue_input(name: str) -> dict[str, Any]:
        return {"name": name, "domains": [f"{name}.example.test"]}

    def _renewal_input(self, name: str) -> dict[str, Any]:
        """What `certctl renew` starts: the request as the inventory holds it."""
        item = self.inventory.get(name)
        if item is None:
            raise LookupError(f"{name} is not in the inventory")
        return lifecycle_input(item)

    def _batch(self, input_for: Callable[[str], dict[str, Any]], workers: list[list[str]]) -> Batch:
        """Each worker runs its names one after the other; the workers run at once."""

        def work(names: list[str]) -> list[ExecutionRun]:
            return [self._run_reporting(input_for, name) for name in names]

        self.pebble.mark()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            runs = [run for worker_runs in pool.map(work, workers) for run in worker_runs]
        wall = time.monotonic() - started
        return Batch(runs, wall, sum(self.pebble.requests_since_mark().values()))

    def _run_reporting(self, input_for: Callable[[str], dict[str, Any]], name: str) -> ExecutionRun:
        """One execution; an error of the bench's own (a timeout, moto refusing a call) is a failed run too."""
        started = time.monotonic()
        try:
            return run_lifecycle(self.sandbox, input_for(name))
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"
            return ExecutionRun("", "NOT_RUN", time.monotonic() - started, {}, failure)


def run(renewals: int = 100, concurrency: int = 10) -> PartResult:
    result = PartResult("renewals", f"Renewals through the sandbox ({renewals} each run, Pebble rejects 5% of nonces)")
    with running_sandbox("renewals", **PEBBLE_SWITCHES) as sandbox:
        fleet = Fleet(sandbox, concurrency)
        issued = fleet.issue_all()
        back_to_back = fleet.renew(renewals, 1)
        concurrent = fleet.renew(renewals, concurrency)
    for label, batch in (
        (f"first issuance of {concurrency} names, at once", issued),
        ("renewals back to back", back_to_back),
        (f"renewals, {concurrency} at once", concurrent),
    ):
        _add_batch(result, label, batch)
    result.add(
        "speed-up of concurrency",
        f"{concurrent.throughput_per_minute / back_to_back.throughput_per_minute:.1f}x"
        if back_to_back.throughput_per_minute
        else "n/a",
        note=f"{concurrency} executions at once vs one at a time, same sandbox (2 cores: Pebble, moto, handlers)",
    )
    result.figures.update(
        {
            "renewals": renewals,
            "concurrency": concurrency,
            "issue": _figures_of(issued),
            "back_to_back": _figures_of(back_to_back),
            "concurrent": _figures_of(concurrent),
        }
    )
    return result


def _add_batch(result: PartResult, label: str, batch: Batch) -> None:
    seconds = [run.seconds for run in batch.runs if run.certificate_issued]
    done = len(batch.runs) - len(batch.failures)
    result.add(
        label,
        f"{done}/{len(batch.runs)} in {batch.wall_seconds:.0f} s",
        "",
        f"{len(batch.failures)} failed",
        f"{batch.throughput_per_minute:.0f}/min; latency median {stats.seconds(stats.median(seconds))}, "
        f"p95 {stats.seconds(stats.percentile(seconds, 0.95))}; "
        f"{batch.acme_requests / max(1, len(batch.runs)):.1f} ACME requests each",
    )
    for failure, times in Counter(run.describe_failure() for run in batch.failures).items():
        result.failures.append(f"{label}: {times} x {failure}")


def _figures_of(batch: Batch) -> dict[str, object]:
    return {
        "wall_seconds": batch.wall_seconds,
        "succeeded": len(batch.runs) - len(batch.failures),
        "failed": len(batch.failures),
        "throughput_per_minute": batch.throughput_per_minute,
        "latencies": [run.seconds for run in batch.runs],
        "acme_requests": batch.acme_requests,
    }
