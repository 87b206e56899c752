"""The published execution input schema (docs/execution-input.schema.json) is the one the code generates and says what
ValidateRequest says; every input example of the docs validates against it; docs/execution-input.md has the console
examples the issue asks for, each repeated as an `aws stepfunctions start-execution` line that is a valid call.
(tests/lifecycle/test_execution_input_examples.py starts each one on the sandbox.)"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from certctl.input_schema import DISTRIBUTION, LIFECYCLE, SCHEMA_PATH, execution_input_schema, rendered
from certlib.config import parse_accounts
from certlib.exceptions import InvalidRequest
from certlib.key_types import KEY_TYPES
from certlib.lifecycle.request import MAX_DOMAINS, parse_request
from deploy.paths import REPO_ROOT
from tests.docs.aws_cli import parse_aws_command
from tests.docs.execution_input import input_blocks, schema, start_executions, validator
from tests.docs.markdown import PAGES, Block, aws_commands, shell_blocks

INPUT_BLOCKS = input_blocks()
START_EXECUTIONS = start_executions()
AWS_COMMANDS = [
    (block.where, argv) for page in PAGES for block in shell_blocks(page) for argv in aws_commands(block.body)
]
CONFIG = parse_accounts(
    {
        "accounts": {"sandbox": {"acme-endpoint": "https://127.0.0.1:14000/dir"}},
        "distribution-profiles": {"web": {"tags": {"role": ["web"]}}},
    }
).config
GOOD = {"name": "web", "domains": ["www.example.org"]}


def test_the_published_schema_is_the_one_the_code_generates() -> None:
    # Given / When the committed file and what the generator builds from the validating code's constants
    published = SCHEMA_PATH.read_text()

    # Then they are the same, and it is a valid JSON Schema
    assert published == rendered(), (
        f"{SCHEMA_PATH.relative_to(REPO_ROOT)} differs from the code: run `.venv/bin/python -m certctl.input_schema "
        f"--write` and review the change"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(published))


def test_the_schema_describes_every_field_the_code_accepts() -> None:
    # Given / When a field the code would accept but the schema leaves out
    from certctl import input_schema

    definitions = execution_input_schema()["$defs"]
    original = input_schema.ALLOWED_KEYS

    # Then generating refuses it, naming the field
    try:
        input_schema.ALLOWED_KEYS = (*original, "priority")
        with pytest.raises(ValueError, match="priority"):
            execution_input_schema()
    finally:
        input_schema.ALLOWED_KEYS = original
    assert set(definitions[LIFECYCLE]["properties"]) == set(original)


def accepted_by_code(document: Any) -> bool:
    try:
        parse_request(document, CONFIG, "eu-west-1")
    except InvalidRequest:
        return False
    return True


ACCEPTED = [
    GOOD,
    {**GOOD, "domains": ["example.org", "*.example.org"]},
    {**GOOD, "domains": ["WWW.Example.ORG.", " shop.example.org "]},
    {**GOOD, "domains": ["bücher.example"]},
    {**GOOD, "domains": [f"n{i}.example.org" for i in range(MAX_DOMAINS)]},
    {**GOOD, "name": "a" * 128},
    {**GOOD, "account": "sandbox"},
    {**GOOD, "account": None, "key_type": None, "regions": None},
    *({**GOOD, "key_type": key_type} for key_type in KEY_TYPES),
    {**GOOD, "regions": ["eu-west-1", "us-east-1", "us-gov-west-1"]},
    {**GOOD, "distribution": {"profile": "web"}},
    {**GOOD, "distribution": {}},
    {**GOOD, "replace": True},
    {**GOOD, "replace": False},
]
REFUSED = [
    [],
    "web",
    {"domains": ["www.example.org"]},
    {"name": "web"},
    {**GOOD, "name": "-web"},
    {**GOOD, "name": "a" * 129},
    {**GOOD, "name": "web site"},
    {**GOOD, "name": 7},
    {**GOOD, "domains": []},
    {**GOOD, "domains": "www.example.org"},
    {**GOOD, "domains": [""]},
    {**GOOD, "domains": ["   "]},
    {**GOOD, "domains": [7]},
    {**GOOD, "domains": [f"n{i}.example.org" for i in range(MAX_DOMAINS + 1)]},
    {**GOOD, "account": ""},
    {**GOOD, "account": 7},
    {**GOOD, "key_type": "ec999"},
    {**GOOD, "key_type": ""},
    {**GOOD, "regions": []},
    {**GOOD, "regions": "eu-west-1"},
    {**GOOD, "regions": ["eu-west"]},
    {**GOOD, "regions": ["EU-WEST-1"]},
    {**GOOD, "distribution": None},
    {**GOOD, "distribution": "web"},
    {**GOOD, "distribution": {"profile": "web", "tags": {"role": ["web"]}}},
    {**GOOD, "distribution": {"targets": [{"Key": "tag:role", "Values": ["web"]}]}},
    {**GOOD, "distribution": {"profile": "web/../x"}},
    {**GOOD, "replace": "yes"},
    {**GOOD, "replace": None},
    {**GOOD, "priority": "high"},
]


@pytest.mark.parametrize("document", ACCEPTED, ids=lambda document: json.dumps(document)[:80])
def test_what_validate_request_accepts_the_schema_accepts(document: Any) -> None:
    # Given an input ValidateRequest's parser accepts
    assert accepted_by_code(document)

    # When / Then the schema accepts it too (it never refuses a good input)
    validator(LIFECYCLE).validate(document)


@pytest.mark.parametrize("document", REFUSED, ids=lambda document: json.dumps(document)[:80])
def test_what_the_schema_refuses_validate_request_refuses(document: Any) -> None:
    # Given an input ValidateRequest's parser refuses
    assert not accepted_by_code(document)

    # When / Then the schema refuses it too
    assert not validator(LIFECYCLE).is_valid(document)


def test_the_examples_are_found() -> None:
    # Given / When / Then the docs' inputs and the page's command lines are found (a broken pattern checks nothing)
    machines = [machine for _, machine in INPUT_BLOCKS]
    assert machines.count(LIFECYCLE) >= 6  # the page's five and docs/distribution.md's
    assert machines.count(DISTRIBUTION) >= 1
    assert [start.machine for start in START_EXECUTIONS].count(LIFECYCLE) == 5
    assert [start.machine for start in START_EXECUTIONS].count(DISTRIBUTION) == 1
    assert len(AWS_COMMANDS) >= len(START_EXECUTIONS) + 2


@pytest.mark.parametrize(("block", "machine"), INPUT_BLOCKS, ids=[f"{b.where}" for b, _ in INPUT_BLOCKS])
def test_every_input_example_in_the_docs_validates_against_the_schema(block: Block, machine: str) -> None:
    # Given / When an execution input shown in the docs
    document = json.loads(block.body)

    # Then it is valid for its machine, and for the schema as a whole (which machine it is for is unambiguous)
    validator(machine).validate(document)
    validator().validate(document)


def test_the_console_examples_are_the_ones_people_reach_for() -> None:
    # Given the lifecycle inputs of docs/execution-input.md
    inputs = [start.execution_input for start in START_EXECUTIONS if start.machine == LIFECYCLE]

    # When / Then there is a plain one, a wildcard with its apex, one in two regions, one with a distribution profile
    assert any(set(i) == {"name", "domains"} and len(i["domains"]) == 1 for i in inputs)
    assert any(f"*.{domain}" in i["domains"] for i in inputs for domain in i["domains"])
    assert any(len(i.get("regions") or []) == 2 and "us-east-1" in i["regions"] for i in inputs)
    assert any(set(i.get("distribution") or {}) == {"profile"} for i in inputs)


@pytest.mark.parametrize("start", START_EXECUTIONS, ids=lambda start: start.where)
def test_every_start_execution_line_repeats_its_console_example_and_validates(start: Any) -> None:
    # Given / When an `aws stepfunctions start-execution` line of the page
    # Then its --input is the JSON shown right before it for the console, valid for the machine it starts
    assert start.execution_input == start.console_example, f"{start.where}: the line and the console example differ"
    validator(start.machine).validate(start.execution_input)


@pytest.mark.parametrize(("where", "argv"), AWS_COMMANDS, ids=[f"{w}: {' '.join(a[:3])}" for w, a in AWS_COMMANDS])
def test_every_aws_command_in_the_docs_is_a_valid_call(where: str, argv: list[str]) -> None:
    # Given / When an AWS CLI line of the docs is read with botocore's model of the service
    try:
        parse_aws_command(argv)
    except ValueError as exc:  # Then it names an operation, with known options and every required one
        pytest.fail(f"{where}: {exc}")


def test_the_schema_titles_name_the_state_machines() -> None:
    # Given / When the schema's definitions
    definitions = schema()["$defs"]

    # Then each says which machine it is for, as the page does
    assert "certificate-lifecycle" in definitions[LIFECYCLE]["title"]
    assert "certificate-distribution" in definitions[DISTRIBUTION]["title"]
