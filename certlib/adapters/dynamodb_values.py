"""DynamoDB's typed attribute values (`{"S": "x"}`, `{"N": "1"}`) to plain Python values and back, exactly as boto3's
TypeSerializer and TypeDeserializer convert them (boto3.dynamodb.types), without importing boto3: the layer's code
uses botocore only (cold start, certlib.services). tests/unit/test_dynamodb_values.py compares the two.

Python -> DynamoDB: None -> NULL, bool -> BOOL, int and Decimal -> N (38 digits at most, as DynamoDB), str -> S,
bytes and bytearray -> B, a set of numbers, strings or bytes -> NS, SS or BS, a mapping -> M, a list or tuple -> L.
DynamoDB -> Python: numbers come back as Decimal, sets as sets, B as bytes (boto3 wraps them in its Binary, which
compares equal to the same bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# DynamoDB's numbers: 38 significant digits, exponent -130..125; anything that would be rounded or clamped raises.
DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
BINARY_TYPES = (bytes, bytearray)
AttributeValue = dict[str, Any]


def to_attribute_value(value: Any) -> AttributeValue:
    """The DynamoDB attribute value of a Python value.

    Raises TypeError for a float (use Decimal), NaN or infinity, a set that mixes kinds, or a type DynamoDB has no
    attribute type for; decimal's Inexact, Rounded, Overflow or Underflow for a number DynamoDB cannot hold exactly.
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, BINARY_TYPES):
        return {"B": value}
    if _is_set_of(value, _is_number):
        return {"NS": [_number(member) for member in value]}
    if _is_set_of(value, _is_string):
        return {"SS": list(value)}
    if _is_set_of(value, _is_binary):
        return {"BS": list(value)}
    if isinstance(value, Mapping):
        return {"M": {key: to_attribute_value(member) for key, member in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute_value(member) for member in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def from_attribute_value(value: Mapping[str, Any]) -> Any:
    """The Python value of a DynamoDB attribute value. Raises TypeError for an empty one or an unknown type."""
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind, content = next(iter(value.items()))
    convert = _FROM_TYPE.get(kind)
    if convert is None:
        raise TypeError(f"Dynamodb type {kind} is not supported")
    return convert(content)


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """An item, a key or ExpressionAttributeValues in DynamoDB's form (see to_attribute_value for what it raises)."""
    return {name: to_attribute_value(value) for name, value in values.items()}


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """An item or a key as plain Python values (see from_attribute_value for what it raises)."""
    return {name: from_attribute_value(value) for name, value in item.items()}


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return isinstance(value, int | Decimal)  # bool included: boto3 takes a set of booleans for numbers too


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_binary(value: Any) -> bool:
    return isinstance(value, BINARY_TYPES)


def _is_set_of(value: Any, is_kind: Callable[[Any], bool]) -> bool:
    """Whether `value` is a set whose members are all of a kind (an empty set counts as numbers, as in boto3)."""
    return isinstance(value, AbstractSet) and all(is_kind(member) for member in value)


def _number(value: int | Decimal) -> str:
    number = str(DYNAMODB_CONTEXT.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _decimal(content: str) -> Decimal:
    return DYNAMODB_CONTEXT.create_decimal(content)


_FROM_TYPE: dict[str, Callable[[Any], Any]] = {
    "NULL": lambda _content: None,
    "BOOL": lambda content: content,
    "N": _decimal,
    "S": lambda content: content,
    "B": lambda content: content,
    "NS": lambda content: set(map(_decimal, content)),
    "SS": set,
    "BS": set,
    "L": lambda content: [from_attribute_value(member) for member in content],
    "M": lambda content: {key: from_attribute_value(member) for key, member in content.items()},
}
