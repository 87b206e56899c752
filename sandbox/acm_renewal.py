"""ACM's managed renewal, played by the sandbox: RenewCertificate, which moto 5.2.5 (pinned) lacks.

On AWS, ACM renews a private CA certificate (RenewCertificate, or on its own before expiry) and a public exportable
one (on its own) under the same ARN, then sends "ACM Certificate Available" with Action RENEWAL. Here
`acm.renew_certificate(CertificateArn=...)` on the sandbox gives the ARN a new key and certificate (same names, type,
options and tags), so a test can then hand that event to handle_certificate_available and see the renewal reach the
nodes. Only exportable certificates (PRIVATE, or requested with Export ENABLED) renew; others are refused as ACM
refuses them. moto internals (`CertBundle`, `AWSCertificateManagerBackend`): moto is pinned.
"""

from __future__ import annotations

from moto.acm.exceptions import AWSValidationException
from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.acm.responses import AWSCertificateManagerResponse
from moto.core.responses import ActionResult


def _renew(backend: AWSCertificateManagerBackend, arn: str) -> None:
    current = backend.get_certificate(arn)
    if current.type != "PRIVATE" and current.cert_options.get("Export") != "ENABLED":
        raise AWSValidationException(f"Certificate {arn} is not eligible for renewal through RenewCertificate")
    renewed = CertBundle.generate_cert(
        str(current.common_name),
        account_id=backend.account_id,
        region=backend.region_name,
        sans=list(current.sans),
        cert_authority_arn=current.cert_authority_arn,
    )
    renewed.arn = arn
    renewed.type = current.type
    renewed.status = "ISSUED"
    renewed.tags = current.tags
    renewed.cert_options = dict(current.cert_options)
    renewed.in_use_by = current.in_use_by
    backend._certificates[arn] = renewed


def _renew_certificate(self: AWSCertificateManagerResponse) -> ActionResult:
    _renew(self.acm_backend, self._get_param("CertificateArn"))
    return ActionResult({})


def install() -> None:
    """Add RenewCertificate to this process's moto (idempotent)."""
    AWSCertificateManagerResponse.renew_certificate = _renew_certificate  # type: ignore[attr-defined]
