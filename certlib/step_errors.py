"""Which errors each function may raise: the one table the state machines' Retry and Catch are checked against.

Keyed by the function's name (certlib.resources.ALL_FUNCTIONS); the errors are classes of certlib.exceptions, whose
kind (pending, transient, rate-limited, terminal) says what the state machine does with them.
tests/stack/test_state_machine_errors.py fails when a Task of statemachine/*.asl.json retries or catches an error its
step never raises, or does not retry one it does. Every function may raise TransientError: the Lambda wrapper turns an
AWS endpoint that did not answer into one (certlib.observability.lambda_step).
"""

from __future__ import annotations

from collections.abc import Iterable

from certlib.exceptions import (
    AccountSecretMissing,
    AcmeAccountGone,
    AcmeProblem,
    AcmeRateLimited,
    AcmeUnavailable,
    AwsError,
    CertificateCheckFailed,
    CertificateError,
    CertificateLocked,
    CertificateNotYetValid,
    CertificatePending,
    ChallengeInvalid,
    ConfigError,
    DistributionPending,
    DnsChangePending,
    ExportRefused,
    ImportFailed,
    ImportRefused,
    InvalidRequest,
    MalformedState,
    NotPrevalidated,
    OrderInvalid,
    OrderPending,
    OrderRejected,
    PrivateCaCertificatePending,
    TransientError,
    ZoneNotFound,
)

Errors = frozenset[type[CertificateError]]


def _errors(*groups: Iterable[type[CertificateError]]) -> Errors:
    return frozenset(error for group in groups for error in group)


# Any AWS call (certlib.adapters.aws_errors), and the deployed configuration every step reads.
AWS: Errors = frozenset({TransientError, AwsError, ConfigError})
# Any call to the CA with a registered account (certlib.adapters.acme_client, certlib.services.Services.acme).
ACME: Errors = frozenset({AcmeUnavailable, AcmeRateLimited, AcmeProblem, AcmeAccountGone, AccountSecretMissing})
# A step that parses its input into its typed state (certlib.lifecycle.state, certlib.distribution.state,
# certlib.renewal.state) names a missing or mistyped field.
STATE: Errors = frozenset({MalformedState})

RAISES: dict[str, Errors] = {
    # the certificate lifecycle
    "validate_request": _errors(AWS, {InvalidRequest, CertificateLocked, ZoneNotFound}),
    "ensure_account": _errors(AWS, ACME, STATE),
    "create_order": _errors(AWS, ACME, STATE, {OrderRejected, OrderInvalid, NotPrevalidated}),
    "publish_challenges": _errors(AWS, STATE, {ZoneNotFound}),
    "check_dns_change": _errors(AWS, STATE, {DnsChangePending}),
    "answer_challenges": _errors(AWS, ACME, STATE),
    "check_order": _errors(AWS, ACME, STATE, {OrderPending, ChallengeInvalid}),
    "remove_challenges": _errors(AWS, STATE),
    "finalize_order": _errors(AWS, ACME, STATE, {OrderInvalid, CertificateCheckFailed}),
    "store_certificate": _errors(AWS, ACME, STATE, {CertificatePending, OrderInvalid, CertificateCheckFailed}),
    "issue_from_private_ca": _errors(AWS, STATE, {InvalidRequest, CertificateCheckFailed}),
    "check_private_ca_certificate": _errors(AWS, STATE, {PrivateCaCertificatePending, CertificateCheckFailed}),
    "import_certificate": _errors(AWS, STATE, {CertificateNotYetValid, CertificateCheckFailed, ImportRefused}),
    "send_distribution": _errors(AWS, STATE, {InvalidRequest}),
    "check_distribution": _errors(AWS, STATE, {DistributionPending}),
    "record_result": _errors(AWS, STATE, {ImportFailed, CertificateLocked}),
    "clean_up_failure": AWS,
    "switch_to_fallback_account": _errors(AWS, STATE, {InvalidRequest, CertificateLocked}),
    # renewal: the sweep's steps, the ACM expiry event, the revocation check (ARI and OCSP) and `certctl revoke`
    "find_due_certificates": _errors(AWS, STATE),
    "start_renewal": _errors(AWS, STATE, {InvalidRequest}),
    "handle_expiry_event": _errors(AWS, {InvalidRequest}),
    "check_revocations": _errors(AWS, {AcmeUnavailable, AcmeRateLimited, AcmeProblem}),
    "revoke_certificate": _errors(AWS, ACME, {InvalidRequest}),
    # monitoring
    "report_expiry": AWS,
    "clean_up_stopped_execution": AWS,
    # ACM's exportable certificates
    "export_certificate": _errors(AWS, {InvalidRequest, ExportRefused, CertificateCheckFailed}),
    "record_distribution": _errors(AWS, STATE),
    "handle_certificate_available": _errors(AWS, {InvalidRequest}),
}
