"""DynamoDB's authorizations (JSON 1.0, X-Amz-Target DynamoDB_20120810.<Operation>).

Per the Service Authorization Reference (SAR), "Actions, resources, and condition keys for Amazon DynamoDB":
every item operation is authorized on the table ARN (a Query or Scan with IndexName on `table/T/index/I`); the batch
operations have their own actions (dynamodb:BatchGetItem, dynamodb:BatchWriteItem), authorized here once per table
and item; TransactWriteItems and TransactGetItems are not actions: each item is authorized as the item action it is
(dynamodb:PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem) with dynamodb:EnclosingOperation naming the
transaction.

Condition keys, per the DynamoDB Developer Guide, "Using IAM policy conditions for fine-grained access control":
- dynamodb:LeadingKeys: the partition key values of the items the request touches (a list, even for one item);
  for a Query, the value its key condition gives the partition key of the table or of the index queried.
- dynamodb:Attributes: the top-level attribute names the request reads, writes or evaluates. The guide: the listed
  attributes "can be read, written, or evaluated in a conditional write or scan filter", a policy "must specify the
  names of all of the primary key and index key attributes", and an application limited to some attributes "cannot
  perform conditional write operations based on any other attributes". So: the Key's or Item's attribute names, and
  every attribute a ProjectionExpression, UpdateExpression, ConditionExpression, KeyConditionExpression or
  FilterExpression names (#placeholders resolved through ExpressionAttributeNames; a.b[0] counts as a), and the
  legacy AttributesToGet, AttributeUpdates, Expected, KeyConditions, QueryFilter and ScanFilter.
- dynamodb:Select: the request's Select; otherwise, as the guide says the parameter "always has a value": for a
  read with a ProjectionExpression or AttributesToGet SPECIFIC_ATTRIBUTES, else ALL_ATTRIBUTES (a Query or Scan of
  an index: ALL_PROJECTED_ATTRIBUTES, DynamoDB's default there).
- dynamodb:ReturnValues: the request's, NONE by default, on PutItem, UpdateItem and DeleteItem.
- dynamodb:ReturnConsumedCapacity when the request has it.
A table encrypted with a customer managed KMS key also needs the caller's kms:Decrypt on that key through DynamoDB
(encryption context aws:dynamodb:tableName and aws:dynamodb:subscriberId, per the Developer Guide's "How Amazon
DynamoDB uses AWS KMS"), once per table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.iam.authz import Call, ContextValue, required
from sandbox.iam.evaluator import Request
from sandbox.iam.resource_state import Table, TableKeys
from sandbox.iam.wire import Unmapped

READ = "read"
WRITE = "write"
_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)|(?P<value>:[A-Za-z0-9_]+)|(?P<index>\[\s*\d+\s*\])"
    r"|(?P<dot>\.)|(?P<op><>|<=|>=|[=<>(),+\-]))"
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
_LEGACY_ATTRIBUTE_MAPS = ("AttributeUpdates", "Expected", "KeyConditions", "QueryFilter", "ScanFilter")
_EXPRESSIONS = (
    "ProjectionExpression",
    "UpdateExpression",
    "ConditionExpression",
    "KeyConditionExpression",
    "FilterExpression",
)
Token = tuple[str, str]


def _tokens(expression: str) -> list[Token]:
    tokens: list[Token] = []
    expression, position = expression.strip(), 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.lastgroup is None:
            raise Unmapped(f"dynamodb: cannot read the expression {expression!r} at {expression[position:]!r}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


def _resolve(name: str, names: Mapping[str, str]) -> str:
    if not name.startswith("#"):
        return name
    if name not in names:
        raise Unmapped(f"dynamodb: {name} is not in ExpressionAttributeNames")
    return names[name]


def _top_level_paths(tokens: list[Token]) -> Iterable[tuple[int, str]]:
    """(index, name) of each path's first element: not after a dot, not a function's or keyword's name."""
    for index, (kind, text) in enumerate(tokens):
        if kind != "name" or (index > 0 and tokens[index - 1][0] == "dot"):
            continue
        if index + 1 < len(tokens) and tokens[index + 1] == ("op", "("):
            continue  # a function: attribute_exists, begins_with, size, if_not_exists, list_append, ...
        if not text.startswith("#") and text.upper() in _KEYWORDS:
            continue
        yield index, text


def expression_attributes(expression: str | None, names: Mapping[str, str]) -> set[str]:
    """The top-level attribute names an expression names. Raises Unmapped if it cannot be read."""
    if not expression:
        return set()
    return {_resolve(text, names) for _, text in _top_level_paths(_tokens(expression))}


