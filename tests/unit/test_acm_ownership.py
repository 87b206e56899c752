"""The import step re-imports only into an ACM certificate this deployment imported for that name (its tags)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography import x509
from moto import mock_aws

from certlib.adapters.acm import Acm
from certlib.exceptions import ImportRefused
from certlib.keys import PrivateKey, generate_private_key, private_key_to_pem, to_pem
from tests.certificates import issued

REGION = "us-east-1"
DEPLOYMENT = "acme-certs"
NAME = "web"


def _certificate(subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey) -> x509.Certificate:
    return issued(subject, key, issuer, issuer_key, ca=subject == issuer, days=30, backdated_days=1)


def bundle() -> dict[str, str]:
    """A new certificate for www.example.test, its chain and key, as Acm.import_certificate takes them."""
    ca_key, key = generate_private_key("ec256"), generate_private_key("ec256")
    ca = _certificate("test ca", ca_key, "test ca", ca_key)
    return {
        "certificate_pem": to_pem([_certificate("www.example.test", key, "test ca", ca_key)]),
        "chain_pem": to_pem([ca]),
        "private_key_pem": private_key_to_pem(key),
    }


@pytest.fixture
def acm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("acm", region_name=REGION)


def imported(acm: Any, tags: dict[str, str]) -> str:
    """An ACM certificate someone imported with these tags (none: someone else's)."""
    pem = bundle()
    arguments: dict[str, Any] = {
        "Certificate": pem["certificate_pem"].encode(),
        "PrivateKey": pem["private_key_pem"].encode(),
        "CertificateChain": pem["chain_pem"].encode(),
    }
    if tags:
        arguments["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return str(acm.import_certificate(**arguments)["CertificateArn"])


def serial(acm: Any, arn: str) -> str:
    return str(acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"])


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {"managed-by": "acme-certificates", "certificate-name": NAME},  # tagged before tags named the deployment
        {"managed-by": "other-deployment", "certificate-name": NAME},
        {"managed-by": DEPLOYMENT, "certificate-name": "another-name"},
    ],
    ids=["someone-elses", "older-tag", "other-deployment", "other-name"],
)
def test_a_recorded_arn_that_is_not_ours_is_refused_and_left_alone(acm: Any, tags: dict[str, str]) -> None:
    # Given an ACM certificate that is not this deployment's certificate of that name, recorded as its ARN
    arn = imported(acm, tags)
    before = serial(acm, arn)

    # When the certificate is imported with that ARN
    with pytest.raises(ImportRefused) as refused:
        Acm(acm, DEPLOYMENT).import_certificate(NAME, **bundle(), existing_arn=arn)

    # Then refused, naming the ARN and the tags it lacks; nothing imported, that certificate unchanged
    assert arn in str(refused.value)
    assert f"managed-by={DEPLOYMENT}, certificate-name={NAME}" in str(refused.value)
    assert serial(acm, arn) == before
    assert len(acm.list_certificates()["CertificateSummaryList"]) == 1


def test_a_new_import_carries_our_tags_and_a_renewal_reimports_into_it(acm: Any) -> None:
    # Given this deployment's first import of the certificate
    ours = Acm(acm, DEPLOYMENT)
    arn = ours.import_certificate(NAME, **bundle(), existing_arn=None)
    tags = {tag["Key"]: tag.get("Value") for tag in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}
    before = serial(acm, arn)

    # When it is renewed with that ARN recorded
    renewed = ours.import_certificate(NAME, **bundle(), existing_arn=arn)

    # Then the first import carried the deployment and the name; the renewal went into the same certificate
    assert tags == {"managed-by": DEPLOYMENT, "certificate-name": NAME}
    assert renewed == arn
    assert serial(acm, arn) != before


def test_another_deployment_never_finds_our_unrecorded_import(acm: Any) -> None:
    # Given a certificate another deployment imported for the same name and never recorded
    theirs = Acm(acm, "other-deployment").import_certificate(NAME, **bundle(), existing_arn=None)
    before = serial(acm, theirs)

    # When this deployment imports its own for that name, with no ARN recorded
    ours = Acm(acm, DEPLOYMENT).import_certificate(NAME, **bundle(), existing_arn=None)

    # Then it imports a new certificate instead of re-importing into theirs
    assert ours != theirs
    assert serial(acm, theirs) == before
