"""AWS API calls counted from moto's own request log (its recorder: one JSON line per request it serves).

Who made a call is read from its User-Agent: the bench's clients carry `app/acme-bench`, certbot's boto3 carries
`app/certbot-bench` (AWS_SDK_UA_APP_ID), and boto3 clients created in the sandbox after Powertools was imported
(our Lambda handlers) carry Powertools' `PT/` feature. The sandbox's DNS server, which answers Pebble's TXT
queries from moto's Route 53, created its client before that: its reads are the Route 53 calls with neither.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse

import requests

from bench.sandbox import BENCH_APP_ID, BenchSandbox

CERTBOT_APP_ID = "certbot-bench"
_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# Route 53's REST paths, most specific first.
_ROUTE53_OPERATIONS = (
    ("POST", re.compile(r"/hostedzone/[^/]+/rrset/?$"), "ChangeResourceRecordSets"),
    ("GET", re.compile(r"/hostedzone/[^/]+/rrset/?$"), "ListResourceRecordSets"),
    ("GET", re.compile(r"/hostedzonesbyname/?$"), "ListHostedZonesByName"),
    ("GET", re.compile(r"/hostedzone/?$"), "ListHostedZones"),
    ("GET", re.compile(r"/hostedzone/[^/]+/?$"), "GetHostedZone"),
    ("GET", re.compile(r"/change/[^/]+/?$"), "GetChange"),
)


@dataclass(frozen=True)
class AwsCall:
    service: str  # the signing name: route53, dynamodb, lambda, ...
    operation: str
    origin: str  # bench | certbot | dns-server | sandbox (our handlers and the Step Functions interpreter)


class MotoRecorder:
    """moto's request recorder, switched on and read through its /moto-api/recorder/ endpoints."""

    def __init__(self, sandbox: BenchSandbox) -> None:
        self._base = f"{sandbox.endpoint_url}/moto-api/recorder"
        self._path = sandbox.recording_path

    def start(self) -> None:
        self._post("reset-recording")
        self._post("start-recording")

    def reset(self) -> None:
        self._post("reset-recording")

    def stop(self) -> None:
        self._post("stop-recording")

    def calls(self) -> list[AwsCall]:
        """Every call recorded since the last reset (the recording is a file the sandbox appends to)."""
        if not self._path.exists():
            return []
        return [classify(json.loads(line)) for line in self._path.read_text().splitlines() if line.strip()]

    def _post(self, action: str) -> None:
        requests.post(f"{self._base}/{action}", timeout=10).raise_for_status()


def classify(entry: dict[str, object]) -> AwsCall:
    headers = {str(k).lower(): str(v) for k, v in dict(entry.get("headers") or {}).items()}  # type: ignore[call-overload]
    match = _SERVICE.search(headers.get("authorization", ""))
    service = match.group(1) if match else "unsigned"
    method, url = str(entry.get("method", "")), str(entry.get("url", ""))
    operation = _operation(service, method, url, headers, _body_text(entry))
    user_agent = headers.get("user-agent", "")
    if f"app/{BENCH_APP_ID}" in user_agent:
        origin = "bench"
    elif f"app/{CERTBOT_APP_ID}" in user_agent:
        origin = "certbot"
    elif service == "route53" and "PT/" not in user_agent:
        origin = "dns-server"
    else:
        origin = "sandbox"
    return AwsCall(service, operation, origin)


def _body_text(entry: dict[str, object]) -> str:
    body = str(entry.get("body") or "")
    if not entry.get("body_encoded"):
        return body
    try:
        return base64.b64decode(body).decode(errors="replace")
    except (binascii.Error, ValueError):
        return ""


def _operation(service: str, method: str, url: str, headers: dict[str, str], body: str) -> str:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    path = unquote(urlparse(url).path)
    if service == "route53":
        for wanted_method, pattern, name in _ROUTE53_OPERATIONS:
            if method == wanted_method and pattern.search(path):
                return name
    if service == "lambda" and path.endswith("/invocations"):
        return "Invoke"
    action = parse_qs(body).get("Action") or parse_qs(urlparse(url).query).get("Action")
    if action:
        return action[0]
    return f"{method} {path}"


def count_by(calls: list[AwsCall], origin: str, service: str | None = None) -> Counter[str]:
    """Calls of one origin, by service (or by operation when `service` is given)."""
    chosen = [call for call in calls if call.origin == origin and (service is None or call.service == service)]
    return Counter(call.operation if service else call.service for call in chosen)
