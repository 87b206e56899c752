"""Issue 13, item 6: the cleanup of a stopped execution acts only on what that execution's own ValidateRequest and
later steps produced, and re-checks names, zones and values against the lock it holds.

The attack: whoever may StartExecution starts an execution whose input is another execution's state (its
certificate's name, its order and its DNS-01 records, read from that execution's history or from DNS), and stops it
while ValidateRequest still runs. The execution's last recorded state is then that input, and the cleanup of a
stopped execution used to remove the TXT values and drop the pending key it names. Here the other execution keeps
both and still issues its certificate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from certlib.adapters.route53 import Route53, quote_txt, unquote_txt
from certlib.exceptions import TransientError
from certlib.lifecycle.failure import clean_up_failure, clean_up_stopped_execution, owned_by
from certlib.lifecycle.request import Request
from certlib.resources import certificate_secret_name
from tests.distribution.helpers import invoke
from tests.faults.helpers import FaultSwitch, finish, history, states_entered
from tests.faults.records import dns_change_pending, entered_state, txt_values_at, wait_for
from tests.faults.test_stopped_executions import status_change, wait_until_entered, wait_until_stopped
from tests.lifecycle.helpers import target_of
from tests.operations.aws_fakes import REGION, Deployment, deployment


# --- on the sandbox: the attack, end to end -----------------------------------------------------------------------
def certificate_bundle(info: dict[str, Any], name: str) -> dict[str, Any]:
    target = target_of(info)
    secret = certificate_secret_name(target.names.secret_prefix, name)
    try:
        value = target.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    except ClientError:
        return {}
    return dict(json.loads(value))


def start_crafted(info: dict[str, Any], name: str, crafted: Callable[[str], dict[str, Any]]) -> str:
    """Start an execution named `name` whose input is `crafted(its own execution ARN)`: the attacker names the
    execution, so it knows the ARN before it starts."""
    target = target_of(info)
    execution_arn = target.lifecycle_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    started = target.stepfunctions.start_execution(
        stateMachineArn=target.lifecycle_arn, name=name, input=json.dumps(crafted(execution_arn))
    )
    assert started["executionArn"] == execution_arn
    return execution_arn


def holds(victim: str, attacker_marker: str) -> list[dict[str, Any]]:
    """The victim waits for Route 53 (its change PENDING), then for its certificate (the CA's download answers 503);
    the attacker's executions stay in ValidateRequest (reading the configuration is throttled)."""
    return [
        dns_change_pending(victim),
        {
            "id": "victim-certificate-unavailable",
            "at": "acme",
            "request": "certificate",
            "fault": "status",
            "times": 0,
            "certificate": victim,
        },
        {
            "id": "attacker-in-validate-request",
            "at": "aws",
            "operation": "ssm.GetParameters",
            "fault": "error",
            "code": "ThrottlingException",
            "times": 0,
            "step": "validate_request",
            "event_contains": attacker_marker,
        },
    ]


def stopped_in_validate_request(info: dict[str, Any], faults: FaultSwitch, execution_arn: str) -> None:
    """Wait until the execution is in ValidateRequest, its function called, then stop it (as the attacker does)."""
    wait_until_entered(info, execution_arn, "ValidateRequest")
    wait_for(lambda: faults.calls(execution=execution_arn, fault="attacker-in-validate-request"), "ValidateRequest")
    target_of(info).stepfunctions.stop_execution(executionArn=execution_arn, error="Attacker", cause="crafted input")
    assert wait_until_stopped(info, execution_arn) == "ABORTED"


def test_a_crafted_input_and_stop_execution_touch_no_other_execution(
    sandbox: dict[str, Any], faults: FaultSwitch
) -> None:
    # Given a victim execution waiting for its DNS change: its TXT value published, its order recorded, its lock held
    label = uuid.uuid4().hex[:6]
    victim, marker = f"victim-{label}", f"attacker-{label}"
    domain = f"{victim}.example.test"
    faults.inject(*holds(victim, marker))
    victim_arn = target_of(sandbox).stepfunctions.start_execution(
        stateMachineArn=target_of(sandbox).lifecycle_arn,
        name=f"{victim}-execution",
        input=json.dumps({"name": victim, "domains": [domain]}),
    )["executionArn"]
    wait_until_entered(sandbox, victim_arn, "CheckDnsChange")
    state = entered_state(sandbox, victim_arn, "CheckDnsChange")
    (challenge,) = state["order"]["challenges"]
    record_name = challenge["record_name"]
    assert txt_values_at(sandbox, record_name) == [challenge["value"]]

    # And two executions started with a crafted input: the victim's certificate name, order and DNS-01 record (and
    # their own ARN as the request's execution), both stopped while ValidateRequest runs
    def crafted(execution_arn: str) -> dict[str, Any]:
        return {
            "name": victim,
            "request": {**state["request"], "execution_id": execution_arn},
            "order": state["order"],
            "marker": marker,
        }

    faults.inject(*holds(victim, marker), cold_start=True)  # ValidateRequest reads the configuration again
    attackers = [start_crafted(sandbox, f"{marker}-{n}", crafted) for n in (1, 2)]
    for attacker in attackers:
        stopped_in_validate_request(sandbox, faults, attacker)

    # When EventBridge hands the first one's status change to clean_up_stopped_execution, while the victim waits
    # for its DNS change
    first = invoke(sandbox, "clean_up_stopped_execution", status_change(sandbox, attackers[0], "ABORTED"))

    # Then nothing was cleaned up: the victim's TXT value, its lock and its status are as they were
    assert first["outcome"] == "nothing_to_clean_up", first
    assert "not locked by this execution" in first["reason"]
    assert txt_values_at(sandbox, record_name) == [challenge["value"]]
    item = target_of(sandbox).inventory.get(victim) or {}
    assert (item["lock_owner"], item["order_url"], item["status"]) == (victim_arn, state["order"]["url"], "issuing")
    assert "last_error" not in item

    # When the victim goes on and waits for its certificate, its pending key kept in its secret, and the second
    # attacker's status change is handed over then
    faults.inject(*holds(victim, marker)[1:])
    wait_until_entered(sandbox, victim_arn, "StoreCertificate")
    pending = wait_for(lambda: certificate_bundle(sandbox, victim).get("pending_order_url"), "the pending key")
    second = invoke(sandbox, "clean_up_stopped_execution", status_change(sandbox, attackers[1], "ABORTED"))

    # Then the victim's pending key is still there
    assert second["outcome"] == "nothing_to_clean_up", second
    bundle = certificate_bundle(sandbox, victim)
    assert (bundle.get("pending_order_url"), bool(bundle.get("pending_private_key"))) == (pending, True)
    assert pending == state["order"]["url"]

    # And once the CA answers, the victim issues its certificate, and removed its TXT value itself
    faults.clear()
    (result,) = finish(sandbox, [victim_arn])
    assert result["status"] == "issued", result
    assert txt_values_at(sandbox, record_name) == []
    assert "lock_owner" not in (target_of(sandbox).inventory.get(victim) or {})
    # And the attackers' executions never got past ValidateRequest
    for attacker in attackers:
        assert states_entered(history(sandbox, attacker)) == ["ValidateRequest"]


# --- in process: the rules of clean_up_failure and owned_by -----------------------------------------------------------
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:acme-certs-certificate-lifecycle:web-1"
OTHER_EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:acme-certs-certificate-lifecycle:crafted"
ORDER_URL = "https://ca.example/order/1"
NAME = "web"
DOMAIN = "www.example.test"
RECORD = f"_acme-challenge.{DOMAIN}"
FAILURE = {"Error": "ChallengeInvalid", "Cause": "check_order: the CA could not validate www.example.test"}


@pytest.fixture
def aws() -> Iterator[tuple[Deployment, str]]:
    """An inventory, a certificate secret store and a hosted zone; the item locked by EXECUTION, with its order."""
    with deployment() as running:
        zone = running.session.client("route53").create_hosted_zone(Name="example.test", CallerReference="z")
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        fields = {"domains": [DOMAIN], "account": "sandbox", "key_type": "ec256", "regions": [REGION]}
        running.services.inventory.take_lock(NAME, EXECUTION, 3600, {**fields, "status": "issuing"})
        running.services.inventory.update(NAME, EXECUTION, {"order_url": ORDER_URL, "order_execution": EXECUTION})
        yield running, zone_id


def state_of(zone_id: str, execution_id: str = EXECUTION, **changes: Any) -> dict[str, Any]:
    """The state of EXECUTION's lifecycle after PublishChallenges (what CleanUpFailure is handed)."""
    place = {"record_name": RECORD, "zone_id": zone_id, "role_arn": None, "external_id": None}
    request = Request(NAME, [DOMAIN], "sandbox", "ec256", [REGION], execution_id, zones={DOMAIN: place}).to_dict()
    challenge = {
        "domain": DOMAIN,
        "authorization_url": "a",
        "challenge": {"type": "dns-01", "url": "c", "status": "pending", "token": "t"},
        "value": "ours",
        **place,
    }
    return {"request": request, "order": {"url": ORDER_URL, "challenges": [challenge]}, "error": FAILURE, **changes}


def publish(deployment: Deployment, zone_id: str, values: list[str], name: str = RECORD) -> None:
    deployment.session.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "TXT",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": quote_txt(value)} for value in values],
                    },
                }
            ]
        },
    )


