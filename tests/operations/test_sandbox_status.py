"""On the sandbox: `certctl status` for a fleet of certificates in different states."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from certlib.renewal.timing import DEFAULT_RENEW_BEFORE_DAYS, MAX_JITTER
from certlib.utc import parse_utc_iso
from tests.lifecycle.helpers import certctl
from tests.operations.fleet import PREFIX, build_fleet

EXPECTED_ORDER = [
    ("fleet-expired", "expired"),
    ("fleet-expiring", "expiring"),
    ("fleet-new-failed", "failed"),
    ("fleet-pushed", "failed"),
    ("fleet-renewal-failed", "failed"),
    ("fleet-overdue", "overdue"),
    ("fleet-working", "working"),
    ("fleet-ok", "ok"),
    ("fleet-rsa", "ok"),
]


@pytest.fixture(scope="module")
def fleet(sandbox: dict[str, Any]) -> list[str]:
    return build_fleet(sandbox)


def test_status_json_ranks_the_fleet_by_urgency(sandbox: dict[str, Any], fleet: list[str]) -> None:
    # When a script asks for the status
    completed = certctl(sandbox, "status", "--json")

    # Then one JSON object lists every certificate, the most urgent first
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    rows = [row for row in document["certificates"] if row["name"].startswith(PREFIX)]
    assert [row["level"] for row in rows] == [level for _, level in EXPECTED_ORDER]
    assert [row["name"] for row in rows][:3] == [name for name, _ in EXPECTED_ORDER[:3]]
    assert sorted(row["name"] for row in rows) == sorted(name for name, _ in EXPECTED_ORDER)
    by_name = {row["name"]: row for row in rows}
    # And each row carries what the table shows
    failed = by_name["fleet-renewal-failed"]
    assert failed["status"] == "renewal_failed"
    assert failed["days_left"] > 365  # the old certificate still serves
    assert (failed["last_error"]["error"], failed["last_error"]["step"]) == ("ChallengeInvalid", "check_order")
    assert failed["last_error"]["problem"] == "unauthorized"
    assert "_acme-challenge.www.fleet-renewal-failed.example.test" in failed["remedy"]
    assert by_name["fleet-new-failed"]["certificate_arns"] == {}
    assert by_name["fleet-ok"]["renew_reason"] == "default_renew_before_days"
    assert by_name["fleet-rsa"]["key_type"] == "rsa2048"
    assert by_name["fleet-working"]["in_progress_by"].endswith(":fleet-working-renewal")
    assert by_name["fleet-pushed"]["distribution"]["failed"] == ["i-0a1b2c3d"]
    assert document["summary"]["certificates"] >= len(EXPECTED_ORDER)


def test_status_table_for_people(sandbox: dict[str, Any], fleet: list[str]) -> None:
    # When a person asks (stdout is not a terminal here: no colour)
    completed = certctl(sandbox, "status")

    # Then the table has one line per certificate in the same order, and a summary
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split()[:4] == ["STATE", "NAME", "NAMES", "ACCOUNT"]
    ours = [line.split()[:2] for line in lines[1:] if len(line.split()) > 1 and line.split()[1].startswith(PREFIX)]
    assert [level for level, _ in ours] == [level for _, level in EXPECTED_ORDER]
    assert "\033[" not in completed.stdout
    assert any(" certificates: " in line and line.endswith(" ok") for line in lines)
    print(completed.stdout)  # shown with `pytest -s`: the fleet at a glance


def test_status_colour_on_request(sandbox: dict[str, Any], fleet: list[str]) -> None:
    # When / Then colour is forced on (a terminal gets it by default), and NO_COLOR is for auto only
    completed = certctl(sandbox, "status", "--color", "always")
    assert "\033[31mexpired" in completed.stdout


def test_status_of_one_certificate_says_what_to_do(sandbox: dict[str, Any], fleet: list[str]) -> None:
    # When the operator looks at the failed renewal
    completed = certctl(sandbox, "status", "--name", "fleet-renewal-failed")

    # Then its row, its error, the CA's problem, the remedy and its history are shown
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "failed: renewal failed in check_order" in out
    assert "ACME problem  unauthorized" in out
    assert "what to do" in out
    assert "_acme-challenge.www.fleet-renewal-failed.example.test" in out
    assert "history" in out


def test_status_says_which_rule_chose_the_renewal_time(sandbox: dict[str, Any], fleet: list[str]) -> None:
    # Given a certificate issued by Pebble (five years, no ARI) for the sandbox account, which sets no RenewBeforeDays
    # When the operator looks at the table and at the certificate
    table = certctl(sandbox, "status")
    detail = certctl(sandbox, "status", "--name", "fleet-ok")
    document = json.loads(certctl(sandbox, "status", "--json").stdout)

    # Then it renews 30 days before expiry (less the jitter), and both views say it is the default that decided
    assert (table.returncode, detail.returncode) == (0, 0), table.stderr + detail.stderr
    row = next(row for row in document["certificates"] if row["name"] == "fleet-ok")
    thirty_days_before = parse_utc_iso(row["not_after"]) - dt.timedelta(days=DEFAULT_RENEW_BEFORE_DAYS)
    assert thirty_days_before - MAX_JITTER <= parse_utc_iso(row["renew_after"]) <= thirty_days_before
    line = next(line for line in table.stdout.splitlines() if line.split()[1:2] == ["fleet-ok"])
    assert f"{row['renew_after'][:10]} (default 30 days)" in line
    assert f"  renew after   {row['renew_after']}\n" in detail.stdout
    assert "  renewal rule  30 days before expiry (default: the account sets no RenewBeforeDays)\n" in detail.stdout
