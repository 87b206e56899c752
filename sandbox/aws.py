"""moto in server mode, with its Step Functions interpreter on and Lambda without Docker.

Both switches are internal moto behaviour (pinned in requirements-dev.txt): the interpreter calls Lambda through
`http://localhost:$MOTO_PORT`, so MOTO_PORT must name this server's port in this process.

moto serves requests on many threads and its DynamoDB checks a write's condition, then writes, with nothing in
between to stop another request: two executions taking one certificate's lock at once could both get it, which
DynamoDB never allows. `make_dynamodb_writes_atomic` makes each write one step, as in DynamoDB.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import threading
from collections.abc import Callable
from typing import Any

import boto3
from moto.dynamodb.models import DynamoDBBackend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from sandbox.iam.enforcement import IamEnforcement
from sandbox.local_only import LocalOnly

REGION = "us-east-1"
FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"  # noqa: S105 (moto accepts any credentials; these are not secret)
MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_dynamodb_write_lock = threading.RLock()


def make_dynamodb_writes_atomic() -> None:
    """Each DynamoDB write (condition check and change) runs alone, for this whole process (idempotent)."""
    for name in DYNAMODB_WRITES:
        original: Callable[..., Any] = getattr(DynamoDBBackend, name)
        if getattr(original, "atomic", False):
            continue

        @functools.wraps(original)
        def atomic(backend: DynamoDBBackend, *args: Any, _write: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _dynamodb_write_lock:
                return _write(backend, *args, **kwargs)

        atomic.atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)


class _ServerBehindIam(ThreadedMotoServer):
    """moto's threaded server with IAM enforcement (sandbox.iam.enforcement) in front of its application, and in front
    of both the refusal of anything but local programs (sandbox.local_only).

    `_server_entry` is moto's own (pinned), with the application wrapped.
    """

    def __init__(self, enforcement: IamEnforcement) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.enforcement = enforcement

    def _server_entry(self) -> None:
        self.enforcement.app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, LocalOnly(self.enforcement), True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class MotoServer:
    """A moto server on a free port of 127.0.0.1, configured to run state machines for real, that denies what IAM
    would deny to requests signed with a role's credentials (unless `iam` is False: `sandbox up --no-iam`)."""

    def __init__(self, iam: bool = True, operator_roles: frozenset[str] = frozenset()) -> None:
        self.enforcement = IamEnforcement(
            app=lambda environ, start_response: [], enabled=iam, operator_roles=operator_roles
        )
        self._server = _ServerBehindIam(self.enforcement)
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start serving, point moto's interpreter at this server and switch its execution on."""
        make_dynamodb_writes_atomic()
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        os.environ["MOTO_PORT"] = str(self.port)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                "POST", "/moto-api/config", body=json.dumps(MOTO_CONFIG), headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            if response.status not in (200, 201):
                raise RuntimeError(f"moto refused its configuration: HTTP {response.status}: {response.read()[:200]!r}")
        finally:
            connection.close()

    def stop(self) -> None:
        if self.port:
            self._server.stop()
            self.port = 0

    def session(self) -> boto3.Session:
        """A boto3 session with moto's fake credentials and the sandbox region (pass endpoint_url to clients)."""
        return boto3.Session(
            aws_access_key_id=FAKE_ACCESS_KEY_ID, aws_secret_access_key=FAKE_SECRET_ACCESS_KEY, region_name=REGION
        )


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """What any boto3 client in this process needs to talk to moto (the Lambda handlers included)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
