"""Answers put in front of Route 53: by a test, to play a DNS that serves something else (e.g. a wrong TXT value);
by `certctl sandbox prevalidate`, to serve DNS-01 values of names that have no Route 53 zone (`served_txt`).

The file (`dns-overrides.json` in the state directory) maps a name to answers by type:
`{"_acme-challenge.bad.example.test": {"TXT": ["not the value"]}}`. It is read again whenever it changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sandbox.watched_json import WatchedJson
from sandbox.zone_records import normalize_name

OVERRIDES_FILE_NAME = "dns-overrides.json"


class DnsOverrides:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = WatchedJson(path, _answers_by_name, "dns: the overrides")
        self._answers: dict[str, dict[str, list[str]]] = {}

    def answers(self, name: str, record_type: str) -> list[str] | None:
        """The values to serve instead of Route 53's, or None to ask Route 53."""
        self._reload()
        by_type = self._answers.get(normalize_name(name))
        return None if by_type is None else by_type.get(record_type)

    def _reload(self) -> None:
        changed, answers = self._file.reload()
        if changed:
            self._answers = answers or {}


def _answers_by_name(document: Any) -> dict[str, dict[str, list[str]]]:
    return {normalize_name(name): dict(by_type) for name, by_type in document.items()}


@contextlib.contextmanager
def served_txt(path: Path, values: Mapping[str, list[str]]) -> Iterator[None]:
    """Serve these TXT values ({record name: values}) from the overrides file while the block runs, then take exactly
    them out again; whatever else the file holds stays. Concurrent users are serialized by a lock file."""
    _change(path, lambda answers: _with_txt(answers, values, add=True))
    try:
        yield
    finally:
        _change(path, lambda answers: _with_txt(answers, values, add=False))


def _with_txt(answers: dict[str, Any], values: Mapping[str, list[str]], add: bool) -> dict[str, Any]:
    """`answers` with the TXT values added or taken out; other names and types, and the names as written, kept."""
    for name, txt_values in values.items():
        key = next((k for k in answers if normalize_name(k) == normalize_name(name)), name)
        by_type = dict(answers.get(key) or {})
        current = [value for value in by_type.get("TXT") or [] if value not in txt_values]
        by_type["TXT"] = current + list(txt_values) if add else current
        if not by_type["TXT"]:
            del by_type["TXT"]
        if by_type:
            answers[key] = by_type
        else:
            answers.pop(key, None)
    return answers


def _change(path: Path, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Read, edit and replace the file atomically (a reader sees the old file or the new one) under a lock."""
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            answers = dict(json.loads(path.read_text()))
        except FileNotFoundError:
            answers = {}
        answers = edit(answers)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(answers, indent=2, sort_keys=True))
        partial.replace(path)
