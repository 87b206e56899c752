"""On the sandbox: `certctl issue --wait` with stderr on a terminal shows the live progress display, and stdout (a
pipe) still gets the plain outcome."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from typing import Any

from tests.lifecycle.helpers import EXECUTION_TIMEOUT_SECONDS

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_with_stderr_on_a_terminal(info: dict[str, Any], *arguments: str) -> tuple[int, str, str]:
    """Run certctl with stderr on a pseudo-terminal (120 columns) and stdout on a pipe: (exit code, stdout, stderr)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    environ = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    command = [sys.executable, "-m", "certctl", "--endpoint-url", info["aws_endpoint_url"], "--region", info["region"]]
    command += ["--prefix", info["resource_prefix"], *arguments]
    received: list[bytes] = []

    def drain() -> None:  # the display writes as it goes: read it all, or the child blocks on a full terminal
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            env={**environ, "TERM": "xterm-256color"},
        )
        os.close(terminal)
        stdout, _ = process.communicate(timeout=EXECUTION_TIMEOUT_SECONDS)
        reader.join(timeout=EXECUTION_TIMEOUT_SECONDS)
    finally:
        os.close(controller)
    return process.returncode, stdout.decode(), b"".join(received).decode(errors="replace")


def test_issue_wait_shows_live_progress_on_a_terminal(sandbox: dict[str, Any]) -> None:
    # Given / When a user issues a certificate from a terminal and waits
    code, stdout, stderr = run_with_stderr_on_a_terminal(
        sandbox, "issue", "--name", "terminal-live", "--domains", "terminal-live.example.test", "--wait"
    )

    # Then it was issued, and stdout (a pipe) has the plain outcome
    assert code == 0, stderr
    assert stdout.startswith("issued in ")
    assert not ANSI.search(stdout)
    # And the terminal showed the live line (the state the execution is in, the time so far) and the states passed
    shown = ANSI.sub("", stderr)
    assert "\x1b[" in stderr  # the live display redraws with control codes
    assert re.search(r"terminal-live: [A-Z]\w+\S*\s+\S*0:00:\d\d", shown), shown
    passed = re.findall(r"^\s+\d+\.\ds\s+(\w+)", shown.replace("\r", "\n"), flags=re.MULTILINE)
    assert passed[0] == "ValidateRequest", shown
    assert {"EnsureAccount", "CreateOrder", "ImportCertificate"} <= set(passed), shown
