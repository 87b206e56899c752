"""Times as the inventory, events and state machine input keep them: ISO 8601 in UTC, to the second, with `Z`."""

from __future__ import annotations

import datetime as dt


def utc_iso(moment: dt.datetime | None = None) -> str:
    """`moment` (now when None) as `2026-01-02T03:04:05Z`; a naive `moment` is taken as local time."""
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc_iso(text: str) -> dt.datetime:
    """An ISO 8601 time, `Z` or an offset, as an aware datetime (UTC when it carries no offset).

    Raises ValueError for text that is not an ISO 8601 time.
    """
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
