"""One DynamoDB table on botocore's low-level client, in plain Python values: what boto3's Table resource did for the
inventory, without boto3 (its import and the resource model cost every cold start; certlib.services).

Each method is the DynamoDB operation of the same name with the table's name added. It takes the operation's own
parameters (`Key=`, `UpdateExpression=`, ...) and returns its response, with the attribute values in plain Python
values on both sides, converted as boto3 converts them (certlib.adapters.dynamodb_values): the same request goes out,
the same values come back. An error is botocore's ClientError, unconverted (as with boto3: a condition check's
`Item` stays in DynamoDB's form).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from certlib.adapters.dynamodb_values import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The parameters holding attribute values that the expression-based calls send: an item or a key, or the values
# the expressions name (":v" -> value).
_ITEM_PARAMETERS = ("Key", "Item", "ExclusiveStartKey", "ExpressionAttributeValues")
# The response members holding one item or key, and Query's and Scan's list of items.
_ITEM_MEMBERS = ("Item", "Attributes", "LastEvaluatedKey")
_ITEMS_MEMBER = "Items"
# DynamoDB's legacy parameters (before expressions) also carry attribute values: refused rather than sent unconverted.
_LEGACY_PARAMETERS = frozenset({"Expected", "AttributeUpdates", "KeyConditions", "QueryFilter", "ScanFilter"})


class DynamoDbTable:
    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    def get_item(self, **parameters: Any) -> dict[str, Any]:
        """Raises botocore's ClientError, TypeError for a value DynamoDB cannot hold (as for every method here)."""
        return _plain(self.client.get_item(TableName=self.name, **_typed(parameters)))

    def put_item(self, **parameters: Any) -> dict[str, Any]:
        return _plain(self.client.put_item(TableName=self.name, **_typed(parameters)))

    def update_item(self, **parameters: Any) -> dict[str, Any]:
        return _plain(self.client.update_item(TableName=self.name, **_typed(parameters)))

    def query(self, **parameters: Any) -> dict[str, Any]:
        return _plain(self.client.query(TableName=self.name, **_typed(parameters)))

    def scan(self, **parameters: Any) -> dict[str, Any]:
        return _plain(self.client.scan(TableName=self.name, **_typed(parameters)))

    def batch_get_item(
        self, keys: Sequence[Mapping[str, Any]], *, consistent_read: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """One BatchGetItem call on this table (at most 100 keys): the items found, and the keys DynamoDB left
        unprocessed (throughput), to ask for again. Raises botocore's ClientError."""
        response: Mapping[str, Any] = self.client.batch_get_item(
            RequestItems={self.name: {"Keys": [to_item(key) for key in keys], "ConsistentRead": consistent_read}}
        )
        items = [from_item(item) for item in response.get("Responses", {}).get(self.name, [])]
        unprocessed = response.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
        return items, [from_item(key) for key in unprocessed]


def _typed(parameters: dict[str, Any]) -> dict[str, Any]:
    """The call's parameters with their attribute values in DynamoDB's form. Raises TypeError for a legacy one."""
    legacy = _LEGACY_PARAMETERS.intersection(parameters)
    if legacy:
        raise TypeError(f"{sorted(legacy)}: use expressions (DynamoDbTable converts only their values)")
    return {name: to_item(value) if name in _ITEM_PARAMETERS else value for name, value in parameters.items()}


def _plain(response: Mapping[str, Any]) -> dict[str, Any]:
    """The response with its items, keys and attributes in plain Python values."""
    plain = dict(response)
    for member in _ITEM_MEMBERS:
        if member in plain:
            plain[member] = from_item(plain[member])
    if _ITEMS_MEMBER in plain:
        plain[_ITEMS_MEMBER] = [from_item(item) for item in plain[_ITEMS_MEMBER]]
    return plain
