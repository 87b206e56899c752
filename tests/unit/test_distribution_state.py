"""The distribution machine's typed step state (certlib.distribution.state) against real payloads: the Lambda inputs
and results of two sandbox executions of statemachine/certificate_distribution.asl.json (`certctl export` with a
distribution profile, then ACM's renewal of the same certificate), taken from their histories into
distribution_state_samples.json; the lifecycle's SendDistribution input is in step_state_samples.json. The types must
carry that JSON unchanged, and name a bad field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from certlib.distribution.state import (
    DistributionCommand,
    ExportedCertificate,
    RecordDistributionInput,
    SendDistributionInput,
)
from certlib.exceptions import MalformedState, TerminalError
from tests.unit.state_payloads import as_json, broken

HERE = Path(__file__).parent
SAMPLES: dict[str, dict[str, dict[str, Any]]] = json.loads((HERE / "distribution_state_samples.json").read_text())
LIFECYCLE: dict[str, dict[str, Any]] = json.loads((HERE / "step_state_samples.json").read_text())["distribution"]
RUNS = ("certctl_export", "acm_renewal")


@pytest.mark.parametrize(
    "sample",
    [
        *(SAMPLES[run]["SendDistribution"]["input"] for run in RUNS),
        *(LIFECYCLE[profile]["SendDistribution"]["input"] for profile in ("own_account", "node_accounts")),
    ],
    ids=["export-machine", "export-machine-renewal", "lifecycle", "lifecycle-node-accounts"],
)
def test_send_distributions_input_round_trips_byte_for_byte(sample: dict[str, Any]) -> None:
    assert as_json(SendDistributionInput.from_dict(sample).to_dict()) == as_json(sample)


def test_the_sending_execution_is_the_lock_owner_or_else_the_export_machines() -> None:
    # The lifecycle holds the certificate's lock (its writes need it); the export machine holds none
    lifecycle = SendDistributionInput.from_dict(LIFECYCLE["own_account"]["SendDistribution"]["input"])
    assert (lifecycle.execution, lifecycle.execution_id) == (lifecycle.lock_owner, None)
    assert "-certificate-lifecycle:" in (lifecycle.execution or "")
    exporting = SendDistributionInput.from_dict(SAMPLES["certctl_export"]["SendDistribution"]["input"])
    assert (exporting.execution, exporting.lock_owner) == (exporting.execution_id, None)
    assert "-certificate-distribution:" in (exporting.execution or "")


@pytest.mark.parametrize("run", RUNS)
def test_export_certificates_result_round_trips_byte_for_byte(run: str) -> None:
    exported = SAMPLES[run]["ExportCertificate"]["output"]
    assert as_json(ExportedCertificate.from_dict(exported).to_dict()) == as_json(exported)
    # ...and is what SendDistribution and RecordDistribution are handed ($.export)
    assert SAMPLES[run]["RecordDistribution"]["input"]["export"] == exported
    sent = SAMPLES[run]["SendDistribution"]["input"]
    assert {key: exported[key] for key in sent} == sent


def test_an_export_without_distribution_round_trips() -> None:
    # A certificate registered with --no-distribution (or never given a profile): distribution null, kept as null
    exported = {**SAMPLES["acm_renewal"]["ExportCertificate"]["output"], "distribution": None}
    parsed = ExportedCertificate.from_dict(exported)
    assert parsed.distribution is None
    assert as_json(parsed.to_dict()) == as_json(exported)


@pytest.mark.parametrize("run", RUNS)
def test_the_distribution_command_round_trips_and_is_check_distributions_input(run: str) -> None:
    sent = SAMPLES[run]["SendDistribution"]["output"]
    assert as_json(DistributionCommand.from_dict(sent).to_dict()) == as_json(sent)
    assert SAMPLES[run]["CheckDistribution"]["input"] == sent


@pytest.mark.parametrize("run", RUNS)
def test_record_distribution_reads_its_parts_of_the_whole_state(run: str) -> None:
    given = SAMPLES[run]["RecordDistribution"]["input"]
    step = RecordDistributionInput.from_dict(given)
    assert step.export is not None
    assert as_json(step.export.to_dict()) == as_json(given["export"])
    assert step.distribution == given["distribution"] == SAMPLES[run]["CheckDistribution"]["output"]
    assert step.error is None


def test_record_distribution_reads_the_error_a_catch_left() -> None:
    # SendDistribution's or CheckDistribution's Catch: ResultPath $.error, and no outcome at $.distribution
    caught = {"Error": "AwsError", "Cause": "send_command: InvalidDocument"}
    given = {
        key: value for key, value in SAMPLES["acm_renewal"]["RecordDistribution"]["input"].items() if key == "export"
    }
    step = RecordDistributionInput.from_dict({**given, "error": caught})
    assert (step.distribution, step.error) == (None, caught)
    assert RecordDistributionInput.from_dict({"error": caught}).export is None


def test_the_profile_chosen_at_export_is_no_outcome() -> None:
    # Given `certctl export --distribution-profile web`: its input's {"profile"} is at $.distribution until
    # CheckDistribution's outcome replaces it, and a failed send or check leaves it there
    given = SAMPLES["certctl_export"]["RecordDistribution"]["input"]
    caught = {"Error": "AwsError", "Cause": "send_command: AccessDeniedException"}
    step = RecordDistributionInput.from_dict(
        {"export": given["export"], "distribution": {"profile": "web"}, "error": caught}
    )
    # Then record_distribution sees no outcome (it records the failure from the error), not the choice as one
    assert (step.distribution, step.error) == (None, caught)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("name",), KeyError, "lacks 'name'"),
        (("serial",), 42, "'serial' of type int, not str"),
        (("secret_arn",), None, "'secret_arn' of type NoneType, not str"),
        (("distribution",), KeyError, "lacks 'distribution'"),
        (("distribution",), "web", "'distribution' of type str, not dict"),
        (("execution_id",), 1, "'execution_id' of type int, not str"),
    ],
)
def test_a_malformed_send_input_raises_one_terminal_error_naming_the_field(
    path: tuple[str, ...], value: Any, named: str
) -> None:
    with pytest.raises(MalformedState, match=re.escape(named)) as raised:
        SendDistributionInput.from_dict(broken(SAMPLES["certctl_export"]["SendDistribution"]["input"], path, value))
    assert isinstance(raised.value, TerminalError)
    with pytest.raises(MalformedState, match=re.escape("'lock_owner' of type list, not str")):
        SendDistributionInput.from_dict({**LIFECYCLE["own_account"]["SendDistribution"]["input"], "lock_owner": []})


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("export",), "intranet", "'export' of type str, not dict"),
        (("export", "name"), KeyError, "lacks 'export.name'"),
        (("export", "secret_arn"), KeyError, "lacks 'export.secret_arn'"),
        (("export", "not_after"), 1767225600, "'export.not_after' of type int, not str"),
        (("export", "distribution"), KeyError, "lacks 'export.distribution'"),
        (("export", "distribution"), "web", "'export.distribution' of type str, not dict or null"),
        (("export", "execution_id"), None, "'export.execution_id' of type NoneType, not str"),
        (("distribution",), ["i-1"], "'distribution' of type list, not dict"),
        (("error",), "States.Timeout", "'error' of type str, not dict"),
    ],
)
def test_a_malformed_record_input_raises_one_terminal_error_naming_the_field(
    path: tuple[str, ...], value: Any, named: str
) -> None:
    with pytest.raises(MalformedState, match=re.escape(named)) as raised:
        RecordDistributionInput.from_dict(broken(SAMPLES["certctl_export"]["RecordDistribution"]["input"], path, value))
    assert isinstance(raised.value, TerminalError)
