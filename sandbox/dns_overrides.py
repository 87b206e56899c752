"""Answers a test puts in front of Route 53, to play a DNS that serves something else (e.g. a wrong TXT value).

The file (`dns-overrides.json` in the state directory) maps a name to answers by type:
`{"_acme-challenge.bad.example.test": {"TXT": ["not the value"]}}`. It is read again whenever it changes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sandbox.zone_records import normalize_name

LOG = logging.getLogger(__name__)
OVERRIDES_FILE_NAME = "dns-overrides.json"


class DnsOverrides:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._answers: dict[str, dict[str, list[str]]] = {}

    def answers(self, name: str, record_type: str) -> list[str] | None:
        """The values to serve instead of Route 53's, or None to ask Route 53."""
        self._reload()
        by_type = self._answers.get(normalize_name(name))
        return None if by_type is None else by_type.get(record_type)

    def _reload(self) -> None:
        try:
            stamp = self.path.stat().st_mtime
        except FileNotFoundError:
            self._stamp, self._answers = None, {}
            return
        if stamp == self._stamp:
            return
        try:
            raw = json.loads(self.path.read_text())
            self._answers = {normalize_name(name): dict(by_type) for name, by_type in raw.items()}
        except (ValueError, AttributeError, TypeError) as exc:
            LOG.warning("dns: ignoring %s: %s", self.path, exc)
            self._answers = {}
        self._stamp = stamp
