"""Two certificates that share a name, issued at once: their executions write the same `_acme-challenge` record
and keep each other's TXT values (conditional change batches, certlib.adapters.route53), on the sandbox whose Route 53
refuses the batches Route 53 refuses (sandbox.moto_fixes)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.faults.helpers import FaultSwitch, finish, history, lambda_failures, start
from tests.faults.records import dns_change_pending, entered_state, txt_values_at
from tests.faults.test_stopped_executions import wait_until_entered

# What Route 53 answered before the other execution wrote: no record set at the name.
NOTHING_THERE = (
    '<?xml version="1.0"?><ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
    "<ResourceRecordSets></ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems>"
    "</ListResourceRecordSetsResponse>"
)


def test_two_certificates_sharing_a_name_issued_at_once_lose_no_txt_value(
    sandbox: dict[str, Any], faults: FaultSwitch
) -> None:
    # Given two certificates that share a name (each with one of its own), Route 53 that reports their DNS changes
    # PENDING (both wait with their values published), and the second one's reads of its two names made before the
    # first one's write (Route 53 answers them as it stood then: nothing there), the race of two executions
    label = uuid.uuid4().hex[:6]
    shared = f"shared-{label}.example.test"
    first, second = names = [f"first-{label}", f"second-{label}"]
    stale_reads = {
        "id": "read-before-the-other-wrote",
        "at": "aws",
        "operation": "route53.ListResourceRecordSets",
        "fault": "respond",
        "body": NOTHING_THERE,
        "times": 2,
        "certificate": second,
        "step": "publish_challenges",
    }
    faults.inject(*(dns_change_pending(name) for name in names), stale_reads)

    # When both are issued at once, the second publishing while the first waits with its values published
    first_arn = start(sandbox, name=first, domains=[shared, f"{first}.example.test"])
    wait_until_entered(sandbox, first_arn, "CheckDnsChange")
    second_arn = start(sandbox, name=second, domains=[shared, f"{second}.example.test"])
    wait_until_entered(sandbox, second_arn, "CheckDnsChange")

    # Then the second's changes were refused (nothing of them applied) until one was made on what is there now: its
    # first, built without a read on nothing being there (certlib.adapters.route53 reads only after a refusal), then
    # the one made on its reads as Route 53 stood before the first wrote; while both wait, the shared name holds both
    # executions' values, and each own name its one value
    publishes = [
        call["certificate"]
        for call in faults.calls(step="publish_challenges", operation="route53.ChangeResourceRecordSets")
        if call["certificate"] in names
    ]
    assert len(faults.calls(fault="read-before-the-other-wrote")) == 2
    assert publishes == [first, second, second, second]
    values = {
        arn: {c["domain"]: c["value"] for c in entered_state(sandbox, arn, "CheckDnsChange")["order"]["challenges"]}
        for arn in (first_arn, second_arn)
    }
    assert txt_values_at(sandbox, f"_acme-challenge.{shared}") == sorted(v[shared] for v in values.values())
    for arn, name in ((first_arn, first), (second_arn, second)):
        own = f"{name}.example.test"
        assert txt_values_at(sandbox, f"_acme-challenge.{own}") == [values[arn][own]]

    # And once Route 53 is in sync, both issue, no step having failed, and each took exactly its values out
    faults.clear()
    results = finish(sandbox, [first_arn, second_arn])
    assert [result["status"] for result in results] == ["issued", "issued"], results
    for arn in (first_arn, second_arn):
        assert lambda_failures(history(sandbox, arn)) == []
    for name in (shared, f"{first}.example.test", f"{second}.example.test"):
        assert txt_values_at(sandbox, f"_acme-challenge.{name}") == []
