"""Names the CA validated out of band (an account's `prevalidated-domains`): Sectigo's OV/EV names, validated in its
portal, whose DNS is often not in Route 53.

The accounts file gives a list of names and patterns, or `all`:

    prevalidated-domains: [corp.example, "*.corp.example"]   # the name itself; every name under it
    prevalidated-domains: all                                # every name the account asks for

A listed name is never looked up in Route 53 and never gets a DNS-01 record from us: the order is placed, an
authorization the CA holds as valid needs nothing, and one that still asks for a challenge fails the execution
(certlib.exceptions.NotPrevalidated). `*.corp.example` covers every name below corp.example, at any depth, the
wildcard name `*.corp.example` too, but not corp.example itself: list both for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import idna

from certlib.exceptions import ConfigError

FIELD = "prevalidated-domains"
EVERY_NAME = "all"  # in the accounts file
EVERY_NAME_PATTERN = "*"  # how `all` is kept in the deployed configuration
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_EXAMPLE = "e.g. [corp.example, \"*.corp.example\"], or 'all'"


def parse_prevalidated(value: Any, where: str) -> list[str]:
    """The patterns of an account's `prevalidated-domains` (["*"] for `all`); raises ConfigError naming the entry."""
    if value in (None, "", []):
        return []
    if isinstance(value, str) and value.strip().lower() == EVERY_NAME:
        return [EVERY_NAME_PATTERN]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field {FIELD!r} must be a list of names and '*.' patterns, {_EXAMPLE}")
    patterns = [_pattern(entry, where) for entry in value]
    return list(dict.fromkeys(patterns))


def _pattern(entry: Any, where: str) -> str:
    if not isinstance(entry, str) or not entry.strip():
        raise ConfigError(f"{where}: field {FIELD!r} holds {entry!r}: each entry is a name or a '*.' pattern")
    text = entry.strip().rstrip(".").lower()
    wildcard = text.startswith("*.")
    body = text[2:] if wildcard else text
    try:
        ascii_body = body if body.isascii() else idna.encode(body, uts46=True).decode().lower()
    except idna.IDNAError:
        ascii_body = ""
    labels = ascii_body.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ConfigError(
            f"{where}: field {FIELD!r} holds {entry!r}, which is neither a DNS name nor '*.' and a DNS name "
            f"({_EXAMPLE}); the word 'all' stands alone, not in a list"
        )
    return f"*.{ascii_body}" if wildcard else ascii_body


def is_prevalidated(domain: str, patterns: Iterable[str]) -> bool:
    """Whether a normalized request name (lowercase A-labels, maybe `*.`) is covered by one of the patterns."""
    for pattern in patterns:
        if pattern == EVERY_NAME_PATTERN or domain == pattern:
            return True
        if pattern.startswith("*.") and domain.endswith(pattern[1:]):
            return True
    return False
