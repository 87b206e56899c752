"""Run one of our state machines on the sandbox and time it from StartExecution to the execution's end."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.sandbox import BenchSandbox
from certctl.executions import TERMINAL
from certlib.adapters.stepfunctions import execution_name

POLL_SECONDS = 0.1
TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class ExecutionRun:
    execution_arn: str
    status: str  # SUCCEEDED, FAILED, ...
    seconds: float  # from just before StartExecution to the execution's stopDate
    output: dict[str, Any] = field(repr=False)
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def certificate_issued(self) -> bool:
        """A lifecycle execution that ended with a new certificate."""
        return self.succeeded and self.output.get("status") in ("issued", "renewed")

    def describe_failure(self) -> str:
        return f"{self.status} {self.output.get('status', '')} {self.error}".strip()


def run_lifecycle(sandbox: BenchSandbox, execution_input: dict[str, Any]) -> ExecutionRun:
    """One certificate lifecycle execution (see run_execution)."""
    return run_execution(sandbox, sandbox.info["state_machine_arn"], execution_input, str(execution_input["name"]))


def run_execution(
    sandbox: BenchSandbox, state_machine_arn: str, execution_input: dict[str, Any], label: str
) -> ExecutionRun:
    """Start one execution and wait for its end. The time is the execution's stopDate (moto's clock, which is
    this machine's) minus the wall clock just before StartExecution, so the polling interval does not add to it.

    Raises TimeoutError when it runs longer than TIMEOUT_SECONDS.
    """
    started = time.time()
    execution_arn = sandbox.stepfunctions.start_execution(
        stateMachineArn=state_machine_arn,
        name=execution_name(None, label),
        input=json.dumps(execution_input),
    )["executionArn"]
    description = wait_for_end(sandbox, execution_arn)
    stop_date = description.get("stopDate")
    ended = stop_date.timestamp() if stop_date is not None else time.time()
    return ExecutionRun(
        execution_arn=execution_arn,
        status=description["status"],
        seconds=ended - started,
        output=json.loads(description.get("output") or "{}"),
        error=f"{description.get('error', '')} {str(description.get('cause', ''))[:200]}".strip(),
    )


def wait_for_end(sandbox: BenchSandbox, execution_arn: str) -> dict[str, Any]:
    """Poll until the execution ends; returns its description. Raises TimeoutError after TIMEOUT_SECONDS."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        description = dict(sandbox.stepfunctions.describe_execution(executionArn=execution_arn))
        if description["status"] in TERMINAL:
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still running after {TIMEOUT_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)


def execution_history(sandbox: BenchSandbox, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of the execution, oldest first."""
    events: list[dict[str, Any]] = []
    paginator = sandbox.stepfunctions.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=execution_arn):
        events.extend(dict(event) for event in page["events"])
    return events
