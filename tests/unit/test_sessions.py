"""`make test`'s sessions (tests/sessions.py) run every test once, and the secret scans in each sandbox session."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from deploy.paths import REPO_ROOT
from tests.sessions import COMMON_ARGUMENTS, SESSIONS

SCANS = {
    "tests/security/test_no_secrets.py::test_no_secret_outside_secrets_manager",
    "tests/security/test_encryption_at_rest.py::test_every_secret_in_every_running_sandbox_is_under_its_stack_key",
}


def collected(arguments: tuple[str, ...]) -> set[str]:
    """The node IDs pytest selects with these arguments (COMMON_ARGUMENTS has one -q: a line per test)."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", *COMMON_ARGUMENTS, *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in listing.splitlines() if "::" in line}


def test_the_sessions_run_every_test_once_and_the_scans_in_each_sandbox_share() -> None:
    # Given every test of the suite, and what each of make test's sessions selects
    with ThreadPoolExecutor(max_workers=len(SESSIONS) + 1) as collecting:
        whole = collecting.submit(collected, ())
        by_session = dict(zip(SESSIONS, collecting.map(collected, SESSIONS.values()), strict=True))
    everything = whole.result()
    shares = [selected for session, selected in by_session.items() if session != "unit"]

    # Then together they select every test, and no two share a test but the scans, which every share runs
    assert set().union(*by_session.values()) == everything
    assert len(shares) == 2
    assert all(shares)
    assert not by_session["unit"] & set().union(*shares)
    assert set.intersection(*shares) == SCANS
