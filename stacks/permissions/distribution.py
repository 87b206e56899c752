"""The distribution's grants (DISTRIBUTION_GRANTS): SSM Run Command, and ACM's exportable certificates."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from certlib.resources import (
    ACCESS_GROUP_TAG,
    DISTRIBUTION_OPT_IN_TAG,
    EXPORT_ALLOWED_TAG,
)
from stacks.permissions.common import (
    CERTIFICATE_SECRETS,
    NO_RESOURCE_LEVEL,
    AccessTargets,
    Grant,
    certificate_secrets,
    encrypt,
    iam_statement,
)

# --- distribution (certlib.distribution): SSM Run Command, and ACM's exportable certificates ------------------------
COMMAND_TARGETS = (
    "ssm:SendCommand is authorized on each target node too; the nodes are chosen by tag at run time (SSM resolves the "
    "tags), so the grant names this account's EC2 instances and managed instances in this region, only those that "
    f"opted in with the tag {DISTRIBUTION_OPT_IN_TAG} = the resource prefix (ssm:resourceTag condition). The document "
    "is named in a statement of its own: only the distribution document can be sent."
)
EXPORT_PHRASE_SECRETS = (
    "Export passphrases are created at run time, one secret per exported certificate, named "
    "<prefix>/export-passphrase/<name>; the pattern is that name prefix (covering Secrets Manager's random ARN suffix)."
)
EXPORTABLE_CERTIFICATES = (
    "Certificates to export are registered at run time (certctl export) by ARN; the grant covers this account's "
    "certificates in this region that their owner tagged for this deployment (acme-certificates-export = the "
    "resource prefix), and only to export them."
)
READ_COMMANDS = NO_RESOURCE_LEVEL.format(actions="ssm:ListCommands and ssm:ListCommandInvocations")


def send_distribution(t: AccessTargets) -> list[Grant]:
    """Tag the bundle's secret with the nodes' access group (only that tag), set or remove its resource policy for the
    profile's node accounts (never a public one), and send only the distribution document."""
    return [
        Grant(
            iam_statement(
                "TagCertificatesForNodes",
                ["secretsmanager:TagResource"],
                [t.certificate_secrets],
                {"ForAllValues:StringEquals": {"aws:TagKeys": [ACCESS_GROUP_TAG]}},
            ),
            CERTIFICATE_SECRETS,
        ),
        Grant(
            iam_statement(
                "LetNodeAccountsReadTheirBundles",
                ["secretsmanager:PutResourcePolicy"],
                [t.certificate_secrets],
                {"Bool": {"secretsmanager:BlockPublicPolicy": "true"}},
            ),
            CERTIFICATE_SECRETS,
        ),
        Grant(
            iam_statement("RevokeNodeAccountsReads", ["secretsmanager:DeleteResourcePolicy"], [t.certificate_secrets]),
            CERTIFICATE_SECRETS,
        ),
        Grant(iam_statement("SendOnlyTheDistributionDocument", ["ssm:SendCommand"], [t.distribution_document])),
        *_assume("SendInNodeAccounts", t.node_send_roles),
        Grant(
            iam_statement(
                "SendToNodesThatOptedIn",
                ["ssm:SendCommand"],
                list(t.command_targets),
                {"StringEquals": {f"ssm:resourceTag/{DISTRIBUTION_OPT_IN_TAG}": t.deployment_tag_value}},
            ),
            COMMAND_TARGETS,
        ),
    ]


def check_distribution(t: AccessTargets) -> list[Grant]:
    return [
        Grant(iam_statement("ReadCommands", ["ssm:ListCommands", "ssm:ListCommandInvocations"], ["*"]), READ_COMMANDS),
        *_assume("ReadCommandsInNodeAccounts", t.node_check_roles),
    ]


def _assume(sid: str, roles: Sequence[str]) -> list[Grant]:
    """sts:AssumeRole of exactly the node accounts' roles (none without node accounts)."""
    return [Grant(iam_statement(sid, ["sts:AssumeRole"], list(roles)))] if roles else []


def _export_certificate(t: AccessTargets) -> list[Grant]:
    """Register the certificate, export it with its passphrase, and store the decrypted bundle."""
    secret_writes = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
    ]
    return [
        encrypt(t),
        certificate_secrets(t, "StoreCertificates", secret_writes),
        Grant(iam_statement("KeepExportPassphrases", secret_writes, [t.passphrase_secrets]), EXPORT_PHRASE_SECRETS),
        Grant(
            iam_statement(
                "ExportCertificates",
                ["acm:ExportCertificate"],
                [t.regional_acm_certificates],
                {"StringEquals": {f"aws:ResourceTag/{EXPORT_ALLOWED_TAG}": [t.deployment_tag_value]}},
            ),
            EXPORTABLE_CERTIFICATES,
        ),
    ]


def _record_distribution(t: AccessTargets) -> list[Grant]:
    return []  # its inventory writes only (stacks/inventory_writes.py)


def _handle_certificate_available(t: AccessTargets) -> list[Grant]:
    if not t.distribution_state_machine:
        raise ValueError("handle_certificate_available's grants need the distribution state machine's ARN")
    return [
        Grant(iam_statement("StartDistribution", ["states:StartExecution"], [t.distribution_state_machine])),
    ]


DISTRIBUTION_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "export_certificate": _export_certificate,
    "record_distribution": _record_distribution,
    "handle_certificate_available": _handle_certificate_available,
}
