"""The sandbox's moto answers a Query on a secondary index from the items its key condition matches
(sandbox.moto_index_query): every page is the one moto's own query returns, and items outside the condition are
neither sorted nor sized."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from sandbox.moto_index_query import query_matching_items_only

TABLE = "inventory"
INDEX = "renewal-due"
ITEMS = 300


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    """A table whose index holds most items (two buckets), and some items outside it (no sort key); the tests only
    read it."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("name", "bucket", "renew_after")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": INDEX,
                    "KeySchema": [
                        {"AttributeName": "bucket", "KeyType": "HASH"},
                        {"AttributeName": "renew_after", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for number in range(ITEMS):
            item = {"name": {"S": f"cert-{number:04}"}, "size": {"N": str(number % 7)}, "bucket": {"S": "due"}}
            if number % 10 == 0:
                item["bucket"] = {"S": "other"}
            if number % 25 != 0:  # every 25th is not in the index
                item["renew_after"] = {"S": f"2030-01-{1 + number % 28:02}T00:00:{number % 60:02}Z"}
            client.put_item(TableName=TABLE, Item=item)
        yield client


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "#b = :b AND #r <= :r", "values": {":b": "due", ":r": "2030-01-09T00:00:00Z"}},
    {"KeyConditionExpression": "#b = :b AND #r > :r", "values": {":b": "due", ":r": "2030-01-20T00:00:00Z"}},
    {
        "KeyConditionExpression": "#b = :b AND #r BETWEEN :r AND :s",
        "values": {":b": "other", ":r": "2030-01-03", ":s": "2030-01-25"},
    },
    {"KeyConditionExpression": "#b = :b AND begins_with(#r, :r)", "values": {":b": "due", ":r": "2030-01-1"}},
    {
        "KeyConditionExpression": "#b = :b AND #r <= :r",
        "values": {":b": "due", ":r": "2030-01-15T00:00:00Z"},
        "Limit": 7,
        "ScanIndexForward": False,
    },
    {
        "KeyConditionExpression": "#b = :b AND #r >= :r",
        "values": {":b": "due", ":r": "2030-01-05T00:00:00Z", ":s": 3},
        "FilterExpression": "#s < :s",
        "Limit": 11,
    },
    {"KeyConditionExpression": "#b = :b", "values": {":b": "due"}, "Limit": 50},  # no sort key condition: moto's own
]


def all_pages(client: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a query (Items, Count, ScannedCount, LastEvaluatedKey), following LastEvaluatedKey."""
    names = {"#b": "bucket", "#r": "renew_after", "#s": "size"}
    arguments: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": INDEX,
        "KeyConditionExpression": query["KeyConditionExpression"],
        "ExpressionAttributeNames": {
            name: value
            for name, value in names.items()
            if name in query["KeyConditionExpression"] + query.get("FilterExpression", "")
        },
        "ExpressionAttributeValues": {
            name: {"N": str(value)} if isinstance(value, int) else {"S": value}
            for name, value in query["values"].items()
        },
        **{key: query[key] for key in ("Limit", "ScanIndexForward", "FilterExpression") if key in query},
    }
    pages = []
    while True:
        page = client.query(**arguments)
        pages.append({key: page.get(key) for key in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in page:
            return pages
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize("query", QUERIES, ids=[query["KeyConditionExpression"] for query in QUERIES])
def test_each_page_is_the_one_moto_returns(dynamodb: Any, query: dict[str, Any]) -> None:
    # Given moto's own answer, page by page
    expected = all_pages(dynamodb, query)

    # When the sandbox's query answers the same query
    with mock.patch.object(Table, "query", query_matching_items_only):
        answered = all_pages(dynamodb, query)

    # Then every page is the same, and some items were found
    assert answered == expected
    assert sum(page["Count"] for page in answered) > 0


def test_items_outside_the_key_condition_are_not_sized(dynamodb: Any) -> None:
    # Given a query whose condition matches a few of the index's items
    query = QUERIES[0]
    with mock.patch.object(Item, "size", autospec=True, side_effect=Item.size) as moto_sized:
        expected = sum(page["Count"] for page in all_pages(dynamodb, query))
    assert moto_sized.call_count > ITEMS / 2  # moto sizes every item of the index

    # When the sandbox's query answers it
    with (
        mock.patch.object(Table, "query", query_matching_items_only),
        mock.patch.object(Item, "size", autospec=True, side_effect=Item.size) as sized,
    ):
        found = sum(page["Count"] for page in all_pages(dynamodb, query))

    # Then only what it returns is sized (twice each: moto's page limit, then its running total)
    assert found == expected
    assert sized.call_count <= 2 * found
