"""The soak's own parts that need no sandbox: it runs only when named, its fault plan, and how it reads the call log."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import selected_parts
from bench.soak import ACME_FAULT_SHARE, SoakPlan
from bench.soak_checks import Findings, injected_faults
from sandbox.faults.plan import FaultPlan, Invocation

WEB = Invocation.of("create_order", {"request": {"name": "web", "execution_id": "arn:execution:1"}})


def test_the_soak_runs_only_when_named() -> None:
    assert "soak" not in selected_parts([])
    assert "soak" not in selected_parts(["all"])
    assert selected_parts(["soak"]) == ["soak"]


def test_the_plan_fails_five_percent_of_acme_requests_and_crashes_only_while_asked(tmp_path: Path) -> None:
    # Given the soak's plan with the ACME faults on, and a crash of web's create_order while its execution runs
    path = tmp_path / "faults.json"
    soak_plan = SoakPlan(path, seed=19)
    soak_plan.acme_faults_on()
    plan = FaultPlan(path, lambda: None)
    with soak_plan.crash("soak-crash-1", "web", "create_order", "after"):
        crash = plan.take("handler", WEB, frozenset({"crash"}), when="after")
    # When 4,000 ACME requests come in after the execution ended
    hits = [plan.take("acme", WEB, request="newOrder") for _ in range(4000)]

    # Then the crash was there while asked and is gone after; about 5% of the requests failed, of each kind
    assert crash is not None
    assert crash["id"] == "soak-crash-1"
    assert plan.take("handler", WEB, frozenset({"crash"}), when="after") is None
    failed = [hit["fault"] for hit in hits if hit is not None]
    assert abs(len(failed) / len(hits) - ACME_FAULT_SHARE) < 0.015
    assert set(failed) == {"reset", "status", "timeout"}


def test_injected_faults_are_counted_by_execution(tmp_path: Path) -> None:
    log = tmp_path / "faults-log.jsonl"
    entries = [
        {"kind": "acme", "fault": "soak-acme-reset", "execution": "arn:1"},
        {"kind": "acme", "fault": None, "execution": "arn:1"},
        {"kind": "handler", "fault": "soak-crash-7", "execution": "arn:2"},
        {"kind": "acme", "fault": "soak-acme-reset", "execution": None},
    ]
    log.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    counted = injected_faults(log)
    assert {arn: dict(kinds) for arn, kinds in counted.items()} == {"arn:1": {"acme reset": 1}, "arn:2": {"crash": 1}}


def test_a_finding_names_its_certificate() -> None:
    found = Findings({"no lock held": ["soak-001: locked by arn:x"], "no _acme-challenge record": []})
    assert found.bad_names() == {"soak-001"}
