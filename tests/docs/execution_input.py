"""The execution inputs the docs show: JSON blocks that are a state machine's input, and the `aws stepfunctions
start-execution` lines of docs/execution-input.md, paired with the console example each one repeats."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema

from certctl.input_schema import DISTRIBUTION, LIFECYCLE, SCHEMA_PATH
from certlib.distribution.export import EXPORT_INPUT_FIELDS
from certlib.lifecycle.request import ALLOWED_KEYS
from tests.docs.aws_cli import AwsCall, parse_aws_command
from tests.docs.markdown import DOCS, PAGES, SHELL_LANGUAGES, Block, aws_commands, blocks

EXECUTION_INPUT_PAGE = DOCS / "execution-input.md"
# The variables the page sets from the stack outputs, and the machine each one names.
ARN_VARIABLES = {"$LIFECYCLE_ARN": LIFECYCLE, "$DISTRIBUTION_ARN": DISTRIBUTION}


def machine_of(document: Any) -> str | None:
    """LIFECYCLE or DISTRIBUTION for a JSON document that is that machine's input (by its fields), else None."""
    if not isinstance(document, dict) or not document:
        return None
    if "domains" in document and set(document) <= set(ALLOWED_KEYS):
        return LIFECYCLE
    if "certificate_arn" in document and set(document) <= set(EXPORT_INPUT_FIELDS):
        return DISTRIBUTION
    return None


def input_blocks() -> list[tuple[Block, str]]:
    """(block, machine) of every JSON block of the docs that is an execution input."""
    found = []
    for page in PAGES:
        for block in blocks(page, "json"):
            machine = machine_of(json.loads(block.body))
            if machine is not None:
                found.append((block, machine))
    return found


@dataclass(frozen=True)
class StartExecution:
    """One `aws stepfunctions start-execution` line of the page and the console example right before it."""

    block: Block
    argv: list[str]
    call: AwsCall
    machine: str
    execution_input: dict[str, Any]
    console_example: dict[str, Any] | None

    @property
    def where(self) -> str:
        return self.block.where


def start_executions() -> list[StartExecution]:
    page_blocks = blocks(EXECUTION_INPUT_PAGE)
    found = []
    for index, block in enumerate(page_blocks):
        if block.language not in SHELL_LANGUAGES:
            continue
        before = page_blocks[index - 1] if index else None
        console = json.loads(before.body) if before is not None and before.language == "json" else None
        for argv in aws_commands(block.body):
            call = parse_aws_command(argv)
            if call.operation != "StartExecution":
                continue
            machine = ARN_VARIABLES.get(call.parameters["stateMachineArn"])
            if machine is None:
                raise ValueError(f"{block.where}: start-execution of {call.parameters['stateMachineArn']!r}")
            found.append(StartExecution(block, argv, call, machine, json.loads(call.parameters["input"]), console))
    return found


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded


def validator(machine: str | None = None) -> jsonschema.Draft202012Validator:
    """The published schema's validator: for one machine's `$defs` entry, or the whole (either machine)."""
    document = schema() if machine is None else {**schema(), "oneOf": [{"$ref": f"#/$defs/{machine}"}]}
    return jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker())
