"""Names validated out of band (the account's `prevalidated-domains`), end to end on the sandbox: `certctl sandbox
prevalidate` has Pebble validate them for the account through the sandbox DNS, and the pipeline then issues them with
no Route 53 zone, no TXT record and none of the DNS-01 states.

The sandbox's account `sandbox` declares corp.test and *.corp.test, which have no Route 53 zone there.
"""

from __future__ import annotations

import json
from typing import Any

from tests.faults.helpers import FaultSwitch, history, states_entered
from tests.faults.records import entered_state
from tests.lifecycle.helpers import acm_view, certctl, challenge_records, inventory_item, issue

DNS_STATES = {"PublishChallenges", "CheckDnsChange", "AnswerChallenges", "RemoveChallenges"}


def prevalidate(info: dict[str, Any], *domains: str) -> dict[str, Any]:
    """`certctl sandbox prevalidate --account sandbox --domains ...`, as a user types it; its JSON output."""
    run = certctl(
        info,
        "sandbox",
        "prevalidate",
        "--state-dir",
        info["state_dir"],
        "--account",
        "sandbox",
        "--domains",
        ",".join(domains),
    )
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def route53_calls(calls: FaultSwitch, execution_arn: str) -> list[str]:
    """Every Route 53 call a function made for the execution (the sandbox logs each AWS call by execution)."""
    operations = [str(call.get("operation")) for call in calls.calls(execution=execution_arn, kind="aws")]
    return [operation for operation in operations if operation.startswith("route53.")]


def test_prevalidated_names_without_a_zone_issue_and_renew_without_dns_work(sandbox: dict[str, Any]) -> None:
    # Given names with no Route 53 zone, validated for the account at the CA (a wildcard too)
    calls = FaultSwitch(sandbox)
    validated = prevalidate(sandbox, "www.corp.test", "*.corp.test")
    assert validated["validated"] == ["*.corp.test", "www.corp.test"]
    assert validated["not_declared_prevalidated"] == []

    # When the user issues them, naming no account (the default, `sandbox`)
    run = certctl(sandbox, "issue", "--name", "corp", "--domains", "www.corp.test,*.corp.test", "--wait", "--json")

    # Then the certificate is issued for exactly those names and is in ACM
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "issued", result
    assert sorted(acm_view(sandbox, result["certificate_arn"])["facts"].domains) == ["*.corp.test", "www.corp.test"]
    # And the execution skipped every DNS-01 state through the Choice, made no Route 53 call and left no record
    entered = states_entered(history(sandbox, result["execution_arn"]))
    assert "HasDnsChallenges" in entered
    assert not DNS_STATES & set(entered), entered
    assert route53_calls(calls, result["execution_arn"]) == []
    assert challenge_records(sandbox) == []
    assert inventory_item(sandbox, "corp")["status"] == "issued"

    # When it is renewed (the CA still holds the names valid for the account)
    renewed = json.loads(certctl(sandbox, "renew", "--name", "corp", "--force", "--wait", "--json").stdout)

    # Then the renewal skips the DNS-01 states as well, and re-imports to the same ARN
    assert renewed["status"] == "renewed", renewed
    assert renewed["certificate_arn"] == result["certificate_arn"]
    assert not DNS_STATES & set(states_entered(history(sandbox, renewed["execution_arn"])))
    assert route53_calls(calls, renewed["execution_arn"]) == []


def test_a_mixed_order_publishes_only_the_zone_names_record(sandbox: dict[str, Any]) -> None:
    # Given one pre-validated name without a zone, and one name of the sandbox's zone example.test never validated yet
    prevalidate(sandbox, "mixed.corp.test")
    calls = FaultSwitch(sandbox)

    # When one certificate is asked for both
    result = issue(sandbox, name="mixed", domains=["mixed.corp.test", "mixed.example.test"])

    # Then it is issued for both
    assert result["status"] == "issued", result
    assert sorted(acm_view(sandbox, result["certificate_arn"])["facts"].domains) == [
        "mixed.corp.test",
        "mixed.example.test",
    ]
    # And only the zone name's DNS-01 record was published (then removed); the other name has no zone looked up
    published = entered_state(sandbox, result["execution_arn"], "PublishChallenges")
    assert [c["record_name"] for c in published["order"]["challenges"]] == ["_acme-challenge.mixed.example.test"]
    assert published["request"]["prevalidated"] == ["mixed.corp.test"]
    assert list(published["request"]["zones"]) == ["mixed.example.test"]
    assert "RemoveChallenges" in states_entered(history(sandbox, result["execution_arn"]))
    changes = [c for c in route53_calls(calls, result["execution_arn"]) if c == "route53.ChangeResourceRecordSets"]
    assert len(changes) == 2  # the record published, then removed
    assert challenge_records(sandbox) == []


def test_a_declared_name_the_ca_has_not_validated_fails_clearly_and_leaves_nothing(sandbox: dict[str, Any]) -> None:
    # Given a name the account declares pre-validated (corp.test), never validated at the CA
    calls = FaultSwitch(sandbox)

    # When a certificate is asked for it
    result = issue(sandbox, name="not-validated", domains=["never.corp.test"])

    # Then the execution fails in CreateOrder with one message naming the name and what to do
    assert result["status"] == "failed", result
    assert (result["error"], result["step"]) == ("NotPrevalidated", "create_order")
    message = result["message"]
    assert "the CA has not validated never.corp.test for ACME account 'sandbox'" in message
    assert "validate it in the CA's portal" in message
    assert "give it a Route 53 hosted zone and take it out of 'prevalidated-domains'" in message
    # And nothing is left behind: no lock, no TXT record, no Route 53 call, the failure recorded
    item = inventory_item(sandbox, "not-validated")
    assert "lock_owner" not in item
    assert (item["status"], item["last_error"]["error"]) == ("failed", "NotPrevalidated")
    assert challenge_records(sandbox) == []
    assert route53_calls(calls, result["execution_arn"]) == []
    entered = states_entered(history(sandbox, result["execution_arn"]))
    assert entered[-2:] == ["CleanUpFailure", "Failed"]
    assert not DNS_STATES & set(entered)


def test_a_name_neither_declared_nor_in_a_zone_is_refused_before_the_ca_is_asked(sandbox: dict[str, Any]) -> None:
    # Given a name the account does not declare pre-validated, in no zone of the sandbox
    calls = FaultSwitch(sandbox)

    # When a certificate is asked for it
    result = issue(sandbox, name="nowhere", domains=["www.nowhere.test"])

    # Then ValidateRequest refuses it, as before, and says how to declare it
    assert result["status"] == "failed", result
    assert (result["error"], result["step"]) == ("InvalidRequest", "validate_request")
    assert "no Route 53 hosted zone we may use holds 'www.nowhere.test'" in result["message"]
    assert "'prevalidated-domains'" in result["message"]
    # And the CA was never asked
    assert [c for c in calls.calls(execution=result["execution_arn"]) if c["kind"] == "acme"] == []


def test_prevalidate_refuses_an_unknown_account_in_one_line(sandbox: dict[str, Any]) -> None:
    # Given / When prevalidate names an account the sandbox does not have
    run = certctl(
        sandbox,
        "sandbox",
        "prevalidate",
        "--state-dir",
        sandbox["state_dir"],
        "--account",
        "nope",
        "--domains",
        "a.corp.test",
    )

    # Then it fails with one line naming the configured aliases
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1
    assert "unknown ACME account alias 'nope'; configured aliases:" in run.stderr
