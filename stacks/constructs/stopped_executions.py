"""Lifecycle executions that end without reaching our own failure step (timed out, aborted): a message to the
topic for every workflow's, and clean_up_stopped_execution for the lifecycle's."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

STOPPED_STATUSES = ["TIMED_OUT", "ABORTED"]
CLEANUP_RETRY_ATTEMPTS = 20


def watch_stopped_executions(
    scope: Construct,
    *,
    topic: sns.ITopic,
    lifecycle: sfn.IStateMachine,
    other_state_machines: Sequence[sfn.IStateMachine],
    stopped_execution_cleaner: lambda_.IFunction,
) -> tuple[events.Rule, events.Rule]:
    """The rule that tells the topic, and the rule that cleans up after the lifecycle's: (notice, cleanup).

    The construct ID `UnfinishedExecutions` and the topic policy's Sid keep an older word for stopped executions: a
    new construct ID would replace the rule on deploy."""
    stopped_notice = events.Rule(
        scope,
        "UnfinishedExecutions",
        description="Lifecycle executions that end without reaching CleanUpFailure (timed out, aborted)",
        event_pattern=_stopped_executions_of(lifecycle, *other_state_machines),
    )
    stopped_notice.add_target(
        _EncryptedTopicTarget(
            topic,
            events.RuleTargetInput.from_text(
                f"Execution {events.EventField.from_path('$.detail.name')} of "
                f"{events.EventField.from_path('$.detail.stateMachineArn')} ended "
                f"{events.EventField.from_path('$.detail.status')}. For a lifecycle execution, "
                "clean_up_stopped_execution removes the TXT records it published, releases its certificate's "
                "lock and records the failure. Run `certctl status`, and retry with "
                "`certctl renew --name NAME --force --wait`."
            ),
        )
    )
    # The lifecycle's own: clean up after it (remove its TXT values, release its lock, record and announce the
    # failure) as its CleanUpFailure state would have. Retried for a day: the cleanup is safe to repeat.
    stopped_lifecycle_cleanup = events.Rule(
        scope,
        "StoppedLifecycleCleanup",
        description="Lifecycle executions that timed out or were aborted: clean_up_stopped_execution",
        event_pattern=_stopped_executions_of(lifecycle),
        targets=[
            targets.LambdaFunction(
                stopped_execution_cleaner, retry_attempts=CLEANUP_RETRY_ATTEMPTS, max_event_age=Duration.days(1)
            )
        ],
    )
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowTheUnfinishedExecutionsRule",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"ArnEquals": {"aws:SourceArn": stopped_notice.rule_arn}},
        )
    )
    return stopped_notice, stopped_lifecycle_cleanup


def _stopped_executions_of(*state_machines: sfn.IStateMachine) -> events.EventPattern:
    """Step Functions' status change of these machines' executions that timed out or were aborted."""
    return events.EventPattern(
        source=["aws.states"],
        detail_type=["Step Functions Execution Status Change"],
        detail={"status": STOPPED_STATUSES, "stateMachineArn": [m.state_machine_arn for m in state_machines]},
    )


@jsii.implements(events.IRuleTarget)
class _EncryptedTopicTarget:
    """The SNS topic as a rule target, without aws-events-targets' SnsTopic grant of `kms:GenerateDataKey*` on the
    whole key to EventBridge: Notifications grants it for this topic's messages only, and the topic policy names
    the rule."""

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self._topic = topic
        self._message = message

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn, input=self._message)
