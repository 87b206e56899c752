"""bench/load.py, the load generator of `make test-under-load`: runs a command beside its workers, exits with the
command's status, and leaves no worker (nor what a worker started) behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import parse

LOAD = [sys.executable, "-m", "bench.load"]
SMALL_LOAD = ["--cpu", "1", "--memory-mb", "0", "--spawn", "1", "--heavy-start", "0", "--io", "0"]


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_command_runs_beside_the_load_and_its_status_is_the_generators(tmp_path: os.PathLike[str]) -> None:
    # Given a command that records the processes beside it (the workers are the generator's children)
    report = os.path.join(tmp_path, "children")
    command = (
        "import os, sys; parent = os.getppid(); "
        "children = [p for p in os.listdir('/proc') if p.isdigit() and p != str(os.getpid()) "
        "and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1] == str(parent)]; "
        f"open({report!r}, 'w').write(' '.join(children)); sys.exit(3)"
    )
    # When it runs beside one busy loop and one loop of process starts
    finished = subprocess.run(
        [*LOAD, *SMALL_LOAD, "--", sys.executable, "-c", command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    # Then the generator exits with the command's status, after saying what it ran
    assert finished.returncode == 3, finished.stderr
    assert "2 workers (cpu, spawn)" in finished.stderr
    # And the workers were running beside the command, and none is left
    workers = [int(pid) for pid in Path(report).read_text().split()]
    assert len(workers) >= 2, workers
    assert [pid for pid in workers if running(pid)] == []


@pytest.mark.parametrize("option", ["--cpu", "--memory-mb", "--spawn", "--heavy-start", "--io"])
def test_a_negative_size_is_refused_with_its_name(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse([option, "-1"])
    assert f"{option} must be 0 or more, not -1" in capsys.readouterr().err
