"""`make test`: the whole suite as three pytest sessions side by side, each writing to its own log, each log printed
whole as its session ends. Fails when any session fails.

The sessions: the unit tests, and the two shares of the sandbox and synthesis tests (tests/conftest.py, `--share`).
One session of the sandbox tests keeps the two cores busy less than half the time (the tests wait on retry pauses, on
polling and on Pebble): side by side the three fill that time. Each share starts its own sandboxes (in its own pytest
temporary directory) and scans them for secrets after its other tests.

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

LOG_DIR = REPO_ROOT / "build" / "test-sessions"
COMMON_ARGUMENTS = ("-q", "-p", "no:cacheprovider")
SESSIONS: dict[str, tuple[str, ...]] = {
    "unit": ("-m", "unit"),
    **{f"share-{share}": ("-m", "not unit", "--ignore=tests/unit", f"--share={share}", "tests") for share in SHARES},
}


def command(session: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *COMMON_ARGUMENTS, *SESSIONS[session], *extra]


def main(extra: list[str]) -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    ended: queue.Queue[tuple[str, int]] = queue.Queue()
    processes = []
    try:
        for session in SESSIONS:
            log = LOG_DIR / f"{session}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    command(session, extra), cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
                )
            processes.append(process)
            threading.Thread(target=lambda s=session, p=process: ended.put((s, p.wait())), daemon=True).start()
            print(f"{session}: pytest {' '.join(command(session, extra)[3:])} > {log.relative_to(REPO_ROOT)}")
        codes = {}
        while len(codes) < len(SESSIONS):
            session, code = ended.get()
            codes[session] = code
            print(f"\n===== {session}: exit code {code} after {time.monotonic() - started:.0f} s =====", flush=True)
            sys.stdout.write((LOG_DIR / f"{session}.log").read_text(errors="replace"))
            sys.stdout.flush()
    except KeyboardInterrupt:  # each session stops its sandboxes on the interrupt the terminal sent it as well
        for process in processes:
            process.wait()
        raise
    failed = [session for session, code in codes.items() if code != 0]
    verdict = f"failed: {', '.join(failed)}" if failed else "passed"
    print(f"\n{len(SESSIONS)} sessions in {time.monotonic() - started:.0f} s: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
