"""A CA for the ACME adapter's unit tests: answers each URL from a script, and keeps what was sent (the transport
AcmeSession takes, so the library's real client and network run over it)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import BaseAdapter

CA = "https://ca.example"
DIRECTORY = {"newNonce": f"{CA}/nonce", "newAccount": f"{CA}/account", "newOrder": f"{CA}/order"}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None  # JSON, or a str sent as it is (a PEM)
    headers: Mapping[str, str] | None = None


def problem(problem_type: str, status: int = 400) -> Answer:
    body = {"type": f"urn:ietf:params:acme:error:{problem_type}", "detail": f"{problem_type} (scripted)"}
    return Answer(status, body, {"Content-Type": "application/problem+json"})


class ScriptedCA(BaseAdapter):  # type: ignore[misc]
    """Each URL's answers in turn (the last one again once they run out); the directory and nonces always."""

    def __init__(self, script: Mapping[str, list[Answer]]) -> None:
        super().__init__()
        self.script = {f"{CA}/directory": [Answer(body=DIRECTORY)], f"{CA}/nonce": [Answer()], **script}
        # (method, URL, JWS payload): the payload is None for a GET or HEAD, "" for a POST-as-GET
        self.sent: list[tuple[str, str, Any]] = []

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        url = str(request.url)
        self.sent.append((str(request.method), url, _payload(request)))
        answers = self.script.get(url) or [problem("malformed", 404)]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        response = requests.Response()
        response.status_code, response.request, response.url = answer.status, request, url
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        response.headers.update({"Replay-Nonce": nonce})
        if isinstance(answer.body, str):
            response._content = answer.body.encode()
        elif answer.body is not None:
            response.headers["Content-Type"] = "application/json"
            response._content = json.dumps(answer.body).encode()
        else:
            response._content = b""
        response.headers.update(answer.headers or {})
        return response

    def close(self) -> None:
        pass

    def posts_to(self, url: str) -> list[Any]:
        return [payload for method, sent_to, payload in self.sent if method == "POST" and sent_to == url]


def _payload(request: requests.PreparedRequest) -> Any:
    if request.method != "POST" or not request.body:
        return None
    encoded = json.loads(request.body)["payload"]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))) if encoded else ""
