"""Create in moto what the CDK stack creates on AWS, with the same names (certlib.resources) and environment."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID

from certlib.adapters.secrets import SecretStore
from certlib.config import Config, parse_accounts
from certlib.resources import (
    DEFAULT_EXPIRY_ALARM_DAYS,
    INVENTORY_PARTITION_KEY,
    LIFECYCLE_STEPS,
    MONITORING_FUNCTIONS,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_FUNCTIONS,
    RENEWAL_INDEX,
    Env,
    ResourceNames,
)
from deploy.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, function_environment, renewal_environment
from deploy.paths import LIFECYCLE_ASL, RENEWAL_SWEEP_ASL
from deploy.state_machines import Timings, lifecycle_substitutions, render_definition, sweep_substitutions
from sandbox.aws import REGION
from sandbox.dns_account import DNS_ACCOUNT_ID, DNS_ACCOUNT_ZONE, ROLE_ARN, DnsAccount, create_dns_account
from sandbox.iam.stack_roles import (
    VALIDATION_ZONE,
    SandboxStacks,
    accounts_document,
    create_roles,
    load_sandbox_stacks,
    physical_values,
    synthesis_input,
)
from sandbox.iam.template import ResolvedStack, SynthesisInput, load_templates, synthesize
from sandbox.moto_pca import create_private_ca
from sandbox.nodes import profile_entry
from sandbox.pebble import ExternalAccountKey
from sandbox.provision_distribution import provision_distribution

SANDBOX_ACCOUNT_ALIAS = "sandbox"
# A second EAB account on the same Pebble, for a certificate's `fallback_accounts` (certlib.lifecycle.fallback).
SANDBOX_BACKUP_ACCOUNT_ALIAS = "sandbox-backup"
SANDBOX_ACCOUNT_EMAIL = "admin@example.test"
# The sandbox's distribution profile: nodes started with the tag role=web (and the opt-in tag, as
# sandbox.nodes.start_nodes does) get each certificate in /etc/ssl/acme/<name>/, owned by the sandbox's user; the
# check and the reload stand in for `nginx -t` and `systemctl reload nginx` (a line in reloads.log).
SANDBOX_PROFILE = "web"
SANDBOX_PROFILE_TAG = ("role", "web")
SANDBOX_PROFILE_CHECK = 'test -s "$FULLCHAIN_PATH" && test -s "$KEY_PATH"'
SANDBOX_PROFILE_RELOAD = 'echo "reloaded $(date -u +%FT%TZ)" >> "$(dirname "$CERTIFICATE_PATH")/reloads.log"'
# example.test and example.org take certificates; validation.example.net is a zone kept only for delegated
# (CNAME'd) DNS-01 records.
HOSTED_ZONES = ("example.test", "example.org", VALIDATION_ZONE)
# The sandbox's own account: moto's default account, where the operator's credentials act.
SANDBOX_ACCOUNT_ID = DEFAULT_ACCOUNT_ID
FUNCTION_MEMORY_MB = 512
FUNCTION_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class AcmeAccount:
    """The ACME account the sandbox configures: Pebble's directory and EAB key, and the CA of Pebble's HTTPS."""

    directory_url: str
    external_account_key: ExternalAccountKey
    ca_bundle_pem: str
    backup_external_account_key: ExternalAccountKey | None = None  # SANDBOX_BACKUP_ACCOUNT_ALIAS's, when given


@dataclass(frozen=True)
class Provisioned:
    account_id: str
    kms_key_arn: str
    state_machine_arn: str
    sweep_state_machine_arn: str
    hosted_zone_ids: dict[str, str]
    dns_account: DnsAccount
    notification_topic_arn: str
    function_environment: dict[str, str] = field(repr=False)
    account_aliases: list[str] = field(default_factory=list)
    private_ca_arn: str = ""  # the CA of the account PRIVATE_CA_ALIAS (sandbox.moto_pca)


def provision(
    session: boto3.Session, endpoint_url: str, names: ResourceNames, account: AcmeAccount, dns_resolver: str
) -> Provisioned:
    """Create the KMS key, inventory table, hosted zones, configuration, EAB secret, functions and state machine.

    `dns_resolver` (host:port, the sandbox's DNS server) is the functions' DNS for what is not in Route 53.
    """
    clients = _Clients(session, endpoint_url)
    account_id = clients.sts.get_caller_identity()["Account"]
    timings = Timings.sandbox()
    kms_key_arn = clients.kms.create_key(Description=f"{names.prefix}: secrets of the ACME sandbox")["KeyMetadata"][
        "Arn"
    ]
    clients.kms.create_alias(AliasName=names.kms_alias, TargetKeyId=kms_key_arn)
    _create_inventory_table(clients, names, kms_key_arn)
    zone_ids = _create_hosted_zones(clients, names)
    dns_account = create_dns_account(session, endpoint_url, names.prefix)
    zone_ids[DNS_ACCOUNT_ZONE] = dns_account.zone_id
    private_ca_arn = create_private_ca(session, endpoint_url)
    secret_arns = _configure_account(clients, names, account, kms_key_arn, zone_ids[VALIDATION_ZONE], private_ca_arn)
    stacks = _roles_from_template(
        clients, names, account_id, kms_key_arn, secret_arns, zone_ids, dns_account, private_ca_arn
    )
    topic_arn = _create_notification_topic(clients, names, kms_key_arn)
    environment = {
        **function_environment(names, kms_key_arn, timings.lock_ttl_seconds, topic_arn),
        Env.DNS_RESOLVER: dns_resolver,
    }

    # Each function and state machine with the role the template gives it.
    def create_functions(steps: tuple[str, ...], env: dict[str, str]) -> dict[str, str]:
        return _create_functions(clients, names, steps, env, stacks.workload)

    def create_state_machine(name: str, asl: Path, substitutions: dict[str, str]) -> str:
        return _create_state_machine(clients, stacks.workload, name, asl, substitutions)

    lifecycle_functions = create_functions(LIFECYCLE_STEPS, environment)
    lifecycle_arn = create_state_machine(
        names.lifecycle_state_machine, LIFECYCLE_ASL, lifecycle_substitutions(lifecycle_functions, timings)
    )
    renewal_env = renewal_environment(environment, lifecycle_arn)
    # The monitoring functions (report_expiry): nothing schedules them here; invoke them to see their metrics.
    monitoring_env = {**environment, Env.EXPIRY_ALARM_DAYS: str(DEFAULT_EXPIRY_ALARM_DAYS)}
    create_functions(MONITORING_FUNCTIONS, monitoring_env)
    distribution_env = provision_distribution(
        clients.ssm, clients.lambda_, names, environment, timings, create_functions, create_state_machine
    )
    renewal_functions = create_functions(RENEWAL_FUNCTIONS, renewal_env)
    sweep_arn = create_state_machine(
        names.renewal_sweep_state_machine, RENEWAL_SWEEP_ASL, sweep_substitutions(renewal_functions, timings)
    )
    return Provisioned(
        account_id=account_id,
        kms_key_arn=kms_key_arn,
        state_machine_arn=lifecycle_arn,
        sweep_state_machine_arn=sweep_arn,
        hosted_zone_ids=zone_ids,
        dns_account=dns_account,
        notification_topic_arn=topic_arn,
        # The handlers all run in the sandbox's process: it gets the superset of every function's environment.
        function_environment={**renewal_env, **monitoring_env, **distribution_env},
        account_aliases=configured_aliases(clients.ssm, names),
        private_ca_arn=private_ca_arn,
    )


def configured_aliases(ssm: Any, names: ResourceNames) -> list[str]:
    """The account aliases of the deployed configuration, its default first (`sandbox up`'s acme_account_aliases)."""
    config = Config.from_json(ssm.get_parameter(Name=names.config_parameter)["Parameter"]["Value"])
    return sorted(config.accounts, key=lambda alias: (alias != config.default_account, alias))


class _Clients:
    """Every client provisioning needs, against moto."""

    def __init__(self, session: boto3.Session, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.sts = session.client("sts", endpoint_url=endpoint_url)
        self.kms = session.client("kms", endpoint_url=endpoint_url)
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self.route53 = session.client("route53", endpoint_url=endpoint_url)
        self.ssm = session.client("ssm", endpoint_url=endpoint_url)
        self.secretsmanager = session.client("secretsmanager", endpoint_url=endpoint_url)
        self.iam = session.client("iam", endpoint_url=endpoint_url)
        self.lambda_ = session.client("lambda", endpoint_url=endpoint_url)
        self.stepfunctions = session.client("stepfunctions", endpoint_url=endpoint_url)
        self.sns = session.client("sns", endpoint_url=endpoint_url)


def sandbox_synthesis_input(names: ResourceNames, account_id: str = SANDBOX_ACCOUNT_ID) -> SynthesisInput:
    """The context the sandbox synthesizes the app with (known before anything runs: synthesis may start early)."""
    return synthesis_input(
        names, account_id, REGION, DNS_ACCOUNT_ID, ROLE_ARN, SANDBOX_ACCOUNT_ALIAS, SANDBOX_ACCOUNT_EMAIL
    )


def _roles_from_template(
    clients: _Clients,
    names: ResourceNames,
    account_id: str,
    kms_key_arn: str,
    secret_arns: dict[str, str],
    zone_ids: dict[str, str],
    dns_account: DnsAccount,
    private_ca_arn: str,
) -> SandboxStacks:
    """Synthesize the app shaped as the sandbox (cached) and create its roles in both accounts, with the template's
    own policies resolved to the sandbox's resources."""
    templates = load_templates(synthesize(sandbox_synthesis_input(names, account_id)))
    resources: dict[str, object] = {}
    for template in templates.values():
        resources.update(template.get("Resources", {}))
    physical = physical_values(resources, kms_key_arn, secret_arns)
    stacks = load_sandbox_stacks(
        templates, account_id, REGION, DNS_ACCOUNT_ID, physical, zone_ids, names.prefix, private_ca_arn
    )
    create_roles(clients.iam, stacks.workload)
    create_roles(dns_account.session.client("iam", endpoint_url=clients.endpoint_url), stacks.dns)
    return stacks


def _create_inventory_table(clients: _Clients, names: ResourceNames, kms_key_arn: str) -> None:
    """The table and its sparse renewal index, encrypted with the stack's key, as stacks/constructs/inventory.py
    declares them."""
    clients.dynamodb.create_table(
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn},
        TableName=names.inventory_table,
        KeySchema=[{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in (INVENTORY_PARTITION_KEY, RENEWAL_BUCKET_ATTRIBUTE, RENEW_AFTER_ATTRIBUTE)
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": RENEWAL_INDEX,
                "KeySchema": [
                    {"AttributeName": RENEWAL_BUCKET_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": RENEW_AFTER_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _create_hosted_zones(clients: _Clients, names: ResourceNames) -> dict[str, str]:
    """The public zones; returns their ids (without `/hostedzone/`) by zone name."""
    zone_ids = {}
    for zone in HOSTED_ZONES:
        created = clients.route53.create_hosted_zone(Name=zone, CallerReference=f"{names.prefix}-{zone}")
        zone_ids[zone] = created["HostedZone"]["Id"].removeprefix("/hostedzone/")
    return zone_ids


def _configure_account(
    clients: _Clients,
    names: ResourceNames,
    account: AcmeAccount,
    kms_key_arn: str,
    validation_zone_id: str,
    private_ca_arn: str,
) -> dict[str, str]:
    """The config parameter and the EAB secret, through the same parser and store operators use; returns
    {secret name: ARN} of the EAB secrets."""
    document = accounts_document(
        SANDBOX_ACCOUNT_ALIAS,
        account.directory_url,
        account.external_account_key.key_id,
        account.external_account_key.hmac_key,
        SANDBOX_ACCOUNT_EMAIL,
        account.ca_bundle_pem,
        ROLE_ARN,
        validation_zone_id,
        distribution_profiles={
            SANDBOX_PROFILE: profile_entry(
                "/etc/ssl/acme/{name}",
                *SANDBOX_PROFILE_TAG,
                check_command=SANDBOX_PROFILE_CHECK,
                reload_command=SANDBOX_PROFILE_RELOAD,
            )
        },
        private_ca_arn=private_ca_arn,
    )
    if account.backup_external_account_key is not None:
        backup = dict(document["accounts"][SANDBOX_ACCOUNT_ALIAS])
        backup["eab-key"] = account.backup_external_account_key.key_id
        backup["eab-hmac-key"] = account.backup_external_account_key.hmac_key
        document["accounts"][SANDBOX_BACKUP_ACCOUNT_ALIAS] = backup
    loaded = parse_accounts(document, source="the sandbox's account document")
    clients.ssm.put_parameter(Name=names.config_parameter, Value=loaded.config.to_json(), Type="String", Overwrite=True)
    secrets = SecretStore(clients.secretsmanager, names.secret_prefix, kms_key_arn)
    arns = {}
    for alias, hmac_key in loaded.eab_hmac_keys.items():
        arn = secrets.put_eab_hmac_key(alias, hmac_key)
        arns[arn.split(":secret:", 1)[1].rsplit("-", 1)[0]] = arn
    return arns


def _create_state_machine(
    clients: _Clients, stack: ResolvedStack, name: str, asl: Path, substitutions: dict[str, str]
) -> str:
    """A Standard state machine from the ASL file, with the role the template gives it; returns its ARN."""
    return str(
        clients.stepfunctions.create_state_machine(
            name=name,
            definition=render_definition(asl, substitutions),
            roleArn=stack.role_of_state_machine(name).arn,
            type="STANDARD",
        )["stateMachineArn"]
    )


def _create_notification_topic(clients: _Clients, names: ResourceNames, kms_key_arn: str) -> str:
    """The SNS topic failures and revocations are published to, KMS-encrypted as in the stack (the default bus of
    EventBridge exists already). Subscribe an SQS queue to it to read what it sends."""
    return str(
        clients.sns.create_topic(
            Name=names.notification_topic,
            Attributes={"DisplayName": "ACME certificates", "KmsMasterKeyId": kms_key_arn},
        )["TopicArn"]
    )


def _create_functions(
    clients: _Clients,
    names: ResourceNames,
    steps: tuple[str, ...],
    environment: dict[str, str],
    stack: ResolvedStack,
) -> dict[str, str]:
    """Each function with the role the template gives it."""
    return {
        step: clients.lambda_.create_function(
            FunctionName=names.function(step),
            Runtime=f"python{LAMBDA_PYTHON_VERSION}",  # type: ignore[arg-type]  # a literal type in the stubs
            Architectures=[LAMBDA_ARCHITECTURE],  # type: ignore[list-item]
            Role=stack.role_of_function(names.function(step)).arn,
            Handler="handler.handler",
            Code={"ZipFile": _placeholder_code(step)},
            MemorySize=FUNCTION_MEMORY_MB,
            Timeout=FUNCTION_TIMEOUT_SECONDS,
            Environment={"Variables": environment},
        )["FunctionArn"]
        for step in steps
    }


def _placeholder_code(step: str) -> bytes:
    """A zip for moto to hold: the sandbox runs functions/<step>/handler.py in its own process instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", f"The sandbox routes this function to functions/{step}/handler.py.\n")
    return buffer.getvalue()
