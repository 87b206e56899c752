"""A lifecycle execution aborted (or timed out) in the middle never reaches CleanUpFailure: EventBridge's status
change runs clean_up_stopped_execution, which cleans up from the execution's last recorded state.

The sandbox's moto sends no Step Functions status events: the test stops an execution with StopExecution and hands
the function the event AWS would send, through Lambda's Invoke, as the rule's target would.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.distribution.helpers import distribution_profile, invoke, start_nodes
from tests.faults.helpers import (
    FaultSwitch,
    challenge_records_under,
    finish,
    history,
    plain,
    run,
    start,
    states_entered,
    wait_until,
)
from tests.faults.test_fallback_ca import ca_fails_for_the_first_account
from tests.lifecycle.helpers import inventory_item, target_of
from tests.operations.sandbox_capture import start_capture

STATUS_CHANGE = "Step Functions Execution Status Change"


def status_change(info: dict[str, Any], execution_arn: str, status: str) -> dict[str, Any]:
    """The event EventBridge delivers for an execution that ended with `status`, as AWS shapes it."""
    description = target_of(info).stepfunctions.describe_execution(executionArn=execution_arn)
    now = int(time.time() * 1000)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": STATUS_CHANGE,
        "source": "aws.states",
        "account": info["account_id"],
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": info["region"],
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": description["stateMachineArn"],
            "name": description["name"],
            "status": status,
            "startDate": now - 10_000,
            "stopDate": now,
            "input": description.get("input"),
            "output": None,
            "error": None,
            "cause": None,
        },
    }


def wait_until_entered(info: dict[str, Any], execution_arn: str, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while state not in states_entered(history(info, execution_arn)):
        assert time.monotonic() < deadline, f"{execution_arn} never entered {state}"
        time.sleep(0.1)


def wait_until_stopped(info: dict[str, Any], execution_arn: str, timeout: float = 60) -> str:
    """The execution's status once it is no longer RUNNING (moto's interpreter stops at its next step)."""
    deadline = time.monotonic() + timeout
    while (
        status := target_of(info).stepfunctions.describe_execution(executionArn=execution_arn)["status"]
    ) == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still running"
        time.sleep(0.2)
    return str(status)


def test_an_aborted_execution_is_cleaned_up_once_and_the_name_issues_again(sandbox: dict[str, Any]) -> None:
    # Given an execution held in CheckOrder (the CA answers every order poll with 503), its TXT record published and
    # the certificate's lock taken, which is then aborted
    name = f"aborted-{uuid.uuid4().hex[:6]}"
    domain = f"{name}.example.test"
    capture = start_capture(sandbox, f"stopped-{name}")
    switch = FaultSwitch(sandbox)
    switch.inject(
        {
            "id": "order-unavailable",
            "at": "acme",
            "request": "order",
            "fault": "status",
            "times": 0,
            "certificate": name,
        }
    )
    try:
        execution_arn = start(sandbox, name=name, domains=[domain])
        wait_until_entered(sandbox, execution_arn, "CheckOrder")
        target_of(sandbox).stepfunctions.stop_execution(executionArn=execution_arn, error="Operator", cause="test")
    finally:
        switch.clear()
    assert wait_until_stopped(sandbox, execution_arn) == "ABORTED"
    assert challenge_records_under(sandbox, domain) != []
    assert inventory_item(sandbox, name)["lock_owner"] == execution_arn

    # When EventBridge hands its status change to clean_up_stopped_execution
    result = invoke(sandbox, "clean_up_stopped_execution", status_change(sandbox, execution_arn, "ABORTED"))

    # Then the TXT record is gone, the lock released, and the failure recorded in the step it stopped in
    assert (result["outcome"], result["status"], result["error"], result["step"]) == (
        "cleaned_up",
        "ABORTED",
        "ExecutionAborted",
        "check_order",
    )
    assert (result["challenges_removed"], result["failure_recorded"]) == (1, True)
    assert challenge_records_under(sandbox, domain) == []
    item = inventory_item(sandbox, name)
    assert "lock_owner" not in item
    assert item["status"] == "failed"
    assert (item["last_error"]["error"], item["last_error"]["step"]) == ("ExecutionAborted", "check_order")
    assert item["last_error"]["message"] == "check_order: the execution aborted in state CheckOrder"

    # And announced once, though EventBridge delivers the event again
    again = invoke(sandbox, "clean_up_stopped_execution", status_change(sandbox, execution_arn, "ABORTED"))
    assert (again["outcome"], again["failure_recorded"]) == ("cleaned_up", False)
    assert plain(target_of(sandbox).inventory.get(name))["last_error"] == item["last_error"]
    failed = [e for e in capture.events(name) if e["detail-type"] == "Certificate Issuance Failed"]
    assert [e["detail"]["error"] for e in failed] == ["ExecutionAborted"]
    assert len(capture.notifications(name)) == 1

    # And the name issues again at once (no lock left to expire)
    issued = run(sandbox, name=name, domains=[domain])
    assert issued["status"] == "issued", issued


def test_other_status_changes_are_left_alone(sandbox: dict[str, Any]) -> None:
    # Given a succeeded execution
    name = f"finished-{uuid.uuid4().hex[:6]}"
    issued = run(sandbox, name=name, domains=[f"{name}.example.test"])
    assert issued["status"] == "issued", issued
    before = plain(target_of(sandbox).inventory.get(name))

    # When its status change (or an event of another kind) reaches the function
    succeeded = invoke(
        sandbox, "clean_up_stopped_execution", status_change(sandbox, issued["execution_arn"], "SUCCEEDED")
    )
    other = invoke(sandbox, "clean_up_stopped_execution", {"detail-type": "Scheduled Event", "detail": {}})

    # Then nothing is done
    assert succeeded["outcome"] == other["outcome"] == "ignored"
    assert plain(target_of(sandbox).inventory.get(name)) == before


LIFECYCLE_ASL = Path(__file__).parents[2] / "statemachine" / "certificate_lifecycle.asl.json"
FUNCTION_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z0-9]+)FunctionArn\}$")


def task_states(asl_path: Path = LIFECYCLE_ASL) -> dict[str, str]:
    """{state name: step} for every Task state of the lifecycle (inside Maps too), read from the ASL file."""
    definition = json.loads(re.sub(r"(?<!\")\$\{[A-Za-z0-9]+\}(?!\")", "1", asl_path.read_text()))
    found: dict[str, str] = {}

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state["Type"] == "Task":
                camel = FUNCTION_PLACEHOLDER.match(state["Resource"])
                assert camel, f"{name}: {state['Resource']}"
                found[name] = re.sub(r"(?<!^)(?=[A-Z])", "_", camel.group(1)).lower()
            for inner in (state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])):
                if inner:
                    walk(inner["States"])

    walk(definition["States"])
    return found


TASK_STATES = task_states()


# The Task states a plain ACME issuance does not pass through, and what brings an execution there: the account, a
# distribution profile, a fallback account with the first one failing on the CA's side after its TXT records are
# published, or a failure (a crash after check_order's work) that leads to CleanUpFailure.
PRIVATE_CA_STATES = ("IssueFromPrivateCa", "CheckPrivateCaCertificate")
DISTRIBUTION_STATES = ("SendDistribution", "CheckDistribution")
FALLBACK_STATES = ("RemoveAttemptChallenges", "SwitchToFallbackAccount")
FAILURE_STATES = ("CleanUpFailure",)


def way_into(info: dict[str, Any], state: str, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The execution input that passes through `state`, and the faults that lead there (cleared before the retry)."""
    request: dict[str, Any] = {"name": name, "domains": [f"{name}.example.test"]}
    faults: list[dict[str, Any]] = []
    if state in PRIVATE_CA_STATES:
        request["account"] = "sandbox-pca"
    elif state in DISTRIBUTION_STATES:
        start_nodes(info, 1, role=name)
        request["distribution"] = distribution_profile(info, f"/etc/ssl/{name}", "role", name)
    elif state in FALLBACK_STATES:
        request["fallback_accounts"] = ["sandbox-backup"]
        faults.append(ca_fails_for_the_first_account(name, "challenge", as_get=False))
    elif state in FAILURE_STATES:
        crash = {"id": f"{name}-crash", "at": "handler", "fault": "crash", "when": "after", "step": "check_order"}
        faults.append({**crash, "certificate": name})
    return request, faults


@pytest.fixture(scope="module")
def stopped_in_each_state(sandbox: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One execution per Task state of the lifecycle, held there (after the step's work: what it did is not in the
    execution's state), stopped, then cleaned up as EventBridge would have it; all side by side."""
    switch = FaultSwitch(sandbox)
    names = {state: f"stop-in-{state.lower()}-{uuid.uuid4().hex[:4]}" for state in sorted(TASK_STATES)}
    ways = {state: way_into(sandbox, state, name) for state, name in names.items()}
    holds = {
        state: {"id": name, "at": "handler", "fault": "hold", "when": "after", "step": TASK_STATES[state]}
        | ({"event_contains": name} if state == "CheckDistribution" else {"certificate": name})
        for state, name in names.items()
    }
    switch.inject(*holds.values(), *(fault for _, faults in ways.values() for fault in faults))
    try:
        arns = {state: start(sandbox, **ways[state][0]) for state in names}
        for state, name in names.items():
            wait_until(lambda name=name: switch.calls(fault=name) != [], f"{state} held")
            target_of(sandbox).stepfunctions.stop_execution(executionArn=arns[state], error="Operator", cause="test")
    finally:
        switch.clear()
    outcomes = {}
    for state, name in names.items():
        status = wait_until_stopped(sandbox, arns[state])
        cleaned = invoke(sandbox, "clean_up_stopped_execution", status_change(sandbox, arns[state], "ABORTED"))
        outcomes[state] = {"name": name, "status": status, "cleaned": cleaned, "execution_arn": arns[state]}
    retried = finish(sandbox, [start(sandbox, **ways[state][0]) for state in outcomes])
    for outcome, result in zip(outcomes.values(), retried, strict=True):
        outcome["retried"] = result
    return outcomes


@pytest.mark.parametrize("state", sorted(TASK_STATES))
def test_an_execution_stopped_in_any_state_leaves_nothing(
    sandbox: dict[str, Any], stopped_in_each_state: dict[str, dict[str, Any]], state: str
) -> None:
    # Given an execution stopped by hand while its step in this state was running (its work done)
    outcome = stopped_in_each_state[state]
    name, domain = outcome["name"], f"{outcome['name']}.example.test"
    assert outcome["status"] == "ABORTED"

    # When EventBridge's status change ran clean_up_stopped_execution
    # Then nothing is left: no lock, no TXT record, no pending key
    assert outcome["cleaned"]["outcome"] in ("cleaned_up", "nothing_to_clean_up"), outcome["cleaned"]
    assert challenge_records_under(sandbox, domain) == [], outcome["cleaned"]
    target = target_of(sandbox)
    item = plain(target.inventory.get(name))
    assert "lock_owner" not in item, outcome["cleaned"]
    secrets = target.client("secretsmanager")
    listed = secrets.list_secrets(
        Filters=[{"Key": "name", "Values": [f"{target.names.secret_prefix}certificate/{name}"]}]
    )
    for secret in listed["SecretList"]:
        assert "pending_private_key" not in json.loads(secrets.get_secret_value(SecretId=secret["ARN"])["SecretString"])

    # And a new execution for the certificate then issued it
    assert outcome["retried"]["status"] in ("issued", "renewed"), outcome["retried"]
