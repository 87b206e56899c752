"""`make iam-report`: the granted actions no sandbox request used, per function (sandbox.iam.report)."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.iam.report import unused_by_principal, used_actions, written_attributes
from sandbox.iam.stack_roles import SandboxStacks
from sandbox.iam.template import resolve_stack
from tests.unit.test_sandbox_template import ACCOUNT, KEY_ARN, REGION, template


def test_granted_actions_no_request_used_are_listed_per_function(tmp_path: Path) -> None:
    # Given the stack of tests/unit/test_sandbox_template.py, and two sandboxes' usage: GetItem used by the step
    stack = resolve_stack(template(), ACCOUNT, REGION, {"KeyABCD1234": {"Arn": KEY_ARN}}, {}, "p")
    role = stack.role_of_function("p-step").arn
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "allowed": {role: ["dynamodb:GetItem"]},
                "written_attributes": {role: {"dynamodb:UpdateItem": ["name", "status"]}},
            }
        )
    )
    (tmp_path / "b.json").write_text(json.dumps({"allowed": {role: ["kms:Decrypt"]}}))
    files = sorted(tmp_path.glob("*.json"))
    # When the report is made
    report = unused_by_principal(SandboxStacks(workload=stack, dns=stack), used_actions(files))
    # Then the function's unused grants are the rest of its policy; its state machine's role is listed too
    assert report["p-step"] == ["route53:ChangeResourceRecordSets", "states:StartExecution"]
    assert report["p-machine"] == ["secretsmanager:GetSecretValue"]
    assert written_attributes(files) == {role.rsplit("/", 1)[-1]: {"dynamodb:UpdateItem": {"name", "status"}}}
