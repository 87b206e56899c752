"""Execution input checks: every bad input is one clear InvalidRequest, good input comes out normalized."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.adapters.stepfunctions import lifecycle_input
from certlib.config import parse_accounts
from certlib.exceptions import InvalidRequest
from certlib.lifecycle.request import MAX_DOMAINS, binding_changes, normalize_domain, parse_request

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
        ({"domains": ["www-.example.test"]}, "not starting or ending with '-'"),
        ({"domains": ["2001:db8::1"]}, "is an IP address"),
        ({"domains": ["www example.test"]}, "label 'www example' must be 1-63 letters, digits or '-'"),
        ({"domains": ["ok.example.test", "bad..example.test"]}, "'bad..example.test': label '' must be 1-63"),
        ({"domains": ["*.*.example.test"]}, "a wildcard may only be the whole leftmost label"),
        ({"domains": ["www.example.*"]}, "a wildcard may only be the whole leftmost label"),
        ({"domains": ["*"]}, "a wildcard may only be the whole leftmost label"),
        ({"domains": ["*.test"]}, "'*.test' must be a fully qualified name"),
        ({"domains": ["\U0001f4a5.example.test"]}, "is not a valid internationalized domain name"),
        ({"domains": ["xn--zz.example.test"]}, "label 'xn--zz' is not a valid IDNA A-label"),
        ({"name": ""}, "'name' must be 1-128"),
        ({"name": "has space"}, "'name' must be 1-128"),
        ({"name": "-web"}, "'name' must be 1-128"),
        ({"name": "web/../other"}, "'name' must be 1-128"),
        ({"name": "n" * 129}, "'name' must be 1-128"),
        ({"name": 42}, "'name' must be 1-128"),
        ({"account": "nope"}, "unknown ACME account alias 'nope'"),
        ({"account": ""}, "'account' must be a non-empty string"),
        ({"key_type": "rsa1024"}, "'key_type' 'rsa1024' is not supported"),
        ({"key_type": "ed25519"}, "'key_type' 'ed25519' is not supported"),
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


def name_of_length(length: int, suffix: str = ".example.test") -> str:
    """A valid DNS name of exactly `length` characters (labels of at most 63)."""
    rest, labels = length - len(suffix), []
    while rest > 63:
        labels.append("a" * 50)
        rest -= 51  # the label and its dot
    name = ".".join([*labels, "b" * rest]) + suffix
    assert len(name) == length
    return name


@pytest.mark.parametrize("length", [237, 100])
def test_names_up_to_237_characters_are_accepted(length: int) -> None:
    # Given a name whose DNS-01 record name `_acme-challenge.<name>` is at most 253 characters
    name = name_of_length(length)
    # When / Then it is accepted, and so is its wildcard (whose record name is the same)
    assert normalize_domain(name) == name
    assert normalize_domain(f"*.{name}") == f"*.{name}"


@pytest.mark.parametrize("length", [238, 253])
def test_names_longer_than_237_characters_are_refused_with_the_reason(length: int) -> None:
    # Given a valid DNS name too long for its DNS-01 record name
    name = name_of_length(length)
    # When / Then it is refused, saying why
    with pytest.raises(InvalidRequest) as raised:
        normalize_domain(name.upper())
    message = str(raised.value)
    assert f"is {length} characters long; a name may have at most 237" in message
    assert "its DNS-01 record name ('_acme-challenge.' + the name) would be longer than the 253 characters" in message


@pytest.mark.parametrize(("given", "expected"), [(True, {"replace": True}), (False, {})])
def test_replace_is_a_known_boolean_field(given: bool, expected: dict[str, Any]) -> None:
    # Given / When a request that says whether it replaces
    fields = parse(replace=given)
    # Then it is kept only when true (the normalized input stays as it was without it)
    assert {key: value for key, value in fields.items() if key == "replace"} == expected


@pytest.mark.parametrize("value", ["yes", 1, None, {}])
def test_replace_must_be_true_or_false(value: Any) -> None:
    with pytest.raises(InvalidRequest, match=r"'replace' must be true or false, got "):
        parse(replace=value)


RECORDED = {
    "name": "web",
    "domains": ["www.example.test", "*.example.test"],
    "account": "sandbox",
    "key_type": "ec384",
    "regions": ["eu-west-1"],
    "certificate_arns": {"eu-west-1": "arn:aws:acm:eu-west-1:111122223333:certificate/x"},
    "serial": "0a1b",
    "status": "issued",
}


def test_a_renewal_from_the_inventory_changes_nothing_that_binds_the_name() -> None:
    # Given the input the pipeline starts a renewal with (sweep, expiry event, revocation, certctl renew)
    renewal = parse_request(lifecycle_input(RECORDED), CONFIG, "eu-west-1")
    # When / Then it keeps the recorded domains and account: never refused, never announced
    assert binding_changes(RECORDED, renewal) == {}


def test_the_order_and_spelling_of_the_domains_do_not_count() -> None:
    fields = parse(domains=["*.Example.Test.", "WWW.example.test"])
    assert binding_changes(RECORDED, fields) == {}


def test_a_new_name_is_bound_to_nothing_yet() -> None:
    assert binding_changes({}, parse(domains=["other.example.test"])) == {}


def test_other_domains_or_another_account_are_changes() -> None:
    # Given the config with a second account
    two_accounts = parse_accounts(
        {
            "default-account": "sandbox",
            "accounts": {
                "sandbox": [{"acme-endpoint": "https://127.0.0.1:14000/dir"}],
                "backup": [{"acme-endpoint": "https://127.0.0.1:14000/dir"}],
            },
        }
    ).config
    one_less = parse_request({"name": "web", "domains": ["www.example.test"]}, two_accounts, "eu-west-1")
    moved = parse_request(
        {"name": "web", "domains": RECORDED["domains"], "account": "backup"}, two_accounts, "eu-west-1"
    )
    # When / Then each change says what it was and what is asked
    assert binding_changes(RECORDED, one_less) == {
        "domains": (["www.example.test", "*.example.test"], ["www.example.test"])
    }
    assert binding_changes(RECORDED, moved) == {"account": ("sandbox", "backup")}
