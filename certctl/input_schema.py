"""The state machines' execution input as a JSON Schema: docs/execution-input.schema.json, built here from the same
constants the first step of each machine validates with (certlib.lifecycle.request for the lifecycle,
certlib.distribution.export for the distribution machine), so the published file cannot drift from the code:

    python -m certctl.input_schema           # print it
    python -m certctl.input_schema --write   # rewrite docs/execution-input.schema.json (a test keeps them equal)

The schema is what a console or an editor can check before StartExecution. ValidateRequest checks more than a schema
can say (names normalized to their A-label form, each name in a zone we may use, the account and profile deployed),
and says what is wrong in one message; a test holds the two to the same answer on what the schema does say.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from certlib.config import ALIAS_PATTERN
from certlib.distribution.export import ACM_ARN_PATTERN, EXPORT_INPUT_FIELDS
from certlib.distribution.spec import PROFILE_NAME_PATTERN
from certlib.key_types import KEY_TYPES
from certlib.lifecycle.request import ALLOWED_KEYS, MAX_DOMAINS, MAX_FALLBACK_ACCOUNTS, NAME_PATTERN, REGION_PATTERN
from deploy.paths import REPO_ROOT

SCHEMA_PATH = REPO_ROOT / "docs" / "execution-input.schema.json"
SCHEMA_ID = "https://github.com/acme-certificates/docs/execution-input.schema.json"
LIFECYCLE = "lifecycle"
DISTRIBUTION = "distribution"


def anchored(pattern: re.Pattern[str]) -> str:
    """A pattern the code applies with fullmatch, as JSON Schema applies patterns (a search): anchored."""
    return f"^(?:{pattern.pattern})$"


def _certificate_name(what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": anchored(NAME_PATTERN),
        "description": f"{what}: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit",
    }


def _distribution_choice(left_out: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "profile": {
                "type": "string",
                "pattern": anchored(PROFILE_NAME_PATTERN),
                "description": "a distribution profile of the deployed accounts file (`distribution-profiles:`)",
            }
        },
        "additionalProperties": False,
        "description": (
            '{"profile": NAME} sends the certificate to the servers of that deployed profile with SSM Run Command; '
            f"{{}} stops that; left out, {left_out}. Targets, paths and commands are never accepted here"
        ),
        "examples": [{"profile": "web"}, {}],
    }


def lifecycle_input() -> dict[str, Any]:
    """The certificate lifecycle's input (certlib.lifecycle.request.parse_request)."""
    return _closed_object(
        "Certificate lifecycle input (<prefix>-certificate-lifecycle)",
        ["name", "domains"],
        {
            "name": _certificate_name("the certificate's name in the inventory"),
            "domains": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_DOMAINS,
                "items": {"type": "string", "pattern": "\\S"},
                "description": (
                    "DNS names, each in a Route 53 zone the stack may use (or under dns-zones); '*.example.com' is a "
                    "wildcard. Lowercased, trailing dot dropped, internationalized names to their A-label form"
                ),
            },
            "account": {
                "type": ["string", "null"],
                "pattern": anchored(ALIAS_PATTERN),
                "description": "an ACME account alias of the deployed accounts file; left out: its default-account",
            },
            "fallback_accounts": {
                "type": "array",
                "maxItems": MAX_FALLBACK_ACCOUNTS,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": anchored(ALIAS_PATTERN)},
                "description": (
                    "ACME account aliases tried in order, in the same execution, when the account fails on the CA's "
                    "side (rate limit, CA unavailable, order refused); each gives the same key type. Left out: what "
                    "the inventory has; [] for none"
                ),
                "examples": [["backup-ca"]],
            },
            "key_type": {
                "enum": [*KEY_TYPES, None],
                "description": "the certificate key's type; left out: the account's KeyType/KeySize",
            },
            "regions": {
                "type": ["array", "null"],
                "minItems": 1,
                "items": {"type": "string", "pattern": anchored(REGION_PATTERN)},
                "description": "the regions to import into ACM; left out: the stack's region",
                "examples": [["eu-west-1", "us-east-1"]],
            },
            "distribution": _distribution_choice("a renewal keeps what the inventory has"),
            "replace": {
                "type": "boolean",
                "description": "true lets the request change the domains or ACME account of an existing name",
            },
        },
    )


def distribution_input() -> dict[str, Any]:
    """The distribution machine's input for ACM's exportable certificates (certlib.distribution.export)."""
    return _closed_object(
        "Certificate distribution input (<prefix>-certificate-distribution)",
        ["name", "certificate_arn"],
        {
            "name": _certificate_name("the name the exported certificate is registered under"),
            "certificate_arn": {
                "type": "string",
                "pattern": anchored(ACM_ARN_PATTERN),
                "description": "an exportable ACM certificate its owner tagged for this deployment",
            },
            "distribution": _distribution_choice("the registered certificate keeps what the inventory has"),
        },
    )


def _closed_object(title: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A machine's input: an object of these properties and no other (the first step refuses any other field)."""
    return {
        "title": title,
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }


def execution_input_schema() -> dict[str, Any]:
    """The whole schema: either machine's input, by its `$defs` entry. Raises ValueError when a definition and the
    fields the code accepts differ (a field added to the code must be described here)."""
    definitions = {LIFECYCLE: lifecycle_input(), DISTRIBUTION: distribution_input()}
    for definition, fields in ((LIFECYCLE, ALLOWED_KEYS), (DISTRIBUTION, EXPORT_INPUT_FIELDS)):
        described = tuple(definitions[definition]["properties"])
        if set(described) != set(fields):
            raise ValueError(f"{definition}: the schema describes {described}, the code takes {fields}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Execution input of the ACME certificate state machines",
        "description": (
            "StartExecution input of the certificate lifecycle (#/$defs/lifecycle) or of the distribution machine "
            "for ACM's exportable certificates (#/$defs/distribution). Generated by `python -m certctl.input_schema`; "
            "docs/execution-input.md has examples."
        ),
        "oneOf": [{"$ref": f"#/$defs/{LIFECYCLE}"}, {"$ref": f"#/$defs/{DISTRIBUTION}"}],
        "$defs": definitions,
    }


def rendered() -> str:
    return json.dumps(execution_input_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print (or --write) docs/execution-input.schema.json.")
    parser.add_argument("--write", action="store_true", help=f"rewrite {SCHEMA_PATH.relative_to(REPO_ROOT)}")
    args = parser.parse_args(argv)
    if args.write:
        SCHEMA_PATH.write_text(rendered())
        print(f"wrote {SCHEMA_PATH.relative_to(REPO_ROOT)}", file=sys.stderr)
    else:
        sys.stdout.write(rendered())
    return 0


if __name__ == "__main__":
    sys.exit(main())
