"""Sending our events: on the bus, and the notified ones to the SNS topic too."""

from __future__ import annotations

from collections.abc import Callable

from certlib.adapters.events import EventBus
from certlib.adapters.sns import NotificationTopic
from certlib.notifications.events import CertificateEvent
from certlib.resources import EVENT_SOURCE


# --- sending -----------------------------------------------------------------------------------------------------
class CertificateEvents:
    """Puts our events on the bus, and publishes the ones people must hear about to the topic.

    The topic is built on first use, so steps that only emit events do not need its ARN.
    """

    def __init__(self, bus: EventBus, topic: Callable[[], NotificationTopic], deployment: str) -> None:
        self._bus = bus
        self._topic = topic
        self.deployment = deployment

    def emit(self, event: CertificateEvent) -> None:
        """Put the event on the bus, then (for failures, revocations and replacements) publish it to the topic.

        Raises TransientError when EventBridge or SNS is briefly unavailable: the state machine retries the step,
        because a lost failure notification is worse than a step run twice. AwsError when either refuses for good.
        """
        self._bus.put(EVENT_SOURCE, event.detail_type, event.detail, event.resources)
        if event.notified:
            self._topic().publish(
                event.subject,
                event.body,
                {
                    "detail_type": event.detail_type,
                    "name": str(event.detail["name"]),
                    "event_id": event.detail["event_id"],
                },
            )
