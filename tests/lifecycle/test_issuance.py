"""Issuance end to end on the sandbox: real Pebble, the real state machine, moto's AWS APIs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.lifecycle.helpers import acm_view, certctl, challenge_records, inventory_item, issue

ACM_KEY_ALGORITHMS = {"rsa2048": "RSA_2048", "ec256": "EC_prime256v1", "ec384": "EC_secp384r1"}


def assert_acm_holds(info: dict[str, Any], result: dict[str, Any]) -> None:
    """ACM's copy has the issued certificate's serial, names and expiry, and its chain leads to Pebble's root."""
    view = acm_view(info, result["certificate_arn"])
    described, facts = view["described"], view["facts"]
    assert facts.serial == result["serial"]
    assert int(str(described["Serial"]).replace(":", ""), 16 if ":" in str(described["Serial"]) else 10) == int(
        result["serial"], 16
    )
    assert sorted(described["SubjectAlternativeNames"]) == sorted(result["domains"])
    not_after = dt.datetime.fromisoformat(result["not_after"].replace("Z", "+00:00"))
    assert described["NotAfter"].astimezone(dt.UTC) == not_after
    assert sorted(facts.domains) == sorted(result["domains"])


@pytest.mark.parametrize("key_type", ["rsa2048", "ec256", "ec384"])
def test_each_key_type_issues_and_lands_in_acm(sandbox: dict[str, Any], key_type: str) -> None:
    # Given a name in the sandbox's public zone
    domains = [f"{key_type}.example.test"]
    # When the lifecycle runs with that key type
    result = issue(sandbox, name=f"key-{key_type}", domains=domains, key_type=key_type)
    # Then ACM holds exactly that certificate, with that key type
    assert result["status"] == "issued", result
    assert result["key_type"] == key_type
    assert_acm_holds(sandbox, result)
    assert acm_view(sandbox, result["certificate_arn"])["described"]["KeyAlgorithm"] == ACM_KEY_ALGORITHMS[key_type]


def test_apex_and_wildcard_in_one_order(sandbox: dict[str, Any]) -> None:
    # Given an apex and its wildcard, whose two TXT values share one name
    domains = ["shop.example.test", "*.shop.example.test"]
    # When
    result = issue(sandbox, name="apex-wildcard", domains=domains)
    # Then both are in the certificate and no challenge record is left behind
    assert result["status"] == "issued", result
    assert_acm_holds(sandbox, result)
    assert challenge_records(sandbox) == []


def test_five_names_across_two_hosted_zones(sandbox: dict[str, Any]) -> None:
    domains = ["a.example.test", "b.example.test", "*.c.example.test", "x.example.org", "y.example.org"]
    result = issue(sandbox, name="two-zones", domains=domains)
    assert result["status"] == "issued", result
    assert_acm_holds(sandbox, result)
    assert challenge_records(sandbox) == []


def test_renewal_reimports_to_the_same_arn_with_a_new_serial(sandbox: dict[str, Any]) -> None:
    # Given an issued certificate
    first = issue(sandbox, name="renewed", domains=["renewed.example.test"])
    assert first["status"] == "issued", first
    # When the same name goes through the lifecycle again
    second = issue(sandbox, name="renewed", domains=["renewed.example.test"])
    # Then ACM keeps the ARN and holds the new certificate
    assert second["status"] == "renewed", second
    assert second["certificate_arn"] == first["certificate_arn"]
    assert second["serial"] != first["serial"]
    assert_acm_holds(sandbox, second)
    item = inventory_item(sandbox, "renewed")
    assert item["serial"] == second["serial"]
    assert [event["event"] for event in item["history"]] == ["issued", "renewed"]
    assert "lock_owner" not in item


def test_certctl_issue_wait_json_prints_the_contract(sandbox: dict[str, Any]) -> None:
    # When a user issues through the CLI
    completed = certctl(sandbox, "issue", "--name", "cli", "--domains", "cli.example.test", "--wait", "--json")
    # Then stdout is one JSON object with the contract's fields
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert {"name", "domains", "status", "serial", "not_after", "certificate_arn", "execution_arn"} <= set(result)
    assert result["name"] == "cli"
    assert result["domains"] == ["cli.example.test"]
    assert result["status"] == "issued"
    int(result["serial"], 16)
    dt.datetime.fromisoformat(result["not_after"].replace("Z", "+00:00"))
    assert result["certificate_arn"].startswith("arn:aws:acm:")
    # And status shows it
    status = certctl(sandbox, "status", "--name", "cli", "--json")
    assert status.returncode == 0, status.stderr
    [item] = json.loads(status.stdout)["certificates"]
    assert (item["status"], item["serial"]) == ("issued", result["serial"])


def test_certctl_refuses_bad_input_before_starting_anything(sandbox: dict[str, Any]) -> None:
    completed = certctl(sandbox, "issue", "--name", "bad", "--domains", "www.*.example.test", "--wait")
    assert completed.returncode == 1
    assert completed.stderr.strip().startswith("certctl: ")
    assert "a wildcard may only be the whole leftmost label" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_a_key_type_change_on_renewal_is_refused_before_anything_happens(sandbox: dict[str, Any]) -> None:
    # Given a certificate in ACM with an EC P-256 key
    first = issue(sandbox, name="keeps-its-key-type", domains=["keeps.example.test"], key_type="ec256")
    assert first["status"] == "issued", first
    # When it is asked again with an RSA key
    second = issue(sandbox, name="keeps-its-key-type", domains=["keeps.example.test"], key_type="rsa2048")
    # Then the request is refused in the first state: ACM could not re-import it to the same ARN
    assert second["status"] == "failed"
    assert second["error"] == "InvalidRequest"
    assert "ACM cannot change the key type on re-import" in second["message"]
    assert inventory_item(sandbox, "keeps-its-key-type")["serial"] == first["serial"]


def test_a_failure_inside_the_execution_ends_with_one_line_on_stderr(sandbox: dict[str, Any]) -> None:
    # Given a name the CLI cannot check locally (its zone is looked up by the state machine)
    completed = certctl(sandbox, "issue", "--name", "no-zone", "--domains", "www.no-zone.invalid", "--wait", "--json")
    # Then the JSON result is on stdout and one clear line closes stderr
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["error"] == "InvalidRequest"
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("certctl: no-zone failed in validate_request: InvalidRequest: ")
    assert "no Route 53 hosted zone we may use holds 'www.no-zone.invalid'" in last
