"""`certctl sandbox up | down`: start in the background, stop everything, and say why a start failed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from certctl import sandbox_commands
from sandbox import INFO_FILE_NAME
from sandbox.process import is_running, port_is_open
from tests.conftest import NONCE_REJECTION_PERCENT, nonce_rejecting_environment

pytestmark = pytest.mark.sandbox  # starts and stops sandboxes


def listening_ports(info: dict[str, Any]) -> list[int]:
    urls = (info["aws_endpoint_url"], info["acme_directory_url"], info["pebble_management_url"])
    ports = [int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]) for url in urls]
    return [*ports, int(info["dns_server"].rsplit(":", 1)[1])]


def test_down_stops_pebble_and_the_server_and_a_second_down_is_fine(nonce_rejecting_state_dir: Path) -> None:
    # Given a running sandbox: the nonce-rejecting one (tests/conftest.py), which tests/faults/test_nonce_rejection.py
    # issues on; started here (as `certctl sandbox up` does) when that test has not run
    state_dir = nonce_rejecting_state_dir
    info = sandbox_commands.up(state_dir, nonce_rejecting_environment())
    assert all(port_is_open(port) for port in listening_ports(info))
    assert f"reject {NONCE_REJECTION_PERCENT}% of good nonces" in Path(info["pebble_log_file"]).read_text()
    assert sandbox_commands.up(state_dir, dict(os.environ)) == info  # up again finds the running sandbox

    # When
    sandbox_commands.down(state_dir)

    # Then
    assert not is_running(info["pid"])
    assert not is_running(info["pebble_pid"])
    assert not any(port_is_open(port) for port in listening_ports(info))
    assert not (state_dir / INFO_FILE_NAME).exists()
    sandbox_commands.down(state_dir)


def test_down_when_nothing_ever_ran_is_fine(tmp_path: Path) -> None:
    # When
    sandbox_commands.down(tmp_path / "never-started")

    # Then
    assert not (tmp_path / "never-started" / INFO_FILE_NAME).exists()


def test_a_failing_start_says_why_and_leaves_nothing_running(tmp_path: Path) -> None:
    # Given: no pebble on the PATH
    environment = {**os.environ, "PATH": str(tmp_path / "empty-bin")}

    # When
    with pytest.raises(sandbox_commands.SandboxError) as failed:
        sandbox_commands.up(tmp_path, environment)

    # Then
    assert "pebble is not installed" in str(failed.value)
    assert "exited with code 1" in str(failed.value)
    assert not (tmp_path / INFO_FILE_NAME).exists()
