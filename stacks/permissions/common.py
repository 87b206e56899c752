"""What the workflows' grants are built from: the targets (ARNs and patterns), the reasons for wildcards, the basics
every function has, and the shared grants (secrets, DNS, events and notifications).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam

from certlib.distribution.node_accounts import node_check_role_name, node_role_arn, node_send_role_name
from certlib.dns_account_roles import dns_read_role_arn
from certlib.resources import (
    EVENT_SOURCE,
    RENEWAL_INDEX,
    ResourceNames,
    account_key_secret_name,
    certificate_secret_name,
    eab_hmac_secret_name,
    export_passphrase_secret_name,
)
from deploy.dns_roles import CHALLENGE_RECORD_ACTIONS

# Secrets Manager appends "-" and six random characters to every secret's name in its ARN; but a request for a secret
# that does not exist yet (ensure_account's first read, a certificate's first key) is authorized against the ARN
# without them (`secret:<name>`), so a `<name>-??????` grant answers AccessDenied where the code expects "not found".
# Our patterns end in "*" (a name prefix), which covers both (found by the sandbox's IAM enforcement).
CHALLENGE_RECORD_NAMES = ["_acme-challenge.*"]


@dataclass(frozen=True)
class Grant:
    statement: iam.PolicyStatement
    wildcard_reason: str | None = None  # required when a resource of the statement holds a "*"


@dataclass(frozen=True)
class AccessTargets:
    """The ARNs (and ARN patterns) the lifecycle functions are granted access to."""

    table_arn: str
    config_parameter_arn: str
    accounts_parameter_arn: str
    key_arn: str
    eab_secrets: str
    account_secrets: str
    certificate_secrets: str
    hosted_zones: tuple[str, ...]
    dns_changes: str
    acm_certificates: str
    kms_via_services: tuple[str, ...]
    event_bus: str = ""
    notification_topic: str = ""
    # Known once the lifecycle state machine exists: the renewal functions' targets are these with it filled in.
    lifecycle_state_machine: str = ""
    # Distribution (certlib.distribution): the SSM document, the nodes it may be sent to, ACM's certificates in this
    # region (exports), the export passphrases; the distribution machine's ARN once it exists.
    distribution_document: str = ""
    command_targets: tuple[str, ...] = ()
    regional_acm_certificates: str = ""
    passphrase_secrets: str = ""
    distribution_state_machine: str = ""
    # The value of EXPORT_ALLOWED_TAG on the ACM certificates this deployment may export, and of
    # DISTRIBUTION_OPT_IN_TAG on the nodes it may send commands to: its resource prefix.
    deployment_tag_value: str = ""
    # DNS accounts (certlib.dns_zone_config, deploy.dns_roles): the write roles named in the accounts file's `dns-zones`
    # and their read roles, and our own account's zones kept only for CNAME-delegated DNS-01 records (TXT at any name
    # there).
    dns_roles: tuple[str, ...] = ()
    dns_read_roles: tuple[str, ...] = ()
    validation_zones: tuple[str, ...] = ()
    # The lifecycle's executions (by the state machine's name): clean_up_stopped_execution reads their history.
    lifecycle_executions: str = ""
    # The AWS Private CAs of the accounts file's Private CA accounts (certlib.private_ca), known at synth time.
    private_cas: tuple[str, ...] = ()
    # Node accounts (certlib.distribution.node_accounts): the send and check roles of their node-account stacks.
    node_send_roles: tuple[str, ...] = ()
    node_check_roles: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        stack: Stack,
        names: ResourceNames,
        *,
        table_arn: str,
        config_parameter_arn: str,
        key_arn: str,
        hosted_zone_ids: Sequence[str],
        dns_role_arns: Sequence[str] = (),
        validation_zone_ids: Sequence[str] = (),
        private_ca_arns: Sequence[str] = (),
        node_accounts: Sequence[str] = (),
    ) -> AccessTargets:
        """ARNs from the stack's resources and secret-name patterns from certlib.resources; each DNS account's read
        role from its write role (certlib.dns_account_roles.dns_read_role_arn). Raises ValueError for a DNS role ARN
        that is not one."""

        def secrets(name_pattern: str) -> str:
            return stack.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=name_pattern,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )

        def route53(resource: str) -> str:
            return f"arn:{Aws.PARTITION}:route53:::{resource}"

        zones = tuple(route53(f"hostedzone/{zone_id}") for zone_id in hosted_zone_ids) or (route53("hostedzone/*"),)
        return cls(
            table_arn=table_arn,
            config_parameter_arn=config_parameter_arn,
            accounts_parameter_arn=stack.format_arn(
                service="ssm",
                resource="parameter",
                resource_name=names.accounts_parameter.lstrip("/"),
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
            key_arn=key_arn,
            eab_secrets=secrets(eab_hmac_secret_name(names.secret_prefix, "*")),
            account_secrets=secrets(account_key_secret_name(names.secret_prefix, "*")),
            certificate_secrets=secrets(certificate_secret_name(names.secret_prefix, "*")),
            hosted_zones=zones,
            dns_roles=tuple(dns_role_arns),
            dns_read_roles=tuple(sorted({dns_read_role_arn(arn) for arn in dns_role_arns})),
            validation_zones=tuple(route53(f"hostedzone/{zone_id}") for zone_id in validation_zone_ids),
            dns_changes=route53("change/*"),
            acm_certificates=stack.format_arn(
                service="acm",
                region="*",
                resource="certificate",
                resource_name="*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
            kms_via_services=(f"secretsmanager.{Aws.REGION}.amazonaws.com", f"dynamodb.{Aws.REGION}.amazonaws.com"),
            event_bus=stack.format_arn(service="events", resource="event-bus", resource_name=names.event_bus),
            notification_topic=notification_topic_arn(stack, names),
            distribution_document=stack.format_arn(
                service="ssm", resource="document", resource_name=names.distribution_document
            ),
            command_targets=(
                stack.format_arn(service="ec2", resource="instance", resource_name="*"),
                stack.format_arn(service="ssm", resource="managed-instance", resource_name="*"),
            ),
            regional_acm_certificates=stack.format_arn(service="acm", resource="certificate", resource_name="*"),
            passphrase_secrets=secrets(export_passphrase_secret_name(names.secret_prefix, "*")),
            deployment_tag_value=names.prefix,
            lifecycle_executions=stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{names.lifecycle_state_machine}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            private_cas=tuple(sorted(set(private_ca_arns))),
            node_send_roles=tuple(
                node_role_arn(account, node_send_role_name(names.prefix), Aws.PARTITION) for account in node_accounts
            ),
            node_check_roles=tuple(
                node_role_arn(account, node_check_role_name(names.prefix), Aws.PARTITION) for account in node_accounts
            ),
        )

    @property
    def renewal_index(self) -> str:
        return f"{self.table_arn}/index/{RENEWAL_INDEX}"

    @property
    def any_hosted_zone(self) -> bool:
        return any(zone.endswith("/*") for zone in self.hosted_zones)


# --- reasons for the wildcards ----------------------------------------------------------------------------------
NO_RESOURCE_LEVEL = "{actions} have no resource-level permissions in IAM: they can only be granted on '*'."
ACCOUNT_SECRETS = (
    "ACME account keys are created at run time, one secret per account alias, named <prefix>/acme-account/<alias>; "
    "the pattern is that name prefix (it covers the random suffix Secrets Manager adds to every secret ARN, and the "
    "ARN without it that a request for a secret not created yet is authorized against)."
)
EAB_SECRETS = (
    "EAB HMAC keys are stored by `certctl accounts push`, one secret per EAB account alias, named "
    "<prefix>/acme-eab/<alias>: for the accounts of the deployed file and for accounts pushed at run time (the "
    "SSM parameter <prefix>/accounts, changed without a deploy); the pattern is that name prefix."
)
CERTIFICATE_SECRETS = (
    "Certificate bundles are created at run time, one secret per certificate name, named "
    "<prefix>/certificate/<name>; the pattern is that name prefix (covering Secrets Manager's random ARN suffix)."
)
ANY_HOSTED_ZONE = (
    "No hostedZoneIds were given at deploy time, so the DNS-01 records may go to any hosted zone of the account; "
    "the conditions still limit changes to CREATE/UPSERT/DELETE of _acme-challenge TXT records. Deploy with "
    "-c hostedZoneIds=Z1,Z2 to name the zones."
)
LIFECYCLE_EXECUTIONS = (
    "Lifecycle executions are started at run time under names made then; the grant is the lifecycle state machine's "
    "executions (execution:<its name>:*), for reading the history of one that stopped."
)
DNS_CHANGES = "Route 53 change IDs are created by each ChangeResourceRecordSets call; GetChange is granted on change/*."
ACM_CERTIFICATES = (
    "Certificates are imported at run time into each region a request names; their ARNs are unknown at deploy time, "
    "so the grant covers this account's certificates in any region."
)
REIMPORT_OWN_CERTIFICATES = (
    "Renewals re-import into the certificates this deployment imported, in each region a request names; their ARNs "
    "are made at run time, so the grant covers this account's certificates, and of those only the ones tagged "
    "managed-by=<the resource prefix> (aws:ResourceTag)."
)
IMPORT_NEW_CERTIFICATE = (
    "A new certificate has no ARN before its import: acm:ImportCertificate, and acm:AddTagsToCertificate that tagging "
    "it on import needs, are authorized on certificate/* of its region. The conditions require the tags "
    "managed-by=<the resource prefix> and certificate-name, and no other, and refuse a certificate that already has a "
    "managed-by tag."
)


# --- building blocks ----------------------------------------------------------------------------------------------
def iam_statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    conditions: Mapping[str, Mapping[str, object]] | None = None,
) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=sid,
        actions=list(actions),
        resources=list(resources),
        conditions={operator: dict(values) for operator, values in conditions.items()} if conditions else None,
    )


def basics(t: AccessTargets) -> list[Grant]:
    """Every function reads the deployed configuration and decrypts what the stack key protects."""
    return [
        Grant(
            iam_statement(
                "ReadConfiguration", ["ssm:GetParameters"], [t.config_parameter_arn, t.accounts_parameter_arn]
            )
        ),
        Grant(
            iam_statement(
                "DecryptWithStackKey",
                ["kms:Decrypt"],
                [t.key_arn],
                {"StringEquals": {"kms:ViaService": list(t.kms_via_services)}},
            )
        ),
    ]


def encrypt(t: AccessTargets) -> Grant:
    return Grant(
        iam_statement(
            "EncryptWithStackKey",
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [t.key_arn],
            {"StringEquals": {"kms:ViaService": list(t.kms_via_services)}},
        )
    )


def read_account_keys(t: AccessTargets) -> Grant:
    return Grant(
        iam_statement("ReadAccountKeys", ["secretsmanager:GetSecretValue"], [t.account_secrets]), ACCOUNT_SECRETS
    )


def certificate_secrets(t: AccessTargets, sid: str, actions: Sequence[str]) -> Grant:
    return Grant(iam_statement(sid, actions, [t.certificate_secrets]), CERTIFICATE_SECRETS)


def zone_reason(t: AccessTargets) -> str | None:
    return ANY_HOSTED_ZONE if t.any_hosted_zone else None


def read_records(t: AccessTargets) -> Grant:
    """TXT values and `_acme-challenge` CNAMEs (delegation), in the zones and the validation zones."""
    zones = t.hosted_zones if t.any_hosted_zone else (*t.hosted_zones, *t.validation_zones)
    return Grant(iam_statement("ReadRecords", ["route53:ListResourceRecordSets"], zones), zone_reason(t))


def _assume_dns_write_roles(t: AccessTargets) -> list[Grant]:
    """sts:AssumeRole on exactly the DNS accounts' write roles of the accounts file (`dns-zones` `role-arn`): for the
    steps that write or remove challenge records; nothing without any."""
    if not t.dns_roles:
        return []
    return [Grant(iam_statement("AssumeDnsWriteRoles", ["sts:AssumeRole"], t.dns_roles))]


def assume_dns_read_roles(t: AccessTargets) -> list[Grant]:
    """sts:AssumeRole on exactly those DNS accounts' read roles: for the steps that only read zones and changes."""
    if not t.dns_read_roles:
        return []
    return [Grant(iam_statement("AssumeDnsReadRoles", ["sts:AssumeRole"], t.dns_read_roles))]


