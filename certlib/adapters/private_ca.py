"""AWS Private CA (acm-pca): issue a certificate from a CSR, fetch it, revoke it. The only place acm-pca is called."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import PrivateCaCertificatePending

# IssueCertificate's IdempotencyToken: 1-36 characters of [a-zA-Z0-9_-]... in practice [\w-]; we send 32 hex.
IDEMPOTENCY_TOKEN_LENGTH = 32


@dataclass(frozen=True)
class IssuedCertificate:
    certificate_pem: str
    chain_pem: str  # the CA's certificate and its own chain, issuer first ("" for none)


def idempotency_token(*parts: str) -> str:
    """A token derived from what identifies one issuance (the execution and the certificate): a retried
    IssueCertificate with it returns the same certificate instead of a second one (AWS keeps it for 5 minutes)."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:IDEMPOTENCY_TOKEN_LENGTH]


class PrivateCa:
    """acm-pca, with its client passed in. Raises TransientError (throttling, 5xx, network) or AwsError (the rest),
    each saying what was being done."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def issue(
        self,
        ca_arn: str,
        csr_pem: bytes,
        *,
        signing_algorithm: str,
        template_arn: str,
        validity_days: int,
        token: str,
    ) -> str:
        """IssueCertificate; returns the new certificate's ARN."""
        try:
            answer = self._client.issue_certificate(
                CertificateAuthorityArn=ca_arn,
                Csr=csr_pem,
                SigningAlgorithm=signing_algorithm,
                TemplateArn=template_arn,
                Validity={"Value": validity_days, "Type": "DAYS"},
                IdempotencyToken=token,
            )
        except ClientError as exc:
            raise_classified(exc, f"issuing a certificate from the Private CA {ca_arn}")
        return str(answer["CertificateArn"])

    def certificate(self, ca_arn: str, certificate_arn: str) -> IssuedCertificate:
        """GetCertificate. Raises PrivateCaCertificatePending while the CA is still issuing."""
        try:
            answer = self._client.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=certificate_arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "RequestInProgressException":
                raise PrivateCaCertificatePending(f"the Private CA is still issuing {certificate_arn}") from exc
            raise_classified(exc, f"reading the certificate {certificate_arn} from the Private CA")
        return IssuedCertificate(str(answer["Certificate"]), str(answer.get("CertificateChain") or ""))

    def revoke(self, ca_arn: str, serial_hex: str, reason: str) -> None:
        """RevokeCertificate of the certificate with this serial (hex, any case, no separators); `reason` is ACM PCA's
        RevocationReason. Revoking a certificate already revoked is success (safe to repeat)."""
        serial = colon_serial(serial_hex)
        try:
            self._client.revoke_certificate(
                CertificateAuthorityArn=ca_arn, CertificateSerial=serial, RevocationReason=reason
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "RequestAlreadyProcessedException":
                return
            raise_classified(exc, f"revoking the certificate with serial {serial} at the Private CA {ca_arn}")


def colon_serial(serial_hex: str) -> str:
    """'4a3f09' -> '4A:3F:09': the form acm-pca's RevokeCertificate takes (as openssl prints it)."""
    digits = serial_hex.replace(":", "").upper()
    digits = digits if len(digits) % 2 == 0 else f"0{digits}"
    return ":".join(digits[index : index + 2] for index in range(0, len(digits), 2))
