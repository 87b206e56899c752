"""The CA restarted in the middle of an order: Pebble keeps orders, authorizations and accounts in memory only, so
after a restart the execution's order is gone and so is the ACME account. The execution must end cleanly (a clear
failure, its TXT record, lock and pending key cleaned up) and the next one must issue (registering the account
again).

The restart runs on a sandbox of its own: every other test's account would be gone too.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox.process import command_line
from tests.faults.helpers import (
    FaultSwitch,
    challenge_records_under,
    finish,
    history,
    plain,
    run,
    start,
    states_entered,
    wait_until,
)
from tests.lifecycle.helpers import target_of


@pytest.fixture(scope="module")
def restartable(start_sandbox: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return start_sandbox(PEBBLE_AUTHZREUSE="0")  # every order validates: its TXT record is there to clean up


def pebble_pids(info: dict[str, Any]) -> list[int]:
    config = str(Path(info["state_dir"]) / "pebble-config.json")
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and config in command_line(int(p))]


def directory_answers(info: dict[str, Any]) -> bool:
    context = ssl.create_default_context(cafile=info["ca_bundle"])
    try:
        with urllib.request.urlopen(info["acme_directory_url"], context=context, timeout=2) as response:  # noqa: S310
            return "newOrder" in json.load(response)
    except OSError:
        return False


def restart_pebble(info: dict[str, Any]) -> None:
    """Kill the sandbox's Pebble; the sandbox starts it again on the same ports, with nothing in memory."""
    [old] = pebble_pids(info)
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: old not in pebble_pids(info) and len(pebble_pids(info)) == 1, "a new Pebble")
    wait_until(lambda: directory_answers(info), "the new Pebble's directory")


def test_a_ca_restarted_mid_order_fails_the_execution_cleanly_and_the_next_one_issues(
    restartable: dict[str, Any],
) -> None:
    # Given an issued certificate (the account registered), and its renewal held in CheckOrder, TXT record published
    info = restartable
    name = f"restart-{uuid.uuid4().hex[:6]}"
    domain = f"{name}.example.test"
    assert run(info, name=name, domains=[domain])["status"] == "issued"
    switch = FaultSwitch(info)
    switch.inject({"id": name, "at": "handler", "fault": "hold", "when": "before", "step": "check_order"})
    try:
        execution_arn = start(info, name=name, domains=[domain])
        wait_until(lambda: switch.calls(fault=name), "CheckOrder held")
        assert challenge_records_under(info, domain) != []

        # When the CA restarts (its orders, authorizations and accounts gone), and the execution goes on
        restart_pebble(info)
    finally:
        switch.clear()
    [failed] = finish(info, [execution_arn])

    # Then the execution failed with the CA's answer, and cleaned up: no TXT record, no lock, no pending key
    assert failed["status"] == "failed", failed
    assert "accountDoesNotExist" in failed["message"] or "malformed" in failed["message"], failed
    assert challenge_records_under(info, domain) == []
    target = target_of(info)
    item = plain(target.inventory.get(name))
    assert "lock_owner" not in item
    secret = target.client("secretsmanager").get_secret_value(
        SecretId=f"{target.names.secret_prefix}certificate/{name}"
    )
    assert "pending_private_key" not in json.loads(secret["SecretString"])

    # And the next execution issues, registering the account again when the CA said it no longer has it (no request
    # checks the account before that: ensure_account trusts the stored URL until a step hears accountDoesNotExist)
    again = run(info, name=name, domains=[domain])
    assert again["status"] in ("issued", "renewed"), again
    states = states_entered(history(info, again["execution_arn"]))
    assert states.count("EnsureAccount") == 2, states
    assert "MarkAccountRegisteredAgain" in states, states
    assert "AccountStillGone" not in states
    other = f"after-restart-{uuid.uuid4().hex[:6]}"
    assert run(info, name=other, domains=[f"{other}.example.test"])["status"] == "issued"
