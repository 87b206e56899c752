"""One place classifies what the CA or the network did: transient, rate-limited (with Retry-After), or terminal."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
import requests
from acme import messages

from certlib.adapters.acme_client import classified_errors
from certlib.exceptions import AcmeAccountGone, AcmeProblem, AcmeRateLimited, TransientError


class LastResponse:
    """What the adapter's network keeps of the CA's last answer."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.last_response = requests.Response()
        self.last_response.status_code = status
        self.last_response.headers.update(headers or {})


def problem(code: str, detail: str = "detail from the CA") -> messages.Error:
    return messages.Error.with_code(code, detail=detail)


def test_rate_limited_keeps_retry_after_seconds() -> None:
    with (
        pytest.raises(AcmeRateLimited) as raised,
        classified_errors("creating the order", LastResponse(429, {"Retry-After": "120"})),
    ):
        raise problem("rateLimited", "too many new orders")
    assert raised.value.retry_after_seconds == 120
    assert "too many new orders" in str(raised.value)


def test_rate_limited_understands_an_http_date() -> None:
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=300), usegmt=True)
    with pytest.raises(AcmeRateLimited) as raised, classified_errors("x", LastResponse(429, {"Retry-After": later})):
        raise problem("rateLimited")
    assert raised.value.retry_after_seconds is not None
    assert 290 <= raised.value.retry_after_seconds <= 300


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (problem("serverInternal"), 500),
        (problem("malformed"), 503),
        (problem("badNonce"), 400),
        (requests.ConnectionError("reset by peer"), 0),
        (requests.Timeout("read timed out"), 0),
    ],
)
def test_transient_failures(error: Exception, status: int) -> None:
    with pytest.raises(TransientError), classified_errors("reading the order", LastResponse(status)):
        raise error


def test_other_problems_are_terminal_and_keep_type_and_detail() -> None:
    with pytest.raises(AcmeProblem) as raised, classified_errors("creating the order", LastResponse(403)):
        raise problem("rejectedIdentifier", "example.invalid is forbidden by policy")
    assert raised.value.problem_type == "rejectedIdentifier"
    assert raised.value.detail == "example.invalid is forbidden by policy"
    assert str(raised.value) == "creating the order: rejectedIdentifier: example.invalid is forbidden by policy"


def test_an_account_the_ca_no_longer_has_is_its_own_error() -> None:
    # (the lifecycle's CreateOrder catches it by name and registers the same key again: RegisterAccountAgain)
    with pytest.raises(AcmeAccountGone) as raised, classified_errors("creating the order", LastResponse(400)):
        raise problem("accountDoesNotExist", "unable to find existing account")
    assert raised.value.problem_type == "accountDoesNotExist"
    assert isinstance(raised.value, AcmeProblem)
