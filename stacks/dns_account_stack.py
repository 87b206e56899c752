"""The stack a DNS account deploys: one role our DNS steps assume to write DNS-01 records in its zones.

The role's trust and permissions are certlib.dns_access's documents, the same ones the sandbox's DNS account gets
(sandbox/dns_account.py): only the workload accounts' roles named `<prefix>-dns-*` may assume it, and it may change
only `_acme-challenge` TXT records in the named zones (TXT at any name in the validation zones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from certlib.dns_access import DNS_ROLE_NAME, dns_function_role_pattern, dns_role_policy, dns_role_trust
from stacks.nag import WILDCARD_RULE, acknowledge

POLICY_NAME = DNS_ROLE_NAME
FIND_ZONES_REASON = (
    "route53:ListHostedZones and route53:ListHostedZonesByName have no resource-level permissions in IAM: they can "
    "only be granted on '*'. They list zone names and IDs, no records; the DNS steps find the zone of each name so."
)
CHANGES_REASON = (
    "Route 53 change IDs are created by each ChangeResourceRecordSets call; route53:GetChange (read-only: the change's "
    "status) is granted on change/*, the only ARN form a change has before it exists."
)


class DnsAccountStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        workload_accounts: Sequence[str],
        zone_ids: Sequence[str],
        validation_zone_ids: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        """`prefix` is the certificate stacks' resourcePrefix: it names the roles this role trusts."""
        super().__init__(
            scope,
            construct_id,
            description="ACME certificates: the role the workload accounts' DNS-01 steps assume to write TXT records",
            **kwargs,
        )
        if not workload_accounts:
            raise ValueError("a DNS account's role needs at least one workload account to trust")
        if not zone_ids and not validation_zone_ids:
            raise ValueError("a DNS account's role needs at least one zone to write to")
        self.trust_document = dns_role_trust(
            list(workload_accounts), dns_function_role_pattern(prefix), partition=Aws.PARTITION
        )
        self.policy_document = dns_role_policy(list(zone_ids), list(validation_zone_ids), partition=Aws.PARTITION)
        self.role = iam.CfnRole(
            self,
            "DnsRole",
            role_name=DNS_ROLE_NAME,
            description=f"DNS-01 challenge records for the ACME certificates ({prefix}) of the workload accounts",
            assume_role_policy_document=iam.PolicyDocument.from_json(self.trust_document),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name=POLICY_NAME, policy_document=iam.PolicyDocument.from_json(self.policy_document)
                )
            ],
        )
        acknowledge(self.role, f"{WILDCARD_RULE}[Resource::*]", FIND_ZONES_REASON)
        acknowledge(self.role, f"{WILDCARD_RULE}[Resource::arn:<AWS::Partition>:route53:::change/*]", CHANGES_REASON)
        CfnOutput(
            self,
            "DnsRoleArn",
            value=self.role.attr_arn,
            description="Name this role as role-arn under dns-zones in the workload accounts' acme-accounts.yaml",
        )
