"""sandbox.iam.requests for AWS Private CA: each operation is authorized on the request's CA, so a role granted one
CA is judged on exactly that ARN; and the requests are read as botocore sends them (JSON, although acm-pca's model
names smithy-rpc-v2-cbor first)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from sandbox.iam.wire import Unmapped, protocol_of, service_model
from tests.unit.iam_request_capture import ACCOUNT, REGION, authorize, only

CA = f"arn:aws:acm-pca:{REGION}:{ACCOUNT}:certificate-authority/11223344-5566-7788-99aa-bbccddeeff00"


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def test_clients_speak_json_to_acm_pca() -> None:
    # Given acm-pca's model, which offers CBOR first and JSON too
    model = service_model("acm-pca")
    # When / Then the protocol read is the one botocore's clients choose: JSON
    assert model.protocol == "smithy-rpc-v2-cbor"
    assert protocol_of(model) == "json"


@pytest.mark.parametrize(
    ("operation", "params", "action"),
    [
        (
            "issue_certificate",
            {
                "Csr": b"-----BEGIN CERTIFICATE REQUEST-----",
                "SigningAlgorithm": "SHA256WITHRSA",
                "Validity": {"Value": 1, "Type": "DAYS"},
            },
            "acm-pca:IssueCertificate",
        ),
        ("get_certificate", {"CertificateArn": f"{CA}/certificate/abc"}, "acm-pca:GetCertificate"),
        (
            "revoke_certificate",
            {"CertificateSerial": "01:02", "RevocationReason": "SUPERSEDED"},
            "acm-pca:RevokeCertificate",
        ),
    ],
)
def test_each_operation_is_authorized_on_its_ca(
    moto: None, operation: str, params: dict[str, Any], action: str
) -> None:
    # Given a request to the CA
    # When it is mapped
    request = only(authorize("acm-pca", operation, CertificateAuthorityArn=CA, **params))
    # Then it is the operation's action on that CA's ARN
    assert (request.action, request.resource) == (action, CA)


def test_an_operation_not_mapped_is_never_allowed(moto: None) -> None:
    # Given an acm-pca operation the stack never grants
    # When / Then it cannot be judged: the enforcement refuses it
    with pytest.raises(Unmapped, match="acm-pca: DeleteCertificateAuthority is not mapped"):
        authorize("acm-pca", "delete_certificate_authority", CertificateAuthorityArn=CA)
