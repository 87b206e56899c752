"""A certificate with a fallback account: the sandbox's CA fails for the first account (`sandbox`) only, and the same
execution issues with `sandbox-backup`; a failure on our side (Route 53) does not switch; without fallback accounts
nothing changes; a renewal tries the first account again.

The faults select the first account by the invocation's event (`"account": "sandbox"` of the request): both aliases
are EAB accounts on the same Pebble, and each step's event names the account it works with.
"""

from __future__ import annotations

from typing import Any

import pytest

from certlib.notifications.events import ACCOUNT_SWITCHED
from tests.faults.helpers import (
    FaultSwitch,
    acm_certificates_for,
    challenge_records_under,
    history,
    lambda_failures,
    plain,
    run,
    states_entered,
)
from tests.lifecycle.helpers import certctl, inventory_item
from tests.operations.sandbox_capture import Capture, start_capture
from tests.operations.schema import validate_event

BACKUP = "sandbox-backup"
FIRST_ACCOUNT_ONLY = '"account": "sandbox"'  # the request's account in a step's event (never "sandbox-backup")


@pytest.fixture(scope="module")
def capture(sandbox: dict[str, Any]) -> Capture:
    return start_capture(sandbox, "fallback-ca")


def ca_fails_for_the_first_account(name: str, request: str, **fault: Any) -> dict[str, Any]:
    """Every `request` of certificate `name` made with the first account fails (times 0: every time)."""
    return {
        "id": f"{name}-{request}",
        "at": "acme",
        "request": request,
        "certificate": name,
        "event_contains": FIRST_ACCOUNT_ONLY,
        "times": 0,
        **({"fault": "status", "status": 503} | fault),
    }


def switches(capture: Capture, name: str) -> list[dict[str, Any]]:
    return [event for event in capture.events(name) if event["detail-type"] == ACCOUNT_SWITCHED]


def test_the_sandbox_offers_the_backup_account(sandbox: dict[str, Any]) -> None:
    assert {"sandbox", BACKUP} <= set(sandbox["acme_account_aliases"])
    assert sandbox["acme_account_aliases"][0] == "sandbox"


def test_the_ca_failing_for_the_first_account_issues_with_the_fallback_in_the_same_execution(
    sandbox: dict[str, Any], faults: FaultSwitch, capture: Capture
) -> None:
    # Given the CA answers 503 to every challenge answer of the first account, after its TXT records are published
    name, domain = "fallback-503", "fallback-503.example.test"
    faults.inject(ca_fails_for_the_first_account(name, "challenge", as_get=False))

    # When the certificate, with a fallback account, is issued
    result = run(sandbox, name=name, domains=[domain], fallback_accounts=[BACKUP])

    # Then the same execution issued it
    assert result["status"] == "issued", result
    events = history(sandbox, result["execution_arn"])
    entered = states_entered(events)
    # after the first account's retries were spent (AcmeUnavailable each time), its TXT values were removed and the
    # execution went on with the backup account
    failures = [failure.error for failure in lambda_failures(events)]
    assert failures, "the first account never failed"
    assert set(failures) == {"AcmeUnavailable"}, failures
    switch_at = entered.index("SwitchToFallbackAccount")
    assert entered[switch_at - 1] == "RemoveAttemptChallenges"
    assert entered[switch_at + 1] == "EnsureAccount"
    assert "CleanUpFailure" not in entered
    # the first account's calls all failed; the backup account's answers went through
    answered = faults.calls(kind="acme", certificate=name, request="challenge", as_get=False)
    assert {call["fault"] for call in answered if call["step"] == "answer_challenges"} >= {f"{name}-challenge", None}

    # And the inventory records who issued it, the account it is bound to and its fallbacks (for the renewals)
    item = plain(inventory_item(sandbox, name))
    assert (item["account"], item["fallback_accounts"], item["issued_account"]) == ("sandbox", [BACKUP], BACKUP)
    assert any(entry["event"] == "account_switched" and entry["to"] == BACKUP for entry in item["history"])
    # And no TXT record is left (the first attempt's were removed before the backup account published its own)
    assert challenge_records_under(sandbox, domain) == []
    # And one certificate in ACM
    assert acm_certificates_for(sandbox, domain, sandbox["region"]) == [result["certificate_arn"]]

    # And the switch was announced: one event and one message, naming the reason and both accounts
    [switched] = switches(capture, name)
    validate_event(ACCOUNT_SWITCHED, switched["detail"])
    detail = switched["detail"]
    assert (detail["from_account"], detail["to_account"], detail["error"]) == ("sandbox", BACKUP, "AcmeUnavailable")
    assert detail["step"] == "answer_challenges"
    assert detail["execution"] == result["execution_arn"]
    [message] = capture.notifications(name)
    assert message["MessageAttributes"]["detail_type"]["Value"] == ACCOUNT_SWITCHED
    assert "'sandbox'" in message["Message"]
    assert f"'{BACKUP}'" in message["Message"]
    assert "AcmeUnavailable" in message["Message"]

    # And certctl status shows who issued it
    status = certctl(sandbox, "status", "--name", name, "--json")
    assert status.returncode == 0, status.stderr
    assert f'"issued_account": "{BACKUP}"' in status.stdout
    table = certctl(sandbox, "status")
    assert f"sandbox (issued by {BACKUP})" in table.stdout

    # When it is renewed with the CA working again
    faults.clear()
    renewed = certctl(sandbox, "renew", "--name", name, "--force", "--wait", "--json")
    assert renewed.returncode == 0, renewed.stderr

    # Then the renewal tried the first account again, and it issued, into the same ARN
    item = plain(inventory_item(sandbox, name))
    assert (item["status"], item["issued_account"], item["fallback_accounts"]) == ("issued", "sandbox", [BACKUP])
    assert item["certificate_arns"][sandbox["region"]] == result["certificate_arn"]
    assert acm_certificates_for(sandbox, domain, sandbox["region"]) == [result["certificate_arn"]]


