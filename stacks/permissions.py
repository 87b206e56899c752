"""What each function may do: one list of IAM statements per step, and nothing shared but the basics.

Every statement names its actions in full (no `*` in an action). A resource holds a `*` only where the ARN cannot be
known at deploy time or the API has no resource-level permissions; such a grant carries the reason, which becomes
its cdk-nag acknowledgement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam

from certlib.distribution.node_accounts import node_check_role_name, node_role_arn, node_send_role_name
from certlib.dns_access import dns_read_role_arn
from certlib.resources import (
    ACCESS_GROUP_TAG,
    CERTIFICATE_NAME_TAG,
    DISTRIBUTION_OPT_IN_TAG,
    EVENT_SOURCE,
    EXPORT_ALLOWED_TAG,
    MANAGED_BY_TAG,
    RENEWAL_INDEX,
    ResourceNames,
    account_key_secret_name,
    certificate_secret_name,
    eab_hmac_secret_name,
    export_passphrase_secret_name,
)
from deploy.dns_roles import CHALLENGE_RECORD_ACTIONS
from stacks.inventory_writes import inventory_statements

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
    # DNS accounts (certlib.dns_zones, deploy.dns_roles): the write roles named in the accounts file's `dns-zones`
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
        role from its write role (certlib.dns_access.dns_read_role_arn). Raises ValueError for a DNS role ARN that
        is not one."""

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
def _statement(
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


def _basics(t: AccessTargets) -> list[Grant]:
    """Every function reads the deployed configuration and decrypts what the stack key protects."""
    return [
        Grant(
            _statement("ReadConfiguration", ["ssm:GetParameters"], [t.config_parameter_arn, t.accounts_parameter_arn])
        ),
        Grant(
            _statement(
                "DecryptWithStackKey",
                ["kms:Decrypt"],
                [t.key_arn],
                {"StringEquals": {"kms:ViaService": list(t.kms_via_services)}},
            )
        ),
    ]


def _encrypt(t: AccessTargets) -> Grant:
    return Grant(
        _statement(
            "EncryptWithStackKey",
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [t.key_arn],
            {"StringEquals": {"kms:ViaService": list(t.kms_via_services)}},
        )
    )


def _read_account_keys(t: AccessTargets) -> Grant:
    return Grant(_statement("ReadAccountKeys", ["secretsmanager:GetSecretValue"], [t.account_secrets]), ACCOUNT_SECRETS)


def _certificate_secrets(t: AccessTargets, sid: str, actions: Sequence[str]) -> Grant:
    return Grant(_statement(sid, actions, [t.certificate_secrets]), CERTIFICATE_SECRETS)


def _zone_reason(t: AccessTargets) -> str | None:
    return ANY_HOSTED_ZONE if t.any_hosted_zone else None


def _read_records(t: AccessTargets) -> Grant:
    """TXT values and `_acme-challenge` CNAMEs (delegation), in the zones and the validation zones."""
    zones = t.hosted_zones if t.any_hosted_zone else (*t.hosted_zones, *t.validation_zones)
    return Grant(_statement("ReadRecords", ["route53:ListResourceRecordSets"], zones), _zone_reason(t))


def _assume_dns_write_roles(t: AccessTargets) -> list[Grant]:
    """sts:AssumeRole on exactly the DNS accounts' write roles of the accounts file (`dns-zones` `role-arn`): for the
    steps that write or remove challenge records; nothing without any."""
    if not t.dns_roles:
        return []
    return [Grant(_statement("AssumeDnsWriteRoles", ["sts:AssumeRole"], t.dns_roles))]


def _assume_dns_read_roles(t: AccessTargets) -> list[Grant]:
    """sts:AssumeRole on exactly those DNS accounts' read roles: for the steps that only read zones and changes."""
    if not t.dns_read_roles:
        return []
    return [Grant(_statement("AssumeDnsReadRoles", ["sts:AssumeRole"], t.dns_read_roles))]


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
    statement = _statement(
        "ChangeValidationZoneRecords", ["route53:ChangeResourceRecordSets"], t.validation_zones, conditions
    )
    return [Grant(statement)]


def _challenge_records(t: AccessTargets) -> list[Grant]:
    """Read TXT records and change only `_acme-challenge` TXT records, with CHALLENGE_RECORD_ACTIONS (TXT records at
    any name in the validation zones); in a DNS account through its role."""
    return [
        _read_records(t),
        Grant(
            _statement(
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
            _zone_reason(t),
        ),
        *_validation_zone_records(t),
        *_assume_dns_write_roles(t),
    ]


# --- one list per step --------------------------------------------------------------------------------------------
def _validate_request(t: AccessTargets) -> list[Grant]:
    find_zones = ["route53:ListHostedZones", "route53:ListHostedZonesByName"]
    return [
        _encrypt(t),
        Grant(
            _statement("FindHostedZones", find_zones, ["*"]), NO_RESOURCE_LEVEL.format(actions=" and ".join(find_zones))
        ),
        Grant(_statement("ReadHostedZones", ["route53:GetHostedZone"], t.hosted_zones), _zone_reason(t)),
        _read_records(t),  # `_acme-challenge` CNAMEs: where each DNS-01 record is delegated to
        *_assume_dns_read_roles(t),
        *_read_eab_keys_early(t),
        # A request with "replace": true changes a certificate's domains or ACME account: validate_request accepts it
        # and announces it (event + message to people) before the inventory records it (certlib.lifecycle.request).
        *notification_grants(t),
    ]


def _read_eab_keys(t: AccessTargets) -> Grant:
    return Grant(_statement("ReadEabHmacKeys", ["secretsmanager:GetSecretValue"], [t.eab_secrets]), EAB_SECRETS)


def _read_eab_keys_early(t: AccessTargets) -> list[Grant]:
    """An EAB account that is not registered yet is refused by validate_request when its HMAC key was never pushed."""
    return [_read_eab_keys(t)]


def _ensure_account(t: AccessTargets) -> list[Grant]:
    grants = [
        _encrypt(t),
        _read_account_keys(t),
        Grant(
            _statement(
                "StoreAccountKeys",
                ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"],
                [t.account_secrets],
            ),
            ACCOUNT_SECRETS,
        ),
    ]
    grants.append(_read_eab_keys(t))
    return grants


def _acme_session(t: AccessTargets) -> list[Grant]:
    """create_order, answer_challenges, check_order: the registered account, and order bookkeeping."""
    return [_read_account_keys(t)]


def _check_dns_change(t: AccessTargets) -> list[Grant]:
    return [
        Grant(_statement("ReadDnsChanges", ["route53:GetChange"], [t.dns_changes]), DNS_CHANGES),
        *_assume_dns_read_roles(t),
    ]


def _certificate_keeper(t: AccessTargets) -> list[Grant]:
    """finalize_order, store_certificate: the account, and the certificate's key and chain in Secrets Manager."""
    return [
        _encrypt(t),
        _read_account_keys(t),
        _certificate_secrets(
            t,
            "StoreCertificates",
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:CreateSecret",
                "secretsmanager:TagResource",
            ],
        ),
    ]


def _private_ca_step(sid: str, action: str) -> Callable[[AccessTargets], list[Grant]]:
    """issue_from_private_ca (IssueCertificate), check_private_ca_certificate (GetCertificate): the certificate's key
    and chain in Secrets Manager, as finalize_order and store_certificate keep them (no ACME account key), and the one
    acm-pca action at the configured Private CAs only (none without a Private CA account in the accounts file)."""

    def grants(t: AccessTargets) -> list[Grant]:
        keeper = [grant for grant in _certificate_keeper(t) if grant.statement.sid != "ReadAccountKeys"]
        if not t.private_cas:
            return keeper
        return [*keeper, Grant(_statement(sid, [action], list(t.private_cas)))]

    return grants


def _revoke_at_private_cas(t: AccessTargets) -> list[Grant]:
    """revoke_certificate: acm-pca:RevokeCertificate at the configured Private CAs only (none without one)."""
    if not t.private_cas:
        return []
    return [Grant(_statement("RevokeAtConfiguredPrivateCas", ["acm-pca:RevokeCertificate"], list(t.private_cas)))]


def _import_certificate(t: AccessTargets) -> list[Grant]:
    return [
        _certificate_secrets(t, "ReadCertificates", ["secretsmanager:GetSecretValue"]),
        # a renewal re-imports only into a certificate of this deployment (the code checks the certificate-name too)
        Grant(
            _statement(
                "ReimportOwnCertificates",
                ["acm:ImportCertificate"],
                [t.acm_certificates],
                {"StringEquals": {f"aws:ResourceTag/{MANAGED_BY_TAG[0]}": [t.deployment_tag_value]}},
            ),
            REIMPORT_OWN_CERTIFICATES,
        ),
        # a new certificate is imported only with this deployment's tags (and ACM refuses tags on a re-import)
        Grant(
            _statement(
                "ImportNewCertificates",
                ["acm:ImportCertificate", "acm:AddTagsToCertificate"],
                [t.acm_certificates],
                {
                    "StringEquals": {f"aws:RequestTag/{MANAGED_BY_TAG[0]}": [t.deployment_tag_value]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [MANAGED_BY_TAG[0], CERTIFICATE_NAME_TAG]},
                    "Null": {
                        f"aws:RequestTag/{CERTIFICATE_NAME_TAG}": "false",
                        f"aws:ResourceTag/{MANAGED_BY_TAG[0]}": "true",
                    },
                },
            ),
            IMPORT_NEW_CERTIFICATE,
        ),
        # an import whose ARN was never recorded is found again (ACM's import has no idempotency token)
        Grant(
            _statement("FindImportedCertificates", ["acm:ListCertificates"], ["*"]),
            NO_RESOURCE_LEVEL.format(actions="acm:ListCertificates"),
        ),
        Grant(
            _statement(
                "DescribeCertificates",
                ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
                [t.acm_certificates],
            ),
            ACM_CERTIFICATES,
        ),
    ]


def _record_result(t: AccessTargets) -> list[Grant]:
    """Records the result; announces it, and a distribution that failed on some nodes to people too."""
    return notification_grants(t)


def _clean_up_failure(t: AccessTargets) -> list[Grant]:
    """Remove the TXT records, release the lock, drop the pending key (PutSecretValue: Secrets Manager encrypts the
    new version with the stack key, which needs kms:GenerateDataKey), record and announce the failure."""
    return [
        Grant(
            _statement(
                "EncryptDroppedKeys",
                ["kms:GenerateDataKey"],
                [t.key_arn],
                {"StringEquals": {"kms:ViaService": [f"secretsmanager.{Aws.REGION}.amazonaws.com"]}},
            )
        ),
        *_challenge_records(t),
        _certificate_secrets(t, "DropPendingKeys", ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]),
        *notification_grants(t),
    ]


