"""Real requests for the tests of sandbox.iam.requests: a boto3 client (fake credentials, endpoint
http://localhost:1) builds and signs the request; a `before-send` handler keeps it and answers with a canned
response, so nothing leaves the process. The resources the mapping reads are created in moto's in-process backends
(`mock_aws`), the same ones sandbox.iam.resource_state reads."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders

from sandbox.iam.evaluator import Request
from sandbox.iam.requests import Caller, HttpRequest, authorizations
from sandbox.iam.resource_state import ResourceState
from sandbox.iam.wire import service_model

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/certificates-lifecycle"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/certificates-lifecycle/execution-1"
CALLER = Caller(role_arn=ROLE_ARN, session_arn=SESSION_ARN, account=ACCOUNT, principal_tags={"AccessGroup": "web"})
ACCESS_KEY_ID = "ASIAEXAMPLEEXAMPLE01"
_captured: list[AWSPreparedRequest] = []


class _Body:
    """The raw stream an AWSResponse reads its content from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def canned_response(url: str, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    return AWSResponse(url, status, HTTPHeaders.from_dict(headers), _Body(body))


def _keep(request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
    """Keeps the request; answers 200 with the least body the client's parser accepts."""
    _captured.append(request)
    operation = event_name.rsplit(".", 1)[1]
    body = b""
    if "x-amz-json" in str(request.headers.get("Content-Type", "")):
        body = b"{}"
    elif b"Action=" in (request.body.encode() if isinstance(request.body, str) else request.body or b""):
        body = f"<{operation}Response><{operation}Result/></{operation}Response>".encode()  # query protocol
    return canned_response(request.url, 200, {"x-amzn-RequestId": "canned"}, body)


@cache
def client(service: str) -> Any:
    """A client of `service` whose requests never leave: each is kept for `captured_request`."""
    made = boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url="http://localhost:1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key="not-a-secret",
        aws_session_token="not-a-token",
    )
    made.meta.events.register("before-send", _keep)
    return made


def to_http_request(prepared: AWSPreparedRequest) -> HttpRequest:
    """The request as the WSGI layer sees it: PATH_INFO percent-decoded (as latin-1), the raw query string."""
    url = urlsplit(prepared.url)
    headers = {
        str(name): value.decode() if isinstance(value, bytes) else str(value)
        for name, value in prepared.headers.items()
    }
    raw = prepared.body
    if raw is None:
        body = b""
    elif isinstance(raw, bytes | bytearray):
        body = bytes(raw)
    elif isinstance(raw, str):
        body = raw.encode()
    else:
        data = raw.read()
        body = data.encode() if isinstance(data, str) else data
    return HttpRequest(prepared.method, unquote(url.path, encoding="latin-1"), url.query, headers, body)


def captured_request(service: str, operation: str, **params: Any) -> HttpRequest:
    """The HTTP request botocore sends for `client(service).<operation>(**params)` (operation in snake_case)."""
    _captured.clear()
    getattr(client(service), operation)(**params)
    assert len(_captured) == 1
    return to_http_request(_captured[0])


def authorize(service: str, operation: str, **params: Any) -> list[Request]:
    """The authorizations of that request, by CALLER in ACCOUNT / REGION, against moto's in-process backends."""
    request = captured_request(service, operation, **params)
    return authorizations(request, CALLER, REGION, ResourceState(ACCOUNT, REGION))


def only(requests: list[Request]) -> Request:
    assert len(requests) == 1, requests
    return requests[0]


def protocol_of(service: str) -> str:
    return service_model(service).protocol
