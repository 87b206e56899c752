"""Requests on another account's secret or KMS key: both sides must allow, and moto must look in the owner's backend.

AWS authorizes a cross-account request only when the caller's identity policies AND the resource's policy allow it,
and an explicit Deny in either wins (IAM User Guide, reference_policies_evaluation-logic-cross-account.md). The
sandbox models the two resources a node account reads across accounts: a Secrets Manager secret (its resource
policy, PutResourcePolicy) and a KMS key (its key policy), reached with a SecretId or KeyId that is an ARN of
another account (across accounts AWS accepts only the ARN). A resource without a policy denies every other account.
Same-account requests are left as they were: the sandbox does not evaluate resource policies for them.

Routing: moto picks an account's backends by the caller's access key (STS-issued keys carry the role's account), so
a node of account B asking for account A's secret would be answered from B's backend, where the secret is not.
After the request is allowed, `route_to_owner` sets moto's `x-moto-account-id` header (moto.core.responses
`get_current_account`, which reads it before the access key): moto then serves the request from the owner's
backend, as AWS serves it from the owner's account. Only for allowed requests, never for the caller's own account.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.iam.evaluator import Decision, Request, evaluate_trust
from sandbox.iam.wire import Caller, HttpRequest, Unmapped, json_body

# signing service -> the request field naming the resource that may be another account's
RESOURCE_FIELDS = {"secretsmanager": "SecretId", "kms": "KeyId"}
MOTO_ACCOUNT_HEADER = "HTTP_X_MOTO_ACCOUNT_ID"  # `x-moto-account-id` in the WSGI environ


def owning_account_of(arn: str) -> str | None:
    """The account field of an ARN (None when empty, as in Route 53 ARNs, or not an ARN)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" and parts[4] else None


def owning_account(request: HttpRequest, service: str, caller_account: str) -> str | None:
    """The account whose secret or key the request names by ARN, when it is not the caller's; else None."""
    name = RESOURCE_FIELDS.get(service)
    if name is None:
        return None
    try:
        value = json_body(request).get(name)
    except Unmapped:
        return None
    owner = owning_account_of(value) if isinstance(value, str) else None
    return owner if owner not in (None, caller_account) else None


def route_to_owner(environ: dict[str, Any], owner: str | None) -> None:
    """Make moto serve the (allowed) request from `owner`'s backends; nothing for a same-account request."""
    if owner is not None:
        environ[MOTO_ACCOUNT_HEADER] = owner


def resource_policy(arn: str) -> dict[str, Any] | None:
    """The resource policy moto holds for a secret or KMS key ARN (None: no policy, or not a secret or key).
    Raises Unmapped for a policy that is not JSON."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    text: str | None = None
    if service == "secretsmanager":
        from moto.secretsmanager.models import secretsmanager_backends

        secret = secretsmanager_backends[account][region].secrets.get(arn)
        text = getattr(secret, "policy", None)
    elif service == "kms" and resource.startswith("key/"):
        from moto.kms.models import kms_backends

        key = kms_backends[account][region].keys.get(resource.removeprefix("key/"))
        text = getattr(key, "policy", None)
    if not text:
        return None
    try:
        policy = json.loads(text)
    except ValueError as exc:
        raise Unmapped(f"the resource policy of {arn} is not JSON") from exc
    return policy if isinstance(policy, dict) else None


def cross_account_decision(identity: Decision, needed: Request, caller: Caller) -> Decision:
    """The decision for `needed` given the caller's identity-policy decision: unchanged for a resource of the
    caller's account, or of a service whose resource policies the sandbox does not model; for another account's
    secret or key, ALLOWED only when its resource policy allows too (an explicit Deny in either wins; no policy:
    implicit deny). Raises Undecidable as evaluate_trust does."""
    owner = owning_account_of(needed.resource)
    service = needed.action.split(":", 1)[0].lower()
    if owner is None or owner == caller.account or service not in RESOURCE_FIELDS:
        return identity
    policy = resource_policy(needed.resource)
    resource = (
        Decision.IMPLICIT_DENY if policy is None else evaluate_trust(policy, caller.role_arn, caller.account, needed)
    )
    if Decision.EXPLICIT_DENY in (identity, resource):
        return Decision.EXPLICIT_DENY
    if identity is Decision.ALLOWED and resource is Decision.ALLOWED:
        return Decision.ALLOWED
    return Decision.IMPLICIT_DENY
