"""Several accounts and regions, and DNS accounts: one certificate stack per deployment, the DNS steps' named roles,
the DNS-account role stack (a write role and a read role, each trusting exactly its steps' role ARNs, with the
external ID and organization when configured: the same documents as deploy.dns_roles builds), and the context
that selects them, checked against the accounts file."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certlib.dns_account_roles import (
    DNS_READ_ROLE_NAME,
    DNS_ROLE_NAME,
    MAX_ROLE_NAME_LENGTH,
    dns_read_role_arn,
    dns_role_trust,
)
from certlib.exceptions import ConfigError
from certlib.resources import ALL_FUNCTIONS, ResourceNames
from deploy.dns_roles import (
    DNS_READ_STEPS,
    DNS_STEPS,
    DNS_WRITE_STEPS,
    dns_function_role_arn,
    dns_function_role_label,
    dns_function_role_name,
    dns_function_role_pattern,
    dns_read_role_policy,
    dns_role_policy,
    trusted_role_arns,
)
from sandbox.iam.evaluator import Decision, Request, evaluate_trust
from stacks.deployments import Deployment, TrustedRoles, parse_deployments, parse_dns_accounts
from stacks.nag import flatten_cfn_reference as flat
from stacks.settings import SettingsError, StackSettings
from tests.stack.cfn_lint import assert_only_allowed_remarks

if TYPE_CHECKING:
    from stacks.application import Deployed
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()
PATTERN = dns_function_role_pattern(NAMES.prefix)
# 333333333333 and 555555555555 are DNS accounts this app deploys (dnsAccounts); 444444444444 is someone else's.
DNS_ROLES = (
    "arn:aws:iam::333333333333:role/acme-dns-01",
    "arn:aws:iam::444444444444:role/acme-dns-01",
    "arn:aws:iam::555555555555:role/acme-dns-01",
)
READ_ROLES = tuple(f"{arn}-read" for arn in DNS_ROLES)
EXTERNAL_ID = "acme-partner-dns"
ORGANIZATION_ID = "o-a1b2c3d4e5"
ACCOUNTS_FILE = f"""
accounts:
  le:
    - acme-endpoint: https://acme-staging-v02.api.letsencrypt.org/directory
dns-zones:
  partner.example:
    role-arn: {DNS_ROLES[0]}
    external-id: {EXTERNAL_ID}
  other.example:
    role-arn: {DNS_ROLES[1]}
    external-id: acme-certificates
  again.partner.example:
    role-arn: {DNS_ROLES[0]}
    external-id: {EXTERNAL_ID}
  plain.example:
    role-arn: {DNS_ROLES[2]}
  validation.example.net:
    hosted-zone-id: Z0VALIDATION
    validation-only: true
