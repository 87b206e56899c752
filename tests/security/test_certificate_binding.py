"""A certificate's name is bound to its domains and ACME account (issue 13, item 5), on the sandbox: another set of
domains or another account for an existing name is refused unless the input says `"replace": true`; an accepted
replacement is announced (event + message); the pipeline's own renewals keep the recorded ones and are never refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from certlib.notifications.events import RENEWED, REPLACEMENT_ACCEPTED
from tests.faults.helpers import history, states_entered
from tests.lifecycle.helpers import certctl, inventory_item, issue, target_of
from tests.operations.sandbox_capture import Capture, start_capture
from tests.operations.schema import validate_event


@pytest.fixture(scope="module")
def capture(sandbox: dict[str, Any]) -> Capture:
    return start_capture(sandbox, "lifecycle-replace")


# The sandbox has one ACME account (Pebble's EAB key): a certificate "of another account" is one issued with it whose
# inventory item then records another alias, as an item issued by another account of a deployment would.
OTHER_ACCOUNT = "retired-ca"


def replacements(capture: Capture, name: str) -> list[dict[str, Any]]:
    return [event for event in capture.events(name) if event["detail-type"] == REPLACEMENT_ACCEPTED]


def record_account(sandbox: dict[str, Any], name: str, alias: str) -> None:
    target_of(sandbox).inventory.update(name, None, {"account": alias})


def test_other_domains_are_refused_without_replace(sandbox: dict[str, Any], capture: Capture) -> None:
    # Given a certificate issued for two names with the sandbox's account
    first = issue(sandbox, name="bound", domains=["bound-a.example.test", "*.bound-a.example.test"])
    assert first["status"] == "issued", first
    before = inventory_item(sandbox, "bound")

    # When the same name is asked for with other domains (and the same account, named), without "replace"
    refused = issue(sandbox, name="bound", domains=["bound-b.example.test"], account=sandbox["acme_account_alias"])

    # Then ValidateRequest refuses it with one message: what changed, from what to what, and how to change it
    assert (refused["status"], refused["error"], refused["step"]) == ("failed", "InvalidRequest", "validate_request")
    assert refused["message"] == (
        "validate_request: certificate 'bound' is bound to its domains and ACME account, and this request changes "
        "its domains from [bound-a.example.test, *.bound-a.example.test] to [bound-b.example.test]. Changing them "
        'needs "replace": true in the input (certctl issue --replace), and is announced; or ask for the recorded '
        "ones, or use a new name"
    )
    assert states_entered(history(sandbox, refused["execution_arn"])) == ["ValidateRequest", "RequestRejected"]
    # And nothing changed or was announced
    after = inventory_item(sandbox, "bound")
    assert {k: after.get(k) for k in ("domains", "account", "serial", "status")} == {
        k: before.get(k) for k in ("domains", "account", "serial", "status")
    }
    assert replacements(capture, "bound") == []


def test_the_same_domains_in_another_order_and_spelling_are_a_renewal(
    sandbox: dict[str, Any], capture: Capture
) -> None:
    # Given a certificate with two names
    first = issue(sandbox, name="same-set", domains=["same-set.example.test", "www.same-set.example.test"])
    assert first["status"] == "issued", first

    # When it is asked for again with the same set of names, reordered and spelled differently
    again = issue(sandbox, name="same-set", domains=["WWW.Same-Set.example.test.", "same-set.example.test"])

    # Then it is renewed in place, with nothing announced
    assert again["status"] == "renewed", again
    assert again["certificate_arns"] == first["certificate_arns"]
    assert replacements(capture, "same-set") == []


def test_certctl_issue_replace_changes_the_domains_and_account_and_announces_it(
    sandbox: dict[str, Any], capture: Capture
) -> None:
    # Given a certificate issued with another ACME account than the default
    first = issue(sandbox, name="moving", domains=["moving-a.example.test"])
    assert first["status"] == "issued", first
    record_account(sandbox, "moving", OTHER_ACCOUNT)
    capture.events("moving")  # (the issuance's own event)

    # When certctl asks for other domains without --account (so the default account) and without --replace
    refused = certctl(sandbox, "issue", "--name", "moving", "--domains", "moving-b.example.test", "--wait", "--json")

    # Then it fails in ValidateRequest with one line on stderr, which says the account falls back to the default
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("certctl: moving failed in validate_request: InvalidRequest: ")
    assert "its domains from [moving-a.example.test] to [moving-b.example.test]" in refused.stderr
    assert (
        f"its ACME account from '{OTHER_ACCOUNT}' to 'sandbox' (the default account: the request names none)"
        in refused.stderr
    )
    assert "certctl issue --replace" in refused.stderr

    # When the same is asked with --replace
    replaced = certctl(
        sandbox, "issue", "--name", "moving", "--domains", "moving-b.example.test", "--replace", "--wait", "--json"
    )

    # Then the new certificate, for the new name and from the default account, went to the same ACM ARN
    assert replaced.returncode == 0, replaced.stderr
    result = json.loads(replaced.stdout)
    assert (result["status"], result["domains"]) == ("renewed", ["moving-b.example.test"])
    assert result["certificate_arn"] == first["certificate_arn"]
    acm = target_of(sandbox).client("acm")
    described = acm.describe_certificate(CertificateArn=result["certificate_arn"])["Certificate"]
    assert described["SubjectAlternativeNames"] == ["moving-b.example.test"]
    item = inventory_item(sandbox, "moving")
    assert (item["domains"], item["account"]) == (["moving-b.example.test"], "sandbox")

    # And it was announced: one event (before the renewal's) naming the old and new domains and account
    events = capture.events("moving")
    assert [event["detail-type"] for event in events] == [REPLACEMENT_ACCEPTED, RENEWED]
    detail = events[0]["detail"]
    validate_event(REPLACEMENT_ACCEPTED, detail)
    assert (detail["previous_domains"], detail["domains"]) == (["moving-a.example.test"], ["moving-b.example.test"])
    assert (detail["previous_account"], detail["account"]) == (OTHER_ACCOUNT, "sandbox")
    assert (detail["changed"], detail["current_serial"]) == (["domains", "account"], first["serial"])
    assert detail["execution"] == result["execution_arn"]
    assert events[0]["resources"] == [first["certificate_arn"]]
    # And one message to people on the notification topic
    [message] = capture.notifications("moving")
    assert message["Subject"] == "Certificate moving: domains and ACME account changed (replace accepted)"
    assert message["MessageAttributes"]["detail_type"]["Value"] == REPLACEMENT_ACCEPTED
    for line in (
        "Names before:  moving-a.example.test",
        "Names now:     moving-b.example.test",
        f"ACME account:  {OTHER_ACCOUNT} -> sandbox",
    ):
        assert line in message["Message"]

    # When the pipeline renews it (certctl renew starts what the sweep, the expiry event and a revocation start:
    # the recorded domains and account)
    renewed = certctl(sandbox, "renew", "--name", "moving", "--force", "--wait", "--json")

    # Then it is not refused, and nothing more is announced
    assert renewed.returncode == 0, renewed.stderr
    assert json.loads(renewed.stdout)["status"] == "renewed"
    assert replacements(capture, "moving") == []
    assert capture.notifications("moving") == []
