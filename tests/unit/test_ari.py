"""ARI (RFC 9773) against recorded CA responses: window, Retry-After, `replaces`, and the fallback without ARI."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from certlib.adapters.acme_client import (
    DEFAULT_ARI_RETRY_AFTER_SECONDS,
    AcmeSession,
    ari_certificate_id,
    generate_account_key,
)
from certlib.keys import generate_private_key
from certlib.lifecycle.certificate import _renewal_plan
from certlib.renewal.timing import MAX_JITTER
from tests.unit.acme_ca import CA, DIRECTORY, Answer, ScriptedCA

CERTIFICATE_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"  # of issued_certificate(), RFC 9773 4.1
# RFC 9773 section 4.2's example answer, as a CA sends it.
RECORDED_RENEWAL_INFO = {
    "suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-03T04:00:00Z"},
    "explanationURL": "https://acme.example.com/docs/ari",
}


def recorded_ca(with_ari: bool, retry_after: str | None = "21600") -> ScriptedCA:
    """A CA answering with recorded responses: its directory (with or without ARI), RFC 9773's renewal information
    for CERTIFICATE_ID, and a new order."""
    directory = {**DIRECTORY, "renewalInfo": f"{CA}/renewal-info"} if with_ari else DIRECTORY
    order = {"status": "pending", "identifiers": [], "authorizations": [], "finalize": f"{CA}/finalize/1"}
    return ScriptedCA(
        {
            f"{CA}/directory": [Answer(body=directory)],
            f"{CA}/renewal-info/{CERTIFICATE_ID}": [
                Answer(body=RECORDED_RENEWAL_INFO, headers={"Retry-After": retry_after} if retry_after else {})
            ],
            f"{CA}/order": [Answer(201, order, {"Location": f"{CA}/order/1"})],
        }
    )


def session_with(ca: ScriptedCA) -> AcmeSession:
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
    ca = recorded_ca(with_ari=True)
    # When the renewal information of a certificate is read
    info = session_with(ca).renewal_info(issued_certificate())
    # Then the window and Retry-After are the CA's, and the suggested time is inside the window
    assert info is not None
    assert info.window_start == dt.datetime(2025, 1, 2, 4, tzinfo=dt.UTC)
    assert info.window_end == dt.datetime(2025, 1, 3, 4, tzinfo=dt.UTC)
    assert info.window_start <= info.suggested_time <= info.window_end
    assert info.retry_after_seconds == 21600
    assert info.explanation_url == "https://acme.example.com/docs/ari"
    assert any(url.endswith(f"/renewal-info/{CERTIFICATE_ID}") for _, url, _ in ca.sent)


def test_retry_after_defaults_to_six_hours() -> None:
    info = session_with(recorded_ca(with_ari=True, retry_after=None)).renewal_info(issued_certificate())
    assert info is not None
    assert info.retry_after_seconds == DEFAULT_ARI_RETRY_AFTER_SECONDS == 6 * 3600


def test_renewal_order_carries_replaces_when_the_ca_offers_ari() -> None:
    ca = recorded_ca(with_ari=True)
    session_with(ca).new_order(["www.example.test"], replaces=CERTIFICATE_ID)
    [payload] = ca.posts_to(f"{CA}/order")
    assert payload["replaces"] == CERTIFICATE_ID
    assert payload["identifiers"] == [{"type": "dns", "value": "www.example.test"}]


def test_without_ari_there_is_no_renewal_info_and_no_replaces() -> None:
    ca = recorded_ca(with_ari=False)
    session = session_with(ca)
    assert session.renewal_info(issued_certificate()) is None
    session.new_order(["www.example.test"], replaces=CERTIFICATE_ID)
    [payload] = ca.posts_to(f"{CA}/order")
    assert "replaces" not in payload


def test_the_issuance_plans_its_renewal_from_the_cas_window() -> None:
    # Given a 90-day certificate and a CA whose window (the RFC's, January 2025) starts before 30 days before expiry
    certificate = issued_certificate()
    # When the issuance plans the renewal, with and without ARI
    with_ari = _renewal_plan(certificate, None, session_with(recorded_ca(with_ari=True)))
    without = _renewal_plan(certificate, None, session_with(recorded_ca(with_ari=False)))
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
    ca = recorded_ca(with_ari=True)
    # When the revocation check asks by the certificate ID kept on the inventory item
    info = session_with(ca).renewal_info_by_id(CERTIFICATE_ID)
    # Then it sees a window that has already started
    assert info is not None
    assert info.window_start <= dt.datetime.now(dt.UTC)
    assert ca.sent[-1][1] == f"{CA}/renewal-info/{CERTIFICATE_ID}"
    assert session_with(recorded_ca(with_ari=False)).renewal_info_by_id(CERTIFICATE_ID) is None
