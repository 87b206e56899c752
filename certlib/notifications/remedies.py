"""What an operator should do about a failure: one paragraph per error class or CA problem type, with the
certificate's own names in it (docs/operations.md lists the same).
"""

from __future__ import annotations

from collections.abc import Sequence

from certlib.exceptions import ERRORS, AcmeProblem, problem_of

# --- what to do --------------------------------------------------------------------------------------------------
_CHECK_DNS = (
    "The CA did not see the DNS-01 TXT value. Check that the names are delegated to the Route 53 hosted zone the "
    "pipeline writes to (the NS records at the registrar or parent zone match the zone's), that nothing else answers "
    "for {challenges} (no CNAME, no other zone, no split-horizon view), and that `dig TXT {first_challenge}` from "
    "outside shows our value while an issuance runs. Then retry: certctl renew --name {name} --force --wait"
)
REMEDIES: dict[str, str] = {
    "ChallengeInvalid": _CHECK_DNS,
    "OrderInvalid": (
        "The CA declared the order invalid: read the CA's problem above. A new execution makes a new order: "
        "certctl renew --name {name} --force --wait"
    ),
    "AcmeProblem": (
        "The CA refused a request: the problem type and detail above are the CA's own words (RFC 8555 section 6.7). "
        "Fix what they name, then retry: certctl renew --name {name} --force --wait"
    ),
    "AccountSecretMissing": (
        "The ACME account's EAB HMAC key is not in Secrets Manager (or the account is not registered yet). Store it "
        "with: certctl accounts push --file acme-accounts.yaml, then retry: certctl renew --name {name} --force --wait"
    ),
    "AcmeRateLimited": (
        "The CA rate-limited this ACME account and every retry was spent. Wait for the CA's window to pass (Let's "
        "Encrypt: 300 new orders per account per 3 hours, 5 certificates per identical set of names per week); "
        "renewals that use ARI are exempt. Do not force renewals meanwhile: the next sweep retries once the "
        "certificate's renew_after has passed."
    ),
    "InvalidRequest": (
        "The request was refused before anything was written or asked of the CA: fix the input as the message says "
        "(names, key type, regions, account alias) and start again."
    ),
    "MalformedState": (
        "A step was handed a state without a field it needs, or with one of the wrong type (named in the message): "
        "the state machine and the functions are of different versions, or the execution was started on a state "
        "machine step by hand. Deploy both together, then retry: certctl renew --name {name} --force --wait"
    ),
    "ZoneNotFound": (
        "No public Route 53 hosted zone of this account holds the name. Create (and delegate) the zone, or map the "
        "name's suffix to a zone with `hosted-zones:` in acme-accounts.yaml (and allow it in the hostedZoneIds "
        "context), then deploy and retry."
    ),
    "NotPrevalidated": (
        "The account declares the name pre-validated (`prevalidated-domains`), but the CA still asks for a challenge: "
        "its validation is missing or has expired. Validate the name in the CA's portal (Sectigo: Domains in SCM), or "
        "give it a Route 53 hosted zone and take it out of `prevalidated-domains`, then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "CertificateLocked": (
        "Another execution holds this certificate's lock and is doing the work; see certctl status --name {name}. "
        "The lock of an execution that crashed expires on its own after the execution timeout."
    ),
    "ImportRefused": (
        "The import was refused, and nothing was imported. When the ARN recorded for a region is not a certificate "
        "this deployment imported for the name (it lacks our managed-by and certificate-name tags), check who put it "
        "in the inventory and remove it from the item's certificate_arns; one an earlier version imported (tagged "
        "managed-by=acme-certificates) is retagged by certctl migrate-acm-tags --apply. Otherwise, a certificate "
        "re-imported to the same ARN must keep its key type and key usages: ask for the key type it has, or issue "
        "under a new name and move the resources that use it."
    ),
    "CertificateCheckFailed": (
        "The certificate the CA returned did not match its key, the requested names or its chain. Retry once: "
        "certctl renew --name {name} --force --wait; if it happens again, check `preferred-chain` and ask the CA."
    ),
    "CertificateNotYetValid": (
        "The CA's certificate starts later than AWS's clock says it is now (the CA's clock runs ahead), and ACM "
        "refused it through every retry (about 30 minutes). Ask the CA to check its clock, then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "TransientError": (
        "A network error, throttling or a 5xx answer (from the CA or AWS) lasted through every retry. Check the CA's "
        "status page and the AWS Health Dashboard, then retry: certctl renew --name {name} --force --wait"
    ),
    "ConfigError": (
        "The deployed configuration is wrong or missing: fix acme-accounts.yaml (the CLI and the stack read it the "
        "same way), deploy again, then retry."
    ),
    "AwsError": (
        "An AWS API refused the call for good (often AccessDenied: a role without a permission, a KMS key policy, "
        "or a region that is not enabled). The message names the call; fix the permission or region and retry."
    ),
    "DnsChangePending": (
        "Route 53 did not report the TXT records INSYNC through every poll. Check the AWS Health Dashboard for "
        "Route 53 and the zone's change status, then retry: certctl renew --name {name} --force --wait"
    ),
    "OrderPending": (
        "The CA was still validating the names when every poll was spent. Check that `dig TXT {first_challenge}` from "
        "outside shows our value and the CA's status page, then retry: certctl renew --name {name} --force --wait"
    ),
    "CertificatePending": (
        "The CA accepted the order but had not issued the certificate when every poll was spent. Check the CA's status "
        "page, then retry: certctl renew --name {name} --force --wait"
    ),
    "PrivateCaCertificatePending": (
        "AWS Private CA had not issued the certificate when every poll was spent. Check that the CA is ACTIVE and not "
        "over its quotas (aws acm-pca describe-certificate-authority), then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "DistributionPending": (
        "Some nodes had not finished installing the certificate when every poll was spent: see which in "
        "certctl status --name {name}, check their SSM agent, then retry: certctl renew --name {name} --force --wait"
    ),
    "ImportFailed": (
        "ACM refused the certificate in every region; the message gives each region's error (a permission, a "
        "region that is not enabled, a quota of imported certificates). Fix it, then retry: "
        "certctl renew --name {name} --force --wait"
    ),
    "ExportRefused": (
        "ACM will not export this certificate: only private certificates requested with export enabled can be "
        "exported, not imported ones or Amazon-issued public ones. Request it again with export enabled."
    ),
    "States.Timeout": (
        "The execution ran out of time (a CA that never validated, or DNS that never became INSYNC). Look at its "
        "last states in the Step Functions console, then retry: certctl renew --name {name} --force --wait"
    ),
}
# For the CA's problems whose remedy does not depend on our error name.
PROBLEM_REMEDIES: dict[str, str] = {
    "caa": (
        'A CAA record of the name (or a parent) does not allow this CA. Add `CAA 0 issue "<the CA\'s domain>"` '
        "(for example letsencrypt.org, sectigo.com) to the zone, then retry: certctl renew --name {name} --force --wait"
    ),
    "dns": (
        "The CA's DNS lookup failed (SERVFAIL, timeout, or a broken DNSSEC chain). Check the zone's delegation and "
        "DNSSEC from outside (dig +dnssec), then retry: certctl renew --name {name} --force --wait"
    ),
    "rejectedIdentifier": (
        "The CA will not issue for one of the names (its policy, e.g. a blocked or high-risk name). Remove that name "
        "or ask the CA."
    ),
    "externalAccountRequired": (
        "The CA needs External Account Binding: add `eab-key` and `eab-hmac-key` to the account in "
        "acme-accounts.yaml, deploy, and run certctl accounts push --file acme-accounts.yaml."
    ),
    "userActionRequired": "The CA needs a person to act (e.g. accept new terms of service): read the CA's detail.",
    "badCSR": "The CA refused the CSR (often a key type or size it does not take): ask for a key type the CA accepts.",
    "unauthorized": _CHECK_DNS,
    "incorrectResponse": _CHECK_DNS,
}
DEFAULT_REMEDY = (
    "Read the error message, fix its cause, then retry: certctl renew --name {name} --force --wait. "
    "docs/operations.md lists what to do for each error."
)


