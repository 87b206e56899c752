"""What the fault tests share: the sandbox's fault switch and call log, executions run side by side, and what AWS
holds afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certctl import executions
from sandbox.faults.plan import write_plan
from tests.lifecycle.helpers import target_of

EXECUTION_TIMEOUT_SECONDS = 180


class FaultSwitch:
    """The sandbox's faults file (what to break) and its call log (what the functions did)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.plan_path = Path(info["faults_file"])
        self.log_path = Path(info["faults_log_file"])
        self._started_at = self.mark()

    def inject(self, *faults: dict[str, Any], cold_start: bool = False) -> None:
        write_plan(self.plan_path, list(faults), cold_start_token=str(time.monotonic_ns()) if cold_start else None)

    def clear(self) -> None:
        write_plan(self.plan_path, [])

    def mark(self) -> int:
        """A position in the call log: `calls(since=mark)` reads what was logged after it."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def calls(self, since: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Logged calls since `since` (default: since this switch was made) whose fields equal `filters`."""
        if not self.log_path.exists():
            return []
        with self.log_path.open("rb") as log:
            log.seek(self._started_at if since is None else since)
            data = log.read()
        # only whole lines: the sandbox may be appending one right now
        lines = data[: data.rfind(b"\n") + 1].decode().splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        return [entry for entry in entries if all(entry.get(key) == value for key, value in filters.items())]


def start(info: dict[str, Any], **execution_input: Any) -> str:
    return executions.start(target_of(info), execution_input)


def finish(info: dict[str, Any], execution_arns: Iterable[str]) -> list[dict[str, Any]]:
    """Wait for every execution (they run side by side) and return each one's result, in order."""
    target = target_of(info)
    return [
        executions.result_of(executions.wait(target, arn, EXECUTION_TIMEOUT_SECONDS, None)) for arn in execution_arns
    ]


def run(info: dict[str, Any], **execution_input: Any) -> dict[str, Any]:
    return finish(info, [start(info, **execution_input)])[0]


def side_by_side(info: dict[str, Any], cases: Sequence[Any], kind: str, **execution_input: Any) -> dict[str, Any]:
    """Every case's fault injected at once, each scoped to its own certificate (a case has `name`, `domain` and
    `plan()`), one execution per case run side by side: {case name: {"result", "calls" of `kind` it made}}."""
    switch = FaultSwitch(info)
    switch.inject(*(case.plan() for case in cases))
    try:
        arns = [start(info, name=case.name, domains=[case.domain], **execution_input) for case in cases]
        results = finish(info, arns)
        calls = switch.calls(kind=kind)
    finally:
        switch.clear()
    return {
        case.name: {"result": result, "calls": [c for c in calls if c["certificate"] == case.name]}
        for case, result in zip(cases, results, strict=True)
    }


@dataclass(frozen=True)
class Event:
    state: str
    type: str
    at: float
    error: str | None = None
    cause: str | None = None


def history(info: dict[str, Any], execution_arn: str) -> list[Event]:
    """The execution's events, each with the state it belongs to."""
    client = target_of(info).stepfunctions
    raw: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**arguments)
        raw.extend(page["events"])
        if not page.get("nextToken"):
            break
        arguments["nextToken"] = page["nextToken"]
    events, state = [], ""
    for event in raw:
        if event["type"].endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
        failed = event.get("lambdaFunctionFailedEventDetails") or {}
        events.append(
            Event(state, event["type"], event["timestamp"].timestamp(), failed.get("error"), failed.get("cause"))
        )
    return events


def states_entered(events: list[Event]) -> list[str]:
    return [event.state for event in events if event.type.endswith("StateEntered")]


# "Not yet": the state machine polls again. Not a failure of anything.
WAITING = frozenset(
    {"DnsChangePending", "OrderPending", "CertificatePending", "CertificateNotYetValid", "DistributionPending"}
)


def lambda_failures(events: list[Event]) -> list[Event]:
    """The Lambda invocations that failed, without the ones that only said "not yet"."""
    return [event for event in events if event.type == "LambdaFunctionFailed" and event.error not in WAITING]


def acm_certificates_for(info: dict[str, Any], domain: str, region: str) -> list[str]:
    """ARNs of the certificates in ACM (one region) whose first name is `domain`.

    By name, not by our tags: moto drops an imported certificate's tags when it is re-imported (ACM keeps them).
    """
    acm = target_of(info).client("acm", region=region)
    return [
        summary["CertificateArn"]
        for page in acm.get_paginator("list_certificates").paginate()
        for summary in page["CertificateSummaryList"]
        if summary["DomainName"] == domain
    ]


def challenge_records_under(info: dict[str, Any], domain: str) -> list[str]:
    """`_acme-challenge` record names in Route 53 for `domain` (or its wildcard)."""
    bare = domain.removeprefix("*.").rstrip(".")
    route53 = target_of(info).client("route53")
    names = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]):
            for record in page["ResourceRecordSets"]:
                if record["Name"].rstrip(".") == f"_acme-challenge.{bare}":
                    names.append(record["Name"])
    return names


def plain(item: dict[str, Any] | None) -> dict[str, Any]:
    """A DynamoDB item as plain JSON values (Decimal to numbers)."""
    return json.loads(json.dumps(item or {}, default=lambda value: int(value) if value == int(value) else float(value)))


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 120) -> None:
    """Until `condition()` holds, looking every 0.1 s; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)
