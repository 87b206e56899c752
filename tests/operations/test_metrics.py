"""The metrics (EMF records on stdout): days to expiry, the fleet's expiry, issuance duration, failures."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from certlib.monitoring import expiry_of, report_expiry, request_started_at
from certlib.observability import record_issuance_duration, record_lifecycle_failure
from certlib.resources import METRICS_NAMESPACE, Metric
from tests.operations.aws_fakes import deployment

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def emf_records(captured: str) -> list[dict[str, Any]]:
    """The EMF records Powertools printed: {metric name: (value, dimensions)} per line."""
    records = []
    for line in captured.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        record = json.loads(line)
        [directive] = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == METRICS_NAMESPACE
        [names] = directive["Dimensions"]
        [metric] = directive["Metrics"]
        records.append(
            {"name": metric["Name"], "value": record[metric["Name"]], "dimensions": {n: record[n] for n in names}}
        )
    return records


def test_a_failure_is_counted_by_step_error_and_problem(capsys: pytest.CaptureFixture[str]) -> None:
    # When a failed execution is counted
    record_lifecycle_failure("acme-certs", "check_order", "ChallengeInvalid", "unauthorized")

    # Then one LifecycleFailures data point carries the step, error and problem as dimensions
    [record] = emf_records(capsys.readouterr().out)
    assert record["name"] == Metric.LIFECYCLE_FAILURES
    assert record["value"] in (1, 1.0, [1.0])
    assert record["dimensions"] == {
        "Deployment": "acme-certs",
        "Step": "check_order",
        "Error": "ChallengeInvalid",
        "ProblemType": "unauthorized",
        "service": "acme-certificates",
    }


def test_issuance_duration_is_in_seconds_by_operation(capsys: pytest.CaptureFixture[str]) -> None:
    # When / Then
    record_issuance_duration("acme-certs", "renew", 12.5)
    [record] = emf_records(capsys.readouterr().out)
    assert (record["name"], record["dimensions"]["Operation"]) == (Metric.ISSUANCE_DURATION, "renew")


def test_a_failure_without_names_is_still_counted(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When a failure with an empty step and error name (CloudWatch refuses empty dimension values)
    record_lifecycle_failure("acme-certs", "", "", None)

    # Then it is counted all the same, under names CloudWatch accepts
    [record] = emf_records(capsys.readouterr().out)
    assert record["name"] == Metric.LIFECYCLE_FAILURES
    assert all(record["dimensions"].values())
    assert (record["dimensions"]["Step"], record["dimensions"]["Error"]) == ("unknown", "Unknown")


def test_expiry_of_the_fleet() -> None:
    # Given certificates with 3, 20 and -1 days left, and one never issued
    items = [
        {"name": "soon", "not_after": "2026-11-29T12:00:00Z"},
        {"name": "fine", "not_after": "2026-12-16T12:00:00Z"},
        {"name": "gone", "not_after": "2026-11-25T12:00:00Z"},
        {"name": "never"},
    ]

    # When the report is computed with the default 14-day threshold
    report = expiry_of(items, 14, NOW)

    # Then the issued ones count, the expired and the near one are "expiring soon", and the lowest is -1
    assert report.certificates == 3
    assert report.expiring_soon == ["gone", "soon"]
    assert report.min_days == -1.0
    assert report.days_by_name == {"soon": 3.0, "fine": 20.0, "gone": -1.0}


def test_report_expiry_writes_every_certificate_and_the_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    with deployment() as aws:
        # Given two certificates in the inventory
        inventory = aws.services.inventory
        for name, not_after in (("a", "2026-12-01T12:00:00Z"), ("b", "2027-06-01T12:00:00Z")):
            inventory.take_lock(
                name,
                "x",
                60,
                {
                    "domains": [f"{name}.example.com"],
                    "account": "le",
                    "key_type": "ec256",
                    "regions": ["eu-west-1"],
                    "status": "issuing",
                },
            )
            inventory.update(name, "x", {"not_after": not_after}, remove=("lock_owner", "lock_expires_at"))
        capsys.readouterr()

        # When the hourly report runs
        written = report_expiry(aws.services, NOW)

    # Then each certificate's days, the count, the number expiring soon (0 included) and the lowest are written
    records = emf_records(capsys.readouterr().out)
    by_name = {(r["name"], r["dimensions"].get("CertificateName")): r for r in records}
    assert by_name[(Metric.DAYS_TO_EXPIRY, "a")]["value"] == [5.0]
    assert by_name[(Metric.CERTIFICATES_EXPIRING_SOON, None)]["value"] == [1.0]
    assert by_name[(Metric.CERTIFICATES, None)]["value"] == [2.0]
    assert by_name[(Metric.MIN_DAYS_TO_EXPIRY, None)]["value"] == [5.0]
    assert by_name[(Metric.CERTIFICATES_EXPIRING_SOON, None)]["dimensions"] == {
        "Deployment": "acme-certs",
        "service": "acme-certificates",
    }
    assert written["expiring_soon"] == ["a"]


def test_an_empty_inventory_still_reports_zero_expiring(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When the report runs on an empty inventory
    with deployment() as aws:
        report_expiry(aws.services, NOW)

    # Then "0 expiring soon" is written, so the alarm (missing data = breaching) stays quiet
    names = [record["name"] for record in emf_records(capsys.readouterr().out)]
    assert Metric.CERTIFICATES_EXPIRING_SOON in names
    assert Metric.MIN_DAYS_TO_EXPIRY not in names


def test_the_request_time_comes_from_the_item_or_its_lock() -> None:
    # Given / When / Then an explicit request time wins; else the lock's expiry minus its time to live
    assert request_started_at({"requested_at": "2026-11-26T11:00:00Z", "lock_expires_at": 1}, 60) == dt.datetime(
        2026, 11, 26, 11, 0, tzinfo=dt.UTC
    )
    started = request_started_at({"lock_expires_at": int(NOW.timestamp()) + 3600}, 3600)
    assert started == NOW
    assert request_started_at({}, 3600) is None
