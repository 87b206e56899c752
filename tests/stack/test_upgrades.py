"""Upgrades that lose nothing: every stateful resource of the certificate stack and of a DNS account's stack keeps its
logical ID and the properties whose change makes CloudFormation replace it, as the committed snapshot
(stateful_resources.json) holds them, and says what `cdk destroy` does to it (retain, unless a reason says otherwise).

A change a `cdk deploy` would turn into a new, empty resource (a new inventory table, a new key that cannot decrypt
the secrets, a DNS role under a new ARN) fails here with a message saying so. When the change is deliberate (with a
migration in docs/operations.md, "Upgrading"), rewrite the snapshot and review its diff:

    UPDATE_STATEFUL_SNAPSHOT=1 .venv/bin/pytest -p no:cacheprovider tests/stack/test_upgrades.py
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certlib.resources import ResourceNames
from stacks.deployments import Deployment

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

SNAPSHOT = Path(__file__).with_name("stateful_resources.json")
UPDATE = "UPDATE_STATEFUL_SNAPSHOT"
RETAIN, DELETE = "Retain", "Delete"


@dataclass(frozen=True)
class Stateful:
    """What `cdk destroy` (and a replacement) must do to a resource type, and why."""

    removal: str
    reason: str


STATEFUL = {
    "AWS::DynamoDB::Table": Stateful(RETAIN, "the inventory: every certificate, its ACM ARNs and renewal dates"),
    "AWS::KMS::Key": Stateful(RETAIN, "without it the retained secrets, table and logs cannot be read"),
    "AWS::KMS::Alias": Stateful(RETAIN, "how the retained key is found (alias/<prefix>)"),
    "AWS::SecretsManager::Secret": Stateful(RETAIN, "EAB HMAC keys the CA issued once"),
    "AWS::SNS::Topic": Stateful(RETAIN, "its subscriptions, some made outside the stack"),
    "AWS::Logs::LogGroup": Stateful(RETAIN, "what each step did, for the logs' retention"),
    "AWS::SQS::Queue": Stateful(
        DELETE,
        "events EventBridge could not deliver, which nothing reads without the stack (the inventory says what is due)",
    ),
    "AWS::StepFunctions::StateMachine": Stateful(
        DELETE, "its executions run only with the stack's functions; outcomes are in the inventory and the logs"
    ),
    "AWS::IAM::Role": Stateful(
        DELETE, "named roles only (the DNS roles and the DNS steps' roles they trust): access goes with the stack"
    ),
    "AWS::SSM::Parameter": Stateful(DELETE, "every deploy writes the configuration again from the accounts file"),
}
# CloudFormation's documentation says these replace the resource, though the registry schema does not list them as
# create-only.
DOCUMENTED_REPLACEMENTS = {"AWS::DynamoDB::Table": ("KeySchema", "LocalSecondaryIndexes")}
DNS_DEPLOYMENTS = (Deployment("111111111111", "eu-west-1"), Deployment("222222222222", "us-east-1"))


@cache
def replacing_properties(resource_type: str) -> tuple[str, ...]:
    """The top-level properties whose change makes CloudFormation replace a resource of this type: the registry
    schema's createOnlyProperties (cfn-lint ships the schemas), and DOCUMENTED_REPLACEMENTS."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    paths = schema.get("createOnlyProperties") or []
    names = {path.split("/")[2] for path in paths if path.startswith("/properties/")}
    return tuple(sorted(names | set(DOCUMENTED_REPLACEMENTS.get(resource_type, ()))))


def is_stateful(resource: dict[str, Any]) -> bool:
    if resource["Type"] == "AWS::IAM::Role":
        return "RoleName" in resource.get("Properties", {})
    return resource["Type"] in STATEFUL


