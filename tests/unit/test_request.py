"""Execution input checks: every bad input is one clear InvalidRequest, good input comes out normalized."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.config import parse_accounts
from certlib.exceptions import InvalidRequest
from certlib.lifecycle.request import MAX_DOMAINS, normalize_domain, parse_request

CONFIG = parse_accounts(
    {"accounts": {"sandbox": [{"acme-endpoint": "https://127.0.0.1:14000/dir", "KeyType": "EC", "KeySize": 384}]}}
).config


def parse(**raw: Any) -> dict[str, Any]:
    return parse_request({"name": "web", "domains": ["www.example.test"], **raw}, CONFIG, "eu-west-1")


def test_defaults_come_from_the_account_and_the_region() -> None:
    assert parse() == {
        "name": "web",
        "domains": ["www.example.test"],
        "account": "sandbox",
        "key_type": "ec384",
        "regions": ["eu-west-1"],
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("WWW.Example.Test.", "www.example.test"),
        ("*.example.test", "*.example.test"),
        ("bücher.example.test", "xn--bcher-kva.example.test"),
        ("ПРИМЕР.example.test", "xn--e1afmkfd.example.test"),
        (" api.example.test ", "api.example.test"),
    ],
)
def test_names_are_normalized(given: str, expected: str) -> None:
    assert normalize_domain(given) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"domains": []}, "'domains' must be a non-empty list"),
        ({"domains": "www.example.test"}, "'domains' must be a non-empty list"),
        ({"domains": ["www.*.example.test"]}, "a wildcard may only be the whole leftmost label"),
        ({"domains": ["*example.test"]}, "a wildcard may only be the whole leftmost label"),
        ({"domains": ["**.example.test"]}, "a wildcard may only be the whole leftmost label"),
        ({"domains": ["localhost"]}, "must be a fully qualified name"),
        ({"domains": ["192.0.2.1"]}, "is an IP address"),
        ({"domains": ["-bad.example.test"]}, "not starting or ending with '-'"),
        ({"domains": ["a..example.test"]}, "label '' must be 1-63"),
        ({"domains": ["under_score.example.test"]}, "label 'under_score' must be 1-63 letters, digits or '-'"),
        ({"domains": ["bad\u2028.example.test"]}, "is not a valid internationalized domain name"),
        ({"domains": ["x" * 64 + ".example.test"]}, "1-63"),
        ({"domains": [("a" * 60 + ".") * 5 + "test"]}, "at most 253 characters"),
        ({"domains": [f"n{i}.example.test" for i in range(MAX_DOMAINS + 1)]}, "at most 100"),
        ({"domains": [42]}, "each domain must be a non-empty string"),
        ({"domains": ["example.123"]}, "top-level label cannot be all digits"),
        ({"name": ""}, "'name' must be 1-128"),
        ({"name": "has space"}, "'name' must be 1-128"),
        ({"account": "nope"}, "unknown ACME account alias 'nope'"),
        ({"key_type": "rsa1024"}, "'key_type' 'rsa1024' is not supported"),
        ({"regions": ["mars-1"]}, "'mars-1' is not an AWS region name"),
        ({"regions": []}, "'regions' must be a non-empty list"),
        ({"colour": "red"}, "unknown input field(s) colour"),
    ],
)
def test_bad_input_is_refused_clearly(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse(**raw)
    assert message in str(raised.value)


def test_input_must_be_an_object() -> None:
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        parse_request(["www.example.test"], CONFIG, "eu-west-1")


def test_duplicates_are_dropped_in_order() -> None:
    assert parse(domains=["b.example.test", "A.example.test", "b.example.test."])["domains"] == [
        "b.example.test",
        "a.example.test",
    ]
