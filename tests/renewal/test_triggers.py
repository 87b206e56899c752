"""Renewals started by ACM's expiry event and by revocation (found through Pebble's OCSP, or asked by certctl)."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from cryptography import x509

from certctl.executions import result_of, wait
from certlib.adapters.acme_client import AcmeSession, account_key_from_json
from certlib.keys import verify_signed_by
from certlib.resources import INVENTORY_PARTITION_KEY
from certlib.utc import parse_utc_iso, utc_iso
from tests.lifecycle.helpers import certctl, inventory_item, issue, target_of
from tests.operations.sandbox_capture import start_capture


def invoke(info: dict[str, Any], step: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke one of the sandbox's functions as EventBridge or the scheduler would."""
    target = target_of(info)
    response = target.client("lambda").invoke(FunctionName=target.names.function(step), Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), body
    return dict(body)


def expiry_event(
    info: dict[str, Any], certificate_arn: str, days_to_expiry: int, sent_at: str | None = None
) -> dict[str, Any]:
    """The event as ACM sends it (EventBridge envelope), sent now or at `sent_at`."""
    return {
        "version": "0",
        "id": "9c95e8e4-96a4-ef3f-b739-b6aa5b193afb",
        "detail-type": "ACM Certificate Approaching Expiration",
        "source": "aws.acm",
        "account": info["account_id"],
        "time": sent_at or utc_iso(dt.datetime.now(dt.UTC)),
        "region": info["region"],
        "resources": [certificate_arn],
        "detail": {"DaysToExpiry": days_to_expiry, "CommonName": "expiring.example.test"},
    }


def finish(info: dict[str, Any], execution_arn: str) -> dict[str, Any]:
    return result_of(wait(target_of(info), execution_arn, 120, None))


