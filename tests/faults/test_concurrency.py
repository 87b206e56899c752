"""Two executions started at once for the same certificate: one does the work, the other ends cleanly saying so."""

from __future__ import annotations

from typing import Any

from certctl import executions
from tests.faults.helpers import (
    FaultSwitch,
    acm_certificates_for,
    challenge_records_under,
    finish,
    history,
    plain,
    states_entered,
)
from tests.lifecycle.helpers import target_of


def test_two_executions_for_one_certificate_do_not_overlap(sandbox: dict[str, Any], faults: FaultSwitch) -> None:
    # Given two executions started together for the same certificate
    target = target_of(sandbox)
    request = {"name": "twins", "domains": ["twins.example.test"]}
    arns = [executions.start(target, request), executions.start(target, request)]

    # When both end
    results = finish(sandbox, arns)

    # Then one issued the certificate and the other stood aside, naming the execution that holds the lock
    statuses = sorted(result["status"] for result in results)
    assert statuses == ["already_in_progress", "issued"], results
    worker = next(result for result in results if result["status"] == "issued")
    stood_aside = next(result for result in results if result["status"] == "already_in_progress")
    assert "is being worked on by" in stood_aside["detail"]
    assert worker["execution_arn"] in stood_aside["detail"]
    # And the one that stood aside did nothing past taking the lock: no step ran, nothing reached the CA
    assert states_entered(history(sandbox, stood_aside["execution_arn"])) == [
        "ValidateRequest",
        "AlreadyInProgress",
        "NothingToDo",
    ]
    calls = faults.calls()
    assert {c["step"] for c in calls if c["execution"] == stood_aside["execution_arn"]} == {"validate_request"}
    # And the work was done once: one order, one certificate in ACM, no challenge record, no lock
    orders = [c for c in calls if c.get("request") == "newOrder" and c.get("status") == 201]
    assert [c["execution"] for c in orders] == [worker["execution_arn"]]
    assert acm_certificates_for(sandbox, "twins.example.test", sandbox["region"]) == [worker["certificate_arn"]]
    assert challenge_records_under(sandbox, "twins.example.test") == []
    item = plain(target.inventory.get("twins"))
    assert (item["status"], item["serial"]) == ("issued", worker["serial"])
    assert "lock_owner" not in item
