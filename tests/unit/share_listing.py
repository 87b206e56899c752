"""A pytest plugin (`-p tests.unit.share_listing`) that prints, after collection, one JSON line per test, selected or
deselected: its node ID, whether it was selected, whether it is a unit test, and its share (tests/conftest.py
`share_of`). Read by tests/unit/test_sessions.py."""

from __future__ import annotations

import json

import pytest

from tests.conftest import share_of

PREFIX = "share-listing "
_deselected: list[pytest.Item] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    for selected, items in ((True, session.items), (False, _deselected)):
        for item in items:
            unit = item.get_closest_marker("unit") is not None
            line = {"id": item.nodeid, "selected": selected, "unit": unit, "share": share_of(item)}
            print(PREFIX + json.dumps(line))
