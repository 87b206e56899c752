"""AWS Private CA as an issuer, end to end on the sandbox: the account `sandbox-pca` (the sandbox's moto Private CA)
issues through the lifecycle's Private CA branch, with no ACME and no DNS-01 state, and meets the same checks, ACM
import, inventory, renewal and `certctl revoke` as an ACME certificate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from certlib.keys import names_of
from tests.distribution.helpers import bundle, key_matches, unique
from tests.faults.helpers import FaultSwitch, history, run, states_entered
from tests.faults.records import entered_state
from tests.lifecycle.helpers import certctl, inventory_item, target_of

ACCOUNT = "sandbox-pca"
ACME_AND_DNS_STATES = {
    "EnsureAccount",
    "CreateOrder",
    "HasDnsChallenges",
    "PublishChallenges",
    "CheckDnsChange",
    "AnswerChallenges",
    "CheckOrder",
    "RemoveChallenges",
    "FinalizeOrder",
    "StoreCertificate",
}
PRIVATE_CA_STATES = ["IsPrivateCa", "IssueFromPrivateCa", "CheckPrivateCaCertificate", "ImportCertificate"]


def run_json(info: dict[str, Any], *arguments: str) -> dict[str, Any]:
    completed = certctl(info, *arguments)
    assert completed.returncode == 0, completed.stderr
    return dict(json.loads(completed.stdout))


def acm_certificate(info: dict[str, Any], arn: str) -> x509.Certificate:
    pem = target_of(info).client("acm").get_certificate(CertificateArn=arn)["Certificate"]
    return x509.load_pem_x509_certificate(pem.encode())


def pca_certificate_arn(info: dict[str, Any], execution_arn: str) -> str:
    """The Private CA's ARN of the certificate an execution issued (the state's `private_ca`, in its history)."""
    return str(entered_state(info, execution_arn, "CheckPrivateCaCertificate")["private_ca"]["certificate_arn"])


def test_sandbox_up_offers_the_private_ca_account(sandbox: dict[str, Any]) -> None:
    # Given the running sandbox's JSON
    # Then it names the Private CA and lists its account among the aliases, after the default one
    assert sandbox["private_ca_arn"].startswith(f"arn:aws:acm-pca:{sandbox['region']}:{sandbox['account_id']}:")
    assert ACCOUNT in sandbox["acme_account_aliases"]
    assert sandbox["acme_account_aliases"][0] == "sandbox"


def test_a_private_ca_certificate_issues_renews_into_the_same_arn_and_is_revoked(sandbox: dict[str, Any]) -> None:
    # Given the sandbox's Private CA account
    name = unique("pca")
    domains = [f"{name}.internal.test", f"api.{name}.internal.test"]

    # When a certificate is issued from it, as a user types it
    issued = run_json(
        sandbox, "issue", "--name", name, "--account", ACCOUNT, "--domains", ",".join(domains), "--wait", "--json"
    )

    # Then it is issued and in ACM, for the names asked, by the sandbox's Private CA, for the account's 30 days
    assert issued["status"] == "issued", issued
    leaf = acm_certificate(sandbox, issued["certificate_arn"])
    assert sorted(names_of(leaf)) == sorted(domains)
    ca = x509.load_pem_x509_certificate(
        target_of(sandbox)
        .client("acm-pca")
        .get_certificate_authority_certificate(CertificateAuthorityArn=sandbox["private_ca_arn"])["Certificate"]
        .encode()
    )
    assert leaf.issuer == ca.subject
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days == 30
    # And the key kept in Secrets Manager is the certificate's (the same key handling as ACME)
    stored = bundle(sandbox, name)
    assert key_matches(stored["certificate"], stored["private_key"])
    assert format(leaf.serial_number, "x") == issued["serial"] == stored["serial"]
    # And the execution went through the Private CA branch, and entered no ACME or DNS-01 state
    entered = states_entered(history(sandbox, issued["execution_arn"]))
    assert [state for state in entered if state in PRIVATE_CA_STATES] == PRIVATE_CA_STATES
    assert not ACME_AND_DNS_STATES & set(entered), entered
    # And the inventory records the issuer, which `certctl status` shows (JSON and table)
    ca_arn = sandbox["private_ca_arn"]
    issuer = {"kind": "private-ca", "account": ACCOUNT, "ca_arn": ca_arn}
    assert inventory_item(sandbox, name)["issued_by"] == issuer
    status = run_json(sandbox, "status", "--name", name, "--json")
    assert [row["issuer"] for row in status["certificates"]] == [issuer]
    table = certctl(sandbox, "status", "--name", name)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[-1] == "ISSUER"
    assert row.split()[-1] == "private-ca"

    # When it is renewed
    renewed = run_json(sandbox, "renew", "--name", name, "--force", "--wait", "--json")

    # Then the new certificate is re-imported into the same ACM ARN, again from the Private CA
    assert renewed["status"] == "renewed", renewed
    assert renewed["certificate_arn"] == issued["certificate_arn"]
    assert renewed["serial"] != issued["serial"]
    assert acm_certificate(sandbox, renewed["certificate_arn"]).serial_number == int(renewed["serial"], 16)
    assert not ACME_AND_DNS_STATES & set(states_entered(history(sandbox, renewed["execution_arn"])))

    # When the operator revokes it
    revoked = run_json(sandbox, "revoke", "--name", name, "--reason", "keyCompromise", "--wait", "--json")

    # Then the Private CA holds it revoked (moto's GetCertificate refuses a revoked certificate, naming the reason)
    assert (revoked["revoked_serial"], revoked["reason"]) == (renewed["serial"], "keyCompromise")
    pca = target_of(sandbox).client("acm-pca")
    with pytest.raises(ClientError) as refused:
        pca.get_certificate(
            CertificateAuthorityArn=ca_arn, CertificateArn=pca_certificate_arn(sandbox, renewed["execution_arn"])
        )
    assert "revoked with reason: KEY_COMPROMISE" in str(refused.value)
    # And its replacement came from the Private CA too
    assert revoked["replacement"]["status"] == "renewed", revoked
    assert inventory_item(sandbox, name)["serial"] == revoked["replacement"]["serial"] != renewed["serial"]


def test_names_in_no_route53_zone_issue_from_the_private_ca(sandbox: dict[str, Any]) -> None:
    # Given a name that is in no hosted zone of the sandbox (a Private CA needs no DNS-01, so no zone)
    name = unique("pca-nozone")

    # When it is issued from the Private CA account
    issued = run_json(
        sandbox, "issue", "--name", name, "--account", ACCOUNT, "--domains", "host.nowhere.invalid", "--wait", "--json"
    )

    # Then no Route 53 zone was asked for: it is issued
    assert issued["status"] == "issued", issued


def test_a_crash_after_issuing_is_cleaned_up_and_the_next_execution_issues(sandbox: dict[str, Any]) -> None:
    # Given the issue step's function crashing right after IssueCertificate, for one certificate
    name = unique("pca-crash")
    switch = FaultSwitch(sandbox)
    switch.inject(
        {
            "id": name,
            "at": "handler",
            "fault": "crash",
            "when": "after",
            "step": "issue_from_private_ca",
            "certificate": name,
        }
    )
    try:
        # When it is issued from the Private CA account
        crashed = run(sandbox, name=name, account=ACCOUNT, domains=[f"{name}.internal.test"])
    finally:
        switch.clear()

    # Then it fails there (the crash), through the cleanup: lock released, failure recorded, pending key dropped
    assert (crashed["status"], crashed["error"]) == ("failed", "Runtime.ExitError"), crashed
    assert "IssueFromPrivateCa" in states_entered(history(sandbox, crashed["execution_arn"]))
    assert "CleanUpFailure" in states_entered(history(sandbox, crashed["execution_arn"]))
    item = inventory_item(sandbox, name)
    assert "lock_owner" not in item
    assert item["status"] == "failed"
    assert "pending_private_key" not in bundle(sandbox, name)

    # When the certificate is asked for again
    issued = run(sandbox, name=name, account=ACCOUNT, domains=[f"{name}.internal.test"])

    # Then the new execution issues it
    assert issued["status"] == "issued", issued
    stored = bundle(sandbox, name)
    assert key_matches(stored["certificate"], stored["private_key"])
