"""One raw HTTP request to the sandbox's AWS endpoint as the IAM authorizations AWS checks for it, and the answer a
service gives when one is denied.

`authorizations` reads the service from the SigV4 credential scope and the operation from the request as botocore
builds it (sandbox.iam.wire), then maps it with that service's module (sandbox.iam.authz_*), reading moto's
resources through a ResourceState. Every authorization carries the caller's global condition keys
(sandbox.iam.authz.global_context). What is not mapped raises Unmapped: the enforcement layer never allows it.

`access_denied` formats the denial as the real service sends it, by protocol, so that botocore raises the ClientError
code AWS uses: AccessDeniedException (JSON services, 400; Lambda, 403), AccessDenied (Route 53, STS, IAM, S3, 403),
AuthorizationError (SNS, 403), UnauthorizedOperation (EC2, 403).
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Callable
from xml.sax.saxutils import escape

from sandbox.iam import authz_crypto, authz_dynamodb, authz_ops, authz_pca
from sandbox.iam.authz import Call
from sandbox.iam.evaluator import Request
from sandbox.iam.resource_state import ResourceState
from sandbox.iam.wire import (
    Caller,
    HttpRequest,
    Unmapped,
    access_key_id,
    operation_of,
    protocol_of,
    service_model,
    signing_region,
    signing_service,
)

__all__ = [
    "Caller",
    "HttpRequest",
    "ResourceState",
    "Unmapped",
    "access_denied",
    "access_key_id",
    "authorizations",
    "operation_of",
    "signing_region",
    "signing_service",
]

# signing name (= IAM service prefix) -> the module function mapping its operations
_MAPPINGS: dict[str, Callable[[Call], list[Request]]] = {
    "dynamodb": authz_dynamodb.authorizations,
    "secretsmanager": authz_crypto.secretsmanager_authorizations,
    "kms": authz_crypto.kms_authorizations,
    "acm": authz_crypto.acm_authorizations,
    "acm-pca": authz_pca.acm_pca_authorizations,
    "route53": authz_ops.route53_authorizations,
    "ssm": authz_ops.ssm_authorizations,
    "events": authz_ops.events_authorizations,
    "sns": authz_ops.sns_authorizations,
    "sts": authz_ops.sts_authorizations,
    "states": authz_ops.states_authorizations,
    "lambda": authz_ops.lambda_authorizations,
}


def authorizations(request: HttpRequest, caller: Caller, region: str, state: ResourceState) -> list[Request]:
    """Every authorization AWS checks for this request, each context holding the caller's global keys; an empty
    list means no permission is needed (sts:GetCallerIdentity).

    Raises Unmapped for an unsigned request, a service or operation not mapped, or a request whose resources or
    condition keys cannot be read (never guessed)."""
    service = signing_service(request)
    if service is None:
        raise Unmapped(f"{request.method} {request.path}: not SigV4-signed")
    mapping = _MAPPINGS.get(service)
    if mapping is None:
        raise Unmapped(f"{service}: {_operation_for_message(request, service)} is not mapped (service not mapped)")
    operation = operation_of(request, service)
    return mapping(Call(request, caller, region, state, service, operation))


def _operation_for_message(request: HttpRequest, service: str) -> str:
    try:
        return operation_of(request, service)
    except Unmapped:
        return f"{request.method} {request.path}"


# --- denials --------------------------------------------------------------------------------------------------------
Response = tuple[int, list[tuple[str, str]], bytes]
_DYNAMODB_ACCESS_DENIED = "com.amazonaws.dynamodb.v20120810#AccessDeniedException"
# services whose XML denial's code is not AccessDenied
_XML_ERROR_CODES = {"sns": "AuthorizationError"}
# the namespace of a REST-XML service's errors, where botocore's model has none
_XML_NAMESPACES = {"route53": "https://route53.amazonaws.com/doc/2013-04-01/"}


def access_denied(
    service: str, request: HttpRequest, message: str, code: str | None = None, status: int | None = None
) -> Response:
    """(status, headers, body) of the service's AccessDenied answer with `message`, as the real service sends it.

    `service` is the signing name; a service botocore does not know answers as a JSON service would. `code` and
    `status` replace the error code and HTTP status (the sandbox's own errors, in the service's format)."""
    request_id = str(uuid.uuid4())
    try:
        protocol = protocol_of(service_model(service))
        json_version = service_model(service).metadata.get("jsonVersion", "1.1")
    except Unmapped:
        protocol, json_version = "json", "1.1"
    if protocol == "json":
        json_code = code or (_DYNAMODB_ACCESS_DENIED if service == "dynamodb" else "AccessDeniedException")
        body = json.dumps({"__type": json_code, "Message": message}).encode()
        headers = [("x-amzn-RequestId", request_id), ("Content-Type", f"application/x-amz-json-{json_version}")]
        if service == "dynamodb":  # DynamoDB signs its bodies with a CRC32 botocore checks
            headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        return status or 400, [*headers, ("Content-Length", str(len(body)))], body
    if protocol == "rest-json":
        body = json.dumps({"Type": "User", "Message": message}).encode()
        headers = [
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", code or "AccessDeniedException"),
            ("Content-Type", "application/json"),
        ]
        return status or 403, [*headers, ("Content-Length", str(len(body)))], body
    return _xml_denial(service, protocol, message, request_id, code, status)


def _xml_denial(
    service: str, protocol: str, message: str, request_id: str, given_code: str | None, status: int | None
) -> Response:
    text = escape(message)
    if protocol == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{given_code or 'UnauthorizedOperation'}</Code><Message>{text}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    elif service == "s3":
        xml = (
            f"<Error><Code>{given_code or 'AccessDenied'}</Code><Message>{text}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
    else:
        namespace = service_model(service).metadata.get("xmlNamespace") or _XML_NAMESPACES.get(service, "")
        code = given_code or _XML_ERROR_CODES.get(service, "AccessDenied")
        xml = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{text}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode()
    headers = [("x-amzn-RequestId", request_id), ("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
    return status or 403, headers, body
