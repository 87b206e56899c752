"""faults-log.jsonl: every ACME request and AWS call a function makes, names only (sandbox.faults)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from sandbox.faults.plan import Invocation

FAULTS_LOG_FILE_NAME = "faults-log.jsonl"


class CallLog:
    """faults-log.jsonl: one JSON line per ACME request or AWS call a function made (names only, never values)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, invocation: Invocation, **entry: Any) -> None:
        line = json.dumps(
            {
                "at": time.time(),
                "step": invocation.step,
                "certificate": invocation.certificate,
                "execution": invocation.execution,
                **entry,
            },
            sort_keys=True,
        )
        with self._lock, self.path.open("a") as log:
            log.write(line + "\n")
