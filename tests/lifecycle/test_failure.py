"""A challenge the CA cannot validate: the execution fails with the CA's problem, and cleanup leaves nothing behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lifecycle.helpers import challenge_records, inventory_item, issue, target_of

WRONG_NAME = "wrong-txt.example.test"


@pytest.fixture
def wrong_txt_served(sandbox: dict[str, Any]) -> Iterator[None]:
    """The sandbox DNS answers a wrong TXT value at the name's challenge record, whatever Route 53 holds."""
    overrides = Path(sandbox["dns_overrides_file"])
    overrides.write_text(json.dumps({f"_acme-challenge.{WRONG_NAME}": {"TXT": ["not-the-key-authorization"]}}))
    try:
        yield
    finally:
        overrides.unlink()


@pytest.mark.usefixtures("wrong_txt_served")
def test_unvalidated_challenge_fails_cleanly(sandbox: dict[str, Any]) -> None:
    # When a certificate is asked for a name whose challenge the CA sees the wrong value for
    result = issue(sandbox, name="wrong-txt", domains=[WRONG_NAME])
    # Then the execution failed at CheckOrder with the CA's problem type and detail in the error
    assert result["status"] == "failed", result
    assert result["error"] == "ChallengeInvalid"
    assert result["step"] == "check_order"
    assert f"the CA could not validate {WRONG_NAME}" in result["message"]
    assert "unauthorized" in result["message"]
    # And no challenge record is left, the lock is released, and the failure is recorded
    assert challenge_records(sandbox) == []
    item = inventory_item(sandbox, "wrong-txt")
    assert "lock_owner" not in item
    assert item["status"] == "failed"
    assert item["last_error"]["error"] == "ChallengeInvalid"
    assert item["last_error"]["step"] == "check_order"
    # And the execution went through the cleanup state
    target = target_of(sandbox)
    events = target.stepfunctions.get_execution_history(executionArn=result["execution_arn"], maxResults=1000)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events["events"] if e["type"].endswith("StateEntered")]
    assert entered[-2:] == ["CleanUpFailure", "Failed"]


def test_the_name_issues_once_the_dns_is_right(sandbox: dict[str, Any]) -> None:
    # Given the failure above (or none), when the DNS serves the right value again, the same name issues
    result = issue(sandbox, name="wrong-txt", domains=[WRONG_NAME])
    assert result["status"] == "issued", result
    assert "last_error" not in inventory_item(sandbox, "wrong-txt")
