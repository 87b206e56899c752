"""The inventory reads an issuance saves (issue 16, goal 3), against moto's DynamoDB: an ACME account's item read once
for both its pause and its registration, and a pause handed on in the state read again only while it runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from certlib.adapters.inventory import AcmeAccountRecord
from certlib.exceptions import AcmeRateLimited
from certlib.lifecycle.ordering import _new_order
from certlib.lifecycle.request import Request
from certlib.resources import INVENTORY_PARTITION_KEY
from certlib.services import Services, aws_session
from certlib.settings import Settings
from tests.unit.test_ari import CA, recorded_ca, session_with

TABLE = "inventory"
ARI_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


class Reads:
    """Counts the GetItem calls a Services' inventory makes (botocore's own event, no stand-in)."""

    def __init__(self, services: Services) -> None:
        self.count = 0
        services.inventory._table.client.meta.events.register("before-call.dynamodb.GetItem", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1


@pytest.fixture
def services() -> Iterator[Services]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.resource("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": INVENTORY_PARTITION_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        settings = Settings(
            inventory_table=TABLE, config_parameter="/p", secret_prefix="s/", kms_key_id="k", lock_ttl_seconds=600
        )
        yield Services(settings, aws_session("us-east-1"))


def test_an_accounts_item_gives_its_pause_and_registration_in_one_read(services: Services) -> None:
    # Given an account paused by the CA and registered at a directory
    inventory = services.inventory
    inventory.pause_acme("sandbox", 2_000)
    inventory.record_acme_registration("sandbox", "https://ca.invalid/directory")
    reads = Reads(services)

    # When its item is read, Then one read gives both; an account never seen has neither
    assert inventory.acme_account("sandbox") == AcmeAccountRecord(2_000, "https://ca.invalid/directory")
    assert inventory.acme_account("other") == AcmeAccountRecord(0, None)
    assert reads.count == 2


def test_a_pause_handed_on_that_has_passed_is_not_read_again(services: Services) -> None:
    # Given a pause that EnsureAccount read and that has passed
    services.inventory.pause_acme("sandbox", int(time.time()) - 10)
    reads = Reads(services)

    # When a step checks it with the value handed on, Then it goes on without reading the inventory
    services.check_acme_pause("sandbox", int(time.time()) - 10)
    services.check_acme_pause("sandbox", 0)
    assert reads.count == 0


def test_a_retry_reads_a_pause_set_since_the_state_was_made(services: Services) -> None:
    # Given a state that says "no pause", and a rateLimited answer since (this execution's or another one's)
    services.inventory.pause_acme("sandbox", int(time.time()) + 60)
    reads = Reads(services)

    # When a retried step checks (it is handed no pause: certlib.lifecycle.ordering.session_for), Then it reads the
    # inventory and waits
    with pytest.raises(AcmeRateLimited) as raised:
        services.check_acme_pause("sandbox", None)
    assert reads.count == 1
    assert 55 <= raised.value.retry_after_seconds <= 60


def test_a_pause_handed_on_that_still_runs_is_read_again_for_its_end(services: Services) -> None:
    # Given a pause handed on that still runs, which the CA has moved later since
    now = int(time.time())
    services.inventory.pause_acme("sandbox", now + 120)
    reads = Reads(services)

    # When a step checks it, Then it reads the inventory and waits until the later end
    with pytest.raises(AcmeRateLimited) as raised:
        services.check_acme_pause("sandbox", now + 30)
    assert reads.count == 1
    assert raised.value.retry_after_seconds > 100


@pytest.mark.parametrize(("issued_account", "replaces"), [("sandbox", ARI_ID), ("sandbox-backup", None)])
def test_a_renewal_replaces_what_the_lock_found_without_reading_the_item(
    services: Services, issued_account: str, replaces: str | None
) -> None:
    # Given a renewal whose request carries what the item held when its lock was taken (ValidateRequest's take_lock)
    ca = recorded_ca(with_ari=True)
    request = Request(
        name="web",
        domains=["www.example.test"],
        account="sandbox",
        key_type="ec256",
        regions=["us-east-1"],
        execution_id="arn:execution",
        renewal=True,
        recorded={"ari_certificate_id": ARI_ID, "issued_account": issued_account, "locked_at": 1},
    )
    reads = Reads(services)

    # When CreateOrder opens the new order
    _new_order(request, services, session_with(ca))

    # Then it names the certificate it replaces only when the same account issued it, and read nothing to know it
    [payload] = ca.posts_to(f"{CA}/order")
    assert payload.get("replaces") == replaces
    assert reads.count == 0
