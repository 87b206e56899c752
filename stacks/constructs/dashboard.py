"""The dashboard: the fleet's expiry, the lifecycle's executions, failures by step and error, issuance time; and
our EMF metrics as CloudWatch sees them (fleet_metric), which the alarms use too."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from certlib.resources import METRICS_NAMESPACE, SERVICE_NAME, Metric, ResourceNames

# How often report_expiry runs (the Monitoring construct's schedule), and so the period of the fleet's metrics.
REPORT_INTERVAL = Duration.hours(1)


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


def fleet_dashboard(
    scope: Construct,
    names: ResourceNames,
    dashboard_name: str,
    lifecycle: sfn.IStateMachine,
    alarms: Sequence[cloudwatch.IAlarm],
    expiry_alarm_days: int,
) -> cloudwatch.Dashboard:
    """The deployment's dashboard, in `scope` (its construct ID is the Monitoring construct's)."""
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
