"""Being told when anything fails, and seeing the fleet: the notification topic, the alarms, the dashboard.

- `Notifications`: the SNS topic that failures, revocations and alarms go to, encrypted with the stack key, with
  the e-mail subscriptions of acme-accounts.yaml's `notifications: {emails: [...]}`. The Lambdas publish readable
  messages to it themselves (certlib.notifications); CloudWatch alarms and one EventBridge rule publish to it too.
- `Monitoring`: the hourly expiry report (report_expiry), two alarms (a failed or timed-out lifecycle execution;
  a certificate under N days to expiry, or no expiry report), a rule for executions that end without reaching
  our own failure step (timed out, aborted), and the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from certlib.notifications.settings import NotificationSettings
from certlib.resources import METRICS_NAMESPACE, SERVICE_NAME, Metric, ResourceNames
from stacks.permissions.common import notification_topic_arn

REPORT_INTERVAL = Duration.hours(1)
# Services that publish to the encrypted topic and so need a data key of the stack key, for this topic only.
TOPIC_PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")
UNFINISHED_STATUSES = ["TIMED_OUT", "ABORTED"]
CLEANUP_RETRY_ATTEMPTS = 20


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


def _alarm_on_any(
    scope: Construct, construct_id: str, *, alarm_name: str, alarm_description: str, metric: cloudwatch.IMetric
) -> cloudwatch.Alarm:
    """An alarm that fires when one 5-minute period counts anything (no data: nothing happened)."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=alarm_name,
        alarm_description=alarm_description,
        metric=metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def _unfinished_executions_of(*state_machines: sfn.IStateMachine) -> events.EventPattern:
    """Step Functions' status change of these machines' executions that timed out or were aborted."""
    return events.EventPattern(
        source=["aws.states"],
        detail_type=["Step Functions Execution Status Change"],
        detail={"status": UNFINISHED_STATUSES, "stateMachineArn": [m.state_machine_arn for m in state_machines]},
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
        action = cloudwatch_actions.SnsAction(topic)

        self.failed_executions = _alarm_on_any(
            self,
            "FailedExecutions",
            alarm_name=f"{names.prefix}-failed-executions",
            alarm_description=(
                "A certificate lifecycle execution failed or timed out. The notification topic has a message per "
                "failure naming the certificate, the step, the CA's problem and what to do; `certctl status` shows the "
                "fleet. Bad input refused at once counts too."
            ),
            metric=cloudwatch.MathExpression(
                expression="FILL(failed, 0) + FILL(timedOut, 0)",
                using_metrics={
                    "failed": lifecycle.metric_failed(statistic="Sum"),
                    "timedOut": lifecycle.metric_timed_out(statistic="Sum"),
                },
                label="Failed or timed-out executions",
                period=Duration.minutes(5),
            ),
        )
        expiring_soon = fleet_metric(names, Metric.CERTIFICATES_EXPIRING_SOON, "Maximum")
        self.expiring_soon = cloudwatch.Alarm(
            self,
            "CertificatesExpiringSoon",
            alarm_name=f"{names.prefix}-certificates-expiring-soon",
            alarm_description=(
                f"A managed certificate has fewer than {expiry_alarm_days} days left and was not renewed, or the "
                "hourly expiry report stopped (missing data counts as breaching). `certctl status` lists the "
                "certificates by urgency; docs/operations.md says what to do."
            ),
            metric=expiring_soon,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        alarms = [self.failed_executions, self.expiring_soon]
        if dead_letter_queues:
            self.undelivered_events = _alarm_on_any(
                self,
                "UndeliveredEvents",
                alarm_name=f"{names.prefix}-undelivered-events",
                alarm_description=(
                    "An ACM event (Approaching Expiration, or Certificate Available for an exportable certificate) "
                    "could not reach its function after every retry and waits in a dead-letter queue. Read it from "
                    "the queue, then run what it would have: `certctl renew --name NAME --wait` or "
                    "`certctl export --name NAME --certificate-arn ARN`."
                ),
                metric=cloudwatch.MathExpression(
                    expression=" + ".join(f"FILL(q{i}, 0)" for i in range(len(dead_letter_queues))),
                    using_metrics={
                        f"q{i}": queue.metric_approximate_number_of_messages_visible(statistic="Maximum")
                        for i, queue in enumerate(dead_letter_queues)
                    },
                    label="Events waiting in dead-letter queues",
                    period=Duration.minutes(5),
                ),
            )
            alarms.append(self.undelivered_events)
        for alarm in alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

        self.unfinished = events.Rule(
            self,
            "UnfinishedExecutions",
            description="Lifecycle executions that end without reaching CleanUpFailure (timed out, aborted)",
            event_pattern=_unfinished_executions_of(lifecycle, *other_state_machines),
        )
        self.unfinished.add_target(
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
        self.stopped_lifecycle_cleanup = events.Rule(
            self,
            "StoppedLifecycleCleanup",
            description="Lifecycle executions that timed out or were aborted: clean_up_stopped_execution",
            event_pattern=_unfinished_executions_of(lifecycle),
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
                conditions={"ArnEquals": {"aws:SourceArn": self.unfinished.rule_arn}},
            )
        )
        self.dashboard = _dashboard(
            self,
            names,
            names.dashboard + name_suffix,
            lifecycle,
            (self.failed_executions, self.expiring_soon),
            expiry_alarm_days,
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


def fleet_metric(names: ResourceNames, metric_name: str, statistic: str, **dimensions: str) -> cloudwatch.Metric:
    """One of our EMF metrics (certlib.observability) with the dimensions every record carries."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={
            Metric.SERVICE_DIMENSION: SERVICE_NAME,
            Metric.DEPLOYMENT_DIMENSION: names.prefix,
            **dimensions,
        },
        statistic=statistic,
        period=REPORT_INTERVAL,
    )


def _search(
    names: ResourceNames, metric_name: str, dimensions: Sequence[str], statistic: str, label: str
) -> cloudwatch.MathExpression:
    """Every series of a metric that has a per-thing dimension (one line per certificate, per step, ...)."""
    schema = ",".join(
        [METRICS_NAMESPACE, *sorted([Metric.DEPLOYMENT_DIMENSION, Metric.SERVICE_DIMENSION, *dimensions])]
    )
    query = f'{{{schema}}} MetricName="{metric_name}" {Metric.DEPLOYMENT_DIMENSION}="{names.prefix}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {int(REPORT_INTERVAL.to_seconds())})",
        label=label,
        period=REPORT_INTERVAL,
    )


def _dashboard(
    scope: Construct,
    names: ResourceNames,
    dashboard_name: str,
    lifecycle: sfn.IStateMachine,
    alarms: Sequence[cloudwatch.IAlarm],
    expiry_alarm_days: int,
) -> cloudwatch.Dashboard:
    dashboard = cloudwatch.Dashboard(
        scope, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.days(7)
    )
    threshold = cloudwatch.HorizontalAnnotation(value=expiry_alarm_days, label=f"alarm: {expiry_alarm_days} days")
    dashboard.add_widgets(
        cloudwatch.TextWidget(
            markdown=(
                f"# ACME certificates ({names.prefix})\n"
                "Issued and renewed by the certificate lifecycle state machine. `certctl status` shows every "
                "certificate; failures and revocations are e-mailed through the notification topic "
                f"`{names.notification_topic}`; docs/operations.md says what to do for each error."
            ),
            width=24,
            height=2,
        ),
        cloudwatch.AlarmStatusWidget(alarms=list(alarms), title="Alarms", width=24, height=2),
    )
    dashboard.add_widgets(
        cloudwatch.SingleValueWidget(
            title="Certificates / expiring soon / fewest days left",
            metrics=[
                fleet_metric(names, Metric.CERTIFICATES, "Maximum"),
                fleet_metric(names, Metric.CERTIFICATES_EXPIRING_SOON, "Maximum"),
                fleet_metric(names, Metric.MIN_DAYS_TO_EXPIRY, "Minimum"),
            ],
            width=8,
            height=5,
        ),
        cloudwatch.GraphWidget(
            title="Lifecycle executions",
            left=[
                lifecycle.metric_started(statistic="Sum", period=REPORT_INTERVAL),
                lifecycle.metric_succeeded(statistic="Sum", period=REPORT_INTERVAL),
                lifecycle.metric_failed(statistic="Sum", period=REPORT_INTERVAL),
                lifecycle.metric_timed_out(statistic="Sum", period=REPORT_INTERVAL),
            ],
            width=16,
            height=5,
        ),
    )
    dashboard.add_widgets(
        cloudwatch.GraphWidget(
            title="Days to expiry, per certificate",
            left=[_search(names, Metric.DAYS_TO_EXPIRY, ["CertificateName"], "Minimum", "")],
            left_annotations=[threshold],
            width=12,
            height=6,
        ),
        cloudwatch.GraphWidget(
            title="Fewest days to expiry in the fleet",
            left=[fleet_metric(names, Metric.MIN_DAYS_TO_EXPIRY, "Minimum")],
            left_annotations=[threshold],
            width=12,
            height=6,
        ),
    )
    dashboard.add_widgets(
        cloudwatch.GraphWidget(
            title="Failures by step, error and ACME problem",
            left=[_search(names, Metric.LIFECYCLE_FAILURES, ["Step", "Error", "ProblemType"], "Sum", "")],
            stacked=True,
            width=12,
            height=6,
        ),
        cloudwatch.GraphWidget(
            title="Issuance duration (request to result, seconds)",
            left=[
                fleet_metric(names, Metric.ISSUANCE_DURATION, "p50", Operation=operation).with_(
                    label=f"{operation} p50"
                )
                for operation in ("issue", "renew")
            ]
            + [
                fleet_metric(names, Metric.ISSUANCE_DURATION, "Maximum", Operation=operation).with_(
                    label=f"{operation} max"
                )
                for operation in ("issue", "renew")
            ],
            width=12,
            height=6,
        ),
    )
    return dashboard
