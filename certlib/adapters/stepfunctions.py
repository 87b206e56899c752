"""Step Functions: start a lifecycle execution for an inventory item (renewals started by the sweep, ACM's expiry
event, the revocation check and `certctl revoke`), and read the last state of one that stopped."""

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


MAX_EXECUTION_NAME = 80  # Step Functions' limit


def execution_name(trigger: str | None, certificate_name: str) -> str:
    """Unique and readable: `<trigger>-<name>-<UTC time>-<random>` (`<name>-...` without a trigger, as certctl
    starts them), the name cut to keep within Step Functions' 80 characters."""
    prefix = f"{trigger[:10]}-" if trigger else ""
    suffix = f"-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", certificate_name)[: MAX_EXECUTION_NAME - len(prefix) - len(suffix)]
    return f"{prefix}{safe}{suffix}"


def lifecycle_input(item: dict[str, Any]) -> dict[str, Any]:
    """The execution input that renews an inventory item as it was last asked for."""
    return {field: _plain(item[field]) for field in REQUEST_FIELDS if item.get(field) is not None}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else str(value)


class ExecutionStarter:
    """Starts executions of one state machine: the lifecycle (renewals) or the distribution machine."""

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


class ExecutionHistory:
    """Reads an execution's history (names, ARNs, order URLs and DNS-01 values: the state holds no secret)."""

    def __init__(self, client: SFNClient) -> None:
        self._client = client

    def last_state(self, execution_arn: str, holding: str = "request") -> tuple[str, dict[str, Any]] | None:
        """(state name, state) of the newest state entered or left whose data is an object with key `holding`: what
        the execution knew when it stopped. None when no state got that far.

        Raises TransientError or AwsError (aws_errors) when the history cannot be read.
        """
        pages = self._client.get_paginator("get_execution_history")
        last = None
        try:  # oldest first, keeping the newest match: a history is a few hundred events at most
            for page in pages.paginate(executionArn=execution_arn, includeExecutionData=True):
                for event in page["events"]:
                    last = _state_of(event, holding) or last
        except ClientError as exc:
            raise_classified(exc, f"reading the history of {execution_arn}")
        return last


def _state_of(event: Any, holding: str) -> tuple[str, dict[str, Any]] | None:
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
    if not details or "name" not in details:
        return None
    try:
        state = json.loads(details.get("input") or details.get("output") or "null")
    except ValueError:
        return None
    if isinstance(state, dict) and isinstance(state.get(holding), dict):
        return str(details["name"]), state
    return None
