"""Whoever may write the inventory cannot make the import step overwrite an ACM certificate that is not ours: the step
re-imports only into a certificate this deployment imported for that name (certlib/adapters/acm.py), and its role may
re-import only into one tagged for this deployment (stacks/permissions/lifecycle.py, enforced by the sandbox's IAM)."""

from __future__ import annotations

import uuid
from typing import Any

from certlib.keys import generate_private_key, private_key_to_pem
from certlib.resources import acm_ownership_tags
from tests.certificates import certificate_pem, self_signed
from tests.lifecycle.helpers import inventory_item, issue, target_of
from tests.security.test_iam_enforcement import as_role, client, error_code, role_of


def someone_elses_certificate(info: dict[str, Any], domain: str) -> str:
    """An ACM certificate another team imported (without our tags), in the sandbox's region, as the operator."""
    key = generate_private_key("ec256")
    certificate, _ = self_signed(domain, key=key, backdated_days=1, dns_name=True)
    return str(
        target_of(info)
        .client("acm")
        .import_certificate(
            Certificate=certificate_pem(certificate).encode(),
            PrivateKey=private_key_to_pem(key).encode(),
            Tags=[{"Key": "team", "Value": "payments"}],
        )["CertificateArn"]
    )


def serial_in_acm(info: dict[str, Any], arn: str) -> str:
    return str(target_of(info).client("acm").describe_certificate(CertificateArn=arn)["Certificate"]["Serial"])


def import_arguments(domain: str) -> dict[str, bytes]:
    """A self-signed EC certificate for `domain` and its key, as ImportCertificate takes them."""
    key = generate_private_key("ec256")
    certificate, _ = self_signed(domain, key=key, backdated_days=1, dns_name=True)
    return {"Certificate": certificate_pem(certificate).encode(), "PrivateKey": private_key_to_pem(key).encode()}


def test_an_arn_written_into_the_inventory_does_not_get_someone_elses_certificate_overwritten(
    sandbox: dict[str, Any],
) -> None:
    # Given an issued certificate, and another team's ACM certificate whose ARN someone with write access to the
    # inventory (here the operator's credentials) recorded as the certificate's ARN in the region
    name = f"hijack-{uuid.uuid4().hex[:8]}"
    domain = f"{name}.example.test"
    region = sandbox["region"]
    first = issue(sandbox, name=name, domains=[domain])
    assert first["status"] == "issued", first
    theirs = someone_elses_certificate(sandbox, f"payments-{name}.example.test")
    before = serial_in_acm(sandbox, theirs)
    target = target_of(sandbox)
    target.client("dynamodb").update_item(
        TableName=target.names.inventory_table,
        Key={"name": {"S": name}},
        UpdateExpression="SET certificate_arns.#r = :arn",
        ExpressionAttributeNames={"#r": region},
        ExpressionAttributeValues={":arn": {"S": theirs}},
    )

    # When the certificate is renewed
    second = issue(sandbox, name=name, domains=[domain])

    # Then the import is refused, the result says so and names the ARN, and their certificate is what it was
    assert (second["status"], second["error"]) == ("failed", "ImportFailed"), second
    assert "ImportRefused" in second["message"], second
    assert theirs in second["message"], second
    assert "is not a certificate this deployment imported" in second["message"], second
    assert serial_in_acm(sandbox, theirs) == before
    tags = target.client("acm").list_tags_for_certificate(CertificateArn=theirs)["Tags"]
    assert tags == [{"Key": "team", "Value": "payments"}]
    assert inventory_item(sandbox, name)["certificate_arns"] == {region: theirs}


def test_the_import_role_may_reimport_only_into_this_deployments_certificates(sandbox: dict[str, Any]) -> None:
    # Given the import step's role, another team's certificate, and one of ours (issued through the pipeline)
    acm = client(sandbox, as_role(sandbox, role_of(sandbox, "import_certificate")), "acm")
    name = f"reimport-{uuid.uuid4().hex[:8]}"
    theirs = someone_elses_certificate(sandbox, f"payments-{name}.example.test")
    before = serial_in_acm(sandbox, theirs)
    issued = issue(sandbox, name=name, domains=[f"{name}.example.test"])
    assert issued["status"] == "issued", issued
    ours = issued["certificate_arn"]

    # When it re-imports into theirs, Then AccessDenied, and their certificate is unchanged
    replacement = import_arguments(f"payments-{name}.example.test")
    assert error_code(lambda: acm.import_certificate(CertificateArn=theirs, **replacement)) == "AccessDeniedException"
    assert serial_in_acm(sandbox, theirs) == before

    # And into ours, allowed (its tags stay: ACM keeps them on a re-import)
    reimported = acm.import_certificate(CertificateArn=ours, **import_arguments(f"{name}.example.test"))
    assert reimported["CertificateArn"] == ours
    tags = acm.list_tags_for_certificate(CertificateArn=ours)["Tags"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == acm_ownership_tags(sandbox["resource_prefix"], name)


def test_the_import_role_imports_a_new_certificate_only_with_this_deployments_tags(sandbox: dict[str, Any]) -> None:
    # Given the import step's role
    acm = client(sandbox, as_role(sandbox, role_of(sandbox, "import_certificate")), "acm")
    name = f"new-{uuid.uuid4().hex[:8]}"
    ours = acm_ownership_tags(sandbox["resource_prefix"], name)

    def new_import(tags: dict[str, str]) -> Any:
        tag_list = [{"Key": key, "Value": value} for key, value in tags.items()]
        extra = {"Tags": tag_list} if tag_list else {}
        return lambda: acm.import_certificate(**import_arguments(f"{name}.example.test"), **extra)

    # When it imports a new certificate without tags, with another deployment's, or with one tag more
    # Then AccessDenied each time
    for tags in ({}, {**ours, "managed-by": "other-deployment"}, {**ours, "team": "payments"}):
        assert error_code(new_import(tags)) == "AccessDeniedException", tags
    # And with exactly this deployment's tags, allowed
    assert new_import(ours)()["CertificateArn"].startswith(f"arn:aws:acm:{sandbox['region']}:")
