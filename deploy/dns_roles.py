"""The IAM roles a DNS account offers us, as deployed: what they may do, and the names of our functions' roles they
trust (their names, the trust policy builder and the read role's ARN are certlib.dns_account_roles, which the Lambda
code uses too).

A DNS account (the CDK's DnsAccountStack, or the sandbox's DNS account, from the same builders) has two roles:
- the write role `acme-dns-01` (DNS_ROLE_NAME): only `_acme-challenge` TXT records in the named zones (TXT at any
  name in the delegation targets, `validation-only` zones: that is what the zone is for), trusted by the steps that
  write or remove challenge records (DNS_WRITE_STEPS);
- the read role `acme-dns-01-read` (the write role's name and READ_ROLE_SUFFIX): find zones, read records, follow a
  change, nothing else, trusted by the steps that only read (DNS_READ_STEPS).

Each role trusts exact role ARNs (`ArnEquals` on aws:PrincipalArn): the roles of its steps in each workload
deployment, named `<prefix>-dns-<region>-<step>` (dns_function_role_name). A name pattern would be matched by any role
someone with iam:CreateRole makes in a workload account. The trust also requires `sts:ExternalId` when one is
configured and `aws:PrincipalOrgID` when an organization is given.

The read role's ARN is derived from the write role's (dns_read_role_arn): the accounts file names one role per DNS
account, `role-arn`, and the reading steps assume that ARN with `-read` appended.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from certlib.dns_account_roles import MAX_ROLE_NAME_LENGTH
from certlib.resources import ResourceNames

CHALLENGE_NAMES = ["_acme-challenge.*"]
ROUTE53_ACTIONS_READ = ["route53:ListResourceRecordSets", "route53:GetHostedZone"]
# The change actions our DNS steps use on TXT records (certlib.adapters.route53): CREATE and DELETE make a change batch
# conditional on what was read (two executions sharing a name keep each other's values); UPSERT writes unconditionally.
CHALLENGE_RECORD_ACTIONS = ("CREATE", "UPSERT", "DELETE")
FIND_ZONES_ACTIONS = ["route53:ListHostedZones", "route53:ListHostedZonesByName"]


def dns_role_policy(
    zone_ids: list[str], validation_zone_ids: list[str] | None = None, partition: str = "aws"
) -> dict[str, Any]:
    """The write role's permissions: list zones, read their records, change only our TXT records, follow the change."""
    validation_zone_ids = validation_zone_ids or []
    statements = _read_statements([*zone_ids, *validation_zone_ids], partition)
    if zone_ids:
        statements.append(_txt_changes("ChallengeRecords", zone_ids, partition, CHALLENGE_NAMES))
    if validation_zone_ids:
        statements.append(_txt_changes("ValidationZoneRecords", list(validation_zone_ids), partition, None))
    return {"Version": "2012-10-17", "Statement": statements}


def dns_read_role_policy(
    zone_ids: list[str], validation_zone_ids: list[str] | None = None, partition: str = "aws"
) -> dict[str, Any]:
    """The read role's permissions: list zones, read their records, follow a change; no change of any record."""
    zones = [*zone_ids, *(validation_zone_ids or [])]
    return {"Version": "2012-10-17", "Statement": _read_statements(zones, partition)}


def _read_statements(zone_ids: list[str], partition: str) -> list[dict[str, Any]]:
    zones = [f"arn:{partition}:route53:::hostedzone/{zone}" for zone in zone_ids]
    return [
        {"Sid": "FindZones", "Effect": "Allow", "Action": list(FIND_ZONES_ACTIONS), "Resource": "*"},
        {"Sid": "ReadRecords", "Effect": "Allow", "Action": list(ROUTE53_ACTIONS_READ), "Resource": zones},
        {
            "Sid": "FollowChanges",
            "Effect": "Allow",
            "Action": "route53:GetChange",
            "Resource": f"arn:{partition}:route53:::change/*",
        },
    ]


def _txt_changes(sid: str, zone_ids: list[str], partition: str, names: list[str] | None) -> dict[str, Any]:
    conditions: dict[str, Any] = {
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
            "route53:ChangeResourceRecordSetsActions": list(CHALLENGE_RECORD_ACTIONS),
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


# --- the workload side: the roles of our functions that touch Route 53, which a DNS account's roles trust --------
# Our functions that call Route 53 (and so may assume a DNS account's role): the lifecycle's DNS steps, and the
# cleanup after a stopped execution. Each gets a role named by dns_function_role_name; the readers assume the DNS
# account's read role, the writers its write role, and each DNS role trusts exactly its steps' role ARNs.
DNS_STEPS: tuple[str, ...] = (
    "validate_request",
    "publish_challenges",
    "check_dns_change",
    "remove_challenges",
    "clean_up_failure",
    "clean_up_stopped_execution",
)
# Only find zones and read records (the `_acme-challenge` CNAMEs) or a change's status.
DNS_READ_STEPS: tuple[str, ...] = ("validate_request", "check_dns_change")
# Write or remove challenge records.
DNS_WRITE_STEPS: tuple[str, ...] = tuple(step for step in DNS_STEPS if step not in DNS_READ_STEPS)
DNS_ROLE_INFIX = "dns"
# The longest region name the role names leave room for (today's longest, e.g. us-isof-south-1, has 15).
MAX_REGION_LENGTH = 16
REGION_PATTERN = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")
_HASH_LENGTH = 6


def dns_function_role_pattern(prefix: str) -> str:
    """The role-name pattern of our DNS steps' roles: kept for them (no other role of ours falls under it; the stack
    leaves the others' names to CloudFormation, `<stack name>-...`). Nothing trusts the pattern: a DNS account's
    roles trust exact ARNs (dns_function_role_arn)."""
    return f"{_checked_prefix(prefix)}-{DNS_ROLE_INFIX}-*"


def dns_function_role_arn(prefix: str, account: str, region: str, step: str, partition: str = "aws") -> str:
    """The ARN of `step`'s role in the deployment of `account` and `region`; raises ValueError for a bad region."""
    return f"arn:{partition}:iam::{account}:role/{dns_function_role_name(prefix, region, step)}"


def trusted_role_arns(
    prefix: str, deployments: Iterable[tuple[str, str]], steps: Sequence[str], partition: str = "aws"
) -> list[str]:
    """The ARNs of `steps`' roles in every (account, region) deployment, in that order: what a DNS role trusts."""
    return [
        dns_function_role_arn(prefix, account, region, step, partition)
        for account, region in deployments
        for step in steps
    ]


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
