"""Start a lifecycle execution, follow it state by state, and turn its end into one result object."""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from certctl.aws import CliError, Target
from certlib.lifecycle.failure import describe_error

POLL_SECONDS = 0.5
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def execution_name(certificate_name: str) -> str:
    """Unique, readable and within Step Functions' 80 characters."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", certificate_name)[:50]
    return f"{safe}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


def start(target: Target, execution_input: dict[str, Any], state_machine_arn: str | None = None) -> str:
    """Start the lifecycle (or another of our state machines) with this input; returns the execution ARN."""
    try:
        response = target.stepfunctions.start_execution(
            stateMachineArn=state_machine_arn or target.lifecycle_arn,
            name=execution_name(str(execution_input.get("name", "sweep"))),
            input=json.dumps(execution_input),
        )
    except ClientError as exc:
        error = exc.response["Error"]
        raise CliError(f"cannot start the lifecycle execution: {error['Code']}: {error.get('Message', '')}") from None
    return response["executionArn"]


Progress = Callable[[str, float], None]


def print_progress(state: str, elapsed: float) -> None:
    print(f"  {elapsed:6.1f}s  {state}", file=sys.stderr, flush=True)


def wait(target: Target, execution_arn: str, timeout_seconds: float, progress: Progress | None) -> dict[str, Any]:
    """Poll until the execution ends; report each state entered. Raises CliError on timeout."""
    started = time.monotonic()
    seen_events = 0
    while True:
        description = target.stepfunctions.describe_execution(executionArn=execution_arn)
        if progress is not None:
            seen_events = _report_new_states(target, execution_arn, seen_events, started, progress)
        if description["status"] in TERMINAL:
            return dict(description)
        if time.monotonic() - started > timeout_seconds:
            raise CliError(
                f"execution {execution_arn} still running after {timeout_seconds:.0f} s; follow it with "
                f"`certctl status` or the Step Functions console"
            )
        time.sleep(POLL_SECONDS)


def _report_new_states(target: Target, execution_arn: str, seen: int, started: float, progress: Progress) -> int:
    events: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = target.stepfunctions.get_execution_history(**arguments)
        events.extend(dict(event) for event in page["events"])
        if not page.get("nextToken"):
            break
        arguments["nextToken"] = page["nextToken"]
    for event in events[seen:]:
        if event["type"].endswith("StateEntered"):
            progress(event["stateEnteredEventDetails"]["name"], time.monotonic() - started)
    return len(events)


def result_of(description: dict[str, Any]) -> dict[str, Any]:
    """One object for the CLI: the lifecycle's output when it succeeded, the error and its step when it failed."""
    execution_arn = description["executionArn"]
    status = description["status"]
    if status == "SUCCEEDED":
        output = json.loads(description.get("output") or "{}")
        return {**output, "execution_arn": execution_arn}
    failure = describe_error({"Error": description.get("error", status), "Cause": description.get("cause", "")})
    return {
        "status": "failed" if status == "FAILED" else status.lower(),
        "error": failure["error"],
        "step": failure["step"],
        "message": failure["message"],
        "execution_arn": execution_arn,
    }
