"""DynamoDbTable (the inventory's table on botocore's low-level client) sends what boto3's Table resource sent and
returns what it returned, for each kind of call the inventory makes: the same calls are made through both, against
moto's DynamoDB, and the request bodies and the results compared."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from certlib.adapters.dynamodb_table import DynamoDbTable
from certlib.resources import INVENTORY_PARTITION_KEY, RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET_ATTRIBUTE, RENEWAL_INDEX

TABLE = "inventory"
KEY = {INVENTORY_PARTITION_KEY: "web"}
ITEM = {
    **KEY,
    "domains": ["www.example.test", "example.test"],
    "lock_expires_at": 1_800_000_000,
    "certificate_arns": {"us-east-1": "arn:aws:acm:us-east-1:123456789012:certificate/x"},
    "revocation": {"crl_urls": ["http://crl.example.test"], "ocsp_url": None},
    "tags": {"a", "b"},
    "weights": {Decimal("1.5"), 2},
    "der": b"\x00\xff",
    "failure_notified": True,
    RENEWAL_BUCKET_ATTRIBUTE: "managed",
    RENEW_AFTER_ATTRIBUTE: "2030-01-01T00:00:00Z",
}
# Each call as the inventory makes it: (method, parameters); the Table resource and DynamoDbTable take the same.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("put_item", {"Item": ITEM}),
    ("put_item", {"Item": {INVENTORY_PARTITION_KEY: "other", "status": "issued"}}),
    ("get_item", {"Key": KEY, "ConsistentRead": True}),
    ("get_item", {"Key": {INVENTORY_PARTITION_KEY: "missing"}, "ConsistentRead": True}),
    (
        "update_item",
        {
            "Key": KEY,
            "UpdateExpression": "SET #f0 = :v0, history = list_append(if_not_exists(history, :none), :event) "
            "REMOVE der",
            "ConditionExpression": "attribute_exists(#key) AND lock_expires_at < :now",
            "ExpressionAttributeNames": {"#f0": "status", "#key": INVENTORY_PARTITION_KEY},
            "ExpressionAttributeValues": {
                ":v0": "issued",
                ":none": [],
                ":event": [{"at": "2026-12-02T00:00:00Z", "serial": "0a1b", "n": 3}],
                ":now": 1_900_000_000,
            },
            "ReturnValues": "UPDATED_NEW",
        },
    ),
    ("update_item", {"Key": KEY, "UpdateExpression": "ADD orders :one", "ExpressionAttributeValues": {":one": 1}}),
    (
        "update_item",
        {
            "Key": KEY,
            "UpdateExpression": "SET status = :s",
            "ConditionExpression": "orders > :most",
            "ExpressionAttributeValues": {":s": "x", ":most": 5},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    ),
    (
        "query",
        {
            "IndexName": RENEWAL_INDEX,
            "KeyConditionExpression": "#bucket = :bucket AND #after <= :now",
            "ExpressionAttributeNames": {"#bucket": RENEWAL_BUCKET_ATTRIBUTE, "#after": RENEW_AFTER_ATTRIBUTE},
            "ExpressionAttributeValues": {":bucket": "managed", ":now": "2031-01-01T00:00:00Z"},
            "Limit": 5,
        },
    ),
    ("scan", {"Limit": 1}),
    ("scan", {"ExclusiveStartKey": {INVENTORY_PARTITION_KEY: "other"}}),
]


class Sent:
    """The JSON bodies a client sends (botocore's own event: no stand-in)."""

    def __init__(self, client: Any) -> None:
        self.bodies: list[Any] = []
        client.meta.events.register("request-created.dynamodb", self._keep)

    def _keep(self, request: Any, **_: Any) -> None:
        self.bodies.append(_sets_sorted(json.loads(request.body)))


def _sets_sorted(value: Any) -> Any:
    """The body with each set attribute's members sorted: DynamoDB's sets have no order, and two set objects with
    the same members may list them in different orders (boto3's copy of an item against ours: seen with
    PYTHONHASHSEED=24)."""
    if isinstance(value, dict):
        return {
            key: sorted(member) if key in ("SS", "NS", "BS") and isinstance(member, list) else _sets_sorted(member)
            for key, member in value.items()
        }
    if isinstance(value, list):
        return [_sets_sorted(member) for member in value]
    return value


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in (INVENTORY_PARTITION_KEY, RENEWAL_BUCKET_ATTRIBUTE, RENEW_AFTER_ATTRIBUTE)
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": RENEWAL_INDEX,
                    "KeySchema": [
                        {"AttributeName": RENEWAL_BUCKET_ATTRIBUTE, "KeyType": "HASH"},
                        {"AttributeName": RENEW_AFTER_ATTRIBUTE, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


def run(table: Any, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Each call's response without its metadata, or the error's code and body."""
    results: list[Any] = []
    for method, parameters in calls:
        try:
            response = getattr(table, method)(**parameters)
        except ClientError as exc:
            results.append({"error": exc.response["Error"]["Code"], "item": exc.response.get("Item")})
            continue
        results.append({name: value for name, value in response.items() if name != "ResponseMetadata"})
    return results


def by_name(item: dict[str, Any]) -> str:
    return str(item[INVENTORY_PARTITION_KEY])


def through_both(calls: Callable[[Any], list[Any]]) -> tuple[tuple[list[Any], list[Any]], ...]:
    """(bodies, results) through boto3's Table resource, then through DynamoDbTable on the same (emptied) table."""
    resource_table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    theirs_sent = Sent(resource_table.meta.client)
    theirs = calls(resource_table)
    theirs_bodies = list(theirs_sent.bodies)  # not the emptying's
    for item in resource_table.scan()["Items"]:
        resource_table.delete_item(Key={INVENTORY_PARTITION_KEY: item[INVENTORY_PARTITION_KEY]})
    client = boto3.client("dynamodb", region_name="us-east-1")
    ours_sent = Sent(client)
    ours = calls(DynamoDbTable(client, TABLE))
    return (theirs_bodies, ours_sent.bodies), (theirs, ours)


def test_each_call_sends_and_returns_what_the_table_resource_did(aws: None) -> None:
    # When the inventory's kinds of calls go through boto3's Table resource and through DynamoDbTable
    (theirs_sent, ours_sent), (theirs, ours) = through_both(lambda table: run(table, CALLS))
    # Then the same requests went out (set members in the same order: the same Python sets)
    assert ours_sent == theirs_sent
    # And the same values came back (numbers as Decimal; bytes equal to boto3's Binary), a condition check's item
    # in DynamoDB's form in both
    assert _sets_sorted(ours) == _sets_sorted(theirs)
    assert ours[6]["error"] == "ConditionalCheckFailedException"
    assert ours[6]["item"]["orders"] == {"N": "1"}


def test_batch_get_sends_and_returns_what_the_resources_batch_get_did(aws: None) -> None:
    keys = [{INVENTORY_PARTITION_KEY: name} for name in ("web", "other", "missing")]

    def batch_get(table: Any) -> list[Any]:
        run(table, CALLS[:2])
        if isinstance(table, DynamoDbTable):
            found, unprocessed = table.batch_get_item(keys, consistent_read=True)
            return [sorted(found, key=by_name), unprocessed]
        # the Table resource's client converts too: what the inventory called
        page = table.meta.client.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
        return [sorted(page["Responses"][TABLE], key=by_name), page["UnprocessedKeys"].get(TABLE, {}).get("Keys", [])]

    # When both read the same keys in one BatchGetItem
    (theirs_sent, ours_sent), (theirs, ours) = through_both(batch_get)
    # Then the same request went out, and the same items came back
    assert ours_sent == theirs_sent
    assert _sets_sorted(ours) == _sets_sorted(theirs)
    assert {item[INVENTORY_PARTITION_KEY] for item in ours[0]} == {"web", "other"}


def test_a_legacy_parameter_is_refused_rather_than_sent_unconverted(aws: None) -> None:
    table = DynamoDbTable(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
    with pytest.raises(TypeError, match="Expected"):
        table.put_item(Item=ITEM, Expected={"name": {"Exists": False}})
