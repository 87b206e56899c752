"""cdk-nag's AwsSolutions checks run on every synthesis and find nothing that is not acknowledged with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Validations

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

MIN_REASON_LENGTH = 60  # a sentence that says why, not "ok" or "needed"


def test_aws_solutions_checks_pass(synthesized: Synthesized) -> None:
    # Given the validation report of the synthesis
    reports = {report["pluginName"]: report for report in synthesized.validation_report.get("pluginReports", [])}

    # When the AwsSolutions pack's report is read
    report = reports.get("AwsSolutions")

    # Then the pack ran, and every finding is acknowledged
    findings = [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for violation in (report or {}).get("violations", [])
        for construct in violation["violatingConstructs"]
    ]
    assert synthesized.synth_error is None, "\n".join(findings) or synthesized.synth_error
    assert report is not None, "cdk-nag's AwsSolutions pack did not run"
    assert (report["conclusion"], findings) == ("success", [])


def test_every_acknowledgement_gives_a_reason(synthesized: Synthesized) -> None:
    # Given the findings cdk-nag reported as acknowledged
    reports = synthesized.validation_report.get("pluginReports", [])
    suppressed = [violation for report in reports for violation in report.get("suppressedViolations", [])]

    # When their reasons are read
    short = {v["ruleName"]: v["reason"] for v in suppressed if len(v.get("reason", "")) < MIN_REASON_LENGTH}

    # Then each says why in a sentence
    assert suppressed
    assert short == {}


def test_every_acknowledgement_answers_a_finding(synthesized: Synthesized) -> None:
    # Given the acknowledgements recorded on the constructs, and the findings they suppressed
    recorded = {
        (construct.node.path, rule_id)
        for construct in synthesized.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule_id in entry.data
    }
    used = {
        (violation["acknowledgedAt"], violation["acknowledgedId"])
        for report in synthesized.validation_report.get("pluginReports", [])
        for violation in report.get("suppressedViolations", [])
    }

    # When / Then none is stale: each one suppressed a real finding
    assert recorded
    assert recorded - used == set()
