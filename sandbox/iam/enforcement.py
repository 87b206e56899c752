"""The sandbox's AWS endpoint authorizes every request signed with a role's credentials, before moto acts on it.

A WSGI layer in front of moto's application: it reads the request's SigV4 access key; a key that moto's STS issued
for an assumed role makes the request that role's (its identity policies and its tags as principal tags, read from
moto's IAM, where the sandbox put the synthesized template's policies); any other key is the operator's, and passes
unchecked (moto accepts any credentials). sandbox.iam.requests says what AWS would authorize for the request,
sandbox.iam.evaluator decides; AssumeRole also needs the target role's trust policy. A denial answers as the real
service does (AccessDeniedException, AccessDenied, AuthorizationError), so botocore raises what it raises on AWS.

A request whose decision cannot be computed (an operation or resource not mapped, an unknown condition key) is never
allowed: it answers HTTP 500 `Sandbox.IamUndecidable` with the reason, and the reason is kept in `undecidable`, so a
test or `make demo` fails loudly.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from sandbox.iam.cross_account import cross_account_decision, owning_account, owning_account_of, route_to_owner
from sandbox.iam.evaluator import Decision, Request, Undecidable, evaluate, evaluate_trust
from sandbox.iam.requests import (
    Caller,
    HttpRequest,
    Unmapped,
    access_denied,
    access_key_id,
    authorizations,
    signing_service,
)
from sandbox.iam.resource_state import ResourceState
from sandbox.iam.wire import signing_region

LOG = logging.getLogger(__name__)
PARTITION = "aws"
DEFAULT_REGION = "us-east-1"
DYNAMODB_WRITES = frozenset({"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"})
UNDECIDABLE = "Sandbox.IamUndecidable"  # the error code of a request whose decision cannot be computed
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Usage:
    """What the roles were allowed and denied while the sandbox ran: {role ARN: {action}} (the report's input)."""

    allowed: dict[str, set[str]] = field(default_factory=dict)
    denied: dict[str, set[str]] = field(default_factory=dict)
    undecidable: list[str] = field(default_factory=list)
    # {role ARN: {action: attribute names}} of the DynamoDB writes allowed: what each role's writes touch (the input
    # for scoping them with dynamodb:Attributes)
    written_attributes: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, role_arn: str, needed: Request, allowed: bool) -> None:
        with self._lock:
            (self.allowed if allowed else self.denied).setdefault(role_arn, set()).add(needed.action)
            attributes = needed.context.get("dynamodb:Attributes")
            if allowed and needed.action in DYNAMODB_WRITES and isinstance(attributes, list):
                by_action = self.written_attributes.setdefault(role_arn, {})
                by_action.setdefault(needed.action, set()).update(attributes)

    def record_undecidable(self, reason: str) -> None:
        with self._lock:
            self.undecidable.append(reason)

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "allowed": {role: sorted(actions) for role, actions in sorted(self.allowed.items())},
                "denied": {role: sorted(actions) for role, actions in sorted(self.denied.items())},
                "undecidable": list(self.undecidable),
                "written_attributes": {
                    role: {action: sorted(names) for action, names in sorted(actions.items())}
                    for role, actions in sorted(self.written_attributes.items())
                },
            }


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""


