"""Capture what the sandbox sends: EventBridge delivers our events to an SQS queue through a rule, and the SNS topic
delivers to an SQS subscription (moto 5.2.5 does both in server mode; it has no e-mail delivery)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certlib.resources import EVENT_SOURCE, ResourceNames
from tests.lifecycle.helpers import target_of


@dataclass
class Capture:
    """What the sandbox sent, read off the two queues. moto delivers synchronously (PutEvents and Publish put the
    message on the queue before they return), so once the call that sent it returned (an execution waited for to its
    end, an invocation), it is on the queue: reading drains the queue, and no time is waited for something to come."""

    info: dict[str, Any]
    events_queue: str
    topic_queue: str
    # messages drained from a queue that were about another certificate, kept for when it is asked about
    _unclaimed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def events(self, name: str) -> list[dict[str, Any]]:
        """Our events about certificate `name` (EventBridge's envelope, with the detail parsed)."""
        return self._claim(self.events_queue, lambda event: event["detail"].get("name") == name)

    def notifications(self, name: str) -> list[dict[str, Any]]:
        """The SNS notifications about certificate `name` (SNS's envelope: Subject, Message, MessageAttributes)."""
        return self._claim(
            self.topic_queue, lambda message: message.get("MessageAttributes", {}).get("name", {}).get("Value") == name
        )

    def _claim(self, queue_url: str, wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """The messages on the queue (and kept from earlier reads) that are `wanted`; the others are kept."""
        held = self._unclaimed.setdefault(queue_url, [])
        held.extend(self._drain(queue_url))
        claimed = [message for message in held if wanted(message)]
        held[:] = [message for message in held if not wanted(message)]
        return claimed

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        sqs = target_of(self.info).client("sqs")
        found: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found


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
