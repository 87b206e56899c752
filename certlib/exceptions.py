"""Every error a lifecycle step raises, in one place.

The class name is the Step Functions error name (Lambda reports it as `errorType`), so the state machine's
Retry and Catch match on these names: keep them stable.

Each error is one of four kinds, by its base class; everything that lists error names (the log level of a step
that raised, `certctl`'s progress lines, the remedies, the state machine's Retry) derives its list from them:

- PendingError, "not yet": the state machine waits and calls the step again (Retry on its name).
- TransientError, "try again later": a network error, throttling or a 5xx; retried with backoff.
- RateLimitedError, "not before the CA says": retried with the rate-limit backoff.
- TerminalError: the execution cleans up and fails with the error kept.

certlib.step_errors says which of them each step may raise; tests/stack/test_state_machine_errors.py checks every
Task's Retry and Catch in statemachine/*.asl.json against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class CertificateError(Exception):
    """Base class for every error of ours.

    `step` is set by the Lambda wrapper to the lifecycle step that raised, and leads the message, so the error
    a failed execution keeps says where it happened.
    """

    step: str | None = None

    def __str__(self) -> str:
        message = super().__str__()
        return f"{self.step}: {message}" if self.step else message


# --- the four kinds -----------------------------------------------------------------------------------------------
class PendingError(CertificateError):
    """Not yet: the state machine waits and calls the step again (a Retry on the subclass's name)."""


class TransientError(CertificateError):
    """A network error, timeout, throttling or 5xx from the CA or AWS; safe to retry."""


class RateLimitedError(CertificateError):
    """The CA asked us to wait: retried with the rate-limit backoff, never sooner than the CA said."""


class TerminalError(CertificateError):
    """Retrying cannot help: the execution cleans up and fails with the error kept."""


# --- "not yet": the state machine waits and polls again -------------------------------------------------
class DnsChangePending(PendingError):
    """A Route 53 change is not INSYNC yet."""


class OrderPending(PendingError):
    """The CA has not finished validating the order's authorizations."""


class CertificatePending(PendingError):
    """The order is finalized but the CA has not issued the certificate yet."""


class DistributionPending(PendingError):
    """The distribution command is still running on some of the certificate's nodes."""


class CertificateNotYetValid(PendingError):
    """The certificate's notBefore is still ahead (the CA's clock runs ahead of AWS's): ACM refuses to import it
    until then, so the import is retried with backoff."""


class PrivateCaCertificatePending(PendingError):
    """AWS Private CA has not issued the requested certificate yet (GetCertificate: RequestInProgressException)."""


# --- "try again later": retried with backoff ---------------------------------------------------------------
class AcmeUnavailable(TransientError):
    """The CA did not answer, or answered 5xx / a transient problem: retried like TransientError; once the Retry
    budget is spent, a CA-side error (CA_SIDE_ERRORS)."""


class AcmeRateLimited(RateLimitedError):
    """The CA answered `rateLimited`; the step must not call it again before `retry_after`."""

    problem_type = "rateLimited"

    def __init__(self, detail: str, retry_after_seconds: int | None) -> None:
        when = f"; retry after {retry_after_seconds} s" if retry_after_seconds is not None else ""
        super().__init__(f"the CA rate-limited this request: {detail}{when}")
        self.detail = detail
        self.retry_after_seconds = retry_after_seconds


# --- terminal -------------------------------------------------------------------------------------------------
class InvalidRequest(TerminalError):
    """The execution input is wrong; nothing was written and nothing was asked of the CA."""


class MalformedState(TerminalError):
    """A step's input lacks a field of the state it needs, or holds one of the wrong type (certlib.lifecycle.state);
    the message names the field, e.g. "order.challenges[0].value"."""


class ConfigError(TerminalError):
    """The configuration (acme-accounts.yaml or the deployed parameter) is wrong."""


class CertificateLocked(TerminalError):
    """Another execution holds this certificate's lock and is doing the work."""


class AccountSecretMissing(TerminalError):
    """The EAB HMAC key of an account alias is not in Secrets Manager."""


class AwsError(TerminalError):
    """A terminal AWS error, with the service's code and message kept (certlib.adapters.aws_errors raises it)."""


@dataclass(frozen=True)
class Problem:
    """An RFC 8555 problem document as the CA sent it: `problem_type` without its URN prefix (e.g. "unauthorized"),
    and, where present, the identifier it is about and its subproblems (one per refused identifier)."""

    problem_type: str
    detail: str
    identifier: str | None = None
    subproblems: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        return f"{self.problem_type}: {self.detail}"


class AcmeProblem(TerminalError):
    """The CA refused a request with an RFC 8555 problem document, kept as `problem` (type, detail, identifier,
    subproblems); the message is "<context>: <type>: <detail>", followed by the subproblems in brackets."""

    def __init__(
        self,
        problem_type: str,
        detail: str,
        context: str = "",
        identifier: str | None = None,
        subproblems: tuple[Problem, ...] = (),
    ) -> None:
        self.problem = Problem(problem_type, detail, identifier, subproblems)
        prefix = f"{context}: " if context else ""
        listed = "; ".join(f"{sub.identifier or '-'}: {sub}" for sub in subproblems)
        super().__init__(f"{prefix}{self.problem}" + (f" [{listed}]" if listed else ""))

    @property
    def problem_type(self) -> str:
        return self.problem.problem_type

    @property
    def detail(self) -> str:
        return self.problem.detail


class ChallengeInvalid(AcmeProblem):
    """The CA could not validate a DNS-01 challenge (`problem.identifier`: the name, when the CA said which)."""


class OrderInvalid(AcmeProblem):
    """The order became invalid at the CA."""


class OrderRejected(AcmeProblem):
    """The CA refused to open an order for these names (newOrder answered with a problem)."""


class AcmeAccountGone(AcmeProblem):
    """The CA no longer has the ACME account the stored URL names (`accountDoesNotExist`: a CA that lost its
    accounts, as a restarted test CA does). The lifecycle registers the same key again once (EnsureAccount with
    `account_gone`) and orders anew."""


class ZoneNotFound(TerminalError):
    """No public Route 53 hosted zone holds a requested name."""


class NotPrevalidated(TerminalError):
    """A name the account declares pre-validated (`prevalidated-domains`) still has a challenge to answer at the CA."""


class CertificateCheckFailed(TerminalError):
    """The issued certificate does not match its key, its names, or its chain does not link up."""


class ImportFailed(TerminalError):
    """The certificate could not be imported into any of its regions."""


class ImportRefused(TerminalError):
    """ACM would refuse the import (for example a key type change on re-import)."""


class ExportRefused(TerminalError):
    """ACM will not export the certificate (imported, or requested without export enabled)."""


# --- which failures are the CA's --------------------------------------------------------------------------------
# Once the state machine's Retry budget is spent, these move a certificate with fallback accounts on to the next one
# (certlib.lifecycle.fallback; the lifecycle ASL's fallback Catch names exactly these). Everything else (DNS, AWS,
# bad input, our own errors, a challenge the CA could not validate) is ours and goes to CleanUpFailure.
CA_SIDE_ERRORS: tuple[type[CertificateError], ...] = (AcmeRateLimited, AcmeUnavailable, OrderRejected, OrderInvalid)
CA_SIDE_ERROR_NAMES: tuple[str, ...] = tuple(error.__name__ for error in CA_SIDE_ERRORS)


# --- the lists, derived from the kinds ---------------------------------------------------------------------------
def _subclasses(base: type[CertificateError]) -> tuple[type[CertificateError], ...]:
    found: list[type[CertificateError]] = []
    for sub in base.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return tuple(dict.fromkeys(found))


KINDS: tuple[type[CertificateError], ...] = (PendingError, TransientError, RateLimitedError, TerminalError)
# Every error a step raises, by its name: its Step Functions error name (Lambda's errorType). The kinds are not
# raised themselves, except TransientError (AWS or the network, when nothing more precise is known).
ERRORS: dict[str, type[CertificateError]] = {
    error.__name__: error for error in _subclasses(CertificateError) if error not in KINDS or error is TransientError
}
PENDING_ERROR_NAMES = frozenset(name for name, error in ERRORS.items() if issubclass(error, PendingError))
TRANSIENT_ERROR_NAMES = frozenset(name for name, error in ERRORS.items() if issubclass(error, TransientError))
RATE_LIMITED_ERROR_NAMES = frozenset(name for name, error in ERRORS.items() if issubclass(error, RateLimitedError))
TERMINAL_ERROR_NAMES = frozenset(name for name, error in ERRORS.items() if issubclass(error, TerminalError))
# What the state machine retries: a step raising one of these is not failing (yet).
RETRIED_ERROR_NAMES = PENDING_ERROR_NAMES | TRANSIENT_ERROR_NAMES | RATE_LIMITED_ERROR_NAMES
# What a step raises while it waits for something (shown and logged as waiting, not as failing).
WAITING_ERROR_NAMES = PENDING_ERROR_NAMES | RATE_LIMITED_ERROR_NAMES
_PROBLEM_TYPE_IN_MESSAGE = re.compile(r"(?:^|(?<=: ))(?P<type>[A-Za-z][A-Za-z0-9]*)(?=: )")
_VALIDATED_NAME = re.compile(r"the CA could not validate (?P<identifier>[^\s:]+): ")


def problem_of(error_name: str, message: str) -> Problem | None:
    """The CA's problem of a failure that Step Functions kept as {Error, Cause}, or None when the error is not one.

    Only the error's name and message cross from the step that raised to the one that reports, so this reads back
    what AcmeProblem.__init__ wrote ("<step>: <context>: <type>: <detail>"); its test makes both ends meet. A rate
    limit is always `rateLimited`.
    """
    error = ERRORS.get(error_name)
    if error is AcmeRateLimited:
        return Problem(AcmeRateLimited.problem_type, message)
    if error is None or not issubclass(error, AcmeProblem):
        return None
    found = next((m for m in _PROBLEM_TYPE_IN_MESSAGE.finditer(message) if m["type"] in ACME_PROBLEM_TYPES), None)
    if found is None:
        return None
    validated = _VALIDATED_NAME.search(message)
    return Problem(found["type"], message[found.end() + 2 :], validated["identifier"] if validated else None)


# RFC 8555 section 6.7 problem types (urn:ietf:params:acme:error:<type>), and the ones our adapter names itself.
ACME_PROBLEM_TYPES = frozenset(
    {
        "accountDoesNotExist",
        "alreadyReplaced",
        "alreadyRevoked",
        "badCSR",
        "badNonce",
        "badPublicKey",
        "badRevocationReason",
        "badSignatureAlgorithm",
        "caa",
        "compound",
        "connection",
        "dns",
        "externalAccountRequired",
        "incorrectResponse",
        "invalidContact",
        "malformed",
        "orderNotReady",
        "rateLimited",
        "rejectedIdentifier",
        "serverInternal",
        "tls",
        "unauthorized",
        "unsupportedContact",
        "unsupportedIdentifier",
        "userActionRequired",
        "orderInvalid",
        "unsupportedChallenge",
    }
)