class IamEnforcement:
    """Wraps moto's WSGI application; `enabled` may be switched off (`certctl sandbox up --no-iam`)."""

    def __init__(
        self,
        app: WsgiApp,
        enabled: bool = True,
        org_id: str | None = None,
        operator_roles: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.org_id = org_id
        # Roles the sandbox itself acts as in its other accounts (the DNS account's setup): unrestricted, as the
        # operator's own credentials are.
        self.operator_roles = operator_roles
        self.usage = Usage()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.enabled or str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
            return self.app(environ, start_response)
        request = _http_request(environ)
        caller = self.caller_of(request)
        if caller is None:  # the operator's credentials, or unsigned
            return self.app(environ, start_response)
        service = signing_service(request) or ""
        region = signing_region(request) or DEFAULT_REGION
        try:
            verdict = self.authorize(request, caller, service, region)
        except (Unmapped, Undecidable) as exc:
            reason = f"{caller.session_arn}: {type(exc).__name__}: {exc}"
            LOG.error("iam: cannot decide %s %s: %s", request.method, request.path, reason)
            self.usage.record_undecidable(reason)
            status, headers, body = access_denied(service, request, reason, code=UNDECIDABLE, status=500)
            start_response(f"{status} Internal Server Error", headers)
            return [body]
        if verdict.allowed:
            route_to_owner(environ, owning_account(request, service, caller.account))
            return self.app(environ, start_response)
        LOG.warning("iam: denied: %s", verdict.message)
        status, headers, body = access_denied(service, request, verdict.message)
        start_response(f"{status} {'Forbidden' if status == 403 else 'Bad Request'}", headers)
        return [body]

    def caller_of(self, request: HttpRequest) -> Caller | None:
        """The assumed role behind the request's access key; None for any other key (the operator)."""
        key = access_key_id(request)
        if not key:
            return None
        for partitions in list(sts_backends.values()):
            backend = partitions.get(PARTITION)
            if backend is None:
                continue
            assumed = backend.get_assumed_role_from_access_key(key)
            if assumed is not None and assumed.role_arn in self.operator_roles:
                return None
            if assumed is not None:
                return Caller(
                    role_arn=assumed.role_arn,
                    session_arn=assumed.arn,
                    account=assumed.account_id,
                    principal_tags=_role_tags(assumed.role_arn),
                    org_id=self.org_id,
                )
        return None

    def authorize(self, request: HttpRequest, caller: Caller, service: str, region: str) -> Verdict:
        """Raises Unmapped or Undecidable when the decision cannot be computed."""
        policies = role_policies(caller.role_arn)
        state = ResourceState(caller.account, region)
        for needed in authorizations(request, caller, region, state):
            decision = cross_account_decision(evaluate(policies, needed), needed, caller)
            if decision is Decision.ALLOWED and needed.action.lower() == "sts:assumerole":
                decision = _trusted(needed, caller)
            self.usage.record(caller.role_arn, needed, decision is Decision.ALLOWED)
            if decision is not Decision.ALLOWED:
                return Verdict(False, _denial_message(caller, needed, decision))
        return Verdict(True)


def _trusted(needed: Request, caller: Caller) -> Decision:
    """AssumeRole also needs the target role's trust policy to allow the caller."""
    target = _role(needed.resource)
    if target is None:
        return Decision.IMPLICIT_DENY
    trust = json.loads(target.assume_role_policy_document)
    return evaluate_trust(trust, caller.role_arn, caller.account, needed)


def _denial_message(caller: Caller, needed: Request, decision: Decision) -> str:
    why = (
        "with an explicit deny in an identity-based policy"
        if decision is Decision.EXPLICIT_DENY
        else f"because no identity-based policy allows the {needed.action} action"
    )
    if decision is Decision.IMPLICIT_DENY and owning_account_of(needed.resource) not in (None, caller.account):
        why = "because no identity-based policy allows it, or the resource's policy does not allow this account"
    if needed.action.lower() == "sts:assumerole" and decision is Decision.IMPLICIT_DENY:
        why = "because the role's trust policy does not allow it, or no identity-based policy allows sts:AssumeRole"
    return (
        f"User: {caller.session_arn} is not authorized to perform: {needed.action} on resource: {needed.resource} {why}"
    )


def _role(role_arn: str) -> Any:
    account = role_arn.split(":")[4]
    backend = iam_backends[account][PARTITION]
    try:
        return backend.get_role_by_arn(role_arn)
    except Exception:  # moto's NotFound: a role that does not exist has no policies
        return None


def role_policies(role_arn: str) -> list[dict[str, Any]]:
    """The identity policies of a role as moto's IAM holds them now: inline, then the attached managed policies."""
    role = _role(role_arn)
    if role is None:
        return []
    documents = [json.loads(document) for document in role.policies.values()]
    for policy in role.managed_policies.values():
        documents.extend(json.loads(version.document) for version in policy.versions if version.is_default)
    return documents


def _role_tags(role_arn: str) -> dict[str, str]:
    role = _role(role_arn)
    if role is None or not role.tags:
        return {}
    tags = role.tags.values() if isinstance(role.tags, Mapping) else role.tags  # moto keeps a list of {Key, Value}
    return {str(tag["Key"]): str(tag["Value"]) for tag in tags}


def _http_request(environ: dict[str, Any]) -> HttpRequest:
    """The request as the evaluator needs it; the body is read once and put back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    headers = {
        key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return HttpRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")),
        path=str(environ.get("PATH_INFO", "/")),
        query=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
    )
