"""The soak (issue 19): renewals over a fleet with faults everywhere, beside the load generator; nothing may be lost.

    python -m bench soak [--certificates 200] [--renewals 500] [--concurrency 10] [--seed 19]

A sandbox of its own with Pebble rejecting 10% of nonces (and never reusing an authorization: every renewal
validates). The fleet is issued first, without faults. Then, with the faults on:

- 5% of the functions' ACME requests fail: a connection reset, a 503 or a read timeout after the CA answered
  (the sandbox's fault plan, `probability`, seeded);
- one execution in 20 has one of its steps crash (before or after its work), the step drawn at random;
- the load generator (bench.load) runs beside it all.

Each renewal first marks its certificate due (renew_after = now), as time would; a failed renewal leaves it due, so
the renewal sweep catches up at the end (as the daily schedule would), with the ACME faults still on, until nothing
is due. Then bench.soak_checks looks at what is left (bench.soak_checks), and the counts are printed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import load, soak_checks, stats
from bench.lifecycle import ExecutionRun, run_execution, run_lifecycle, wait_for_end
from bench.results import PartResult
from bench.sandbox import BenchSandbox, running_sandbox
from bench.sweep import started_executions
from certlib.adapters.inventory import Inventory
from certlib.adapters.stepfunctions import lifecycle_input
from certlib.renewal.sweep import outcome_totals
from certlib.resources import INVENTORY_PARTITION_KEY, LIFECYCLE_STEPS, RENEW_AFTER_ATTRIBUTE
from sandbox.faults.plan import write_plan

PEBBLE_SWITCHES = {"PEBBLE_WFE_NONCEREJECT": "10", "PEBBLE_AUTHZREUSE": "0"}
ACME_FAULT_SHARE = 0.05
ACME_FAULT_KINDS = ({"fault": "reset"}, {"fault": "status", "status": 503}, {"fault": "timeout"})
CRASH_SHARE = 1 / 20
# Steps that run in every renewal (no distribution asked; the cleanup runs only after a failure).
CRASHABLE_STEPS = tuple(s for s in LIFECYCLE_STEPS if s not in ("send_distribution", "check_distribution"))
ISSUE_ATTEMPTS = 3
SWEEP_ROUNDS = 6
# Lighter than bench.load's defaults: the machine also runs Pebble, moto and every handler.
DEFAULT_LOAD_ARGS = "--cpu 1 --memory-mb 512 --spawn 1 --heavy-start 1 --io 1"


@dataclass(frozen=True)
class Record:
    """One lifecycle execution of the soak, in the order they ended for its certificate."""

    name: str
    phase: str  # issue, soak, sweep
    run: ExecutionRun
    crash_step: str | None = None

    @property
    def ok(self) -> bool:
        return self.run.certificate_issued


class SoakPlan:
    """The sandbox's fault plan: the standing ACME faults plus one crash per chosen execution (threads share it)."""

    def __init__(self, path: Path, seed: int) -> None:
        self.path = path
        self.seed = seed
        self._lock = threading.Lock()
        self._standing: list[dict[str, Any]] = []
        self._crashes: dict[str, dict[str, Any]] = {}

    def acme_faults_on(self) -> None:
        share = ACME_FAULT_SHARE / len(ACME_FAULT_KINDS)
        self._standing = [
            {"id": f"soak-acme-{kind['fault']}", "at": "acme", "times": 0, "probability": share, **kind}
            for kind in ACME_FAULT_KINDS
        ]
        self._write()

    def off(self) -> None:
        self._standing, self._crashes = [], {}
        self._write()

    @contextmanager
    def crash(self, key: str, name: str, step: str, when: str) -> Iterator[None]:
        fault = {"id": key, "at": "handler", "fault": "crash", "when": when, "step": step, "certificate": name}
        with self._lock:
            self._crashes[key] = fault
        self._write()
        try:
            yield
        finally:
            with self._lock:
                self._crashes.pop(key, None)
            self._write()

    def _write(self) -> None:
        with self._lock:
            write_plan(self.path, [*self._standing, *self._crashes.values()], seed=self.seed)


