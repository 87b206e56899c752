"""A CA that rejects half of the good nonces it gets (Pebble's PEBBLE_WFE_NONCEREJECT): every issuance completes, each
with one order. This needs a Pebble of its own: the setting is Pebble's, for its whole life (the nonce-rejecting
sandbox of tests/conftest.py, which tests/sandbox/test_up_down.py stops)."""

from __future__ import annotations

from typing import Any

from tests.conftest import NONCE_REJECTION_PERCENT
from tests.faults.helpers import FaultSwitch, finish, start

ISSUANCES = 10


def test_issuances_complete_with_half_the_nonces_rejected(nonce_rejecting_sandbox: dict[str, Any]) -> None:
    # Given a Pebble that rejects 50% of good nonces
    noisy = nonce_rejecting_sandbox
    log = FaultSwitch(noisy)
    # When ten certificates are issued side by side
    names = [f"nonce-{i}" for i in range(ISSUANCES)]
    results = finish(noisy, [start(noisy, name=name, domains=[f"{name}.example.test"]) for name in names])

    # Then every one is issued
    failures = [
        f"{r['name']}: {r.get('step')} {r.get('error')}: {r.get('message')}" for r in results if r["status"] != "issued"
    ]
    assert [r["status"] for r in results] == ["issued"] * ISSUANCES, "; ".join(failures)
    # And the CA did reject nonces, about as often as it was told to (each rejected POST was sent again)
    posts = [c for c in log.calls(kind="acme") if c["method"] == "POST"]
    rejected = [c for c in posts if c["problem"] == "badNonce"]
    assert len(rejected) >= len(posts) * NONCE_REJECTION_PERCENT / 100 / 2
    # And each certificate got exactly one order: a rejected newOrder created nothing, and none was repeated
    for name in names:
        orders = [c for c in posts if c["certificate"] == name and c["request"] == "newOrder" and c["status"] == 201]
        assert len(orders) == 1, name