def _validation_zone_records(t: AccessTargets) -> list[Grant]:
    """Delegation targets: TXT records at any name (what the zone is for), still only CHALLENGE_RECORD_ACTIONS."""
    if not t.validation_zones:
        return []
    conditions = {
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
            "route53:ChangeResourceRecordSetsActions": list(CHALLENGE_RECORD_ACTIONS),
        }
    }
    statement = iam_statement(
        "ChangeValidationZoneRecords", ["route53:ChangeResourceRecordSets"], t.validation_zones, conditions
    )
    return [Grant(statement)]


def challenge_records(t: AccessTargets) -> list[Grant]:
    """Read TXT records and change only `_acme-challenge` TXT records, with CHALLENGE_RECORD_ACTIONS (TXT records at
    any name in the validation zones); in a DNS account through its role."""
    return [
        read_records(t),
        Grant(
            iam_statement(
                "ChangeChallengeRecords",
                ["route53:ChangeResourceRecordSets"],
                t.hosted_zones,
                {
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": CHALLENGE_RECORD_NAMES
                    },
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                        "route53:ChangeResourceRecordSetsActions": list(CHALLENGE_RECORD_ACTIONS),
                    },
                },
            ),
            zone_reason(t),
        ),
        *_validation_zone_records(t),
        *_assume_dns_write_roles(t),
    ]


