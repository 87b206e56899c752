"""What each lifecycle function may do: one list of IAM statements per step, and nothing shared but the basics.

Every statement names its actions in full (no `*` in an action). A resource holds a `*` only where the ARN cannot be
known at deploy time or the API has no resource-level permissions; such a grant carries the reason, which becomes
its cdk-nag acknowledgement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam

from certlib.resources import ResourceNames, account_key_secret_name, certificate_secret_name

# Secrets Manager appends "-" and six random characters to every secret's name in its ARN.
RANDOM_NAME_SUFFIX = "-??????"
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
    key_arn: str
    eab_secret_arns: tuple[str, ...]
    account_secrets: str
    certificate_secrets: str
    hosted_zones: tuple[str, ...]
    dns_changes: str
    acm_certificates: str
    kms_via_services: tuple[str, ...]

    @classmethod
    def build(
        cls,
        stack: Stack,
        names: ResourceNames,
        *,
        table_arn: str,
        config_parameter_arn: str,
        key_arn: str,
        eab_secret_arns: Sequence[str],
        hosted_zone_ids: Sequence[str],
    ) -> AccessTargets:
        """ARNs from the stack's resources and secret-name patterns from certlib.resources."""

        def secrets(name_pattern: str) -> str:
            return stack.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=name_pattern + RANDOM_NAME_SUFFIX,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )

        def route53(resource: str) -> str:
            return f"arn:{Aws.PARTITION}:route53:::{resource}"

        zones = tuple(route53(f"hostedzone/{zone_id}") for zone_id in hosted_zone_ids) or (route53("hostedzone/*"),)
        return cls(
            table_arn=table_arn,
            config_parameter_arn=config_parameter_arn,
            key_arn=key_arn,
            eab_secret_arns=tuple(eab_secret_arns),
            account_secrets=secrets(account_key_secret_name(names.secret_prefix, "*")),
            certificate_secrets=secrets(certificate_secret_name(names.secret_prefix, "*")),
            hosted_zones=zones,
            dns_changes=route53("change/*"),
            acm_certificates=stack.format_arn(
                service="acm",
                region="*",
                resource="certificate",
                resource_name="*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
            kms_via_services=(f"secretsmanager.{Aws.REGION}.amazonaws.com", f"dynamodb.{Aws.REGION}.amazonaws.com"),
        )

    @property
    def any_hosted_zone(self) -> bool:
        return any(zone.endswith("/*") for zone in self.hosted_zones)


# --- reasons for the wildcards ----------------------------------------------------------------------------------
NO_RESOURCE_LEVEL = "{actions} have no resource-level permissions in IAM: they can only be granted on '*'."
ACCOUNT_SECRETS = (
    "ACME account keys are created at run time, one secret per account alias, named <prefix>/acme-account/<alias>; "
    "the pattern is that name prefix plus the random suffix Secrets Manager adds to every secret ARN."
)
CERTIFICATE_SECRETS = (
    "Certificate bundles are created at run time, one secret per certificate name, named "
    "<prefix>/certificate/<name>; the pattern is that name prefix plus Secrets Manager's random ARN suffix."
)
ANY_HOSTED_ZONE = (
    "No hostedZoneIds were given at deploy time, so the DNS-01 records may go to any hosted zone of the account; "
    "the conditions still limit changes to UPSERT/DELETE of _acme-challenge TXT records. Deploy with "
    "-c hostedZoneIds=Z1,Z2 to name the zones."
)
DNS_CHANGES = "Route 53 change IDs are created by each ChangeResourceRecordSets call; GetChange is granted on change/*."
ACM_CERTIFICATES = (
    "Certificates are imported at run time into each region a request names; their ARNs are unknown at deploy time, "
    "so the grant covers this account's certificates in any region."
)
IMPORT_NEW_CERTIFICATE = (
    "acm:ImportCertificate of a new certificate is authorized on '*' (its ARN does not exist yet); re-imports use "
    "the same action."
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
        Grant(_statement("ReadConfiguration", ["ssm:GetParameter"], [t.config_parameter_arn])),
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


def _inventory(t: AccessTargets) -> Grant:
    return Grant(_statement("ReadWriteInventory", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [t.table_arn]))


def _read_account_keys(t: AccessTargets) -> Grant:
    return Grant(_statement("ReadAccountKeys", ["secretsmanager:GetSecretValue"], [t.account_secrets]), ACCOUNT_SECRETS)


def _certificate_secrets(t: AccessTargets, sid: str, actions: Sequence[str]) -> Grant:
    return Grant(_statement(sid, actions, [t.certificate_secrets]), CERTIFICATE_SECRETS)


def _zone_reason(t: AccessTargets) -> str | None:
    return ANY_HOSTED_ZONE if t.any_hosted_zone else None


def _challenge_records(t: AccessTargets) -> list[Grant]:
    """Read TXT records and change only `_acme-challenge` TXT records, with UPSERT or DELETE."""
    return [
        Grant(_statement("ReadRecords", ["route53:ListResourceRecordSets"], t.hosted_zones), _zone_reason(t)),
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
                        "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"],
                    },
                },
            ),
            _zone_reason(t),
        ),
    ]