def txt_at(deployment: Deployment, zone_id: str, name: str = RECORD) -> list[str]:
    records = deployment.session.client("route53").list_resource_record_sets(HostedZoneId=zone_id)
    return sorted(
        unquote_txt(r["Value"])
        for record in records["ResourceRecordSets"]
        if record["Type"] == "TXT" and record["Name"].rstrip(".") == name
        for r in record["ResourceRecords"]
    )


def keep_pending_key(deployment: Deployment, order_url: str = ORDER_URL) -> None:
    deployment.services.secrets.put_certificate(
        NAME, {"pending_private_key": "PEM", "pending_order_url": order_url, "serial": "01"}
    )


def bundle_of(deployment: Deployment) -> dict[str, Any]:
    stored = deployment.services.secrets.certificate(NAME)
    assert stored is not None
    return dict(stored.value)


def test_the_execution_holding_the_lock_removes_its_values_and_drops_its_pending_key(
    aws: tuple[Deployment, str],
) -> None:
    # Given the execution's TXT value next to another certificate's at the same name, and its pending key
    deployment, zone_id = aws
    publish(deployment, zone_id, ["theirs", "ours"])
    keep_pending_key(deployment)

    # When CleanUpFailure runs for it
    result = clean_up_failure({"state": state_of(zone_id), "execution_id": EXECUTION}, deployment.services)

    # Then exactly its value is gone, its pending key dropped, the failure recorded and the lock released
    assert (result["challenges_removed"], result["failure_recorded"]) == (1, True)
    assert txt_at(deployment, zone_id) == ["theirs"]
    assert "pending_private_key" not in bundle_of(deployment)
    item = deployment.services.inventory.get(NAME) or {}
    assert "lock_owner" not in item
    assert item["last_error"]["execution"] == EXECUTION


