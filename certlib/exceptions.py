"""Every error a lifecycle step raises, in one place.

The class name is the Step Functions error name (Lambda reports it as `errorType`), so the state machine's
Retry and Catch match on these names: keep them stable.

- Pending errors mean "not yet": the state machine waits and calls the step again.
- TransientError and AcmeRateLimited mean "try again later": retried with backoff.
- Everything else is terminal: the execution cleans up and fails with the error kept.
"""

from __future__ import annotations


class CertificateError(Exception):
    """Base class for every error of ours.

    `step` is set by the Lambda wrapper to the lifecycle step that raised, and leads the message, so the error
    a failed execution keeps says where it happened.
    """

    step: str | None = None

    def __str__(self) -> str:
        message = super().__str__()
        return f"{self.step}: {message}" if self.step else message


# --- "not yet": the state machine waits and polls again -------------------------------------------------
class DnsChangePending(CertificateError):
    """A Route 53 change is not INSYNC yet."""


class OrderPending(CertificateError):
    """The CA has not finished validating the order's authorizations."""


class CertificatePending(CertificateError):
    """The order is finalized but the CA has not issued the certificate yet."""


class DistributionPending(CertificateError):
    """The distribution command is still running on some of the certificate's nodes."""


# --- "try again later": retried with backoff ---------------------------------------------------------------
class TransientError(CertificateError):
    """A network error, timeout, throttling or 5xx from the CA or AWS; safe to retry."""


class AcmeRateLimited(CertificateError):
    """The CA answered `rateLimited`; the step must not call it again before `retry_after`."""

    def __init__(self, detail: str, retry_after_seconds: int | None) -> None:
        when = f"; retry after {retry_after_seconds} s" if retry_after_seconds is not None else ""
        super().__init__(f"the CA rate-limited this request: {detail}{when}")
        self.detail = detail
        self.retry_after_seconds = retry_after_seconds


# --- terminal -------------------------------------------------------------------------------------------------
class InvalidRequest(CertificateError):
    """The execution input is wrong; nothing was written and nothing was asked of the CA."""


class ConfigError(CertificateError):
    """The configuration (acme-accounts.yaml or the deployed parameter) is wrong."""


class CertificateLocked(CertificateError):
    """Another execution holds this certificate's lock and is doing the work."""


class AccountSecretMissing(CertificateError):
    """The EAB HMAC key of an account alias is not in Secrets Manager."""


class AcmeProblem(CertificateError):
    """The CA refused a request with an RFC 8555 problem document; `type` and `detail` are the CA's."""

    def __init__(self, problem_type: str, detail: str, context: str = "") -> None:
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}{problem_type}: {detail}")
        self.problem_type = problem_type
        self.detail = detail


class ChallengeInvalid(AcmeProblem):
    """The CA could not validate a DNS-01 challenge."""


class OrderInvalid(AcmeProblem):
    """The order became invalid at the CA."""


class ZoneNotFound(CertificateError):
    """No public Route 53 hosted zone holds a requested name."""


class NotPrevalidated(CertificateError):
    """A name the account declares pre-validated (`prevalidated-domains`) still has a challenge to answer at the CA."""


class CertificateCheckFailed(CertificateError):
    """The issued certificate does not match its key, its names, or its chain does not link up."""


class ImportFailed(CertificateError):
    """The certificate could not be imported into any of its regions."""


class ImportRefused(CertificateError):
    """ACM would refuse the import (for example a key type change on re-import)."""


class ExportRefused(CertificateError):
    """ACM will not export the certificate (imported, or requested without export enabled)."""
