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
import subprocess
import sys
import threading
import time

from deploy.paths import REPO_ROOT
from tests.conftest import SHARES

LOG_DIR = REPO_ROOT / "build" / "test-jobs"
COMMON_ARGUMENTS = ("-q", "-p", "no:cacheprovider")
SESSIONS: dict[str, tuple[str, ...]] = {
    "unit": ("-m", "unit"),
    **{f"share-{share}": ("-m", "not unit", "--ignore=tests/unit", f"--share={share}", "tests") for share in SHARES},
}
LINT = ("make", "--no-print-directory", "lint")


def command(job: str, extra: list[str]) -> list[str]:
    """The command of a job: `extra` goes to the pytest sessions."""
    if job == "lint":
        return list(LINT)
    return [sys.executable, "-m", "pytest", *COMMON_ARGUMENTS, *SESSIONS[job], *extra]


def main(extra: list[str]) -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    ended: queue.Queue[tuple[str, int]] = queue.Queue()
    processes = []
    jobs = ["lint", *SESSIONS]
    try:
        for job in jobs:
            log = LOG_DIR / f"{job}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(command(job, extra), cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
            processes.append(process)
            threading.Thread(target=lambda s=job, p=process: ended.put((s, p.wait())), daemon=True).start()
            shown = " ".join(command(job, extra)).removeprefix(sys.executable + " -m ")
            print(f"{job}: {shown} > {log.relative_to(REPO_ROOT)}", flush=True)
        codes: dict[str, int] = {}
        while len(codes) < len(jobs):
            job, code = ended.get()
            codes[job] = code
            print(f"\n===== {job}: exit code {code} after {time.monotonic() - started:.0f} s =====", flush=True)
            sys.stdout.write((LOG_DIR / f"{job}.log").read_text(errors="replace"))
            sys.stdout.flush()
    except KeyboardInterrupt:  # each session stops its sandboxes on the interrupt the terminal sent it as well
        for process in processes:
            process.wait()
        raise
    failed = [job for job, code in codes.items() if code != 0]
    verdict = f"failed: {', '.join(failed)}" if failed else "passed"
    print(f"\n{len(jobs)} jobs in {time.monotonic() - started:.0f} s: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
