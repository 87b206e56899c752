"""The certificate lifecycle's grants: one list per step (STEP_GRANTS)."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Aws

from certlib.resources import (
    CERTIFICATE_NAME_TAG,
    MANAGED_BY_TAG,
)
from stacks.permissions.common import (
    ACCOUNT_SECRETS,
    ACM_CERTIFICATES,
    DNS_CHANGES,
    EAB_SECRETS,
    IMPORT_NEW_CERTIFICATE,
    NO_RESOURCE_LEVEL,
    REIMPORT_OWN_CERTIFICATES,
    AccessTargets,
    Grant,
    assume_dns_read_roles,
    certificate_secrets,
    challenge_records,
    encrypt,
    iam_statement,
    notification_grants,
    read_account_keys,
    read_records,
    zone_reason,
)
from stacks.permissions.distribution import check_distribution, send_distribution


# --- one list per step --------------------------------------------------------------------------------------------
def _validate_request(t: AccessTargets) -> list[Grant]:
    find_zones = ["route53:ListHostedZones", "route53:ListHostedZonesByName"]
    return [
        encrypt(t),
        Grant(
            iam_statement("FindHostedZones", find_zones, ["*"]),
            NO_RESOURCE_LEVEL.format(actions=" and ".join(find_zones)),
        ),
        Grant(iam_statement("ReadHostedZones", ["route53:GetHostedZone"], t.hosted_zones), zone_reason(t)),
        read_records(t),  # `_acme-challenge` CNAMEs: where each DNS-01 record is delegated to
        *assume_dns_read_roles(t),
        *_read_eab_keys_early(t),
        # A request with "replace": true changes a certificate's domains or ACME account: validate_request accepts it
        # and announces it (event + message to people) before the inventory records it (certlib.lifecycle.request).
        *notification_grants(t),
    ]


def _read_eab_keys(t: AccessTargets) -> Grant:
    return Grant(iam_statement("ReadEabHmacKeys", ["secretsmanager:GetSecretValue"], [t.eab_secrets]), EAB_SECRETS)


def _read_eab_keys_early(t: AccessTargets) -> list[Grant]:
    """An EAB account that is not registered yet is refused by validate_request when its HMAC key was never pushed."""
    return [_read_eab_keys(t)]


def _ensure_account(t: AccessTargets) -> list[Grant]:
    grants = [
        encrypt(t),
        read_account_keys(t),
        Grant(
            iam_statement(
                "StoreAccountKeys",
                ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"],
                [t.account_secrets],
            ),
            ACCOUNT_SECRETS,
        ),
    ]
    grants.append(_read_eab_keys(t))
    return grants


def _acme_session(t: AccessTargets) -> list[Grant]:
    """create_order, answer_challenges, check_order: the registered account, and order bookkeeping."""
    return [read_account_keys(t)]


def _check_dns_change(t: AccessTargets) -> list[Grant]:
    return [
        Grant(iam_statement("ReadDnsChanges", ["route53:GetChange"], [t.dns_changes]), DNS_CHANGES),
        *assume_dns_read_roles(t),
    ]


def _certificate_keeper(t: AccessTargets) -> list[Grant]:
    """finalize_order, store_certificate: the account, and the certificate's key and chain in Secrets Manager."""
    return [
        encrypt(t),
        read_account_keys(t),
        certificate_secrets(
            t,
            "StoreCertificates",
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:CreateSecret",
                "secretsmanager:TagResource",
            ],
        ),
    ]


def _private_ca_step(sid: str, action: str) -> Callable[[AccessTargets], list[Grant]]:
    """issue_from_private_ca (IssueCertificate), check_private_ca_certificate (GetCertificate): the certificate's key
    and chain in Secrets Manager, as finalize_order and store_certificate keep them (no ACME account key), and the one
    acm-pca action at the configured Private CAs only (none without a Private CA account in the accounts file)."""

    def grants(t: AccessTargets) -> list[Grant]:
        keeper = [grant for grant in _certificate_keeper(t) if grant.statement.sid != "ReadAccountKeys"]
        if not t.private_cas:
            return keeper
        return [*keeper, Grant(iam_statement(sid, [action], list(t.private_cas)))]

    return grants


