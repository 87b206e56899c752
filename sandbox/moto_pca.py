"""AWS Private CA in the sandbox: the CA `sandbox-pca` issues from, and where moto 5.2.5's acm-pca differs from AWS.

moto's gaps (acmpca/models.py and responses.py), each fixed here for the whole process by `apply_private_ca_fixes`:
- IssueCertificate ignores IdempotencyToken: a retried call issues a second certificate. AWS returns the first one
  for the same token (within 5 minutes); our issue step relies on it to be safe to repeat.
- IssueCertificate ignores Validity: every certificate is valid 365 days. AWS issues for the Validity asked for, which
  is what the account's `validity-days` and so its renewal timing mean.
- RevokeCertificate keeps the serial as given, and GetCertificate looks a revoked one up by moto's own spelling
  (upper-case hex pairs with colons, without a leading zero): a serial given with its leading zero (as openssl prints
  it) is then never seen revoked. The serial is kept in moto's spelling here.
Otherwise moto does what the pipeline needs: the certificate has the CSR's public key, subject and SANs, and
GetCertificate returns it with the CA's certificate as its chain (a self-signed root for a ROOT CA).
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from moto.acmpca.models import ACMPCABackend
from moto.acmpca.responses import ACMPCAResponse

ROOT_TEMPLATE_ARN = "arn:aws:acm-pca:::template/RootCACertificate/V1"
SANDBOX_CA_COMMON_NAME = "ACME Sandbox Private CA"
_issued_by_token: dict[tuple[str, str], str] = {}
_lock = threading.Lock()
_original_issue = ACMPCAResponse.issue_certificate
_original_revoke = ACMPCABackend.revoke_certificate


def create_private_ca(
    session: boto3.Session, endpoint_url: str | None, common_name: str = SANDBOX_CA_COMMON_NAME
) -> str:
    """A ROOT Private CA, activated with its self-signed certificate (as the console's "install CA certificate" does);
    returns its ARN."""
    client = session.client("acm-pca", endpoint_url=endpoint_url)
    ca_arn = str(
        client.create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "RSA_2048",
                "SigningAlgorithm": "SHA256WITHRSA",
                "Subject": {"CommonName": common_name, "Organization": "ACME certificates sandbox"},
            },
            CertificateAuthorityType="ROOT",
        )["CertificateAuthorityArn"]
    )
    csr = client.get_certificate_authority_csr(CertificateAuthorityArn=ca_arn)["Csr"]
    root_arn = client.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=csr.encode(),
        SigningAlgorithm="SHA256WITHRSA",
        TemplateArn=ROOT_TEMPLATE_ARN,
        Validity={"Value": 3650, "Type": "DAYS"},
    )["CertificateArn"]
    root = client.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=root_arn)["Certificate"]
    client.import_certificate_authority_certificate(CertificateAuthorityArn=ca_arn, Certificate=root.encode())
    return ca_arn


def _issue_certificate_as_aws_does(self: ACMPCAResponse) -> str:
    """IssueCertificate with IdempotencyToken and Validity (DAYS) honoured."""
    params = json.loads(self.body)
    ca_arn, token = str(params.get("CertificateAuthorityArn")), params.get("IdempotencyToken")
    with _lock:
        if token and (ca_arn, token) in _issued_by_token:
            return json.dumps({"CertificateArn": _issued_by_token[(ca_arn, token)]})
        answer = _original_issue(self)
        certificate_arn = json.loads(answer)["CertificateArn"]
        validity = params.get("Validity") or {}
        if validity.get("Type") == "DAYS" and params.get("TemplateArn") != ROOT_TEMPLATE_ARN:
            _set_validity(self.acmpca_backend, ca_arn, certificate_arn, int(validity["Value"]))
        if token:
            _issued_by_token[(ca_arn, token)] = certificate_arn
        return answer


def _set_validity(backend: ACMPCABackend, ca_arn: str, certificate_arn: str, days: int) -> None:
    """Sign the issued certificate again, the same in all but its notAfter (notBefore + `days`)."""
    authority = backend.describe_certificate_authority(ca_arn)
    issued = x509.load_pem_x509_certificate(authority.issued_certificates[certificate_arn])
    builder = (
        x509.CertificateBuilder()
        .subject_name(issued.subject)
        .issuer_name(issued.issuer)
        .public_key(issued.public_key())
        .serial_number(issued.serial_number)
        .not_valid_before(issued.not_valid_before_utc)
        .not_valid_after(issued.not_valid_before_utc + dt.timedelta(days=days))
    )
    for extension in issued.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    signed = builder.sign(authority.key, hashes.SHA256())
    authority.issued_certificates[certificate_arn] = signed.public_bytes(serialization.Encoding.PEM)


def _revoke_certificate_in_moto_spelling(
    self: ACMPCABackend, certificate_authority_arn: str, certificate_serial: str, revocation_reason: str
) -> None:
    digits = format(int(certificate_serial.replace(":", ""), 16), "X")
    spelled = ":".join(digits[index : index + 2] for index in range(0, len(digits), 2))
    _original_revoke(self, certificate_authority_arn, spelled, revocation_reason)


def apply_private_ca_fixes() -> None:
    """Patch moto's acm-pca, for this whole process (idempotent)."""
    ACMPCAResponse.issue_certificate = _issue_certificate_as_aws_does  # type: ignore[method-assign]
    ACMPCABackend.revoke_certificate = _revoke_certificate_in_moto_spelling  # type: ignore[method-assign]
