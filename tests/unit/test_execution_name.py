"""Execution names, from a renewal trigger or from certctl: within Step Functions' 80 characters for any certificate
name the request allows (128 characters), and distinct for two starts of the same certificate in the same second."""

from __future__ import annotations

import re

import pytest

from certlib.adapters.stepfunctions import MAX_EXECUTION_NAME, execution_name
from certlib.lifecycle.request import NAME_PATTERN

# What Step Functions accepts in an execution name (no spaces, brackets, wildcards, control characters).
ALLOWED = re.compile(r"[A-Za-z0-9_-]+")
LONGEST_NAME = "a" * 127 + "."


@pytest.mark.parametrize("trigger", [None, "renew", "acm-renew", "expiry-event"])
def test_a_longest_certificate_name_gives_an_execution_name_step_functions_accepts(trigger: str | None) -> None:
    # Given the longest name a request may carry, with a character Step Functions refuses
    assert NAME_PATTERN.fullmatch(LONGEST_NAME)

    # When an execution is named after it
    name = execution_name(trigger, LONGEST_NAME)

    # Then the name fits and holds only characters Step Functions accepts, starting with the trigger when there is one
    assert len(name) <= MAX_EXECUTION_NAME
    assert ALLOWED.fullmatch(name)
    assert name.startswith(f"{trigger[:10]}-aaa" if trigger else "aaa")


def test_two_starts_of_the_same_certificate_in_the_same_second_get_distinct_names() -> None:
    # Given / When two names for the same certificate and trigger, one right after the other
    first, second = execution_name("renew", "www.example.com"), execution_name("renew", "www.example.com")

    # Then they differ, and both say which certificate they are for
    assert first != second
    assert first.startswith("renew-www-example-com-")
    assert second.startswith("renew-www-example-com-")
