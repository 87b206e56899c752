"""`certctl issue --wait` / `renew --wait`: progress state by state, then the outcome and, on failure, what to do."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from certctl.executions import ProgressFollower, result_of
from certctl.output import render_result

START = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=dt.UTC)
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:acme-certs-certificate-lifecycle:web-1"


def event(seconds: float, kind: str, **details: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"type": kind, "timestamp": START + dt.timedelta(seconds=seconds)}
    if kind.endswith("StateEntered"):
        found["stateEnteredEventDetails"] = {"name": details["name"]}
    elif kind == "LambdaFunctionFailed":
        found["lambdaFunctionFailedEventDetails"] = {"error": details["error"], "cause": "{}"}
    return found


def test_progress_names_each_state_with_its_elapsed_time_and_waits_once() -> None:
    # Given a history where CheckOrder waits for the CA four times, then the execution goes on
    lines: list[tuple[str, float]] = []
    follower = ProgressFollower(lambda line, elapsed: lines.append((line, round(elapsed, 1))))
    history = [
        event(0, "ExecutionStarted"),
        event(0.1, "TaskStateEntered", name="ValidateRequest"),
        event(1.0, "TaskStateEntered", name="CheckOrder"),
        *(event(1.5 + i, "LambdaFunctionFailed", error="OrderPending") for i in range(4)),
        event(40.0, "LambdaFunctionFailed", error="OrderPending"),
        event(41.0, "TaskStateEntered", name="RemoveChallenges"),
    ]

    # When the history arrives in two polls
    follower.feed(history[:4])
    follower.feed(history[4:])

    # Then every state is named with its time since the start, and a long wait is shown now and then, not per poll
    assert lines == [
        ("ValidateRequest", 0.1),
        ("CheckOrder", 1.0),
        ("CheckOrder: waiting (OrderPending)", 1.5),
        ("CheckOrder: waiting (OrderPending, attempt 6)", 40.0),
        ("RemoveChallenges", 41.0),
    ]
    assert follower.seen == len(history)


def test_a_terminal_error_is_not_shown_as_a_retry() -> None:
    # Given / When a step fails for good and the cleanup starts
    lines: list[str] = []
    follower = ProgressFollower(lambda line, elapsed: lines.append(line))
    follower.feed(
        [
            event(0, "ExecutionStarted"),
            event(1, "TaskStateEntered", name="CheckOrder"),
            event(2, "LambdaFunctionFailed", error="ChallengeInvalid"),
            event(2, "TaskStateEntered", name="CleanUpFailure"),
            event(3, "FailStateEntered", name="Failed"),
        ]
    )

    # Then the states are shown, and the error is left to the result
    assert lines == ["CheckOrder", "CleanUpFailure", "Failed"]


def failed_description() -> dict[str, Any]:
    cause = {
        "errorType": "ChallengeInvalid",
        "errorMessage": "check_order: the CA could not validate www.example.com: unauthorized: Incorrect TXT record",
    }
    return {
        "executionArn": EXECUTION,
        "status": "FAILED",
        "input": json.dumps({"name": "web", "domains": ["www.example.com"]}),
        "error": "ChallengeInvalid",
        "cause": json.dumps(cause),
        "startDate": START,
        "stopDate": START + dt.timedelta(seconds=12.34),
    }


def test_a_failed_execution_ends_with_its_step_problem_and_remedy() -> None:
    # Given / When the result of a failed execution
    result = result_of(failed_description())

    # Then it names the certificate, step, error, the CA's problem and what to do
    assert result["status"] == "failed"
    assert (result["name"], result["step"], result["error"], result["problem"]) == (
        "web",
        "check_order",
        "ChallengeInvalid",
        "unauthorized",
    )
    assert "_acme-challenge.www.example.com" in result["remedy"]
    assert result["duration_seconds"] == 12.3

    # And the text a person reads says the same
    text = render_result(result)
    assert text.splitlines()[0] == "failed in step check_order in 12.3s: ChallengeInvalid"
    assert "  ACME problem  unauthorized" in text
    assert "  what to do    The CA did not see the DNS-01 TXT value." in text
    assert EXECUTION in text


def test_a_timed_out_execution_gets_a_remedy_too() -> None:
    # Given / When an execution that ran out of time
    description = {**failed_description(), "status": "TIMED_OUT", "error": "States.Timeout", "cause": ""}
    result = result_of(description)

    # Then
    assert (result["status"], result["error"]) == ("timed_out", "States.Timeout")
    assert "ran out of time" in result["remedy"]


def test_a_success_ends_with_the_certificate() -> None:
    # Given a succeeded execution's output
    output = {
        "name": "web",
        "domains": ["www.example.com"],
        "status": "issued",
        "serial": "4f2a9c",
        "not_after": "2099-01-01T00:00:00Z",
        "certificate_arns": {"eu-west-1": "arn:aws:acm:eu-west-1:123456789012:certificate/x"},
        "renew_after": "2098-11-01T00:00:00Z",
        "renew_reason": "ari",
    }
    description = {**failed_description(), "status": "SUCCEEDED", "output": json.dumps(output)}

    # When / Then
    text = render_result(result_of(description))
    assert text.startswith("issued in 12.3s: web (www.example.com)")
    assert "  renew after   2098-11-01T00:00:00Z (ari)" in text
