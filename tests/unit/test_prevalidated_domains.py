"""An account's `prevalidated-domains`: names and patterns the CA validated out of band, as the accounts file gives
them, kept in the deployed configuration, matched against a request's names; and one clear message per mistake."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from certlib.config import Config, load_accounts_file, parse_accounts
from certlib.exceptions import ConfigError
from sandbox.dns_overrides import DnsOverrides, served_txt
from sandbox.pebble import pebble_environment

SECTIGO_OV = "https://acme.sectigo.com/v2/OV"


def accounts(prevalidated: Any) -> dict[str, Any]:
    return {"accounts": {"sectigo-ov": [{"acme-endpoint": SECTIGO_OV, "prevalidated-domains": prevalidated}]}}


def test_names_and_patterns_are_normalized_and_survive_deployment() -> None:
    # Given names as people write them: upper case, a trailing dot, an internationalized name, a repeat
    document = accounts(["Corp.Example.", "*.corp.example", "bücher.example", "corp.example"])

    # When the file is loaded, and its deployable JSON read back as the functions do
    config = parse_accounts(document).config
    deployed = Config.from_json(config.to_json())

    # Then each entry is a lowercase A-label name or pattern, once, and the functions see the same
    expected = ["corp.example", "*.corp.example", "xn--bcher-kva.example"]
    assert config.account(None).prevalidated_domains == expected
    assert deployed.account(None).prevalidated_domains == expected


@pytest.mark.parametrize(
    ("domain", "covered"),
    [
        ("corp.example", True),  # listed as itself
        ("www.corp.example", True),  # below the pattern's suffix
        ("a.b.corp.example", True),  # at any depth
        ("*.corp.example", True),  # the wildcard name itself
        ("othercorp.example", False),  # a suffix of the text, not of the labels
        ("example", False),
        ("www.other.example", False),
        ("shop.example.net", True),
        ("www.shop.example.net", False),  # a name without '*.' covers only itself
    ],
)
def test_which_names_a_list_covers(domain: str, covered: bool) -> None:
    # Given an account that lists a name, a pattern, and another name
    account = parse_accounts(accounts(["corp.example", "*.corp.example", "shop.example.net"])).config.account(None)

    # When / Then
    assert account.is_prevalidated(domain) is covered


def test_all_covers_every_name_and_no_key_covers_none() -> None:
    # Given an account with `all`, and one without the key
    everything = parse_accounts(accounts("all")).config.account(None)
    nothing = parse_accounts(accounts(None)).config.account(None)

    # When / Then
    assert everything.is_prevalidated("anything.example.org")
    assert everything.is_prevalidated("*.example.org")
    assert Config.from_json(parse_accounts(accounts("ALL")).config.to_json()).account(None).is_prevalidated("a.b.c")
    assert nothing.prevalidated_domains == []
    assert not nothing.is_prevalidated("corp.example")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["corp"], "holds 'corp', which is neither a DNS name nor '*.' and a DNS name"),
        (["*corp.example"], "holds '*corp.example', which is neither a DNS name"),
        (["www.*.example"], "holds 'www.*.example', which is neither a DNS name"),
        (["-corp.example"], "holds '-corp.example', which is neither a DNS name"),
        (["all"], "the word 'all' stands alone, not in a list"),
        ([""], "holds '': each entry is a name or a '*.' pattern"),
        ([443], "holds 443: each entry is a name or a '*.' pattern"),
        ("corp.example", "must be a list of names and '*.' patterns"),
        ({"corp.example": True}, "must be a list of names and '*.' patterns"),
    ],
)
def test_a_wrong_entry_is_refused_naming_the_account_and_the_field(value: Any, message: str) -> None:
    # Given / When / Then
    with pytest.raises(
        ConfigError, match=rf"account 'sectigo-ov': field 'prevalidated-domains' .*{re.escape(message)}"
    ):
        parse_accounts(accounts(value))


def test_an_unquoted_wildcard_pattern_is_explained(tmp_path: Path) -> None:
    # Given a file whose pattern starts with an unquoted '*' (YAML reads an alias there)
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(
        f"accounts:\n  ov:\n    acme-endpoint: {SECTIGO_OV}\n    prevalidated-domains:\n      - *.corp.example\n"
    )

    # When / Then loading it says where, and to quote it
    with pytest.raises(ConfigError, match=r"not valid YAML at line 5: .*quote a name that starts with '\*'"):
        load_accounts_file(path)


def test_the_sandbox_pebble_reuses_valid_authorizations_unless_the_caller_says_otherwise() -> None:
    # Given / When / Then: reuse is on by default, and a caller's PEBBLE_AUTHZREUSE wins (benchmarks turn it off)
    assert pebble_environment({"PATH": "/usr/bin"})["PEBBLE_AUTHZREUSE"] == "100"
    assert pebble_environment({"PATH": "/usr/bin", "PEBBLE_AUTHZREUSE": "0"})["PEBBLE_AUTHZREUSE"] == "0"


def test_served_txt_values_join_the_overrides_and_leave_exactly_what_was_there(tmp_path: Path) -> None:
    # Given overrides a test put in place, and the resolver's view of them
    path = tmp_path / "dns-overrides.json"
    before = {"_acme-challenge.bad.example.test": {"TXT": ["not the value"]}, "x.example.test": {"A": ["192.0.2.1"]}}
    path.write_text(json.dumps(before))
    overrides = DnsOverrides(path)
    assert overrides.answers("_acme-challenge.www.corp.test", "TXT") is None

    # When prevalidation serves two values at one name (a name and its wildcard) and one at another
    values = {"_acme-challenge.www.corp.test.": ["v1", "v2"], "_acme-challenge.bad.example.test": ["v3"]}
    with served_txt(path, values):
        # Then the DNS answers them, next to what was there
        assert overrides.answers("_acme-challenge.www.corp.test", "TXT") == ["v1", "v2"]
        assert overrides.answers("_acme-challenge.bad.example.test", "TXT") == ["not the value", "v3"]
        assert overrides.answers("x.example.test", "A") == ["192.0.2.1"]

    # And afterwards the file holds what it held before, and the DNS answers as before
    assert json.loads(path.read_text()) == before
    assert overrides.answers("_acme-challenge.www.corp.test", "TXT") is None
    assert overrides.answers("_acme-challenge.bad.example.test", "TXT") == ["not the value"]
