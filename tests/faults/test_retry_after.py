"""The pause a `rateLimited` answer starts lasts at least as long as the CA's Retry-After (no sandbox needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from certlib.adapters.acme_client import generate_account_key
from certlib.config import AccountConfig
from certlib.exceptions import AcmeRateLimited
from certlib.services import Services
from certlib.settings import Settings

DIRECTORY = "https://ca.invalid/directory"
NEW_ORDER = "https://ca.invalid/new-order"


class PauseRecorder:
    """Stands in for the inventory: remembers the pause the adapter asks for."""

    def __init__(self) -> None:
        self.paused_until: int | None = None

    def pause_acme(self, alias: str, until: int) -> None:
        self.paused_until = until

    def acme_pause_until(self, alias: str) -> int:
        return self.paused_until or 0


def services_with(recorder: PauseRecorder) -> Services:
    settings = Settings(
        inventory_table="t", config_parameter="/p", secret_prefix="s/", kms_key_id="k", lock_ttl_seconds=60
    )
    services = Services(settings)
    services.__dict__["inventory"] = recorder  # the cached property, filled in
    return services


def rate_limited_ca(retry_after: int) -> responses.RequestsMock:
    ca = responses.RequestsMock()
    ca.get(DIRECTORY, json={"newNonce": f"{DIRECTORY}/nonce", "newOrder": NEW_ORDER, "newAccount": f"{DIRECTORY}/a"})
    ca.head(f"{DIRECTORY}/nonce", headers={"Replay-Nonce": "bm9uY2U"})
    problem: dict[str, Any] = {"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many orders"}
    ca.post(
        NEW_ORDER,
        status=429,
        body=json.dumps(problem),
        content_type="application/problem+json",
        headers={"Retry-After": str(retry_after), "Replay-Nonce": "bm9uY2U"},
    )
    return ca


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.999])
def test_the_pause_never_ends_before_retry_after(monkeypatch: pytest.MonkeyPatch, fraction: float) -> None:
    # Given a CA that answers newOrder with rateLimited and Retry-After: 3, at a time with a fraction of a second
    now = 1_000_000 + fraction
    monkeypatch.setattr("certlib.services.time.time", lambda: now)
    recorder = PauseRecorder()
    services = services_with(recorder)
    account = AccountConfig(alias="limited", directory_url=DIRECTORY)
    session = services.new_acme_session(account, generate_account_key(), "https://ca.invalid/account/1")

    # When an order is asked for
    with rate_limited_ca(3), pytest.raises(AcmeRateLimited) as raised:
        session.new_order(["www.example.com"])

    # Then the account is paused until Retry-After has fully passed, and the pause check says so
    assert raised.value.retry_after_seconds == 3
    assert recorder.paused_until is not None
    assert recorder.paused_until >= now + 3
    with pytest.raises(AcmeRateLimited):
        services.check_acme_pause("limited")
