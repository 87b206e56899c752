"""Route 53, Systems Manager, EventBridge, SNS, STS, Step Functions and Lambda authorizations.

Resources and condition keys per the Service Authorization Reference (SAR) page of each service:
- Route 53 (REST-XML): hosted zones are `arn:aws:route53:::hostedzone/<id>`, changes `arn:aws:route53:::change/<id>`;
  ListHostedZones and ListHostedZonesByName have no resource type ("*"). ChangeResourceRecordSets gives, one entry
  per change, route53:ChangeResourceRecordSetsNormalizedRecordNames, ...RecordTypes and ...Actions, normalized as
  the Route 53 Developer Guide's "Using IAM policy conditions for fine-grained access control" says: names in lower
  case without the trailing dot, every character but a-z, 0-9, '-', '_' and '.' as a \\ddd octal escape (\\052 for
  '*'); types and actions in upper case.
- Systems Manager: GetParameter(s) on `parameter/<name without the leading slash>`. SendCommand on the document
  (`document/<name>`; AWS's own documents -- names AWS reserves, starting with "AWS", "Amazon" or "amzn" -- have no
  account in their ARN) and on each node it targets, as Run Command resolves them: InstanceIds, or Targets by
  `InstanceIds`, `tag:<key>` or `tag-key` (several keys AND-ed, as moto does); an EC2 instance is
  `arn:aws:ec2:<r>:<a>:instance/<id>`, a managed instance (mi-) `arn:aws:ssm:<r>:<a>:managed-instance/<id>`, each
  with ssm:resourceTag/<k> and aws:ResourceTag/<k>; and on the output bucket when it names one. ListCommands,
  ListCommandInvocations, GetCommandInvocation and DescribeInstanceInformation have no resource type ("*").
- EventBridge PutEvents: one authorization per entry, on its bus (`event-bus/<name>`, "default" when none; an ARN as
  given), with that entry's events:source and events:detail-type.
- SNS Publish on the topic; a topic with a customer managed KMS key also needs kms:GenerateDataKey and kms:Decrypt
  through SNS, encryption context aws:sns:topicArn (the SNS Developer Guide, "Managing Amazon SNS encryption keys").
- STS AssumeRole on the role (its trust policy is the enforcement layer's); GetCallerIdentity needs no permission.
- Step Functions: StartExecution, DescribeStateMachine and ListExecutions on the state machine (ListExecutions by
  map run: on the map run), DescribeExecution, GetExecutionHistory and StopExecution on the execution.
- Lambda Invoke: lambda:InvokeFunction on the function, `:<qualifier>` appended when the request has one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote

from sandbox.iam.authz import Call, ContextValue, request_tags, required, resource_tags
from sandbox.iam.evaluator import Request
from sandbox.iam.resource_state import Node, arn_part
from sandbox.iam.wire import Unmapped, query_list, query_pairs, query_params, rest_operation

ANYTHING = "*"
_PLAIN_NAME_CHARACTERS = re.compile(r"[a-z0-9_.\-]")
_OCTAL_ESCAPE = re.compile(r"\\[0-7]{3}")
AWS_DOCUMENT_PREFIXES = ("aws", "amazon", "amzn")


# --- Route 53 -------------------------------------------------------------------------------------------------------
def normalized_record_name(name: str) -> str:
    """A record name as route53:ChangeResourceRecordSetsNormalizedRecordNames holds it."""
    name = name.lower().removesuffix(".")
    normalized, position = "", 0
    while position < len(name):
        escape = _OCTAL_ESCAPE.match(name, position)
        if escape:
            normalized, position = normalized + escape.group(), escape.end()
            continue
        character = name[position]
        plain = _PLAIN_NAME_CHARACTERS.fullmatch(character) and ord(character) < 128
        normalized += character if plain else "".join(f"\\{byte:03o}" for byte in character.encode())
        position += 1
    return normalized


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _changes(body: bytes) -> list[tuple[str, str, str]]:
    """(action, name, type) of each change of a ChangeResourceRecordSets body. Raises Unmapped if unreadable."""
    try:
        # the sandbox's own clients' requests; Python's expat (>= 2.4.1) refuses entity expansion attacks
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError as exc:
        raise Unmapped(f"route53: ChangeResourceRecordSets body is not XML: {exc}") from exc
    changes = []
    for change in (element for element in root.iter() if _local(element.tag) == "Change"):
        fields = {_local(child.tag): (child.text or "").strip() for child in change}
        record = next((child for child in change if _local(child.tag) == "ResourceRecordSet"), None)
        if record is None:
            raise Unmapped("route53: a change without ResourceRecordSet")
        record_fields = {_local(child.tag): (child.text or "").strip() for child in record}
        changes.append((fields.get("Action", ""), record_fields.get("Name", ""), record_fields.get("Type", "")))
    return changes


def route53_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or an unreadable change batch."""
    operation = call.operation
    action = f"route53:{operation}"
    if operation in ("ListHostedZones", "ListHostedZonesByName"):
        return [call.authorize(action, ANYTHING)]
    labels = rest_operation(call.http, "route53")[1]
    if operation == "GetChange":
        return [call.authorize(action, f"arn:aws:route53:::change/{labels['Id'].removeprefix('/change/')}")]
    if operation not in ("GetHostedZone", "ListResourceRecordSets", "ChangeResourceRecordSets"):
        raise Unmapped(f"route53: {operation} is not mapped")
    zone = f"arn:aws:route53:::hostedzone/{labels['Id'].removeprefix('/hostedzone/')}"
    if operation != "ChangeResourceRecordSets":
        return [call.authorize(action, zone)]
    changes = _changes(call.http.body)
    context: dict[str, ContextValue | None] = {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [normalized_record_name(n) for _, n, _ in changes],
        "route53:ChangeResourceRecordSetsRecordTypes": [kind.upper() for _, _, kind in changes],
        "route53:ChangeResourceRecordSetsActions": [change.upper() for change, _, _ in changes],
    }
    return [call.authorize(action, zone, context)]