def stateful_view(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{logical ID: its type and the values of its replacing properties} for every stateful resource."""
    view = {}
    for logical_id, resource in sorted(template["Resources"].items()):
        if not is_stateful(resource):
            continue
        properties = resource.get("Properties", {})
        view[logical_id] = {
            "Type": resource["Type"],
            "Properties": {
                name: properties[name] for name in replacing_properties(resource["Type"]) if name in properties
            },
        }
    return view


def replacements(stack: str, held: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What a `cdk deploy` from the held view to the current one would replace, lose or leave unheld, in words."""
    problems = []
    for logical_id, before in held.items():
        where = f"{stack}: {logical_id} ({before['Type']})"
        after = now.get(logical_id)
        if after is None:
            problems.append(
                f"{where} is no longer in the template (its logical ID changed or it was removed): `cdk deploy` would "
                f"delete it, or orphan it when retained, and any new one starts empty. Keep its construct ID and path"
            )
            continue
        for name in sorted(set(before["Properties"]) | set(after["Properties"])):
            old, new = before["Properties"].get(name), after["Properties"].get(name)
            if old != new:
                problems.append(
                    f"{where}: {name} changes from {json.dumps(old)} to {json.dumps(new)}, which makes CloudFormation "
                    f"REPLACE it on `cdk deploy`: a new, empty resource, and the old one deleted (or orphaned when "
                    f"retained)"
                )
    for logical_id in sorted(set(now) - set(held)):
        problems.append(
            f"{stack}: {logical_id} ({now[logical_id]['Type']}) is a new stateful resource that the snapshot does not "
            f"hold: once its name and place are final, run {UPDATE}=1 to add it"
        )
    return problems


@pytest.fixture(scope="module")
def dns_template() -> dict[str, Any]:
    """A DNS account's stack (two deployments trusting it), synthesized on its own."""
    from aws_cdk import App, Environment
    from aws_cdk.assertions import Template

    from stacks.dns_account_stack import DnsAccountStack

    app = App()
    stack = DnsAccountStack(
        app,
        "AcmeDnsAccess-333333333333",
        env=Environment(account="333333333333", region="us-east-1"),
        prefix=ResourceNames().prefix,
        workload_accounts=[deployment.account for deployment in DNS_DEPLOYMENTS],
        zone_ids=["Z0123456789EXAMPLE"],
        deployments=DNS_DEPLOYMENTS,
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    return template


@pytest.fixture(scope="module")
def views(synthesized: Synthesized, dns_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "CertificateStack": stateful_view(synthesized.template_json),
        "DnsAccountStack": stateful_view(dns_template),
    }


def test_no_stateful_resource_would_be_replaced_by_a_deploy(views: dict[str, dict[str, Any]]) -> None:
    # Given the committed snapshot of the stateful resources
    if os.environ.get(UPDATE):
        SNAPSHOT.write_text(json.dumps(views, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"{SNAPSHOT.name} rewritten: review its diff")
    held = json.loads(SNAPSHOT.read_text())

    # When the stacks synthesized now are compared with it
    problems = [problem for stack, view in views.items() for problem in replacements(stack, held.get(stack, {}), view)]

    # Then nothing would be replaced, lost, or go unheld
    assert sorted(held) == sorted(views)
    assert not problems, "\n".join(problems)


def test_the_snapshot_holds_the_resources_the_issue_names(views: dict[str, dict[str, Any]]) -> None:
    # Given / When the stateful resources found in each stack
    types = {stack: {entry["Type"] for entry in view.values()} for stack, view in views.items()}

    # Then the table, key and alias, secrets, topic, logs, queues and state machines, the DNS steps' named roles, and
    # the DNS account's two roles are all held
    assert set(STATEFUL) <= types["CertificateStack"]
    assert types["DnsAccountStack"] == {"AWS::IAM::Role"}
    assert len(views["DnsAccountStack"]) == 2
    assert replacing_properties("AWS::DynamoDB::Table") == (
        "ImportSourceSpecification",
        "KeySchema",
        "LocalSecondaryIndexes",
        "TableName",
    )


@pytest.mark.parametrize("stack", ["CertificateStack", "DnsAccountStack"])
def test_every_stateful_resource_says_what_cdk_destroy_does_to_it(
    stack: str, synthesized: Synthesized, dns_template: dict[str, Any]
) -> None:
    # Given the stateful resources of the stack
    template = synthesized.template_json if stack == "CertificateStack" else dns_template
    resources = {k: r for k, r in template["Resources"].items() if is_stateful(r)}

    # When / Then each has both policies written out, as its type's: retained unless a reason says otherwise
    assert resources
    for logical_id, resource in resources.items():
        expected = STATEFUL[resource["Type"]].removal
        policies = (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        assert policies == (expected, expected), f"{stack}: {logical_id} ({resource['Type']}): {policies}"


def test_a_replacing_change_fails_with_a_message_saying_so(synthesized: Synthesized) -> None:
    # Given the current view, and one where the table is renamed and the key got a new logical ID
    held = stateful_view(synthesized.template_json)
    changed = copy.deepcopy(held)
    table_id = synthesized.only_id("AWS::DynamoDB::Table")
    key_id = synthesized.only_id("AWS::KMS::Key")
    changed[table_id]["Properties"]["TableName"] = "acme-certs-inventory-v2"
    changed[f"{key_id}V2"] = changed.pop(key_id)

    # When they are compared
    problems = replacements("CertificateStack", held, changed)

    # Then the rename is a replacement, the moved key is lost and its new ID is unheld, each named
    assert len(problems) == 3
    assert f"{table_id} (AWS::DynamoDB::Table): TableName changes" in problems[1]
    assert "REPLACE it on `cdk deploy`" in problems[1]
    assert problems[0].startswith(f"CertificateStack: {key_id} (AWS::KMS::Key) is no longer in the template")
    assert f"{key_id}V2 (AWS::KMS::Key) is a new stateful resource" in problems[2]
    assert replacements("CertificateStack", held, held) == []
