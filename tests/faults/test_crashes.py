"""A function's runtime dies at step k (before or after doing its work); a new execution for the same certificate
then completes and leaves one certificate per region, no challenge record, no lock, a consistent inventory.

The crash is what Lambda reports when a runtime exits (`Runtime.ExitError`), and the next invocation starts cold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from certlib.resources import LIFECYCLE_STEPS
from tests.distribution.helpers import distribution_profile, start_nodes
from tests.faults.helpers import (
    FaultSwitch,
    acm_certificates_for,
    challenge_records_under,
    finish,
    history,
    plain,
    start,
    states_entered,
)
from tests.faults.test_fallback_ca import ca_fails_for_the_first_account
from tests.lifecycle.helpers import target_of

REGIONS = ["us-east-1", "eu-west-1"]
DISTRIBUTION_STEPS = ("send_distribution", "check_distribution")  # they run only when a distribution is asked for
# ImportCertificate's Map reports one region's failure and keeps the others, and a failed distribution is reported
# with the certificate recorded in ACM: after a crash there, the execution goes on.
GOES_ON_AFTER_A_CRASH = ("import_certificate", *DISTRIBUTION_STEPS)
# They run only for an AWS Private CA account (the sandbox's `sandbox-pca`).
PRIVATE_CA_STEPS = ("issue_from_private_ca", "check_private_ca_certificate")
# It runs only when the first account fails on the CA's side and a fallback account is named: the CA answers 503 to
# every newOrder of the first account (`sandbox`) for that certificate, and `sandbox-backup` is the fallback.
SWITCH_STEP = "switch_to_fallback_account"
# A crash after step k's work leaves what k did and nothing after it: every step. A crash before its work is a
# crash after the step before, except where no step is before (validate_request), where the sibling regions of the
# Map go on (import_certificate), and for the cleanup itself (its own tests below).
# The cleanup runs only after a failure: its case fails check_order first (a crash after check_order's work).
CASES = [(step, "after") for step in LIFECYCLE_STEPS]
CASES += [("validate_request", "before"), ("import_certificate", "before")]


def case_name(step: str, when: str) -> str:
    return f"crash-{when}-{step.replace('_', '-')}"


def domain_of(name: str) -> str:
    return f"{name}.example.test"


def request_for(info: dict[str, Any], name: str, step: str) -> dict[str, Any]:
    request: dict[str, Any] = {"name": name, "domains": [domain_of(name)], "regions": REGIONS}
    if step in PRIVATE_CA_STEPS:
        request["account"] = "sandbox-pca"
    if step == SWITCH_STEP:
        request["fallback_accounts"] = ["sandbox-backup"]
    if step in DISTRIBUTION_STEPS:
        start_nodes(info, 1, role=name)
        request["distribution"] = distribution_profile(info, f"/etc/ssl/{name}", "role", name)
    return request


def crash(name: str, step: str, when: str, suffix: str = "") -> dict[str, Any]:
    # check_distribution's event is the command sent: it names the nodes' tag (the certificate's name), not the name
    scope = {"event_contains": name} if step == "check_distribution" else {"certificate": name}
    return {"id": name + suffix, "at": "handler", "fault": "crash", "when": when, "step": step, **scope}


@pytest.fixture(scope="module")
def crashed_then_retried(sandbox: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every case side by side: an execution that crashes at its step, then a new execution for the same name."""
    switch = FaultSwitch(sandbox)
    plan = [crash(case_name(*case), *case) for case in CASES]
    plan += [ca_fails_for_the_first_account(case_name(*case), "newOrder") for case in CASES if case[0] == SWITCH_STEP]
    cleanup = case_name("clean_up_failure", "after")
    plan.append(crash(cleanup, "check_order", "after", "-first"))
    switch.inject(*plan)
    try:
        requests = {case: request_for(sandbox, case_name(*case), case[0]) for case in CASES}
        crashed = finish(sandbox, [start(sandbox, **requests[case]) for case in CASES])
        retried = finish(sandbox, [start(sandbox, **requests[case]) for case in CASES])
        injected = {entry["fault"] for entry in switch.calls(kind="handler")}
    finally:
        switch.clear()
    return {
        case: {"crashed": crashed[i], "retried": retried[i], "injected": case_name(*case) in injected}
        for i, case in enumerate(CASES)
    }


def assert_consistent(info: dict[str, Any], name: str, result: dict[str, Any]) -> None:
    """One certificate per region (the one the inventory names), no challenge record, no lock, no pending key."""
    assert result["status"] in ("issued", "renewed"), result
    for region in REGIONS:
        assert acm_certificates_for(info, domain_of(name), region) == [result["certificate_arns"][region]], region
    assert challenge_records_under(info, domain_of(name)) == []
    target = target_of(info)
    item = plain(target.inventory.get(name))
    assert "lock_owner" not in item
    assert "order_url" not in item
    assert "last_error" not in item
    assert item["status"] == "issued"
    assert item["serial"] == result["serial"]
    assert item["certificate_arns"] == result["certificate_arns"]
    assert item["history"][-1]["event"] == result["status"]
    secret = target.client("secretsmanager").get_secret_value(
        SecretId=f"{target.names.secret_prefix}certificate/{name}"
    )
    stored = json.loads(secret["SecretString"])
    assert "pending_private_key" not in stored
    assert stored["serial"] == result["serial"]