# --- Systems Manager ------------------------------------------------------------------------------------------------
def _parameter_arn(call: Call, name: str) -> str:
    if name.startswith("arn:"):
        return name.rsplit(":", 1)[0] if ":" in arn_part(name, 5) else name
    return f"arn:aws:ssm:{call.region}:{call.account}:parameter/{name.split(':', 1)[0].removeprefix('/')}"


def _document_arn(call: Call, name: str) -> str:
    if name.startswith("arn:"):
        return name
    owner = "" if name.lower().startswith(AWS_DOCUMENT_PREFIXES) else call.account
    return f"arn:aws:ssm:{call.region}:{owner}:document/{name}"


def _target_nodes(call: Call, body: Mapping[str, Any]) -> list[Node]:
    """The nodes SendCommand runs on. Raises Unmapped for a target kind not mapped (resource groups)."""
    ids = [str(node) for node in body.get("InstanceIds") or []]
    filters: dict[str, Sequence[str]] = {}
    for target in body.get("Targets") or []:
        key, values = str(target.get("Key", "")), [str(v) for v in target.get("Values") or []]
        if key == "InstanceIds":
            ids += values
        elif key.startswith("tag:") or key == "tag-key":
            filters[key] = values
        else:
            raise Unmapped(f"ssm: SendCommand target {key!r} is not mapped")
    nodes = {node_id: call.state.node(node_id) for node_id in ids}
    if filters:
        nodes.update({node.node_id: node for node in call.state.nodes_matching(filters)})
    return list(nodes.values())


def ssm_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or a request without what it names."""
    operation, body = call.operation, call.body()
    action = f"ssm:{operation}"
    if operation in ("ListCommands", "ListCommandInvocations", "GetCommandInvocation", "DescribeInstanceInformation"):
        return [call.authorize(action, ANYTHING)]
    if operation in ("GetParameter", "GetParameters"):
        names = [required(body, "Name", operation)] if operation == "GetParameter" else body.get("Names") or []
        return [
            call.authorize(action, _parameter_arn(call, str(name)), resource_tags(call.state.parameter_tags(str(name))))
            for name in names
        ]
    if operation != "SendCommand":
        raise Unmapped(f"ssm: {operation} is not mapped")
    document = required(body, "DocumentName", operation)
    document_tags = None if document.startswith("arn:") else call.state.document_tags(document)
    requests = [call.authorize(action, _document_arn(call, document), resource_tags(document_tags, "ssm:resourceTag"))]
    for node in _target_nodes(call, body):
        requests.append(call.authorize(action, node.arn, resource_tags(node.tags, "ssm:resourceTag")))
    if body.get("OutputS3BucketName"):
        requests.append(call.authorize(action, f"arn:aws:s3:::{body['OutputS3BucketName']}"))
    return requests


# --- EventBridge ----------------------------------------------------------------------------------------------------
def events_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped."""
    if call.operation != "PutEvents":
        raise Unmapped(f"events: {call.operation} is not mapped")
    requests = []
    for entry in call.body().get("Entries") or []:
        bus = str(entry.get("EventBusName") or "default")
        arn = bus if bus.startswith("arn:") else f"arn:aws:events:{call.region}:{call.account}:event-bus/{bus}"
        context = {"events:source": entry.get("Source"), "events:detail-type": entry.get("DetailType")}
        requests.append(call.authorize("events:PutEvents", arn, context))
    return requests


# --- SNS ------------------------------------------------------------------------------------------------------------
def sns_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or a Publish to anything but a topic."""
    if call.operation != "Publish":
        raise Unmapped(f"sns: {call.operation} is not mapped")
    topic_arn = query_params(call.http).get("TopicArn")
    if not topic_arn:
        raise Unmapped("sns: Publish without TopicArn (to an endpoint or a phone number) is not mapped")
    topic = call.state.topic(topic_arn)
    requests = [call.authorize("sns:Publish", topic_arn, resource_tags(topic.tags if topic else None))]
    key = call.state.customer_key(topic.kms_key_id) if topic else None
    if key is not None:
        for action in ("GenerateDataKey", "Decrypt"):
            requests.append(call.kms_via_service(action, key, "sns", {"aws:sns:topicArn": topic_arn}))
    return requests


# --- STS ------------------------------------------------------------------------------------------------------------
def sts_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or an AssumeRole without RoleArn."""
    if call.operation == "GetCallerIdentity":
        return []
    if call.operation != "AssumeRole":
        raise Unmapped(f"sts: {call.operation} is not mapped")
    params = query_params(call.http)
    role_arn = required(params, "RoleArn", "AssumeRole")
    role_tags = call.state.role_tags(role_arn)
    context: dict[str, ContextValue | None] = {
        "sts:RoleSessionName": params.get("RoleSessionName"),
        "sts:ExternalId": params.get("ExternalId"),
        "sts:SourceIdentity": params.get("SourceIdentity"),
        "sts:TransitiveTagKeys": query_list(params, "TransitiveTagKeys.member") or None,
        **request_tags(query_pairs(params, "Tags.member")),
        **resource_tags(role_tags, "iam:ResourceTag"),
    }
    return [call.authorize("sts:AssumeRole", role_arn, context)]


# --- Step Functions -------------------------------------------------------------------------------------------------
_STATE_MACHINE_OPERATIONS = {"StartExecution": "stateMachineArn", "DescribeStateMachine": "stateMachineArn"}
_EXECUTION_OPERATIONS = ("DescribeExecution", "GetExecutionHistory", "StopExecution")


def states_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped or a request without its ARN."""
    operation, body = call.operation, call.body()
    action = f"states:{operation}"
    if operation in _EXECUTION_OPERATIONS:
        return [call.authorize(action, required(body, "executionArn", operation))]
    if operation == "ListExecutions" and body.get("mapRunArn"):
        return [call.authorize(action, str(body["mapRunArn"]))]
    if operation not in (*_STATE_MACHINE_OPERATIONS, "ListExecutions"):
        raise Unmapped(f"states: {operation} is not mapped")
    arn = required(body, "stateMachineArn", operation)
    parts = arn.split(":")  # arn:aws:states:<region>:<account>:stateMachine:<name>[:<version or alias>]
    qualifier = parts[7] if len(parts) > 7 else None
    return [call.authorize(action, arn, {"states:StateMachineQualifier": [qualifier] if qualifier else None})]


# --- Lambda ---------------------------------------------------------------------------------------------------------
def function_arn(call: Call, function: str, qualifier: str | None) -> str:
    """The function ARN of a FunctionName (name, name:qualifier, account:function:name, or ARN) and Qualifier."""
    if function.startswith("arn:"):
        arn = function
    elif ":function:" in function:
        arn = f"arn:aws:lambda:{call.region}:{function}"
    else:
        arn = f"arn:aws:lambda:{call.region}:{call.account}:function:{function}"
    named_qualifier = len(arn.split(":")) > 7  # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    return f"{arn}:{qualifier}" if qualifier and not named_qualifier else arn


def lambda_authorizations(call: Call) -> list[Request]:
    """Raises Unmapped for an operation not mapped."""
    if call.operation != "Invoke":
        raise Unmapped(f"lambda: {call.operation} is not mapped")
    function = unquote(rest_operation(call.http, "lambda")[1]["FunctionName"])
    qualifiers = parse_qs(call.http.query).get("Qualifier")
    qualifier = qualifiers[0] if qualifiers else None
    return [call.authorize("lambda:InvokeFunction", function_arn(call, function, qualifier))]
