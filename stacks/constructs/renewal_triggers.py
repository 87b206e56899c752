"""What sets renewals off: EventBridge Scheduler schedules, and the rule for ACM's "Approaching Expiration" event.

Each schedule has its own role that may do exactly one action on exactly one resource. The rule's Lambda target
has a retry policy and a dead-letter queue, encrypted with the stack key, for events it could not deliver
(event_rule_to_function, which the distribution's rule for ACM's "Certificate Available" event uses too).
"""

from __future__ import annotations

import json

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge

# ACM's event (https://docs.aws.amazon.com/acm/latest/userguide/supported-events.html), on the default bus.
ACM_EXPIRY_PATTERN = {"source": ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"]}
# A schedule that cannot reach its target retries for up to an hour; the next run comes anyway.
SCHEDULE_RETRY = scheduler.CfnSchedule.RetryPolicyProperty(maximum_event_age_in_seconds=3600, maximum_retry_attempts=5)
EVENT_RETRY_ATTEMPTS = 10
EVENT_MAX_AGE = Duration.hours(6)
DEAD_LETTER_RETENTION = Duration.days(14)
DEAD_LETTER_REASON = (
    "This queue is itself the dead-letter queue of an EventBridge rule's Lambda target: EventBridge puts the events "
    "it could not deliver here, and nothing consumes it automatically, so it needs no dead-letter queue of its own."
)


def encrypted_dead_letters(
    scope: Construct, construct_id: str, *, key: kms.IKey, rule_name: str, sid: str
) -> sqs.Queue:
    """The dead-letter queue of the rule named `rule_name`'s Lambda target: encrypted with the stack key, which lets
    EventBridge make data keys on behalf of that rule only (the statement `sid` of the key policy), TLS only."""
    # The rule's ARN from its name, so the key policy can name it without making the key depend on the rule.
    rule_arn = Stack.of(scope).format_arn(service="events", resource="rule", resource_name=rule_name)
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DEAD_LETTER_RETENTION,
        # Explicit: without the stack nothing would read the events it holds, and the retained inventory still says
        # which certificates are due.
        removal_policy=RemovalPolicy.DESTROY,
    )
    acknowledge(queue, "AwsSolutions-SQS3", DEAD_LETTER_REASON)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
        )
    )
    return queue


class RecurringSchedule(Construct):
    """A Scheduler schedule (default group, no flexible window) whose role may do `action` on `target_arn` only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedule_name: str,
        description: str,
        expression: str,
        target_arn: str,
        action: str,
        target_input: object,
    ) -> None:
        super().__init__(scope, construct_id)
        # An inline policy: created with the role, so the schedule never fires before its permission exists.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"EventBridge Scheduler, schedule {schedule_name}: {action} on its target only",
            inline_policies={
                "Target": iam.PolicyDocument(
                    statements=[iam.PolicyStatement(sid="Target", actions=[action], resources=[target_arn])]
                )
            },
        )
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=schedule_name,
            description=description,
            schedule_expression=expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=target_arn,
                role_arn=self.role.role_arn,
                input=json.dumps(target_input),
                retry_policy=SCHEDULE_RETRY,
            ),
        )


class ExpiryEventRule(Construct):
    """ACM's "Approaching Expiration" events on the default bus, to `function`, with retries and a dead-letter queue."""

    def __init__(
        self, scope: Construct, construct_id: str, *, rule_name: str, function: lambda_.IFunction, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule, self.dead_letters = event_rule_to_function(
            self,
            "Rule",
            rule_name=rule_name,
            description="ACM Certificate Approaching Expiration: renew the certificate when it is ours",
            event_pattern=events.EventPattern(
                source=ACM_EXPIRY_PATTERN["source"], detail_type=ACM_EXPIRY_PATTERN["detail-type"]
            ),
            function=function,
            key=key,
            dead_letters_id="DeadLetters",
            key_policy_sid="AllowEventBridgeDeadLettersOfTheExpiryRule",
        )


def event_rule_to_function(
    scope: Construct,
    construct_id: str,
    *,
    rule_name: str,
    description: str,
    event_pattern: events.EventPattern,
    function: lambda_.IFunction,
    key: kms.IKey,
    dead_letters_id: str,
    key_policy_sid: str,
) -> tuple[events.Rule, sqs.Queue]:
    """A rule of the default bus that sends its events to `function`, retried for EVENT_MAX_AGE, and those it could
    not deliver to its own encrypted dead-letter queue (encrypted_dead_letters, `dead_letters_id` in `scope`)."""
    dead_letters = encrypted_dead_letters(scope, dead_letters_id, key=key, rule_name=rule_name, sid=key_policy_sid)
    rule = events.Rule(
        scope,
        construct_id,
        rule_name=rule_name,
        description=description,
        event_pattern=event_pattern,
        targets=[
            # Also adds the Lambda permission for events.amazonaws.com from this rule's ARN only, and the
            # queue policy that lets this rule (only) send to the dead-letter queue.
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letters,
                retry_attempts=EVENT_RETRY_ATTEMPTS,
                max_event_age=EVENT_MAX_AGE,
            )
        ],
    )
    return rule, dead_letters
