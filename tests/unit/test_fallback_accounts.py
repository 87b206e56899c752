"""Fallback accounts: the request's `fallback_accounts` checks, which errors are the CA's (and so switch), and the
lifecycle ASL's fallback Catch naming exactly those."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from certlib import exceptions
from certlib.config import parse_accounts
from certlib.exceptions import CA_SIDE_ERROR_NAMES, CA_SIDE_ERRORS, InvalidRequest
from certlib.lifecycle.fallback import account_switched_event
from certlib.lifecycle.request import MAX_FALLBACK_ACCOUNTS, challenge_places, parse_request
from certlib.services import Services, aws_session
from certlib.settings import Settings
from deploy.paths import LIFECYCLE_ASL
from deploy.state_machines import Timings, placeholders, render_definition, retry_substitutions
from sandbox.dns_server import DnsServer, Route53Resolver
from sandbox.zone_records import Route53Records
from tests.operations.schema import validate_event

ENDPOINT = "https://127.0.0.1:14000/dir"
PCA_ARN = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11223344-5566-7788-99aa-bbccddeeff00"
CONFIG = parse_accounts(
    {
        "accounts": {
            "main": {"acme-endpoint": ENDPOINT, "KeyType": "EC", "KeySize": 256},
            "backup": {"acme-endpoint": ENDPOINT, "KeyType": "EC", "KeySize": 256},
            "third": {"acme-endpoint": ENDPOINT, "KeyType": "EC", "KeySize": 256},
            "rsa": {"acme-endpoint": ENDPOINT, "KeyType": "RSA", "KeySize": 2048},
            "pca": {"private-ca-arn": PCA_ARN},
        },
        "default-account": "main",
    }
).config
# The ACME task states, whose failures can be the CA's; the DNS states' never are.
ACME_STATES = ("EnsureAccount", "CreateOrder", "AnswerChallenges", "CheckOrder", "FinalizeOrder", "StoreCertificate")


def parse(**raw: Any) -> dict[str, Any]:
    return parse_request({"name": "web", "domains": ["www.example.test"], **raw}, CONFIG, "eu-west-1")


def lifecycle_states() -> dict[str, Any]:
    values = dict.fromkeys(placeholders(LIFECYCLE_ASL), "1") | retry_substitutions(Timings())
    return dict(json.loads(render_definition(LIFECYCLE_ASL, values))["States"])


def test_fallback_accounts_are_kept_in_order() -> None:
    assert parse(fallback_accounts=["third", "backup"])["fallback_accounts"] == ["third", "backup"]


def test_left_out_they_are_not_in_the_fields_and_an_empty_list_means_none() -> None:
    # left out: validate_request takes the inventory's (a renewal keeps them)
    assert "fallback_accounts" not in parse()
    assert parse(fallback_accounts=[])["fallback_accounts"] == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fallback_accounts": "backup"}, "'fallback_accounts' must be a list of ACME account aliases"),
        ({"fallback_accounts": [""]}, "'fallback_accounts' must be a list of ACME account aliases"),
        ({"fallback_accounts": ["nope"]}, "names 'nope', which is not a configured ACME account; configured: backup"),
        ({"fallback_accounts": ["backup", "backup"]}, "names 'backup' twice"),
        ({"fallback_accounts": ["main"]}, "names 'main' twice (the account counts too)"),
        ({"account": "backup", "fallback_accounts": ["backup"]}, "names 'backup' twice"),
        (
            {"fallback_accounts": ["backup"] * (MAX_FALLBACK_ACCOUNTS + 1)},
            f"name at most {MAX_FALLBACK_ACCOUNTS}",
        ),
        ({"fallback_accounts": ["pca"]}, "names 'pca', an AWS Private CA account; fallback accounts are ACME"),
        ({"account": "pca", "fallback_accounts": ["main"]}, "'pca' is an AWS Private CA account; fallback accounts"),
        (
            {"fallback_accounts": ["rsa"]},
            "fallback account 'rsa' gives key type rsa2048 and account 'main' gives ec256; a certificate keeps one key "
            "type",
        ),
    ],
)
def test_bad_fallback_accounts_are_one_clear_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse(**raw)
    assert message in str(refused.value)


def test_a_key_type_named_in_the_request_holds_for_every_account() -> None:
    # Given accounts of different default key types, When the request names the key type, Then it is accepted
    fields = parse(fallback_accounts=["rsa"], key_type="ec256")
    assert (fields["key_type"], fields["fallback_accounts"]) == ("ec256", ["rsa"])


def test_the_ca_side_errors_are_the_ca_s_failures_and_nothing_of_ours() -> None:
    # Given every error class of ours
    ours = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type) and issubclass(value, exceptions.CertificateError)
    }
    # Then the CA's are exactly these; DNS, bad input, a challenge the CA could not validate, a missing key are ours
    assert set(CA_SIDE_ERROR_NAMES) == {"AcmeRateLimited", "AcmeUnavailable", "OrderRejected", "OrderInvalid"}
    assert set(CA_SIDE_ERROR_NAMES) <= ours
    for name in ("TransientError", "DnsChangePending", "ChallengeInvalid", "InvalidRequest", "AccountSecretMissing"):
        assert name not in CA_SIDE_ERROR_NAMES
    # And the CA being unavailable is still retried like any transient error before it counts
    assert issubclass(exceptions.AcmeUnavailable, exceptions.TransientError)
    assert all(issubclass(error, exceptions.CertificateError) for error in CA_SIDE_ERRORS)


def test_the_asl_fallback_catch_names_exactly_the_ca_side_errors_on_each_acme_state() -> None:
    # Given the lifecycle's states
    states = lifecycle_states()
    # When each state's Catch that leads to the fallback is read
    fallback_catches = {
        name: [catch["ErrorEquals"] for catch in state.get("Catch", []) if catch["Next"] == "FallbackAccountLeft"]
        for name, state in states.items()
    }
    # Then exactly the ACME states have one, before their States.ALL, naming exactly CA_SIDE_ERROR_NAMES
    assert {name for name, catches in fallback_catches.items() if catches} == set(ACME_STATES)
    for name in ACME_STATES:
        assert [sorted(errors) for errors in fallback_catches[name]] == [sorted(CA_SIDE_ERROR_NAMES)], name
        assert states[name]["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
    # And every Retry that retries TransientError retries AcmeUnavailable (its subclass, by name in Step Functions)
    for name, state in states.items():
        for retry in state.get("Retry", []):
            if "TransientError" in retry["ErrorEquals"] and name in ACME_STATES:
                assert "AcmeUnavailable" in retry["ErrorEquals"], name


def test_the_fallback_path_loops_back_to_ensure_account_and_cleans_up_when_none_is_left() -> None:
    states = lifecycle_states()
    assert states["FallbackAccountLeft"]["Choices"][0]["Variable"] == "$.request.fallback_accounts[0]"
    assert states["FallbackAccountLeft"]["Default"] == "CleanUpFailure"
    assert states["HasAttemptChallenges"]["Choices"][0]["Next"] == "RemoveAttemptChallenges"
    assert states["RemoveAttemptChallenges"]["Next"] == "SwitchToFallbackAccount"
    assert states["SwitchToFallbackAccount"]["Next"] == "EnsureAccount"
    for name in ("RemoveAttemptChallenges", "SwitchToFallbackAccount"):
        assert [catch["Next"] for catch in states[name]["Catch"]] == ["CleanUpFailure"], name
        # the CA's error stays in $.error for CleanUpFailure
        assert states[name]["Catch"][0]["ResultPath"] != "$.error", name


def test_the_switch_event_names_the_reason_and_both_accounts_and_fits_the_schema() -> None:
    # Given a request that failed at the CA with its first account
    request = {
        "name": "web",
        "domains": ["www.example.test"],
        "account": "main",
        "fallback_accounts": ["backup", "third"],
        "key_type": "ec256",
        "execution_id": "arn:aws:states:eu-west-1:111122223333:execution:acme-certs-certificate-lifecycle:x",
    }
    failure = {"error": "AcmeRateLimited", "message": "create_order: the CA rate-limited", "step": "create_order"}
    failure["problem"] = ""
    # When the switch is announced
    event = account_switched_event("acme-certs", request, "backup", failure)
    # Then the event names the reason and both accounts, and people get a message saying so
    assert event.notified
    assert (event.detail["from_account"], event.detail["to_account"]) == ("main", "backup")
    assert event.detail["error"] == "AcmeRateLimited"
    assert event.detail["remaining_fallback_accounts"] == ["third"]
    assert "'main'" in event.body
    assert "'backup'" in event.body
    assert "AcmeRateLimited" in event.body
    assert "main" in event.subject
    assert "backup" in event.subject
    validate_event(event.detail_type, event.detail)


def test_a_name_prevalidated_for_the_account_but_not_its_fallback_gets_its_zone() -> None:
    # Given an account that declares corp.example.test pre-validated, a fallback that does not, and its Route 53 zone
    document = {
        "accounts": {
            "main": {"acme-endpoint": ENDPOINT, "prevalidated-domains": ["corp.example.test"]},
            "backup": {"acme-endpoint": ENDPOINT},
            "also": {"acme-endpoint": ENDPOINT, "prevalidated-domains": ["corp.example.test"]},
        },
        "default-account": "main",
    }
    config = parse_accounts(document).config
    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")
        zone_id = route53.create_hosted_zone(Name="example.test", CallerReference="z")["HostedZone"]["Id"]
        dns = DnsServer(Route53Resolver(Route53Records(route53)))  # DNS as the world sees that zone (no CNAME)
        dns.start()
        try:
            settings = Settings("inventory", "/p/config", "p/", "key", 600, dns_resolver=dns.address)
            services = Services(settings, aws_session("us-east-1"))
            main, backup, also = (config.account(alias) for alias in ("main", "backup", "also"))

            # When the places of its DNS-01 records are found for the account alone, with both, and with one that
            # declares it pre-validated too
            alone = challenge_places(["corp.example.test"], config, main, services)
            with_backup = challenge_places(["corp.example.test"], config, main, services, [backup])
            with_also = challenge_places(["corp.example.test"], config, main, services, [also])
        finally:
            dns.stop()

    # Then it is pre-validated for the account each time, and has a zone only when a fallback must validate it
    assert alone == ({}, ["corp.example.test"])
    assert with_also == ({}, ["corp.example.test"])
    zones, prevalidated = with_backup
    assert prevalidated == ["corp.example.test"]
    assert zones["corp.example.test"]["zone_id"] == zone_id.rsplit("/", 1)[-1]
