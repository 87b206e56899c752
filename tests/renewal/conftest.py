"""The renewal tests share a sandbox of their own: sweeps, expiry events and revocations renew every certificate
that is due, which must not touch the certificates of the other tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session")
def renewal_sandbox(start_sandbox: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return start_sandbox()
