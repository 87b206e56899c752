"""The renewal sweep's typed step state (certlib.renewal.state) against real payloads: the Lambda inputs and results
of sandbox sweeps started by `certctl sweep` (a dry run, a sweep of two batches, the same sweep again, one that found
nothing due, one that found one), taken from tests/renewal/test_sweep.py's run into sweep_state_samples.json. The
types must carry that JSON unchanged, keep the operator's input as tolerant as it was, and name a bad field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from certlib.exceptions import MalformedState, TerminalError
from certlib.renewal.state import (
    BatchOutcome,
    DueCertificates,
    FindDueInput,
    OneRenewal,
    RenewalBatch,
    RenewalResult,
    SweepInput,
    start_input,
)
from certlib.renewal.sweep import START_BATCH_SIZE
from tests.unit.state_payloads import as_json, broken

SAMPLES: dict[str, dict[str, Any]] = json.loads((Path(__file__).parent / "sweep_state_samples.json").read_text())
FIND_DUE = [SAMPLES[run]["FindDueCertificates"] for run in ("dry_run", "sweep", "nothing_due", "one_due")]
START = [(run, batch) for run in ("sweep", "again", "one_due") for batch in SAMPLES[run]["StartRenewal"]]
SWEEP_INPUT = SAMPLES["sweep"]["FindDueCertificates"]["input"]
STARTED_AT = SWEEP_INPUT["started_at"]


@pytest.mark.parametrize("sample", FIND_DUE, ids=["dry-run", "sweep", "nothing-due", "one-due"])
def test_find_due_certificates_input_and_result_round_trip_byte_for_byte(sample: dict[str, Any]) -> None:
    assert as_json(FindDueInput.from_dict(sample["input"]).to_dict()) == as_json(sample["input"])
    assert as_json(DueCertificates.from_dict(sample["output"]).to_dict()) == as_json(sample["output"])


def test_the_due_names_are_batched_for_the_map_and_listed_for_a_dry_run() -> None:
    swept = DueCertificates.from_dict(SAMPLES["sweep"]["FindDueCertificates"]["output"])
    listed = DueCertificates.from_dict(SAMPLES["dry_run"]["FindDueCertificates"]["output"])
    assert [len(batch) for batch in swept.batches] == [START_BATCH_SIZE, 10]
    assert swept.names == listed.names == [f"fleet-{i:04d}" for i in range(START_BATCH_SIZE + 10)]
    # found() builds the same values the state machine carries
    assert DueCertificates.found(swept.now, False, swept.names, False, START_BATCH_SIZE) == swept
    assert DueCertificates.found(listed.now, True, listed.names, False, START_BATCH_SIZE) == listed
    assert DueCertificates.found(listed.now, True, [], False, START_BATCH_SIZE).to_dict()["certificates"] == []


@pytest.mark.parametrize(("run", "sample"), START, ids=["first-batch", "second-batch", "again", "one-due"])
def test_a_start_renewal_batch_round_trips_byte_for_byte(run: str, sample: dict[str, Any]) -> None:
    batch = start_input(sample["input"])
    assert isinstance(batch, RenewalBatch)
    assert as_json(batch.to_dict()) == as_json(sample["input"])
    # the Map's ItemSelector: one of FindDueCertificates' batches and its now
    due = DueCertificates.from_dict(SAMPLES["sweep" if run == "again" else run]["FindDueCertificates"]["output"])
    assert (batch.names in due.batches, batch.now) == (True, due.now)


@pytest.mark.parametrize(("run", "sample"), START, ids=["first-batch", "second-batch", "again", "one-due"])
def test_a_batchs_outcome_round_trips_byte_for_byte(run: str, sample: dict[str, Any]) -> None:
    outcome = BatchOutcome.from_dict(sample["output"])
    assert as_json(outcome.to_dict()) == as_json(sample["output"])
    assert sum(outcome.counts.values()) == len(sample["input"]["names"])


def test_each_kind_of_result_keeps_its_json() -> None:
    # started (from the samples), and the shapes certlib.renewal.sweep and certlib.renewal.start built as dicts
    started = SAMPLES["one_due"]["StartRenewal"][0]["output"]["results"][0]
    assert RenewalResult.from_dict(started).execution_arn == started["execution_arn"]
    error = {"name": "orphan", "outcome": "error", "error": "ConfigError"}
    deferred = {"name": "fleet-0001", "outcome": "deferred"}
    for result in (started, error, deferred):
        assert as_json(RenewalResult.from_dict(result).to_dict()) == as_json(result)
    assert RenewalResult("orphan", "error", error="ConfigError").to_dict() == error


def test_a_malformed_batch_outcome_is_named() -> None:
    given = SAMPLES["sweep"]["StartRenewal"][0]["output"]
    with pytest.raises(MalformedState, match=re.escape("'counts.started' of type str, not int")):
        BatchOutcome.from_dict({**given, "counts": {"started": "100"}})
    with pytest.raises(MalformedState, match=re.escape("lacks 'results[0].outcome'")):
        BatchOutcome.from_dict(broken(given, ("results", 0, "outcome")))


def test_one_renewal_of_a_sweep_started_before_batches_round_trips() -> None:
    given = {"name": "due-soon", "now": SAMPLES["one_due"]["FindDueCertificates"]["output"]["now"]}
    one = start_input(given)
    assert one == OneRenewal("due-soon", given["now"])
    assert as_json(one.to_dict()) == as_json(given)


@pytest.mark.parametrize(
    ("given", "dry_run", "now"),
    [
        ({"dry_run": True, "now": "2090-01-01T01:49:30Z"}, True, "2090-01-01T01:49:30Z"),
        ({}, False, STARTED_AT),  # the schedule's input
        ({"Comment": "Insert your JSON here"}, False, STARTED_AT),  # the console's default input: ignored as before
        ({"dry_run": None, "now": None}, False, STARTED_AT),
        ({"now": ""}, False, STARTED_AT),
        (None, False, STARTED_AT),
    ],
)
def test_the_operators_input_may_leave_out_what_has_a_default(given: Any, dry_run: bool, now: str) -> None:
    step = FindDueInput.from_dict({**SWEEP_INPUT, "input": given})
    assert (step.dry_run, step.now, step.batch_size) == (dry_run, now, 2000)
    # a caller that does not pass the execution's start sweeps as of the clock's now
    assert FindDueInput.from_dict({"input": given, "batch_size": 5}).now == (None if now == STARTED_AT else now)


def test_the_schedules_input_round_trips() -> None:
    # as AWS Step Functions gives $$.Execution.StartTime (moto's, in the samples, has an offset and microseconds)
    scheduled = {"input": {}, "started_at": "2026-12-03T04:00:00.123Z", "batch_size": 2000}
    assert as_json(FindDueInput.from_dict(scheduled).to_dict()) == as_json(scheduled)
    assert FindDueInput.from_dict(scheduled).sweep_input == SweepInput()


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("input",), ["dry_run"], "'input' of type list, not dict"),
        (("input",), "dry_run", "'input' of type str, not dict"),
        (("input", "dry_run"), "yes", "'input.dry_run' of type str, not bool"),
        (("input", "dry_run"), 1, "'input.dry_run' of type int, not bool"),
        (("input", "now"), 1796228950, "'input.now' of type int, not str"),
        (("input", "now"), "yesterday", "'input.now' 'yesterday', not an ISO 8601 time"),
        (("started_at",), "soon", "'started_at' 'soon', not an ISO 8601 time"),
        (("batch_size",), KeyError, "lacks 'batch_size'"),
        (("batch_size",), "2000", "'batch_size' of type str, not int"),
        (("batch_size",), True, "'batch_size' of type bool, not int"),
    ],
)
def test_a_malformed_find_due_input_raises_one_terminal_error_naming_the_field(
    path: tuple[str | int, ...], value: Any, named: str
) -> None:
    with pytest.raises(MalformedState, match=re.escape(named)) as raised:
        FindDueInput.from_dict(broken(SWEEP_INPUT, path, value))
    assert isinstance(raised.value, TerminalError)


@pytest.mark.parametrize(
    ("run", "path", "value", "named"),
    [
        ("sweep", ("count",), KeyError, "lacks 'due.count'"),
        ("sweep", ("more",), "no", "'due.more' of type str, not bool"),
        ("sweep", ("batches",), KeyError, "lacks 'due.batches'"),
        ("sweep", ("batches", 1), "fleet-0100", "'due.batches[1]' of type str, not list"),
        ("sweep", ("batches", 1, 3), 103, "'due.batches[1][3]' of type int, not str"),
        ("dry_run", ("certificates",), KeyError, "lacks 'due.certificates'"),
        ("dry_run", ("certificates", 2, "name"), KeyError, "lacks 'due.certificates[2].name'"),
        ("dry_run", ("certificates", 2), "fleet-0002", "no object at due.certificates[2]"),
    ],
)
def test_a_malformed_due_result_is_named(run: str, path: tuple[str | int, ...], value: Any, named: str) -> None:
    with pytest.raises(MalformedState, match=re.escape(named)):
        DueCertificates.from_dict(broken(SAMPLES[run]["FindDueCertificates"]["output"], path, value))


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("names",), "fleet-0000", "'names' of type str, not list"),
        (("names", 3), None, "'names[3]' of type NoneType, not str"),
        (("now",), KeyError, "lacks 'now'"),
        (("now",), 0, "'now' of type int, not str"),
    ],
)
def test_a_malformed_batch_is_named(path: tuple[str | int, ...], value: Any, named: str) -> None:
    with pytest.raises(MalformedState, match=re.escape(named)):
        start_input(broken(SAMPLES["sweep"]["StartRenewal"][0]["input"], path, value))


def test_a_malformed_single_renewal_is_named() -> None:
    with pytest.raises(MalformedState, match=re.escape("lacks 'name'")):
        start_input({"now": "2090-01-01T01:49:30Z"})
    with pytest.raises(MalformedState, match=re.escape("'name' of type list, not str")):
        start_input({"name": ["due-soon"], "now": "2090-01-01T01:49:30Z"})
