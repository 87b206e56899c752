"""AWS faults: botocore's `before-send` and `after-call` handlers, which apply the plan's `aws` faults to every call
a function makes and log it (sandbox.faults)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import botocore.exceptions
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders

from sandbox.faults.call_log import CallLog
from sandbox.faults.crashes import SimulatedCrash, cold_start
from sandbox.faults.plan import FaultPlan, Invocation

# botocore's hyphenated service IDs that differ from the client names; the rest are equal.
CLIENT_NAMES = {"route-53": "route53", "secrets-manager": "secretsmanager", "sfn": "stepfunctions"}
XML_PROTOCOL_CLIENTS = frozenset({"route53"})  # the others the functions call speak JSON
BEFORE_SEND_FAULTS = frozenset({"error", "respond", "unreachable"})
AFTER_CALL_FAULTS = frozenset({"crash-after"})


class AwsFaults:
    """The `aws` faults of the plan, applied to the calls of the invocation the current thread runs."""

    def __init__(self, plan: FaultPlan, log: CallLog, current: Callable[[], Invocation | None]) -> None:
        self._plan = plan
        self._log = log
        self._current = current

    def before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        invocation = self._current()
        if invocation is None:
            return None
        operation = _operation(event_name)
        fault = self._plan.take("aws", invocation, BEFORE_SEND_FAULTS, operation=operation)
        self._log.append(invocation, kind="aws", operation=operation, fault=fault["id"] if fault else None)
        if fault is None:
            return None
        if fault.get("fault") == "unreachable":  # botocore retries it, then the function sees a ConnectionError
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=request.url)
        return _injected_aws_response(fault, operation, request)

    def after_call(self, http_response: AWSResponse, event_name: str, **_: Any) -> None:
        invocation = self._current()
        if invocation is None or http_response is None or http_response.status_code >= 300:
            return
        operation = _operation(event_name)
        fault = self._plan.take("aws", invocation, AFTER_CALL_FAULTS, operation=operation)
        if fault is None:
            return
        self._log.append(invocation, kind="handler", fault=fault["id"], when=f"after {operation}")
        cold_start()
        raise SimulatedCrash(invocation.step, fault["id"], f"right after {operation}")


def _operation(event_name: str) -> str:
    _, service_id, operation = event_name.split(".", 2)
    return f"{CLIENT_NAMES.get(service_id, service_id)}.{operation}"


class _Body:
    """The raw stream an AWSResponse reads its content from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _injected_aws_response(fault: Mapping[str, Any], operation: str, request: AWSPreparedRequest) -> AWSResponse:
    kind = fault.get("fault")
    client = operation.split(".", 1)[0]
    if kind == "respond":
        body = str(fault["body"]).encode()
        return AWSResponse(request.url, int(fault.get("status", 200)), HTTPHeaders(), _Body(body))
    if kind != "error":
        raise ValueError(f"unknown aws fault {kind!r}")
    code, message = str(fault["code"]), f"injected by the sandbox (fault {fault['id']!r})"
    status = int(fault.get("status", 400))
    request_id = f"sandbox-fault-{fault['id']}"
    if client in XML_PROTOCOL_CLIENTS:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return AWSResponse(
            request.url, status, HTTPHeaders.from_dict({"x-amzn-RequestId": request_id}), _Body(xml.encode())
        )
    headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.1"}
    body = json.dumps({"__type": code, "message": message}).encode()
    return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Body(body))


_hooked: AwsFaults | None = None


def install_hooks(faults: AwsFaults) -> None:
    """Apply `faults` to every boto3 session created from now on (botocore registers the hooks on each)."""
    global _hooked
    _hooked = faults
    botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))
    botocore.handlers.BUILTIN_HANDLERS.append(("after-call", _after_call))


def _before_send(**kwargs: Any) -> AWSResponse | None:
    return _hooked.before_send(**kwargs) if _hooked is not None else None


def _after_call(**kwargs: Any) -> None:
    if _hooked is not None:
        _hooked.after_call(**kwargs)