def test_a_crafted_state_of_another_execution_removes_nothing(aws: tuple[Deployment, str]) -> None:
    # Given the locked certificate's TXT value and pending key, and another execution's cleanup handed a state that
    # names them (its own ARN as the request's execution: the attacker chose the execution's name)
    deployment, zone_id = aws
    publish(deployment, zone_id, ["ours"])
    keep_pending_key(deployment)
    crafted = state_of(zone_id, execution_id=OTHER_EXECUTION)

    # When CleanUpFailure runs for that other execution
    result = clean_up_failure({"state": crafted, "execution_id": OTHER_EXECUTION}, deployment.services)

    # Then nothing of the locked certificate was touched
    assert (result["challenges_removed"], result["failure_recorded"]) == (0, False)
    assert txt_at(deployment, zone_id) == ["ours"]
    assert bundle_of(deployment)["pending_order_url"] == ORDER_URL
    item = deployment.services.inventory.get(NAME) or {}
    assert (item["lock_owner"], item["order_url"], item.get("last_error")) == (EXECUTION, ORDER_URL, None)


@pytest.mark.parametrize(
    ("what", "tamper"),
    [
        ("another order", lambda state, zone: {**state, "order": {**state["order"], "url": "https://ca.example/o/2"}}),
        (
            "a record name that is not the domain's",
            lambda state, zone: challenge_with(state, record_name="_acme-challenge.other.example.test"),
        ),
        ("another zone", lambda state, zone: challenge_with(state, zone_id="ZOTHER")),
        ("a domain outside the certificate", lambda state, zone: challenge_with(state, domain="other.example.test")),
    ],
)
def test_the_lock_holder_removes_only_its_order_at_its_domains_places(
    aws: tuple[Deployment, str], what: str, tamper: Callable[[dict[str, Any], str], dict[str, Any]]
) -> None:
    # Given the execution holding the lock, with a state whose challenge is not its order's at its domain's place
    deployment, zone_id = aws
    state = tamper(state_of(zone_id), zone_id)
    item = deployment.services.inventory.get(NAME)

    # When / Then owned_by leaves it out
    assert owned_by(item, EXECUTION, state).challenges == [], what


