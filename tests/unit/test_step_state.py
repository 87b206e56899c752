"""The lifecycle's typed step state (certlib.lifecycle.state) against real payloads: the Lambda inputs and results of
two sandbox executions (an ACME issuance of three names in two zones, and an AWS Private CA issuance), taken from
their histories into step_state_samples.json. The types must carry that JSON unchanged, and name a bad field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from certlib.distribution.state import DistributionCommand
from certlib.exceptions import MalformedState, TerminalError
from certlib.lifecycle.request import Request, RequestState
from certlib.lifecycle.state import (
    AccountStepInput,
    AcmeStepInput,
    ChallengesStepInput,
    DnsChange,
    DnsChangesStepInput,
    EnsuredAccount,
    FallbackStepInput,
    ImportStepInput,
    Order,
    OrderStepInput,
    PrivateCaIssuance,
    PrivateCaStepInput,
    RecordStepInput,
    StoredCertificate,
)
from tests.unit.state_payloads import as_json, broken

SAMPLES: dict[str, dict[str, dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "step_state_samples.json").read_text()
)
ACME = SAMPLES["acme"]
PCA = SAMPLES["pca"]
# A challenge whose zone is in a DNS account, reached through its role (the sandbox run had only our own zones).
IN_DNS_ACCOUNT = {"role_arn": "arn:aws:iam::210987654321:role/dns-write", "external_id": "partner-external-id"}


def without(sample: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A state stored by an earlier version: without these fields."""
    return {key: value for key, value in sample.items() if key not in keys}


def with_dns_account(order: dict[str, Any]) -> dict[str, Any]:
    return {**order, "challenges": [{**c, **IN_DNS_ACCOUNT} for c in order["challenges"]]}


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        (ACME["EnsureAccount"]["output"], EnsuredAccount),
        (ACME["CreateOrder"]["output"], Order),
        (with_dns_account(ACME["CreateOrder"]["output"]), Order),
        (PCA["IssueFromPrivateCa"]["output"], PrivateCaIssuance),
        (ACME["StoreCertificate"]["output"], StoredCertificate),
        (PCA["CheckPrivateCaCertificate"]["output"], StoredCertificate),
        (without(ACME["StoreCertificate"]["output"], "certificate_pem", "issuer_pem"), StoredCertificate),
    ],
    ids=["account", "order", "order-in-a-dns-account", "private-ca", "acme-certificate", "pca-certificate", "no-pems"],
)
def test_a_result_round_trips_byte_for_byte(sample: dict[str, Any], kind: Any) -> None:
    assert as_json(kind.from_dict(sample).to_dict()) == as_json(sample)


@pytest.mark.parametrize("sample", [ACME["EnsureAccount"]["input"], PCA["IssueFromPrivateCa"]["input"]])
def test_validate_requests_result_round_trips_byte_for_byte(sample: dict[str, Any]) -> None:
    # ValidateRequest's result is the whole state the next one gets (SwitchToFallbackAccount's for the next account)
    assert as_json(RequestState.from_dict(sample).to_dict()) == as_json(sample)
    with pytest.raises(MalformedState, match="lacks 'issuer_kind'"):
        RequestState.from_dict({"request": sample["request"]})


def test_the_dns_changes_round_trip_byte_for_byte() -> None:
    changes = ACME["PublishChallenges"]["output"]
    parsed = DnsChangesStepInput.from_dict({"dns_changes": changes}).dns_changes
    assert len(parsed) == 2
    assert as_json([change.to_dict() for change in parsed]) == as_json(changes)
    assert DnsChangesStepInput.from_dict(ACME["CheckDnsChange"]["input"]).dns_changes == parsed


@pytest.mark.parametrize("state", ["AnswerChallenges", "CheckOrder", "FinalizeOrder", "StoreCertificate"])
def test_an_order_step_reads_what_the_state_machine_hands_it(state: str) -> None:
    given = ACME[state]["input"]
    step = OrderStepInput.from_dict(given)
    assert step.request.to_dict() == given["request"]
    assert step.account is not None
    assert step.account.to_dict() == given["account"]
    assert as_json(step.order.to_dict()) == as_json(given["order"])
    assert step.attempt == given["attempt"] == 0
    assert step.first_attempt


def test_each_step_reads_its_part_of_a_whole_state() -> None:
    # EnsureAccount, PublishChallenges, RemoveChallenges, CheckPrivateCaCertificate get the whole state (no Parameters)
    assert AccountStepInput.from_dict(ACME["EnsureAccount"]["input"]).account_gone is False
    assert AccountStepInput.from_dict({**ACME["EnsureAccount"]["input"], "account_gone": {"Error": "x"}}).account_gone
    for state in ("PublishChallenges", "RemoveChallenges"):
        order = ChallengesStepInput.from_dict(ACME[state]["input"]).order
        assert [c.domain for c in order.challenges] == ["*.cap.example.test", "cap.example.org", "cap.example.test"]
    checked = PrivateCaStepInput.from_dict(PCA["CheckPrivateCaCertificate"]["input"])
    assert checked.private_ca.to_dict() == PCA["IssueFromPrivateCa"]["output"]
    assert Request.from_state(PCA["IssueFromPrivateCa"]["input"]).account == "sandbox-pca"


