"""ARI (RFC 9773) against recorded CA responses: window, Retry-After, `replaces`, and the fallback without ARI."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from requests.adapters import BaseAdapter

from certlib.adapters.acme_client import (
    DEFAULT_ARI_RETRY_AFTER_SECONDS,
    AcmeSession,
    ari_certificate_id,
    generate_account_key,
)
from certlib.keys import generate_private_key
from certlib.lifecycle.certificate import _renewal_plan
from certlib.renewal.timing import MAX_JITTER

CA = "https://ca.example"
# RFC 9773 section 4.2's example answer, as a CA sends it.
RECORDED_RENEWAL_INFO = {
    "suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-03T04:00:00Z"},
    "explanationURL": "https://acme.example.com/docs/ari",
}


class RecordedCA(BaseAdapter):  # type: ignore[misc]
    """Answers the ACME requests of these tests from recorded responses, and keeps what was sent."""

    def __init__(self, with_ari: bool, retry_after: str | None = "21600") -> None:
        super().__init__()
        self.with_ari = with_ari
        self.retry_after = retry_after
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        url = str(request.url)
        if url == f"{CA}/directory":
            directory = {"newNonce": f"{CA}/nonce", "newAccount": f"{CA}/account", "newOrder": f"{CA}/order"}
            if self.with_ari:
                directory["renewalInfo"] = f"{CA}/renewal-info"
            return self._answer(request, 200, directory)
        if url.startswith(f"{CA}/renewal-info/"):
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return self._answer(request, 200, RECORDED_RENEWAL_INFO, headers)
        if url == f"{CA}/nonce":
            return self._answer(request, 200, None)
        if url == f"{CA}/order":
            order = {"status": "pending", "identifiers": [], "authorizations": [], "finalize": f"{CA}/finalize/1"}
            return self._answer(request, 201, order, {"Location": f"{CA}/order/1"})
        return self._answer(request, 404, {"type": "urn:ietf:params:acme:error:malformed", "detail": url})

    def _answer(
        self, request: requests.PreparedRequest, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = str(request.url)
        response.headers.update({"Replay-Nonce": base64.urlsafe_b64encode(random.randbytes(16)).decode().rstrip("=")})
        response.headers.update(headers or {})
        if body is not None:
            response.headers["Content-Type"] = "application/json"
            response._content = json.dumps(body).encode()
        else:
            response._content = b""
        return response

    def close(self) -> None:
        pass

    def posted_payloads(self, url: str) -> list[dict[str, Any]]:
        payloads = []
        for request in self.sent:
            if request.method == "POST" and request.url == url:
                jws = json.loads(request.body or b"{}")
                padded = jws["payload"] + "=" * (-len(jws["payload"]) % 4)
                payloads.append(json.loads(base64.urlsafe_b64decode(padded)))
        return payloads


def session_with(ca: RecordedCA) -> AcmeSession:
    return AcmeSession(f"{CA}/directory", generate_account_key(), account_url=f"{CA}/account/1", transport=ca)


def issued_certificate(serial: int = 0x0087654321) -> x509.Certificate:
    key = generate_private_key("ec256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.test")])
    now = dt.datetime.now(dt.UTC)
    key_identifier = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.AuthorityKeyIdentifier(
                key_identifier=key_identifier, authority_cert_issuer=None, authority_cert_serial_number=None
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )


def test_certificate_id_matches_rfc_9773_example() -> None:
    # RFC 9773 4.1: keyIdentifier 69:88:5B:..:D4 and serial 00:87:65:43:21
    assert ari_certificate_id(issued_certificate()) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


def test_window_is_parsed_and_the_suggested_time_falls_inside_it() -> None:
    # Given a CA that offers ARI and answers with the RFC's example
    ca = RecordedCA(with_ari=True)
    # When the renewal information of a certificate is read
    info = session_with(ca).renewal_info(issued_certificate())
    # Then the window and Retry-After are the CA's, and the suggested time is inside the window
    assert info is not None
    assert info.window_start == dt.datetime(2025, 1, 2, 4, tzinfo=dt.UTC)
    assert info.window_end == dt.datetime(2025, 1, 3, 4, tzinfo=dt.UTC)
    assert info.window_start <= info.suggested_time <= info.window_end
    assert info.retry_after_seconds == 21600
    assert info.explanation_url == "https://acme.example.com/docs/ari"
    assert any(str(r.url).endswith("/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE") for r in ca.sent)


def test_retry_after_defaults_to_six_hours() -> None:
    info = session_with(RecordedCA(with_ari=True, retry_after=None)).renewal_info(issued_certificate())
    assert info is not None
    assert info.retry_after_seconds == DEFAULT_ARI_RETRY_AFTER_SECONDS == 6 * 3600


def test_renewal_order_carries_replaces_when_the_ca_offers_ari() -> None:
    ca = RecordedCA(with_ari=True)
    session_with(ca).new_order(["www.example.test"], replaces="aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    [payload] = ca.posted_payloads(f"{CA}/order")
    assert payload["replaces"] == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    assert payload["identifiers"] == [{"type": "dns", "value": "www.example.test"}]


def test_without_ari_there_is_no_renewal_info_and_no_replaces() -> None:
    ca = RecordedCA(with_ari=False)
    session = session_with(ca)
    assert session.renewal_info(issued_certificate()) is None
    session.new_order(["www.example.test"], replaces="aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    [payload] = ca.posted_payloads(f"{CA}/order")
    assert "replaces" not in payload


def test_the_issuance_plans_its_renewal_from_the_cas_window() -> None:
    # Given a 90-day certificate and a CA whose window (the RFC's, January 2025) starts before 30 days before expiry
    certificate = issued_certificate()
    # When the issuance plans the renewal, with and without ARI
    with_ari = _renewal_plan(certificate, None, session_with(RecordedCA(with_ari=True)))
    without = _renewal_plan(certificate, None, session_with(RecordedCA(with_ari=False)))
    # Then the CA's window brings it forward; without ARI it is 30 days before expiry (the default)
    assert with_ari.reason == "ari"
    assert (
        dt.datetime(2025, 1, 2, 4, tzinfo=dt.UTC) <= with_ari.renew_after <= dt.datetime(2025, 1, 3, 4, tzinfo=dt.UTC)
    )
    assert without.reason == "default_renew_before_days"
    thirty_days_before = certificate.not_valid_after_utc - dt.timedelta(days=30)
    assert thirty_days_before - MAX_JITTER <= without.renew_after <= thirty_days_before


def test_a_window_moved_into_the_past_is_read_by_certificate_id() -> None:
    # Given the CA's recorded answer, whose window (January 2025) is in the past: the CA asks for renewal now
    ca = RecordedCA(with_ari=True)
    # When the revocation check asks by the certificate ID kept on the inventory item
    info = session_with(ca).renewal_info_by_id("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    # Then it sees a window that has already started
    assert info is not None
    assert info.window_start <= dt.datetime.now(dt.UTC)
    assert str(ca.sent[-1].url) == f"{CA}/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    assert session_with(RecordedCA(with_ari=False)).renewal_info_by_id("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE") is None
