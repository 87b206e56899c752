"""`make demo` (= `python -m certctl sandbox demo`): the first thing a user runs, run as they run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.paths import REPO_ROOT
from sandbox import INFO_FILE_NAME

pytestmark = pytest.mark.sandbox  # starts its own sandbox


def test_demo_issues_distributes_to_two_servers_and_stops_the_sandbox(tmp_path: Path) -> None:
    # Given a state directory of its own
    # When the demo runs as `make demo` runs it
    completed = subprocess.run(
        [sys.executable, "-m", "certctl", "sandbox", "demo", "--state-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout
    print(output)

    # Then it succeeded and said what happened: issued, chain verified, no DNS-01 record left
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert re.search(r"^issued in [\d.]+s: certificate 'demo'$", output, re.MULTILINE)
    assert "names           demo.example.test, *.demo.example.test" in output
    assert "chain           verified up to Pebble's root" in output
    assert "DNS-01 records  all removed from Route 53" in output

    # And both servers hold the certificate, checked file by file on each, and were reloaded
    assert re.search(r"^distributed through Run Command: succeeded \(command [0-9a-f-]{36}\)$", output, re.MULTILINE)
    healthy = re.findall(
        r"^  (i-[0-9a-f]+)  .*/etc/ssl/acme/demo/  the issued certificate, key matches", output, re.MULTILINE
    )
    assert len(set(healthy)) == 2

    # And the sandbox is stopped
    assert "sandbox stopped" in output
    assert not (tmp_path / INFO_FILE_NAME).exists()