def test_a_rate_limited_first_account_switches_once_the_pause_is_spent(
    sandbox: dict[str, Any], faults: FaultSwitch, capture: Capture
) -> None:
    # Given the CA rate-limits every new order of the first account for this certificate (Retry-After: 1 s)
    name, domain = "fallback-rate-limited", "fallback-rate-limited.example.test"
    faults.inject(ca_fails_for_the_first_account(name, "newOrder", fault="rate-limited", retry_after=1))

    # When it is issued with a fallback account
    result = run(sandbox, name=name, domains=[domain], fallback_accounts=[BACKUP])

    # Then the backup account issued it, after the state machine's rate-limit retries of the first
    assert result["status"] == "issued", result
    failures = [failure.error for failure in lambda_failures(history(sandbox, result["execution_arn"]))]
    assert failures, "the first account never failed"
    assert set(failures) == {"AcmeRateLimited"}, failures
    assert plain(inventory_item(sandbox, name))["issued_account"] == BACKUP
    [switched] = switches(capture, name)
    assert (switched["detail"]["error"], switched["detail"]["step"]) == ("AcmeRateLimited", "create_order")
    # the failed attempt published nothing: no order, no TXT value
    assert challenge_records_under(sandbox, domain) == []


def test_a_failure_on_our_side_does_not_switch(sandbox: dict[str, Any], faults: FaultSwitch, capture: Capture) -> None:
    # Given Route 53 refuses every change for this certificate (ours: not the CA's)
    name, domain = "fallback-dns-refused", "fallback-dns-refused.example.test"
    faults.inject(
        {
            "id": name,
            "at": "aws",
            "operation": "route53.ChangeResourceRecordSets",
            "certificate": name,
            "step": "publish_challenges",
            "fault": "error",
            "status": 400,
            "code": "InvalidChangeBatch",
            "times": 0,
        }
    )

    # When it is issued with a fallback account
    result = run(sandbox, name=name, domains=[domain], fallback_accounts=[BACKUP])

    # Then it failed with the first account, cleaned up as always, and never switched
    assert result["status"] != "issued", result
    entered = states_entered(history(sandbox, result["execution_arn"]))
    assert "CleanUpFailure" in entered
    assert "SwitchToFallbackAccount" not in entered
    assert "FallbackAccountLeft" not in entered
    item = plain(inventory_item(sandbox, name))
    assert item["status"] == "failed"
    assert "issued_account" not in item
    assert switches(capture, name) == []


def test_without_a_fallback_account_a_ca_failure_fails_as_before(
    sandbox: dict[str, Any], faults: FaultSwitch, capture: Capture
) -> None:
    # Given the CA answers 503 to every new order of the first account for this certificate
    name = "fallback-none"
    faults.inject(ca_fails_for_the_first_account(name, "newOrder"))

    # When it is issued without fallback accounts
    result = run(sandbox, name=name, domains=["fallback-none.example.test"])

    # Then the CA-side error passes the fallback Choice to the usual cleanup, and nothing is switched or announced
    assert result["status"] != "issued", result
    entered = states_entered(history(sandbox, result["execution_arn"]))
    assert entered[entered.index("FallbackAccountLeft") + 1] == "CleanUpFailure"
    assert "SwitchToFallbackAccount" not in entered
    item = plain(inventory_item(sandbox, name))
    assert (item["status"], item["fallback_accounts"], item["last_error"]["error"]) == ("failed", [], "AcmeUnavailable")
    assert switches(capture, name) == []
    assert (result["error"], result["step"]) == ("AcmeUnavailable", "create_order")
