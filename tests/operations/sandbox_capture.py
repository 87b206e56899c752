"""Capture what the sandbox sends: EventBridge delivers our events to an SQS queue through a rule, and the SNS topic
delivers to an SQS subscription (moto 5.2.5 does both in server mode; it has no e-mail delivery)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certlib.resources import EVENT_SOURCE, ResourceNames
from tests.lifecycle.helpers import target_of


@dataclass
class Capture:
    info: dict[str, Any]
    events_queue: str
    topic_queue: str

    def events(self, name: str, wait_seconds: float = 2.0) -> list[dict[str, Any]]:
        """Our events about certificate `name` (EventBridge's envelope, with the detail parsed)."""
        return [event for event in self._read(self.events_queue, wait_seconds) if event["detail"].get("name") == name]

    def notifications(self, name: str, wait_seconds: float = 2.0) -> list[dict[str, Any]]:
        """The SNS notifications about certificate `name` (SNS's envelope: Subject, Message, MessageAttributes)."""
        return [
            message
            for message in self._read(self.topic_queue, wait_seconds)
            if message.get("MessageAttributes", {}).get("name", {}).get("Value") == name
        ]

    def _read(self, queue_url: str, wait_seconds: float) -> list[dict[str, Any]]:
        sqs = target_of(self.info).client("sqs")
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_seconds
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if not messages and time.monotonic() >= deadline:
                return found
            if not messages:
                time.sleep(0.1)


def start_capture(info: dict[str, Any], label: str) -> Capture:
    """A rule for source acme.certificates to a new queue, and a new queue subscribed to the notification topic."""
    target = target_of(info)
    sqs, events, sns = target.client("sqs"), target.client("events"), target.client("sns")
    names = ResourceNames(info["resource_prefix"])

    def queue(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=f"{label}-{name}")["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    events_url, events_arn = queue("events")
    events.put_rule(Name=f"{label}-capture", EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule=f"{label}-capture", Targets=[{"Id": "queue", "Arn": events_arn}])
    topic_url, topic_queue_arn = queue("topic")
    topic_arn = f"arn:aws:sns:{info['region']}:{info['account_id']}:{names.notification_topic}"
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=topic_queue_arn)
    return Capture(info, events_url, topic_url)


@contextmanager
def wrong_txt(info: dict[str, Any], *names: str) -> Iterator[None]:
    """The sandbox DNS answers a wrong TXT value at these names' challenge records, whatever Route 53 holds."""
    overrides = Path(info["dns_overrides_file"])
    overrides.write_text(
        json.dumps({f"_acme-challenge.{name}": {"TXT": ["not-the-key-authorization"]} for name in names})
    )
    try:
        yield
    finally:
        overrides.unlink(missing_ok=True)
