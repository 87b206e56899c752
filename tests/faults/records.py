"""What the tests of TXT records under concurrency share: a step's state from the history, the TXT values Route 53
holds at a name, and a Route 53 that keeps saying a change is PENDING (so an execution waits in CheckDnsChange)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from certlib.adapters.route53 import unquote_txt
from tests.lifecycle.helpers import target_of

PENDING_CHANGE = (
    '<?xml version="1.0"?><GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
    "<ChangeInfo><Id>/change/HELD</Id><Status>PENDING</Status>"
    "<SubmittedAt>2024-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>"
)


def dns_change_pending(certificate: str) -> dict[str, Any]:
    """A fault that holds the certificate's execution in CheckDnsChange (for the state machine's DNS poll budget)."""
    return {
        "id": f"dns-pending-{certificate}",
        "at": "aws",
        "operation": "route53.GetChange",
        "fault": "respond",
        "body": PENDING_CHANGE,
        "times": 0,
        "certificate": certificate,
    }


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """The condition's first true value, polled; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def entered_state(info: dict[str, Any], execution_arn: str, state: str) -> dict[str, Any]:
    """The input of `state` when the execution last entered it, from its history."""
    client = target_of(info).stepfunctions
    events = client.get_execution_history(executionArn=execution_arn, maxResults=1000, includeExecutionData=True)
    inputs = [
        json.loads(event["stateEnteredEventDetails"]["input"])
        for event in events["events"]
        if event["type"].endswith("StateEntered") and event["stateEnteredEventDetails"]["name"] == state
    ]
    assert inputs, f"{execution_arn} never entered {state}"
    return dict(inputs[-1])


def txt_values_at(info: dict[str, Any], record_name: str) -> list[str]:
    """Every TXT value (unquoted, sorted) Route 53 holds at `record_name`, in any zone of the sandbox."""
    route53 = target_of(info).client("route53")
    values: list[str] = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]):
            for record in page["ResourceRecordSets"]:
                if record["Type"] == "TXT" and record["Name"].rstrip(".") == record_name:
                    values.extend(unquote_txt(r["Value"]) for r in record["ResourceRecords"])
    return sorted(values)
