"""cdk-nag acknowledgements: each one names the finding it accepts and says why.

cdk-nag 3 reports an IAM wildcard as `AwsSolutions-IAM5[Resource::<resource>]`, with the resource flattened from
its CloudFormation form (`{"Ref": "AWS::Partition"}` becomes `<AWS::Partition>`). `flatten_cfn_reference` does the
same here, so an acknowledgement names exactly the resource a statement grants and nothing wider.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

WILDCARD_RULE = "AwsSolutions-IAM5"
# The plugin name cdk-nag's AwsSolutions pack reports under; its findings are acknowledged as "<plugin>::<rule id>".
PLUGIN = "AwsSolutions"


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one cdk-nag finding (e.g. "AwsSolutions-SMG4") on `scope` and everything under it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PLUGIN}::{rule_id}", reason=reason))


def flatten_cfn_reference(value: Any) -> str:
    """cdk-nag's flattenCfnReference: a resolved CloudFormation value as the string its finding IDs use."""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten_cfn_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_cfn_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_cfn_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_cfn_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def wildcard_resources(scope: IConstruct, statement: iam.PolicyStatement) -> list[str]:
    """The statement's resources that hold a `*`, flattened the way cdk-nag names them."""
    stack = Stack.of(scope)
    flattened = (flatten_cfn_reference(stack.resolve(resource)) for resource in statement.resources)
    return [resource for resource in flattened if "*" in resource]


def acknowledge_wildcard_resources(scope: IConstruct, reasons: Iterable[tuple[str, str]]) -> None:
    """Accept IAM5 for each (flattened resource, reason); reasons for the same resource are joined."""
    by_resource: dict[str, list[str]] = {}
    for resource, reason in reasons:
        by_resource.setdefault(resource, [])
        if reason not in by_resource[resource]:
            by_resource[resource].append(reason)
    for resource, resource_reasons in by_resource.items():
        acknowledge(scope, f"{WILDCARD_RULE}[Resource::{resource}]", " ".join(resource_reasons))
