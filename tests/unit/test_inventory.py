"""The inventory adapter against moto's DynamoDB: the lock, recording, and the CA's Retry-After pause."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from certlib.adapters.dynamodb_table import DynamoDbTable
from certlib.adapters.inventory import CERTIFICATE_ARNS, HISTORY_LENGTH, Inventory
from certlib.exceptions import CertificateLocked
from certlib.resources import INVENTORY_PARTITION_KEY

REQUEST = {"domains": ["a.example.test"], "account": "sandbox", "key_type": "ec256", "regions": ["us-east-1"]}


@pytest.fixture
def inventory() -> Iterator[Inventory]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="inventory",
            KeySchema=[{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": INVENTORY_PARTITION_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield Inventory(DynamoDbTable(client, "inventory"))


def test_lock_is_exclusive_reentrant_and_released_only_by_its_owner(inventory: Inventory) -> None:
    # Given execution A holds the lock
    inventory.take_lock("web", "A", 600, {**REQUEST, "status": "issuing"})
    # Then B cannot take it, A can take it again, B cannot release it, A can
    with pytest.raises(CertificateLocked, match="being worked on by A"):
        inventory.take_lock("web", "B", 600, {**REQUEST, "status": "issuing"})
    inventory.take_lock("web", "A", 600, {**REQUEST, "status": "issuing"})
    assert inventory.release_lock("web", "B") is False
    assert inventory.release_lock("web", "A") is True
    inventory.take_lock("web", "B", 600, {**REQUEST, "status": "issuing"})


def test_an_expired_lock_can_be_taken_over(inventory: Inventory) -> None:
    # Given a lock of one second, taken at a time of the test's clock
    now = [1_800_000_000.0]
    clocked = Inventory(inventory._table, clock=lambda: now[0])
    clocked.take_lock("web", "crashed", 1, {**REQUEST, "status": "issuing"})
    # When it has not expired yet, Then it holds
    with pytest.raises(CertificateLocked):
        clocked.take_lock("web", "next", 600, {**REQUEST, "status": "issuing"})
    # When its second has passed, Then another execution takes it over
    now[0] += 2
    clocked.take_lock("web", "next", 600, {**REQUEST, "status": "issuing"})
    assert (clocked.get("web") or {})["lock_owner"] == "next"


def test_writes_need_the_lock_and_history_is_bounded(inventory: Inventory) -> None:
    inventory.take_lock("web", "A", 600, {**REQUEST, "status": "issuing"})
    for i in range(HISTORY_LENGTH + 5):
        inventory.update("web", "A", {"serial": f"{i:x}"}, event={"event": "issued", "n": i})
    item = inventory.get("web") or {}
    assert len(item["history"]) == HISTORY_LENGTH
    assert item["history"][-1]["n"] == HISTORY_LENGTH + 4
    with pytest.raises(CertificateLocked, match="no longer holds the lock"):
        inventory.update("web", "B", {"serial": "ff"})


def test_acme_pause_moves_only_later_and_is_not_a_certificate(inventory: Inventory) -> None:
    inventory.pause_acme("sandbox", 2_000)
    inventory.pause_acme("sandbox", 1_000)
    assert inventory.acme_pause_until("sandbox") == 2_000
    assert inventory.acme_pause_until("other") == 0
    assert inventory.all() == []


def test_the_first_import_makes_the_map_of_arns_and_the_others_add_to_it(inventory: Inventory) -> None:
    # Given a new certificate's lock: the request's step records no ARNs (it may not write them)
    inventory.take_lock("web", "A", 600, {**REQUEST, "status": "issuing"})
    assert CERTIFICATE_ARNS not in (inventory.get("web") or {})
    # When two regions' imports, both having read no map, record their ARNs; then a renewal's import records again
    inventory.set_certificate_arn("web", "A", "us-east-1", "arn:east", has_arns=False)
    inventory.set_certificate_arn("web", "A", "eu-west-1", "arn:west", has_arns=False)
    inventory.set_certificate_arn("web", "A", "eu-west-1", "arn:west-2", has_arns=True)
    # Then the map holds each region's, and each ARN names the certificate
    assert (inventory.get("web") or {})[CERTIFICATE_ARNS] == {"us-east-1": "arn:east", "eu-west-1": "arn:west-2"}
    assert inventory.name_for_arn("arn:west") == "web"
    # And an execution that lost the lock records nothing, whether the map is there or not
    for has_arns in (False, True):
        with pytest.raises(CertificateLocked, match="no longer holds the lock"):
            inventory.set_certificate_arn("web", "B", "us-east-1", "arn:other", has_arns=has_arns)
    inventory.take_lock("new", "A", 600, {**REQUEST, "status": "issuing"})
    with pytest.raises(CertificateLocked, match="no longer holds the lock"):
        inventory.set_certificate_arn("new", "B", "us-east-1", "arn:other", has_arns=False)
