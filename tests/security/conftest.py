"""The secret scans read what the whole suite left behind, so they run after every other test.

The least-privilege and encryption checks read the synthesized template: the same synthesis as tests/stack (the
session's `synthesized` fixture, tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.conftest import faults  # noqa: F401 - fixtures for this folder
from tests.faults.helpers import FaultSwitch
from tests.lifecycle.helpers import issue, target_of


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("after_everything") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_everything: runs after every other test of the session")


@pytest.fixture(scope="session")
def something_to_scan(sandbox: dict[str, Any]) -> dict[str, Any]:
    """At least one issued certificate, one execution that failed with a private key pending, and one Run Command on
    the session's sandbox, whatever else ran: the scan must have each kind of secret and of record to look through."""
    issued = issue(sandbox, name="scanned", domains=["scanned.example.test"])
    assert issued["status"] == "issued", issued
    switch = FaultSwitch(sandbox)
    switch.inject(
        {"at": "handler", "fault": "crash", "when": "after", "step": "finalize_order", "certificate": "dropped"}
    )
    try:
        failed = issue(sandbox, name="dropped", domains=["dropped.example.test"])
    finally:
        switch.clear()
    assert (failed["status"], failed["error"]) == ("failed", "Runtime.ExitError"), failed
    canary = "no-secret-canary-parameter"
    target_of(sandbox).client("ssm").send_command(
        DocumentName="AWS-RunShellScript",
        Targets=[{"Key": "tag:scan", "Values": ["nobody"]}],
        Parameters={"commands": [f"echo {canary}"]},
    )
    return {"canary": canary}
