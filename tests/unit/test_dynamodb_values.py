"""certlib's DynamoDB value conversion (the layer's, without boto3) converts as boto3's TypeSerializer and
TypeDeserializer do, on the values the inventory stores and on the edges: the same attribute values go out, the same
Python values come back."""

from __future__ import annotations

from decimal import Decimal, Inexact, Rounded
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from certlib.adapters.dynamodb_values import from_attribute_value, from_item, to_attribute_value, to_item

# What an inventory item holds (certlib.adapters.inventory), and the edges of each DynamoDB type.
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1_800_000_000,
    10**37,
    Decimal("1.5"),
    Decimal("-0.000001"),
    Decimal("1E+125"),
    Decimal("1E-130"),
    Decimal("12345678901234567890123456789012345678"),
    Decimal("1.0"),
    Decimal("-0"),
    "",
    "www.example.test",
    "é ☃ \u0000",
    b"",
    b"\x00\xff",
    bytearray(b"abc"),
    {1, 2, Decimal("3.5")},
    {"a", "b"},
    {b"a", b"b"},
    {True, 2},  # booleans count as numbers in a set, as in boto3
    set(),  # an empty set is a number set (DynamoDB refuses it)
    frozenset({"x"}),
    [],
    ["www.example.test", 1, None, [True, {"k": b"v"}]],
    ("a", 1),
    {},
    {"us-east-1": "arn:aws:acm:us-east-1:123456789012:certificate/x", "nested": {"list": [1, "2"], "set": {"s"}}},
    {"history": [{"at": "2026-12-02T00:00:00Z", "event": "issued", "serial": "0a1b"}]},
]

# Values DynamoDB cannot hold: boto3 and certlib refuse each with the same error.
REFUSED: list[Any] = [
    1.5,
    Decimal("NaN"),
    Decimal("Infinity"),
    {1.5},
    {"a", 1},
    object(),
    {"a": 1.5},
    [float("inf")],
]

# Numbers DynamoDB's 38 digits cannot hold exactly: decimal's trap, in both.
INEXACT: list[Any] = [10**40 + 1, Decimal("1.000000000000000000000000000000000000001")]


def boto3_value(value: Any) -> Any:
    return TypeSerializer().serialize(value)


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_a_value_goes_out_as_boto3_sends_it(value: Any) -> None:
    ours, theirs = to_attribute_value(value), boto3_value(value)
    assert _comparable(ours) == _comparable(theirs)


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_a_value_comes_back_as_boto3_returns_it(value: Any) -> None:
    # Given the attribute value DynamoDB sends back for it
    stored = boto3_value(value)
    # When both read it
    ours, theirs = from_attribute_value(stored), TypeDeserializer().deserialize(stored)
    # Then they are equal, of the same types (numbers as Decimal), but bytes where boto3 gives its Binary
    assert ours == theirs
    assert _shape(ours) == _shape(theirs)


@pytest.mark.parametrize("value", REFUSED, ids=lambda value: type(value).__name__)
def test_a_value_dynamodb_cannot_hold_is_refused_alike(value: Any) -> None:
    with pytest.raises(TypeError) as theirs:
        boto3_value(value)
    with pytest.raises(TypeError) as ours:
        to_attribute_value(value)
    # the message names the same problem (a set's members come in no fixed order: which one is named may differ)
    assert str(ours.value).split('"')[0] == str(theirs.value).split('"')[0]


@pytest.mark.parametrize("value", INEXACT, ids=lambda value: type(value).__name__)
def test_a_number_beyond_38_digits_is_refused_alike(value: Any) -> None:
    with pytest.raises((Inexact, Rounded)):
        boto3_value(value)
    with pytest.raises((Inexact, Rounded)):
        to_attribute_value(value)


@pytest.mark.parametrize("stored", [{}, {"X": "1"}])
def test_an_unknown_attribute_value_is_refused_alike(stored: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as theirs:
        TypeDeserializer().deserialize(stored)
    with pytest.raises(TypeError) as ours:
        from_attribute_value(stored)
    assert str(ours.value) == str(theirs.value)


def test_an_item_converts_each_attribute() -> None:
    item = {"name": "web", "lock_expires_at": 1_800_000_000, "domains": ["www.example.test"], "revoked": None}
    assert to_item(item) == {name: boto3_value(value) for name, value in item.items()}
    assert from_item(to_item(item)) == {**item, "lock_expires_at": Decimal(1_800_000_000)}


def _comparable(value: Any) -> Any:
    """An attribute value with its sets' members sorted (a set's order is Python's, not DynamoDB's)."""
    if isinstance(value, dict):
        return {kind: _comparable(member) for kind, member in value.items()}
    if isinstance(value, list):
        members = [_comparable(member) for member in value]
        return sorted(members, key=repr) if all(isinstance(member, str | bytes) for member in members) else members
    return value


def _shape(value: Any) -> Any:
    """The types of a Python value, all the way down (boto3's Binary counts as what it wraps)."""
    if isinstance(value, Binary):
        return type(value.value)
    if isinstance(value, dict):
        return {key: _shape(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_shape(member) for member in value]
    if isinstance(value, set):
        return sorted({repr(_shape(member)) for member in value})
    return type(value)