@pytest.mark.parametrize(("step", "when"), CASES, ids=[case_name(*case) for case in CASES])
def test_a_new_execution_completes_after_a_crash(
    sandbox: dict[str, Any], crashed_then_retried: dict[tuple[str, str], dict[str, Any]], step: str, when: str
) -> None:
    # Given an execution whose function crashed at this step
    outcome = crashed_then_retried[(step, when)]
    crashed = outcome["crashed"]
    assert outcome["injected"], "the crash was not injected"
    if step not in GOES_ON_AFTER_A_CRASH:
        # the crash is not retried (nothing says it would not happen again): the failure path ran, the error kept
        # (a crashed switch keeps the CA's error that led to it: the switch's Catch puts its own apart)
        expected = "AcmeUnavailable" if step == SWITCH_STEP else "Runtime.ExitError"
        assert (crashed["status"], crashed["error"]) == ("failed", expected), crashed
        assert states_entered(history(sandbox, crashed["execution_arn"]))[-2:] == ["CleanUpFailure", "Failed"]

    # When a new execution ran for the same certificate
    # Then it completed, and left everything as one clean issuance would
    assert_consistent(sandbox, case_name(step, when), outcome["retried"])


CRASHED_CLEANUP = "crash-before-clean-up-failure"


@pytest.fixture(scope="module")
def leftovers_removed(sandbox: dict[str, Any]) -> Iterator[None]:
    """After this module, the challenge records a crashed cleanup left are gone (other tests check that none is
    left in the zones at all)."""
    yield
    route53 = target_of(sandbox).client("route53")
    name = f"_acme-challenge.{domain_of(CRASHED_CLEANUP)}."
    for zone in route53.list_hosted_zones()["HostedZones"]:
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        stale = [record for record in records if record["Name"] == name]
        if stale:
            changes = [{"Action": "DELETE", "ResourceRecordSet": record} for record in stale]
            route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": changes})


@pytest.mark.usefixtures("leftovers_removed")
def test_a_crashed_cleanup_is_retried_and_leaves_nothing(sandbox: dict[str, Any], faults: FaultSwitch) -> None:
    # Given an execution that fails at check_order and whose cleanup then crashes before doing anything
    name = CRASHED_CLEANUP
    faults.inject(crash(name, "check_order", "after", "-first"), crash(name, "clean_up_failure", "before"))
    request = {"name": name, "domains": [domain_of(name)], "regions": REGIONS}
    [crashed] = finish(sandbox, [start(sandbox, **request)])
    # Then it failed with the first error kept (not the cleanup's), and the retried cleanup did its work:
    # no challenge record, no lock, the failure recorded
    assert (crashed["status"], crashed["error"]) == ("failed", "Runtime.ExitError"), crashed
    assert "in check_order" in crashed["message"]
    assert challenge_records_under(sandbox, domain_of(name)) == []
    target = target_of(sandbox)
    item = plain(target.inventory.get(name))
    assert "lock_owner" not in item
    assert item["status"] == "failed"
    # When a new execution is started, it completes: one certificate per region, inventory consistent
    [second] = finish(sandbox, [start(sandbox, **request)])
    assert second["status"] == "issued", second
    for region in REGIONS:
        assert acm_certificates_for(sandbox, domain_of(name), region) == [second["certificate_arns"][region]]
    item = plain(target.inventory.get(name))
    assert "lock_owner" not in item
    assert item["serial"] == second["serial"]


def test_a_crash_right_after_the_acm_import_makes_no_second_certificate(
    sandbox: dict[str, Any], faults: FaultSwitch
) -> None:
    # Given a runtime that dies right after ACM imported the certificate, before the ARN is recorded
    name = "crash-after-acm-import"
    faults.inject(
        {
            "id": name,
            "at": "aws",
            "operation": "acm.ImportCertificate",
            "fault": "crash-after",
            "certificate": name,
            "times": len(REGIONS),
        }
    )
    request = {"name": name, "domains": [domain_of(name)], "regions": REGIONS}
    [first] = finish(sandbox, [start(sandbox, **request)])
    assert len(faults.calls(fault=name)) == len(REGIONS)
    # When a new execution runs for the same certificate
    [retried] = finish(sandbox, [start(sandbox, **request)])
    # Then it re-imported into the certificates the crashed one made: one per region
    assert_consistent(sandbox, name, retried)
    assert first["status"] != "issued" or first["certificate_arns"] == retried["certificate_arns"]
