"""The stack's KMS key: the inventory table, the secrets and the log groups are encrypted with it."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from certlib.resources import ResourceNames, certificate_secret_name
from deploy.node_account_policies import node_accounts_key_statement

# What CloudWatch Logs needs to encrypt and read a log group with a customer managed key.
LOGS_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]


class EncryptionKey(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, names: ResourceNames, node_accounts: Sequence[str] = ()
    ) -> None:
        """`node_accounts`: the accounts the distribution profiles name (deploy.node_account_policies): the key
        policy lets their nodes decrypt certificate bundles through Secrets Manager, nothing else."""
        super().__init__(scope, construct_id)
        # RETAIN: the table and the secrets stay after a stack deletion, and they are unreadable without it.
        self.key = kms.Key(
            self,
            "Key",
            alias=names.kms_alias,
            description=f"{names.prefix}: ACME account keys, certificate keys, inventory and logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # The alias stays with the key: the retained key is still found by its name (docs/operations.md, Upgrading).
        for alias in self.key.node.children:
            if isinstance(alias, kms.Alias):
                alias.apply_removal_policy(RemovalPolicy.RETAIN)
        log_groups = Stack.of(self).format_arn(
            service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=LOGS_KEY_ACTIONS,
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )
        if node_accounts:
            certificate_secrets = Stack.of(self).format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=certificate_secret_name(names.secret_prefix, "*"),
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            statement = node_accounts_key_statement(node_accounts, Aws.REGION, certificate_secrets, Aws.PARTITION)
            self.key.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