class Soak:
    def __init__(self, sandbox: BenchSandbox, certificates: int, concurrency: int, seed: int) -> None:
        self.sandbox = sandbox
        self.names = [f"soak-{index:03d}" for index in range(certificates)]
        self.concurrency = concurrency
        self.table = sandbox.inventory_table()
        self.inventory = Inventory(self.table)
        self.plan = SoakPlan(Path(sandbox.info["faults_file"]), seed)
        self.random = random.Random(seed)  # noqa: S311  (reproducible draws, not secrets)
        self.records: list[Record] = []
        self._records_lock = threading.Lock()

    def issue_fleet(self) -> None:
        """Every name issued, without faults (a name that fails is tried again, up to ISSUE_ATTEMPTS)."""

        def issue(name: str) -> None:
            for _ in range(ISSUE_ATTEMPTS):
                run = _run(self.sandbox, {"name": name, "domains": [f"{name}.example.test"]})
                self._keep(Record(name, "issue", run))
                if run.certificate_issued:
                    return

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(issue, self.names))

    def renew(self, renewals: int) -> None:
        """`renewals` renewals round the fleet, `concurrency` at once; a name belongs to one worker (its lock)."""
        plans: list[list[tuple[int, str, str | None, str]]] = [[] for _ in range(self.concurrency)]
        for index in range(renewals):
            name_index = index % len(self.names)
            crashed = self.random.random() < CRASH_SHARE
            step = self.random.choice(CRASHABLE_STEPS) if crashed else None
            when = self.random.choice(("before", "after"))
            plans[name_index % self.concurrency].append((index, self.names[name_index], step, when))

        def work(plan: list[tuple[int, str, str | None, str]]) -> None:
            for index, name, step, when in plan:
                self._mark_due(name)
                request = lifecycle_input(dict(self.inventory.get(name) or {}))
                if step is None:
                    self._keep(Record(name, "soak", _run(self.sandbox, request)))
                    continue
                with self.plan.crash(f"soak-crash-{index}", name, step, when):
                    self._keep(Record(name, "soak", _run(self.sandbox, request), f"{when} {step}"))

        self.plan.acme_faults_on()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(work, plans))

    def sweep_until_nothing_is_due(self) -> list[dict[str, Any]]:
        """Sweep rounds (ACME faults still on), each waiting for the renewals it started; what each round did."""
        rounds = []
        for _ in range(SWEEP_ROUNDS):
            now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            sweep = run_execution(self.sandbox, self.sandbox.info["sweep_state_machine_arn"], {"now": now}, "sweep")
            outcomes = outcome_totals(sweep.output) if sweep.succeeded else {}
            rounds.append({"status": sweep.status, "error": sweep.error, "outcomes": outcomes})
            started = [str(execution["executionArn"]) for execution in started_executions(self.sandbox, sweep)]
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                list(pool.map(self._follow, started))
            if sweep.succeeded and not outcomes:
                break
        return rounds

    def _follow(self, execution_arn: str) -> None:
        began = time.time()
        description = wait_for_end(self.sandbox, execution_arn)
        stop = description.get("stopDate")
        run = ExecutionRun(
            execution_arn=execution_arn,
            status=description["status"],
            seconds=(stop.timestamp() if stop else time.time()) - min(began, description["startDate"].timestamp()),
            output=json.loads(description.get("output") or "{}"),
            error=f"{description.get('error', '')} {str(description.get('cause', ''))[:200]}".strip(),
        )
        self._keep(Record(str(json.loads(description["input"])["name"]), "sweep", run))

    def _mark_due(self, name: str) -> None:
        """The certificate's renewal time has come (what the sweep's index query looks for)."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.table.update_item(
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression="SET #after = :now",
            ExpressionAttributeNames={"#after": RENEW_AFTER_ATTRIBUTE},
            ExpressionAttributeValues={":now": now},
        )

    def _keep(self, record: Record) -> None:
        with self._records_lock:
            self.records.append(record)
        mark = "ok" if record.ok else f"FAILED {record.run.describe_failure()[:160]}"
        crash = f" (crash {record.crash_step})" if record.crash_step else ""
        print(f"soak: {record.phase} {record.name}{crash}: {mark}", file=sys.stderr, flush=True)


def _run(sandbox: BenchSandbox, request: dict[str, Any]) -> ExecutionRun:
    """One execution; an error of the bench's own (a timeout, moto refusing a call) is a failed run too."""
    started = time.monotonic()
    try:
        return run_lifecycle(sandbox, request)
    except Exception as exc:
        return ExecutionRun("", "NOT_RUN", time.monotonic() - started, {}, f"{type(exc).__name__}: {exc}")


