"""The CDK app as `app.py`, the CDK CLI and the tests build it: cdk.json's context, then overrides."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from certlib.resources import REPO_ROOT
from stacks.certificate_stack import CertificateStack
from stacks.settings import CONTEXT_KEYS, StackSettings

CDK_JSON = REPO_ROOT / "cdk.json"
STACK_ID = "CertificateStack"


def cdk_json_context() -> dict[str, Any]:
    context = json.loads(CDK_JSON.read_text()).get("context", {})
    return dict(context) if isinstance(context, dict) else {}


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> tuple[App, CertificateStack]:
    """The app with its one stack and cdk-nag's AwsSolutions checks; nothing here calls AWS.

    Context precedence: cdk.json, then `context`, then what the CDK CLI passes (CDK_CONTEXT_JSON, `-c`).
    The stack is bound to CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION when the CLI sets them, else region-agnostic.
    Raises SettingsError or ConfigError for a bad context value or accounts file, FileNotFoundError without a layer.
    """
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    settings = StackSettings.from_context({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})
    account = os.environ.get("CDK_DEFAULT_ACCOUNT") or None
    region = os.environ.get("CDK_DEFAULT_REGION") or None
    stack = CertificateStack(
        app,
        STACK_ID,
        stack_name=settings.stack_name_for(region),
        env=Environment(account=account, region=region),
        settings=settings,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