# --- one list per step --------------------------------------------------------------------------------------------
def _validate_request(t: AccessTargets) -> list[Grant]:
    find_zones = ["route53:ListHostedZones", "route53:ListHostedZonesByName"]
    return [
        _inventory(t),
        _encrypt(t),
        Grant(
            _statement("FindHostedZones", find_zones, ["*"]), NO_RESOURCE_LEVEL.format(actions=" and ".join(find_zones))
        ),
        Grant(_statement("ReadHostedZones", ["route53:GetHostedZone"], t.hosted_zones), _zone_reason(t)),
    ]


def _ensure_account(t: AccessTargets) -> list[Grant]:
    grants = [
        _inventory(t),
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
    if t.eab_secret_arns:
        grants.append(Grant(_statement("ReadEabHmacKeys", ["secretsmanager:GetSecretValue"], t.eab_secret_arns)))
    return grants


def _acme_session(t: AccessTargets) -> list[Grant]:
    """create_order, answer_challenges, check_order: the registered account, and order bookkeeping."""
    return [_inventory(t), _read_account_keys(t)]


def _check_dns_change(t: AccessTargets) -> list[Grant]:
    return [Grant(_statement("ReadDnsChanges", ["route53:GetChange"], [t.dns_changes]), DNS_CHANGES)]


def _certificate_keeper(t: AccessTargets) -> list[Grant]:
    """finalize_order, store_certificate: the account, and the certificate's key and chain in Secrets Manager."""
    return [
        _inventory(t),
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


def _import_certificate(t: AccessTargets) -> list[Grant]:
    return [
        _inventory(t),
        _certificate_secrets(t, "ReadCertificates", ["secretsmanager:GetSecretValue"]),
        Grant(_statement("ImportCertificates", ["acm:ImportCertificate"], ["*"]), IMPORT_NEW_CERTIFICATE),
        Grant(
            _statement(
                "DescribeAndTagCertificates",
                ["acm:DescribeCertificate", "acm:AddTagsToCertificate"],
                [t.acm_certificates],
            ),
            ACM_CERTIFICATES,
        ),
    ]


def _record_result(t: AccessTargets) -> list[Grant]:
    return [_inventory(t)]


def _clean_up_failure(t: AccessTargets) -> list[Grant]:
    return [
        _inventory(t),
        *_challenge_records(t),
        _certificate_secrets(t, "DropPendingKeys", ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]),
    ]


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
    "import_certificate": _import_certificate,
    "record_result": _record_result,
    "clean_up_failure": _clean_up_failure,
}


def grants_for(step: str, targets: AccessTargets) -> list[Grant]:
    """The step's statements, after the basics every function has; raises KeyError for an unknown step."""
    return [*_basics(targets), *STEP_GRANTS[step](targets)]
