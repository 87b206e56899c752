"""Faults a test injects into the running sandbox from outside, and a record of every call the functions make.

The switch is a JSON file in the state directory (`faults.json`, path in sandbox.json as `faults_file`), read
again whenever it changes:

    {
      "cold_start": "any text",   # a new value makes every function start cold (the configuration is re-read)
      "faults": [
        {"id": "reset-order", "at": "acme", "request": "newOrder", "fault": "reset", "certificate": "web"},
        {"id": "throttled", "at": "aws", "operation": "route53.ChangeResourceRecordSets", "fault": "error",
         "code": "Throttling", "times": 4, "certificate": "web", "step": "publish_challenges"},
        {"id": "crash", "at": "handler", "fault": "crash", "when": "after", "step": "create_order"}
      ]
    }

Every fault applies to the calls of one function invocation that match all its optional filters: `certificate`
(the name the invocation works on), `step`, `execution` (the execution ARN), `event_contains` (a text the
invocation's event holds, for steps whose event names no certificate), and it is used `times` times (default 1; 0:
every time). With `probability` (0 to 1) a matching call is hit only that often, drawn from a generator seeded with
the plan's `seed` (default 0) when the seed changes, so a run can be repeated (a soak: 5% of ACME requests). The
faults by place:

- `acme`: a request from the `acme` client to the CA, through the transport the functions' Services give their ACME
  sessions (`FaultInjector.acme_transport`, handed to sandbox.lambda_routing). `request` is the ACME resource
  (`newNonce`, `newAccount`, `newOrder`, `authorization`, `challenge`, `order`, `finalize`, `certificate`,
  `revokeCert`, `directory`); `as_get` (true or false) tells a POST-as-GET read from a POST with a payload.
  `fault`: `reset` (the connection is reset before the CA sees the request), `timeout` (the CA answers, the answer
  is lost: a read timeout), `status` (HTTP `status`, default 503, with an HTML body, or a problem document of type
  `problem` when given), `rate-limited` (429 `rateLimited` with `Retry-After: retry_after`), `clock-ahead` (on a
  `certificate` download: the CA's clock runs `seconds` (default 300) ahead, the certificate is not valid yet:
  sandbox.ca_clock).
- `aws`: an AWS API call a function makes, through botocore's `before-send` event (inside botocore's own retry
  loop, so its retries and backoff apply as with a real error). `operation` is `client.Operation`
  (`route53.ChangeResourceRecordSets`). `fault`: `error` (HTTP `status`, default 400, with error `code`),
  `respond` (HTTP `status`, default 200, with `body` as the service's answer), `unreachable` (the endpoint does not
  answer: botocore's EndpointConnectionError, as when the network to AWS is down), `crash-after` (the call is made,
  then the function crashes before it can record what it did).
- `handler`: the function itself. `fault`: `crash` (the runtime dies `when` = `before` or `after` the step's
  work; Step Functions sees `Runtime.ExitError`, and the container starts cold next time), `hold` (the invocation
  waits `when` = `before` or `after` its work while the fault is in the plan, at most `seconds` (default 300): an
  execution kept in one state, e.g. to be stopped there).

Every ACME request and AWS call made by a function is appended to `faults-log.jsonl` (`faults_log_file`): when,
which step, certificate and execution, what was called, its HTTP status, and the fault applied. Never a body,
a header or a parameter: only names, so the log holds no secret.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions
import botocore.handlers
import requests
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from sandbox import ca_clock, lambda_routing

LOG = logging.getLogger(__name__)
FAULTS_FILE_NAME = "faults.json"
FAULTS_LOG_FILE_NAME = "faults-log.jsonl"
HOLD_LIMIT_SECONDS = 300.0
HOLD_POLL_SECONDS = 0.05

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
# botocore's hyphenated service IDs that differ from the client names; the rest are equal.
CLIENT_NAMES = {"route-53": "route53", "secrets-manager": "secretsmanager", "sfn": "stepfunctions"}
XML_PROTOCOL_CLIENTS = frozenset({"route53"})  # the others the functions call speak JSON
ACME_PROBLEM_PREFIX = "urn:ietf:params:acme:error:"
PASSED_TO_THE_CA = frozenset({"timeout", "clock-ahead"})  # ACME faults applied to the CA's answer
BEFORE_SEND_FAULTS = frozenset({"error", "respond", "unreachable"})
AFTER_CALL_FAULTS = frozenset({"crash-after"})


class SimulatedCrash(Exception):
    """The function's runtime died (injected). Lambda reports it as `lambda_error_type`."""

    lambda_error_type = "Runtime.ExitError"

    def __init__(self, step: str, fault_id: str, where: str) -> None:
        super().__init__(f"Runtime exited with error: signal: killed (sandbox fault {fault_id!r}: {where} in {step})")


