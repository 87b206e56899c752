"""Issuance that must survive a CA rejecting nonces, and a request that must fail before anything happens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.lifecycle.helpers import issue, target_of

NONCE_REJECTION_PERCENT = "30"
ISSUANCES = 10


def test_ten_issuances_in_a_row_succeed_with_30_percent_nonce_rejection(
    start_sandbox: Callable[..., dict[str, Any]],
) -> None:
    # Given a Pebble that rejects 30% of good nonces
    noisy = start_sandbox(PEBBLE_WFE_NONCEREJECT=NONCE_REJECTION_PERCENT)
    # When ten certificates are issued one after the other
    results = [issue(noisy, name=f"nonce-{i}", domains=[f"nonce-{i}.example.test"]) for i in range(ISSUANCES)]
    # Then every one is issued
    assert [r["status"] for r in results] == ["issued"] * ISSUANCES, [r for r in results if r["status"] != "issued"]


def test_bad_input_fails_in_the_first_state_and_writes_nothing(sandbox: dict[str, Any]) -> None:
    # Given a wildcard in the wrong place, sent straight to StartExecution (no CLI check in front)
    target = target_of(sandbox)
    execution = target.stepfunctions.start_execution(
        stateMachineArn=target.lifecycle_arn,
        input=json.dumps({"name": "misplaced-wildcard", "domains": ["www.*.example.test"]}),
    )
    # When it ends
    from certctl.executions import wait

    description = wait(target, execution["executionArn"], 60, None)
    # Then it failed in ValidateRequest with the reason, and no state after it ran
    assert description["status"] == "FAILED"
    assert description["error"] == "InvalidRequest"
    assert "a wildcard may only be the whole leftmost label" in description["cause"]
    history = target.stepfunctions.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered == ["ValidateRequest", "RequestRejected"]
    assert target.inventory.get("misplaced-wildcard") is None


def test_two_executions_for_one_certificate_do_not_overlap(sandbox: dict[str, Any]) -> None:
    # Given two executions started together for the same certificate
    from certctl import executions

    target = target_of(sandbox)
    request = {"name": "twins", "domains": ["twins.example.test"]}
    arns = [executions.start(target, request), executions.start(target, request)]
    # When both end
    results = [executions.result_of(executions.wait(target, arn, 120, None)) for arn in arns]
    # Then one issued the certificate and the other stood aside, saying who works on it
    statuses = sorted(result["status"] for result in results)
    assert statuses == ["already_in_progress", "issued"], results
    stood_aside = next(result for result in results if result["status"] == "already_in_progress")
    assert "is being worked on by" in stood_aside["detail"]
    item = target.inventory.get("twins")
    assert item is not None
    assert item["status"] == "issued"
    assert "lock_owner" not in item