"""
DEPLOYMENTS = [{"account": "111111111111", "region": "us-east-1"}, {"account": "222222222222", "region": "eu-west-1"}]
DNS_ACCOUNTS = [
    {
        "account": "333333333333",
        "zoneIds": ["Z1PARTNER"],
        "validationZoneIds": ["Z2DELEGATE"],
        "externalId": EXTERNAL_ID,
        "organizationId": ORGANIZATION_ID,
    },
    {"account": "555555555555", "zoneIds": ["Z5PLAIN"]},
]
DNS_STACK = "AcmeDnsAccess-333333333333"
PLAIN_DNS_STACK = "AcmeDnsAccess-555555555555"
TXT_CHANGES = {
    "ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsActions": ["CREATE", "UPSERT", "DELETE"],
    }
}


@dataclass
class Multi:
    deployed: Deployed
    templates: dict[str, dict[str, Any]]  # by stack name
    template_paths: dict[str, Path]
    validation_report: dict[str, Any]
    synth_error: str | None


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory, layer_directory: Path) -> Multi:
    """One synthesis (cdk-nag included) of two deployments and two DNS accounts (one with an external ID and an
    organization), with DNS roles and a validation zone."""
    from stacks.application import build_deployment

    folder = tmp_path_factory.mktemp("multi")
    accounts = folder / "acme-accounts.yaml"
    accounts.write_text(ACCOUNTS_FILE)
    outdir = folder / "cdk.out"
    deployed = build_deployment(
        {
            "accountsFile": str(accounts),
            "layerDirectory": str(layer_directory),
            "hostedZoneIds": [],
            "validationZoneIds": ["Z0VALIDATION"],
            "deployments": DEPLOYMENTS,
            "dnsAccounts": json.dumps(DNS_ACCOUNTS),  # as `-c dnsAccounts='[...]'` passes it
        },
        outdir=str(outdir),
    )
    synth_error = None
    try:
        deployed.app.synth()
    except RuntimeError as exc:
        synth_error = str(exc)
    paths = {stack.stack_name: outdir / stack.template_file for stack in deployed.stacks}
    report_path = outdir / "validation-report.json"
    return Multi(
        deployed=deployed,
        templates={name: json.loads(path.read_text()) for name, path in paths.items()},
        template_paths=paths,
        validation_report=json.loads(report_path.read_text()) if report_path.exists() else {},
        synth_error=synth_error,
    )


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def role_of_function(template: dict[str, Any]) -> dict[str, str]:
    """{function name: logical ID of its role}."""
    return {
        function["Properties"]["FunctionName"]: function["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in resources(template, "AWS::Lambda::Function").values()
    }


def statements_by_step(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    roles = role_of_function(template)
    policies = resources(template, "AWS::IAM::Policy").values()
    return {
        step: [
            statement
            for policy in policies
            if {"Ref": roles[NAMES.function(step)]} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        for step in ALL_FUNCTIONS
        if NAMES.function(step) in roles
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def normalized(value: Any) -> Any:
    """A policy document as IAM reads it: CloudFormation references flattened (`<AWS::Partition>`), one-item lists
    as their item (CDK writes a single action or resource without the list)."""
    if isinstance(value, dict):
        if value and set(value) <= {"Fn::Join", "Ref", "Fn::Sub", "Fn::GetAtt"}:
            return flat(value)
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [normalized(item) for item in value]
        return items[0] if len(items) == 1 else items
    return value


def certificate_templates(multi: Multi) -> dict[Deployment, dict[str, Any]]:
    return {
        Deployment(d["account"], d["region"]): multi.templates[f"AcmeCertificates-{d['account']}-{d['region']}"]
        for d in DEPLOYMENTS
    }


# --- the stacks ---------------------------------------------------------------------------------------------------
def test_one_certificate_stack_per_deployment_and_one_role_stack_per_dns_account(multi: Multi) -> None:
    # Given / When the app built from two deployments and two DNS accounts
    certificate = [(s.stack_name, s.account, s.region) for s in multi.deployed.certificate_stacks]
    dns = [(s.stack_name, s.account) for s in multi.deployed.dns_stacks]

    # Then each deployment has its stack, named after and bound to its account and region; the DNS account its own
    assert certificate == [
        ("AcmeCertificates-111111111111-us-east-1", "111111111111", "us-east-1"),
        ("AcmeCertificates-222222222222-eu-west-1", "222222222222", "eu-west-1"),
    ]
    assert dns == [(DNS_STACK, "333333333333"), (PLAIN_DNS_STACK, "555555555555")]
    assert [s.node.id for s in multi.deployed.stacks] == [name for name, *_ in certificate] + [
        DNS_STACK,
        PLAIN_DNS_STACK,
    ]


def test_without_deployments_there_is_the_one_default_stack(synthesized: Synthesized) -> None:
    from aws_cdk import Stack

    # Given / When the app built from cdk.json's context (no deployments)
    stacks = [child for child in synthesized.app.node.children if isinstance(child, Stack)]

    # Then it holds the one certificate stack, as before
    assert [stack.node.id for stack in stacks] == ["CertificateStack"]
    assert synthesized.stack.stack_name.startswith("AcmeCertificates")


# --- the DNS steps' roles -----------------------------------------------------------------------------------------
def test_the_dns_steps_roles_are_named_and_no_other_role_is(multi: Multi) -> None:
    for deployment, template in certificate_templates(multi).items():
        # Given the roles of a certificate stack, and which function each belongs to
        roles = resources(template, "AWS::IAM::Role")
        step_of_role = {role: NAMES.step_of_function(name) for name, role in role_of_function(template).items()}

        # When the explicit role names are collected
        named = {
            step_of_role.get(k, k): r["Properties"]["RoleName"]
            for k, r in roles.items()
            if "RoleName" in r["Properties"]
        }

        # Then exactly the DNS steps have one: <prefix>-dns-<region>-<step>, within IAM's limit, under the kept name
        assert named == {step: dns_function_role_name(NAMES.prefix, deployment.region, step) for step in DNS_STEPS}
        assert named["publish_challenges"] == f"acme-certs-dns-{deployment.region}-publish-challenges"
        for name in named.values():
            assert len(name) <= MAX_ROLE_NAME_LENGTH
            assert fnmatch.fnmatchcase(name, PATTERN), name
        # and every other role is named by CloudFormation after the stack (<stack name>-<logical ID>-<random>)
        stack_name = f"AcmeCertificates-{deployment.account}-{deployment.region}"
        assert not fnmatch.fnmatchcase(f"{stack_name}-SomeRole-ABC123", PATTERN)
        assert len(roles) > len(named)


def test_an_environment_agnostic_stack_names_the_roles_with_its_deploy_time_region(synthesized: Synthesized) -> None:
    # Given the default stack (its region is known only at deploy time)
    roles = synthesized.resources("AWS::IAM::Role")

    # When its explicit role names are flattened
    named = sorted(flat(r["Properties"]["RoleName"]) for r in roles.values() if "RoleName" in r["Properties"])

    # Then they are the DNS steps' names with ${AWS::Region}, the same as a stack bound to that region would have
    assert named == sorted(
        f"acme-certs-dns-<AWS::Region>-{dns_function_role_label(NAMES.prefix, s)}" for s in DNS_STEPS
    )
    for name in named:
        assert name.replace("<AWS::Region>", "eu-west-1") in {
            dns_function_role_name(NAMES.prefix, "eu-west-1", step) for step in DNS_STEPS
        }


def test_role_names_stay_within_64_characters_stably_and_distinct() -> None:
    # Given the longest prefix and a long region name
    prefix, region = "p" * 31, "us-isof-south-1"

    # When every DNS step's role is named, twice
    names = [dns_function_role_name(prefix, region, step) for step in DNS_STEPS]
    again = [dns_function_role_name(prefix, region, step) for step in DNS_STEPS]

    # Then each fits IAM's limit with a short hash suffix, is the same each time, differs per step, fits the pattern
    assert names == again
    assert len(set(names)) == len(DNS_STEPS)
    for name in names:
        assert len(name) <= MAX_ROLE_NAME_LENGTH
        assert re.fullmatch(rf"{prefix}-dns-{region}-[a-z-]+-[0-9a-f]{{6}}", name), name
        assert fnmatch.fnmatchcase(name, dns_function_role_pattern(prefix))
    # and short names are left as they are; another region or prefix gives other names
    assert (
        dns_function_role_name("acme-certs", "eu-west-1", "check_dns_change")
        == "acme-certs-dns-eu-west-1-check-dns-change"
    )
    assert dns_function_role_name("acme-certs", "eu-west-2", "check_dns_change") not in names
    assert not fnmatch.fnmatchcase(
        dns_function_role_name("acme-certs", "eu-west-1", "check_dns_change"), dns_function_role_pattern("acme")
    )


@pytest.mark.parametrize("region", ["moon-1", "US-EAST-1", "eu-west", "an-extremely-long-region-name-1"])
def test_role_names_refuse_what_is_not_a_region(region: str) -> None:
    with pytest.raises(ValueError, match="region"):
        dns_function_role_name("acme-certs", region, "publish_challenges")


# --- what the DNS steps may do -------------------------------------------------------------------------------------
def test_writers_may_assume_exactly_the_write_roles_and_readers_exactly_the_read_roles(multi: Multi) -> None:
    for template in certificate_templates(multi).values():
        # Given every role's statements
        by_step = statements_by_step(template)

        # When the statements that allow sts:AssumeRole are collected
        assuming = {
            step: sorted(
                r for s in statements if "sts:AssumeRole" in as_list(s["Action"]) for r in as_list(s["Resource"])
            )
            for step, statements in by_step.items()
        }

        # Then the steps that write records may assume the write roles of the accounts file's dns-zones (each once),
        # the steps that only read exactly those accounts' read roles, and nothing else may assume any role
        assert {step: roles for step, roles in assuming.items() if roles} == {
            **{step: list(DNS_ROLES) for step in DNS_WRITE_STEPS},
            **{step: list(READ_ROLES) for step in DNS_READ_STEPS},
        }
        every = [
            s
            for p in resources(template, "AWS::IAM::Policy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert sum("sts:AssumeRole" in as_list(s["Action"]) for s in every) == len(DNS_STEPS)


def test_without_dns_roles_no_function_may_assume_a_role(synthesized: Synthesized) -> None:
    # Given the default stack (the example accounts file names no dns-zones)
    statements = synthesized.identity_statements()

    # When / Then no function may assume any role
    assert [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])] == []


def test_validation_zones_take_txt_records_at_any_name_from_the_record_writing_steps(multi: Multi) -> None:
    for template in certificate_templates(multi).values():
        # Given every step's statements
        by_step = statements_by_step(template)

        # When the validation-zone statements are picked out
        validation = {
            step: s
            for step, statements in by_step.items()
            for s in statements
            if s.get("Sid") == "ChangeValidationZoneRecords"
        }

        # Then the record-writing steps (and the cleanups) may CREATE/UPSERT/DELETE TXT records there, with no
        # record-name condition
        assert set(validation) == {
            "publish_challenges",
            "remove_challenges",
            "clean_up_failure",
            "clean_up_stopped_execution",
        }
        for statement in validation.values():
            assert statement["Action"] == "route53:ChangeResourceRecordSets"
            assert flat(statement["Resource"]) == "arn:<AWS::Partition>:route53:::hostedzone/Z0VALIDATION"
            assert statement["Condition"] == TXT_CHANGES
        # and validate_request may read records (the `_acme-challenge` CNAMEs), not change them
        reads = [s for s in by_step["validate_request"] if "route53:ListResourceRecordSets" in as_list(s["Action"])]
        assert [as_list(s["Action"]) for s in reads] == [["route53:ListResourceRecordSets"]]
        assert not any("route53:ChangeResourceRecordSets" in as_list(s["Action"]) for s in by_step["validate_request"])


def test_named_zones_and_validation_zones_are_read_and_changed_separately() -> None:
    # Given access targets with named zones, one validation zone and a DNS role (a bare stack: no synthesis)
    from aws_cdk import App, Stack

    from stacks.permissions import grants_for
    from stacks.permissions.common import AccessTargets

    stack = Stack(App(), "Probe")
    targets = AccessTargets.build(
        stack,
        NAMES,
        table_arn="arn:t",
        config_parameter_arn="arn:p",
        key_arn="arn:k",
        hosted_zone_ids=["Z1EXAMPLE"],
        dns_role_arns=[DNS_ROLES[0]],
        validation_zone_ids=["Z9VALIDATION"],
    )

    # When publish_challenges' grants are made
    by_sid = {g.statement.sid: g for g in grants_for("publish_challenges", targets)}

    def zones(sid: str) -> list[str]:
        return [flat(stack.resolve(r)).rsplit("/", 1)[-1] for r in by_sid[sid].statement.resources]

    # Then records are read in both, `_acme-challenge` TXT changed in the named zone, any TXT in the validation zone
    assert zones("ReadRecords") == ["Z1EXAMPLE", "Z9VALIDATION"]
    assert zones("ChangeChallengeRecords") == ["Z1EXAMPLE"]
    assert zones("ChangeValidationZoneRecords") == ["Z9VALIDATION"]
    assert by_sid["AssumeDnsWriteRoles"].statement.resources == [DNS_ROLES[0]]
    assert "AssumeDnsReadRoles" not in by_sid
    assert all(g.wildcard_reason is None for sid, g in by_sid.items() if sid != "ReadConfiguration")
    # and the reading steps may assume that account's read role, and only it
    for reader in DNS_READ_STEPS:
        assuming = {
            g.statement.sid: g.statement.resources
            for g in grants_for(reader, targets)
            if g.statement.sid in ("AssumeDnsWriteRoles", "AssumeDnsReadRoles")
        }
        assert assuming == {"AssumeDnsReadRoles": [READ_ROLES[0]]}


# --- the DNS account's role stack -----------------------------------------------------------------------------------
WORKLOAD_ACCOUNTS = ("111111111111", "222222222222")
PUBLISHER = dns_function_role_arn(NAMES.prefix, "111111111111", "us-east-1", "publish_challenges")
VALIDATOR = dns_function_role_arn(NAMES.prefix, "111111111111", "us-east-1", "validate_request")
WRITE_ROLE = f"arn:aws:iam::333333333333:role/{DNS_ROLE_NAME}"


def role_properties(multi: Multi, stack: str, logical_id: str) -> dict[str, Any]:
    return dict(multi.templates[stack]["Resources"][logical_id]["Properties"])


def trust_statement(role: dict[str, Any]) -> dict[str, Any]:
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    return dict(normalized(statement))


def expected_role_arns(steps: tuple[str, ...], partition: str = "<AWS::Partition>") -> list[str]:
    return trusted_role_arns(NAMES.prefix, [(d["account"], d["region"]) for d in DEPLOYMENTS], steps, partition)


def resolved_trust(multi: Multi, stack: str, logical_id: str) -> dict[str, Any]:
    """The role's trust policy as IAM holds it in the aws partition."""
    document = normalized(role_properties(multi, stack, logical_id)["AssumeRolePolicyDocument"])
    return dict(json.loads(json.dumps(document).replace("<AWS::Partition>", "aws")))


