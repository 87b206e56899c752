"""The state machines: an ASL file with the function ARNs and timings filled in, whose role invokes those functions.

`FunctionsStateMachine` is the shape both workflows share; `LifecycleStateMachine` is the certificate lifecycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from certlib.resources import LIFECYCLE_STEPS, ResourceNames
from deploy.paths import LIFECYCLE_ASL
from deploy.state_machines import Timings, lifecycle_substitutions, placeholders
from stacks.nag import acknowledge, acknowledge_wildcard_resources
from stacks.permissions.common import NO_RESOURCE_LEVEL
from stacks.runtime import LOG_REMOVAL_POLICY, LOG_RETENTION

LOG_DELIVERY_REASON = NO_RESOURCE_LEVEL.format(
    actions="The CloudWatch Logs delivery actions Step Functions needs for execution logging (logs:CreateLogDelivery, "
    "logs:GetLogDelivery, logs:UpdateLogDelivery, logs:DeleteLogDelivery, logs:ListLogDeliveries, "
    "logs:PutResourcePolicy, logs:DescribeResourcePolicies, logs:DescribeLogGroups)"
)
XRAY_REASON = NO_RESOURCE_LEVEL.format(
    actions="xray:PutTraceSegments, xray:PutTelemetryRecords, xray:GetSamplingRules and xray:GetSamplingTargets"
)
ERROR_LOGS_REASON = (
    "The execution history already records every state of a Standard workflow; the log group gets ERROR events "
    "without execution data, so state payloads are not copied to logs and logging costs stay flat."
)


class FunctionsStateMachine(Construct):
    """A Standard, traced state machine from an ASL file; its role may invoke exactly `function_arns`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine_name: str,
        asl: Path,
        substitutions: Mapping[str, str],
        function_arns: Sequence[str],
        invoke_sid: str,
        key: kms.IKey,
    ) -> None:
        """Raises ValueError when a placeholder of the ASL has no substitution."""
        super().__init__(scope, construct_id)
        used = placeholders(asl)
        missing = sorted(used - set(substitutions))
        if missing:
            raise ValueError(f"{asl.name}: no substitution for {', '.join(missing)}")
        self.log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, encryption_key=key, removal_policy=LOG_REMOVAL_POLICY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(asl)),
            # Only what the ASL uses: deploy.state_machines offers every timing to every workflow.
            definition_substitutions={name: value for name, value in substitutions.items() if name in used},
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ERROR, include_execution_data=False),
            # Explicit: its executions run only with the stack's functions; their outcomes are in the inventory and
            # the retained log groups.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(sid=invoke_sid, actions=["lambda:InvokeFunction"], resources=list(function_arns))
        )
        acknowledge_wildcard_resources(self.state_machine.role, [("*", LOG_DELIVERY_REASON), ("*", XRAY_REASON)])
        acknowledge(self.state_machine, "AwsSolutions-SF1", ERROR_LOGS_REASON)


class LifecycleStateMachine(FunctionsStateMachine):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        functions: Mapping[str, lambda_.IFunction],
        key: kms.IKey,
        timings: Timings,
    ) -> None:
        """Raises ValueError when a lifecycle step has no function."""
        arns = {step: functions[step].function_arn for step in LIFECYCLE_STEPS if step in functions}
        substitutions = lifecycle_substitutions(arns, timings)
        super().__init__(
            scope,
            construct_id,
            state_machine_name=names.lifecycle_state_machine,
            asl=LIFECYCLE_ASL,
            substitutions=substitutions,
            function_arns=[arns[step] for step in LIFECYCLE_STEPS],
            invoke_sid="InvokeLifecycleFunctions",
            key=key,
        )