# --- events and notifications (certlib.notifications) --------------------------------------------------------------
def notification_topic_arn(stack: Stack, names: ResourceNames) -> str:
    """The topic's ARN from its name: known before the topic exists, so the key policy can name it without a cycle."""
    return stack.format_arn(service="sns", resource=names.notification_topic, arn_format=ArnFormat.NO_RESOURCE_NAME)


def emit_events(t: AccessTargets) -> Grant:
    """Put our events (source acme.certificates, and only that) on the deployment's bus."""
    return Grant(
        _statement(
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
        Grant(_statement("PublishNotifications", ["sns:Publish"], [t.notification_topic])),
        Grant(
            _statement(
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


def _report_expiry(t: AccessTargets) -> list[Grant]:
    """Read every inventory item (a Scan: the report covers the whole fleet, hourly)."""
    return [Grant(_statement("ScanInventory", ["dynamodb:Scan"], [t.table_arn]))]


def _clean_up_stopped_execution(t: AccessTargets) -> list[Grant]:
    """Read a stopped lifecycle execution's history (its last state), then what clean_up_failure may do."""
    history = _statement("ReadLifecycleHistory", ["states:GetExecutionHistory"], [t.lifecycle_executions])
    return [Grant(history, LIFECYCLE_EXECUTIONS), *_clean_up_failure(t)]


# Functions outside the lifecycle that watch the fleet (certlib.resources.MONITORING_FUNCTIONS).
MONITORING_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "report_expiry": _report_expiry,
    "clean_up_stopped_execution": _clean_up_stopped_execution,
}


# --- renewals (certlib.resources.RENEWAL_FUNCTIONS): each starts lifecycle executions -------------------------------
def _start_lifecycle(t: AccessTargets) -> Grant:
    if not t.lifecycle_state_machine:
        raise ValueError("the renewal functions' grants need the lifecycle state machine's ARN")
    return Grant(_statement("StartLifecycle", ["states:StartExecution"], [t.lifecycle_state_machine]))


def _find_due_certificates(t: AccessTargets) -> list[Grant]:
    """One Query on the renewal index; not the table itself."""
    return [Grant(_statement("QueryRenewalIndex", ["dynamodb:Query"], [t.renewal_index]))]


def _renewal_starter(t: AccessTargets) -> list[Grant]:
    """start_renewal, handle_expiry_event: read the item, mark it queued, count the account's order, start."""
    return [_start_lifecycle(t)]


def _check_revocations(t: AccessTargets) -> list[Grant]:
    """Every active certificate (a Scan; the item keeps its issuer to verify a revocation answer), then replace it.
    No certificate secret: nothing here can read a private key."""
    return [
        Grant(_statement("ScanInventory", ["dynamodb:Scan"], [t.table_arn])),
        _start_lifecycle(t),
        *notification_grants(t),
    ]


def _revoke_certificate(t: AccessTargets) -> list[Grant]:
    """Revoke through the ACME account that issued it (the certificate is on the item), record it, and start the
    replacement. No certificate secret: nothing here can read a private key."""
    return [
        _read_account_keys(t),
        *_revoke_at_private_cas(t),
        _start_lifecycle(t),
        *notification_grants(t),
    ]


RENEWAL_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "find_due_certificates": _find_due_certificates,
    "start_renewal": _renewal_starter,
    "handle_expiry_event": _renewal_starter,
    "check_revocations": _check_revocations,
    "revoke_certificate": _revoke_certificate,
}


STEP_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "validate_request": _validate_request,
    "ensure_account": _ensure_account,
    "create_order": _acme_session,
    "publish_challenges": _challenge_records,
    "check_dns_change": _check_dns_change,
    "answer_challenges": _acme_session,
    "check_order": _acme_session,
    "remove_challenges": _challenge_records,
    "finalize_order": _certificate_keeper,
    "store_certificate": _certificate_keeper,
    "issue_from_private_ca": _private_ca_step("IssueFromConfiguredPrivateCas", "acm-pca:IssueCertificate"),
    "check_private_ca_certificate": _private_ca_step("ReadFromConfiguredPrivateCas", "acm-pca:GetCertificate"),
    "import_certificate": _import_certificate,
    "send_distribution": lambda t: _send_distribution(t),
    "check_distribution": lambda t: _check_distribution(t),
    "record_result": _record_result,
    "clean_up_failure": _clean_up_failure,
    # certlib.lifecycle.fallback: records the switch (inventory) and announces it; no secret, no DNS, no CA
    "switch_to_fallback_account": lambda t: notification_grants(t),
}


def grants_for(step: str, targets: AccessTargets) -> list[Grant]:
    """The step's statements, after the basics every function has and its inventory reads and writes (each write
    scoped to the attributes its step owns: stacks/inventory_writes.py); raises KeyError for an unknown step."""
    grants = (
        STEP_GRANTS.get(step) or RENEWAL_GRANTS.get(step) or DISTRIBUTION_GRANTS.get(step) or MONITORING_GRANTS[step]
    )
    inventory = [Grant(statement) for statement in inventory_statements(step, targets.table_arn)]
    return [*_basics(targets), *inventory, *grants(targets)]


# --- distribution (certlib.distribution): SSM Run Command, and ACM's exportable certificates ------------------------
COMMAND_TARGETS = (
    "ssm:SendCommand is authorized on each target node too; the nodes are chosen by tag at run time (SSM resolves the "
    "tags), so the grant names this account's EC2 instances and managed instances in this region, only those that "
    f"opted in with the tag {DISTRIBUTION_OPT_IN_TAG} = the resource prefix (ssm:resourceTag condition). The document "
    "is named in a statement of its own: only the distribution document can be sent."
)
EXPORT_PHRASE_SECRETS = (
    "Export passphrases are created at run time, one secret per exported certificate, named "
    "<prefix>/export-passphrase/<name>; the pattern is that name prefix (covering Secrets Manager's random ARN suffix)."
)
EXPORTABLE_CERTIFICATES = (
    "Certificates to export are registered at run time (certctl export) by ARN; the grant covers this account's "
    "certificates in this region that their owner tagged for this deployment (acme-certificates-export = the "
    "resource prefix), and only to export them."
)
READ_COMMANDS = NO_RESOURCE_LEVEL.format(actions="ssm:ListCommands and ssm:ListCommandInvocations")


def _send_distribution(t: AccessTargets) -> list[Grant]:
    """Tag the bundle's secret with the nodes' access group (only that tag), set or remove its resource policy for the
    profile's node accounts (never a public one), and send only the distribution document."""
    return [
        Grant(
            _statement(
                "TagCertificatesForNodes",
                ["secretsmanager:TagResource"],
                [t.certificate_secrets],
                {"ForAllValues:StringEquals": {"aws:TagKeys": [ACCESS_GROUP_TAG]}},
            ),
            CERTIFICATE_SECRETS,
        ),
        Grant(
            _statement(
                "LetNodeAccountsReadTheirBundles",
                ["secretsmanager:PutResourcePolicy"],
                [t.certificate_secrets],
                {"Bool": {"secretsmanager:BlockPublicPolicy": "true"}},
            ),
            CERTIFICATE_SECRETS,
        ),
        Grant(
            _statement("RevokeNodeAccountsReads", ["secretsmanager:DeleteResourcePolicy"], [t.certificate_secrets]),
            CERTIFICATE_SECRETS,
        ),
        Grant(_statement("SendOnlyTheDistributionDocument", ["ssm:SendCommand"], [t.distribution_document])),
        *_assume("SendInNodeAccounts", t.node_send_roles),
        Grant(
            _statement(
                "SendToNodesThatOptedIn",
                ["ssm:SendCommand"],
                list(t.command_targets),
                {"StringEquals": {f"ssm:resourceTag/{DISTRIBUTION_OPT_IN_TAG}": t.deployment_tag_value}},
            ),
            COMMAND_TARGETS,
        ),
    ]


def _check_distribution(t: AccessTargets) -> list[Grant]:
    return [
        Grant(_statement("ReadCommands", ["ssm:ListCommands", "ssm:ListCommandInvocations"], ["*"]), READ_COMMANDS),
        *_assume("ReadCommandsInNodeAccounts", t.node_check_roles),
    ]


def _assume(sid: str, roles: Sequence[str]) -> list[Grant]:
    """sts:AssumeRole of exactly the node accounts' roles (none without node accounts)."""
    return [Grant(_statement(sid, ["sts:AssumeRole"], list(roles)))] if roles else []


def _export_certificate(t: AccessTargets) -> list[Grant]:
    """Register the certificate, export it with its passphrase, and store the decrypted bundle."""
    secret_writes = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
    ]
    return [
        _encrypt(t),
        _certificate_secrets(t, "StoreCertificates", secret_writes),
        Grant(_statement("KeepExportPassphrases", secret_writes, [t.passphrase_secrets]), EXPORT_PHRASE_SECRETS),
        Grant(
            _statement(
                "ExportCertificates",
                ["acm:ExportCertificate"],
                [t.regional_acm_certificates],
                {"StringEquals": {f"aws:ResourceTag/{EXPORT_ALLOWED_TAG}": [t.deployment_tag_value]}},
            ),
            EXPORTABLE_CERTIFICATES,
        ),
    ]


def _record_distribution(t: AccessTargets) -> list[Grant]:
    return []  # its inventory writes only (stacks/inventory_writes.py)


def _handle_certificate_available(t: AccessTargets) -> list[Grant]:
    if not t.distribution_state_machine:
        raise ValueError("handle_certificate_available's grants need the distribution state machine's ARN")
    return [
        Grant(_statement("StartDistribution", ["states:StartExecution"], [t.distribution_state_machine])),
    ]


DISTRIBUTION_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "export_certificate": _export_certificate,
    "record_distribution": _record_distribution,
    "handle_certificate_available": _handle_certificate_available,
}