def assume(
    trust: dict[str, Any],
    caller: str,
    target: str = WRITE_ROLE,
    external_id: str | None = EXTERNAL_ID,
    organization_id: str | None = ORGANIZATION_ID,
) -> Decision:
    """The trust policy's decision on `caller` (a role ARN) asking sts:AssumeRole (the sandbox's evaluator)."""
    account = caller.split(":")[4]
    context: dict[str, Any] = {"aws:PrincipalArn": caller, "aws:PrincipalAccount": account}
    if external_id is not None:
        context["sts:ExternalId"] = external_id
    if organization_id is not None:
        context["aws:PrincipalOrgID"] = organization_id
    return evaluate_trust(trust, caller, account, Request("sts:AssumeRole", target, context))


def test_the_write_role_trusts_exactly_the_writing_steps_roles_with_external_id_and_organization(
    multi: Multi,
) -> None:
    # Given the DNS account's write role
    role = role_properties(multi, DNS_STACK, "DnsRole")

    # When its trust policy is read
    statement = trust_statement(role)

    # Then the deployments' accounts are the principals, and of their roles exactly the record-writing steps' (by
    # ArnEquals, no pattern), with the configured external ID and organization
    assert role["RoleName"] == DNS_ROLE_NAME
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"AWS": [f"arn:<AWS::Partition>:iam::{a}:root" for a in WORKLOAD_ACCOUNTS]}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": expected_role_arns(DNS_WRITE_STEPS)},
        "StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": ORGANIZATION_ID},
    }
    assert len(statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]) == len(DNS_WRITE_STEPS) * len(DEPLOYMENTS)
    assert "*" not in json.dumps(statement["Condition"])


