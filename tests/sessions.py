"""`make test`: the linters and the whole suite as five jobs side by side, each writing to its own log, each log printed
whole as its job ends. Fails when any job fails.

The jobs: ruff and mypy (`make lint`), and four pytest sessions: the unit tests, and the three shares of the sandbox
and synthesis tests (tests/conftest.py, `--share`). One session of the sandbox tests keeps the two cores busy less
than half the time (the tests wait on retry pauses, on polling and on Pebble): side by side the jobs fill that time.
Each share starts its own sandboxes (in its own pytest temporary directory) and scans them for secrets after its
other tests.

    python -m tests.sessions [pytest arguments for every session]
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from deploy.paths import REPO_ROOT
from tests.conftest import SHARES

LOG_DIR = REPO_ROOT / "build" / "test-jobs"
COMMON_ARGUMENTS = ("-q", "-p", "no:cacheprovider")
SESSIONS: dict[str, tuple[str, ...]] = {
    "unit": ("-m", "unit"),
    **{f"share-{share}": ("-m", "not unit", "--ignore=tests/unit", f"--share={share}", "tests") for share in SHARES},
}
LINT = ("make", "--no-print-directory", "lint")
# A job this much longer than the slowest one takes here (about 3 minutes) is stuck: CI's own limit is 90 minutes.
JOB_TIMEOUT_SECONDS = 20 * 60
STOP_GRACE_SECONDS = 60  # for an interrupted session to stop its sandboxes


def main(extra: list[str]) -> int:
    """`extra` goes to every pytest session."""
    pytest = [sys.executable, "-m", "pytest", *COMMON_ARGUMENTS]
    jobs = {"lint": list(LINT), **{name: [*pytest, *arguments, *extra] for name, arguments in SESSIONS.items()}}
    return run_side_by_side(jobs, LOG_DIR, JOB_TIMEOUT_SECONDS)


def run_side_by_side(jobs: dict[str, list[str]], log_dir: Path, timeout_seconds: float) -> int:
    """Run the jobs at once, each to `log_dir`/<job>.log; print each log as its job ends. A job still running after
    `timeout_seconds` is interrupted (pytest then says where it was and stops its sandboxes), killed if it does not
    end within STOP_GRACE_SECONDS, and counts as failed: a hang shows its log instead of CI's timeout showing none.
    Returns 1 when any job failed."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    ended: queue.Queue[tuple[str, int, bool]] = queue.Queue()
    processes = []
    try:
        for job, arguments in jobs.items():
            log = log_dir / f"{job}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(arguments, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
            processes.append(process)
            threading.Thread(target=_wait, args=(job, process, timeout_seconds, ended), daemon=True).start()
            print(f"{job}: {' '.join(arguments).removeprefix(sys.executable + ' -m ')} > {log}", flush=True)
        codes: dict[str, int] = {}
        while len(codes) < len(jobs):
            job, code, timed_out = ended.get()
            codes[job] = code
            how = f"interrupted after {timeout_seconds:.0f} s, exit code {code}" if timed_out else f"exit code {code}"
            print(f"\n===== {job}: {how}, at {time.monotonic() - started:.0f} s =====", flush=True)
            sys.stdout.write((log_dir / f"{job}.log").read_text(errors="replace"))
            sys.stdout.flush()
            if timed_out:
                codes[job] = code or 1
    except KeyboardInterrupt:  # each session stops its sandboxes on the interrupt the terminal sent it as well
        for process in processes:
            process.wait()
        raise
    failed = [job for job, code in codes.items() if code != 0]
    verdict = f"failed: {', '.join(failed)}" if failed else "passed"
    print(f"\n{len(jobs)} jobs in {time.monotonic() - started:.0f} s: {verdict}")
    return 1 if failed else 0


def _wait(job: str, process: subprocess.Popen[bytes], timeout_seconds: float, ended: queue.Queue[Any]) -> None:
    try:
        ended.put((job, process.wait(timeout=timeout_seconds), False))
        return
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    ended.put((job, code, True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
