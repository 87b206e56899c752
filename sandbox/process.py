"""Small process and network helpers: free ports, waiting with a deadline, stopping a process by its id."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

POLL_INTERVAL_SECONDS = 0.05


class DeadlineExceeded(Exception):
    """What we waited for did not happen in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], timeout_seconds: float, what: str) -> None:
    """Call `condition` until it returns True; raises DeadlineExceeded naming `what` after the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(f"{what} did not happen within {timeout_seconds:g} s")
        time.sleep(POLL_INTERVAL_SECONDS)


def is_running(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def command_line(pid: int) -> list[str]:
    """The arguments a process was started with ([] when it is gone or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def stop_process(pid: int, timeout_seconds: float = 10.0) -> None:
    """SIGTERM the process, then SIGKILL it if it is still there after the timeout. A missing process is fine."""
    for signal_number in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, signal_number)
        except ProcessLookupError:
            return
        _reap_if_child(pid)
        try:
            wait_until(lambda: _reap_if_child(pid) or not is_running(pid), timeout_seconds, f"exit of process {pid}")
            return
        except DeadlineExceeded:
            continue


def _reap_if_child(pid: int) -> bool:
    """Collect the exit status of a child of ours; True when it has exited."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return reaped == pid


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, or a note saying it is missing."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path} cannot be read)"
    return "\n".join(text.splitlines()[-lines:])
