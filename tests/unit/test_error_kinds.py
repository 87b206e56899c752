"""certlib.exceptions is the one place errors are classified: what derives from it, and the CA's problem it keeps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from acme import messages

from certctl.executions import ProgressFollower
from certlib import exceptions
from certlib.adapters import aws_errors
from certlib.adapters.acme_client import classified_errors
from certlib.exceptions import (
    ERRORS,
    KINDS,
    AcmeProblem,
    ChallengeInvalid,
    OrderRejected,
    problem_of,
)
from certlib.notifications.remedies import DEFAULT_REMEDY, PROBLEM_REMEDIES, REMEDIES, remedy_for
from certlib.observability import WAITING_ERRORS

URN = "urn:ietf:params:acme:error:"


def test_every_error_is_of_exactly_one_kind() -> None:
    # Given / When / Then each error a step raises derives from one of the four kinds, and from one only
    for name, error in ERRORS.items():
        assert len([kind for kind in KINDS if issubclass(error, kind)]) == 1, name
    # And every error class of the module is listed (a new one cannot be forgotten)
    defined = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type) and issubclass(value, exceptions.CertificateError) and value not in KINDS
    }
    assert defined - {"CertificateError"} == set(ERRORS) - {"TransientError"}


def test_aws_error_is_one_of_them() -> None:
    # Given / When / Then the AWS adapter raises the class defined with every other error, a terminal one
    assert aws_errors.AwsError is exceptions.AwsError
    assert issubclass(exceptions.AwsError, exceptions.TerminalError)


def test_the_waiting_lists_of_the_logs_and_the_cli_are_the_pending_and_rate_limited_errors() -> None:
    # Given / When / Then the logs treat every pending error as "not yet", DistributionPending included
    assert {"DistributionPending", "PrivateCaCertificatePending", "AcmeRateLimited"} <= WAITING_ERRORS
    assert not WAITING_ERRORS & exceptions.TERMINAL_ERROR_NAMES


def history(*events: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    start = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    return [
        {"type": kind, "timestamp": start + dt.timedelta(seconds=i), **body} for i, (kind, body) in enumerate(events)
    ]


@pytest.mark.parametrize(
    ("error", "line"),
    [
        ("DistributionPending", "CheckDistribution: waiting (DistributionPending)"),
        ("AcmeUnavailable", "CheckDistribution: retrying (AcmeUnavailable)"),
    ],
)
def test_certctl_shows_a_retried_error_as_waiting_or_retrying_by_its_kind(error: str, line: str) -> None:
    # Given a follower of an execution's history
    lines: list[str] = []
    follower = ProgressFollower(lambda text, _elapsed: lines.append(text))

    # When a state fails with the error and is retried
    follower.feed(
        history(
            ("TaskStateEntered", {"stateEnteredEventDetails": {"name": "CheckDistribution"}}),
            ("LambdaFunctionFailed", {"lambdaFunctionFailedEventDetails": {"error": error}}),
        )
    )

    # Then the line says which (a retried error used to be shown as nothing when the CLI's list missed it)
    assert lines == ["CheckDistribution", line]


def test_the_ca_s_problem_document_is_kept_as_fields_with_its_identifier_and_subproblems() -> None:
    # Given the CA's answer to newOrder: one name refused, as a subproblem
    document = {
        "type": f"{URN}rejectedIdentifier",
        "detail": "Error creating new order :: 1 identifier was refused",
        "subproblems": [
            {
                "type": f"{URN}rejectedIdentifier",
                "detail": "the CA's policy forbids this name",
                "identifier": {"type": "dns", "value": "blocked.example.test"},
            }
        ],
    }

    # When the adapter classifies it
    with pytest.raises(AcmeProblem) as raised, classified_errors("creating the order"):
        raise messages.Error.from_json(document)

    # Then the fields are the CA's, the refused name included
    problem = raised.value.problem
    assert (problem.problem_type, problem.detail) == ("rejectedIdentifier", document["detail"])
    assert [(sub.identifier, sub.problem_type, sub.detail) for sub in problem.subproblems] == [
        ("blocked.example.test", "rejectedIdentifier", "the CA's policy forbids this name")
    ]
    assert "blocked.example.test" in str(raised.value)


@pytest.mark.parametrize(
    "raised",
    [
        AcmeProblem("unauthorized", "account is deactivated", "registering the account"),
        OrderRejected("rejectedIdentifier", "no: policy", "new order"),
        ChallengeInvalid(
            "dns", "SERVFAIL: looking up TXT", "the CA could not validate a.example.test", "a.example.test"
        ),
        ChallengeInvalid("unauthorized", "wrong TXT: x: y", "the CA could not validate the order"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_the_problem_reads_back_from_what_step_functions_keeps_of_the_error(raised: AcmeProblem) -> None:
    # Given the error as a failed execution keeps it: its name and its message, led by the step
    raised.step = "check_order"
    name, message = type(raised).__name__, str(raised)

    # When the reporting step reads it back
    problem = problem_of(name, message)

    # Then it is the problem the step raised
    assert problem == raised.problem


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("TransientError", "create_order: the CA answered 503 serverInternal: down"),
        ("AcmeProblem", "create_order: something without a type"),
        ("SomethingNew", "x: unauthorized: y"),
    ],
)
def test_no_problem_is_read_from_an_error_that_has_none(name: str, message: str) -> None:
    # Given / When / Then
    assert problem_of(name, message) is None


def test_every_error_that_can_end_an_execution_has_a_remedy_of_its_own_or_of_its_kind() -> None:
    # Given / When / Then no error falls back to the generic remedy (a subclass takes its base's: AcmeUnavailable
    # TransientError's, OrderRejected AcmeProblem's)
    generic = [name for name in ERRORS if remedy_for(name, None, "web") == DEFAULT_REMEDY.format(name="web")]
    assert not generic
    assert remedy_for("AcmeUnavailable", None, "web") == remedy_for("TransientError", None, "web")
    assert set(REMEDIES) - set(ERRORS) == {"States.Timeout"}


def test_a_refused_order_gets_the_remedy_of_the_ca_s_problem() -> None:
    # Given / When an order the CA refused for a name its policy forbids
    remedy = remedy_for("OrderRejected", "rejectedIdentifier", "web", ["www.example.com"])

    # Then the remedy is the problem's, not the generic one
    assert remedy == PROBLEM_REMEDIES["rejectedIdentifier"].format(name="web")
