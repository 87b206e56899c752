"""moto 5.2.5 (pinned) answers a Query on a secondary index by reading the whole table; the sandbox hands its query
only the items the key condition matches.

moto's `Table.query` with an `IndexName` takes every item of the table, sorts them all by the index's keys, then walks
the sorted list and computes each item's size (for the 1 MB page limit) before it compares the item's sort key with
the condition. The sweep's query on the renewal index (every certificate is in it) took 1.4-2 s at 50,000 inventory
items however few were due (issue 16, goal 6), where DynamoDB reads only the index entries in the condition's range.

`query_matching_items_only` makes the tests moto's own loop makes (the index's partition key values, the sort keys'
equalities, the presence of every sort key attribute, the sort key's comparison) once per item, and runs moto's query
on the items that pass: it sorts, sizes, pages (Limit, ExclusiveStartKey, LastEvaluatedKey), projects and filters
those as it did, and returns the same items in the same order. A page is cut at 1 MB of matching items (DynamoDB's
rule; moto counted the sizes of the items it then left out too). Queries without a sort key condition, on the table
itself or with the legacy KeyConditions filters go to moto's query unchanged.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.comparisons import get_comparison_func
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

_original_query = Table.query
# What DynamoDBBackend.query passes by keyword; anything else is a legacy KeyConditions filter.
_QUERY_KEYWORDS = frozenset(
    {"index_name", "consistent_read", "filter_expression", "hash_key_conditions", "range_key_conditions"}
)
INDEX_NAME_POSITION = 4  # in the arguments after range_objs, as DynamoDBBackend.query passes them


class _MatchingItems:
    """The table as moto's query sees it, with only `items` in it (everything else is the table's own)."""

    def __init__(self, table: Table, items: list[Item]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Item]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def query_matching_items_only(
    table: Table,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`Table.query`, given only the items in the key condition when it queries an index with a sort key condition.

    Raises what moto's query raises (an index it does not have: ValidationException).
    """
    index_name = args[INDEX_NAME_POSITION] if len(args) > INDEX_NAME_POSITION else kwargs.get("index_name")
    if not index_name or not range_comparison or not _QUERY_KEYWORDS.issuperset(kwargs):
        return _original_query(table, hash_key, range_comparison, range_objs, *args, **kwargs)
    index = {index.name: index for index in table.all_indexes()}.get(index_name)
    sort_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"] if index else []
    if not sort_keys:  # moto's own error (no such index, or no sort key to compare)
        return _original_query(table, hash_key, range_comparison, range_objs, *args, **kwargs)
    partition_equal = dict(kwargs.get("hash_key_conditions") or [])
    sort_conditions = kwargs.get("range_key_conditions") or []
    sort_equal = {name: values[0] for name, _, values in sort_conditions[:-1]}
    compared = sort_conditions[-1][0] if sort_conditions else sort_keys[0]
    # DynamoType.compare's own steps, with what does not depend on the item done once
    holds = get_comparison_func(range_comparison)
    bounds = [bound.cast_value for bound in range_objs]
    matching = [
        item
        for item in table.all_items()
        if isinstance(item, Item)
        and (value := item.attrs.get(compared))
        and holds(value.cast_value, *bounds)
        and _equal(item, partition_equal)
        and _equal(item, sort_equal)
        and all(item.attrs.get(name) for name in sort_keys)
    ]
    view: Any = _MatchingItems(table, matching)
    return _original_query(view, hash_key, range_comparison, range_objs, *args, **kwargs)


def _equal(item: Item, expected: dict[str, Any]) -> bool:
    """moto's test: each attribute present (and not empty) and equal to its value."""
    for name, value in expected.items():
        found = item.attrs.get(name)
        if not found or found != value:
            return False
    return True


def apply_index_query_fix() -> None:
    """For this whole process (idempotent)."""
    Table.query = query_matching_items_only  # type: ignore[method-assign,assignment]
