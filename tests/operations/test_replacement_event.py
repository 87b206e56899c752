"""`Certificate Replacement Accepted`: what an accepted `"replace": true` announces, on the bus and to people."""

from __future__ import annotations

from certlib.notifications.events import NOTIFIED, REPLACEMENT_ACCEPTED, replacement_event
from tests.operations.schema import validate_event

EXECUTION = "arn:aws:states:eu-west-1:111122223333:execution:acme-certs-certificate-lifecycle:web-1"
ARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0d7e1c6e-0000-4000-8000-000000000001"
CURRENT = {
    "name": "web",
    "domains": ["www.example.com", "*.example.com"],
    "account": "letsencrypt",
    "key_type": "ec256",
    "serial": "4f2a9c",
    "certificate_arns": {"eu-west-1": ARN},
}
REQUEST = {
    "name": "web",
    "domains": ["www.example.com", "shop.example.com"],
    "account": "sectigo-ov",
    "key_type": "ec256",
    "regions": ["eu-west-1"],
}


def test_a_replacement_names_the_certificate_and_the_old_and_new_domains_and_account() -> None:
    # Given a certificate in ACM whose domains and account a request with "replace": true changes
    # When its event is built
    event = replacement_event("acme-certs", CURRENT, REQUEST, ["account", "domains"], EXECUTION)

    # Then it matches the documented schema, is told to people, and says what changed, from what to what
    assert event.detail_type == REPLACEMENT_ACCEPTED
    assert REPLACEMENT_ACCEPTED in NOTIFIED
    assert event.notified
    validate_event(event.detail_type, event.detail)
    detail = event.detail
    assert (detail["name"], detail["domains"], detail["account"]) == ("web", REQUEST["domains"], "sectigo-ov")
    assert (detail["previous_domains"], detail["previous_account"]) == (CURRENT["domains"], "letsencrypt")
    assert detail["changed"] == ["domains", "account"]
    assert (detail["added_domains"], detail["removed_domains"]) == (["shop.example.com"], ["*.example.com"])
    assert (detail["current_serial"], detail["certificate_arns"]) == ("4f2a9c", {"eu-west-1": ARN})
    assert event.resources == (ARN,)
    assert event.subject == "Certificate web: domains and ACME account changed (replace accepted)"
    for line in (
        "Names before:  www.example.com, *.example.com",
        "Names now:     www.example.com, shop.example.com",
        "ACME account:  letsencrypt -> sectigo-ov",
        f"Execution:     {EXECUTION}",
        "--replace",
    ):
        assert line in event.body


def test_a_replacement_of_a_name_not_in_acm_yet_and_of_the_domains_only() -> None:
    # Given a name recorded by an issuance that failed (no certificate in ACM), asked again for other domains
    current = {"name": "web", "domains": ["old.example.com"], "account": "letsencrypt"}
    request = {**REQUEST, "domains": ["new.example.com"], "account": "letsencrypt"}

    # When its event is built, twice (a retried step)
    first = replacement_event("acme-certs", current, request, ["domains"], EXECUTION)
    again = replacement_event("acme-certs", current, request, ["domains"], EXECUTION)

    # Then it is valid, says the account did not change, and has the same event_id (consumers drop the duplicate)
    validate_event(first.detail_type, first.detail)
    assert (first.detail["changed"], first.detail["current_serial"], first.resources) == (["domains"], None, ())
    assert "ACME account:  letsencrypt -> letsencrypt (unchanged)" in first.body
    assert "No certificate of this name is in ACM yet." in first.body
    assert first.detail["event_id"] == again.detail["event_id"]