def test_the_read_role_trusts_exactly_the_reading_steps_roles_and_may_only_read(multi: Multi) -> None:
    # Given the DNS account's read role
    role = role_properties(multi, DNS_STACK, "DnsReadRole")

    # When its trust and its permissions are read
    statement = trust_statement(role)
    (inline,) = role["Policies"]
    actions = {a for s in inline["PolicyDocument"]["Statement"] for a in as_list(s["Action"])}

    # Then validate_request's and check_dns_change's roles of every deployment may assume it, with the same external ID
    # and organization, and it may find zones, read records and follow changes, nothing else
    assert role["RoleName"] == DNS_READ_ROLE_NAME == "acme-dns-01-read"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": expected_role_arns(DNS_READ_STEPS)},
        "StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": ORGANIZATION_ID},
    }
    assert actions == {
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "route53:GetHostedZone",
        "route53:ListResourceRecordSets",
        "route53:GetChange",
    }


def test_without_external_id_or_organization_the_trust_names_the_role_arns_only(multi: Multi) -> None:
    for logical_id, steps in (("DnsRole", DNS_WRITE_STEPS), ("DnsReadRole", DNS_READ_STEPS)):
        # Given a role of the DNS account configured without externalId and organizationId
        role = role_properties(multi, PLAIN_DNS_STACK, logical_id)

        # When its trust policy is read
        statement = trust_statement(role)

        # Then it asks for the exact role ARNs and nothing more
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": expected_role_arns(steps)}}


