"""Being told and seeing the fleet: the notification topic, the alarms, the rules, the dashboard, the grants."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from certlib.notifications.settings import NotificationSettings
from certlib.resources import EVENT_SOURCE, MONITORING_FUNCTIONS, Env, Metric, ResourceNames
from stacks.constructs.monitoring import Monitoring, Notifications
from stacks.nag import flatten_cfn_reference as flat

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def topic_id(synthesized: Synthesized) -> str:
    return synthesized.only_id("AWS::SNS::Topic")


def test_the_topic_is_encrypted_with_the_stack_key_and_takes_only_tls(synthesized: Synthesized) -> None:
    # Given / When the notification topic and its policy
    key_id = synthesized.only_id("AWS::KMS::Key")
    (topic,) = synthesized.resources("AWS::SNS::Topic").values()
    (policy,) = synthesized.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    # Then it is named from the prefix, encrypted with the stack key, and refuses publishing without TLS
    assert topic["Properties"]["TopicName"] == NAMES.notification_topic
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # And only this account's alarms and our own rule may publish besides the roles of the stack
    allowed = {flat(s["Principal"]["Service"]): s["Condition"] for s in statements if s["Effect"] == "Allow"}
    assert set(allowed) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    assert flat(allowed["cloudwatch.amazonaws.com"]["ArnLike"]["aws:SourceArn"]).endswith(":alarm:*")
    rule_id = next(i for i in _rule_ids(synthesized, "aws.states") if i.startswith("MonitoringUnfinishedExecutions"))
    assert allowed["events.amazonaws.com"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_alarms_and_rules_may_use_the_key_for_this_topic_only(synthesized: Synthesized) -> None:
    # Given the key policy
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    # When the statement for the services that publish to the topic is picked out
    publishing = next(s for s in statements if s.get("Sid") == "AllowAlarmsAndRulesToPublishNotifications")

    # Then they get a data key only for the topic's messages (SNS's encryption context), with named actions
    assert sorted(publishing["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert publishing["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    context = publishing["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]
    assert flat(context) == f"arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:{NAMES.notification_topic}"
    # And no other statement gives a service a wildcard action on the key
    for statement in statements:
        if "Service" in statement.get("Principal", {}):
            assert not any("*" in action for action in as_list(statement["Action"])), statement


def test_a_failed_or_timed_out_execution_raises_an_alarm_to_the_topic(synthesized: Synthesized) -> None:
    # Given the lifecycle state machine and the topic
    lifecycle_id, _ = synthesized.state_machine(NAMES.lifecycle_state_machine)

    # When / Then an alarm sums ExecutionsFailed and ExecutionsTimedOut of the lifecycle over 5 minutes
    synthesized.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{NAMES.prefix}-failed-executions",
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": topic_id(synthesized)}],
            "OKActions": [{"Ref": topic_id(synthesized)}],
            "Metrics": Match.array_with(
                [
                    Match.object_like({"Expression": "FILL(failed, 0) + FILL(timedOut, 0)"}),
                    {
                        "Id": "failed",
                        "MetricStat": {
                            "Metric": {
                                "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": lifecycle_id}}],
                                "MetricName": "ExecutionsFailed",
                                "Namespace": "AWS/States",
                            },
                            "Period": 300,
                            "Stat": "Sum",
                        },
                        "ReturnData": False,
                    },
                ]
            ),
        },
    )


def test_a_certificate_near_expiry_or_a_silent_reporter_raises_an_alarm(synthesized: Synthesized) -> None:
    # Given / When / Then the expiry alarm watches our hourly CertificatesExpiringSoon; missing data is breaching
    synthesized.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{NAMES.prefix}-certificates-expiring-soon",
            "Namespace": "AcmeCertificates",
            "MetricName": Metric.CERTIFICATES_EXPIRING_SOON,
            "Dimensions": [
                {"Name": "Deployment", "Value": NAMES.prefix},
                {"Name": "service", "Value": "acme-certificates"},
            ],
            "Statistic": "Maximum",
            "Period": 3600,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 2,
            "DatapointsToAlarm": 2,
            "TreatMissingData": "breaching",
            "AlarmActions": [{"Ref": topic_id(synthesized)}],
            "AlarmDescription": Match.string_like_regexp("fewer than 14 days left"),
        },
    )


def test_the_expiry_report_runs_hourly_with_the_alarms_threshold(synthesized: Synthesized) -> None:
    # Given the report_expiry function
    function_id, function = synthesized.functions_by_step(MONITORING_FUNCTIONS)["report_expiry"]

    # When / Then a rule runs it every hour, and it counts certificates under the alarm's 14 days
    assert function["Properties"]["Environment"]["Variables"][Env.EXPIRY_ALARM_DAYS] == "14"
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 hour)",
            "State": "ENABLED",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [function_id, "Arn"]}})],
        },
    )
    # And it may read the inventory with a Scan, and nothing else beyond the basics
    statements = synthesized.statements_by_step(MONITORING_FUNCTIONS)["report_expiry"]
    scan = next(s for s in statements if s.get("Sid") == "ScanInventory")
    assert as_list(scan["Action"]) == ["dynamodb:Scan"]
    assert scan["Resource"] == {"Fn::GetAtt": [synthesized.only_id("AWS::DynamoDB::Table"), "Arn"]}


def _rule_ids(synthesized: Synthesized, source: str) -> set[str]:
    return {
        logical_id
        for logical_id, rule in synthesized.resources("AWS::Events::Rule").items()
        if source in (rule["Properties"].get("EventPattern") or {}).get("source", [])
    }


def test_executions_that_end_without_cleanup_are_sent_to_the_topic_and_cleaned_up(synthesized: Synthesized) -> None:
    # Given the rules on Step Functions' own events
    rules = {
        logical_id: synthesized.resources("AWS::Events::Rule")[logical_id]["Properties"]
        for logical_id in _rule_ids(synthesized, "aws.states")
    }
    lifecycle_id, _ = synthesized.state_machine(NAMES.lifecycle_state_machine)
    cleaner_id, _ = synthesized.functions_by_step(MONITORING_FUNCTIONS)["clean_up_stopped_execution"]

    # When / Then both match timed-out and aborted lifecycle executions
    assert len(rules) == 2
    for rule in rules.values():
        assert rule["EventPattern"] == {
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["TIMED_OUT", "ABORTED"], "stateMachineArn": [{"Ref": lifecycle_id}]},
        }
    targets = {json.dumps(rule["Targets"][0]["Arn"]): rule["Targets"] for rule in rules.values()}
    # And one sends a readable text to the topic
    [to_topic] = targets[json.dumps({"Ref": topic_id(synthesized)})]
    assert "certctl status" in to_topic["InputTransformer"]["InputTemplate"]
    assert to_topic["InputTransformer"]["InputPathsMap"]["detail-status"] == "$.detail.status"
    # And the other hands the event to clean_up_stopped_execution, retried for up to a day
    [to_cleaner] = targets[json.dumps({"Fn::GetAtt": [cleaner_id, "Arn"]})]
    assert to_cleaner["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 20}
    assert "Input" not in to_cleaner
    assert "InputTransformer" not in to_cleaner


def test_the_dashboard_shows_expiry_failures_durations_and_the_alarms(synthesized: Synthesized) -> None:
    # Given the dashboard's body, with the CloudFormation references flattened
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    delimiter, parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"]
    body = json.loads(delimiter.join(part if isinstance(part, str) else "REF" for part in parts))

    # When its widgets are read
    assert dashboard["Properties"]["DashboardName"] == NAMES.dashboard
    titles = [widget["properties"].get("title") for widget in body["widgets"]]
    text = json.dumps(body)

    # Then it has the alarms, the executions, days to expiry per certificate and the fleet's lowest, failures by
    # step and problem, and issuance durations
    for title in (
        "Alarms",
        "Lifecycle executions",
        "Days to expiry, per certificate",
        "Fewest days to expiry in the fleet",
        "Failures by step, error and ACME problem",
        "Issuance duration (request to result, seconds)",
    ):
        assert title in titles
    assert '{AcmeCertificates,CertificateName,Deployment,service} MetricName=\\"DaysToExpiry\\"' in text
    assert '{AcmeCertificates,Deployment,Error,ProblemType,Step,service} MetricName=\\"LifecycleFailures\\"' in text
    assert '"IssuanceDuration"' in text
    assert '"ExecutionsFailed"' in text


def test_steps_that_announce_may_put_only_our_events_and_publish_only_to_the_topic(synthesized: Synthesized) -> None:
    # Given the statements of every lifecycle step
    by_step = synthesized.statements_by_step()

    # When the events and SNS statements are collected
    putting = {
        step for step, statements in by_step.items() for s in statements if s.get("Sid") == "PutCertificateEvents"
    }
    publishing = {
        step for step, statements in by_step.items() for s in statements if s.get("Sid") == "PublishNotifications"
    }

    # Then record_result (distribution failures), clean_up_failure, validate_request (an accepted "replace": true) and
    # switch_to_fallback_account put events and publish; nothing else does
    announcing = {"record_result", "clean_up_failure", "validate_request", "switch_to_fallback_account"}
    assert putting == announcing
    assert publishing == announcing
    for step in putting:
        put = next(s for s in by_step[step] if s.get("Sid") == "PutCertificateEvents")
        assert flat(put["Resource"]) == "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default"
        assert put["Condition"] == {"StringEquals": {"events:source": [EVENT_SOURCE]}}
    statements = by_step["clean_up_failure"]
    publish = next(s for s in statements if s.get("Sid") == "PublishNotifications")
    # (the ARN is built from the topic's name, so the grants do not depend on the topic resource)
    assert (
        flat(publish["Resource"])
        == f"arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:{NAMES.notification_topic}"
    )
    data_key = next(s for s in statements if s.get("Sid") == "EncryptNotifications")
    assert sorted(as_list(data_key["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert [flat(v) for v in data_key["Condition"]["StringEquals"]["kms:ViaService"]] == [
        "sns.<AWS::Region>.amazonaws.com"
    ]


def test_the_stack_outputs_the_topic_and_the_dashboard(synthesized: Synthesized) -> None:
    # Given / When / Then
    outputs = synthesized.template_json["Outputs"]
    assert outputs["NotificationTopicArn"]["Value"] == {"Ref": topic_id(synthesized)}
    assert outputs["DashboardName"]["Value"] == {"Ref": synthesized.only_id("AWS::CloudWatch::Dashboard")}


def test_e_mail_subscriptions_and_the_threshold_come_from_the_configuration() -> None:
    # Given notification settings with two addresses and a 21-day threshold (bare stacks: no full synthesis)
    settings = NotificationSettings(emails=("pki@example.com", "oncall@example.com"), expiry_alarm_days=21)
    stack = Stack(App(), "Probe")
    key = kms.Key(stack, "Key")
    notifications = Notifications(stack, "Notifications", names=NAMES, key=key, settings=settings)
    state_machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P"))
    )
    reporter = lambda_.Function(
        stack, "Reporter", code=lambda_.Code.from_inline("x"), handler="h.h", runtime=lambda_.Runtime.PYTHON_3_13
    )

    # When the monitoring is built with them
    Monitoring(
        stack,
        "Monitoring",
        names=NAMES,
        topic=notifications.topic,
        lifecycle=state_machine,
        reporter=reporter,
        stopped_execution_cleaner=reporter,
        expiry_alarm_days=settings.expiry_alarm_days,
    )
    template = Template.from_stack(stack)

    # Then each address is an e-mail subscription of the topic, and the alarm says 21 days
    template.resource_count_is("AWS::SNS::Subscription", 2)
    for email in settings.emails:
        template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmDescription": Match.string_like_regexp("fewer than 21 days left")}
    )


def test_no_subscription_without_e_mails(synthesized: Synthesized) -> None:
    # Given / When / Then the example configuration names no e-mail: the topic has no subscription
    assert synthesized.resources("AWS::SNS::Subscription") == {}


def test_an_event_left_in_a_dead_letter_queue_alarms_to_the_topic(synthesized: Synthesized) -> None:
    # Given the alarm on undelivered events and the dead-letter queues of the rules on ACM's events
    (alarm,) = (
        a["Properties"]
        for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{NAMES.prefix}-undelivered-events"
    )
    queue_ids = {
        target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        for rule in synthesized.resources("AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if "DeadLetterConfig" in target
    }

    # When the queues it watches are read from its metrics
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for query in alarm["Metrics"]
        if "MetricStat" in query
        for dimension in query["MetricStat"]["Metric"]["Dimensions"]
    }

    # Then it watches every dead-letter queue, fires on one message, and tells the topic (and when it clears)
    assert len(queue_ids) == 2
    assert watched == queue_ids
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic_id(synthesized)}]
    assert "certctl renew" in alarm["AlarmDescription"]