def key_value(value: Any) -> str:
    """A key attribute's value as IAM sees it: the string of an S, N or B AttributeValue. Raises Unmapped."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, text),) = value.items()
        if kind in ("S", "N", "B") and isinstance(text, str):
            return text
    raise Unmapped(f"dynamodb: {value!r} is not a key attribute value")


def partition_value(
    expression: str, names: Mapping[str, str], values: Mapping[str, Any], partition_key: str
) -> str | None:
    """The value a key condition expression gives the partition key (`pk = :v` or `:v = pk`), None if none."""
    tokens = _tokens(expression)
    simple = {index for index, _ in _top_level_paths(tokens)} - {
        index for index in range(len(tokens) - 1) if tokens[index + 1][0] in ("dot", "index")
    }
    for index in range(len(tokens) - 2):
        if tokens[index + 1] != ("op", "="):
            continue
        for path, value in ((index, index + 2), (index + 2, index)):
            is_condition = path in simple and tokens[value][0] == "value"
            if is_condition and _resolve(tokens[path][1], names) == partition_key:
                if tokens[value][1] not in values:
                    raise Unmapped(f"dynamodb: {tokens[value][1]} is not in ExpressionAttributeValues")
                return key_value(values[tokens[value][1]])
    return None


def accessed_attributes(spec: Mapping[str, Any], item_or_key: Mapping[str, Any] | None = None) -> set[str]:
    """The top-level attribute names a request (or one item of a batch or transaction) accesses."""
    names = spec.get("ExpressionAttributeNames") or {}
    attributes = set(item_or_key or {})
    for expression in _EXPRESSIONS:
        attributes |= expression_attributes(spec.get(expression), names)
    attributes |= set(spec.get("AttributesToGet") or [])
    for legacy in _LEGACY_ATTRIBUTE_MAPS:
        attributes |= set(spec.get(legacy) or {})
    return attributes


class _DynamoDb:
    def __init__(self, call: Call) -> None:
        self.call = call
        self.tables: dict[str, Table | None] = {}

    def table(self, name: str) -> Table | None:
        if name not in self.tables:
            self.tables[name] = self.call.state.table(name)
        return self.tables[name]

    def table_arn(self, name: str) -> str:
        table = self.table(name)
        if table is not None:
            return table.arn
        if name.startswith("arn:"):
            return name
        return f"arn:aws:dynamodb:{self.call.region}:{self.call.account}:table/{name}"

    def leading_keys(self, table_name: str, item_or_key: Mapping[str, Any]) -> list[str] | None:
        table = self.table(table_name)
        if table is None or table.keys.partition_key not in item_or_key:
            return None
        return [key_value(item_or_key[table.keys.partition_key])]

    def item(
        self,
        action: str,
        spec: Mapping[str, Any],
        item_or_key: Mapping[str, Any],
        *,
        access: str,
        enclosing: str | None = None,
        projection_of: Mapping[str, Any] | None = None,
    ) -> Request:
        """One item's authorization; `projection_of` is where a batch item's projection is (its table's entry)."""
        table_name = required(spec, "TableName", self.call.operation)
        projection = projection_of if projection_of is not None else spec
        context: dict[str, ContextValue | None] = {
            "dynamodb:LeadingKeys": self.leading_keys(table_name, item_or_key),
            "dynamodb:Attributes": _sorted(accessed_attributes(spec, item_or_key) | accessed_attributes(projection)),
            "dynamodb:EnclosingOperation": enclosing,
            "dynamodb:ReturnConsumedCapacity": self.call.body().get("ReturnConsumedCapacity"),
        }
        if access == READ:
            context["dynamodb:Select"] = _select(projection, index=False)
        elif enclosing is None and action in ("PutItem", "UpdateItem", "DeleteItem"):
            context["dynamodb:ReturnValues"] = spec.get("ReturnValues", "NONE")
        return self.call.authorize(f"dynamodb:{action}", self.table_arn(table_name), context)

    def query_or_scan(self, body: Mapping[str, Any]) -> Request:
        table_name = required(body, "TableName", self.call.operation)
        index = body.get("IndexName")
        resource = self.table_arn(table_name) + (f"/index/{index}" if index else "")
        context: dict[str, ContextValue | None] = {
            "dynamodb:Attributes": _sorted(accessed_attributes(body)),
            "dynamodb:Select": _select(body, index=bool(index)),
            "dynamodb:ReturnConsumedCapacity": body.get("ReturnConsumedCapacity"),
        }
        if self.call.operation == "Query":
            context["dynamodb:LeadingKeys"] = self.query_leading_keys(table_name, index, body)
        return self.call.authorize(f"dynamodb:{self.call.operation}", resource, context)

    def query_leading_keys(self, table_name: str, index: str | None, body: Mapping[str, Any]) -> list[str] | None:
        table = self.table(table_name)
        if table is None:
            return None
        keys: TableKeys | None = table.indexes.get(index) if index else table.keys
        if keys is None:
            return None
        if body.get("KeyConditionExpression"):
            names, values = body.get("ExpressionAttributeNames") or {}, body.get("ExpressionAttributeValues") or {}
            value = partition_value(body["KeyConditionExpression"], names, values, keys.partition_key)
            return None if value is None else [value]
        condition = (body.get("KeyConditions") or {}).get(keys.partition_key) or {}
        values = condition.get("AttributeValueList") or []
        return [key_value(values[0])] if condition.get("ComparisonOperator") == "EQ" and values else None

    def kms(self) -> list[Request]:
        """kms:Decrypt through DynamoDB on each customer managed key of the tables the request touched."""
        requests = []
        for table in self.tables.values():
            key = self.call.state.customer_key(table.kms_key_id) if table else None
            if table is None or key is None:
                continue
            context = {"aws:dynamodb:tableName": table.name, "aws:dynamodb:subscriberId": self.call.account}
            requests.append(self.call.kms_via_service("Decrypt", key, "dynamodb", context))
        return requests


def _select(spec: Mapping[str, Any], *, index: bool) -> str:
    if spec.get("Select"):
        return str(spec["Select"])
    if spec.get("ProjectionExpression") or spec.get("AttributesToGet"):
        return "SPECIFIC_ATTRIBUTES"
    return "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"


def _sorted(attributes: set[str]) -> list[str] | None:
    return sorted(attributes) or None


# operation -> (the member naming the item, read or write)
_ITEM_OPERATIONS = {
    "GetItem": ("Key", READ),
    "PutItem": ("Item", WRITE),
    "UpdateItem": ("Key", WRITE),
    "DeleteItem": ("Key", WRITE),
}
# a TransactWriteItems item's kind -> (the action it is authorized as, the member naming the item)
_TRANSACT_WRITES = {
    "Put": ("PutItem", "Item"),
    "Update": ("UpdateItem", "Key"),
    "Delete": ("DeleteItem", "Key"),
    "ConditionCheck": ("ConditionCheckItem", "Key"),
}


def authorizations(call: Call) -> list[Request]:
    """DynamoDB's authorizations for the call. Raises Unmapped for an operation not mapped or a request whose
    expressions, keys or tables cannot be read."""
    ddb, body, operation = _DynamoDb(call), call.body(), call.operation
    requests: list[Request] = []
    if operation in _ITEM_OPERATIONS:
        member, access = _ITEM_OPERATIONS[operation]
        requests.append(ddb.item(operation, body, body.get(member) or {}, access=access))
    elif operation in ("Query", "Scan"):
        requests.append(ddb.query_or_scan(body))
    elif operation == "DescribeTable":
        return [call.authorize("dynamodb:DescribeTable", ddb.table_arn(required(body, "TableName", operation)))]
    elif operation == "BatchGetItem":
        for table_name, entry in (body.get("RequestItems") or {}).items():
            spec = {**entry, "TableName": table_name}
            for key in entry.get("Keys") or []:
                requests.append(ddb.item(operation, {"TableName": table_name}, key, access=READ, projection_of=spec))
    elif operation == "BatchWriteItem":
        for table_name, writes in (body.get("RequestItems") or {}).items():
            for write in writes:
                item = (write.get("PutRequest") or {}).get("Item") or (write.get("DeleteRequest") or {}).get("Key")
                if not item:
                    raise Unmapped(f"dynamodb: BatchWriteItem request {write!r} is neither a put nor a delete")
                requests.append(ddb.item(operation, {"TableName": table_name}, item, access=WRITE))
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        requests.extend(_transaction(ddb, operation, body.get("TransactItems") or []))
    else:
        raise Unmapped(f"dynamodb: {operation} is not mapped")
    return requests + ddb.kms()


def _transaction(ddb: _DynamoDb, operation: str, items: list[Mapping[str, Any]]) -> list[Request]:
    requests = []
    for transact_item in items:
        if operation == "TransactGetItems":
            get = transact_item.get("Get") or {}
            requests.append(ddb.item("GetItem", get, get.get("Key") or {}, access=READ, enclosing=operation))
            continue
        kinds = [kind for kind in _TRANSACT_WRITES if kind in transact_item]
        if len(kinds) != 1:
            raise Unmapped(f"dynamodb: transaction item {transact_item!r} is not one put, update, delete or check")
        action, member = _TRANSACT_WRITES[kinds[0]]
        spec = transact_item[kinds[0]]
        requests.append(ddb.item(action, spec, spec.get(member) or {}, access=WRITE, enclosing=operation))
    return requests