def run(
    certificates: int = 200, renewals: int = 500, concurrency: int = 10, seed: int = 19, load_args: str = ""
) -> PartResult:
    title = (
        f"Soak: {renewals} renewals over {certificates} certificates, {concurrency} at once; Pebble rejects 10% of "
        f"nonces, 5% of ACME requests fail, a step crashes in 1 execution of 20, beside the load generator"
    )
    result = PartResult("soak", title)
    generator = load.Load(load.parse((load_args or DEFAULT_LOAD_ARGS).split())[0])
    with running_sandbox("soak", **PEBBLE_SWITCHES) as sandbox:
        soak = Soak(sandbox, certificates, concurrency, seed)
        soak.issue_fleet()
        generator.start()
        started = time.monotonic()
        try:
            soak.renew(renewals)
            soak_seconds = time.monotonic() - started
            sweeps = soak.sweep_until_nothing_is_due()
        finally:
            soak.plan.off()
            generator.stop()
        found = soak_checks.check(sandbox, soak.names)
        injected = soak_checks.injected_faults(Path(sandbox.info["faults_log_file"]))
    _report(result, soak.records, found, injected, sweeps, soak_seconds)
    return result


def _report(
    result: PartResult,
    records: list[Record],
    found: soak_checks.Findings,
    injected: dict[str, Counter[str]],
    sweeps: list[dict[str, Any]],
    soak_seconds: float,
) -> None:
    renewals = [r for r in records if r.phase != "issue"]
    by_name: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_name[record.name].append(record)
    recovered: set[str] = set()
    lost = set(found.bad_names())
    for name, runs in by_name.items():
        for position, record in enumerate(runs):
            if not record.ok:
                (recovered if any(later.ok for later in runs[position + 1 :]) else lost).add(name)
    recovered -= lost
    retried = [r for r in renewals if r.ok and injected.get(r.run.execution_arn)]
    failed = [r for r in renewals if not r.ok]
    latencies = [r.run.seconds for r in renewals if r.ok]
    totals: Counter[str] = Counter()
    for kinds in injected.values():
        totals.update(kinds)
    result.add("renewals issued", f"{len(renewals) - len(failed)}/{len(renewals)}", note=f"soak {soak_seconds:.0f} s")
    result.add("  issued after an injected fault (retried)", str(len(retried)), note=_kinds(totals))
    result.add("  failed executions", str(len(failed)), note=_kinds(Counter(r.run.error.split(" ")[0] for r in failed)))
    result.add(
        "certificates failed then recovered", str(len(recovered)), note="a later execution (or the sweep) renewed"
    )
    result.add("certificates lost", str(len(lost)), verdict="PASS" if not lost else "MISS", note="must be 0")
    result.add(
        "execution latency p50 / p95",
        f"{stats.seconds(stats.median(latencies))} / {stats.seconds(stats.percentile(latencies, 0.95))}",
        note="successful renewals, StartExecution to end",
    )
    result.add("sweep rounds", str(len(sweeps)), note="; ".join(json.dumps(s["outcomes"]) for s in sweeps))
    for check, problems in found.problems.items():
        result.add(f"check: {check}", "PASS" if not problems else f"{len(problems)} MISS", note="; ".join(problems[:5]))
        result.failures.extend(f"{check}: {problem}" for problem in problems)
    result.failures.extend(f"lost: {name}" for name in sorted(lost))
    result.figures.update(
        {
            "renewals": len(renewals),
            "issued": len(renewals) - len(failed),
            "retried": len(retried),
            "failed": len(failed),
            "failed_then_recovered": len(recovered),
            "lost": len(lost),
            "latencies": latencies,
            "soak_seconds": soak_seconds,
            "injected": dict(totals),
            "crashes": sum(1 for r in renewals if r.crash_step),
            "sweeps": sweeps,
            "checks": found.problems,
        }
    )


def _kinds(counts: Counter[str]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in counts.most_common())
