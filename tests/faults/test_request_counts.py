"""The requests one issuance makes, per step, from the sandbox's call log (issue 16): the challenges are answered
without being read first, the order is finalized without being read first (CheckOrder saw it ready), and each zone's
TXT values are written and removed with one Route 53 change each, without listing the record sets first."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

from tests.faults.helpers import FaultSwitch, finish, start

# What a function's first ACME call of a container costs: whether a container is new depends on the tests before.
CONTAINER_START = ("directory", "newNonce")


def accepted(call: dict[str, Any]) -> bool:
    """An ACME request the CA carried out (a nonce the CA rejected is retried, and counted again, by design)."""
    return bool(call.get("reached_ca")) and call.get("status") is not None and call["status"] < 300


def test_one_issuance_asks_the_ca_and_route53_no_more_than_needed(sandbox: dict[str, Any], faults: FaultSwitch) -> None:
    # Given two new names (no authorization to reuse)
    name = f"counted-{secrets.token_hex(3)}"
    domains = [f"{name}.example.test", f"n1.{name}.example.test"]

    # When the certificate is issued
    [result] = finish(sandbox, [start(sandbox, name=name, domains=domains)])
    assert result["status"] == "issued", result

    # Then answering posted each challenge once, and read none (a new container's directory GET and newNonce aside)
    calls = faults.calls(certificate=name)
    acme = Counter(
        (c["step"], c["request"])
        for c in calls
        if c["kind"] == "acme" and accepted(c) and c["request"] not in CONTAINER_START
    )
    assert {request: n for (step, request), n in acme.items() if step == "answer_challenges"} == {"challenge": 2}
    # And finalizing posted the CSR once, without reading the order first
    assert {request: n for (step, request), n in acme.items() if step == "finalize_order"} == {"finalize": 1}
    # And each zone's values took one Route 53 change to publish, one status check and one change to remove, with no
    # record set listed: ValidateRequest asks DNS, not Route 53, whether a CNAME delegates a DNS-01 record (it reads
    # the zone only when DNS reports one; the zone list, read once per container, is left out)
    route53 = [
        (c["step"], c["operation"])
        for c in calls
        if c["kind"] == "aws" and c["operation"].startswith("route53.") and c["operation"] != "route53.ListHostedZones"
    ]
    assert Counter(route53) == {
        ("publish_challenges", "route53.ChangeResourceRecordSets"): 1,
        ("check_dns_change", "route53.GetChange"): 1,
        ("remove_challenges", "route53.ChangeResourceRecordSets"): 1,
    }, route53


def test_one_issuance_reads_and_writes_the_inventory_no_more_than_needed(
    sandbox: dict[str, Any], faults: FaultSwitch
) -> None:
    # Given an ACME account registered already (an issuance before this one registers it, when none did yet)
    name = f"inventory-counted-{secrets.token_hex(3)}"
    finish(sandbox, [start(sandbox, name=f"{name}-first", domains=[f"{name}-first.example.test"])])

    # When a certificate is issued
    [result] = finish(sandbox, [start(sandbox, name=name, domains=[f"{name}.example.test"])])
    assert result["status"] == "issued", result

    # Then the inventory saw 8 calls, each where it is needed: the lock and what EnsureAccount read of the account
    # are handed on in the state, and no step after them reads either again
    dynamodb = Counter(
        (c["step"], c["operation"])
        for c in faults.calls(certificate=name)
        if c["kind"] == "aws" and c["operation"].startswith("dynamodb.")
    )
    assert dynamodb == {
        ("validate_request", "dynamodb.GetItem"): 2,  # the certificate's item; the EAB account's registration
        ("validate_request", "dynamodb.UpdateItem"): 1,  # the lock, taken with the request
        ("ensure_account", "dynamodb.GetItem"): 1,  # the account's pause and registration, in one read
        ("create_order", "dynamodb.UpdateItem"): 1,  # the order in flight (a retry after a crash resumes it)
        ("import_certificate", "dynamodb.PutItem"): 1,  # ARN -> name, for ACM's events
        ("import_certificate", "dynamodb.UpdateItem"): 1,  # the region's ARN, under the lock
        ("record_result", "dynamodb.UpdateItem"): 1,  # the certificate, its history and the lock's release at once
    }, dynamodb
