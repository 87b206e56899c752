"""Being told when anything fails, and seeing the fleet: the notification topic, the alarms, the dashboard.

- `Notifications`: the SNS topic that failures, revocations and alarms go to, encrypted with the stack key, with
  the e-mail subscriptions of acme-accounts.yaml's `notifications: {emails: [...]}`. The Lambdas publish readable
  messages to it themselves (certlib.notifications); CloudWatch alarms and one EventBridge rule publish to it too.
- `Monitoring`: the hourly expiry report (report_expiry), the alarms (stacks/constructs/alarms.py: a failed or
  timed-out lifecycle execution; a certificate under N days to expiry, or no expiry report), the rules for executions
  that end without reaching our own failure step (stacks/constructs/stopped_executions.py: timed out, aborted), and
  the dashboard (stacks/constructs/dashboard.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from certlib.notifications.settings import NotificationSettings
from certlib.resources import ResourceNames
from stacks.constructs.alarms import add_alarms
from stacks.constructs.dashboard import REPORT_INTERVAL, fleet_dashboard
from stacks.constructs.stopped_executions import watch_stopped_executions
from stacks.permissions.common import notification_topic_arn

TOPIC_PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        key: kms.IKey,
        settings: NotificationSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=names.notification_topic,
            display_name="ACME certificates",
            master_key=key,
            enforce_ssl=True,
        )
        # RETAIN: its subscriptions (some made outside the stack, by whoever wants to hear) outlive a `cdk destroy`.
        self.topic.apply_removal_policy(RemovalPolicy.RETAIN)
        for email in settings.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        # SNS asks KMS for a data key with the topic's ARN as encryption context: the condition holds these services
        # to this topic's messages. The ARN is built from the name, so the key policy does not depend on the topic.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsAndRulesToPublishNotifications",
                principals=[iam.ServicePrincipal(service) for service in TOPIC_PUBLISHING_SERVICES],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "StringEquals": {
                        "kms:EncryptionContext:aws:sns:topicArn": notification_topic_arn(Stack.of(self), names)
                    }
                },
            )
        )
        # The topic policy replaces SNS's default one: say again that this account's alarms may publish.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                    }
                },
            )
        )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        topic: sns.ITopic,
        lifecycle: sfn.IStateMachine,
        reporter: lambda_.IFunction,
        stopped_execution_cleaner: lambda_.IFunction,
        expiry_alarm_days: int,
        dead_letter_queues: Sequence[sqs.IQueue] = (),
        other_state_machines: Sequence[sfn.IStateMachine] = (),
        name_suffix: str = "",
    ) -> None:
        """`name_suffix` goes after the dashboard's name, which CloudWatch holds once per account (CertificateStack)."""
        super().__init__(scope, construct_id)
        self.schedule = events.Rule(
            self,
            "ReportExpiry",
            description="Every hour: each certificate's days to expiry, as CloudWatch metrics (report_expiry)",
            schedule=events.Schedule.rate(REPORT_INTERVAL),
            targets=[targets.LambdaFunction(reporter, retry_attempts=2)],
        )
        alarms = add_alarms(
            self,
            names=names,
            topic=topic,
            lifecycle=lifecycle,
            expiry_alarm_days=expiry_alarm_days,
            dead_letter_queues=dead_letter_queues,
        )
        self.failed_executions = alarms.failed_executions
        self.expiring_soon = alarms.expiring_soon
        self.undelivered_events = alarms.undelivered_events
        self.stopped_notice, self.stopped_lifecycle_cleanup = watch_stopped_executions(
            self,
            topic=topic,
            lifecycle=lifecycle,
            other_state_machines=other_state_machines,
            stopped_execution_cleaner=stopped_execution_cleaner,
        )
        self.dashboard = fleet_dashboard(
            self,
            names,
            names.dashboard + name_suffix,
            lifecycle,
            (self.failed_executions, self.expiring_soon),
            expiry_alarm_days,
        )
