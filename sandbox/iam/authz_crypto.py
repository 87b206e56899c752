"""Secrets Manager, KMS and ACM authorizations (all JSON 1.1: secretsmanager.X, TrentService.X, CertificateManager.X).

Resources and condition keys per the Service Authorization Reference (SAR) pages "Actions, resources, and condition
keys for AWS Secrets Manager / AWS Key Management Service / AWS Certificate Manager":
- A secret's ARN is the full one, with the 6-letter suffix Secrets Manager adds to the name; a secret moto does not
  have is authorized on the ARN the request names (a name gives `secret:<name>`, which `-??????` patterns do not
  match: AWS answers AccessDenied for a secret the caller may not see, whether or not it exists). CreateSecret's
  secret does not exist yet: its ARN gets a fresh suffix. The secret's tags give secretsmanager:ResourceTag/<k> and
  aws:ResourceTag/<k>.
- Secrets Manager encrypts with the caller's permission on the secret's KMS key (the Secrets Manager User Guide,
  "Secret encryption and decryption"): GetSecretValue needs kms:Decrypt, PutSecretValue and CreateSecret with a value
  kms:GenerateDataKey, with kms:ViaService secretsmanager.<region>.amazonaws.com and the encryption context
  SecretARN / SecretVersionId (the version's ID is the request's ClientRequestToken when it writes one). Not for the
  AWS managed key aws/secretsmanager (the default), which Secrets Manager uses through its own grant.
- KMS: a KeyId (key ID, key ARN, alias name or alias ARN) is authorized on the key's ARN; Decrypt without KeyId on
  the key the ciphertext names. kms:RequestAlias when the request names an alias.
- ACM: ImportCertificate without CertificateArn (a new certificate) is authorized on
  `arn:aws:acm:<region>:<account>:certificate/*`: the SAR gives ImportCertificate the certificate resource (required)
  and the keys aws:RequestTag/${TagKey}, aws:ResourceTag/${TagKey} and aws:TagKeys, and AWS's own AccessDenied for a
  new import names that resource ("... is not authorized to perform: acm:ImportCertificate on resource:
  arn:aws:acm:eu-north-1:<account>:certificate/*", as for RequestCertificate); it has no resource tags yet. A
  re-import (CertificateArn) is authorized on that certificate, with its tags as aws:ResourceTag/<key>. The SAR's
  operations table maps ImportCertificate to acm:ImportCertificate and acm:AddTagsToCertificate: an import that
  tags (Tags) needs AddTagsToCertificate too, on the same resource with the same keys (as CreateSecret with tags
  needs TagResource). ListCertificates has no resource type: "*".
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Mapping
from typing import Any

from sandbox.iam.authz import Call, ContextValue, kms_key_context, request_tags, required, resource_tags, tag_list
from sandbox.iam.evaluator import Request
from sandbox.iam.resource_state import KmsKey, Secret, arn_part
from sandbox.iam.wire import Unmapped

SECRETSMANAGER_TAG = "secretsmanager:ResourceTag"
SECRETS_MANAGER_KMS_ACTIONS = {"GetSecretValue": "Decrypt", "PutSecretValue": "GenerateDataKey"}
SECRET_OPERATIONS = frozenset(
    {
        "GetSecretValue",
        "PutSecretValue",
        "DescribeSecret",
        "TagResource",
        "UntagResource",
        "DeleteSecret",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
        "GetResourcePolicy",
    }
)
KMS_OPERATIONS = frozenset({"Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"})
CERTIFICATE_OPERATIONS = frozenset(
    {
        "DescribeCertificate",
        "ListTagsForCertificate",
        "AddTagsToCertificate",
        "RemoveTagsFromCertificate",
        "ExportCertificate",
        "GetCertificate",
        "RenewCertificate",
        "DeleteCertificate",
    }
)


# --- Secrets Manager ------------------------------------------------------------------------------------------------
def _secret_arn(call: Call, secret_id: str, secret: Secret | None) -> str:
    if secret is not None:
        return secret.arn
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:aws:secretsmanager:{call.region}:{call.account}:secret:{secret_id}"


def _new_secret_arn(call: Call, name: str) -> str:
    suffix = "".join(secrets.choice(string.ascii_letters) for _ in range(6))
    return f"arn:aws:secretsmanager:{call.region}:{call.account}:secret:{name}-{suffix}"


def _secret_kms(call: Call, action: str, key: KmsKey | None, arn: str, version_id: str | None) -> list[Request]:
    if key is None:
        return []
    context = {"SecretARN": arn, **({"SecretVersionId": version_id} if version_id else {})}
    return [call.kms_via_service(action, key, "secretsmanager", context)]


def secretsmanager_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or a request without its secret."""
    operation, body = call.operation, call.body()
    action = f"secretsmanager:{operation}"
    if operation == "ListSecrets":
        return [call.authorize(action, "*")]
    if operation == "CreateSecret":
        return _create_secret(call, body)
    if operation not in SECRET_OPERATIONS:
        raise Unmapped(f"secretsmanager: {operation} is not mapped")
    secret_id = required(body, "SecretId", operation)
    secret = call.state.secret(secret_id)
    arn = _secret_arn(call, secret_id, secret)
    context: dict[str, ContextValue | None] = {
        "secretsmanager:SecretId": arn,
        **resource_tags(secret.tags if secret else None, SECRETSMANAGER_TAG),
    }
    if operation == "GetSecretValue":
        context["secretsmanager:VersionId"] = body.get("VersionId")
        context["secretsmanager:VersionStage"] = body.get("VersionStage")
    elif operation == "TagResource":
        context.update(request_tags(tag_list(body.get("Tags"))))
    elif operation == "UntagResource":
        context["aws:TagKeys"] = [str(key) for key in body.get("TagKeys") or []] or None
    elif operation == "PutResourcePolicy":
        context["secretsmanager:BlockPublicPolicy"] = bool(body.get("BlockPublicPolicy", False))
    elif operation == "DeleteSecret":
        context["secretsmanager:ForceDeleteWithoutRecovery"] = body.get("ForceDeleteWithoutRecovery")
        context["secretsmanager:RecoveryWindowInDays"] = body.get("RecoveryWindowInDays")
    requests = [call.authorize(action, arn, context)]
    if operation in SECRETS_MANAGER_KMS_ACTIONS and secret is not None:
        key = call.state.customer_key(secret.kms_key_id)
        if operation == "GetSecretValue":
            version = body.get("VersionId") or secret.stages.get(body.get("VersionStage") or "AWSCURRENT")
        else:
            version = body.get("ClientRequestToken")
        requests += _secret_kms(call, SECRETS_MANAGER_KMS_ACTIONS[operation], key, arn, version)
    return requests


