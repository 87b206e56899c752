"""The stack a DNS account deploys: the two roles our DNS steps assume in its zones.

- `acme-dns-01` (write): only `_acme-challenge` TXT records in the named zones (TXT at any name in the validation
  zones), trusted by exactly the roles of the steps that write or remove challenge records;
- `acme-dns-01-read` (read): find zones, read records, follow a change, trusted by exactly the roles of the steps
  that only read (validate_request, check_dns_change).

Both trust the exact role ARNs of those steps in every deployment (`ArnEquals` on aws:PrincipalArn), require the
configured external ID (sts:ExternalId) and organization (aws:PrincipalOrgID) when there are ones. The documents
are deploy.dns_roles's, the same ones the sandbox's DNS account gets (sandbox/dns_account.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from certlib.dns_account_roles import DNS_READ_ROLE_NAME, DNS_ROLE_NAME, dns_role_trust
from deploy.dns_roles import dns_read_role_policy, dns_role_policy
from stacks.constructs.roles import assumable_role
from stacks.deployments import Deployment, TrustedRoles, dns_account_of, parse_deployments, parse_dns_accounts
from stacks.nag import WILDCARD_RULE, acknowledge

POLICY_NAME = DNS_ROLE_NAME
READ_POLICY_NAME = DNS_READ_ROLE_NAME
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
        deployments: Sequence[Deployment] | None = None,
        external_id: str | None = None,
        organization_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`prefix` is the certificate stacks' resourcePrefix: with the `deployments` (account and region of each
        certificate stack) it names the roles these roles trust. Without `deployments`, the deployments and this
        account's `externalId` and `organizationId` are the app's context (`deployments`, this account's
        `dnsAccounts` entry; stacks.deployments), which then needs the stack's account.

        Raises ValueError without workload accounts or zones, when `workload_accounts` are not the deployments'
        accounts, or when the context has no entry for this account; SettingsError for a bad context value.
        """
        super().__init__(
            scope,
            construct_id,
            description="ACME certificates: the roles the workload accounts' DNS-01 steps assume to read and write TXT",
            **kwargs,
        )
        if not workload_accounts:
            raise ValueError("a DNS account's role needs at least one workload account to trust")
        if not zone_ids and not validation_zone_ids:
            raise ValueError("a DNS account's role needs at least one zone to write to")
        if deployments is None:
            deployments, external_id, organization_id = self._from_context()
        if sorted({d.account for d in deployments}) != sorted(set(workload_accounts)):
            raise ValueError(
                f"the workload accounts {sorted(set(workload_accounts))} are not the deployments' accounts "
                f"{sorted({d.account for d in deployments})}"
            )
        self.trusted = TrustedRoles.of(prefix, tuple(deployments), partition=Aws.PARTITION)
        self.trust_document = dns_role_trust(
            self.trusted.write, external_id=external_id, organization_id=organization_id, partition=Aws.PARTITION
        )
        self.read_trust_document = dns_role_trust(
            self.trusted.read, external_id=external_id, organization_id=organization_id, partition=Aws.PARTITION
        )
        self.policy_document = dns_role_policy(list(zone_ids), list(validation_zone_ids), partition=Aws.PARTITION)
        self.read_policy_document = dns_read_role_policy(
            list(zone_ids), list(validation_zone_ids), partition=Aws.PARTITION
        )
        # "DnsRole" keeps its logical ID and name: a stack deployed before the read role existed updates in place.
        self.role = _acknowledged(
            assumable_role(
                self,
                "DnsRole",
                name=DNS_ROLE_NAME,
                description=f"DNS-01 challenge records for the ACME certificates ({prefix}) of the workload accounts",
                trust=self.trust_document,
                policy_name=POLICY_NAME,
                policy=self.policy_document,
            )
        )
        self.read_role = _acknowledged(
            assumable_role(
                self,
                "DnsReadRole",
                name=DNS_READ_ROLE_NAME,
                description=(
                    f"Read-only: find zones, read records, follow changes, for the ACME certificates ({prefix})"
                ),
                trust=self.read_trust_document,
                policy_name=READ_POLICY_NAME,
                policy=self.read_policy_document,
            )
        )
        CfnOutput(
            self,
            "DnsRoleArn",
            value=self.role.attr_arn,
            description="Name this role as role-arn under dns-zones in the workload accounts' acme-accounts.yaml",
        )
        CfnOutput(
            self,
            "DnsReadRoleArn",
            value=self.read_role.attr_arn,
            description="The read-only role the reading steps assume (role-arn with -read: nothing to configure)",
        )

    def _from_context(self) -> tuple[tuple[Deployment, ...], str | None, str | None]:
        """(deployments, externalId, organizationId) of this account from the app's context."""
        if Token.is_unresolved(self.account):
            raise ValueError("a DNS account's stack needs its account (env) to find its dnsAccounts entry")
        context = self.node.try_get_context
        deployments = parse_deployments(context("deployments"), context("stackName") or None)
        entry = dns_account_of(parse_dns_accounts(context("dnsAccounts"), deployments), self.account)
        if entry is None:
            raise ValueError(f"the context dnsAccounts has no entry for account {self.account}")
        return deployments, entry.external_id, entry.organization_id


def _acknowledged(role: iam.CfnRole) -> iam.CfnRole:
    """The role, with cdk-nag told why its policy names every zone (finding them) and every change (following them)."""
    acknowledge(role, f"{WILDCARD_RULE}[Resource::*]", FIND_ZONES_REASON)
    acknowledge(role, f"{WILDCARD_RULE}[Resource::arn:<AWS::Partition>:route53:::change/*]", CHANGES_REASON)
    return role
