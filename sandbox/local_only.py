"""The sandbox's AWS endpoint answers this machine's programs only, never a web page.

moto answers every origin (it sends `Access-Control-Allow-Origin: *` and answers CORS preflights), so any page open in
the developer's browser could drive the sandbox (issue, run Run Command on the simulated nodes, read secrets), and a
DNS-rebinding page could reach it by a name that resolves to 127.0.0.1. `LocalOnly` refuses, before moto sees them:
a request that carries an `Origin` header (browsers send one with every cross-origin request; SDKs and the AWS CLI
never do), a CORS preflight (OPTIONS), and a request whose Host is not a loopback name. It also drops moto's
`Access-Control-*` response headers, so a browser lets no page read an answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

LOG = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LocalOnly:
    """WSGI layer in front of the sandbox's moto (see the module's docstring)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refusal = refusal_of(environ)
        if refusal is not None:
            LOG.warning("refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), refusal)
            body = json.dumps({"__type": "Sandbox.LocalOnly", "message": refusal}).encode()
            start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        def without_cors(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
            return start_response(status, kept, *rest)

        return self.app(environ, without_cors)


def refusal_of(environ: dict[str, Any]) -> str | None:
    """Why the request is refused, or None."""
    if environ.get("HTTP_ORIGIN"):
        return f"cross-origin request from {environ['HTTP_ORIGIN']!r}: the sandbox answers local programs only"
    if environ.get("REQUEST_METHOD") == "OPTIONS":
        return "CORS preflight: the sandbox answers local programs only"
    host = str(environ.get("HTTP_HOST") or "")
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", 1)[0] + "]"
    if name.lower() not in LOOPBACK_HOSTS:
        return f"Host {host!r} is not this machine's loopback: the sandbox answers 127.0.0.1 and localhost only"
    return None
