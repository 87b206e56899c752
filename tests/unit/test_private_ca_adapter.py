"""The acm-pca adapter against moto (with the sandbox's fixes of moto's acm-pca): issue from our CSR, fetch with the
chain, revoke by serial; and how acm-pca's errors are classified."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography import x509
from moto import mock_aws
from moto.acmpca.models import acmpca_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from certlib.adapters.aws_errors import AwsError
from certlib.adapters.private_ca import PrivateCa, colon_serial, idempotency_token
from certlib.exceptions import PrivateCaCertificatePending, TransientError
from certlib.keys import check_bundle, csr_pem, generate_private_key, key_matches_certificate, names_of
from sandbox.moto_pca import apply_private_ca_fixes, create_private_ca

REGION = "eu-west-1"
TEMPLATE = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"


@pytest.fixture
def pca() -> Iterator[tuple[Any, str]]:
    apply_private_ca_fixes()
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        ca_arn = create_private_ca(session, None)  # no endpoint: moto in process
        yield session.client("acm-pca"), ca_arn


def issue(adapter: PrivateCa, ca_arn: str, csr: bytes, token: str, days: int = 30) -> str:
    return adapter.issue(
        ca_arn, csr, signing_algorithm="SHA256WITHRSA", template_arn=TEMPLATE, validity_days=days, token=token
    )


def test_the_certificate_has_our_key_and_names_and_a_chain_that_links_up(pca: tuple[Any, str]) -> None:
    # Given a key and its CSR for two names
    client, ca_arn = pca
    adapter = PrivateCa(client)
    key = generate_private_key("ec256")
    # When it is issued for 30 days and fetched
    arn = issue(adapter, ca_arn, csr_pem(key, ["app.corp.test", "api.corp.test"]), "token-1")
    issued = adapter.certificate(ca_arn, arn)
    # Then it holds our public key and names, lasts 30 days, and is signed by the CA's certificate (its chain)
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    chain = x509.load_pem_x509_certificates(issued.chain_pem.encode())
    assert key_matches_certificate(certificate, key)
    assert sorted(names_of(certificate)) == ["api.corp.test", "app.corp.test"]
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days == 30
    check_bundle(certificate, chain, key)  # raises CertificateCheckFailed if not
    assert chain[0].subject == chain[0].issuer  # the sandbox's CA is a root


def test_a_retried_issue_with_the_same_token_returns_the_same_certificate(pca: tuple[Any, str]) -> None:
    # Given one issuance's token, and a different one
    client, ca_arn = pca
    adapter = PrivateCa(client)
    csr = csr_pem(generate_private_key("ec256"), ["app.corp.test"])
    token = idempotency_token("arn:aws:states:eu-west-1:123456789012:execution:lifecycle:one", "app")
    # When IssueCertificate is called twice with it (a retried step), then with another token
    first, again = issue(adapter, ca_arn, csr, token), issue(adapter, ca_arn, csr, token)
    other = issue(adapter, ca_arn, csr, idempotency_token("another execution", "app"))
    # Then the retry got the first certificate; another execution gets its own
    assert first == again
    assert other != first


def test_revoke_by_serial_is_recorded_at_the_ca_and_safe_to_repeat(pca: tuple[Any, str]) -> None:
    # Given an issued certificate
    client, ca_arn = pca
    adapter = PrivateCa(client)
    arn = issue(adapter, ca_arn, csr_pem(generate_private_key("ec256"), ["app.corp.test"]), "token-r")
    certificate = x509.load_pem_x509_certificate(adapter.certificate(ca_arn, arn).certificate_pem.encode())
    serial = format(certificate.serial_number, "x")
    # When it is revoked by its serial (as the inventory keeps it: lower-case hex), twice
    adapter.revoke(ca_arn, serial, "KEY_COMPROMISE")
    adapter.revoke(ca_arn, serial, "KEY_COMPROMISE")
    # Then the CA holds it revoked, with the reason
    revoked = acmpca_backends[DEFAULT_ACCOUNT_ID][REGION].describe_certificate_authority(ca_arn).revoked_certificates
    digits = format(certificate.serial_number, "X")  # moto's own spelling, which its GetCertificate looks up
    assert revoked.keys() == {":".join(digits[index : index + 2] for index in range(0, len(digits), 2))}
    assert [entry["revocation_reason"] for entry in revoked.values()] == ["KEY_COMPROMISE"]


def test_request_in_progress_is_pending_and_other_errors_are_classified() -> None:
    # Given acm-pca answering "still issuing", then throttling, then access denied
    client = boto3.client("acm-pca", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    adapter = PrivateCa(client)
    with Stubber(client) as stub:
        for code in ("RequestInProgressException", "ThrottlingException", "AccessDeniedException"):
            stub.add_client_error("get_certificate", service_error_code=code, http_status_code=400)
        # When the certificate is fetched each time
        # Then: pending (the state machine waits), transient (retried), terminal (with what was being done)
        with pytest.raises(PrivateCaCertificatePending):
            adapter.certificate("arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/ca", "arn:c")
        with pytest.raises(TransientError):
            adapter.certificate("arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/ca", "arn:c")
        with pytest.raises(AwsError, match="reading the certificate arn:c from the Private CA: AccessDeniedException"):
            adapter.certificate("arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/ca", "arn:c")


def test_serials_are_spelled_as_acm_pca_takes_them() -> None:
    assert colon_serial("4a3f09") == "4A:3F:09"
    assert colon_serial("a3f09") == "0A:3F:09"
