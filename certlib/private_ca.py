"""AWS Private CA as an issuer: an account entry of its own kind in the accounts file.

    accounts:
      internal:
        - private-ca-arn: arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11223344-aaaa
          template-arn: arn:aws:acm-pca:::template/EndEntityCertificate/V1   # optional (this is the default)
          signing-algorithm: SHA256WITHRSA   # optional; must fit the CA's own key (RSA or ECDSA)
          validity-days: 90                  # optional (90)
          RenewBeforeDays: 30                # as for ACME accounts, with KeyType and KeySize

Such an account has no ACME endpoint and no EAB: the lifecycle skips every ACME and DNS-01 step for it (the
`IsPrivateCa` Choice of statemachine/certificate_lifecycle.asl.json). Nothing here is secret.
"""

from __future__ import annotations

import re
from typing import Any

from certlib.exceptions import ConfigError

ARN_FIELD = "private-ca-arn"
FIELDS = (ARN_FIELD, "template-arn", "signing-algorithm", "validity-days")
KIND = "private-ca"
DEFAULT_TEMPLATE_ARN = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"
DEFAULT_VALIDITY_DAYS = 90
MAX_VALIDITY_DAYS = 3650
CA_ARN_PATTERN = re.compile(r"arn:aws(-[a-z]+)*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority/[A-Za-z0-9-]{1,64}")
TEMPLATE_ARN_PATTERN = re.compile(r"arn:aws(-[a-z]+)*:acm-pca:::template/[A-Za-z0-9_]+/V\d+")
RSA_SIGNING = ("SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA")
ECDSA_SIGNING = ("SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA")
# The ACME-only fields: an entry with private-ca-arn that has one of them mixes the two kinds.
ACME_ONLY_FIELDS = (
    "acme-endpoint",
    "eab-key",
    "eab-hmac-key",
    "email",
    "preferred-chain",
    "hosted-zones",
    "ca-bundle",
    "new-orders-per-3-hours",
    "prevalidated-domains",
)
# ACM PCA's RevocationReason for each reason `certctl revoke` takes (RFC 5280 names, as ACME uses them).
REVOCATION_REASONS = {
    "unspecified": "UNSPECIFIED",
    "keycompromise": "KEY_COMPROMISE",
    "cacompromise": "CERTIFICATE_AUTHORITY_COMPROMISE",
    "affiliationchanged": "AFFILIATION_CHANGED",
    "superseded": "SUPERSEDED",
    "cessationofoperation": "CESSATION_OF_OPERATION",
    "privilegewithdrawn": "PRIVILEGE_WITHDRAWN",
    "aacompromise": "A_A_COMPROMISE",
}


def is_private_ca_entry(values: dict[str, Any]) -> bool:
    return ARN_FIELD in values


def parse_private_ca(values: dict[str, Any], known_common: tuple[str, ...], where: str) -> dict[str, Any]:
    """The Private CA fields of an account entry, as AccountConfig keywords; `known_common` are the fields both kinds
    take (RenewBeforeDays, KeyType, KeySize), read by the caller. Raises ConfigError naming the field."""
    mixed = sorted(set(values) & set(ACME_ONLY_FIELDS))
    if mixed:
        raise ConfigError(
            f"{where}: an AWS Private CA account ({ARN_FIELD!r}) takes no ACME field, but has "
            f"{', '.join(map(repr, mixed))}: remove them, or make it two accounts (one ACME, one Private CA)"
        )
    unknown = sorted(set(values) - set(FIELDS) - set(known_common))
    if unknown:
        known = ", ".join((*FIELDS, *known_common))
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; a Private CA account takes {known}"
        )
    ca_arn = str(values.get(ARN_FIELD) or "").strip()
    if not CA_ARN_PATTERN.fullmatch(ca_arn):
        raise ConfigError(
            f"{where}: field {ARN_FIELD!r} must be a Private CA ARN "
            f"(arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID), got {ca_arn!r}"
        )
    template = str(values.get("template-arn") or DEFAULT_TEMPLATE_ARN).strip()
    if not TEMPLATE_ARN_PATTERN.fullmatch(template):
        raise ConfigError(
            f"{where}: field 'template-arn' must be a Private CA template ARN such as {DEFAULT_TEMPLATE_ARN!r}, "
            f"got {template!r}"
        )
    algorithm = values.get("signing-algorithm")
    if algorithm not in (None, ""):
        algorithm = str(algorithm).strip().upper()
        if algorithm not in RSA_SIGNING + ECDSA_SIGNING:
            raise ConfigError(
                f"{where}: field 'signing-algorithm' {values['signing-algorithm']!r} is not one of "
                f"{', '.join(RSA_SIGNING + ECDSA_SIGNING)} (it must fit the CA's own key: RSA or ECDSA)"
            )
    return {
        "private_ca_arn": ca_arn,
        "template_arn": template,
        "signing_algorithm": algorithm or None,
        "validity_days": _validity_days(values.get("validity-days"), where),
    }


def _validity_days(value: Any, where: str) -> int:
    if value in (None, ""):
        return DEFAULT_VALIDITY_DAYS
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ConfigError(f"{where}: field 'validity-days' must be a whole number of days, got {value!r}")
    days = int(str(value).strip())
    if not 1 <= days <= MAX_VALIDITY_DAYS:
        raise ConfigError(f"{where}: field 'validity-days' must be between 1 and {MAX_VALIDITY_DAYS}, got {days}")
    return days


def issuance_reference(execution_id: str) -> str:
    """What the pending key of an execution's Private CA issuance is kept for (`pending_order_url` in the certificate's
    secret, where an ACME order keeps its URL): the cleanup of that execution drops it."""
    return f"private-ca:{execution_id}"


def check_renewal_fits(validity_days: int, renew_before_days: int | None, where: str) -> None:
    """Raises ConfigError when RenewBeforeDays would have every new certificate due for renewal at once."""
    if renew_before_days is not None and renew_before_days >= validity_days:
        raise ConfigError(
            f"{where}: field 'RenewBeforeDays' ({renew_before_days}) must be less than 'validity-days' "
            f"({validity_days}): each certificate would be due for renewal as soon as it is issued"
        )


def signing_algorithm_for(configured: str | None, key_type: str) -> str:
    """The configured algorithm, or SHA256 with the family of the certificate's key type (ec* -> ECDSA)."""
    if configured:
        return configured
    return "SHA256WITHECDSA" if key_type.startswith("ec") else "SHA256WITHRSA"


def revocation_reason(reason: str) -> str:
    """ACM PCA's RevocationReason for an RFC 5280 reason name (any case, '_' and '-' ignored); raises ValueError."""
    key = reason.replace("_", "").replace("-", "").lower()
    try:
        return REVOCATION_REASONS[key]
    except KeyError:
        raise ValueError(
            f"revocation reason {reason!r} is not one of {', '.join(sorted(REVOCATION_REASONS))}"
        ) from None
