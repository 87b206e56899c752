"""`make test`'s sessions (tests/sessions.py) run every test once, and the secret scans in each share."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deploy.paths import REPO_ROOT
from tests.conftest import SHARES
from tests.sessions import COMMON_ARGUMENTS, SESSIONS, run_side_by_side
from tests.unit.share_listing import PREFIX

SCANS = {
    "tests/security/test_no_secrets.py::test_no_secret_outside_secrets_manager",
    "tests/security/test_encryption_at_rest.py::test_every_secret_in_every_running_sandbox_is_under_its_stack_key",
}


def test_the_sessions_run_every_test_once_and_the_scans_in_each_sandbox_share() -> None:
    # Given every test of the suite with its share, selected or not by make test's first share
    listing = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", *COMMON_ARGUMENTS, *SESSIONS["share-1"]),
            *("-p", "tests.unit.share_listing"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tests: list[dict[str, Any]] = [
        json.loads(line.removeprefix(PREFIX)) for line in listing.splitlines() if line.startswith(PREFIX)
    ]
    not_unit = [test for test in tests if not test["unit"]]

    # Then the sessions are the unit tests and one per share, each share running only what is not a unit test
    assert SESSIONS["unit"] == ("-m", "unit")
    assert [arguments[-2:] for name, arguments in SESSIONS.items() if name != "unit"] == [
        (f"--share={share}", "tests") for share in SHARES
    ]
    assert all(arguments[:2] == ("-m", "not unit") for name, arguments in SESSIONS.items() if name != "unit")
    # And every test that is not a unit test is in one share, but the scans, in none (every share runs them)
    assert {test["id"] for test in not_unit if test["share"] is None} == SCANS
    for share in SHARES:
        assert any(test["share"] == share for test in not_unit), share
    # And pytest selects for a share its tests and the scans, nothing else
    selected = {test["id"] for test in tests if test["selected"]}
    assert selected == {test["id"] for test in not_unit if test["share"] in (SHARES[0], None)}


def test_a_stuck_job_is_interrupted_and_shown_while_the_others_end_as_usual(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a job that ends at once and one that would not end for ten minutes
    jobs = {
        "quick": [sys.executable, "-c", "print('quick job done')"],
        "stuck": [sys.executable, "-c", "import time; print('stuck job started', flush=True); time.sleep(600)"],
    }

    # When they run side by side with a 5 s limit (the quick one needs a fraction of it even on a busy machine)
    code = run_side_by_side(jobs, tmp_path, timeout_seconds=5)

    # Then the stuck one is interrupted, its log shown and the run failed because of it alone
    printed = capsys.readouterr().out
    assert code == 1
    assert "===== quick: exit code 0" in printed
    assert "quick job done" in printed
    assert "===== stuck: interrupted after 5 s" in printed
    assert "stuck job started" in printed
    assert "KeyboardInterrupt" in printed  # what the job said when interrupted: where it was
    assert printed.rstrip().endswith("failed: stuck")
