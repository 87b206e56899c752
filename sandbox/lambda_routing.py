"""Route moto's Lambda invocations to the real handlers, in this process.

moto's Docker-less Lambda backend (`LambdaSimpleBackend`, an internal name: moto is pinned) only echoes its
input. `route_lambda_invocations` replaces its `invoke` so that the function named `names.function(step)` runs
`functions/<step>/handler.py`'s `handler(event, context)`. A raised exception becomes what Lambda returns for an
unhandled error (the `x-amz-function-error` header and `{"errorType", "errorMessage", "stackTrace"}`), so Step
Functions' Retry and Catch match the exception's class name, as on AWS (or its `lambda_error_type`, e.g. the
`Runtime.ExitError` of a runtime that died). `around`, when given, wraps each handler call (the fault injector
uses it to know which step runs and to crash it).

The handler's `services()` is a Services of the function's own (built once per function, like a Lambda container, and
dropped by `cold_start`), with `acme_transport` as the transport of its ACME sessions (the fault injector's). With
`roles` (sandbox.iam.sessions.RoleSessions), each invocation runs as its function's role, as on Lambda: that Services'
botocore session holds credentials the sandbox's STS issued for that role.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session
from moto.awslambda_simple.models import LambdaSimpleBackend
from requests.adapters import BaseAdapter

from certlib.resources import ResourceNames
from certlib.services import Services, aws_session, invocation_services
from certlib.settings import Settings
from deploy.paths import REPO_ROOT
from sandbox.iam.sessions import RoleSessions

LOG = logging.getLogger(__name__)
Handler = Callable[[Any, Any], Any]
# (step, event) -> a context manager entered around the handler call
AroundInvocation = Callable[[str, Any], AbstractContextManager[None]]


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: None = None
    client_context: None = None
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{datetime.now(UTC):%Y/%m/%d}/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class HandlerRegistry:
    """Imports `functions.<step>.handler` once per step, on first use."""

    def __init__(self, names: ResourceNames) -> None:
        self.names = names
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))

    def handler_for(self, function_name: str) -> Handler:
        """Raises KeyError for a function that is not a lifecycle step; ImportError when its code is missing."""
        step = self.names.step_of_function(function_name)
        with self._lock:
            if step not in self._handlers:
                module = importlib.import_module(f"functions.{step}.handler")
                self._handlers[step] = module.handler
            return self._handlers[step]


def _no_wrapping(step: str, event: Any) -> AbstractContextManager[None]:
    return nullcontext()


class FunctionServices:
    """One Services per function (a Lambda container's warm state, per function): as its role with `roles`, else with
    the process's credentials; its ACME sessions send through `acme_transport` when given."""

    def __init__(
        self, roles: RoleSessions | None = None, acme_transport: Callable[[], BaseAdapter] | None = None
    ) -> None:
        self._roles = roles
        self._acme_transport = acme_transport
        self._services: dict[str, tuple[botocore.session.Session, Services]] = {}
        self._lock = threading.Lock()

    def of(self, function_name: str, role_arn: str) -> Services:
        session = self._roles.session(role_arn, function_name) if self._roles is not None else None
        with self._lock:
            held = self._services.get(function_name)
            if held is None or (session is not None and held[0] is not session):  # new credentials: a new container
                session = session or aws_session()
                held = (session, Services(Settings.from_env(), session, acme_transport=self._acme_transport))
                self._services[function_name] = held
            return held[1]

    def cold_start(self) -> None:
        with self._lock:
            self._services.clear()


_function_services: FunctionServices | None = None


def cold_start() -> None:
    """Drop every function's warm state, as new containers would."""
    if _function_services is not None:
        _function_services.cold_start()


def route_lambda_invocations(
    registry: HandlerRegistry,
    around: AroundInvocation = _no_wrapping,
    roles: RoleSessions | None = None,
    acme_transport: Callable[[], BaseAdapter] | None = None,
) -> None:
    """Replace moto's Docker-less Lambda invoke with one that runs our handlers (for the whole process), each with
    its function's Services (FunctionServices): with `roles`, as its function's role; its ACME requests through
    `acme_transport` when given."""
    global _function_services
    _function_services = FunctionServices(roles, acme_transport)

    def invoke(
        backend: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        function = backend.get_function(function_name, qualifier)  # moto's ResourceNotFound when it does not exist
        context = LambdaContext(
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=int(function.memory_size),
            timeout_seconds=int(function.timeout),
        )
        try:
            handler = registry.handler_for(function.function_name)
        except KeyError:
            return _function_error(
                response_headers,
                "Sandbox.UnknownFunction",
                f"the sandbox runs only the lifecycle functions of prefix {registry.names.prefix!r}; "
                f"{function.function_name!r} is not one of them",
            )
        LOG.info("lambda: %s invoked (request %s)", context.function_name, context.aws_request_id)
        try:
            event = json.loads(body) if body else {}
            with around(registry.names.step_of_function(function.function_name), event), _as_role(function):
                result = handler(event, context)
            return json.dumps(result).encode()
        except Exception as exc:
            LOG.warning(
                "lambda: %s (request %s) raised %s",
                context.function_name,
                context.aws_request_id,
                type(exc).__name__,
                exc_info=True,
            )
            stack = traceback.format_tb(exc.__traceback__)
            error_type = str(getattr(exc, "lambda_error_type", type(exc).__name__))
            return _function_error(response_headers, error_type, str(exc), stack)

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]


def _as_role(function: Any) -> AbstractContextManager[None]:
    """The handler's services(): its function's own (as its role, with role sessions)."""
    if _function_services is None:
        return nullcontext()
    return invocation_services(_function_services.of(function.function_name, str(function.role)))


def _function_error(
    response_headers: dict[str, str], error_type: str, message: str, stack: list[str] | None = None
) -> bytes:
    response_headers["x-amz-function-error"] = "Unhandled"
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}).encode()
