"""ACM's exportable certificates: `certctl export` registers one and sends it to nodes; ACM's renewal of it (its
"ACM Certificate Available" event, Action RENEWAL) sends the renewed one. The sandbox uses a private CA
certificate (moto's ACM issues one for RequestCertificate with a CertificateAuthorityArn, and exports it) and plays
ACM's renewal with RenewCertificate (sandbox/acm_renewal.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from certctl.executions import result_of, wait
from certlib.resources import EXPORT_ALLOWED_TAG
from certlib.utc import utc_iso
from tests import certificates
from tests.certificates import certificate_pem, key_pem
from tests.distribution.helpers import (
    bundle,
    distribution_profile,
    installed,
    invoke,
    key_matches,
    serial_of,
    start_nodes,
    unique,
)
from tests.faults.helpers import FaultSwitch
from tests.lifecycle.helpers import certctl, inventory_item, issue, target_of


def private_ca_certificate(info: dict[str, Any], domain: str, tagged_for_export: bool = True) -> str:
    """A certificate from a private CA (AWS Private CA + ACM): exportable, as on AWS; tagged by its owner for export
    by this deployment unless `tagged_for_export` is False."""
    target = target_of(info)
    authority = target.client("acm-pca").create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_2048",
            "SigningAlgorithm": "SHA256WITHRSA",
            "Subject": {"CommonName": "Sandbox Private CA"},
        },
        CertificateAuthorityType="ROOT",
    )["CertificateAuthorityArn"]
    acm = target.client("acm")
    arn = str(acm.request_certificate(DomainName=domain, CertificateAuthorityArn=authority)["CertificateArn"])
    if tagged_for_export:  # its owner lets this deployment export it (the export function's IAM condition)
        acm.add_tags_to_certificate(
            CertificateArn=arn, Tags=[{"Key": EXPORT_ALLOWED_TAG, "Value": info["resource_prefix"]}]
        )
    return arn


def available_event(info: dict[str, Any], arn: str, action: str) -> dict[str, Any]:
    """ACM's event (EventBridge envelope) after it issued, renewed or re-imported a certificate."""
    return {
        "version": "0",
        "id": "5f2b0e1c-0a2f-4c39-9c7e-7f9b7e0e0c11",
        "detail-type": "ACM Certificate Available",
        "source": "aws.acm",
        "account": info["account_id"],
        "time": utc_iso(dt.datetime.now(dt.UTC)),
        "region": info["region"],
        "resources": [arn],
        "detail": {"Action": action, "CertificateType": "PRIVATE", "CommonName": "intranet.corp.test", "InUse": False},
    }


def test_export_then_acm_renewal_reaches_the_nodes(sandbox: dict[str, Any]) -> None:
    # Given an exportable ACM certificate and two nodes tagged for it
    name, tag = unique("intranet"), unique("intranet")
    directory = f"/etc/pki/{name}"
    arn = private_ca_certificate(sandbox, "intranet.corp.test")
    nodes = start_nodes(sandbox, 2, access_group=name, app=tag)  # the profile gives the access group: the name

    # When it is registered for distribution with certctl export
    completed = certctl(
        sandbox,
        "export",
        "--certificate-arn",
        arn,
        "--name",
        name,
        "--distribution-profile",
        distribution_profile(sandbox, directory, "app", tag, access_group=name)["profile"],
        "--json",
    )

    # Then it is exported, stored and on both nodes, the key matching the certificate ACM holds
    assert completed.returncode == 0, completed.stderr + completed.stdout
    first = json.loads(completed.stdout)
    assert (first["status"], first["distribution"]["status"]) == ("exported", "succeeded"), first
    acm = target_of(sandbox).client("acm")
    assert serial_of(acm.get_certificate(CertificateArn=arn)["Certificate"]) == first["serial"]
    for node in nodes:
        files = installed(node, directory)
        assert serial_of(files["cert.pem"]["text"]) == first["serial"]
        assert key_matches(files["cert.pem"]["text"], files["privkey.pem"]["text"])
        assert files["privkey.pem"]["mode"] == 0o600
    item = inventory_item(sandbox, name)
    assert (item["source"], item["certificate_arn"], item["distribution_status"]) == ("acm", arn, "distributed")

    # When ACM renews it and says so (other actions, and certificates not registered, are left alone)
    acm.renew_certificate(CertificateArn=arn)
    assert invoke(sandbox, "handle_certificate_available", available_event(sandbox, arn, "ISSUANCE"))["outcome"] == (
        "ignored"
    )
    stranger = private_ca_certificate(sandbox, "stranger.corp.test")
    assert invoke(sandbox, "handle_certificate_available", available_event(sandbox, stranger, "RENEWAL"))[
        "outcome"
    ] == ("not_registered")
    answer = invoke(sandbox, "handle_certificate_available", available_event(sandbox, arn, "RENEWAL"))
    assert answer["outcome"] == "started", answer
    renewed = result_of(wait(target_of(sandbox), answer["execution_arn"], 120, None))

    # Then the renewed certificate is exported again and reaches both nodes
    assert (renewed["status"], renewed["distribution"]["status"]) == ("exported", "succeeded"), renewed
    assert renewed["serial"] != first["serial"]
    assert bundle(sandbox, name)["serial"] == renewed["serial"]
    for node in nodes:
        files = installed(node, directory)
        assert serial_of(files["cert.pem"]["text"]) == renewed["serial"]
        assert key_matches(files["cert.pem"]["text"], files["privkey.pem"]["text"])
        assert serial_of(node.path(f"{directory}/cert.pem.previous").read_text()) == first["serial"]
    assert [event["event"] for event in inventory_item(sandbox, name)["history"]] == ["exported", "exported"]