@dataclass(frozen=True)
class Invocation:
    """What a function invocation works on, read from its event."""

    step: str
    certificate: str | None
    execution: str | None
    event_text: str = ""

    @classmethod
    def of(cls, step: str, event: Any) -> Invocation:
        event = event if isinstance(event, dict) else {}
        state = event.get("state") if isinstance(event.get("state"), dict) else {}
        holders = [event.get("request"), event.get("input"), state.get("request"), state, event]
        certificate = next((h["name"] for h in holders if isinstance(h, dict) and isinstance(h.get("name"), str)), None)
        executions = [event.get("execution_id"), *(h.get("execution_id") for h in holders if isinstance(h, dict))]
        execution = next((e for e in executions if isinstance(e, str) and e), None)
        return cls(step=step, certificate=certificate, execution=execution, event_text=json.dumps(event))


class FaultPlan:
    """The faults file, re-read when it changes, and how often each fault was used since it appeared."""

    def __init__(self, path: Path, on_cold_start: Callable[[], None]) -> None:
        self.path = path
        self._on_cold_start = on_cold_start
        self._lock = threading.Lock()
        self._text: str | None = None
        self._faults: list[dict[str, Any]] = []
        self._used: dict[str, int] = {}
        self._cold_start: Any = None
        self._seed: Any = 0
        self._random = random.Random(self._seed)  # noqa: S311  (reproducible draws, not secrets)

    def take(
        self, at: str, invocation: Invocation, kinds: frozenset[str] | None = None, **call: Any
    ) -> dict[str, Any] | None:
        """The first fault at this place (of one of `kinds`) that matches the invocation and the call and is not
        used up; counts it."""
        with self._lock:
            self._reload()
            for index, fault in enumerate(self._faults):
                if fault.get("at") != at or (kinds is not None and fault.get("fault") not in kinds):
                    continue
                if not _matches(fault, invocation, call):
                    continue
                key = str(fault.get("id", index))
                times = int(fault.get("times", 1))
                if times and self._used.get(key, 0) >= times:
                    continue
                if "probability" in fault and self._random.random() >= float(fault["probability"]):
                    continue
                self._used[key] = self._used.get(key, 0) + 1
                return {**fault, "id": key}
        return None

    def holds(self, fault_id: str) -> bool:
        """Whether the plan still has this fault (a `hold` lasts while it does)."""
        with self._lock:
            self._reload()
            return any(str(fault.get("id", index)) == fault_id for index, fault in enumerate(self._faults))

    def _reload(self) -> None:
        """Compares the whole text, not (inode, mtime, size): two plans written within one clock tick, of the same
        size, onto a reused inode look the same by their stamp (a small file, read on every call)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            self._text, self._faults = None, []
            return
        except OSError as exc:
            LOG.warning("faults: keeping the plan read before: %s", exc)
            return
        if text == self._text:
            return
        self._text = text
        try:
            document = json.loads(text)
            faults = [dict(fault) for fault in document.get("faults", [])]
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            LOG.warning("faults: ignoring %s: %s", self.path, exc)
            self._faults = []
            return
        known = {str(fault.get("id", index)) for index, fault in enumerate(faults)}
        self._used = {key: used for key, used in self._used.items() if key in known}
        self._faults = faults
        if document.get("seed", 0) != self._seed:
            self._seed = document.get("seed", 0)
            self._random = random.Random(self._seed)  # noqa: S311  (reproducible draws, not secrets)
        if document.get("cold_start") != self._cold_start:
            self._cold_start = document.get("cold_start")
            self._on_cold_start()


def _matches(fault: Mapping[str, Any], invocation: Invocation, call: Mapping[str, Any]) -> bool:
    wanted = {"certificate": invocation.certificate, "step": invocation.step, "execution": invocation.execution}
    wanted.update(call)
    if "event_contains" in fault and str(fault["event_contains"]) not in invocation.event_text:
        return False
    return all(fault[key] == value for key, value in wanted.items() if key in fault)


class CallLog:
    """faults-log.jsonl: one JSON line per ACME request or AWS call a function made (names only, never values)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, invocation: Invocation, **entry: Any) -> None:
        line = json.dumps(
            {
                "at": time.time(),
                "step": invocation.step,
                "certificate": invocation.certificate,
                "execution": invocation.execution,
                **entry,
            },
            sort_keys=True,
        )
        with self._lock, self.path.open("a") as log:
            log.write(line + "\n")