def challenge_with(state: dict[str, Any], **fields: Any) -> dict[str, Any]:
    (challenge,) = state["order"]["challenges"]
    return {**state, "order": {**state["order"], "challenges": [{**challenge, **fields}]}}


def test_a_stopped_execution_whose_last_state_is_not_its_own_is_left_alone(aws: tuple[Deployment, str]) -> None:
    # Given the locked certificate's TXT value, and a stopped execution whose history ends with a crafted state
    deployment, zone_id = aws
    publish(deployment, zone_id, ["ours"])
    crafted = state_of(zone_id, execution_id=OTHER_EXECUTION)

    class History:
        def last_state(self, execution_arn: str) -> tuple[str, dict[str, Any]]:
            return "ValidateRequest", crafted

    deployment.services.execution_history = History()  # type: ignore[assignment]
    event = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"status": "ABORTED", "executionArn": OTHER_EXECUTION},
    }

    # When its status change is handled
    result = clean_up_stopped_execution(event, deployment.services)

    # Then nothing was done, and no failure announced
    assert (result["outcome"], result["reason"]) == (
        "nothing_to_clean_up",
        "certificate 'web' is not locked by this execution",
    )
    assert txt_at(deployment, zone_id) == ["ours"]
    assert deployment.events() == []
    assert (deployment.services.inventory.get(NAME) or {})["lock_owner"] == EXECUTION


def test_a_cleanup_that_cannot_remove_its_values_keeps_the_lock_for_its_retry(aws: tuple[Deployment, str]) -> None:
    # Given the execution's TXT value, and Route 53 that fails the first removal
    deployment, zone_id = aws
    publish(deployment, zone_id, ["ours"])
    remove = Route53.remove_txt_values
    attempts: list[str] = []

    def fails_once(adapter: Route53, zone: str, values_by_name: Any) -> str | None:
        attempts.append(zone)
        if len(attempts) == 1:
            raise TransientError("changing records: Throttling")
        return remove(adapter, zone, values_by_name)

    event = {"state": state_of(zone_id), "execution_id": EXECUTION}

    # When the cleanup runs, fails with the retryable error, and runs again
    with mock.patch.object(Route53, "remove_txt_values", fails_once):
        with pytest.raises(TransientError, match="challenge records not removed yet"):
            clean_up_failure(event, deployment.services)
        kept = deployment.services.inventory.get(NAME) or {}
        retried = clean_up_failure(event, deployment.services)

    # Then the first run recorded the failure but kept the lock, and the retry removed the value and released it
    assert (kept["lock_owner"], kept["status"]) == (EXECUTION, "failed")
    assert retried["challenges_removed"] == 1
    assert txt_at(deployment, zone_id) == []
    item = deployment.services.inventory.get(NAME) or {}
    assert "lock_owner" not in item
    assert [entry["event"] for entry in item["history"]].count("failed") == 1