def self_signed(domain: str) -> tuple[bytes, bytes]:
    certificate, key = certificates.self_signed(domain, dns_name=True)
    return certificate_pem(certificate).encode(), key_pem(key).encode()


def test_export_refuses_imported_certificates_and_names_taken(sandbox: dict[str, Any]) -> None:
    # Given a certificate imported into ACM (ACM cannot export those), and one of the pipeline's own
    target = target_of(sandbox)
    certificate, key = self_signed("imported.corp.test")
    imported = target.client("acm").import_certificate(
        Certificate=certificate,
        PrivateKey=key,
        Tags=[{"Key": EXPORT_ALLOWED_TAG, "Value": sandbox["resource_prefix"]}],  # its owner allows it: ACM refuses
    )["CertificateArn"]
    name = unique("imported")

    # When certctl export is asked for the imported one
    completed = certctl(sandbox, "export", "--certificate-arn", imported, "--name", name, "--json")

    # Then ACM's refusal is the error, and nothing is registered
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["error"] == "ExportRefused", completed.stdout
    assert target.inventory.get(name) is None

    # When a name the pipeline issues through ACME is given for an exportable certificate
    acme_name = unique("acme")
    issued = issue(sandbox, name=acme_name, domains=[f"{acme_name}.example.test"])
    assert issued["status"] == "issued", issued
    exportable = private_ca_certificate(sandbox, "other.corp.test")
    completed = certctl(sandbox, "export", "--certificate-arn", exportable, "--name", acme_name, "--json")

    # Then it is refused before anything is exported, and the ACME certificate is untouched
    assert completed.returncode == 1
    refused = json.loads(completed.stdout)
    assert refused["error"] == "InvalidRequest"
    assert "issues through ACME" in refused["message"]
    assert bundle(sandbox, acme_name)["serial"] == issued["serial"]


def test_an_export_whose_distribution_cannot_be_sent_stands_and_records_the_failed_distribution(
    sandbox: dict[str, Any],
) -> None:
    # Given an exportable ACM certificate registered with a profile, and SSM refusing every command for it
    name, tag = unique("unsendable"), unique("unsendable")
    arn = private_ca_certificate(sandbox, "unsendable.corp.test")
    profile = distribution_profile(sandbox, f"/etc/pki/{name}", "app", tag, access_group=name)["profile"]
    switch = FaultSwitch(sandbox)
    refused = {"at": "aws", "operation": "ssm.SendCommand", "fault": "error", "times": 0, "certificate": name}
    switch.inject({**refused, "id": "refused", "code": "AccessDeniedException", "status": 400})

    # When it is exported
    try:
        completed = certctl(
            sandbox, "export", "--certificate-arn", arn, "--name", name, "--distribution-profile", profile, "--json"
        )
    finally:
        switch.clear()

    # Then the export stands and the distribution is recorded as failed, with the error that stopped it
    result = json.loads(completed.stdout)
    assert (result["status"], result.get("distribution", {}).get("status")) == ("exported", "failed"), result
    assert result["distribution"]["error"] == "AwsError", result
    item = inventory_item(sandbox, name)
    assert (item["source"], item["distribution_status"]) == ("acm", "distribution_failed"), item
    assert item["distribution"] == {"profile": profile}
