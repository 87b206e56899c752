"""What our events and notifications say: the documented schema, the CA's problem, the remedy, no key material."""

from __future__ import annotations

import json

import jsonschema
import pytest

from certlib.adapters.sns import MAX_SUBJECT_CHARACTERS
from certlib.notifications.events import (
    DISTRIBUTION_FAILED,
    ISSUANCE_FAILED,
    ISSUED,
    RENEWAL_FAILED,
    RENEWED,
    REVOKED,
    distribution_failed_event,
    failure_event,
    issued_event,
    revoked_event,
)
from certlib.notifications.problems import problem_type_of, safe_text
from certlib.notifications.remedies import remedy_for
from tests.operations.schema import validate_event

EXECUTION = "arn:aws:states:eu-west-1:111122223333:execution:acme-certs-certificate-lifecycle:web-1"
ARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0d7e1c6e-0000-4000-8000-000000000001"
REQUEST = {
    "name": "web",
    "domains": ["www.example.com", "*.example.com"],
    "account": "sectigo-ov",
    "key_type": "ec256",
    "regions": ["eu-west-1"],
    "execution_id": EXECUTION,
    "renewal": False,
}
RESULT = {
    "serial": "4f2a9c",
    "not_before": "2026-11-26T10:00:00Z",
    "not_after": "2027-02-24T10:00:00Z",
    "issuer": "CN=Example Issuing CA",
    "certificate_arns": {"eu-west-1": ARN},
    "renew_after": "2027-01-25T10:00:00Z",
    "renew_reason": "renew_before_days",
}
CHALLENGE_FAILURE = {
    "error": "ChallengeInvalid",
    "step": "check_order",
    "message": (
        "check_order: the CA could not validate www.example.com: unauthorized: Incorrect TXT record "
        '"abc" found at _acme-challenge.www.example.com'
    ),
    "problem": "unauthorized",
}
# Built at run time so that no file in the repo holds a PEM key marker (a fake, truncated key).
PEM_KEY = "-----BEGIN EC " + "PRIVATE KEY-----\nMHcCAQEEIBaaaa\n-----END EC " + "PRIVATE KEY-----"


def test_issued_and_renewed_events_match_the_documented_schema() -> None:
    # Given a first issuance and a renewal of the same certificate
    first = issued_event("acme-certs", REQUEST, RESULT, 42.5)
    renewal = issued_event("acme-certs", {**REQUEST, "renewal": True}, RESULT, None)

    # When / Then each is its detail type, valid against docs/event-schema.json, and not sent to people
    assert (first.detail_type, renewal.detail_type) == (ISSUED, RENEWED)
    for event in (first, renewal):
        validate_event(event.detail_type, event.detail)
        assert not event.notified
        assert event.resources == (ARN,)
    assert first.detail["duration_seconds"] == 42.5
    assert first.detail["certificate_arns"] == {"eu-west-1": ARN}


def test_a_failure_names_the_certificate_the_step_the_problem_and_what_to_do() -> None:
    # Given a renewal that failed because the CA saw the wrong TXT value, with a certificate still in ACM
    current = {"serial": "0a1b", "not_after": "2027-01-01T00:00:00Z", "certificate_arns": {"eu-west-1": ARN}}

    # When its event is built
    event = failure_event("acme-certs", REQUEST, CHALLENGE_FAILURE, True, EXECUTION, current=current)

    # Then the detail is valid and says what happened and what to do
    validate_event(event.detail_type, event.detail)
    assert event.detail_type == RENEWAL_FAILED
    assert event.notified
    detail = event.detail
    assert (detail["operation"], detail["step"], detail["error"], detail["problem_type"]) == (
        "renew",
        "check_order",
        "ChallengeInvalid",
        "unauthorized",
    )
    assert "_acme-challenge.www.example.com" in detail["remedy"]
    assert "_acme-challenge.example.com" in detail["remedy"]  # the wildcard's record
    assert detail["current_serial"] == "0a1b"
    # And the SNS message is readable: a subject naming the certificate, a body with step, problem and remedy
    assert event.subject == "Certificate web: renewal failed (ChallengeInvalid)"
    assert len(event.subject) <= MAX_SUBJECT_CHARACTERS
    for text in ("'web'", "check_order", "ChallengeInvalid", "unauthorized", "What to do:", detail["remedy"]):
        assert text in event.body
    assert "states/home?region=eu-west-1" in event.body
    assert "stays valid until 2027-01-01T00:00:00Z" in event.body


def test_a_first_issuance_failure_is_an_issuance_failed_event_with_operation_issue() -> None:
    # Given / When a first issuance fails before any certificate exists
    event = failure_event("acme-certs", REQUEST, CHALLENGE_FAILURE, False, EXECUTION)

    # Then it is its own detail type, with the same detail: operation "issue" and nothing in ACM yet
    validate_event(event.detail_type, event.detail)
    assert event.detail_type == ISSUANCE_FAILED
    assert event.notified
    assert event.subject == "Certificate web: issuance failed (ChallengeInvalid)"
    assert event.detail["operation"] == "issue"
    assert event.detail["current_not_after"] is None
    assert "could not be issued" in event.body
    assert "No certificate of this name is in ACM yet." in event.body


def test_key_material_in_an_error_message_never_reaches_an_event() -> None:
    # Given a failure whose message (wrongly) carries a PEM private key
    failure = {"error": "AwsError", "step": "store_certificate", "message": f"store_certificate: bad {PEM_KEY} x"}

    # When its event is built
    event = failure_event("acme-certs", REQUEST, failure, False, EXECUTION)

    # Then neither the detail nor the e-mail holds the key, and the schema (which forbids it) accepts the detail
    assert "PRIVATE KEY" not in json.dumps(event.detail)
    assert "PRIVATE KEY" not in event.body
    assert "[PEM block removed]" in event.detail["message"]
    validate_event(event.detail_type, event.detail)


