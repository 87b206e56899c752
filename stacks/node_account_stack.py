"""The stack a node account deploys (docs/distribution.md, "Nodes in other accounts"): the managed policy its nodes'
roles need to read certificate bundles from the issuing account, the distribution document, and the two roles the
issuing deployment assumes to send it to the nodes here and read how they did.

Cross-account reads need both sides (deploy.node_account_policies): the issuing account's secret resource
policy and key policy name this account; this stack gives the node roles here the identity side: GetSecretValue on
the issuing account's certificate secrets whose access-group tag equals the role's own principal tag, and kms:Decrypt
on its key through Secrets Manager only. Attach the policy to the node roles (beside AmazonSSMManagedInstanceCore)
and tag each role with its access group (ACCESS_GROUP_TAG).

SSM sends commands only to the caller's own instances: the send role (`<prefix>-distribution-send`) may send only the
distribution document, only to instances here that opted in (DISTRIBUTION_OPT_IN_TAG = the prefix), and trusts only
the issuing deployment's send_distribution role; the check role (`<prefix>-distribution-check`) may only read
commands, and trusts only its check_distribution role. Both require the profile's external ID when it has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, CfnOutput, Environment, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from certlib.distribution.node_accounts import node_check_role_name, node_send_role_name
from certlib.resources import (
    ACCESS_GROUP_TAG,
    DISTRIBUTION_OPT_IN_TAG,
    ResourceNames,
    certificate_secret_name,
)
from deploy.node_account_policies import node_check_policy, node_read_policy, node_role_trust, node_send_policy
from stacks.constructs.distribution import distribution_document
from stacks.constructs.roles import assumable_role
from stacks.deployments import ACCOUNT_PATTERN, context_account, context_entries
from stacks.nag import WILDCARD_RULE, acknowledge, flatten_cfn_reference
from stacks.settings import SettingsError

NODE_ACCOUNT_STACK_NAME_BASE = "AcmeCertificateNodes"
CERTIFICATE_SECRETS_REASON = (
    "Certificate bundles are created at run time, one secret per certificate, named <prefix>/certificate/<name> in "
    f"the issuing account; the pattern is that name prefix. The condition limits it to the bundles tagged with the "
    f"node role's own {ACCESS_GROUP_TAG}, and the issuing account's resource policy to the bundles meant for this "
    "account."
)
COMMAND_TARGETS_REASON = (
    "ssm:SendCommand is authorized on each target node too; the nodes are chosen by tag at run time, so the grant "
    f"names this account's instances and managed instances in the region, only those that opted in with the tag "
    f"{DISTRIBUTION_OPT_IN_TAG} = the resource prefix (ssm:resourceTag condition)."
)
READ_COMMANDS_REASON = (
    "ssm:ListCommands and ssm:ListCommandInvocations have no resource-level permissions in IAM: they can only be "
    "granted on '*'. They read commands' status and output; the distribution document prints no key material."
)


class NodeAccountStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        issuing_account: str,
        issuing_region: str,
        key_arn: str,
        send_role_arn: str,
        check_role_arn: str,
        external_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`prefix` is the certificate stack's resourcePrefix, `issuing_account` and `issuing_region` where it runs;
        `key_arn`, `send_role_arn` and `check_role_arn` are its outputs KmsKeyArn, SendDistributionRoleArn and
        CheckDistributionRoleArn; `external_id` is the profile's `external-id`. Raises ValueError for an account that
        is not 12 digits, a key ARN of another account or region, a role ARN of another account, or an external ID
        STS would refuse."""
        super().__init__(
            scope,
            construct_id,
            description=f"ACME certificates: what nodes here need to read the bundles of {issuing_account} ({prefix})",
            **kwargs,
        )
        if not ACCOUNT_PATTERN.fullmatch(issuing_account):
            raise ValueError(f"the issuing account must be 12 digits, got {issuing_account!r}")
        key_parts = key_arn.split(":")
        if len(key_parts) != 6 or key_parts[2] != "kms" or not key_parts[5].startswith("key/"):
            raise ValueError(f"{key_arn!r} is not a KMS key ARN (the certificate stack's output KmsKeyArn)")
        if (key_parts[3], key_parts[4]) != (issuing_region, issuing_account):
            raise ValueError(f"the key {key_arn} is not in {issuing_account}/{issuing_region}")
        for role_arn in (send_role_arn, check_role_arn):
            if not role_arn.startswith("arn:aws") or role_arn.split(":")[4:5] != [issuing_account]:
                raise ValueError(
                    f"{role_arn!r} is not a role ARN of {issuing_account} (the certificate stack's output)"
                )
        if not Token.is_unresolved(self.region) and self.region != issuing_region:
            raise ValueError(f"deploy the node-account stack in the issuing region {issuing_region} (SSM is regional)")
        names = ResourceNames(prefix)
        resource = f"secretsmanager:{issuing_region}:{issuing_account}:secret:"
        resource += certificate_secret_name(names.secret_prefix, "*")
        secrets = f"arn:{Aws.PARTITION}:{resource}"
        self.policy_document = node_read_policy(secrets, key_arn, issuing_region)
        self.policy = iam.CfnManagedPolicy(
            self,
            "NodePolicy",
            managed_policy_name=f"{names.certificate_nodes_policy}-{issuing_account}",
            description=(
                f"Nodes receiving certificates from {prefix} in {issuing_account}: read the bundles whose "
                f"{ACCESS_GROUP_TAG} tag equals the role's principal tag {ACCESS_GROUP_TAG}"
            ),
            policy_document=iam.PolicyDocument.from_json(self.policy_document),
        )
        acknowledge(
            self.policy, f"{WILDCARD_RULE}[Resource::arn:<AWS::Partition>:{resource}]", CERTIFICATE_SECRETS_REASON
        )
        self.document = distribution_document(self, names.distribution_document)

        def here(service: str, resource: str, name: str) -> str:  # this account, in the issuing region
            return self.format_arn(service=service, region=issuing_region, resource=resource, resource_name=name)

        nodes = [here("ec2", "instance", "*"), here("ssm", "managed-instance", "*")]
        self.send_policy_document = node_send_policy(
            here("ssm", "document", names.distribution_document), nodes, (DISTRIBUTION_OPT_IN_TAG, prefix)
        )
        self.send_role = self._role(
            "SendRole",
            node_send_role_name(prefix),
            f"Send {names.distribution_document} to the nodes here that opted in, for {prefix} in {issuing_account}",
            node_role_trust(send_role_arn, external_id),
            self.send_policy_document,
        )
        self.check_role = self._role(
            "CheckRole",
            node_check_role_name(prefix),
            f"Read the distribution commands' results here, for {prefix} in {issuing_account}",
            node_role_trust(check_role_arn, external_id),
            node_check_policy(),
        )
        for arn in nodes:
            finding = flatten_cfn_reference(self.resolve(arn))
            acknowledge(self.send_role, f"{WILDCARD_RULE}[Resource::{finding}]", COMMAND_TARGETS_REASON)
        acknowledge(self.check_role, f"{WILDCARD_RULE}[Resource::*]", READ_COMMANDS_REASON)
        CfnOutput(
            self,
            "NodePolicyArn",
            value=self.policy.ref,
            description=f"Attach to the node roles; tag each role {ACCESS_GROUP_TAG}=<its access group>",
        )

    def _role(
        self, logical_id: str, name: str, description: str, trust: dict[str, Any], policy: dict[str, Any]
    ) -> iam.CfnRole:
        return assumable_role(
            self, logical_id, name=name, description=description, trust=trust, policy_name=name, policy=policy
        )


