"""When to renew: RenewBeforeDays (30 by default, as the Sectigo connector), the lifetime fraction for short
lifetimes, and the CA's ARI window, which may only bring the configured time forward."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from certctl.output import render_certificate_detail, render_status_table
from certctl.status import certificate_status
from certlib.renewal.timing import (
    DEFAULT_RENEW_BEFORE_DAYS,
    MAX_JITTER,
    REASONS,
    AriWindow,
    RenewalPlan,
    plan_renewal,
)

NOT_BEFORE = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
EVENT_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "event-schema.json"


def plan(
    lifetime: dt.timedelta, renew_before_days: int | None, window: AriWindow | None = None, seed: int = 7
) -> RenewalPlan:
    return plan_renewal(NOT_BEFORE, NOT_BEFORE + lifetime, renew_before_days, window, random.Random(seed))


def assert_left(result: RenewalPlan, lifetime: dt.timedelta, left: dt.timedelta) -> None:
    """renew_after is `left` before expiry, less a jitter of at most 2% of the lifetime and 12 hours."""
    jitter = (NOT_BEFORE + lifetime - left) - result.renew_after
    assert dt.timedelta(0) <= jitter <= min(MAX_JITTER, lifetime * 0.02), (result, jitter)


@pytest.mark.parametrize(
    ("lifetime_days", "renew_before_days", "reason", "left_days", "detail"),
    [
        # Sectigo's default: 30 days before expiry, on a 397-day certificate too (not 132 days, a third of it)
        (397, None, "default_renew_before_days", 30, "30 days before expiry (default: the account sets no"),
        (90, None, "default_renew_before_days", 30, "30 days before expiry (default"),
        (397, 45, "renew_before_days", 45, "45 days before expiry (RenewBeforeDays)"),
        (90, 20, "renew_before_days", 20, "20 days before expiry (RenewBeforeDays)"),
        # at most half of the lifetime: honoured up to 45 days of a 90-day certificate
        (90, 45, "renew_before_days", 45, "45 days before expiry (RenewBeforeDays)"),
        (90, 46, "lifetime_fraction", 30, "when 1/3 of the 90-day lifetime is left: 46 days before expiry"),
        (397, 250, "lifetime_fraction", 397 / 3, "when 1/3 of the 397-day lifetime is left: 250 days"),
        # short lifetimes: 30 days fits 64 and 60 days, not 59, 47 or 45; half under 10 days
        (64, None, "default_renew_before_days", 30, "30 days before expiry"),
        (60, None, "default_renew_before_days", 30, "30 days before expiry"),
        (59, None, "lifetime_fraction", 59 / 3, "when 1/3 of the 59-day lifetime is left: 30 days before expiry"),
        (47, None, "lifetime_fraction", 47 / 3, "would be more than half of it"),
        (45, None, "lifetime_fraction", 15, "when 1/3 of the 45-day lifetime is left"),
        (10, None, "lifetime_fraction", 10 / 3, "when 1/3 of the 10-day lifetime is left"),
        (9, None, "lifetime_fraction", 4.5, "when 1/2 of the 9-day lifetime is left"),
        (6, None, "lifetime_fraction", 3, "when 1/2 of the 6-day lifetime is left"),
        (6, 30, "lifetime_fraction", 3, "30 days before expiry (RenewBeforeDays) would be more than half of it"),
        (6, 1, "renew_before_days", 1, "1 day before expiry (RenewBeforeDays)"),
        (1, None, "lifetime_fraction", 0.5, "when 1/2 of the 24-hour lifetime is left"),
    ],
)
def test_the_configured_time_without_ari(
    lifetime_days: float, renew_before_days: int | None, reason: str, left_days: float, detail: str
) -> None:
    # Given a certificate of this lifetime and an account with (or without) RenewBeforeDays, from a CA without ARI
    lifetime = lifetime_days * DAY
    # When its renewal is planned
    result = plan(lifetime, renew_before_days)
    # Then the rule, the time and the words for people are those of the table
    assert result.reason == reason
    assert_left(result, lifetime, left_days * DAY)
    assert detail in result.detail, result.detail
    assert "ARI" not in result.detail


def test_a_ca_lifetime_of_90_days_minus_one_second_counts_as_90_days() -> None:
    # Given the way CAs write validity (inclusive): notAfter one second short of the lifetime
    lifetime = 60 * DAY - dt.timedelta(seconds=1)
    # When / Then 30 days is still half of it, not more
    result = plan(lifetime, None)
    assert result.reason == "default_renew_before_days"
    assert_left(result, lifetime, 30 * DAY - dt.timedelta(seconds=1))
    assert "of the 90-day" in plan(90 * DAY - dt.timedelta(seconds=1), 60).detail


def test_the_default_is_the_sectigo_connectors() -> None:
    assert DEFAULT_RENEW_BEFORE_DAYS == 30


@pytest.mark.parametrize(("lifetime_days", "renew_before_days"), [(90, None), (397, None), (90, 20), (397, 45)])
def test_an_ari_window_that_starts_earlier_brings_the_renewal_forward(
    lifetime_days: int, renew_before_days: int | None
) -> None:
    # Given a CA whose ARI window ends well before the configured time
    lifetime = lifetime_days * DAY
    configured = plan(lifetime, renew_before_days)
    window = AriWindow(configured.renew_after - 10 * DAY, configured.renew_after - 9 * DAY)
    # When the renewal is planned with it
    result = plan(lifetime, renew_before_days, window)
    # Then a time inside the CA's window is chosen, and the reason says the CA asked and what it replaced
    assert result.reason == "ari"
    assert window.start <= result.renew_after <= window.end
    assert result.detail.startswith("the CA asks for an earlier renewal: its ARI window starts ")
    assert configured.detail in result.detail


@pytest.mark.parametrize("renew_before_days", [None, 45])
def test_an_ari_window_that_starts_later_changes_nothing(renew_before_days: int | None) -> None:
    # Given a 397-day certificate and a CA whose ARI window starts after the configured time (at 2/3 of the lifetime
    # it would be before it; here the CA suggests renewing 20 days before expiry)
    lifetime = 397 * DAY
    configured = plan(lifetime, renew_before_days)
    window = AriWindow(NOT_BEFORE + lifetime - 20 * DAY, NOT_BEFORE + lifetime - 18 * DAY)
    # When the renewal is planned with it
    result = plan(lifetime, renew_before_days, window)
    # Then the configured time stands, and the detail says that the CA's window was later
    assert (result.renew_after, result.reason) == (configured.renew_after, configured.reason)
    assert result.detail == f"{configured.detail}; the CA's ARI window starts later (2028-01-13T00:00:00Z)"


def test_an_ari_window_that_starts_at_the_configured_time_changes_nothing() -> None:
    configured = plan(90 * DAY, None)
    window = AriWindow(configured.renew_after, configured.renew_after + 2 * DAY)
    result = plan(90 * DAY, None, window)
    assert (result.renew_after, result.reason) == (configured.renew_after, "default_renew_before_days")


def test_an_ari_window_across_the_configured_time_never_renews_later_than_it() -> None:
    # Given a window that starts a day before 30 days before expiry and ends ten days after that
    lifetime = 90 * DAY
    thirty_days_before = NOT_BEFORE + lifetime - 30 * DAY
    window = AriWindow(thirty_days_before - DAY, thirty_days_before + 10 * DAY)
    # When the renewal is planned many times (each with its own jitter and random point)
    for seed in range(200):
        configured = plan(lifetime, None, None, seed)
        result = plan(lifetime, None, window, seed)
        # Then every time is inside the window and none after that plan's configured time
        assert result.reason == "ari"
        assert window.start <= result.renew_after <= configured.renew_after
    times = [plan(lifetime, None, window, seed).renew_after for seed in range(200)]
    assert max(times) - min(times) > dt.timedelta(hours=20)  # spread over the part of the window before it


def test_a_window_moved_into_the_past_asks_for_renewal_now() -> None:
    # Given a CA that moved the window into the past (how it announces a revocation to come)
    lifetime = 397 * DAY
    window = AriWindow(NOT_BEFORE + 100 * DAY, NOT_BEFORE + 101 * DAY)
    # When / Then the renewal is due at once (a time in the window, long before the configured one)
    result = plan(lifetime, None, window)
    assert result.reason == "ari"
    assert window.start <= result.renew_after <= window.end


def test_the_fallback_for_a_short_lifetime_is_also_only_brought_forward_by_ari() -> None:
    # Given a 6-day certificate (renewed when half is left) and ARI windows before and after that time
    configured = plan(6 * DAY, None)
    earlier = AriWindow(NOT_BEFORE + 2 * DAY, NOT_BEFORE + 2.5 * DAY)
    later = AriWindow(NOT_BEFORE + 4 * DAY, NOT_BEFORE + 5 * DAY)
    # When / Then
    assert plan(6 * DAY, None, earlier).reason == "ari"
    assert plan(6 * DAY, None, later).renew_after == configured.renew_after
    assert plan(6 * DAY, None, later).reason == "lifetime_fraction"


def test_jitter_spreads_a_fleet_issued_together() -> None:
    not_after = NOT_BEFORE + 90 * DAY
    times = {plan_renewal(NOT_BEFORE, not_after, None, None).renew_after for _ in range(50)}
    assert len(times) > 40


def test_the_reasons_are_the_ones_the_event_schema_documents() -> None:
    schema = json.loads(EVENT_SCHEMA.read_text())
    documented = [
        choice["enum"]
        for choice in schema["$defs"]["issued"]["properties"]["renew_reason"]["anyOf"]
        if "enum" in choice
    ]
    assert documented == [list(REASONS)]


def test_certctl_status_shows_which_rule_decided() -> None:
    # Given inventory items planned by each rule
    now = NOT_BEFORE + DAY
    items = [
        {"name": reason, "status": "issued", "not_after": "2028-02-02T00:00:00Z", **plan_of(reason).to_item()}
        for reason in REASONS
    ]
    rows = [certificate_status(item, now) for item in items]
    # When the table and the detail view of the default's certificate are rendered
    table = render_status_table(rows)
    detail = render_certificate_detail(rows[REASONS.index("default_renew_before_days")], items[2])
    # Then the table names the rule in short, and the detail view says it in full
    line_of = {reason: next(line for line in table.splitlines() if line.split()[1:2] == [reason]) for reason in REASONS}
    assert "(ARI)" in line_of["ari"]
    assert "(RenewBeforeDays)" in line_of["renew_before_days"]
    assert "(default 30 days)" in line_of["default_renew_before_days"]
    assert "(lifetime)" in line_of["lifetime_fraction"]
    assert "  renewal rule  30 days before expiry (default: the account sets no RenewBeforeDays)\n" in detail


def plan_of(reason: str) -> RenewalPlan:
    lifetime = 397 * DAY
    if reason == "ari":
        return plan(lifetime, None, AriWindow(NOT_BEFORE + 200 * DAY, NOT_BEFORE + 201 * DAY))
    return plan(lifetime, {"renew_before_days": 45, "lifetime_fraction": 300}.get(reason))


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("issued", "lifetime_days", "renew_before_days", "window", "on_day", "reason"),
    [
        ("2027-01-01", 90, None, None, "2027-03-02", "default_renew_before_days"),
        ("2027-01-01", 90, 20, None, "2027-03-12", "renew_before_days"),
        ("2027-01-01", 90, 60, None, "2027-03-02", "lifetime_fraction"),
        ("2027-01-01", 90, None, ("2027-02-27", "2027-03-01"), None, "ari"),
        ("2027-01-01", 90, None, ("2027-03-01", "2027-03-05"), None, "ari"),
        ("2027-01-01", 90, 40, ("2027-03-01", "2027-03-03"), "2027-02-20", "renew_before_days"),
        ("2026-02-01", 397, None, None, "2027-02-03", "default_renew_before_days"),
        ("2026-02-01", 397, 45, None, "2027-01-19", "renew_before_days"),
        ("2026-02-01", 397, 250, None, "2026-10-23", "lifetime_fraction"),
        ("2026-02-01", 397, None, ("2027-02-20", "2027-02-22"), "2027-02-03", "default_renew_before_days"),
        ("2026-02-01", 397, None, ("2026-11-10", "2026-11-11"), None, "ari"),
    ],
)
def test_the_worked_examples_of_the_operations_page(
    issued: str,
    lifetime_days: int,
    renew_before_days: int | None,
    window: tuple[str, str] | None,
    on_day: str | None,
    reason: str,
) -> None:
    # Given a row of docs/operations.md's worked examples
    not_before = day(issued)
    not_after = not_before + lifetime_days * DAY
    ari = AriWindow(day(window[0]), day(window[1])) if window else None
    for seed in range(20):
        # When it is planned
        result = plan_renewal(not_before, not_after, renew_before_days, ari, random.Random(seed))
        configured = plan_renewal(not_before, not_after, renew_before_days, None, random.Random(seed))
        # Then the rule and the day are the page's (the day less up to 12 hours of jitter), or a time in the window
        assert result.reason == reason
        if on_day is not None:
            assert day(on_day) - MAX_JITTER <= result.renew_after < day(on_day) + DAY
        else:
            assert ari is not None
            assert ari.start <= result.renew_after <= min(ari.end, configured.renew_after)
