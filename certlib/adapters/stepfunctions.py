"""Step Functions: start a lifecycle execution for an inventory item (renewals started by the sweep, ACM's expiry
event, the revocation check and `certctl revoke`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

REQUEST_FIELDS = ("name", "domains", "account", "key_type", "regions")


def execution_name(trigger: str, certificate_name: str) -> str:
    """Unique, readable, within Step Functions' 80 characters: `<trigger>-<name>-<UTC time>-<random>`."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", certificate_name)[:48]
    return f"{trigger[:10]}-{safe}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def lifecycle_input(item: dict[str, Any]) -> dict[str, Any]:
    """The execution input that renews an inventory item as it was last asked for."""
    return {field: _plain(item[field]) for field in REQUEST_FIELDS if item.get(field) is not None}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else str(value)


class LifecycleStarter:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self.state_machine_arn = state_machine_arn

    def start(self, trigger: str, item: dict[str, Any], name: str | None = None) -> str:
        """Start a lifecycle execution renewing `item`; returns its ARN."""
        try:
            return self._client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=name or execution_name(trigger, str(item["name"])),
                input=json.dumps(lifecycle_input(item)),
            )["executionArn"]
        except ClientError as exc:
            raise_classified(exc, f"starting a lifecycle execution for {item['name']!r}")

    def start_with(self, name: str, execution_input: dict[str, Any]) -> str:
        """Start an execution with this input (names and ARNs only); returns its ARN."""
        try:
            return self._client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(execution_input)
            )["executionArn"]
        except ClientError as exc:
            raise_classified(exc, f"starting {name}")