def _create_secret(call: Call, body: Mapping[str, Any]) -> list[Request]:
    name = required(body, "Name", "CreateSecret")
    existing = call.state.secret(name)
    arn = existing.arn if existing is not None else _new_secret_arn(call, name)
    key = call.state.customer_key(body.get("KmsKeyId"))
    context: dict[str, ContextValue | None] = {
        "secretsmanager:Name": name,
        "secretsmanager:Description": body.get("Description"),
        "secretsmanager:KmsKeyId": body.get("KmsKeyId"),
        "secretsmanager:KmsKeyArn": key.arn if key else None,
        **request_tags(tag_list(body.get("Tags"))),
    }
    requests = [call.authorize("secretsmanager:CreateSecret", arn, context)]
    if body.get("Tags"):  # "If you include tags in the secret, you also need secretsmanager:TagResource" (API ref.)
        requests.append(call.authorize("secretsmanager:TagResource", arn, context))
    if "SecretString" in body or "SecretBinary" in body:
        requests += _secret_kms(call, "GenerateDataKey", key, arn, body.get("ClientRequestToken"))
    return requests


# --- KMS ------------------------------------------------------------------------------------------------------------
def _request_alias(key_id: str) -> str | None:
    if key_id.startswith("alias/"):
        return key_id
    if key_id.startswith("arn:") and arn_part(key_id, 5).startswith("alias/"):
        return arn_part(key_id, 5)
    return None


def kms_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped, an alias that names no key or a ciphertext naming no key."""
    operation, body = call.operation, call.body()
    if operation not in KMS_OPERATIONS:
        raise Unmapped(f"kms: {operation} is not mapped")
    key_id = body.get("KeyId")
    if isinstance(key_id, str) and key_id:
        key = call.state.kms_key(key_id)
    elif operation == "Decrypt":
        try:
            ciphertext = base64.b64decode(str(body.get("CiphertextBlob", "")), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Unmapped("kms: Decrypt's CiphertextBlob is not base64") from exc
        key = call.state.kms_key_of_ciphertext(ciphertext)
    else:
        raise Unmapped(f"kms: {operation} without KeyId")
    encryption_context = {str(k): str(v) for k, v in (body.get("EncryptionContext") or {}).items()}
    context: dict[str, ContextValue | None] = {
        **kms_key_context(call.account, key, encryption_context),
        "kms:RequestAlias": _request_alias(key_id) if isinstance(key_id, str) else None,
        "kms:EncryptionAlgorithm": body.get("EncryptionAlgorithm"),
    }
    return [call.authorize(f"kms:{operation}", key.arn, context)]


# --- ACM ------------------------------------------------------------------------------------------------------------
def acm_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or a request without its certificate."""
    operation, body = call.operation, call.body()
    action = f"acm:{operation}"
    if operation == "ListCertificates":
        return [call.authorize(action, "*")]
    tags = tag_list(body.get("Tags"))
    if operation == "ImportCertificate":
        return _import_certificate(call, body, tags)
    if operation not in CERTIFICATE_OPERATIONS:
        raise Unmapped(f"acm: {operation} is not mapped")
    arn = required(body, "CertificateArn", operation)
    context: dict[str, ContextValue | None] = {**resource_tags(call.state.certificate_tags(arn))}
    if operation == "AddTagsToCertificate":
        context.update(request_tags(tags))
    elif operation == "RemoveTagsFromCertificate":  # a tag to remove may name its key only
        with_values = {tag["Key"]: tag["Value"] for tag in body.get("Tags") or [] if "Value" in tag}
        context.update(request_tags(with_values))
        context["aws:TagKeys"] = list(tags) or None
    return [call.authorize(action, arn, context)]


def _import_certificate(call: Call, body: Mapping[str, Any], tags: Mapping[str, str]) -> list[Request]:
    """A new certificate on certificate/* of the region (no resource tags), a re-import on the certificate (its tags);
    with Tags, acm:AddTagsToCertificate as well."""
    if body.get("CertificateArn"):
        resource = required(body, "CertificateArn", "ImportCertificate")
        context: dict[str, ContextValue | None] = {**resource_tags(call.state.certificate_tags(resource))}
    else:
        resource = f"arn:aws:acm:{call.region}:{call.account}:certificate/*"
        context = {}
    context.update(request_tags(tags))
    requests = [call.authorize("acm:ImportCertificate", resource, context)]
    if tags:
        requests.append(call.authorize("acm:AddTagsToCertificate", resource, context))
    return requests
