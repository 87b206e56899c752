"""In-process moto (mock_aws) with what the announcing steps touch: the inventory, the topic, and capture queues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto import mock_aws

from certlib.resources import EVENT_SOURCE, INVENTORY_PARTITION_KEY, ResourceNames
from certlib.services import Services, aws_session
from certlib.settings import Settings
from deploy.functions import function_environment
from sandbox.moto_fixes import route53_as_aws

REGION = "eu-west-1"
NAMES = ResourceNames()


@dataclass
class Deployment:
    services: Services
    session: boto3.Session
    events_queue: str
    topic_queue: str

    def events(self) -> list[dict[str, Any]]:
        """Every event the capture rule delivered (acme.certificates, any detail type)."""
        return [json.loads(body) for body in self._drain(self.events_queue)]

    def notifications(self) -> list[dict[str, Any]]:
        """Every SNS notification the topic delivered to its SQS subscription."""
        return [json.loads(body) for body in self._drain(self.topic_queue)]

    def _drain(self, queue_url: str) -> list[str]:
        sqs = self.session.client("sqs")
        bodies: list[str] = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@contextmanager
def deployment() -> Iterator[Deployment]:
    """The inventory table, the notification topic, and SQS queues capturing the bus and the topic."""
    with mock_aws(), route53_as_aws():
        # one botocore session for the functions' Services and the test's own calls (boto3): events registered on
        # either see both
        functions_session = aws_session(REGION, "t", "t")
        session = boto3.Session(botocore_session=functions_session)
        session.client("dynamodb").create_table(
            TableName=NAMES.inventory_table,
            KeySchema=[{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": INVENTORY_PARTITION_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        topic_arn = session.client("sns").create_topic(Name=NAMES.notification_topic)["TopicArn"]
        events_queue, events_queue_arn = _queue(session, "events")
        topic_queue, topic_queue_arn = _queue(session, "topic")
        session.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=topic_queue_arn)
        bus = session.client("events")
        bus.put_rule(Name="capture", EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
        bus.put_targets(Rule="capture", Targets=[{"Id": "queue", "Arn": events_queue_arn}])
        environment = function_environment(NAMES, "alias/acme-certs", 3600, topic_arn)
        services = Services(Settings.from_env(environment), functions_session)
        yield Deployment(services, session, events_queue, topic_queue)


def _queue(session: boto3.Session, name: str) -> tuple[str, str]:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn
