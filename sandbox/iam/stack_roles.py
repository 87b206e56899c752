"""The sandbox's roles, made in moto's IAM from the synthesized stacks: every function and state machine runs as the
role the template gives it, with exactly the template's policies (sandbox.iam.template resolves them).

`synthesis_input` shapes the CDK context like the sandbox: its ACME accounts (made-up secrets: the template holds
none), the DNS account and its zone, the validation zone, one deployment in the sandbox's account and region. The DNS
account's roles require an external ID (DNS_EXTERNAL_ID): the accounts document gives it as `external-id` and the
context's dnsAccounts entry as `externalId`, so the sandbox exercises what a configured external ID enforces.
Zone IDs are known only once moto made the zones: the app is synthesized with stand-ins that `ZONE_STAND_INS`
replaces when the policies are resolved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from certlib.resources import ResourceNames
from sandbox.iam.template import (
    ResolvedStack,
    Role,
    SynthesisInput,
    TemplateError,
    resolve_stack,
)
from sandbox.node_accounts import NODE_ACCOUNT_ID

# Zones whose IDs the template names: {zone name: the stand-in the app is synthesized with}.
PARTNER_ZONE = "partner.test"
VALIDATION_ZONE = "validation.example.net"
ZONE_STAND_INS = {PARTNER_ZONE: "ZSANDBOXPARTNERTEST", VALIDATION_ZONE: "ZSANDBOXVALIDATIONZONE"}
MADE_UP_DIRECTORY = "https://acme.sandbox.invalid/directory"
MADE_UP_EAB_KEY_ID = "sandbox-synthesis"
MADE_UP_HMAC_KEY = "c2FuZGJveC1zeW50aGVzaXMtb25seS1ub3QtYS1rZXk"
# Names the sandbox's account declares validated out of band: corp.test has no Route 53 zone here, so its names issue
# only once `certctl sandbox prevalidate` has validated them at Pebble (as a CA's portal would).
PREVALIDATED_DOMAINS = ("corp.test", "*.corp.test")
# The sandbox's AWS Private CA account (certlib.private_ca): its CA is made by moto at `sandbox up`, so the app is
# synthesized with a stand-in ARN (private_ca_stand_in) that the real one replaces when the policies are resolved.
PRIVATE_CA_ALIAS = "sandbox-pca"
PRIVATE_CA_STAND_IN_ID = "sandbox-private-ca-stand-in"
PRIVATE_CA_SIGNING_ALGORITHM = "SHA256WITHRSA"  # the sandbox's CA has an RSA key (sandbox.moto_pca)
PRIVATE_CA_VALIDITY_DAYS = 30
# What the sandbox's DNS account requires of whoever assumes its roles (sts:ExternalId); not a secret, on AWS neither.
DNS_EXTERNAL_ID = "acme-certificates-sandbox"
# The profiles the app is synthesized with: the only policies that depend on profiles are those for node accounts
# (the KMS key policy, the distribution steps' sts:AssumeRole of the node accounts' roles: sandbox.node_accounts).
SYNTHESIS_PROFILES = {"sandbox-node-account": {"tags": {"role": ["node-account"]}, "accounts": [NODE_ACCOUNT_ID]}}


@dataclass(frozen=True)
class SandboxStacks:
    workload: ResolvedStack
    dns: ResolvedStack


def accounts_document(
    alias: str,
    directory_url: str,
    eab_key_id: str,
    eab_hmac_key: str,
    email: str,
    ca_bundle_pem: str | None,
    dns_role_arn: str,
    validation_zone_id: str,
    external_id: str = DNS_EXTERNAL_ID,
    distribution_profiles: Mapping[str, Any] | None = None,
    private_ca_arn: str | None = None,
) -> dict[str, Any]:
    """The sandbox's accounts file (Sectigo's format with our additions): one builder for the configuration the
    sandbox deploys and for the synthesis of its policies. `external_id` goes with the DNS account's role; the
    distribution profiles join the deployed configuration (the synthesis has its own: SYNTHESIS_PROFILES)."""
    account: dict[str, Any] = {
        "acme-endpoint": directory_url,
        "eab-key": eab_key_id,
        "eab-hmac-key": eab_hmac_key,
        "email": email,
        "prevalidated-domains": list(PREVALIDATED_DOMAINS),
    }
    if ca_bundle_pem is not None:
        account["ca-bundle"] = ca_bundle_pem
    accounts: dict[str, Any] = {alias: account}
    if private_ca_arn is not None:
        accounts[PRIVATE_CA_ALIAS] = {
            "private-ca-arn": private_ca_arn,
            "signing-algorithm": PRIVATE_CA_SIGNING_ALGORITHM,
            "validity-days": PRIVATE_CA_VALIDITY_DAYS,
        }
    return {
        "accounts": accounts,
        "default-account": alias,
        "dns-zones": {
            PARTNER_ZONE: {"role-arn": dns_role_arn, "external-id": external_id},
            VALIDATION_ZONE: {"hosted-zone-id": validation_zone_id, "validation-only": True},
        },
        **({"distribution-profiles": dict(distribution_profiles)} if distribution_profiles else {}),
    }


def synthesis_input(
    names: ResourceNames, account: str, region: str, dns_account: str, dns_role_arn: str, alias: str, email: str
) -> SynthesisInput:
    document = accounts_document(
        alias,
        MADE_UP_DIRECTORY,
        MADE_UP_EAB_KEY_ID,
        MADE_UP_HMAC_KEY,
        email,
        None,
        dns_role_arn,
        ZONE_STAND_INS[VALIDATION_ZONE],
        private_ca_arn=private_ca_stand_in(account, region),
        distribution_profiles=SYNTHESIS_PROFILES,
    )
    context = {
        "resourcePrefix": names.prefix,
        "hostedZoneIds": "",
        "validationZoneIds": ZONE_STAND_INS[VALIDATION_ZONE],
        "deployments": [{"account": account, "region": region}],
        "dnsAccounts": [
            {"account": dns_account, "zoneIds": [ZONE_STAND_INS[PARTNER_ZONE]], "externalId": DNS_EXTERNAL_ID}
        ],
    }
    return SynthesisInput(context=context, accounts_yaml=yaml.safe_dump(document, sort_keys=True))


def private_ca_stand_in(account: str, region: str) -> str:
    """The Private CA ARN the sandbox's app is synthesized with; the CA moto made replaces it."""
    return f"arn:aws:acm-pca:{region}:{account}:certificate-authority/{PRIVATE_CA_STAND_IN_ID}"


