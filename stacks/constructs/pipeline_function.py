"""One function of the stack (a lifecycle step, or a renewal or monitoring function): the Lambda, its own role and its
own encrypted log group."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from certlib.resources import ResourceNames, camel_case
from deploy.dns_roles import DNS_ROLE_INFIX, DNS_STEPS, dns_function_role_label, dns_function_role_name
from deploy.functions import LAMBDA_PYTHON_VERSION
from deploy.paths import REPO_ROOT
from stacks.nag import acknowledge, acknowledge_wildcard_resources, wildcard_resources
from stacks.permissions import grants_for
from stacks.permissions.common import NO_RESOURCE_LEVEL, AccessTargets, Grant
from stacks.runtime import LOG_REMOVAL_POLICY, LOG_RETENTION, lambda_architecture, lambda_runtime, sizing

FUNCTIONS_DIR = REPO_ROOT / "functions"
HANDLER = "handler.handler"
XRAY_REASON = NO_RESOURCE_LEVEL.format(actions="xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing)")
RUNTIME_REASON = (
    f"The runtime is pinned to python{LAMBDA_PYTHON_VERSION} (deploy.functions.LAMBDA_PYTHON_VERSION), the version "
    "`make layer` builds the layer's compiled wheels and bytecode for; moving to a newer runtime means rebuilding the "
    "layer for it, done as one deliberate change."
)


def dns_step_role_name(scope: Construct, prefix: str, step: str) -> str:
    """`<prefix>-dns-<region>-<step>` (deploy.dns_roles.dns_function_role_name); in a stack whose region is known
    only at deploy time, the region is `${AWS::Region}` and the rest is the same."""
    region = Stack.of(scope).region
    if Token.is_unresolved(region):
        return f"{prefix}-{DNS_ROLE_INFIX}-{Aws.REGION}-{dns_function_role_label(prefix, step)}"
    return dns_function_role_name(prefix, region, step)


class PipelineFunction(Construct):
    """Any function of the pipeline (lifecycle, distribution, renewal or monitoring), with its role and log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        step: str,
        names: ResourceNames,
        layer: lambda_.ILayerVersion,
        key: kms.IKey,
        environment: Mapping[str, str],
        grants: Sequence[Grant],
        description: str | None = None,
    ) -> None:
        """`description` defaults to "Certificate lifecycle step: <step>".

        Raises ValueError when a grant has a wildcard resource but no reason for it.
        """
        super().__init__(scope, construct_id)
        role_description = (
            f"{description} ({names.prefix}): only what this function does"
            if description
            else f"Lifecycle step {step} of {names.prefix}: only what this step does"
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=role_description,
            # the DNS steps' roles are named, so that a DNS account's role can trust exactly them (deploy.dns_roles)
            role_name=dns_step_role_name(self, names.prefix, step) if step in DNS_STEPS else None,
        )
        if step in DNS_STEPS:  # named, trusted by name: explicit that it holds no data and goes with the stack
            self.role.apply_removal_policy(RemovalPolicy.DESTROY)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, encryption_key=key, removal_policy=LOG_REMOVAL_POLICY
        )
        self.log_group.grant_write(self.role)
        for grant in grants:
            self.role.add_to_policy(grant.statement)
        size = sizing(step)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=names.function(step),
            description=description or f"Certificate lifecycle step: {step}",
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / step), exclude=["__pycache__", "*.pyc"]),
            handler=HANDLER,
            runtime=lambda_runtime(),
            architecture=lambda_architecture(),
            layers=[layer],
            environment=dict(environment),
            memory_size=size.memory_mb,
            timeout=size.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )
        self._acknowledge(grants)

    def _acknowledge(self, grants: Sequence[Grant]) -> None:
        reasons = [("*", XRAY_REASON)]
        for grant in grants:
            for resource in wildcard_resources(self, grant.statement):
                if grant.wildcard_reason is None:
                    raise ValueError(f"{self.node.path}: {resource} holds a wildcard and its grant gives no reason")
                reasons.append((resource, grant.wildcard_reason))
        acknowledge_wildcard_resources(self.role, reasons)
        acknowledge(self.function, "AwsSolutions-L1", RUNTIME_REASON)


@dataclass(frozen=True)
class FunctionParts:
    """What the functions of a stack share: the resource names, the dependencies layer, the stack key, their
    environment and the resources their grants may name."""

    names: ResourceNames
    layer: lambda_.ILayerVersion
    key: kms.IKey
    environment: Mapping[str, str]
    targets: AccessTargets

    def extended(self, environment: Mapping[str, str], **targets: Any) -> FunctionParts:
        """These parts with `environment` added to the functions' environment and these AccessTargets fields set: for
        the functions that need a resource the stack makes after the first ones (a state machine's ARN)."""
        return dataclasses.replace(
            self,
            environment={**self.environment, **environment},
            targets=dataclasses.replace(self.targets, **targets),
        )


def build_functions(
    scope: Construct,
    steps: Sequence[str],
    parts: FunctionParts,
    *,
    descriptions: Mapping[str, str] | None = None,
) -> dict[str, PipelineFunction]:
    """One PipelineFunction per step, named after it (camel_case), each with its own role and grants_for(step)."""
    return {
        step: PipelineFunction(
            scope,
            camel_case(step),
            step=step,
            names=parts.names,
            layer=parts.layer,
            key=parts.key,
            environment=parts.environment,
            grants=grants_for(step, parts.targets),
            description=(descriptions or {}).get(step),
        )
        for step in steps
    }
