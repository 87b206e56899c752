"""ACME faults: the transport the functions' ACME sessions send through, which applies the plan's `acme` faults and
logs every request (sandbox.faults)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from sandbox import ca_clock
from sandbox.faults.call_log import CallLog
from sandbox.faults.plan import FaultPlan, Invocation

# Pebble's paths for the ACME resources (RFC 8555 names).
PEBBLE_RESOURCES = (
    ("/dir", "directory"),
    ("/nonce-plz", "newNonce"),
    ("/sign-me-up", "newAccount"),
    ("/order-plz", "newOrder"),
    ("/authZ/", "authorization"),
    ("/chalZ/", "challenge"),
    ("/my-order/", "order"),
    ("/finalize-order/", "finalize"),
    ("/certZ/", "certificate"),
    ("/revoke-cert", "revokeCert"),
    ("/my-account/", "account"),
    ("/rollover-account-key", "keyChange"),
)
ACME_PROBLEM_PREFIX = "urn:ietf:params:acme:error:"
PASSED_TO_THE_CA = frozenset({"timeout", "clock-ahead"})  # ACME faults applied to the CA's answer


class FaultInjectingAdapter(HTTPAdapter):
    """The `acme` client's transport in the sandbox: every request passes the fault plan and is logged."""

    def __init__(self, plan: FaultPlan, log: CallLog, current: Callable[[], Invocation | None]) -> None:
        super().__init__()
        self._plan = plan
        self._log = log
        self._current = current

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        invocation = self._current()
        if invocation is None:
            return super().send(request, *args, **kwargs)
        resource = acme_resource(request.url or "")
        as_get = _is_post_as_get(request)
        fault = self._plan.take("acme", invocation, request=resource, as_get=as_get)
        entry: dict[str, Any] = {
            "kind": "acme",
            "method": request.method,
            "request": resource,
            "as_get": as_get,
            "path": urlsplit(request.url or "").path,
            "fault": fault["id"] if fault else None,
        }
        kind = fault.get("fault") if fault else None
        if fault is not None and kind not in PASSED_TO_THE_CA:
            response = _injected_acme_response(fault, request)
            self._log.append(invocation, **entry, status=response.status_code if response else None, reached_ca=False)
            if response is None:
                raise requests.ConnectionError(f"connection reset by peer (sandbox fault {fault['id']!r})")
            return response
        response = super().send(request, *args, **kwargs)
        self._log.append(invocation, **entry, status=response.status_code, reached_ca=True, problem=_problem(response))
        if kind == "clock-ahead":
            if response.status_code == 200:
                response._content = ca_clock.ahead(response.content, int(fault.get("seconds", 300)))  # type: ignore[union-attr]
            return response
        if fault is not None:
            raise requests.ReadTimeout(f"read timed out after the CA answered (sandbox fault {fault['id']!r})")
        return response


def acme_resource(url: str) -> str:
    path = urlsplit(url).path
    return next((name for prefix, name in PEBBLE_RESOURCES if path.startswith(prefix)), path)


def _is_post_as_get(request: requests.PreparedRequest) -> bool | None:
    if request.method != "POST" or not request.body:
        return None
    try:
        body = request.body if isinstance(request.body, str | bytes) else b""
        return bool(json.loads(body).get("payload") == "")
    except (ValueError, AttributeError):
        return None


def _problem(response: requests.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        return str(response.json().get("type", "")).removeprefix(ACME_PROBLEM_PREFIX) or None
    except (ValueError, AttributeError):
        return None


def _injected_acme_response(fault: Mapping[str, Any], request: requests.PreparedRequest) -> requests.Response | None:
    """What the CA seems to answer; None for a connection reset."""
    kind = fault.get("fault")
    if kind == "reset":
        return None
    if kind == "rate-limited":
        problem = {"type": f"{ACME_PROBLEM_PREFIX}rateLimited", "detail": "too many new orders (sandbox fault)"}
        headers = {"Content-Type": "application/problem+json", "Retry-After": str(fault.get("retry_after", 60))}
        return _response(request, 429, headers, json.dumps(problem).encode())
    if kind == "status":
        status = int(fault.get("status", 503))
        if fault.get("problem"):
            body = {"type": f"{ACME_PROBLEM_PREFIX}{fault['problem']}", "detail": "sandbox fault", "status": status}
            return _response(request, status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode())
        html = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
        return _response(request, status, {"Content-Type": "text/html"}, html)
    raise ValueError(f"unknown acme fault {kind!r}")


def _response(
    request: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers)
    response._content = body
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    return response
