"""AWS throttles or fails a call a step makes (Route 53, DynamoDB, Secrets Manager, ACM, SSM).

The fault is injected in the sandbox through botocore's `before-send` event, inside botocore's own retry loop, so
botocore retries with backoff first (standard mode, 4 attempts); only what still fails reaches the state machine,
which runs the step again after its Retry interval. Either way the change is made once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from certlib.services import BOTO_CONFIG
from tests.faults.helpers import (
    FaultSwitch,
    acm_certificates_for,
    challenge_records_under,
    finish,
    history,
    lambda_failures,
    plain,
    side_by_side,
    start,
)
from tests.lifecycle.helpers import target_of

# botocore's `max_attempts` counts the retries after the first attempt
BOTOCORE_ATTEMPTS = 1 + int(BOTO_CONFIG.retries["max_attempts"])  # type: ignore[index]
TRANSIENT_RETRY_INTERVAL_SECONDS = 1  # Timings.sandbox()


@dataclass(frozen=True)
class Case:
    name: str
    operation: str
    code: str
    step: str
    times: int
    status: int = 400

    @property
    def domain(self) -> str:
        return f"{self.name}.example.test"

    @property
    def changes_something(self) -> bool:
        return self.operation.split(".")[1].startswith(("Change", "Update", "Import", "Put"))

    @property
    def reaches_the_state_machine(self) -> bool:
        return self.times >= BOTOCORE_ATTEMPTS

    def plan(self) -> dict[str, Any]:
        return {
            "id": self.name,
            "at": "aws",
            "operation": self.operation,
            "fault": "error",
            "code": self.code,
            "status": self.status,
            "times": self.times,
            "certificate": self.name,
            "step": self.step,
        }


CASES = [
    # Route 53: the DNS-01 change, when published and when removed
    Case("r53-publish-throttled", "route53.ChangeResourceRecordSets", "Throttling", "publish_challenges", times=4),
    Case(
        "r53-publish-prior-request",
        "route53.ChangeResourceRecordSets",
        "PriorRequestNotComplete",
        "publish_challenges",
        times=2,
    ),
    Case("r53-remove-throttled", "route53.ChangeResourceRecordSets", "Throttling", "remove_challenges", times=2),
    Case(
        "r53-remove-prior-request",
        "route53.ChangeResourceRecordSets",
        "PriorRequestNotComplete",
        "remove_challenges",
        times=4,
    ),
    Case("r53-get-change-throttled", "route53.GetChange", "Throttling", "check_dns_change", times=3),
    # DynamoDB: the lock, and the ARN record after an import
    Case(
        "ddb-lock-throttled",
        "dynamodb.UpdateItem",
        "ProvisionedThroughputExceededException",
        "validate_request",
        times=4,
    ),
    Case("ddb-arn-record-throttled", "dynamodb.UpdateItem", "ThrottlingException", "import_certificate", times=4),
    # Secrets Manager: the pending key (5xx); ACM: the import itself
    Case(
        "sm-read-unavailable",
        "secretsmanager.GetSecretValue",
        "InternalServiceError",
        "finalize_order",
        times=3,
        status=500,
    ),
    Case("acm-import-throttled", "acm.ImportCertificate", "ThrottlingException", "import_certificate", times=4),
]


@pytest.fixture(scope="module")
def outcomes(sandbox: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return side_by_side(sandbox, CASES, "aws")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_issuance_survives_a_failing_aws_call(
    sandbox: dict[str, Any], outcomes: dict[str, dict[str, Any]], case: Case
) -> None:
    # Given the first `times` attempts of one AWS call of one step failed
    result, calls = outcomes[case.name]["result"], outcomes[case.name]["calls"]
    of_step = [c for c in calls if c["operation"] == case.operation and c["step"] == case.step]
    assert len([c for c in of_step if c["fault"] == case.name]) == case.times

    # When the execution ended, then it issued the certificate
    assert result["status"] == "issued", result

    # And botocore retried first; the state machine ran the step again only when botocore's attempts ran out,
    # after its Retry interval
    events = history(sandbox, result["execution_arn"])
    failures = lambda_failures(events)
    if case.reaches_the_state_machine:
        assert [f.error for f in failures] == ["TransientError"], failures
        assert case.code in (failures[0].cause or "")
        retried = next(e for e in events if e.type == "LambdaFunctionScheduled" and e.at > failures[0].at)
        assert retried.at - failures[0].at >= TRANSIENT_RETRY_INTERVAL_SECONDS * 0.95
    else:
        assert failures == []
    # And the call went through in the end; a change is made once
    went_through = [c for c in of_step if c["fault"] is None]
    assert len(went_through) == 1 if case.changes_something else len(went_through) >= 1

    # And nothing is left behind: no challenge record, no lock, one certificate in ACM
    assert challenge_records_under(sandbox, case.domain) == []
    item = plain(target_of(sandbox).inventory.get(case.name))
    assert "lock_owner" not in item
    assert acm_certificates_for(sandbox, case.domain, sandbox["region"]) == [result["certificate_arn"]]


def test_no_challenge_is_answered_before_route53_is_in_sync(sandbox: dict[str, Any], faults: FaultSwitch) -> None:
    # Given Route 53 that reports the DNS-01 change PENDING three times before INSYNC
    pending = (
        '<?xml version="1.0"?><GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        "<ChangeInfo><Id>/change/PENDING</Id><Status>PENDING</Status>"
        "<SubmittedAt>2024-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>"
    )
    faults.inject(
        {
            "id": "pending",
            "at": "aws",
            "operation": "route53.GetChange",
            "fault": "respond",
            "body": pending,
            "times": 3,
            "certificate": "slow-dns",
        }
    )
    # When a certificate is issued
    result = finish(sandbox, [start(sandbox, name="slow-dns", domains=["slow-dns.example.test"])])[0]

    # Then it is issued, after the state machine polled until INSYNC
    assert result["status"] == "issued", result
    events = history(sandbox, result["execution_arn"])
    polls = [e.error for e in events if e.type == "LambdaFunctionFailed" and e.state == "CheckDnsChange"]
    assert polls == ["DnsChangePending"] * 3
    # And the CA was asked to validate only after the last PENDING answer
    calls = faults.calls(certificate="slow-dns")
    last_pending = max(c["at"] for c in calls if c.get("fault") == "pending")
    answers = [c for c in calls if c.get("request") == "challenge" and c.get("as_get") is False]
    assert answers
    assert min(c["at"] for c in answers) > last_pending