def test_expiry_event_renews_ours_once_and_ignores_others(renewal_sandbox: dict[str, Any]) -> None:
    # Given an issued certificate
    first = issue(renewal_sandbox, name="expiring", domains=["expiring.example.test"])
    assert first["status"] == "issued", first
    days_left = (parse_utc_iso(first["not_after"]) - dt.datetime.now(dt.UTC)).days
    # When EventBridge delivers ACM's expiry event three times, and one for a certificate that is not ours; the event
    # is sent at the very instant of the issuance (no waiting on the clock), which is no later issuance
    issued_at = inventory_item(renewal_sandbox, "expiring")["issued_at"]
    event = expiry_event(renewal_sandbox, first["certificate_arn"], days_left, sent_at=issued_at)
    with ThreadPoolExecutor(max_workers=3) as pool:  # duplicate deliveries arrive together
        answers = list(pool.map(lambda _: invoke(renewal_sandbox, "handle_expiry_event", event), range(3)))
    foreign_arn = first["certificate_arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    foreign = invoke(renewal_sandbox, "handle_expiry_event", expiry_event(renewal_sandbox, foreign_arn, 20))
    # Then exactly one renewal started (the others found it queued), and the foreign one did nothing
    started = [answer for answer in answers if answer["outcome"] == "started"]
    assert len(started) == 1, answers
    assert foreign["outcome"] == "not_ours"
    renewed = finish(renewal_sandbox, started[0]["execution_arn"])
    assert renewed["status"] == "renewed", renewed
    late_duplicate = invoke(renewal_sandbox, "handle_expiry_event", event)
    assert late_duplicate["outcome"] == "already_renewed"
    assert renewed["certificate_arn"] == first["certificate_arn"]
    assert renewed["serial"] != first["serial"]


def test_expiry_event_about_an_older_certificate_is_ignored(renewal_sandbox: dict[str, Any]) -> None:
    # Given an issued certificate that expires in years, when ACM says it expires in 10 days
    first = issue(renewal_sandbox, name="already-new", domains=["already-new.example.test"])
    assert first["status"] == "issued", first
    answer = invoke(renewal_sandbox, "handle_expiry_event", expiry_event(renewal_sandbox, first["certificate_arn"], 10))
    # Then the event is about an older certificate than the inventory holds: nothing starts
    assert answer["outcome"] == "already_renewed"


def revoke_at_the_ca(info: dict[str, Any], name: str) -> None:
    """Revoke as the CA would on its own: with the account key, outside our pipeline."""
    target = target_of(info)
    secrets = target.client("secretsmanager")
    prefix = target.names.secret_prefix
    account = json.loads(secrets.get_secret_value(SecretId=f"{prefix}acme-account/sandbox")["SecretString"])
    bundle = json.loads(secrets.get_secret_value(SecretId=f"{prefix}certificate/{name}")["SecretString"])
    session = AcmeSession(
        info["acme_directory_url"], account_key_from_json(account["key"]), account["url"], verify=info["ca_bundle"]
    )
    session.revoke(bundle["certificate"], 1)


def pebble_status(info: dict[str, Any], serial: str) -> str:
    response = requests.get(
        f"{info['pebble_management_url']}/cert-status-by-serial/{serial}", verify=info["ca_bundle"], timeout=10
    )
    return str(response.json()["Status"])


def test_revocation_found_through_ocsp_is_replaced(renewal_sandbox: dict[str, Any]) -> None:
    # Given an issued certificate whose OCSP URL is the sandbox's responder
    first = issue(renewal_sandbox, name="revoked-at-ca", domains=["revoked-at-ca.example.test"])
    assert first["status"] == "issued", first
    item = inventory_item(renewal_sandbox, "revoked-at-ca")
    assert item["revocation"]["ocsp_url"] == renewal_sandbox["ocsp_responder_url"]
    # And the item keeps the certificate and its issuer (public), which check_revocations verifies answers with:
    # its role cannot read the bundle's secret
    kept = x509.load_pem_x509_certificate(item["revocation"]["certificate_pem"].encode())
    issuer = x509.load_pem_x509_certificate(item["revocation"]["issuer_pem"].encode())
    assert format(kept.serial_number, "x") == first["serial"]
    verify_signed_by(kept, issuer)
    assert "PRIVATE KEY" not in str(item)
    # When the CA revokes it and the scheduled check runs
    revoke_at_the_ca(renewal_sandbox, "revoked-at-ca")
    assert pebble_status(renewal_sandbox, first["serial"]) == "Revoked"
    report = invoke(renewal_sandbox, "check_revocations", {})
    # Then it is found (and only it), recorded, and replaced at once
    assert report["revoked"] == ["revoked-at-ca"]
    assert report["ari_due"] == []  # Pebble 2.4 offers no ARI
    assert report["checked"] >= 1
    [renewal] = report["renewals"]
    renewed = finish(renewal_sandbox, renewal["execution_arn"])
    assert renewed["status"] == "renewed", renewed
    assert renewed["certificate_arn"] == first["certificate_arn"]
    assert renewed["serial"] != first["serial"]
    history = [event["event"] for event in inventory_item(renewal_sandbox, "revoked-at-ca")["history"]]
    assert history == ["issued", "revoked", "renewed"]
    # And the next check finds nothing revoked any more
    assert invoke(renewal_sandbox, "check_revocations", {})["revoked"] == []


def test_certctl_revoke_revokes_records_and_replaces(renewal_sandbox: dict[str, Any]) -> None:
    capture = start_capture(renewal_sandbox, "revocations")
    first = issue(renewal_sandbox, name="compromised", domains=["compromised.example.test"])
    assert first["status"] == "issued", first
    completed = certctl(
        renewal_sandbox, "revoke", "--name", "compromised", "--reason", "keyCompromise", "--wait", "--json"
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert (result["revoked_serial"], result["reason"]) == (first["serial"], "keyCompromise")
    assert result["replacement"]["status"] == "renewed"
    assert pebble_status(renewal_sandbox, first["serial"]) == "Revoked"
    item = inventory_item(renewal_sandbox, "compromised")
    assert item["serial"] == result["replacement"]["serial"] != first["serial"]
    assert "revoked" in [event["event"] for event in item["history"]]
    # And the revocation was announced once: an event, and a message to people
    revoked = [e for e in capture.events("compromised") if e["detail-type"] == "Certificate Revoked"]
    assert [(e["detail"]["serial"], e["detail"]["reason"]) for e in revoked] == [(first["serial"], "keyCompromise")]
    [message] = capture.notifications("compromised")
    assert message["Subject"] == "Certificate compromised: revoked (keyCompromise)"


def test_certctl_revoke_refuses_an_unknown_name(renewal_sandbox: dict[str, Any]) -> None:
    completed = certctl(renewal_sandbox, "revoke", "--name", "never-issued", "--reason", "superseded")
    assert completed.returncode == 1
    assert "no issued certificate named 'never-issued'" in completed.stderr


def test_certctl_revoke_of_a_certificate_issued_before_the_item_kept_it_says_what_to_do(
    renewal_sandbox: dict[str, Any],
) -> None:
    # Given a certificate whose item lacks the certificate (as one issued by an earlier version)
    first = issue(renewal_sandbox, name="older-item", domains=["older-item.example.test"])
    assert first["status"] == "issued", first
    target = target_of(renewal_sandbox)
    table = target.session.resource("dynamodb", endpoint_url=target.endpoint_url).Table(target.names.inventory_table)
    table.update_item(Key={INVENTORY_PARTITION_KEY: "older-item"}, UpdateExpression="REMOVE revocation.certificate_pem")

    # When it is revoked
    completed = certctl(renewal_sandbox, "revoke", "--name", "older-item", "--reason", "superseded")

    # Then it is refused with the remedy, and the CA was not asked
    assert completed.returncode == 1
    assert "was issued before the inventory kept certificates: renew it" in completed.stderr
    assert "certctl renew --name older-item --force --wait" in completed.stderr
    assert pebble_status(renewal_sandbox, first["serial"]) == "Valid"