def test_the_dns_roles_documents_are_the_builders(multi: Multi) -> None:
    # Given the DNS account's roles, and what deploy.dns_roles builds for the same deployments, zones and conditions
    partition = "<AWS::Partition>"
    trusted = TrustedRoles.of(NAMES.prefix, tuple(Deployment(**d) for d in DEPLOYMENTS), partition=partition)
    conditions = {"external_id": EXTERNAL_ID, "organization_id": ORGANIZATION_ID, "partition": partition}
    expected = {
        "DnsRole": (
            DNS_ROLE_NAME,
            dns_role_trust(trusted.write, **conditions),
            dns_role_policy(["Z1PARTNER"], ["Z2DELEGATE"], partition=partition),
        ),
        "DnsReadRole": (
            DNS_READ_ROLE_NAME,
            dns_role_trust(trusted.read, **conditions),
            dns_read_role_policy(["Z1PARTNER"], ["Z2DELEGATE"], partition=partition),
        ),
    }

    # When / Then the template holds exactly these two roles with those documents (the sandbox's DNS account gets the
    # same), and says both ARNs
    template = multi.templates[DNS_STACK]
    assert set(resources(template, "AWS::IAM::Role")) == set(expected)
    for logical_id, (name, trust, policy) in expected.items():
        role = role_properties(multi, DNS_STACK, logical_id)
        (inline,) = role["Policies"]
        assert (role["RoleName"], inline["PolicyName"]) == (name, name)
        assert normalized(role["AssumeRolePolicyDocument"]) == normalized(trust)
        assert normalized(inline["PolicyDocument"]) == normalized(policy)
    assert set(template["Outputs"]) == {"DnsRoleArn", "DnsReadRoleArn"}


def test_each_dns_role_trusts_exactly_its_steps_roles_among_every_role_of_the_certificate_stacks(
    multi: Multi,
) -> None:
    # Given the ARN of every role of every certificate stack
    # (a role without RoleName is named by CloudFormation: <stack name>-<logical ID>-<random suffix>)
    arns = {
        f"arn:aws:iam::{deployment.account}:role/"
        + r["Properties"].get("RoleName", f"{deployment.stack_name()}-{logical_id}-1A2B3C4D5E6F")
        for deployment, template in certificate_templates(multi).items()
        for logical_id, r in resources(template, "AWS::IAM::Role").items()
    }
    for logical_id, steps in (("DnsRole", DNS_WRITE_STEPS), ("DnsReadRole", DNS_READ_STEPS)):
        trust = resolved_trust(multi, DNS_STACK, logical_id)

        # When each of them asks to assume the role (with the external ID, from inside the organization)
        trusted = {arn for arn in arns if assume(trust, arn) is Decision.ALLOWED}

        # Then exactly that role's steps' roles are trusted, in each workload account
        assert trusted == set(expected_role_arns(steps, partition="aws")), logical_id


