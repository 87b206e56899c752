"""An OCSP responder (RFC 6960) for the certificates Pebble issues, answering from Pebble's management API.

Pebble 2.4 puts an OCSP URL in its certificates when its config names one, but answers no OCSP itself. This
responder looks each serial up at `/cert-status-by-serial/<hex>` and signs the answer with Pebble's intermediate
key (`/intermediate-keys/0`): the issuer answers for its own certificates, as a CA's responder may. It listens
on 127.0.0.1 only. The key is held in memory and never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp

LOG = logging.getLogger(__name__)
NEXT_UPDATE = dt.timedelta(hours=1)
REASONS = {  # Pebble's numeric RFC 5280 reason codes
    0: x509.ReasonFlags.unspecified,
    1: x509.ReasonFlags.key_compromise,
    3: x509.ReasonFlags.affiliation_changed,
    4: x509.ReasonFlags.superseded,
    5: x509.ReasonFlags.cessation_of_operation,
}


class _Issuer:
    """Pebble's intermediate and its key, fetched once from the management API."""

    def __init__(self, management_url: str, ca_bundle: str) -> None:
        self.management_url = management_url
        self.ca_bundle = ca_bundle
        self.certificate = x509.load_pem_x509_certificate(self._get("/intermediates/0"))
        key = serialization.load_pem_private_key(self._get("/intermediate-keys/0"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(f"unexpected intermediate key type {type(key).__name__}")
        self.key = key

    def _get(self, path: str) -> bytes:
        response = requests.get(f"{self.management_url}{path}", verify=self.ca_bundle, timeout=10)
        response.raise_for_status()
        return response.content

    def status(self, serial: int) -> dict[str, Any] | None:
        response = requests.get(
            f"{self.management_url}/cert-status-by-serial/{serial:x}", verify=self.ca_bundle, timeout=10
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return dict(response.json())


class OcspResponder:
    """Bind first (Pebble's config needs the URL), `attach` Pebble once it runs, then `start`."""

    def __init__(self) -> None:
        self._issuer: _Issuer | None = None
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self._reply(responder.answer(self.rfile.read(length)))

            def do_GET(self) -> None:
                encoded = unquote(self.path.lstrip("/"))
                self._reply(responder.answer(base64.b64decode(encoded + "=" * (-len(encoded) % 4))))

            def _reply(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                LOG.info("ocsp: " + format, *args)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ocsp-responder", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def attach(self, management_url: str, ca_bundle: str) -> None:
        self._issuer = _Issuer(management_url, ca_bundle)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request_der: bytes) -> bytes:
        """The DER OCSP response for a DER OCSP request (unauthorized/malformed answers when it cannot tell)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER
            )
        issuer = self._issuer
        status = issuer.status(request.serial_number) if issuer is not None else None
        if issuer is None or status is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            )
        certificate = x509.load_pem_x509_certificate(str(status["Certificate"]).encode())
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = str(status.get("Status", "")).lower() == "revoked"
        revoked_at = _parse_time(status.get("RevokedAt")) if revoked else None
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=certificate,
            issuer=issuer.certificate,
            algorithm=hashes.SHA1(),  # noqa: S303 - RFC 6960's CertID hash, what clients send
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=now + NEXT_UPDATE,
            revocation_time=(revoked_at or now) if revoked else None,
            revocation_reason=REASONS.get(int(status.get("Reason") or 0)) if revoked else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate)
        return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None).replace(tzinfo=dt.UTC)
