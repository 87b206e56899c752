"""The IAM roles a DNS account offers us, as the Lambda code needs them: their names, how the read role's ARN follows
from the write role's, the checks of an external ID and an organization ID, and the trust policy builder (also used
for a node account's roles, certlib.distribution.node_accounts).

A DNS account has two roles: the write role `acme-dns-01` (DNS_ROLE_NAME) and the read role `acme-dns-01-read` (the
write role's name and READ_ROLE_SUFFIX). The accounts file names one role per DNS account, `role-arn`, and the
reading steps assume that ARN with `-read` appended (dns_read_role_arn). What the roles may do and the names of our
functions' roles they trust are deploy-time code: deploy/dns_roles.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

DNS_ROLE_NAME = "acme-dns-01"
READ_ROLE_SUFFIX = "-read"
DNS_READ_ROLE_NAME = f"{DNS_ROLE_NAME}{READ_ROLE_SUFFIX}"
MAX_ROLE_NAME_LENGTH = 64  # IAM's limit
# What STS accepts as an external ID (AssumeRole's ExternalId: 2 to 1224 of these characters).
EXTERNAL_ID_PATTERN = re.compile(r"[\w+=,.@:/-]{2,1224}")
# An AWS Organizations organization ID (aws:PrincipalOrgID).
ORGANIZATION_ID_PATTERN = re.compile(r"o-[a-z0-9]{10,32}")


def dns_role_trust(
    trusted_role_arns: Sequence[str],
    *,
    external_id: str | None = None,
    organization_id: str | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """Trust exactly `trusted_role_arns` (our steps' roles, deploy.dns_roles.dns_function_role_arn): their accounts
    are the principals, `ArnEquals` on aws:PrincipalArn names the roles; with `external_id` the caller must give it
    (sts:ExternalId), with `organization_id` the caller must be in that organization (aws:PrincipalOrgID).

    The principals are the accounts rather than the roles themselves: IAM refuses a trust policy naming a role that
    does not exist yet, and the DNS stack may be deployed before the workload stacks. Raises ValueError without a
    role ARN, or with a malformed external ID or organization ID.
    """
    if not trusted_role_arns:
        raise ValueError("a DNS account's role needs at least one role to trust")
    accounts = sorted({_account_of(arn) for arn in trusted_role_arns})
    conditions: dict[str, Any] = {"ArnEquals": {"aws:PrincipalArn": list(trusted_role_arns)}}
    equals: dict[str, str] = {}
    if external_id is not None:
        equals["sts:ExternalId"] = check_external_id(external_id)
    if organization_id is not None:
        equals["aws:PrincipalOrgID"] = check_organization_id(organization_id)
    if equals:
        conditions["StringEquals"] = equals
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in accounts]},
                "Action": "sts:AssumeRole",
                "Condition": conditions,
            }
        ],
    }


def check_external_id(external_id: str) -> str:
    """The external ID itself; raises ValueError for one STS would refuse (2-1224 of letters, digits, `+=,.@:/-_`)."""
    if not EXTERNAL_ID_PATTERN.fullmatch(external_id):
        raise ValueError(
            f"external ID {external_id!r} is not one STS accepts (2 to 1224 letters, digits and any of +=,.@:/-_)"
        )
    return external_id


def check_organization_id(organization_id: str) -> str:
    """The organization ID itself; raises ValueError when it is not an AWS Organizations ID (o-...)."""
    if not ORGANIZATION_ID_PATTERN.fullmatch(organization_id):
        raise ValueError(f"{organization_id!r} is not an AWS Organizations organization ID (such as o-a1b2c3d4e5)")
    return organization_id


# (the partition may be a placeholder such as a CloudFormation reference, whatever it holds)
_ROLE_ARN = re.compile(r"arn:(?P<partition>.+?):iam::(?P<account>\d{12}):role/(?P<path_and_name>.+)")


def _account_of(role_arn: str) -> str:
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ValueError(f"{role_arn!r} is not an IAM role ARN")
    return match["account"]


def dns_read_role_arn(role_arn: str) -> str:
    """The read role of the DNS account whose write role is `role_arn`: the same ARN with READ_ROLE_SUFFIX
    (`arn:aws:iam::111111111111:role/acme-dns-01` -> `...:role/acme-dns-01-read`). Raises ValueError for what is
    not a role ARN, or a role whose name leaves no room for the suffix."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ValueError(f"{role_arn!r} is not an IAM role ARN")
    name = match["path_and_name"].rsplit("/", 1)[-1]
    if len(name) + len(READ_ROLE_SUFFIX) > MAX_ROLE_NAME_LENGTH:
        raise ValueError(
            f"role name {name!r} is longer than {MAX_ROLE_NAME_LENGTH - len(READ_ROLE_SUFFIX)} characters: its read "
            f"role ({name}{READ_ROLE_SUFFIX}) would pass IAM's limit of {MAX_ROLE_NAME_LENGTH}"
        )
    return f"{role_arn}{READ_ROLE_SUFFIX}"
