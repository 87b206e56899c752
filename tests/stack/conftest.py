"""One synthesis of the certificate stack per test session (the `synthesized` fixture, in tests/conftest.py so that
tests/security shares it), read by every test in this folder.

Synthesis runs the real app (`stacks.application.build_app`, cdk-nag included) into a temporary cloud assembly. When
cdk-nag fails it, the template is still read from disk so that the other tests report on it too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certlib.config import load_accounts_file
from certlib.resources import LIFECYCLE_STEPS, ResourceNames
from deploy.paths import REPO_ROOT

if TYPE_CHECKING:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from stacks.certificate_stack import CertificateStack

# jsii starts when aws_cdk is first imported (by a test module, after this conftest): silence its Node 20 banner.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

EXAMPLE_ACCOUNTS = REPO_ROOT / "config" / "acme-accounts.example.yaml"
BUILT_LAYER = REPO_ROOT / "build" / "layer"
NAMES = ResourceNames()  # cdk.json's resourcePrefix is the default one


@dataclass
class Synthesized:
    app: App
    stack: CertificateStack
    template: Template
    template_json: dict[str, Any]
    template_path: Path
    validation_report: dict[str, Any]
    synth_error: str | None

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def state_machine(self, name: str) -> tuple[str, dict[str, Any]]:
        """(logical ID, resource) of the state machine with that physical name."""
        (found,) = (
            (logical_id, resource)
            for logical_id, resource in self.resources("AWS::StepFunctions::StateMachine").items()
            if resource["Properties"]["StateMachineName"] == name
        )
        return found

    def only_id(self, resource_type: str) -> str:
        """The logical ID of the one resource of a type; fails when there are none or several."""
        (logical_id,) = self.resources(resource_type)
        return logical_id

    def functions_by_step(self, steps: Sequence[str] = LIFECYCLE_STEPS) -> dict[str, tuple[str, dict[str, Any]]]:
        """{step: (logical ID, resource)} of the functions of `steps` (the lifecycle's), found by function name."""
        by_name = {
            resource["Properties"]["FunctionName"]: (logical_id, resource)
            for logical_id, resource in self.resources("AWS::Lambda::Function").items()
        }
        return {step: by_name[NAMES.function(step)] for step in steps if NAMES.function(step) in by_name}

    def statements_by_step(self, steps: Sequence[str] = LIFECYCLE_STEPS) -> dict[str, list[dict[str, Any]]]:
        """{step: the statements of every policy attached to the step's role}."""
        policies = self.resources("AWS::IAM::Policy").values()
        by_step = {}
        for step, (_, function) in self.functions_by_step(steps).items():
            role = {"Ref": function["Properties"]["Role"]["Fn::GetAtt"][0]}
            by_step[step] = [
                statement
                for policy in policies
                if role in policy["Properties"]["Roles"]
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            ]
        return by_step

    def identity_statements(self) -> list[dict[str, Any]]:
        """Every statement of every IAM policy and role inline policy in the template."""
        statements = [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        for role in self.resources("AWS::IAM::Role").values():
            for inline in role["Properties"].get("Policies", []):
                statements.extend(inline["PolicyDocument"]["Statement"])
        return statements


@pytest.fixture(scope="session")
def example_accounts() -> Any:
    return load_accounts_file(EXAMPLE_ACCOUNTS)
