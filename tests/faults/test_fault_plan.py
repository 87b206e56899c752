"""The sandbox's fault switch on its own: which call a fault hits, how often, and when the file is read again."""

from __future__ import annotations

import os
from pathlib import Path

from sandbox.faults.plan import FaultPlan, Invocation, write_plan

WEB = Invocation.of("create_order", {"request": {"name": "web", "execution_id": "arn:execution:1"}})
API = Invocation.of("create_order", {"request": {"name": "api", "execution_id": "arn:execution:2"}})
CHECK = Invocation.of("check_distribution", {"command_id": "c-1", "targets": "tag role=web"})


def plan_at(tmp_path: Path) -> tuple[FaultPlan, list[str]]:
    cold_starts: list[str] = []
    return FaultPlan(tmp_path / "faults.json", lambda: cold_starts.append("cold")), cold_starts


def test_a_fault_hits_only_matching_calls_as_often_as_told(tmp_path: Path) -> None:
    # Given a reset of web's first two newOrder requests
    plan, _ = plan_at(tmp_path)
    write_plan(
        plan.path,
        [{"id": "r", "at": "acme", "request": "newOrder", "fault": "reset", "certificate": "web", "times": 2}],
    )
    # When calls come in
    hits = [
        plan.take("acme", API, request="newOrder"),  # another certificate
        plan.take("acme", WEB, request="finalize"),  # another request
        plan.take("aws", WEB, operation="route53.GetChange"),  # another place
        plan.take("acme", WEB, request="newOrder"),
        plan.take("acme", WEB, request="newOrder"),
        plan.take("acme", WEB, request="newOrder"),  # used up
    ]
    # Then only web's first two newOrder requests were hit
    assert [hit["id"] if hit else None for hit in hits] == [None, None, None, "r", "r", None]


def test_kinds_and_event_text_narrow_a_fault(tmp_path: Path) -> None:
    # Given a crash after ACM's import, and a crash of check_distribution for the nodes tagged web
    plan, _ = plan_at(tmp_path)
    write_plan(
        plan.path,
        [
            {"id": "after-import", "at": "aws", "operation": "acm.ImportCertificate", "fault": "crash-after"},
            {"id": "check", "at": "handler", "fault": "crash", "event_contains": "role=web", "times": 0},
        ],
    )
    # When / Then a before-send hook does not take an after-call fault, and the event's text picks the invocation
    assert plan.take("aws", WEB, frozenset({"error", "respond"}), operation="acm.ImportCertificate") is None
    assert plan.take("aws", WEB, frozenset({"crash-after"}), operation="acm.ImportCertificate") is not None
    assert plan.take("handler", WEB, when="before") is None
    assert [plan.take("handler", CHECK, when="before") is not None for _ in range(3)] == [True, True, True]


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    # Given a fault used up, and a plan that asks for a cold start
    plan, cold_starts = plan_at(tmp_path)
    write_plan(plan.path, [{"id": "r", "at": "acme", "fault": "reset"}], cold_start_token="1")
    assert plan.take("acme", WEB, request="newOrder") is not None
    assert plan.take("acme", WEB, request="newOrder") is None
    assert cold_starts == ["cold"]
    # When the file is replaced by one with a new fault and the same cold start
    write_plan(plan.path, [{"id": "s", "at": "acme", "fault": "status"}], cold_start_token="1")
    # Then the new fault applies, and no second cold start happens
    assert plan.take("acme", WEB, request="newOrder") == {"id": "s", "at": "acme", "fault": "status"}
    assert cold_starts == ["cold"]
    # And when the file is gone, nothing is injected
    plan.path.unlink()
    assert plan.take("acme", WEB, request="newOrder") is None


def test_a_new_plan_is_seen_even_when_its_inode_size_and_mtime_are_the_old_ones(tmp_path: Path) -> None:
    # Given a plan read once (what a file's stamp was: inode, mtime, size)
    plan, _ = plan_at(tmp_path)
    first = {"id": "a", "at": "acme", "request": "newOrder", "fault": "reset", "certificate": "web"}
    write_plan(plan.path, [first])
    assert plan.take("acme", API, request="newOrder") is None
    seen = plan.path.stat()
    # When two plans are written after it (a replaced file's inode comes back two writes later), the last one of the
    # same size and, as within one clock tick, with the same mtime
    write_plan(plan.path, [])
    write_plan(plan.path, [{**first, "certificate": "api"}])
    os.utime(plan.path, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    assert plan.path.stat().st_size == seen.st_size
    # Then the new plan is what the next call meets
    hit = plan.take("acme", API, request="newOrder")
    assert hit is not None
    assert hit["certificate"] == "api"


def test_a_fault_with_a_probability_hits_that_share_of_calls_the_same_way_for_a_seed(tmp_path: Path) -> None:
    # Given a reset of 10% of every request, seeded
    plan, _ = plan_at(tmp_path)
    fault = {"id": "some", "at": "acme", "fault": "reset", "times": 0, "probability": 0.1}

    def hits(seed: int) -> list[bool]:
        write_plan(plan.path, [], seed=seed - 1)  # a change of seed, then the plan under test
        plan.take("acme", WEB, request="newOrder")
        write_plan(plan.path, [fault], seed=seed)
        return [plan.take("acme", WEB, request="newOrder") is not None for _ in range(2000)]

    # When 2,000 calls come in, twice with one seed and once with another
    first, again, other = hits(7), hits(7), hits(8)

    # Then about 10% were hit, the same calls for the same seed, other calls for another seed
    assert 150 < sum(first) < 250
    assert first == again
    assert first != other


def test_a_hold_is_taken_only_as_a_hold_and_lasts_while_it_is_in_the_plan(tmp_path: Path) -> None:
    # Given a hold of web's create_order after its work
    plan, _ = plan_at(tmp_path)
    write_plan(plan.path, [{"id": "h", "at": "handler", "fault": "hold", "when": "after", "step": "create_order"}])
    # When / Then a crash does not take it, a hold does; it holds until the plan no longer has it
    assert plan.take("handler", WEB, frozenset({"crash"}), when="after") is None
    assert plan.holds("h")
    assert plan.take("handler", WEB, frozenset({"hold"}), when="after") is not None
    write_plan(plan.path, [])
    assert not plan.holds("h")
