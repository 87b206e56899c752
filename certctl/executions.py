"""Start a lifecycle execution, follow it state by state, and turn its end into one result object."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from certctl.aws import CliError, Target
from certlib.adapters.stepfunctions import execution_name
from certlib.exceptions import RETRIED_ERROR_NAMES, WAITING_ERROR_NAMES

# How often wait polls DescribeExecution: the gap before the next poll is a tenth of the time waited so far, between
# 0.1 s and 5 s. So the end of an execution is seen at most a tenth of its time (0.1 s at least, 5 s at most) after
# it: a sandbox issuance of about half a second, within 0.1 s; an AWS issuance of a minute (DNS propagation, the CA's
# validation), within 5 s. DescribeExecution calls: 11 in the first second, 35 by 10 s, 54 by a minute, then 12 a
# minute: about 160 for a 10-minute wait (the call is not billed). The previous cadence
# (0.1 s, x1.25, up to 2 s) left gaps of 0.3-0.5 s right where a sandbox issuance ends (1-2 s).
FIRST_POLL_SECONDS = 0.1
POLL_FRACTION_OF_WAITED = 0.1
MAX_POLL_SECONDS = 5.0
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def start(target: Target, execution_input: dict[str, Any], state_machine_arn: str | None = None) -> str:
    """Start the lifecycle (or another of our state machines) with this input; returns the execution ARN."""
    try:
        response = target.stepfunctions.start_execution(
            stateMachineArn=state_machine_arn or target.lifecycle_arn,
            name=execution_name(None, str(execution_input.get("name", "sweep"))),
            input=json.dumps(execution_input),
        )
    except ClientError as exc:
        error = exc.response["Error"]
        raise CliError(f"cannot start the lifecycle execution: {error['Code']}: {error.get('Message', '')}") from None
    return response["executionArn"]


Progress = Callable[[str, float], None]
# Errors a step raises while it waits for something (the state machine retries them): shown as waiting, not failing;
# the transient ones as retrying.
WAITING = WAITING_ERROR_NAMES
RETRIED = RETRIED_ERROR_NAMES
# A retry of the same kind in the same state is shown again only after this many seconds, so a long DNS or order
# wait prints a line now and then instead of one per poll.
REPEAT_EVERY_SECONDS = 30.0


def wait(target: Target, execution_arn: str, timeout_seconds: float, progress: Progress | None) -> dict[str, Any]:
    """Poll until the execution ends; report each state entered and each retry. Raises CliError on timeout."""
    started = time.monotonic()
    follower = ProgressFollower(progress) if progress is not None else None
    while True:
        description = target.stepfunctions.describe_execution(executionArn=execution_arn)
        if follower is not None:
            follower.feed(_history(target, execution_arn, follower.seen))
        if description["status"] in TERMINAL:
            return dict(description)
        if time.monotonic() - started > timeout_seconds:
            raise CliError(
                f"execution {execution_arn} still running after {timeout_seconds:.0f} s; follow it with "
                f"`certctl status` or the Step Functions console"
            )
        time.sleep(poll_interval(time.monotonic() - started))


def poll_interval(waited_seconds: float) -> float:
    """Seconds until the next poll after waiting this long (the cadence above)."""
    return min(max(FIRST_POLL_SECONDS, waited_seconds * POLL_FRACTION_OF_WAITED), MAX_POLL_SECONDS)


def _history(target: Target, execution_arn: str, seen: int) -> list[dict[str, Any]]:
    """The events after the first `seen` ones."""
    events: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = target.stepfunctions.get_execution_history(**arguments)
        events.extend(dict(event) for event in page["events"])
        if not page.get("nextToken"):
            break
        arguments["nextToken"] = page["nextToken"]
    return events[seen:]


class ProgressFollower:
    """Turns execution history events into progress lines: "CheckOrder", "CheckOrder: waiting (OrderPending)" ...

    Elapsed times come from the events' own timestamps, counted from the execution's start.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self.seen = 0
        self._started_at: float | None = None
        self._state = ""
        self._retries: dict[tuple[str, str], tuple[int, float]] = {}  # (state, error) -> (count, last shown)

    def feed(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.seen += 1
            elapsed = self._elapsed(event)
            kind = str(event["type"])
            if kind == "ExecutionStarted":
                continue
            if kind.endswith("StateEntered"):
                self._state = str(event["stateEnteredEventDetails"]["name"])
                self._progress(self._state, elapsed)
            elif kind in ("LambdaFunctionFailed", "TaskFailed", "LambdaFunctionTimedOut"):
                details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
                self._report_retry(str(details.get("error", kind)), elapsed)

    def _report_retry(self, error: str, elapsed: float) -> None:
        if error not in RETRIED:
            return  # a terminal error: the next state entered is CleanUpFailure, and the result explains it
        count, shown = self._retries.get((self._state, error), (0, -REPEAT_EVERY_SECONDS))
        count += 1
        if count == 1 or elapsed - shown >= REPEAT_EVERY_SECONDS:
            what = "waiting" if error in WAITING else "retrying"
            attempt = f", attempt {count + 1}" if count > 1 else ""
            self._progress(f"{self._state}: {what} ({error}{attempt})", elapsed)
            shown = elapsed
        self._retries[(self._state, error)] = (count, shown)

    def _elapsed(self, event: dict[str, Any]) -> float:
        timestamp = event.get("timestamp")
        moment = timestamp.timestamp() if isinstance(timestamp, dt.datetime) else time.time()
        if self._started_at is None:
            self._started_at = moment
        return max(0.0, moment - self._started_at)


def result_of(description: dict[str, Any]) -> dict[str, Any]:
    """One object for the CLI: the lifecycle's output when it succeeded; when it failed, the error, the step that
    failed, the CA's problem type and what to do about it."""
    execution_arn = description["executionArn"]
    status = description["status"]
    duration = _duration(description)
    if status == "SUCCEEDED":
        output = json.loads(description.get("output") or "{}")
        return {**output, "execution_arn": execution_arn, "duration_seconds": duration}
    # Only for a failure: they import the functions' observability (Powertools, the X-Ray SDK), about half a second
    # of every certctl start otherwise.
    from certlib.lifecycle.failure import describe_error
    from certlib.notifications.remedies import remedy_for

    failure = describe_error({"Error": description.get("error", status), "Cause": description.get("cause", "")})
    request = _input_of(description)
    name = request.get("name") if isinstance(request.get("name"), str) else None
    domains = [str(domain) for domain in request.get("domains") or [] if isinstance(domain, str)]
    error = failure["error"]  # "States.Timeout" for a timed-out execution; the status itself when AWS gives none
    return {
        "status": "failed" if status == "FAILED" else status.lower(),
        "name": name,
        "domains": domains,
        "error": error,
        "step": failure["step"],
        "problem": failure["problem"] or None,
        "message": failure["message"],
        "remedy": remedy_for(error, failure["problem"] or None, name, domains, failure["message"]),
        "execution_arn": execution_arn,
        "duration_seconds": duration,
    }


def _input_of(description: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(description.get("input") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _duration(description: dict[str, Any]) -> float | None:
    started, stopped = description.get("startDate"), description.get("stopDate")
    if not isinstance(started, dt.datetime) or not isinstance(stopped, dt.datetime):
        return None
    return round((stopped - started).total_seconds(), 1)
