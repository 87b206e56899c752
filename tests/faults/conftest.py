"""The fault switch of the session's sandbox: each test injects what it breaks, and nothing stays broken after it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.faults.helpers import FaultSwitch


@pytest.fixture
def faults(sandbox: dict[str, Any]) -> Iterator[FaultSwitch]:
    switch = FaultSwitch(sandbox)
    try:
        yield switch
    finally:
        switch.clear()
