"""The IAM policy of the role a DNS account offers us: only `_acme-challenge` TXT records in the named zones.

One builder for the CDK's DNS-account role stack and for the sandbox's DNS account, so both hold exactly this.
Delegation targets (`validation-only` zones) may take TXT records at any name: that is what the zone is for.

The role trusts the workload accounts' roles by name: our functions that call Route 53 (DNS_STEPS) have roles named
`<prefix>-dns-<region>-<step>` (dns_function_role_name), and the trust names `<prefix>-dns-*`
(dns_function_role_pattern), so the CDK stacks and the sandbox agree on both sides.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from certlib.resources import ResourceNames

DNS_ROLE_NAME = "acme-dns-01"
CHALLENGE_NAMES = ["_acme-challenge.*"]
ROUTE53_ACTIONS_READ = ["route53:ListResourceRecordSets", "route53:GetHostedZone"]


def dns_role_policy(
    zone_ids: list[str], validation_zone_ids: list[str] | None = None, partition: str = "aws"
) -> dict[str, Any]:
    """The role's permissions: list zones, read their records, change only our TXT records, follow the change."""
    validation_zone_ids = validation_zone_ids or []
    zones = [f"arn:{partition}:route53:::hostedzone/{zone}" for zone in [*zone_ids, *validation_zone_ids]]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "FindZones",
            "Effect": "Allow",
            "Action": ["route53:ListHostedZones", "route53:ListHostedZonesByName"],
            "Resource": "*",
        },
        {"Sid": "ReadRecords", "Effect": "Allow", "Action": ROUTE53_ACTIONS_READ, "Resource": zones},
        {
            "Sid": "FollowChanges",
            "Effect": "Allow",
            "Action": "route53:GetChange",
            "Resource": f"arn:{partition}:route53:::change/*",
        },
    ]
    if zone_ids:
        statements.append(_txt_changes("ChallengeRecords", zone_ids, partition, CHALLENGE_NAMES))
    if validation_zone_ids:
        statements.append(_txt_changes("ValidationZoneRecords", list(validation_zone_ids), partition, None))
    return {"Version": "2012-10-17", "Statement": statements}


def _txt_changes(sid: str, zone_ids: list[str], partition: str, names: list[str] | None) -> dict[str, Any]:
    conditions: dict[str, Any] = {
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
            "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"],
        }
    }
    if names is not None:
        conditions["ForAllValues:StringLike"] = {"route53:ChangeResourceRecordSetsNormalizedRecordNames": names}
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "route53:ChangeResourceRecordSets",
        "Resource": [f"arn:{partition}:route53:::hostedzone/{zone}" for zone in zone_ids],
        "Condition": conditions,
    }


def dns_role_trust(workload_account_ids: list[str], role_name_pattern: str, partition: str = "aws") -> dict[str, Any]:
    """Trust only our DNS functions' roles in the workload accounts (by role name pattern), nothing else there."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in workload_account_ids]},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {
                        "aws:PrincipalArn": [
                            f"arn:{partition}:iam::{account}:role/{role_name_pattern}"
                            for account in workload_account_ids
                        ]
                    }
                },
            }
        ],
    }


# --- the workload side: the roles of our functions that touch Route 53, which a DNS account's role trusts --------
# Our functions that call Route 53 (and so may assume a DNS account's role): the lifecycle's DNS steps, and the
# cleanup after a stopped execution. Each gets a role named by dns_function_role_name, and the DNS account trusts
# exactly dns_function_role_pattern.
DNS_STEPS: tuple[str, ...] = (
    "validate_request",
    "publish_challenges",
    "check_dns_change",
    "remove_challenges",
    "clean_up_failure",
    "clean_up_stopped_execution",
)
DNS_ROLE_INFIX = "dns"
MAX_ROLE_NAME_LENGTH = 64  # IAM's limit
# The longest region name the role names leave room for (today's longest, e.g. us-isof-south-1, has 15).
MAX_REGION_LENGTH = 16
REGION_PATTERN = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")
_HASH_LENGTH = 6


def dns_function_role_pattern(prefix: str) -> str:
    """The IAM role-name pattern (ArnLike) a DNS account's role trusts: our DNS steps' roles and no other role of ours.

    Our other roles have no such name: the stack leaves theirs to CloudFormation (`<stack name>-...`).
    """
    return f"{_checked_prefix(prefix)}-{DNS_ROLE_INFIX}-*"


def dns_function_role_label(prefix: str, step: str) -> str:
    """The step's part of its role name: the step with dashes, or (when the name could pass 64 characters with the
    longest region) its start and a short hash of the step. Depends on prefix and step only, never on the region,
    so a stack whose region is known only at deploy time gets the same names."""
    label = step.replace("_", "-")
    budget = MAX_ROLE_NAME_LENGTH - len(f"{_checked_prefix(prefix)}-{DNS_ROLE_INFIX}-") - MAX_REGION_LENGTH - 1
    if len(label) <= budget:
        return label
    digest = hashlib.sha256(step.encode()).hexdigest()[:_HASH_LENGTH]
    keep = budget - _HASH_LENGTH - 1
    return f"{label[:keep].rstrip('-')}-{digest}"


def dns_function_role_name(prefix: str, region: str, step: str) -> str:
    """`<prefix>-dns-<region>-<step with dashes>`, at most 64 characters; raises ValueError for a bad region."""
    check_region(region)
    return f"{_checked_prefix(prefix)}-{DNS_ROLE_INFIX}-{region}-{dns_function_role_label(prefix, step)}"


def check_region(region: str) -> str:
    """The region name itself; raises ValueError when it does not look like one or is too long for the role names."""
    if not REGION_PATTERN.fullmatch(region):
        raise ValueError(f"{region!r} is not an AWS region name (such as eu-west-1)")
    if len(region) > MAX_REGION_LENGTH:
        raise ValueError(f"region name {region!r} is longer than {MAX_REGION_LENGTH} characters")
    return region


def _checked_prefix(prefix: str) -> str:
    return ResourceNames(prefix).prefix  # raises ValueError for a prefix the stack would not accept either