def revoke_at_private_cas(t: AccessTargets) -> list[Grant]:
    """revoke_certificate: acm-pca:RevokeCertificate at the configured Private CAs only (none without one)."""
    if not t.private_cas:
        return []
    return [Grant(iam_statement("RevokeAtConfiguredPrivateCas", ["acm-pca:RevokeCertificate"], list(t.private_cas)))]


def _import_certificate(t: AccessTargets) -> list[Grant]:
    return [
        certificate_secrets(t, "ReadCertificates", ["secretsmanager:GetSecretValue"]),
        # a renewal re-imports only into a certificate of this deployment (the code checks the certificate-name too)
        Grant(
            iam_statement(
                "ReimportOwnCertificates",
                ["acm:ImportCertificate"],
                [t.acm_certificates],
                {"StringEquals": {f"aws:ResourceTag/{MANAGED_BY_TAG[0]}": [t.deployment_tag_value]}},
            ),
            REIMPORT_OWN_CERTIFICATES,
        ),
        # a new certificate is imported only with this deployment's tags (and ACM refuses tags on a re-import)
        Grant(
            iam_statement(
                "ImportNewCertificates",
                ["acm:ImportCertificate", "acm:AddTagsToCertificate"],
                [t.acm_certificates],
                {
                    "StringEquals": {f"aws:RequestTag/{MANAGED_BY_TAG[0]}": [t.deployment_tag_value]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [MANAGED_BY_TAG[0], CERTIFICATE_NAME_TAG]},
                    "Null": {
                        f"aws:RequestTag/{CERTIFICATE_NAME_TAG}": "false",
                        f"aws:ResourceTag/{MANAGED_BY_TAG[0]}": "true",
                    },
                },
            ),
            IMPORT_NEW_CERTIFICATE,
        ),
        # an import whose ARN was never recorded is found again (ACM's import has no idempotency token)
        Grant(
            iam_statement("FindImportedCertificates", ["acm:ListCertificates"], ["*"]),
            NO_RESOURCE_LEVEL.format(actions="acm:ListCertificates"),
        ),
        Grant(
            iam_statement(
                "DescribeCertificates",
                ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
                [t.acm_certificates],
            ),
            ACM_CERTIFICATES,
        ),
    ]


def _record_result(t: AccessTargets) -> list[Grant]:
    """Records the result; announces it, and a distribution that failed on some nodes to people too."""
    return notification_grants(t)


def clean_up_failure(t: AccessTargets) -> list[Grant]:
    """Remove the TXT records, release the lock, drop the pending key (PutSecretValue: Secrets Manager encrypts the
    new version with the stack key, which needs kms:GenerateDataKey), record and announce the failure."""
    return [
        Grant(
            iam_statement(
                "EncryptDroppedKeys",
                ["kms:GenerateDataKey"],
                [t.key_arn],
                {"StringEquals": {"kms:ViaService": [f"secretsmanager.{Aws.REGION}.amazonaws.com"]}},
            )
        ),
        *challenge_records(t),
        certificate_secrets(t, "DropPendingKeys", ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]),
        *notification_grants(t),
    ]


STEP_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "validate_request": _validate_request,
    "ensure_account": _ensure_account,
    "create_order": _acme_session,
    "publish_challenges": challenge_records,
    "check_dns_change": _check_dns_change,
    "answer_challenges": _acme_session,
    "check_order": _acme_session,
    "remove_challenges": challenge_records,
    "finalize_order": _certificate_keeper,
    "store_certificate": _certificate_keeper,
    "issue_from_private_ca": _private_ca_step("IssueFromConfiguredPrivateCas", "acm-pca:IssueCertificate"),
    "check_private_ca_certificate": _private_ca_step("ReadFromConfiguredPrivateCas", "acm-pca:GetCertificate"),
    "import_certificate": _import_certificate,
    "send_distribution": lambda t: send_distribution(t),
    "check_distribution": lambda t: check_distribution(t),
    "record_result": _record_result,
    "clean_up_failure": clean_up_failure,
    # certlib.lifecycle.fallback: records the switch (inventory) and announces it; no secret, no DNS, no CA
    "switch_to_fallback_account": lambda t: notification_grants(t),
}
