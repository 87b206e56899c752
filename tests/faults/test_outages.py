"""AWS out of reach for a while, and KMS throttling: the import and the inventory write wait it out (issue 19, item 4).

An outage is a run of calls that get no answer at all (botocore's EndpointConnectionError): botocore retries each call
first, then the step fails with TransientError and the state machine runs it again after its Retry interval. The
outage here outlasts two whole invocations of the step; on AWS, the Retry budget outlasts a 30-second outage
(test_the_retry_budget_outlasts_a_30_second_outage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from certlib.adapters.aws_errors import is_transient
from certlib.services import BOTO_CONFIG
from deploy.state_machines import Timings
from tests.faults.helpers import (
    acm_certificates_for,
    challenge_records_under,
    history,
    lambda_failures,
    plain,
    side_by_side,
)
from tests.lifecycle.helpers import target_of

REGIONS = ["us-east-1", "eu-west-1"]
BOTOCORE_ATTEMPTS = 1 + int(BOTO_CONFIG.retries["max_attempts"])  # type: ignore[index]
OUTAGE_SECONDS_ON_AWS = 30


@dataclass(frozen=True)
class Outage:
    name: str
    operation: str
    fault: dict[str, Any]
    invocations: int  # whole invocations of the step the outage outlasts

    @property
    def domain(self) -> str:
        return f"{self.name}.example.test"

    def plan(self) -> dict[str, Any]:
        return {
            "id": self.name,
            "at": "aws",
            "operation": self.operation,
            "times": BOTOCORE_ATTEMPTS * self.invocations,
            "certificate": self.name,
            "step": "import_certificate",
            **self.fault,
        }


UNREACHABLE = {"fault": "unreachable"}
# What a service answers when the KMS key behind its encryption is throttled (SNS, Kinesis and others name it so)
KMS_THROTTLED = {"fault": "error", "code": "KMSThrottlingException", "status": 400}
OUTAGES = [
    Outage("unreachable-acm-import", "acm.ImportCertificate", UNREACHABLE, invocations=2),
    Outage("unreachable-inventory-write", "dynamodb.UpdateItem", UNREACHABLE, invocations=2),
    Outage("kms-throttled-inventory-write", "dynamodb.UpdateItem", KMS_THROTTLED, invocations=1),
]


@pytest.fixture(scope="module")
def outcomes(sandbox: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every outage side by side, each scoped to its own certificate (imported into two regions)."""
    return side_by_side(sandbox, OUTAGES, "aws", regions=REGIONS)


@pytest.mark.parametrize("outage", OUTAGES, ids=[outage.name for outage in OUTAGES])
def test_the_import_waits_out_an_outage(
    sandbox: dict[str, Any], outcomes: dict[str, dict[str, Any]], outage: Outage
) -> None:
    # Given every attempt of one AWS call of the import step failed, for longer than botocore's own retries
    result, calls = outcomes[outage.name]["result"], outcomes[outage.name]["calls"]
    assert len([c for c in calls if c["fault"] == outage.name]) == BOTOCORE_ATTEMPTS * outage.invocations

    # When the execution ended, then the certificate was issued
    assert result["status"] == "issued", result.get("message")
    # And the import failed only with TransientError, which the state machine retried
    failures = lambda_failures(history(sandbox, result["execution_arn"]))
    assert failures, "the outage never reached the state machine"
    assert {f.error for f in failures} == {"TransientError"}, failures
    # And each region holds exactly one certificate, the one the inventory records
    item = plain(target_of(sandbox).inventory.get(outage.name))
    for region in REGIONS:
        assert acm_certificates_for(sandbox, outage.domain, region) == [result["certificate_arns"][region]], region
    assert item["certificate_arns"] == result["certificate_arns"]
    # And nothing is left behind
    assert "lock_owner" not in item
    assert challenge_records_under(sandbox, outage.domain) == []


def test_the_retry_budget_outlasts_a_30_second_outage() -> None:
    # Given the state machine's Retry for TransientError on AWS (botocore's own retries come on top)
    timings = Timings()
    waits = [
        timings.transient_retry_interval_seconds * timings.transient_retry_backoff_rate**attempt
        for attempt in range(timings.transient_retry_max_attempts)
    ]
    # Then its retries span more than an outage of 30 seconds
    assert sum(waits) > OUTAGE_SECONDS_ON_AWS, waits


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://acm.us-east-1.amazonaws.com/"),
        ClientError({"Error": {"Code": "KMSThrottlingException", "Message": "Rate exceeded"}}, "Publish"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Decrypt"),
    ],
    ids=["unreachable", "kms-throttled-behind-a-service", "kms-throttled"],
)
def test_outages_and_kms_throttling_are_transient(error: Exception) -> None:
    assert is_transient(error)


def test_a_kms_key_that_refuses_is_not_transient() -> None:
    # A disabled key or a denied grant does not pass by waiting: the failure is reported at once
    for code in ("KMSDisabledException", "KMSAccessDeniedException", "DecryptionFailure"):
        assert not is_transient(ClientError({"Error": {"Code": code, "Message": "no"}}, "GetSecretValue")), code
