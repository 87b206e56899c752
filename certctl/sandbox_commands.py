"""`certctl sandbox up | down | prevalidate`: run the sandbox (`python -m sandbox serve`) in the background, stop it,
and have its CA validate names out of band (sandbox.prevalidation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploy.paths import REPO_ROOT
from sandbox import INFO_FILE_NAME, LOG_FILE_NAME
from sandbox.process import command_line, is_running, log_tail, stop_process

DEFAULT_STATE_DIR = REPO_ROOT / ".sandbox"
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
POLL_INTERVAL_SECONDS = 0.05

# The sandboxes this process started, so their exit status is collected (no zombie, no ResourceWarning).
_started: dict[int, subprocess.Popen[bytes]] = {}


class SandboxError(Exception):
    """The sandbox could not be started; the message says why and quotes its log."""


def up(
    state_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout_seconds: float = START_TIMEOUT_SECONDS,
    iam: bool = True,
) -> dict[str, Any]:
    """Start the sandbox in the background (or find it running) and return what `sandbox.json` says.

    `env` is the sandbox's environment (default: this process's); every PEBBLE_* variable in it reaches Pebble.
    `iam=False` (`sandbox up --no-iam`, for debugging only) starts it without IAM enforcement.
    Raises SandboxError when it exits or is not ready within the timeout (it is then stopped).
    """
    state_dir = (state_dir or DEFAULT_STATE_DIR).resolve()
    running = _running_info(state_dir)
    if running is not None:
        return running
    down(state_dir)  # whatever a crashed sandbox left behind
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = state_dir / LOG_FILE_NAME
    environment = {**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "serve",
                "--state-dir",
                str(state_dir),
                "--log-file",
                str(log_path),
                *([] if iam else ["--no-iam"]),
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _started[process.pid] = process
    deadline = time.monotonic() + timeout_seconds
    while True:
        info = _read_info(state_dir)
        if info is not None and info.get("pid") == process.pid:
            return info
        if process.poll() is not None:
            _started.pop(process.pid, None)
            raise SandboxError(
                f"the sandbox exited with code {process.returncode} before it was ready; "
                f"last lines of {log_path}:\n{log_tail(log_path)}"
            )
        if time.monotonic() >= deadline:
            down(state_dir, pid=process.pid)
            raise SandboxError(
                f"the sandbox was not ready within {timeout_seconds:g} s and was stopped; "
                f"last lines of {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(POLL_INTERVAL_SECONDS)


def down(state_dir: Path | None = None, pid: int | None = None) -> None:
    """Stop the sandbox of this state directory and its Pebble. Nothing running is fine."""
    state_dir = (state_dir or DEFAULT_STATE_DIR).resolve()
    info = _read_info(state_dir) or {}
    sandbox_pid = pid or info.get("pid")
    if isinstance(sandbox_pid, int) and _is_sandbox_of(sandbox_pid):
        stop_process(sandbox_pid, STOP_TIMEOUT_SECONDS)
    if isinstance(sandbox_pid, int) and sandbox_pid in _started:
        _started.pop(sandbox_pid).wait()
    pebble_pid = info.get("pebble_pid")
    # The sandbox stops its Pebble; one left running means the sandbox was killed outright.
    if isinstance(pebble_pid, int) and any(str(state_dir) in part for part in command_line(pebble_pid)):
        stop_process(pebble_pid, STOP_TIMEOUT_SECONDS)
    (state_dir / INFO_FILE_NAME).unlink(missing_ok=True)


def run_prevalidate(state_dir: Path | None, alias: str | None, domains: str | None) -> int:
    """`certctl sandbox prevalidate --account ALIAS --domains D1,D2`: prints one JSON object of what was validated.

    Raises CliError when an argument is missing, the sandbox is not running, or the CA did not validate a name.
    """
    from certctl.aws import CliError
    from sandbox.prevalidation import PrevalidationError, prevalidate

    names = [name.strip() for name in (domains or "").split(",") if name.strip()]
    if not alias or not names:
        raise CliError("sandbox prevalidate needs --account ALIAS and --domains D1,D2 (the names to validate)")
    resolved = (state_dir or DEFAULT_STATE_DIR).resolve()
    info = _running_info(resolved)
    if info is None:
        raise CliError(f"no sandbox is running in {resolved}: start it with `certctl sandbox up` (same --state-dir)")
    try:
        result = prevalidate(info, alias, names)
    except PrevalidationError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(result, indent=2))
    undeclared = result["not_declared_prevalidated"]
    if undeclared:
        print(
            f"certctl: note: account {alias!r} does not declare {', '.join(undeclared)} pre-validated "
            f"('prevalidated-domains'): issuing {'it' if len(undeclared) == 1 else 'them'} still needs a Route 53 zone",
            file=sys.stderr,
        )
    return 0


def _running_info(state_dir: Path) -> dict[str, Any] | None:
    info = _read_info(state_dir)
    if info is None:
        return None
    pid = info.get("pid")
    return info if isinstance(pid, int) and _is_sandbox_of(pid) else None


def _is_sandbox_of(pid: int) -> bool:
    """Whether pid is a running `python -m sandbox serve` (and not a recycled pid)."""
    arguments = command_line(pid)
    return is_running(pid) and "sandbox" in arguments and "serve" in arguments


def _read_info(state_dir: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((state_dir / INFO_FILE_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None