# --- the CDK context: `nodeAccounts` ----------------------------------------------------------------------------------
NODE_ACCOUNT_FIELDS = ("account", "keyArn", "sendRoleArn", "checkRoleArn", "externalId")


@dataclass(frozen=True)
class NodeAccount:
    """One node-account stack: the node account, and the issuing stack's outputs it trusts (its region and account
    are the key's)."""

    account: str
    key_arn: str
    send_role_arn: str
    check_role_arn: str
    external_id: str | None = None

    @property
    def stack_name(self) -> str:
        return f"{NODE_ACCOUNT_STACK_NAME_BASE}-{self.account}"

    @property
    def issuing_region(self) -> str:
        return self.key_arn.split(":")[3]

    @property
    def issuing_account(self) -> str:
        return self.key_arn.split(":")[4]


def parse_node_accounts(value: Any) -> tuple[NodeAccount, ...]:
    """The context `nodeAccounts` (a list, or its JSON): `[{"account", "keyArn", "sendRoleArn", "checkRoleArn",
    "externalId"?}]`, the last three the issuing certificate stack's outputs. Raises SettingsError naming the entry."""
    entries = []
    for index, entry in enumerate(context_entries(value, "nodeAccounts", NODE_ACCOUNT_FIELDS)):
        where = f"context nodeAccounts[{index}]"
        account = context_account(entry, where)
        missing = [name for name in NODE_ACCOUNT_FIELDS[1:4] if not isinstance(entry.get(name), str)]
        if missing:
            raise SettingsError(f"{where} needs {', '.join(missing)} (the issuing stack's outputs, as strings)")
        if len(entry["keyArn"].split(":")) != 6:
            raise SettingsError(f"{where} keyArn is not a KMS key ARN: {entry['keyArn']!r}")
        entries.append(
            NodeAccount(
                account,
                entry["keyArn"],
                entry["sendRoleArn"],
                entry["checkRoleArn"],
                entry.get("externalId"),
            )
        )
    if len({entry.account for entry in entries}) != len(entries):
        raise SettingsError("context nodeAccounts lists an account twice")
    return tuple(entries)


def node_account_stacks(scope: Construct, prefix: str, node_accounts: Sequence[NodeAccount]) -> list[NodeAccountStack]:
    """One NodeAccountStack per entry, in the node account and the issuing region. Raises ValueError as the stack."""
    return [
        NodeAccountStack(
            scope,
            entry.stack_name,
            stack_name=entry.stack_name,
            env=Environment(account=entry.account, region=entry.issuing_region),
            prefix=prefix,
            issuing_account=entry.issuing_account,
            issuing_region=entry.issuing_region,
            key_arn=entry.key_arn,
            send_role_arn=entry.send_role_arn,
            check_role_arn=entry.check_role_arn,
            external_id=entry.external_id,
        )
        for entry in node_accounts
    ]
