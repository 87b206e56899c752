"""A pytest plugin (`-p tests.unit.share_listing`) that prints, after collection, one JSON line per test: its node ID,
whether it is a unit test, and its share (tests/conftest.py `share_of`). Read by tests/unit/test_sessions.py."""

from __future__ import annotations

import json

import pytest

from tests.conftest import share_of

PREFIX = "share-listing "


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:
        line = {"id": item.nodeid, "unit": item.get_closest_marker("unit") is not None, "share": share_of(item)}
        print(PREFIX + json.dumps(line))