@pytest.mark.parametrize(
    ("state", "first"), [({"attempt": 0}, True), ({"attempt": 1}, False), ({}, False), ({"attempt": None}, False)]
)
def test_only_a_state_that_says_so_is_a_first_attempt(state: dict[str, Any], first: bool) -> None:
    # A state without the retry count (a caller that does not pass $$.State.RetryCount) reads as a retry would
    given = {"request": ACME["CreateOrder"]["input"]["request"], **state}
    step = AcmeStepInput.from_dict(given)
    assert (step.first_attempt, step.account) == (first, None)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("order",), KeyError, "lacks 'order'"),
        (("order", "url"), 7, "'order.url' of type int, not str"),
        (("order", "challenges"), {}, "'order.challenges' of type dict, not list"),
        (("order", "challenges", 1, "value"), KeyError, "lacks 'order.challenges[1].value'"),
        (("order", "challenges", 0, "role_arn"), KeyError, "lacks 'order.challenges[0].role_arn'"),
        (("order", "challenges", 0, "role_arn"), 1, "'order.challenges[0].role_arn' of type int, not str or null"),
        (("order", "has_challenges"), "yes", "'order.has_challenges' of type str, not bool"),
        (("account", "paused_until"), True, "'account.paused_until' of type bool, not int"),
        (("account", "url"), KeyError, "lacks 'account.url'"),
        (("attempt",), "0", "'attempt' of type str, not int"),
        (("request",), KeyError, "lacks 'request'"),
        (("request", "name"), KeyError, "lacks 'request.name'"),
        (("request", "domains"), "www.example.test", "'request.domains' of type str, not list"),
        (("request", "colour"), "blue", "'request' Request cannot take"),
    ],
)
def test_a_malformed_state_raises_one_terminal_error_naming_the_field(
    path: tuple[str | int, ...], value: Any, named: str
) -> None:
    with pytest.raises(MalformedState, match=re.escape(named)) as raised:
        OrderStepInput.from_dict(broken(ACME["CheckOrder"]["input"], path, value))
    assert isinstance(raised.value, TerminalError)


def test_a_malformed_dns_change_or_private_ca_issuance_is_named() -> None:
    changes = ACME["CheckDnsChange"]["input"]
    with pytest.raises(MalformedState, match=r"lacks 'dns_changes\[1\].change_id'"):
        DnsChangesStepInput.from_dict(broken(changes, ("dns_changes", 1, "change_id")))
    with pytest.raises(MalformedState, match="no object at dns_changes"):
        DnsChangesStepInput.from_dict({"dns_changes": ["C1"]})
    with pytest.raises(MalformedState, match=re.escape("lacks 'private_ca.certificate_arn'")):
        PrivateCaStepInput.from_dict(
            broken(PCA["CheckPrivateCaCertificate"]["input"], ("private_ca", "certificate_arn"))
        )


def test_a_state_without_changes_waits_for_none() -> None:
    assert DnsChangesStepInput.from_dict({}).dns_changes == ()
    assert DnsChangesStepInput.from_dict({"dns_changes": None}).dns_changes == ()
    assert DnsChange.from_dict(ACME["PublishChallenges"]["output"][0], "x").zone.role_arn is None


@pytest.mark.parametrize("run", ["acme", "pca"])
def test_the_certificate_steps_read_the_stored_certificate(run: str) -> None:
    stored = SAMPLES[run]["StoreCertificate" if run == "acme" else "CheckPrivateCaCertificate"]["output"]
    item = ImportStepInput.from_dict(SAMPLES[run]["ImportToRegion"]["input"])
    assert (item.region, item.certificate.to_dict()) == ("us-east-1", stored)
    recorded = RecordStepInput.from_dict(SAMPLES[run]["RecordResult"]["input"])
    assert recorded.certificate.to_dict() == stored
    assert recorded.imports == (SAMPLES[run]["ImportToRegion"]["output"],)
    assert recorded.distribution is None
    pca = recorded.certificate.issued_by
    assert (pca or {}).get("kind") == (None if run == "acme" else "private-ca")


def test_a_malformed_certificate_or_import_result_is_named() -> None:
    given = ACME["RecordResult"]["input"]
    with pytest.raises(MalformedState, match=re.escape("lacks 'certificate.secret_arn'")):
        RecordStepInput.from_dict(broken(given, ("certificate", "secret_arn")))
    with pytest.raises(
        MalformedState, match=re.escape("'certificate.ari_certificate_id' of type int, not str or null")
    ):
        RecordStepInput.from_dict(broken(given, ("certificate", "ari_certificate_id"), 5))
    with pytest.raises(MalformedState, match=re.escape("'imports[0]' of type str, not dict")):
        RecordStepInput.from_dict({**given, "imports": ["us-east-1"]})
    with pytest.raises(MalformedState, match=re.escape("lacks 'region'")):
        ImportStepInput.from_dict(broken(ACME["ImportToRegion"]["input"], ("region",)))


def test_the_fallback_step_reads_the_request_and_the_caught_error() -> None:
    caught = {"Error": "AcmeUnavailable", "Cause": "create_order: the CA did not answer"}
    step = FallbackStepInput.from_dict({**ACME["CreateOrder"]["input"], "error": caught})
    assert (step.request.account, step.error) == ("sandbox", caught)
    assert FallbackStepInput.from_dict(ACME["CreateOrder"]["input"]).error is None


@pytest.mark.parametrize("profile", ["own_account", "node_accounts"])
def test_the_distribution_command_round_trips_byte_for_byte(profile: str) -> None:
    sent = SAMPLES["distribution"][profile]["SendDistribution"]["output"]
    assert as_json(DistributionCommand.from_dict(sent).to_dict()) == as_json(sent)
    # CheckDistribution's input is SendDistribution's output (InputPath $.distribution_command)
    assert SAMPLES["distribution"][profile]["CheckDistribution"]["input"] == sent
    with pytest.raises(MalformedState, match="lacks 'command_id'"):
        DistributionCommand.from_dict(without(sent, "command_id"))
