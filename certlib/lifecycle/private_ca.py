"""The lifecycle's AWS Private CA branch (certlib.private_ca accounts): issue from a CSR, then fetch, check and store.

The key is made and kept as for an ACME order (certlib.lifecycle.keeping.pending_private_key), the certificate is
checked and stored as an ACME one is (certlib.lifecycle.keeping.keep_certificate); the state machine then joins
the ACME path at ImportCertificate.
"""

from __future__ import annotations

from dataclasses import replace

from certlib.adapters.private_ca import idempotency_token
from certlib.config import AccountConfig
from certlib.exceptions import InvalidRequest
from certlib.keys import csr_pem, split_pem_chain
from certlib.lifecycle.keeping import keep_certificate, pending_private_key
from certlib.lifecycle.request import Request
from certlib.lifecycle.state import PrivateCaIssuance, PrivateCaStepInput, StoredCertificate
from certlib.private_ca import KIND, issuance_reference, signing_algorithm_for
from certlib.renewal.timing import plan_renewal
from certlib.services import Services


def issue_from_private_ca(request: Request, services: Services) -> PrivateCaIssuance:
    """A fresh key (kept in the certificate's secret) and its CSR to acm-pca:IssueCertificate; returns the CA's and the
    new certificate's ARNs. Safe to repeat: the execution's pending key is reused, and the idempotency token (from the
    execution and the certificate's name) makes a retried call return the same certificate.

    Raises InvalidRequest when the account is not a Private CA account; TransientError, AwsError.
    """
    account = private_ca_account(services, request)
    ca_arn = str(account.private_ca_arn)
    key = pending_private_key(request, services, issuance_reference(request.execution_id))
    certificate_arn = services.private_ca(ca_arn).issue(
        ca_arn,
        csr_pem(key, request.domains),
        signing_algorithm=signing_algorithm_for(account.signing_algorithm, request.key_type),
        template_arn=str(account.template_arn),
        validity_days=int(account.validity_days or 0),
        token=idempotency_token(request.execution_id, request.name),
    )
    return PrivateCaIssuance(ca_arn, certificate_arn)


def check_private_ca_certificate(step: PrivateCaStepInput, services: Services) -> StoredCertificate:
    """GetCertificate; then the same checks and store as for an ACME certificate (key, names, chain). Returns what
    StoreCertificate returns, with `issued_by`.

    Raises PrivateCaCertificatePending while the CA issues (the state machine retries), CertificateCheckFailed,
    TransientError, AwsError.
    """
    request = step.request
    ca_arn, certificate_arn = step.private_ca.ca_arn, step.private_ca.certificate_arn
    issued = services.private_ca(ca_arn).certificate(ca_arn, certificate_arn)
    certificate, *chain = split_pem_chain(f"{issued.certificate_pem.strip()}\n{issued.chain_pem.strip()}\n")
    account = services.account(request.account)
    plan = plan_renewal(
        certificate.not_valid_before_utc, certificate.not_valid_after_utc, account.renew_before_days, None
    )
    kept = keep_certificate(request, services, certificate, chain, issuance_reference(request.execution_id), plan)
    issued_by = {"kind": KIND, "account": request.account, "ca_arn": ca_arn}
    return replace(kept, private_ca_certificate_arn=certificate_arn, issued_by=issued_by)


def private_ca_account(services: Services, request: Request) -> AccountConfig:
    """The request's account, which must be a Private CA account; raises InvalidRequest otherwise."""
    account = services.account(request.account)
    if account.kind != KIND:
        raise InvalidRequest(f"account {account.alias!r} is not an AWS Private CA account (no private-ca-arn)")
    return account