def test_the_schema_refuses_key_material_and_unknown_fields() -> None:
    # Given a valid failure detail
    detail = failure_event("acme-certs", REQUEST, CHALLENGE_FAILURE, False, EXECUTION).detail

    validate_event(ISSUANCE_FAILED, detail)

    # When / Then a private key in a text field, or a field the schema does not document, is refused
    with pytest.raises(jsonschema.ValidationError):
        validate_event(ISSUANCE_FAILED, {**detail, "message": PEM_KEY})
    with pytest.raises(jsonschema.ValidationError):
        validate_event(ISSUANCE_FAILED, {**detail, "private_key": "x"})
    # And so is a failure whose detail type and operation disagree
    with pytest.raises(jsonschema.ValidationError):
        validate_event(RENEWAL_FAILED, detail)


def test_revoked_and_distribution_failed_events_match_the_schema() -> None:
    # Given an inventory item
    item = {**REQUEST, "serial": "4f2a9c", "certificate_arns": {"eu-west-1": ARN}}

    # When the lead's revocation and the SSM distribution announce their outcomes
    revoked = revoked_event("acme-certs", item, "4f2a9c", "keyCompromise", replacement_execution=EXECUTION)
    undistributed = distribution_failed_event(
        "acme-certs",
        item,
        {"error": "CommandFailed", "step": "check_distribution", "message": "2 of 3 failed"},
        ["i-0abc", "i-0def"],
        EXECUTION,
    )

    # Then both are valid, go to the topic too, and say what they are about
    for event, detail_type in ((revoked, REVOKED), (undistributed, DISTRIBUTION_FAILED)):
        assert event.detail_type == detail_type
        validate_event(event.detail_type, event.detail)
        assert event.notified
        assert "web" in event.subject
    assert "keyCompromise" in revoked.body
    assert "i-0abc" in undistributed.body


def test_the_same_outcome_of_the_same_execution_has_the_same_event_id() -> None:
    # Given / When the same failure is built twice (a retried step), and another execution's
    first = failure_event("acme-certs", REQUEST, CHALLENGE_FAILURE, False, EXECUTION)
    again = failure_event("acme-certs", REQUEST, CHALLENGE_FAILURE, False, EXECUTION)
    other = failure_event("acme-certs", REQUEST, CHALLENGE_FAILURE, False, EXECUTION + "-2")

    # Then consumers can drop the duplicate by event_id
    assert first.detail["event_id"] == again.detail["event_id"] != other.detail["event_id"]


@pytest.mark.parametrize(
    ("error", "message", "expected"),
    [
        (
            "ChallengeInvalid",
            "check_order: the CA could not validate a.example.com: unauthorized: wrong TXT",
            "unauthorized",
        ),
        ("ChallengeInvalid", "check_order: the CA could not validate a.example.com: dns: SERVFAIL", "dns"),
        ("AcmeProblem", "create_order: creating the order: rejectedIdentifier: policy forbids", "rejectedIdentifier"),
        ("OrderInvalid", "store_certificate: orderInvalid: the order is invalid", "orderInvalid"),
        ("AcmeRateLimited", "create_order: the CA rate-limited this request: too many", "rateLimited"),
        ("TransientError", "create_order: the CA answered 503 serverInternal: down", None),
        ("AcmeProblem", "create_order: something without a type", None),
    ],
)
def test_the_cas_problem_type_is_read_from_our_error(error: str, message: str, expected: str | None) -> None:
    # Given / When / Then
    assert problem_type_of(error, message) == expected


@pytest.mark.parametrize(
    ("error", "problem", "says"),
    [
        ("ChallengeInvalid", "unauthorized", "_acme-challenge.www.example.com"),
        ("ChallengeInvalid", "caa", "CAA"),
        ("AccountSecretMissing", None, "certctl accounts push"),
        ("AcmeRateLimited", "rateLimited", "ARI"),
        ("InvalidRequest", None, "fix the input"),
        ("ZoneNotFound", None, "hosted-zones"),
        ("CertificateLocked", None, "certctl status --name web"),
        ("ImportRefused", None, "key type"),
        ("TransientError", None, "every retry"),
        ("States.Timeout", None, "ran out of time"),
        ("SomethingNew", None, "docs/operations.md"),
    ],
)
def test_every_error_has_a_remedy_with_the_certificates_names(error: str, problem: str | None, says: str) -> None:
    # Given / When the remedy of an error for certificate "web"
    remedy = remedy_for(error, problem, "web", ["www.example.com"])

    # Then it says what to do, and no placeholder is left in it
    assert says in remedy
    assert "{" not in remedy


def test_safe_text_keeps_short_text_and_cuts_long_text() -> None:
    # Given / When / Then
    assert safe_text("plain") == "plain"
    cut = safe_text("x" * 5000)
    assert len(cut) == 2000
    assert cut.endswith("...")


def test_the_remedy_names_the_record_the_ca_could_not_validate_first() -> None:
    # Given a failure on the second name of a certificate
    message = "check_order: the CA could not validate api.example.com: unauthorized: wrong value"

    # When / Then the `dig` the remedy suggests is for that name
    remedy = remedy_for("ChallengeInvalid", "unauthorized", "web", ["www.example.com", "api.example.com"], message)
    assert "`dig TXT _acme-challenge.api.example.com`" in remedy
