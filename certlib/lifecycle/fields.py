"""Reading one field of a step's state: there, of its type, or MalformedState naming it (certlib.lifecycle.state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard, TypeVar

from certlib.exceptions import MalformedState

T = TypeVar("T")


def field_of(data: Any, key: str, kind: type[T], where: str = "") -> T:
    """`data[key]`, which must be a `kind`; raises MalformedState naming the field (`where` + `key`) otherwise."""
    value = _present(data, key, where)
    if _is(value, kind):
        return value
    raise MalformedState(
        f"the step's input has {_name(key, where)!r} of type {type(value).__name__}, not {kind.__name__}"
    )


def text_or_null(data: Any, key: str, where: str) -> str | None:
    """`data[key]`, which must be there, a string or null; raises MalformedState naming the field otherwise."""
    return field_or_null(data, key, str, where)


def field_or_null(data: Any, key: str, kind: type[T], where: str = "") -> T | None:
    """`data[key]`, which must be there, a `kind` or null; raises MalformedState naming the field otherwise."""
    value = _present(data, key, where)
    if value is None or _is(value, kind):
        return value
    raise MalformedState(
        f"the step's input has {_name(key, where)!r} of type {type(value).__name__}, not {kind.__name__} or null"
    )


def optional_field(data: Mapping[str, Any], key: str, kind: type[T], where: str = "") -> T | None:
    """`data[key]` when present and not null (then it must be a `kind`); None otherwise."""
    return field_of(data, key, kind, where) if data.get(key) is not None else None


def _is(value: Any, kind: type[T]) -> TypeGuard[T]:
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)  # a bool is no int here


def _present(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise MalformedState(f"the step's input has no object at {where or 'its top'}, so no {_name(key, where)!r}")
    if key not in data:
        raise MalformedState(f"the step's input lacks {_name(key, where)!r}")
    return data[key]


def _name(key: str, where: str) -> str:
    return f"{where}.{key}" if where else key
