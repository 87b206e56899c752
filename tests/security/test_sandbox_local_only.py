"""The sandbox answers this machine's programs only: no web page can drive it (issue 13, item 11), and its simulated
nodes run this project's distribution document only."""

from __future__ import annotations

import time
from typing import Any

import requests

from certlib.resources import ResourceNames
from tests.distribution.helpers import start_nodes, unique
from tests.lifecycle.helpers import target_of


def test_a_cross_origin_request_is_refused_before_moto_acts(sandbox: dict[str, Any]) -> None:
    # Given a page on another origin that posts to the sandbox's endpoint (what a browser would send)
    endpoint = sandbox["aws_endpoint_url"]
    queue = unique("from-a-page")
    # When it asks SQS to create a queue (a form post needs no preflight) and sends a CORS preflight
    posted = requests.post(
        endpoint,
        data={"Action": "CreateQueue", "QueueName": queue},
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    preflight = requests.options(
        endpoint, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, timeout=10
    )
    # Then both are refused, with no CORS header a browser would honour, and nothing was created
    for response in (posted, preflight):
        assert response.status_code == 403
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    queues = target_of(sandbox).client("sqs").list_queues(QueueNamePrefix=queue)
    assert not queues.get("QueueUrls")


def test_a_request_by_another_host_name_is_refused(sandbox: dict[str, Any]) -> None:
    # Given a request that reaches the sandbox by a name that is not loopback (DNS rebinding)
    # When it is sent, Then it is refused
    response = requests.get(f"{sandbox['aws_endpoint_url']}/", headers={"Host": "rebound.example"}, timeout=10)
    assert response.status_code == 403
    assert "loopback" in response.text


def test_sdk_requests_have_no_cors_headers(sandbox: dict[str, Any]) -> None:
    # Given the SDK's own requests (no Origin), When one is answered, Then it works and carries no CORS header
    response = target_of(sandbox).client("sts").get_caller_identity()
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def test_the_simulated_nodes_run_only_the_distribution_document(sandbox: dict[str, Any]) -> None:
    # Given a node, and a document other than the project's distribution document (what moto would let anyone send)
    tag = unique("shell")
    (node,) = start_nodes(sandbox, 1, role=tag)
    ssm = target_of(sandbox).client("ssm")
    marker = node.path("/tmp/ran")
    ssm.create_document(
        Name=f"run-anything-{tag}",
        DocumentType="Command",
        Content=(
            '{"schemaVersion": "2.2", "description": "x", "mainSteps": [{"action": "aws:runShellScript", '
            f'"name": "run", "inputs": {{"runCommand": ["mkdir -p $(dirname {marker}) && touch {marker}"]}}}}]}}'
        ),
    )
    # When it is sent to the node
    command = ssm.send_command(DocumentName=f"run-anything-{tag}", Targets=[{"Key": "tag:role", "Values": [tag]}])
    command_id = command["Command"]["CommandId"]
    # Then the agent refuses it: the command fails, naming the only document it runs, and nothing ran
    deadline = time.monotonic() + 30
    while (status := ssm.list_commands(CommandId=command_id)["Commands"][0]["Status"]) in ("Pending", "InProgress"):
        assert time.monotonic() < deadline, "the command never finished"
        time.sleep(0.05)
    assert status == "Failed"
    invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)
    assert ResourceNames(sandbox["resource_prefix"]).distribution_document in invocation["StandardErrorContent"]
    assert not marker.exists()