# --- events and notifications (certlib.notifications) --------------------------------------------------------------
def notification_topic_arn(stack: Stack, names: ResourceNames) -> str:
    """The topic's ARN from its name: known before the topic exists, so the key policy can name it without a cycle."""
    return stack.format_arn(service="sns", resource=names.notification_topic, arn_format=ArnFormat.NO_RESOURCE_NAME)


def emit_events(t: AccessTargets) -> Grant:
    """Put our events (source acme.certificates, and only that) on the deployment's bus."""
    return Grant(
        iam_statement(
            "PutCertificateEvents",
            ["events:PutEvents"],
            [t.event_bus],
            {"StringEquals": {"events:source": [EVENT_SOURCE]}},
        )
    )


def notification_grants(t: AccessTargets) -> list[Grant]:
    """For every step that announces failures or revocations: the events, and the KMS-encrypted SNS topic.

    Publishing to an encrypted topic needs a data key from the topic's KMS key, through SNS and for that topic only.
    """
    return [
        emit_events(t),
        Grant(iam_statement("PublishNotifications", ["sns:Publish"], [t.notification_topic])),
        Grant(
            iam_statement(
                "EncryptNotifications",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                [t.key_arn],
                {
                    "StringEquals": {
                        "kms:ViaService": [f"sns.{Aws.REGION}.amazonaws.com"],
                        "kms:EncryptionContext:aws:sns:topicArn": [t.notification_topic],
                    }
                },
            )
        ),
    ]
