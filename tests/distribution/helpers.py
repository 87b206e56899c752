"""What the distribution tests share: simulated nodes (EC2 instances in moto + a root directory each) and reading
back what landed on them."""

from __future__ import annotations

import json
import stat
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509

from certlib.keys import key_matches_certificate, load_private_key
from sandbox import nodes as sandbox_nodes
from sandbox.nodes import INSTALLED_FILES, Node
from tests.lifecycle.helpers import target_of

FILES = tuple(INSTALLED_FILES)


def start_nodes(
    info: dict[str, Any], count: int, access_group: str | None = None, opt_in: bool = True, **tags: str
) -> list[Node]:
    """`count` EC2 instances with these tags in the sandbox's moto: nodes the sandbox's agent runs commands on, as the
    node role of `access_group` (default: the only tag's value, as profile_entry's default access group), opted in
    for this deployment's commands unless `opt_in` is false."""
    if access_group is None:
        (access_group,) = tags.values()
    target = target_of(info)
    return sandbox_nodes.start_nodes(
        target.client("ec2"),
        target.client("iam"),
        Path(info["ssm_nodes_dir"]),
        count,
        tags,
        access_group,
        info["resource_prefix"],
        opt_in,
    )


def distribution_profile(
    info: dict[str, Any], directory: str, tag_key: str, tag_value: str, **settings: Any
) -> dict[str, str]:
    """Deploy a distribution profile named `tag_value` (sandbox.nodes.profile_entry: the nodes tagged
    tag_key=tag_value, the four files in `directory`; `settings` adds access_group, check_command, ...) and return
    the execution's `distribution` that names it."""
    entry = sandbox_nodes.profile_entry(directory, tag_key, tag_value, **settings)
    sandbox_nodes.deploy_distribution_profiles(
        target_of(info).client("ssm"), {tag_value: entry}, info["resource_prefix"]
    )
    return {"profile": tag_value}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def installed(node: Node, directory: str) -> dict[str, dict[str, Any]]:
    """Each of the four files on a node: its text, mode and inode (a rewrite changes the inode: rename)."""
    files = {}
    for name in FILES:
        path = node.path(f"{directory}/{name}")
        status = path.stat()
        files[name] = {
            "text": path.read_text(),
            "mode": stat.S_IMODE(status.st_mode),
            "inode": status.st_ino,
            "mtime": status.st_mtime_ns,
        }
    return files


def bundle(info: dict[str, Any], name: str) -> dict[str, Any]:
    target = target_of(info)
    secret = target.client("secretsmanager").get_secret_value(
        SecretId=f"{target.names.secret_prefix}certificate/{name}"
    )
    return dict(json.loads(secret["SecretString"]))


def serial_of(pem: str) -> str:
    return format(x509.load_pem_x509_certificate(pem.encode()).serial_number, "x")


def key_matches(certificate_pem: str, key_pem: str) -> bool:
    return key_matches_certificate(x509.load_pem_x509_certificate(certificate_pem.encode()), load_private_key(key_pem))


def execution_history_text(info: dict[str, Any], execution_arn: str) -> str:
    """Every event of an execution, as one JSON text (inputs, outputs, errors)."""
    client = target_of(info).stepfunctions
    events: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**arguments)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return json.dumps(events, default=str)
        arguments["nextToken"] = page["nextToken"]


def states_entered(info: dict[str, Any], execution_arn: str) -> list[str]:
    events = json.loads(execution_history_text(info, execution_arn))
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def invoke(info: dict[str, Any], step: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke one of the sandbox's functions as EventBridge would."""
    target = target_of(info)
    response = target.client("lambda").invoke(FunctionName=target.names.function(step), Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), body
    return dict(body)


def wait_for_command(info: dict[str, Any], command_id: str, timeout: float = 60) -> dict[str, Any]:
    ssm = target_of(info).client("ssm")
    deadline = time.monotonic() + timeout
    while True:
        command = ssm.list_commands(CommandId=command_id)["Commands"][0]
        if command["Status"] not in ("Pending", "InProgress") or time.monotonic() > deadline:
            return dict(command)
        time.sleep(0.2)


def key_body_lines(key_pem: str) -> list[str]:
    """The base64 lines of a PEM private key: any of them in a history would be a leak."""
    return [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
