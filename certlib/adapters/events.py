"""EventBridge: put one of our events on a bus.

A failed entry (`FailedEntryCount` > 0) is as bad as a failed call: EventBridge accepted the request but dropped the
event. Both become TransientError when retrying may help (throttling, internal failure) and AwsError otherwise (the
role may not put events on that bus: a deployment mistake, not a blip).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from certlib.adapters.aws_errors import TRANSIENT_CODES, AwsError, raise_classified
from certlib.exceptions import TransientError

# EventBridge's own limit on one entry (detail, source, detail-type, resources together).
MAX_ENTRY_BYTES = 256 * 1024


class EventsClient(Protocol):
    def put_events(self, *, Entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...


class EventBus:
    def __init__(self, client: EventsClient, bus_name: str) -> None:
        self._client = client
        self.bus_name = bus_name

    def put(self, source: str, detail_type: str, detail: Mapping[str, Any], resources: Sequence[str] = ()) -> str:
        """Put one event; returns the ID EventBridge gave it.

        Raises TransientError when EventBridge is briefly unavailable or throttles (the step is retried), AwsError
        when it refuses for good (e.g. the role may not put events on this bus), ValueError for an event too large.
        """
        entry = {
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
            "Resources": list(resources),
            "EventBusName": self.bus_name,
        }
        size = sum(len(str(value).encode()) for value in entry.values())
        if size > MAX_ENTRY_BYTES:
            raise ValueError(f"event {detail_type!r} is {size} bytes; EventBridge takes at most {MAX_ENTRY_BYTES}")
        doing = f"putting a {detail_type!r} event on event bus {self.bus_name}"
        try:
            response = self._client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as exc:
            raise_classified(exc, doing)
        if response.get("FailedEntryCount", 0):
            failed = dict(response.get("Entries", [{}])[0])
            code = str(failed.get("ErrorCode", "Unknown"))
            message = f"{doing}: {code}: {failed.get('ErrorMessage', '')}"
            if code in TRANSIENT_CODES or "Internal" in code or "Throttl" in code:
                raise TransientError(message)
            raise AwsError(message)
        return str(response["Entries"][0].get("EventId", ""))
