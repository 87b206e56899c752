"""A small JSON file that tests change while the sandbox runs (DNS overrides, the fault plan), read again on every use
and parsed again only when its text changed.

The whole text is compared, not (inode, mtime, size): a replaced file's inode is reused at once (two writes later the
old inode is back), so two versions of the same size written in one clock tick looked the same by their stamp.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

LOG = logging.getLogger(__name__)
T = TypeVar("T")


class WatchedJson(Generic[T]):
    """`parse` turns the file's JSON into what its reader keeps (raising ValueError, AttributeError or TypeError for
    a document of the wrong shape); `label` starts the warnings (e.g. "dns: the overrides")."""

    def __init__(self, path: Path, parse: Callable[[Any], T], label: str) -> None:
        self.path = path
        self._parse = parse
        self._label = label
        self._text: str | None = None

    def reload(self) -> tuple[bool, T | None]:
        """(whether the file changed since the last call, what it holds now: None when it is gone or does not parse).
        A file that cannot be read (other than gone) counts as unchanged: its reader keeps what it read before."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            self._text = None
            return True, None
        except OSError as exc:
            LOG.warning("%s: keeping what was read before: %s", self._label, exc)
            return False, None
        if text == self._text:
            return False, None
        self._text = text
        try:
            return True, self._parse(json.loads(text))
        except (ValueError, AttributeError, TypeError) as exc:
            LOG.warning("%s: ignoring %s: %s", self._label, self.path, exc)
            return True, None
