"""Nodes in other accounts, as deployed: the KMS key policy statement of the issuing account and the node-account
stack's roles (what they may do and whom they trust). The names both sides use, the profile's checks and the bundle's
resource policy (written at run time by send_distribution) are certlib.distribution.node_accounts.

A distribution profile may name node accounts (`accounts: ["222222222222"]`, certlib.distribution.spec). A node's
role in such an account B reads the bundle's secret in this account A only when both sides allow it (IAM User
Guide, reference_policies_evaluation-logic-cross-account.md):

- account A, the secret: a resource policy (certlib.distribution.node_accounts.bundle_resource_policy) allows
  secretsmanager:GetSecretValue to the principals of exactly those accounts whose principal tag ACCESS_GROUP_TAG
  equals the secret's own tag value; written by send_distribution next to that tag (both come from the profile),
  with BlockPublicPolicy;
- account A, the stack's KMS key: a key policy statement (node_accounts_key_statement, deployed by the stack from the
  accounts file) lets those accounts decrypt only through Secrets Manager (kms:ViaService) and only for certificate
  secrets (kms:EncryptionContext:SecretARN), with the same principal-tag condition. A key policy rather than a grant:
  a grant cannot carry a condition on the caller's principal tag or kms:ViaService (grant constraints are
  encryption-context only), and it would have to be created at run time by a role allowed kms:CreateGrant;
- account B, the node role: an identity policy (node_read_policy, the node-account stack's managed policy) allowing
  GetSecretValue on A's certificate secrets and kms:Decrypt on A's key, with the same conditions.

The same builders make the stacks' documents (stacks/node_account_stack.py, stacks/constructs/encryption.py) and the
sandbox's, so what the sandbox enforces is what AWS would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from certlib.distribution.node_accounts import PRINCIPAL_TAG_KEY, account_root
from certlib.dns_account_roles import dns_role_trust
from certlib.resources import ACCESS_GROUP_TAG

KEY_POLICY_SID = "NodesOfOtherAccountsDecryptBundlesThroughSecretsManager"
NODE_READ_POLICY_SID = "ReadCertificatesOfMyAccessGroupInTheIssuingAccount"
NODE_DECRYPT_POLICY_SID = "DecryptCertificatesOfTheIssuingAccountThroughSecretsManager"
# An IAM policy variable (not a Python one): the caller's own access group.
PRINCIPAL_TAG_VARIABLE = f"${{{PRINCIPAL_TAG_KEY}}}"


def node_accounts_key_statement(
    accounts: Sequence[str], region: str, certificate_secrets: str, partition: str = "aws"
) -> dict[str, Any]:
    """The KMS key policy statement for `accounts`: kms:Decrypt only through Secrets Manager in `region`, only for
    the certificate secrets (their ARN pattern), only by principals carrying an access-group principal tag equal to
    the secret's (the secret's own policy checks the value; here the tag must exist). Raises ValueError without
    accounts."""
    if not accounts:
        raise ValueError("a key policy statement for node accounts needs at least one account")
    return {
        "Sid": KEY_POLICY_SID,
        "Effect": "Allow",
        "Principal": {"AWS": [account_root(account, partition) for account in sorted(set(accounts))]},
        "Action": "kms:Decrypt",
        "Resource": "*",  # in a key policy, "*" is this key
        "Condition": {
            "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:SecretARN": certificate_secrets},
            "Null": {PRINCIPAL_TAG_KEY: "false"},
        },
    }


def node_read_policy(certificate_secrets: str, key_arn: str, region: str) -> dict[str, Any]:
    """The identity policy of a node role in a node account: read the issuing account's bundles whose access-group
    tag equals the role's own principal tag, and decrypt them through Secrets Manager with its key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": NODE_READ_POLICY_SID,
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": certificate_secrets,
                "Condition": {
                    "StringEquals": {f"secretsmanager:ResourceTag/{ACCESS_GROUP_TAG}": PRINCIPAL_TAG_VARIABLE},
                    "Null": {PRINCIPAL_TAG_KEY: "false"},
                },
            },
            {
                "Sid": NODE_DECRYPT_POLICY_SID,
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:SecretARN": certificate_secrets},
                },
            },
        ],
    }


# The node-account stack's send and check roles (their names and why they exist: certlib.distribution.node_accounts).
def node_send_policy(document_arn: str, instances: Sequence[str], opt_in: tuple[str, str]) -> dict[str, Any]:
    """The send role's permissions: ssm:SendCommand of the distribution document only, to nodes that opted in only
    (`opt_in` = (tag key, value); SendCommand is authorized on the document and on each instance)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SendOnlyTheDistributionDocument",
                "Effect": "Allow",
                "Action": "ssm:SendCommand",
                "Resource": document_arn,
            },
            {
                "Sid": "SendToNodesThatOptedIn",
                "Effect": "Allow",
                "Action": "ssm:SendCommand",
                "Resource": list(instances),
                "Condition": {"StringEquals": {f"ssm:resourceTag/{opt_in[0]}": opt_in[1]}},
            },
        ],
    }


def node_check_policy() -> dict[str, Any]:
    """The check role's permissions: read commands and their invocations (no resource-level permissions in IAM)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadCommands",
                "Effect": "Allow",
                "Action": ["ssm:ListCommands", "ssm:ListCommandInvocations"],
                "Resource": "*",
            }
        ],
    }


def node_role_trust(trusted_role_arn: str, external_id: str | None = None) -> dict[str, Any]:
    """Trust exactly `trusted_role_arn` (the issuing deployment's send_distribution or check_distribution role):
    its account as principal, ArnEquals on aws:PrincipalArn, and sts:ExternalId when given. Raises ValueError for
    what is not a role ARN or an external ID STS would refuse."""
    parts = trusted_role_arn.split(":")
    partition = parts[1] if len(parts) > 1 else "aws"
    return dns_role_trust([trusted_role_arn], external_id=external_id, partition=partition)