@pytest.mark.parametrize(
    ("caller", "external_id", "organization_id"),
    [
        # a role anyone with iam:CreateRole in a workload account can make: the old `<prefix>-dns-*` pattern matched it
        (f"arn:aws:iam::111111111111:role/{NAMES.prefix}-dns-us-east-1-anything", EXTERNAL_ID, ORGANIZATION_ID),
        (
            f"arn:aws:iam::111111111111:role/{NAMES.prefix}-dns-us-east-1-publish-challenges-2",
            EXTERNAL_ID,
            ORGANIZATION_ID,
        ),
        # publish_challenges' role of another region (not a deployment) or account
        (
            dns_function_role_arn(NAMES.prefix, "111111111111", "eu-west-1", "publish_challenges"),
            EXTERNAL_ID,
            ORGANIZATION_ID,
        ),
        (
            dns_function_role_arn(NAMES.prefix, "999999999999", "us-east-1", "publish_challenges"),
            EXTERNAL_ID,
            ORGANIZATION_ID,
        ),
        # the right role, without the external ID, with a wrong one, or outside the organization
        (PUBLISHER, None, ORGANIZATION_ID),
        (PUBLISHER, "acme-partner-dns-wrong", ORGANIZATION_ID),
        (PUBLISHER, EXTERNAL_ID, None),
        (PUBLISHER, EXTERNAL_ID, "o-zzzzzzzzzz"),
        # a reading step's role
        (VALIDATOR, EXTERNAL_ID, ORGANIZATION_ID),
    ],
)
def test_the_write_role_refuses_everyone_else(
    multi: Multi, caller: str, external_id: str | None, organization_id: str | None
) -> None:
    # Given the write role's trust as IAM holds it
    trust = resolved_trust(multi, DNS_STACK, "DnsRole")

    # When the caller asks to assume it
    decision = assume(trust, caller, external_id=external_id, organization_id=organization_id)

    # Then the trust does not allow it (while publish_challenges' role with the external ID, in the organization, may)
    assert decision is Decision.IMPLICIT_DENY
    assert assume(trust, PUBLISHER) is Decision.ALLOWED


def test_the_dns_stack_takes_its_trust_from_arguments_as_from_the_context(multi: Multi) -> None:
    from aws_cdk import App, Environment

    from stacks.dns_account_stack import DnsAccountStack

    # Given the DNS stack built from the context, and one built with the same values given as arguments
    from_context = next(stack for stack in multi.deployed.dns_stacks if stack.stack_name == DNS_STACK)
    given = DnsAccountStack(
        App(),
        "Given",
        env=Environment(account="333333333333"),
        prefix=NAMES.prefix,
        workload_accounts=WORKLOAD_ACCOUNTS,
        zone_ids=["Z1PARTNER"],
        validation_zone_ids=["Z2DELEGATE"],
        deployments=[Deployment(**d) for d in DEPLOYMENTS],
        external_id=EXTERNAL_ID,
        organization_id=ORGANIZATION_ID,
    )

    # When / Then both trust policies are the same
    for document in ("trust_document", "read_trust_document"):
        assert json.dumps(given.resolve(getattr(given, document))) == json.dumps(
            from_context.resolve(getattr(from_context, document))
        )


def test_the_dns_stack_refuses_an_account_the_context_does_not_list_and_foreign_workloads() -> None:
    from aws_cdk import App, Environment

    from stacks.dns_account_stack import DnsAccountStack

    # Given an app whose context lists one DNS account
    app = App(context={"deployments": DEPLOYMENTS, "dnsAccounts": [DNS_ACCOUNTS[1]]})
    common: dict[str, Any] = {"prefix": NAMES.prefix, "zone_ids": ["Z1"]}

    # When / Then a DNS stack of another account has no entry to take its trust from
    with pytest.raises(ValueError, match="no entry for account 666666666666"):
        DnsAccountStack(
            app, "Unlisted", env=Environment(account="666666666666"), workload_accounts=WORKLOAD_ACCOUNTS, **common
        )
    # and workload accounts that are not the deployments' are refused
    with pytest.raises(ValueError, match="are not the deployments' accounts"):
        DnsAccountStack(
            app, "Foreign", env=Environment(account="555555555555"), workload_accounts=["777777777777"], **common
        )


def test_cdk_nag_passes_on_every_stack_with_reasons(multi: Multi) -> None:
    # Given the validation report of the multi-account synthesis
    reports = {r["pluginName"]: r for r in multi.validation_report.get("pluginReports", [])}
    report = reports.get("AwsSolutions")

    # When / Then it succeeded with no finding; the DNS role's two wildcards are acknowledged with reasons
    findings = [
        f"{v['ruleName']} at {c['constructPath']}"
        for v in (report or {}).get("violations", [])
        for c in v["violatingConstructs"]
    ]
    assert multi.synth_error is None, "\n".join(findings) or multi.synth_error
    assert report is not None
    assert (report["conclusion"], findings) == ("success", [])
    dns_acknowledged = {
        v["ruleName"]
        for v in report.get("suppressedViolations", [])
        if v["acknowledgedAt"].startswith("AcmeDnsAccess-")
    }
    assert dns_acknowledged == {
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]",
    }
    reasons = [v["reason"] for v in report["suppressedViolations"] if v["acknowledgedAt"].startswith("AcmeDnsAccess-")]
    assert all(len(reason) >= 60 for reason in reasons)


def test_cfn_lint_on_the_certificate_stack_the_dns_stack_and_a_regional_stack(
    multi: Multi, synthesized: Synthesized
) -> None:
    # Given the certificate stack's template (the example accounts file), the DNS account's template and a
    # certificate stack bound to a region (named roles)
    templates = [
        synthesized.template_path,
        multi.template_paths["AcmeDnsAccess-333333333333"],
        multi.template_paths["AcmeCertificates-222222222222-eu-west-1"],
    ]

    # When cfn-lint checks them (in one run) / Then there are only the allowed warnings
    assert_only_allowed_remarks(templates)


