"""A request to AWS as the sandbox's WSGI layer sees it: the HTTP request, who signed it, and which operation of
which service it is, for every protocol botocore speaks (JSON target, query Action, REST method and path).

Operations are recognised through botocore's own service models (the same ones the clients build requests from),
so a REST path is matched against the operation's `requestUri` template exactly as the client filled it in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import ServiceModel
from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS


class Unmapped(Exception):
    """An operation or resource this module cannot map: the caller fails loudly (never allows)."""


class Headers(Mapping[str, str]):
    """HTTP headers with case-insensitive lookups (the keys are stored lower-cased)."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._headers = {key.lower(): value for key, value in (headers or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._headers[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._headers

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __repr__(self) -> str:
        return f"Headers({self._headers!r})"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # URL path, not decoded further than WSGI's PATH_INFO
    query: str  # raw query string
    headers: Mapping[str, str]  # case-insensitive lookups (lower-cased keys)
    body: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))


@dataclass(frozen=True)
class Caller:
    role_arn: str  # arn:aws:iam::123456789012:role/name
    session_arn: str  # arn:aws:sts::123456789012:assumed-role/name/session
    account: str
    principal_tags: Mapping[str, str]
    org_id: str | None = None


# --- the SigV4 credential scope: access key / date / region / service / aws4_request -------------------------------
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")


def _credential_scope(request: HttpRequest) -> list[str] | None:
    authorization = request.headers.get("authorization")
    credential: str | None = None
    if authorization:
        match = _CREDENTIAL.search(authorization)
        credential = match.group(1) if match else None
    else:
        values = parse_qs(request.query).get("X-Amz-Credential")
        credential = values[0] if values else None
    if not credential:
        return None
    scope = credential.split("/")
    # SigV4: key/date/region/service/aws4_request; SigV4a has no region: key/date/service/aws4_request
    return scope if len(scope) in (4, 5) and scope[-1] == "aws4_request" else None


def signing_service(request: HttpRequest) -> str | None:
    """The service of the SigV4 credential scope (Authorization header, or X-Amz-Credential of a presigned URL);
    None if the request is not SigV4-signed."""
    scope = _credential_scope(request)
    return scope[-2] if scope else None


def signing_region(request: HttpRequest) -> str | None:
    """The region of the SigV4 credential scope; None if unsigned or signed with SigV4a (no region)."""
    scope = _credential_scope(request)
    return scope[2] if scope and len(scope) == 5 else None


def access_key_id(request: HttpRequest) -> str | None:
    """The access key ID of the SigV4 credential scope; None if the request is not SigV4-signed."""
    scope = _credential_scope(request)
    return scope[0] if scope else None


# --- botocore's models, by signing name -----------------------------------------------------------------------------
# Where the signing name (the credential scope's service) is not the name botocore files the model under.
_MODEL_NAMES = {"states": "stepfunctions", "email": "ses", "execute-api": "apigateway", "monitoring": "cloudwatch"}


@cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of the service whose signing name is `service`. Raises Unmapped for an unknown service."""
    try:
        return _botocore_session().get_service_model(_MODEL_NAMES.get(service, service))
    except UnknownServiceError as exc:
        raise Unmapped(f"{service}: not a service botocore knows") from exc


def protocol_of(model: ServiceModel) -> str:
    """The protocol botocore's clients speak to the service: the first of its `protocols` botocore supports, in
    botocore's order (acm-pca's model says smithy-rpc-v2-cbor, but lists json, which clients prefer)."""
    offered = model.metadata.get("protocols") or [model.protocol]
    return next((p for p in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p in offered), model.protocol)


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object of a JSON or REST-JSON request's body ({} when empty). Raises Unmapped if it is not one."""
    if not request.body.strip():
        return {}
    try:
        document = json.loads(request.body)
    except ValueError as exc:
        raise Unmapped(f"the request's body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise Unmapped("the request's body is not a JSON object")
    return document


def query_params(request: HttpRequest) -> dict[str, str]:
    """The parameters of a query-protocol request: its query string, then its form body (the first of each name)."""
    params: dict[str, str] = {}
    sources = [request.query]
    if request.body and "x-www-form-urlencoded" in request.headers.get("content-type", "x-www-form-urlencoded"):
        sources.append(request.body.decode("utf-8", "replace"))
    for source in sources:
        for name, values in parse_qs(source, keep_blank_values=True).items():
            params.setdefault(name, values[0])
    return params


def query_list(params: Mapping[str, str], prefix: str) -> list[str]:
    """`prefix.1`, `prefix.2`, ... of a query-protocol list (e.g. prefix "TagKeys.member")."""
    values: list[str] = []
    while f"{prefix}.{len(values) + 1}" in params:
        values.append(params[f"{prefix}.{len(values) + 1}"])
    return values


def query_pairs(params: Mapping[str, str], prefix: str, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """`prefix.N.Key` / `prefix.N.Value` pairs of a query-protocol list of structures (e.g. "Tags.member")."""
    pairs: dict[str, str] = {}
    index = 1
    while f"{prefix}.{index}.{key}" in params:
        pairs[params[f"{prefix}.{index}.{key}"]] = params.get(f"{prefix}.{index}.{value}", "")
        index += 1
    return pairs


# --- REST: method and path against each operation's requestUri template ----------------------------------------------
@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # query parameters the template requires (name, value or None)
    literal_length: int


_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


def _route(operation: str, method: str, request_uri: str) -> _Route:
    path, _, query = request_uri.partition("?")
    regex, position, literal = "", 0, 0
    for label in _LABEL.finditer(path):
        regex += re.escape(path[position : label.start()])
        literal += label.start() - position
        regex += f"(?P<{label.group(1)}>.+)" if label.group(2) else f"(?P<{label.group(1)}>[^/]+)"
        position = label.end()
    regex += re.escape(path[position:].rstrip("/")) + "/?"
    literal += len(path[position:])
    required = tuple(
        (name, value if sep else None)
        for name, sep, value in (part.partition("=") for part in query.split("&") if part)
    )
    return _Route(operation, method.upper(), re.compile(regex), required, literal + len(required))


@cache
def _routes(service: str) -> tuple[_Route, ...]:
    model = service_model(service)
    routes = [
        _route(name, model.operation_model(name).http["method"], model.operation_model(name).http["requestUri"])
        for name in model.operation_names
    ]
    return tuple(sorted(routes, key=lambda route: -route.literal_length))


def rest_operation(request: HttpRequest, service: str) -> tuple[str, dict[str, str]]:
    """The REST operation the method and path name, and the path's labels ({"Id": "Z123"}). Raises Unmapped."""
    query = {name: values[0] for name, values in parse_qs(request.query, keep_blank_values=True).items()}
    for route in _routes(service):
        if route.method != request.method.upper():
            continue
        match = route.pattern.fullmatch(request.path)
        if match is None:
            continue
        if all(name in query and (value is None or query[name] == value) for name, value in route.query):
            return route.operation, match.groupdict()
    raise Unmapped(f"{service}: no operation is {request.method} {request.path}")


def operation_of(request: HttpRequest, service: str) -> str:
    """The operation the request calls ("UpdateItem", "ChangeResourceRecordSets"), `service` being its signing name.

    Raises Unmapped if the service is unknown or the request names no operation of it.
    """
    model = service_model(service)
    protocol = protocol_of(model)
    if protocol == "json":
        target = request.headers.get("x-amz-target", "")
        prefix, _, operation = target.rpartition(".")
        if prefix != model.metadata.get("targetPrefix"):
            raise Unmapped(f"{service}: X-Amz-Target {target!r} is not one of its operations")
    elif protocol in ("query", "ec2"):
        operation = query_params(request).get("Action", "")
    elif protocol in ("rest-json", "rest-xml"):
        operation = rest_operation(request, service)[0]
    else:
        raise Unmapped(f"{service}: protocol {protocol} is not mapped")
    if operation not in model.operation_names:
        raise Unmapped(f"{service}: {operation or 'no operation'} is not one of its operations")
    return operation
