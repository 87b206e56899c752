"""The CDK app as `app.py`, the CDK CLI and the tests build it: cdk.json's context, then overrides; one certificate
stack per account and region of `deployments` (or one stack), and one role stack per DNS account."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import App, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks

from deploy.paths import REPO_ROOT
from stacks.certificate_stack import CertificateStack
from stacks.deployments import parse_deployments, parse_dns_accounts, regions_of, workload_accounts
from stacks.dns_account_stack import DnsAccountStack
from stacks.node_account_stack import NodeAccountStack, node_account_stacks, parse_node_accounts
from stacks.settings import CONTEXT_KEYS, StackSettings

CDK_JSON = REPO_ROOT / "cdk.json"
STACK_ID = "CertificateStack"


def cdk_json_context() -> dict[str, Any]:
    context = json.loads(CDK_JSON.read_text()).get("context", {})
    return dict(context) if isinstance(context, dict) else {}


@dataclass(frozen=True)
class Deployed:
    """The app and its stacks: one certificate stack per deployment (or the single default one), and one role stack
    per DNS account."""

    app: App
    certificate_stacks: list[CertificateStack]
    dns_stacks: list[DnsAccountStack] = field(default_factory=list)
    node_stacks: list[NodeAccountStack] = field(default_factory=list)

    @property
    def stacks(self) -> list[Stack]:
        return [*self.certificate_stacks, *self.dns_stacks, *self.node_stacks]


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> tuple[App, CertificateStack]:
    """The app and its certificate stack (the first one when the context lists several `deployments`)."""
    deployed = build_deployment(context, outdir)
    return deployed.app, deployed.certificate_stacks[0]


def build_deployment(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> Deployed:
    """The app with its stacks and cdk-nag's AwsSolutions checks; nothing here calls AWS.

    Context precedence: cdk.json, then `context`, then what the CDK CLI passes (CDK_CONTEXT_JSON, `-c`).
    With `deployments`, one stack per account and region, named AcmeCertificates-<account>-<region>, and one
    AcmeDnsAccess-<account> stack per `dnsAccounts` entry (stacks.deployments); an account listed in several regions
    gets its account-wide names (IAM managed policy, dashboard) per region. Without it, one stack, bound to
    CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION when the CLI sets them, else environment-agnostic.
    Raises SettingsError or ConfigError for a bad context value or accounts file, FileNotFoundError without a layer.
    """
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    settings = StackSettings.from_context({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})
    deployments = parse_deployments(app.node.try_get_context("deployments"), settings.stack_name)
    dns_accounts = parse_dns_accounts(app.node.try_get_context("dnsAccounts"), deployments)
    if deployments:
        certificate_stacks = [
            CertificateStack(
                app,
                deployment.stack_name(settings.stack_name),
                stack_name=deployment.stack_name(settings.stack_name),
                env=Environment(account=deployment.account, region=deployment.region),
                settings=settings,
                region_in_global_names=len(regions_of(deployments, deployment.account)) > 1,
            )
            for deployment in deployments
        ]
    else:
        account = os.environ.get("CDK_DEFAULT_ACCOUNT") or None
        region = os.environ.get("CDK_DEFAULT_REGION") or None
        certificate_stacks = [
            CertificateStack(
                app,
                STACK_ID,
                stack_name=settings.stack_name_for(region),
                env=Environment(account=account, region=region),
                settings=settings,
            )
        ]
    dns_stacks = [
        DnsAccountStack(
            app,
            dns_account.stack_name,
            stack_name=dns_account.stack_name,
            env=Environment(account=dns_account.account, region=dns_account.region),
            prefix=settings.names.prefix,
            workload_accounts=workload_accounts(deployments),
            zone_ids=dns_account.zone_ids,
            validation_zone_ids=dns_account.validation_zone_ids,
        )
        for dns_account in dns_accounts
    ]
    node_accounts = parse_node_accounts(app.node.try_get_context("nodeAccounts"))
    node_stacks = node_account_stacks(app, settings.names.prefix, node_accounts)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return Deployed(app, certificate_stacks, dns_stacks, node_stacks)
