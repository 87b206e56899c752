"""The monitoring's alarms: a failed or timed-out lifecycle execution, a certificate close to expiry (or no expiry
report), and ACM events left in a dead-letter queue; each notifies the topic when it fires and when it clears."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from certlib.resources import Metric, ResourceNames
from stacks.constructs.dashboard import fleet_metric


@dataclass(frozen=True)
class Alarms:
    failed_executions: cloudwatch.Alarm
    expiring_soon: cloudwatch.Alarm
    undelivered_events: cloudwatch.Alarm | None


def add_alarms(
    scope: Construct,
    *,
    names: ResourceNames,
    topic: sns.ITopic,
    lifecycle: sfn.IStateMachine,
    expiry_alarm_days: int,
    dead_letter_queues: Sequence[sqs.IQueue],
) -> Alarms:
    """The alarms, in `scope` (their construct IDs are the Monitoring construct's), with the topic as their action."""
    action = cloudwatch_actions.SnsAction(topic)

    failed_executions = _alarm_on_any(
        scope,
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
    expiring_metric = fleet_metric(names, Metric.CERTIFICATES_EXPIRING_SOON, "Maximum")
    expiring_soon = cloudwatch.Alarm(
        scope,
        "CertificatesExpiringSoon",
        alarm_name=f"{names.prefix}-certificates-expiring-soon",
        alarm_description=(
            f"A managed certificate has fewer than {expiry_alarm_days} days left and was not renewed, or the "
            "hourly expiry report stopped (missing data counts as breaching). `certctl status` lists the "
            "certificates by urgency; docs/operations.md says what to do."
        ),
        metric=expiring_metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    alarms = [failed_executions, expiring_soon]
    undelivered_events = None
    if dead_letter_queues:
        undelivered_events = _alarm_on_any(
            scope,
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
        alarms.append(undelivered_events)
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    return Alarms(failed_executions, expiring_soon, undelivered_events)


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
