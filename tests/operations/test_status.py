"""`certctl status`: the fleet at a glance, the most urgent first; colour only on a terminal without NO_COLOR."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from certctl.output import render_certificate_detail, render_status_table, use_colour
from certctl.status import status_document, status_rows

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
EXPIRES_LOCK = int((NOW + dt.timedelta(hours=1)).timestamp())


def at(days: float) -> str:
    return (NOW + dt.timedelta(days=days)).isoformat(timespec="seconds").replace("+00:00", "Z")


def item(name: str, **values: Any) -> dict[str, Any]:
    return {
        "name": name,
        "domains": [f"{name}.example.com"],
        "account": "le",
        "key_type": "ec256",
        "regions": ["eu-west-1"],
        "status": "issued",
        "certificate_arns": {"eu-west-1": f"arn:aws:acm:eu-west-1:1:certificate/{name}"},
        **values,
    }


FLEET = [
    item("fine", not_after=at(60), renew_after=at(30), renew_reason="ari"),
    item("overdue", not_after=at(25), renew_after=at(-1), renew_reason="renew_before_days"),
    item("expiring", not_after=at(5.5), renew_after=at(-25), renew_reason="lifetime_fraction"),
    item("expired", not_after=at(-2)),
    item(
        "broken",
        status="renewal_failed",
        not_after=at(40),
        renew_after=at(-2),
        last_error={"error": "ChallengeInvalid", "step": "check_order", "problem": "unauthorized", "at": at(-0.1)},
    ),
    item(
        "new",
        status="failed",
        certificate_arns={},
        last_error={"error": "AccountSecretMissing", "step": "ensure_account", "at": at(-0.2)},
    ),
    item(
        "busy",
        status="renewing",
        not_after=at(20),
        renew_after=at(-1),
        lock_owner="arn:x:execution:m:busy-1",
        lock_expires_at=EXPIRES_LOCK,
    ),
    item(
        "pushed",
        not_after=at(80),
        renew_after=at(50),
        distribution={"profile": "web"},
        distribution_status="distribution_failed",
        last_distribution={"failed": ["i-1", "i-2"], "succeeded": []},
    ),
]


def test_the_most_urgent_come_first() -> None:
    # Given / When the fleet's rows
    rows = status_rows(FLEET, NOW)

    # Then expired, under the alarm's 14 days, failures (none in ACM first, then fewest days), overdue, working, ok
    assert [(row.name, row.level) for row in rows] == [
        ("expired", "expired"),
        ("expiring", "expiring"),
        ("new", "failed"),
        ("broken", "failed"),
        ("pushed", "failed"),
        ("overdue", "overdue"),
        ("busy", "working"),
        ("fine", "ok"),
    ]
    broken = rows[3]
    assert broken.reason == "renewal failed in check_order"
    assert broken.remedy is not None
    assert "_acme-challenge.broken.example.com" in broken.remedy
    assert rows[2].remedy is not None
    assert "certctl accounts push" in rows[2].remedy


def test_the_table_shows_every_column_and_a_summary() -> None:
    # Given / When the table without colour
    text = render_status_table(status_rows(FLEET, NOW))
    header, *lines = text.splitlines()

    # Then the columns are there, and each row says why it is where it is
    for title in ("STATE", "NAME", "NAMES", "ACCOUNT", "KEY", "REGIONS", "NOT AFTER", "DAYS", "RENEW AFTER"):
        assert title in header
    assert "LAST RESULT" in header
    assert "DISTRIBUTION" in header
    broken = next(line for line in lines if " broken " in line)
    assert "failed 2026-11-26 in check_order: ChallengeInvalid (unauthorized)" in broken
    assert "(ARI)" in next(line for line in lines if " fine " in line)
    assert "failed (2 nodes)" in next(line for line in lines if " pushed " in line)
    assert "renewing: busy-1" in next(line for line in lines if " busy " in line)
    assert "8 certificates: 1 expired, 1 expiring, 3 failed, 1 overdue, 1 working, 1 ok" in text
    assert "\033[" not in text


def test_colour_marks_the_state_only_when_asked() -> None:
    # Given / When / Then
    coloured = render_status_table(status_rows(FLEET, NOW), colour=True)
    assert "\033[31mexpired" in coloured
    assert "\033[32mok" in coloured


@pytest.mark.parametrize(
    ("isatty", "environ", "mode", "expected"),
    [
        (True, {}, "auto", True),
        (True, {"NO_COLOR": "1"}, "auto", False),
        (True, {"TERM": "dumb"}, "auto", False),
        (False, {}, "auto", False),
        (False, {"NO_COLOR": "1"}, "always", True),
        (True, {}, "never", False),
    ],
)
def test_colour_follows_the_terminal_and_no_color(
    isatty: bool, environ: dict[str, str], mode: str, expected: bool
) -> None:
    # Given a stream that is (or is not) a terminal
    stream = io.StringIO()
    stream.isatty = lambda: isatty  # type: ignore[method-assign]

    # When / Then
    assert use_colour(stream, mode, environ) is expected


def test_json_has_the_rows_and_a_summary() -> None:
    # Given / When the --json document
    document = status_document(status_rows(FLEET, NOW), NOW)

    # Then scripts get every certificate with its level, and the counts
    assert document["summary"] == {
        "certificates": 8,
        "expired": 1,
        "expiring": 1,
        "failed": 3,
        "overdue": 1,
        "working": 1,
        "ok": 1,
    }
    first = document["certificates"][0]
    assert (first["name"], first["level"], first["days_left"]) == ("expired", "expired", -2)
    for field in ("renew_after", "renew_reason", "last_error", "distribution", "certificate_arns", "status", "serial"):
        assert field in first


def test_one_certificate_in_full_says_what_to_do() -> None:
    # Given the failed renewal, with its history
    broken = next(i for i in FLEET if i["name"] == "broken")
    history = [
        {"at": at(-30), "event": "issued", "serial": "aa"},
        {"at": at(-0.1), "event": "failed", "error": "ChallengeInvalid"},
    ]
    [row] = status_rows([{**broken, "history": history}], NOW)

    # When / Then
    text = render_certificate_detail(row, {**broken, "history": history})
    assert "failed: renewal failed in check_order" in text
    assert "ACME problem  unauthorized" in text
    assert "what to do" in text
    assert "_acme-challenge.broken.example.com" in text
    assert "issued    aa" in text


def test_an_empty_inventory_says_how_to_start() -> None:
    # Given / When / Then
    assert "certctl issue" in render_status_table([])


def test_long_name_lists_are_cut() -> None:
    # Given a certificate with many names
    many = item("many", domains=[f"host{i}.example.com" for i in range(20)], not_after=at(60))

    # When / Then the NAMES cell says how many are not shown
    table = render_status_table(status_rows([many], NOW))
    assert "host0.example.com +19 more" in table


def test_a_revoked_certificate_without_replacement_is_as_urgent_as_an_expired_one() -> None:
    # Given / When a certificate revoked with nothing replacing it
    [row] = status_rows([item("gone", status="revoked", not_after=at(60), renewed_after=at(30))], NOW)

    # Then
    assert (row.level, row.reason) == ("expired", "revoked, and no replacement running")
