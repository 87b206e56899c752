"""Nodes in other accounts, as the Lambda code needs them: a profile's `accounts` and `external-id` checks, the bundle
secret's resource policy (written at run time by send_distribution), and the node-account stack's role names that
both sides use.

A distribution profile may name node accounts (`accounts: ["222222222222"]`, certlib.distribution.spec). A node's
role in such an account B reads the bundle's secret in this account A only when the secret's resource policy
(bundle_resource_policy, here), the stack's KMS key policy and the node role's identity policy all allow it; the two
deployed policies and the node-account stack's roles are deploy-time code: deploy/node_account_policies.py, whose
docstring walks through the three.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from certlib.dns_account_roles import check_external_id
from certlib.resources import ACCESS_GROUP_TAG

SECRET_POLICY_SID = "NodesOfOtherAccountsReadBundlesOfTheirAccessGroup"  # noqa: S105 - a statement ID
PRINCIPAL_TAG_KEY = f"aws:PrincipalTag/{ACCESS_GROUP_TAG}"
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
MAX_NODE_ACCOUNTS = 20  # a secret's resource policy holds at most 20 KB; each account is one principal of it


def check_node_accounts(value: Any) -> list[str]:
    """A profile's `accounts`: 12-digit AWS account IDs as strings (YAML reads an unquoted 012345678901 as a number),
    each once, in order; [] when not given. Raises ValueError saying what is wrong."""
    if value is None:
        return []
    if not isinstance(value, list) or not value or len(value) > MAX_NODE_ACCOUNTS:
        raise ValueError(f"'accounts' must be a list of 1-{MAX_NODE_ACCOUNTS} AWS account IDs (12 digits, quoted)")
    for item in value:
        if not isinstance(item, str) or not ACCOUNT_ID_PATTERN.fullmatch(item):
            raise ValueError(
                f"{item!r} in 'accounts' is not an AWS account ID: write it as 12 digits in quotes, such as "
                f'"222222222222"'
            )
    return list(dict.fromkeys(value))


def check_profile_external_id(value: Any, has_accounts: bool) -> str:
    """A profile's `external-id` ("" when not given). Raises ValueError without `accounts`, or for one STS refuses."""
    if value is None:
        return ""
    if not has_accounts:
        raise ValueError("'external-id' goes with 'accounts' (the node accounts' roles require it); remove it")
    if not isinstance(value, str):
        raise ValueError(f"'external-id' must be a string, got {value!r}")
    try:
        return check_external_id(value)
    except ValueError as exc:
        raise ValueError(f"'external-id': {exc}") from None


def account_root(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def bundle_resource_policy(accounts: Sequence[str], access_group: str, partition: str = "aws") -> dict[str, Any]:
    """The bundle secret's resource policy: GetSecretValue for the principals of `accounts` whose access-group
    principal tag is `access_group` (the secret's tag value). Not public (named accounts, not "*"), so Secrets
    Manager's BlockPublicPolicy accepts it. Raises ValueError without accounts."""
    if not accounts:
        raise ValueError("a bundle's resource policy needs at least one node account")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": SECRET_POLICY_SID,
                "Effect": "Allow",
                "Principal": {"AWS": [account_root(account, partition) for account in sorted(set(accounts))]},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",  # in a secret's resource policy, "*" is this secret
                "Condition": {"StringEquals": {PRINCIPAL_TAG_KEY: access_group}},
            }
        ],
    }


# --- sending to nodes in another account: the roles the node-account stack offers -----------------------------------
# SSM sends a command only to instances of the caller's account: send_distribution assumes the send role in each node
# account (SendCommand of the distribution document, to opted-in nodes only), check_distribution the check role
# (read the command's invocations). Each trusts exactly the issuing deployment's function role (its ARN, an output of
# the certificate stack), and requires the external ID when one is configured (their policies and trust, deployed by
# the node-account stack: deploy/node_account_policies.py).
SEND_ROLE_SUFFIX = "distribution-send"
CHECK_ROLE_SUFFIX = "distribution-check"
SEND_SESSION = "acme-distribution-send"
CHECK_SESSION = "acme-distribution-check"


def node_send_role_name(prefix: str) -> str:
    return f"{prefix}-{SEND_ROLE_SUFFIX}"


def node_check_role_name(prefix: str) -> str:
    return f"{prefix}-{CHECK_ROLE_SUFFIX}"


def node_role_arn(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"
