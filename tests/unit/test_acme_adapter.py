"""The ACME adapter over the library's real client, against a scripted CA: badNonce sent again (bounded), the state's
order and challenges kept as the library's own JSON and read back, a challenge answered once, finalization on the
order as the state knows it."""

from __future__ import annotations

import json

import pytest
from josepy import b64

from certlib.adapters.acme_client import (
    BAD_NONCE_ATTEMPTS,
    AcmeSession,
    Challenge,
    generate_account_key,
    order_from_dict,
    order_status,
    order_to_dict,
)
from certlib.exceptions import AcmeUnavailable
from certlib.keys import csr_pem, generate_private_key
from tests.unit.acme_ca import CA, Answer, ScriptedCA, problem

DOMAIN = "www.example.test"
ORDER_URL, AUTHORIZATION_URL, CHALLENGE_URL = f"{CA}/order/1", f"{CA}/authz/1", f"{CA}/chall/1"
FINALIZE_URL = f"{CA}/finalize/1"
TOKEN = b64.b64encode(b"t" * 32).decode()
ORDER = {
    "status": "pending",
    "identifiers": [{"type": "dns", "value": DOMAIN}],
    "authorizations": [AUTHORIZATION_URL],
    "finalize": FINALIZE_URL,
}
CREATED = Answer(201, ORDER, {"Location": ORDER_URL})
UP = {"Link": f'<{AUTHORIZATION_URL}>;rel="up"'}


def authorization(challenge_status: str) -> Answer:
    challenge = {"type": "dns-01", "url": CHALLENGE_URL, "status": challenge_status, "token": TOKEN}
    status = "pending" if challenge_status in ("pending", "processing") else challenge_status
    return Answer(body={"status": status, "identifier": {"type": "dns", "value": DOMAIN}, "challenges": [challenge]})


def session_with(ca: ScriptedCA) -> AcmeSession:
    return AcmeSession(f"{CA}/directory", generate_account_key(), account_url=f"{CA}/account/1", transport=ca)


def test_a_bad_nonce_is_sent_again_until_the_attempts_are_spent() -> None:
    # Given a CA that rejects the nonce of every newOrder but the last one allowed
    ca = ScriptedCA({f"{CA}/order": [problem("badNonce")] * (BAD_NONCE_ATTEMPTS - 1) + [CREATED]})
    # When an order is created
    order = session_with(ca).new_order([DOMAIN])
    # Then it was sent BAD_NONCE_ATTEMPTS times, and the order is the CA's
    assert len(ca.posts_to(f"{CA}/order")) == BAD_NONCE_ATTEMPTS
    assert (order.uri, order_status(order)) == (ORDER_URL, "pending")


def test_a_nonce_rejected_every_time_is_transient_after_the_attempts() -> None:
    ca = ScriptedCA({f"{CA}/order": [problem("badNonce")]})
    with pytest.raises(AcmeUnavailable):
        session_with(ca).new_order([DOMAIN])
    assert len(ca.posts_to(f"{CA}/order")) == BAD_NONCE_ATTEMPTS


def test_the_state_keeps_urls_and_the_librarys_challenge_json_and_the_answer_is_one_post() -> None:
    # Given an order with one pending dns-01 challenge, as CreateOrder puts it into the state (through JSON)
    ca = ScriptedCA(
        {
            f"{CA}/order": [CREATED],
            AUTHORIZATION_URL: [authorization("pending")],
            CHALLENGE_URL: [Answer(body={**authorization("processing").body["challenges"][0]}, headers=UP)],
        }
    )
    session = session_with(ca)
    order = session.new_order([DOMAIN])
    [challenge] = session.pending_challenges(order)
    state = json.loads(json.dumps({"order": {**order_to_dict(order), "challenges": [challenge.to_dict()]}}))
    # Then the order is its URLs only, the challenge its library JSON, its record and public TXT value
    assert state["order"] == {
        "url": ORDER_URL,
        "finalize_url": FINALIZE_URL,
        "challenges": [
            {
                "domain": DOMAIN,
                "authorization_url": AUTHORIZATION_URL,
                "challenge": {"type": "dns-01", "url": CHALLENGE_URL, "status": "pending", "token": TOKEN},
                "record_name": f"_acme-challenge.{DOMAIN}",
                "value": challenge.value,
            }
        ],
    }
    # When AnswerChallenges answers it from the state
    answered = session.answer(Challenge.from_dict(state["order"]["challenges"][0]))
    # Then that was one POST of `{}` to the challenge, and nothing was read
    assert answered == "processing"
    assert ca.posts_to(CHALLENGE_URL) == [{}]
    assert ca.posts_to(AUTHORIZATION_URL) == [""]  # CreateOrder's one read


def test_an_answer_the_ca_refuses_for_a_challenge_validated_already_reads_its_status() -> None:
    # Given a retried AnswerChallenges: the CA refuses to answer a challenge that is valid now
    ca = ScriptedCA(
        {
            f"{CA}/order": [CREATED],
            AUTHORIZATION_URL: [authorization("pending"), authorization("valid")],
            CHALLENGE_URL: [problem("malformed")],
        }
    )
    session = session_with(ca)
    [challenge] = session.pending_challenges(session.new_order([DOMAIN]))
    # When it answers, then the challenge's status is read through its authorization, and the refusal is not an error
    assert session.answer(challenge) == "valid"
    assert ca.posts_to(AUTHORIZATION_URL) == ["", ""]


def test_finalize_posts_the_csr_to_the_order_the_state_knows_without_reading_it() -> None:
    # Given the order as the state keeps it
    ready = {**ORDER, "status": "processing"}
    ca = ScriptedCA({FINALIZE_URL: [Answer(body=ready, headers={"Location": ORDER_URL})]})
    order = order_from_dict({"url": ORDER_URL, "finalize_url": FINALIZE_URL})
    # When it is finalized
    finalized = session_with(ca).finalize(order, csr_pem(generate_private_key("ec256"), [DOMAIN]))
    # Then the CSR went to its finalize URL, in one request, and the answer is the CA's order
    [payload] = ca.posts_to(FINALIZE_URL)
    assert set(payload) == {"csr"}
    assert (finalized.uri, order_status(finalized)) == (ORDER_URL, "processing")
    assert not ca.posts_to(ORDER_URL)
