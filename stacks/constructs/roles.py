"""Roles that other accounts' principals assume (the DNS account's, the node accounts'): one inline policy each."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from constructs import Construct


def assumable_role(
    scope: Construct,
    logical_id: str,
    *,
    name: str,
    description: str,
    trust: dict[str, Any],
    policy_name: str,
    policy: dict[str, Any],
) -> iam.CfnRole:
    """A role named `name` with its trust policy and one inline policy. It holds no data: it goes with its stack, and
    a deploy makes it again under the same name and ARN."""
    role = iam.CfnRole(
        scope,
        logical_id,
        role_name=name,
        description=description,
        assume_role_policy_document=iam.PolicyDocument.from_json(trust),
        policies=[
            iam.CfnRole.PolicyProperty(policy_name=policy_name, policy_document=iam.PolicyDocument.from_json(policy))
        ],
    )
    role.apply_removal_policy(RemovalPolicy.DESTROY)
    return role
