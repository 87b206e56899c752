"""AWS Private CA (acm-pca) requests as the IAM authorizations AWS checks.

The Service Authorization Reference gives IssueCertificate, GetCertificate and RevokeCertificate the
certificate-authority resource (required): each is authorized on the request's CertificateAuthorityArn, so a role
granted one CA cannot issue from, read or revoke at another. The CA's tags (aws:ResourceTag) are not read here: no
policy of the stack conditions on them, and a policy that did would be judged without them (not mapped: AccessDenied).
"""

from __future__ import annotations

from sandbox.iam.authz import Call, required
from sandbox.iam.evaluator import Request
from sandbox.iam.wire import Unmapped

CERTIFICATE_AUTHORITY_OPERATIONS = frozenset(
    {
        "IssueCertificate",
        "GetCertificate",
        "RevokeCertificate",
        "DescribeCertificateAuthority",
        "GetCertificateAuthorityCertificate",
    }
)


def acm_pca_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or a request without its CA."""
    operation = call.operation
    if operation == "ListCertificateAuthorities":
        return [call.authorize(f"acm-pca:{operation}", "*")]
    if operation not in CERTIFICATE_AUTHORITY_OPERATIONS:
        raise Unmapped(f"acm-pca: {operation} is not mapped")
    ca_arn = required(call.body(), "CertificateAuthorityArn", operation)
    return [call.authorize(f"acm-pca:{operation}", ca_arn)]