def _remedy_template(error: str, problem_type: str | None) -> str:
    """The CA's problem decides for an AcmeProblem (and its subclasses) when it has a remedy of its own; otherwise
    the error's remedy, or that of the nearest class it derives from (AcmeUnavailable: TransientError's)."""
    error_class = ERRORS.get(error)
    if error_class is not None and issubclass(error_class, AcmeProblem) and problem_type in PROBLEM_REMEDIES:
        return PROBLEM_REMEDIES[problem_type]
    names = [kind.__name__ for kind in error_class.__mro__] if error_class is not None else [error]
    return next((REMEDIES[name] for name in names if name in REMEDIES), DEFAULT_REMEDY)


def remedy_for(
    error: str, problem_type: str | None, name: str | None, domains: Sequence[str] = (), message: str = ""
) -> str:
    """One paragraph: what to do about this failure, with the certificate's own names in it (the name the CA could
    not validate first, when the message says which)."""
    problem = problem_of(error, message)
    if problem is not None and problem.identifier:
        domains = [problem.identifier, *(domain for domain in domains if domain != problem.identifier)]
    template = _remedy_template(error, problem_type)
    challenges = [f"_acme-challenge.{domain.removeprefix('*.')}" for domain in domains] or ["_acme-challenge.<name>"]
    return template.format(
        name=name or "<name>",
        challenges=", ".join(dict.fromkeys(challenges)),
        first_challenge=challenges[0],
    )
