"""The sandbox reads its roles and policies from the synthesized template: CloudFormation's intrinsics resolved to the
sandbox's names (sandbox.iam.template)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.iam.template import TemplateError, resolve_stack

ACCOUNT, REGION = "123456789012", "eu-west-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"


def template() -> dict[str, Any]:
    """A small stack as CDK writes one: a table, a key, a function with its role and policy, a state machine."""
    return {
        "Resources": {
            "TableABCD1234": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "p-inventory"}},
            "KeyABCD1234": {"Type": "AWS::KMS::Key", "Properties": {}},
            "StepRoleABCD1234": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "x"}}]},
                    "RoleName": {"Fn::Join": ["", ["p-dns-", {"Ref": "AWS::Region"}, "-step"]]},
                    "Tags": [{"Key": "team", "Value": "pki"}],
                },
            },
            "OtherRoleABCD1234": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": {"Statement": []}},
            },
            "StepPolicyABCD1234": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "StepPolicy",
                    "Roles": [{"Ref": "StepRoleABCD1234"}],
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "dynamodb:GetItem",
                                "Resource": {"Fn::GetAtt": ["TableABCD1234", "Arn"]},
                            },
                            {
                                "Effect": "Allow",
                                "Action": "kms:Decrypt",
                                "Resource": {"Fn::GetAtt": ["KeyABCD1234", "Arn"]},
                            },
                            {
                                "Effect": "Allow",
                                "Action": "route53:ChangeResourceRecordSets",
                                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:route53:::hostedzone/ZSTANDIN"},
                            },
                            {
                                "Effect": "Allow",
                                "Action": "states:StartExecution",
                                "Resource": {"Ref": "MachineABCD1234"},
                            },
                        ]
                    },
                },
            },
            "NodesABCD1234": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": "p-nodes",
                    "Roles": [{"Ref": "OtherRoleABCD1234"}],
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]
                    },
                },
            },
            "FunctionABCD1234": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"FunctionName": "p-step", "Role": {"Fn::GetAtt": ["StepRoleABCD1234", "Arn"]}},
            },
            "MachineABCD1234": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "p-machine",
                    "RoleArn": {"Fn::GetAtt": ["OtherRoleABCD1234", "Arn"]},
                },
            },
        }
    }


def test_roles_carry_the_templates_policies_resolved_to_the_sandboxs_names() -> None:
    # Given the template, the key's ARN (known only to the running sandbox) and a zone ID stand-in
    physical = {"KeyABCD1234": {"Arn": KEY_ARN}}
    # When it is resolved
    stack = resolve_stack(template(), ACCOUNT, REGION, physical, {"ZSTANDIN": "Z0REAL"}, "p")
    # Then the function's role is the named one, with every intrinsic resolved
    role = stack.role_of_function("p-step")
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/p-dns-{REGION}-step"
    assert role.tags == {"team": "pki"}
    resources = [statement["Resource"] for statement in role.inline_policies["StepPolicy"]["Statement"]]
    assert resources == [
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/p-inventory",
        KEY_ARN,
        "arn:aws:route53:::hostedzone/Z0REAL",
        f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:p-machine",
    ]
    # And an unnamed role gets the sandbox's name (logical ID without CDK's hash), with its managed policy
    machine_role = stack.role_of_state_machine("p-machine")
    assert machine_role.name == "p-OtherRole"
    assert machine_role.managed_policy_names == ("p-nodes",)
    assert stack.managed_policy_named("p-nodes").arn == f"arn:aws:iam::{ACCOUNT}:policy/p-nodes"


def test_a_value_the_sandbox_cannot_know_is_refused_not_guessed() -> None:
    # Given a template whose policy names the key, and no physical value for it
    # When it is resolved, Then TemplateError names what is missing
    with pytest.raises(TemplateError, match="KeyABCD1234"):
        resolve_stack(template(), ACCOUNT, REGION, {}, {}, "p")


def test_an_intrinsic_the_sandbox_does_not_resolve_is_refused() -> None:
    # Given a policy with Fn::If
    broken = template()
    statements = broken["Resources"]["StepPolicyABCD1234"]["Properties"]["PolicyDocument"]["Statement"]
    statements.append({"Action": "sns:Publish", "Resource": {"Fn::If": ["Cond", "a", "b"]}})
    # When it is resolved, Then TemplateError rather than a policy that differs from the template
    with pytest.raises(TemplateError, match="Fn::If"):
        resolve_stack(broken, ACCOUNT, REGION, {"KeyABCD1234": {"Arn": KEY_ARN}}, {}, "p")
