"""The bench's yearly cost row (issue 16, goal 7) from given figures, and the goals table beside it."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cost, goals, yearly_cost
from bench.results import PartResult


def issuance_part(transitions: int = 16, gb_seconds: float = 0.16, dynamodb: int = 19) -> PartResult:
    run: dict[str, Any] = {
        "tool": "ours",
        "succeeded": True,
        "seconds": 1.4,
        "transitions": transitions,
        "gb_seconds": gb_seconds,
        "invocations": {"validate_request": 1, "check_order": 2},
        "other_aws": {"dynamodb": dynamodb, "secretsmanager": 7, "events": 1},
        "acme": {"directory": 0, "newOrder": 1},
        "route53": {"ChangeResourceRecordSets": 2},
    }
    run["process_seconds"] = 1.4  # `certctl issue --wait` as a process
    certbot = {**run, "tool": "certbot", "seconds": 2.8}
    return PartResult(
        "issuance", "", figures={"runs": [run, certbot], "names_per_certificate": 2, "protocol_minimum": 10}
    )


def test_the_year_adds_up_from_the_measured_execution() -> None:
    # Given an issuance part whose execution costs a known amount
    part = issuance_part()
    per_execution = (
        16 * cost.STEP_FUNCTIONS_PER_TRANSITION
        + 0.16 * cost.LAMBDA_ARM64_PER_GB_SECOND
        + 3 * cost.LAMBDA_PER_REQUEST
        + 19 * cost.DYNAMODB_PER_WRITE_UNIT
        + 7 * (cost.SECRETS_MANAGER_PER_CALL + cost.KMS_PER_REQUEST)
        + 1 * cost.EVENTBRIDGE_PER_EVENT
    )
    # When the cost part is computed without a sweep
    result = yearly_cost.run(part, None)
    lines = result.figures["lines"]
    # Then renewals are 365 / (90 - 30) a certificate a year, each costing one execution
    renewals = next(value for key, value in lines.items() if key.startswith("renewals"))
    assert renewals == pytest.approx(1000 * 365 / 60 * per_execution)
    # And every certificate's secret is paid for each month, and ACM's price is per name
    assert lines["Secrets Manager storage"] == pytest.approx(1002 * 12 * cost.SECRETS_MANAGER_PER_SECRET_MONTH)
    assert result.figures["acm_exportable_usd"] == 1000 * 2 * cost.ACM_EXPORTABLE_PER_NAME
    assert result.figures["per_year_usd"] == pytest.approx(sum(lines.values()) - lines["issuance (first year only)"])


def test_a_dearer_execution_costs_more_a_year() -> None:
    cheap = yearly_cost.run(issuance_part(transitions=16), None).figures["per_year_usd"]
    dear = yearly_cost.run(issuance_part(transitions=32), None).figures["per_year_usd"]
    assert dear > cheap


def test_the_goals_table_says_what_was_not_measured() -> None:
    # Given only the issuance part and its cost
    part = issuance_part()
    summary = goals.run([part, yearly_cost.run(part, None)])
    verdicts = {row.metric: row.verdict for row in summary.rows}
    # Then the issuance goals are judged, the cold start and sweep are not measured, the cost is shown
    assert verdicts["3. DynamoDB calls per issuance"] == "NOT MET"
    assert verdicts["4. issuance latency vs certbot"] == "met"
    assert verdicts["5. handler import (cold start)"] == "not measured"
    assert verdicts["6. sweep: 100 due of 50,000 started; 1,000 due paced"] == "not measured"
    assert verdicts["7. AWS cost per 1,000 certificates a year"] == "shown"