# --- the context ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            [{"account": "12345", "region": "us-east-1"}],
            r"deployments\[0\]: account '12345' is not a 12-digit AWS account",
        ),
        ([{"account": 111111111111, "region": "moon-1"}], r"deployments\[0\]: 'moon-1' is not an AWS region name"),
        ([{"account": "111111111111"}], r"deployments\[0\]: field 'region' is missing"),
        ([{"region": "us-east-1"}], r"deployments\[0\]: field 'account' is missing"),
        (
            [{"account": "111111111111", "region": "us-east-1"}, {"account": "111111111111", "region": "us-east-1"}],
            r"deployments\[1\]: account 111111111111 in us-east-1 is listed twice",
        ),
        (
            [{"account": "111111111111", "region": "us-east-1", "stage": "prod"}],
            r"deployments\[0\]: unknown field.*'stage'",
        ),
        ("[{not json", "context deployments is not valid JSON"),
        ({"account": "111111111111"}, "context deployments must be a list"),
        (["111111111111"], r"context deployments\[0\] must be an object"),
    ],
)
def test_bad_deployments_are_named(value: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_deployments(value)


def test_deployments_in_one_account_and_several_regions_are_fine() -> None:
    # Given one account in two regions (as JSON text, the way `-c` passes it)
    text = json.dumps(
        [{"account": "111111111111", "region": "us-east-1"}, {"account": "111111111111", "region": "eu-west-1"}]
    )

    # When / Then both are deployments, with their own stack names
    deployments = parse_deployments(text)
    assert [d.stack_name() for d in deployments] == [
        "AcmeCertificates-111111111111-us-east-1",
        "AcmeCertificates-111111111111-eu-west-1",
    ]
    assert deployments[0].stack_name("Certs") == "Certs-111111111111-us-east-1"


ONE_DEPLOYMENT = (Deployment("111111111111", "us-east-1"),)


@pytest.mark.parametrize(
    ("value", "deployments", "message"),
    [
        (DNS_ACCOUNTS, (), r"dnsAccounts\[0\]: a DNS account trusts the workload accounts of the context deployments"),
        ([{"account": "333", "zoneIds": ["Z1"]}], ONE_DEPLOYMENT, r"dnsAccounts\[0\]: account '333' is not a 12-digit"),
        ([{"account": "333333333333"}], ONE_DEPLOYMENT, r"dnsAccounts\[0\]: name the zones"),
        (
            [{"account": "333333333333", "zoneIds": ["bad zone"]}],
            ONE_DEPLOYMENT,
            r"dnsAccounts\[0\]\.zoneIds: 'bad zone'",
        ),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"], "validationZoneIds": ["Z1"]}],
            ONE_DEPLOYMENT,
            r"dnsAccounts\[0\]: zoneIds and validationZoneIds both name Z1",
        ),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"]}, {"account": "333333333333", "zoneIds": ["Z2"]}],
            ONE_DEPLOYMENT,
            r"dnsAccounts\[1\]: DNS account 333333333333 is listed twice",
        ),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"], "region": "nowhere"}],
            ONE_DEPLOYMENT,
            r"'nowhere' is not an AWS",
        ),
        ([{"account": "333333333333", "zones": ["Z1"]}], ONE_DEPLOYMENT, r"unknown field.*'zones'"),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"], "externalId": "x"}],
            ONE_DEPLOYMENT,
            r"dnsAccounts\[0\]: field 'externalId': external ID 'x' is not one STS accepts",
        ),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"], "externalId": "no spaces please"}],
            ONE_DEPLOYMENT,
            r"field 'externalId': external ID 'no spaces please' is not one STS accepts",
        ),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"], "externalId": 12345}],
            ONE_DEPLOYMENT,
            r"dnsAccounts\[0\]: field 'externalId' must be a string",
        ),
        (
            [{"account": "333333333333", "zoneIds": ["Z1"], "organizationId": "org-1"}],
            ONE_DEPLOYMENT,
            r"dnsAccounts\[0\]: field 'organizationId': 'org-1' is not an AWS Organizations organization ID",
        ),
    ],
)
def test_bad_dns_accounts_are_named(value: Any, deployments: tuple[Deployment, ...], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_dns_accounts(value, deployments)


IN_CONTEXT: dict[str, Any] = {"validationZoneIds": "Z0VALIDATION", "deployments": DEPLOYMENTS}


@pytest.mark.parametrize(
    ("accounts_file", "context", "message"),
    [
        (
            ACCOUNTS_FILE,
            {},
            r"dns-zones 'validation\.example\.net' is validation-only in hosted zone Z0VALIDATION .* validationZoneIds",
        ),
        (
            ACCOUNTS_FILE,
            {"validationZoneIds": "Z0VALIDATION", "hostedZoneIds": "Z0VALIDATION"},
            "both name Z0VALIDATION",
        ),
        (
            ACCOUNTS_FILE,
            {"validationZoneIds": "Z0VALIDATION", "stackName": "acme-certs-dns-x"},
            "starts with 'acme-certs-dns-'",
        ),
        (
            ACCOUNTS_FILE.replace("validation-only: true", "validation-only: false"),
            {"hostedZoneIds": "Z1OTHER"},
            r"dns-zones 'validation\.example\.net' uses hosted zone Z0VALIDATION of this account",
        ),
        (ACCOUNTS_FILE, {"validationZoneIds": ["nope!"]}, r"context validationZoneIds: 'nope!' is not a Route 53"),
        (
            ACCOUNTS_FILE,
            {**IN_CONTEXT, "dnsAccounts": [{"account": "333333333333", "zoneIds": ["Z1"]}]},
            r"dns-zones 'again\.partner\.example': the accounts file gives external-id 'acme-partner-dns' for account "
            r"333333333333's role, but its context dnsAccounts entry has no externalId: the role's trust would refuse",
        ),
        (
            ACCOUNTS_FILE,
            {**IN_CONTEXT, "dnsAccounts": [{"account": "333333333333", "zoneIds": ["Z1"], "externalId": "acme-other"}]},
            r"gives external-id 'acme-partner-dns' .* has externalId 'acme-other'",
        ),
        (
            ACCOUNTS_FILE,
            {**IN_CONTEXT, "dnsAccounts": [{"account": "555555555555", "zoneIds": ["Z1"], "externalId": "acme-new"}]},
            r"dns-zones 'plain\.example': the accounts file gives no external-id .* has externalId 'acme-new'",
        ),
        (
            ACCOUNTS_FILE.replace("555555555555:role/acme-dns-01", "555555555555:role/acme-dns-01-read"),
            {**IN_CONTEXT, "dnsAccounts": [DNS_ACCOUNTS[1]]},
            r"dns-zones 'plain\.example': role-arn names role 'acme-dns-01-read' in account 555555555555, whose stack",
        ),
    ],
)
def test_bad_zone_settings_are_named(tmp_path: Path, accounts_file: str, context: dict[str, Any], message: str) -> None:
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(accounts_file)
    with pytest.raises(SettingsError, match=message):
        StackSettings.from_context({"accountsFile": str(path), **context})


def test_zone_settings_from_the_context_and_the_accounts_file(tmp_path: Path) -> None:
    # Given the accounts file with DNS roles and a validation-only zone, and that zone in the context
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(ACCOUNTS_FILE)

    # When the settings are read (named zones too: the validation zone need not be among them)
    settings = StackSettings.from_context(
        {"accountsFile": str(path), "validationZoneIds": "Z0VALIDATION", "hostedZoneIds": ["Z1OTHER"]}
    )

    # Then the DNS roles are each role once, their read roles each the write role's name with -read, and the
    # validation zone is kept
    assert settings.dns_role_arns == DNS_ROLES
    assert settings.dns_read_role_arns == READ_ROLES == tuple(dns_read_role_arn(arn) for arn in DNS_ROLES)
    assert settings.validation_zone_ids == ("Z0VALIDATION",)
    assert settings.config.dns_zones["validation.example.net"].validation_only


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("validation-only: true", "field 'validation-only' needs 'hosted-zone-id'"),
        ("validation-only: yes please", "field 'validation-only' must be true or false"),
        (
            f"role-arn: arn:aws:iam::333333333333:role/{'r' * 60}",
            r"field 'role-arn': role name 'r{60}' is longer than 59 characters: its read role",
        ),
        (
            "role-arn: arn:aws:iam::333333333333:role/acme-dns-01\n    external-id: 'a b'",
            r"field 'external-id': external ID 'a b' is not one STS accepts",
        ),
    ],
)
def test_validation_only_is_checked_in_the_accounts_file(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(ACCOUNTS_FILE + f"  delegated.example:\n    {entry}\n")
    with pytest.raises(ConfigError, match=message):
        StackSettings.from_context({"accountsFile": str(path)})


def test_a_consistent_context_and_accounts_file_are_accepted(tmp_path: Path) -> None:
    # Given the accounts file, and a context whose DNS accounts have the same external IDs (or none on both sides)
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(ACCOUNTS_FILE)

    # When the settings are read
    settings = StackSettings.from_context({"accountsFile": str(path), **IN_CONTEXT, "dnsAccounts": DNS_ACCOUNTS})

    # Then they are accepted (444444444444 is not deployed by this app: its external ID is its owner's business)
    assert settings.dns_role_arns == DNS_ROLES


def test_the_application_reports_bad_deployments_before_building(layer_directory: Path) -> None:
    from stacks.application import build_deployment

    with pytest.raises(SettingsError, match=r"deployments\[0\]: 'Mars' is not an AWS region name"):
        build_deployment(
            {"layerDirectory": str(layer_directory), "deployments": [{"account": "111111111111", "region": "Mars"}]}
        )
