"""What every service's mapping (sandbox.iam.authz_*) shares: the request being mapped, the authorizations it
builds with the caller's global condition keys, tag keys, and the KMS permission a service uses on the caller's
behalf (a forward access session: the caller's own permission, with kms:ViaService naming the service)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.iam.evaluator import Request
from sandbox.iam.resource_state import KmsKey, ResourceState
from sandbox.iam.wire import Caller, HttpRequest, Unmapped, json_body

ContextValue = str | bool | int | float | datetime | list[str]
Context = dict[str, ContextValue]


def global_context(caller: Caller, region: str, *, via_aws_service: bool = False) -> Context:
    """The global condition keys of every request the caller signs (IAM User Guide, "AWS global condition context
    keys"): aws:PrincipalArn is the role's ARN for an assumed-role session; aws:SecureTransport is False (the sandbox
    serves plain HTTP); aws:ViaAWSService is True only on a service's forward access session."""
    context: Context = {
        "aws:PrincipalArn": caller.role_arn,
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalType": "AssumedRole",
        "aws:SecureTransport": False,
        "aws:RequestedRegion": region,
        "aws:ViaAWSService": via_aws_service,
    }
    for key, value in caller.principal_tags.items():
        context[f"aws:PrincipalTag/{key}"] = value
    if caller.org_id:
        context["aws:PrincipalOrgID"] = caller.org_id
    return context


@dataclass(frozen=True)
class Call:
    """One request to map: the HTTP request, who signed it, where it goes and what moto has."""

    http: HttpRequest
    caller: Caller
    region: str
    state: ResourceState
    service: str  # the signing name, which is the IAM service prefix for every mapped service
    operation: str

    @property
    def account(self) -> str:
        return self.caller.account

    def body(self) -> dict[str, Any]:
        """The JSON body. Raises Unmapped if it is not a JSON object."""
        return json_body(self.http)

    def authorize(
        self, action: str, resource: str, context: Mapping[str, ContextValue | None] | None = None
    ) -> Request:
        """`action` ("<prefix>:<Action>", or the operation of this service when it has no colon) on `resource`,
        with the global keys and `context` (keys whose value is None are left out: absent from the request)."""
        return self._request(action, resource, context, via_aws_service=False)

    def _request(
        self, action: str, resource: str, context: Mapping[str, ContextValue | None] | None, *, via_aws_service: bool
    ) -> Request:
        full = global_context(self.caller, self.region, via_aws_service=via_aws_service)
        full.update({key: value for key, value in (context or {}).items() if value is not None})
        return Request(action if ":" in action else f"{self.service}:{action}", resource, full)

    def kms_via_service(self, action: str, key: KmsKey, service: str, encryption_context: Mapping[str, str]) -> Request:
        """The KMS permission `service` uses with the caller's credentials (kms:ViaService
        "<service>.<region>.amazonaws.com", as the AWS KMS Developer Guide's kms:ViaService describes)."""
        context: dict[str, ContextValue | None] = {
            "kms:ViaService": f"{service}.{self.region}.amazonaws.com",
            **kms_key_context(self.account, key, encryption_context),
        }
        return self._request(f"kms:{action}", key.arn, context, via_aws_service=True)


def kms_key_context(caller_account: str, key: KmsKey, encryption_context: Mapping[str, str]) -> Context:
    """kms:CallerAccount, kms:EncryptionContext:<k> and kms:EncryptionContextKeys, and the key's own keys."""
    context: Context = {"kms:CallerAccount": caller_account, **resource_tags(key.tags)}
    for name, value in encryption_context.items():
        context[f"kms:EncryptionContext:{name}"] = value
    if encryption_context:
        context["kms:EncryptionContextKeys"] = sorted(encryption_context)
    if key.aliases:
        context["kms:ResourceAliases"] = list(key.aliases)
    return context


def resource_tags(tags: Mapping[str, str] | None, *service_prefixes: str) -> Context:
    """aws:ResourceTag/<k> for each tag, and `<prefix>/<k>` for each service-specific prefix given (for example
    "secretsmanager:ResourceTag" or "ssm:resourceTag")."""
    context: Context = {}
    for key, value in (tags or {}).items():
        for prefix in ("aws:ResourceTag", *service_prefixes):
            context[f"{prefix}/{key}"] = value
    return context


def request_tags(tags: Mapping[str, str]) -> Context:
    """aws:RequestTag/<k> for each tag in the request, and aws:TagKeys (none when the request has no tags)."""
    if not tags:
        return {}
    context: Context = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    context["aws:TagKeys"] = list(tags)
    return context


def tag_list(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """[{"Key": k, "Value": v}, ...] of a JSON request as a dict. Raises Unmapped if it is not that shape."""
    result: dict[str, str] = {}
    for tag in tags or []:
        if not isinstance(tag, Mapping) or "Key" not in tag:
            raise Unmapped(f"not a tag: {tag!r}")
        result[str(tag["Key"])] = str(tag.get("Value", ""))
    return result


def required(body: Mapping[str, Any], name: str, operation: str) -> str:
    """The string parameter `name` of the request. Raises Unmapped if it is missing or not a string."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise Unmapped(f"{operation}: no {name} in the request")
    return value
