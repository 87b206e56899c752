"""The CA misbehaves on one chosen request (connection reset, timeout, 503) or rate-limits with Retry-After.

Issuance completes (or waits as told), each faulted step is retried by the state machine, and the CA gets no more
orders, challenge answers or finalizations than the faults forced.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.faults.helpers import (
    FaultSwitch,
    challenge_records_under,
    finish,
    history,
    lambda_failures,
    plain,
    side_by_side,
    start,
)
from tests.lifecycle.helpers import target_of

INTERNAL_ACCOUNT_ITEM = "#acme-account/sandbox"  # where the inventory keeps the account's Retry-After pause


def accepted_by_ca(call: dict[str, Any]) -> bool:
    """The request reached the CA and the CA did what it asked (its answer may have been lost afterwards)."""
    return bool(call["reached_ca"]) and call["status"] is not None and call["status"] < 300


@dataclass(frozen=True)
class Case:
    """One fault on one kind of request, and what the CA must have received in the end."""

    fault: str
    request: str
    step: str
    as_get: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    orders: int = 1  # orders the CA created: a lost newOrder answer forces a second one
    answers: int = 1  # challenge answers that reached the CA
    finalizations: int = 1

    @property
    def name(self) -> str:
        return f"acme-{self.fault}-{self.request}{'-read' if self.as_get else ''}"

    @property
    def domain(self) -> str:
        return f"{self.name.lower()}.example.test"

    def plan(self) -> dict[str, Any]:
        selector = {"as_get": self.as_get} if self.as_get is not None else {}
        return {
            "id": self.name,
            "at": "acme",
            "request": self.request,
            "fault": self.fault,
            "certificate": self.name,
            **selector,
            **self.extra,
        }


CASES = [
    Case("reset", "newOrder", "create_order"),
    Case("reset", "challenge", "answer_challenges", as_get=False),
    Case("reset", "finalize", "finalize_order"),
    Case("reset", "certificate", "store_certificate"),
    # the CA did the work and the answer was lost: the retry must not do it twice (a new order is unavoidable)
    Case("timeout", "newOrder", "create_order", orders=2),
    Case("timeout", "challenge", "answer_challenges", as_get=False),
    Case("timeout", "finalize", "finalize_order"),
    Case("timeout", "certificate", "store_certificate"),
    Case("status", "newOrder", "create_order"),
    Case("status", "order", "check_order", as_get=True),
    Case("status", "finalize", "finalize_order"),
    Case("status", "certificate", "store_certificate"),
    Case("status", "authorization", "create_order", extra={"status": 500, "problem": "serverInternal"}),
]


@pytest.fixture(scope="module")
def outcomes(sandbox: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every case side by side, each fault scoped to its own certificate; the calls each made, from the log."""
    return side_by_side(sandbox, CASES, "acme")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_issuance_survives_one_failed_request(
    sandbox: dict[str, Any], outcomes: dict[str, dict[str, Any]], case: Case
) -> None:
    # Given the CA failed this certificate's first request of one kind
    result, calls = outcomes[case.name]["result"], outcomes[case.name]["calls"]
    injected = [c for c in calls if c["fault"] == case.name]
    assert len(injected) == 1, "the fault was not injected exactly once"
    assert injected[0]["step"] == case.step

    # When the execution ended, then it issued the certificate
    assert result["status"] == "issued", result

    # And the faulted step failed once with a retryable error (the CA's: AcmeUnavailable, a TransientError), and the
    # state machine ran it again
    failures = lambda_failures(history(sandbox, result["execution_arn"]))
    assert [f.error for f in failures] == ["AcmeUnavailable"], failures
    assert "the CA" in (failures[0].cause or "")

    # And the CA accepted no more orders, answers or finalizations than the fault forced (Pebble also rejects
    # 5% of nonces: a request it refused with badNonce did nothing)
    def accepted(request: str) -> int:
        return len([c for c in calls if c["request"] == request and c["as_get"] is False and accepted_by_ca(c)])

    # A timed-out request forces a second one only when the CA did the first: Pebble may have refused it (a badNonce,
    # which it answers to 5% of requests), and then the retry is the only one.
    refused = {c["request"] for c in injected if case.fault == "timeout" and not accepted_by_ca(c)}
    for request, forced in (("newOrder", case.orders), ("challenge", case.answers), ("finalize", case.finalizations)):
        expected = forced - 1 if request in refused and forced > 1 else forced
        assert accepted(request) == expected, (request, accepted(request), expected, injected)
    # And nothing is left behind
    assert challenge_records_under(sandbox, case.domain) == []
    assert "lock_owner" not in plain(target_of(sandbox).inventory.get(case.name))