class FaultInjector:
    """The plan, the log, and which invocation the current thread runs (the functions run in this process)."""

    def __init__(self, state_dir: Path) -> None:
        self.plan = FaultPlan(state_dir / FAULTS_FILE_NAME, cold_start)
        self.log = CallLog(state_dir / FAULTS_LOG_FILE_NAME)
        self._current = threading.local()

    @property
    def invocation(self) -> Invocation | None:
        current: Invocation | None = getattr(self._current, "invocation", None)
        return current

    @contextlib.contextmanager
    def invoking(self, step: str, event: Any) -> Iterator[None]:
        """Run one handler invocation: crash before or after it when a `handler` fault says so."""
        invocation = Invocation.of(step, event)
        self._current.invocation = invocation
        try:
            self._maybe_hold(invocation, "before")
            self._maybe_crash(invocation, "before")
            yield
            self._maybe_hold(invocation, "after")
            self._maybe_crash(invocation, "after")
        finally:
            self._current.invocation = None

    def _maybe_crash(self, invocation: Invocation, when: str) -> None:
        fault = self.plan.take("handler", invocation, frozenset({"crash"}), when=when)
        if fault is None:
            return
        self.log.append(invocation, kind="handler", fault=fault["id"], when=when)
        cold_start()  # the container is gone: the next invocation starts from nothing
        raise SimulatedCrash(invocation.step, fault["id"], f"{when} the step's work")

    def _maybe_hold(self, invocation: Invocation, when: str) -> None:
        fault = self.plan.take("handler", invocation, frozenset({"hold"}), when=when)
        if fault is None:
            return
        self.log.append(invocation, kind="handler", fault=fault["id"], when=f"held {when}")
        deadline = time.monotonic() + float(fault.get("seconds", HOLD_LIMIT_SECONDS))
        while self.plan.holds(fault["id"]) and time.monotonic() < deadline:
            time.sleep(HOLD_POLL_SECONDS)  # the sandbox's own wait: the test removes the fault to let it go

    # --- ACME ---------------------------------------------------------------------------------------------------
    def acme_transport(self) -> HTTPAdapter:
        """A transport for one ACME session of a function: every request passes the fault plan and is logged."""
        return FaultInjectingAdapter(self)

    def acme_send(
        self, adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        invocation = self.invocation
        if invocation is None:
            return HTTPAdapter.send(adapter, request, *args, **kwargs)
        resource = acme_resource(request.url or "")
        as_get = _is_post_as_get(request)
        fault = self.plan.take("acme", invocation, request=resource, as_get=as_get)
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
            self.log.append(invocation, **entry, status=response.status_code if response else None, reached_ca=False)
            if response is None:
                raise requests.ConnectionError(f"connection reset by peer (sandbox fault {fault['id']!r})")
            return response
        response = HTTPAdapter.send(adapter, request, *args, **kwargs)
        self.log.append(invocation, **entry, status=response.status_code, reached_ca=True, problem=_problem(response))
        if kind == "clock-ahead":
            if response.status_code == 200:
                response._content = ca_clock.ahead(response.content, int(fault.get("seconds", 300)))  # type: ignore[union-attr]
            return response
        if fault is not None:
            raise requests.ReadTimeout(f"read timed out after the CA answered (sandbox fault {fault['id']!r})")
        return response

    # --- AWS ------------------------------------------------------------------------------------------------------
    def before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        invocation = self.invocation
        if invocation is None:
            return None
        operation = _operation(event_name)
        fault = self.plan.take("aws", invocation, BEFORE_SEND_FAULTS, operation=operation)
        self.log.append(invocation, kind="aws", operation=operation, fault=fault["id"] if fault else None)
        if fault is None:
            return None
        if fault.get("fault") == "unreachable":  # botocore retries it, then the function sees a ConnectionError
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=request.url)
        return _injected_aws_response(fault, operation, request)

    def after_call(self, http_response: AWSResponse, event_name: str, **_: Any) -> None:
        invocation = self.invocation
        if invocation is None or http_response is None or http_response.status_code >= 300:
            return
        operation = _operation(event_name)
        fault = self.plan.take("aws", invocation, AFTER_CALL_FAULTS, operation=operation)
        if fault is None:
            return
        self.log.append(invocation, kind="handler", fault=fault["id"], when=f"after {operation}")
        cold_start()
        raise SimulatedCrash(invocation.step, fault["id"], f"right after {operation}")


