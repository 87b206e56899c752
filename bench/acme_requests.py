"""ACME requests counted at the HTTP level, from Pebble's own log: it writes one line per request it handles
("POST /order-plz -> calling handler()"). Runs are one after the other, so the lines appended during a run are
that run's requests.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from sandbox.faults.acme import PEBBLE_RESOURCES

_REQUEST_LINE = re.compile(r" (GET|HEAD|POST) (/\S*) -> calling handler\(\)")
# Pebble's paths, by the ACME resource they serve (the sandbox's fault plan names them the same way); an order read is
# shown as what it is here: a poll.
ENDPOINTS = tuple((prefix, "order poll" if name == "order" else name) for prefix, name in PEBBLE_RESOURCES)
# The order of the breakdown in the table.
KINDS = (*(kind for _, kind in ENDPOINTS), "other")


def endpoint_kind(path: str) -> str:
    for prefix, kind in ENDPOINTS:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return kind
    return "other"


class PebbleRequestLog:
    """Counts what Pebble logged after a mark."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._offset = 0

    def mark(self) -> None:
        """From now on: forget what was logged before."""
        self._offset = self.log_path.stat().st_size

    def requests_since_mark(self) -> Counter[str]:
        """Requests by kind (KINDS) logged since mark()."""
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            text = log.read().decode(errors="replace")
        return Counter(endpoint_kind(match.group(2)) for match in _REQUEST_LINE.finditer(text))


def protocol_minimum(names: int, new_account: bool = False) -> int:
    """The fewest requests RFC 8555 allows for one certificate of `names` identifiers.

    newNonce + newAccount (once per account) + newOrder + one authorization fetch and one challenge answer per
    name + 2 order polls (to see it ready, then valid after finalize: Pebble, like most CAs, finalizes
    asynchronously) + finalize + certificate download. The directory GET, which every new client makes once, is
    left out, as it is from the formula in issue #8.
    """
    return 1 + int(new_account) + 1 + 2 * names + 2 + 1 + 1
