"""On the sandbox: the real state machine, the real handlers; what EventBridge and SNS receive."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.notifications.events import ISSUANCE_FAILED, ISSUED, RENEWED
from tests.lifecycle.helpers import certctl, issue
from tests.operations.sandbox_capture import Capture, start_capture, wrong_txt
from tests.operations.schema import validate_event

FAILING = "notify-fails.example.test"


@pytest.fixture(scope="module")
def capture(sandbox: dict[str, Any]) -> Capture:
    return start_capture(sandbox, "operations-notifications")


def test_a_failed_issuance_sends_one_event_and_one_message(sandbox: dict[str, Any], capture: Capture) -> None:
    # Given a name whose DNS-01 record the CA sees with a wrong value
    with wrong_txt(sandbox, FAILING):
        # When it is issued
        result = issue(sandbox, name="notify-fails", domains=[FAILING])
    assert result["status"] == "failed", result

    # Then exactly one `Certificate Issuance Failed` event, valid against the documented schema, names the certificate,
    # the step and the CA's problem
    events = capture.events("notify-fails")
    assert [event["detail-type"] for event in events] == [ISSUANCE_FAILED]
    [event] = events
    assert event["source"] == "acme.certificates"
    detail = event["detail"]
    validate_event(event["detail-type"], detail)
    assert (detail["name"], detail["operation"], detail["step"]) == ("notify-fails", "issue", "check_order")
    assert (detail["error"], detail["problem_type"]) == ("ChallengeInvalid", "unauthorized")
    assert detail["execution"] == result["execution_arn"]
    assert f"_acme-challenge.{FAILING}" in detail["remedy"]

    # And exactly one SNS message says the same to a person
    [message] = capture.notifications("notify-fails")
    assert message["Subject"] == "Certificate notify-fails: issuance failed (ChallengeInvalid)"
    body = message["Message"]
    for text in ("'notify-fails'", "Failed step:   check_order", "ACME problem:  unauthorized", "What to do:"):
        assert text in body
    assert f"_acme-challenge.{FAILING}" in body


def test_an_issuance_and_a_renewal_are_events_but_not_messages(sandbox: dict[str, Any], capture: Capture) -> None:
    # Given / When a certificate is issued, then issued again (a renewal: it is in ACM already)
    first = issue(sandbox, name="notify-works", domains=["notify-works.example.test"])
    second = issue(sandbox, name="notify-works", domains=["notify-works.example.test"])
    assert (first["status"], second["status"]) == ("issued", "renewed")

    # Then one `Certificate Issued` and one `Certificate Renewed`, each with the serial, dates and ACM ARN
    events = capture.events("notify-works")
    assert [event["detail-type"] for event in events] == [ISSUED, RENEWED]
    for event, result in zip(events, (first, second), strict=True):
        validate_event(event["detail-type"], event["detail"])
        assert event["detail"]["serial"] == result["serial"]
        assert event["detail"]["certificate_arns"] == result["certificate_arns"]
        assert event["resources"] == [result["certificate_arn"]]
        assert event["detail"]["duration_seconds"] >= 0
    # And nobody is e-mailed about a success
    assert capture.notifications("notify-works") == []


def test_certctl_issue_wait_shows_progress_and_what_to_do(sandbox: dict[str, Any]) -> None:
    # Given a name the CA cannot validate
    with wrong_txt(sandbox, "notify-cli.example.test"):
        # When a user issues it with certctl and waits
        completed = certctl(sandbox, "issue", "--name", "notify-cli", "--domains", "notify-cli.example.test", "--wait")

    # Then progress went to stderr state by state, with elapsed times
    assert completed.returncode == 1
    *progress, closing = completed.stderr.splitlines()
    assert progress[0].startswith("notify-cli: execution arn:aws:states:")
    assert closing.startswith("certctl: notify-cli failed in check_order: ChallengeInvalid: ")
    states = [line.split()[1] for line in progress[1:]]
    assert states[:4] == ["ValidateRequest", "IsPrivateCa", "EnsureAccount", "CreateOrder"]
    assert states[-2:] == ["CleanUpFailure", "Failed"]
    assert all(line.split()[0].endswith("s") for line in progress[1:])
    # And stdout ends with the outcome: the step, the CA's problem and what to do
    out = completed.stdout
    assert out.startswith("failed in step check_order in ")
    assert "ChallengeInvalid" in out.splitlines()[0]
    assert "  ACME problem  unauthorized" in out
    assert "  what to do    The CA did not see the DNS-01 TXT value." in out
    assert "_acme-challenge.notify-cli.example.test" in out
