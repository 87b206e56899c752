"""The documented event schema (docs/event-schema.json), for the tests that check what we emit against it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from certlib.resources import EVENT_SOURCE
from deploy.paths import REPO_ROOT

EVENT_SCHEMA = REPO_ROOT / "docs" / "event-schema.json"


@cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(EVENT_SCHEMA.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_event(detail_type: str, detail: dict[str, Any], source: str = EVENT_SOURCE) -> None:
    """Raises jsonschema.ValidationError naming the field when the event does not match the documented schema."""
    validator().validate({"source": source, "detail-type": detail_type, "detail": detail})
