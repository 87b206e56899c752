"""Emission in the steps: once per outcome, and a retried step (TransientError) rather than a lost notification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber

from certlib.adapters.aws_errors import AwsError
from certlib.adapters.events import EventBus
from certlib.adapters.sns import NotificationTopic
from certlib.exceptions import TransientError
from certlib.lifecycle.certificate import record_result
from certlib.lifecycle.failure import clean_up_failure
from certlib.lifecycle.request import Request
from certlib.lifecycle.state import RecordStepInput
from certlib.notifications.events import ISSUANCE_FAILED, ISSUED
from tests.operations.aws_fakes import REGION, Deployment, deployment
from tests.operations.schema import validate_event

EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:acme-certs-certificate-lifecycle:web-1"
ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0d7e1c6e-0000-4000-8000-000000000001"
FAILURE = {
    "Error": "ChallengeInvalid",
    "Cause": json.dumps(
        {
            "errorType": "ChallengeInvalid",
            "errorMessage": "check_order: the CA could not validate www.example.com: unauthorized: wrong TXT value",
        }
    ),
}


@pytest.fixture
def aws() -> Iterator[Deployment]:
    with deployment() as running:
        yield running


def request(renewal: bool = False) -> dict[str, Any]:
    return Request(
        name="web",
        domains=["www.example.com"],
        account="sandbox",
        key_type="ec256",
        regions=[REGION],
        execution_id=EXECUTION,
        renewal=renewal,
    ).to_dict()


def locked_item(aws: Deployment, **extra: Any) -> None:
    """The inventory item as validate_request leaves it: this execution holds the lock."""
    aws.services.inventory.take_lock(
        "web",
        EXECUTION,
        3600,
        {
            "domains": ["www.example.com"],
            "account": "sandbox",
            "key_type": "ec256",
            "regions": [REGION],
            "status": "issuing",
        },
    )
    if extra:
        aws.services.inventory.update("web", EXECUTION, extra)


def failed_state() -> dict[str, Any]:
    return {"state": {"request": request(), "error": FAILURE}, "execution_id": EXECUTION}


def test_a_failure_is_announced_once_even_when_the_cleanup_is_retried(aws: Deployment) -> None:
    # Given an execution that failed at check_order while holding the lock
    locked_item(aws)

    # When its cleanup runs, and runs again (as a retry of the step would)
    first = clean_up_failure(failed_state(), aws.services)
    clean_up_failure(failed_state(), aws.services)

    # Then the failure is recorded, and exactly one event and one notification went out
    assert first["failure_recorded"] is True
    assert first["problem"] == "unauthorized"
    events = aws.events()
    notifications = aws.notifications()
    assert [event["detail-type"] for event in events] == [ISSUANCE_FAILED]
    assert len(notifications) == 1
    detail = events[0]["detail"]
    validate_event(ISSUANCE_FAILED, detail)
    assert (detail["name"], detail["step"], detail["problem_type"]) == ("web", "check_order", "unauthorized")
    assert notifications[0]["Subject"] == "Certificate web: issuance failed (ChallengeInvalid)"
    assert "check_order" in notifications[0]["Message"]
    assert notifications[0]["MessageAttributes"]["detail_type"]["Value"] == ISSUANCE_FAILED


def test_a_failure_that_cannot_be_announced_fails_the_cleanup_with_a_retryable_error(aws: Deployment) -> None:
    # Given an execution that failed, and EventBridge throttling every call
    locked_item(aws)
    throttled = TransientError(
        "putting a 'Certificate Issuance Failed' event on event bus default: ThrottlingException"
    )

    # When its cleanup runs
    with mock.patch.object(EventBus, "put", side_effect=throttled), pytest.raises(TransientError):
        clean_up_failure(failed_state(), aws.services)

    # Then the step fails with TransientError (the state machine retries it) after recording the failure
    item = aws.services.inventory.get("web") or {}
    assert item["status"] == "failed"
    assert "lock_owner" not in item
    assert aws.events() == []
    # And the retry, with EventBridge back, announces it
    clean_up_failure(failed_state(), aws.services)
    assert [event["detail-type"] for event in aws.events()] == [ISSUANCE_FAILED]


def test_an_issuance_is_announced_before_it_is_recorded(aws: Deployment) -> None:
    # Given an execution about to record its certificate, with EventBridge failing
    locked_item(aws)
    state = {
        "request": request(),
        "certificate": {
            "serial": "4f2a9c",
            "not_before": "2026-11-26T10:00:00Z",
            "not_after": "2027-02-24T10:00:00Z",
            "domains": ["www.example.com"],
            "key_type": "ec256",
            "issuer": "CN=Example CA",
            "secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-certs/certificate/web-abcdef",
            "renew_after": "2027-01-25T10:00:00Z",
            "renew_reason": "lifetime_fraction",
            "renew_detail": "when 1/3 of the 90-day lifetime is left",
            "ari_certificate_id": "aaa.bbb",
            "ocsp_url": None,
            "crl_urls": [],
            "issuer_name_hash": "00",
            "issuer_key_hash": "00",
        },
        "imports": [{"region": REGION, "certificate_arn": ARN}],
    }
    unavailable = TransientError("EventBridge unavailable")

    # When the step runs
    with mock.patch.object(EventBus, "put", side_effect=unavailable), pytest.raises(TransientError):
        record_result(RecordStepInput.from_dict(state), aws.services)

    # Then nothing is recorded yet and the lock is still held, so the retried step can record and announce
    item = aws.services.inventory.get("web") or {}
    assert item.get("lock_owner") == EXECUTION
    assert "serial" not in item
    result = record_result(RecordStepInput.from_dict(state), aws.services)
    assert result["status"] == "issued"
    [event] = aws.events()
    assert event["detail-type"] == ISSUED
    validate_event(ISSUED, event["detail"])
    assert event["detail"]["duration_seconds"] is not None
    assert aws.notifications() == []  # a success is not e-mailed


def client_error(code: str, status: int = 400) -> dict[str, Any]:
    return {"service_error_code": code, "service_message": "no", "http_status_code": status}


@pytest.mark.parametrize(
    ("response", "raised"),
    [
        ({"error": client_error("ThrottlingException")}, TransientError),
        ({"error": client_error("InternalException", 500)}, TransientError),
        ({"error": client_error("AccessDeniedException")}, AwsError),
        (
            {"ok": {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}]}},
            TransientError,
        ),
        (
            {"ok": {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "oops"}]}},
            TransientError,
        ),
        (
            {"ok": {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "AccessDeniedException", "ErrorMessage": "no"}]}},
            AwsError,
        ),
    ],
)
def test_eventbridge_errors_are_classified(response: dict[str, Any], raised: type[Exception]) -> None:
    # Given an EventBridge client that answers with an error or a failed entry
    client = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=REGION).client("events")
    with Stubber(client) as stubber:
        if "error" in response:
            stubber.add_client_error("put_events", **response["error"])
        else:
            stubber.add_response("put_events", response["ok"])
        # When / Then a blip is TransientError (retried), a refusal AwsError (terminal)
        with pytest.raises(raised):
            EventBus(client, "default").put("acme.certificates", "Certificate Issued", {"name": "web"})


def test_sns_throttling_is_retryable() -> None:
    # Given an SNS client that throttles
    client = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=REGION).client("sns")
    with Stubber(client) as stubber:
        stubber.add_client_error("publish", **client_error("Throttling"))
        # When / Then
        with pytest.raises(TransientError):
            NotificationTopic(client, "arn:aws:sns:eu-west-1:123456789012:t").publish("s", "m", {})


def test_a_long_subject_is_cut_to_what_sns_takes() -> None:
    # Given a certificate name of 128 characters
    client = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=REGION).client("sns")
    subject = f"Certificate {'n' * 128}: renewal failed (ChallengeInvalid)\nsecond line"
    with Stubber(client) as stubber:
        stubber.add_response(
            "publish",
            {"MessageId": "1"},
            {
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:t",
                "Subject": "Certificate " + "n" * 85 + "...",
                "Message": "m",
                "MessageAttributes": {},
            },
        )
        # When / Then the subject sent is one line of at most 100 characters
        NotificationTopic(client, "arn:aws:sns:eu-west-1:123456789012:t").publish(subject, "m", {})
