"""SNS: publish a message people read (e-mail subscriptions) to the notification topic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from certlib.adapters.aws_errors import raise_classified

# SNS: a subject is at most 100 printable ASCII characters on one line; a message at most 256 KB.
MAX_SUBJECT_CHARACTERS = 100
MAX_MESSAGE_BYTES = 256 * 1024


class SnsClient(Protocol):
    def publish(
        self, *, TopicArn: str, Subject: str, Message: str, MessageAttributes: Mapping[str, Any]
    ) -> Mapping[str, Any]: ...


def subject_line(text: str) -> str:
    """What SNS accepts as a subject: printable ASCII, one line, at most 100 characters."""
    printable = "".join(c if " " <= c <= "~" else "?" for c in " ".join(text.split()))
    if len(printable) <= MAX_SUBJECT_CHARACTERS:
        return printable
    return printable[: MAX_SUBJECT_CHARACTERS - 3] + "..."


class NotificationTopic:
    def __init__(self, client: SnsClient, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def publish(self, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        """Publish one message; returns its message ID. `attributes` let subscriptions filter (e.g. on event type).

        Raises TransientError when SNS is briefly unavailable or throttles (the step is retried), AwsError when it
        refuses for good (e.g. the role may not publish, or the topic's KMS key refuses it).
        """
        body = message.encode()
        if len(body) > MAX_MESSAGE_BYTES:
            message = body[: MAX_MESSAGE_BYTES - 100].decode(errors="ignore") + "\n[cut: the message was too long]"
        try:
            response = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=subject_line(subject),
                Message=message,
                MessageAttributes={
                    key: {"DataType": "String", "StringValue": value} for key, value in attributes.items() if value
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise_classified(exc, f"publishing to the notification topic {self.topic_arn}")
        return str(response.get("MessageId", ""))