def load_sandbox_stacks(
    templates: Mapping[str, Mapping[str, Any]],
    account: str,
    region: str,
    dns_account: str,
    physical: Mapping[str, Mapping[str, str]],
    zone_ids: Mapping[str, str],
    prefix: str,
    private_ca_arn: str | None = None,
) -> SandboxStacks:
    """Resolve the certificate stack and the DNS account's stack among the synthesized `templates`.

    `physical`: {logical ID: {"Ref"/"Arn": value}} of what the sandbox made whose name the template cannot know
    (the KMS key, the EAB secrets); `zone_ids`: {zone name: moto's ID}. Raises TemplateError.
    """
    replacements = {stand_in: zone_ids[zone] for zone, stand_in in ZONE_STAND_INS.items()}
    if private_ca_arn is not None:
        replacements[private_ca_stand_in(account, region)] = private_ca_arn
    workload = dns = None
    for template in templates.values():
        types = {resource["Type"] for resource in template.get("Resources", {}).values()}
        if "AWS::Lambda::Function" in types:
            workload = resolve_stack(template, account, region, physical, replacements, prefix)
        elif "AWS::IAM::Role" in types:
            dns = resolve_stack(template, dns_account, region, {}, replacements, prefix)
    if workload is None or dns is None:
        raise TemplateError("the synthesized app lacks the certificate stack or the DNS account's stack")
    return SandboxStacks(workload=workload, dns=dns)


def physical_values(
    template_resources: Mapping[str, Any], kms_key_arn: str, secret_arns: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """{logical ID: values} for the KMS key and the secrets (by their Name) of a template's resources."""
    found: dict[str, dict[str, str]] = {}
    for logical_id, resource in template_resources.items():
        if resource["Type"] == "AWS::KMS::Key":
            found[logical_id] = {"Ref": kms_key_arn.rsplit("/", 1)[-1], "Arn": kms_key_arn}
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            name = resource.get("Properties", {}).get("Name")
            if name in secret_arns:
                found[logical_id] = {"Ref": secret_arns[name], "Id": secret_arns[name]}
    return found


def create_roles(iam: Any, stack: ResolvedStack) -> dict[str, str]:
    """Create the stack's managed policies (all: some are for principals outside the stack, as the nodes' one) and its
    roles in moto's IAM through `iam` (a client of the stack's account); returns {logical ID: role ARN}."""
    for policy in stack.managed_policies.values():
        iam.create_policy(PolicyName=policy.name, PolicyDocument=json.dumps(policy.document))
    arns = {}
    for role in stack.roles.values():
        arns[role.logical_id] = _create_role(iam, role)
    return arns


def _create_role(iam: Any, role: Role) -> str:
    arguments: dict[str, Any] = {"RoleName": role.name, "AssumeRolePolicyDocument": json.dumps(role.trust_policy)}
    if role.tags:
        arguments["Tags"] = [{"Key": key, "Value": value} for key, value in role.tags.items()]
    arn = str(iam.create_role(**arguments)["Role"]["Arn"])
    for name, document in role.inline_policies.items():
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
    for name in role.managed_policy_names:
        iam.attach_role_policy(RoleName=role.name, PolicyArn=f"arn:aws:iam::{role.account}:policy/{name}")
    return arn