def _operation(event_name: str) -> str:
    _, service_id, operation = event_name.split(".", 2)
    return f"{CLIENT_NAMES.get(service_id, service_id)}.{operation}"


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


class FaultInjectingAdapter(HTTPAdapter):
    """The `acme` client's transport in the sandbox: every request passes the fault plan and is logged."""

    def __init__(self, injector: FaultInjector) -> None:
        super().__init__()
        self._injector = injector

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        return self._injector.acme_send(self, request, *args, **kwargs)


_injector: FaultInjector | None = None


def cold_start() -> None:
    """Drop every function's warm state (adapters, cached configuration, ACME sessions), as a new container would."""
    lambda_routing.cold_start()


def install(state_dir: Path) -> FaultInjector:
    """Switch fault injection on for this process (before any function runs); returns the injector, whose
    `acme_transport` the functions' ACME sessions must be given (sandbox.lambda_routing).

    The functions' boto3 sessions are created after this, so botocore registers the hooks on each of them.
    """
    global _injector
    injector = FaultInjector(state_dir)
    _injector = injector
    botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))
    botocore.handlers.BUILTIN_HANDLERS.append(("after-call", _after_call))
    return injector


def _before_send(**kwargs: Any) -> AWSResponse | None:
    return _injector.before_send(**kwargs) if _injector is not None else None


def _after_call(**kwargs: Any) -> None:
    if _injector is not None:
        _injector.after_call(**kwargs)


def write_plan(
    path: Path, faults: list[dict[str, Any]], cold_start_token: str | None = None, seed: int | None = None
) -> None:
    """Replace the faults file atomically (what tests call; a reader sees the old file or the new one)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    document: dict[str, Any] = {"faults": faults}
    if cold_start_token is not None:
        document["cold_start"] = cold_start_token
    if seed is not None:
        document["seed"] = seed
    partial.write_text(json.dumps(document, indent=2))
    partial.replace(path)