@pytest.fixture
def pause_lifted(sandbox: dict[str, Any]) -> Iterator[None]:
    """After the test, the account's Retry-After pause is over (time has passed, as far as the sandbox knows)."""
    yield
    target = target_of(sandbox)
    target.client("dynamodb").delete_item(
        TableName=target.names.inventory_table, Key={"name": {"S": INTERNAL_ACCOUNT_ITEM}}
    )


RETRY_AFTER_SECONDS = 3


@pytest.mark.usefixtures("pause_lifted")
def test_rate_limited_order_waits_for_retry_after_then_completes(sandbox: dict[str, Any], faults: FaultSwitch) -> None:
    # Given a CA that answers the first newOrder with rateLimited and Retry-After: 3
    faults.inject(
        {
            "id": "rate-limited",
            "at": "acme",
            "request": "newOrder",
            "fault": "rate-limited",
            "retry_after": RETRY_AFTER_SECONDS,
            "certificate": "rate-limited",
        }
    )
    # When a certificate is issued
    result = finish(sandbox, [start(sandbox, name="rate-limited", domains=["rate-limited.example.test"])])[0]

    # Then it is issued
    assert result["status"] == "issued", result
    # And nothing at all went to the CA for that account before Retry-After had passed
    calls = faults.calls(kind="acme")
    [limited] = [c for c in calls if c["fault"] == "rate-limited"]
    too_early = [c for c in calls if limited["at"] < c["at"] < limited["at"] + RETRY_AFTER_SECONDS]
    assert too_early == []
    # And the step asked again only through the state machine, which was told to wait
    failures = lambda_failures(history(sandbox, result["execution_arn"]))
    assert [f.error for f in failures][:2] == ["AcmeRateLimited", "AcmeRateLimited"]
    # And one order was made
    assert len([c for c in calls if c["request"] == "newOrder" and accepted_by_ca(c)]) == 1
    pause = plain(target_of(sandbox).inventory.get(INTERNAL_ACCOUNT_ITEM))
    assert pause["paused_until"] >= limited["at"] + RETRY_AFTER_SECONDS


@pytest.mark.usefixtures("pause_lifted")
def test_a_long_retry_after_is_honoured_by_every_execution_of_the_account(
    sandbox: dict[str, Any], faults: FaultSwitch
) -> None:
    # Given a CA that rate-limits newOrder for an hour
    faults.inject(
        {
            "id": "rate-limited-long",
            "at": "acme",
            "request": "newOrder",
            "fault": "rate-limited",
            "retry_after": 3600,
            "certificate": "rate-limited-long",
        }
    )
    first = start(sandbox, name="rate-limited-long", domains=["rate-limited-long.example.test"])
    deadline = time.monotonic() + 30
    while not faults.calls(fault="rate-limited-long") and time.monotonic() < deadline:
        time.sleep(0.1)
    # When another certificate of the same account is asked for meanwhile
    second = start(sandbox, name="rate-limited-other", domains=["rate-limited-other.example.test"])
    results = finish(sandbox, [first, second])

    # Then neither sent anything to the CA after the rateLimited answer: both gave up, saying how long to wait
    [limited] = faults.calls(fault="rate-limited-long")
    assert [c for c in faults.calls(kind="acme") if c["at"] > limited["at"]] == []
    for result in results:
        assert (result["status"], result["error"], result["step"]) == ("failed", "AcmeRateLimited", "create_order")
        assert "retry after" in result["message"]
    # And each cleaned up: unlocked, the failure recorded
    for name in ("rate-limited-long", "rate-limited-other"):
        item = plain(target_of(sandbox).inventory.get(name))
        assert "lock_owner" not in item
        assert item["last_error"]["error"] == "AcmeRateLimited"
